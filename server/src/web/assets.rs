//! Stylesheet and script, embedded in the binary and served from this origin
//! only: pupil pages make no third-party requests. They hold no secret, so
//! they are compressed for clients that accept it.

use actix_web::middleware::Compress;
use actix_web::{HttpResponse, get, web};

const CSS: &str = include_str!("../../static/survey.css");
const JS: &str = include_str!("../../static/survey.js");
const STAFF_JS: &str = include_str!("../../static/staff.js");

#[get("/static/survey.css", wrap = "Compress::default()")]
async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CSS)
}

#[get("/static/survey.js", wrap = "Compress::default()")]
async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(JS)
}

/// Staff pages' script: updates the progress counts in place.
#[get("/static/staff.js", wrap = "Compress::default()")]
async fn staff_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STAFF_JS)
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(css).service(js).service(staff_js);
}
