//! Helpers for the end-to-end tests: each test gets the real server on its own
//! port with its own fresh database.
//!
//! SQLite is used by default. When `TEST_DATABASE_URL` names a PostgreSQL server
//! (for example `postgres://survey@127.0.0.1:5433/postgres`), each test gets a
//! fresh database created on it instead.

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use server::settings::Settings;
use server::startup::{AppState, Application};
use tempfile::TempDir;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub state: AppState,
    pub database_url: String,
    pub data_dir: PathBuf,
    _dir: TempDir,
}

impl TestApp {
    /// A client that keeps cookies, like a browser, and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building an HTTP client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// The backend the tests run against: "sqlite" or "postgres".
pub fn backend() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => "postgres",
        _ => "sqlite",
    }
}

/// A fresh, empty database URL for one test, and the directory it may use.
pub async fn fresh_database() -> (String, TempDir) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("connecting to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("creating a test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .expect("TEST_DATABASE_URL must end in /DATABASE");
            format!("{base}/{name}")
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("survey.sqlite").display()
        ),
    };
    (url, dir)
}

/// Starts the real server on port 0 with its own fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with a chance to change the settings first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, dir) = fresh_database().await;
    let mut settings = Settings::for_tests(database_url.clone(), dir.path().to_path_buf());
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the test server failed to start");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        state,
        database_url,
        data_dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}
