//! `exporter`: makes and records releases of a wave's results, and writes
//! stored releases into a directory (see [`exporter::cli`]).

use std::process::ExitCode;

use clap::Parser;
use exporter::cli::{self, Cli};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    cli::main(Cli::parse()).await
}
