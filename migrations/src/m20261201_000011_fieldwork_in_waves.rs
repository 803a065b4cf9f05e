//! A partnership's fieldwork window belongs to a survey wave now
//! (`wave_window`), so the single window a partnership's settings held
//! (`cpp_setting.fieldwork_opens` and `fieldwork_closes`, the default dates
//! of new sittings) goes. Sittings keep their own dates. Going down restores
//! the two columns empty.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::date_null;
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: [&str; 2] = ["fieldwork_opens", "fieldwork_closes"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in COLUMNS {
            db.execute_unprepared(&format!(
                "ALTER TABLE \"cpp_setting\" DROP COLUMN \"{column}\""
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("cpp_setting")
                        .add_column(date_null(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
