//! Fuzzing the form decoders of the pupil and staff pages through the real
//! server: random bodies (well-formed forms with random fields and values, and
//! raw bytes under a form content type) are posted to every form route, by a
//! pupil with a live response and by a signed-in administrator, with valid and
//! invalid CSRF tokens. No answer may be a 500, and no page may show internals.
//!
//! `PROPTEST_CASES=N` sets the number of cases; `FUZZ_SECONDS=S` runs batches
//! until S seconds have passed:
//!
//!     FUZZ_SECONDS=600 cargo test --release -p server --test fuzz_forms -- --nocapture

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use std::sync::Mutex;

use proptest::prelude::*;
use server::startup::Application;
use server::state::AppState;
use server::store::schools::{self, NewSchool};
use server::store::sittings::NewSitting;
use survey_defs::Stage;

/// Where a body goes, and as whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Pupil,
    Staff,
}

const PUPIL_PATHS: &[&str] = &[
    "/code",
    "/welcome",
    "/survey",
    "/survey",
    "/survey",
    "/survey",
    "/finish",
    "/withdraw",
    "/prefs",
    "/timeout",
    "/",
];
const STAFF_PATHS: &[&str] = &[
    "/staff/login",
    "/staff/reset",
    "/staff/cpps/{cpp}/settings",
    "/staff/cpps/999999/settings",
    "/staff/admin/users",
    "/staff/admin/users/{user}",
    "/staff/admin/users/999999",
    "/staff/admin/import",
    "/staff/schools/{school}/sittings",
    "/staff/schools/-1/sittings",
    "/staff/sittings/{sitting}/spares",
    "/staff/sittings/{sitting}/void",
    "/staff/sittings/{sitting}/mop-up",
    "/staff/sittings/{sitting}/close",
    "/staff/sittings/abc/close",
];
const FIELD_NAMES: &[&str] = &[
    "csrf",
    "code",
    "action",
    "page",
    "nav",
    "toggle",
    "back",
    "email",
    "password",
    "confirm",
    "token",
    "count",
    "codes",
    "label",
    "stage",
    "version",
    "wave",
    "opens",
    "closes",
    "role",
    "scope",
    "cpp",
    "school",
    "active",
    "modules",
    "module",
    "signposting",
    "name",
    "detail",
    "state",
    "threshold",
    "q",
    "q_",
    "",
];
const VALUES: &[&str] = &[
    "",
    "start",
    "decline",
    "next",
    "back",
    "stop",
    "large",
    "contrast",
    "/survey",
    "/welcome",
    "//evil.example",
    "javascript:alert(1)",
    "P5",
    "S4",
    "X9",
    "admin",
    "school",
    "cpp",
    "1",
    "0",
    "-1",
    "2147483648",
    "99999999999999999999999",
    "1e9",
    "NaN",
    "true",
    "on",
    "yes",
    "no",
    "dont_know",
    "prefer_not_to_say",
    "2024-13-45T25:61",
    "2030-01-01T09:00",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\"; DROP TABLE response; --",
    "\u{0}",
    "\u{feff}",
    "😀",
    "a@b.c",
    "correct horse battery staple",
];

#[derive(Debug, Clone)]
enum Body {
    Form {
        fields: Vec<(String, String)>,
        valid_csrf: bool,
    },
    Raw(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Case {
    who: Who,
    path: String,
    body: Body,
    forwarded_for: String,
}

/// The names a pupil page's questions use, and their option codes.
struct Names {
    fields: Vec<String>,
    pages: Vec<String>,
    options: Vec<String>,
}

fn case(names: &Names) -> impl Strategy<Value = Case> + use<> {
    let field_name = prop_oneof![
        3 => prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        3 => prop::sample::select(names.fields.clone()),
        1 => "\\PC{0,10}",
    ];
    let value = prop_oneof![
        3 => prop::sample::select(VALUES).prop_map(str::to_owned),
        2 => prop::sample::select(names.options.clone()),
        2 => prop::sample::select(names.pages.clone()),
        1 => "-?[0-9]{1,12}",
        1 => "\\PC{0,40}",
        1 => Just(()).prop_map(|()| server::domain::AccessCode::generate().to_string()),
    ];
    let form = (
        prop::collection::vec((field_name, value), 0..12),
        prop::bool::weighted(0.85),
    )
        .prop_map(|(fields, valid_csrf)| Body::Form { fields, valid_csrf });
    let body = prop_oneof![
        6 => form,
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(Body::Raw),
        1 => "[%&=+a-z0-9]{0,80}".prop_map(|s| Body::Raw(s.into_bytes())),
    ];
    let target = prop_oneof![
        3 => prop::sample::select(PUPIL_PATHS).prop_map(|p| (Who::Pupil, p.to_owned())),
        2 => prop::sample::select(STAFF_PATHS).prop_map(|p| (Who::Staff, p.to_owned())),
    ];
    let forwarded_for = prop_oneof![
        6 => (any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(a, b, c)| format!("10.{a}.{b}.{c}")),
        1 => "\\PC{0,20}",
    ];
    (target, body, forwarded_for).prop_map(|((who, path), body, forwarded_for)| Case {
        who,
        path,
        body,
        forwarded_for,
    })
}

/// A browser session with a CSRF token.
struct Browser {
    client: reqwest::Client,
    csrf: String,
}

struct World {
    base: String,
    state: AppState,
    pupil: Mutex<Browser>,
    staff: Mutex<Browser>,
    codes: Mutex<Vec<String>>,
    cpp_id: i32,
    school_id: i32,
    pupil_sitting: i32,
    staff_sitting: i32,
    user_id: i32,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    regex_lite(html, "name=\"csrf\" value=\"").unwrap_or_default()
}

/// The text between `prefix` and the next quote.
fn regex_lite(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

impl World {
    /// A pupil with a fresh code who has pressed Start.
    async fn new_pupil(&self) -> Browser {
        let client = client();
        let html = client
            .get(format!("{}/", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&html);
        let next = self.codes.lock().unwrap().pop();
        let code = match next {
            Some(code) => code,
            None => {
                // Long runs use up the pile: print more codes for the sitting.
                let sitting = server::store::sittings::get(&self.state.db, self.pupil_sitting)
                    .await
                    .unwrap()
                    .unwrap();
                let mut more = Vec::new();
                for _ in 0..10 {
                    more.extend(
                        server::services::sittings::add_spares(
                            &self.state.db,
                            &self.state.secret,
                            &server::services::Actor::Cli,
                            &sitting,
                            server::services::sittings::MAX_CODES,
                        )
                        .await
                        .unwrap(),
                    );
                }
                let mut pile = self.codes.lock().unwrap();
                pile.extend(more.iter().map(ToString::to_string));
                pile.pop().unwrap()
            }
        };
        let entered = client
            .post(format!("{}/code", self.base))
            .header("X-Forwarded-For", "192.0.2.1")
            .form(&[("csrf", csrf.as_str()), ("code", code.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(entered.status(), 303, "a fresh code is accepted");
        let started = client
            .post(format!("{}/welcome", self.base))
            .form(&[("csrf", csrf.as_str()), ("action", "start")])
            .send()
            .await
            .unwrap();
        assert_eq!(started.status(), 303, "Start leads to the survey");
        Browser { client, csrf }
    }

    async fn new_staff(&self) -> Browser {
        let client = client();
        let html = client
            .get(format!("{}/staff/login", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = csrf_of(&html);
        let login = client
            .post(format!("{}/staff/login", self.base))
            .header("X-Forwarded-For", "192.0.2.2")
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "fuzz-admin@example.org"),
                ("password", "a long enough password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303, "the administrator signs in");
        let html = client
            .get(format!("{}/staff", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = {
            let fresh = csrf_of(&html);
            if fresh.is_empty() { csrf } else { fresh }
        };
        Browser { client, csrf }
    }
}

async fn setup() -> (World, tempfile::TempDir) {
    let (url, dir) = common::fresh_database().await;
    let mut settings = common::settings(&url, dir.path(), 0);
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    let app = Application::build(settings).await.unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());

    let db = &state.db;
    let cpp = schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = schools::create_school(
        db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: "FUZZ1".into(),
            name: "Fuzz Academy".into(),
            sector: "secondary".into(),
            rolls: [0, 0, 0, 30, 30, 30, 30],
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let version = state.catalogue.latest().first().unwrap().version_id;
    let wave = common::test_wave(&state, school.cpp_id, version).await;
    let new_sitting = |label: &str| NewSitting {
        label: label.into(),
        signposting: server::store::Json(server::services::partnerships::default_signposting()),
        ..NewSitting::new(&school, Stage::S4, version, wave)
    };
    let create = |new, count| {
        server::services::sittings::create_with_codes(
            &state.db,
            &state.secret,
            &server::services::Actor::Cli,
            new,
            count,
        )
    };
    let (pupil_sitting, codes) = create(new_sitting("pupils"), 5_000).await.unwrap();
    let (staff_sitting, _) = create(new_sitting("staff target"), 10).await.unwrap();
    let hash = state.staff.hash("a long enough password").await.unwrap();
    server::store::staff::create(
        db,
        server::store::staff::NewStaff {
            email: "fuzz-admin@example.org".into(),
            password_hash: hash,
            role: server::domain::Role::Admin,
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await
    .unwrap();
    // Forms that change an account act on this one, so the fuzzing
    // administrator keeps its own.
    let target = server::store::staff::create(
        db,
        server::store::staff::NewStaff {
            email: "fuzz-target@example.org".into(),
            password_hash: state.staff.hash("another long password").await.unwrap(),
            role: server::domain::Role::School,
            cpp_id: Some(cpp.id),
            school_id: Some(school.id),
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let placeholder = || Browser {
        client: client(),
        csrf: String::new(),
    };
    let world = World {
        base,
        state,
        pupil: Mutex::new(placeholder()),
        staff: Mutex::new(placeholder()),
        codes: Mutex::new(codes.iter().map(ToString::to_string).collect()),
        cpp_id: cpp.id,
        school_id: school.id,
        pupil_sitting: pupil_sitting.id,
        staff_sitting: staff_sitting.id,
        user_id: target.id,
    };
    let pupil = world.new_pupil().await;
    *world.pupil.lock().unwrap() = pupil;
    let staff = world.new_staff().await;
    *world.staff.lock().unwrap() = staff;
    (world, dir)
}

fn names(state: &AppState) -> Names {
    let q = &state.catalogue.latest().first().unwrap().questionnaire;
    let mut fields = Vec::new();
    let mut options = Vec::new();
    for question in q.questions() {
        fields.push(format!("q_{}", question.id()));
        for option in question.options() {
            options.push(option.code().to_string());
        }
    }
    let pages = q.questions().iter().map(|x| x.id().to_string()).collect();
    options.dedup();
    Names {
        fields,
        pages,
        options,
    }
}

/// Text that must never reach a browser.
const INTERNALS: &[&str] = &[
    "panicked",
    "DbErr",
    "sqlx",
    "SQLSTATE",
    "SELECT ",
    "INSERT ",
    "stack backtrace",
    "src/",
    "RUST_BACKTRACE",
];

#[test]
fn pupil_and_staff_forms_never_fail_with_a_server_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (world, _dir) = runtime.block_on(setup());
    let strategy = case(&names(&world.state));
    common::fuzz("forms", strategy, |case| {
        runtime.block_on(async {
            let (client, csrf) = {
                let browser = match case.who {
                    Who::Pupil => world.pupil.lock().unwrap(),
                    Who::Staff => world.staff.lock().unwrap(),
                };
                (browser.client.clone(), browser.csrf.clone())
            };
            let path = case
                .path
                .replace("{cpp}", &world.cpp_id.to_string())
                .replace("{school}", &world.school_id.to_string())
                .replace("{sitting}", &world.staff_sitting.to_string())
                .replace("{user}", &world.user_id.to_string());
            let request = client
                .post(format!("{}{path}", world.base))
                .header("X-Forwarded-For", case.forwarded_for.as_str());
            let request = match &case.body {
                Body::Form { fields, valid_csrf } => {
                    let mut fields = fields.clone();
                    if *valid_csrf {
                        fields.insert(0, ("csrf".into(), csrf.clone()));
                    }
                    request.form(&fields)
                }
                Body::Raw(bytes) => request
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(bytes.clone()),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            prop_assert!(
                !status.is_server_error(),
                "POST {} answered {}:\n{}",
                path,
                status,
                body
            );
            for internal in INTERNALS {
                prop_assert!(
                    !body.contains(internal),
                    "POST {} showed {:?}:\n{}",
                    path,
                    internal,
                    body
                );
            }
            // Keep a pupil with a live response and a signed-in administrator,
            // whatever the case did to them.
            match case.who {
                Who::Pupil => {
                    let probe = client
                        .get(format!("{}/survey", world.base))
                        .send()
                        .await
                        .unwrap();
                    let live = probe.status() == 200
                        || probe.headers().get("location").is_some_and(|l| {
                            l.as_bytes().starts_with(b"/survey") || l == "/review"
                        });
                    if !live {
                        let fresh = world.new_pupil().await;
                        *world.pupil.lock().unwrap() = fresh;
                    }
                }
                Who::Staff => {
                    let probe = client
                        .get(format!("{}/staff", world.base))
                        .send()
                        .await
                        .unwrap();
                    if probe.status() != 200 {
                        let fresh = world.new_staff().await;
                        *world.staff.lock().unwrap() = fresh;
                    }
                }
            }
            Ok(())
        })
    });
}

#[test]
fn the_forms_corpus_never_fails_with_a_server_error() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (world, _dir) = runtime.block_on(setup());
    for (name, bytes) in common::corpus("forms") {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (first, body) = text.split_once('\n').unwrap_or((text.as_str(), ""));
        let (who, path) = first.split_once(' ').unwrap();
        runtime.block_on(async {
            let browser = match who {
                "pupil" => world.new_pupil().await,
                _ => world.new_staff().await,
            };
            let path = path
                .replace("{cpp}", &world.cpp_id.to_string())
                .replace("{school}", &world.school_id.to_string())
                .replace("{sitting}", &world.staff_sitting.to_string())
                .replace("{user}", &world.user_id.to_string());
            let body = body.trim_end_matches('\n').replace("{csrf}", &browser.csrf);
            let response = browser
                .client
                .post(format!("{}{path}", world.base))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let html = response.text().await.unwrap_or_default();
            assert!(
                !status.is_server_error(),
                "{name}: POST {path} answered {status}:\n{html}"
            );
            for internal in INTERNALS {
                assert!(
                    !html.contains(internal),
                    "{name}: the page shows {internal:?}"
                );
            }
        });
    }
}
