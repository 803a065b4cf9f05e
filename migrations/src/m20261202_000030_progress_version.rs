//! A version on each in-progress response, which PostgreSQL's store raises
//! with every page save it writes. A server that remembers a pupil's
//! progress checks it against this number before using it, so what another
//! server (sharing the database) saved since is never missed; see the
//! server's `store::journey`. Existing responses start at 0; going down
//! drops the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMN: &str = "version";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("response_in_progress")
                    .add_column(big_integer(COLUMN).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE \"response_in_progress\" DROP COLUMN \"{COLUMN}\""
            ))
            .await?;
        Ok(())
    }
}
