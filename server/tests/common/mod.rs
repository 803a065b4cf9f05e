//! Helpers shared by the server's own integration tests: the fuzz driver (from
//! `survey_defs::fuzz`), fresh databases on SQLite or PostgreSQL, and the
//! server binary as a child process.

#![allow(dead_code)] // Each test file uses a different part.
#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database};
use tempfile::TempDir;

/// This package's directory, as cargo gives it to the running test: right
/// even when the test was built in another checkout sharing the build cache.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
#[allow(unused_imports)] // Only the fuzz suites use it.
pub use survey_defs::fuzz::fuzz;

/// The regression corpus of one fuzz target: every file under
/// `tests/fuzz/corpus/<target>/`, as bytes, with its name.
pub fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = package_dir().join("../tests/fuzz/corpus").join(target);
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the corpus {} is empty", dir.display());
    files
}

/// "postgres" when TEST_DATABASE_URL names a PostgreSQL server, else "sqlite".
pub fn backend() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => "postgres",
        _ => "sqlite",
    }
}

/// A fresh, empty database for one test (a new database on the PostgreSQL
/// server named by TEST_DATABASE_URL, else a SQLite file in the directory).
pub async fn fresh_database() -> (String, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url.as_str()).await.unwrap();
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            admin.close().await.ok();
            let (base, _) = admin_url.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("survey.sqlite").display()
        ),
    };
    (url, dir)
}

/// A prepared server state (migrated, reference data and questionnaires
/// loaded) on a fresh database, without a listener.
pub async fn prepared_state() -> (server::state::AppState, TempDir) {
    let (url, dir) = fresh_database().await;
    let settings = settings(&url, dir.path(), 0);
    (server::startup::prepare(&settings).await.unwrap(), dir)
}

/// How many steps down undo the migration named `name` and every one
/// after it, so a migration's test goes down to just before it however many
/// migrations come later.
pub fn steps_to_undo(name: &str) -> u32 {
    use migrations::MigratorTrait;
    let all = migrations::Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == name)
        .unwrap_or_else(|| panic!("no migration named {name}"));
    u32::try_from(all.len() - at).unwrap()
}

/// The columns `table` has now, by name, on either database.
pub async fn columns(db: &server::store::Db, table: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT column_name AS name FROM information_schema.columns \
             WHERE table_name = '{table}' ORDER BY column_name"
        ),
        _ => format!("SELECT name FROM pragma_table_info('{table}') ORDER BY name"),
    };
    db.query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "name").unwrap())
        .collect()
}

/// A primary school in the City of Edinburgh partnership.
pub async fn school(
    state: &server::state::AppState,
    seed: &str,
    name: &str,
) -> server::store::schools::School {
    let db = &state.db;
    let cpp = server::store::schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let new = server::store::schools::NewSchool {
        cpp_id: cpp.id,
        seed_code: seed.into(),
        name: name.into(),
        sector: "primary".into(),
        rolls: [30; 7],
        is_demo: false,
    };
    server::store::schools::create_school(db, new)
        .await
        .unwrap()
}

/// Settings for a server on `port` with this database and data directory.
pub fn settings(database_url: &str, data_dir: &Path, port: u16) -> server::settings::Settings {
    let mut settings =
        server::settings::Settings::for_tests(database_url.to_owned(), data_dir.to_path_buf());
    settings.bind = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    settings
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server binary built for these tests.
pub fn server_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_server"))
}

/// Runs a subcommand of the server binary against this database and waits.
pub fn run_cli(database_url: &str, data_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(server_binary())
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .env("NO_DEMO", "true")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Starts `server serve` as a child process and waits until it answers.
pub async fn start_server(database_url: &str, data_dir: &Path, port: u16) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("server.log"))
        .unwrap();
    let mut child = Command::new(server_binary())
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("DATA_DIR", data_dir)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("NO_DEMO", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        if let Ok(response) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && response.status().is_success()
        {
            return child;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(data_dir.join("server.log")).unwrap_or_default();
            panic!("the server exited with {status} while starting:\n{log}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not answer /healthz within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A new P6 sitting of `codes` codes at a new school with this SEED code,
/// made as the command line makes it.
pub async fn p6_sitting(
    state: &server::state::AppState,
    seed: &str,
    codes: usize,
) -> (
    server::store::pupil::Sitting,
    Vec<server::domain::AccessCode>,
) {
    let school = school(state, seed, &format!("School {seed}")).await;
    let request = server::services::sittings::SittingRequest {
        stage: survey_defs::Stage::P6,
        label: "P6".into(),
        codes,
        wave_id: test_wave(state, school.cpp_id, state.catalogue.latest()[0].version_id).await,
        opens: None,
        closes: None,
    };
    server::services::sittings::create(
        &state.db,
        &state.secret,
        &server::services::Actor::Cli,
        &school,
        request,
    )
    .await
    .unwrap()
}

/// A finished P6 response of `sitting` holding `answers` as they are.
pub fn completed(
    sitting: &server::store::pupil::Sitting,
    answers: Vec<u8>,
) -> server::store::pupil::Completed {
    server::store::pupil::Completed {
        questionnaire_version_id: sitting.questionnaire_version_id,
        cpp_id: sitting.cpp_id,
        school_id: sitting.school_id,
        stage: survey_defs::Stage::P6,
        sex: None,
        partial: false,
        answers,
    }
}

/// The wave tests make their sittings in ("Test wave"), with fieldwork at
/// `cpp_id` from a month ago to two months on; made when first asked for.
pub async fn test_wave(state: &server::state::AppState, cpp_id: i32, version_id: i32) -> i32 {
    let today = chrono::Utc::now().date_naive();
    server::services::waves::ensure(
        &state.db,
        &state.catalogue,
        &server::services::Actor::Cli,
        "Test wave",
        version_id,
        cpp_id,
        (today - chrono::Days::new(30), today + chrono::Days::new(60)),
    )
    .await
    .unwrap()
    .id
}
