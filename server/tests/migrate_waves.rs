//! The migration that brings in survey waves: sittings made before it move
//! into one wave per questionnaire version, with each partnership's window
//! covering its sittings; down and up again keep every sitting.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use server::services::waves;

#[tokio::test]
async fn sittings_made_before_waves_move_into_a_wave_and_back() {
    let (state, _dir) = common::prepared_state().await;
    let (first, _) = common::p6_sitting(&state, "7718001", 2).await;
    let (second, _) = common::p6_sitting(&state, "7718002", 2).await;
    state.store.stop().await;
    let db = &state.db;
    let steps = common::steps_to_undo("m20261201_000003_waves");

    for round in 0..2 {
        Migrator::down(db, Some(steps)).await.unwrap();
        assert!(
            !common::columns(db, "sitting")
                .await
                .iter()
                .any(|c| c == "wave_id"),
            "round {round}: no waves below the migration"
        );
        let kept = server::store::sittings::get(db, first.id).await;
        assert!(
            kept.is_err(),
            "the entity needs the wave column, which is gone"
        );

        Migrator::up(db, None).await.unwrap();
        let all = waves::all(db).await.unwrap();
        assert_eq!(
            all.len(),
            1,
            "round {round}: one wave per questionnaire version"
        );
        let wave = &all[0];
        assert!(wave.name.starts_with("Before waves: "), "{}", wave.name);
        assert_eq!(
            wave.questionnaire_version_id,
            first.questionnaire_version_id
        );
        assert_eq!(wave.rule, exporter::Rule::default());
        for sitting in [&first, &second] {
            let now = server::store::sittings::get(db, sitting.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                now.wave_id, wave.id,
                "round {round}: sitting {}",
                sitting.id
            );
            assert_eq!(now.closes_at, sitting.closes_at, "the sitting is unchanged");
            let window = waves::window(db, wave.id, sitting.cpp_id)
                .await
                .unwrap()
                .unwrap();
            let last = sitting.closes_at.unwrap() - chrono::Duration::seconds(1);
            assert!(window.opens <= sitting.created_at.date_naive());
            assert_eq!(window.closes, last.date_naive());
        }
    }
}
