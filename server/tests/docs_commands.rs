//! The README's command list stays true to the `server` binary: every `server`
//! command it lists exists (its `--help` exits 0) and takes the flags the line
//! names, and every subcommand the binary has is listed.
//!
//! The list is read by `readme/mod.rs`. A command's subcommand words are the lower-case words after the program
//! name, up to the first flag or placeholder. `exporter` lines are checked by
//! `exporter/tests/docs_commands.rs`; `survey-defs` has no test binary here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod readme;

use readme::{command_part, flags, mentions_flag, subcommand_words};

const PROGRAM: &str = "server";

/// Programs the list may name; a line for any other is a mistake.
const KNOWN_PROGRAMS: [&str; 3] = ["server", "exporter", "survey-defs"];

fn command_lines() -> Vec<String> {
    readme::command_lines(&readme::readme_path(env!("CARGO_MANIFEST_DIR")))
}

fn help(words: &[String]) -> (bool, String) {
    readme::help(env!("CARGO_BIN_EXE_server"), words)
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
