//! Pupil pages in a real headless Chromium (driven by playwright-core): P5 and
//! S4 pupils finish, a pupil resumes in a second browser, a pupil withdraws,
//! stops or declines and is shown where to get help, read-aloud buttons and
//! picture options are drawn without an emoji font,
//! Back after finishing shows nothing, axe-core finds no WCAG 2.2 AA
//! violations on any kind of pupil page, and everything works without
//! JavaScript.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::{run_browser_script, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pupil_pages_work_in_a_real_browser() {
    let app = spawn_app().await;
    let p5 = app.sitting("P5", 8).await;
    let s4 = app.sitting("S4", 2).await;
    let app_ref = &app;
    tokio::task::block_in_place(|| {
        run_browser_script(
            app_ref,
            "pupil",
            &[
                ("P5_CODES", p5.codes.join(",")),
                ("S4_CODES", s4.codes.join(",")),
            ],
        )
    });
}
