//! How many pupils of a sitting's class their parents opted out of the
//! survey: a count that staff record on the sitting, never names. Response
//! rates take it off the roll. Every existing sitting starts at 0, which is
//! what was assumed before; going down drops the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::integer;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMN: &str = "opted_out";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("sitting")
                    .add_column(integer(COLUMN).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!("ALTER TABLE \"sitting\" DROP COLUMN \"{COLUMN}\""))
            .await?;
        Ok(())
    }
}
