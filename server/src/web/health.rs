//! `GET /healthz`: 200 with a small JSON body when the database answers, 503
//! otherwise. Load balancers use it to take a broken instance out of rotation.

use actix_web::{HttpResponse, get, web};
use serde_json::json;

use crate::state::AppState;
use crate::store;

#[get("/healthz")]
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let backend = store::backend_name(&state.db);
    if store::ping(&state.db).await {
        HttpResponse::Ok().json(json!({ "status": "ok", "database": backend }))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "unavailable", "database": backend }))
    }
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz);
}
