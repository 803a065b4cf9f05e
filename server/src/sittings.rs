//! The sitting service: creating sittings with fresh codes, closing them.

use crate::db::sittings::{self, NewSitting, Sitting};
use crate::domain::AccessCode;
use crate::startup::AppState;
use crate::survey;

/// Creates a sitting with `count` fresh codes. The codes are returned once,
/// for printing; only their keyed hashes are stored.
pub async fn create_with_codes(
    state: &AppState,
    new: NewSitting,
    count: usize,
) -> Result<(Sitting, Vec<AccessCode>), sea_orm::DbErr> {
    let sitting = sittings::create(&state.db, new).await?;
    let codes = add_codes(state, sitting.id, count).await?;
    Ok((sitting, codes))
}

/// Adds `count` fresh codes to a sitting (spares, or the first batch).
pub async fn add_codes(
    state: &AppState,
    sitting_id: i32,
    count: usize,
) -> Result<Vec<AccessCode>, sea_orm::DbErr> {
    let codes: Vec<AccessCode> = (0..count).map(|_| AccessCode::generate()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| state.code_hash(c)).collect();
    sittings::add_codes(&state.db, sitting_id, &hashes).await?;
    Ok(codes)
}

/// Closes a sitting: no code works any more, and every in-progress response
/// becomes a partial response with its link to its code cut.
pub async fn close(state: &AppState, sitting_id: i32) -> Result<usize, survey::SurveyError> {
    sittings::mark_closed(&state.db, sitting_id).await?;
    survey::close_in_progress(
        &state.db,
        state.direct_writer(),
        &state.catalogue,
        sitting_id,
    )
    .await
}

/// Closes sittings whose close time has passed, once a minute, so answers in
/// progress when a window ends become partial responses and are unlinked
/// without anyone pressing Close. Safe to run on every server at once:
/// ending a response is idempotent.
pub fn spawn_closer(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(error) = close_due(&state).await {
                tracing::warn!(%error, "closing sittings whose window has ended failed; will retry");
            }
        }
    });
}

/// Closes every sitting whose close time has passed. Returns how many.
pub async fn close_due(state: &AppState) -> Result<usize, survey::SurveyError> {
    let due = sittings::due_to_close(&state.db, chrono::Utc::now()).await?;
    for id in &due {
        close(state, *id).await?;
    }
    Ok(due.len())
}
