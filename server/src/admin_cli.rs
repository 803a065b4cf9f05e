//! The administration subcommands: create an administrator, import schools,
//! create and close sittings. Each records what it did in the audit log as
//! the actor "cli".

use std::io::{BufRead, IsTerminal};
use std::str::FromStr;

use anyhow::{Context, bail};
use survey_defs::Stage;

use crate::auth::{self, Role};
use crate::db::sittings::NewSitting;
use crate::db::staff::{self, NewStaff};
use crate::db::{audit, cpp_settings, schools, sittings as sitting_store};
use crate::schools_import::{self, ImportError};
use crate::sittings;
use crate::startup::AppState;

const ACTOR: &str = "cli";

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
    staff::create(
        &state.db,
        NewStaff {
            email: email.clone(),
            password_hash: hash,
            role: Role::Admin.as_str().to_owned(),
            cpp_id: None,
            school_id: None,
            is_demo: false,
        },
    )
    .await?;
    audit::record(
        &state.db,
        None,
        ACTOR,
        "account-created",
        &format!("{email} as admin"),
    )
    .await?;
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
    match schools_import::import(&state.db, &bytes).await {
        Ok(done) => {
            audit::record(
                &state.db,
                None,
                ACTOR,
                "schools-imported",
                &format!(
                    "{} created, {} updated ({})",
                    done.created,
                    done.updated,
                    path.display()
                ),
            )
            .await?;
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

/// Creates a sitting and writes its codes to standard output as CSV.
pub async fn create_sitting(
    state: &AppState,
    seed: &str,
    stage: &str,
    codes: usize,
    label: Option<String>,
    questionnaire: Option<String>,
) -> anyhow::Result<()> {
    let school = schools::school_by_seed(&state.db, &seed.trim().to_uppercase())
        .await?
        .with_context(|| format!("no school has the SEED code {seed}"))?;
    let stage = Stage::from_str(stage)
        .map_err(|_| anyhow::anyhow!("{stage:?} is not a stage from P5 to S4"))?;
    if !(1..=1000).contains(&codes) {
        bail!("--codes must be from 1 to 1000");
    }
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
    let setting = cpp_settings::get(&state.db, school.cpp_id).await?;
    let (disabled_modules, signposting) = match setting {
        Some(s) => (s.disabled_modules, s.signposting),
        None => ("[]".to_owned(), crate::demo::default_signposting()),
    };
    let label = label.unwrap_or_else(|| format!("{stage} sitting"));
    let (sitting, codes) = sittings::create_with_codes(
        state,
        NewSitting {
            school_id: school.id,
            cpp_id: school.cpp_id,
            stage: stage.to_string(),
            label: label.clone(),
            questionnaire_version_id: entry.version_id,
            disabled_modules,
            signposting,
            opens_at: None,
            closes_at: None,
            mop_up_of: None,
            created_by: None,
            is_demo: school.is_demo,
        },
        codes,
    )
    .await?;
    audit::record(
        &state.db,
        None,
        ACTOR,
        "sitting-created",
        &format!(
            "sitting {} at school {}, stage {stage}, {} codes",
            sitting.id,
            school.seed_code,
            codes.len()
        ),
    )
    .await?;
    let mut out = csv::Writer::from_writer(std::io::stdout().lock());
    out.write_record(["code", "sitting", "stage", "label", "school"])?;
    let id = sitting.id.to_string();
    for code in &codes {
        out.write_record([
            code.grouped().as_str(),
            id.as_str(),
            sitting.stage.as_str(),
            label.as_str(),
            school.name.as_str(),
        ])?;
    }
    out.flush()?;
    eprintln!(
        "Sitting {} created with {} codes. The codes are printed only now.",
        sitting.id,
        codes.len()
    );
    Ok(())
}

/// Closes a sitting; answers in progress become partial responses.
pub async fn close_sitting(state: &AppState, id: i32) -> anyhow::Result<()> {
    sitting_store::get(&state.db, id)
        .await?
        .with_context(|| format!("no sitting has the id {id}"))?;
    let partial = sittings::close(state, id).await?;
    audit::record(
        &state.db,
        None,
        ACTOR,
        "sitting-closed",
        &format!("sitting {id}, {partial} in progress kept as partial"),
    )
    .await?;
    println!("Sitting {id} closed; {partial} response(s) in progress kept as partial.");
    Ok(())
}
