//! The migration that adds a partnership's public notices to its settings:
//! up, down and up again, keeping every setting it had, with the notices
//! empty (not filled in yet) after going up.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use server::services::Actor;
use server::services::partnerships::{self, Compliance, NewSettings, Notices};
use server::store::schools;

const NOTICE_COLUMNS: [&str; 8] = [
    "accessibility_contact",
    "accessibility_issues",
    "accessibility_status",
    "controller_name",
    "dpo_contact",
    "lawful_basis",
    "retention",
    "statement_prepared",
];

#[tokio::test]
async fn settings_keep_everything_up_down_and_up() {
    let (state, _dir) = common::prepared_state().await;
    let db = &state.db;
    let cpp = schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let signposting = vec![server::domain::Signpost {
        name: "Childline".into(),
        detail: "call 0800 1111".into(),
    }];
    partnerships::save(
        db,
        &Actor::Cli,
        &cpp,
        NewSettings {
            disabled_modules: vec!["substances".into()],
            signposting: signposting.clone(),
            notices: Notices {
                controller_name: "City of Edinburgh Council".into(),
                accessibility_status: Some(Compliance::Partial),
                statement_prepared: chrono::NaiveDate::from_ymd_opt(2026, 11, 30),
                ..Notices::default()
            },
            languages: vec!["pl".into()],
            drafts_confirmed: vec!["pl".into()],
        },
    )
    .await
    .unwrap();
    let has = |all: &[String], name: &str| all.iter().any(|c| c == name);
    let now = common::columns(db, "cpp_setting").await;
    for column in NOTICE_COLUMNS {
        assert!(has(&now, column), "expected {column} after going up");
    }

    Migrator::down(
        db,
        Some(common::steps_to_undo(
            "m20261201_000010_partnership_notices",
        )),
    )
    .await
    .unwrap();
    let before = common::columns(db, "cpp_setting").await;
    for column in NOTICE_COLUMNS {
        assert!(
            !has(&before, column),
            "expected no {column} after going down"
        );
    }
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT disabled_modules FROM cpp_setting",
        ))
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.try_get::<String>("", "disabled_modules")
            .unwrap()
            .contains("substances")
    );

    Migrator::up(db, None).await.unwrap();
    let settings = partnerships::settings(db, cpp.id).await.unwrap();
    assert_eq!(settings.disabled_modules, vec!["substances".to_owned()]);
    assert_eq!(settings.signposting, signposting);
    assert_eq!(
        partnerships::notices(db, cpp.id).await.unwrap(),
        Notices::default(),
        "the notices start empty again after going up"
    );
}
