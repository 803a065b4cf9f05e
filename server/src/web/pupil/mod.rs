//! The pupil's journey: code entry, welcome and assent, the planned pages, the
//! finish, stop and withdraw endings. Every response here is sent with
//! `Cache-Control: no-store` (see `startup`), and every form is a POST that
//! answers with a redirect, so a reload never sends anything twice.

mod language;
mod notices;
mod pictures;
mod prefill;
mod session;
mod views;

use std::str::FromStr;

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Utc;
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;
use survey_defs::{AnswerSet, Locale, Stage};

use crate::domain::{AccessCode, CodeError};
use crate::domain::{CodeState, Signpost};
use crate::services::partnerships;
use crate::services::survey::{self, Progress};
use crate::state::AppState;
use crate::store::journey::{PlannedSave, Read};
use crate::store::pupil::{self as store, Ending, PageSave, Window};
use crate::web::client::{budget_key, client_ip};
use crate::web::error::AppError;
use crate::web::redirect;
pub use session::{Prefs, PupilSession};
pub use views::routing_note;

/// Page `index` of `plan` in the pupils' own template and words (the
/// questionnaire's default language), for a staff preview: no answers, a
/// note on each routed question, and `preview` (the form's `action`, its
/// hidden `fields`, and what the banner names) in place of the pupil's
/// form token, so the form leads back to the preview and saves nothing.
pub fn preview(
    state: &AppState,
    q: &survey_defs::Questionnaire,
    partnership_code: &str,
    plan: &survey_defs::Plan,
    index: usize,
    preview: minijinja::Value,
) -> Result<String> {
    let locale = q.default_locale().to_string();
    let chrome = views::Chrome::preview(state, &locale, partnership_code);
    let shown = views::Shown {
        plan,
        index,
        answers: &survey_defs::AnswerSet::default(),
        invalid: &[],
        hidden: &[],
        routing_notes: true,
    };
    let page = views::page_context(state, q, &locale, &shown);
    views::render_string(
        "pupil/page.html",
        chrome.with(minijinja::context! { preview => preview, idle_seconds => 0, ..page }),
    )
}
use views::{Chrome, render};

type Result<T> = std::result::Result<T, AppError>;

/// The code with this keyed hash and its sitting.
async fn find_code(state: &AppState, hash: &str) -> Result<Option<(store::Code, store::Sitting)>> {
    Ok(state.store.find_code(hash).await?)
}

/// The code with this id and its sitting.
async fn code_with_sitting(
    state: &AppState,
    id: i32,
) -> Result<Option<(store::Code, store::Sitting)>> {
    Ok(state.store.code_with_sitting(id).await?)
}

async fn sitting(state: &AppState, id: i32) -> Result<Option<store::Sitting>> {
    Ok(state.store.sitting(id).await?)
}

/// Remembers which partnership runs the pupil's sitting, so every page can
/// link to its notices and the idle time-out can show its help, the
/// sitting's band, for pages that speak to the pupil outside the survey,
/// and the languages the partnership offers (read once here, so later pages
/// need not ask the database).
async fn remember_sitting(
    state: &AppState,
    session: &PupilSession,
    sitting: &store::Sitting,
) -> Result<()> {
    session.set_band(sitting.stage.0.band().as_str())?;
    if let Some(code) = state.gss_codes.get(&state.db, sitting.cpp_id).await? {
        session.set_partnership(&code)?;
    }
    let languages = state.languages.of(&state.db, sitting.cpp_id).await?;
    session.set_languages(&languages)?;
    Ok(())
}

/// The help shown after an ending: the sitting's signposting, or the default
/// when the sitting is not known or has none.
async fn help_after(state: &AppState, sitting_id: Option<i32>) -> Result<Vec<Signpost>> {
    let stored = match sitting_id {
        Some(id) => sitting(state, id).await?.map(|s| s.signposting.0),
        None => None,
    };
    Ok(partnerships::signposting_or_default(
        stored.as_deref().unwrap_or_default(),
    ))
}

/// The help shown with the idle time-out notice: the partnership's current
/// signposting, or the default when the partnership is not known.
async fn help_of_partnership(state: &AppState, gss_code: Option<&str>) -> Result<Vec<Signpost>> {
    let known = match gss_code.filter(|code| looks_like_gss(code)) {
        Some(code) => partnerships::partnership_by_code(&state.db, code).await?,
        None => None,
    };
    let stored = match known {
        Some(cpp) => partnerships::settings(&state.db, cpp.id).await?.signposting,
        None => Vec::new(),
    };
    Ok(partnerships::signposting_or_default(&stored))
}

/// Whether `text` could be a GSS code (a letter and eight digits), checked
/// before a code from an address is looked up.
fn looks_like_gss(text: &str) -> bool {
    text.len() == 9
        && text.starts_with(|c: char| c.is_ascii_uppercase())
        && text[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Where a session found idle is sent: the code screen, which says why and
/// shows the partnership's help. The partnership's GSS code is public and
/// the same for every pupil of every school in it.
fn timed_out(partnership: Option<String>) -> HttpResponse {
    match partnership.filter(|code| looks_like_gss(code)) {
        Some(code) => redirect(&format!("/?notice=timeout&cpp={code}")),
        None => redirect("/?notice=timeout"),
    }
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
    notice: Option<String>,
    /// With the time-out notice: the partnership whose help to show.
    cpp: Option<String>,
    /// A language chosen before the code.
    lang: Option<String>,
}

/// The code screen. `?code=` (a slip's QR code) is answered with a redirect
/// to the bare address, and the code then pre-fills the field (see
/// [`prefill`]).
#[get("/")]
async fn code_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse> {
    if let Some(code) = query.code.as_deref() {
        return Ok(prefill::redirect_with(&state, code));
    }
    let session = PupilSession(session);
    let languages = language::before_code(&state).await?;
    if let Some(lang) = &query.lang {
        if languages.iter().any(|l| &l.code == lang) {
            session.set_lang(lang)?;
        }
        return Ok(redirect("/"));
    }
    let (notice, signposting) = match query.notice.as_deref() {
        Some("timeout") => (
            Some("code.timeout"),
            Some(help_of_partnership(&state, query.cpp.as_deref()).await?),
        ),
        _ => (None, None),
    };
    let code = prefill::take(&state, &req);
    let chrome = Chrome::new(&state, &session, None, "/")?;
    let mut page = render(
        "pupil/code.html",
        chrome.with(context! {
            code => code.as_deref().unwrap_or(""),
            notice => notice,
            signposting => Serde(signposting),
            languages => Serde(languages),
        }),
    )?;
    if code.is_some() {
        prefill::forget(&mut page);
    }
    Ok(page)
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    code: String,
}

/// Checks a typed code. A typo (the check character fails) is told apart from a
/// code that does not exist; nothing said reveals anything about other codes.
#[post("/code")]
async fn enter_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    let ip = budget_key(client_ip(&req, &state.settings));
    let show_error = |error: &str| -> Result<HttpResponse> {
        let chrome = Chrome::new(&state, &session, None, "/")?;
        let html = views::render_string(
            "pupil/code.html",
            chrome.with(context! { code => form.code.trim(), error => error }),
        )?;
        Ok(HttpResponse::UnprocessableEntity()
            .content_type("text/html; charset=utf-8")
            .body(html))
    };
    if !state.code_throttle.allows(&ip) {
        return show_error("slow_down");
    }
    let code = match AccessCode::parse(&form.code) {
        Ok(code) => code,
        Err(CodeError::Empty) => return show_error("empty"),
        Err(_) => return show_error("typo"),
    };
    let hash = state.code_hash(&code);
    let Some((found, sitting)) = find_code(&state, &hash).await? else {
        state.code_throttle.fail(&ip, "access code");
        return show_error("not_found");
    };
    match store::sitting_window(&sitting, Utc::now()) {
        Window::Closed => return show_error("closed"),
        Window::NotYetOpen => return show_error("not_open"),
        Window::Open => {}
    }
    match found.state.0 {
        CodeState::Unused => {
            session.set_code_id(found.id)?;
            remember_sitting(&state, &session, &sitting).await?;
            session.touch(state.settings.pupil_idle_minutes)?;
            Ok(redirect("/welcome"))
        }
        CodeState::Started => match found.response_id {
            Some(rid) => {
                session.set_response_id(&rid)?;
                remember_sitting(&state, &session, &sitting).await?;
                session.touch(state.settings.pupil_idle_minutes)?;
                Ok(redirect("/survey"))
            }
            None => show_error("finished"),
        },
        CodeState::Voided => {
            state.code_throttle.fail(&ip, "access code");
            show_error("not_found")
        }
        _ => show_error("finished"),
    }
}

#[derive(Deserialize)]
struct WelcomeQuery {
    lang: Option<String>,
}

/// Welcome and assent, in the band's words, with a language choice.
#[get("/welcome")]
async fn welcome(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<WelcomeQuery>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let Some(code_id) = session.code_id() else {
        return Ok(redirect("/"));
    };
    let partnership = session.partnership();
    if !session.touch(state.settings.pupil_idle_minutes)? {
        return Ok(timed_out(partnership));
    }
    let Some((code, sitting)) = code_with_sitting(&state, code_id).await? else {
        return Ok(redirect("/"));
    };
    if code.state.0 != CodeState::Unused {
        session.clear();
        return Ok(redirect("/"));
    }
    let entry = state
        .catalogue
        .get(sitting.questionnaire_version_id)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("missing questionnaire")))?;
    let languages = views::languages(&state, &session, &entry.questionnaire);
    if let Some(lang) = &query.lang {
        if languages.iter().any(|l| &l.code == lang) {
            session.set_lang(lang)?;
        }
        return Ok(redirect("/welcome"));
    }
    let stage = sitting.stage.0;
    let chrome = Chrome::new(&state, &session, Some(&entry.questionnaire), "/welcome")?;
    render(
        "pupil/welcome.html",
        chrome.with(context! {
            band => stage.band().as_str(),
            languages => Serde(languages),
            idle_seconds => state.settings.pupil_idle_minutes * 60,
        }),
    )
}

#[derive(Deserialize)]
struct WelcomeForm {
    csrf: String,
    action: String,
}

/// What the pupil chose on the welcome page.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WelcomeChoice {
    Start,
    Decline,
}

impl TryFrom<&WelcomeForm> for WelcomeChoice {
    type Error = AppError;

    fn try_from(form: &WelcomeForm) -> Result<Self> {
        match form.action.as_str() {
            "start" => Ok(WelcomeChoice::Start),
            "decline" => Ok(WelcomeChoice::Decline),
            _ => Err(AppError::BadRequest("unknown choice".into())),
        }
    }
}

#[post("/welcome")]
async fn welcome_answer(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<WelcomeForm>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    let choice = WelcomeChoice::try_from(&*form)?;
    let Some(code_id) = session.code_id() else {
        // Start pressed again after it already worked: carry on.
        if session.response_id().is_some() {
            return Ok(redirect("/survey"));
        }
        return Ok(redirect("/"));
    };
    let Some((code, sitting)) = code_with_sitting(&state, code_id).await? else {
        return Ok(redirect("/"));
    };
    match choice {
        WelcomeChoice::Start => {
            if store::sitting_window(&sitting, Utc::now()) != Window::Open {
                session.clear();
                return Ok(redirect("/"));
            }
            let entry = state
                .catalogue
                .get(sitting.questionnaire_version_id)
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("missing questionnaire")))?;
            let lang = views::pupil_locale(&session, &entry.questionnaire);
            let started = state.store.start(code.id, sitting.id, &lang).await?;
            match started {
                Some(rid) => {
                    session.set_response_id(&rid)?;
                    Ok(redirect("/survey"))
                }
                None => {
                    session.clear();
                    Ok(redirect("/"))
                }
            }
        }
        WelcomeChoice::Decline => {
            state.store.decline(code.id, code.sitting_id).await?;
            let help = help_after(&state, Some(code.sitting_id)).await?;
            let chrome = Chrome::new(&state, &session, None, "/")?;
            session.clear();
            ended_page(chrome, "declined", &help)
        }
    }
}

/// Loads the pupil's progress, read as `read` asks, or says where to send
/// them instead.
async fn current(
    state: &AppState,
    session: &PupilSession,
    read: Read,
) -> Result<std::result::Result<(String, Progress), HttpResponse>> {
    let Some(rid) = session.response_id() else {
        return Ok(Err(redirect("/")));
    };
    let partnership = session.partnership();
    if !session.touch(state.settings.pupil_idle_minutes)? {
        return Ok(Err(timed_out(partnership)));
    }
    match survey::progress(
        &state.db,
        &state.store,
        &state.catalogue,
        Some(&state.sittings),
        &rid,
        read,
    )
    .await
    .map_err(AppError::internal)?
    {
        Some(progress) => {
            // Resumed in a new session: carry on in the language the
            // response was started in, until the pupil picks another.
            if session.lang().is_none() {
                session.set_lang(&progress.locale)?;
            }
            Ok(Ok((rid, progress)))
        }
        None => {
            // Finished elsewhere, withdrawn, or the sitting closed.
            session.clear();
            Ok(Err(redirect("/")))
        }
    }
}

/// The answers this device may show: those to questions answered in this
/// session (see [`session::Known`]). Pages are planned from these alone, so
/// that a follow-up question does not appear, on a device that did not see
/// it asked, because of an answer that device may not show.
fn on_this_device(progress: &Progress, known: &session::Known) -> AnswerSet {
    let mut seen = AnswerSet::new();
    for (ordinal, answer) in progress.answers.iter() {
        if known.contains(ordinal) {
            seen.insert(ordinal, *answer);
        }
    }
    seen
}

/// Questions among `questions` answered before, but not on this device.
fn hidden_on(questions: &[u16], progress: &Progress, known: &session::Known) -> Vec<u16> {
    questions
        .iter()
        .copied()
        .filter(|&o| !known.contains(o) && progress.answers.get(o).is_some())
        .collect()
}

#[derive(Deserialize)]
struct PageQuery {
    p: Option<String>,
}

/// Shows one planned page: the one asked for, or the first the pupil has not
/// moved past yet (which is where a resumed survey continues).
#[get("/survey")]
async fn show_page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let (_, progress) = match current(&state, &session, Read::Checked).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let known = session.known();
    let seen = on_this_device(&progress, &known);
    let plan = progress.plan_from(&seen);
    let index = match query.p.as_deref().and_then(|key| plan.page_index(key)) {
        Some(index) => index,
        None => match plan
            .pages
            .iter()
            .position(|page| !progress.saved_pages.contains(&page.key))
        {
            Some(index) => index,
            None => return Ok(redirect("/review")),
        },
    };
    let chrome = Chrome::new(&state, &session, Some(&progress.questionnaire), "/survey")?;
    let hidden = hidden_on(&plan.pages[index].questions, &progress, &known);
    let html = views::page(&state, chrome, &progress, &plan, index, &seen, &[], &hidden)?;
    Ok(views::html(actix_web::http::StatusCode::OK, html))
}

/// Saves a page, then moves on, back, or stops. The save is one upsert keyed
/// by response and page, committed before the next page is shown.
#[post("/survey")]
async fn save_page(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    session.check_csrf(field("csrf").unwrap_or(""))?;
    // Planned first from the progress this server last saw, and then stored
    // only if the response has not changed since (see `Store::save_planned`);
    // otherwise planned again from the database's progress.
    let mut read = Read::ToSave;
    loop {
        let (rid, progress) = match current(&state, &session, read).await? {
            Ok(found) => found,
            Err(elsewhere) => return Ok(elsewhere),
        };
        let mut known = session.known();
        let seen = on_this_device(&progress, &known);
        let plan = progress.plan_from(&seen);
        let key = field("page").unwrap_or("");
        let Some(index) = plan.page_index(key) else {
            // A page that routing has since removed: show where the pupil is now.
            return Ok(redirect("/survey"));
        };
        let page = &plan.pages[index];
        let q = &progress.questionnaire;

        let mut page_answers = AnswerSet::new();
        let mut invalid = Vec::new();
        for &ordinal in &page.questions {
            let Some(question) = q.question_by_ordinal(ordinal) else {
                continue;
            };
            let name = format!("q_{}", question.id());
            let values: Vec<&str> = form
                .iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            match question.parse_answer(&values) {
                Ok(Some(answer)) => {
                    page_answers.insert(ordinal, answer);
                }
                Ok(None) => {}
                Err(_) => invalid.push((ordinal, values.join(","))),
            }
        }
        // A question answered before but not on this device, left blank now,
        // keeps its earlier answer: the save (which replaces the page's earlier
        // save) carries it over, and this device still does not know it.
        let hidden = hidden_on(&page.questions, &progress, &known);
        let replaced: Vec<u16> = page
            .questions
            .iter()
            .copied()
            .filter(|o| !hidden.contains(o) || page_answers.get(*o).is_some())
            .collect();
        let mut stored = page_answers.clone();
        for &ordinal in &hidden {
            if let (None, Some(earlier)) =
                (page_answers.get(ordinal), progress.answers.get(ordinal))
            {
                stored.insert(ordinal, *earlier);
            }
        }
        if !invalid.is_empty() && read == Read::ToSave {
            // Shown from the database's progress, as a page load is.
            read = Read::Checked;
            continue;
        }
        if !invalid.is_empty() {
            // Show the page again with the problem named; nothing typed is lost.
            let mut shown = seen.clone();
            survey::apply_page(&mut shown, &page.questions, &page_answers);
            let chrome = Chrome::new(&state, &session, Some(q), "/survey")?;
            let html = views::page(
                &state, chrome, &progress, &plan, index, &shown, &invalid, &hidden,
            )?;
            return Ok(views::html(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                html,
            ));
        }

        let saved = state
            .store
            .save_planned(
                PageSave {
                    response_id: rid.clone(),
                    page_key: page.key.clone(),
                    answers: survey::encode_page(&page.questions, &stored),
                    seq: Utc::now().timestamp_micros(),
                },
                progress.planned,
            )
            .await;
        match saved {
            Ok(PlannedSave::Stored) => {}
            // Changed since it was planned (another server saved a page of
            // this response, or it ended): plan it again from the database's
            // progress, which sends the pupil to the start if it has ended.
            Ok(PlannedSave::Changed) if read == Read::ToSave => {
                read = Read::Checked;
                continue;
            }
            // Planned from the database's progress and still not stored: the
            // response has ended since (finished on another device,
            // withdrawn, or its sitting closed).
            Ok(PlannedSave::Changed) => {
                session.clear();
                return Ok(redirect("/"));
            }
            Err(error) => {
                // The response ended while this page was on its way (finished on
                // another device, withdrawn, or its sitting closed): send the pupil to
                // the start rather than show an error.
                if state.store.in_progress(&rid).await?.is_none() {
                    session.clear();
                    return Ok(redirect("/"));
                }
                return Err(AppError::internal(error));
            }
        }

        for &ordinal in &replaced {
            known.insert(ordinal);
        }
        session.set_known(&known)?;

        // Plan again with the new answers: routing applies as answers come in.
        let mut answers = seen;
        survey::apply_page(&mut answers, &replaced, &page_answers);
        let plan = progress.plan_from(&answers);
        let here = plan.page_index(&page.key).unwrap_or(index);
        return match field("nav").unwrap_or("next") {
            "back" => match here.checked_sub(1).and_then(|i| plan.pages.get(i)) {
                Some(previous) => Ok(redirect(&format!("/survey?p={}", previous.key))),
                None => Ok(redirect(&format!("/survey?p={}", page.key))),
            },
            "stop" => {
                let help = partnerships::signposting_or_default(&progress.sitting.signposting.0);
                let chrome = Chrome::new(&state, &session, Some(q), "/")?;
                session.clear();
                ended_page(chrome, "stopped", &help)
            }
            _ => match plan.pages.get(here + 1) {
                Some(next) => Ok(redirect(&format!("/survey?p={}", next.key))),
                None => Ok(redirect("/review")),
            },
        };
    }
}

/// The end of the pages: a last chance to go back before sending.
#[get("/review")]
async fn review(state: web::Data<AppState>, session: Session) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let (_, progress) = match current(&state, &session, Read::Checked).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let plan = progress.plan_from(&on_this_device(&progress, &session.known()));
    let last_page = plan.pages.last().map(|p| p.key.clone()).unwrap_or_default();
    let chrome = Chrome::new(&state, &session, Some(&progress.questionnaire), "/review")?;
    render(
        "pupil/review.html",
        chrome.with(context! {
            last_page => last_page,
            idle_seconds => state.settings.pupil_idle_minutes * 60,
        }),
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// Sends the answers: the response is stored under a new random id, the code is
/// spent, and the browser session is emptied.
#[post("/finish")]
async fn finish(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    let Some(rid) = session.response_id() else {
        return Ok(redirect("/"));
    };
    let sitting_id = state.store.in_progress(&rid).await?.map(|r| r.sitting_id);
    let help = help_after(&state, sitting_id).await?;
    let chrome = Chrome::new(&state, &session, None, "/")?;
    // A second click finds the response already ended and shows the same page.
    end_response(&state, &rid, Ending::Finished).await?;
    session.clear();
    ended_page(chrome, "finished", &help)
}

/// Ends the pupil's response (see [`survey::end`]); false if it had ended already.
async fn end_response(state: &AppState, rid: &str, ending: Ending) -> Result<bool> {
    survey::end(&state.db, &state.store, &state.catalogue, rid, ending)
        .await
        .map_err(AppError::internal)
}

#[get("/withdraw")]
async fn withdraw_confirm(state: web::Data<AppState>, session: Session) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let (_, progress) = match current(&state, &session, Read::Checked).await? {
        Ok(found) => found,
        Err(elsewhere) => return Ok(elsewhere),
    };
    let chrome = Chrome::new(&state, &session, Some(&progress.questionnaire), "/withdraw")?;
    render(
        "pupil/withdraw.html",
        chrome.with(context! { band => progress.stage.band().as_str() }),
    )
}

/// Deletes every answer of this response; the code is marked withdrawn.
#[post("/withdraw")]
async fn withdraw(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    let Some(rid) = session.response_id() else {
        return Ok(redirect("/"));
    };
    let sitting_id = state.store.in_progress(&rid).await?.map(|r| r.sitting_id);
    let help = help_after(&state, sitting_id).await?;
    end_response(&state, &rid, Ending::Withdrawn).await?;
    let chrome = Chrome::new(&state, &session, None, "/")?;
    session.clear();
    ended_page(chrome, "withdrawn", &help)
}

/// The bands "Where your answers go" has words for: a pupil's band once
/// their code is known, and words for everyone before that.
const INFO_BANDS: [&str; 3] = ["primary", "secondary", "everyone"];

/// "Where your answers go": what happens to a pupil's answers, in the band's
/// words (or words for everyone before a code is typed), with where to get
/// help. Reachable from every pupil page, without JavaScript.
#[get("/your-answers")]
async fn your_answers(state: web::Data<AppState>, session: Session) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let back = if session.response_id().is_some() {
        "/survey"
    } else if session.code_id().is_some() {
        "/welcome"
    } else {
        "/"
    };
    let partnership = session.partnership();
    if back != "/" && !session.touch(state.settings.pupil_idle_minutes)? {
        return Ok(timed_out(partnership));
    }
    let band = session
        .band()
        .filter(|band| back != "/" && INFO_BANDS.contains(&band.as_str()))
        .unwrap_or_else(|| "everyone".to_owned());
    let help = help_of_partnership(&state, partnership.as_deref()).await?;
    let chrome = Chrome::new(&state, &session, None, "/your-answers")?;
    render(
        "pupil/your_answers.html",
        chrome.with(context! {
            band => band,
            back => back,
            signposting => Serde(help),
            idle_seconds => if back == "/" { 0 } else { state.settings.pupil_idle_minutes * 60 },
        }),
    )
}

/// Where an idle page goes: the session is emptied, saved answers are kept,
/// and the browser is asked to drop what it kept, as on the ending pages.
#[get("/timeout")]
async fn timeout(session: Session) -> HttpResponse {
    let session = PupilSession(session);
    let partnership = session.partnership();
    session.clear();
    let mut response = timed_out(partnership);
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("clear-site-data"),
        actix_web::http::header::HeaderValue::from_static(CLEAR_SITE_DATA),
    );
    response
}

/// What the ending pages and the idle time-out ask the browser to drop.
const CLEAR_SITE_DATA: &str = "\"cache\", \"storage\"";

#[derive(Deserialize)]
struct PrefsForm {
    csrf: String,
    toggle: String,
    back: String,
}

/// A display setting to switch, and the pupil page to go back to (only ever
/// one of ours).
struct PrefsToggle {
    large: bool,
    back: &'static str,
}

impl TryFrom<&PrefsForm> for PrefsToggle {
    type Error = AppError;

    fn try_from(form: &PrefsForm) -> Result<Self> {
        let large = match form.toggle.as_str() {
            "large" => true,
            "contrast" => false,
            _ => return Err(AppError::BadRequest("unknown display setting".into())),
        };
        Ok(PrefsToggle {
            large,
            back: back_to(&form.back),
        })
    }
}

/// The pupil page to go back to after a display or language setting: only
/// ever one of ours, the code screen when `asked` is not.
fn back_to(asked: &str) -> &'static str {
    [
        "/welcome",
        "/survey",
        "/review",
        "/withdraw",
        "/your-answers",
        "/language",
    ]
    .into_iter()
    .find(|page| *page == asked)
    .unwrap_or("/")
}

/// Text size and contrast toggles: plain form buttons, so they work without
/// JavaScript. Kept in the session only, and forgotten with it.
#[post("/prefs")]
async fn prefs(session: Session, form: web::Form<PrefsForm>) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    let toggle = PrefsToggle::try_from(&*form)?;
    let mut prefs = session.prefs();
    if toggle.large {
        prefs.large = !prefs.large;
    } else {
        prefs.contrast = !prefs.contrast;
    }
    session.set_prefs(prefs)?;
    Ok(redirect(toggle.back))
}

/// The page after an ending (`kind`: finished, stopped, withdrawn or
/// declined), always with where the pupil can turn for help.
fn ended_page(chrome: Chrome, kind: &str, signposting: &[Signpost]) -> Result<HttpResponse> {
    let html = views::render_string(
        "pupil/ended.html",
        chrome
            .without_session()
            .with(context! { kind => kind, signposting => Serde(signposting) }),
    )?;
    Ok(HttpResponse::Ok()
        // Ask the browser to drop anything it kept for this site.
        .insert_header(("Clear-Site-Data", CLEAR_SITE_DATA))
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Parses a stage name from a sitting, for templates.
pub fn band_of(stage: &str) -> &'static str {
    Stage::from_str(stage).map_or("secondary", |s| s.band().as_str())
}

pub fn default_locale() -> Locale {
    Locale::from_str("en").unwrap_or_else(|_| unreachable!("\"en\" is a valid locale"))
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(code_page)
        .service(enter_code)
        .service(welcome)
        .service(welcome_answer)
        .service(show_page)
        .service(save_page)
        .service(review)
        .service(finish)
        .service(withdraw_confirm)
        .service(withdraw)
        .service(timeout)
        .service(your_answers)
        .configure(notices::config)
        .configure(language::config)
        .service(prefs);
}
