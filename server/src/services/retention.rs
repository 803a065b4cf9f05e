//! Data retention: completed responses are kept for a set period and then
//! deleted, with an entry in the audit log saying how many and up to when.
//!
//! Completed responses are stored with the day only, so "older than N days"
//! means "completed on a day more than N days before today".

use super::Actor;
use crate::store::Error as DbErr;
use chrono::{Days, NaiveDate, Utc};

use crate::store::{self, Db};

/// What a retention run did (or, on a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Responses completed before this day are gone.
    pub cutoff: NaiveDate,
    pub deleted: u64,
}

/// The first day whose responses are kept: today minus `older_than_days`.
pub fn cutoff(today: NaiveDate, older_than_days: u32) -> NaiveDate {
    today
        .checked_sub_days(Days::new(u64::from(older_than_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// Deletes completed responses older than `older_than_days` and records the
/// deletion in the audit log, in one transaction. With `dry_run`, only counts.
pub async fn purge(
    db: &Db,
    older_than_days: u32,
    actor: &Actor,
    dry_run: bool,
) -> Result<Purged, DbErr> {
    let cutoff = cutoff(Utc::now().date_naive(), older_than_days);
    if dry_run {
        let deleted = store::retention::count_completed_before(db, cutoff).await?;
        return Ok(Purged { cutoff, deleted });
    }
    let txn = store::begin(db).await?;
    let deleted = store::retention::delete_completed_before(&txn, cutoff).await?;
    actor
        .record(
            &txn,
            "retention.delete",
            &format!(
                "deleted {deleted} completed responses completed before {cutoff} \
             (retention period {older_than_days} days)"
            ),
        )
        .await?;
    txn.commit().await?;
    if deleted > 0 {
        // The deleted rows are overwritten already (SQLite's secure_delete);
        // this also returns their space, and on PostgreSQL removes the dead
        // rows from the table's pages.
        if let Err(error) = store::retention::vacuum(db).await {
            tracing::warn!(%error, "the responses were deleted, but vacuuming the database failed; run the command again when the database is quieter");
        }
    }
    Ok(Purged { cutoff, deleted })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_keeps_exactly_the_period() {
        let today = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap_or(NaiveDate::MIN);
        assert_eq!(
            cutoff(today, 365),
            NaiveDate::from_ymd_opt(2024, 3, 1).unwrap_or(NaiveDate::MIN)
        );
        assert_eq!(cutoff(today, 0), today);
        assert_eq!(cutoff(today, u32::MAX), NaiveDate::MIN);
    }
}
