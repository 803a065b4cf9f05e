//! The migration that adds the languages a partnership offers: up, down and
//! up again keep every other setting, and after going up no language is
//! offered until the partnership chooses again.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use server::services::Actor;
use server::services::partnerships::{self, NewSettings, Notices};
use server::store::schools;

#[tokio::test]
async fn languages_go_down_and_come_back_empty() {
    let (state, _dir) = common::prepared_state().await;
    let db = &state.db;
    let cpp = schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let signposting = partnerships::default_signposting();
    partnerships::save(
        db,
        &Actor::Cli,
        &cpp,
        NewSettings {
            disabled_modules: vec!["substance_use".into()],
            signposting: signposting.clone(),
            notices: Notices {
                controller_name: "City of Edinburgh Council".into(),
                ..Notices::default()
            },
            languages: vec!["pl".into(), "uk".into()],
            drafts_confirmed: vec!["pl".into(), "uk".into()],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        partnerships::languages_offered_anywhere(db).await.unwrap(),
        vec!["pl".to_owned(), "uk".to_owned()]
    );

    for round in 0..2 {
        Migrator::down(
            db,
            Some(common::steps_to_undo(
                "m20261202_000010_partnership_languages",
            )),
        )
        .await
        .unwrap();
        assert!(
            !common::columns(db, "cpp_setting")
                .await
                .iter()
                .any(|c| c == "languages"),
            "round {round}: no languages below the migration"
        );
        Migrator::up(db, None).await.unwrap();
        let settings = partnerships::settings(db, cpp.id).await.unwrap();
        assert_eq!(settings.disabled_modules, vec!["substance_use".to_owned()]);
        assert_eq!(settings.signposting, signposting);
        assert_eq!(
            partnerships::notices(db, cpp.id)
                .await
                .unwrap()
                .controller_name,
            "City of Edinburgh Council"
        );
        assert!(
            partnerships::languages(db, cpp.id)
                .await
                .unwrap()
                .is_empty(),
            "round {round}: no language offered after going up"
        );
    }
}
