//! A school's sittings: create one and print its code slips, add spare codes,
//! void a lost code, open a mop-up sitting, watch progress, close it.
//!
//! Codes are shown once, on the page that answers the form that made them,
//! with a CSV of the same codes embedded in that page; only their keyed
//! hashes are stored.

use std::str::FromStr;

use actix_web::{HttpResponse, get, post, web};
use minijinja::context;
use minijinja::value::Serde;
use qrcode::{EcLevel, QrCode};
use serde::{Deserialize, Serialize};
use survey_defs::Stage;

use super::{Result, Staff, redirect};
use crate::domain::AccessCode;
use crate::domain::CodeState;
use crate::services::questionnaires::Catalogue;
use crate::services::sittings::{self, MAX_CODES, SittingInput, SittingRequest, code_count};
use crate::state::AppState;
use crate::store::schools::{self, School};
use crate::store::sittings::{self as store, Sitting};
use crate::store::staff as staff_store;
use crate::web::dates::optional_date;
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};

/// Seconds between automatic updates of the progress page.
pub const REFRESH_SECONDS: u32 = 20;

const STAGES: [&str; 7] = ["P5", "P6", "P7", "S1", "S2", "S3", "S4"];

/// A school this person may use, or 404/403.
async fn school_for(state: &AppState, staff: &Staff, id: i32) -> Result<School> {
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
    finished: i64,
    partial: i64,
    /// Finished responses as a share of the roll, in whole percent.
    percent: Option<i64>,
}

fn rolls(school: &School) -> [i32; 7] {
    [
        school.roll_p5,
        school.roll_p6,
        school.roll_p7,
        school.roll_s1,
        school.roll_s2,
        school.roll_s3,
        school.roll_s4,
    ]
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
#[get("/schools/{id}")]
async fn school_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let counts = staff_store::responses_by_stage(&state.db, school.id).await?;
    let rates: Vec<StageRate> = STAGES
        .iter()
        .zip(rolls(&school))
        .map(|(stage, roll)| {
            let count = |partial: bool| {
                counts
                    .iter()
                    .filter(|(s, p, _)| s == stage && *p == partial)
                    .map(|(_, _, n)| *n)
                    .sum::<i64>()
            };
            let finished = count(false);
            StageRate {
                stage,
                roll,
                finished,
                partial: count(true),
                percent: (roll > 0).then(|| finished * 100 / i64::from(roll)),
            }
        })
        .filter(|rate| rate.roll > 0 || rate.finished > 0 || rate.partial > 0)
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
    staff.page(
        "staff/school.html",
        context! {
            school => Serde(&SchoolView::from(&school)),
            sittings => Serde(rows),
            rates => Serde(rates),
        },
    )
}

#[derive(Serialize)]
pub(super) struct SchoolView {
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
struct VersionChoice {
    id: i32,
    title: String,
}

fn versions(state: &AppState) -> Vec<VersionChoice> {
    let mut latest: Vec<i32> = state
        .catalogue
        .latest()
        .iter()
        .map(|e| e.version_id)
        .collect();
    latest.sort_unstable();
    let mut all: Vec<VersionChoice> = state
        .catalogue
        .entries()
        .map(|e| {
            let q = &e.questionnaire;
            VersionChoice {
                id: e.version_id,
                title: format!(
                    "{} (version {}{})",
                    q.title(q.default_locale()),
                    q.version(),
                    if latest.contains(&e.version_id) {
                        ", latest"
                    } else {
                        ""
                    }
                ),
            }
        })
        .collect();
    // Latest versions first, then older ones, newest first.
    all.sort_by_key(|v| (latest.binary_search(&v.id).is_err(), -v.id));
    all
}

#[derive(Deserialize, Serialize, Default)]
struct SittingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    codes: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
}

/// A number typed into a form, if it is one.
fn number(text: &str) -> Option<usize> {
    text.trim().parse().ok()
}

/// What the form says, read into typed values; whether they make a valid
/// sitting is the service's check ([`SittingRequest::parse`]).
impl From<&SittingForm> for SittingInput {
    fn from(form: &SittingForm) -> Self {
        SittingInput {
            stage: Stage::from_str(form.stage.trim()).ok(),
            label: form.label.clone(),
            codes: number(&form.codes),
            questionnaire_version_id: form.version.trim().parse().ok(),
            opens: optional_date(&form.opens),
            closes: optional_date(&form.closes),
        }
    }
}

impl SittingForm {
    /// The request this form makes, or every problem with it.
    fn parse(&self, catalogue: &Catalogue) -> std::result::Result<SittingRequest, Vec<FieldError>> {
        SittingRequest::parse(self.into(), catalogue)
            .map_err(|problems| problems.0.into_iter().map(FieldError::from).collect())
    }
}

fn new_sitting_page(
    state: &AppState,
    staff: &Staff,
    school: &School,
    form: &SittingForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse> {
    let status = form_errors::status(&errors);
    staff.page_with_status(
        status,
        "staff/sitting_new.html",
        context! {
            school => Serde(SchoolView::from(school)),
            form => Serde(form),
            errors => Serde(errors),
            stages => STAGES,
            versions => Serde(versions(state)),
            max_codes => MAX_CODES,
        },
    )
}

#[get("/schools/{id}/sittings/new")]
async fn new_sitting(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let form = SittingForm {
        codes: "30".into(),
        version: versions(&state)
            .first()
            .map(|v| v.id.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    new_sitting_page(&state, &staff, &school, &form, Vec::new())
}

/// Creates a sitting and shows its codes, once (see [`sittings::create`]).
#[post("/schools/{id}/sittings")]
async fn create_sitting(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<SittingForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let request = match form.parse(&state.catalogue) {
        Ok(request) => request,
        Err(errors) => return new_sitting_page(&state, &staff, &school, &form, errors),
    };
    let (sitting, codes) =
        sittings::create(&state.db, &state.secret, &staff.actor(), &school, request).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "new")
}

#[derive(Serialize)]
struct Slip {
    code: String,
    qr_svg: String,
}

/// The QR code for a slip: the code page's address with the code filled in,
/// as SVG (no inline styles, so it passes the content security policy).
fn qr_svg(url: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the image is embedded in a data: address.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// The CSV of a batch of codes: one row per code, with the class and no names.
fn codes_csv(sitting: &Sitting, school: &School, codes: &[AccessCode]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["code", "sitting", "stage", "label", "school"])
        .map_err(AppError::internal)?;
    let id = sitting.id.to_string();
    let stage = sitting.stage.0.to_string();
    for code in codes {
        writer
            .write_record([
                code.grouped().as_str(),
                id.as_str(),
                stage.as_str(),
                sitting.label.as_str(),
                school.name.as_str(),
            ])
            .map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// The one-time page of code slips, ready to print, with the CSV download.
fn slips_page(
    state: &AppState,
    staff: &Staff,
    sitting: &Sitting,
    school: &School,
    codes: &[AccessCode],
    kind: &str,
) -> Result<HttpResponse> {
    let base = state.settings.public_url();
    let slips = codes
        .iter()
        .map(|code| {
            Ok(Slip {
                code: code.grouped(),
                qr_svg: qr_svg(&format!("{base}/?code={}", code.grouped()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pages: Vec<&[Slip]> = slips.chunks(21).collect();
    staff.page(
        "staff/slips.html",
        context! {
            sitting => Serde(SittingView::from(sitting)),
            school => Serde(SchoolView::from(school)),
            pages => Serde(pages),
            count => codes.len(),
            address => base,
            csv => codes_csv(sitting, school, codes)?,
            kind => kind,
        },
    )
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

/// Counts of codes per state: the only view staff get of the pupils.
#[derive(Serialize, Default)]
struct Counts {
    unused: i64,
    started: i64,
    finished: i64,
    partial: i64,
    withdrawn: i64,
    declined: i64,
    voided: i64,
    total: i64,
}

async fn counts(state: &AppState, sitting_id: i32) -> Result<Counts> {
    let mut counts = Counts::default();
    for (name, n) in store::progress_counts(&state.db, sitting_id).await? {
        let slot = match name.0 {
            CodeState::Unused => &mut counts.unused,
            CodeState::Started => &mut counts.started,
            CodeState::Finished => &mut counts.finished,
            CodeState::Partial => &mut counts.partial,
            CodeState::Withdrawn => &mut counts.withdrawn,
            CodeState::Declined => &mut counts.declined,
            CodeState::Voided => &mut counts.voided,
        };
        *slot += n;
        counts.total += n;
    }
    Ok(counts)
}

#[derive(Deserialize)]
struct ProgressQuery {
    notice: Option<String>,
    auto: Option<String>,
}

/// Live progress: counts only, updated every [`REFRESH_SECONDS`] by a small
/// script, or (without JavaScript) by a refresh the person turns on.
#[get("/sittings/{id}")]
async fn progress(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<ProgressQuery>,
) -> Result<HttpResponse> {
    let (sitting, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let notice = match query.notice.as_deref() {
        Some("voided") => Some("The code has been voided: it can no longer be used."),
        Some("not-voided") => Some(
            "That code was not voided: it is not an unused code of this sitting. Check it and try again.",
        ),
        Some("closed") => Some("The sitting is closed. No code of this sitting works any more."),
        _ => None,
    };
    let mop_ups: Vec<SittingView> = store::of_school(&state.db, school.id)
        .await?
        .iter()
        .filter(|s| s.mop_up_of == Some(sitting.id))
        .map(SittingView::from)
        .collect();
    // `auto=1` is the refresh a person without JavaScript turned on; the
    // script's own reloads carry `auto=js`.
    let auto = query.auto.as_deref() == Some("1") && sitting.closed_at.is_none();
    staff.page(
        "staff/progress.html",
        context! {
            sitting => Serde(SittingView::from(&sitting)),
            school => Serde(SchoolView::from(&school)),
            counts => Serde(counts(&state, sitting.id).await?),
            notice => notice,
            mop_ups => Serde(mop_ups),
            refresh_seconds => REFRESH_SECONDS,
            meta_refresh => auto.then_some(REFRESH_SECONDS),
            max_codes => MAX_CODES,
        },
    )
}

#[derive(Deserialize)]
struct CountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    codes: String,
}

/// Adds spare codes to an open sitting and shows them, once.
#[post("/sittings/{id}/spares")]
async fn spares(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let count = code_count(number(&form.codes)).map_err(|p| AppError::BadRequest(p.message))?;
    let codes =
        sittings::add_spares(&state.db, &state.secret, &staff.actor(), &sitting, count).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "spares")
}

#[derive(Deserialize)]
struct VoidForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// Voids a lost code, typed in from the slip list. The audit log records that
/// a code was voided, never which.
#[post("/sittings/{id}/void")]
async fn void(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, _) = sitting_for(&state, &staff, path.into_inner()).await?;
    let voided = match AccessCode::parse(&form.code) {
        Ok(code) => {
            sittings::void_code(&state.db, &state.secret, &staff.actor(), &sitting, &code).await?
        }
        Err(_) => false,
    };
    let notice = if voided { "voided" } else { "not-voided" };
    Ok(redirect(&format!(
        "/staff/sittings/{}?notice={notice}",
        sitting.id
    )))
}

/// Opens a mop-up sitting for pupils who were absent: a new sitting with its
/// own codes, linked to this one, with the same stage, questionnaire, module
/// switches and signposting.
#[post("/sittings/{id}/mop-up")]
async fn mop_up(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (original, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let count = code_count(number(&form.codes)).map_err(|p| AppError::BadRequest(p.message))?;
    let (sitting, codes) =
        sittings::mop_up(&state.db, &state.secret, &staff.actor(), &original, count).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "mop-up")
}

/// Closes a sitting: no code works any more; answers in progress are kept as
/// partial responses, cut off from their codes.
#[post("/sittings/{id}/close")]
async fn close(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, _) = sitting_for(&state, &staff, path.into_inner()).await?;
    sittings::close(state.closer(), &staff.actor(), sitting.id).await?;
    Ok(redirect(&format!(
        "/staff/sittings/{}?notice=closed",
        sitting.id
    )))
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(school_page)
        .service(new_sitting)
        .service(create_sitting)
        .service(progress)
        .service(spares)
        .service(void)
        .service(mop_up)
        .service(close);
}
