//! [`Store`]: every read and write of the pupil journey, on either database.
//!
//! Chosen once at start-up: a SQLite database file is read on the calling
//! thread and written by one writer thread (see [`super::direct`] and
//! [`SaveQueue::start_direct`]); every other database (PostgreSQL, or SQLite
//! in memory) goes through sea-orm's pool (see [`super::pupil`]). Nothing
//! outside the store asks which one it has.
//!
//! On PostgreSQL, which several servers may share, each server remembers
//! the progress of the responses it has served (see [`Remembered`]), under
//! the response's version, which every page save raises. A page load
//! checks the version (one small query) and reads the whole progress only
//! when it changed or was not remembered; a page save is planned from what
//! is remembered and stored only if the version is still the one it was
//! planned from (see [`Store::save_planned`]), so another server's saves
//! are never overwritten unseen.
//!
//! Ending a response holds its answers, unlinked from its code; they reach
//! `response` only when [`Store::release`] moves at least `batch` responses
//! of the same sitting together, shuffled, in a transaction of their own (or
//! all that remain when the sitting closes). So no row of `response` was
//! written in the same transaction as any code's update, and the order rows
//! were written in says nothing finer than their batch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DbBackend, DbErr};

use super::Db;
use super::direct::{self, DirectSqlite};
use super::pupil::{self, Code, Completed, Ending, InProgress, NewStart, PageSave, Sitting};
use super::saves::{SaveQueue, Saved};

/// The pupil journey's store. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: Db,
    writer: SaveQueue,
    file: Option<Arc<DirectSqlite>>,
    batch: usize,
    /// On PostgreSQL only.
    remembered: Option<Arc<Remembered>>,
}

/// What a page save planned from some progress must find to be stored: on
/// PostgreSQL, the response's version when the progress was remembered
/// rather than checked against the database ([`Read::ToSave`]); nothing
/// when the progress was read from the database (a save then replaces
/// whatever is there, as the pupil's latest word), and nothing where no
/// versions are kept (a SQLite file has one server, which writes every
/// save itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Planned(Option<i64>);

/// How sure a read of progress must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// As the database has it now.
    Checked,
    /// As this server last saw it, when it has seen it: for planning a page
    /// save, which is then stored only if nothing changed since (see
    /// [`Store::save_planned`]).
    ToSave,
}

/// What became of a page save planned from some progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedSave {
    Stored,
    /// Not stored: the response has changed since (another server saved a
    /// page, or it ended). Read its progress again and plan again.
    Changed,
}

/// Progress this server has read or written, by response, each under the
/// response's version then. Only versions checked against the database's
/// are trusted, except for planning a save, which the database checks.
#[derive(Default)]
pub struct Remembered {
    entries: Mutex<HashMap<String, Progressed>>,
}

#[derive(Clone)]
struct Progressed {
    version: i64,
    in_progress: InProgress,
    saves: Vec<PageSave>,
}

impl Remembered {
    /// The most responses remembered; beyond this all are forgotten and
    /// read again as needed (a response's progress is a few kilobytes).
    const MAX_ENTRIES: usize = 4096;

    fn get(&self, response_id: &str) -> Option<Progressed> {
        self.lock().get(response_id).cloned()
    }

    fn put(&self, progressed: Progressed) {
        let mut entries = self.lock();
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(progressed.in_progress.id.clone(), progressed);
    }

    fn forget(&self, response_id: &str) {
        self.lock().remove(response_id);
    }

    /// After `save` was stored and the response's version became `version`:
    /// the save is added to what is remembered if that was the version just
    /// before, so no other save can have come between; otherwise the
    /// response is forgotten.
    fn saved(&self, save: &PageSave, version: i64) {
        let mut entries = self.lock();
        match entries.get_mut(&save.response_id) {
            Some(progressed) if progressed.version + 1 == version => {
                progressed.saves.retain(|s| s.page_key != save.page_key);
                progressed.saves.push(save.clone());
                progressed.saves.sort_by_key(|s| s.seq);
                progressed.version = version;
            }
            Some(_) => {
                entries.remove(&save.response_id);
            }
            None => {}
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Progressed>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store {
    /// Opens the store for `db`, releasing responses `batch` at a time.
    /// Starts the writer (a thread of its own on a SQLite file; four tasks
    /// on PostgreSQL, one on SQLite in memory).
    pub fn open(db: Db, file: Option<DirectSqlite>, batch: usize) -> Result<Self, DbErr> {
        let writer = match &file {
            Some(file) => SaveQueue::start_direct(file.clone())?,
            None => {
                let writers = match db.get_database_backend() {
                    DbBackend::Postgres => 4,
                    _ => 1,
                };
                SaveQueue::start(db.clone(), writers)
            }
        };
        let remembered = (db.get_database_backend() == DbBackend::Postgres)
            .then(|| Arc::new(Remembered::default()));
        Ok(Self {
            db,
            writer,
            file: file.map(Arc::new),
            batch: batch.max(1),
            remembered,
        })
    }

    /// How many responses of a sitting are released together at least.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Which implementation this is, for logs and tests.
    pub fn kind(&self) -> &'static str {
        match (&self.file, self.db.get_database_backend()) {
            (Some(_), _) => "sqlite-file",
            (None, DbBackend::Postgres) => "postgres",
            (None, _) => "sqlite-pool",
        }
    }

    /// The code with this keyed hash, and its sitting.
    pub async fn find_code(&self, code_hash: &str) -> Result<Option<(Code, Sitting)>, DbErr> {
        match &self.file {
            Some(file) => file.find_code(code_hash),
            None => pupil::find_code(&self.db, code_hash).await,
        }
    }

    /// The code with this id, and its sitting.
    pub async fn code_with_sitting(&self, id: i32) -> Result<Option<(Code, Sitting)>, DbErr> {
        match &self.file {
            Some(file) => file.code_with_sitting(id),
            None => pupil::code_with_sitting(&self.db, id).await,
        }
    }

    pub async fn code_by_id(&self, id: i32) -> Result<Option<Code>, DbErr> {
        match &self.file {
            Some(file) => file.code_by_id(id),
            None => pupil::code_by_id(&self.db, id).await,
        }
    }

    pub async fn sitting(&self, id: i32) -> Result<Option<Sitting>, DbErr> {
        match &self.file {
            Some(file) => file.sitting(id),
            None => pupil::sitting(&self.db, id).await,
        }
    }

    /// Starts a response for an unused code, or returns the one a concurrent
    /// request already started; `None` when the code can no longer be started.
    pub async fn start(
        &self,
        code_id: i32,
        sitting_id: i32,
        locale: &str,
    ) -> Result<Option<String>, DbErr> {
        // Written by the writer, with the other starts under way: on
        // PostgreSQL one statement and one commit for all of them; on a
        // SQLite file in the writer thread's transaction, so SQLite's write
        // lock is never held across an await (see `write_direct`).
        self.writer
            .start_response(NewStart {
                code_id,
                sitting_id,
                locale: locale.to_owned(),
            })
            .await
    }

    /// Records that a pupil chose not to take part; false when the code was
    /// not unused.
    pub async fn decline(&self, code_id: i32, sitting_id: i32) -> Result<bool, DbErr> {
        match &self.file {
            Some(_) => {
                self.writer
                    .write_direct(move |conn| direct::decline(conn, code_id, sitting_id))
                    .await
            }
            None => pupil::decline(&self.db, code_id, sitting_id).await,
        }
    }

    /// An in-progress response and every page saved so far, oldest first.
    pub async fn progress(
        &self,
        response_id: &str,
    ) -> Result<Option<(InProgress, Vec<PageSave>)>, DbErr> {
        let found = self.progress_as(response_id, Read::Checked).await?;
        Ok(found.map(|(in_progress, saves, _)| (in_progress, saves)))
    }

    /// [`Store::progress`], and which state of it this is, read as `read`
    /// asks.
    pub async fn progress_as(
        &self,
        response_id: &str,
        read: Read,
    ) -> Result<Option<(InProgress, Vec<PageSave>, Planned)>, DbErr> {
        let with_nothing_planned =
            |found: Option<(InProgress, Vec<PageSave>)>| found.map(|(r, s)| (r, s, Planned(None)));
        let Some(remembered) = &self.remembered else {
            return Ok(with_nothing_planned(match &self.file {
                Some(file) => file.in_progress_with_saves(response_id)?,
                None => pupil::in_progress_with_saves(&self.db, response_id).await?,
            }));
        };
        let pool = self.db.get_postgres_connection_pool();
        if let Some(known) = remembered.get(response_id) {
            let current = match read {
                Read::ToSave => Some(known.version),
                Read::Checked => pupil::progress_version_postgres(pool, response_id).await?,
            };
            let planned = match read {
                Read::ToSave => Planned(Some(known.version)),
                Read::Checked => Planned(None),
            };
            match current {
                Some(version) if version == known.version => {
                    return Ok(Some((known.in_progress, known.saves, planned)));
                }
                None => {
                    remembered.forget(response_id);
                    return Ok(None);
                }
                Some(_) => {}
            }
        }
        let Some((version, in_progress, saves)) =
            pupil::progress_postgres(pool, response_id).await?
        else {
            remembered.forget(response_id);
            return Ok(None);
        };
        remembered.put(Progressed {
            version,
            in_progress: in_progress.clone(),
            saves: saves.clone(),
        });
        Ok(Some((in_progress, saves, Planned(None))))
    }

    /// An in-progress response, without its saves.
    pub async fn in_progress(&self, response_id: &str) -> Result<Option<InProgress>, DbErr> {
        match &self.file {
            Some(file) => Ok(file.in_progress_with_saves(response_id)?.map(|(r, _)| r)),
            None => pupil::in_progress(&self.db, response_id).await,
        }
    }

    /// Stores a page save; answers once it is durably written. Fails if the
    /// response has ended.
    pub async fn save(&self, save: PageSave) -> Result<(), DbErr> {
        match self.save_planned(save, Planned(None)).await? {
            PlannedSave::Stored => Ok(()),
            PlannedSave::Changed => Err(DbErr::Custom(
                "the response ended before its page was saved".into(),
            )),
        }
    }

    /// Stores a page save planned from the progress `planned` names, if the
    /// response is still as it was then; answers once it is durably written.
    pub async fn save_planned(
        &self,
        save: PageSave,
        planned: Planned,
    ) -> Result<PlannedSave, DbErr> {
        let Some(remembered) = &self.remembered else {
            self.writer.save(save, None).await?;
            return Ok(PlannedSave::Stored);
        };
        let copy = save.clone();
        let saved = self.writer.save(save, planned.0).await;
        match saved {
            Ok(Saved::Stored(Some(version))) => remembered.saved(&copy, version),
            _ => remembered.forget(&copy.response_id),
        }
        match saved? {
            Saved::Stored(_) => Ok(PlannedSave::Stored),
            Saved::Refused => Ok(PlannedSave::Changed),
        }
    }

    /// Ends an in-progress response (see [`pupil::end_response`]), then
    /// releases its sitting's held responses if enough are waiting. Returns
    /// false when another request had already ended it.
    pub async fn end(
        &self,
        response_id: &str,
        sitting_id: i32,
        ending: Ending,
        completed: Option<Completed>,
    ) -> Result<bool, DbErr> {
        let ended = match &self.file {
            Some(_) => {
                let response_id = response_id.to_owned();
                self.writer
                    .write_direct(move |conn| {
                        direct::end_response(conn, &response_id, ending, completed)
                    })
                    .await?
            }
            None => pupil::end_response(&self.db, response_id, ending, completed).await?,
        };
        if let Some(remembered) = &self.remembered {
            remembered.forget(response_id);
        }
        if ended && ending.keeps_answers() {
            self.release(sitting_id, self.batch).await?;
        }
        Ok(ended)
    }

    /// Moves a sitting's held responses into `response` if at least `min`
    /// are held (any number when `min` is 1), shuffled, in a transaction of
    /// their own. Returns how many were released.
    pub async fn release(&self, sitting_id: i32, min: usize) -> Result<usize, DbErr> {
        let today = chrono::Utc::now().date_naive();
        match &self.file {
            Some(_) => {
                self.writer
                    .write_alone(move |conn| {
                        let released = direct::release(conn, sitting_id, min, today)?;
                        Ok((released, released > 0))
                    })
                    .await
            }
            None => {
                let released = pupil::release(&self.db, sitting_id, min, today).await?;
                if released > 0 {
                    self.sweep_dead_rows();
                }
                Ok(released)
            }
        }
    }

    /// The sittings that hold responses not yet released.
    pub async fn held_sittings(&self) -> Result<Vec<i32>, DbErr> {
        let held = match &self.file {
            Some(file) => file.held_by_sitting()?,
            None => pupil::held_by_sitting(&self.db).await?,
        };
        Ok(held.into_iter().map(|(sitting_id, _)| sitting_id).collect())
    }

    /// On PostgreSQL, a released response's held row, and the page saves and
    /// in-progress row it came from, stay in the table files as dead rows
    /// until vacuumed. Vacuums them in the background, skipping a table
    /// another vacuum holds.
    fn sweep_dead_rows(&self) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let db = self.db.clone();
        tokio::spawn(async move {
            if let Err(error) = db
                .execute_unprepared(
                    "VACUUM (SKIP_LOCKED) response_held, response_in_progress, page_save",
                )
                .await
            {
                tracing::warn!(%error, "vacuuming released rows failed; autovacuum will do it");
            }
        });
    }

    /// Writes what is queued, then stops the writer (and, on a SQLite file,
    /// closes its connections after a last checkpoint).
    pub async fn stop(&self) {
        self.writer.stop().await;
    }
}
