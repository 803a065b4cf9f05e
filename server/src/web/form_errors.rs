//! What is wrong with a submitted form, field by field, for the page's error
//! summary (`templates/partials/error_summary.html`) and the message beside
//! each field.

use actix_web::http::StatusCode;
use serde::Serialize;

use crate::services::sittings::Problem;

/// A form field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl From<Problem> for FieldError {
    fn from(p: Problem) -> Self {
        Self::new(p.field, p.message)
    }
}

/// 422 when a form comes back with problems, else 200.
pub fn status(errors: &[FieldError]) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}
