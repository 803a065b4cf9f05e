//! Partnerships, schools, partnership settings, staff accounts, the schools
//! import and the audit log.
//!
//! A coordinator reaches their own partnership's page and settings; the rest
//! is for administrators only.

mod audit_log;
mod import;
mod settings;
mod users;
mod waves;

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::sittings::SchoolView;
use super::{Result, Routes, Staff};
use crate::state::AppState;
use crate::store::schools;
use crate::store::staff as store;
use crate::web::error::AppError;

#[derive(Serialize)]
struct CppRow {
    id: i32,
    gss_code: String,
    name: String,
    schools: usize,
}

/// The administrator's start page: every partnership and where to go next.
pub(super) async fn overview(state: &AppState, staff: &Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    let all_schools = store::all_schools(&state.db).await?;
    let cpps: Vec<CppRow> = schools::all_cpps(&state.db)
        .await?
        .into_iter()
        .map(|c| CppRow {
            schools: all_schools.iter().filter(|s| s.cpp_id == c.id).count(),
            id: c.id,
            gss_code: c.gss_code,
            name: c.name,
        })
        .collect();
    staff.page("staff/admin.html", context! { cpps => Serde(cpps) })
}

pub(super) async fn cpp_for(state: &AppState, staff: &Staff, id: i32) -> Result<schools::Cpp> {
    let cpp = schools::cpp(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if staff.user.may_use_cpp(cpp.id) {
        Ok(cpp)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A partnership's schools.
async fn cpp_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let rows: Vec<SchoolView> = schools::schools_of_cpp(&state.db, cpp.id)
        .await?
        .iter()
        .map(SchoolView::from)
        .collect();
    staff.page(
        "staff/cpp.html",
        context! { cpp => context! { id => cpp.id, name => cpp.name, gss_code => cpp.gss_code }, schools => Serde(rows) },
    )
}

pub fn config(routes: &mut Routes<'_>) {
    routes.get("/cpps/{id}", cpp_page);
    settings::config(routes);
    import::config(routes);
    users::config(routes);
    waves::config(routes);
    audit_log::config(routes);
}
