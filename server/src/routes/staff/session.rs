//! The staff session: an encrypted, signed cookie (actix-session's cookie
//! store) named `staff`, sent only to `/staff`. It holds the signed-in account,
//! a form token and when the person was last seen. Signing in starts a new
//! session (new token, new cookie), so a cookie planted before sign-in is worth
//! nothing after it; a session idle for longer than the timeout ends.

use actix_session::Session;
use chrono::Utc;
use rand::Rng;

use crate::error::AppError;

const USER: &str = "uid";
const CSRF: &str = "csrf";
const SEEN: &str = "seen";

pub struct StaffSession(pub Session);

impl StaffSession {
    pub fn user_id(&self) -> Option<i32> {
        self.0.get::<i32>(USER).ok().flatten()
    }

    /// The form token for this session, made on first use.
    pub fn csrf(&self) -> Result<String, AppError> {
        if let Some(token) = self.0.get::<String>(CSRF).ok().flatten() {
            return Ok(token);
        }
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        let token = hex::encode(bytes);
        self.0.insert(CSRF, &token).map_err(AppError::internal)?;
        Ok(token)
    }

    /// Refuses a form whose token is missing or differs from the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), AppError> {
        match self.0.get::<String>(CSRF).ok().flatten() {
            Some(expected) if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) => Ok(()),
            _ => Err(AppError::Csrf),
        }
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
