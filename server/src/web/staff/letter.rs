//! The letter to parents for one school and survey wave, printed by the
//! school before fieldwork: what the survey is and who runs it, what it
//! asks each age group (from the questionnaire's section titles, with the
//! partnership's switched-off modules left out), that it is anonymous and
//! voluntary, how to opt a child out and by when, and where the privacy
//! notice is. Every fact comes from the wave, the questionnaire and the
//! partnership's settings, so the letter says what the pupils will see.

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};
use survey_defs::{Band, Stage};

use super::questionnaire::{Survey, survey_of};
use super::sittings::{SchoolView, school_for};
use super::{Result, Routes, Staff};
use crate::services::partnerships;
use crate::state::AppState;
use crate::store::schools::rolls_of;
use crate::web::error::AppError;

#[derive(Serialize, Debug)]
struct BandAsks {
    /// "Pupils in P5 to P7", say.
    who: String,
    /// Section titles with a question for the band, in order.
    sections: Vec<String>,
    /// Sensitive modules that are on, each with the stages that meet it.
    sensitive: Vec<String>,
}

/// The stages a school's letter covers: those with pupils on the roll, or,
/// when no roll is recorded, those its sector teaches.
fn stages_of(school: &crate::store::schools::School) -> Vec<Stage> {
    let rolled: Vec<Stage> = Stage::ALL
        .into_iter()
        .zip(rolls_of(school))
        .filter(|(_, roll)| *roll > 0)
        .map(|(stage, _)| stage)
        .collect();
    if !rolled.is_empty() {
        return rolled;
    }
    let band = match school.sector.as_str() {
        "primary" => Some(Band::Primary),
        "secondary" => Some(Band::Secondary),
        _ => None,
    };
    Stage::ALL
        .into_iter()
        .filter(|stage| band.is_none_or(|b| stage.band() == b))
        .collect()
}

/// Stages as words: "S4", "S2 to S4" for an unbroken run, "P5, P7 and S1"
/// otherwise.
fn stage_span(stages: &[Stage]) -> String {
    let at = |s: &Stage| Stage::ALL.iter().position(|x| x == s).unwrap_or_default();
    let unbroken = stages
        .windows(2)
        .all(|pair| at(&pair[1]) == at(&pair[0]) + 1);
    match stages {
        [] => String::new(),
        [one] => one.to_string(),
        [first, .., last] if unbroken => format!("{first} to {last}"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(Stage::to_string).collect();
            format!("{} and {last}", init.join(", "))
        }
    }
}

/// What the wave's questionnaire asks each band the school has, with the
/// partnership's switched-off modules left out.
fn asks(survey: &Survey, stages: &[Stage]) -> Vec<BandAsks> {
    let q = &survey.questionnaire;
    let lang = q.default_locale();
    let shown = |question: &survey_defs::Question, stage: Stage| {
        question.stages().contains(stage)
            && question
                .module()
                .is_none_or(|m| survey.switches.is_enabled(m))
    };
    [Band::Primary, Band::Secondary]
        .into_iter()
        .filter_map(|band| {
            let band_stages: Vec<Stage> = stages
                .iter()
                .copied()
                .filter(|s| s.band() == band)
                .collect();
            if band_stages.is_empty() {
                return None;
            }
            let sections: Vec<String> = q
                .sections()
                .iter()
                .enumerate()
                .filter(|(index, _)| {
                    q.section_questions(*index)
                        .iter()
                        .any(|question| band_stages.iter().any(|s| shown(question, *s)))
                })
                .map(|(_, section)| section.title(lang).to_owned())
                .collect();
            let sensitive: Vec<String> = q
                .modules()
                .iter()
                .filter(|m| m.sensitive() && survey.switches.is_enabled(m.id()))
                .filter_map(|m| {
                    let meeting: Vec<Stage> = band_stages
                        .iter()
                        .copied()
                        .filter(|s| {
                            q.questions().iter().any(|question| {
                                question.module() == Some(m.id()) && shown(question, *s)
                            })
                        })
                        .collect();
                    (!meeting.is_empty())
                        .then(|| format!("{} ({})", m.title(lang), stage_span(&meeting)))
                })
                .collect();
            Some(BandAsks {
                who: format!("Pupils in {}", stage_span(&band_stages)),
                sections,
                sensitive,
            })
        })
        .filter(|asks| !asks.sections.is_empty())
        .collect()
}

#[derive(Deserialize)]
struct LetterQuery {
    #[serde(default)]
    wave: String,
}

/// The printable letter for the school's parents about one wave.
async fn letter(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<LetterQuery>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let wave_id: i32 = query.wave.trim().parse().map_err(|_| {
        AppError::BadRequest(
            "Choose the survey wave the letter is about, from the school's page.".into(),
        )
    })?;
    let survey = survey_of(&state, school, wave_id).await?;
    let notices = partnerships::notices(&state.db, survey.cpp.id).await?;
    let controller = notices.controller_name.trim();
    let stages = stages_of(&survey.school);
    let day = |date: chrono::NaiveDate| date.format("%A %-d %B %Y").to_string();
    let privacy_url = format!(
        "{}/partnerships/{}/privacy",
        state.settings.public_url(),
        survey.cpp.gss_code
    );
    let q = &survey.questionnaire;
    staff.page(
        "staff/letter.html",
        context! {
            school => Serde(SchoolView::from(&survey.school)),
            partnership => survey.cpp.name.clone(),
            wave => survey.wave.name.clone(),
            opens => day(survey.window.opens),
            closes => day(survey.window.closes),
            controller => (!controller.is_empty()).then_some(controller),
            title => q.title(q.default_locale()),
            asks => Serde(asks(&survey, &stages)),
            privacy_url => privacy_url,
        },
    )
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes.get("/schools/{id}/letter", letter);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_stages_reads_as_words() {
        assert_eq!(stage_span(&[Stage::S4]), "S4");
        assert_eq!(stage_span(&[Stage::S1, Stage::S2, Stage::S3]), "S1 to S3");
        assert_eq!(stage_span(&[]), "");
        assert_eq!(
            stage_span(&[Stage::P5, Stage::P7, Stage::S1]),
            "P5, P7 and S1"
        );
    }
}
