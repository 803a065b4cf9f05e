//! Administrators add and change single schools through a form checked by the
//! same rules as the CSV import; nobody else may.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use server::services::auth::Role;
use server::store::schools;
use tests::{capture, csrf_of, signed_in_staff, spawn_app};

fn school_form<'a>(csrf: &'a str, name: &'a str, p6: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("name", name),
        ("seed", "5544332"),
        ("cpp", "S12000036"),
        ("sector", "primary"),
        ("p5", "20"),
        ("p6", p6),
        ("p7", "22"),
        ("s1", ""),
        ("s2", ""),
        ("s3", ""),
        ("s4", ""),
    ]
}

#[tokio::test]
async fn an_administrator_adds_and_changes_a_school_and_bad_input_is_named() {
    let app = spawn_app().await;
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin, None, None).await;
    let page = admin
        .get(app.url("/staff/admin/schools/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_of(&page.text().await.unwrap());

    let created = admin
        .post(app.url("/staff/admin/schools"))
        .form(&school_form(&csrf, "Leith Walk <b>Primary</b>", "21"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 303);
    let school = schools::school_by_seed(&app.state.db, "5544332")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (school.name.as_str(), school.roll_p6),
        ("Leith Walk <b>Primary</b>", 21)
    );

    // The details page is pre-filled, escapes the name, and saving updates the school.
    let edit = admin
        .get(app.url("/staff/admin/schools/new?seed=5544332"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        edit.contains("Leith Walk &lt;b&gt;Primary&lt;&#x2f;b&gt;")
            || edit.contains("Leith Walk &lt;b&gt;Primary&lt;/b&gt;")
    );
    assert_eq!(
        capture(&edit, r#"name="p6" value="(\d+)""#).as_deref(),
        Some("21")
    );
    let updated = admin
        .post(app.url("/staff/admin/schools"))
        .form(&school_form(&csrf, "Leith Walk Primary", "25"))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), 303);
    let school = schools::school_by_seed(&app.state.db, "5544332")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (school.name.as_str(), school.roll_p6),
        ("Leith Walk Primary", 25)
    );

    // A bad roll is named, and nothing changes.
    let refused = admin
        .post(app.url("/staff/admin/schools"))
        .form(&school_form(&csrf, "Leith Walk Primary", "lots"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("error-summary"));
    let school = schools::school_by_seed(&app.state.db, "5544332")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(school.roll_p6, 25);

    // A forged form is refused.
    let forged = admin
        .post(app.url("/staff/admin/schools"))
        .form(&school_form("0000", "Forged", "1"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
}

#[tokio::test]
async fn only_administrators_may_add_schools() {
    let app = spawn_app().await;
    let cpp = schools::cpp_by_code(&app.state.db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let coordinator = signed_in_staff(
        &app,
        "coordinator@example.org",
        Role::Coordinator,
        Some(cpp.id),
        None,
    )
    .await;
    let page = coordinator
        .get(app.url("/staff/admin/schools/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    let anonymous = app.client();
    let response = anonymous
        .get(app.url("/staff/admin/schools/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
}
