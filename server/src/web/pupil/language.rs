//! Choosing a language: on the code screen, before the code (from the
//! languages any partnership offers, since the pupil's is not known yet),
//! and from a link on every pupil page (from the languages the pupil's
//! partnership offers, once the code is known). The choice lasts for the
//! session only, so the next pupil on a shared device starts afresh.

use actix_session::Session;
use actix_web::{HttpResponse, get, post, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::Deserialize;

use super::views::{Chrome, Language, render};
use super::{PupilSession, Result, back_to};
use crate::state::AppState;
use crate::web::redirect;

/// The pupil-facing words' own language, always offered.
const ENGLISH: &str = "en";

fn language(state: &AppState, code: &str) -> Option<Language> {
    state.locales.has(code).then(|| {
        let strings = state.locales.get(code);
        Language {
            code: strings.code.clone(),
            name: strings.name.clone(),
            dir: if strings.dir == "rtl" { "rtl" } else { "ltr" },
        }
    })
}

fn with_english<'a>(
    state: &AppState,
    codes: impl IntoIterator<Item = &'a String>,
) -> Vec<Language> {
    let mut all: Vec<Language> = language(state, ENGLISH).into_iter().collect();
    all.extend(
        codes
            .into_iter()
            .filter(|code| code.as_str() != ENGLISH)
            .filter_map(|code| language(state, code)),
    );
    all
}

/// What the code screen offers: English and every language some
/// partnership offers.
pub async fn before_code(state: &AppState) -> Result<Vec<Language>> {
    let anywhere = state.languages.anywhere(&state.db).await?;
    Ok(with_english(state, anywhere.iter()))
}

/// What this pupil may choose now: their partnership's languages once the
/// code is known, otherwise the code screen's.
async fn offered(state: &AppState, session: &PupilSession) -> Result<Vec<Language>> {
    match session.languages() {
        Some(codes) => Ok(with_english(state, &codes)),
        None => before_code(state).await,
    }
}

#[derive(Deserialize)]
struct LanguageQuery {
    back: Option<String>,
}

/// The list of languages, each a button, with the page to go back to.
#[get("/language")]
async fn choose(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<LanguageQuery>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    let back = back_to(query.back.as_deref().unwrap_or("/"));
    let languages = offered(&state, &session).await?;
    let chrome = Chrome::new(&state, &session, None, "/language")?;
    let current = chrome.lang.clone();
    render(
        "pupil/language.html",
        chrome.with(context! {
            languages => Serde(languages),
            current => current,
            back => back,
        }),
    )
}

#[derive(Deserialize)]
struct LanguageForm {
    csrf: String,
    lang: String,
    back: String,
}

/// Switches to a language offered, then goes back to the page the pupil
/// came from. A language not offered is ignored: nothing changes.
#[post("/language")]
async fn set(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse> {
    let session = PupilSession(session);
    session.check_csrf(&form.csrf)?;
    if offered(&state, &session)
        .await?
        .iter()
        .any(|l| l.code == form.lang)
    {
        session.set_lang(&form.lang)?;
    }
    Ok(redirect(back_to(&form.back)))
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(choose).service(set);
}
