//! The staff journey in headless Chromium (tests/browser/staff.mjs): sign in,
//! create a sitting, print the slips to PDF, watch progress while a pupil
//! finishes, close the sitting, print the letter to parents, preview the
//! questionnaire and record the pupils opted out, with axe-core on every page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::services::auth::Role;
use server::store::staff::{self, NewStaff};
use tests::{run_browser_script, spawn_app};

const PASSWORD: &str = "violet kettle harbour";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_staff_journey_works_in_a_real_browser() {
    let app = spawn_app().await;
    let school = app.sitting("P6", 1).await;
    let hash = app.state.staff.hash(PASSWORD).await.unwrap();
    for (email, role, school_id) in [
        ("teacher@school.scot", Role::School, Some(school.school_id)),
        ("admin@council.scot", Role::Admin, None),
    ] {
        staff::create(
            &app.state.db,
            NewStaff {
                email: email.into(),
                password_hash: hash.clone(),
                role,
                cpp_id: Some(school.cpp_id).filter(|_| role != Role::Admin),
                school_id,
                is_demo: false,
            },
        )
        .await
        .unwrap();
    }
    let pdf = app.data_dir.join("slips.pdf");
    let env = [
        ("STAFF_EMAIL", "teacher@school.scot".to_owned()),
        ("STAFF_PASSWORD", PASSWORD.to_owned()),
        ("ADMIN_EMAIL", "admin@council.scot".to_owned()),
        ("PDF_PATH", pdf.display().to_string()),
    ];
    let app_ref = &app;
    tokio::task::block_in_place(|| run_browser_script(app_ref, "staff", &env));
    assert!(pdf.exists(), "expected the slips PDF at {}", pdf.display());
}
