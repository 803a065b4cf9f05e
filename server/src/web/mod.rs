//! Everything HTTP: routes (one folder or file per feature, each with a
//! `config` function), forms, templates, middleware and the error pages.

pub mod assets;
pub mod check;
pub mod client;
pub mod csrf;
pub mod dates;
pub mod error;
pub mod form_errors;
pub mod forms;
pub mod health;
pub mod middleware;
pub mod pieces;
pub mod pupil;
pub mod staff;
pub mod templates;

use actix_web::HttpResponse;
use actix_web::http::header;

/// 303 See Other to `to`: the answer to every form that worked, so a reload
/// or Back never posts it again.
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
