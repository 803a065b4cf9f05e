//! Stylesheet and script, embedded in the binary and served from this origin
//! only: pupil pages make no third-party requests.

use actix_web::{HttpResponse, get, web};

const CSS: &str = include_str!("../../static/survey.css");
const JS: &str = include_str!("../../static/survey.js");
const STAFF_JS: &str = include_str!("../../static/staff.js");

#[get("/static/survey.css")]
async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(CSS)
}

#[get("/static/survey.js")]
async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(JS)
}

/// Staff pages' script: updates the progress counts in place.
#[get("/static/staff.js")]
async fn staff_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(STAFF_JS)
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(css).service(js).service(staff_js);
}
