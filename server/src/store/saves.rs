//! Group commit for page saves.
//!
//! Every pupil's Next is answered only after the page is durably stored. With one
//! fsync per transaction, SQLite tops out at a few thousand commits a second, so
//! saves that arrive together are written by one writer task as one multi-row
//! upsert (one statement, one transaction) and acknowledged together once it
//! commits. Under light load a batch holds one
//! save and nothing waits; under heavy load batches grow and the fsync cost is
//! shared.
//!
//! If a batch fails (for example one save belongs to a response that was just
//! withdrawn), each save in it is retried in a transaction of its own, so one bad
//! save never fails the others.
//!
//! Starts are queued here too and batched the same way: on PostgreSQL a
//! round's starts are one statement and one commit (see
//! [`pupil::start_responses_postgres`]), where each start on its own was a
//! commit, and a wait for the log's flush, of its own.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::{mpsc, oneshot};

use crate::store::direct::{self, DirectSqlite};
use crate::store::pupil::{self, NewStart, PageSave};

/// The most saves committed in one transaction.
const MAX_BATCH: usize = 512;

/// How often the checkpoint thread copies the write-ahead log back.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// How often the writer finishes a checkpoint itself (see `start_direct`).
const FINISH_LOG_EVERY: Duration = Duration::from_millis(250);

type Reply = oneshot::Sender<Result<Saved, DbErr>>;
type StartReply = oneshot::Sender<Result<Option<String>, DbErr>>;

/// Other writes run by a SQLite file's writer thread between batches: each
/// does its work (in a savepoint) and returns how to answer once the
/// transaction they share has committed, or failed to.
type DirectWrite = Box<dyn FnOnce(&mut rusqlite::Connection) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<DbErr>) + Send>;

/// A write run by a SQLite file's writer thread on its own, outside the
/// transaction the round's other writes share: it commits (or not) by itself.
/// `true` asks for the write-ahead log to be emptied afterwards (see
/// [`direct::truncate_log`]).
type AloneWrite = Box<dyn FnOnce(&mut rusqlite::Connection) -> bool + Send>;

/// What became of a queued page save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Durably stored; on PostgreSQL, with the response's version
    /// afterwards (see [`pupil::save_pages_postgres`]).
    Stored(Option<i64>),
    /// Not stored: the response has ended, or it is no longer at the
    /// version the save expected.
    Refused,
}

enum Job {
    /// A save, and the response's version it expects (PostgreSQL only).
    Save(PageSave, Option<i64>, Reply),
    /// Only on a pool's writers (see [`SaveQueue::start_response`]).
    Start(NewStart, StartReply),
    Direct(DirectWrite),
    Alone(AloneWrite),
    /// Finish what is queued before this, close the connections, then reply.
    Stop(oneshot::Sender<()>),
}

/// A handle for queueing page saves; cheap to clone.
#[derive(Clone)]
pub struct SaveQueue {
    sender: mpsc::Sender<Job>,
}

impl SaveQueue {
    /// Starts `writers` writer tasks on the current runtime. SQLite allows one
    /// writer at a time, so it gets one; PostgreSQL benefits from a few.
    pub fn start(db: DatabaseConnection, writers: usize) -> Self {
        let (sender, receiver) = mpsc::channel::<Job>(8192);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writers.max(1) {
            let db = db.clone();
            let receiver = receiver.clone();
            tokio::spawn(async move {
                loop {
                    let (saves, starts) = {
                        let mut receiver = receiver.lock().await;
                        let Some(first) = receiver.recv().await else {
                            break;
                        };
                        let mut saves = Vec::new();
                        let mut starts = Vec::new();
                        let mut next = Some(first);
                        // Only saves and starts come here: direct writes are
                        // queued only on a SQLite file's writer (see
                        // `write_direct`).
                        while let Some(job) = next.take() {
                            match job {
                                Job::Save(save, expected, reply) => {
                                    saves.push((save, expected, reply))
                                }
                                Job::Start(start, reply) => starts.push((start, reply)),
                                // Nothing to close here: the pool is sea-orm's.
                                Job::Stop(done) => {
                                    let _ = done.send(());
                                }
                                Job::Direct(_) | Job::Alone(_) => {}
                            }
                            if saves.len() + starts.len() < MAX_BATCH {
                                next = receiver.try_recv().ok();
                            }
                        }
                        (saves, starts)
                    };
                    if !saves.is_empty() {
                        write_batch(&db, saves).await;
                    }
                    if !starts.is_empty() {
                        write_starts(&db, starts).await;
                    }
                }
            });
        }
        Self { sender }
    }

    /// Starts the writer for a SQLite database file: one thread of its own
    /// with its own connection, so a batch costs no hop to a driver thread.
    /// Batches form the same way, and a failed batch is retried save by save.
    ///
    /// Checkpoints (copying the write-ahead log back into the database file)
    /// run on a thread of their own, ten times a second, rather than inside
    /// whichever commit crosses SQLite's threshold: a checkpoint writes and
    /// syncs the database file, and saves queued behind it would all wait.
    ///
    /// That thread can never finish the log while saves keep arriving, and
    /// SQLite starts the log again from its beginning only after a checkpoint
    /// that copied all of it; otherwise the log grows without end (hundreds of
    /// megabytes a minute under load, each append extending the file). So
    /// every quarter of a second the writer itself copies what is left, which
    /// is little, between two batches.
    pub fn start_direct(target: DirectSqlite) -> Result<Self, DbErr> {
        let mut conn = target.open()?;
        direct::leave_checkpoints_to_others(&conn)?;
        let checkpoints = target.open()?;
        let (alive, writer_gone) = std::sync::mpsc::channel::<()>();
        let truncate = std::sync::Arc::new(AtomicBool::new(false));
        let wanted = truncate.clone();
        let checkpointer = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    writer_gone.recv_timeout(CHECKPOINT_EVERY)
                {
                    let done = if wanted.swap(false, Ordering::AcqRel) {
                        let emptied = direct::truncate_log(&checkpoints);
                        if !matches!(emptied, Ok(true)) {
                            wanted.store(true, Ordering::Release);
                        }
                        emptied.map(|_| ())
                    } else {
                        direct::checkpoint(&checkpoints).map(|_| ())
                    };
                    if let Err(error) = done {
                        tracing::warn!(%error, "checkpoint failed; will try again");
                    }
                }
                // The writer has stopped: one last checkpoint on the way out,
                // emptying the log if a release asked for it and no reader
                // holds it.
                if wanted.load(Ordering::Acquire) {
                    for _ in 0..100 {
                        if let Ok(true) = direct::truncate_log(&checkpoints) {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    tracing::warn!("the write-ahead log could not be emptied on the way out");
                }
                let _ = direct::checkpoint(&checkpoints);
            })
            .map_err(|e| DbErr::Custom(format!("cannot start the checkpoint thread: {e}")))?;
        let (sender, mut receiver) = mpsc::channel::<Job>(8192);
        std::thread::Builder::new()
            .name("page-saves".into())
            .spawn(move || {
                let mut stopped: Option<oneshot::Sender<()>> = None;
                let mut log_finished = Instant::now();
                while let Some(first) = receiver.blocking_recv() {
                    let mut batch = Vec::new();
                    let mut others: Vec<DirectWrite> = Vec::new();
                    let mut alone: Vec<AloneWrite> = Vec::new();
                    let mut next = Some(first);
                    while let Some(job) = next.take() {
                        match job {
                            // One server writes a SQLite file, and no
                            // versions are kept for it: nothing to expect.
                            Job::Save(save, _, reply) => batch.push((save, reply)),
                            Job::Direct(write) => others.push(write),
                            Job::Start(start, reply) => others.push(start_direct(start, reply)),
                            Job::Alone(write) => alone.push(write),
                            Job::Stop(done) => stopped = Some(done),
                        }
                        if stopped.is_none() && batch.len() + others.len() + alone.len() < MAX_BATCH
                        {
                            next = receiver.try_recv().ok();
                        }
                    }
                    if !others.is_empty() {
                        // One commit (one fsync) for all of them; each answer
                        // waits for it, so nothing is acknowledged unwritten.
                        let grouped = direct::begin_group(&conn);
                        let answers: Vec<Answer> =
                            others.into_iter().map(|write| write(&mut conn)).collect();
                        let failed = if grouped {
                            direct::commit_group(&conn)
                        } else {
                            None
                        };
                        for answer in answers {
                            answer(failed.clone());
                        }
                    }
                    if !batch.is_empty() {
                        write_direct_batch(&mut conn, batch);
                    }
                    for write in alone {
                        if write(&mut conn) {
                            truncate.store(true, Ordering::Release);
                        }
                    }
                    if log_finished.elapsed() >= FINISH_LOG_EVERY {
                        // Busy (the other thread is checkpointing) or not all
                        // copied: try again after the next batch.
                        if let Ok(true) = direct::checkpoint(&conn) {
                            log_finished = Instant::now();
                        }
                    }
                    if stopped.is_some() {
                        break;
                    }
                }
                // Stopped, or every handle is gone: the checkpoint thread makes
                // its last checkpoint and ends, then the connections close.
                drop(alive);
                let _ = checkpointer.join();
                drop(conn);
                if let Some(done) = stopped {
                    let _ = done.send(());
                }
            })
            .map_err(|e| DbErr::Custom(format!("cannot start the page-save writer: {e}")))?;
        Ok(Self { sender })
    }

    /// Stops the writer once everything queued before has been written, and
    /// waits until its connections are closed (for a clean shutdown, or
    /// before the database file is replaced). Saves queued afterwards fail.
    pub async fn stop(&self) {
        let (done, stopped) = oneshot::channel();
        if self.sender.send(Job::Stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
    }

    /// Runs `write` on a SQLite file's writer thread, with its connection,
    /// and returns what it returns. A write made there never waits for the
    /// write lock behind an `await` elsewhere, and never holds it across one.
    /// Only for a queue made by [`SaveQueue::start_direct`].
    pub async fn write_direct<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut rusqlite::Connection) -> Result<T, DbErr> + Send + 'static,
    ) -> Result<T, DbErr> {
        let (reply, done) = oneshot::channel();
        let job: DirectWrite = Box::new(move |conn| {
            let result = write(conn);
            Box::new(move |failed: Option<DbErr>| {
                let _ = reply.send(match failed {
                    Some(error) => Err(error),
                    None => result,
                });
            })
        });
        self.sender
            .send(Job::Direct(job))
            .await
            .map_err(|_| DbErr::Custom("the page-save writer has stopped".into()))?;
        done.await
            .map_err(|_| DbErr::Custom("the page-save writer stopped before replying".into()))?
    }

    /// Runs `write` on a SQLite file's writer thread, outside the transaction
    /// the writer's other writes share, so it commits in a transaction of its
    /// own (which `write` begins and ends). When it returns `Ok(true)` the
    /// write-ahead log is emptied soon after (see [`direct::truncate_log`]).
    /// Only for a queue made by [`SaveQueue::start_direct`].
    pub async fn write_alone<T: Send + 'static>(
        &self,
        write: impl FnOnce(&mut rusqlite::Connection) -> Result<(T, bool), DbErr> + Send + 'static,
    ) -> Result<T, DbErr> {
        let (reply, done) = oneshot::channel();
        let job: AloneWrite = Box::new(move |conn| {
            let result = write(conn);
            let truncate = matches!(result, Ok((_, true)));
            let _ = reply.send(result.map(|(value, _)| value));
            truncate
        });
        self.sender
            .send(Job::Alone(job))
            .await
            .map_err(|_| DbErr::Custom("the page-save writer has stopped".into()))?;
        done.await
            .map_err(|_| DbErr::Custom("the page-save writer stopped before replying".into()))?
    }

    /// Queues a start (see [`pupil::start_responses_postgres`]) and waits
    /// until it is committed; returns the response started, or `None` when
    /// the code can no longer be started. Starts that arrive together are
    /// written together, as saves are.
    pub async fn start_response(&self, start: NewStart) -> Result<Option<String>, DbErr> {
        let (reply, done) = oneshot::channel();
        self.sender
            .send(Job::Start(start, reply))
            .await
            .map_err(|_| DbErr::Custom("the page-save writer has stopped".into()))?;
        done.await
            .map_err(|_| DbErr::Custom("the page-save writer stopped before replying".into()))?
    }

    /// Queues a save and waits until it is committed. With `expected`
    /// (PostgreSQL only), the save is stored only if the response is still
    /// at that version.
    pub async fn save(&self, save: PageSave, expected: Option<i64>) -> Result<Saved, DbErr> {
        let (reply, done) = oneshot::channel();
        self.sender
            .send(Job::Save(save, expected, reply))
            .await
            .map_err(|_| DbErr::Custom("the page-save writer has stopped".into()))?;
        done.await
            .map_err(|_| DbErr::Custom("the page-save writer stopped before replying".into()))?
    }
}

/// Answers every save of a SQLite file's batch with the batch's result; a
/// batch of several that failed is handed back instead, to be retried save
/// by save, so one bad save never fails the others.
fn settle(result: Result<(), DbErr>, batch: Vec<(PageSave, Reply)>) -> Vec<(PageSave, Reply)> {
    match result {
        Err(_) if batch.len() > 1 => batch,
        result => {
            for (_, reply) in batch {
                let _ = reply.send(result.clone().map(|()| Saved::Stored(None)));
            }
            Vec::new()
        }
    }
}

/// A pool's batch: one statement, or, if that fails, one per save, so one
/// bad save never fails the others.
async fn write_batch(db: &DatabaseConnection, batch: Vec<(PageSave, Option<i64>, Reply)>) {
    let (saves, replies): (Vec<_>, Vec<_>) = batch
        .into_iter()
        .map(|(save, expected, reply)| ((save, expected), reply))
        .unzip();
    match try_batch(db, &saves).await {
        Ok(saved) => {
            for (reply, saved) in replies.into_iter().zip(saved) {
                let _ = reply.send(Ok(saved));
            }
        }
        Err(error) if saves.len() == 1 => {
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
        Err(_) => {
            for (save, reply) in saves.into_iter().zip(replies) {
                let saved = try_batch(db, std::slice::from_ref(&save)).await;
                let _ =
                    reply.send(saved.map(|saved| saved.first().copied().unwrap_or(Saved::Refused)));
            }
        }
    }
}

/// One statement: a single statement is its own transaction, so the batch
/// costs one round trip to the database and one commit (one fsync).
/// Returns what became of each save.
async fn try_batch(
    db: &DatabaseConnection,
    saves: &[(PageSave, Option<i64>)],
) -> Result<Vec<Saved>, DbErr> {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let written =
                pupil::save_pages_postgres(db.get_postgres_connection_pool(), saves).await?;
            Ok(written
                .into_iter()
                .map(|written| match written {
                    pupil::Written::Stored(version) => Saved::Stored(Some(version)),
                    pupil::Written::Refused => Saved::Refused,
                })
                .collect())
        }
        _ => {
            pupil::save_pages(db, saves.iter().map(|(save, _)| save.clone()).collect()).await?;
            Ok(vec![Saved::Stored(None); saves.len()])
        }
    }
}

/// A batch of starts: on PostgreSQL one statement, or, if that fails (two
/// batches that claim the same codes can deadlock, and one gives way), one
/// statement per start; elsewhere one transaction per start.
async fn write_starts(db: &DatabaseConnection, starts: Vec<(NewStart, StartReply)>) {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        let pool = db.get_postgres_connection_pool();
        let batch: Vec<NewStart> = starts.iter().map(|(start, _)| start.clone()).collect();
        if let Ok(started) = pupil::start_responses_postgres(pool, &batch).await {
            for ((_, reply), started) in starts.into_iter().zip(started) {
                let _ = reply.send(Ok(started));
            }
            return;
        }
    }
    for (start, reply) in starts {
        let started = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                pupil::start_response_postgres(pool, start.code_id, start.sitting_id, &start.locale)
                    .await
            }
            _ => pupil::start_response(db, start.code_id, start.sitting_id, &start.locale).await,
        };
        let _ = reply.send(started);
    }
}

/// A start on a SQLite file's writer thread, among the round's other writes.
fn start_direct(start: NewStart, reply: StartReply) -> DirectWrite {
    Box::new(move |conn| {
        let result = direct::start_response(conn, start.code_id, start.sitting_id, &start.locale);
        Box::new(move |failed: Option<DbErr>| {
            let _ = reply.send(match failed {
                Some(error) => Err(error),
                None => result,
            });
        })
    })
}

/// A SQLite file writer's batch: one transaction, or, if that fails, one
/// transaction per save.
fn write_direct_batch(conn: &mut rusqlite::Connection, batch: Vec<(PageSave, Reply)>) {
    let result = direct::write_saves(conn, batch.iter().map(|(save, _)| save));
    for (save, reply) in settle(result, batch) {
        let saved = direct::write_saves(conn, [&save]).map(|()| Saved::Stored(None));
        let _ = reply.send(saved);
    }
}
