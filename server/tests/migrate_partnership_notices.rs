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

async fn columns(db: &server::store::Db) -> Vec<String> {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT column_name AS name FROM information_schema.columns \
             WHERE table_name = 'cpp_setting' ORDER BY column_name"
        }
        _ => "SELECT name FROM pragma_table_info('cpp_setting') ORDER BY name",
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect()
}

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
        },
    )
    .await
    .unwrap();
    let has = |all: &[String], name: &str| all.iter().any(|c| c == name);
    let now = columns(db).await;
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
    let before = columns(db).await;
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
