//! Staff sessions that can be ended, and sign-in delays kept in memory.
//!
//! - `staff_user.session_version`: a staff session names the version of its
//!   account it was started under, and the account's version goes up at
//!   sign-out, password reset, role change and deactivation, which ends every
//!   session of that account at once.
//! - `failed_logins` and `locked_until` go: an account is no longer locked in
//!   the database after failed sign-ins (which let anyone lock a colleague
//!   out). Failures now delay further attempts from the addresses that failed
//!   only, in each server's memory.
//!
//! Going down restores the two columns empty: no account locked.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, timestamp_with_time_zone_null};
use sea_orm_migration::sea_orm::ConnectionTrait;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(
                Table::alter()
                    .table("staff_user")
                    .add_column(integer("session_version").default(0))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("ALTER TABLE \"staff_user\" DROP COLUMN \"failed_logins\"")
            .await?;
        db.execute_unprepared("ALTER TABLE \"staff_user\" DROP COLUMN \"locked_until\"")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE \"staff_user\" DROP COLUMN \"session_version\"")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("staff_user")
                    .add_column(integer("failed_logins").default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("staff_user")
                    .add_column(timestamp_with_time_zone_null("locked_until"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
