//! The staff session: an encrypted, signed cookie (actix-session's cookie
//! store) named `staff`, sent only to `/staff`. It holds the signed-in account,
//! a form token and when the person was last seen. Signing in starts a new
//! session (new token, new cookie), so a cookie planted before sign-in is worth
//! nothing after it; a session idle for longer than the timeout ends.

use actix_session::Session;
use chrono::Utc;

use crate::web::csrf;
use crate::web::error::AppError;

const USER: &str = "uid";
const SEEN: &str = "seen";

pub struct StaffSession(pub Session);

impl StaffSession {
    pub fn user_id(&self) -> Option<i32> {
        self.0.get::<i32>(USER).ok().flatten()
    }

    /// The form token for this session (see [`csrf::token`]).
    pub fn csrf(&self) -> Result<String, AppError> {
        csrf::token(&self.0)
    }

    /// Refuses a form whose token is missing or differs from the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        csrf::check(&self.0, submitted)
    }

    /// Starts a fresh signed-in session: everything from before is dropped and
    /// the session is renewed, with a new form token.
    pub fn start(&self, user_id: i32) -> Result<(), AppError> {
        self.0.clear();
        self.0.renew();
        self.0.insert(USER, user_id).map_err(AppError::internal)?;
        self.0
            .insert(SEEN, Utc::now().timestamp())
            .map_err(AppError::internal)?;
        self.csrf()?;
        Ok(())
    }

    /// Checks the idle timeout and, for a request the person made themselves
    /// (`active`), records the activity. An automatic refresh is not activity,
    /// so a progress page left open on an unattended screen still times out.
    /// False when the session was idle past `idle_minutes`.
    pub fn touch(&self, idle_minutes: u32, active: bool) -> Result<bool, AppError> {
        let now = Utc::now().timestamp();
        let seen = self.0.get::<i64>(SEEN).ok().flatten().unwrap_or(0);
        if now - seen > i64::from(idle_minutes) * 60 {
            return Ok(false);
        }
        if active {
            self.0.insert(SEEN, now).map_err(AppError::internal)?;
        }
        Ok(true)
    }

    /// Ends the session and removes the cookie.
    pub fn end(&self) {
        self.0.purge();
    }
}
