//! The database schema, as sea-orm migrations that run unchanged on SQLite and
//! PostgreSQL.
//!
//! One file per change; a migration that has shipped is never edited. The
//! migrations name tables and columns by string and never import entity types,
//! so the schema history stays fixed however the server's entities evolve.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261129_000001_page_save_clustered;
mod m20261201_000001_unlinkable_completion;
mod m20261201_000002_staff_sessions;
mod m20261201_000003_waves;
mod m20261201_000010_partnership_notices;
mod m20261201_000011_fieldwork_in_waves;
mod m20261202_000001_releases;
mod m20261202_000010_partnership_languages;
mod m20261202_000020_sitting_opted_out;
mod m20261202_000030_progress_version;

/// Every migration, in the order it is applied.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261129_000001_page_save_clustered::Migration),
            Box::new(m20261201_000001_unlinkable_completion::Migration),
            Box::new(m20261201_000002_staff_sessions::Migration),
            Box::new(m20261201_000003_waves::Migration),
            Box::new(m20261201_000010_partnership_notices::Migration),
            Box::new(m20261201_000011_fieldwork_in_waves::Migration),
            Box::new(m20261202_000001_releases::Migration),
            Box::new(m20261202_000010_partnership_languages::Migration),
            Box::new(m20261202_000020_sitting_opted_out::Migration),
            Box::new(m20261202_000030_progress_version::Migration),
        ]
    }
}
