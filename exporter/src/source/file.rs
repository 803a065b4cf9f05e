//! Counting straight from a SQLite database file, on every core.
//!
//! sea-orm's driver hands rows over one at a time from its own thread, which
//! for a national export costs more than counting them. When the database is
//! a file, the responses are instead read with SQLite's own interface: the
//! table's rowid range is cut into one slice per core, each slice is read by
//! its own connection in one sequential scan and counted into its own
//! tallies, and the tallies are added together at the end. The slices are
//! disjoint, so every response is counted exactly once; each slice is one
//! statement, so it reads a consistent state of the database.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params_from_iter, types::Value};
use sea_orm::{DatabaseBackend, DatabaseConnection, DbErr};
use survey_defs::{Questionnaire, Stage};

use crate::aggregate::{Aggregator, ResponseRow, Tallies};
use crate::layout::Layout;

/// The database file behind a SQLite connection, if it has one that can be
/// opened again (an in-memory database has not).
pub fn sqlite_file(db: &DatabaseConnection) -> Option<PathBuf> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return None;
    }
    let options = db.get_sqlite_connection_pool().connect_options();
    let path = options.get_filename();
    let name = path.to_string_lossy();
    if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
        return None;
    }
    path.is_file().then(|| path.to_path_buf())
}

fn db_err(error: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("reading the database file: {error}"))
}

fn open(path: &Path) -> Result<Connection, DbErr> {
    // Read and write (never create): a read-only connection cannot always
    // open a database in WAL mode. Nothing is ever written through it.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(db_err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
    Ok(conn)
}

/// Counts every response of a questionnaire version (of some partnerships,
/// or all), reporting the number read so far to `progress` now and then.
/// Returns the tallies and the number of rows read.
pub fn tally(
    path: &Path,
    version_id: i32,
    cpp_ids: Option<&[i32]>,
    q: &Questionnaire,
    layout: &Layout,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Tallies, u64), DbErr> {
    let conn = open(path)?;
    let (lo, hi): (Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT min(rowid), max(rowid) FROM response WHERE questionnaire_version_id = ?1",
            [version_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map_err(db_err)?;
    drop(conn);
    let (Some(lo), Some(hi)) = (lo, hi) else {
        return Ok((Aggregator::new(q, layout).finish(), 0));
    };
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8) as i64;
    let span = (hi - lo) / workers + 1;
    let read = AtomicU64::new(0);
    let slices: Vec<Result<(Tallies, u64), DbErr>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (from, to) = (lo + w * span, (lo + (w + 1) * span - 1).min(hi));
                let read = &read;
                scope.spawn(move || {
                    tally_slice(path, version_id, cpp_ids, (from, to), q, layout, &|n| {
                        let total = read.fetch_add(n, Ordering::Relaxed) + n;
                        progress(total);
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DbErr::Custom(
                        "a reading thread stopped unexpectedly".into(),
                    ))
                })
            })
            .collect()
    });
    let mut total: Option<Tallies> = None;
    let mut rows = 0;
    for slice in slices {
        let (tallies, n) = slice?;
        rows += n;
        match &mut total {
            None => total = Some(tallies),
            Some(sum) => sum.absorb(tallies),
        }
    }
    Ok((
        total.unwrap_or_else(|| Aggregator::new(q, layout).finish()),
        rows,
    ))
}

/// Counts the responses whose rowid is in `range`. The `+` before the
/// filtered columns keeps SQLite from answering through the index, so the
/// slice is read as one sequential scan of the table.
fn tally_slice(
    path: &Path,
    version_id: i32,
    cpp_ids: Option<&[i32]>,
    (from, to): (i64, i64),
    q: &Questionnaire,
    layout: &Layout,
    progress: &dyn Fn(u64),
) -> Result<(Tallies, u64), DbErr> {
    let conn = open(path)?;
    let mut sql = String::from(
        "SELECT cpp_id, school_id, stage, sex, partial, answers FROM response \
         WHERE rowid BETWEEN ?1 AND ?2 AND +questionnaire_version_id = ?3",
    );
    let mut args: Vec<Value> = vec![
        Value::Integer(from),
        Value::Integer(to),
        Value::Integer(i64::from(version_id)),
    ];
    if let Some(ids) = cpp_ids {
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("?{}", i + 4)).collect();
        sql.push_str(&format!(" AND +cpp_id IN ({})", marks.join(", ")));
        args.extend(ids.iter().map(|&id| Value::Integer(i64::from(id))));
    }
    let mut statement = conn.prepare(&sql).map_err(db_err)?;
    let mut rows = statement.query(params_from_iter(args)).map_err(db_err)?;
    let mut aggregator = Aggregator::new(q, layout);
    let mut read = 0u64;
    let mut unreported = 0u64;
    while let Some(row) = rows.next().map_err(db_err)? {
        read += 1;
        unreported += 1;
        if unreported == 8192 {
            progress(unreported);
            unreported = 0;
        }
        let stage = row
            .get_ref(2)
            .map_err(db_err)?
            .as_str()
            .map_err(|e| db_err(e.into()))?;
        let Ok(stage) = stage.parse::<Stage>() else {
            aggregator.skip_bad_stage();
            continue;
        };
        let sex = row
            .get_ref(3)
            .map_err(db_err)?
            .as_str_or_null()
            .map_err(|e| db_err(e.into()))?;
        let answers = row
            .get_ref(5)
            .map_err(db_err)?
            .as_blob()
            .map_err(|e| db_err(e.into()))?;
        aggregator.add(&ResponseRow {
            cpp_id: row.get(0).map_err(db_err)?,
            school_id: row.get(1).map_err(db_err)?,
            stage,
            sex,
            partial: row.get(4).map_err(db_err)?,
            answers,
        });
    }
    progress(unreported);
    Ok((aggregator.finish(), read))
}
