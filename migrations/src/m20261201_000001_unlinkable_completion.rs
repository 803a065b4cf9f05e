//! Completion that leaves no link between a code and its answers.
//!
//! - `response_held`: a finished (or partial) response waits here, durably,
//!   until enough responses of its sitting have finished to be moved into
//!   `response` together, shuffled, in a transaction of their own.
//! - `sitting_tally`: how many responses of a sitting ended each way
//!   (finished, partial, withdrawn, declined). A code records only that it
//!   was used, so no code says how its response ended.
//! - On SQLite, `response` is stored `WITHOUT ROWID`, in the order of its
//!   random id, so the table keeps no order of insertion. PostgreSQL has no
//!   such table kind; its existing rows are rewritten in id order once
//!   (`CLUSTER`), and new rows arrive in shuffled batches.
//!
//! Going down moves held responses into `response` (nothing is lost), and
//! marks every used code `finished`: how each code ended is not recorded
//! any more, so it cannot be restored.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ENDINGS: &str = "('finished', 'partial', 'withdrawn', 'declined')";

fn held_table(backend: DbBackend) -> String {
    let (bytes, rowid) = match backend {
        DbBackend::Postgres => ("bytea", ""),
        _ => ("blob", " WITHOUT ROWID"),
    };
    format!(
        "CREATE TABLE \"response_held\" ( \
         \"sitting_id\" integer NOT NULL, \
         \"id\" varchar(32) NOT NULL, \
         \"questionnaire_version_id\" integer NOT NULL, \
         \"cpp_id\" integer NOT NULL, \
         \"school_id\" integer NOT NULL, \
         \"stage\" varchar(2) NOT NULL, \
         \"sex\" varchar(32) NULL, \
         \"partial\" boolean NOT NULL, \
         \"answers\" {bytes} NOT NULL, \
         PRIMARY KEY (\"sitting_id\", \"id\"), \
         FOREIGN KEY (\"sitting_id\") REFERENCES \"sitting\" (\"id\") ON DELETE RESTRICT \
         ){rowid}"
    )
}

const TALLY_TABLE: &str = "CREATE TABLE \"sitting_tally\" ( \
     \"sitting_id\" integer NOT NULL, \
     \"ending\" varchar(16) NOT NULL, \
     \"n\" integer NOT NULL, \
     PRIMARY KEY (\"sitting_id\", \"ending\"), \
     FOREIGN KEY (\"sitting_id\") REFERENCES \"sitting\" (\"id\") ON DELETE CASCADE \
     )";

/// On SQLite, rebuilds `response` from its own definition, stored `WITHOUT
/// ROWID` or not, with its indexes, inside a savepoint: all of it or none.
async fn rebuild_response(manager: &SchemaManager<'_>, without_rowid: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let definition = |kind: &str| {
        Statement::from_string(
            DbBackend::Sqlite,
            format!(
                "SELECT sql FROM sqlite_master WHERE type = '{kind}' AND tbl_name = 'response' \
                 AND sql IS NOT NULL"
            ),
        )
    };
    let table: String = db
        .query_one_raw(definition("table"))
        .await?
        .ok_or_else(|| DbErr::Migration("the response table is missing".into()))?
        .try_get("", "sql")?;
    let mut indexes = Vec::new();
    for row in db.query_all_raw(definition("index")).await? {
        indexes.push(row.try_get::<String>("", "sql")?);
    }
    let body = table
        .trim_end()
        .trim_end_matches("WITHOUT ROWID")
        .trim_end();
    let body = body
        .strip_prefix("CREATE TABLE \"response\"")
        .or_else(|| body.strip_prefix("CREATE TABLE response"))
        .ok_or_else(|| DbErr::Migration(format!("unexpected response table: {table}")))?;
    let create = format!(
        "CREATE TABLE \"response_rebuilt\"{body}{}",
        if without_rowid { " WITHOUT ROWID" } else { "" }
    );
    let sql = format!(
        "SAVEPOINT response_rebuild; \
         {create}; \
         INSERT INTO \"response_rebuilt\" SELECT * FROM \"response\" ORDER BY \"id\"; \
         DROP TABLE \"response\"; \
         ALTER TABLE \"response_rebuilt\" RENAME TO \"response\"; \
         {indexes} \
         RELEASE response_rebuild;",
        indexes = indexes
            .iter()
            .map(|sql| format!("{sql};"))
            .collect::<String>()
    );
    db.execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        db.execute_unprepared(&held_table(backend)).await?;
        db.execute_unprepared(TALLY_TABLE).await?;
        db.execute_unprepared(&format!(
            "INSERT INTO \"sitting_tally\" (\"sitting_id\", \"ending\", \"n\") \
             SELECT \"sitting_id\", \"state\", count(*) FROM \"access_code\" \
             WHERE \"state\" IN {ENDINGS} GROUP BY \"sitting_id\", \"state\""
        ))
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE \"access_code\" SET \"state\" = 'used' WHERE \"state\" IN {ENDINGS}"
        ))
        .await?;
        match backend {
            DbBackend::Sqlite => rebuild_response(manager, true).await?,
            DbBackend::Postgres => {
                db.execute_unprepared("CLUSTER \"response\" USING \"response_pkey\"")
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        if backend == DbBackend::Sqlite {
            rebuild_response(manager, false).await?;
        }
        db.execute_unprepared(
            "INSERT INTO \"response\" (\"id\", \"questionnaire_version_id\", \"cpp_id\", \
             \"school_id\", \"stage\", \"sex\", \"completed_on\", \"partial\", \"answers\") \
             SELECT \"id\", \"questionnaire_version_id\", \"cpp_id\", \"school_id\", \"stage\", \
             \"sex\", CURRENT_DATE, \"partial\", \"answers\" FROM \"response_held\"",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE \"access_code\" SET \"state\" = 'finished' WHERE \"state\" = 'used'",
        )
        .await?;
        db.execute_unprepared("DROP TABLE \"sitting_tally\"")
            .await?;
        db.execute_unprepared("DROP TABLE \"response_held\"")
            .await?;
        Ok(())
    }
}
