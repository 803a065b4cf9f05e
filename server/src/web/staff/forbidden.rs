//! Refusals in the audit log. Every 403 answered to a signed-in staff member
//! under `/staff` (a page their role or scope does not reach, or a form whose
//! token does not match) is appended to the audit log as `forbidden`, under
//! that account, with the method and the path asked for. The query string
//! and the body are never recorded: a reset token or whatever was typed
//! into a form stays out of the log.
//!
//! This runs once for the whole scope, inside the staff session (`startup`),
//! so no handler has to remember it.

use actix_session::SessionExt;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::session::StaffSession;
use crate::services::auth::StaffUser;
use crate::state::AppState;
use crate::store::{audit, staff as store};

/// The audit action of a refusal.
pub const FORBIDDEN: &str = "forbidden";

/// The longest path recorded, in characters.
const MAX_PATH: usize = 200;

/// Records a 403 answered to a signed-in staff member (see the module).
pub async fn audit_forbidden(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    // Taken before the call: the request itself must not be held (routing
    // needs it unshared).
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let session = StaffSession(req.get_session());
    let path: String = req.path().chars().take(MAX_PATH).collect();
    let detail = format!("{} {path}", req.method());
    let result = next.call(req).await;
    let (status, known) = match &result {
        Ok(response) => (
            response.status(),
            response
                .request()
                .extensions()
                .get::<StaffUser>()
                .map(|user| (user.id, user.email.clone())),
        ),
        Err(error) => (error.as_response_error().status_code(), None),
    };
    if status == StatusCode::FORBIDDEN
        && let Some(state) = state
    {
        record(&state, &session, known, &detail).await;
    }
    result
}

/// Appends a refusal under the account that asked, if one is signed in: the
/// account the `Staff` extractor found, or else the one the session names (a
/// refusal that came before the handler asked for it). A failure to write is
/// logged; the refusal stands either way.
async fn record(
    state: &AppState,
    session: &StaffSession,
    known: Option<(i32, String)>,
    detail: &str,
) {
    let who = match known {
        Some(who) => Some(who),
        None => match session.user_id() {
            Some(id) => match store::by_id(&state.db, id).await {
                Ok(row) => row.map(|row| (row.id, row.email)),
                Err(error) => {
                    tracing::error!(%error, "finding the account of a refused request");
                    None
                }
            },
            None => None,
        },
    };
    let Some((id, email)) = who else {
        return;
    };
    if let Err(error) = audit::record(&state.db, Some(id), &email, FORBIDDEN, detail).await {
        tracing::error!(%error, "recording a refused request in the audit log");
    }
}
