//! Reading from the database: the only module of the exporter that speaks
//! SQL. It works on SQLite and PostgreSQL alike (queries are built with
//! sea-query for the connection's backend) and streams responses row by row,
//! so memory does not grow with the number of pupils. A SQLite database file
//! is read faster still, straight from the file on every core ([`file`]).

use futures_util::StreamExt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, StreamTrait};
use survey_defs::Stage;

use crate::aggregate::{Aggregator, ResponseRow, Tallies};
use crate::layout::Layout;
use crate::offload;
use std::collections::HashMap;
use std::sync::Arc;
use survey_defs::Questionnaire;

pub mod file;
pub mod usage;

/// A Community Planning Partnership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CppInfo {
    pub id: i32,
    pub gss_code: String,
    pub name: String,
}

/// A school with its rolls, P5 to S4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchoolInfo {
    pub id: i32,
    pub cpp_id: i32,
    pub seed_code: String,
    pub name: String,
    /// Pupils who could take part, per stage: the roll, less the pupils
    /// recorded as opted out on the wave's sittings once [`eligible`] has
    /// been applied.
    pub rolls: [u32; 7],
    pub is_demo: bool,
}

/// A stored questionnaire version: its row id and TOML source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredVersion {
    pub id: i32,
    pub questionnaire_id: String,
    pub version: u32,
    pub source: String,
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

async fn all(db: &impl ConnectionTrait, stmt: &SelectStatement) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(stmt).await
}

/// Every partnership, by GSS code.
pub async fn cpps(db: &impl ConnectionTrait) -> Result<Vec<CppInfo>, DbErr> {
    let stmt = Query::select()
        .columns([col("id"), col("gss_code"), col("name")])
        .from(col("cpp"))
        .order_by(col("gss_code"), Order::Asc)
        .to_owned();
    all(db, &stmt)
        .await?
        .iter()
        .map(|r| {
            Ok(CppInfo {
                id: r.try_get_by_index(0)?,
                gss_code: r.try_get_by_index(1)?,
                name: r.try_get_by_index(2)?,
            })
        })
        .collect()
}

/// Schools of the given partnerships (all when `cpp_ids` is `None`).
pub async fn schools(
    db: &impl ConnectionTrait,
    cpp_ids: Option<&[i32]>,
) -> Result<Vec<SchoolInfo>, DbErr> {
    let stages = ["p5", "p6", "p7", "s1", "s2", "s3", "s4"];
    let mut stmt = Query::select();
    stmt.columns([
        col("id"),
        col("cpp_id"),
        col("seed_code"),
        col("name"),
        col("is_demo"),
    ])
    .columns(stages.iter().map(|s| col(&format!("roll_{s}"))))
    .from(col("school"))
    .order_by(col("id"), Order::Asc);
    if let Some(ids) = cpp_ids {
        stmt.and_where(Expr::col(col("cpp_id")).is_in(ids.iter().copied()));
    }
    all(db, &stmt)
        .await?
        .iter()
        .map(|r| {
            let mut rolls = [0u32; 7];
            for (i, roll) in rolls.iter_mut().enumerate() {
                let value: i32 = r.try_get_by_index(5 + i)?;
                *roll = u32::try_from(value).unwrap_or(0);
            }
            Ok(SchoolInfo {
                id: r.try_get_by_index(0)?,
                cpp_id: r.try_get_by_index(1)?,
                seed_code: r.try_get_by_index(2)?,
                name: r.try_get_by_index(3)?,
                is_demo: r.try_get_by_index(4)?,
                rolls,
            })
        })
        .collect()
}

/// Pupils opted out by their parents, per school and stage (P5 to S4), as
/// recorded on the sittings of a wave (of some partnerships, or all).
pub async fn opted_out(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
) -> Result<HashMap<i32, [u32; 7]>, DbErr> {
    let mut stmt = Query::select();
    stmt.columns([col("school_id"), col("stage")])
        .expr(Expr::col(col("opted_out")).sum())
        .from(col("sitting"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .group_by_col(col("school_id"))
        .group_by_col(col("stage"));
    if let Some(ids) = cpp_ids {
        stmt.and_where(Expr::col(col("cpp_id")).is_in(ids.iter().copied()));
    }
    let mut out: HashMap<i32, [u32; 7]> = HashMap::new();
    for r in all(db, &stmt).await? {
        let school: i32 = r.try_get_by_index(0)?;
        let stage: String = r.try_get_by_index(1)?;
        // PostgreSQL sums integers as bigint, SQLite as integer: both read
        // as i64; no sitting means no row, not a null.
        let n: Option<i64> = r.try_get_by_index(2)?;
        let Ok(stage) = stage.parse::<Stage>() else {
            continue;
        };
        let slot = &mut out.entry(school).or_default()[stage as usize];
        *slot = slot.saturating_add(u32::try_from(n.unwrap_or(0)).unwrap_or(0));
    }
    Ok(out)
}

/// Takes the pupils opted out off each school's rolls, so a response rate
/// is responses / (roll − opted out). A stage never goes below nothing.
pub fn eligible(schools: &mut [SchoolInfo], opted_out: &HashMap<i32, [u32; 7]>) {
    for school in schools {
        if let Some(out) = opted_out.get(&school.id) {
            for (roll, out) in school.rolls.iter_mut().zip(out) {
                *roll = roll.saturating_sub(*out);
            }
        }
    }
}

/// The stored questionnaire version with this row id.
pub async fn stored_version(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<StoredVersion>, DbErr> {
    let stmt = Query::select()
        .columns([
            col("id"),
            col("questionnaire_id"),
            col("version"),
            col("source"),
        ])
        .from(col("questionnaire_version"))
        .and_where(Expr::col(col("id")).eq(id))
        .to_owned();
    let Some(r) = db.query_one(&stmt).await? else {
        return Ok(None);
    };
    let version: i32 = r.try_get_by_index(2)?;
    Ok(Some(StoredVersion {
        id: r.try_get_by_index(0)?,
        questionnaire_id: r.try_get_by_index(1)?,
        version: u32::try_from(version).unwrap_or(0),
        source: r.try_get_by_index(3)?,
    }))
}

fn response_filter(stmt: &mut SelectStatement, wave_id: i32, cpp_ids: Option<&[i32]>) {
    stmt.and_where(Expr::col(col("wave_id")).eq(wave_id));
    if let Some(ids) = cpp_ids {
        stmt.and_where(Expr::col(col("cpp_id")).is_in(ids.iter().copied()));
    }
}

/// How many responses [`each_response`] will read (for a progress bar).
pub async fn count_responses(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
) -> Result<u64, DbErr> {
    let mut stmt = Query::select();
    stmt.expr(Expr::col(col("id")).count())
        .from(col("response"));
    response_filter(&mut stmt, wave_id, cpp_ids);
    let Some(r) = db.query_one(&stmt).await? else {
        return Ok(0);
    };
    let n: i64 = r.try_get_by_index(0)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Streams every completed or partial response of a wave
/// (of some partnerships, or all) to `each`. Rows with a stage that is not
/// P5 to S4 go to `bad_stage` instead. Returns the number of rows read.
pub async fn each_response(
    db: &DatabaseConnection,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
    mut each: impl FnMut(&ResponseRow<'_>),
    mut bad_stage: impl FnMut(),
) -> Result<u64, DbErr> {
    let mut stmt = Query::select();
    stmt.columns([
        col("cpp_id"),
        col("school_id"),
        col("stage"),
        col("sex"),
        col("partial"),
        col("answers"),
    ])
    .from(col("response"));
    response_filter(&mut stmt, wave_id, cpp_ids);
    let statement = db.get_database_backend().build(&stmt);
    let stream = db.stream_raw(statement).await?;
    let mut stream = std::pin::pin!(stream);
    let mut read = 0u64;
    while let Some(row) = stream.next().await {
        let row = row?;
        read += 1;
        let stage: String = row.try_get_by_index(2)?;
        let Ok(stage) = stage.parse::<Stage>() else {
            bad_stage();
            continue;
        };
        let sex: Option<String> = row.try_get_by_index(3)?;
        let answers: Vec<u8> = row.try_get_by_index(5)?;
        each(&ResponseRow {
            cpp_id: row.try_get_by_index(0)?,
            school_id: row.try_get_by_index(1)?,
            stage,
            sex: sex.as_deref(),
            partial: row.try_get_by_index(4)?,
            answers: &answers,
        });
    }
    Ok(read)
}

/// Counts every response of a wave (of some partnerships,
/// or all), reporting the rows read so far to `progress` now and then:
/// straight from the file on every core when the database is a SQLite file
/// ([`file::tally`]), through the connection's stream otherwise. Returns the
/// tallies and the number of rows read.
pub async fn tally(
    db: &DatabaseConnection,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
    q: &Arc<Questionnaire>,
    layout: &Layout,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Tallies, u64), DbErr> {
    if let Some(path) = file::sqlite_file(db) {
        // Reading on every core: off the caller's runtime (see `offload`).
        let (cpp_ids, q, layout) = (cpp_ids.map(<[i32]>::to_vec), q.clone(), layout.clone());
        return offload::run(
            move |report| file::tally(&path, wave_id, cpp_ids.as_deref(), &q, &layout, report),
            progress,
        )
        .await
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    let mut aggregator = Aggregator::new(q, layout);
    let mut bad_stages = 0u64;
    let mut done = 0u64;
    let read = each_response(
        db,
        wave_id,
        cpp_ids,
        |row| {
            aggregator.add(row);
            done += 1;
            if done.is_multiple_of(8192) {
                progress(done);
            }
        },
        || bad_stages += 1,
    )
    .await?;
    for _ in 0..bad_stages {
        aggregator.skip_bad_stage();
    }
    progress(read);
    Ok((aggregator.finish(), read))
}
