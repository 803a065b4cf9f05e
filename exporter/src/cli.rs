//! The `exporter` command line: makes and records releases of a wave's
//! results, and writes stored releases into a directory. See the README,
//! "Command line", and docs/analyst-guide.md.
//!
//! Results leave the system only as releases: `release` computes one (once
//! fieldwork is over) and stores it, `write` copies a stored one out byte for
//! byte. Nothing else here writes results. The two tools for checking and
//! timing the exporter (`dump-answers`, `aggregate-only`) work only on
//! partnerships whose fieldwork in the wave is over. Every run that reads
//! responses or releases is first written to the server's audit log
//! ([`source::usage`]), with the operating-system user who ran it; a run
//! whose entry cannot be written reads nothing.
//!
//! Exit codes: 0 done; 2 usage; 3 nothing to do (unknown wave, partnership
//! or release, no responses, nothing changed); 4 the output cannot be
//! written; 5 database error; 6 the release was refused (fieldwork not over,
//! or it could not be protected; nothing was stored); 1 anything else.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::Progress;
use crate::release::{self, ReleaseError, Unit, WaveInfo};
use crate::source::{self, CppInfo, usage};

/// What the command line was given.
#[derive(Debug, Parser)]
#[command(
    name = "exporter",
    version,
    about = "Release a survey wave's results, with small cells suppressed, and write stored releases out",
    after_help = "Exit codes: 0 done, 2 usage, 3 nothing to do (unknown wave, partnership or release, no responses, nothing changed), 4 output not writable, 5 database error, 6 release refused (nothing stored)."
)]
pub struct Cli {
    /// sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make and record a release of a wave for one partnership or Scotland
    /// (once its fieldwork is over).
    Release {
        /// The wave, by name.
        #[arg(long)]
        wave: String,
        /// A partnership's GSS code.
        #[arg(
            long = "cpp",
            value_name = "CODE",
            required_unless_present_any = ["scotland", "all"],
            conflicts_with_all = ["scotland", "all"]
        )]
        cpp: Option<String>,
        /// Scotland as a whole (every partnership must have a current release).
        #[arg(long, conflicts_with = "all")]
        scotland: bool,
        /// Every partnership with responses whose data changed since its
        /// newest release, then Scotland.
        #[arg(long)]
        all: bool,
    },
    /// Write a stored release's files into a directory, each checked against
    /// its SHA-256.
    Write {
        /// The release's id (see `exporter list`).
        #[arg(long, value_name = "ID")]
        release: i32,
        /// Directory to write the files into (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// List stored releases.
    List {
        /// Only the releases of this wave.
        #[arg(long)]
        wave: Option<String>,
    },
    /// Write every answer of a wave as one CSV row (cpp_id, school_id,
    /// stage, sex, question, option) for comparison with other tools; only
    /// where fieldwork is over.
    DumpAnswers {
        #[arg(long)]
        wave: String,
        /// A partnership's GSS code (repeat for several; all when none).
        #[arg(long = "cpp", value_name = "CODE")]
        cpps: Vec<String>,
        /// The CSV file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Read and count a wave's responses, write nothing, and print the time
    /// taken; only where fieldwork is over.
    AggregateOnly {
        #[arg(long)]
        wave: String,
        /// A partnership's GSS code (repeat for several; all when none).
        #[arg(long = "cpp", value_name = "CODE")]
        cpps: Vec<String>,
    },
}

/// A failure and its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

const NOTHING: u8 = 3;
const OUTPUT: u8 = 4;
const DATABASE: u8 = 5;
const REFUSED: u8 = 6;
const OTHER: u8 = 1;

/// Runs the command line and says how it ended, as an exit code.
pub async fn main(cli: Cli) -> ExitCode {
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("exporter: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn check_writable_dir(dir: &Path) -> Result<(), Failure> {
    let fail = |e: std::io::Error| {
        Failure::new(
            OUTPUT,
            format!(
                "cannot write to the output directory {}: {e}",
                dir.display()
            ),
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(".exporter-write-test");
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

async fn connect(url: &str) -> Result<DatabaseConnection, Failure> {
    let mut options = ConnectOptions::new(url.to_owned());
    options.sqlx_logging(false).max_connections(2);
    Database::connect(options)
        .await
        .map_err(|e| Failure::new(DATABASE, format!("cannot open the database: {e}")))
}

fn db_failure(e: sea_orm::DbErr) -> Failure {
    Failure::new(DATABASE, format!("cannot read from the database: {e}"))
}

/// Runs what `cli` asks for.
pub async fn run(cli: Cli) -> Result<(), Failure> {
    let url = cli
        .database_url
        .ok_or_else(|| Failure::new(2, "give the database with --database-url or DATABASE_URL"))?;
    let db = connect(&url).await?;
    let actor = usage::actor(usage::os_user().as_deref());
    match cli.command {
        Command::Release {
            wave,
            cpp,
            scotland,
            all,
        } => {
            let wave = find_wave(&db, &wave).await?;
            let units: Vec<(Unit, String)> = match (cpp, scotland || all) {
                (Some(code), _) => {
                    let cpp = find_cpps(&db, &[code]).await?.remove(0);
                    vec![(Unit::Partnership(cpp.id), cpp.name)]
                }
                (None, _) if all => {
                    let mut units = Vec::new();
                    for cpp in source::cpps(&db).await.map_err(db_failure)? {
                        let (_, responses) = release::sources(&db, wave.id, Some(cpp.id))
                            .await
                            .map_err(db_failure)?;
                        if responses > 0 {
                            units.push((Unit::Partnership(cpp.id), cpp.name));
                        }
                    }
                    units.push((Unit::Scotland, "Scotland".to_owned()));
                    units
                }
                (None, _) => vec![(Unit::Scotland, "Scotland".to_owned())],
            };
            let questionnaire = questionnaire(&db, &wave).await?;
            let names: Vec<&str> = units.iter().map(|(_, name)| name.as_str()).collect();
            record(
                &url,
                &db,
                &actor,
                usage::RELEASE,
                &format!("wave \"{}\" for {}", wave.name, names.join(", ")),
            )
            .await?;
            let start = Instant::now();
            let request = |unit| release::ReleaseRequest {
                wave_id: wave.id,
                unit,
                questionnaire: questionnaire.clone(),
                by: release::Releaser {
                    staff_id: None,
                    name: actor.clone(),
                },
                today: chrono::Utc::now().date_naive(),
            };
            let name_of = |unit: release::Unit| {
                units
                    .iter()
                    .find(|(u, _)| *u == unit)
                    .map_or("Scotland", |(_, name)| name.as_str())
                    .to_owned()
            };
            if all {
                // Every partnership and Scotland are computed before any is
                // stored, so each partnership's report shows Scotland's
                // figures from Scotland's release of the same run.
                let partnerships: Vec<release::ReleaseRequest> = units
                    .iter()
                    .filter(|(unit, _)| *unit != Unit::Scotland)
                    .map(|(unit, _)| request(*unit))
                    .collect();
                let bar = progress_bar();
                let step = |name: &str, p: Progress| {
                    if let Some(bar) = &bar {
                        bar.set_prefix(name.to_owned());
                    }
                    report(bar.as_ref(), p);
                };
                let outcomes =
                    release::make_all(&db, &partnerships, &request(Unit::Scotland), &step).await;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                let outcomes = outcomes.map_err(|(name, e)| {
                    let failure = release_failure(e);
                    Failure::new(
                        failure.code,
                        format!("{name}: {}; nothing was released", failure.message),
                    )
                })?;
                for (unit, outcome) in outcomes {
                    let name = name_of(unit);
                    match outcome {
                        release::Outcome::Unchanged(number) => {
                            println!("{name}: unchanged since release {number}");
                        }
                        release::Outcome::Made(made) => print_made(&wave.name, &name, &made),
                    }
                }
                println!("released in {:.2} s", start.elapsed().as_secs_f64());
                return Ok(());
            }
            for (unit, name) in &units {
                let bar = progress_bar();
                let report = |p: Progress| report(bar.as_ref(), p);
                let made = release::make(&db, &request(*unit), &report).await;
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                let made = made.map_err(release_failure)?;
                print_made(&wave.name, name, &made);
                for f in &made.release.files {
                    println!("  {}  {:>10}  {}", f.sha256, f.size, f.name);
                }
            }
            println!("released in {:.2} s", start.elapsed().as_secs_f64());
            Ok(())
        }
        Command::Write { release, out } => {
            check_writable_dir(&out)?;
            record(
                &url,
                &db,
                &actor,
                usage::WRITE_RELEASE,
                &format!("release {release} to {}", out.display()),
            )
            .await?;
            let info = release::write_to_dir(&db, release, &out)
                .await
                .map_err(release_failure)?;
            println!(
                "wrote release {} ({} {}) to {}: {} files, each matching its SHA-256",
                info.id,
                info.unit,
                info.number,
                out.display(),
                info.files.len()
            );
            Ok(())
        }
        Command::List { wave } => {
            let wave = match wave {
                Some(name) => Some(find_wave(&db, &name).await?),
                None => None,
            };
            let releases = release::list(&db, wave.as_ref().map(|w| w.id))
                .await
                .map_err(db_failure)?;
            if releases.is_empty() {
                println!("no releases");
            }
            for r in releases {
                println!(
                    "id {:>4}  wave {:>3}  {:<10} release {:>2}  {}  by {}",
                    r.id,
                    r.wave_id,
                    r.unit,
                    r.number,
                    r.released_at.format("%Y-%m-%d %H:%M UTC"),
                    r.released_by
                );
            }
            Ok(())
        }
        Command::DumpAnswers { wave, cpps, out } => {
            let (wave, filter) = closed_scope(&db, &wave, &cpps).await?;
            let questionnaire = questionnaire(&db, &wave).await?;
            record(
                &url,
                &db,
                &actor,
                usage::DUMP_ANSWERS,
                &format!(
                    "every answer of wave \"{}\" for {} to {}",
                    wave.name,
                    scope_text(&cpps),
                    out.display()
                ),
            )
            .await?;
            let file = std::fs::File::create(&out).map_err(|e| {
                Failure::new(OUTPUT, format!("cannot write {}: {e}", out.display()))
            })?;
            let mut writer = std::io::BufWriter::with_capacity(1 << 20, file);
            let rows = crate::decoded::write_long_csv(
                &db,
                wave.id,
                &questionnaire,
                filter.as_deref(),
                &mut writer,
            )
            .await
            .map_err(|e| match e {
                crate::decoded::DumpError::Database(e) => db_failure(e),
                crate::decoded::DumpError::Io(e) => {
                    Failure::new(OUTPUT, format!("cannot write {}: {e}", out.display()))
                }
            })?;
            println!("{rows} answer rows written to {}", out.display());
            Ok(())
        }
        Command::AggregateOnly { wave, cpps } => {
            let (wave, filter) = closed_scope(&db, &wave, &cpps).await?;
            let questionnaire = questionnaire(&db, &wave).await?;
            record(
                &url,
                &db,
                &actor,
                usage::COUNT_ONLY,
                &format!(
                    "counts only of wave \"{}\" for {}",
                    wave.name,
                    scope_text(&cpps)
                ),
            )
            .await?;
            let start = Instant::now();
            let (responses, cells) =
                crate::decoded::aggregate_only(&db, wave.id, &questionnaire, filter.as_deref())
                    .await
                    .map_err(db_failure)?;
            println!(
                "aggregated {responses} responses into {cells} non-zero counts in {:.3} s",
                start.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

fn scope_text(cpps: &[String]) -> String {
    if cpps.is_empty() {
        "every partnership".to_owned()
    } else {
        cpps.iter()
            .map(|c| c.trim().to_uppercase())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn progress_bar() -> Option<ProgressBar> {
    std::io::stdout()
        .is_terminal()
        .then(|| ProgressBar::new(0))
        .inspect(|bar| {
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix:20} {msg:12} [{bar:40}] {pos}/{len} ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
        })
}

fn report(bar: Option<&ProgressBar>, p: Progress) {
    if let Some(bar) = bar {
        let (msg, done, total) = match p {
            Progress::Reading { done, total } => ("reading", done, total),
            Progress::Suppressing { done, total } => ("suppressing", done as u64, total as u64),
        };
        bar.set_message(msg);
        bar.set_length(total);
        bar.set_position(done);
    }
}

/// One line per stored release.
fn print_made(wave: &str, name: &str, made: &release::Made) {
    println!(
        "release {} of wave \"{wave}\" for {name}: id {}, {} files, {} cells, {} suppressed",
        made.release.number,
        made.release.id,
        made.release.files.len(),
        made.cells,
        made.suppressed,
    );
}

fn release_failure(e: ReleaseError) -> Failure {
    let code = match &e {
        ReleaseError::Database(_) => DATABASE,
        ReleaseError::UnknownWave(_)
        | ReleaseError::UnknownCpp(_)
        | ReleaseError::UnknownRelease(_)
        | ReleaseError::UnknownFile { .. }
        | ReleaseError::NoData(_)
        | ReleaseError::Unchanged(_) => NOTHING,
        ReleaseError::NoWindow(_)
        | ReleaseError::FieldworkOpen { .. }
        | ReleaseError::SittingsOpen { .. }
        | ReleaseError::StillStoring { .. }
        | ReleaseError::PartnershipsFirst(_)
        | ReleaseError::RuleChanged
        | ReleaseError::Refused(_) => REFUSED,
        ReleaseError::Output(_) => OUTPUT,
        ReleaseError::Damaged { .. }
        | ReleaseError::BadRule(_)
        | ReleaseError::Prior(_)
        | ReleaseError::Export(_) => OTHER,
    };
    Failure::new(code, e.to_string())
}

async fn find_wave(db: &DatabaseConnection, name: &str) -> Result<WaveInfo, Failure> {
    release::wave_by_name(db, name.trim())
        .await
        .map_err(release_failure)?
        .ok_or_else(|| {
            Failure::new(
                NOTHING,
                format!("there is no wave called \"{name}\"; `server wave list` lists them"),
            )
        })
}

async fn find_cpps(db: &DatabaseConnection, codes: &[String]) -> Result<Vec<CppInfo>, Failure> {
    let known = source::cpps(db).await.map_err(db_failure)?;
    codes
        .iter()
        .map(|code| {
            known
                .iter()
                .find(|c| c.gss_code.eq_ignore_ascii_case(code.trim()))
                .cloned()
                .ok_or_else(|| {
                    Failure::new(
                        NOTHING,
                        format!(
                            "there is no partnership with code {code}; codes look like S12000033"
                        ),
                    )
                })
        })
        .collect()
}

/// The wave and the partnerships chosen (all when none), after checking
/// that fieldwork is over in each.
async fn closed_scope(
    db: &DatabaseConnection,
    wave: &str,
    codes: &[String],
) -> Result<(WaveInfo, Option<Vec<i32>>), Failure> {
    let wave = find_wave(db, wave).await?;
    let chosen = if codes.is_empty() {
        source::cpps(db).await.map_err(db_failure)?
    } else {
        find_cpps(db, codes).await?
    };
    let today = chrono::Utc::now().date_naive();
    let now = chrono::Utc::now();
    for cpp in &chosen {
        match release::check_fieldwork_over(db, wave.id, cpp, today, now).await {
            Ok(()) | Err(ReleaseError::NoWindow(_)) if codes.is_empty() => {}
            Ok(()) => {}
            Err(e) => return Err(release_failure(e)),
        }
    }
    let filter = (!codes.is_empty()).then(|| chosen.iter().map(|c| c.id).collect());
    Ok((wave, filter))
}

/// The wave's questionnaire version, loaded from its stored source.
async fn questionnaire(
    db: &DatabaseConnection,
    wave: &WaveInfo,
) -> Result<Arc<survey_defs::Questionnaire>, Failure> {
    let stored = source::stored_version(db, wave.version_id)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| Failure::new(NOTHING, "the wave's questionnaire version is missing"))?;
    let name = format!("{}@{} (stored)", stored.questionnaire_id, stored.version);
    let loaded = survey_defs::load_str(&name, &stored.source).map_err(|e| {
        Failure::new(
            OTHER,
            format!("the stored questionnaire does not load: {e}"),
        )
    })?;
    Ok(Arc::new(loaded.questionnaire))
}

/// Appends this run to the audit log before anything about pupils is read.
/// A database opened read-only (`sqlite://FILE?mode=ro`) gets a writable
/// connection of its own for this one entry.
async fn record(
    url: &str,
    db: &DatabaseConnection,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), Failure> {
    let written = match usage::writable_url(url) {
        Some(url) => {
            let writable = connect(&url).await?;
            let written = usage::record(&writable, actor, action, detail).await;
            let _ = writable.close().await;
            written
        }
        None => usage::record(db, actor, action, detail).await,
    };
    written.map_err(|e| {
        Failure::new(
            DATABASE,
            format!("cannot write this run to the audit log, so nothing was read: {e}"),
        )
    })
}
