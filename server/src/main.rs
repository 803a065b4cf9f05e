//! `server`: runs the survey server, or one of its administration commands.

use std::process::ExitCode;

use clap::Parser;
use server::cli::{self, Cli};

#[actix_web::main]
async fn main() -> ExitCode {
    server::telemetry::init();
    let cli = Cli::parse();
    match cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
