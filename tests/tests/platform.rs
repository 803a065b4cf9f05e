//! The platform: the server starts on a fresh database, answers its health check,
//! and the schema migrates up, down and up again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ActiveValue::Set, ConnectOptions, ConnectionTrait, Database, DbBackend, EntityTrait,
    PaginatorTrait, Statement,
};
use server::store::entities::{cpp, page_save, questionnaire_version};
use tests::{fresh_database, spawn_app};

#[tokio::test]
async fn healthz_answers_200_with_the_backend() {
    let app = spawn_app().await;
    let response = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200, "expected /healthz to answer 200");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], tests::backend());
}

#[tokio::test]
async fn healthz_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.state.db.clone().close().await.unwrap();
    let response = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(
        response.status(),
        503,
        "expected 503 once the database is closed"
    );
}

#[tokio::test]
async fn start_up_loads_council_areas_and_the_builtin_questionnaire_once() {
    let app = spawn_app().await;
    let cpps = cpp::Entity::find().count(&app.state.db).await.unwrap();
    assert_eq!(cpps, 32, "expected the 32 council areas");
    let versions = questionnaire_version::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert!(
        versions >= 1,
        "expected the built-in questionnaire to be stored"
    );

    // A second start on the same database adds nothing.
    let state = server::startup::prepare(&app.state.settings).await.unwrap();
    assert_eq!(cpp::Entity::find().count(&state.db).await.unwrap(), 32);
    assert_eq!(
        questionnaire_version::Entity::find()
            .count(&state.db)
            .await
            .unwrap(),
        versions
    );
}

#[tokio::test]
async fn migrations_run_up_down_and_up_again() {
    let (url, _dir) = fresh_database().await;
    let db = Database::connect(url.as_str()).await.unwrap();
    Migrator::up(&db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::down(&db, None).await.unwrap();
    assert!(
        !Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    Migrator::up(&db, None).await.unwrap();
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
    // The schema is usable after the round trip.
    server::store::reference::load_council_areas(&db)
        .await
        .unwrap();
    assert_eq!(cpp::Entity::find().count(&db).await.unwrap(), 32);
}

/// The page saves a database holds, in key order.
async fn page_saves(db: &sea_orm::DatabaseConnection) -> Vec<(String, String, Vec<u8>, i64)> {
    let mut rows: Vec<_> = page_save::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.response_id, s.page_key, s.answers, s.seq))
        .collect();
    rows.sort();
    rows
}

/// How SQLite was told to create `page_save`.
async fn page_save_definition(db: &sea_orm::DatabaseConnection) -> String {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'page_save'",
        ))
        .await
        .unwrap()
        .expect("page_save exists");
    row.try_get::<String>("", "sql").unwrap()
}

#[tokio::test]
async fn page_saves_keep_every_row_through_the_key_order_migration_and_back() {
    if tests::backend() != "sqlite" {
        eprintln!("skipped: on PostgreSQL this migration changes nothing");
        return;
    }
    let (url, _dir) = fresh_database().await;
    // One connection, so that turning foreign keys off holds for every
    // statement: the saves below belong to no real response.
    let mut options = ConnectOptions::new(url.as_str());
    options.max_connections(1).min_connections(1);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared("PRAGMA foreign_keys = OFF")
        .await
        .unwrap();
    Migrator::up(&db, Some(1)).await.unwrap();
    let saved = vec![
        (
            "r1".to_owned(),
            "about_you".to_owned(),
            vec![1u8, 2, 3],
            5i64,
        ),
        ("r1".to_owned(), "school".to_owned(), Vec::new(), 9),
        ("r2".to_owned(), "about_you".to_owned(), vec![0, 255], 7),
    ];
    page_save::Entity::insert_many(saved.iter().map(|(r, p, a, s)| page_save::ActiveModel {
        response_id: Set(r.clone()),
        page_key: Set(p.clone()),
        answers: Set(a.clone()),
        seq: Set(*s),
    }))
    .exec(&db)
    .await
    .unwrap();
    assert!(!page_save_definition(&db).await.contains("WITHOUT ROWID"));

    Migrator::up(&db, None).await.unwrap();
    assert!(
        page_save_definition(&db).await.contains("WITHOUT ROWID"),
        "expected page_save in key order after the migration"
    );
    assert_eq!(
        page_saves(&db).await,
        saved,
        "a page save was lost or changed"
    );

    // This migration and every later one go down.
    Migrator::down(
        &db,
        Some(back_to_before("m20261129_000001_page_save_clustered")),
    )
    .await
    .unwrap();
    assert!(!page_save_definition(&db).await.contains("WITHOUT ROWID"));
    assert_eq!(
        page_saves(&db).await,
        saved,
        "a page save was lost going back"
    );
}

/// How many migrations to take down to undo `name` and every later one.
fn back_to_before(name: &str) -> u32 {
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == name)
        .expect("a known migration");
    u32::try_from(all.len() - at).expect("a few migrations")
}
