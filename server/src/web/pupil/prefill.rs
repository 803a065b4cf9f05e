//! A code from a slip's QR code, carried across one redirect.
//!
//! The QR code holds the code page's address with `?code=…`. Left in the
//! address bar, that code would stay in the shared device's history for the
//! next pupil (or anyone) to find. So `/?code=…` is answered at once with a
//! redirect to the bare `/`, and the code waits for that one page load in an
//! encrypted cookie that lasts five minutes at most and is removed when read.
//!
//! The cookie is `SameSite=Lax`, unlike the pupil's session: a scanned QR
//! code opens the page from another app, and a `Strict` cookie set on that
//! visit would not come back with the redirect.

use actix_web::cookie::{Cookie, CookieJar, Key, SameSite, time::Duration};
use actix_web::{HttpRequest, HttpResponse};

use crate::state::AppState;

const PREFILL: &str = "prefill";
/// Longest text kept: a code with its dashes and some slack.
const MAX_CHARS: usize = 32;

fn key(state: &AppState) -> Key {
    Key::from(&state.secret.derive_key("code-prefill"))
}

/// The redirect to the bare code page, carrying `code` in the cookie.
pub fn redirect_with(state: &AppState, code: &str) -> HttpResponse {
    let text: String = code.trim().chars().take(MAX_CHARS).collect();
    let cookie = Cookie::build(PREFILL, text)
        .path("/")
        .http_only(true)
        .secure(state.settings.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(Duration::minutes(5))
        .finish();
    let mut jar = CookieJar::new();
    jar.private_mut(&key(state)).add(cookie);
    let mut response = super::redirect("/");
    for sealed in jar.delta() {
        // A cookie the jar itself built always serialises.
        if let Err(error) = response.add_cookie(sealed) {
            tracing::warn!(%error, "could not set the code prefill cookie");
        }
    }
    response
}

/// The code waiting in the request's cookie, if any (and if it is ours).
pub fn take(state: &AppState, req: &HttpRequest) -> Option<String> {
    let sealed = req.cookie(PREFILL)?;
    let mut jar = CookieJar::new();
    jar.add_original(sealed);
    jar.private(&key(state))
        .get(PREFILL)
        .map(|c| c.value().to_owned())
}

/// Removes the cookie, once its code has been shown.
pub fn forget(response: &mut HttpResponse) {
    let mut gone = Cookie::build(PREFILL, "").path("/").finish();
    gone.make_removal();
    if let Err(error) = response.add_cookie(&gone) {
        tracing::warn!(%error, "could not remove the code prefill cookie");
    }
}
