//! Logging: tracing to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Logs never hold a code, an answer, an IP address or a user agent: the request
//! logger (`middleware::request_log`) records only the method, the route
//! pattern, the status, the duration and, for a failure, its cause.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in a file or journal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
