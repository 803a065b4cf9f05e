//! What a school's pupils will be asked, for staff to look at before a
//! sitting: the wave's questionnaire for one stage as the partnership has
//! it (its switched-off modules removed), page by page in the pupils' own
//! look with Next and Back that save nothing, and the same on one printable
//! page with every option, help text and routing note, for staff, parents
//! and ethics committees.
//!
//! Nothing here touches a code, a sitting or a response: the pages are
//! drawn from the questionnaire and the partnership's settings alone, and
//! the preview's form is a GET back to the preview.

use std::str::FromStr;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use survey_defs::{Locale, ModuleId, ModuleSwitches, Plan, QuestionKind, Questionnaire, Stage};

use super::sittings::{SchoolView, school_for};
use super::{Result, Routes, Staff};
use crate::services::partnerships;
use crate::services::waves::{self, Wave, Window};
use crate::state::AppState;
use crate::store::schools::{self, Cpp, School};
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};
use crate::web::pupil::preview as pupil_preview;

/// A wave a school can be surveyed in: one with a fieldwork window for its
/// partnership, with that window.
pub(super) async fn waves_of(state: &AppState, school: &School) -> Result<Vec<(Wave, Window)>> {
    let mut found = Vec::new();
    for wave in waves::all(&state.db).await? {
        if let Some(window) = waves::window(&state.db, wave.id, school.cpp_id).await? {
            found.push((wave, window));
        }
    }
    Ok(found)
}

/// Everything about a wave that the letter and the previews draw on, for
/// one school.
pub(super) struct Survey {
    pub school: School,
    pub cpp: Cpp,
    pub wave: Wave,
    pub window: Window,
    pub questionnaire: Arc<Questionnaire>,
    pub switches: ModuleSwitches,
}

/// The wave `wave_id` as the school's partnership runs it, or not found
/// when it has no fieldwork window there.
pub(super) async fn survey_of(state: &AppState, school: School, wave_id: i32) -> Result<Survey> {
    let wave = waves::get(&state.db, wave_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let window = waves::window(&state.db, wave.id, school.cpp_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let cpp = schools::cpp(&state.db, school.cpp_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let questionnaire = state
        .catalogue
        .get(wave.questionnaire_version_id)
        .map(|entry| entry.questionnaire.clone())
        .ok_or_else(|| {
            AppError::internal(anyhow::anyhow!(
                "wave {} refers to questionnaire version {} which this server does not have",
                wave.id,
                wave.questionnaire_version_id
            ))
        })?;
    // The partnership's current settings: what its next sittings will copy.
    let switches = partnerships::settings(&state.db, cpp.id)
        .await?
        .disabled_modules
        .iter()
        .filter_map(|id| ModuleId::from_str(id).ok())
        .collect();
    Ok(Survey {
        school,
        cpp,
        wave,
        window,
        questionnaire,
        switches,
    })
}

#[derive(Serialize)]
struct WaveChoice {
    id: i32,
    title: String,
}

#[derive(Deserialize, Default)]
struct ChooseQuery {
    #[serde(default)]
    wave: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    nav: String,
}

/// A wave and stage picked in the form, or what is wrong with the pick.
struct Pick {
    wave_id: i32,
    stage: Stage,
}

impl ChooseQuery {
    fn pick(&self, waves: &[(Wave, Window)]) -> std::result::Result<Pick, Vec<FieldError>> {
        let mut errors = Vec::new();
        let wave_id = self
            .wave
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|id| waves.iter().any(|(w, _)| w.id == *id));
        if wave_id.is_none() {
            errors.push(FieldError::new("wave", "Choose the survey wave to look at"));
        }
        let stage = Stage::from_str(self.stage.trim()).ok();
        if stage.is_none() {
            errors.push(FieldError::new("stage", "Choose a stage, from P5 to S4"));
        }
        match (wave_id, stage) {
            (Some(wave_id), Some(stage)) => Ok(Pick { wave_id, stage }),
            _ => Err(errors),
        }
    }
}

/// The form that picks a wave and a stage, for the preview or the print.
async fn choose_page(
    state: &AppState,
    staff: &Staff,
    school: &School,
    query: &ChooseQuery,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<HttpResponse> {
    let waves: Vec<WaveChoice> = waves_of(state, school)
        .await?
        .into_iter()
        .map(|(wave, window)| WaveChoice {
            id: wave.id,
            title: format!(
                "{} (fieldwork {} to {})",
                wave.name,
                window.opens.format("%-d %B %Y"),
                window.closes.format("%-d %B %Y")
            ),
        })
        .collect();
    staff.page_with_status(
        form_errors::status(&errors),
        "staff/questionnaire.html",
        context! {
            school => Serde(SchoolView::from(school)),
            waves => Serde(waves),
            stages => Stage::ALL.iter().map(Stage::as_str).collect::<Vec<_>>(),
            chosen_wave => query.wave.trim(),
            chosen_stage => query.stage.trim(),
            errors => Serde(errors),
            notice => notice,
        },
    )
}

async fn choose(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<ChooseQuery>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    choose_page(&state, &staff, &school, &query, Vec::new(), None).await
}

/// The stage's pages whatever a pupil answers, with the partnership's
/// switched-off modules removed.
fn every_page(survey: &Survey, stage: Stage) -> Plan {
    survey_defs::every_route(&survey.questionnaire, stage, &survey.switches)
}

/// The wave and stage the chooser names, with the school's survey and every
/// page of it at that stage; or the chooser again, saying what is wrong.
async fn chosen(
    state: &AppState,
    staff: &Staff,
    school_id: i32,
    query: &ChooseQuery,
) -> Result<std::result::Result<(Pick, Survey, Plan), HttpResponse>> {
    let school = school_for(state, staff, school_id).await?;
    let pick = match query.pick(&waves_of(state, &school).await?) {
        Ok(pick) => pick,
        Err(errors) => {
            return choose_page(state, staff, &school, query, errors, None)
                .await
                .map(Err);
        }
    };
    let survey = survey_of(state, school, pick.wave_id).await?;
    let plan = every_page(&survey, pick.stage);
    Ok(Ok((pick, survey, plan)))
}

/// One page of the questionnaire as a pupil at the chosen stage sees it,
/// with a note on each question routing shows only after some answer.
/// Next and Back are links back here: no code, sitting, response or page
/// save is involved.
async fn preview(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<ChooseQuery>,
) -> Result<HttpResponse> {
    let (pick, survey, plan) = match chosen(&state, &staff, path.into_inner(), &query).await? {
        Ok(chosen) => chosen,
        Err(chooser) => return Ok(chooser),
    };
    let shown = query.page.trim().parse::<usize>().unwrap_or(0);
    let index = match query.nav.as_str() {
        "next" => shown.saturating_add(1),
        "back" => shown.saturating_sub(1),
        _ => shown,
    };
    if plan.is_empty() || index >= plan.len() {
        let notice = if plan.is_empty() {
            "This stage has no questions with the partnership's settings."
        } else {
            "That was the last page. Pupils then see a page to check their answers, and finish."
        };
        return choose_page(
            &state,
            &staff,
            &survey.school,
            &query,
            Vec::new(),
            Some(notice),
        )
        .await;
    }
    let action = format!("/staff/schools/{}/preview", survey.school.id);
    let back = format!(
        "/staff/schools/{}/questionnaire?wave={}&stage={}",
        survey.school.id, survey.wave.id, pick.stage
    );
    let html = pupil_preview(
        &state,
        &survey.questionnaire,
        &survey.cpp.gss_code,
        &plan,
        index,
        context! {
            action => action,
            back => back,
            stage => pick.stage.as_str(),
            partnership => survey.cpp.name.clone(),
            wave => survey.wave.name.clone(),
            fields => vec![
                ("wave", survey.wave.id.to_string()),
                ("stage", pick.stage.to_string()),
                ("page", index.to_string()),
            ],
        },
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

#[derive(Serialize)]
struct PrintedOption {
    label: String,
    special: bool,
}

#[derive(Serialize)]
struct PrintedQuestion {
    number: usize,
    text: String,
    how: String,
    help: Option<String>,
    routing_note: Option<String>,
    module: Option<String>,
    options: Vec<PrintedOption>,
}

#[derive(Serialize)]
struct PrintedPage {
    number: usize,
    section: String,
    questions: Vec<PrintedQuestion>,
}

/// How a question is answered, in staff's words.
fn how_answered(kind: &QuestionKind) -> String {
    match kind {
        QuestionKind::Number { min, max } => format!("A number from {min} to {max}"),
        QuestionKind::MultipleChoice => "Choose any that apply".to_owned(),
        _ => "Choose one".to_owned(),
    }
}

/// Every page of the stage's questionnaire, with its options, help text and
/// routing notes.
fn printed_pages(survey: &Survey, plan: &Plan) -> Vec<PrintedPage> {
    let q = &survey.questionnaire;
    let lang: &Locale = q.default_locale();
    let mut number = 0;
    plan.pages
        .iter()
        .enumerate()
        .map(|(i, page)| PrintedPage {
            number: i + 1,
            section: q
                .sections()
                .get(page.section)
                .map(|s| s.title(lang).to_owned())
                .unwrap_or_default(),
            questions: page
                .questions
                .iter()
                .filter_map(|o| q.question_by_ordinal(*o))
                .map(|question| {
                    number += 1;
                    PrintedQuestion {
                        number,
                        text: question.text(lang).to_owned(),
                        how: how_answered(question.kind()),
                        help: question.help(lang).map(str::to_owned),
                        routing_note: crate::web::pupil::routing_note(q, question, lang),
                        module: question
                            .module()
                            .and_then(|m| q.module(m))
                            .map(|m| m.title(lang).to_owned()),
                        options: question
                            .options()
                            .iter()
                            .map(|o| PrintedOption {
                                label: o.label(lang).to_owned(),
                                special: o.is_prefer_not_to_say() || o.is_dont_know(),
                            })
                            .collect(),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The whole questionnaire for one stage on one page, styled for print.
async fn printable(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<ChooseQuery>,
) -> Result<HttpResponse> {
    let (pick, survey, plan) = match chosen(&state, &staff, path.into_inner(), &query).await? {
        Ok(chosen) => chosen,
        Err(chooser) => return Ok(chooser),
    };
    let q = &survey.questionnaire;
    let lang = q.default_locale();
    let switched_off: Vec<String> = survey
        .switches
        .disabled()
        .filter_map(|id| q.module(id))
        .map(|m| m.title(lang).to_owned())
        .collect();
    staff.page(
        "staff/questionnaire_print.html",
        context! {
            school => Serde(SchoolView::from(&survey.school)),
            partnership => survey.cpp.name.clone(),
            wave => survey.wave.name.clone(),
            wave_id => survey.wave.id,
            stage => pick.stage.as_str(),
            title => q.title(lang),
            version => q.version(),
            pages => Serde(printed_pages(&survey, &plan)),
            switched_off => switched_off,
        },
    )
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes
        .get("/schools/{id}/questionnaire", choose)
        .get("/schools/{id}/questionnaire/print", printable)
        .get("/schools/{id}/preview", preview);
}
