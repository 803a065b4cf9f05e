//! Reading the README's command list, for the tests that check it against
//! each binary's `--help` (`server/tests/docs_commands.rs` and
//! `exporter/tests/docs_commands.rs`, which includes this file by path).
//!
//! The list is the fenced block under "## Command line" in README.md, one
//! command a line: the command, then two or more spaces, then what it does.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The README of the workspace that holds `package_dir`.
pub fn readme_path(package_dir: &str) -> PathBuf {
    Path::new(package_dir).join("..").join("README.md")
}

/// The lines of the fenced block under "## Command line".
pub fn command_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path)
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
    let block: Vec<String> = lines
        .take_while(|line| !line.starts_with("```"))
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(
        !block.is_empty(),
        "the block under \"## Command line\" in {} is empty",
        path.display()
    );
    block
}

/// The command part of a line: everything before the first run of two spaces.
pub fn command_part(line: &str) -> &str {
    line.trim().split("  ").next().unwrap_or_default()
}

/// The subcommand words of a command: lower-case words after the program
/// name, up to the first flag or placeholder.
pub fn subcommand_words(command: &str) -> Vec<String> {
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
pub fn flags(command: &str) -> Vec<String> {
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
pub fn mentions_flag(printed: &str, flag: &str) -> bool {
    printed.match_indices(flag).any(|(at, _)| {
        !printed[at + flag.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Runs `binary WORDS... --help` and returns whether it succeeded and what
/// it printed.
pub fn help(binary: &str, words: &[String]) -> (bool, String) {
    let output = Command::new(binary)
        .args(words)
        .arg("--help")
        .current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("running the binary");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}
