//! The staff session: an encrypted, signed cookie (actix-session's cookie
//! store) named `staff`, sent only to `/staff`. It holds the signed-in account,
//! the account's session version at sign-in, a form token, when the session
//! started and when the person was last seen. Signing in starts a new
//! session (new token, new cookie), so a cookie planted before sign-in is worth
//! nothing after it; a session idle for longer than the timeout ends, and so
//! does any session older than its absolute lifetime. The account's session
//! version goes up at sign-out, password reset, role change and deactivation,
//! which ends every copy of every cookie of that account at once.

use actix_session::Session;
use chrono::Utc;

use crate::web::csrf;
use crate::web::error::AppError;

const USER: &str = "uid";
const VERSION: &str = "ver";
const STARTED: &str = "start";
const SEEN: &str = "seen";

pub struct StaffSession(pub Session);

impl StaffSession {
    pub fn user_id(&self) -> Option<i32> {
        self.0.get::<i32>(USER).ok().flatten()
    }

    /// The account's session version when this session started.
    pub fn version(&self) -> Option<i32> {
        self.0.get::<i32>(VERSION).ok().flatten()
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
    pub fn start(&self, user_id: i32, version: i32) -> Result<(), AppError> {
        self.0.clear();
        self.0.renew();
        let now = Utc::now().timestamp();
        self.0.insert(USER, user_id).map_err(AppError::internal)?;
        self.0
            .insert(VERSION, version)
            .map_err(AppError::internal)?;
        self.0.insert(STARTED, now).map_err(AppError::internal)?;
        self.0.insert(SEEN, now).map_err(AppError::internal)?;
        self.csrf()?;
        Ok(())
    }

    /// Checks the idle timeout and, for a request the person made themselves
    /// (`active`), records the activity. An automatic refresh is not activity,
    /// so a progress page left open on an unattended screen still times out.
    /// False when the session was idle past `idle_minutes`, or started
    /// more than `lifetime_hours` ago.
    pub fn touch(
        &self,
        idle_minutes: u32,
        lifetime_hours: u32,
        active: bool,
    ) -> Result<bool, AppError> {
        let now = Utc::now().timestamp();
        let seen = self.0.get::<i64>(SEEN).ok().flatten().unwrap_or(0);
        let started = self.0.get::<i64>(STARTED).ok().flatten().unwrap_or(0);
        if now - seen > i64::from(idle_minutes) * 60
            || now - started > i64::from(lifetime_hours) * 3600
        {
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
