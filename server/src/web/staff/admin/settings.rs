//! A partnership's settings page: modules switched off, signposting, what
//! its public accessibility statement and privacy notice say, and the
//! languages its pupils may choose (a draft translation only with the
//! saver's confirmation that they accept the risk).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::super::{Result, Routes, Staff, redirect};
use crate::domain::Signpost;
use crate::domain::notices::{Compliance, NoticeField, Notices, TEXT_FIELDS};
use crate::services::partnerships::{self, MAX_SIGNPOSTS, NewSettings};
use crate::state::AppState;
use crate::store::schools;
use crate::web::dates::optional_date;
use crate::web::form_errors::{self, FieldError};

use super::cpp_for;
#[derive(Serialize)]
struct ModuleChoice {
    id: String,
    title: String,
    sensitive: bool,
    off: bool,
}

/// A language a partnership can offer, as the settings page lists it.
#[derive(Serialize)]
struct LanguageChoice {
    code: String,
    name: String,
    dir: String,
    /// Not yet checked by a qualified translator (the pupil words, the
    /// questionnaire's translation, or both).
    draft: bool,
    on: bool,
}

/// Every language the server and the questionnaires new sittings use can
/// show pupils, besides the questionnaires' own.
fn language_choices(state: &AppState, on: &[String]) -> Vec<LanguageChoice> {
    let latest = state.catalogue.latest();
    state
        .locales
        .all()
        .filter(|strings| {
            latest.iter().any(|entry| {
                let q = &entry.questionnaire;
                q.default_locale().as_str() != strings.code
                    && q.locales()
                        .iter()
                        .any(|info| info.locale().as_str() == strings.code)
            })
        })
        .map(|strings| LanguageChoice {
            code: strings.code.clone(),
            name: strings.name.clone(),
            dir: strings.dir.clone(),
            draft: strings.draft || state.catalogue.translation_is_draft(&strings.code),
            on: on.contains(&strings.code),
        })
        .collect()
}

#[derive(Serialize, Default)]
struct SettingsView {
    signposting: String,
    /// The notices' text fields, by form name.
    notices: BTreeMap<&'static str, String>,
    compliance: String,
    prepared: String,
    languages: Vec<String>,
    confirm_drafts: bool,
}

impl SettingsView {
    fn notices_from(&mut self, notices: &Notices) {
        for field in TEXT_FIELDS {
            self.notices
                .insert(field.name, notices.text(field.name).to_owned());
        }
        self.compliance = notices
            .accessibility_status
            .map_or("", Compliance::as_str)
            .to_owned();
        self.prepared = notices
            .statement_prepared
            .map(|d| d.to_string())
            .unwrap_or_default();
    }
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
            cpp => context! { id => cpp.id, name => cpp.name.clone(), gss_code => cpp.gss_code.clone() },
            modules => Serde(module_choices(state, disabled)),
            languages => Serde(language_choices(state, &view.languages)),
            notice_fields => Serde(TEXT_FIELDS.to_vec()),
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

async fn settings(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse> {
    let cpp = cpp_for(&state, &staff, path.into_inner()).await?;
    let current = partnerships::settings(&state.db, cpp.id).await?;
    let notices = partnerships::notices(&state.db, cpp.id).await?;
    let mut view = SettingsView {
        signposting: signposting_text(&current.signposting),
        languages: partnerships::languages(&state.db, cpp.id).await?,
        ..SettingsView::default()
    };
    view.notices_from(&notices);
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
    /// The notices' text fields as sent, by form name.
    notices: BTreeMap<&'static str, String>,
    compliance: String,
    prepared: String,
    languages: Vec<String>,
    confirm_drafts: bool,
}

impl From<Vec<(String, String)>> for SettingsForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = SettingsForm {
            csrf: String::new(),
            off: Vec::new(),
            signposting: String::new(),
            notices: BTreeMap::new(),
            compliance: String::new(),
            prepared: String::new(),
            languages: Vec::new(),
            confirm_drafts: false,
        };
        for (key, value) in pairs {
            match key.as_str() {
                "csrf" => form.csrf = value,
                "off" => form.off.push(value),
                "signposting" => form.signposting = value,
                "compliance" => form.compliance = value,
                "prepared" => form.prepared = value,
                "lang" => form.languages.push(value),
                "confirm_drafts" => form.confirm_drafts = value == "yes",
                other => {
                    if let Some(field) = TEXT_FIELDS.iter().find(|f| f.name == other) {
                        form.notices.insert(field.name, value);
                    }
                }
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

/// The notices as sent, or what is wrong with them: each text no longer than
/// its field allows, a known compliance status, a real date not in the future.
fn parse_notices(form: &SettingsForm, errors: &mut Vec<FieldError>) -> Notices {
    let mut notices = Notices::default();
    for NoticeField {
        name, label, max, ..
    } in TEXT_FIELDS
    {
        let text = form
            .notices
            .get(name)
            .map(|t| t.trim().replace("\r\n", "\n"))
            .unwrap_or_default();
        if text.chars().count() > max {
            errors.push(FieldError::new(
                name,
                format!("{label} must be {max} characters or fewer"),
            ));
        } else {
            notices.set_text(name, text);
        }
    }
    notices.accessibility_status = match form.compliance.as_str() {
        "" => None,
        text => Compliance::parse(text).or_else(|| {
            errors.push(FieldError::new(
                "compliance",
                "Choose how far the survey meets the accessibility standard",
            ));
            None
        }),
    };
    notices.statement_prepared = match optional_date(&form.prepared) {
        Ok(Some(date)) if date > chrono::Utc::now().date_naive() => {
            errors.push(FieldError::new(
                "prepared",
                "The date the statement was prepared must not be in the future",
            ));
            None
        }
        Ok(date) => date,
        Err(()) => {
            errors.push(FieldError::new(
                "prepared",
                "The date the statement was prepared must be a real date",
            ));
            None
        }
    };
    notices
}

impl TryFrom<&SettingsForm> for NewSettings {
    type Error = Vec<FieldError>;

    /// The settings, or every problem with the form. Module ids are kept as
    /// sent; the handler keeps only those of loaded questionnaires.
    fn try_from(form: &SettingsForm) -> std::result::Result<Self, Self::Error> {
        let mut errors = Vec::new();
        let signposting = parse_signposting(&form.signposting, &mut errors);
        let notices = parse_notices(form, &mut errors);
        if errors.is_empty() {
            Ok(NewSettings {
                disabled_modules: form.off.clone(),
                signposting,
                notices,
                languages: form.languages.clone(),
                drafts_confirmed: Vec::new(),
            })
        } else {
            Err(errors)
        }
    }
}

/// Saves a partnership's settings. They apply to sittings created from now on.
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
    let before = partnerships::languages(&state.db, cpp.id).await?;
    let offered = language_choices(&state, &[]);
    let checked = NewSettings::try_from(&form).and_then(|mut new| {
        new.disabled_modules.retain(|id| known.contains(id));
        new.languages
            .retain(|code| offered.iter().any(|l| &l.code == code));
        new.languages.sort();
        new.languages.dedup();
        new.drafts_confirmed = new
            .languages
            .iter()
            .filter(|code| !before.contains(code))
            .filter(|code| offered.iter().any(|l| &l.code == *code && l.draft))
            .cloned()
            .collect();
        if new.drafts_confirmed.is_empty() || form.confirm_drafts {
            Ok(new)
        } else {
            let names: Vec<&str> = offered
                .iter()
                .filter(|l| new.drafts_confirmed.contains(&l.code))
                .map(|l| l.name.as_str())
                .collect();
            Err(vec![FieldError::new(
                "confirm_drafts",
                format!(
                    "{} {} a draft translation: tick the box to confirm that you accept the risk, or untick {}",
                    names.join(", "),
                    if names.len() == 1 { "is" } else { "are each" },
                    if names.len() == 1 { "it" } else { "them" },
                ),
            )])
        }
    });
    let new = match checked {
        Ok(new) => new,
        Err(errors) => {
            let disabled = form.off.clone();
            let view = SettingsView {
                signposting: form.signposting,
                notices: form.notices,
                compliance: form.compliance,
                prepared: form.prepared,
                languages: form.languages,
                confirm_drafts: form.confirm_drafts,
            };
            return settings_page(&state, &staff, &cpp, &disabled, view, errors, false).await;
        }
    };
    partnerships::save(&state.db, &staff.actor(), &cpp, new).await?;
    state.languages.forget();
    Ok(redirect(&format!(
        "/staff/cpps/{}/settings?saved=1",
        cpp.id
    )))
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/cpps/{id}/settings", settings)
        .post("/cpps/{id}/settings", save_settings);
}
