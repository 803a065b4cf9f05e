//! A new sitting: the form, and creating it.

use super::*;

#[derive(Serialize)]
struct VersionChoice {
    id: i32,
    title: String,
}

fn versions(state: &AppState) -> Vec<VersionChoice> {
    let mut latest: Vec<i32> = state
        .catalogue
        .latest()
        .iter()
        .map(|e| e.version_id)
        .collect();
    latest.sort_unstable();
    let mut all: Vec<VersionChoice> = state
        .catalogue
        .entries()
        .map(|e| {
            let q = &e.questionnaire;
            VersionChoice {
                id: e.version_id,
                title: format!(
                    "{} (version {}{})",
                    q.title(q.default_locale()),
                    q.version(),
                    if latest.contains(&e.version_id) {
                        ", latest"
                    } else {
                        ""
                    }
                ),
            }
        })
        .collect();
    // Latest versions first, then older ones, newest first.
    all.sort_by_key(|v| (latest.binary_search(&v.id).is_err(), -v.id));
    all
}

#[derive(Deserialize, Serialize, Default)]
struct SittingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    codes: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
}

/// What the form says, read into typed values; whether they make a valid
/// sitting is the service's check ([`SittingRequest::parse`]).
impl From<&SittingForm> for SittingInput {
    fn from(form: &SittingForm) -> Self {
        SittingInput {
            stage: Stage::from_str(form.stage.trim()).ok(),
            label: form.label.clone(),
            codes: number(&form.codes),
            questionnaire_version_id: form.version.trim().parse().ok(),
            opens: optional_date(&form.opens),
            closes: optional_date(&form.closes),
        }
    }
}

impl SittingForm {
    /// The request this form makes, or every problem with it.
    fn parse(&self, catalogue: &Catalogue) -> std::result::Result<SittingRequest, Vec<FieldError>> {
        SittingRequest::parse(self.into(), catalogue)
            .map_err(|problems| problems.0.into_iter().map(FieldError::from).collect())
    }
}

fn new_sitting_page(
    state: &AppState,
    staff: &Staff,
    school: &School,
    form: &SittingForm,
    errors: Vec<FieldError>,
) -> Result<HttpResponse> {
    let status = form_errors::status(&errors);
    staff.page_with_status(
        status,
        "staff/sitting_new.html",
        context! {
            school => Serde(SchoolView::from(school)),
            form => Serde(form),
            errors => Serde(errors),
            stages => STAGES,
            versions => Serde(versions(state)),
            max_codes => MAX_CODES,
        },
    )
}

async fn new_sitting(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
) -> Result<HttpResponse> {
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let form = SittingForm {
        codes: "30".into(),
        version: versions(&state)
            .first()
            .map(|v| v.id.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    new_sitting_page(&state, &staff, &school, &form, Vec::new())
}

/// Creates a sitting and shows its codes, once (see [`sittings::create`]).
async fn create_sitting(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<SittingForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let school = school_for(&state, &staff, path.into_inner()).await?;
    let request = match form.parse(&state.catalogue) {
        Ok(request) => request,
        Err(errors) => return new_sitting_page(&state, &staff, &school, &form, errors),
    };
    let (sitting, codes) =
        sittings::create(&state.db, &state.secret, &staff.actor(), &school, request).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "new")
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes
        .get("/schools/{id}/sittings/new", new_sitting)
        .post("/schools/{id}/sittings", create_sitting);
}
