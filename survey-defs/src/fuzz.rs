//! The fuzz driver shared by the workspace's fuzz suites (this crate's
//! questionnaire parser, the server's parsers and forms). Built only with
//! the `fuzz` feature, which the test suites turn on; the library itself
//! never uses it.
//!
//! Nightly Rust, and so cargo-fuzz, is not used: a target is a proptest
//! strategy and a test, run for `PROPTEST_CASES` cases (256 by default), or,
//! with `FUZZ_SECONDS=S`, in batches until S seconds have passed. A failure,
//! a panic included, is shrunk to the smallest failing input and named.

use std::time::Instant;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// Runs `test` over `strategy` as described above; panics on a failure.
pub fn fuzz<S>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let env = |key: &str| std::env::var(key).ok().and_then(|v| v.parse::<u64>().ok());
    let seconds = env("FUZZ_SECONDS");
    let cases = env("PROPTEST_CASES").unwrap_or(256);
    let started = Instant::now();
    let mut total = 0u64;
    loop {
        let batch = if seconds.is_some() { 1_000 } else { cases };
        let mut runner = TestRunner::new(Config {
            cases: u32::try_from(batch).unwrap_or(u32::MAX),
            failure_persistence: None,
            ..Config::default()
        });
        if let Err(failure) = runner.run(&strategy, &test) {
            panic!("fuzz target {name} failed after {total} cases: {failure}");
        }
        total += batch;
        if seconds.is_none_or(|s| started.elapsed().as_secs() >= s) {
            break;
        }
    }
    println!(
        "fuzz target {name}: {total} cases in {:.0} s, no failures",
        started.elapsed().as_secs_f64()
    );
}
