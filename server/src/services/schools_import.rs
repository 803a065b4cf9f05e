//! Importing schools from CSV: one row per school with its name, SEED code,
//! partnership (GSS code or name), sector and roll per stage, P5 to S4.
//!
//! Every row is checked before anything is written, and every problem is
//! reported with its line number. The writes happen in one transaction, so a
//! file with any problem imports nothing. A SEED code already known updates that
//! school (its name, sector, partnership and rolls).

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};

use super::Actor;
use crate::store::schools::{self, Cpp, NewSchool};
use crate::store::staff;

/// The header every file starts with (case and spaces do not matter).
pub const COLUMNS: [&str; 12] = [
    "school name",
    "seed code",
    "cpp",
    "sector",
    "p5",
    "p6",
    "p7",
    "s1",
    "s2",
    "s3",
    "s4",
    "",
];
const COLUMN_COUNT: usize = 11;
pub const SECTORS: [&str; 4] = ["primary", "secondary", "all-through", "special"];
/// Largest roll accepted for one stage of one school.
const MAX_ROLL: i32 = 2000;

/// One problem, on one line of the file (line 1 is the header).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rows(Vec<RowProblem>),
    #[error(transparent)]
    Database(#[from] sea_orm::DbErr),
}

/// How many schools an import created and updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    pub created: usize,
    pub updated: usize,
}

/// Checks every row of `bytes` against the partnerships known.
pub fn parse(bytes: &[u8], cpps: &[Cpp]) -> Result<Vec<NewSchool>, Vec<RowProblem>> {
    let problem = |line: u64, message: String| RowProblem { line, message };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.trim_start_matches('\u{feff}'),
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            return Err(vec![problem(
                line,
                "the file is not UTF-8 text: save it as \"CSV UTF-8\"".into(),
            )]);
        }
    };
    if text.trim().is_empty() {
        return Err(vec![problem(1, "the file is empty".into())]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let expected = COLUMNS[..COLUMN_COUNT].join(", ");
    match reader.headers() {
        Ok(header) => {
            let names: Vec<String> = header.iter().map(|h| h.to_lowercase()).collect();
            let matches = names.len() == COLUMN_COUNT
                && names
                    .iter()
                    .zip(COLUMNS)
                    .all(|(name, want)| name.replace(['_', '-'], " ") == want);
            if !matches {
                return Err(vec![problem(1, format!("the header must be: {expected}"))]);
            }
        }
        Err(e) => return Err(vec![problem(1, format!("cannot read the header: {e}"))]),
    }

    let by_code: HashMap<String, i32> = cpps
        .iter()
        .map(|c| (c.gss_code.to_lowercase(), c.id))
        .collect();
    let by_name: HashMap<String, i32> =
        cpps.iter().map(|c| (c.name.to_lowercase(), c.id)).collect();
    let mut problems = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.push(problem(line, "this row cannot be read as CSV".into()));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != COLUMN_COUNT {
            problems.push(problem(
                line,
                format!(
                    "expected {COLUMN_COUNT} columns ({expected}), found {}",
                    record.len()
                ),
            ));
            continue;
        }
        let field = |i: usize| record.get(i).unwrap_or("");
        let mut row_ok = true;
        let mut bad = |message: String| {
            problems.push(problem(line, message));
            row_ok = false;
        };
        let name = field(0);
        if name.is_empty() {
            bad("the school name is empty".into());
        } else if name.chars().count() > 200 {
            bad("the school name is longer than 200 characters".into());
        }
        let seed = field(1);
        if seed.is_empty() {
            bad("the SEED code is empty".into());
        } else if seed.len() > 16 || !seed.chars().all(|c| c.is_ascii_alphanumeric()) {
            bad(format!(
                "the SEED code \"{seed}\" must be up to 16 letters and digits"
            ));
        } else if let Some(first) = seen.insert(seed.to_uppercase(), line) {
            bad(format!("the SEED code \"{seed}\" is also on line {first}"));
        }
        let cpp = field(2).to_lowercase();
        let cpp_id = by_code.get(&cpp).or_else(|| by_name.get(&cpp)).copied();
        if cpp_id.is_none() {
            bad(format!(
                "no partnership has the GSS code or name \"{}\"",
                field(2)
            ));
        }
        let sector = field(3).to_lowercase();
        if !SECTORS.contains(&sector.as_str()) {
            bad(format!(
                "the sector \"{}\" must be one of: {}",
                field(3),
                SECTORS.join(", ")
            ));
        }
        let mut rolls = [0i32; 7];
        for (i, roll) in rolls.iter_mut().enumerate() {
            let text = field(4 + i);
            if text.is_empty() {
                continue;
            }
            match text.parse::<i32>() {
                Ok(n) if (0..=MAX_ROLL).contains(&n) => *roll = n,
                _ => bad(format!(
                    "the {} roll \"{text}\" must be a whole number from 0 to {MAX_ROLL}",
                    COLUMNS[4 + i].to_uppercase()
                )),
            }
        }
        if let (true, Some(cpp_id)) = (row_ok, cpp_id) {
            rows.push(NewSchool {
                cpp_id,
                seed_code: seed.to_uppercase(),
                name: name.to_owned(),
                sector,
                rolls,
                is_demo: false,
            });
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(problem(2, "the file has a header but no schools".into()));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems)
    }
}

/// Where imported rows came from, as the audit entry names it.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A CSV file, named by its path or "upload".
    File(&'a str),
    /// The one-school form, for the school with this SEED code.
    Form { seed: &'a str },
}

/// Checks the whole file, then writes every school and the audit entry in
/// one transaction.
pub async fn import<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    bytes: &[u8],
    source: Source<'_>,
) -> Result<Imported, ImportError> {
    let cpps = schools::all_cpps(db).await?;
    let rows = parse(bytes, &cpps).map_err(ImportError::Rows)?;
    let txn = crate::store::begin(db).await?;
    let mut done = Imported::default();
    for row in rows {
        if staff::upsert_school(&txn, row).await? {
            done.created += 1;
        } else {
            done.updated += 1;
        }
    }
    let (action, detail) = match source {
        Source::File(name) => (
            "schools-imported",
            format!(
                "{} created, {} updated ({name})",
                done.created, done.updated
            ),
        ),
        Source::Form { seed } if done.created > 0 => {
            ("school-created", format!("SEED {seed} (form)"))
        }
        Source::Form { seed } => ("school-updated", format!("SEED {seed} (form)")),
    };
    actor.record(&txn, action, &detail).await?;
    txn.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpps() -> Vec<Cpp> {
        vec![Cpp {
            id: 7,
            gss_code: "S12000036".into(),
            name: "City of Edinburgh".into(),
            is_demo: false,
        }]
    }

    const HEADER: &str = "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4\n";

    #[test]
    fn a_good_file_parses_with_cpp_by_code_or_name() {
        let text = format!(
            "{HEADER}Leith Primary,5512345,S12000036,primary,30,31,29,,,,\n\
             Leith Academy,5512346,city of edinburgh,Secondary,,,,150,140,130,120\n"
        );
        let rows = parse(text.as_bytes(), &cpps()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].rolls, [30, 31, 29, 0, 0, 0, 0]);
        assert_eq!(rows[1].cpp_id, 7);
        assert_eq!(rows[1].sector, "secondary");
    }

    #[test]
    fn every_bad_row_is_named_by_line() {
        let text = format!(
            "{HEADER},1,S12000036,primary,1,1,1,,,,\n\
             Ok School,2,Nowhere,primary,1,1,1,,,,\n\
             Ok School,3,S12000036,nursery,1,1,1,,,,\n\
             Ok School,4,S12000036,primary,-1,x,1,,,,\n\
             Ok School,4,S12000036,primary,1,1,1,,,,\n\
             Short,5\n"
        );
        let problems = parse(text.as_bytes(), &cpps()).unwrap_err();
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 4, 5, 5, 6, 7], "{problems:?}");
    }

    #[test]
    fn a_wrong_header_or_empty_file_is_refused() {
        assert_eq!(parse(b"", &cpps()).unwrap_err()[0].line, 1);
        assert_eq!(parse(b"name,seed\nA,1\n", &cpps()).unwrap_err()[0].line, 1);
        assert_eq!(parse(HEADER.as_bytes(), &cpps()).unwrap_err()[0].line, 2);
        assert!(
            parse(b"School name,\xff\xfe\n", &cpps()).unwrap_err()[0]
                .message
                .contains("UTF-8")
        );
    }
}
