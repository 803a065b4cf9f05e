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

/// UTC to the minute, as `2026-12-01T09:05Z`. Every request writes a line,
/// so each thread formats the minute once and reuses the text until the
/// minute changes.
struct ToTheMinute;

thread_local! {
    static MINUTE: std::cell::RefCell<(i64, String)> =
        const { std::cell::RefCell::new((i64::MIN, String::new())) };
}

impl FormatTime for ToTheMinute {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        let now = chrono::Utc::now();
        let minute = now.timestamp().div_euclid(60);
        MINUTE.with_borrow_mut(|(cached, text)| {
            if *cached != minute {
                *cached = minute;
                *text = now.format("%Y-%m-%dT%H:%MZ").to_string();
            }
            w.write_str(text)
        })
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
