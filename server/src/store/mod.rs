//! The store: the only code that builds queries.
//!
//! Every function takes `&impl ConnectionTrait`, so the same function runs on the
//! pool or inside a transaction. Handlers call these functions and never see
//! sea-orm themselves.

pub mod audit;
pub mod cpp_settings;
pub mod direct;
pub mod entities;
pub mod journey;
pub mod pupil;
pub mod questionnaires;
pub mod reference;
pub mod retention;
pub mod saves;
pub mod schools;
pub mod sittings;
pub mod staff;
pub mod values;
pub mod waves;

pub use values::{Json, Text};

use std::time::Duration;

use migrations::{Migrator, MigratorTrait};

pub use crate::settings::Durability;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, DbErr};

pub use sea_orm::DatabaseConnection as Db;
pub use sea_orm::DatabaseTransaction as Tx;
pub use sea_orm::DbErr as Error;
pub use sea_orm::{ConnectionTrait, TransactionTrait};

/// Begins a transaction. A service's write of more than one row, with its
/// audit entry, runs in one, so a failure midway leaves nothing half-written.
///
/// On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), waiting
/// for it as long as the busy timeout allows: a transaction that read first
/// and then tried to write while another connection was writing (the pupil
/// journey's writer, say) would fail at once with "database is locked",
/// since SQLite cannot wait for the lock without risking a deadlock.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Opens a pool for `url` (sqlite:// or postgres://) with settings suited to the
/// backend: SQLite in WAL mode with a busy timeout; PostgreSQL with a larger pool.
pub async fn connect(url: &str, durability: Durability) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        // By default every checkout from the pool pings the database first: a
        // round trip (for SQLite, a hop to the connection's thread and back)
        // before every query, which costs as much as the query. Only a
        // connection idle long enough to have been dropped by a server, proxy
        // or firewall is pinged.
        .test_before_acquire_if_idle_for(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // Readers never block the writer in WAL mode; page saves are funnelled
        // through one writer task, so a handful of connections is enough.
        options.max_connections(8).min_connections(1);
        options.map_sqlx_sqlite_opts(move |o| {
            o.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(match durability {
                    Durability::Full => SqliteSynchronous::Full,
                    Durability::Normal => SqliteSynchronous::Normal,
                })
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Deleted rows are overwritten, not just unlinked: a page
                // save or a held response removed at completion leaves no
                // copy in the file's free pages.
                .pragma("secure_delete", "ON")
        });
    } else {
        options.max_connections(32).min_connections(2);
    }
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// Whether PostgreSQL records commit times (`track_commit_timestamp`);
/// false on SQLite, which has no such setting.
pub async fn commit_timestamps_tracked(db: &impl ConnectionTrait) -> Result<bool, DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(false);
    }
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_setting('track_commit_timestamp') AS on_or_off",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<String>("", "on_or_off")? == "on",
        None => false,
    })
}

/// Which SQL dialect a connection speaks.
pub fn backend_name(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Sqlite => "sqlite",
        DbBackend::Postgres => "postgres",
        _ => "other",
    }
}
