//! The pupil journey's hot queries on a SQLite database file, without the
//! driver's thread hop.
//!
//! sea-orm's SQLite driver runs each connection on a thread of its own and
//! passes every query and every result row across a channel: two thread
//! wake-ups per query, which cost more than the query. Loading a pupil's
//! progress and storing page saves happen on every page, and reading codes
//! and sittings on every start, so on a SQLite file they are done here
//! instead, with SQLite's own interface:
//!
//! - reads run on the calling thread, through a connection that thread keeps
//!   open (WAL readers never wait for the writer);
//! - page saves, and starting and ending responses, are written by one
//!   dedicated thread (see [`crate::store::saves::SaveQueue::start_direct`]), in one
//!   transaction per batch and one fsync per commit under `DURABILITY=full`.
//!
//! Everything else, and every query on PostgreSQL, goes through sea-orm.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, params};
use sea_orm::{DatabaseConnection, DbErr};

use super::Durability;
use super::pupil::{Code, Completed, Ending, InProgress, PageSave, Sitting};
use crate::domain::CodeState;

/// A SQLite database file opened for the pupil journey's hot paths.
#[derive(Debug, Clone)]
pub struct DirectSqlite {
    path: PathBuf,
    durability: Durability,
}

fn db_err(error: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("SQLite: {error}"))
}

thread_local! {
    /// This thread's read connections, one per database file.
    static READERS: RefCell<HashMap<PathBuf, Connection>> = RefCell::new(HashMap::new());
}

const PROGRESS_SQL: &str = "SELECT r.sitting_id, r.locale, s.page_key, s.answers, s.seq \
     FROM response_in_progress r LEFT JOIN page_save s ON s.response_id = r.id \
     WHERE r.id = ?1";

const UPSERT_SQL: &str = "INSERT INTO page_save (response_id, page_key, answers, seq) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (response_id, page_key) DO UPDATE SET answers = excluded.answers, seq = excluded.seq";

impl DirectSqlite {
    /// The database file behind `db`, when it is a SQLite file that can be
    /// opened again (not an in-memory database).
    pub fn for_connection(db: &DatabaseConnection, durability: Durability) -> Option<Self> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return None;
        }
        let options = db.get_sqlite_connection_pool().connect_options();
        let path = options.get_filename();
        let name = path.to_string_lossy();
        if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
            return None;
        }
        path.is_file().then(|| Self {
            path: path.to_path_buf(),
            durability,
        })
    }

    /// Opens a connection with the same settings as the pool's.
    pub fn open(&self) -> Result<Connection, DbErr> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(db_err)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
        let synchronous = match self.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        // No memory-mapped reads: SQLite unmaps the whole file whenever
        // another connection has written since this one last read, so under
        // load every read paid for an unmap and page faults, more than the
        // copies from the operating system's cache they were meant to save.
        conn.execute_batch(&format!(
            "PRAGMA foreign_keys = ON; PRAGMA synchronous = {synchronous}; \
             PRAGMA secure_delete = ON;"
        ))
        .map_err(db_err)?;
        Ok(conn)
    }

    /// An in-progress response and every page saved so far (oldest first),
    /// as [`super::pupil::in_progress_with_saves`] returns them.
    pub fn in_progress_with_saves(
        &self,
        response_id: &str,
    ) -> Result<Option<(InProgress, Vec<PageSave>)>, DbErr> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(PROGRESS_SQL).map_err(db_err)?;
            let mut rows = statement.query(params![response_id]).map_err(db_err)?;
            let mut found: Option<InProgress> = None;
            let mut saves = Vec::new();
            while let Some(row) = rows.next().map_err(db_err)? {
                if found.is_none() {
                    found = Some(InProgress {
                        id: response_id.to_owned(),
                        sitting_id: row.get(0).map_err(db_err)?,
                        locale: row.get(1).map_err(db_err)?,
                    });
                }
                let Some(page_key) = row.get::<_, Option<String>>(2).map_err(db_err)? else {
                    continue;
                };
                saves.push(PageSave {
                    response_id: response_id.to_owned(),
                    page_key,
                    answers: row.get(3).map_err(db_err)?,
                    seq: row.get(4).map_err(db_err)?,
                });
            }
            // Read in key order, one range of the table; returned oldest
            // first, without a sort inside the query.
            saves.sort_by_key(|save| save.seq);
            Ok(found.map(|f| (f, saves)))
        })
    }

    /// The code with this keyed hash and its sitting, as
    /// [`super::pupil::find_code`] returns them, in one query.
    pub fn find_code(&self, code_hash: &str) -> Result<Option<(Code, Sitting)>, DbErr> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(FIND_CODE_SQL).map_err(db_err)?;
            optional(statement.query_row(params![code_hash], |row| {
                Ok((code_from(row, 0)?, sitting_from(row, CODE_COLUMNS)?))
            }))
        })
    }

    /// [`super::pupil::code_with_sitting`], in one query.
    pub fn code_with_sitting(&self, id: i32) -> Result<Option<(Code, Sitting)>, DbErr> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(CODE_WITH_SITTING_SQL).map_err(db_err)?;
            optional(statement.query_row(params![id], |row| {
                Ok((code_from(row, 0)?, sitting_from(row, CODE_COLUMNS)?))
            }))
        })
    }

    /// [`super::pupil::code_by_id`].
    pub fn code_by_id(&self, id: i32) -> Result<Option<Code>, DbErr> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(CODE_BY_ID_SQL).map_err(db_err)?;
            optional(statement.query_row(params![id], |row| code_from(row, 0)))
        })
    }

    /// [`super::pupil::sitting`].
    pub fn sitting(&self, id: i32) -> Result<Option<Sitting>, DbErr> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(SITTING_BY_ID_SQL).map_err(db_err)?;
            optional(statement.query_row(params![id], |row| sitting_from(row, 0)))
        })
    }

    /// [`super::pupil::held_by_sitting`].
    pub fn held_by_sitting(&self) -> Result<Vec<(i32, i64)>, DbErr> {
        self.read(|conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT sitting_id, count(*) FROM response_held GROUP BY sitting_id",
                )
                .map_err(db_err)?;
            statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(db_err)?
                .collect::<Result<_, _>>()
                .map_err(db_err)
        })
    }

    /// Runs `read` on this thread's connection to the file, opening it first
    /// if this thread has none yet.
    fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, DbErr>) -> Result<T, DbErr> {
        READERS.with(|readers| {
            let mut readers = readers.borrow_mut();
            // Looked up by reference: the path is copied only when the
            // connection is first opened, not on every read.
            if !readers.contains_key(&self.path) {
                let conn = self.open()?;
                readers.insert(self.path.clone(), conn);
            }
            match readers.get(&self.path) {
                Some(conn) => read(conn),
                None => Err(DbErr::Custom("SQLite: no read connection".into())),
            }
        })
    }
}

/// The columns of `access_code` that [`code_from`] reads.
macro_rules! code_select {
    () => {
        "c.id, c.sitting_id, c.code_hash, c.state, c.response_id"
    };
}
/// How many columns [`code_select`] names.
const CODE_COLUMNS: usize = 5;
/// The columns of `sitting` that [`sitting_from`] reads.
macro_rules! sitting_select {
    () => {
        "s.id, s.school_id, s.cpp_id, s.stage, s.label, s.questionnaire_version_id, \
         s.disabled_modules, s.signposting, s.opens_at, s.closes_at, s.closed_at, s.mop_up_of, \
         s.created_by, s.is_demo, s.created_at, s.wave_id, s.opted_out"
    };
}

const FIND_CODE_SQL: &str = concat!(
    "SELECT ",
    code_select!(),
    ", ",
    sitting_select!(),
    " FROM access_code c JOIN sitting s ON s.id = c.sitting_id WHERE c.code_hash = ?1"
);
const CODE_WITH_SITTING_SQL: &str = concat!(
    "SELECT ",
    code_select!(),
    ", ",
    sitting_select!(),
    " FROM access_code c JOIN sitting s ON s.id = c.sitting_id WHERE c.id = ?1"
);
const CODE_BY_ID_SQL: &str = concat!(
    "SELECT ",
    code_select!(),
    " FROM access_code c WHERE c.id = ?1"
);
const SITTING_BY_ID_SQL: &str = concat!(
    "SELECT ",
    sitting_select!(),
    " FROM sitting s WHERE s.id = ?1"
);

fn optional<T>(found: rusqlite::Result<T>) -> Result<Option<T>, DbErr> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
        Err(error) => Err(db_err(error)),
    }
}

/// An `access_code` row from [`code_select`]'s columns, starting at `at`.
fn code_from(row: &rusqlite::Row, at: usize) -> rusqlite::Result<Code> {
    Ok(Code {
        id: row.get(at)?,
        sitting_id: row.get(at + 1)?,
        code_hash: row.get(at + 2)?,
        state: row.get(at + 3)?,
        response_id: row.get(at + 4)?,
    })
}

/// A `sitting` row from [`sitting_select`]'s columns, starting at `at`.
fn sitting_from(row: &rusqlite::Row, at: usize) -> rusqlite::Result<Sitting> {
    let time = |index: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        let value = row.get_ref(at + index)?;
        if value == ValueRef::Null {
            return Ok(None);
        }
        stored_time(value).map(Some).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                at + index,
                value.data_type(),
                format!("not a date and time: {value:?}").into(),
            )
        })
    };
    Ok(Sitting {
        id: row.get(at)?,
        school_id: row.get(at + 1)?,
        cpp_id: row.get(at + 2)?,
        stage: row.get(at + 3)?,
        label: row.get(at + 4)?,
        questionnaire_version_id: row.get(at + 5)?,
        disabled_modules: row.get(at + 6)?,
        signposting: row.get(at + 7)?,
        opens_at: time(8)?,
        closes_at: time(9)?,
        closed_at: time(10)?,
        mop_up_of: row.get(at + 11)?,
        created_by: row.get(at + 12)?,
        is_demo: row.get(at + 13)?,
        created_at: time(14)?.ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                at + 14,
                rusqlite::types::Type::Null,
                "a sitting without its creation time".into(),
            )
        })?,
        wave_id: row.get(at + 15)?,
        opted_out: row.get(at + 16)?,
    })
}

/// A date and time as SQLite holds it, read as sqlx (and so sea-orm) reads
/// it: RFC 3339 text (how sea-orm writes it), the other text forms SQLite's
/// own date functions make (taken as UTC when they name no offset), or whole
/// seconds since 1970.
fn stored_time(value: ValueRef) -> Option<DateTime<Utc>> {
    const FORMATS: [&str; 12] = [
        "%F %T%.f",
        "%F %R",
        "%F %RZ",
        "%F %R%:z",
        "%F %T%.fZ",
        "%F %T%.f%:z",
        "%FT%R",
        "%FT%RZ",
        "%FT%R%:z",
        "%FT%T%.f",
        "%FT%T%.fZ",
        "%FT%T%.f%:z",
    ];
    match value {
        ValueRef::Text(bytes) => {
            let text = std::str::from_utf8(bytes).ok()?;
            if let Ok(time) = DateTime::parse_from_rfc3339(text) {
                return Some(time.with_timezone(&Utc));
            }
            FORMATS.iter().find_map(|format| {
                DateTime::parse_from_str(text, format)
                    .map(|time| time.with_timezone(&Utc))
                    .or_else(|_| NaiveDateTime::parse_from_str(text, format).map(|t| t.and_utc()))
                    .ok()
            })
        }
        ValueRef::Integer(seconds) => DateTime::from_timestamp(seconds, 0),
        _ => None,
    }
}

/// Writes page saves in one transaction: each an upsert, so a replay
/// overwrites itself and a page saved twice keeps its later save. Nothing is
/// written if any save fails (the transaction is rolled back).
pub fn write_saves<'a>(
    conn: &mut Connection,
    saves: impl IntoIterator<Item = &'a PageSave>,
) -> Result<(), DbErr> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    {
        let mut statement = tx.prepare_cached(UPSERT_SQL).map_err(db_err)?;
        for save in saves {
            statement
                .execute(params![
                    save.response_id,
                    save.page_key,
                    save.answers,
                    save.seq
                ])
                .map_err(db_err)?;
        }
    }
    tx.commit().map_err(db_err)
}

/// Stops this connection checkpointing on its own (see [`checkpoint`]).
pub fn leave_checkpoints_to_others(conn: &Connection) -> Result<(), DbErr> {
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
        .map_err(db_err)
}

/// Copies what it can of the write-ahead log into the database file without
/// waiting for readers or the writer (a passive checkpoint). True when the
/// whole log was copied: the next write then starts the log again from its
/// beginning instead of growing it.
pub fn checkpoint(conn: &Connection) -> Result<bool, DbErr> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        let busy: i64 = row.get(0)?;
        let logged: i64 = row.get(1)?;
        let copied: i64 = row.get(2)?;
        Ok(busy == 0 && logged == copied)
    })
    .map_err(db_err)
}

/// [`super::pupil::start_response`] in one transaction on the writer's
/// connection: starts a response for an unused code, or returns the one a
/// concurrent request already started; `None` when the code can no longer
/// be started.
pub fn start_response(
    conn: &mut Connection,
    code_id: i32,
    sitting_id: i32,
    locale: &str,
) -> Result<Option<String>, DbErr> {
    let id = super::pupil::random_id();
    // A savepoint: inside the writer's shared transaction when there is one
    // (see `begin_group`), a transaction of its own otherwise.
    let tx = conn.savepoint().map_err(db_err)?;
    tx.execute(
        "INSERT INTO response_in_progress (id, sitting_id, locale) VALUES (?1, ?2, ?3)",
        params![id, sitting_id, locale],
    )
    .map_err(db_err)?;
    let claimed = tx
        .execute(
            "UPDATE access_code SET state = ?1, response_id = ?2 WHERE id = ?3 AND state = ?4",
            params![
                CodeState::Started.as_str(),
                id,
                code_id,
                CodeState::Unused.as_str()
            ],
        )
        .map_err(db_err)?;
    if claimed == 1 {
        tx.commit().map_err(db_err)?;
        return Ok(Some(id));
    }
    // Dropped uncommitted: rolled back to before the insert.
    drop(tx);
    // Someone else (a double click, another device) started it first.
    let found: Option<(String, Option<String>)> = conn
        .query_row(
            "SELECT state, response_id FROM access_code WHERE id = ?1",
            params![code_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })
        .map_err(db_err)?;
    Ok(found.and_then(|(code_state, response_id)| {
        (code_state == CodeState::Started.as_str())
            .then_some(response_id)
            .flatten()
    }))
}

const COUNT_ENDING_SQL: &str = "INSERT INTO sitting_tally (sitting_id, ending, n) VALUES (?1, ?2, 1) \
     ON CONFLICT (sitting_id, ending) DO UPDATE SET n = n + 1";

/// [`super::pupil::end_response`] on the writer's connection, in one
/// savepoint: marks the code used and cuts its link, counts the ending for
/// the sitting, deletes the in-progress row with its page saves, and (unless
/// withdrawn) holds the answers under a fresh random id. Returns false when
/// another request had already ended it.
pub fn end_response(
    conn: &mut Connection,
    response_id: &str,
    ending: Ending,
    completed: Option<Completed>,
) -> Result<bool, DbErr> {
    // A savepoint: inside the writer's shared transaction when there is one
    // (see `begin_group`), a transaction of its own otherwise.
    let tx = conn.savepoint().map_err(db_err)?;
    let sitting_id: Option<i32> = optional(tx.query_row(
        "SELECT sitting_id FROM response_in_progress WHERE id = ?1",
        params![response_id],
        |row| row.get(0),
    ))?;
    let Some(sitting_id) = sitting_id else {
        return Ok(false);
    };
    tx.execute(
        "UPDATE access_code SET state = ?1, response_id = NULL WHERE response_id = ?2",
        params![CodeState::Used.as_str(), response_id],
    )
    .map_err(db_err)?;
    tx.execute(
        "DELETE FROM page_save WHERE response_id = ?1",
        params![response_id],
    )
    .map_err(db_err)?;
    let deleted = tx
        .execute(
            "DELETE FROM response_in_progress WHERE id = ?1",
            params![response_id],
        )
        .map_err(db_err)?;
    if deleted != 1 {
        // Dropped uncommitted: rolled back.
        return Ok(false);
    }
    tx.execute(COUNT_ENDING_SQL, params![sitting_id, ending.as_str()])
        .map_err(db_err)?;
    if let (Some(c), true) = (completed, ending.keeps_answers()) {
        // Stored as the sea-orm path stores it: `partial` as 0 or 1.
        tx.execute(
            "INSERT INTO response_held (sitting_id, id, questionnaire_version_id, cpp_id, \
             school_id, stage, sex, partial, answers) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                sitting_id,
                super::pupil::random_id(),
                c.questionnaire_version_id,
                c.cpp_id,
                c.school_id,
                c.stage.as_str(),
                c.sex,
                c.partial,
                c.answers
            ],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(true)
}

/// [`super::pupil::decline`] on the writer's connection, in one savepoint.
pub fn decline(conn: &mut Connection, code_id: i32, sitting_id: i32) -> Result<bool, DbErr> {
    let tx = conn.savepoint().map_err(db_err)?;
    let changed = tx
        .execute(
            "UPDATE access_code SET state = ?1 WHERE id = ?2 AND state = ?3",
            params![
                CodeState::Used.as_str(),
                code_id,
                CodeState::Unused.as_str()
            ],
        )
        .map_err(db_err)?;
    if changed != 1 {
        return Ok(false);
    }
    tx.execute(
        COUNT_ENDING_SQL,
        params![sitting_id, Ending::Declined.as_str()],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

/// [`super::pupil::release`] on the writer's connection, in a transaction of
/// its own (never inside the writer's shared one, so no code's update
/// commits with it). Returns how many responses were released.
pub fn release(
    conn: &mut Connection,
    sitting_id: i32,
    min: usize,
    today: NaiveDate,
) -> Result<usize, DbErr> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let held: i64 = tx
        .query_row(
            "SELECT count(*) FROM response_held WHERE sitting_id = ?1",
            params![sitting_id],
            |row| row.get(0),
        )
        .map_err(db_err)?;
    let held = usize::try_from(held).unwrap_or(0);
    if held == 0 || held < min {
        return Ok(0);
    }
    // Each held row gets a new random id in a temporary table, then goes
    // into `response` in the order of those ids: a random order.
    tx.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS release_ids (held_id TEXT PRIMARY KEY, new_id TEXT NOT NULL); \
         DELETE FROM temp.release_ids;",
    )
    .map_err(db_err)?;
    {
        let mut ids = tx
            .prepare("SELECT id FROM response_held WHERE sitting_id = ?1")
            .map_err(db_err)?;
        let held_ids: Vec<String> = ids
            .query_map(params![sitting_id], |row| row.get(0))
            .map_err(db_err)?
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        let mut insert = tx
            .prepare("INSERT INTO temp.release_ids (held_id, new_id) VALUES (?1, ?2)")
            .map_err(db_err)?;
        for id in held_ids {
            insert
                .execute(params![id, super::pupil::random_id()])
                .map_err(db_err)?;
        }
    }
    tx.execute(
        "INSERT INTO response (id, questionnaire_version_id, wave_id, cpp_id, school_id, stage, \
         sex, completed_on, partial, answers) \
         SELECT r.new_id, h.questionnaire_version_id, \
         (SELECT s.wave_id FROM sitting s WHERE s.id = ?1), h.cpp_id, h.school_id, h.stage, h.sex, \
         ?2, h.partial, h.answers \
         FROM temp.release_ids r JOIN response_held h ON h.sitting_id = ?1 AND h.id = r.held_id \
         ORDER BY r.new_id",
        params![
            sitting_id,
            super::pupil::week_of(today).format("%Y-%m-%d").to_string()
        ],
    )
    .map_err(db_err)?;
    tx.execute(
        "DELETE FROM response_held WHERE sitting_id = ?1 \
         AND id IN (SELECT held_id FROM temp.release_ids)",
        params![sitting_id],
    )
    .map_err(db_err)?;
    tx.execute_batch("DELETE FROM temp.release_ids;")
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(held)
}

/// Copies the whole write-ahead log into the database file and empties it,
/// if that can be done at once (no reader is using the log); true when done.
/// Deleted rows are overwritten in the database file (`secure_delete`), so
/// afterwards neither file holds what a release removed. Never waits: a
/// busy log is tried again later.
pub fn truncate_log(conn: &Connection) -> Result<bool, DbErr> {
    conn.busy_timeout(Duration::ZERO).map_err(db_err)?;
    let done = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| {
        let busy: i64 = row.get(0)?;
        Ok(busy == 0)
    });
    conn.busy_timeout(Duration::from_secs(10)).map_err(db_err)?;
    match done {
        Ok(done) => Ok(done),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::DatabaseBusy =>
        {
            Ok(false)
        }
        Err(error) => Err(db_err(error)),
    }
}

/// Starts one transaction for the writer's other writes of a round, so that
/// each of them (a savepoint inside it) does not pay for an fsync of its own.
/// False when it could not start; each write is then its own transaction.
pub fn begin_group(conn: &Connection) -> bool {
    conn.execute_batch("BEGIN IMMEDIATE").is_ok()
}

/// Commits the shared transaction; on failure rolls it back and returns why.
pub fn commit_group(conn: &Connection) -> Option<DbErr> {
    let error = conn.execute_batch("COMMIT").err()?;
    let _ = conn.execute_batch("ROLLBACK");
    Some(db_err(error))
}
