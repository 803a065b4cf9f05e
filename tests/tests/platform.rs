//! The platform: the server starts on a fresh database, answers its health check,
//! and the schema migrates up, down and up again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use migrations::{Migrator, MigratorTrait};
use sea_orm::{Database, EntityTrait, PaginatorTrait};
use server::db::entities::{cpp, questionnaire_version};
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
    server::db::reference::load_council_areas(&db)
        .await
        .unwrap();
    assert_eq!(cpp::Entity::find().count(&db).await.unwrap(), 32);
}
