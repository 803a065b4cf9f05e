//! The load benchmark's own tool still works: `loadgen prepare` makes codes,
//! `loadgen run` drives a real server in every mode without an error, and
//! `loadgen verify` finds every acknowledged save. Only a second of each mode,
//! on SQLite: the figures themselves come from `tests/bench/load.sh`, never
//! from a test.

#![allow(clippy::unwrap_used, clippy::expect_used)] // Tests fail loudly on purpose.

use std::path::Path;
use std::process::Command;

use server::settings::Settings;
use server::startup::Application;

const LOADGEN: &str = env!("CARGO_BIN_EXE_loadgen");

/// Runs a `loadgen` subcommand against the database in `dir`; returns stdout.
fn loadgen(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(LOADGEN)
        .args(args)
        .env("DATA_DIR", dir)
        .env("NO_DEMO", "true")
        .env_remove("DATABASE_URL")
        .output()
        .expect("loadgen runs");
    assert!(
        output.status.success(),
        "loadgen {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn last_json(stdout: &str) -> serde_json::Value {
    let line = stdout
        .lines()
        .rfind(|l| l.starts_with('{'))
        .unwrap_or_else(|| panic!("expected a JSON line, saw {stdout:?}"));
    serde_json::from_str(line).expect("valid JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_load_generator_drives_every_mode_and_verifies_its_saves() {
    let dir = tempfile::tempdir().unwrap();
    let codes = dir.path().join("codes.txt");
    let codes_arg = codes.to_str().unwrap().to_owned();
    let data_dir = dir.path().to_path_buf();
    {
        let data_dir = data_dir.clone();
        let codes_arg = codes_arg.clone();
        tokio::task::spawn_blocking(move || {
            loadgen(
                &data_dir,
                &["prepare", "--codes", "300", "--out", &codes_arg],
            );
            loadgen(&data_dir, &["staff"]);
        })
        .await
        .unwrap();
    }

    let url = format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("survey.sqlite").display()
    );
    let app = Application::build(Settings::for_tests(url, data_dir.clone()))
        .await
        .expect("the server starts on the prepared database");
    let address = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(app.run_until_stopped());

    let acked = dir.path().join("acked.txt");
    let acked_arg = acked.to_str().unwrap().to_owned();
    let modes = [
        ("saves", "saves_per_s"),
        ("pages", "pages_per_s"),
        ("starts", "starts_per_s"),
        ("logins", "logins_per_s"),
        ("login-bursts", "logins_per_s"),
    ];
    // Each mode gets codes no other mode has started, a share of each stage.
    let all_codes = std::fs::read_to_string(&codes).unwrap();
    let mut saves_acked = 0;
    for (index, (mode, measure)) in modes.into_iter().enumerate() {
        let own_codes = dir.path().join(format!("codes-{mode}.txt"));
        let share: String = all_codes
            .lines()
            .skip(index)
            .step_by(modes.len())
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(&own_codes, share).unwrap();
        let data_dir = data_dir.clone();
        let codes_arg = own_codes.to_str().unwrap().to_owned();
        let (address, acked_arg) = (address.clone(), acked_arg.clone());
        let stdout = tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "run",
                "--url",
                &address,
                "--codes",
                &codes_arg,
                "--concurrency",
                "4",
                "--warmup",
                "0",
                "--seconds",
                "1",
                "--threads",
                "1",
                "--mode",
                mode,
            ];
            if mode == "saves" {
                args.extend(["--acked", &acked_arg]);
            }
            loadgen(&data_dir, &args)
        })
        .await
        .unwrap();
        let result = last_json(&stdout);
        assert_eq!(result["errors"], 0, "{mode}: {result}");
        assert!(
            result[measure].as_f64().is_some_and(|n| n > 0.0),
            "{mode}: expected some {measure}, saw {result}"
        );
        for (p50, p99) in [
            ("save_p50_ms", "save_p99_ms"),
            ("page_p50_ms", "page_p99_ms"),
            ("start_p50_ms", "start_p99_ms"),
            ("login_p50_ms", "login_p99_ms"),
        ] {
            if let (Some(p50), Some(p99)) = (result[p50].as_f64(), result[p99].as_f64()) {
                assert!(p50 <= p99, "{mode}: median above p99 in {result}");
            }
        }
        if mode == "saves" {
            saves_acked = result["acked_total"].as_u64().unwrap();
        }
    }
    assert!(saves_acked > 0, "the saves run acknowledged nothing");
    server.abort();
    let _ = server.await;

    let stdout =
        tokio::task::spawn_blocking(move || loadgen(&data_dir, &["verify", "--acked", &acked_arg]))
            .await
            .unwrap();
    let verified = last_json(&stdout);
    assert_eq!(
        verified["missing"], 0,
        "every acknowledged save is in the database: {verified}"
    );

    // The machine's speed, printed beside the results.
    let gauge = loadgen(dir.path(), &["gauge"]);
    let hash_ms: f64 = gauge.trim().parse().expect("gauge prints milliseconds");
    assert!(hash_ms > 0.0, "{gauge}");
}
