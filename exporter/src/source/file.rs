//! Counting straight from a SQLite database file, on every core.
//!
//! sea-orm's driver hands rows over one at a time from its own thread, which
//! for a national export costs more than counting them. When the database is
//! a file, the responses are instead read with SQLite's own interface: the
//! table is stored in the order of its random ids, so the id space is cut
//! into one range per core, each range is read by its own connection in one
//! sequential scan and counted into its own tallies, and the tallies are
//! added together at the end. The ranges are disjoint and cover every
//! possible id, so every response is counted exactly once; each range is one
//! statement, so it reads a consistent state of the database. (Ranges of
//! random ids hold about as many rows each.)

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

/// Counts every response of a wave (of some partnerships,
/// or all), reporting the number read so far to `progress` now and then.
/// Returns the tallies and the number of rows read.
pub fn tally(
    path: &Path,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
    q: &Questionnaire,
    layout: &Layout,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Tallies, u64), DbErr> {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let ranges = id_ranges(workers);
    let read = AtomicU64::new(0);
    let slices: Vec<Result<(Tallies, u64), DbErr>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|range| {
                let read = &read;
                scope.spawn(move || {
                    tally_slice(path, wave_id, cpp_ids, range, q, layout, &|n| {
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

/// A range of ids: from (inclusive) and to (exclusive); `None` is open.
type IdRange = (Option<String>, Option<String>);

/// `n` ranges that together hold every string once: cut at evenly spaced
/// two-hex-digit prefixes of the random ids (ids of any other shape still
/// fall in exactly one range).
fn id_ranges(n: usize) -> Vec<IdRange> {
    let cuts: Vec<String> = (1..n).map(|i| format!("{:02x}", i * 256 / n)).collect();
    (0..n)
        .map(|i| {
            let from = i.checked_sub(1).map(|j| cuts[j].clone());
            (from, cuts.get(i).cloned())
        })
        .collect()
}

/// Counts the responses whose id is in `range`: one range scan of the
/// table, in key order. The `+` before the filtered columns keeps SQLite
/// from answering through the index instead.
fn tally_slice(
    path: &Path,
    wave_id: i32,
    cpp_ids: Option<&[i32]>,
    (from, to): &IdRange,
    q: &Questionnaire,
    layout: &Layout,
    progress: &dyn Fn(u64),
) -> Result<(Tallies, u64), DbErr> {
    let conn = open(path)?;
    let mut sql = String::from(
        "SELECT cpp_id, school_id, stage, sex, partial, answers FROM response \
         WHERE +wave_id = ?1",
    );
    let mut args: Vec<Value> = vec![Value::Integer(i64::from(wave_id))];
    if let Some(from) = from {
        args.push(Value::Text(from.clone()));
        sql.push_str(&format!(" AND id >= ?{}", args.len()));
    }
    if let Some(to) = to {
        args.push(Value::Text(to.clone()));
        sql.push_str(&format!(" AND id < ?{}", args.len()));
    }
    if let Some(ids) = cpp_ids {
        let first = args.len() + 1;
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("?{}", i + first)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_falls_in_exactly_one_range() {
        for n in 1..=8 {
            let ranges = id_ranges(n);
            assert_eq!(ranges.len(), n);
            for id in [
                "", "0", "00ff", "3f", "40", "7fffffff", "80", "bf", "c0", "ff", "fz", "zz",
            ] {
                let holding = ranges
                    .iter()
                    .filter(|(from, to)| {
                        from.as_deref().is_none_or(|f| id >= f)
                            && to.as_deref().is_none_or(|t| id < t)
                    })
                    .count();
                assert_eq!(holding, 1, "{id:?} in {holding} of {n} ranges");
            }
        }
    }
}
