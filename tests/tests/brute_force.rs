//! Guessing codes does not work.
//!
//! A code holds 10 random base32 symbols: 2^50 ≈ 1.13 × 10^15 possible codes.
//! With L live codes, one random well-formed guess hits with probability
//! L / 2^50; G guesses hit at most G × L / 2^50 times on average. At national
//! scale (L = 500,000) a million guesses hit with probability at most
//! 10^6 × 5 × 10^5 / 2^50 ≈ 4.4 × 10^-4. Over HTTP an address gets
//! `CODE_FAILURE_LIMIT.burst` failed guesses at once and then one every 30
//! seconds, so a million guesses take about a year from one address, for a
//! 1 in 2,250 chance.
//! (This test itself therefore fails by pure chance about once in 2,250 runs.)
//!
//! A class of 30 pupils sharing one address and mistyping codes is never locked
//! out: see `guessing_runs_out_of_budget_but_a_class_mistyping_is_never_locked_out`
//! in tests/tests/pupil.rs.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::collections::HashSet;
use std::time::Instant;

use server::domain::AccessCode;
use tests::{Pupil, spawn_app};

const LIVE: usize = 500_000;
const GUESSES: usize = 1_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_random_codes_find_none_of_half_a_million_live_ones() {
    let app = spawn_app().await;
    let started = Instant::now();
    // The lookup the server does: the keyed hash of the typed code, looked up
    // among the stored keyed hashes. Held in memory here so that a million
    // lookups take seconds; the spot check below uses the real table.
    let live: HashSet<String> = (0..LIVE)
        .map(|_| app.state.code_hash(&AccessCode::generate()))
        .collect();
    assert_eq!(live.len(), LIVE, "half a million distinct codes");
    let mut hits = 0usize;
    for _ in 0..GUESSES {
        let guess = AccessCode::generate();
        if live.contains(&app.state.code_hash(&guess)) {
            hits += 1;
        }
    }
    assert_eq!(
        hits, 0,
        "expected no random code to match a live one (chance about 4.4e-4), found {hits}"
    );
    println!(
        "{GUESSES} guesses against {LIVE} live codes: {hits} hits, in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The same lookup through the database layer finds real codes and no
    // guesses.
    let sitting = app.sitting("S3", 200).await;
    for code in &sitting.codes {
        let hash = app.state.code_hash(&AccessCode::parse(code).unwrap());
        assert!(
            server::store::pupil::find_code(&app.state.db, &hash)
                .await
                .unwrap()
                .is_some(),
            "a live code is found"
        );
    }
    for _ in 0..2_000 {
        let hash = app.state.code_hash(&AccessCode::generate());
        assert!(
            server::store::pupil::find_code(&app.state.db, &hash)
                .await
                .unwrap()
                .is_none(),
            "a random code is not found"
        );
    }
}

#[tokio::test]
async fn guessing_over_http_finds_nothing_and_is_slowed_down() {
    let app = spawn_app().await;
    let sitting = app.sitting("S1", 500).await;
    let pupil = Pupil::new(&app).await;
    let mut not_found = 0;
    let mut slowed = 0;
    for _ in 0..400 {
        let guess = AccessCode::generate().to_string();
        let response = pupil.enter_code(&guess).await;
        assert_ne!(response.status(), 303, "a random code was accepted");
        assert_eq!(response.status(), 422);
        let body = response.text().await.unwrap();
        if body.contains("wait one minute") {
            slowed += 1;
        } else {
            not_found += 1;
        }
    }
    let budget = server::state::CODE_FAILURE_LIMIT.burst as usize;
    assert!(
        (budget..=budget + 5).contains(&not_found),
        "expected {budget} guesses to be checked before the budget runs out, saw {not_found}"
    );
    assert_eq!(
        slowed,
        400 - not_found,
        "expected every later guess to be slowed down"
    );
    // None of the 500 live codes was among the guesses: the only answers
    // were "not found" and "slow down", checked above.
    assert_eq!(sitting.codes.len(), 500);
}
