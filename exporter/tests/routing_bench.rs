//! What the routing check costs on one large partnership, and what bounding
//! each follow-up by the published question it routes on (rather than by
//! that question's true counts) saves. Ignored by default; run with
//! `cargo test -p exporter --release --test routing_bench -- --ignored --nocapture`
//! (`SCHOOLS`, `PUPILS` and `SEEDS` change the partnership; defaults 80,
//! 14,000 and 1, about one partnership of the national synthetic data set).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use std::time::Instant;

use exporter::Rule;
use exporter::disclose::{PublishedTable, publish_table};
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
        let mut ids: Vec<i32> = groups.iter().map(|g| g.0).collect();
        ids.dedup();
        let rows: Vec<Option<usize>> = ids
            .iter()
            .map(|id| tally.schools.iter().position(|t| t.school_id == *id))
            .collect();
        for by_published in [false, true] {
            // (cells, hidden, seconds) of the question routed on, the
            // follow-ups, and every other table.
            let mut kinds = [(0usize, 0usize, 0f64); 3];
            let mut done: Vec<PublishedTable> = Vec::new();
            for t in 0..layout.tables.len() {
                let def = &layout.tables[t];
                let parent = def
                    .route
                    .as_ref()
                    .filter(|_| by_published)
                    .and_then(|r| done.iter().find(|p| p.table == r.parent));
                let start = Instant::now();
                let p =
                    publish_table(&tally, &rows, &layout, t, &rule, "bench", None, parent).unwrap();
                let seconds = start.elapsed().as_secs_f64();
                let routed_on = layout
                    .tables
                    .iter()
                    .any(|c| c.route.as_ref().is_some_and(|r| r.parent == t));
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
            let label = if by_published {
                "follow-ups bounded by the published question"
            } else {
                "follow-ups bounded by true counts"
            };
            println!("seed {seed}, {label}:");
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
}
