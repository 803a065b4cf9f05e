//! Analysts' downloads: aggregated, suppressed and audited tables for one
//! partnership (its coordinators and analysts), or for every
//! partnership and Scotland (administrators, as national analysts). These
//! files are all that ever leaves the system about pupils.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Result, Routes, Staff};
use crate::state::AppState;
use crate::store::{audit, schools};
use crate::web::error::{AppError, error_page};

#[derive(Serialize)]
struct VersionView {
    id: i32,
    title: String,
    version: u32,
    hash: String,
}

fn versions(state: &AppState) -> Vec<VersionView> {
    state
        .catalogue
        .entries()
        .map(|entry| {
            let q = &entry.questionnaire;
            VersionView {
                id: entry.version_id,
                title: q.title(q.default_locale()).to_owned(),
                version: q.version(),
                hash: q.content_hash()[..12].to_owned(),
            }
        })
        .collect()
}

/// The export page of one partnership: a link per file per questionnaire version.
async fn cpp_exports(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let cpp = schools::cpp(&state.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    if !staff.user.may_export_cpp(cpp.id) {
        return Err(AppError::Forbidden);
    }
    staff.page(
        "staff/exports.html",
        context! {
            scope_name => cpp.name,
            base => format!("/staff/cpps/{}/export", cpp.id),
            versions => Serde(versions(&state)),
            files => Serde(exporter::output::FILES),
            threshold => exporter::Rule::default().threshold,
        },
    )
}

/// The national export page (administrators only).
async fn national_exports(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse> {
    if !staff.user.is_admin() {
        return Err(AppError::Forbidden);
    }
    staff.page(
        "staff/exports.html",
        context! {
            scope_name => "Scotland: every partnership",
            base => "/staff/export",
            versions => Serde(versions(&state)),
            files => Serde(exporter::output::FILES),
            threshold => exporter::Rule::default().threshold,
        },
    )
}

async fn cpp_download(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i32, i32, String)>,
) -> Result<HttpResponse> {
    let (cpp_id, version_id, file) = path.into_inner();
    let cpp = schools::cpp(&state.db, cpp_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !staff.user.may_export_cpp(cpp.id) {
        return Err(AppError::Forbidden);
    }
    download(
        &state,
        &staff,
        exporter::Scope::Cpps(vec![cpp.id]),
        &cpp.gss_code,
        version_id,
        &file,
    )
    .await
}

async fn national_download(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i32, String)>,
) -> Result<HttpResponse> {
    if !staff.user.is_admin() {
        return Err(AppError::Forbidden);
    }
    let (version_id, file) = path.into_inner();
    download(
        &state,
        &staff,
        exporter::Scope::National,
        "scotland",
        version_id,
        &file,
    )
    .await
}

/// Builds the export and sends one of its files. The whole export is
/// suppressed and audited before any byte is sent; an audit failure sends
/// nothing but a plain error. Exports are computed one at a time per
/// server, on threads of their own (never those serving pupils); while one
/// is computed, another is answered 503 with `Retry-After`.
async fn download(
    state: &AppState,
    staff: &Staff,
    scope: exporter::Scope,
    scope_code: &str,
    version_id: i32,
    file: &str,
) -> Result<HttpResponse> {
    let Some(name) = exporter::output::FILES.iter().find(|f| **f == file) else {
        return Err(AppError::NotFound);
    };
    let entry = state.catalogue.get(version_id).ok_or(AppError::NotFound)?;
    // One export at a time: a second asks to try again rather than queueing
    // behind the first with every core taken.
    let Ok(_computing) = state.exports.try_acquire() else {
        return Err(AppError::Busy(
            "Another export is being prepared on this server. Please try again in a minute.",
        ));
    };
    let request = exporter::ExportRequest {
        version_id,
        questionnaire: entry.questionnaire.clone(),
        scope,
        rule: exporter::Rule::default(),
    };
    let export = match exporter::export(&state.db, &request).await {
        Ok(export) => export,
        Err(exporter::ExportError::NoData) => {
            return Ok(error_page(
                StatusCode::NOT_FOUND,
                "There are no responses to this questionnaire for this partnership yet.",
            ));
        }
        Err(exporter::ExportError::UnknownCpp(_)) => return Err(AppError::NotFound),
        Err(exporter::ExportError::Disclosure(error)) => {
            tracing::error!(%error, "an export failed its disclosure audit; nothing was sent");
            return Ok(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "This export failed its disclosure check, so nothing was released. Please report it.",
            ));
        }
        Err(exporter::ExportError::Database(error)) => return Err(error.into()),
        Err(error @ exporter::ExportError::Offload(_)) => return Err(AppError::internal(error)),
    };
    // A national frequency table runs to a hundred megabytes of CSV: render it
    // on the blocking pool, not on the thread serving pupils' pages.
    let (bytes, export) = {
        let name = name.to_owned();
        web::block(move || (export.file(name), export))
            .await
            .map_err(AppError::internal)?
    };
    let bytes = bytes.map_err(AppError::internal)?;
    audit::record(
        &state.db,
        Some(staff.user.id),
        &staff.user.email,
        "export",
        &format!(
            "{scope_code}: {name} of questionnaire version {version_id} ({} responses)",
            export.responses()
        ),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type(exporter::output::content_type(name))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{scope_code}-v{version_id}-{name}\""),
        ))
        .body(bytes))
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/cpps/{id}/export", cpp_exports)
        .get("/export", national_exports)
        .get_compressed("/cpps/{id}/export/{version}/{file}", cpp_download)
        .get_compressed("/export/{version}/{file}", national_download);
}
