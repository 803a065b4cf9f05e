//! Staff accounts: the list, creating one, reset links, disabling.

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::super::{Result, Routes, Staff, redirect};
use crate::services::accounts::{self, NewAccount};
use crate::services::auth::{self, Role};
use crate::state::AppState;
use crate::store::schools;
use crate::store::staff as store;
use crate::web::error::AppError;
use crate::web::form_errors::{self, FieldError};

#[derive(Serialize)]
struct UserRow {
    id: i32,
    email: String,
    role: &'static str,
    scope: String,
    active: bool,
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
async fn create_user(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<UserForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let typed = UserRequest::from(&*form);
    let mut errors = typed.problems;
    let email = typed.email;
    let email_ok = !errors.iter().any(|e| e.field == "email");
    if email_ok && store::by_email(&state.db, &email).await?.is_some() {
        errors.insert(
            0,
            FieldError::new(
                "email",
                "An account with this e-mail address exists already",
            ),
        );
    }
    let role = typed.role;
    let (cpp_id, school_id) = resolve_scope(&state, role, &typed.scope, &mut errors).await?;
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

/// The partnership and school a role's scope names (`None` for an
/// administrator's), or a problem with the scope field added to `errors`.
async fn resolve_scope(
    state: &AppState,
    role: Option<Role>,
    scope: &str,
    errors: &mut Vec<FieldError>,
) -> Result<(Option<i32>, Option<i32>)> {
    Ok(match role {
        None => (None, None),
        Some(Role::Admin) => (None, None),
        Some(role @ (Role::Coordinator | Role::Analyst)) => {
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
                        match role {
                            Role::Analyst => {
                                "Enter the GSS code or name of the analyst's partnership"
                            }
                            _ => "Enter the GSS code or name of the coordinator's partnership",
                        },
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
    })
}

#[derive(Deserialize, Serialize, Default)]
struct RoleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    scope: String,
}

async fn role_page(
    staff: &Staff,
    user: &store::StaffRow,
    form: &RoleForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse> {
    staff.page_with_status(
        form_errors::status(&errors),
        "staff/user_role.html",
        context! {
            user => context! { id => user.id, email => &user.email, role => user.role.0.describe() },
            form => Serde(form),
            errors => Serde(errors),
        },
    )
}

/// The form to give an account another role or scope.
async fn role_form(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    let user = store::by_id(&state.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    let form = RoleForm {
        role: user.role.0.as_str().to_owned(),
        ..RoleForm::default()
    };
    role_page(&staff, &user, &form, Vec::new()).await
}

/// Gives an account another role or scope; every session of the account
/// ends, so the new role applies from its next sign-in. Administrators
/// cannot change their own role (nor so remove the last administrator).
async fn change_role(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let user = store::by_id(&state.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    if user.id == staff.user.id {
        return Err(AppError::BadRequest(
            "You cannot change your own role.".into(),
        ));
    }
    let role = Role::parse(&form.role);
    let mut errors = Vec::new();
    if role.is_none() {
        errors.push(FieldError::new("role", "Select a role"));
    }
    let (cpp_id, school_id) = resolve_scope(&state, role, form.scope.trim(), &mut errors).await?;
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return role_page(&staff, &user, &form, errors).await;
    };
    accounts::change_role(&state.db, &staff.actor(), &user, role, cpp_id, school_id).await?;
    Ok(redirect("/staff/admin/users"))
}

/// The users form read into typed values, with the problems found without
/// the database (whether the address is taken, and whether the scope names a
/// partnership or school, are checked against it by the handler).
struct UserRequest {
    email: String,
    role: Option<Role>,
    scope: String,
    problems: Vec<FieldError>,
}

impl From<&UserForm> for UserRequest {
    fn from(form: &UserForm) -> Self {
        let mut problems = Vec::new();
        let email = form.email.trim().to_lowercase();
        if !is_email(&email) {
            problems.push(FieldError::new(
                "email",
                "Enter an e-mail address, like name@school.scot",
            ));
        }
        let role = Role::parse(&form.role);
        if role.is_none() {
            problems.push(FieldError::new("role", "Select a role"));
        }
        UserRequest {
            email,
            role,
            scope: form.scope.trim().to_owned(),
            problems,
        }
    }
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

/// What an administrator asked to do to an account.
enum Action {
    Reset,
    /// Enable (`true`) or disable (`false`).
    SetActive(bool),
}

impl TryFrom<&UserAction> for Action {
    type Error = AppError;

    fn try_from(form: &UserAction) -> Result<Self> {
        match form.action.as_str() {
            "reset" => Ok(Action::Reset),
            "enable" => Ok(Action::SetActive(true)),
            "disable" => Ok(Action::SetActive(false)),
            _ => Err(AppError::BadRequest("Unknown action.".into())),
        }
    }
}

/// Issues a reset link, or disables or re-enables an account.
async fn user_action(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<UserAction>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    staff.require_admin()?;
    let action = Action::try_from(&*form)?;
    let user = store::by_id(&state.db, path.into_inner())
        .await?
        .ok_or(AppError::NotFound)?;
    match action {
        Action::Reset => {
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
        Action::SetActive(active) => {
            if user.id == staff.user.id {
                return Err(AppError::BadRequest(
                    "You cannot disable your own account.".into(),
                ));
            }
            accounts::set_active(&state.db, &staff.actor(), &user, active).await?;
            Ok(redirect("/staff/admin/users"))
        }
    }
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/admin/users", users)
        .post("/admin/users", create_user)
        .post("/admin/users/{id}", user_action)
        .get("/admin/users/{id}/role", role_form)
        .post("/admin/users/{id}/role", change_role);
}
