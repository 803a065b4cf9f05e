//! The languages a partnership offers its pupils besides the questionnaire's
//! own: a JSON list of locale codes on its settings, empty to begin with, so
//! that no translation reaches a pupil until the partnership has chosen it
//! (and, for a draft, confirmed that it accepts the risk). Going down drops
//! the column.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMN: &str = "languages";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("cpp_setting")
                    .add_column(text(COLUMN).default("[]"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "ALTER TABLE \"cpp_setting\" DROP COLUMN \"{COLUMN}\""
            ))
            .await?;
        Ok(())
    }
}
