//! `loadgen`: the load benchmark's pupils.
//!
//! Three steps, driven by `tests/bench/load.sh`:
//!
//! - `prepare` creates a school, one sitting per stage and fresh codes, through
//!   the server library with the server's own settings (same `DATA_DIR` or
//!   `DATABASE_URL` and secret), and writes the codes to a file.
//! - `run` drives a running server over HTTP. Each simulated pupil takes a code,
//!   starts, then loads a page and saves it with no think time, page after page.
//!   A pupil who reaches the review page takes a new code; nobody finishes, so
//!   every saved page stays in `page_save` to be checked afterwards. It prints
//!   one JSON line: throughput, latency, errors, and the server's CPU and peak
//!   memory read from `/proc`.
//! - `verify` reads the database after the server has been killed and checks
//!   that every save the server acknowledged is there.
//!
//! `summary` prints the median of each measure over repeated runs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use clap::{Parser, Subcommand, ValueEnum};
use sea_orm::EntityTrait;
use server::settings::Settings;
use server::store::entities::{access_code, page_save};

mod http;

const OK: u16 = 200;
const SEE_OTHER: u16 = 303;

#[derive(Parser)]
#[command(name = "loadgen", about = "Simulated pupils for the load benchmark")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create sittings and codes through the server library; write the codes.
    Prepare {
        #[command(flatten)]
        settings: Settings,
        /// Codes to create for each stage.
        #[arg(long, default_value_t = 10_000)]
        codes: usize,
        /// Stages, one sitting each (comma-separated).
        #[arg(long, default_value = "P6,S2", value_delimiter = ',')]
        stages: Vec<String>,
        /// Where to write the codes, one `STAGE CODE` a line.
        #[arg(long)]
        out: PathBuf,
    },
    /// Create the staff account `bench@example.org` for the logins mode.
    Staff {
        #[command(flatten)]
        settings: Settings,
        #[arg(long, default_value = STAFF_PASSWORD)]
        password: String,
    },
    /// Drive a running server and print one JSON line of results.
    Run(RunArgs),
    /// Check that every acknowledged save is in the database.
    Verify {
        #[command(flatten)]
        settings: Settings,
        /// The configuration's name, to group with its run in `summary`.
        #[arg(long, default_value = "run")]
        label: String,
        /// The file `run --acked` wrote.
        #[arg(long)]
        acked: PathBuf,
    },
    /// Print the median of each measure per label from a file of JSON lines.
    Summary { results: PathBuf },
    /// Time argon2id hashes at the server's cost on one thread, with the
    /// argon2 crate, and print the median in milliseconds: how fast this
    /// machine is at the moment, to print beside results measured on it.
    Gauge,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Load a page, save it, move on (the census workload).
    Saves,
    /// Load pupil pages only, cycling through a survey's pages.
    Pages,
    /// Staff sign-ins, one after another (`prepare` makes the account).
    Logins,
    /// Staff sign-ins in bursts: every simulated person submits the form at
    /// the same moment, and the next burst starts once all are answered.
    LoginBursts,
    /// Pupils arriving: each opens the code page, types a new code and
    /// presses Start, then hands the device to the next (a school's first
    /// minutes on a census morning).
    Starts,
}

#[derive(Parser)]
struct RunArgs {
    /// The server, e.g. http://127.0.0.1:8080
    #[arg(long)]
    url: String,
    /// The codes file `prepare` wrote.
    #[arg(long)]
    codes: PathBuf,
    /// Simulated pupils at once (each with its own connection).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 3)]
    warmup: u64,
    /// Seconds measured.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    #[arg(long, value_enum, default_value = "saves")]
    mode: Mode,
    /// The server's process id, to read its CPU time and peak memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Where to write acknowledged saves (`CODE PAGE` a line).
    #[arg(long)]
    acked: Option<PathBuf>,
    /// A name for this configuration in the results.
    #[arg(long, default_value = "run")]
    label: String,
    /// Load generator threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Ask for compressed responses (`Accept-Encoding: gzip`), as browsers
    /// do; `--gzip false` asks for none.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    gzip: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let threads = match &cli.command {
        Command::Run(args) => args.threads.max(1),
        _ => 1,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Prepare {
                settings,
                codes,
                stages,
                out,
            } => prepare(settings, codes, &stages, out).await,
            Command::Staff { settings, password } => staff(settings, &password).await,
            Command::Run(args) => run(args).await,
            Command::Verify {
                settings,
                label,
                acked,
            } => verify(settings, &label, acked).await,
            Command::Summary { results } => summary(&results),
            Command::Gauge => gauge(),
        }
    })
}

// --- gauge -----------------------------------------------------------------

/// Prints the median time of 15 argon2id hashes at the server's cost, made by
/// the argon2 crate in plain Rust, so that readings stay comparable with those
/// recorded before the server hashed with libsodium. On a shared virtual
/// machine the speed of a core changes from hour to hour; a sign-in costs one
/// libsodium hash of the same cost (about two thirds of this time), while
/// saves and pages follow it only loosely.
fn gauge() -> anyhow::Result<()> {
    use argon2::{Algorithm, Argon2, Block, Version};
    let params = server::services::auth::HASH_PARAMS;
    let mut memory = vec![Block::default(); params.block_count()];
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut out = [0u8; 32];
    let mut times = Vec::new();
    for _ in 0..15 {
        let began = Instant::now();
        argon
            .hash_password_into_with_memory(
                b"a password to time",
                b"sixteen byte salt",
                &mut out,
                &mut memory,
            )
            .map_err(|e| anyhow!("hashing: {e}"))?;
        times.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!("{:.1}", times[times.len() / 2]);
    Ok(())
}

// --- prepare ---------------------------------------------------------------

async fn prepare(
    settings: Settings,
    per_stage: usize,
    stages: &[String],
    out: PathBuf,
) -> anyhow::Result<()> {
    use server::store::schools::{self, NewSchool};
    let state = server::startup::prepare(&settings).await?;
    let db = &state.db;
    let cpp = schools::cpp_by_code(db, "S12000036")
        .await?
        .ok_or_else(|| anyhow!("the reference CPPs are missing"))?;
    let school = schools::create_school(
        db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: "BENCH1".into(),
            name: "Benchmark school".into(),
            sector: "all-through".into(),
            rolls: [30; 7],
            is_demo: false,
        },
    )
    .await?;
    let version_id = state
        .catalogue
        .latest()
        .first()
        .ok_or_else(|| anyhow!("no questionnaire is loaded"))?
        .version_id;
    let mut lines = String::new();
    for stage in stages {
        let (_, codes) = server::services::sittings::create_with_codes(
            &state.db,
            &state.secret,
            &server::services::Actor::Cli,
            server::store::sittings::NewSitting {
                label: format!("{stage} benchmark"),
                signposting: server::store::Json(
                    server::services::partnerships::default_signposting(),
                ),
                ..server::store::sittings::NewSitting::new(
                    &school,
                    stage.parse::<survey_defs::Stage>().expect("a stage"),
                    version_id,
                    tests::test_wave(&state, school.cpp_id, version_id).await,
                )
            },
            per_stage,
        )
        .await?;
        for code in codes {
            lines.push_str(&format!("{stage} {code}\n"));
        }
    }
    std::fs::write(&out, lines).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}

const STAFF_EMAIL: &str = "bench@example.org";
const STAFF_PASSWORD: &str = "load benchmark passphrase 42";

async fn staff(settings: Settings, password: &str) -> anyhow::Result<()> {
    let state = server::startup::prepare(&settings).await?;
    let hash = state.staff.hash(password).await?;
    server::store::staff::create(
        &state.db,
        server::store::staff::NewStaff {
            email: STAFF_EMAIL.into(),
            password_hash: hash,
            role: server::domain::Role::Admin,
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await?;
    Ok(())
}

// --- run -------------------------------------------------------------------

/// One pupil's browser: its own connection and cookie. A new pupil on the
/// same device starts with no cookie.
struct Browser {
    conn: http::Connection,
    cookie: Option<String>,
}

impl Browser {
    fn new(target: &http::Target) -> Self {
        Self {
            conn: http::Connection::new(target.clone()),
            cookie: None,
        }
    }

    fn keep_cookie(&mut self, response: &http::Response) {
        for text in &response.set_cookies {
            let pair = text.split(';').next().unwrap_or("");
            let ours = pair
                .strip_prefix("pupil=")
                .or_else(|| pair.strip_prefix("staff="));
            if let Some(rest) = ours {
                self.cookie =
                    (!rest.is_empty() && !text.contains("Max-Age=0")).then(|| pair.to_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> anyhow::Result<http::Response> {
        let response = self.conn.get(path, self.cookie.as_deref()).await?;
        self.keep_cookie(&response);
        Ok(response)
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> anyhow::Result<http::Response> {
        let response = self.conn.post(path, self.cookie.as_deref(), form).await?;
        self.keep_cookie(&response);
        Ok(response)
    }
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The answers a pupil gives on a page: the first option of each question,
/// 3 for numbers. Parsed once per page key and shared.
fn answers_of(html: &str) -> Answers {
    let pattern = regex::Regex::new(
        r#"<input (?:class="number" )?type="(radio|checkbox|text)"[^>]*?name="(q_[^"]+)"(?: value="([^"]*)")?"#,
    );
    let Ok(pattern) = pattern else {
        return Vec::new();
    };
    let mut answers: Answers = Vec::new();
    for c in pattern.captures_iter(html) {
        let name = c[2].to_owned();
        if answers.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let value = if &c[1] == "text" {
            "3".to_owned()
        } else {
            c.get(3).map(|m| m.as_str().to_owned()).unwrap_or_default()
        };
        answers.push((name, value));
    }
    answers
}

/// Form fields and values a pupil sends for one page.
type Answers = Vec<(String, String)>;

/// What all pupils share.
struct Shared {
    target: http::Target,
    codes: Vec<(String, String)>,
    next_code: AtomicUsize,
    answers: Mutex<HashMap<String, Arc<Answers>>>,
    /// Page keys per stage, for the pages mode.
    keys: HashMap<String, Vec<String>>,
    measuring: AtomicBool,
    stop: AtomicBool,
    /// Lines up the sign-ins of a burst.
    burst: tokio::sync::Barrier,
    /// Whether the burst being lined up goes ahead (false once stopping).
    burst_goes: AtomicBool,
    out_of_codes: AtomicBool,
}

#[derive(Default)]
struct Tally {
    saves: u64,
    pages: u64,
    starts: u64,
    save_us: Vec<u32>,
    page_us: Vec<u32>,
    /// Each start: the code page, the code, and Start.
    start_us: Vec<u32>,
    errors: BTreeMap<String, u64>,
    acked: Vec<(usize, String)>,
}

impl Tally {
    fn error(&mut self, kind: impl Into<String>) {
        *self.errors.entry(kind.into()).or_default() += 1;
    }
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// Takes the next unused code and starts it; returns the code's index and a
/// browser on the first survey page's path.
async fn start_pupil(
    shared: &Shared,
    tally: &mut Tally,
    browser: &mut Browser,
) -> anyhow::Result<Option<usize>> {
    let index = shared.next_code.fetch_add(1, Ordering::Relaxed);
    let Some((_, code)) = shared.codes.get(index) else {
        shared.out_of_codes.store(true, Ordering::Relaxed);
        return Ok(None);
    };
    browser.cookie = None;
    let began = Instant::now();
    let home = browser.get("/").await?;
    let csrf = hidden(&home.body, "csrf").ok_or_else(|| anyhow!("no csrf on the code page"))?;
    let entered = browser
        .post("/code", &[("csrf", &csrf), ("code", code)])
        .await?;
    if entered.location.as_deref() != Some("/welcome") {
        bail!("code entry answered {}", entered.status);
    }
    let started = browser
        .post("/welcome", &[("csrf", &csrf), ("action", "start")])
        .await?;
    if started.location.as_deref() != Some("/survey") {
        bail!("start answered {}", started.status);
    }
    if shared.measuring.load(Ordering::Relaxed) {
        tally.starts += 1;
        tally.start_us.push(micros(began));
    }
    Ok(Some(index))
}

/// One simulated pupil after another, until told to stop.
async fn pupil_loop(shared: Arc<Shared>, mode: Mode, seed: usize) -> Tally {
    let mut tally = Tally::default();
    let mut browser = Browser::new(&shared.target);
    if mode == Mode::LoginBursts {
        login_bursts(&shared, &mut tally, &mut browser).await;
        return tally;
    }
    if mode == Mode::Logins {
        while !shared.stop.load(Ordering::Relaxed) {
            if let Err(error) = sign_in(&shared, &mut tally, &mut browser).await {
                tally.error(error.to_string());
            }
        }
        return tally;
    }
    while !shared.stop.load(Ordering::Relaxed) {
        let index = match start_pupil(&shared, &mut tally, &mut browser).await {
            Ok(Some(found)) => found,
            Ok(None) => break,
            Err(error) => {
                tally.error(format!("start: {error}"));
                continue;
            }
        };
        let result = match mode {
            Mode::Saves => walk(&shared, &mut tally, index, &mut browser).await,
            Mode::Starts => Ok(()),
            Mode::Pages | Mode::Logins | Mode::LoginBursts => {
                browse(&shared, &mut tally, index, seed, &mut browser).await
            }
        };
        if let Err(error) = result {
            tally.error(error.to_string());
        }
    }
    tally
}

/// Loads and saves every page in order, until the review page or the end.
async fn walk(
    shared: &Shared,
    tally: &mut Tally,
    index: usize,
    browser: &mut Browser,
) -> anyhow::Result<()> {
    let mut csrf: Option<String> = None;
    let mut path = "/survey".to_owned();
    while !shared.stop.load(Ordering::Relaxed) {
        let measuring = shared.measuring.load(Ordering::Relaxed);
        let began = Instant::now();
        let page = browser.get(&path).await?;
        if page.status != OK {
            bail!("page: status {}", page.status);
        }
        if measuring {
            tally.page_us.push(micros(began));
            tally.pages += 1;
        }
        let key = hidden(&page.body, "page").ok_or_else(|| anyhow!("page: no page key"))?;
        if csrf.is_none() {
            csrf = hidden(&page.body, "csrf");
        }
        let token = csrf.as_deref().unwrap_or("");
        let answers = {
            let mut cache = shared
                .answers
                .lock()
                .map_err(|_| anyhow!("answer cache poisoned"))?;
            cache
                .entry(key.clone())
                .or_insert_with(|| Arc::new(answers_of(&page.body)))
                .clone()
        };
        let mut form: Vec<(&str, &str)> = vec![("csrf", token), ("page", &key), ("nav", "next")];
        form.extend(answers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let began = Instant::now();
        let saved = browser.post("/survey", &form).await?;
        let next = match (saved.status, saved.location) {
            (SEE_OTHER, Some(next)) if next.starts_with("/survey") || next == "/review" => next,
            (status, location) => bail!("save: status {status} to {location:?}"),
        };
        tally.acked.push((index, key));
        if measuring {
            tally.save_us.push(micros(began));
            tally.saves += 1;
        }
        if next == "/review" {
            return Ok(());
        }
        path = next;
    }
    Ok(())
}

/// One staff sign-in: the login page, then the form. Timed as a save is.
async fn sign_in(shared: &Shared, tally: &mut Tally, browser: &mut Browser) -> anyhow::Result<()> {
    let csrf = login_page(browser).await?;
    submit_login(shared, tally, browser, &csrf).await
}

/// Loads the sign-in page as a new visitor; returns its form token.
async fn login_page(browser: &mut Browser) -> anyhow::Result<String> {
    browser.cookie = None;
    let page = browser.get("/staff/login").await?;
    hidden(&page.body, "csrf").ok_or_else(|| anyhow!("login: no csrf"))
}

/// Sign-ins in bursts: each person loads the page, all wait for each other,
/// then all submit at once. Every task takes part in every burst, so all of
/// them learn together whether the next one goes ahead.
async fn login_bursts(shared: &Shared, tally: &mut Tally, browser: &mut Browser) {
    loop {
        let csrf = match login_page(browser).await {
            Ok(csrf) => Some(csrf),
            Err(error) => {
                tally.error(error.to_string());
                None
            }
        };
        if shared.burst.wait().await.is_leader() {
            let goes = !shared.stop.load(Ordering::Relaxed);
            shared.burst_goes.store(goes, Ordering::Relaxed);
        }
        shared.burst.wait().await;
        if !shared.burst_goes.load(Ordering::Relaxed) {
            return;
        }
        if let Some(csrf) = csrf
            && let Err(error) = submit_login(shared, tally, browser, &csrf).await
        {
            tally.error(error.to_string());
        }
    }
}

/// Submits the sign-in form and times it.
async fn submit_login(
    shared: &Shared,
    tally: &mut Tally,
    browser: &mut Browser,
    csrf: &str,
) -> anyhow::Result<()> {
    let measuring = shared.measuring.load(Ordering::Relaxed);
    let began = Instant::now();
    let reply = browser
        .post(
            "/staff/login",
            &[
                ("csrf", csrf),
                ("email", STAFF_EMAIL),
                ("password", STAFF_PASSWORD),
            ],
        )
        .await?;
    if reply.status != SEE_OTHER {
        bail!("login: status {}", reply.status);
    }
    if measuring {
        tally.save_us.push(micros(began));
        tally.saves += 1;
    }
    Ok(())
}

/// Loads pages of the survey over and over, without saving.
async fn browse(
    shared: &Shared,
    tally: &mut Tally,
    index: usize,
    seed: usize,
    browser: &mut Browser,
) -> anyhow::Result<()> {
    let stage = &shared.codes[index].0;
    let keys = shared
        .keys
        .get(stage)
        .ok_or_else(|| anyhow!("no page keys for {stage}"))?;
    let mut at = seed;
    while !shared.stop.load(Ordering::Relaxed) {
        let key = &keys[at % keys.len()];
        at += 1;
        let measuring = shared.measuring.load(Ordering::Relaxed);
        let began = Instant::now();
        let page = browser.get(&format!("/survey?p={key}")).await?;
        if page.status != OK {
            bail!("page: status {}", page.status);
        }
        if measuring {
            tally.page_us.push(micros(began));
            tally.pages += 1;
        }
    }
    Ok(())
}

/// CPU ticks (user + system) and peak resident memory of a process.
fn proc_usage(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    Some((ticks, hwm_kb))
}

fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// Walks one code of `stage` to the end, saving, to learn its page keys.
async fn scout(shared: &Shared, stage: &str) -> anyhow::Result<(usize, Vec<String>)> {
    let index = shared
        .codes
        .iter()
        .position(|(s, _)| s == stage)
        .ok_or_else(|| anyhow!("no code for {stage}"))?;
    let mut browser = Browser::new(&shared.target);
    let home = browser.get("/").await?;
    let csrf = hidden(&home.body, "csrf").ok_or_else(|| anyhow!("no csrf"))?;
    browser
        .post(
            "/code",
            &[("csrf", &csrf), ("code", &shared.codes[index].1)],
        )
        .await?;
    browser
        .post("/welcome", &[("csrf", &csrf), ("action", "start")])
        .await?;
    let mut keys = Vec::new();
    let mut path = "/survey".to_owned();
    loop {
        let page = browser.get(&path).await?;
        let key = hidden(&page.body, "page").ok_or_else(|| anyhow!("scout: no page key"))?;
        let answers = answers_of(&page.body);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf), ("page", &key), ("nav", "next")];
        form.extend(answers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let saved = browser.post("/survey", &form).await?;
        keys.push(key);
        match saved.location {
            Some(next) if next.starts_with("/survey") => path = next,
            _ => return Ok((index, keys)),
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.codes)
        .with_context(|| format!("reading {}", args.codes.display()))?;
    let mut codes: Vec<(String, String)> = text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(s, c)| (s.to_owned(), c.to_owned()))
        .collect();
    // Interleave stages so pupils of every stage are on at once.
    codes.sort_by_key(|(s, c)| (c.clone(), s.clone()));
    let mut shared = Shared {
        target: http::Target::resolve(&args.url)
            .await?
            .accepting_gzip(args.gzip),
        codes,
        next_code: AtomicUsize::new(0),
        answers: Mutex::new(HashMap::new()),
        keys: HashMap::new(),
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        burst: tokio::sync::Barrier::new(args.concurrency),
        burst_goes: AtomicBool::new(true),
        out_of_codes: AtomicBool::new(false),
    };
    if args.mode == Mode::Pages {
        let stages: HashSet<String> = shared.codes.iter().map(|(s, _)| s.clone()).collect();
        for stage in stages {
            let (index, keys) = scout(&shared, &stage).await?;
            // The scout's code is started already: nobody else may take it.
            shared.codes.remove(index);
            shared.keys.insert(stage, keys);
        }
    }
    let shared = Arc::new(shared);
    let pid = args.server_pid.map(|p| p.to_string());
    let handles: Vec<_> = (0..args.concurrency)
        .map(|i| tokio::spawn(pupil_loop(shared.clone(), args.mode, i * 7)))
        .collect();
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let before = pid.as_deref().and_then(proc_usage);
    let me_before = proc_usage("self");
    let began = Instant::now();
    shared.measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs(args.seconds)).await;
    shared.measuring.store(false, Ordering::Relaxed);
    let elapsed = began.elapsed().as_secs_f64();
    let after = pid.as_deref().and_then(proc_usage);
    let me_after = proc_usage("self");
    shared.stop.store(true, Ordering::Relaxed);

    let mut total = Tally::default();
    for handle in handles {
        let tally = handle.await?;
        total.saves += tally.saves;
        total.pages += tally.pages;
        total.starts += tally.starts;
        total.save_us.extend(tally.save_us);
        total.page_us.extend(tally.page_us);
        total.start_us.extend(tally.start_us);
        total.acked.extend(tally.acked);
        for (kind, n) in tally.errors {
            *total.errors.entry(kind).or_default() += n;
        }
    }
    total.save_us.sort_unstable();
    total.page_us.sort_unstable();
    total.start_us.sort_unstable();
    let hz = clock_ticks() as f64;
    let cpu = |b: Option<(u64, u64)>, a: Option<(u64, u64)>| match (b, a) {
        (Some(b), Some(a)) => (a.0 - b.0) as f64 / hz / elapsed * 100.0,
        _ => 0.0,
    };
    let error_count: u64 = total.errors.values().sum();
    if let Some(path) = &args.acked {
        let mut out = String::with_capacity(total.acked.len() * 24);
        for (index, key) in &total.acked {
            out.push_str(&shared.codes[*index].1);
            out.push(' ');
            out.push_str(key);
            out.push('\n');
        }
        std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))?;
    }
    let result = serde_json::json!({
        "label": args.label,
        "mode": match args.mode {
            Mode::Saves => "saves",
            Mode::Pages => "pages",
            Mode::Logins => "logins",
            Mode::LoginBursts => "login-bursts",
            Mode::Starts => "starts",
        },
        "concurrency": args.concurrency,
        "seconds": elapsed,
        "saves_per_s": total.saves as f64 / elapsed,
        "save_p50_ms": percentile(&total.save_us, 50.0),
        "save_p99_ms": percentile(&total.save_us, 99.0),
        "pages_per_s": total.pages as f64 / elapsed,
        "page_p50_ms": percentile(&total.page_us, 50.0),
        "page_p99_ms": percentile(&total.page_us, 99.0),
        "starts_per_s": total.starts as f64 / elapsed,
        "start_p50_ms": percentile(&total.start_us, 50.0),
        "start_p99_ms": percentile(&total.start_us, 99.0),
        "errors": error_count,
        "error_kinds": total.errors,
        "acked_total": total.acked.len(),
        "out_of_codes": shared.out_of_codes.load(Ordering::Relaxed),
        "server_cpu_pct": cpu(before, after),
        "server_peak_rss_mb": after.map_or(0.0, |a| a.1 as f64 / 1024.0),
        "loadgen_cpu_pct": cpu(me_before, me_after),
    });
    let mut result = result;
    if matches!(args.mode, Mode::Logins | Mode::LoginBursts)
        && let Some(fields) = result.as_object_mut()
    {
        // The timed step is the sign-in, not a save: name it so.
        for (from, to) in [
            ("saves_per_s", "logins_per_s"),
            ("save_p50_ms", "login_p50_ms"),
            ("save_p99_ms", "login_p99_ms"),
        ] {
            if let Some(value) = fields.remove(from) {
                fields.insert(to.to_owned(), value);
            }
        }
    }
    println!("{result}");
    Ok(())
}

// --- verify ----------------------------------------------------------------

async fn verify(settings: Settings, label: &str, acked: PathBuf) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&acked).with_context(|| format!("reading {}", acked.display()))?;
    // SQLite's write-ahead log as the crash left it, before opening the
    // database replays it: its size shows whether checkpoints kept up.
    let wal_mb = settings
        .database_url()
        .strip_prefix("sqlite://")
        .map(|rest| format!("{}-wal", rest.split('?').next().unwrap_or(rest)))
        .and_then(|wal| std::fs::metadata(wal).ok())
        .map(|meta| meta.len() as f64 / 1_048_576.0);
    let state = server::startup::prepare(&settings).await?;
    let mut by_hash: HashMap<String, String> = HashMap::new();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let Some((code, key)) = line.split_once(' ') else {
            continue;
        };
        let hash = match by_hash.get(code) {
            Some(hash) => hash.clone(),
            None => {
                let parsed = server::domain::AccessCode::parse(code)
                    .map_err(|e| anyhow!("bad code {code}: {e:?}"))?;
                let hash = state.code_hash(&parsed);
                by_hash.insert(code.to_owned(), hash.clone());
                hash
            }
        };
        wanted.push((hash, key.to_owned()));
    }
    let responses: HashMap<String, String> = access_code::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|c| c.response_id.map(|r| (c.code_hash, r)))
        .collect();
    let stored: HashSet<(String, String)> = page_save::Entity::find()
        .all(&state.db)
        .await?
        .into_iter()
        .map(|s| (s.response_id, s.page_key))
        .collect();
    let distinct: HashSet<&(String, String)> = wanted.iter().collect();
    let missing = distinct
        .iter()
        .filter(|(hash, key)| {
            responses
                .get(hash)
                .is_none_or(|rid| !stored.contains(&(rid.clone(), key.clone())))
        })
        .count();
    let result = serde_json::json!({
        "label": label,
        "acknowledged": distinct.len(),
        "page_save_rows": stored.len(),
        "missing": missing,
        "wal_mb": wal_mb,
    });
    println!("{result}");
    if missing > 0 {
        bail!("{missing} acknowledged saves are not in the database");
    }
    Ok(())
}

// --- summary ---------------------------------------------------------------

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn summary(path: &PathBuf) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut groups: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with('{')) {
        let value: serde_json::Value = serde_json::from_str(line)?;
        let label = value["label"].as_str().unwrap_or("run").to_owned();
        if !groups.contains_key(&label) {
            order.push(label.clone());
        }
        groups.entry(label).or_default().push(value);
    }
    let measures = [
        ("saves_per_s", "saves/s"),
        ("save_p50_ms", "save p50 ms"),
        ("save_p99_ms", "save p99 ms"),
        ("pages_per_s", "pages/s"),
        ("page_p50_ms", "page p50 ms"),
        ("page_p99_ms", "page p99 ms"),
        ("logins_per_s", "logins/s"),
        ("login_p99_ms", "login p99 ms"),
        ("starts_per_s", "starts/s"),
        ("start_p99_ms", "start p99 ms"),
        ("errors", "errors"),
        ("server_cpu_pct", "server CPU %"),
        ("server_peak_rss_mb", "server peak RSS MB"),
        ("loadgen_cpu_pct", "loadgen CPU %"),
        ("missing", "lost acked saves"),
        ("wal_mb", "WAL MB"),
    ];
    print!("| configuration | runs |");
    for (_, title) in &measures {
        print!(" {title} |");
    }
    println!();
    print!("|---|---|");
    for _ in &measures {
        print!("---|");
    }
    println!();
    for label in order {
        let runs = &groups[&label];
        let count = runs.iter().filter(|r| r.get("mode").is_some()).count();
        print!("| {label} | {count} |");
        for (field, _) in &measures {
            let values: Vec<f64> = runs.iter().filter_map(|r| r[*field].as_f64()).collect();
            if values.is_empty() {
                print!(" – |");
            } else {
                let m = median(values);
                if m >= 100.0 {
                    print!(" {m:.0} |");
                } else {
                    print!(" {m:.1} |");
                }
            }
        }
        println!();
    }
    Ok(())
}
