//! Logging: tracing to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! Logs never hold a code, an answer, an IP address or a user agent: the request
//! logger (`web::middleware::request_log`) records only the method, the route
//! pattern, the status, the duration and, for a failure, its cause.
//!
//! Each line is stamped with the minute, not the second: a finished response
//! is stored with its day only, and a log that timed each `POST /finish` to
//! the microsecond would tell a log holder much more precisely when each
//! pupil finished.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// UTC to the minute, as `2026-12-01T09:05Z`.
struct ToTheMinute;

impl FormatTime for ToTheMinute {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", chrono::Utc::now().format("%Y-%m-%dT%H:%MZ"))
    }
}

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, not in a file or journal.
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_timer(ToTheMinute)
        .try_init();
}
