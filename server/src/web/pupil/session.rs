//! The pupil's browser session: an encrypted, signed cookie (actix-session's
//! cookie store), so any server instance can serve any request. It holds only
//! which code or in-progress response this browser is using, the partnership
//! running its sitting and the sitting's band (so every page can link to the
//! partnership's notices and help, in the band's words), a form token, the
//! chosen language and the languages the partnership offers, display
//! preferences, the
//! questions answered on this device (see [`Known`]), and when the pupil was
//! last seen.
//! It is emptied and the cookie removed when the pupil finishes, stops or
//! withdraws, or leaves the device idle.

use actix_session::Session;
use chrono::Utc;
use serde::{Deserialize, Serialize};

use crate::web::csrf;
use crate::web::error::AppError;

const CODE: &str = "code";
const RESPONSE: &str = "rid";
const LANG: &str = "lang";
const LANGS: &str = "langs";
const PARTNERSHIP: &str = "cpp";
const BAND: &str = "band";
/// How stale the recorded last-seen time may be before it is written again.
/// An idle time-out can therefore come at most this much early.
const SEEN_GRANULARITY_SECONDS: i64 = 15;

const SEEN: &str = "seen";
const PREFS: &str = "prefs";
const KNOWN: &str = "known";

/// The questions (by ordinal) answered in this session, whose saved answers
/// this device may show. An answer saved by another device, or in an
/// earlier session on this one, is not shown: someone holding a pupil's
/// printed code must not be able to read what the pupil said by typing it
/// on another device. Kept as a bitmap, in hex, so it stays small in the
/// cookie.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Known(Vec<u8>);

impl Known {
    pub fn contains(&self, ordinal: u16) -> bool {
        let (byte, bit) = (usize::from(ordinal / 8), ordinal % 8);
        self.0.get(byte).is_some_and(|b| b & (1 << bit) != 0)
    }

    pub fn insert(&mut self, ordinal: u16) {
        let (byte, bit) = (usize::from(ordinal / 8), ordinal % 8);
        if self.0.len() <= byte {
            self.0.resize(byte + 1, 0);
        }
        self.0[byte] |= 1 << bit;
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn from_hex(text: &str) -> Option<Self> {
        if !text.len().is_multiple_of(2) || text.len() > 2048 {
            return None;
        }
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
            .map(Self)
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Prefs {
    pub large: bool,
    pub contrast: bool,
}

pub struct PupilSession(pub Session);

impl PupilSession {
    fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0.get::<T>(key).ok().flatten()
    }

    fn set<T: Serialize>(&self, key: &str, value: T) -> Result<(), AppError> {
        self.0.insert(key, value).map_err(AppError::internal)
    }

    /// The form token for this session (see [`csrf::token`]).
    pub fn csrf(&self) -> Result<String, AppError> {
        csrf::token(&self.0)
    }

    /// Refuses a form whose token is missing or differs from the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        csrf::check(&self.0, submitted)
    }

    pub fn code_id(&self) -> Option<i32> {
        self.get(CODE)
    }

    pub fn set_code_id(&self, id: i32) -> Result<(), AppError> {
        self.0.remove(RESPONSE);
        self.set(CODE, id)
    }

    pub fn response_id(&self) -> Option<String> {
        self.get(RESPONSE)
    }

    /// Uses response `id` from now on; a different response than before
    /// starts with no question known to this device.
    pub fn set_response_id(&self, id: &str) -> Result<(), AppError> {
        self.0.remove(CODE);
        if self.response_id().as_deref() != Some(id) {
            self.0.remove(KNOWN);
        }
        self.set(RESPONSE, id)
    }

    /// The questions answered on this device in this session.
    pub fn known(&self) -> Known {
        self.get::<String>(KNOWN)
            .and_then(|hex| Known::from_hex(&hex))
            .unwrap_or_default()
    }

    pub fn set_known(&self, known: &Known) -> Result<(), AppError> {
        let hex = known.to_hex();
        if self.get::<String>(KNOWN).as_deref() == Some(hex.as_str()) {
            // Unchanged: the cookie is not sent again.
            return Ok(());
        }
        self.set(KNOWN, hex)
    }

    /// The GSS code of the partnership running the pupil's sitting.
    pub fn partnership(&self) -> Option<String> {
        self.get(PARTNERSHIP)
    }

    pub fn set_partnership(&self, gss_code: &str) -> Result<(), AppError> {
        if self.partnership().as_deref() == Some(gss_code) {
            return Ok(());
        }
        self.set(PARTNERSHIP, gss_code)
    }

    /// The band of the pupil's sitting: "primary" or "secondary".
    pub fn band(&self) -> Option<String> {
        self.get(BAND)
    }

    pub fn set_band(&self, band: &str) -> Result<(), AppError> {
        if self.band().as_deref() == Some(band) {
            return Ok(());
        }
        self.set(BAND, band)
    }

    pub fn lang(&self) -> Option<String> {
        self.get(LANG)
    }

    pub fn set_lang(&self, lang: &str) -> Result<(), AppError> {
        if self.lang().as_deref() == Some(lang) {
            return Ok(());
        }
        self.set(LANG, lang)
    }

    /// The languages the pupil's partnership offers besides the
    /// questionnaire's own, once the code is known.
    pub fn languages(&self) -> Option<Vec<String>> {
        self.get(LANGS)
    }

    pub fn set_languages(&self, languages: &[String]) -> Result<(), AppError> {
        if self.languages().as_deref() == Some(languages) {
            return Ok(());
        }
        self.set(LANGS, languages)
    }

    /// Whether the pupil may see `lang`: before the code, any language the
    /// code page offered (it checks); after it, the questionnaire's default
    /// (`default`) or one the partnership offers.
    pub fn may_use(&self, lang: &str, default: &str) -> bool {
        lang == default
            || self
                .languages()
                .is_none_or(|offered| offered.iter().any(|l| l == lang))
    }

    pub fn prefs(&self) -> Prefs {
        self.get(PREFS).unwrap_or_default()
    }

    pub fn set_prefs(&self, prefs: Prefs) -> Result<(), AppError> {
        self.set(PREFS, prefs)
    }

    /// Marks the pupil as active now. Returns false, and empties the session,
    /// when the pupil had been idle longer than `idle_minutes`.
    pub fn touch(&self, idle_minutes: u32) -> Result<bool, AppError> {
        let now = Utc::now().timestamp();
        match self.get::<i64>(SEEN) {
            Some(seen) if now - seen > i64::from(idle_minutes) * 60 => {
                self.clear();
                Ok(false)
            }
            // Recent enough: leaving the session unchanged means the cookie
            // is not encrypted and sent again with every page.
            Some(seen) if (0..SEEN_GRANULARITY_SECONDS).contains(&(now - seen)) => Ok(true),
            _ => {
                self.set(SEEN, now)?;
                Ok(true)
            }
        }
    }

    /// Forgets everything and removes the cookie.
    pub fn clear(&self) {
        self.0.purge();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_questions_survive_the_cookie() {
        let mut known = Known::default();
        for ordinal in [0, 7, 8, 200, 3] {
            known.insert(ordinal);
        }
        let back = Known::from_hex(&known.to_hex()).unwrap();
        assert_eq!(back, known);
        for ordinal in 0..256 {
            assert_eq!(
                back.contains(ordinal),
                [0, 3, 7, 8, 200].contains(&ordinal),
                "{ordinal}"
            );
        }
        assert_eq!(Known::from_hex("zz"), None);
        assert_eq!(Known::from_hex("abc"), None);
    }
}
