//! The README's command list stays true to the `exporter` binary: every
//! `exporter` line works with `--help` and names only flags the binary has.
//!
//! The list is read by `server/tests/readme/mod.rs`, shared with
//! `server/tests/docs_commands.rs`, which checks the `server` lines the same way.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../server/tests/readme/mod.rs"]
mod readme;

use readme::{command_part, flags, mentions_flag, subcommand_words};

const PROGRAM: &str = "exporter";

#[test]
fn every_exporter_command_in_the_readme_works_with_help_and_takes_its_flags() {
    let lines: Vec<String> =
        readme::command_lines(&readme::readme_path(env!("CARGO_MANIFEST_DIR")))
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
        let (ok, printed) = readme::help(env!("CARGO_BIN_EXE_exporter"), &words);
        assert!(
            ok,
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
