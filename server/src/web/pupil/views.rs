//! Turning the questionnaire model and a pupil's answers into template context.

use std::str::FromStr;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use minijinja::value::Serde;
use minijinja::{Value, context};
use serde::Serialize;
use survey_defs::{AnswerSet, Locale, Plan, QuestionKind, Questionnaire};

use super::{PupilSession, pictures};
use crate::services::survey::Progress;
use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::templates;

/// What every pupil page shares: words, language, form token, display prefs.
pub struct Chrome {
    base: Value,
    /// The language the page is shown in.
    pub lang: String,
}

impl Chrome {
    pub fn new(
        state: &AppState,
        session: &PupilSession,
        questionnaire: Option<&Questionnaire>,
        here: &str,
    ) -> Result<Self, AppError> {
        let lang = match questionnaire {
            Some(q) => pupil_locale(session, q),
            None => session
                .lang()
                .filter(|l| state.locales.has(l) && session.may_use(l, "en"))
                .unwrap_or_else(|| "en".to_owned()),
        };
        let strings = state.locales.get(&lang);
        Ok(Self {
            base: context! {
                t => strings.value.clone(),
                lang => strings.code.clone(),
                dir => strings.dir.clone(),
                draft => strings.draft,
                csrf => session.csrf()?,
                prefs => Serde(session.prefs()),
                here => here,
                // The partnership whose notices the footer links to, once
                // the pupil's code is known.
                partnership_code => session.partnership(),
            },
            lang,
        })
    }

    /// The pupils' words and look for a staff preview of the questionnaire:
    /// no pupil session, so no form token and no display preferences, and
    /// the footer links to the partnership's own notices.
    pub fn preview(state: &AppState, lang: &str, partnership_code: &str) -> Self {
        let strings = state.locales.get(lang);
        Self {
            base: context! {
                t => strings.value.clone(),
                lang => strings.code.clone(),
                dir => strings.dir.clone(),
                draft => strings.draft,
                csrf => Value::from(()),
                prefs => Serde(crate::web::pupil::session::Prefs::default()),
                here => "",
                partnership_code => partnership_code,
            },
            lang: strings.code.clone(),
        }
    }

    /// The same words, for a page shown after the session is emptied: no form
    /// token, so no forms.
    pub fn without_session(self) -> Self {
        Self {
            base: context! { csrf => Value::from(()), ..self.base },
            lang: self.lang,
        }
    }

    pub fn with(self, extra: Value) -> Value {
        context! { ..extra, ..self.base }
    }
}

/// The pupil's language: their choice if the questionnaire has it and the
/// partnership offers it, otherwise the questionnaire's default.
pub fn pupil_locale(session: &PupilSession, q: &Questionnaire) -> String {
    let default = q.default_locale().as_str();
    session
        .lang()
        .filter(|l| {
            session.may_use(l, default)
                && Locale::from_str(l)
                    .ok()
                    .is_some_and(|locale| q.locale_info(&locale).is_some())
        })
        .unwrap_or_else(|| default.to_owned())
}

#[derive(Serialize)]
pub struct Language {
    pub code: String,
    pub name: String,
    pub dir: &'static str,
}

/// Languages offered: those the questionnaire has text for (written in it or
/// translated) that the server also has pupil-facing words for, so every
/// page's words, `lang` and `dir` are of the language chosen, and that the
/// pupil's partnership offers.
pub fn languages(state: &AppState, session: &PupilSession, q: &Questionnaire) -> Vec<Language> {
    let default = q.default_locale().as_str();
    q.locales()
        .iter()
        .filter(|info| {
            let code = info.locale().as_str();
            code == default || (state.locales.has(code) && session.may_use(code, default))
        })
        .map(|info| Language {
            code: info.locale().to_string(),
            name: info.name().to_owned(),
            dir: info.dir(),
        })
        .collect()
}

pub fn render_string(name: &str, ctx: Value) -> Result<String, AppError> {
    Ok(templates::render(name, ctx)?)
}

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub fn render(name: &str, ctx: Value) -> Result<HttpResponse, AppError> {
    Ok(html(StatusCode::OK, render_string(name, ctx)?))
}

#[derive(Serialize)]
struct OptionView {
    code: String,
    label: String,
    read_aloud: String,
    /// The pictures drawn beside the label, as markup (see [`pictures`]).
    pictures: Vec<&'static str>,
    checked: bool,
    special: bool,
}

#[derive(Serialize)]
struct QuestionView {
    id: String,
    name: String,
    kind: &'static str,
    text: String,
    read_aloud: String,
    help: Option<String>,
    options: Vec<OptionView>,
    has_pictures: bool,
    value: String,
    number_hint: String,
    error: bool,
    /// Answered before, on another device or in an earlier session: the
    /// answer is kept but not shown here.
    answered_before: bool,
    /// For staff previews: which answer earlier on routes a pupil here.
    routing_note: Option<String>,
}

/// Who is asked a question that routing shows only after a given answer,
/// in staff's words: "Asked only if the answer to “…” is “…” or “…”."
pub fn routing_note(
    q: &Questionnaire,
    question: &survey_defs::Question,
    lang: &Locale,
) -> Option<String> {
    let condition = question.show_if()?;
    let earlier = q.question_by_ordinal(condition.depends_on())?;
    let answers: Vec<String> = condition
        .any_of()
        .iter()
        .filter_map(|code| {
            earlier
                .options()
                .iter()
                .find(|o| o.code() == code)
                .map(|o| format!("“{}”", o.label(lang)))
        })
        .collect();
    Some(format!(
        "Asked only if the answer to “{}” is {}.",
        earlier.text(lang),
        answers.join(" or ")
    ))
}

/// The context for page `index` of `plan`, showing `answers`; `invalid` lists
/// questions whose submitted values did not fit, with what was typed;
/// `hidden` lists questions answered before whose answers are not shown.
#[allow(clippy::too_many_arguments)]
pub fn page(
    state: &AppState,
    chrome: Chrome,
    progress: &Progress,
    plan: &Plan,
    index: usize,
    answers: &AnswerSet,
    invalid: &[(u16, String)],
    hidden: &[u16],
) -> Result<String, AppError> {
    let shown = Shown {
        plan,
        index,
        answers,
        invalid,
        hidden,
        routing_notes: false,
    };
    let ctx = page_context(state, &progress.questionnaire, &chrome.lang, &shown);
    render_string("pupil/page.html", chrome.with(ctx))
}

/// What one page shows: its place in the plan, the answers in it, and
/// whether to say which answers route a pupil to a question.
pub struct Shown<'a> {
    pub plan: &'a Plan,
    pub index: usize,
    pub answers: &'a AnswerSet,
    pub invalid: &'a [(u16, String)],
    pub hidden: &'a [u16],
    pub routing_notes: bool,
}

/// The context `pupil/page.html` needs for a page of `q` in `locale`,
/// without the pupil's chrome.
pub fn page_context(state: &AppState, q: &Questionnaire, locale: &str, shown: &Shown<'_>) -> Value {
    let Shown {
        plan,
        index,
        answers,
        invalid,
        hidden,
        routing_notes,
    } = *shown;
    let lang = Locale::from_str(locale).unwrap_or_else(|_| q.default_locale().clone());
    let strings = state.locales.get(lang.as_str());
    let page = &plan.pages[index];
    let mut questions = Vec::new();
    for &ordinal in &page.questions {
        let Some(question) = q.question_by_ordinal(ordinal) else {
            continue;
        };
        let answer = answers.get(ordinal);
        let chosen: Vec<u8> = answer
            .map(|a| a.option_indices().collect())
            .unwrap_or_default();
        let typed = invalid
            .iter()
            .find(|(o, _)| *o == ordinal)
            .map(|(_, v)| v.clone());
        let (kind, value, number_hint) = match question.kind() {
            QuestionKind::Number { min, max } => (
                "number",
                typed.clone().unwrap_or_else(|| match answer {
                    Some(survey_defs::Answer::Number(n)) => n.to_string(),
                    _ => String::new(),
                }),
                strings
                    .get("survey.number_hint")
                    .replace("{min}", &min.to_string())
                    .replace("{max}", &max.to_string()),
            ),
            QuestionKind::MultipleChoice => ("multiple", String::new(), String::new()),
            QuestionKind::Scale => ("scale", String::new(), String::new()),
            _ => ("single", String::new(), String::new()),
        };
        let options: Vec<OptionView> = question
            .options()
            .iter()
            .enumerate()
            .map(|(i, option)| OptionView {
                code: option.code().to_string(),
                label: option.label(&lang).to_owned(),
                read_aloud: option.read_aloud(&lang).to_owned(),
                pictures: option
                    .emoji()
                    .map(|emoji| {
                        pictures::pictures(emoji)
                            .into_iter()
                            .map(pictures::drawing)
                            .collect()
                    })
                    .unwrap_or_default(),
                checked: chosen.contains(&(i as u8)),
                special: option.is_prefer_not_to_say() || option.is_dont_know(),
            })
            .collect();
        questions.push(QuestionView {
            id: question.id().to_string(),
            name: format!("q_{}", question.id()),
            kind,
            text: question.text(&lang).to_owned(),
            read_aloud: question.read_aloud(&lang).to_owned(),
            help: question.help(&lang).map(str::to_owned),
            has_pictures: options.iter().any(|o| !o.pictures.is_empty()),
            options,
            value,
            number_hint,
            error: typed.is_some(),
            answered_before: hidden.contains(&ordinal) && answer.is_none(),
            routing_note: if routing_notes {
                routing_note(q, question, &lang)
            } else {
                None
            },
        });
    }
    let total = plan.pages.len();
    let progress_text = strings
        .get("survey.progress")
        .replace("{n}", &(index + 1).to_string())
        .replace("{total}", &total.to_string());
    let section = q
        .sections()
        .get(page.section)
        .map(|s| s.title(&lang).to_owned())
        .unwrap_or_default();
    context! {
        questions => Serde(questions),
        has_errors => !invalid.is_empty(),
        page_key => page.key.clone(),
        number => index + 1,
        total => total,
        progress_text => progress_text,
        section => section,
        idle_seconds => state.settings.pupil_idle_minutes * 60,
        speaker_symbol => pictures::SPEAKER_SYMBOL,
    }
}
