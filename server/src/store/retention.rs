//! Retention and backup at the database level: deleting old completed
//! responses, and copying a SQLite database while it is in use.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter};

use super::entities::response;

/// Deletes completed (and partial) responses completed before `cutoff`.
/// Returns how many were deleted.
pub async fn delete_completed_before(
    db: &impl ConnectionTrait,
    cutoff: NaiveDate,
) -> Result<u64, DbErr> {
    let result = response::Entity::delete_many()
        .filter(response::Column::CompletedOn.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// How many responses were completed before `cutoff` (for a dry run).
pub async fn count_completed_before(
    db: &impl ConnectionTrait,
    cutoff: NaiveDate,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    response::Entity::find()
        .filter(response::Column::CompletedOn.lt(cutoff))
        .count(db)
        .await
}

/// Rewrites the database without the space deleted rows took: the whole file
/// on SQLite (`VACUUM`), the responses table on PostgreSQL.
pub async fn vacuum(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM response",
        _ => "VACUUM",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}

/// Writes a consistent copy of a SQLite database to `path` with
/// `VACUUM INTO`, while the server keeps running. The file must not exist.
/// Fails on other backends: PostgreSQL is backed up with `pg_dump`.
pub async fn sqlite_backup(db: &impl ConnectionTrait, path: &str) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(DbErr::Custom(
            "online backup here is for SQLite; back up PostgreSQL with pg_dump (see the README)"
                .into(),
        ));
    }
    // A string literal in SQL: single quotes doubled.
    let literal = path.replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{literal}'"))
        .await?;
    Ok(())
}
