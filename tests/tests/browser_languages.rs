//! Languages in a real headless Chromium (driven by playwright-core): a
//! pupil picks Polish on the code screen and completes the survey in
//! Polish; Arabic and Urdu pages are right to left, laid out from the
//! right, with axe-core finding no WCAG 2.2 AA violation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::{run_browser_script, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pupils_take_the_survey_in_their_own_language_in_a_real_browser() {
    let app = spawn_app().await;
    app.offer_languages("S12000036", &["pl", "ar", "ur"]).await;
    let p6 = app.sitting("P6", 1).await;
    let s2 = app.sitting("S2", 1).await;
    let p5 = app.sitting("P5", 1).await;
    let app_ref = &app;
    tokio::task::block_in_place(|| {
        run_browser_script(
            app_ref,
            "languages",
            &[
                ("PL_CODE", p6.codes[0].clone()),
                ("AR_CODE", s2.codes[0].clone()),
                ("UR_CODE", p5.codes[0].clone()),
            ],
        )
    });
}
