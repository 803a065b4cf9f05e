//! Attacks on sign-in and staff sessions, each as a test: a guesser behind a
//! proxy inventing addresses, a guesser locking a colleague out, a flood of
//! sign-ins, a copied session cookie that outlives sign-out, reset,
//! deactivation or its lifetime, a body dripped a byte at a time, and a
//! second release while one is computed.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::domain::AccessCode;
use server::services::Actor;
use server::services::accounts;
use server::services::auth::Role;
use server::store::entities::audit_log;
use server::store::staff::{self, NewStaff};
use tests::{TestApp, csrf_of, spawn_app_with};

const PASSWORD: &str = "violet kettle harbour";

async fn account(app: &TestApp, email: &str, role: Role) -> i32 {
    let hash = app.state.staff.hash(PASSWORD).await.unwrap();
    staff::create(
        &app.state.db,
        NewStaff {
            email: email.into(),
            password_hash: hash,
            role,
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await
    .unwrap()
    .id
}

/// A browser that reaches the server through the trusted proxy on loopback,
/// which reports it as `client` behind whatever the browser itself claimed
/// (`claimed`, put first in the header as a spoofing client would).
struct Browser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: std::sync::Arc<reqwest::cookie::Jar>,
    client_address: String,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp, client_address: &str) -> Self {
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
            client_address: client_address.to_owned(),
        }
    }

    /// Another browser holding a copy of this one's staff cookie, as an
    /// attacker who copied it would.
    fn copy(&self, client_address: &str) -> Self {
        let copy = Self::new(self.app, client_address);
        let url: reqwest::Url = self.app.url("/staff").parse().unwrap();
        let header = reqwest::cookie::CookieStore::cookies(&*self.cookies, &url).unwrap();
        let cookie = header.to_str().unwrap().to_owned();
        assert!(cookie.contains("staff="), "a staff cookie to copy");
        for pair in cookie.split("; ") {
            copy.cookies
                .add_cookie_str(&format!("{pair}; Path=/staff"), &url);
        }
        copy
    }

    /// Where `/staff` sends this browser: home, or back to sign in.
    async fn where_staff_goes(&self) -> String {
        let response = self.get("/staff").await;
        match response.headers().get("location") {
            Some(location) => location.to_str().unwrap().to_owned(),
            None => response.status().to_string(),
        }
    }

    fn forwarded(&self, claimed: &str) -> String {
        if claimed.is_empty() {
            self.client_address.clone()
        } else {
            format!("{claimed}, {}", self.client_address)
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.url(path))
            .header("X-Forwarded-For", self.forwarded(""))
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, claimed: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .header("X-Forwarded-For", self.forwarded(claimed))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    async fn csrf(&self, path: &str) -> String {
        csrf_of(&self.get(path).await.text().await.unwrap())
    }

    async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        let csrf = self.csrf("/staff/login").await;
        self.post(
            "/staff/login",
            "",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }
}

fn behind_loopback_proxy(settings: &mut server::settings::Settings) {
    settings.trusted_proxies = vec![server::settings::parse_proxy("127.0.0.1").unwrap()];
}

/// How many of `tries` wrong codes were checked before the budget ran out.
async fn codes_checked(
    browser: &Browser<'_>,
    tries: usize,
    claim: impl Fn(usize) -> String,
) -> usize {
    let csrf = browser.csrf("/").await;
    let mut checked = 0;
    for i in 0..tries {
        let guess = AccessCode::generate().to_string();
        let response = browser
            .post("/code", &claim(i), &[("csrf", &csrf), ("code", &guess)])
            .await;
        assert_eq!(response.status(), 422);
        if !response.text().await.unwrap().contains("wait one minute") {
            checked += 1;
        }
    }
    checked
}

#[tokio::test]
async fn a_guesser_gets_no_fresh_budget_by_inventing_forwarded_addresses() {
    let budget = server::state::CODE_FAILURE_LIMIT.burst as usize;

    // Behind the trusted proxy: whatever the client puts first, the address
    // the proxy appended is the one counted.
    let app = spawn_app_with(behind_loopback_proxy).await;
    let guesser = Browser::new(&app, "198.51.100.7");
    let checked = codes_checked(&guesser, budget + 20, |i| {
        format!("203.0.113.{}, 192.0.2.{}", i % 250, i % 200)
    })
    .await;
    assert!(
        (budget..=budget + 2).contains(&checked),
        "expected the budget of one address ({budget}) however the header starts, saw {checked}"
    );
    // Another client behind the same proxy has its own budget.
    let neighbour = Browser::new(&app, "198.51.100.8");
    assert_eq!(codes_checked(&neighbour, 3, |_| String::new()).await, 3);

    // From a peer that is not a trusted proxy the header is not read at all.
    let app = spawn_app_with(|s| {
        s.trusted_proxies = vec![server::settings::parse_proxy("10.0.0.0/8").unwrap()];
    })
    .await;
    let guesser = Browser::new(&app, "");
    let checked = codes_checked(&guesser, budget + 20, |i| format!("198.51.100.{}", i % 250)).await;
    assert!(
        (budget..=budget + 2).contains(&checked),
        "expected an untrusted peer's header to be ignored, saw {checked} guesses checked"
    );
}

#[tokio::test]
async fn a_guesser_cannot_lock_a_colleague_out() {
    let app = spawn_app_with(behind_loopback_proxy).await;
    account(&app, "colleague@council.scot", Role::Admin).await;
    let guesser = Browser::new(&app, "198.51.100.66");
    for _ in 0..8 {
        let response = guesser
            .login("colleague@council.scot", "not the password")
            .await;
        assert!(
            [422, 429].contains(&response.status().as_u16()),
            "a wrong password is refused"
        );
    }
    // The guesser's address now waits, even with the right password, and is
    // told so in the same words for an account that does not exist.
    let held = guesser.login("colleague@council.scot", PASSWORD).await;
    assert_eq!(held.status(), 429, "the failing address must wait");
    for _ in 0..8 {
        guesser
            .login("nobody@council.scot", "not the password")
            .await;
    }
    let unknown = guesser.login("nobody@council.scot", PASSWORD).await;
    assert_eq!(unknown.status(), 429);
    let message =
        |html: String| tests::capture(&html, r##"<a href="#email">([^<]+)</a>"##).unwrap_or(html);
    assert_eq!(
        message(held.text().await.unwrap()),
        message(unknown.text().await.unwrap()),
        "a known and an unknown account are held alike"
    );

    // The colleague, from an address that has not failed, signs in at once.
    let colleague = Browser::new(&app, "198.51.100.10");
    let response = colleague.login("colleague@council.scot", PASSWORD).await;
    assert_eq!(
        response.status(),
        303,
        "a correct password from an address that has not failed must work"
    );
    // Signing in cleared the count: the guesser's next try is checked again
    // (and refused as wrong, not as delayed).
    let again = guesser
        .login("colleague@council.scot", "not the password")
        .await;
    assert_eq!(again.status(), 422);
}

#[tokio::test]
async fn a_flood_of_sign_ins_is_answered_busy_not_queued() {
    let app = spawn_app_with(|s| {
        behind_loopback_proxy(s);
        s.sign_in_queue = 0;
    })
    .await;
    // Forty people at forty addresses, each with a form in hand.
    let mut people = Vec::new();
    for i in 0..40 {
        let browser = Browser::new(&app, &format!("198.51.100.{}", i + 1));
        let csrf = browser.csrf("/staff/login").await;
        people.push((browser, csrf));
    }
    let attempts = people
        .iter()
        .enumerate()
        .map(|(i, (browser, csrf))| async move {
            let email = format!("person{i}@council.scot");
            browser
                .post(
                    "/staff/login",
                    "",
                    &[
                        ("csrf", csrf),
                        ("email", &email),
                        ("password", "not the password"),
                    ],
                )
                .await
        });
    let responses = futures::future::join_all(attempts).await;
    let mut busy = 0;
    for response in responses {
        match response.status().as_u16() {
            422 => {}
            503 => {
                busy += 1;
                assert_eq!(
                    response.headers()["retry-after"],
                    server::web::error::RETRY_AFTER_SECONDS
                );
                let page = response.text().await.unwrap();
                assert!(page.contains("try again"), "a plain page says what to do");
            }
            other => panic!("expected 422 or 503, saw {other}"),
        }
    }
    assert!(
        busy > 0,
        "expected some of forty sign-ins at once to be told to wait"
    );
    // Busy answers wrote nothing.
    let failures = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("login-failed"))
        .count(&app.state.db)
        .await
        .unwrap() as usize;
    assert_eq!(failures, 40 - busy, "only checked sign-ins are recorded");
}

#[tokio::test]
async fn signing_out_ends_every_copy_of_the_session() {
    let app = spawn_app_with(behind_loopback_proxy).await;
    account(&app, "head@school.scot", Role::Admin).await;
    let office = Browser::new(&app, "198.51.100.20");
    assert_eq!(
        office.login("head@school.scot", PASSWORD).await.status(),
        303
    );
    let laptop = Browser::new(&app, "198.51.100.21");
    assert_eq!(
        laptop.login("head@school.scot", PASSWORD).await.status(),
        303
    );
    let copied = office.copy("203.0.113.5");
    assert_eq!(
        copied.where_staff_goes().await,
        "200 OK",
        "the copy works while signed in"
    );

    let csrf = csrf_of(&office.get("/staff").await.text().await.unwrap());
    let out = office.post("/staff/logout", "", &[("csrf", &csrf)]).await;
    assert_eq!(out.headers()["location"], "/staff/login?notice=out");
    assert_eq!(
        copied.where_staff_goes().await,
        "/staff/login",
        "a copied cookie must not outlive sign-out"
    );
    assert_eq!(
        laptop.where_staff_goes().await,
        "/staff/login",
        "signing out ends the account's other sessions too"
    );
    assert_eq!(
        laptop.login("head@school.scot", PASSWORD).await.status(),
        303
    );
    assert_eq!(
        laptop.where_staff_goes().await,
        "200 OK",
        "signing in again works"
    );
}

#[tokio::test]
async fn a_password_reset_role_change_or_deactivation_ends_every_session() {
    let app = spawn_app_with(behind_loopback_proxy).await;
    let id = account(&app, "teacher@school.scot", Role::Admin).await;
    account(&app, "admin@council.scot", Role::Admin).await;
    let row = staff::by_id(&app.state.db, id).await.unwrap().unwrap();

    // Reset: the owner chooses a new password through a reset link.
    let stolen = Browser::new(&app, "198.51.100.30");
    assert_eq!(
        stolen.login("teacher@school.scot", PASSWORD).await.status(),
        303
    );
    let token = accounts::issue_reset(&app.state.db, &app.state.secret, &Actor::Cli, &row)
        .await
        .unwrap();
    let owner = Browser::new(&app, "198.51.100.31");
    let csrf = owner.csrf(&format!("/staff/reset?token={token}")).await;
    let new_password = "quince lantern meadow";
    let reset = owner
        .post(
            "/staff/reset",
            "",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("password", new_password),
                ("confirm", new_password),
            ],
        )
        .await;
    assert_eq!(reset.headers()["location"], "/staff/login?notice=reset");
    assert_eq!(
        stolen.where_staff_goes().await,
        "/staff/login",
        "a password reset must end the sessions started with the old password"
    );

    // A role change by an administrator, through the accounts page.
    let session = Browser::new(&app, "198.51.100.33");
    assert_eq!(
        session
            .login("teacher@school.scot", new_password)
            .await
            .status(),
        303
    );
    let admin = Browser::new(&app, "198.51.100.34");
    assert_eq!(
        admin.login("admin@council.scot", PASSWORD).await.status(),
        303
    );
    let form = format!("/staff/admin/users/{id}/role");
    let csrf = csrf_of(&admin.get(&form).await.text().await.unwrap());
    let changed = admin
        .post(
            &form,
            "",
            &[("csrf", &csrf), ("role", "analyst"), ("scope", "S12000036")],
        )
        .await;
    assert_eq!(changed.headers()["location"], "/staff/admin/users");
    assert_eq!(
        session.where_staff_goes().await,
        "/staff/login",
        "a role change must end the sessions started under the old role"
    );
    let row = staff::by_id(&app.state.db, id).await.unwrap().unwrap();
    assert_eq!(row.role.0, Role::Analyst);
    assert!(row.cpp_id.is_some());
    let session = Browser::new(&app, "198.51.100.35");
    assert_eq!(
        session
            .login("teacher@school.scot", new_password)
            .await
            .status(),
        303
    );
    assert!(
        session.where_staff_goes().await.ends_with("/releases"),
        "the new role applies from the next sign-in"
    );

    // Deactivation, and enabling again: the old session stays ended.
    let session = Browser::new(&app, "198.51.100.32");
    assert_eq!(
        session
            .login("teacher@school.scot", new_password)
            .await
            .status(),
        303
    );
    let row = staff::by_id(&app.state.db, id).await.unwrap().unwrap();
    accounts::set_active(&app.state.db, &Actor::Cli, &row, false)
        .await
        .unwrap();
    accounts::set_active(&app.state.db, &Actor::Cli, &row, true)
        .await
        .unwrap();
    assert_eq!(
        session.where_staff_goes().await,
        "/staff/login",
        "a session of a disabled account must not come back when it is enabled"
    );
}

#[tokio::test]
async fn a_session_ends_after_its_lifetime_however_active() {
    let app = spawn_app_with(|s| {
        behind_loopback_proxy(s);
        s.staff_session_hours = 0;
    })
    .await;
    account(&app, "busy@council.scot", Role::Admin).await;
    let browser = Browser::new(&app, "198.51.100.40");
    assert_eq!(
        browser.login("busy@council.scot", PASSWORD).await.status(),
        303
    );
    assert_eq!(browser.where_staff_goes().await, "200 OK");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        browser.where_staff_goes().await,
        "/staff/login?notice=timeout",
        "a session older than its lifetime must end even in use"
    );
}

/// Sends a request head declaring `length` bytes of body, then drips the
/// body a byte every 200 ms. Returns what the server answered and when the
/// connection closed.
fn drip(port: u16, path: &str, length: usize) -> (Duration, String) {
    let started = Instant::now();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {length}\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    for _ in 0..length {
        if stream.write_all(b"a").is_err() {
            break;
        }
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => break,
        }
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    (
        started.elapsed(),
        String::from_utf8_lossy(&answer).into_owned(),
    )
}

#[tokio::test]
async fn a_body_dripped_a_byte_at_a_time_is_cut_off() {
    let app = spawn_app_with(|s| s.body_timeout_seconds = 1).await;
    let port = app.port;
    for path in ["/code", "/staff/login"] {
        let (elapsed, answer) = tokio::task::spawn_blocking(move || drip(port, path, 2_000))
            .await
            .unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 408"),
            "expected 408 for a slow body to {path}, got {:?}",
            answer.lines().next()
        );
        assert!(
            elapsed < Duration::from_secs(10),
            "expected the slow body to {path} to be cut off after about a second, took {elapsed:?}"
        );
    }
    // A body sent at once is read as usual.
    let response = tests::Pupil::new(&app)
        .await
        .enter_code("ABCD-EFGH-JK")
        .await;
    assert_eq!(response.status(), 422);
}

#[tokio::test]
async fn a_second_release_is_answered_busy_while_one_is_computed() {
    let app = spawn_app_with(behind_loopback_proxy).await;
    account(&app, "national@council.scot", Role::Admin).await;
    let analyst = Browser::new(&app, "198.51.100.50");
    assert_eq!(
        analyst
            .login("national@council.scot", PASSWORD)
            .await
            .status(),
        303
    );
    let wave = tests::test_wave(
        &app.state,
        server::store::schools::all_cpps(&app.state.db)
            .await
            .unwrap()[0]
            .id,
        app.state.catalogue.entries().next().unwrap().version_id,
    )
    .await;
    let page = format!("/staff/admin/waves/{wave}");
    let path = format!("{page}/releases");
    let csrf = analyst.csrf(&page).await;
    let form = [("csrf", csrf.as_str()), ("unit", "scotland")];

    let computing = app.state.exports.clone().try_acquire_owned().unwrap();
    let busy = analyst.post(&path, "", &form).await;
    assert_eq!(busy.status(), 503, "a second release must not start");
    assert_eq!(
        busy.headers()["retry-after"],
        server::web::error::RETRY_AFTER_SECONDS
    );
    drop(computing);
    let free = analyst.post(&path, "", &form).await;
    assert_ne!(
        free.status(),
        503,
        "once the first is done, the next may run"
    );
}
