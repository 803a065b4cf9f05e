//! What the checks cost on one large partnership, by kind of table: the
//! questions routed on (each checked with its follow-ups held as
//! published), the follow-ups, and every other table. Ignored by default; run with
//! `cargo test -p exporter --release --test routing_bench -- --ignored --nocapture`
//! (`SCHOOLS`, `PUPILS` and `SEEDS` change the partnership; defaults 80,
//! 14,000 and 1, about one partnership of the national synthetic data set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use std::time::Instant;

use exporter::Rule;
use exporter::disclose::{
    Linked, PublishedTable, Responses, publish_rates, publish_table, routes_on,
};
use exporter::layout::Layout;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "timing run; use --release"]
fn bench_routing_check() {
    let q = release::builtin();
    let layout = Layout::new(&q);
    let rule = Rule::default();
    let schools = env_or("SCHOOLS", 80) as usize;
    let pupils = u32::try_from(env_or("PUPILS", 14_000)).unwrap();
    for seed in 1..=env_or("SEEDS", 1) {
        let groups = release::spread(schools, seed * 7919, pupils);
        let cohort = release::Cohort {
            cpp_id: 5,
            groups: groups.clone(),
            partial_every: 0,
            seed,
        };
        let tally = release::tally(&q, &layout, &cohort);
        let (rows, rolls) = release::rolls(&groups, &tally);
        let rates = publish_rates(&tally, &rolls, &rule, "bench", None).unwrap();
        let responses = Responses::new(&tally, &rolls, &rates);
        // (cells, hidden, seconds) of the questions routed on, the
        // follow-ups, and every other table.
        let mut kinds = [(0usize, 0usize, 0f64); 3];
        let mut done: Vec<PublishedTable> = Vec::new();
        // Reverse layout order: each question routed on after its
        // follow-ups, which its problem holds as published.
        for t in (0..layout.tables.len()).rev() {
            let def = &layout.tables[t];
            let follow_ups: Vec<&PublishedTable> = done
                .iter()
                .filter(|p| routes_on(&layout, p.table, t))
                .collect();
            let start = Instant::now();
            let linked = Linked {
                follow_ups: &follow_ups,
                responses: Some(&responses),
            };
            let p = publish_table(&tally, &rows, &layout, t, &rule, "bench", None, linked).unwrap();
            let seconds = start.elapsed().as_secs_f64();
            let routed_on = (0..layout.tables.len()).any(|c| routes_on(&layout, c, t));
            let kind = if def.route.is_some() {
                1
            } else if routed_on {
                0
            } else {
                2
            };
            kinds[kind].0 += p.cells();
            kinds[kind].1 += p.suppressed();
            kinds[kind].2 += seconds;
            done.push(p);
        }
        println!("seed {seed}:");
        for (name, (cells, hidden, seconds)) in
            ["questions routed on", "follow-ups", "other tables"]
                .iter()
                .zip(kinds)
        {
            println!(
                "  {name}: {cells} cells, {:.1}% hidden, {seconds:.2} s",
                100.0 * hidden as f64 / cells.max(1) as f64
            );
        }
    }
}
