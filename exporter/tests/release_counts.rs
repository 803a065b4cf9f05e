//! The attack on a release's prose files (see `release/attack.rs`), on
//! partnerships small enough that their totals must be hidden.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use release::attack::{
    assert_every_count_is_published, published_cells, readable_text, whole_numbers,
};

#[test]
fn a_small_partnership_states_no_count_that_is_not_a_published_cell() {
    let export = release::small_partnership();
    let unit = &export.units[0];
    assert_eq!((unit.responses, unit.partial), (7, 2));
    let published = published_cells(&export);
    assert!(!published.contains(&7) && !published.contains(&2));
    assert_every_count_is_published(&export);
}

#[test]
fn partnerships_of_many_small_sizes_state_no_count_that_is_not_a_published_cell() {
    use survey_defs::Stage;
    for (seed, pupils, partial_every) in [
        (1, vec![(Stage::P5, 1)], 1),
        (2, vec![(Stage::P6, 4), (Stage::S1, 5)], 2),
        (3, vec![(Stage::P7, 9), (Stage::S3, 2)], 4),
        (4, vec![(Stage::S4, 11)], 5),
        (5, vec![(Stage::P5, 12), (Stage::P6, 3), (Stage::S2, 14)], 3),
        (6, vec![(Stage::S1, 23), (Stage::S2, 19)], 7),
    ] {
        let export = release::partnership(&pupils, partial_every, seed);
        let unit = &export.units[0];
        assert!(
            unit.partial > 0,
            "expected partial responses with seed {seed}"
        );
        assert_every_count_is_published(&export);
    }
}

#[test]
fn a_partnership_beside_scotland_states_no_count_that_is_not_a_published_cell() {
    assert_every_count_is_published(&release::partnership_and_scotland());
}

#[test]
fn the_reader_finds_counts_in_text_and_labels_but_not_in_codes_or_shares() {
    let found: Vec<u64> = whole_numbers(&readable_text(
        "<p aria-label=\"P5: 12 pupils\">S12000003 had 45.5% (40.1–50.9) of 7 and n=31</p>",
    ))
    .into_iter()
    .map(|(_, n)| n)
    .collect();
    assert_eq!(found, vec![12, 7, 31]);
}
