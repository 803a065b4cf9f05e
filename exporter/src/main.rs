//! `exporter`: aggregated, suppressed results of one questionnaire version,
//! written as files into one directory (see [`exporter::cli`]).

use std::process::ExitCode;

use clap::Parser;
use exporter::cli::{self, Cli};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    cli::main(Cli::parse()).await
}
