//! The README's command list stays true to the `exporter` binary: every
//! `exporter` line works with `--help` and names only flags the binary has.
//!
//! The list is the fenced block under "## Command line" in README.md, one
//! command a line: the command, then two or more spaces, then what it does.
//! `server/tests/docs_commands.rs` checks the `server` lines the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

const PROGRAM: &str = "exporter";

fn readme_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("README.md")
}

/// The lines of the fenced block under "## Command line".
fn command_lines() -> Vec<String> {
    let path = readme_path();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text
        .lines()
        .skip_while(|line| line.trim_end() != "## Command line")
        .skip(1)
        .take_while(|line| !line.starts_with("## "));
    let opened = lines.by_ref().any(|line| line.starts_with("```"));
    assert!(
        opened,
        "expected a fenced block under \"## Command line\" in {}",
        path.display()
    );
    lines
        .take_while(|line| !line.starts_with("```"))
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// The command part of a line: everything before the first run of two spaces.
fn command_part(line: &str) -> &str {
    line.trim().split("  ").next().unwrap_or_default()
}

/// The subcommand words of a command: lower-case words after the program
/// name, up to the first flag or placeholder (the exporter has none today).
fn subcommand_words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .skip(1)
        .take_while(|word| {
            !word.starts_with('-') && word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        })
        .map(str::to_owned)
        .collect()
}

/// The flags a command names, brackets and values left off: `[--cpp` gives `--cpp`.
fn flags(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .map(|word| word.trim_start_matches('['))
        .filter(|word| word.starts_with("--"))
        .map(|word| {
            word.split(['=', ']', '['])
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

/// True when `printed` names `flag` whole: `--co` is not named by `--codes`.
fn mentions_flag(printed: &str, flag: &str) -> bool {
    printed.match_indices(flag).any(|(at, _)| {
        !printed[at + flag.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[test]
fn every_exporter_command_in_the_readme_works_with_help_and_takes_its_flags() {
    let lines: Vec<String> = command_lines()
        .into_iter()
        .filter(|line| line.split_whitespace().next() == Some(PROGRAM))
        .collect();
    assert!(
        !lines.is_empty(),
        "expected lines starting with `exporter ` under \"## Command line\""
    );
    for line in &lines {
        let command = command_part(line);
        let words = subcommand_words(command);
        let output = Command::new(env!("CARGO_BIN_EXE_exporter"))
            .args(&words)
            .arg("--help")
            .current_dir(std::env::temp_dir())
            .env_remove("DATABASE_URL")
            .output()
            .expect("running the exporter binary");
        let printed = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.status.success(),
            "the README lists `{command}`, but `exporter {} --help` failed:\n{printed}",
            words.join(" ")
        );
        for flag in flags(command) {
            assert!(
                mentions_flag(&printed, &flag),
                "the README lists `{command}` with {flag}, which `exporter --help` \
                 does not mention:\n{printed}"
            );
        }
    }
}
