//! The staff side over HTTP: sign-in, sittings and code slips, progress, the
//! authorisation matrix, CSRF, throttling, session fixation and timeout, XSS in
//! every field staff can edit, the schools import, reset links and the audit log.

// The helpers below are test code too: a failed request should stop the test.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};
use survey_defs::Stage;

use sea_orm::{EntityTrait, PaginatorTrait};
use server::services::auth::Role;
use server::store::entities::{audit_log, school};
use server::store::schools::{self, NewSchool};
use server::store::staff::{self, NewStaff};
use tests::{Pupil, TestApp, capture, csrf_of, spawn_app, spawn_app_with};

const PASSWORD: &str = "violet kettle harbour";

/// Creates an account and returns its e-mail address.
async fn user(
    app: &TestApp,
    email: &str,
    role: Role,
    cpp: Option<i32>,
    school: Option<i32>,
) -> i32 {
    let hash = app.state.staff.hash(PASSWORD).await.unwrap();
    staff::create(
        &app.state.db,
        NewStaff {
            email: email.into(),
            password_hash: hash,
            role,
            cpp_id: cpp,
            school_id: school,
            is_demo: false,
        },
    )
    .await
    .unwrap()
    .id
}

/// A browser-like staff client, signed in or not.
struct StaffClient<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
}

impl<'a> StaffClient<'a> {
    fn new(app: &'a TestApp) -> Self {
        let cookies = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(cookies.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            app,
            client,
            cookies,
        }
    }

    /// The `Cookie` header this client would send to `path`.
    fn cookie_header(&self, path: &str) -> String {
        let url: reqwest::Url = self.app.url(path).parse().unwrap();
        reqwest::cookie::CookieStore::cookies(&*self.cookies, &url)
            .map(|h| h.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    async fn signed_in(app: &'a TestApp, email: &str) -> Self {
        let me = Self::new(app);
        let response = me.login(email, PASSWORD).await;
        assert_eq!(response.status(), 303, "expected {email} to sign in");
        me
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.app.url(path)).send().await.unwrap()
    }

    async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "expected GET {path} to answer 200");
        response.text().await.unwrap()
    }

    async fn csrf(&self) -> String {
        csrf_of(&self.text("/staff/login").await)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form with this session's token added.
    async fn submit(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.post(path, &all).await
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf().await;
        self.post(
            "/staff/login",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    async fn upload(&self, csv: &[u8]) -> reqwest::Response {
        let csrf = self.csrf().await;
        let boundary = "----staff-test-boundary";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(csv);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.client
            .post(self.app.url("/staff/admin/import"))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .unwrap()
    }
}

fn count_of(html: &str, state: &str) -> i64 {
    capture(html, &format!(r#"data-count="{state}">(\d+)<"#))
        .unwrap_or_else(|| panic!("expected a {state} count in the progress page"))
        .parse()
        .unwrap()
}

async fn second_school(app: &TestApp, gss: &str) -> school::Model {
    let cpp = schools::cpp_by_code(&app.state.db, gss)
        .await
        .unwrap()
        .unwrap();
    schools::create_school(
        &app.state.db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: format!("O{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            name: "Other school".into(),
            sector: "primary".into(),
            rolls: [20; 7],
            is_demo: false,
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn school_staff_create_a_sitting_print_codes_watch_progress_and_close_it() {
    let app = spawn_app().await;
    let base = app.sitting("P6", 1).await;
    user(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(base.cpp_id),
        Some(base.school_id),
    )
    .await;
    let teacher = StaffClient::signed_in(&app, "teacher@school.scot").await;

    let home = teacher.get("/staff").await;
    assert_eq!(home.status(), 303);
    assert_eq!(
        home.headers()["location"],
        format!("/staff/schools/{}", base.school_id).as_str()
    );

    let created = teacher
        .submit(
            &format!("/staff/schools/{}/sittings", base.school_id),
            &[
                ("stage", "P7"),
                ("label", "P7 Room 2"),
                ("codes", "25"),
                (
                    "wave",
                    &tests::test_wave(
                        &app.state,
                        base.cpp_id,
                        app.state.catalogue.latest()[0].version_id,
                    )
                    .await
                    .to_string(),
                ),
                ("opens", ""),
                ("closes", ""),
            ],
        )
        .await;
    assert_eq!(created.status(), 200, "expected the code slips page");
    let slips = created.text().await.unwrap();
    assert_eq!(
        slips.matches(r#"class="slip""#).count(),
        25,
        "expected 25 slips"
    );
    assert!(
        slips.contains("data:text/csv"),
        "expected the CSV download on the slips page"
    );
    assert!(slips.contains("data:image/svg+xml,"), "expected QR codes");
    let code = capture(&slips, r#"class="slip-code">([0-9A-Z-]+)<"#).unwrap();
    let sitting_id = capture(&slips, r#"/staff/sittings/(\d+)""#).unwrap();
    let progress_path = format!("/staff/sittings/{sitting_id}");

    // A pupil uses one code to the end.
    let pupil = Pupil::new(&app).await;
    pupil.start(&code).await;
    let page = teacher.text(&progress_path).await;
    assert!(
        slips.contains(r#"href="/check""#) && page.contains(r#"href="/check""#),
        "expected the slips and progress pages to link to the device check"
    );
    assert_eq!(count_of(&page, "started"), 1);
    assert_eq!(count_of(&page, "unused"), 24);
    pupil.answer_all().await;
    pupil.finish().await;
    let page = teacher.text(&progress_path).await;
    assert_eq!(count_of(&page, "finished"), 1);

    // Void a code from the slips (the second one), then one that is not unused.
    let second = slips
        .match_indices(r#"class="slip-code">"#)
        .nth(1)
        .map(|(i, m)| slips[i + m.len()..].split('<').next().unwrap().to_owned())
        .unwrap();
    let voided = teacher
        .submit(&format!("{progress_path}/void"), &[("code", &second)])
        .await;
    assert_eq!(
        voided.headers()["location"],
        format!("{progress_path}?notice=voided").as_str()
    );
    let again = teacher
        .submit(&format!("{progress_path}/void"), &[("code", &code)])
        .await;
    assert_eq!(
        again.headers()["location"],
        format!("{progress_path}?notice=not-voided").as_str()
    );
    assert_eq!(count_of(&teacher.text(&progress_path).await, "voided"), 1);

    // Spares and a mop-up sitting each show their codes once.
    let spares = teacher
        .submit(&format!("{progress_path}/spares"), &[("codes", "3")])
        .await;
    assert_eq!(
        spares
            .text()
            .await
            .unwrap()
            .matches(r#"class="slip""#)
            .count(),
        3
    );
    let mop_up = teacher
        .submit(&format!("{progress_path}/mop-up"), &[("codes", "4")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(mop_up.matches(r#"class="slip""#).count(), 4);
    assert!(mop_up.contains("P7 Room 2 (mop-up)"));

    // Closing turns a response in progress into a partial one.
    let late = Pupil::new(&app).await;
    let third = slips
        .match_indices(r#"class="slip-code">"#)
        .nth(2)
        .map(|(i, m)| slips[i + m.len()..].split('<').next().unwrap().to_owned())
        .unwrap();
    late.start(&third).await;
    let closed = teacher.submit(&format!("{progress_path}/close"), &[]).await;
    assert_eq!(closed.status(), 303);
    let page = teacher.text(&progress_path).await;
    assert_eq!(count_of(&page, "partial"), 1);
    assert_eq!(count_of(&page, "started"), 0);
    assert!(page.contains("This sitting is closed"));

    // The school page shows the rate against the roll: counts only.
    let school_page = teacher
        .text(&format!("/staff/schools/{}", base.school_id))
        .await;
    assert!(school_page.contains("P7 Room 2"));
    assert!(
        school_page.contains(r#"<th scope="row">P7</th><td class="num">30</td><td class="num">0</td><td class="num">1</td><td class="num">1</td><td class="num">3%</td>"#),
        "expected P7: roll 30, none opted out, 1 finished, 1 partial, 3%"
    );
}

/// Every route under `/staff`, tried as an administrator, a coordinator and an
/// analyst of one partnership, school staff of one of its schools, and
/// someone not signed in. The routes come from the application's own table
/// (`server::web::staff::routes::table`): a route the matrix does not try
/// fails the test. Every 403 answered to a signed-in person is in the audit
/// log, under that person, with the method and the path.
#[tokio::test]
async fn every_staff_route_checks_role_and_scope() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 5).await;
    let other_school_same_cpp = second_school(&app, "S12000036").await;
    let other_cpp_school = second_school(&app, "S12000049").await;
    let other_cpp = other_cpp_school.cpp_id;
    let far = server::services::sittings::create_with_codes(
        &app.state.db,
        &app.state.secret,
        &server::services::Actor::Cli,
        server::store::sittings::NewSitting {
            label: "far".into(),
            ..server::store::sittings::NewSitting::new(
                &other_cpp_school,
                Stage::P6,
                app.state.catalogue.latest()[0].version_id,
                tests::test_wave(
                    &app.state,
                    other_cpp_school.cpp_id,
                    app.state.catalogue.latest()[0].version_id,
                )
                .await,
            )
        },
        5,
    )
    .await
    .unwrap()
    .0;
    let admin_id = user(&app, "admin@council.scot", Role::Admin, None, None).await;
    user(
        &app,
        "coord@council.scot",
        Role::Coordinator,
        Some(own.cpp_id),
        None,
    )
    .await;
    user(
        &app,
        "analyst@council.scot",
        Role::Analyst,
        Some(own.cpp_id),
        None,
    )
    .await;
    user(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(own.cpp_id),
        Some(own.school_id),
    )
    .await;
    let resetting = user(&app, "new@council.scot", Role::School, None, None).await;
    let token = server::services::accounts::issue_reset(
        &app.state.db,
        &app.state.secret,
        &server::services::Actor::Cli,
        &staff::by_id(&app.state.db, resetting)
            .await
            .unwrap()
            .unwrap(),
    )
    .await
    .unwrap();

    let wave_id = tests::test_wave(
        &app.state,
        own.cpp_id,
        app.state.catalogue.latest()[0].version_id,
    )
    .await;
    let wave = wave_id.to_string();
    let sitting_form: Vec<(&str, &str)> = vec![
        ("stage", "P6"),
        ("label", "Matrix"),
        ("codes", "2"),
        ("wave", &wave),
    ];

    enum Body {
        None,
        Form(Vec<(&'static str, String)>),
        Upload(&'static [u8]),
    }
    // (method, path, who may: admin, coordinator, analyst, school staff;
    // whether it is also for someone not signed in)
    struct Route {
        body: Body,
        path: String,
        allowed: [bool; 4],
        public: bool,
    }
    impl Route {
        fn method(&self) -> &'static str {
            match self.body {
                Body::None => "GET",
                Body::Form(_) | Body::Upload(_) => "POST",
            }
        }
    }
    let get = |path: String, allowed: [bool; 4]| Route {
        body: Body::None,
        path,
        allowed,
        public: false,
    };
    let post = |path: String, form: Vec<(&'static str, String)>, allowed: [bool; 4]| Route {
        body: Body::Form(form),
        path,
        allowed,
        public: false,
    };
    let owned = |pairs: &[(&'static str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (*k, (*v).to_owned()))
            .collect::<Vec<_>>()
    };
    let school_routes = |school: i32, sitting: i32, allowed: [bool; 4]| {
        vec![
            get(format!("/staff/schools/{school}"), allowed),
            get(format!("/staff/schools/{school}/sittings/new"), allowed),
            post(
                format!("/staff/schools/{school}/sittings"),
                owned(&sitting_form),
                allowed,
            ),
            get(format!("/staff/sittings/{sitting}"), allowed),
            post(
                format!("/staff/sittings/{sitting}/spares"),
                owned(&[("codes", "1")]),
                allowed,
            ),
            post(
                format!("/staff/sittings/{sitting}/void"),
                owned(&[("code", "ABCD-EFGH-JK")]),
                allowed,
            ),
            post(
                format!("/staff/sittings/{sitting}/mop-up"),
                owned(&[("codes", "1")]),
                allowed,
            ),
            post(
                format!("/staff/sittings/{sitting}/opted-out"),
                owned(&[("opted_out", "0")]),
                allowed,
            ),
            get(format!("/staff/schools/{school}/letter"), allowed),
            get(format!("/staff/schools/{school}/questionnaire"), allowed),
            get(
                format!("/staff/schools/{school}/questionnaire/print"),
                allowed,
            ),
            get(format!("/staff/schools/{school}/preview"), allowed),
        ]
    };
    let everyone = [true; 4];
    let mut routes = vec![
        Route {
            public: true,
            ..get("/staff/login".into(), everyone)
        },
        Route {
            public: true,
            ..post(
                "/staff/login".into(),
                owned(&[("email", "nobody@council.scot"), ("password", "wrong")]),
                everyone,
            )
        },
        Route {
            public: true,
            ..get(format!("/staff/reset?token={token}"), everyone)
        },
        Route {
            public: true,
            ..post(
                "/staff/reset".into(),
                owned(&[
                    ("token", &token),
                    ("password", "one long password"),
                    ("confirm", "another long password"),
                ]),
                everyone,
            )
        },
        get("/staff".into(), everyone),
    ];
    routes.extend(school_routes(
        own.school_id,
        own.id,
        [true, true, false, true],
    ));
    // A school in the same partnership but not the teacher's own.
    routes.push(get(
        format!("/staff/schools/{}", other_school_same_cpp.id),
        [true, true, false, false],
    ));
    routes.extend(school_routes(
        other_cpp_school.id,
        far.id,
        [true, false, false, false],
    ));
    let mut released = std::collections::HashMap::new();
    for (cpp, settings, exports) in [
        (
            own.cpp_id,
            [true, true, false, false],
            [true, true, true, false],
        ),
        (
            other_cpp,
            [true, false, false, false],
            [true, false, false, false],
        ),
    ] {
        routes.push(get(format!("/staff/cpps/{cpp}"), settings));
        routes.push(get(format!("/staff/cpps/{cpp}/settings"), settings));
        routes.push(post(
            format!("/staff/cpps/{cpp}/settings"),
            owned(&[("signposting", "Childline | 0800 1111")]),
            settings,
        ));
        routes.push(get(format!("/staff/cpps/{cpp}/releases"), exports));
        routes.push(get(format!("/staff/cpps/{cpp}/trends"), exports));
        let release = tests::stored_release(&app.state, wave_id, Some(cpp)).await;
        released.insert(cpp, release);
        routes.push(get(
            format!("/staff/releases/{release}/frequencies.csv"),
            exports,
        ));
    }
    // A school's own report, from its partnership's release.
    routes.push(get(
        format!(
            "/staff/schools/{}/results/{}",
            own.school_id, released[&own.cpp_id]
        ),
        [true, true, false, true],
    ));
    routes.push(get(
        format!(
            "/staff/schools/{}/results/{}",
            other_cpp_school.id, released[&other_cpp]
        ),
        [true, false, false, false],
    ));
    let admin_only = [true, false, false, false];
    routes.push(get("/staff/releases".into(), admin_only));
    let scotland = tests::stored_release(&app.state, wave_id, None).await;
    routes.push(get(
        format!("/staff/releases/{scotland}/frequencies.csv"),
        admin_only,
    ));
    routes.push(get("/staff/admin/users".into(), admin_only));
    let wave = server::services::waves::all(&app.state.db).await.unwrap()[0].clone();
    routes.push(get("/staff/admin/waves".into(), admin_only));
    routes.push(post(
        "/staff/admin/waves".into(),
        owned(&[("name", "Matrix wave"), ("version", "x")]),
        admin_only,
    ));
    routes.push(get(format!("/staff/admin/waves/{}", wave.id), admin_only));
    routes.push(post(
        format!("/staff/admin/waves/{}", wave.id),
        owned(&[("name", wave.name.as_str())]),
        admin_only,
    ));
    // Fieldwork is open: refused with a reason, after the role check.
    routes.push(post(
        format!("/staff/admin/waves/{}/releases", wave.id),
        owned(&[("unit", "scotland")]),
        admin_only,
    ));
    routes.push(post(
        format!("/staff/admin/waves/{}/windows", wave.id),
        owned(&[("cpp", "x"), ("opens", ""), ("closes", "")]),
        admin_only,
    ));
    routes.push(get("/staff/admin/import".into(), admin_only));
    routes.push(Route {
        body: Body::Upload(b"seed_code,name\n"),
        ..get("/staff/admin/import".into(), admin_only)
    });
    routes.push(get("/staff/admin/audit".into(), admin_only));
    routes.push(get("/staff/admin/schools/new".into(), admin_only));
    routes.push(post(
        "/staff/admin/schools".into(),
        owned(&[("name", "Matrix school")]),
        admin_only,
    ));
    routes.push(post(
        "/staff/admin/users".into(),
        owned(&[("email", "x@y.scot"), ("role", "admin")]),
        admin_only,
    ));
    routes.push(post(
        format!("/staff/admin/users/{admin_id}"),
        owned(&[("action", "reset")]),
        admin_only,
    ));
    routes.push(get(
        format!("/staff/admin/users/{admin_id}/role"),
        admin_only,
    ));
    // An administrator's own role cannot be changed: refused as a bad
    // request, after the role check.
    routes.push(post(
        format!("/staff/admin/users/{admin_id}/role"),
        owned(&[("role", "school"), ("scope", "nowhere")]),
        admin_only,
    ));
    // Closing last, so the other routes still find open sittings.
    routes.push(post(
        format!("/staff/sittings/{}/close", far.id),
        vec![],
        admin_only,
    ));
    routes.push(post(
        format!("/staff/sittings/{}/close", own.id),
        vec![],
        [true, true, false, true],
    ));
    // Signing out ends each session, so it comes very last.
    routes.push(post("/staff/logout".into(), vec![], everyone));

    // Every route the application has is tried, and every path tried is one
    // of the application's routes.
    let table = server::web::staff::routes::table();
    let mut failures = Vec::new();
    for known in &table {
        if !routes
            .iter()
            .any(|r| r.method() == known.method.as_str() && known.matches(&r.path))
        {
            failures.push(format!("{known}: not in the matrix"));
        }
    }
    for route in &routes {
        if !table
            .iter()
            .any(|known| route.method() == known.method.as_str() && known.matches(&route.path))
        {
            failures.push(format!(
                "{} {}: the application has no such route",
                route.method(),
                route.path
            ));
        }
    }

    let anonymous = StaffClient::new(&app);
    let emails = [
        "admin@council.scot",
        "coord@council.scot",
        "analyst@council.scot",
        "teacher@school.scot",
    ];
    let mut people = Vec::new();
    for email in emails {
        people.push(StaffClient::signed_in(&app, email).await);
    }
    let names = ["admin", "coordinator", "analyst", "school staff"];
    async fn send(client: &StaffClient<'_>, route: &Route) -> reqwest::Response {
        match &route.body {
            Body::None => client.get(&route.path).await,
            Body::Form(form) => {
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                client.submit(&route.path, &form).await
            }
            Body::Upload(bytes) => client.upload(bytes).await,
        }
    }
    let mut refused = Vec::new();
    for route in &routes {
        // Run the allowed people last, so a closing route is refused first.
        let mut order: Vec<usize> = (0..4).collect();
        order.sort_by_key(|i| route.allowed[*i]);
        let anon = send(&anonymous, route).await;
        let sent_to_sign_in = anon.status() == 303 && anon.headers()["location"] == "/staff/login";
        let served = |status: u16| status != 403 && status != 404 && status < 500;
        if route.public && (sent_to_sign_in || !served(anon.status().as_u16())) {
            failures.push(format!(
                "anonymous {} {}: expected to be served, saw {}",
                route.method(),
                route.path,
                anon.status()
            ));
        }
        if !route.public && !sent_to_sign_in {
            failures.push(format!(
                "anonymous {} {}: expected a redirect to sign in, saw {}",
                route.method(),
                route.path,
                anon.status()
            ));
        }
        for i in order {
            let response = send(&people[i], route).await;
            let status = response.status().as_u16();
            if status == 403 {
                let path = route.path.split('?').next().unwrap_or_default();
                refused.push((emails[i].to_owned(), format!("{} {path}", route.method())));
            }
            let ok = if route.allowed[i] {
                served(status)
            } else {
                status == 403
            };
            if !ok {
                failures.push(format!(
                    "{} {} {}: expected {}, saw {status}",
                    names[i],
                    route.method(),
                    route.path,
                    if route.allowed[i] { "allowed" } else { "403" }
                ));
            }
        }
    }

    let mut recorded: Vec<(String, String)> = audit_log::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == server::web::staff::FORBIDDEN)
        .map(|entry| (entry.actor, entry.detail))
        .collect();
    recorded.sort();
    refused.sort();
    if recorded != refused {
        failures.push(format!(
            "every refusal of a signed-in person, and nothing else, is in the audit log:\n  \
             refused {refused:?}\n  recorded {recorded:?}"
        ));
    }
    assert!(
        failures.is_empty(),
        "authorisation matrix failures:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_refusal_is_audited_with_its_method_and_path_only() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 1).await;
    let coordinator = user(
        &app,
        "coord@council.scot",
        Role::Coordinator,
        Some(own.cpp_id),
        None,
    )
    .await;
    let client = StaffClient::signed_in(&app, "coord@council.scot").await;
    let page = client.get("/staff/admin/audit?actor=query-secret").await;
    assert_eq!(page.status(), 403, "the audit log is for administrators");
    let settings = format!("/staff/cpps/{}/settings", own.cpp_id);
    let forged = client
        .post(
            &settings,
            &[("csrf", "forged"), ("signposting", "form-secret | 0800")],
        )
        .await;
    assert_eq!(
        forged.status(),
        403,
        "a form with a forged token is refused"
    );
    let anonymous = StaffClient::new(&app);
    let response = anonymous.get("/staff/admin/audit").await;
    assert_eq!(response.status(), 303, "not signed in: sent to sign in");

    let refusals: Vec<(Option<i32>, String, String)> = audit_log::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == "forbidden")
        .map(|entry| (entry.actor_id, entry.actor, entry.detail))
        .collect();
    assert_eq!(
        refusals,
        [
            (
                Some(coordinator),
                "coord@council.scot".to_owned(),
                "GET /staff/admin/audit".to_owned()
            ),
            (
                Some(coordinator),
                "coord@council.scot".to_owned(),
                format!("POST {settings}")
            ),
        ],
        "one entry per refusal of a signed-in person, with no query string or form content"
    );
}

#[tokio::test]
async fn an_analyst_starts_at_their_exports_and_is_shown_no_link_they_cannot_use() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 1).await;
    user(
        &app,
        "analyst@council.scot",
        Role::Analyst,
        Some(own.cpp_id),
        None,
    )
    .await;
    let analyst = StaffClient::signed_in(&app, "analyst@council.scot").await;
    let home = analyst.get("/staff").await;
    assert_eq!(home.status(), 303);
    let exports = format!("/staff/cpps/{}/releases", own.cpp_id);
    assert_eq!(home.headers()["location"], exports.as_str());
    let page = analyst.text(&exports).await;
    assert!(page.contains("CPP analyst"), "the role is named: {page}");
    let links = regex::Regex::new(r#"href="(/staff[^"]*)""#).unwrap();
    let mut seen = 0;
    for link in links.captures_iter(&page) {
        let path = &link[1];
        let response = analyst.get(path).await;
        // With no responses yet a download answers "nothing to export" (404):
        // what matters is that it is not refused.
        assert!(
            response.status() != 403 && response.status().as_u16() < 500,
            "the analyst's page links to {path}, which answers {}",
            response.status()
        );
        seen += 1;
    }
    assert!(seen > 1, "expected the home link and the downloads: {page}");
    for path in [
        format!("/staff/cpps/{}", own.cpp_id),
        format!("/staff/cpps/{}/settings", own.cpp_id),
        format!("/staff/schools/{}", own.school_id),
        format!("/staff/sittings/{}", own.id),
    ] {
        assert!(!page.contains(&format!("href=\"{path}\"")), "{path}");
    }
}

#[tokio::test]
async fn forms_without_the_session_token_are_refused() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 2).await;
    user(&app, "admin@council.scot", Role::Admin, None, None).await;
    let anonymous = StaffClient::new(&app);
    let _ = anonymous.csrf().await;
    let login = anonymous
        .post(
            "/staff/login",
            &[
                ("csrf", "forged"),
                ("email", "admin@council.scot"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        login.status(),
        403,
        "expected a forged login form to be refused"
    );

    let admin = StaffClient::signed_in(&app, "admin@council.scot").await;
    for path in [
        format!("/staff/schools/{}/sittings", own.school_id),
        format!("/staff/sittings/{}/close", own.id),
        format!("/staff/sittings/{}/void", own.id),
        format!("/staff/cpps/{}/settings", own.cpp_id),
        "/staff/admin/users".to_owned(),
        "/staff/logout".to_owned(),
    ] {
        let missing = admin.post(&path, &[("codes", "1")]).await;
        assert_eq!(
            missing.status(),
            403,
            "expected POST {path} without a token to be refused"
        );
        let wrong = admin
            .post(&path, &[("csrf", "0123abcd"), ("codes", "1")])
            .await;
        assert_eq!(
            wrong.status(),
            403,
            "expected POST {path} with a wrong token to be refused"
        );
    }
    let upload = admin
        .client
        .post(app.url("/staff/admin/import"))
        .header("content-type", "multipart/form-data; boundary=x")
        .body("--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nnope\r\n--x--\r\n")
        .send()
        .await
        .unwrap();
    assert_eq!(
        upload.status(),
        403,
        "expected an upload with a wrong token to be refused"
    );
    let page = admin.text(&format!("/staff/sittings/{}", own.id)).await;
    assert!(
        !page.contains("This sitting is closed"),
        "a refused form must change nothing"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_without_revealing_which_accounts_exist() {
    let app = spawn_app().await;
    user(&app, "known@school.scot", Role::Admin, None, None).await;
    let client = StaffClient::new(&app);

    // The quickest of three tries each, alternated, so that a busy machine
    // slowing one try does not decide the comparison.
    let mut known_time = std::time::Duration::MAX;
    let mut unknown_time = std::time::Duration::MAX;
    let mut answers = None;
    for _ in 0..3 {
        let started = Instant::now();
        let known = client
            .login("known@school.scot", "wrong password here")
            .await;
        known_time = known_time.min(started.elapsed());
        let started = Instant::now();
        let unknown = client
            .login("nobody@school.scot", "wrong password here")
            .await;
        unknown_time = unknown_time.min(started.elapsed());
        answers = Some((known, unknown));
    }
    let (known, unknown) = answers.unwrap();
    assert_eq!(known.status(), unknown.status());
    let (known, unknown) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    let message = |html: &str| capture(html, r##"<a href="#email">([^<]+)</a>"##).unwrap();
    assert_eq!(
        message(&known),
        message(&unknown),
        "expected the same message for both"
    );
    assert!(
        unknown_time * 3 >= known_time,
        "an unknown account answered much faster ({unknown_time:?}) than a wrong password ({known_time:?})"
    );

    for _ in 0..5 {
        client
            .login("known@school.scot", "wrong password here")
            .await;
        client
            .login("nobody@school.scot", "wrong password here")
            .await;
    }
    let locked = client.login("known@school.scot", PASSWORD).await;
    assert_eq!(
        locked.status(),
        429,
        "expected the right password to be refused while throttled"
    );
    let unknown = client.login("nobody@school.scot", PASSWORD).await;
    assert_eq!(
        unknown.status(),
        429,
        "expected an unknown account to be throttled the same way"
    );
    assert_eq!(
        message(&locked.text().await.unwrap()),
        message(&unknown.text().await.unwrap())
    );
}

#[tokio::test]
async fn signing_in_starts_a_new_session_and_idle_sessions_end() {
    let app = spawn_app_with(|s| s.staff_idle_minutes = 0).await;
    user(&app, "teacher@school.scot", Role::Admin, None, None).await;
    let client = StaffClient::new(&app);
    let before = client.get("/staff/login").await;
    let planted = before
        .cookies()
        .find(|c| c.name() == "staff")
        .expect("a session cookie before sign-in")
        .value()
        .to_owned();
    let csrf_before = csrf_of(&before.text().await.unwrap());
    let response = client.login("teacher@school.scot", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("staff="))
        .expect("a new session cookie at sign-in");
    assert!(
        !cookie.contains(&planted),
        "expected the session cookie to change at sign-in"
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/staff"] {
        assert!(
            cookie.contains(attribute),
            "expected {attribute} on the staff cookie: {cookie}"
        );
    }

    // The cookie from before sign-in gets nobody in.
    let fixated = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let attempt = fixated
        .get(app.url("/staff"))
        .header("cookie", format!("staff={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(attempt.status(), 303);
    assert_eq!(attempt.headers()["location"], "/staff/login");
    assert_ne!(
        csrf_before,
        client.csrf().await,
        "expected a new form token after sign-in"
    );

    // With a zero-minute timeout, the session ends after a second of idling.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let idle = client.get("/staff").await;
    assert_eq!(idle.headers()["location"], "/staff/login?notice=timeout");
}

#[tokio::test]
async fn secure_cookies_are_marked_secure() {
    let app = spawn_app_with(|s| s.secure_cookies = true).await;
    let response = StaffClient::new(&app).get("/staff/login").await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("Secure"),
        "expected a Secure cookie, saw {cookie}"
    );
}

#[tokio::test]
async fn markup_typed_by_staff_is_shown_as_text() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 1).await;
    user(&app, "admin@council.scot", Role::Admin, None, None).await;
    let admin = StaffClient::signed_in(&app, "admin@council.scot").await;
    let payloads = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(2)>",
        "' onmouseover='alert(3)",
        "{{ 7*7 }}</textarea><svg onload=alert(4)>",
    ];
    for (i, payload) in payloads.iter().enumerate() {
        let csv = format!(
            "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4\n\"{}\",X{i},S12000036,primary,1,1,1,,,,\n",
            payload.replace('"', "\"\"")
        );
        assert_eq!(
            admin.upload(csv.as_bytes()).await.status(),
            200,
            "expected {payload} to import"
        );
        let label = admin
            .submit(
                &format!("/staff/schools/{}/sittings", own.school_id),
                &[
                    ("stage", "P6"),
                    ("label", payload),
                    ("codes", "1"),
                    (
                        "wave",
                        &tests::test_wave(
                            &app.state,
                            own.cpp_id,
                            app.state.catalogue.latest()[0].version_id,
                        )
                        .await
                        .to_string(),
                    ),
                ],
            )
            .await
            .text()
            .await
            .unwrap();
        let signposting = format!("{payload} | {payload}");
        admin
            .submit(
                &format!("/staff/cpps/{}/settings", own.cpp_id),
                &[("signposting", &signposting)],
            )
            .await;
        let pages = [
            label,
            admin.text(&format!("/staff/cpps/{}", own.cpp_id)).await,
            admin
                .text(&format!("/staff/schools/{}", own.school_id))
                .await,
            admin
                .text(&format!("/staff/cpps/{}/settings", own.cpp_id))
                .await,
            admin.text("/staff/admin/audit").await,
        ];
        for page in &pages {
            for raw in [
                "<script>alert",
                "<img src=x",
                "<svg onload",
                "' onmouseover='",
                "</textarea><svg",
            ] {
                assert!(
                    !page.contains(raw),
                    "found unescaped {raw:?} in a staff page"
                );
            }
        }
        assert!(pages[1].contains("&lt;") || !payload.contains('<'));
    }
}

#[tokio::test]
async fn every_kind_of_bad_schools_file_is_reported_by_line_and_imports_nothing() {
    let app = spawn_app().await;
    user(&app, "admin@council.scot", Role::Admin, None, None).await;
    let admin = StaffClient::signed_in(&app, "admin@council.scot").await;
    let header = "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4\n";
    let good = "Good Primary,5500001,S12000036,primary,10,10,10,,,,\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty file", b"".to_vec(), "Line 1: the file is empty"),
        (
            "wrong header",
            b"name,seed\nA,1\n".to_vec(),
            "Line 1: the header must be",
        ),
        (
            "header only",
            header.as_bytes().to_vec(),
            "Line 2: the file has a header but no schools",
        ),
        (
            "not UTF-8",
            [header.as_bytes(), b"Caf\xe9,1,S12000036,primary,,,,,,,\n"].concat(),
            "Line 2: the file is not UTF-8",
        ),
        (
            "missing name",
            format!("{header}{good},5500002,S12000036,primary,1,1,1,,,,\n").into_bytes(),
            "Line 3: the school name is empty",
        ),
        (
            "bad seed",
            format!("{header}{good}X,55 00,S12000036,primary,1,1,1,,,,\n").into_bytes(),
            "Line 3: the SEED code",
        ),
        (
            "duplicate seed",
            format!("{header}{good}Twin,5500001,S12000036,primary,1,1,1,,,,\n").into_bytes(),
            "is also on line 2",
        ),
        (
            "unknown CPP",
            format!("{header}{good}X,5500003,Atlantis,primary,1,1,1,,,,\n").into_bytes(),
            "Line 3: no partnership has",
        ),
        (
            "bad sector",
            format!("{header}{good}X,5500004,S12000036,nursery,1,1,1,,,,\n").into_bytes(),
            "Line 3: the sector",
        ),
        (
            "negative roll",
            format!("{header}{good}X,5500005,S12000036,primary,-1,1,1,,,,\n").into_bytes(),
            "Line 3: the P5 roll",
        ),
        (
            "roll not a number",
            format!("{header}{good}X,5500006,S12000036,primary,1,ten,1,,,,\n").into_bytes(),
            "Line 3: the P6 roll",
        ),
        (
            "too few columns",
            format!("{header}{good}X,5500007,S12000036\n").into_bytes(),
            "Line 3: expected 11 columns",
        ),
    ];
    let schools_before = school::Entity::find().count(&app.state.db).await.unwrap();
    for (what, csv, expected) in cases {
        let response = admin.upload(&csv).await;
        assert_eq!(
            response.status(),
            422,
            "{what}: expected the file to be refused"
        );
        let page = response.text().await.unwrap();
        assert!(
            page.contains(expected),
            "{what}: expected the problem {expected:?} in the page, saw:\n{}",
            capture(&page, r#"(?s)<ul class="problems">(.*?)</ul>"#).unwrap_or_default()
        );
        assert_eq!(
            school::Entity::find().count(&app.state.db).await.unwrap(),
            schools_before,
            "{what}: expected nothing to be imported"
        );
    }
    let response = admin.upload(format!("{header}{good}").as_bytes()).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("1 new schools"));
    let too_big = admin.upload(&vec![b'a'; 3 * 1024 * 1024]).await;
    assert_eq!(
        too_big.status(),
        413,
        "expected an oversized upload to be refused"
    );
}

#[tokio::test]
async fn the_command_line_imports_creates_and_closes_sittings() {
    let app = spawn_app().await;
    let file = app.data_dir.join("schools.csv");
    std::fs::write(
        &file,
        "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4\nCli Primary,7700001,City of Edinburgh,primary,20,20,20,,,,\n",
    )
    .unwrap();
    server::cli::admin::import_schools(&app.state, &file)
        .await
        .unwrap();
    std::fs::write(&file, "School name,SEED code,CPP,Sector,P5,P6,P7,S1,S2,S3,S4\nBad,7700002,Nowhere,primary,,,,,,,\n").unwrap();
    let error = server::cli::admin::import_schools(&app.state, &file)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("nothing was imported"),
        "{error}"
    );
    let imported = schools::school_by_seed(&app.state.db, "7700001")
        .await
        .unwrap()
        .unwrap();
    let args = || server::cli::admin::SittingArgs {
        seed: "7700001".into(),
        stage: "P6".into(),
        codes: 3,
        label: Some("P6 cli".into()),
        wave: None,
        opens: None,
        closes: None,
    };
    let refused = server::cli::admin::create_sitting(&app.state, args())
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("no wave has fieldwork open"),
        "{refused}"
    );
    tests::test_wave(
        &app.state,
        imported.cpp_id,
        app.state.catalogue.latest()[0].version_id,
    )
    .await;
    let args = server::cli::admin::SittingArgs {
        seed: "7700001".into(),
        stage: "P6".into(),
        codes: 3,
        label: Some("P6 cli".into()),
        wave: None,
        opens: None,
        closes: None,
    };
    server::cli::admin::create_sitting(&app.state, args)
        .await
        .unwrap();
    let sitting = server::store::sittings::of_school(
        &app.state.db,
        schools::school_by_seed(&app.state.db, "7700001")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap()
    .remove(0);
    server::cli::admin::close_sitting(&app.state, sitting.id)
        .await
        .unwrap();
    assert!(
        server::store::sittings::get(&app.state.db, sitting.id)
            .await
            .unwrap()
            .unwrap()
            .closed_at
            .is_some()
    );
}

#[tokio::test]
async fn a_reset_link_works_once_and_refuses_common_passwords() {
    let app = spawn_app().await;
    user(&app, "admin@council.scot", Role::Admin, None, None).await;
    let admin = StaffClient::signed_in(&app, "admin@council.scot").await;
    let created = admin
        .submit(
            "/staff/admin/users",
            &[
                ("email", "new@school.scot"),
                ("role", "admin"),
                ("scope", ""),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    let created = created.replace("&#x2f;", "/");
    let link = capture(
        &created,
        r#"<code>[^<]*(/staff/reset\?token=[0-9a-f]+)</code>"#,
    )
    .expect("expected a one-time link on the page");
    let person = StaffClient::new(&app);
    let form = person.text(&link).await;
    let token = capture(&form, r#"name="token" value="([0-9a-f]+)""#).unwrap();
    let csrf = csrf_of(&form);
    let weak = person
        .post(
            "/staff/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", "password1234"),
                ("confirm", "password1234"),
            ],
        )
        .await;
    assert_eq!(weak.status(), 422);
    assert!(weak.text().await.unwrap().contains("too common"));
    let done = person
        .post(
            "/staff/reset",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", PASSWORD),
                ("confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        person.get(&link).await.status(),
        404,
        "expected the link to work only once"
    );
    assert_eq!(
        person.login("new@school.scot", PASSWORD).await.status(),
        303
    );
}

#[tokio::test]
async fn the_audit_log_records_staff_actions_and_never_a_code() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 2).await;
    user(&app, "admin@council.scot", Role::Admin, None, None).await;
    let admin = StaffClient::signed_in(&app, "admin@council.scot").await;
    StaffClient::new(&app)
        .login("admin@council.scot", "not the password")
        .await;
    // A password typed in the address box names no account: it is not kept.
    StaffClient::new(&app)
        .login("violet kettle harbour 2", "x")
        .await;
    let slips = admin
        .submit(
            &format!("/staff/schools/{}/sittings", own.school_id),
            &[
                ("stage", "P6"),
                ("label", "Audit"),
                ("codes", "2"),
                (
                    "wave",
                    &tests::test_wave(
                        &app.state,
                        own.cpp_id,
                        app.state.catalogue.latest()[0].version_id,
                    )
                    .await
                    .to_string(),
                ),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
    let code = capture(&slips, r#"class="slip-code">([0-9A-Z-]+)<"#).unwrap();
    let id = capture(&slips, r#"/staff/sittings/(\d+)""#).unwrap();
    admin
        .submit(&format!("/staff/sittings/{id}/void"), &[("code", &code)])
        .await;
    admin
        .submit(&format!("/staff/sittings/{id}/close"), &[])
        .await;
    admin
        .submit(
            &format!("/staff/cpps/{}/settings", own.cpp_id),
            &[("signposting", "A | b")],
        )
        .await;

    let entries = audit_log::Entity::find().all(&app.state.db).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    for expected in [
        "login",
        "login-failed",
        "sitting-created",
        "code-voided",
        "sitting-closed",
        "settings-changed",
    ] {
        assert!(
            actions.contains(&expected),
            "expected {expected} in the audit log, saw {actions:?}"
        );
    }
    let failed: Vec<&str> = entries
        .iter()
        .filter(|e| e.action == "login-failed")
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "admin@council.scot",
            server::services::accounts::UNKNOWN_ACCOUNT
        ],
        "a failed sign-in names a real account or none"
    );
    for e in &entries {
        assert!(
            !e.actor.contains("violet kettle") && !e.detail.contains("violet kettle"),
            "what was typed for an unknown account reached the audit log: {e:?}"
        );
    }
    let bare = code.replace('-', "");
    for e in &entries {
        assert!(
            !e.detail.contains(&code) && !e.detail.contains(&bare),
            "a code leaked into the audit log: {e:?}"
        );
    }
    let filtered = admin.text("/staff/admin/audit?action=code-voided").await;
    assert!(filtered.contains("code-voided"));
    assert!(
        !filtered.contains("<td>sitting-closed</td>"),
        "expected the filter to hide other actions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_simultaneous_logins_all_complete() {
    let app = spawn_app().await;
    for i in 0..20 {
        user(&app, &format!("t{i}@school.scot"), Role::Admin, None, None).await;
    }
    let started = Instant::now();
    let logins = (0..20).map(|i| {
        let app = &app;
        async move {
            let client = StaffClient::new(app);
            client
                .login(&format!("t{i}@school.scot"), PASSWORD)
                .await
                .status()
        }
    });
    let statuses = futures_join_all(logins).await;
    assert!(
        statuses.iter().all(|s| *s == 303),
        "expected all 20 logins to succeed, saw {statuses:?}"
    );
    // Two hashes run at once, so twenty take ten rounds.
    println!("20 logins in {:?}", started.elapsed());
}

#[tokio::test]
async fn a_password_hashed_at_an_older_cost_is_rehashed_at_sign_in() {
    use argon2::PasswordHasher;
    let app = spawn_app().await;
    let id = user(&app, "teacher@school.scot", Role::Admin, None, None).await;
    // The argon2 crate's default cost (19 MiB, 2 passes), as stored before.
    let older = argon2::Argon2::default()
        .hash_password(PASSWORD.as_bytes())
        .unwrap()
        .to_string();
    staff::set_password(&app.state.db, id, &older)
        .await
        .unwrap();

    let wrong = StaffClient::new(&app)
        .login("teacher@school.scot", "not the password at all")
        .await;
    assert_eq!(wrong.status(), 422);
    let stored = staff::by_email(&app.state.db, "teacher@school.scot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.password_hash, older,
        "a wrong password must not change the stored hash"
    );

    StaffClient::signed_in(&app, "teacher@school.scot").await;
    let stored = staff::by_email(&app.state.db, "teacher@school.scot")
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored
            .password_hash
            .starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
        "expected the hash at the current cost after sign-in, saw {}",
        stored.password_hash
    );
    // The same password still works, and other staff see no difference.
    StaffClient::signed_in(&app, "teacher@school.scot").await;
    let rejected = StaffClient::new(&app)
        .login("teacher@school.scot", "not the password at all")
        .await;
    assert_eq!(rejected.status(), 422);
}

/// Runs futures concurrently on this task and collects their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut set = Vec::new();
    for future in futures {
        set.push(Box::pin(future));
    }
    let mut outputs: Vec<Option<F::Output>> = set.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in set.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(|o| o.unwrap()).collect()
}

/// Someone signed in without the administrator's role who starts a large
/// upload of schools is refused before the server reads the body: the 403
/// comes back while the body is still being sent.
#[tokio::test]
async fn an_upload_by_anyone_but_an_administrator_is_refused_before_its_body_is_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let base = app.sitting("P6", 1).await;
    user(
        &app,
        "coord@council.scot",
        Role::Coordinator,
        Some(base.cpp_id),
        None,
    )
    .await;
    let coordinator = StaffClient::signed_in(&app, "coord@council.scot").await;
    let cookies = coordinator.cookie_header("/staff/admin/import");

    // Headers announcing 2,000,000 bytes, and only the first thousand sent.
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", app.port))
        .await
        .unwrap();
    let head = format!(
        "POST /staff/admin/import HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookies}\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 2000000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&[b'a'; 1000]).await.unwrap();
    let mut answer = vec![0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server waited for the body before refusing the upload")
        .unwrap();
    let status = String::from_utf8_lossy(&answer[..read]);
    assert!(
        status.starts_with("HTTP/1.1 403"),
        "expected 403 before the body, saw {status:?}"
    );
}

/// A partnership's coordinator fills in its accessibility statement and
/// privacy notice; the public pages show what was filled in, as text, and
/// say plainly what was not. Too long a text or a date in the future is
/// refused with the field named, and nothing is saved. Another
/// partnership's coordinator cannot change them.
#[tokio::test]
async fn a_coordinator_fills_in_the_partnerships_public_notices() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 1).await;
    let other = schools::cpp_by_code(&app.state.db, "S12000033")
        .await
        .unwrap()
        .unwrap();
    user(
        &app,
        "coord@council.scot",
        Role::Coordinator,
        Some(own.cpp_id),
        None,
    )
    .await;
    user(
        &app,
        "elsewhere@council.scot",
        Role::Coordinator,
        Some(other.id),
        None,
    )
    .await;
    let coordinator = StaffClient::signed_in(&app, "coord@council.scot").await;
    let settings = format!("/staff/cpps/{}/settings", own.cpp_id);
    let public = StaffClient::new(&app);
    let accessibility = "/partnerships/S12000036/accessibility";
    let privacy = "/partnerships/S12000036/privacy";

    // Before anything is filled in, each page says so.
    let empty = public.text(privacy).await;
    assert!(
        empty.contains("City of Edinburgh has not filled this in yet."),
        "expected the privacy notice to say what is missing; it said:\n{empty}"
    );
    let form = coordinator.text(&settings).await;
    assert!(form.contains(r#"name="controller_name""#) && form.contains(r#"name="prepared""#));

    let too_long = "x".repeat(201);
    let refused = coordinator
        .submit(
            &settings,
            &[("controller_name", &too_long), ("prepared", "2999-01-01")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    for message in [
        "Data controller must be 200 characters or fewer",
        "must not be in the future",
    ] {
        assert!(
            refused.contains(message),
            "expected {message:?} in:\n{refused}"
        );
    }
    assert!(
        public
            .text(privacy)
            .await
            .contains("has not filled this in yet"),
        "a refused form saves nothing"
    );

    let saved = coordinator
        .submit(
            &settings,
            &[
                ("signposting", "Childline | call 0800 1111"),
                ("controller_name", "City of Edinburgh Council <Education>"),
                ("dpo_contact", "dpo@edinburgh.example"),
                ("lawful_basis", "Public task: planning children's services."),
                (
                    "retention",
                    "Answers are deleted five years after the survey closes.",
                ),
                ("accessibility_contact", "access@edinburgh.example"),
                (
                    "accessibility_issues",
                    "<script>alert(1)</script> none known",
                ),
                ("compliance", "partial"),
                ("prepared", "2026-11-30"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303, "expected the settings to save");
    let form = coordinator.text(&settings).await;
    assert!(form.contains("dpo@edinburgh.example") && form.contains(r#"value="partial" checked"#));

    let notice = public.text(privacy).await;
    for expected in [
        "City of Edinburgh Council &lt;Education&gt; is the data controller",
        "dpo@edinburgh.example",
        "Public task",
        "five years after",
        "ico.org.uk",
    ] {
        assert!(
            notice.contains(expected),
            "expected {expected:?} in the privacy notice:\n{notice}"
        );
    }
    assert!(!notice.contains("has not filled this in yet"));
    let statement = public.text(accessibility).await;
    for expected in [
        "partially compliant",
        "access@edinburgh.example",
        "&lt;script&gt;alert(1)&lt;",
        "none known",
        "prepared on 30 November 2026",
        "Equality Advisory and Support Service",
    ] {
        assert!(
            statement.contains(expected),
            "expected {expected:?} in the statement:\n{statement}"
        );
    }
    assert!(!statement.contains("<script>alert(1)"));

    // Another partnership's coordinator is refused and changes nothing.
    let elsewhere = StaffClient::signed_in(&app, "elsewhere@council.scot").await;
    let forbidden = elsewhere
        .submit(&settings, &[("controller_name", "Someone else")])
        .await;
    assert_eq!(forbidden.status(), 403);
    assert!(
        public
            .text(privacy)
            .await
            .contains("City of Edinburgh Council")
    );

    // Unknown partnerships and notices are not found.
    for path in [
        "/partnerships/S99999999/privacy",
        "/partnerships/S12000036/cookies",
        "/partnerships/nonsense/privacy",
    ] {
        assert_eq!(public.get(path).await.status(), 404, "{path}");
    }
}

/// A coordinator offers languages to the partnership's pupils. A draft
/// translation is offered only when the coordinator confirms the risk the
/// form names; without the confirmation nothing is saved and the form says
/// why. The audit log names the drafts confirmed, and pupils then see the
/// language on the code screen.
#[tokio::test]
async fn a_draft_language_is_offered_only_with_a_confirmation_of_its_risk() {
    let app = spawn_app().await;
    let own = app.sitting("P6", 1).await;
    user(
        &app,
        "coord@council.scot",
        Role::Coordinator,
        Some(own.cpp_id),
        None,
    )
    .await;
    let coordinator = StaffClient::signed_in(&app, "coord@council.scot").await;
    let settings = format!("/staff/cpps/{}/settings", own.cpp_id);
    let form = coordinator.text(&settings).await;
    assert!(
        form.contains(r#"name="lang" value="pl""#)
            && form.contains("draft, not yet checked by a qualified translator")
            && form.contains(r#"name="confirm_drafts""#),
        "expected the languages with their status:\n{form}"
    );

    let refused = coordinator
        .submit(&settings, &[("lang", "pl"), ("lang", "gd")])
        .await;
    assert_eq!(refused.status(), 422);
    let refused = refused.text().await.unwrap();
    assert!(
        refused.contains("Gàidhlig, Polski are each a draft translation: tick the box"),
        "expected the risk to be named:\n{refused}"
    );
    let pupil = Pupil::new(&app).await;
    assert!(
        !pupil
            .get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("/?lang="),
        "a refused form offers nothing"
    );

    let saved = coordinator
        .submit(
            &settings,
            &[("lang", "pl"), ("lang", "xx"), ("confirm_drafts", "yes")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let form = coordinator.text(&settings).await;
    assert!(form.contains(r#"name="lang" value="pl" checked"#));
    assert!(!form.contains(r#"name="lang" value="gd" checked"#));
    let entries = audit_log::Entity::find().all(&app.state.db).await.unwrap();
    assert!(
        entries.iter().any(|e| e.action == "settings-changed"
            && e.detail
                .contains(r#"languages ["pl"], draft translations confirmed ["pl"]"#)),
        "expected the confirmation in the audit log"
    );
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(code_page.contains(r#"href="/?lang=pl""#));

    // Saving again with Polish still ticked needs no new confirmation.
    let again = coordinator
        .submit(&settings, &[("lang", "pl"), ("signposting", "A | b")])
        .await;
    assert_eq!(again.status(), 303);
}
