//! Partnerships, schools, partnership settings, staff accounts, the schools
//! import and the audit log.
//!
//! A coordinator reaches their own partnership's page and settings; the rest
//! is for administrators only.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Duration, NaiveDate, Utc};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::sittings::SchoolView;
use super::{Result, Staff, redirect};
use crate::domain::Signpost;
use crate::services::accounts::{self, NewAccount};
use crate::services::auth::{self, Role};
use crate::services::partnerships::{self, MAX_SIGNPOSTS, NewSettings};
use crate::services::schools_import::{self, ImportError};
use crate::state::AppState;
use crate::store::audit::{self, AuditFilter};
use crate::store::schools;
use crate::store::staff as store;
use crate::web::dates::optional_date;
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};

/// Largest CSV of schools accepted by the upload form.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

#[derive(Serialize)]
struct CppRow {
    id: i32,
    gss_code: String,
    name: String,
    schools: usize,
}

/// The administrator's start page: every partnership and where to go next.
pub(super) async fn overview(state: &AppState, staff: &Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    let all_schools = store::all_schools(&state.db).await?;
    let cpps: Vec<CppRow> = schools::all_cpps(&state.db)
        .await?
        .into_iter()
        .map(|c| CppRow {
            schools: all_schools.iter().filter(|s| s.cpp_id == c.id).count(),
            id: c.id,
            gss_code: c.gss_code,
            name: c.name,
        })
        .collect();
    staff.page("staff/admin.html", context! { cpps => Serde(cpps) })
}

async fn cpp_for(state: &AppState, staff: &Staff, id: i32) -> Result<schools::Cpp> {
    let cpp = schools::cpp(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if staff.user.may_use_cpp(cpp.id) {
        Ok(cpp)
    } else {
        Err(AppError::Forbidden)
    }
}

/// A partnership's schools.
#[get("/cpps/{id}")]
async fn cpp_page(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let rows: Vec<SchoolView> = schools::schools_of_cpp(&state.db, cpp.id)
        .await?
        .iter()
        .map(SchoolView::from)
        .collect();
    staff.page(
        "staff/cpp.html",
        context! { cpp => context! { id => cpp.id, name => cpp.name, gss_code => cpp.gss_code }, schools => Serde(rows) },
    )
}

#[derive(Serialize)]
struct ModuleChoice {
    id: String,
    title: String,
    sensitive: bool,
    off: bool,
}

#[derive(Serialize, Default)]
struct SettingsView {
    signposting: String,
    opens: String,
    closes: String,
}

fn signposting_text(signposts: &[Signpost]) -> String {
    signposts
        .iter()
        .map(|s| format!("{} | {}", s.name, s.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module of the questionnaires new sittings use, by id.
fn module_choices(state: &AppState, disabled: &[String]) -> Vec<ModuleChoice> {
    let mut seen = BTreeMap::new();
    for entry in state.catalogue.latest() {
        let q = &entry.questionnaire;
        for module in q.modules() {
            let id = module.id().to_string();
            seen.entry(id.clone()).or_insert_with(|| ModuleChoice {
                off: disabled.contains(&id),
                title: module.title(q.default_locale()).to_owned(),
                sensitive: module.sensitive(),
                id,
            });
        }
    }
    seen.into_values().collect()
}

async fn settings_page(
    state: &AppState,
    staff: &Staff,
    cpp: &schools::Cpp,
    disabled: &[String],
    view: SettingsView,
    errors: Vec<FieldError>,
    saved: bool,
) -> Result<HttpResponse> {
    let status = form_errors::status(&errors);
    let errors = Serde(errors);
    staff.page_with_status(
        status,
        "staff/settings.html",
        context! {
            cpp => context! { id => cpp.id, name => cpp.name.clone() },
            modules => Serde(module_choices(state, disabled)),
            form => Serde(view),
            errors => errors,
            saved => saved,
        },
    )
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

#[get("/cpps/{id}/settings")]
async fn settings(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let current = partnerships::settings(&state.db, cpp.id).await?;
    let view = SettingsView {
        signposting: signposting_text(&current.signposting),
        opens: current
            .fieldwork_opens
            .map(|d| d.to_string())
            .unwrap_or_default(),
        closes: current
            .fieldwork_closes
            .map(|d| d.to_string())
            .unwrap_or_default(),
    };
    let disabled = current.disabled_modules;
    settings_page(
        &state,
        &staff,
        &cpp,
        &disabled,
        view,
        Vec::new(),
        query.saved.is_some(),
    )
    .await
}

/// The settings form as sent: several `off` boxes can be ticked, so it is
/// read from the list of pairs.
struct SettingsForm {
    csrf: String,
    off: Vec<String>,
    signposting: String,
    opens: String,
    closes: String,
}

impl From<Vec<(String, String)>> for SettingsForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = SettingsForm {
            csrf: String::new(),
            off: Vec::new(),
            signposting: String::new(),
            opens: String::new(),
            closes: String::new(),
        };
        for (key, value) in pairs {
            match key.as_str() {
                "csrf" => form.csrf = value,
                "off" => form.off.push(value),
                "signposting" => form.signposting = value,
                "opens" => form.opens = value,
                "closes" => form.closes = value,
                _ => {}
            }
        }
        form
    }
}

/// Signposting is one line per place, `name | detail`.
fn parse_signposting(text: &str, errors: &mut Vec<FieldError>) -> Vec<Signpost> {
    let mut signposts = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (name, detail) = line.split_once('|').unwrap_or((line, ""));
        let (name, detail) = (name.trim(), detail.trim());
        if name.is_empty() || name.chars().count() > 100 || detail.chars().count() > 300 {
            errors.push(FieldError::new(
                "signposting",
                format!(
                    "Line {} of the signposting must have a name of up to 100 characters, then |, then up to 300 characters of detail",
                    n + 1
                ),
            ));
        } else {
            signposts.push(Signpost {
                name: name.to_owned(),
                detail: detail.to_owned(),
            });
        }
    }
    if signposts.len() > MAX_SIGNPOSTS {
        errors.push(FieldError::new(
            "signposting",
            format!("Give at most {MAX_SIGNPOSTS} signposting lines"),
        ));
    }
    signposts
}

impl TryFrom<&SettingsForm> for NewSettings {
    type Error = Vec<FieldError>;

    /// The settings, or every problem with the form. Module ids are kept as
    /// sent; the handler keeps only those of loaded questionnaires.
    fn try_from(form: &SettingsForm) -> std::result::Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let signposting = parse_signposting(&form.signposting, &mut errors);
        let mut date = |name: &'static str, text: &str, label: &str| {
            optional_date(text).unwrap_or_else(|()| {
                errors.push(FieldError::new(
                    name,
                    format!("The {label} date must be a real date"),
                ));
                None
            })
        };
        let opens = date("opens", &form.opens, "opening");
        let closes = date("closes", &form.closes, "closing");
        if let (Some(o), Some(c)) = (opens, closes)
            && c < o
        {
            errors.push(FieldError::new(
                "closes",
                "The closing date must be on or after the opening date",
            ));
        }
        if errors.is_empty() {
            Ok(NewSettings {
                disabled_modules: form.off.clone(),
                signposting,
                fieldwork_opens: opens,
                fieldwork_closes: closes,
            })
        } else {
            Err(errors)
        }
    }
}

/// Saves a partnership's settings. They apply to sittings created from now on.
#[post("/cpps/{id}/settings")]
async fn save_settings(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse> {
    let form = SettingsForm::from(form.into_inner());
    staff.check_csrf(&form.csrf)?;
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let known: Vec<String> = module_choices(&state, &[])
        .into_iter()
        .map(|m| m.id)
        .collect();
    let new = match NewSettings::try_from(&form) {
        Ok(mut new) => {
            new.disabled_modules.retain(|id| known.contains(id));
            new
        }
        Err(errors) => {
            let disabled = form.off.clone();
            let view = SettingsView {
                signposting: form.signposting,
                opens: form.opens,
                closes: form.closes,
            };
            return settings_page(&state, &staff, &cpp, &disabled, view, errors, false).await;
        }
    };
    partnerships::save(&state.db, &staff.actor(), &cpp, new).await?;
    Ok(redirect(&format!(
        "/staff/cpps/{}/settings?saved=1",
        cpp.id
    )))
}

async fn import_page(staff: Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    staff.page("staff/import.html", context! {})
}

/// One part of a `multipart/form-data` body.
struct Part<'a> {
    name: String,
    body: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a `multipart/form-data` body into its parts. The upload form has
/// two simple fields (the form token and one file), so this small reader is
/// enough; anything it cannot read is refused as a bad request.
fn multipart_parts<'a>(content_type: &str, body: &'a [u8]) -> Option<Vec<Part<'a>>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let name = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))?
            .trim_matches('"')
            .to_owned();
        let content = &rest[header_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
        parts.push(Part {
            name,
            body: &content[..end],
        });
        rest = &content[end + 2 + delimiter.len()..];
    }
}

/// Imports schools from an uploaded CSV: all rows or none.
async fn import_upload(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = multipart_parts(content_type, &body)
        .ok_or_else(|| AppError::BadRequest("The upload could not be read.".into()))?;
    let csrf = parts
        .iter()
        .find(|p| p.name == "csrf")
        .and_then(|p| std::str::from_utf8(p.body).ok())
        .unwrap_or("");
    staff.check_csrf(csrf)?;
    staff.require_admin()?;
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .map_or(&[][..], |p| p.body);
    match schools_import::import(
        &state.db,
        &staff.actor(),
        file,
        schools_import::Source::File("upload"),
    )
    .await
    {
        Ok(done) => staff.page("staff/import.html", context! { done => Serde(done) }),
        Err(ImportError::Rows(problems)) => {
            staff
                .audit(
                    &state,
                    "schools-import-refused",
                    &format!("{} problems (upload)", problems.len()),
                )
                .await?;
            staff.page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "staff/import.html",
                context! { problems => Serde(problems) },
            )
        }
        Err(ImportError::Database(e)) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct UserRow {
    id: i32,
    email: String,
    role: &'static str,
    scope: String,
    active: bool,
    locked: bool,
}

#[derive(Deserialize, Serialize, Default)]
struct UserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    form: &UserForm,
    errors: Vec<FieldError>,
    reset_link: Option<(String, String)>,
) -> Result<HttpResponse> {
    let cpps = schools::all_cpps(&state.db).await?;
    let all_schools = store::all_schools(&state.db).await?;
    let now = Utc::now();
    let rows: Vec<UserRow> = store::all(&state.db)
        .await?
        .into_iter()
        .map(|u| {
            let scope = match (u.cpp_id, u.school_id) {
                (_, Some(id)) => all_schools
                    .iter()
                    .find(|s| s.id == id)
                    .map_or(String::new(), |s| format!("{} ({})", s.name, s.seed_code)),
                (Some(id), None) => cpps
                    .iter()
                    .find(|c| c.id == id)
                    .map_or(String::new(), |c| c.name.clone()),
                _ => "All partnerships".to_owned(),
            };
            UserRow {
                id: u.id,
                role: u.role.0.describe(),
                email: u.email,
                scope,
                active: u.active,
                locked: u.locked_until.is_some_and(|t| t > now),
            }
        })
        .collect();
    let status = form_errors::status(&errors);
    let errors = Serde(errors);
    staff.page_with_status(
        status,
        "staff/users.html",
        context! {
            users => Serde(rows),
            form => Serde(form),
            errors => errors,
            reset_link => reset_link.map(|(email, link)| context! { email => email, link => link }),
            reset_hours => accounts::RESET_HOURS,
        },
    )
}

#[get("/admin/users")]
async fn users(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    users_page(&state, &staff, &UserForm::default(), Vec::new(), None).await
}

/// The one-time reset link for a token.
fn reset_link(state: &AppState, token: &str) -> String {
    format!("{}/staff/reset?token={token}", state.settings.public_url())
}

/// Creates an account with a random password nobody knows, and shows a
/// one-time link with which its owner chooses their own.
#[post("/admin/users")]
async fn create_user(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<UserForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let mut errors = Vec::new();
    let email = form.email.trim().to_lowercase();
    if !is_email(&email) {
        errors.push(FieldError::new(
            "email",
            "Enter an e-mail address, like name@school.scot",
        ));
    } else if store::by_email(&state.db, &email).await?.is_some() {
        errors.push(FieldError::new(
            "email",
            "An account with this e-mail address exists already",
        ));
    }
    let role = Role::parse(&form.role);
    let scope = form.scope.trim();
    let (cpp_id, school_id) = match role {
        None => {
            errors.push(FieldError::new("role", "Select a role"));
            (None, None)
        }
        Some(Role::Admin) => (None, None),
        Some(Role::Coordinator) => {
            let cpp = match schools::cpp_by_code(&state.db, scope).await? {
                Some(c) => Some(c),
                None => schools::all_cpps(&state.db)
                    .await?
                    .into_iter()
                    .find(|c| c.name.eq_ignore_ascii_case(scope)),
            };
            match cpp {
                Some(c) => (Some(c.id), None),
                None => {
                    errors.push(FieldError::new(
                        "scope",
                        "Enter the GSS code or name of the coordinator's partnership",
                    ));
                    (None, None)
                }
            }
        }
        Some(Role::School) => {
            match schools::school_by_seed(&state.db, &scope.to_uppercase()).await? {
                Some(s) => (Some(s.cpp_id), Some(s.id)),
                None => {
                    errors.push(FieldError::new(
                        "scope",
                        "Enter the SEED code of the staff member's school",
                    ));
                    (None, None)
                }
            }
        }
    };
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return users_page(&state, &staff, &form, errors, None).await;
    };
    let hash = state
        .staff
        .hash(&auth::generate_password())
        .await
        .map_err(AppError::internal)?;
    let new = NewAccount {
        email: email.clone(),
        role,
        cpp_id,
        school_id,
        is_demo: false,
    };
    let (_, token) =
        accounts::create(&state.db, &state.secret, &staff.actor(), new, hash, true).await?;
    let link = reset_link(&state, token.as_deref().unwrap_or_default());
    users_page(
        &state,
        &staff,
        &UserForm::default(),
        Vec::new(),
        Some((email, link)),
    )
    .await
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !text
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>')
}

#[derive(Deserialize)]
struct UserAction {
    #[serde(default)]
    csrf: String,
    action: String,
}

/// Issues a reset link, or disables or re-enables an account.
#[post("/admin/users/{id}")]
async fn user_action(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<UserAction>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let user = store::by_id(&state.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    match form.action.as_str() {
        "reset" => {
            let token =
                accounts::issue_reset(&state.db, &state.secret, &staff.actor(), &user).await?;
            let link = reset_link(&state, &token);
            users_page(
                &state,
                &staff,
                &UserForm::default(),
                Vec::new(),
                Some((user.email, link)),
            )
            .await
        }
        "disable" | "enable" => {
            if user.id == staff.user.id {
                return Err(AppError::BadRequest(
                    "You cannot disable your own account.".into(),
                ));
            }
            let active = form.action == "enable";
            accounts::set_active(&state.db, &staff.actor(), &user, active).await?;
            Ok(redirect("/staff/admin/users"))
        }
        _ => Err(AppError::BadRequest("Unknown action.".into())),
    }
}

#[derive(Deserialize, Serialize, Default)]
struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

#[derive(Serialize)]
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

/// The audit log, newest first, filtered by who, what and when.
#[get("/admin/audit")]
async fn audit_log(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    let day = |text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
    };
    let filter = AuditFilter {
        actor: Some(query.actor.trim().to_owned()).filter(|s| !s.is_empty()),
        action: Some(query.action.trim().to_owned()).filter(|s| !s.is_empty()),
        from: day(&query.from),
        to: day(&query.to).map(|d| d + Duration::days(1)),
    };
    let rows: Vec<AuditRow> = audit::search(&state.db, &filter, 500)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    staff.page(
        "staff/audit.html",
        context! {
            entries => Serde(rows),
            actions => audit::actions(&state.db).await?,
            query => Serde(&*query),
        },
    )
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(cpp_page)
        .service(settings)
        .service(save_settings)
        .service(
            web::resource("/admin/import")
                .app_data(web::PayloadConfig::new(MAX_IMPORT_BYTES))
                .route(web::get().to(import_page))
                .route(web::post().to(import_upload)),
        )
        .service(users)
        .service(create_user)
        .service(user_action)
        .service(audit_log);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_splits_into_named_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\nc,d\r\n--XyZ--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].body, b"abc");
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].body, b"a,b\r\nc,d");
        assert!(multipart_parts("multipart/form-data; boundary=Q", body).is_none());
    }
}
