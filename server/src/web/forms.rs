//! How malformed requests are answered: an oversized body gets 413, a form that
//! cannot be decoded (including bytes that are not UTF-8) gets 400, each with a
//! plain page and nothing stored.

use actix_web::error::{QueryPayloadError, UrlencodedError};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, ResponseError, web};

use crate::web::error::error_page;

#[derive(Debug, thiserror::Error)]
enum FormRejection {
    #[error("The form was too large to accept.")]
    TooLarge,
    #[error("The form could not be read. Please go back and try again.")]
    Malformed,
}

impl ResponseError for FormRejection {
    fn status_code(&self) -> StatusCode {
        match self {
            FormRejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            FormRejection::Malformed => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        error_page(self.status_code(), &self.to_string())
    }
}

pub fn form_config(limit: usize) -> web::FormConfig {
    web::FormConfig::default().limit(limit).error_handler(
        |error: UrlencodedError, _req: &HttpRequest| {
            let rejection = match error {
                UrlencodedError::Overflow { .. } => FormRejection::TooLarge,
                other => {
                    tracing::info!(error = %other, "rejected a malformed form");
                    FormRejection::Malformed
                }
            };
            rejection.into()
        },
    )
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_error: QueryPayloadError, _req: &HttpRequest| {
        FormRejection::Malformed.into()
    })
}
