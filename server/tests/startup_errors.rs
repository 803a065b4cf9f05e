//! Start-up failures: each gets one plain line on stderr and a non-zero exit,
//! never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use survey_defs::Stage;

fn server(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--no-demo")
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("BIND")
        .env("RUST_LOG", "warn")
        .output()
        .expect("running the server binary")
}

fn assert_fails_with(output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "expected a non-zero exit; stderr:\n{stderr}"
    );
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in stderr, saw:\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "a start-up error must not panic:\n{stderr}"
    );
}

#[test]
fn a_bad_database_url_is_named_without_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let output = server(
        dir.path(),
        &["--database-url", "mysql://root:hunter2@db/x", "migrate"],
    );
    assert_fails_with(
        &output,
        "is not valid: it must start with sqlite:// or postgres://",
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("hunter2"));
}

#[test]
fn an_unreachable_database_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let output = server(
        dir.path(),
        &[
            "--database-url",
            "postgres://survey:pw@127.0.0.1:1/none",
            "migrate",
        ],
    );
    assert_fails_with(
        &output,
        "cannot open the database postgres://survey:***@127.0.0.1:1/none",
    );
}

#[test]
fn an_unwritable_data_directory_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let output = server(&file.join("data"), &["migrate"]);
    assert_fails_with(&output, "cannot use the data directory");
}

#[test]
fn an_invalid_questionnaire_is_reported_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let defs = dir.path().join("defs");
    std::fs::create_dir(&defs).unwrap();
    std::fs::write(defs.join("broken.toml"), "id = \"x\"\nversion = \n").unwrap();
    let output = server(
        &dir.path().join("data"),
        &["--questionnaires", defs.to_str().unwrap(), "migrate"],
    );
    assert_fails_with(&output, "broken.toml:2:");
}

#[test]
fn a_port_already_in_use_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = server(dir.path(), &["--bind", &addr, "serve"]);
    assert_fails_with(&output, "cannot listen on");
}

#[test]
fn a_questionnaire_changed_after_it_is_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let defs = dir.path().join("defs");
    std::fs::create_dir(&defs).unwrap();
    let source = include_str!("../../tests/fixtures/questionnaires/rtl_arabic.toml");
    std::fs::write(defs.join("mini.toml"), source).unwrap();
    let defs_arg = defs.to_str().unwrap().to_owned();
    assert!(
        server(&data, &["--questionnaires", &defs_arg, "migrate"])
            .status
            .success()
    );

    // A sitting starts to use version 1.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut settings = server::settings::Settings::for_tests(
            format!("sqlite://{}?mode=rwc", data.join("survey.sqlite").display()),
            data.clone(),
        );
        settings.questionnaires = Some(defs.clone());
        let state = server::startup::prepare(&settings).await.unwrap();
        let cpp = server::store::schools::cpp_by_code(&state.db, "S12000036")
            .await
            .unwrap()
            .unwrap();
        let school = server::store::schools::create_school(
            &state.db,
            server::store::schools::NewSchool {
                cpp_id: cpp.id,
                seed_code: "1234567".into(),
                name: "A school".into(),
                sector: "primary".into(),
                rolls: [10; 7],
                is_demo: false,
            },
        )
        .await
        .unwrap();
        let version = state.catalogue.find("mini_bilingual").unwrap().version_id;
        server::services::sittings::create_with_codes(
            &state.db,
            &state.secret,
            &server::services::Actor::Cli,
            server::store::sittings::NewSitting {
                label: "P6".into(),
                ..server::store::sittings::NewSitting::new(
                    &school,
                    Stage::P6,
                    version,
                    common::test_wave(&state, school.cpp_id, version).await,
                )
            },
            1,
        )
        .await
        .unwrap();
    });

    // The same version number with different content is refused, and why is said.
    let changed = source.replace("A short survey", "A changed survey");
    std::fs::write(defs.join("mini.toml"), changed).unwrap();
    let output = server(&data, &["--questionnaires", &defs_arg, "migrate"]);
    assert_fails_with(&output, "give the changed file a new version number");
}

/// The server binary serving on a free port, with stderr going to `log`.
fn serve(dir: &Path, log_level: &str, log: std::process::Stdio) -> (std::process::Child, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--bind", &addr, "serve"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", log_level)
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    (child, addr)
}

/// One GET over a fresh connection, waiting up to a minute for the server
/// to start listening; the whole response as text.
fn get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};
    let started = Instant::now();
    loop {
        if let Ok(mut stream) = std::net::TcpStream::connect(addr) {
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            .unwrap();
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends SIGTERM and waits for a clean exit.
fn stop(mut child: std::process::Child) {
    use std::time::{Duration, Instant};
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopping = Instant::now();
    loop {
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(
                exit.success(),
                "expected a clean exit on SIGTERM, saw {exit}"
            );
            return;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(15),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_server_answers_health_checks_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (child, addr) = serve(dir.path(), "warn", std::process::Stdio::null());
    let response = get(&addr, "/healthz");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "expected 200 from /healthz, saw {response}"
    );
    stop(child);
}

#[test]
fn each_request_logs_one_line_with_its_route_and_never_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let (child, addr) = serve(dir.path(), "info", log.into());
    assert!(get(&addr, "/healthz").starts_with("HTTP/1.1 200"));
    // A path and query that could hold a code: neither may reach the log.
    let missing = get(&addr, "/c/KT7Q-M4XP?code=KT7Q-M4XP");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    stop(child);

    let log = std::fs::read_to_string(&log_path).unwrap();
    let requests: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" request "))
        .collect();
    assert_eq!(requests.len(), 2, "one line per request:\n{log}");
    assert!(
        requests[0].contains("method=GET route=/healthz status=200 elapsed_ms="),
        "{}",
        requests[0]
    );
    assert!(
        requests[1].contains("method=GET route=(unmatched) status=404 elapsed_ms="),
        "{}",
        requests[1]
    );
    assert!(
        !log.contains("KT7Q"),
        "a path or query reached the log:\n{log}"
    );
    // Stamped to the minute only, never the second.
    let to_the_minute = |line: &str| {
        let shape = "dddd-dd-ddTdd:ddZ ";
        line.len() > shape.len()
            && line.chars().zip(shape.chars()).all(|(c, s)| match s {
                'd' => c.is_ascii_digit(),
                _ => c == s,
            })
    };
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            to_the_minute(line),
            "expected a line stamped to the minute (YYYY-MM-DDTHH:MMZ), saw: {line}"
        );
    }
}
