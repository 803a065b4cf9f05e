//! The pupil's browser session: an encrypted, signed cookie (actix-session's
//! cookie store), so any server instance can serve any request. It holds only
//! which code or in-progress response this browser is using, a form token, the
//! chosen language and display preferences, and when the pupil was last seen.
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
/// How stale the recorded last-seen time may be before it is written again.
/// An idle time-out can therefore come at most this much early.
const SEEN_GRANULARITY_SECONDS: i64 = 15;

const SEEN: &str = "seen";
const PREFS: &str = "prefs";

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

    pub fn set_response_id(&self, id: &str) -> Result<(), AppError> {
        self.0.remove(CODE);
        self.set(RESPONSE, id)
    }

    pub fn lang(&self) -> Option<String> {
        self.get(LANG)
    }

    pub fn set_lang(&self, lang: &str) -> Result<(), AppError> {
        self.set(LANG, lang)
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
