//! On SQLite, `page_save` is stored in the order of its key.
//!
//! A table with a separate key index costs two B-trees per save (the rows and
//! the index on `(response_id, page_key)`) and, when a pupil's progress is
//! read, one index lookup plus one row lookup per saved page. A `WITHOUT
//! ROWID` table keeps the rows in the key's B-tree itself: a save writes one
//! B-tree, and a pupil's pages are read by one range scan, next to each other.
//!
//! PostgreSQL has no such table kind and keeps its table and index as they
//! are.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The table with the shape of the initial migration's, stored `WITHOUT
/// ROWID` or not.
fn create(name: &str, without_rowid: bool) -> String {
    format!(
        "CREATE TABLE \"{name}\" ( \
         \"response_id\" varchar(32) NOT NULL, \
         \"page_key\" varchar(64) NOT NULL, \
         \"answers\" blob NOT NULL, \
         \"seq\" integer NOT NULL, \
         PRIMARY KEY (\"response_id\", \"page_key\"), \
         FOREIGN KEY (\"response_id\") REFERENCES \"response_in_progress\" (\"id\") ON DELETE CASCADE \
         ){}",
        if without_rowid { " WITHOUT ROWID" } else { "" }
    )
}

/// Copies `page_save` into a new table of the given kind and puts it in its
/// place. Nothing refers to `page_save`, so dropping it breaks no reference.
/// One batch on one connection, inside a savepoint: all of it or none.
async fn rebuild(manager: &SchemaManager<'_>, without_rowid: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    let sql = format!(
        "SAVEPOINT page_save_rebuild; \
         {create}; \
         INSERT INTO \"page_save_rebuilt\" (\"response_id\", \"page_key\", \"answers\", \"seq\") \
         SELECT \"response_id\", \"page_key\", \"answers\", \"seq\" FROM \"page_save\"; \
         DROP TABLE \"page_save\"; \
         ALTER TABLE \"page_save_rebuilt\" RENAME TO \"page_save\"; \
         RELEASE page_save_rebuild;",
        create = create("page_save_rebuilt", without_rowid)
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}
