//! The README's command list stays true to the `server` binary: every `server`
//! command it lists exists (its `--help` exits 0) and takes the flags the line
//! names, and every subcommand the binary has is listed.
//!
//! The list is the fenced block under "## Command line" in README.md, one
//! command a line: the command, then two or more spaces, then what it does.
//! A command's subcommand words are the lower-case words after the program
//! name, up to the first flag or placeholder. `exporter` lines are checked by
//! `exporter/tests/docs_commands.rs`; `survey-defs` has no test binary here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

const PROGRAM: &str = "server";

/// Programs the list may name; a line for any other is a mistake.
const KNOWN_PROGRAMS: [&str; 3] = ["server", "exporter", "survey-defs"];

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
fn command_part(line: &str) -> &str {
    line.trim().split("  ").next().unwrap_or_default()
}

/// The subcommand words of a command: lower-case words after the program
/// name, up to the first flag or placeholder.
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

/// Runs `server WORDS... --help` and returns whether it succeeded and what it printed.
fn help(words: &[String]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_server"))
        .args(words)
        .arg("--help")
        .current_dir(std::env::temp_dir())
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .expect("running the server binary");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// The subcommand names in the "Commands:" section of clap's help, `help` left out.
fn commands_in_help(printed: &str) -> Vec<String> {
    printed
        .lines()
        .skip_while(|line| line.trim_end() != "Commands:")
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
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
fn every_command_line_names_only_known_programs() {
    for line in command_lines() {
        let program = line.split_whitespace().next().unwrap_or_default();
        assert!(
            KNOWN_PROGRAMS.contains(&program),
            "the README's command list has a line for {program:?}, which is none of \
             {KNOWN_PROGRAMS:?}:\n  {line}"
        );
    }
}

#[test]
fn every_server_command_in_the_readme_exists_and_takes_its_flags() {
    let lines: Vec<String> = command_lines()
        .into_iter()
        .filter(|line| line.split_whitespace().next() == Some(PROGRAM))
        .collect();
    assert!(
        !lines.is_empty(),
        "expected lines starting with `server ` under \"## Command line\""
    );
    for line in &lines {
        let command = command_part(line);
        let words = subcommand_words(command);
        let (ok, printed) = help(&words);
        assert!(
            ok,
            "the README lists `{command}`, but `server {} --help` failed:\n{printed}",
            words.join(" ")
        );
        for flag in flags(command) {
            assert!(
                mentions_flag(&printed, &flag),
                "the README lists `{command}` with {flag}, which \
                 `server {} --help` does not mention:\n{printed}",
                words.join(" ")
            );
        }
    }
}

#[test]
fn every_server_subcommand_is_in_the_readme() {
    let listed: Vec<Vec<String>> = command_lines()
        .iter()
        .filter(|line| line.split_whitespace().next() == Some(PROGRAM))
        .map(|line| subcommand_words(command_part(line)))
        .collect();
    let mut missing = Vec::new();
    let mut to_visit = vec![Vec::<String>::new()];
    while let Some(path) = to_visit.pop() {
        let (ok, printed) = help(&path);
        assert!(ok, "`server {} --help` failed:\n{printed}", path.join(" "));
        for name in commands_in_help(&printed) {
            let mut sub = path.clone();
            sub.push(name);
            if listed.contains(&sub) {
                continue;
            }
            if listed.iter().any(|words| words.starts_with(&sub)) {
                // Listed by its own subcommands: check each of those.
                to_visit.push(sub);
            } else {
                missing.push(format!("server {}", sub.join(" ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "the binary has subcommands the README's command list leaves out: {missing:?}"
    );
}

#[test]
fn the_line_parser_finds_words_flags_and_the_command() {
    let line = "server sitting create --school SEED [--label TEXT]   create a sitting";
    let command = command_part(line);
    assert_eq!(
        command,
        "server sitting create --school SEED [--label TEXT]"
    );
    assert_eq!(subcommand_words(command), ["sitting", "create"]);
    assert_eq!(flags(command), ["--school", "--label"]);
    assert_eq!(
        subcommand_words("server import-schools FILE"),
        ["import-schools"]
    );
    assert!(subcommand_words("server [FLAGS]").is_empty());
    assert_eq!(
        commands_in_help("Usage: server\n\nCommands:\n  serve  Run\n  help  Print\n\nOptions:\n"),
        ["serve"]
    );
    assert!(mentions_flag("  --codes <CODES>  How many", "--codes"));
    assert!(!mentions_flag("  --codes <CODES>  How many", "--code"));
}
