//! Helpers for the end-to-end tests: each test gets the real server on its own
//! port with its own fresh database.
//!
//! SQLite is used by default. When `TEST_DATABASE_URL` names a PostgreSQL server
//! (for example `postgres://survey@127.0.0.1:5433/postgres`), each test gets a
//! fresh database created on it instead.

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database};
use server::settings::Settings;
use server::startup::Application;
use server::state::AppState;
use tempfile::TempDir;

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub state: AppState,
    pub database_url: String,
    pub data_dir: PathBuf,
    _dir: TempDir,
}

impl TestApp {
    /// A client that keeps cookies, like a browser, and does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("building an HTTP client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }
}

/// This package's directory, as cargo gives it to the running test: right
/// even when the test was built in another checkout sharing the build cache.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
/// The backend the tests run against: "sqlite" or "postgres".
pub fn backend() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => "postgres",
        _ => "sqlite",
    }
}

/// The tests crate's fixture directory (`tests/fixtures/NAME`).
pub fn fixture(name: &str) -> PathBuf {
    package_dir().join("fixtures").join(name)
}

/// A fresh, empty database URL for one test, and the directory it may use.
pub async fn fresh_database() -> (String, TempDir) {
    let dir = tempfile::tempdir().expect("creating a temporary directory");
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(admin_url.as_str())
                .await
                .expect("connecting to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("creating a test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(base, _)| base)
                .expect("TEST_DATABASE_URL must end in /DATABASE");
            format!("{base}/{name}")
        }
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("survey.sqlite").display()
        ),
    };
    (url, dir)
}

/// Starts the real server on port 0 with its own fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with a chance to change the settings first.
pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let (database_url, dir) = fresh_database().await;
    let mut settings = Settings::for_tests(database_url.clone(), dir.path().to_path_buf());
    configure(&mut settings);
    let app = Application::build(settings)
        .await
        .expect("the test server failed to start");
    let port = app.port();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        state,
        database_url,
        data_dir: dir.path().to_path_buf(),
        _dir: dir,
    }
}

/// The wave tests make their sittings in: one per questionnaire version,
/// with fieldwork at `cpp_id` from a month ago to two months on. Made the
/// first time it is asked for; returns its id.
pub async fn test_wave(state: &AppState, cpp_id: i32, version_id: i32) -> i32 {
    let today = chrono::Utc::now().date_naive();
    server::services::waves::ensure(
        &state.db,
        &state.catalogue,
        &server::services::Actor::Cli,
        &format!("Test wave, questionnaire version {version_id}"),
        version_id,
        cpp_id,
        (today - chrono::Days::new(30), today + chrono::Days::new(60)),
    )
    .await
    .expect("making the test wave")
    .id
}

/// A sitting made for a test, with its printed codes.
pub struct TestSitting {
    pub id: i32,
    pub school_id: i32,
    pub cpp_id: i32,
    pub codes: Vec<String>,
}

/// Options for [`TestApp::sitting`].
#[derive(Default)]
pub struct SittingOptions {
    pub opens_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closes_at: Option<chrono::DateTime<chrono::Utc>>,
    pub disabled_modules: Vec<String>,
    /// `ID` or `ID@VERSION` of the questionnaire; the built-in one by default.
    pub questionnaire: Option<String>,
}

impl TestApp {
    /// Has the partnership with GSS code `cpp` offer `languages` to its
    /// pupils (drafts confirmed), keeping its other settings.
    pub async fn offer_languages(&self, cpp: &str, languages: &[&str]) {
        use server::services::partnerships;
        let db = &self.state.db;
        let cpp = server::store::schools::cpp_by_code(db, cpp)
            .await
            .expect("reading CPPs")
            .expect("a reference CPP");
        let current = partnerships::settings(db, cpp.id)
            .await
            .expect("reading settings");
        let notices = partnerships::notices(db, cpp.id)
            .await
            .expect("reading notices");
        let languages: Vec<String> = languages.iter().map(|l| (*l).to_owned()).collect();
        partnerships::save(
            db,
            &server::services::Actor::Cli,
            &cpp,
            partnerships::NewSettings {
                disabled_modules: current.disabled_modules,
                signposting: current.signposting,
                notices,
                languages: languages.clone(),
                drafts_confirmed: languages,
            },
        )
        .await
        .expect("saving settings");
        self.state.languages.forget();
    }

    /// A school in a reference CPP with one sitting of `count` codes at `stage`.
    pub async fn sitting(&self, stage: &str, count: usize) -> TestSitting {
        self.sitting_with(stage, count, SittingOptions::default())
            .await
    }

    pub async fn sitting_with(
        &self,
        stage: &str,
        count: usize,
        options: SittingOptions,
    ) -> TestSitting {
        use server::store::schools::{self, NewSchool};
        let db = &self.state.db;
        let cpp = schools::cpp_by_code(db, "S12000036")
            .await
            .expect("reading CPPs")
            .expect("City of Edinburgh is reference data");
        let seed = format!("T{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let school = schools::create_school(
            db,
            NewSchool {
                cpp_id: cpp.id,
                seed_code: seed.clone(),
                name: format!("Test school {seed}"),
                sector: "all-through".into(),
                rolls: [30; 7],
                is_demo: false,
            },
        )
        .await
        .expect("creating a school");
        let version_id = match &options.questionnaire {
            Some(spec) => {
                self.state
                    .catalogue
                    .find(spec)
                    .expect("the questionnaire asked for is loaded")
                    .version_id
            }
            None => {
                self.state
                    .catalogue
                    .find("wellbeing")
                    .or_else(|| self.state.catalogue.latest().first().copied())
                    .expect("a questionnaire is loaded")
                    .version_id
            }
        };
        let (sitting, codes) = server::services::sittings::create_with_codes(
            &self.state.db,
            &self.state.secret,
            &server::services::Actor::Cli,
            server::store::sittings::NewSitting {
                label: format!("{stage} test class"),
                disabled_modules: server::store::Json(options.disabled_modules.clone()),
                signposting: server::store::Json(
                    server::services::partnerships::default_signposting(),
                ),
                opens_at: options.opens_at,
                closes_at: options.closes_at,
                ..server::store::sittings::NewSitting::new(
                    &school,
                    stage.parse::<survey_defs::Stage>().expect("a stage"),
                    version_id,
                    test_wave(&self.state, cpp.id, version_id).await,
                )
            },
            count,
        )
        .await
        .expect("creating a sitting");
        TestSitting {
            id: sitting.id,
            school_id: school.id,
            cpp_id: cpp.id,
            codes: codes.iter().map(|c| c.to_string()).collect(),
        }
    }
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_of(html: &str) -> String {
    capture(html, r#"name="csrf" value="([0-9a-f]+)""#).expect("the page has a csrf field")
}

/// The first capture group of `pattern` in `text`.
pub fn capture(text: &str, pattern: &str) -> Option<String> {
    regex::Regex::new(pattern)
        .expect("a valid pattern")
        .captures(text)
        .map(|c| c[1].to_owned())
}

/// A pupil's browser, as plain HTTP: follows the pupil pages by hand.
pub struct Pupil<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub csrf: String,
}

/// A question field on a page: its form name and the option codes offered.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub options: Vec<String>,
    pub number: bool,
}

impl<'a> Pupil<'a> {
    pub async fn new(app: &'a TestApp) -> Self {
        let client = app.client();
        let html = client
            .get(app.url("/"))
            .send()
            .await
            .expect("GET /")
            .text()
            .await
            .expect("body");
        Pupil {
            app,
            client,
            csrf: csrf_of(&html),
        }
    }

    /// Posts a form and returns the response.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.app.url(path))
            .send()
            .await
            .expect("GET")
    }

    /// Types a code; returns the response (a redirect on success).
    pub async fn enter_code(&self, code: &str) -> reqwest::Response {
        self.post("/code", &[("csrf", &self.csrf), ("code", code)])
            .await
    }

    /// Types a code and presses Start.
    pub async fn start(&self, code: &str) {
        let response = self.enter_code(code).await;
        assert_eq!(response.status(), 303, "expected the code to be accepted");
        let response = self
            .post("/welcome", &[("csrf", &self.csrf), ("action", "start")])
            .await;
        assert_eq!(
            response.headers()["location"],
            "/survey",
            "expected Start to lead to the survey"
        );
    }

    /// The current page: its key, the question fields, and the raw HTML.
    pub async fn page(&self, path: &str) -> (String, Vec<Field>, String) {
        let html = self.get(path).await.text().await.expect("body");
        let key = capture(&html, r#"name="page" value="([^"]+)""#).unwrap_or_default();
        let mut fields: Vec<Field> = Vec::new();
        let input = regex::Regex::new(r#"<input (?:class="number" )?type="(radio|checkbox|text)"[^>]*?name="(q_[^"]+)"(?: value="([^"]*)")?"#)
            .expect("pattern");
        for c in input.captures_iter(&html) {
            let name = c[2].to_owned();
            let number = &c[1] == "text";
            let value = c.get(3).map(|m| m.as_str().to_owned()).unwrap_or_default();
            match fields.iter_mut().find(|f| f.name == name) {
                Some(field) => field.options.push(value),
                None => fields.push(Field {
                    name,
                    options: if number { vec![] } else { vec![value] },
                    number,
                }),
            }
        }
        (key, fields, html)
    }

    /// Saves the page `key` with `answers` and the navigation `nav`.
    pub async fn save(
        &self,
        key: &str,
        answers: &[(String, String)],
        nav: &str,
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf), ("page", key), ("nav", nav)];
        for (name, value) in answers {
            form.push((name, value));
        }
        self.post("/survey", &form).await
    }

    /// Answers every page with the first option (numbers get
    /// 3), pressing Next until the review page. Returns pages answered.
    pub async fn answer_all(&self) -> usize {
        self.answer_all_with(|_| None).await.len()
    }

    /// Answers every page until the review page: each field gets the values
    /// `choose` gives for its name (several tick several boxes), or else
    /// its first option (numbers get 3). Returns the field names of every
    /// page, in order.
    pub async fn answer_all_with(
        &self,
        choose: impl Fn(&str) -> Option<&'static [&'static str]>,
    ) -> Vec<Vec<String>> {
        let mut pages: Vec<Vec<String>> = Vec::new();
        let mut path = "/survey".to_owned();
        loop {
            let (key, fields, _) = self.page(&path).await;
            assert!(!key.is_empty(), "expected a survey page at {path}");
            let mut answers: Vec<(String, String)> = Vec::new();
            for f in &fields {
                match choose(&f.name) {
                    Some(values) => {
                        answers.extend(values.iter().map(|v| (f.name.clone(), (*v).to_owned())))
                    }
                    None => {
                        let value = if f.number {
                            "3".to_owned()
                        } else {
                            f.options[0].clone()
                        };
                        answers.push((f.name.clone(), value));
                    }
                }
            }
            let response = self.save(&key, &answers, "next").await;
            assert_eq!(
                response.status(),
                303,
                "expected a redirect after saving {key}"
            );
            pages.push(fields.into_iter().map(|f| f.name).collect());
            let next = response.headers()["location"]
                .to_str()
                .expect("location")
                .to_owned();
            if next == "/review" {
                return pages;
            }
            assert!(pages.len() < 500, "the survey never ended");
            path = next;
        }
    }

    pub async fn finish(&self) -> reqwest::Response {
        self.post("/finish", &[("csrf", &self.csrf)]).await
    }
}

/// Runs a browser test script (`tests/browser/NAME.mjs`) against `app` with the
/// given environment, and fails with the script's output if it fails.
pub fn run_browser_script(app: &TestApp, name: &str, env: &[(&str, String)]) {
    let dir = package_dir().join("browser");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "the browser test packages are missing: run `bash tests/run.sh` (or `npm ci` in tests/browser)"
    );
    let mut command = std::process::Command::new("node");
    command
        .arg(dir.join(format!("{name}.mjs")))
        .current_dir(&dir);
    command.env("BASE_URL", &app.address);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .expect("running node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser script {name}.mjs failed:\n{stdout}\n{stderr}"
    );
}

/// Creates a staff account and returns a client signed in as it.
pub async fn signed_in_staff(
    app: &TestApp,
    email: &str,
    role: server::services::auth::Role,
    cpp: Option<i32>,
    school: Option<i32>,
) -> reqwest::Client {
    const PASSWORD: &str = "lantern orchard pebble";
    let hash = app
        .state
        .staff
        .hash(PASSWORD)
        .await
        .expect("hashing a password");
    server::store::staff::create(
        &app.state.db,
        server::store::staff::NewStaff {
            email: email.into(),
            password_hash: hash,
            role,
            cpp_id: cpp,
            school_id: school,
            is_demo: false,
        },
    )
    .await
    .expect("creating a staff account");
    let client = app.client();
    let page = client
        .get(app.url("/staff/login"))
        .send()
        .await
        .expect("GET /staff/login")
        .text()
        .await
        .expect("body");
    let response = client
        .post(app.url("/staff/login"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("POST /staff/login");
    assert_eq!(response.status(), 303, "expected {email} to sign in");
    client
}

/// A stored release of `wave` for `cpp` (Scotland when `None`) with small
/// files (tables with a header only, and a report per school of the
/// partnership),
/// written straight into the tables, for tests about who may download what.
/// Returns its id.
pub async fn stored_release(state: &AppState, wave: i32, cpp: Option<i32>) -> i32 {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, Query};
    use sha2::Digest;
    let unit = match cpp {
        Some(id) => {
            server::store::schools::cpp(&state.db, id)
                .await
                .expect("reading the partnership")
                .expect("the partnership")
                .gss_code
        }
        None => "All".to_owned(),
    };
    let col = Alias::new;
    let insert = Query::insert()
        .into_table(col("result_release"))
        .columns(
            [
                "wave_id",
                "cpp_id",
                "unit",
                "number",
                "rule",
                "sources",
                "released_by",
                "released_at",
                "manifest",
            ]
            .map(col),
        )
        .values_panic([
            wave.into(),
            cpp.into(),
            unit.into(),
            1.into(),
            "{}".into(),
            "".into(),
            "test".into(),
            chrono::Utc::now().into(),
            "{}".into(),
        ])
        .returning_col(col("id"))
        .to_owned();
    let id: i32 = state
        .db
        .query_one(&insert)
        .await
        .expect("storing a release")
        .expect("its id")
        .try_get_by_index(0)
        .expect("an id");
    let mut files: Vec<(String, Vec<u8>)> = ["frequencies.csv", "indicators.csv", "codebook.csv"]
        .into_iter()
        .map(|name| (name.to_owned(), b"cpp_code\r\n".to_vec()))
        .collect();
    if let Some(cpp) = cpp {
        for school in server::store::schools::schools_of_cpp(&state.db, cpp)
            .await
            .expect("reading the schools")
        {
            files.push((
                exporter::school_report::file_name(&school.seed_code),
                b"<!DOCTYPE html><title>Report</title>".to_vec(),
            ));
        }
    }
    for (name, bytes) in files {
        let insert = Query::insert()
            .into_table(col("result_release_file"))
            .columns(["release_id", "name", "sha256", "size", "content"].map(col))
            .values_panic([
                id.into(),
                name.into(),
                hex::encode(sha2::Sha256::digest(&bytes)).into(),
                (bytes.len() as i64).into(),
                bytes.into(),
            ])
            .to_owned();
        state
            .db
            .execute(&insert)
            .await
            .expect("storing a release's file");
    }
    id
}
