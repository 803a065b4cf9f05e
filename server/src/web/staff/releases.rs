//! Releases: the stored, audited result files of each wave, which are all
//! that ever leaves the system about pupils. Coordinators and analysts of a
//! partnership see and download that partnership's releases; administrators
//! see every release, Scotland's among them, and make releases from a
//! wave's page. A download sends the stored bytes after checking them
//! against their SHA-256: nothing is computed for it.

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use super::{Result, Routes, Staff};
use crate::state::AppState;
use crate::store::{audit, schools};
use crate::web::error::AppError;

#[derive(Serialize)]
struct ReleaseView {
    id: i32,
    wave: String,
    unit: String,
    number: i32,
    released_by: String,
    released_at: String,
    files: Vec<exporter::release::FileInfo>,
}

async fn views(
    state: &AppState,
    releases: Vec<exporter::release::ReleaseInfo>,
) -> Result<Vec<ReleaseView>> {
    let waves = crate::services::waves::all(&state.db).await?;
    let cpps = schools::all_cpps(&state.db).await?;
    let mut views: Vec<ReleaseView> = releases
        .into_iter()
        .map(|r| ReleaseView {
            wave: waves
                .iter()
                .find(|w| w.id == r.wave_id)
                .map_or_else(|| format!("Wave {}", r.wave_id), |w| w.name.clone()),
            unit: match r.cpp_id {
                Some(id) => cpps
                    .iter()
                    .find(|c| c.id == id)
                    .map_or_else(|| r.unit.clone(), |c| c.name.clone()),
                None => "Scotland".to_owned(),
            },
            id: r.id,
            number: r.number,
            released_by: r.released_by,
            released_at: r.released_at.format("%-d %B %Y, %H:%M UTC").to_string(),
            files: r.files,
        })
        .collect();
    // Newest first: the release to use is the last of its wave.
    views.reverse();
    Ok(views)
}

/// A partnership whose results this person may see, or 404/403.
async fn cpp_for(state: &AppState, staff: &Staff, id: i32) -> Result<schools::Cpp> {
    let cpp = schools::cpp(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if staff.user.may_export_cpp(cpp.id) {
        Ok(cpp)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A partnership's releases, newest first.
async fn cpp_releases(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let releases = exporter::release::of_partnership(&state.db, cpp.id).await?;
    staff.page(
        "staff/releases.html",
        context! {
            trends => format!("/staff/cpps/{}/trends", cpp.id),
            scope_name => cpp.name,
            releases => Serde(views(&state, releases).await?),
        },
    )
}

/// A partnership's indicators and questions over its waves, from the
/// newest release of each wave.
async fn cpp_trends(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let trends = exporter::trends::for_partnership(&state.db, cpp.id)
        .await
        .map_err(AppError::internal)?;
    staff.page(
        "staff/trends.html",
        context! {
            cpp => context! { id => cpp.id, name => cpp.name },
            trends => Serde(trends),
        },
    )
}

/// Every release, Scotland's included (administrators).
async fn all_releases(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    let releases = exporter::release::list(&state.db, None).await?;
    staff.page(
        "staff/releases.html",
        context! {
            scope_name => "Every partnership and Scotland",
            releases => Serde(views(&state, releases).await?),
        },
    )
}

/// One stored file of a release, as stored.
async fn download(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i32, String)>,
) -> Result<HttpResponse> {
    let (id, name) = path.into_inner();
    let release = exporter::release::get(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let allowed = match release.cpp_id {
        Some(cpp) => staff.user.may_export_cpp(cpp),
        None => staff.user.is_admin(),
    };
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let Some(file) = release.files.iter().find(|f| f.name == name) else {
        return Err(AppError::NotFound);
    };
    let bytes = exporter::release::file(&state.db, id, &file.name)
        .await
        .map_err(AppError::internal)?;
    audit::record(
        &state.db,
        Some(staff.user.id),
        &staff.user.email,
        "download",
        &format!(
            "{} of release {} of {} (release id {id})",
            file.name, release.number, release.unit
        ),
    )
    .await?;
    let content_type = exporter::output::content_type(&file.name);
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("X-Content-SHA256", file.sha256.as_str()))
        // The plain name, as in the release: the label files and anyone
        // following the guide look for the files by these names.
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{}\"", file.name),
        ))
        .body(bytes))
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/cpps/{id}/releases", cpp_releases)
        .get("/cpps/{id}/trends", cpp_trends)
        .get("/releases", all_releases)
        .get_compressed("/releases/{id}/{file}", download);
}
