//! Survey waves: the list, making one, renaming it, and each partnership's
//! fieldwork window in it. Administrators only.

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::super::{Result, Routes, Staff, redirect};
use crate::services::waves::{self, NewWave, Wave, WaveError};
use crate::state::AppState;
use crate::store::schools;
use crate::web::dates::optional_date;
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};

#[derive(Serialize)]
struct WaveRow {
    id: i32,
    name: String,
    questionnaire: String,
    threshold: u64,
    windows: usize,
}

#[derive(Serialize)]
struct VersionChoice {
    id: i32,
    title: String,
}

#[derive(Deserialize, Serialize, Default)]
struct WaveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    threshold: String,
}

fn questionnaire_name(state: &AppState, version_id: i32) -> String {
    state.catalogue.get(version_id).map_or_else(
        || format!("questionnaire version {version_id} (not loaded)"),
        |entry| {
            let q = &entry.questionnaire;
            format!("{} (version {})", q.title(q.default_locale()), q.version())
        },
    )
}

fn wave_error(error: WaveError) -> Result<FieldError> {
    match error {
        WaveError::Invalid { field, message } => Ok(FieldError::new(field, message)),
        WaveError::Database(error) => Err(error.into()),
    }
}

async fn waves_page(
    state: &AppState,
    staff: &Staff,
    form: &WaveForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse> {
    let mut rows = Vec::new();
    for wave in waves::all(&state.db).await? {
        rows.push(WaveRow {
            windows: waves::windows(&state.db, wave.id).await?.len(),
            questionnaire: questionnaire_name(state, wave.questionnaire_version_id),
            threshold: wave.rule.threshold,
            id: wave.id,
            name: wave.name,
        });
    }
    let versions: Vec<VersionChoice> = state
        .catalogue
        .latest()
        .into_iter()
        .map(|entry| VersionChoice {
            id: entry.version_id,
            title: questionnaire_name(state, entry.version_id),
        })
        .collect();
    staff.page_with_status(
        form_errors::status(&errors),
        "staff/waves.html",
        context! {
            waves => Serde(rows),
            versions => Serde(versions),
            form => Serde(form),
            errors => Serde(errors),
        },
    )
}

async fn waves_list(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    let form = WaveForm {
        threshold: exporter::Rule::default().threshold.to_string(),
        version: state
            .catalogue
            .latest()
            .first()
            .map(|e| e.version_id.to_string())
            .unwrap_or_default(),
        ..WaveForm::default()
    };
    waves_page(&state, &staff, &form, Vec::new()).await
}

/// Makes a wave; its questionnaire version and threshold are fixed from now.
async fn create_wave(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<WaveForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let mut errors = Vec::new();
    let version = form.version.trim().parse::<i32>().ok();
    if version.is_none() {
        errors.push(FieldError::new("version", "Select a questionnaire"));
    }
    let threshold = form.threshold.trim().parse::<u64>().ok();
    if threshold.is_none() {
        errors.push(FieldError::new(
            "threshold",
            "Enter the threshold as a whole number, such as 10",
        ));
    }
    let (Some(version), Some(threshold)) = (version, threshold) else {
        return waves_page(&state, &staff, &form, errors).await;
    };
    let made = waves::create(
        &state.db,
        &state.catalogue,
        &staff.actor(),
        NewWave {
            name: form.name.clone(),
            questionnaire_version_id: version,
            threshold,
            is_demo: false,
        },
    )
    .await;
    match made {
        Ok(wave) => Ok(redirect(&format!("/staff/admin/waves/{}", wave.id))),
        Err(error) => {
            let error = wave_error(error)?;
            waves_page(&state, &staff, &form, vec![error]).await
        }
    }
}

#[derive(Serialize)]
struct WindowRow {
    cpp_id: i32,
    cpp: String,
    opens: String,
    closes: String,
    /// The newest release's number and id, if any.
    released: Option<(i32, i32)>,
}

#[derive(Deserialize, Serialize, Default)]
struct ReleaseForm {
    #[serde(default)]
    csrf: String,
    /// A partnership's id, or "scotland".
    #[serde(default)]
    unit: String,
}

#[derive(Deserialize, Serialize, Default)]
struct WindowForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    cpp: String,
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
}

#[derive(Deserialize, Serialize, Default)]
struct RenameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn wave_for(state: &AppState, staff: &Staff, id: i32) -> Result<Wave> {
    staff.require_admin()?;
    waves::get(&state.db, id).await?.ok_or(AppError::NotFound)
}

/// A wave's page: what is fixed, its name, and every partnership's window.
async fn wave_page(
    state: &AppState,
    staff: &Staff,
    wave: &Wave,
    window_form: &WindowForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse> {
    let windows = waves::windows(&state.db, wave.id).await?;
    let releases = exporter::release::list(&state.db, Some(wave.id)).await?;
    let newest = |cpp: Option<i32>| {
        releases
            .iter()
            .filter(|r| r.cpp_id == cpp)
            .max_by_key(|r| r.number)
            .map(|r| (r.number, r.id))
    };
    let rows: Vec<WindowRow> = schools::all_cpps(&state.db)
        .await?
        .into_iter()
        .map(|cpp| {
            let window = windows.iter().find(|w| w.cpp_id == cpp.id);
            WindowRow {
                released: newest(Some(cpp.id)),
                cpp_id: cpp.id,
                cpp: cpp.name,
                opens: window.map_or(String::new(), |w| w.opens.to_string()),
                closes: window.map_or(String::new(), |w| w.closes.to_string()),
            }
        })
        .collect();
    staff.page_with_status(
        form_errors::status(&errors),
        "staff/wave.html",
        context! {
            wave => context! {
                id => wave.id,
                name => &wave.name,
                questionnaire => questionnaire_name(state, wave.questionnaire_version_id),
                threshold => wave.rule.threshold,
            },
            windows => Serde(rows),
            scotland => Serde(newest(None)),
            form => Serde(window_form),
            errors => Serde(errors),
        },
    )
}

async fn wave_view(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let wave = wave_for(&state, &staff, path.into_inner()).await?;
    wave_page(&state, &staff, &wave, &WindowForm::default(), Vec::new()).await
}

async fn rename_wave(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<RenameForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let wave = wave_for(&state, &staff, path.into_inner()).await?;
    match waves::rename(&state.db, &staff.actor(), &wave, &form.name).await {
        Ok(()) => Ok(redirect(&format!("/staff/admin/waves/{}", wave.id))),
        Err(error) => {
            let error = wave_error(error)?;
            wave_page(&state, &staff, &wave, &WindowForm::default(), vec![error]).await
        }
    }
}

/// Sets one partnership's fieldwork window in the wave.
async fn set_window(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<WindowForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let wave = wave_for(&state, &staff, path.into_inner()).await?;
    let mut errors = Vec::new();
    let cpp = match form.cpp.trim().parse::<i32>() {
        Ok(id) => schools::cpp(&state.db, id).await?,
        Err(_) => None,
    };
    if cpp.is_none() {
        errors.push(FieldError::new("cpp", "Select a partnership"));
    }
    let day = |text: &str| optional_date(text).ok().flatten();
    let (opens, closes) = (day(&form.opens), day(&form.closes));
    if opens.is_none() {
        errors.push(FieldError::new(
            "opens",
            "Enter the first day of fieldwork as a date",
        ));
    }
    if closes.is_none() {
        errors.push(FieldError::new(
            "closes",
            "Enter the last day of fieldwork as a date",
        ));
    }
    let (Some(cpp), Some(opens), Some(closes)) = (cpp, opens, closes) else {
        return wave_page(&state, &staff, &wave, &form, errors).await;
    };
    match waves::set_window(&state.db, &staff.actor(), &wave, cpp.id, opens, closes).await {
        Ok(_) => Ok(redirect(&format!("/staff/admin/waves/{}", wave.id))),
        Err(error) => {
            let error = wave_error(error)?;
            wave_page(&state, &staff, &wave, &form, vec![error]).await
        }
    }
}

/// Makes a release of the wave for one partnership or Scotland. Refusals
/// (fieldwork not over, nothing changed, ...) come back as a message on the
/// wave's page; nothing is stored then.
async fn make_release(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<ReleaseForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let wave = wave_for(&state, &staff, path.into_inner()).await?;
    let refuse = |message: String| FieldError::new("unit", message);
    let unit = match form.unit.trim() {
        "scotland" => Some(exporter::release::Unit::Scotland),
        id => match id.parse::<i32>() {
            Ok(id) => schools::cpp(&state.db, id)
                .await?
                .map(|cpp| exporter::release::Unit::Partnership(cpp.id)),
            Err(_) => None,
        },
    };
    let Some(unit) = unit else {
        let error = refuse("Select a partnership, or Scotland".into());
        return wave_page(&state, &staff, &wave, &WindowForm::default(), vec![error]).await;
    };
    let entry = state
        .catalogue
        .get(wave.questionnaire_version_id)
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "the wave's questionnaire version is not loaded"
            ))
        })?;
    // One release or export at a time per server: it takes every core.
    let Ok(_computing) = state.exports.try_acquire() else {
        return Err(AppError::Busy(
            "Another release is being prepared on this server. Please try again in a minute.",
        ));
    };
    let request = exporter::release::ReleaseRequest {
        wave_id: wave.id,
        unit,
        questionnaire: entry.questionnaire.clone(),
        by: exporter::release::Releaser {
            staff_id: Some(staff.user.id),
            name: staff.user.email.clone(),
        },
        today: chrono::Utc::now().date_naive(),
    };
    match exporter::release::make(&state.db, &request, &|_| {}).await {
        Ok(_) => Ok(redirect(&format!(
            "/staff/admin/waves/{}#releases",
            wave.id
        ))),
        Err(exporter::release::ReleaseError::Database(error)) => Err(error.into()),
        Err(error @ exporter::release::ReleaseError::Export(_))
        | Err(error @ exporter::release::ReleaseError::Output(_)) => Err(AppError::internal(error)),
        Err(error) => {
            let error = refuse(format!("Not released: {error}."));
            wave_page(&state, &staff, &wave, &WindowForm::default(), vec![error]).await
        }
    }
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/admin/waves", waves_list)
        .post("/admin/waves", create_wave)
        .get("/admin/waves/{id}", wave_view)
        .post("/admin/waves/{id}", rename_wave)
        .post("/admin/waves/{id}/windows", set_window)
        .post("/admin/waves/{id}/releases", make_release);
}
