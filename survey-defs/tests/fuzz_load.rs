//! Fuzzing the questionnaire parser: `load_str` must answer every input, however
//! mangled, with a questionnaire or a list of diagnostics, and never panic.
//!
//! Inputs are the built-in questionnaire and the test fixtures, mutated (slices
//! deleted, duplicated or swapped, TOML fragments and odd characters inserted,
//! numbers replaced), and wholly random text.
//!
//! `PROPTEST_CASES=N` sets the number of cases (256 by default);
//! `FUZZ_SECONDS=S` instead runs batches of cases until S seconds have passed:
//!
//!     FUZZ_SECONDS=600 cargo test --release -p survey-defs --test fuzz_load -- --nocapture
//!
//! A failing input is printed in full; add it to `tests/fuzz/corpus/questionnaire/`
//! so that the replay test in `server/tests/fuzz_corpus.rs` keeps checking it.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::PathBuf;

use proptest::prelude::*;
use survey_defs::fuzz::fuzz;

/// Fragments that steer mutations towards the parser's interesting corners.
const FRAGMENTS: &[&str] = &[
    "\n[[sections]]\nid = \"x\"\ntheme = \"safe\"\ntitle = { en = \"X\" }\nstages = [\"all\"]\n",
    "\n[[sections.questions]]\nid = \"q_x\"\nkind = \"scale\"\ntext = { en = \"X?\" }\n",
    "show_if = { question = \"q_sex\", any_of = [\"boy\"] }\n",
    "show_if = { question = \"q_x\", any_of = [] }\n",
    "stages = [\"P5-S4\"]\n",
    "stages = [\"S4-P5\"]\n",
    "stages = []\n",
    "module = \"nope\"\n",
    "kind = \"number\"\nmin = 9\nmax = -9\n",
    "min = 18446744073709551615\n",
    "version = -1\n",
    "version = 4294967296\n",
    "options = []\n",
    "options = [{ code = \"a\", label = { en = \"A\" } }, { code = \"a\", label = { en = \"A\" } }]\n",
    "score = { a = 1e308 }\n",
    "positive_at = nan\n",
    "positive_at = inf\n",
    "direction = \"rtl\"\n",
    "[[locales]]\ncode = \"zz-ZZ-x\"\nname = \"\"\n",
    "text = { en = \"<script>alert(1)</script>\" }\n",
    "text = { en = \"\" }\n",
    "\"\"\"",
    "'''",
    "[",
    "]]",
    "{",
    "}",
    "=",
    ",",
    "\n",
    "\\u0000",
    "\u{0}",
    "\u{feff}",
    "\u{202e}",
    "😀",
    "ﷺ",
    "\r\n",
    "#",
];

/// This package's directory, as cargo gives it to the running test: right
/// even when the test was built in another checkout sharing the build cache.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
fn seeds() -> Vec<String> {
    let mut seeds: Vec<String> = survey_defs::builtin_sources()
        .iter()
        .map(|(_, text)| (*text).to_owned())
        .collect();
    let fixtures = package_dir().join("tests/fixtures");
    for dir in ["valid", "invalid"] {
        for entry in std::fs::read_dir(fixtures.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                seeds.push(std::fs::read_to_string(path).unwrap());
            }
        }
    }
    seeds
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Duplicate { at: usize, len: usize, to: usize },
    Swap { a: usize, b: usize, len: usize },
    Number { at: usize, value: i128 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let position = any::<usize>();
    prop_oneof![
        (position, 1usize..200).prop_map(|(at, len)| Mutation::Delete { at, len }),
        (position, prop::sample::select(FRAGMENTS)).prop_map(|(at, text)| {
            Mutation::Insert {
                at,
                text: text.to_owned(),
            }
        }),
        (position, "\\PC{0,12}").prop_map(|(at, text)| Mutation::Insert { at, text }),
        (position, 1usize..400, position).prop_map(|(at, len, to)| Mutation::Duplicate {
            at,
            len,
            to
        }),
        (position, position, 1usize..300).prop_map(|(a, b, len)| Mutation::Swap { a, b, len }),
        (position, any::<i128>()).prop_map(|(at, value)| Mutation::Number { at, value }),
    ]
}

/// Applies mutations to the text's characters, so every cut is on a boundary.
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for m in mutations {
        let n = chars.len().max(1);
        match m {
            Mutation::Delete { at, len } => {
                let at = at % n;
                let end = (at + len).min(chars.len());
                if at < end {
                    chars.drain(at..end);
                }
            }
            Mutation::Insert { at, text } => {
                let at = (at % n).min(chars.len());
                chars.splice(at..at, text.chars());
            }
            Mutation::Duplicate { at, len, to } => {
                let at = (at % n).min(chars.len());
                let end = (at + len).min(chars.len());
                let slice: Vec<char> = chars[at..end].to_vec();
                let to = (to % n).min(chars.len());
                chars.splice(to..to, slice);
            }
            Mutation::Swap { a, b, len } => {
                let (a, b) = ((a % n).min(chars.len()), (b % n).min(chars.len()));
                let (first, second) = (a.min(b), a.max(b));
                let len = (*len).min(second - first).min(chars.len() - second);
                for i in 0..len {
                    chars.swap(first + i, second + i);
                }
            }
            Mutation::Number { at, value } => {
                // Replace the next run of digits with another number.
                let start = (at % n).min(chars.len());
                if let Some(offset) = chars[start..].iter().position(char::is_ascii_digit) {
                    let begin = start + offset;
                    let end = chars[begin..]
                        .iter()
                        .position(|c| !c.is_ascii_digit())
                        .map_or(chars.len(), |e| begin + e);
                    chars.splice(begin..end, value.to_string().chars());
                }
            }
        }
    }
    chars.into_iter().collect()
}

fn input() -> impl Strategy<Value = String> {
    let seeds = seeds();
    prop_oneof![
        8 => (prop::sample::select(seeds), prop::collection::vec(mutation(), 1..8))
            .prop_map(|(seed, mutations)| mutate(&seed, &mutations)),
        1 => "\\PC{0,400}",
        1 => prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40)
            .prop_map(|parts| parts.concat()),
    ]
}

#[test]
fn the_questionnaire_parser_never_panics() {
    fuzz("questionnaire", input(), |text| {
        // Either outcome is fine; a panic (caught by the runner) is not.
        match survey_defs::load_str("fuzz.toml", &text) {
            Ok(loaded) => {
                // Anything that loads can be planned for every stage.
                for stage in survey_defs::Stage::ALL {
                    let _ = survey_defs::plan(
                        &loaded.questionnaire,
                        stage,
                        &survey_defs::ModuleSwitches::all_on(),
                        &survey_defs::AnswerSet::new(),
                    );
                }
            }
            Err(error) => {
                prop_assert!(
                    error.errors().count() > 0,
                    "a refused file must say why: {error}"
                );
            }
        }
        Ok(())
    });
}
