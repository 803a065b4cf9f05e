//! Fuzzing the translation readers: a translation file, and a translator's
//! CSV or XLIFF file, must each be answered with a value or a list of
//! errors, however mangled, and never a panic.
//!
//! Inputs are the shipped Polish translation and exports of it, mutated
//! (slices deleted or duplicated, fragments inserted), and random text.
//! `PROPTEST_CASES=N` and `FUZZ_SECONDS=S` work as in `fuzz_load.rs`.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use proptest::prelude::*;
use survey_defs::exchange::{self, Format, Source};
use survey_defs::fuzz::fuzz;
use survey_defs::{Locale, TranslationFile, builtin_sources, builtin_translations, source_texts};

const FRAGMENTS: &[&str] = &[
    "\"",
    "\"\"",
    ",",
    "\n",
    "\r\n",
    "{",
    "}",
    "{n}",
    "<",
    ">",
    "&amp;",
    "&#0;",
    "]]>",
    "<target>",
    "</target>",
    "<unit id=\"x\">",
    "<segment>",
    "<g id=\"1\">",
    "version=\"2.0\"",
    "trgLang=\"pl\"",
    "status = \"reviewed\"\n",
    "reviewed_on = \"2026-13-40\"\n",
    "source = \"\"",
    "= { text = \"\" }\n",
    "\u{feff}",
    "é",
    "ł",
    "\u{0}",
];

fn samples() -> Vec<(Format, String)> {
    let polish = builtin_translations()
        .unwrap()
        .into_iter()
        .find(|t| t.code.as_str() == "pl")
        .unwrap();
    let (name, text) = builtin_sources()[0];
    let texts = source_texts(name, text)
        .unwrap()
        .into_iter()
        .map(|s| (s.id, s.english))
        .take(40)
        .collect();
    let sources = [Source {
        prefix: "wellbeing".to_owned(),
        texts,
        translation: Some(polish),
    }];
    let rows = exchange::rows(&sources);
    let en: Locale = "en".parse().unwrap();
    let pl: Locale = "pl".parse().unwrap();
    let mut out: Vec<(Format, String)> = [Format::Csv, Format::Xliff12, Format::Xliff20]
        .into_iter()
        .map(|f| (f, exchange::write(f, &en, &pl, &rows)))
        .collect();
    let shipped = survey_defs::builtin_translation_sources()
        .iter()
        .find(|(n, _)| n.ends_with(".pl.toml"))
        .unwrap()
        .1;
    // The shipped translation file, for `TranslationFile::parse` (every
    // sample goes to every reader; the format says which exchange reader
    // gets it first).
    out.push((Format::Csv, shipped.chars().take(4000).collect()));
    out
}

fn mutated() -> impl Strategy<Value = (usize, String)> {
    let samples = samples();
    let count = samples.len();
    (
        0..count,
        any::<u64>(),
        proptest::collection::vec((any::<u16>(), 0..FRAGMENTS.len(), any::<bool>()), 0..8),
    )
        .prop_map(move |(i, _, edits)| {
            let mut text: Vec<char> = samples[i].1.chars().collect();
            for (at, fragment, delete) in edits {
                if text.is_empty() {
                    break;
                }
                let at = usize::from(at) % text.len();
                if delete {
                    let end = (at + 7).min(text.len());
                    text.drain(at..end);
                } else {
                    for (k, c) in FRAGMENTS[fragment].chars().enumerate() {
                        text.insert(at + k, c);
                    }
                }
            }
            (i, text.into_iter().collect())
        })
}

#[test]
fn translation_readers_never_panic() {
    let formats: Vec<Format> = samples().into_iter().map(|(f, _)| f).collect();
    let pl: Locale = "pl".parse().unwrap();
    fuzz(
        "translation readers",
        prop_oneof![mutated(), (0..1usize, ".{0,300}")],
        |(i, text)| {
            let _ = TranslationFile::parse("x.toml", &text);
            let _ = exchange::read(formats[i], "x", &text, &pl);
            let _ = exchange::read(Format::Xliff20, "x.xliff", &text, &pl);
            let _ = exchange::read(Format::Csv, "x.csv", &text, &pl);
            Ok(())
        },
    );
}
