//! Form tokens: one random token per browser session, kept in the session's
//! encrypted cookie and sent back with every form. Pupil and staff sessions
//! both use these.

use actix_session::Session;
use rand::Rng;

use super::error::AppError;

/// The session key the token is kept under.
const CSRF: &str = "csrf";

/// The form token for this session, made on first use.
pub fn token(session: &Session) -> Result<String, AppError> {
    if let Some(token) = session.get::<String>(CSRF).ok().flatten() {
        return Ok(token);
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    session.insert(CSRF, &token).map_err(AppError::internal)?;
    Ok(token)
}

/// Refuses a form whose token is missing or differs from the session's.
pub fn check(session: &Session, submitted: &str) -> Result<(), AppError> {
    match session.get::<String>(CSRF).ok().flatten() {
        Some(expected) if constant_time_eq(expected.as_bytes(), submitted.as_bytes()) => Ok(()),
        _ => Err(AppError::Csrf),
    }
}

/// Compares without stopping at the first difference, so the time taken says
/// nothing about how much of a guessed token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn equal_only_when_every_byte_and_the_length_match() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
