//! Behaviour of small-cell suppression on hand-made tables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Rng, Tree, sexes, simulate, stages, survey, table};
use exporter::suppress::{
    CellId, Exposure, Problem, ProblemError, Rational, Rule, Suppression, audit,
    feasibility_interval, protect, suppress,
};

fn published(s: &Suppression, cells: &[CellId]) -> Vec<bool> {
    cells.iter().map(|&c| !s.is_suppressed(c)).collect()
}

#[test]
fn default_rule_hides_below_ten_and_publishes_zeros() {
    let rule = Rule::default();
    assert_eq!(rule.threshold, 10);
    assert!(rule.publish_zeros);
    assert!(rule.singleton_protection);
    assert!(rule.is_primary(9));
    assert!(!rule.is_primary(10));
    assert!(!rule.is_primary(0));
}

#[test]
fn rule_round_trips_through_json_for_export_metadata() {
    let rule = Rule {
        threshold: 5,
        publish_zeros: false,
        singleton_protection: false,
        range_min: Some(7),
    };
    let text = serde_json::to_string(&rule).expect("serialises");
    let back: Rule = serde_json::from_str(&text).expect("deserialises");
    assert_eq!(back, rule);
    let defaulted: Rule = serde_json::from_str("{}").expect("empty object is the default");
    assert_eq!(defaulted, Rule::default());
}

#[test]
fn relation_that_does_not_add_up_is_refused() {
    let mut p = Problem::new();
    let total = p.add_cell(10);
    let a = p.add_cell(4);
    let b = p.add_cell(5);
    assert_eq!(
        p.add_relation(total, &[a, b]),
        Err(ProblemError::Unbalanced {
            total,
            expected: 10,
            actual: 9
        })
    );
    assert_eq!(p.add_relation(total, &[]), Err(ProblemError::NoParts));
}

#[test]
fn table_without_small_cells_is_published_whole() {
    let t = table(&[vec![20, 30], vec![40, 50]]);
    let s = suppress(&t.problem, &Rule::default());
    assert_eq!(s.suppressed_count(), 0);
    audit(&t.problem, &s).expect("nothing to expose");
}

#[test]
fn one_small_cell_in_a_two_by_two_table_hides_a_rectangle() {
    let t = table(&[vec![3, 30], vec![40, 50]]);
    let s = suppress(&t.problem, &Rule::default());
    assert!(s.is_suppressed(t.inner[0][0]), "the 3 itself");
    assert_eq!(s.primary_count(), 1);
    // In a 2×2 table the only protecting pattern short of hiding margins is
    // the whole interior; every marginal stays published.
    assert_eq!(
        published(&s, &t.inner.concat()),
        vec![false, false, false, false],
        "the whole interior hides"
    );
    assert_eq!(published(&s, &t.row_totals), vec![true, true]);
    assert_eq!(published(&s, &t.col_totals), vec![true, true]);
    assert!(!s.is_suppressed(t.grand));
    audit(&t.problem, &s).expect("pattern is safe");
}

/// The 3×2 example after Geurts (1992) used in the Handbook on Statistical
/// Disclosure Control. The Handbook's exact figures were not at hand, so this
/// table is constructed to have the same shape and property: the four cells
/// of the first two rows are hidden, everything else (row, column and grand
/// totals and the third row) is published, and the protected cell 4 can then
/// lie anywhere in [3, 6] — no tighter, because every cell is non-negative.
#[test]
fn geurts_three_by_two_example_keeps_interval_three_to_six() {
    let t = table(&[vec![4, 2], vec![9, 1], vec![20, 25]]);
    let rule = Rule::default();
    let hidden = [t.inner[0][0], t.inner[0][1], t.inner[1][0], t.inner[1][1]];
    let s = Suppression::from_suppressed(&t.problem, &rule, &hidden);
    let interval = feasibility_interval(&t.problem, &s, t.inner[0][0]).expect("solvable");
    assert_eq!(interval.lower, Rational::integer(3));
    assert_eq!(interval.upper, Some(Rational::integer(6)));
    let b = feasibility_interval(&t.problem, &s, t.inner[0][1]).expect("solvable");
    assert_eq!(
        (b.lower, b.upper),
        (Rational::integer(0), Some(Rational::integer(3)))
    );
}

#[test]
fn interval_of_a_derivable_cell_is_a_single_point() {
    let t = table(&[vec![4, 20], vec![30, 40]]);
    let s = Suppression::from_suppressed(&t.problem, &Rule::default(), &[t.inner[0][0]]);
    let i = feasibility_interval(&t.problem, &s, t.inner[0][0]).expect("solvable");
    assert_eq!(
        (i.lower, i.upper),
        (Rational::integer(4), Some(Rational::integer(4)))
    );
}

/// The hidden-exposure pattern of sdcTable's 4×4 "problemdata" example. The
/// package's own figures were not at hand, so this table is constructed with
/// the same defect: every row and column has at least two hidden cells, yet
/// the hidden cells form two separate 2×2 blocks joined by a single cell
/// (row 1, column 3), and that cell follows from row 1 minus columns 1 and 2
/// plus row 2 — a combination of four published margins.
fn problemdata() -> (common::Table, Vec<CellId>) {
    let t = table(&[
        vec![3, 12, 5, 20],
        vec![11, 4, 30, 25],
        vec![22, 27, 6, 13],
        vec![18, 16, 14, 2],
    ]);
    let c = |i: usize, j: usize| t.inner[i][j];
    let hidden = vec![
        c(0, 0),
        c(0, 1),
        c(0, 2),
        c(1, 0),
        c(1, 1),
        c(2, 2),
        c(2, 3),
        c(3, 2),
        c(3, 3),
    ];
    (t, hidden)
}

#[test]
fn audit_catches_the_problemdata_hidden_exposure() {
    let (t, hidden) = problemdata();
    let s = Suppression::from_suppressed(&t.problem, &Rule::default(), &hidden);
    for (i, row) in t.inner.iter().enumerate() {
        let count = row.iter().filter(|c| s.is_suppressed(**c)).count();
        assert!(count >= 2, "row {i} has {count} hidden cells");
    }
    assert_eq!(
        audit(&t.problem, &s),
        Err(Exposure::Derivable {
            cell: t.inner[0][2],
            value: 5
        })
    );
    let i = feasibility_interval(&t.problem, &s, t.inner[0][2]).expect("solvable");
    assert_eq!(
        (i.lower, i.upper),
        (Rational::integer(5), Some(Rational::integer(5)))
    );
}

#[test]
fn suppression_of_problemdata_passes_the_audit() {
    let (t, _) = problemdata();
    let s = protect(&t.problem, &Rule::default()).unwrap();
    audit(&t.problem, &s).expect("the method never leaves a derivable cell");
    for row in &t.inner {
        for &c in row {
            if t.problem.value(c) < 10 {
                assert!(s.is_suppressed(c));
            }
        }
    }
}

#[test]
fn audit_names_a_published_small_cell() {
    let t = table(&[vec![3, 30], vec![40, 50]]);
    let s = Suppression::from_suppressed(&t.problem, &Rule::default(), &[]);
    assert_eq!(
        audit(&t.problem, &s),
        Err(Exposure::SmallCellPublished {
            cell: t.inner[0][0],
            value: 3
        })
    );
}

#[test]
fn nested_groups_never_differ_by_a_small_gap() {
    // A = X + Y, X = B + Z: with Y = 2 and Z = 3 hidden, publishing both A
    // and B would reveal that five pupils are in Y and Z together.
    let mut p = Problem::new();
    let a = p.add_cell(55);
    let x = p.add_cell(53);
    let y = p.add_cell(2);
    let b = p.add_cell(50);
    let z = p.add_cell(3);
    p.add_relation(a, &[x, y]).expect("adds up");
    p.add_relation(x, &[b, z]).expect("adds up");
    let s = suppress(&p, &Rule::default());
    for (outer, inner) in [(a, x), (a, b), (x, b)] {
        assert!(
            s.is_suppressed(outer) || s.is_suppressed(inner),
            "{outer} and {inner} are both published"
        );
    }
    audit(&p, &s).expect("safe");

    let leaky = Suppression::from_suppressed(&p, &Rule::default(), &[x, y, z]);
    assert_eq!(
        audit(&p, &leaky),
        Err(Exposure::NestedGap {
            outer: a,
            inner: b,
            gap: 5
        })
    );
}

#[test]
fn singleton_in_a_relation_of_primaries_gets_one_more_cell_hidden() {
    let build = || {
        let mut p = Problem::new();
        let cells: Vec<CellId> = [1, 3, 20, 25].iter().map(|&v| p.add_cell(v)).collect();
        let total = p.add_cell(49);
        p.add_relation(total, &cells).expect("adds up");
        (p, cells, total)
    };
    let (p, cells, total) = build();
    let off = Rule {
        singleton_protection: false,
        ..Rule::default()
    };
    let s = suppress(&p, &off);
    assert_eq!(published(&s, &cells), vec![false, false, true, true]);
    assert!(!s.is_suppressed(total));

    let s = suppress(&p, &Rule::default());
    assert_eq!(
        published(&s, &cells),
        vec![false, false, false, true],
        "the 20 hides too"
    );
    assert_eq!(s.suppressed_count(), 3);
    assert_eq!(s.primary_count(), 2);
    audit(&p, &s).expect("safe");
}

#[test]
fn zeros_are_hidden_when_the_rule_says_so() {
    let t = table(&[vec![0, 30], vec![40, 50]]);
    let s = suppress(&t.problem, &Rule::default());
    assert!(!s.is_suppressed(t.inner[0][0]));
    let strict = Rule {
        publish_zeros: false,
        ..Rule::default()
    };
    let s = suppress(&t.problem, &strict);
    assert!(s.is_suppressed(t.inner[0][0]));
    audit(&t.problem, &s).expect("safe");
}

#[test]
fn same_input_gives_the_same_pattern() {
    let mut rng = Rng::new(7);
    let counts = simulate(&mut rng, 6, 4, 25);
    let sv = survey(&stages(), &sexes(), &Tree::flat(4), &counts);
    let first = protect(&sv.problem, &Rule::default()).unwrap();
    let second = protect(&sv.problem.clone(), &Rule::default()).unwrap();
    assert_eq!(first, second);
    audit(&sv.problem, &first).expect("safe");
}

#[test]
fn partnership_survey_with_schools_passes_the_audit() {
    let mut rng = Rng::new(2024);
    let counts = simulate(&mut rng, 12, 5, 30);
    let sv = survey(&stages(), &sexes(), &Tree::flat(5), &counts);
    let s = protect(&sv.problem, &Rule::default()).unwrap();
    audit(&sv.problem, &s).expect("safe");
    assert!(
        !s.is_suppressed(sv.cube[0][0][0]),
        "the partnership base is large and published"
    );
}

/// A small cell whose range excludes 0 passes exactly when that range is
/// as wide as the rule asks. A hidden 3 and its partner add up to a
/// published total, and a published inequality (20 at most the 3 plus a
/// published 17) tells a reader the 3 is at least 3: with a total of 13 its
/// range is 3 to 13, wide enough; with 12 it is 3 to 12, one short.
#[test]
fn a_range_that_excludes_zero_must_be_as_wide_as_the_rule_asks() {
    let rule = Rule::default();
    for (partner, verdict) in [(10, Ok(())), (9, Err((3, 12)))] {
        let mut p = Problem::new();
        let small = p.add_cell(3);
        let other = p.add_cell(partner);
        let total = p.add_cell(3 + partner);
        p.add_relation(total, &[small, other]).unwrap();
        let (at_least, beside) = (p.add_cell(20), p.add_cell(17));
        p.add_at_most(&[at_least], &[small, beside]).unwrap();
        let pattern = Suppression::from_suppressed(&p, &rule, &[small, other]);
        let expected = verdict.map_err(|(lo, hi)| Exposure::Narrow {
            cell: small,
            lo,
            hi,
        });
        assert_eq!(audit(&p, &pattern), expected, "partner {partner}");
    }
}

/// The same through a chain of hidden sums: a hidden 3 and a published 20
/// make a hidden total, which with another hidden cell makes a published
/// grand total. What the 3 can be is bounded by the other hidden cell not
/// going below 0, two sums away: with that cell at 12 the 3 lies in 3 to
/// 15, wide enough; at 9, in 3 to 12, one short.
#[test]
fn a_bound_two_sums_away_narrows_a_small_cell() {
    let rule = Rule::default();
    for (far, verdict) in [(12, Ok(())), (9, Err((3, 12)))] {
        let mut p = Problem::new();
        let small = p.add_cell(3);
        let beside = p.add_cell(20);
        let total = p.add_cell(23);
        p.add_relation(total, &[small, beside]).unwrap();
        let other = p.add_cell(far);
        let grand = p.add_cell(23 + far);
        p.add_relation(grand, &[total, other]).unwrap();
        let (at_least, also) = (p.add_cell(20), p.add_cell(17));
        p.add_at_most(&[at_least], &[small, also]).unwrap();
        let pattern = Suppression::from_suppressed(&p, &rule, &[small, total, other]);
        let expected = verdict.map_err(|(lo, hi)| Exposure::Narrow {
            cell: small,
            lo,
            hi,
        });
        assert_eq!(audit(&p, &pattern), expected, "far cell {far}");
    }
}

/// A routed follow-up that sums alone cannot protect. Two groups of pupils
/// (say, S1 boys and S1 girls) answer "Have you been bullied?": yes 1 and
/// 12, no 12 and 3. Only those who said yes are asked the follow-up, which
/// 0 and 10 answer. Gaussian elimination hides the small yes and no counts
/// and enough around them that no sum gives them away; but a reader who
/// knows the routing (the 10 girls who answered the follow-up all said yes)
/// learns that the girls' "no" count, 3, lies between 2 and 5.
#[test]
fn a_routed_follow_up_needs_the_range_check() {
    let mut p = Problem::new();
    let mut line = |a: u64, b: u64| [p.add_cell(a), p.add_cell(b), p.add_cell(a + b)];
    let yes = line(1, 12);
    let no = line(12, 3);
    let base = line(13, 15);
    let follow_up = line(0, 10);
    for r in [yes, no, base, follow_up] {
        p.add_relation(r[2], &r[..2]).unwrap();
    }
    for k in 0..3 {
        p.add_relation(base[k], &[yes[k], no[k]]).unwrap();
    }
    let rule = Rule::default();
    let sums_only = suppress(&p, &rule);
    assert_eq!(
        audit(&p, &sums_only),
        Ok(()),
        "without routing, sums suffice"
    );
    for k in 0..3 {
        p.add_at_most(&[follow_up[k]], &[yes[k]]).unwrap();
    }
    let sums_only = suppress(&p, &rule);
    assert_eq!(
        audit(&p, &sums_only),
        Err(Exposure::Narrow {
            cell: no[1],
            lo: 2,
            hi: 5
        })
    );
    let safe = protect(&p, &rule).unwrap();
    assert_eq!(audit(&p, &safe), Ok(()));
    assert!(safe.suppressed_count() > sums_only.suppressed_count());
}
