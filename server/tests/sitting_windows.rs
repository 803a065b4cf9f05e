//! Every sitting ends: a sitting created without a last day, with no
//! fieldwork window to take one from, closes after the default window, and a
//! mop-up of a sitting whose last day has passed gets a window of its own.
//! (A sitting that never closed would keep its abandoned responses linked to
//! their codes for ever.)

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use chrono::{Days, Utc};
use server::services::Actor;
use server::services::sittings::{self, DEFAULT_WINDOW_DAYS, SittingRequest, end_of_day};
use survey_defs::Stage;

#[tokio::test]
async fn a_sitting_with_no_last_day_anywhere_closes_after_the_default_window() {
    let (state, _dir) = common::prepared_state().await;
    let school = common::school(&state, "7719999", "Window Primary").await;
    let request = SittingRequest {
        stage: Stage::P6,
        label: "P6".into(),
        codes: 2,
        questionnaire_version_id: state.catalogue.latest()[0].version_id,
        opens: None,
        closes: None,
    };
    let (sitting, _) = sittings::create(&state.db, &state.secret, &Actor::Cli, &school, request)
        .await
        .unwrap();
    let today = Utc::now().date_naive();
    let expected = end_of_day(today + Days::new(DEFAULT_WINDOW_DAYS - 1));
    assert_eq!(
        sitting.closes_at,
        Some(expected),
        "expected the sitting to close at the end of day {DEFAULT_WINDOW_DAYS}"
    );

    // Its window over, a mop-up of it still gets an end of its own.
    let mut ended = sitting.clone();
    ended.closes_at = Some(Utc::now() - chrono::Duration::days(1));
    let (mop_up, _) = sittings::mop_up(&state.db, &state.secret, &Actor::Cli, &ended, 2)
        .await
        .unwrap();
    assert_eq!(mop_up.closes_at, Some(expected));
}
