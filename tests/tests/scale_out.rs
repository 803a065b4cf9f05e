//! Scale-out: two server instances share one PostgreSQL database and one secret,
//! as they would behind a load balancer. A pupil's requests alternate between
//! them page by page, and staff see the same progress on either.
//!
//! Runs only against PostgreSQL (`TEST_DATABASE_URL`, set by `tests/run.sh`):
//! SQLite is one file on one machine, so two machines cannot share it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::settings::Settings;
use server::startup::Application;
use server::store::entities::{access_code, response, response_held};
use tests::{Pupil, TestApp, capture, signed_in_staff, spawn_app};

/// A second instance on its own port, sharing the first one's database and
/// secret key file.
async fn second_instance(first: &TestApp) -> String {
    let mut settings = Settings::for_tests(first.database_url.clone(), first.data_dir.clone());
    settings.secret_key_file = Some(first.data_dir.join("secret.key"));
    let app = Application::build(settings)
        .await
        .expect("the second instance failed to start");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

fn skip_without_postgres(test: &str) -> bool {
    if tests::backend() == "postgres" {
        return false;
    }
    println!(
        "skipping {test}: it needs a shared PostgreSQL database; set TEST_DATABASE_URL \
         (tests/run.sh does, in its PostgreSQL pass)"
    );
    true
}

/// The counts on a staff progress page, as `state=count` pairs in page order.
fn counts_on(html: &str) -> Vec<(String, u32)> {
    regex::Regex::new(r#"data-count="([a-z]+)">(\d+)<"#)
        .expect("a valid pattern")
        .captures_iter(html)
        .map(|c| (c[1].to_owned(), c[2].parse().expect("a count")))
        .collect()
}

fn count_of(counts: &[(String, u32)], state: &str) -> u32 {
    counts
        .iter()
        .find(|(s, _)| s == state)
        .map(|(_, n)| *n)
        .unwrap_or_else(|| panic!("expected a {state} count on the progress page, saw {counts:?}"))
}

#[tokio::test]
async fn a_pupil_starts_on_one_instance_and_finishes_on_the_other() {
    if skip_without_postgres("a_pupil_starts_on_one_instance_and_finishes_on_the_other") {
        return;
    }
    let a = spawn_app().await;
    let b = second_instance(&a).await;
    let sitting = a.sitting("S2", 3).await;

    // Code entry and Start on instance A.
    let pupil = Pupil::new(&a).await;
    pupil.start(&sitting.codes[0]).await;

    // Then every page alternates: load on one instance, save on the other. Both
    // instances are on 127.0.0.1, so the browser sends the same cookie to each,
    // as it would to one address behind a load balancer.
    let hosts = [a.address.clone(), b.clone()];
    let mut path = "/survey".to_owned();
    let mut pages = 0usize;
    loop {
        let load_on = &hosts[pages % 2];
        let save_on = &hosts[(pages + 1) % 2];
        let html = pupil
            .client
            .get(format!("{load_on}{path}"))
            .send()
            .await
            .expect("GET a page")
            .text()
            .await
            .expect("body");
        let key = capture(&html, r#"name="page" value="([^"]+)""#)
            .unwrap_or_else(|| panic!("expected a survey page from {load_on}{path}"));
        let saved = pupil
            .client
            .post(format!("{save_on}/survey"))
            .form(&[
                ("csrf", pupil.csrf.as_str()),
                ("page", key.as_str()),
                ("nav", "next"),
            ])
            .send()
            .await
            .expect("POST a page");
        assert_eq!(
            saved.status(),
            303,
            "expected {save_on} to save page {key} started on the other instance"
        );
        pages += 1;
        let next = saved.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned();
        if next == "/review" {
            break;
        }
        assert!(pages < 500, "the survey never ended");
        path = next;
    }
    assert!(
        pages > 10,
        "expected a full secondary survey, saw {pages} pages"
    );

    // Finish on B; the response is stored once and the code is spent.
    let done = pupil
        .client
        .post(format!("{b}/finish"))
        .form(&[("csrf", pupil.csrf.as_str())])
        .send()
        .await
        .expect("POST /finish");
    assert_eq!(done.status(), 200, "expected the finish page from B");
    let stored = response::Entity::find()
        .count(&a.state.db)
        .await
        .expect("counting responses")
        + response_held::Entity::find()
            .count(&a.state.db)
            .await
            .expect("counting held responses");
    assert_eq!(stored, 1, "expected exactly one completed response");
    let finished = access_code::Entity::find()
        .filter(access_code::Column::SittingId.eq(sitting.id))
        .filter(access_code::Column::State.eq("used"))
        .count(&a.state.db)
        .await
        .expect("counting codes");
    assert_eq!(finished, 1, "expected the code to be marked used");

    // A finished pupil's cookie is gone on both instances.
    for host in &hosts {
        let again = pupil
            .client
            .get(format!("{host}/survey"))
            .send()
            .await
            .expect("GET /survey");
        assert_eq!(
            again.headers()["location"],
            "/",
            "expected {host} to send a finished pupil back to the code screen"
        );
    }
}

#[tokio::test]
async fn staff_on_either_instance_see_the_same_progress() {
    if skip_without_postgres("staff_on_either_instance_see_the_same_progress") {
        return;
    }
    let a = spawn_app().await;
    let b = second_instance(&a).await;
    let sitting = a.sitting("P7", 4).await;

    // One pupil starts on A, another on B.
    let first = Pupil::new(&a).await;
    first.start(&sitting.codes[0]).await;
    let second = Pupil::new(&a).await;
    let entered = second
        .client
        .post(format!("{b}/code"))
        .form(&[("csrf", second.csrf.as_str()), ("code", &sitting.codes[1])])
        .send()
        .await
        .expect("POST /code to B");
    assert_eq!(entered.status(), 303, "expected B to accept a code");
    let started = second
        .client
        .post(format!("{b}/welcome"))
        .form(&[("csrf", second.csrf.as_str()), ("action", "start")])
        .send()
        .await
        .expect("POST /welcome to B");
    assert_eq!(started.headers()["location"], "/survey");

    // A school staff account, signed in on A; the staff cookie works on B too.
    let staff = signed_in_staff(
        &a,
        "teacher@example.org",
        server::services::auth::Role::School,
        Some(sitting.cpp_id),
        Some(sitting.school_id),
    )
    .await;

    let mut seen = Vec::new();
    for host in [a.address.as_str(), b.as_str()] {
        let page = staff
            .get(format!("{host}/staff/sittings/{}", sitting.id))
            .send()
            .await
            .expect("GET the progress page");
        assert_eq!(page.status(), 200, "expected {host} to show the progress");
        let counts = counts_on(&page.text().await.expect("body"));
        assert_eq!(count_of(&counts, "started"), 2, "on {host}: {counts:?}");
        assert_eq!(count_of(&counts, "unused"), 2, "on {host}: {counts:?}");
        seen.push(counts);
    }
    assert_eq!(
        seen[0], seen[1],
        "expected both instances to show the same counts"
    );
}
