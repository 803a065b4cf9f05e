//! Timing of a national-scale run: 32 partnerships × 110 questions, each a
//! problem of about 1,200 cells. Ignored by default; run with
//! `cargo test -p exporter --release --test suppress_bench -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Rng, Tree, sexes, stages, survey};
use exporter::suppress::{Problem, Rule, audit, suppress};

/// One partnership: 100 schools, one in six secondary (larger year groups).
fn partnership(rng: &mut Rng, options: usize) -> Problem {
    let sex_weights = [48, 48, 2, 2];
    let option_weights: Vec<u64> = (0..options as u64).map(|k| 1 + (k * 7919) % 13).collect();
    let counts: Vec<Vec<Vec<Vec<u64>>>> = (0..100)
        .map(|_| {
            let secondary = rng.below(6) == 0;
            let mut data = vec![vec![vec![0u64; options]; 4]; 7];
            let (stages, size) = if secondary {
                (3..7, 80 + rng.below(120))
            } else {
                (0..3, 5 + rng.below(35))
            };
            for st in stages {
                for _ in 0..size {
                    data[st][rng.weighted(&sex_weights)][rng.weighted(&option_weights)] += 1;
                }
            }
            data
        })
        .collect();
    survey(&stages(), &sexes(), &Tree::flat(options), &counts).problem
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Suppresses and audits a share of the problems; returns cells hidden, time
/// spent auditing and a fingerprint of the patterns (so that a faster
/// implementation can be checked to choose exactly the same cells).
fn work(chunk: &[Problem], rule: &Rule) -> (usize, Duration, u64) {
    let mut hidden = 0;
    let mut auditing = Duration::ZERO;
    let mut fingerprint: u64 = 0xcbf2_9ce4_8422_2325;
    for p in chunk {
        let s = suppress(p, rule);
        let t = Instant::now();
        assert_eq!(audit(p, &s), Ok(()), "audit must pass");
        auditing += t.elapsed();
        hidden += s.suppressed_count();
        for c in s.suppressed_cells() {
            fingerprint = (fingerprint ^ c.index() as u64).wrapping_mul(0x0000_0100_0000_01b3);
        }
        fingerprint = (fingerprint ^ u64::MAX).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hidden, auditing, fingerprint)
}

#[test]
#[ignore = "timing run; use --release"]
fn bench_national_export() {
    let mut rng = Rng::new(32);
    let problems: Vec<Problem> = (0..env_or("BENCH_N", 3_520))
        .map(|_| partnership(&mut rng, 7))
        .collect();
    let cells: usize = problems.iter().map(Problem::len).sum();
    let rule = Rule::default();
    let mut runs: Vec<Duration> = Vec::new();
    let mut audit_time = Duration::ZERO;
    let mut suppressed = 0;
    let mut fingerprint = Vec::new();
    for _ in 0..env_or("BENCH_RUNS", 5) {
        let start = Instant::now();
        let results: Vec<(usize, Duration, u64)> = std::thread::scope(|scope| {
            let handles: Vec<_> = problems
                .chunks(problems.len().div_ceil(2))
                .map(|chunk| scope.spawn(|| work(chunk, &rule)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("worker finished"))
                .collect()
        });
        runs.push(start.elapsed());
        suppressed = results.iter().map(|r| r.0).sum();
        audit_time += results.iter().map(|r| r.1).sum::<Duration>();
        fingerprint = results.iter().map(|r| r.2).collect();
    }
    runs.sort();
    println!(
        "{} problems, {} cells, {} suppressed; suppress + audit on 2 threads: median {:?} (runs {:?})",
        problems.len(),
        cells,
        suppressed,
        runs[runs.len() / 2],
        runs
    );
    println!("auditing, summed over both threads and all runs: {audit_time:?}");
    println!("pattern fingerprint: {fingerprint:x?}");
}
