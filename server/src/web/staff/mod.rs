//! Everything school staff, partnership coordinators and analysts, and
//! administrators do, under `/staff`. Staff see counts, never a pupil's answers.
//!
//! Every handler takes a [`Staff`] (which refuses anyone not signed in) and
//! checks the role and the scope (which partnership, which school) of what it
//! touches before reading it. Every form carries the session's CSRF token.

mod admin;
mod forbidden;
mod letter;
mod questionnaire;
mod releases;
pub mod routes;
mod school_form;
mod session;
mod sittings;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Deserialize;

use crate::services::Actor;
use crate::services::accounts;
use crate::services::auth::{self, Role, StaffUser};
use crate::state::AppState;
use crate::store::{audit, staff as store};
use crate::web::client::{budget_key, client_ip};
use crate::web::error::AppError;
use crate::web::redirect;
use crate::web::templates;
pub use forbidden::{FORBIDDEN, audit_forbidden};
use routes::Routes;
pub use session::StaffSession;

type Result<T> = std::result::Result<T, AppError>;

/// Sent to the login page: not signed in, or the session went idle.
#[derive(Debug, thiserror::Error)]
enum SignIn {
    #[error("please sign in")]
    Required,
    #[error("signed out after inactivity")]
    TimedOut,
}

impl ResponseError for SignIn {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            SignIn::Required => redirect("/staff/login"),
            SignIn::TimedOut => redirect("/staff/login?notice=timeout"),
        }
    }
}

/// A signed-in staff member with their session. Extracting it refuses anyone
/// not signed in, an account since disabled, a session of the account's that
/// has been ended, or a session idle for too long or older than its lifetime.
pub struct Staff {
    pub user: StaffUser,
    pub session: StaffSession,
}

impl FromRequest for Staff {
    type Error = actix_web::Error;
    type Future = std::pin::Pin<Box<dyn Future<Output = std::result::Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = StaffSession(req.get_session());
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        // Automatic refreshes of the progress page carry `auto=`.
        let automatic = req
            .query_string()
            .split('&')
            .any(|pair| pair.starts_with("auto="));
        Box::pin(async move {
            let state = state
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("application state missing")))?;
            let Some(id) = session.user_id() else {
                return Err(SignIn::Required.into());
            };
            let settings = &state.settings;
            if !session.touch(
                settings.staff_idle_minutes,
                settings.staff_session_hours,
                !automatic,
            )? {
                session.end();
                return Err(SignIn::TimedOut.into());
            }
            let row = store::by_id(&state.db, id).await.map_err(AppError::from)?;
            // A session started before the account's sessions were ended
            // (sign-out elsewhere, reset, role change, deactivation) is over.
            let current = row.filter(|r| r.active && session.version() == Some(r.session_version));
            let user = current.map(|r| StaffUser {
                id: r.id,
                role: r.role.0,
                email: r.email,
                cpp_id: r.cpp_id,
                school_id: r.school_id,
            });
            match user {
                Some(user) => {
                    // For `forbidden::audit_forbidden`, should the answer be a 403.
                    req.extensions_mut().insert(user.clone());
                    Ok(Staff { user, session })
                }
                None => {
                    session.end();
                    Err(SignIn::Required.into())
                }
            }
        })
    }
}

impl Staff {
    /// Checks the form token, or refuses the request.
    pub fn check_csrf(&self, submitted: &str) -> Result<()> {
        self.session.check_csrf(submitted)
    }

    pub fn require_admin(&self) -> Result<()> {
        if self.user.is_admin() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Renders a staff page with the signed-in chrome (who, role, form token).
    pub fn page(&self, name: &str, ctx: Value) -> Result<HttpResponse> {
        self.page_with_status(actix_web::http::StatusCode::OK, name, ctx)
    }

    pub fn page_with_status(
        &self,
        status: actix_web::http::StatusCode,
        name: &str,
        ctx: Value,
    ) -> Result<HttpResponse> {
        let chrome = context! {
            me => Serde(&self.user),
            role_name => self.user.role.describe(),
            csrf => self.session.csrf()?,
        };
        html(
            status,
            &templates::render(name, context! { ..chrome, ..ctx })?,
        )
    }

    /// This staff member, as the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            id: self.user.id,
            email: self.user.email.clone(),
        }
    }

    /// Appends to the audit log as this staff member (for actions that write
    /// nothing else; a service records its own entry with its writes).
    pub async fn audit(&self, state: &AppState, action: &str, detail: &str) -> Result<()> {
        audit::record(
            &state.db,
            Some(self.user.id),
            &self.user.email,
            action,
            detail,
        )
        .await?;
        Ok(())
    }
}

fn html(status: actix_web::http::StatusCode, body: &str) -> Result<HttpResponse> {
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body.to_owned()))
}

/// A page for someone not signed in (login, password reset).
fn public_page(
    session: &StaffSession,
    status: actix_web::http::StatusCode,
    name: &str,
    ctx: Value,
) -> Result<HttpResponse> {
    let csrf = session.csrf()?;
    html(
        status,
        &templates::render(name, context! { csrf => csrf, ..ctx })?,
    )
}

#[derive(Deserialize)]
struct LoginQuery {
    notice: Option<String>,
}

async fn login_page(session: Session, query: web::Query<LoginQuery>) -> Result<HttpResponse> {
    let session = StaffSession(session);
    let notice = match query.notice.as_deref() {
        Some("timeout") => Some("You were signed out because the page was left idle."),
        Some("out") => Some("You have signed out."),
        Some("reset") => Some("Your password has been changed. Sign in with the new one."),
        _ => None,
    };
    public_page(
        &session,
        actix_web::http::StatusCode::OK,
        "staff/login.html",
        context! { notice => notice },
    )
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
}

/// The one message for every failed login, so it never tells which accounts exist.
const LOGIN_FAILED: &str = "The e-mail address or password is not right";
const LOGIN_THROTTLED: &str = "Too many attempts to sign in. Wait a few minutes and try again, or ask an administrator to reset your password.";

/// Signs in. An unknown address costs the same hash as a wrong password and
/// gets the same answer, and the same writes (one audit entry). Failures
/// drain a budget per client address; after
/// [`auth::DELAY_AFTER_FAILURES`] failures in a row on one typed address,
/// addresses that have failed wait longer and longer between attempts on
/// it, while an address that has not failed is never made to wait.
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    session: Session,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse> {
    let session = StaffSession(session);
    session.check_csrf(&form.csrf)?;
    let email = form.email.trim().to_lowercase();
    let ip = budget_key(client_ip(&req, &state.settings));
    let failed = |message: &str, status: actix_web::http::StatusCode| {
        public_page(
            &session,
            status,
            "staff/login.html",
            context! { error => message, email => form.email.trim() },
        )
    };
    let guard = &state.staff;
    if email.is_empty() || form.password.is_empty() {
        return failed(
            "Enter your e-mail address and password",
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let delayed = guard.address_failures.has_failed(&ip) && guard.delays.wait(&email).is_some();
    if !guard.address_failures.allows(&ip) || delayed {
        return failed(
            LOGIN_THROTTLED,
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let row = store::by_email(&state.db, &email).await?;
    let matches = guard
        .verify(
            &form.password,
            row.as_ref().map(|r| r.password_hash.as_str()),
        )
        .await?;
    match row {
        Some(row) if matches && row.active => {
            // A hash made at an older cost is replaced now that the password
            // is known to be right.
            let upgraded = if auth::needs_rehash(&row.password_hash) {
                Some(guard.hash(&form.password).await?)
            } else {
                None
            };
            guard.delays.succeed(&email);
            accounts::signed_in(&state.db, &row, upgraded.as_deref()).await?;
            session.start(row.id, row.session_version)?;
            Ok(redirect("/staff"))
        }
        row => {
            guard.address_failures.fail(&ip, "staff login");
            guard.delays.fail(&email);
            accounts::sign_in_failed(&state.db, row.as_ref()).await?;
            failed(
                LOGIN_FAILED,
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    accounts::signed_out(&state.db, &staff.actor(), staff.user.id).await?;
    staff.session.end();
    Ok(redirect("/staff/login?notice=out"))
}

/// The start page: what this person can reach.
async fn home(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse> {
    match staff.user.role {
        Role::School => match staff.user.school_id {
            Some(id) => Ok(redirect(&format!("/staff/schools/{id}"))),
            None => Err(AppError::Forbidden),
        },
        Role::Coordinator => match staff.user.cpp_id {
            Some(id) => Ok(redirect(&format!("/staff/cpps/{id}"))),
            None => Err(AppError::Forbidden),
        },
        // An analyst's only pages are their partnership's downloads.
        Role::Analyst => match staff.user.cpp_id {
            Some(id) => Ok(redirect(&format!("/staff/cpps/{id}/releases"))),
            None => Err(AppError::Forbidden),
        },
        Role::Admin => admin::overview(&state, &staff).await,
    }
}

#[derive(Deserialize)]
struct ResetQuery {
    token: String,
}

fn reset_token_hash(state: &AppState, token: &str) -> String {
    accounts::reset_token_hash(&state.secret, token)
}

/// The page a one-time reset link opens: choose a new password.
async fn reset_page(
    state: web::Data<AppState>,
    session: Session,
    query: web::Query<ResetQuery>,
) -> Result<HttpResponse> {
    let session = StaffSession(session);
    let hash = reset_token_hash(&state, &query.token);
    if store::by_reset_token(&state.db, &hash, Utc::now())
        .await?
        .is_none()
    {
        return public_page(
            &session,
            actix_web::http::StatusCode::NOT_FOUND,
            "staff/reset.html",
            context! { expired => true },
        );
    }
    public_page(
        &session,
        actix_web::http::StatusCode::OK,
        "staff/reset.html",
        context! { token => &query.token },
    )
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    token: String,
    password: String,
    confirm: String,
}

async fn reset(
    state: web::Data<AppState>,
    session: Session,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse> {
    let session = StaffSession(session);
    session.check_csrf(&form.csrf)?;
    let hash = reset_token_hash(&state, &form.token);
    let Some(row) = store::by_reset_token(&state.db, &hash, Utc::now()).await? else {
        return public_page(
            &session,
            actix_web::http::StatusCode::NOT_FOUND,
            "staff/reset.html",
            context! { expired => true },
        );
    };
    let problem = if form.password != form.confirm {
        Some("The two passwords do not match".to_owned())
    } else {
        auth::check_password(&form.password, &row.email)
            .err()
            .map(|p| p.to_string())
    };
    if let Some(problem) = problem {
        return public_page(
            &session,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "staff/reset.html",
            context! { token => &form.token, error => problem },
        );
    }
    let new_hash = state.staff.hash(&form.password).await?;
    accounts::reset_password(&state.db, &row, &new_hash).await?;
    session.end();
    Ok(redirect("/staff/login?notice=reset"))
}

/// Registers every staff route, on the scope mounted at [`routes::SCOPE`].
pub fn config(cfg: &mut web::ServiceConfig) {
    routes(&mut Routes::registering(cfg));
}

/// Every staff route, through the one table that both registers and lists
/// them ([`routes::table`]).
fn routes(routes: &mut Routes<'_>) {
    routes
        .get("/login", login_page)
        .post("/login", login)
        .post("/logout", logout)
        .get("/reset", reset_page)
        .post("/reset", reset)
        .get("", home);
    sittings::config(routes);
    admin::config(routes);
    releases::config(routes);
    school_form::config(routes);
    questionnaire::config(routes);
    letter::config(routes);
}
