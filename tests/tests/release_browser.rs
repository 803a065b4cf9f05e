//! A wave from start to results in headless Chromium
//! (tests/browser/release.mjs): an administrator makes a wave, a sitting
//! runs, fieldwork closes, the administrator releases, a coordinator
//! downloads the release and sees a trend beside an earlier wave, and the
//! school's staff open their school report, with axe-core on every page.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::services::auth::Role;
use server::services::synth::{SynthOptions, synthesise};
use server::store::staff::{self, NewStaff};
use tests::{run_browser_script, spawn_app};

const PASSWORD: &str = "violet kettle harbour";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wave_goes_from_fieldwork_to_release_in_a_real_browser() {
    let app = spawn_app().await;
    // An earlier wave, released, for the trend.
    let entry = app.state.catalogue.find("wellbeing").unwrap().clone();
    let first = synthesise(
        &app.state.db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 300,
            seed: 41,
            cpps: 1,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let school = server::store::schools::school_by_seed(&app.state.db, "SYN41-00001")
        .await
        .unwrap()
        .expect("the first synthetic school");
    exporter::release::make(
        &app.state.db,
        &exporter::release::ReleaseRequest {
            wave_id: first.wave_id,
            unit: exporter::release::Unit::Partnership(school.cpp_id),
            questionnaire: entry.questionnaire.clone(),
            by: exporter::release::Releaser {
                staff_id: None,
                name: "test".into(),
            },
            today: chrono::Utc::now().date_naive(),
        },
        &|_| {},
    )
    .await
    .unwrap();
    let first_wave = server::services::waves::get(&app.state.db, first.wave_id)
        .await
        .unwrap()
        .unwrap()
        .name;

    let hash = app.state.staff.hash(PASSWORD).await.unwrap();
    for (email, role, cpp_id, school_id) in [
        ("admin@council.scot", Role::Admin, None, None),
        (
            "coord@council.scot",
            Role::Coordinator,
            Some(school.cpp_id),
            None,
        ),
        (
            "head@school.scot",
            Role::School,
            Some(school.cpp_id),
            Some(school.id),
        ),
    ] {
        staff::create(
            &app.state.db,
            NewStaff {
                email: email.into(),
                password_hash: hash.clone(),
                role,
                cpp_id,
                school_id,
                is_demo: false,
            },
        )
        .await
        .unwrap();
    }
    let today = chrono::Utc::now().date_naive();
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let env = [
        ("PASSWORD", PASSWORD.to_owned()),
        ("ADMIN_EMAIL", "admin@council.scot".to_owned()),
        ("COORD_EMAIL", "coord@council.scot".to_owned()),
        ("TEACHER_EMAIL", "head@school.scot".to_owned()),
        ("CPP_ID", school.cpp_id.to_string()),
        ("SCHOOL_ID", school.id.to_string()),
        ("EARLIER", day(today - chrono::Days::new(20))),
        ("TODAY", day(today)),
        ("YESTERDAY", day(today - chrono::Days::new(1))),
        ("FIRST_WAVE", first_wave),
    ];
    let app_ref = &app;
    tokio::task::block_in_place(|| run_browser_script(app_ref, "release", &env));
    let releases = exporter::release::list(&app.state.db, None).await.unwrap();
    assert_eq!(releases.len(), 2, "the earlier wave's and the new one's");
}
