//! `survey-defs check FILE...`: checks questionnaire files and reports every
//! problem as `FILE:LINE:COLUMN: error: message`. Exits 1 when any file has
//! errors, 0 when there are only warnings, 2 on wrong usage.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use survey_defs::{Severity, load_file};

const USAGE: &str = "usage: survey-defs check FILE...\n\nChecks questionnaire definition files and reports every problem with its line.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.split_first() {
        Some((cmd, files)) if cmd == "check" && !files.is_empty() => check(files),
        Some((cmd, _)) if cmd == "-h" || cmd == "--help" || cmd == "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn check(files: &[String]) -> ExitCode {
    let mut errors = 0usize;
    let mut warnings = 0usize;
    // (id, version) -> (file, hash): two files must not claim the same version.
    let mut versions: HashMap<(String, u32), (String, String)> = HashMap::new();
    for file in files {
        match load_file(Path::new(file)) {
            Ok(loaded) => {
                for w in &loaded.warnings {
                    println!("{w}");
                }
                warnings += loaded.warnings.len();
                let q = &loaded.questionnaire;
                let key = (q.id().to_string(), q.version());
                if let Some((other, hash)) = versions.get(&key) {
                    if hash != q.content_hash() {
                        println!(
                            "{file}:1:1: error: questionnaire \"{}\" version {} is also defined, differently, in {other}; give one a new version",
                            key.0, key.1
                        );
                        errors += 1;
                    }
                } else {
                    versions.insert(key, (file.clone(), q.content_hash().to_owned()));
                }
                let counts: Vec<String> = q
                    .stages()
                    .iter()
                    .map(|s| {
                        let n = q
                            .questions()
                            .iter()
                            .filter(|x| x.stages().contains(s))
                            .count();
                        format!("{s} {n}")
                    })
                    .collect();
                eprintln!(
                    "{file}: ok: \"{}\" version {}, {} questions (per stage: {}), sha256 {}",
                    q.id(),
                    q.version(),
                    q.questions().len(),
                    counts.join(", "),
                    q.content_hash()
                );
            }
            Err(e) => {
                for d in &e.diagnostics {
                    println!("{d}");
                    match d.severity {
                        Severity::Error => errors += 1,
                        Severity::Warning => warnings += 1,
                    }
                }
            }
        }
    }
    eprintln!("{errors} error(s), {warnings} warning(s)");
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
