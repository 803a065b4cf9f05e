//! Fuzzing the parsers of untrusted text on the server side: access codes as
//! pupils type them, and schools CSV files as administrators upload them.
//! Neither may panic on any input, and what they accept must be well formed.
//!
//! `PROPTEST_CASES=N` sets the number of cases; `FUZZ_SECONDS=S` runs batches
//! until S seconds have passed (see the README's "Security" section):
//!
//!     FUZZ_SECONDS=600 cargo test --release -p server --test fuzz_parsers code -- --nocapture

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use proptest::prelude::*;
use server::domain::{AccessCode, CodeError};
use server::services::schools_import;
use server::store::schools::Cpp;

const CODE_ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZabcdefghjkmnpqrstvwxyzOoIiLlUu";

/// Strings near the shape of a code, and strings of anything at all.
fn typed_code() -> impl Strategy<Value = String> {
    let symbol = prop::sample::select(CODE_ALPHABET.chars().collect::<Vec<_>>());
    let separator = prop::sample::select(vec![' ', '-', '‐', '–', '—', '_', '.', '\t', '\u{a0}']);
    let part = prop_oneof![
        6 => symbol.prop_map(String::from),
        1 => separator.prop_map(String::from),
        1 => "\\PC".prop_map(|s| s),
    ];
    prop_oneof![
        4 => prop::collection::vec(part, 0..20).prop_map(|parts| parts.concat()),
        1 => Just(()).prop_map(|()| AccessCode::generate().to_string()),
        2 => (Just(()), any::<usize>(), "\\PC{0,2}").prop_map(|((), at, insert)| {
            let mut code: Vec<char> = AccessCode::generate().to_string().chars().collect();
            let at = at % (code.len() + 1);
            code.splice(at..at, insert.chars());
            code.into_iter().collect()
        }),
        1 => "\\PC{0,64}",
        1 => any::<Vec<u8>>().prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
    ]
}

#[test]
fn the_code_parser_never_panics_and_accepts_only_well_formed_codes() {
    common::fuzz("code", typed_code(), |typed| {
        match AccessCode::parse(&typed) {
            Ok(code) => {
                let canonical = code.canonical();
                prop_assert_eq!(canonical.len(), 11);
                prop_assert!(
                    canonical
                        .chars()
                        .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c)),
                    "canonical form {} holds a symbol outside the alphabet",
                    canonical
                );
                prop_assert_eq!(&AccessCode::parse(canonical).unwrap(), &code);
                prop_assert_eq!(&AccessCode::parse(&code.grouped()).unwrap(), &code);
                prop_assert_eq!(&AccessCode::parse(&typed.to_lowercase()).unwrap(), &code);
            }
            Err(CodeError::Empty) => {
                prop_assert!(
                    typed
                        .chars()
                        .all(|c| c.is_whitespace() || "-‐–—_.".contains(c)),
                    "{:?} is not empty",
                    typed
                );
            }
            Err(_) => {}
        }
        Ok(())
    });
}

fn cpps() -> Vec<Cpp> {
    vec![
        Cpp {
            id: 1,
            gss_code: "S12000036".into(),
            name: "City of Edinburgh".into(),
            is_demo: false,
        },
        Cpp {
            id: 2,
            gss_code: "S12000049".into(),
            name: "Glasgow City".into(),
            is_demo: false,
        },
    ]
}

/// A cell as an administrator's spreadsheet might hold it, good or bad.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "30",
            "2000",
            "2001",
            "-1",
            "1e3",
            "0x10",
            " 12 ",
            "99999999999999999999",
            "primary",
            "Secondary",
            "ALL-THROUGH",
            "special",
            "nursery",
            "S12000036",
            "s12000049",
            "Glasgow City",
            "City of Edinburgh",
            "Atlantis",
            "SEED1",
            "5555555",
            "seed code",
            "school name",
            "\"",
            "\"\"",
            ",",
            "\n",
            "\r\n",
            "\u{feff}",
            "=1+1",
            "<script>alert(1)</script>",
            "Robert's \"Academy\", Leith",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,24}",
        "[A-Za-z0-9]{1,20}",
    ]
}

fn header() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(
            "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4".to_owned()
        ),
        1 => Just("school_name,seed-code,cpp,sector,p5,p6,p7,s1,s2,s3,s4".to_owned()),
        1 => prop::collection::vec(cell(), 0..14).prop_map(|c| c.join(",")),
    ]
}

fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let row = prop::collection::vec(cell(), 0..14).prop_map(|cells| {
        cells
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) && !c.starts_with('"') {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    });
    prop_oneof![
        8 => (header(), prop::collection::vec(row, 0..12), prop::bool::ANY).prop_map(
            |(header, rows, crlf)| {
                let newline = if crlf { "\r\n" } else { "\n" };
                let mut text = header;
                for row in rows {
                    text.push_str(newline);
                    text.push_str(&row);
                }
                text.into_bytes()
            }
        ),
        1 => any::<Vec<u8>>(),
        1 => "\\PC{0,300}".prop_map(String::into_bytes),
    ]
}

#[test]
fn the_schools_csv_parser_never_panics_and_accepts_only_valid_rows() {
    let cpps = cpps();
    common::fuzz("schools_csv", csv_file(), |bytes| {
        match schools_import::parse(&bytes, &cpps) {
            Ok(rows) => {
                prop_assert!(!rows.is_empty(), "an accepted file has at least one school");
                for row in rows {
                    prop_assert!(!row.name.is_empty() && row.name.chars().count() <= 200);
                    prop_assert!(
                        !row.seed_code.is_empty()
                            && row.seed_code.len() <= 16
                            && row.seed_code.chars().all(|c| c.is_ascii_alphanumeric())
                    );
                    prop_assert!(cpps.iter().any(|c| c.id == row.cpp_id));
                    prop_assert!(schools_import::SECTORS.contains(&row.sector.as_str()));
                    prop_assert!(row.rolls.iter().all(|r| (0..=2000).contains(r)));
                }
            }
            Err(problems) => {
                prop_assert!(!problems.is_empty(), "a refused file must say why");
            }
        }
        Ok(())
    });
}
