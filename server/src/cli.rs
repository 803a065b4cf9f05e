//! The command line: `server` (serve) and the administration subcommands.

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
    /// Apply migrations, load reference data and questionnaires, then exit.
    Migrate,
}

/// Runs the chosen command; errors come back as one plain line for `main`.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let app = Application::build(cli.settings).await?;
            if !app.state().settings.no_demo {
                print_demo(app.state()).await?;
            }
            tracing::info!(
                address = %app.state().settings.public_url(),
                database = crate::db::backend_name(&app.state().db),
                "listening"
            );
            app.run_until_stopped().await?;
            tracing::info!("stopped");
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

async fn print_demo(state: &crate::startup::AppState) -> anyhow::Result<()> {
    let Some(demo) = crate::demo::ensure(state).await? else {
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
