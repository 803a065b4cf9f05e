//! `GET /check`: the device check staff open on each school device before a
//! sitting. It answers, in a few seconds and in plain green and red lines,
//! whether the device can take the survey: cookies, the pupil stylesheet and
//! script, a read-aloud voice, and the round trip to the server.
//!
//! Nothing about the device is stored: the cookie test is a short-lived
//! cookie holding a random value, set on the first request and read back on
//! the redirect that follows it, so the answer is known without JavaScript.
//! The checks that need a script (voices, round trips) run in the pupil
//! script itself, so that its running at all proves it loads.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse, get, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::state::AppState;
use crate::web::error::AppError;
use crate::web::templates;

/// The test cookie's name. It is sent back only to `/check`.
const COOKIE: &str = "device-check";

/// How long the test cookie lives: long enough for the redirect and a
/// reload, short enough that it is gone before the first pupil sits down.
const COOKIE_SECONDS: i64 = 120;

/// The round trip, in milliseconds, that the page calls fast enough: the
/// median of a few requests for an empty answer. A page save takes a few
/// such trips' time, so above this pupils wait noticeably at every Next.
pub const ROUND_TRIP_LIMIT_MS: u32 = 500;

#[derive(Deserialize)]
struct CheckQuery {
    /// The value the test cookie was set to, carried in the address so the
    /// second request knows what to look for.
    sent: Option<String>,
}

/// A language the survey ships, for the read-aloud line.
#[derive(Serialize)]
struct Language {
    code: String,
    name: String,
}

#[get("/check")]
async fn check(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CheckQuery>,
) -> Result<HttpResponse, AppError> {
    let Some(sent) = query.sent.as_deref() else {
        let value = random_value();
        let cookie = Cookie::build(COOKIE, value.clone())
            .path("/check")
            .http_only(true)
            .secure(state.settings.secure_cookies)
            .same_site(SameSite::Strict)
            .max_age(Duration::seconds(COOKIE_SECONDS))
            .finish();
        return Ok(HttpResponse::SeeOther()
            .cookie(cookie)
            .insert_header(("Location", format!("/check?sent={value}")))
            .finish());
    };
    let cookies_work = is_test_value(sent) && req.cookie(COOKIE).is_some_and(|c| c.value() == sent);
    let mut languages: Vec<Language> = state
        .locales
        .all()
        .map(|strings| Language {
            code: strings.code.clone(),
            name: strings.name.clone(),
        })
        .collect();
    // English first: it is the line's verdict; the others follow.
    languages.sort_by_key(|l| (l.code != "en", l.code.clone()));
    let html = templates::render(
        "check/device.html",
        context! {
            cookies_work => cookies_work,
            languages => minijinja::value::Serde(languages),
            round_trip_limit_ms => ROUND_TRIP_LIMIT_MS,
        },
    )?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// The tiny endpoint the page times its round trips against: no body, no
/// database, no cookie.
#[get("/check/ping")]
async fn ping() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// 64 random bits, hex: enough that an old cookie cannot pass for a new one.
fn random_value() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Whether `text` looks like a value [`random_value`] makes, checked before
/// it is compared or shown.
fn is_test_value(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(check).service(ping);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_test_value_is_recognised_and_junk_is_not() {
        assert!(is_test_value(&random_value()));
        assert!(!is_test_value(""));
        assert!(!is_test_value("<script>alert(1)"));
        assert!(!is_test_value("0123456789abcdef0"));
    }
}
