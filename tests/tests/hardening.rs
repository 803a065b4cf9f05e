//! Web hardening: hostile text in questionnaires, signposting, school names and
//! sitting labels is shown as text, never run; error pages never show internals;
//! slow clients are cut off; every page carries the security headers.
//!
//! Related tests elsewhere: oversized and forged forms are refused with 413/400
//! (`forged_oversized_and_undecodable_forms_are_refused_cleanly` in
//! tests/tests/pupil.rs), pupil pages are never cached
//! (`pupil_pages_are_never_cached_and_carry_security_headers`), and random form
//! bodies never cause a 500 (server/tests/fuzz_forms.rs).

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::io::{Read, Write};
use std::time::{Duration, Instant};
use survey_defs::Stage;

use server::services::auth::Role;
use tests::{Pupil, csrf_of, signed_in_staff, spawn_app, spawn_app_with};

const PAYLOAD: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>";

/// Checks that `html` never holds the payload as markup.
fn assert_not_markup(html: &str, what: &str) {
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "{what}: the payload reached the page as markup"
    );
}

/// Checks that `html` shows the payload as text and never as markup.
fn assert_escaped(html: &str, what: &str) {
    assert_not_markup(html, what);
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;"),
        "{what}: expected the payload to be shown escaped"
    );
}

fn hostile_questionnaire() -> String {
    let p = PAYLOAD.replace('"', "\\\"");
    format!(
        r#"
id = "hostile"
version = 1
title = {{ en = "Hostile {p}" }}

[[locales]]
code = "en"
name = "English {p}"

[[scoring]]
indicator = "safe"
positive_at = 0.5
min_answered = 1

[[sections]]
id = "about"
theme = "about_you"
title = {{ en = "About {p}" }}
stages = ["all"]

[[sections.questions]]
id = "q_sex"
role = "sex"
kind = "single_choice"
text = {{ en = "Are you a boy or a girl? {p}" }}
help = {{ en = "Help {p}" }}
options = [
  {{ code = "boy", label = {{ en = "Boy {p}" }} }},
  {{ code = "girl", label = {{ en = "Girl" }} }},
  {{ code = "pnts", label = {{ en = "Rather not say" }}, prefer_not_to_say = true }},
]

[[sections]]
id = "safe"
theme = "safe"
title = {{ en = "Safe {p}" }}
stages = ["all"]

[[sections.questions]]
id = "q_safe_school"
kind = "scale"
text = {{ en = "Do you feel safe at school? {p}" }}
read_aloud = {{ en = "Read aloud {p}" }}
options = [
  {{ code = "always", label = {{ en = "Always {p}" }} }},
  {{ code = "never", label = {{ en = "Never" }} }},
]
score = {{ always = 1, never = 0 }}
"#
    )
}

#[tokio::test]
async fn questionnaire_text_and_signposting_are_shown_as_text() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hostile.toml"), hostile_questionnaire()).unwrap();
    let questionnaires = dir.path().to_path_buf();
    let app = spawn_app_with(|s| s.questionnaires = Some(questionnaires)).await;

    let entry = app
        .state
        .catalogue
        .find("hostile")
        .expect("the hostile questionnaire loads: HTML in text is only text");
    let db = &app.state.db;
    let cpp = server::store::schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = server::store::schools::create_school(
        db,
        server::store::schools::NewSchool {
            cpp_id: cpp.id,
            seed_code: "XSS1".into(),
            name: format!("School {PAYLOAD}"),
            sector: "secondary".into(),
            rolls: [30; 7],
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let signposting = server::store::Json(vec![server::domain::Signpost {
        name: format!("Help {PAYLOAD}"),
        detail: PAYLOAD.to_owned(),
    }]);
    let (_, codes) = server::services::sittings::create_with_codes(
        &app.state.db,
        &app.state.secret,
        &server::services::Actor::Cli,
        server::store::sittings::NewSitting {
            label: format!("Class {PAYLOAD}"),
            signposting,
            ..server::store::sittings::NewSitting::new(
                &school,
                Stage::S2,
                entry.version_id,
                server::services::waves::ensure(
                    &app.state.db,
                    &app.state.catalogue,
                    &server::services::Actor::Cli,
                    "Test wave",
                    entry.version_id,
                    school.cpp_id,
                    {
                        let today = chrono::Utc::now().date_naive();
                        (today - chrono::Days::new(30), today + chrono::Days::new(60))
                    },
                )
                .await
                .unwrap()
                .id,
            )
        },
        1,
    )
    .await
    .unwrap();

    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&codes[0].to_string()).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    // The welcome page names no questionnaire text in a one-language file.
    assert_not_markup(&welcome, "welcome page");
    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let mut path = "/survey".to_owned();
    let mut pages = 0;
    loop {
        let (key, fields, html) = pupil.page(&path).await;
        assert_escaped(&html, &format!("survey page {key}"));
        pages += 1;
        let answers: Vec<(String, String)> = fields
            .iter()
            .map(|f| (f.name.clone(), f.options[0].clone()))
            .collect();
        let saved = pupil.save(&key, &answers, "next").await;
        let next = saved.headers()["location"].to_str().unwrap().to_owned();
        if next == "/review" {
            break;
        }
        path = next;
    }
    assert!(pages >= 1);
    let ended = pupil.finish().await.text().await.unwrap();
    assert_escaped(&ended, "finish page with signposting");
}

#[tokio::test]
async fn school_names_and_sitting_labels_are_shown_as_text_to_staff() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let cpp = server::store::schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = server::store::schools::create_school(
        db,
        server::store::schools::NewSchool {
            cpp_id: cpp.id,
            seed_code: "XSS2".into(),
            name: format!("School {PAYLOAD}"),
            sector: "secondary".into(),
            rolls: [30; 7],
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let version = app.state.catalogue.latest()[0].version_id;
    let (sitting, _) = server::services::sittings::create_with_codes(
        &app.state.db,
        &app.state.secret,
        &server::services::Actor::Cli,
        server::store::sittings::NewSitting {
            label: format!("Class {PAYLOAD}"),
            signposting: server::store::Json(server::services::partnerships::default_signposting()),
            ..server::store::sittings::NewSitting::new(
                &school,
                Stage::S2,
                version,
                server::services::waves::ensure(
                    &app.state.db,
                    &app.state.catalogue,
                    &server::services::Actor::Cli,
                    "Test wave",
                    version,
                    school.cpp_id,
                    {
                        let today = chrono::Utc::now().date_naive();
                        (today - chrono::Days::new(30), today + chrono::Days::new(60))
                    },
                )
                .await
                .unwrap()
                .id,
            )
        },
        3,
    )
    .await
    .unwrap();
    let password = "a long enough password";
    server::store::staff::create(
        db,
        server::store::staff::NewStaff {
            email: "admin@example.org".into(),
            password_hash: app.state.staff.hash(password).await.unwrap(),
            role: server::domain::Role::Admin,
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let client = app.client();
    let login = client.get(app.url("/staff/login")).send().await.unwrap();
    let csrf = csrf_of(&login.text().await.unwrap());
    let signed_in = client
        .post(app.url("/staff/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "admin@example.org"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303, "the administrator signs in");
    for path in [
        format!("/staff/schools/{}", school.id),
        format!("/staff/sittings/{}", sitting.id),
        format!("/staff/cpps/{}", cpp.id),
    ] {
        let response = client.get(app.url(&path)).send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}");
        if path.starts_with("/staff/schools/") {
            // The school's own page names it: shown, as text.
            assert_escaped(&html, &format!("GET {path}"));
        } else {
            assert_not_markup(&html, &format!("GET {path}"));
        }
    }
}

/// Text that must never reach a browser.
const INTERNALS: &[&str] = &[
    "DbErr",
    "sqlx",
    "SQLSTATE",
    "SELECT",
    "access_code",
    "pool",
    "panicked",
    "backtrace",
    "src/",
    ".rs:",
    "Connection",
];

#[tokio::test]
async fn a_database_failure_mid_request_shows_a_plain_error_page() {
    let app = spawn_app().await;
    let sitting = app.sitting("P7", 1).await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    // The database goes away between two requests: the pool closes and the
    // pupil journey's writer stops.
    app.state.close().await.unwrap();
    let response = pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "decline")])
        .await;
    assert_eq!(response.status(), 500, "a failed database is a 500");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    assert!(
        html.contains("Something went wrong on our side"),
        "expected the plain message, saw:\n{html}"
    );
    for internal in INTERNALS {
        assert!(
            !html.contains(internal),
            "the error page shows {internal:?}:\n{html}"
        );
    }
    let health = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503, "the health check reports the failure");
}

#[tokio::test]
async fn error_and_staff_pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let client = app.client();
    for path in [
        "/no-such-page",
        "/staff/login",
        "/healthz",
        "/staff/no-such-page",
    ] {
        let response = client.get(app.url(path)).send().await.unwrap();
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline")
                && !csp.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(headers.contains_key("permissions-policy"), "{path}");
    }
}

#[tokio::test]
async fn pages_with_form_tokens_are_never_compressed() {
    let app = spawn_app().await;
    let client = app.client();
    // Compressing a token next to text an attacker can choose lets the
    // response's length give the token away (BREACH).
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    for (path, client) in [
        ("/", &client),
        ("/staff/login", &client),
        ("/survey", &pupil.client),
    ] {
        let response = client
            .get(app.url(path))
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            !response.headers().contains_key("content-encoding"),
            "{path} was compressed: {:?}",
            response.headers().get("content-encoding")
        );
        assert!(
            response.text().await.unwrap().contains("name=\"csrf\""),
            "{path} should hold a form token"
        );
    }
    // The stylesheet holds no secret: it is compressed for clients that ask.
    let css = client
        .get(app.url("/static/survey.css"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(css.headers()["content-encoding"], "gzip");
}

/// Bodies leave in pieces of a few kilobytes (see `server::web::pieces`), still
/// announced whole, with their length and not in chunked encoding, and they
/// arrive whole over one kept-alive connection.
#[tokio::test]
async fn large_pages_arrive_whole_with_their_length() {
    let app = spawn_app().await;
    let admin = signed_in_staff(&app, "pieces@example.org", Role::Admin, None, None).await;
    // Enough accounts that their list is several pieces long.
    for n in 0..60 {
        server::store::staff::create(
            &app.state.db,
            server::store::staff::NewStaff {
                email: format!("analyst-{n:02}@example.org"),
                password_hash: "not a hash".into(),
                role: Role::Admin,
                cpp_id: None,
                school_id: None,
                is_demo: false,
            },
        )
        .await
        .unwrap();
    }
    let mut sizes = Vec::new();
    for path in ["/staff", "/staff/admin/users", "/staff/login", "/staff"] {
        let response = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(!response.headers().contains_key("transfer-encoding"));
        let length = response.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse::<usize>()
            .unwrap();
        let body = response.bytes().await.unwrap();
        assert_eq!(body.len(), length, "{path}");
        assert!(
            String::from_utf8_lossy(&body)
                .trim_end()
                .ends_with("</html>"),
            "{path} arrived whole"
        );
        sizes.push(length);
    }
    assert!(
        sizes
            .iter()
            .any(|&size| size > 2 * server::web::pieces::PIECE),
        "no page of several pieces was fetched: {sizes:?}"
    );
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_is_cut_off() {
    let app = spawn_app().await;
    let port = app.port;
    let started = Instant::now();
    let closed_after = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        // A request head that never ends (slowloris).
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            .unwrap();
        let mut buffer = [0u8; 1024];
        let mut answer = Vec::new();
        loop {
            match stream.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
                Err(e) => panic!("the server kept a half-sent request open: {e}"),
            }
        }
        (
            started.elapsed(),
            String::from_utf8_lossy(&answer).into_owned(),
        )
    })
    .await
    .unwrap();
    let (elapsed, answer) = closed_after;
    assert!(
        elapsed < Duration::from_secs(20),
        "expected the connection to be closed within the request timeout, took {elapsed:?}"
    );
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "expected a 408 or a closed connection, got {answer:?}"
    );
}
