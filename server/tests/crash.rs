//! Crash safety: pupils answer under load while the server is killed with
//! SIGKILL at random moments, twenty times, and restarted each time. Afterwards
//! every page save the server acknowledged is stored, every finish it
//! acknowledged is a completed response, no completed response is half-written
//! or linked to its code, and nothing is stored twice.
//!
//! Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (tests/run.sh
//! runs it on both). The server is the real binary, as a child process.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use survey_defs::Stage;

use rand::RngExt;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::domain::AccessCode;
use server::store::entities::{
    access_code, page_save, response, response_held, response_in_progress,
};
use server::store::schools::{self, NewSchool};

const KILLS: usize = 20;
const PUPILS: usize = 24;
const CODES: usize = 400;

/// What the server acknowledged to one pupil.
#[derive(Debug, Default)]
struct Acked {
    /// Page key → number of answers on the acknowledged save.
    pages: BTreeMap<String, usize>,
    finished: bool,
}

#[derive(Default)]
struct Ledger {
    by_code: Mutex<BTreeMap<String, Acked>>,
    saves: AtomicUsize,
    finishes: AtomicUsize,
    server_errors: Mutex<Vec<String>>,
}

/// Why a journey stopped early: the connection failed (the server died), or
/// the test is over.
enum Interrupted {
    Connection,
    Stopped,
}

impl From<reqwest::Error> for Interrupted {
    fn from(_: reqwest::Error) -> Self {
        Interrupted::Connection
    }
}

fn capture(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let end = text[start..].find('"')? + start;
    Some(text[start..end].to_owned())
}

/// The question fields on a page: name → option values (empty for numbers).
fn fields(html: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for tag in html.split("<input ").skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let Some(name) = capture(tag, "name=\"") else {
            continue;
        };
        if !name.starts_with("q_") {
            continue;
        }
        let entry = out.entry(name).or_default();
        if (tag.contains("type=\"radio\"") || tag.contains("type=\"checkbox\""))
            && let Some(value) = capture(tag, "value=\"")
        {
            entry.push(value);
        }
    }
    out
}

/// The same answers every time for the same code and question, so a page
/// saved twice (before and after a crash) says the same thing both times.
fn answer(code: &str, name: &str, options: &[String]) -> String {
    let seed = code
        .bytes()
        .chain(name.bytes())
        .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    if options.is_empty() {
        "3".to_owned()
    } else {
        options[usize::try_from(seed).unwrap_or(0) % options.len()].clone()
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// One pupil's journey with one code, from typing it to finishing. Returns
/// when the pupil has finished, or when interrupted.
async fn journey(
    client: &reqwest::Client,
    base: &str,
    code: &str,
    ledger: &Ledger,
    stop: &AtomicBool,
) -> Result<(), Interrupted> {
    let note_error = |what: String| ledger.server_errors.lock().unwrap().push(what);
    let html = client.get(format!("{base}/")).send().await?.text().await?;
    let csrf = capture(&html, "name=\"csrf\" value=\"").unwrap_or_default();
    let entered = client
        .post(format!("{base}/code"))
        .form(&[("csrf", csrf.as_str()), ("code", code)])
        .send()
        .await?;
    if entered.status().is_server_error() {
        note_error(format!("POST /code: {}", entered.status()));
        return Err(Interrupted::Connection);
    }
    if entered.status() == 422 {
        // Already finished: a finish that was in flight when the server died.
        return Ok(());
    }
    if location(&entered) == "/welcome" {
        let started = client
            .post(format!("{base}/welcome"))
            .form(&[("csrf", csrf.as_str()), ("action", "start")])
            .send()
            .await?;
        if started.status().is_server_error() {
            note_error(format!("POST /welcome: {}", started.status()));
            return Err(Interrupted::Connection);
        }
    }
    let mut path = "/survey".to_owned();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(Interrupted::Stopped);
        }
        let page = client.get(format!("{base}{path}")).send().await?;
        if page.status().is_server_error() {
            note_error(format!("GET {path}: {}", page.status()));
            return Err(Interrupted::Connection);
        }
        let redirected = location(&page);
        let html = page.text().await?;
        let key = capture(&html, "name=\"page\" value=\"");
        if redirected == "/review" || (key.is_none() && path == "/review") {
            let done = client
                .post(format!("{base}/finish"))
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await?;
            if done.status().is_server_error() {
                note_error(format!("POST /finish: {}", done.status()));
                return Err(Interrupted::Connection);
            }
            // 200 is the ended page: the finish is committed (a repeat
            // shows the same page).
            if done.status() == 200 {
                ledger
                    .by_code
                    .lock()
                    .unwrap()
                    .entry(code.to_owned())
                    .or_default()
                    .finished = true;
                ledger.finishes.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(());
        }
        let Some(key) = key else {
            if path == "/review" {
                path = "/survey".to_owned();
                continue;
            }
            // Sent back to the code screen: start the journey again.
            return Err(Interrupted::Connection);
        };
        let answers: Vec<(String, String)> = fields(&html)
            .iter()
            .map(|(name, options)| (name.clone(), answer(code, name, options)))
            .collect();
        let mut form: Vec<(String, String)> = vec![
            ("csrf".into(), csrf.clone()),
            ("page".into(), key.clone()),
            ("nav".into(), "next".into()),
        ];
        form.extend(answers.iter().cloned());
        let saved = client
            .post(format!("{base}/survey"))
            .form(&form)
            .send()
            .await?;
        if saved.status().is_server_error() {
            note_error(format!("POST /survey: {}", saved.status()));
            return Err(Interrupted::Connection);
        }
        if saved.status() == 303 {
            let next = location(&saved);
            if next.starts_with("/survey") || next == "/review" {
                ledger
                    .by_code
                    .lock()
                    .unwrap()
                    .entry(code.to_owned())
                    .or_default()
                    .pages
                    .insert(key, answers.len());
                ledger.saves.fetch_add(1, Ordering::Relaxed);
                path = next;
                continue;
            }
        }
        return Err(Interrupted::Connection);
    }
}

/// A pupil at a shared device: takes codes from the pile one after another,
/// and after any failure types the current code again, as a pupil would.
async fn pupil(
    base: String,
    codes: Arc<Mutex<Vec<String>>>,
    ledger: Arc<Ledger>,
    stop: Arc<AtomicBool>,
) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    while !stop.load(Ordering::Relaxed) {
        let Some(code) = codes.lock().unwrap().pop() else {
            return;
        };
        loop {
            match journey(&client, &base, &code, &ledger, &stop).await {
                Ok(()) => break,
                Err(Interrupted::Stopped) => return,
                Err(Interrupted::Connection) => {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_saves_survive_repeated_sigkill() {
    let started = Instant::now();
    let (url, dir) = common::fresh_database().await;
    let port = common::free_port();
    let settings = common::settings(&url, dir.path(), port);

    // The sitting and its codes, made through the server library against the
    // same database and secret the child process will use.
    let state = server::startup::prepare(&settings).await.unwrap();
    let cpp = schools::cpp_by_code(&state.db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let school = schools::create_school(
        &state.db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: "CRASH1".into(),
            name: "Crash Test Academy".into(),
            sector: "secondary".into(),
            rolls: [0, 0, 0, 0, 0, 0, 400],
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let version = state.catalogue.latest().first().unwrap().version_id;
    let (_, codes) = server::services::sittings::create_with_codes(
        &state.db,
        &state.secret,
        &server::services::Actor::Cli,
        server::store::sittings::NewSitting {
            label: "S4 crash test".into(),
            signposting: server::store::Json(server::services::partnerships::default_signposting()),
            ..server::store::sittings::NewSitting::new(
                &school,
                Stage::S4,
                version,
                common::test_wave(&state, school.cpp_id, version).await,
            )
        },
        CODES,
    )
    .await
    .unwrap();
    let codes: Vec<String> = codes.iter().map(ToString::to_string).collect();

    let base = format!("http://127.0.0.1:{port}");
    let mut child = common::start_server(&url, dir.path(), port).await;
    let ledger = Arc::new(Ledger::default());
    let stop = Arc::new(AtomicBool::new(false));
    let pile = Arc::new(Mutex::new(codes.clone()));
    let pupils: Vec<_> = (0..PUPILS)
        .map(|_| {
            tokio::spawn(pupil(
                base.clone(),
                pile.clone(),
                ledger.clone(),
                stop.clone(),
            ))
        })
        .collect();

    for kill in 0..KILLS {
        let wait = rand::rng().random_range(300..1_600);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        println!(
            "kill {}: {} saves and {} finishes acknowledged so far",
            kill + 1,
            ledger.saves.load(Ordering::Relaxed),
            ledger.finishes.load(Ordering::Relaxed)
        );
        child = common::start_server(&url, dir.path(), port).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for task in pupils {
        task.await.unwrap();
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // --- what the database holds --------------------------------------------
    let db = &state.db;
    let ledger = &*ledger;
    let acked = std::mem::take(&mut *ledger.by_code.lock().unwrap());
    let errors = std::mem::take(&mut *ledger.server_errors.lock().unwrap());
    assert!(
        errors.is_empty(),
        "expected no server errors, saw {}: {:?}",
        errors.len(),
        &errors[..errors.len().min(10)]
    );
    let saves = ledger.saves.load(Ordering::Relaxed);
    let finishes = ledger.finishes.load(Ordering::Relaxed);
    assert!(
        saves > 100,
        "expected the load to save many pages between kills, saw {saves}"
    );
    assert!(finishes > 0, "expected some pupils to finish between kills");

    let mut finished_codes = 0u64;
    let mut started_codes = HashSet::new();
    for code in &codes {
        let hash = state.code_hash(&AccessCode::parse(code).unwrap());
        let row = access_code::Entity::find()
            .filter(access_code::Column::CodeHash.eq(hash))
            .one(db)
            .await
            .unwrap()
            .unwrap();
        let mine = acked.get(code);
        match row.state.0.as_str() {
            "used" => {
                finished_codes += 1;
                assert_eq!(
                    row.response_id, None,
                    "a used code must not point at a response"
                );
            }
            "started" => {
                assert!(
                    !mine.is_some_and(|m| m.finished),
                    "an acknowledged finish was lost: the code is still started"
                );
                let rid = row.response_id.clone().unwrap();
                assert!(
                    started_codes.insert(rid.clone()),
                    "two codes share one response"
                );
                let stored: BTreeMap<String, page_save::Model> = page_save::Entity::find()
                    .filter(page_save::Column::ResponseId.eq(rid.as_str()))
                    .all(db)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| (s.page_key.clone(), s))
                    .collect();
                for (key, answered) in mine.map(|m| &m.pages).into_iter().flatten() {
                    let save = stored
                        .get(key)
                        .unwrap_or_else(|| panic!("an acknowledged save of page {key} is missing"));
                    let (shown, answers) = server::services::survey::decode_page(&save.answers)
                        .unwrap_or_else(|| panic!("the save of page {key} does not decode"));
                    assert!(
                        !shown.is_empty(),
                        "the save of page {key} shows no questions"
                    );
                    assert_eq!(
                        answers.len(),
                        *answered,
                        "page {key}: expected {answered} answers as acknowledged, found {}",
                        answers.len()
                    );
                }
            }
            "unused" => {
                assert!(
                    mine.is_none_or(|m| m.pages.is_empty() && !m.finished),
                    "a code with acknowledged saves is unused"
                );
            }
            other => panic!("unexpected code state {other}"),
        }
    }

    // Nothing duplicated, nothing half-written, nothing left dangling.
    // A finished response is either released or still held (durably) until
    // enough of its sitting have finished: both count.
    let mut responses: Vec<(String, Vec<u8>, bool)> = response::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.answers, r.partial))
        .collect();
    let held = response_held::Entity::find().all(db).await.unwrap();
    responses.extend(held.into_iter().map(|h| (h.id, h.answers, h.partial)));
    assert_eq!(
        responses.len() as u64,
        finished_codes,
        "expected one completed response per finished code"
    );
    assert!(
        finished_codes >= finishes as u64,
        "expected every acknowledged finish ({finishes}) to be stored, found {finished_codes}"
    );
    let ids: HashSet<&str> = responses.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids.len(), responses.len(), "response ids are unique");
    for r in &responses {
        let answers = survey_defs::AnswerSet::decode(&r.1)
            .unwrap_or_else(|e| panic!("a completed response does not decode: {e}"));
        assert!(!answers.is_empty(), "a completed response holds no answers");
        assert!(!r.2, "no sitting closed, so no response is partial");
    }
    let in_progress = response_in_progress::Entity::find().all(db).await.unwrap();
    let live: HashSet<String> = in_progress.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        live,
        started_codes.iter().cloned().collect::<HashSet<_>>(),
        "every in-progress response belongs to exactly one started code"
    );
    let orphans = page_save::Entity::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .filter(|s| !live.contains(&s.response_id))
        .count();
    assert_eq!(orphans, 0, "page saves left behind by an ended response");
    let total_codes = access_code::Entity::find().count(db).await.unwrap();
    assert_eq!(total_codes, CODES as u64, "no code was duplicated");
    println!(
        "{}: {KILLS} kills, {saves} saves and {finishes} finishes acknowledged, \
         {finished_codes} completed responses, {} in progress, in {:.0} s",
        common::backend(),
        live.len(),
        started.elapsed().as_secs_f64()
    );
}
