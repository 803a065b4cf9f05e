//! The audit log page.

use actix_web::{HttpResponse, web};
use chrono::{Duration, NaiveDate};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::super::{Result, Routes, Staff};
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};

#[derive(Deserialize, Serialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

/// The audit log, newest first, filtered by who, what and when.
async fn audit_log(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    let day = |text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    };
    let filter = AuditFilter {
        actor: Some(query.actor.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(query.action.trim().to_owned()).filter(|s| !s.is_empty()),
        from: day(&query.from),
        to: day(&query.to).map(|d| d + Duration::days(1)),
    };
    let rows: Vec<AuditRow> = audit::search(&state.db, &filter, 500)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    staff.page(
        "staff/audit.html",
        context! {
            entries => Serde(rows),
            actions => audit::actions(&state.db).await?,
            query => Serde(&*query),
        },
    )
}

pub fn config(routes: &mut Routes<'_>) {
    routes.get("/admin/audit", audit_log);
}
