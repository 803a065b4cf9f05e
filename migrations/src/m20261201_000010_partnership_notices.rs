//! What a partnership fills in for its public accessibility statement and
//! privacy notice: who the data controller is, how to reach its data
//! protection officer, the lawful basis and how long results are kept; who
//! to contact about accessibility problems, the statement's compliance
//! status, the content it knows is not accessible and when it was prepared.
//!
//! Every text column starts empty (the pages then say the partnership has
//! not filled it in yet); the date starts unset. Going down drops them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{date_null, text};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The text columns added, each empty to begin with.
const TEXT_COLUMNS: [&str; 7] = [
    "controller_name",
    "dpo_contact",
    "lawful_basis",
    "retention",
    "accessibility_contact",
    "accessibility_status",
    "accessibility_issues",
];
const DATE_COLUMN: &str = "statement_prepared";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        for column in TEXT_COLUMNS {
            manager
                .alter_table(
                    Table::alter()
                        .table("cpp_setting")
                        .add_column(text(column).default(""))
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("cpp_setting")
                    .add_column(date_null(DATE_COLUMN))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for column in TEXT_COLUMNS.into_iter().chain([DATE_COLUMN]) {
            db.execute_unprepared(&format!(
                "ALTER TABLE \"cpp_setting\" DROP COLUMN \"{column}\""
            ))
            .await?;
        }
        Ok(())
    }
}
