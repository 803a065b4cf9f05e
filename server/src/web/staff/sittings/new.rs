//! A new sitting: the form, and creating it.

use super::*;

#[derive(Serialize)]
struct WaveChoice {
    id: i32,
    title: String,
}

/// The waves a sitting at `school` can belong to: those whose fieldwork
/// window for its partnership has not ended, the soonest ending first.
async fn waves_for(state: &AppState, school: &School) -> Result<Vec<WaveChoice>> {
    let today = chrono::Utc::now().date_naive();
    Ok(waves::current_for(&state.db, school.cpp_id, today)
        .await?
        .into_iter()
        .map(|(wave, window)| WaveChoice {
            id: wave.id,
            title: format!(
                "{} (fieldwork {} to {})",
                wave.name, window.opens, window.closes
            ),
        })
        .collect())
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
    wave: String,
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
            wave_id: form.wave.trim().parse().ok(),
            opens: optional_date(&form.opens),
            closes: optional_date(&form.closes),
        }
    }
}

impl SittingForm {
    /// The request this form makes, or every problem with it.
    fn parse(&self) -> std::result::Result<SittingRequest, Vec<FieldError>> {
        SittingRequest::parse(self.into())
            .map_err(|problems| problems.0.into_iter().map(FieldError::from).collect())
    }
}

async fn new_sitting_page(
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
            waves => Serde(waves_for(state, school).await?),
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
        wave: waves_for(&state, &school)
            .await?
            .first()
            .map(|w| w.id.to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    new_sitting_page(&state, &staff, &school, &form, Vec::new()).await
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
    let request = match form.parse() {
        Ok(request) => request,
        Err(errors) => return new_sitting_page(&state, &staff, &school, &form, errors).await,
    };
    let created =
        sittings::create(&state.db, &state.secret, &staff.actor(), &school, request).await;
    let (sitting, codes) = match created {
        Err(sittings::SittingError::Invalid(problems)) => {
            let errors = problems.0.into_iter().map(FieldError::from).collect();
            return new_sitting_page(&state, &staff, &school, &form, errors).await;
        }
        other => other?,
    };
    slips_page(&state, &staff, &sitting, &school, &codes, "new")
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes
        .get("/schools/{id}/sittings/new", new_sitting)
        .post("/schools/{id}/sittings", create_sitting);
}
