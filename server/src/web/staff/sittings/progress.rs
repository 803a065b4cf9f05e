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
        _ => None,
    };
    let mop_ups: Vec<SittingView> = store::of_school(&state.db, school.id)
        .await?
        .iter()
        .filter(|s| s.mop_up_of == Some(sitting.id))
        .map(SittingView::from)
        .collect();
    // `auto=1` is the refresh a person without JavaScript turned on; the
    // script's own reloads carry `auto=js`.
    let auto = query.auto.as_deref() == Some("1") && sitting.closed_at.is_none();
    staff.page(
        "staff/progress.html",
        context! {
            sitting => Serde(SittingView::from(&sitting)),
            school => Serde(SchoolView::from(&school)),
            counts => Serde(counts(&state, sitting.id).await?),
            notice => notice,
            mop_ups => Serde(mop_ups),
            refresh_seconds => REFRESH_SECONDS,
            meta_refresh => auto.then_some(REFRESH_SECONDS),
            max_codes => MAX_CODES,
        },
    )
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes.get("/sittings/{id}", progress);
}
