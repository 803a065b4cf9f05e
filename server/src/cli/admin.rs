//! The administration subcommands: create an administrator, import schools,
//! create and close sittings. Each records what it did in the audit log as
//! the actor "cli".

use std::io::{BufRead, IsTerminal};
use std::str::FromStr;

use anyhow::{Context, bail};
use survey_defs::Stage;

use crate::services::Actor;
use crate::services::accounts::{self, NewAccount};
use crate::services::auth::{self, Role};
use crate::services::schools_import::{self, ImportError};
use crate::services::sittings;
use crate::services::sittings::{SittingInput, SittingRequest};
use crate::services::waves;
use crate::state::AppState;
use crate::store::staff;
use crate::store::{schools, sittings as sitting_store};
use crate::web::dates::optional_date;

/// Creates an administrator. The password is read from the first line of
/// standard input when it is piped in; otherwise one is generated and printed
/// once.
pub async fn create_admin(state: &AppState, email: &str) -> anyhow::Result<()> {
    let email = email.trim().to_lowercase();
    if !email.contains('@') {
        bail!("{email:?} is not an e-mail address");
    }
    if staff::by_email(&state.db, &email).await?.is_some() {
        bail!("an account with the e-mail address {email} exists already");
    }
    let stdin = std::io::stdin();
    let (password, generated) = if stdin.is_terminal() {
        (auth::generate_password(), true)
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            (auth::generate_password(), true)
        } else {
            (line, false)
        }
    };
    auth::check_password(&password, &email).map_err(|p| anyhow::anyhow!("{p}"))?;
    let hash = state.staff.hash(&password).await?;
    let new = NewAccount {
        email: email.clone(),
        role: Role::Admin,
        cpp_id: None,
        school_id: None,
        is_demo: false,
    };
    accounts::create(&state.db, &state.secret, &Actor::Cli, new, hash, false).await?;
    println!("Administrator {email} created.");
    if generated {
        println!("Password (shown only now): {password}");
    }
    println!("Sign in at {}/staff/login", state.settings.public_url());
    Ok(())
}

/// Imports schools from a CSV file: every row or none.
pub async fn import_schools(state: &AppState, path: &std::path::Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source = path.display().to_string();
    match schools_import::import(
        &state.db,
        &Actor::Cli,
        &bytes,
        schools_import::Source::File(&source),
    )
    .await
    {
        Ok(done) => {
            println!(
                "Imported {}: {} new schools, {} updated.",
                path.display(),
                done.created,
                done.updated
            );
            Ok(())
        }
        Err(ImportError::Rows(problems)) => {
            for problem in &problems {
                eprintln!("{}:{problem}", path.display());
            }
            bail!(
                "{} problem(s) in {}: nothing was imported",
                problems.len(),
                path.display()
            )
        }
        Err(ImportError::Database(e)) => Err(e.into()),
    }
}

/// Creates a sitting and writes its codes to standard output as CSV. The
/// same checks, windows and limits apply as on the staff pages.
pub async fn create_sitting(state: &AppState, args: SittingArgs) -> anyhow::Result<()> {
    let school = schools::school_by_seed(&state.db, &args.seed.trim().to_uppercase())
        .await?
        .with_context(|| format!("no school has the SEED code {}", args.seed))?;
    let stage = Stage::from_str(args.stage.trim())
        .map_err(|_| anyhow::anyhow!("{:?} is not a stage from P5 to S4", args.stage))?;
    let wave = match &args.wave {
        Some(name) => waves::by_name(&state.db, name)
            .await?
            .with_context(|| format!("no wave is named {name:?}"))?,
        None => {
            let today = chrono::Utc::now().date_naive();
            let mut current = waves::current_for(&state.db, school.cpp_id, today).await?;
            match current.len() {
                0 => bail!(
                    "no wave has fieldwork open for {}'s partnership: set a window with `server wave window`",
                    school.name
                ),
                1 => current.remove(0).0,
                _ => bail!(
                    "more than one wave has fieldwork open for {}'s partnership: choose one with --wave ({})",
                    school.name,
                    current
                        .iter()
                        .map(|(w, _)| format!("{:?}", w.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
    };
    let date = |flag: &str, text: &Option<String>| {
        optional_date(text.as_deref().unwrap_or(""))
            .map_err(|()| anyhow::anyhow!("--{flag} must be a date as YYYY-MM-DD"))
    };
    let input = SittingInput {
        stage: Some(stage),
        label: args.label.unwrap_or_else(|| format!("{stage} sitting")),
        codes: Some(args.codes),
        wave_id: Some(wave.id),
        opens: Ok(date("opens", &args.opens)?),
        closes: Ok(date("closes", &args.closes)?),
    };
    let request = SittingRequest::parse(input)?;
    let (sitting, codes) =
        sittings::create(&state.db, &state.secret, &Actor::Cli, &school, request).await?;
    let mut out = sittings::write_codes_csv(std::io::stdout().lock(), &sitting, &school, &codes)?;
    std::io::Write::flush(&mut out)?;
    eprintln!(
        "Sitting {} created with {} codes. The codes are printed only now.",
        sitting.id,
        codes.len()
    );
    Ok(())
}

/// What `server sitting create` was given.
#[derive(Debug, Clone)]
pub struct SittingArgs {
    pub seed: String,
    pub stage: String,
    pub codes: usize,
    pub label: Option<String>,
    pub wave: Option<String>,
    pub opens: Option<String>,
    pub closes: Option<String>,
}

/// Closes a sitting; answers in progress become partial responses.
pub async fn close_sitting(state: &AppState, id: i32) -> anyhow::Result<()> {
    sitting_store::get(&state.db, id)
        .await?
        .with_context(|| format!("no sitting has the id {id}"))?;
    let partial = sittings::close(state.closer(), &Actor::Cli, id).await?;
    println!("Sitting {id} closed; {partial} response(s) in progress kept as partial.");
    Ok(())
}

/// Runs `server wave ...`: the same checks as the staff pages.
pub async fn wave(state: &AppState, command: super::WaveCommand) -> anyhow::Result<()> {
    use super::WaveCommand;
    match command {
        WaveCommand::Create {
            name,
            questionnaire,
            threshold,
        } => {
            let entry = match &questionnaire {
                Some(spec) => state
                    .catalogue
                    .find(spec)
                    .with_context(|| format!("no questionnaire {spec} is loaded"))?,
                None => state
                    .catalogue
                    .latest()
                    .into_iter()
                    .next()
                    .context("no questionnaire is loaded")?,
            };
            let wave = waves::create(
                &state.db,
                &state.catalogue,
                &Actor::Cli,
                waves::NewWave {
                    name,
                    questionnaire_version_id: entry.version_id,
                    threshold,
                    is_demo: false,
                },
            )
            .await?;
            println!(
                "Wave {:?} created (threshold {}). Set each partnership's fieldwork with `server wave window`.",
                wave.name, wave.rule.threshold
            );
        }
        WaveCommand::Window {
            wave,
            cpp,
            opens,
            closes,
        } => {
            let found = waves::by_name(&state.db, &wave)
                .await?
                .with_context(|| format!("no wave is named {wave:?}"))?;
            let partnership = schools::cpp_by_code(&state.db, cpp.trim())
                .await?
                .with_context(|| format!("no partnership has the GSS code {cpp}"))?;
            let day = |flag: &str, text: &str| {
                optional_date(text)
                    .ok()
                    .flatten()
                    .ok_or_else(|| anyhow::anyhow!("--{flag} must be a date as YYYY-MM-DD"))
            };
            let window = waves::set_window(
                &state.db,
                &Actor::Cli,
                &found,
                partnership.id,
                day("opens", &opens)?,
                day("closes", &closes)?,
            )
            .await?;
            println!(
                "{}: fieldwork for {} runs from {} to {}.",
                found.name, partnership.name, window.opens, window.closes
            );
        }
        WaveCommand::List => {
            let cpps = schools::all_cpps(&state.db).await?;
            for wave in waves::all(&state.db).await? {
                let version = state
                    .catalogue
                    .get(wave.questionnaire_version_id)
                    .map_or_else(
                        || format!("questionnaire version {}", wave.questionnaire_version_id),
                        |e| {
                            format!(
                                "{} version {}",
                                e.questionnaire.id(),
                                e.questionnaire.version()
                            )
                        },
                    );
                println!(
                    "{} ({version}, threshold {})",
                    wave.name, wave.rule.threshold
                );
                for window in waves::windows(&state.db, wave.id).await? {
                    let name = cpps
                        .iter()
                        .find(|c| c.id == window.cpp_id)
                        .map_or("?", |c| c.name.as_str());
                    println!("  {name}: {} to {}", window.opens, window.closes);
                }
            }
        }
    }
    Ok(())
}
