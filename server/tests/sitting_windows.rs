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
use server::store::schools::{self, NewSchool};
use survey_defs::Stage;

#[tokio::test]
async fn a_sitting_with_no_last_day_anywhere_closes_after_the_default_window() {
    let (url, dir) = common::fresh_database().await;
    let state = server::startup::prepare(&common::settings(&url, dir.path(), 0))
        .await
        .unwrap();
    let cpp = schools::cpp_by_code(&state.db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = schools::create_school(
        &state.db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: "7719999".into(),
            name: "Window Primary".into(),
            sector: "primary".into(),
            rolls: [30; 7],
            is_demo: false,
        },
    )
    .await
    .unwrap();
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
