//! Backup and restore, and the retention command, through the real binary.
//!
//! SQLite: `server backup --to FILE` while the database is in use, then the
//! live data is deleted and the backup copied back (the documented restore),
//! and the counts compared. PostgreSQL (when TEST_DATABASE_URL is set and
//! pg_dump is found in PG_BIN or on the PATH): pg_dump, delete, pg_restore,
//! compare.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use survey_defs::Stage;

use chrono::{Days, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use server::state::AppState;
use server::store::entities::{access_code, audit_log, response};
use server::store::schools::{self, NewSchool};

/// A school, a sitting with codes, and responses completed `ages` days ago.
async fn fill(state: &AppState, ages: &[u64]) {
    let db = &state.db;
    let cpp = schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = schools::create_school(
        db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: "BACKUP1".into(),
            name: "Backup High".into(),
            sector: "secondary".into(),
            rolls: [0, 0, 0, 30, 30, 30, 30],
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let version = state.catalogue.latest().first().unwrap().version_id;
    server::services::sittings::create_with_codes(
        &state.db,
        &state.secret,
        &server::services::Actor::Cli,
        server::store::sittings::NewSitting {
            label: "S3".into(),
            ..server::store::sittings::NewSitting::new(
                &school,
                Stage::S3,
                version,
                common::test_wave(state, school.cpp_id, version).await,
            )
        },
        25,
    )
    .await
    .unwrap();
    let today = Utc::now().date_naive();
    for age in ages {
        response::ActiveModel {
            id: Set(server::store::pupil::random_id()),
            wave_id: Set(None),
            questionnaire_version_id: Set(version),
            cpp_id: Set(cpp.id),
            school_id: Set(school.id),
            stage: Set(server::store::Text(Stage::S3)),
            sex: Set(None),
            completed_on: Set(today.checked_sub_days(Days::new(*age)).unwrap()),
            partial: Set(false),
            answers: Set(survey_defs::AnswerSet::new().encode()),
        }
        .insert(db)
        .await
        .unwrap();
    }
}

async fn counts(db: &sea_orm::DatabaseConnection) -> (u64, u64) {
    (
        response::Entity::find().count(db).await.unwrap(),
        access_code::Entity::find().count(db).await.unwrap(),
    )
}

fn pg_tool(name: &str) -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("PG_BIN") {
        let path = Path::new(&dir).join(name);
        if path.exists() {
            return Some(path);
        }
    }
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
    (!path.is_empty()).then(|| PathBuf::from(path))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_every_row() {
    let (url, dir) = common::fresh_database().await;
    let settings = common::settings(&url, dir.path(), 0);
    let state = server::startup::prepare(&settings).await.unwrap();
    fill(&state, &[0, 1, 2, 3, 4, 5, 6]).await;
    let before = counts(&state.db).await;
    assert_eq!(before, (7, 25));

    match common::backend() {
        "sqlite" => {
            let file = dir.path().join("backup.sqlite");
            // Online: the test's own pool stays open while the backup runs.
            let out = common::run_cli(
                &url,
                dir.path(),
                &["backup", "--to", file.to_str().unwrap()],
            );
            assert!(
                out.status.success(),
                "server backup failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let again = common::run_cli(
                &url,
                dir.path(),
                &["backup", "--to", file.to_str().unwrap()],
            );
            assert!(!again.status.success(), "a backup never overwrites a file");

            response::Entity::delete_many()
                .exec(&state.db)
                .await
                .unwrap();
            assert_eq!(counts(&state.db).await.0, 0);
            state.close().await.unwrap();

            // The documented restore: with the server stopped, copy the backup
            // over the database and remove the old write-ahead log.
            let live = dir.path().join("survey.sqlite");
            std::fs::copy(&file, &live).unwrap();
            for extra in ["survey.sqlite-wal", "survey.sqlite-shm"] {
                let _ = std::fs::remove_file(dir.path().join(extra));
            }
        }
        _ => {
            let (Some(dump), Some(restore)) = (pg_tool("pg_dump"), pg_tool("pg_restore")) else {
                println!("pg_dump or pg_restore not found: skipping the PostgreSQL backup test");
                return;
            };
            let file = dir.path().join("backup.dump");
            let out = Command::new(dump)
                .args(["--format=custom", "--file"])
                .arg(&file)
                .arg(format!("--dbname={url}"))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "pg_dump: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            response::Entity::delete_many()
                .exec(&state.db)
                .await
                .unwrap();
            assert_eq!(counts(&state.db).await.0, 0);
            state.close().await.unwrap();
            let out = Command::new(restore)
                .args(["--clean", "--if-exists", "--no-owner"])
                .arg(format!("--dbname={url}"))
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "pg_restore: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let restored = server::startup::prepare(&settings).await.unwrap();
    assert_eq!(
        counts(&restored.db).await,
        before,
        "expected the restored database to hold every response and code"
    );
    // The restored codes still work with the secret key kept beside them.
    let db_codes = access_code::Entity::find()
        .filter(access_code::Column::State.eq("unused"))
        .count(&restored.db)
        .await
        .unwrap();
    assert_eq!(db_codes, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_responses_and_records_it() {
    let (url, dir) = common::fresh_database().await;
    let settings = common::settings(&url, dir.path(), 0);
    let state = server::startup::prepare(&settings).await.unwrap();
    fill(&state, &[0, 10, 364, 365, 366, 400, 4000]).await;

    let dry = common::run_cli(
        &url,
        dir.path(),
        &["retention", "--older-than-days", "365", "--dry-run"],
    );
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("would delete 3 "),
        "dry run: {}",
        String::from_utf8_lossy(&dry.stdout)
    );
    assert_eq!(counts(&state.db).await.0, 7, "a dry run deletes nothing");

    let out = common::run_cli(&url, dir.path(), &["retention", "--older-than-days", "365"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept: Vec<response::Model> = response::Entity::find().all(&state.db).await.unwrap();
    assert_eq!(
        kept.len(),
        4,
        "expected responses up to 365 days old to be kept and older ones deleted"
    );
    let cutoff = Utc::now()
        .date_naive()
        .checked_sub_days(Days::new(365))
        .unwrap();
    assert!(kept.iter().all(|r| r.completed_on >= cutoff));
    let audit = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("retention.delete"))
        .all(&state.db)
        .await
        .unwrap();
    assert_eq!(audit.len(), 1, "one audit entry per retention run");
    assert_eq!(audit[0].actor, "cli");
    assert!(
        audit[0].detail.contains("deleted 3 ") && audit[0].detail.contains(&cutoff.to_string()),
        "audit detail: {}",
        audit[0].detail
    );
}
