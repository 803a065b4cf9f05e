//! A sitting's progress: counts of codes per state, never answers.

use super::*;
use crate::domain::Ending;

/// Counts of codes per state: the only view staff get of the pupils.
#[derive(Serialize, Default)]
struct Counts {
    unused: i64,
    started: i64,
    finished: i64,
    partial: i64,
    withdrawn: i64,
    declined: i64,
    voided: i64,
    total: i64,
}

/// Codes per state, and how the used ones ended: counted for the sitting,
/// since no code records how its response ended.
async fn counts(state: &AppState, sitting_id: i32) -> Result<Counts> {
    let mut counts = Counts::default();
    for (name, n) in store::progress_counts(&state.db, sitting_id).await? {
        match name.0 {
            CodeState::Unused => counts.unused += n,
            CodeState::Started => counts.started += n,
            CodeState::Used => {}
            CodeState::Voided => counts.voided += n,
        }
        counts.total += n;
    }
    for (ending, n) in crate::store::pupil::tally(&state.db, sitting_id).await? {
        let slot = match ending {
            Ending::Finished => &mut counts.finished,
            Ending::Partial => &mut counts.partial,
            Ending::Withdrawn => &mut counts.withdrawn,
            Ending::Declined => &mut counts.declined,
        };
        *slot += n;
    }
    Ok(counts)
}

#[derive(Deserialize)]
struct ProgressQuery {
    notice: Option<String>,
    auto: Option<String>,
}

/// Live progress: counts only, updated every [`REFRESH_SECONDS`] by a small
/// script, or (without JavaScript) by a refresh the person turns on.
async fn progress(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    query: web::Query<ProgressQuery>,
) -> Result<HttpResponse> {
    let (sitting, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let notice = match query.notice.as_deref() {
        Some("voided") => Some("The code has been voided: it can no longer be used."),
        Some("not-voided") => Some(
            "That code was not voided: it is not an unused code of this sitting. Check it and try again.",
        ),
        Some("closed") => Some("The sitting is closed. No code of this sitting works any more."),
        Some("opted-out") => Some("The number of pupils opted out has been saved."),
        _ => None,
    };
    // `auto=1` is the refresh a person without JavaScript turned on; the
    // script's own reloads carry `auto=js`.
    let auto = query.auto.as_deref() == Some("1") && sitting.closed_at.is_none();
    let page = ProgressPage {
        notice,
        auto,
        opted_out: None,
    };
    progress_page(&state, &staff, &sitting, &school, page).await
}

/// What a progress page shows besides the sitting's own state.
struct ProgressPage {
    notice: Option<&'static str>,
    auto: bool,
    /// What was typed for the number opted out, and why it was refused.
    opted_out: Option<(String, String)>,
}

async fn progress_page(
    state: &AppState,
    staff: &Staff,
    sitting: &Sitting,
    school: &School,
    page: ProgressPage,
) -> Result<HttpResponse> {
    let mop_ups: Vec<SittingView> = store::of_school(&state.db, school.id)
        .await?
        .iter()
        .filter(|s| s.mop_up_of == Some(sitting.id))
        .map(SittingView::from)
        .collect();
    let (typed, error) = page
        .opted_out
        .map_or((None, None), |(typed, error)| (Some(typed), Some(error)));
    let errors: Vec<FieldError> = error
        .iter()
        .map(|message| FieldError::new("opted_out", message.clone()))
        .collect();
    let status = form_errors::status(&errors);
    staff.page_with_status(
        status,
        "staff/progress.html",
        context! {
            sitting => Serde(SittingView::from(sitting)),
            school => Serde(SchoolView::from(school)),
            counts => Serde(counts(state, sitting.id).await?),
            notice => page.notice,
            mop_ups => Serde(mop_ups),
            refresh_seconds => REFRESH_SECONDS,
            meta_refresh => page.auto.then_some(REFRESH_SECONDS),
            max_codes => MAX_CODES,
            roll => crate::store::schools::roll_of(school, sitting.stage.0),
            opted_out_value => typed.unwrap_or_else(|| sitting.opted_out.to_string()),
            opted_out_error => error,
            errors => Serde(errors),
        },
    )
}

#[derive(Deserialize)]
struct OptedOutForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    opted_out: String,
}

/// Records or corrects how many pupils of the class were opted out by their
/// parents: a count, never names. A refused number comes back in the form
/// with the reason, and the stored count is left as it was.
async fn opted_out(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<OptedOutForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    match sittings::set_opted_out(
        &state.db,
        &staff.actor(),
        &sitting,
        &school,
        &form.opted_out,
    )
    .await
    {
        Ok(_) => Ok(redirect(&format!(
            "/staff/sittings/{}?notice=opted-out",
            sitting.id
        ))),
        Err(sittings::SittingError::Invalid(problems)) => {
            let page = ProgressPage {
                notice: None,
                auto: false,
                opted_out: Some((form.opted_out.clone(), problems.to_string())),
            };
            progress_page(&state, &staff, &sitting, &school, page).await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes
        .get("/sittings/{id}", progress)
        .post("/sittings/{id}/opted-out", opted_out);
}
