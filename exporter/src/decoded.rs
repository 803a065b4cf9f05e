//! Answers in long format, for checking the exporter against other tools.
//!
//! [`write_long_csv`] writes one row per ticked option (or number) of every
//! stored response: `cpp_id,school_id,stage,sex,question,option`, with the
//! question id and the option code. Any SQL engine can then count
//! `GROUP BY cpp_id, stage, sex, question, option` and compare with
//! [`aggregate_only`], which times the exporter's own read-and-count step.

use std::io::{self, Write};
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DbErr};
use survey_defs::{Answer, AnswerSet, Questionnaire};

use crate::layout::Layout;
use crate::source;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Writes the long-format CSV; returns the number of rows.
pub async fn write_long_csv(
    db: &DatabaseConnection,
    wave_id: i32,
    q: &Questionnaire,
    cpp_ids: Option<&[i32]>,
    out: &mut dyn Write,
) -> Result<u64, DumpError> {
    let layout = Layout::new(q);
    writeln!(out, "cpp_id,school_id,stage,sex,question,option")?;
    let mut rows = 0u64;
    let mut failed: Option<io::Error> = None;
    source::each_response(
        db,
        wave_id,
        cpp_ids,
        |row| {
            if failed.is_some() {
                return;
            }
            let sex = &layout.sexes[layout.sex_index(row.sex)].code;
            for (ordinal, answer) in AnswerSet::iter_encoded(row.answers).map_while(Result::ok) {
                let Some(question) = q.question_by_ordinal(ordinal) else {
                    continue;
                };
                let mut put = |option: &str| {
                    rows += 1;
                    writeln!(
                        out,
                        "{},{},{},{},{},{}",
                        row.cpp_id,
                        row.school_id,
                        row.stage,
                        sex,
                        question.id(),
                        option
                    )
                };
                let result = match answer {
                    Answer::Number(n) => put(&n.to_string()),
                    _ => answer.option_indices().try_for_each(|i| {
                        let code = question
                            .options()
                            .get(usize::from(i))
                            .map(|o| o.code().as_str())
                            .unwrap_or("?");
                        put(code)
                    }),
                };
                if let Err(e) = result {
                    failed = Some(e);
                    return;
                }
            }
        },
        || {},
    )
    .await?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    out.flush()?;
    Ok(rows)
}

/// Reads and counts every response as an export does, with no suppression
/// or output. Returns the responses read and the number of non-zero counts.
pub async fn aggregate_only(
    db: &DatabaseConnection,
    wave_id: i32,
    q: &Arc<Questionnaire>,
    cpp_ids: Option<&[i32]>,
) -> Result<(u64, usize), DbErr> {
    let layout = Layout::new(q);
    let (tallies, read) = source::tally(db, wave_id, cpp_ids, q, &layout, &|_| {}).await?;
    let units = tallies.units;
    let cells = units
        .values()
        .map(|u| u.grid.iter().filter(|c| **c > 0).count())
        .sum();
    Ok((read, cells))
}
