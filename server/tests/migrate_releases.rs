//! The migration that brings in releases: every response joins a wave (the
//! earliest of its questionnaire version, or a new "Before waves" wave when
//! its version has none), and the release tables appear; down and up again
//! keep every response.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use server::services::waves;

async fn wave_ids(db: &server::store::Db) -> Vec<(String, Option<i32>)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT id, wave_id FROM response ORDER BY id",
    ))
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get_by_index(0).unwrap(),
            r.try_get_by_index(1).unwrap(),
        )
    })
    .collect()
}

#[tokio::test]
async fn responses_join_a_wave_and_come_back_down_and_up() {
    let (state, _dir) = common::prepared_state().await;
    let (sitting, _) = common::p6_sitting(&state, "7719001", 2).await;
    state.store.stop().await;
    let db = &state.db;
    let steps = common::steps_to_undo("m20261202_000001_releases");
    let mut olders = Vec::new();

    for round in 0..2 {
        Migrator::down(db, Some(steps)).await.unwrap();
        assert!(
            !common::columns(db, "response")
                .await
                .iter()
                .any(|c| c == "wave_id"),
            "round {round}: no wave on responses below the migration"
        );
        // Responses of the sitting's questionnaire version, and of a
        // version no wave uses.
        db.execute_unprepared(&format!(
            "INSERT INTO questionnaire_version \
             (questionnaire_id, version, content_hash, title, source, loaded_at) \
             VALUES ('older{round}', 1, 'x', 'Older', 'x', '2026-01-05T00:00:00Z')"
        ))
        .await
        .unwrap();
        let older: i32 = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT id FROM questionnaire_version WHERE questionnaire_id = 'older{round}'"
                ),
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index(0)
            .unwrap();
        olders.push(older);
        for (n, version, day) in [
            (1, sitting.questionnaire_version_id, "2026-02-02"),
            (2, older, "2026-01-05"),
            (3, older, "2026-01-19"),
        ] {
            db.execute_unprepared(&format!(
                "INSERT INTO response (id, questionnaire_version_id, cpp_id, school_id, stage, \
                 sex, completed_on, partial, answers) VALUES ('r{round}-{n}', {version}, {}, {}, \
                 'P6', NULL, '{day}', {}, {})",
                sitting.cpp_id,
                sitting.school_id,
                if common::backend() == "postgres" {
                    "false"
                } else {
                    "0"
                },
                if common::backend() == "postgres" {
                    "'\\x'::bytea"
                } else {
                    "x''"
                },
            ))
            .await
            .unwrap();
        }

        Migrator::up(db, None).await.unwrap();
        for table in ["result_release", "result_release_file"] {
            assert!(!common::columns(db, table).await.is_empty(), "{table}");
        }
        let all = waves::all(db).await.unwrap();
        let sitting_wave = all
            .iter()
            .filter(|w| w.questionnaire_version_id == sitting.questionnaire_version_id)
            .map(|w| w.id)
            .min()
            .unwrap();
        let older_wave = all
            .iter()
            .find(|w| w.questionnaire_version_id == older)
            .unwrap();
        assert_eq!(
            older_wave.name,
            format!("Before waves: older{round} version 1")
        );
        let window = waves::window(db, older_wave.id, sitting.cpp_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(window.opens.to_string(), "2026-01-05");
        assert_eq!(
            window.closes.to_string(),
            "2026-01-25",
            "to the end of the last week"
        );
        for (id, wave) in wave_ids(db).await {
            let made_in: usize = id[1..2].parse().unwrap();
            let expected = if id.ends_with("-1") {
                sitting_wave
            } else {
                all.iter()
                    .find(|w| w.questionnaire_version_id == olders[made_in])
                    .unwrap()
                    .id
            };
            assert_eq!(wave, Some(expected), "round {round}: {id}");
        }
    }
    assert_eq!(wave_ids(db).await.len(), 6, "every response kept");
}
