//! Replays the fuzzing regression corpus (`tests/fuzz/corpus/<target>/`) on
//! every test run: inputs that once broke a parser, or that sit on a known
//! edge, must keep getting a clean answer. The form corpus is replayed by
//! `fuzz_forms.rs`, which has a running server.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use server::store::schools::Cpp;

#[test]
fn the_questionnaire_corpus_loads_or_is_refused_cleanly() {
    for (name, bytes) in common::corpus("questionnaire") {
        let text = String::from_utf8_lossy(&bytes);
        let outcome = std::panic::catch_unwind(|| survey_defs::load_str(&name, &text));
        match outcome {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => assert!(
                error.errors().count() > 0,
                "{name}: refused without a reason"
            ),
            Err(_) => panic!("{name}: the questionnaire parser panicked"),
        }
    }
}

#[test]
fn the_code_corpus_parses_or_is_refused_cleanly() {
    for (name, bytes) in common::corpus("code") {
        let text = String::from_utf8_lossy(&bytes);
        for line in text.lines().chain(std::iter::once(text.as_ref())) {
            let outcome = std::panic::catch_unwind(|| server::domain::AccessCode::parse(line));
            let parsed =
                outcome.unwrap_or_else(|_| panic!("{name}: the code parser panicked on {line:?}"));
            if let Ok(code) = parsed {
                assert_eq!(
                    server::domain::AccessCode::parse(code.canonical()).unwrap(),
                    code,
                    "{name}: {line:?} does not round-trip"
                );
            }
        }
    }
}

#[test]
fn the_schools_csv_corpus_is_imported_or_refused_cleanly() {
    let cpps = vec![Cpp {
        id: 1,
        gss_code: "S12000036".into(),
        name: "City of Edinburgh".into(),
        is_demo: false,
    }];
    for (name, bytes) in common::corpus("schools_csv") {
        let outcome =
            std::panic::catch_unwind(|| server::services::schools_import::parse(&bytes, &cpps));
        match outcome {
            Ok(Ok(rows)) => assert!(!rows.is_empty(), "{name}: accepted with no schools"),
            Ok(Err(problems)) => assert!(!problems.is_empty(), "{name}: refused without a reason"),
            Err(_) => panic!("{name}: the schools CSV parser panicked"),
        }
    }
}
