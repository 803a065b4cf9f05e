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
    survey::close_in_progress(&state.db, &state.catalogue, sitting_id).await
}
