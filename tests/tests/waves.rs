//! Survey waves over HTTP: an administrator makes a wave and sets a
//! partnership's fieldwork window, and school staff can then make sittings
//! in it, and only in waves open to their partnership.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use server::services::auth::Role;
use tests::{capture, csrf_of, signed_in_staff, spawn_app};

async fn page(client: &reqwest::Client, url: String) -> String {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn an_administrator_makes_a_wave_and_staff_run_sittings_in_it() {
    let app = spawn_app().await;
    let base = app.sitting("P6", 1).await;
    let admin = signed_in_staff(&app, "admin@council.scot", Role::Admin, None, None).await;
    let teacher = signed_in_staff(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(base.cpp_id),
        Some(base.school_id),
    )
    .await;
    let version = app.state.catalogue.latest()[0].version_id.to_string();

    let list = page(&admin, app.url("/staff/admin/waves")).await;
    let csrf = csrf_of(&list);
    let post = |client: &reqwest::Client, path: String, form: Vec<(&'static str, String)>| {
        client.post(app.url(&path)).form(&form).send()
    };
    // A threshold of 1 would publish single pupils: refused, nothing made.
    let refused = post(
        &admin,
        "/staff/admin/waves".into(),
        vec![
            ("csrf", csrf.clone()),
            ("name", "2027 survey".into()),
            ("version", version.clone()),
            ("threshold", "1".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("threshold must be"));

    let made = post(
        &admin,
        "/staff/admin/waves".into(),
        vec![
            ("csrf", csrf.clone()),
            ("name", "2027 survey".into()),
            ("version", version.clone()),
            ("threshold", "10".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(made.status(), 303);
    let wave_page = made.headers()["location"].to_str().unwrap().to_owned();
    let wave_id = wave_page.rsplit('/').next().unwrap().to_owned();

    // Not yet open to the teacher's partnership: not offered.
    let form = page(
        &teacher,
        app.url(&format!("/staff/schools/{}/sittings/new", base.school_id)),
    )
    .await;
    assert!(
        !form.contains("2027 survey"),
        "a wave without a window is not offered"
    );

    let today = chrono::Utc::now().date_naive();
    let window = post(
        &admin,
        format!("{wave_page}/windows"),
        vec![
            ("csrf", csrf.clone()),
            ("cpp", base.cpp_id.to_string()),
            ("opens", today.to_string()),
            ("closes", (today + chrono::Days::new(10)).to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(window.status(), 303);
    let shown = page(&admin, app.url(&wave_page)).await;
    assert!(shown.contains(&(today + chrono::Days::new(10)).to_string()));

    let form = page(
        &teacher,
        app.url(&format!("/staff/schools/{}/sittings/new", base.school_id)),
    )
    .await;
    assert!(
        form.contains("2027 survey"),
        "the wave is offered once its window is set"
    );
    let created = post(
        &teacher,
        format!("/staff/schools/{}/sittings", base.school_id),
        vec![
            ("csrf", csrf_of(&form)),
            ("stage", "P7".into()),
            ("label", "P7 Room 1".into()),
            ("codes", "3".into()),
            ("wave", wave_id.clone()),
            ("opens", "".into()),
            ("closes", (today + chrono::Days::new(11)).to_string()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        created.status(),
        422,
        "a last day past the window is refused"
    );
    assert!(
        created
            .text()
            .await
            .unwrap()
            .contains("must close by the end of fieldwork")
    );
    let created = post(
        &teacher,
        format!("/staff/schools/{}/sittings", base.school_id),
        vec![
            ("csrf", csrf_of(&form)),
            ("stage", "P7".into()),
            ("label", "P7 Room 1".into()),
            ("codes", "3".into()),
            ("wave", wave_id.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 200, "the slips page");
    let slips = created.text().await.unwrap();
    let sitting: i32 = capture(&slips, r#"/staff/sittings/(\d+)""#)
        .unwrap()
        .parse()
        .unwrap();
    let stored = server::store::sittings::get(&app.state.db, sitting)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.wave_id.to_string(), wave_id);
    assert_eq!(
        stored.closes_at,
        Some(server::services::sittings::end_of_day(
            today + chrono::Days::new(10)
        ))
    );

    // Only administrators reach waves.
    let refused = teacher
        .get(app.url("/staff/admin/waves"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}
