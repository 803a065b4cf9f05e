//! The command line: `server` (serve) and the administration subcommands.

pub mod admin;

use clap::{Parser, Subcommand};

use crate::settings::Settings;
use crate::startup::{Application, prepare};

#[derive(Debug, Parser)]
#[command(name = "server", version, about = "School wellbeing survey server")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default when no subcommand is given).
    Serve,
    /// Create a system administrator. The password is read from standard input
    /// when piped in; otherwise one is generated and printed once.
    CreateAdmin {
        /// The administrator's e-mail address (their login).
        #[arg(long)]
        email: String,
    },
    /// Import schools from a CSV file (all rows or none).
    ImportSchools {
        /// CSV with: School name, SEED code, CPP, Sector, P5, P6, P7, S1, S2, S3, S4.
        file: std::path::PathBuf,
    },
    /// Create or close a sitting.
    #[command(subcommand)]
    Sitting(SittingCommand),
    /// Create survey waves, set their fieldwork windows, list them.
    #[command(subcommand)]
    Wave(WaveCommand),
    /// Apply migrations, load reference data and questionnaires, then exit.
    Migrate,
    /// Delete completed responses older than the retention period, and record
    /// the deletion in the audit log.
    Retention {
        /// Keep responses completed in the last N days; delete older ones.
        #[arg(long, env = "RETENTION_DAYS")]
        older_than_days: u32,
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy the SQLite database to a new file while the server runs
    /// (PostgreSQL: use pg_dump, see the README).
    Backup {
        /// The file to write; it must not exist yet.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Fill the database with synthetic completed responses (for trying out
    /// and timing the exporter). Schools it creates have seed codes SYN….
    Synth {
        /// How many pupils' responses to store.
        #[arg(long)]
        pupils: u64,
        /// The same seed always makes the same data.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How many partnerships to spread pupils over (1 to 32).
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=32))]
        cpps: u16,
        /// Questionnaire as ID or ID@VERSION (the newest version when none is given).
        #[arg(long, default_value = "wellbeing")]
        questionnaire: String,
    },
}

/// `server sitting ...`
#[derive(Debug, Subcommand)]
pub enum SittingCommand {
    /// Create a sitting and print its codes to standard output as CSV (shown once).
    Create {
        /// The school's SEED code.
        #[arg(long)]
        school: String,
        /// The stage, P5 to S4.
        #[arg(long)]
        stage: String,
        /// How many codes to make (1 to 400).
        #[arg(long)]
        codes: usize,
        /// The class label printed on slips (no pupil names).
        #[arg(long)]
        label: Option<String>,
        /// The survey wave's name (default: the one wave whose fieldwork
        /// window for the school's partnership has not ended).
        #[arg(long)]
        wave: Option<String>,
        /// First day codes work, YYYY-MM-DD (default: today, or the day fieldwork opens).
        #[arg(long)]
        opens: Option<String>,
        /// Last day codes work, YYYY-MM-DD (default: the last day of fieldwork).
        #[arg(long)]
        closes: Option<String>,
    },
    /// Close a sitting: its codes stop working; answers in progress become partial.
    Close {
        /// The sitting's id (shown on its progress page).
        id: i32,
    },
}

/// `server wave ...`
#[derive(Debug, Subcommand)]
pub enum WaveCommand {
    /// Create a wave: its questionnaire version and threshold never change.
    Create {
        /// The wave's name, such as "2027 survey".
        #[arg(long)]
        name: String,
        /// Questionnaire ID or ID@VERSION (default: the latest).
        #[arg(long)]
        questionnaire: Option<String>,
        /// Counts from 1 to one below this are never published (default 10).
        #[arg(long, default_value_t = 10)]
        threshold: u64,
    },
    /// Set a partnership's fieldwork window in a wave (open sittings that
    /// would run past its last day are brought forward to it).
    Window {
        /// The wave's name.
        #[arg(long)]
        wave: String,
        /// The partnership's GSS code.
        #[arg(long)]
        cpp: String,
        /// First day of fieldwork, YYYY-MM-DD.
        #[arg(long)]
        opens: String,
        /// Last day of fieldwork, YYYY-MM-DD.
        #[arg(long)]
        closes: String,
    },
    /// List the waves and their fieldwork windows.
    List,
}

/// Runs the chosen command; errors come back as one plain line for `main`.
/// The `server` command: parses the command line, runs what it asks on the
/// async runtime, and reports an error in one line. Here rather than in the
/// binary, so that the binary compiles nothing of its own but this call (the
/// runtime and everything under it are compiled once, in the library).
pub fn main() -> std::process::ExitCode {
    crate::telemetry::init();
    let cli = Cli::parse();
    match actix_web::rt::System::new().block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(cli.settings).await?;
            if !app.state().settings.no_demo {
                print_demo(app.state()).await?;
            }
            tracing::info!(
                address = %app.state().settings.public_url(),
                database = crate::store::backend_name(&app.state().db),
                "listening"
            );
            app.run_until_stopped().await?;
            tracing::info!("stopped");
        }
        Command::Synth {
            pupils,
            seed,
            cpps,
            questionnaire,
        } => {
            let state = prepare(&cli.settings).await?;
            let entry = state
                .catalogue
                .find(&questionnaire)
                .ok_or_else(|| anyhow::anyhow!("no questionnaire {questionnaire} is loaded"))?;
            let started = std::time::Instant::now();
            let options = crate::services::synth::SynthOptions {
                pupils,
                seed,
                cpps: usize::from(cpps),
            };
            let summary = crate::services::synth::synthesise(
                &state.db,
                entry.version_id,
                &entry.questionnaire,
                &options,
                &|_| {},
            )
            .await?;
            println!(
                "stored {} synthetic responses ({} partial) in {} schools across {} partnerships in {:.1} s",
                summary.responses,
                summary.partial,
                summary.schools,
                summary.cpps,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Retention {
            older_than_days,
            dry_run,
        } => {
            let state = prepare(&cli.settings).await?;
            let purged = crate::services::retention::purge(
                &state.db,
                older_than_days,
                &crate::services::Actor::Cli,
                dry_run,
            )
            .await?;
            let verb = if dry_run { "would delete" } else { "deleted" };
            println!(
                "{verb} {} completed responses completed before {}",
                purged.deleted, purged.cutoff
            );
        }
        Command::Backup { to } => {
            if to.exists() {
                anyhow::bail!("{} already exists: choose a new file", to.display());
            }
            let state = prepare(&cli.settings).await?;
            let path = to
                .to_str()
                .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
            crate::store::retention::sqlite_backup(&state.db, path).await?;
            println!(
                "backed up the database to {} (keep the secret key file with it: \
                 codes cannot be checked without it)",
                to.display()
            );
        }
        Command::CreateAdmin { email } => {
            let state = prepare(&cli.settings).await?;
            admin::create_admin(&state, &email).await?;
        }
        Command::ImportSchools { file } => {
            let state = prepare(&cli.settings).await?;
            admin::import_schools(&state, &file).await?;
        }
        Command::Sitting(SittingCommand::Create {
            school,
            stage,
            codes,
            label,
            wave,
            opens,
            closes,
        }) => {
            let state = prepare(&cli.settings).await?;
            let args = admin::SittingArgs {
                seed: school,
                stage,
                codes,
                label,
                wave,
                opens,
                closes,
            };
            admin::create_sitting(&state, args).await?;
        }
        Command::Sitting(SittingCommand::Close { id }) => {
            let state = prepare(&cli.settings).await?;
            admin::close_sitting(&state, id).await?;
        }
        Command::Wave(command) => {
            let state = prepare(&cli.settings).await?;
            admin::wave(&state, command).await?;
        }
        Command::Migrate => {
            let state = prepare(&cli.settings).await?;
            println!(
                "database ready: {} questionnaire version(s)",
                state.catalogue.entries().count()
            );
        }
    }
    Ok(())
}

async fn print_demo(state: &crate::state::AppState) -> anyhow::Result<()> {
    let Some(demo) =
        crate::services::demo::ensure(&state.db, &state.secret, &state.catalogue, &state.staff)
            .await?
    else {
        return Ok(());
    };
    let url = state.settings.public_url();
    println!(
        "Demo created: {} (all demo data is marked as demo).",
        demo.school_name
    );
    println!("Pupils: open {url}/ and type one of these codes.");
    println!("  P6 sitting: {}", first_codes(&demo.primary_codes));
    println!("  S4 sitting: {}", first_codes(&demo.secondary_codes));
    println!("Staff: sign in at {url}/staff/login (passwords are shown only now).");
    for login in &demo.logins {
        println!(
            "  {}: {}  password: {}",
            login.role, login.email, login.password
        );
    }
    Ok(())
}

fn first_codes(codes: &[crate::domain::AccessCode]) -> String {
    codes
        .iter()
        .take(5)
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("  ")
}
