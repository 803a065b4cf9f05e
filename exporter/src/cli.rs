//! The `exporter` command line: aggregated, suppressed results of one
//! questionnaire version, written as files into one directory. See the
//! README, "Exporting results".
//!
//! Every run that gets as far as reading responses is first written to the
//! server's audit log ([`source::usage`]): what was run and by which
//! operating-system user. A run whose entry cannot be written reads nothing.
//!
//! Exit codes: 0 done; 2 usage; 3 nothing to export (unknown questionnaire,
//! unknown partnership, or no responses); 4 the output directory cannot be
//! written; 5 database error (the audit entry included); 6 the disclosure
//! audit failed (nothing was written); 1 anything else.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ConnectOptions, Database, DatabaseConnection};

use crate::source::{self, usage};
use crate::{ExportError, ExportRequest, Progress, Rule, Scope};

/// What the command line was given.
#[derive(Debug, Parser)]
#[command(
    name = "exporter",
    version,
    about = "Export aggregated survey results with small cells suppressed",
    after_help = "Exit codes: 0 done, 2 usage, 3 nothing to export (unknown questionnaire or partnership, no responses), 4 output directory not writable, 5 database error, 6 disclosure audit failed (nothing written)."
)]
pub struct Cli {
    /// sqlite://PATH or postgres://USER@HOST/DB
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Questionnaire id, optionally with a version: wellbeing or wellbeing@2
    /// (the latest stored version when none is given).
    #[arg(long)]
    questionnaire: String,
    /// A partnership's GSS code (repeat for several). Without any, every
    /// partnership and Scotland are exported (a national export).
    #[arg(long = "cpp", value_name = "CODE")]
    cpps: Vec<String>,
    /// Counts from 1 to one below this are suppressed.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    threshold: u64,
    /// Directory to write the files into (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["dump_answers", "aggregate_only"])]
    out: Option<PathBuf>,
    /// Instead of exporting, write every answer as one CSV row (cpp_id,
    /// school_id, stage, sex, question, option) for comparison with other tools.
    #[arg(long, value_name = "FILE")]
    dump_answers: Option<PathBuf>,
    /// Instead of exporting, read and count only, and print the time taken.
    #[arg(long)]
    aggregate_only: bool,
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
const AUDIT: u8 = 6;
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
    if let Some(dir) = &cli.out {
        check_writable_dir(dir)?;
    }
    let db = connect(&cli.database_url).await?;
    let (id, version) = match cli.questionnaire.split_once('@') {
        Some((id, v)) => {
            let v: u32 = v.parse().map_err(|_| {
                Failure::new(
                    2,
                    format!("\"{v}\" is not a version number (use ID@VERSION)"),
                )
            })?;
            (id, Some(v))
        }
        None => (cli.questionnaire.as_str(), None),
    };
    let stored = source::questionnaire_version(&db, id, version)
        .await
        .map_err(db_failure)?
        .ok_or_else(|| {
            Failure::new(
                NOTHING,
                match version {
                    Some(v) => format!("the database has no questionnaire {id} version {v}"),
                    None => format!("the database has no questionnaire {id}"),
                },
            )
        })?;
    let name = format!("{}@{} (stored)", stored.questionnaire_id, stored.version);
    let questionnaire = survey_defs::load_str(&name, &stored.source)
        .map_err(|e| {
            Failure::new(
                OTHER,
                format!("the stored questionnaire does not load: {e}"),
            )
        })?
        .questionnaire;
    let questionnaire = Arc::new(questionnaire);

    let scope = if cli.cpps.is_empty() {
        Scope::National
    } else {
        let known = source::cpps(&db).await.map_err(db_failure)?;
        let mut ids = Vec::new();
        for code in &cli.cpps {
            let cpp = known
                .iter()
                .find(|c| c.gss_code.eq_ignore_ascii_case(code.trim()))
                .ok_or_else(|| {
                    Failure::new(
                        NOTHING,
                        format!(
                            "there is no partnership with code {code}; codes look like S12000033"
                        ),
                    )
                })?;
            ids.push(cpp.id);
        }
        Scope::Cpps(ids)
    };
    let filter = match &scope {
        Scope::Cpps(ids) => Some(ids.clone()),
        Scope::National => None,
    };
    record_use(&cli, &db, &stored).await?;

    if let Some(path) = &cli.dump_answers {
        let file = std::fs::File::create(path)
            .map_err(|e| Failure::new(OUTPUT, format!("cannot write {}: {e}", path.display())))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let rows = crate::decoded::write_long_csv(
            &db,
            stored.id,
            &questionnaire,
            filter.as_deref(),
            &mut out,
        )
        .await
        .map_err(|e| match e {
            crate::decoded::DumpError::Database(e) => db_failure(e),
            crate::decoded::DumpError::Io(e) => {
                Failure::new(OUTPUT, format!("cannot write {}: {e}", path.display()))
            }
        })?;
        println!("{rows} answer rows written to {}", path.display());
        return Ok(());
    }
    if cli.aggregate_only {
        let start = Instant::now();
        let (responses, cells) =
            crate::decoded::aggregate_only(&db, stored.id, &questionnaire, filter.as_deref())
                .await
                .map_err(db_failure)?;
        println!(
            "aggregated {responses} responses into {cells} non-zero counts in {:.3} s",
            start.elapsed().as_secs_f64()
        );
        return Ok(());
    }

    let request = ExportRequest {
        version_id: stored.id,
        questionnaire,
        scope,
        rule: Rule {
            threshold: cli.threshold,
            ..Rule::default()
        },
    };
    let bar = std::io::stdout()
        .is_terminal()
        .then(|| ProgressBar::new(0))
        .inspect(|bar| {
            if let Ok(style) =
                ProgressStyle::with_template("{msg:12} [{bar:40}] {pos}/{len} ({elapsed})")
            {
                bar.set_style(style.progress_chars("=> "));
            }
        });
    let report = |p: Progress| {
        if let Some(bar) = &bar {
            let (msg, done, total) = match p {
                Progress::Reading { done, total } => ("reading", done, total),
                Progress::Suppressing { done, total } => ("suppressing", done as u64, total as u64),
            };
            bar.set_message(msg);
            bar.set_length(total);
            bar.set_position(done);
        }
    };
    let start = Instant::now();
    let result = crate::export_with_progress(&db, &request, &report).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let export = result.map_err(|e| match e {
        ExportError::Database(e) => db_failure(e),
        e @ (ExportError::UnknownCpp(_) | ExportError::NoData) => {
            Failure::new(NOTHING, e.to_string())
        }
        e @ ExportError::Disclosure(_) => Failure::new(AUDIT, format!("{e}; nothing was written")),
        e @ ExportError::Offload(_) => Failure::new(OTHER, format!("{e}; nothing was written")),
    })?;
    let Some(dir) = &cli.out else {
        return Ok(());
    };
    export
        .write_to_dir(dir)
        .map_err(|e| Failure::new(OUTPUT, e.to_string()))?;
    let cells: usize = export
        .units
        .iter()
        .flat_map(|u| u.tables.iter())
        .map(|t| t.cells())
        .sum();
    let hidden: usize = export
        .units
        .iter()
        .flat_map(|u| u.tables.iter())
        .map(|t| t.suppressed())
        .sum();
    println!(
        "exported {} responses ({} partial) from {} partnership(s): {cells} cells, {hidden} suppressed, in {:.2} s, to {}",
        export.responses(),
        export.partial(),
        export.cpp_units().count(),
        start.elapsed().as_secs_f64(),
        dir.display()
    );
    Ok(())
}

/// Appends this run to the audit log before anything about pupils is read:
/// what was asked for (scope, questionnaire version, output or dump file),
/// as the operating-system user who ran it. A database opened read-only
/// (`sqlite://FILE?mode=ro`) gets a writable connection of its own for this
/// one entry.
async fn record_use(
    cli: &Cli,
    db: &DatabaseConnection,
    stored: &source::StoredVersion,
) -> Result<(), Failure> {
    let scope = if cli.cpps.is_empty() {
        "every partnership and Scotland".to_owned()
    } else {
        let codes: Vec<String> = cli.cpps.iter().map(|c| c.trim().to_uppercase()).collect();
        codes.join(", ")
    };
    let what = format!(
        "{}@{} (version id {}) for {scope}",
        stored.questionnaire_id, stored.version, stored.id
    );
    let (action, detail) = if let Some(path) = &cli.dump_answers {
        (
            usage::DUMP_ANSWERS,
            format!("every answer of {what} to {}", path.display()),
        )
    } else if cli.aggregate_only {
        (usage::COUNT_ONLY, format!("counts only of {what}"))
    } else {
        let to = cli
            .out
            .as_ref()
            .map_or_else(String::new, |dir| format!(" to {}", dir.display()));
        (
            usage::EXPORT,
            format!("{what} at threshold {}{to}", cli.threshold),
        )
    };
    let actor = usage::actor(usage::os_user().as_deref());
    let written = match usage::writable_url(&cli.database_url) {
        Some(url) => {
            let writable = connect(&url).await?;
            let written = usage::record(&writable, &actor, action, &detail).await;
            let _ = writable.close().await;
            written
        }
        None => usage::record(db, &actor, action, &detail).await,
    };
    written.map_err(|e| {
        Failure::new(
            DATABASE,
            format!("cannot write this run to the audit log, so nothing was read: {e}"),
        )
    })
}
