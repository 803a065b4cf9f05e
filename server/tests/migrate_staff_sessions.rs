//! The migration that gives staff accounts a session version and drops the
//! database lockout: up, down and up again, keeping every account.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Statement};
use server::domain::Role;
use server::store::staff::{self, NewStaff};

#[tokio::test]
async fn accounts_keep_everything_up_down_and_up() {
    let (state, _dir) = common::prepared_state().await;
    let db = &state.db;
    let created = staff::create(
        db,
        NewStaff {
            email: "keeper@council.scot".into(),
            password_hash: "$argon2id$v=19$m=12288,t=3,p=1$c2FsdHNhbHQ$aGFzaA".into(),
            role: Role::Admin,
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await
    .unwrap();
    staff::end_sessions(db, created.id).await.unwrap();
    let has = |all: &[String], name: &str| all.iter().any(|c| c == name);

    let now = common::columns(db, "staff_user").await;
    assert!(has(&now, "session_version"));
    assert!(!has(&now, "failed_logins") && !has(&now, "locked_until"));

    Migrator::down(
        db,
        Some(common::steps_to_undo("m20261201_000002_staff_sessions")),
    )
    .await
    .unwrap();
    let before = common::columns(db, "staff_user").await;
    assert!(!has(&before, "session_version"));
    assert!(has(&before, "failed_logins") && has(&before, "locked_until"));
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT email, failed_logins FROM staff_user",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.try_get::<String>("", "email").unwrap(),
        "keeper@council.scot"
    );
    assert_eq!(row.try_get::<i32>("", "failed_logins").unwrap(), 0);

    Migrator::up(db, None).await.unwrap();
    let after = staff::by_id(db, created.id).await.unwrap().unwrap();
    assert_eq!(after.session_version, 0, "a fresh version after going up");
    assert_eq!(
        (after.email, after.password_hash, after.role),
        (created.email, created.password_hash, created.role)
    );
}
