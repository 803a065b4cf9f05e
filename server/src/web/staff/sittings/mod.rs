//! A school's sittings: create one and print its code slips, add spare codes,
//! void a lost code, open a mop-up sitting, watch progress, close it.
//!
//! Codes are shown once, on the page that answers the form that made them,
//! with a CSV of the same codes embedded in that page; only their keyed
//! hashes are stored.

mod actions;
mod new;
mod progress;
mod slips;

use std::str::FromStr;

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use qrcode::{EcLevel, QrCode};
use serde::{Deserialize, Serialize};
use survey_defs::Stage;

use super::{Result, Routes, Staff, redirect};
use crate::domain::AccessCode;
use crate::domain::CodeState;
use crate::services::sittings::{self, MAX_CODES, SittingInput, SittingRequest, code_count};
use crate::services::waves;
use crate::state::AppState;
use crate::store::Text;
use crate::store::schools::{self, School};
use crate::store::sittings::{self as store, Sitting};
use crate::store::staff as staff_store;
use crate::web::dates::optional_date;
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};
use slips::slips_page;

/// Seconds between automatic updates of the progress page.
pub const REFRESH_SECONDS: u32 = 20;

const STAGES: [&str; 7] = ["P5", "P6", "P7", "S1", "S2", "S3", "S4"];

/// A school this person may use, or 404/403.
pub(super) async fn school_for(state: &AppState, staff: &Staff, id: i32) -> Result<School> {
    let school = schools::school(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if staff.user.may_use_school(&school) {
        Ok(school)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A sitting at a school this person may use, with that school.
async fn sitting_for(state: &AppState, staff: &Staff, id: i32) -> Result<(Sitting, School)> {
    let sitting = store::get(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let school = school_for(state, staff, sitting.school_id).await?;
    Ok((sitting, school))
}

#[derive(Serialize)]
struct StageRate {
    stage: &'static str,
    roll: i32,
    /// Pupils their parents opted out, over the stage's sittings.
    opted_out: i64,
    finished: i64,
    partial: i64,
    /// Finished responses as a share of the pupils who could take part
    /// (the roll less those opted out), in whole percent.
    percent: Option<i64>,
}

/// Finished responses as a share of the roll less the pupils opted out, in
/// whole percent rounded down; none when nobody is left to take part.
fn rate_percent(finished: i64, roll: i32, opted_out: i64) -> Option<i64> {
    let eligible = i64::from(roll) - opted_out;
    (eligible > 0).then(|| finished * 100 / eligible)
}

/// A school's rate per stage in one wave (`None`: responses from before
/// waves), from its responses by (wave, stage, partial) and the pupils
/// opted out by (wave, stage); stages with no roll and nothing counted are
/// left out.
fn stage_rates(
    wave: Option<i32>,
    rolls: [i32; 7],
    counts: &[(Option<i32>, String, bool, i64)],
    opted_out: &[(i32, Text<Stage>, i64)],
) -> Vec<StageRate> {
    STAGES
        .iter()
        .zip(rolls)
        .map(|(stage, roll)| {
            let opted_out: i64 = opted_out
                .iter()
                .filter(|(w, s, _)| Some(*w) == wave && s.0.as_str() == *stage)
                .map(|(_, _, n)| *n)
                .sum();
            let count = |partial: bool| {
                counts
                    .iter()
                    .filter(|(w, s, p, _)| *w == wave && s == stage && *p == partial)
                    .map(|(.., n)| *n)
                    .sum::<i64>()
            };
            let finished = count(false);
            StageRate {
                stage,
                roll,
                opted_out,
                finished,
                partial: count(true),
                percent: rate_percent(finished, roll, opted_out),
            }
        })
        .filter(|rate| rate.roll > 0 || rate.opted_out > 0 || rate.finished > 0 || rate.partial > 0)
        .collect()
}

/// The response rates of one wave at a school.
#[derive(Serialize)]
struct WaveRates {
    name: String,
    rates: Vec<StageRate>,
}

#[derive(Serialize)]
struct SittingRow {
    id: i32,
    label: String,
    stage: String,
    created: String,
    closed: bool,
    mop_up_of: Option<i32>,
}

/// The school's page: its sittings and its response rate per stage.
async fn school_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let counts = staff_store::responses_by_stage(&state.db, school.id).await?;
    let opted_out = store::opted_out_by_stage(&state.db, school.id).await?;
    // One table per wave the school has sittings or responses in, newest
    // first: a rate over several waves would count some pupils twice.
    let mut in_waves: Vec<Option<i32>> = opted_out
        .iter()
        .map(|(w, _, _)| Some(*w))
        .chain(counts.iter().map(|(w, ..)| *w))
        .collect();
    in_waves.sort_unstable_by(|a, b| b.cmp(a));
    in_waves.dedup();
    let all_waves = waves::all(&state.db).await?;
    let rolls = schools::rolls_of(&school);
    let wave_rates: Vec<WaveRates> = in_waves
        .into_iter()
        .map(|wave| WaveRates {
            name: wave
                .and_then(|id| all_waves.iter().find(|w| w.id == id))
                .map_or_else(|| "Before waves".to_owned(), |w| w.name.clone()),
            rates: stage_rates(wave, rolls, &counts, &opted_out),
        })
        .collect();
    let rows: Vec<SittingRow> = store::of_school(&state.db, school.id)
        .await?
        .into_iter()
        .map(|s| SittingRow {
            id: s.id,
            label: s.label,
            stage: s.stage.0.to_string(),
            created: s.created_at.format("%d %b %Y").to_string(),
            closed: s.closed_at.is_some(),
            mop_up_of: s.mop_up_of,
        })
        .collect();
    let reports = school_reports(&state, &school).await?;
    let letters: Vec<WaveLink> = super::questionnaire::waves_of(&state, &school)
        .await?
        .into_iter()
        .map(|(wave, window)| WaveLink {
            id: wave.id,
            name: wave.name,
            opens: window.opens.format("%-d %B %Y").to_string(),
        })
        .collect();
    staff.page(
        "staff/school.html",
        context! {
            school => Serde(&SchoolView::from(&school)),
            letters => Serde(letters),
            sittings => Serde(rows),
            waves => Serde(wave_rates),
            reports => Serde(reports),
        },
    )
}

/// A wave the school can be surveyed in, for its letter to parents.
#[derive(Serialize)]
struct WaveLink {
    id: i32,
    name: String,
    opens: String,
}

#[derive(Serialize)]
struct ReportLink {
    release: i32,
    wave: String,
    number: i32,
    released: String,
}

/// The school's reports in its partnership's releases, newest first.
async fn school_reports(state: &AppState, school: &School) -> Result<Vec<ReportLink>> {
    let name = exporter::school_report::file_name(&school.seed_code);
    let waves = waves::all(&state.db).await?;
    let mut links: Vec<ReportLink> = exporter::release::of_partnership(&state.db, school.cpp_id)
        .await?
        .into_iter()
        .filter(|r| r.files.iter().any(|f| f.name == name))
        .map(|r| ReportLink {
            release: r.id,
            wave: waves
                .iter()
                .find(|w| w.id == r.wave_id)
                .map_or_else(|| format!("Wave {}", r.wave_id), |w| w.name.clone()),
            number: r.number,
            released: r.released_at.format("%-d %B %Y").to_string(),
        })
        .collect();
    links.reverse();
    Ok(links)
}

/// The school's report from one release of its partnership, as stored.
async fn school_report(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse> {
    let (school_id, release_id) = path.into_inner();
    let school = school_for(&state, &staff, school_id).await?;
    let release = exporter::release::get(&state.db, release_id)
        .await?
        .filter(|r| r.cpp_id == Some(school.cpp_id))
        .ok_or(AppError::NotFound)?;
    let name = exporter::school_report::file_name(&school.seed_code);
    if !release.files.iter().any(|f| f.name == name) {
        return Err(AppError::NotFound);
    }
    let bytes = exporter::release::file(&state.db, release.id, &name)
        .await
        .map_err(AppError::internal)?;
    crate::store::audit::record(
        &state.db,
        Some(staff.user.id),
        &staff.user.email,
        "download",
        &format!(
            "{name} of release {} of {} (release id {})",
            release.number, release.unit, release.id
        ),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        ))
        .body(bytes))
}

#[derive(Serialize)]
pub(in crate::web::staff) struct SchoolView {
    id: i32,
    cpp_id: i32,
    name: String,
    seed_code: String,
    sector: String,
}

impl From<&School> for SchoolView {
    fn from(s: &School) -> Self {
        Self {
            id: s.id,
            cpp_id: s.cpp_id,
            name: s.name.clone(),
            seed_code: s.seed_code.clone(),
            sector: s.sector.clone(),
        }
    }
}

#[derive(Serialize)]
struct SittingView {
    id: i32,
    school_id: i32,
    stage: String,
    label: String,
    closed: bool,
    mop_up_of: Option<i32>,
    opens: Option<String>,
    closes: Option<String>,
}

impl From<&Sitting> for SittingView {
    fn from(s: &Sitting) -> Self {
        Self {
            id: s.id,
            school_id: s.school_id,
            stage: s.stage.0.to_string(),
            label: s.label.clone(),
            closed: s.closed_at.is_some(),
            mop_up_of: s.mop_up_of,
            opens: s.opens_at.map(|t| t.format("%d %b %Y").to_string()),
            closes: s.closes_at.map(|t| {
                (t - chrono::Duration::seconds(1))
                    .format("%d %b %Y")
                    .to_string()
            }),
        }
    }
}

/// A number typed into a form, if it is one.
fn number(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/schools/{id}", school_page)
        .get("/schools/{id}/results/{release}", school_report);
    new::config(routes);
    progress::config(routes);
    actions::config(routes);
}

#[cfg(test)]
mod tests {
    use super::rate_percent;

    #[test]
    fn the_rate_takes_pupils_opted_out_off_the_roll() {
        assert_eq!(rate_percent(20, 30, 0), Some(66));
        assert_eq!(rate_percent(20, 30, 5), Some(80));
        assert_eq!(rate_percent(25, 30, 5), Some(100));
        assert_eq!(rate_percent(0, 30, 30), None);
        assert_eq!(rate_percent(3, 0, 0), None);
    }
}
