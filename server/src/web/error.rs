//! One error type for handlers. Each variant says which status it becomes; the
//! person sees a plain message, the log gets the whole cause. Internal error
//! text, SQL and stack traces never reach a browser.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use minijinja::context;

use crate::services::auth::HashError;
use crate::services::sittings::SittingError;
use crate::web::templates;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be understood (a malformed form, a bad upload).
    #[error("{0}")]
    BadRequest(String),
    /// 403: a form whose token does not match, or a page the user may not see.
    #[error("this form has expired or did not come from this site")]
    Csrf,
    #[error("you do not have permission to see this page")]
    Forbidden,
    #[error("page not found")]
    NotFound,
    /// 413: a request body over the limit for its form.
    #[error("the file is too large: the largest accepted is {0} MiB")]
    TooLarge(usize),
    #[error("too many attempts: please wait a minute and try again")]
    TooManyRequests,
    /// 503 with `Retry-After`: the server is at its limit for this kind of
    /// work (sign-ins being checked, an export being computed).
    #[error("{0}")]
    Busy(&'static str),
    /// 500: anything unexpected. The cause is logged, never shown: the
    /// response carries this error to `middleware::request_log`, which writes
    /// it into the request's line.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        Self::Internal(error.into())
    }
}

impl From<SittingError> for AppError {
    fn from(error: SittingError) -> Self {
        match error {
            SittingError::Invalid(_) | SittingError::Closed => Self::BadRequest(error.to_string()),
            SittingError::Database(e) => Self::Internal(e.into()),
            SittingError::Survey(e) => Self::Internal(e.into()),
        }
    }
}

impl From<minijinja::Error> for AppError {
    fn from(error: minijinja::Error) -> Self {
        Self::Internal(error.into())
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Csrf | AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            AppError::Internal(_) => {
                "Something went wrong on our side. Please try again in a moment.".to_owned()
            }
            other => capitalise(&other.to_string()),
        };
        let mut response = error_page(status, &message);
        if let AppError::Busy(_) = self {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// How long a client is asked to wait after a busy answer.
pub const RETRY_AFTER_SECONDS: &str = "5";

impl From<HashError> for AppError {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => Self::Busy(
                "Many people are signing in at once. Please wait a few seconds and try again.",
            ),
            other => Self::Internal(other.into()),
        }
    }
}

/// A plain error page with no internals, never cached.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let body = templates::render(
        "error.html",
        context! { status => status.as_u16(), message => message, lang => "en", dir => "ltr" },
    )
    .unwrap_or_else(|_| {
        format!(
            "<!doctype html><title>Error</title><p>{}</p>",
            status.as_u16()
        )
    });
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
