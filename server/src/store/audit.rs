//! The audit log: who did what, and when. The server only ever inserts here;
//! nothing updates or deletes a row. Details never hold a code or an answer.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::audit_log;

pub use audit_log::Model as AuditEntry;

/// Appends one entry. `actor` is the staff member's e-mail, or "cli" or
/// "anonymous" (a failed login records the address typed, not the password).
pub async fn record(
    db: &impl ConnectionTrait,
    actor_id: Option<i32>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        at: Set(Utc::now()),
        actor_id: Set(actor_id),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// What to look for in the log; empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The newest `limit` entries that match, newest first.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &AuditFilter,
    limit: u64,
) -> Result<Vec<AuditEntry>, DbErr> {
    let mut query = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::Column::Actor.contains(actor.to_lowercase()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::Column::At.lt(to));
    }
    query
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The distinct actions recorded so far, for the filter's choices.
pub async fn actions(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Action)
        .distinct()
        .order_by_asc(audit_log::Column::Action)
        .into_tuple::<String>()
        .all(db)
        .await
}
