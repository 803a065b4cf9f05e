//! Laws that hold for every table: nothing hidden can be derived, every small
//! cell is hidden, and the pattern depends only on the input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Rng, Tree, sexes, simulate, stages, survey, table};
use exporter::suppress::{
    CellId, Exposure, Problem, Rule, Suppression, audit_exact, feasibility_interval, suppress,
};
use proptest::prelude::*;

fn check(problem: &Problem, rule: &Rule) -> Result<(), TestCaseError> {
    let s = suppress(problem, rule);
    if let Err(e) = audit_exact(problem, &s) {
        return Err(TestCaseError::fail(format!(
            "expected a safe pattern, audit says: {e}"
        )));
    }
    for c in problem.cells() {
        if rule.is_primary(problem.value(c)) {
            prop_assert!(
                s.is_suppressed(c),
                "small {c} ({}) is published",
                problem.value(c)
            );
        }
    }
    prop_assert_eq!(
        &suppress(problem, rule),
        &s,
        "a second run gave another pattern"
    );
    Ok(())
}

fn rules() -> impl Strategy<Value = Rule> {
    (
        prop_oneof![Just(10u64), 3u64..12],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(threshold, publish_zeros, singleton_protection)| Rule {
            threshold,
            publish_zeros,
            singleton_protection,
            range_min: None,
        })
}

/// Counts skewed towards small numbers, so that many cells are primary.
fn counts() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..4, 0u64..15, 5u64..60]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn two_way_tables_never_leave_a_derivable_cell(
        values in (2usize..7, 2usize..7).prop_flat_map(|(r, c)| {
            proptest::collection::vec(proptest::collection::vec(counts(), c), r)
        }),
        rule in rules(),
    ) {
        check(&table(&values).problem, &rule)?;
    }

    #[test]
    fn stage_sex_option_school_tables_never_leave_a_derivable_cell(
        seed in any::<u64>(),
        schools in 1usize..6,
        options in 2usize..5,
        per_stage in 0u64..25,
        rule in rules(),
    ) {
        let mut rng = Rng::new(seed);
        let data = simulate(&mut rng, schools, options, per_stage);
        let sv = survey(&stages(), &sexes(), &Tree::flat(options), &data);
        check(&sv.problem, &rule)?;
    }

    /// Scotland > partnership > school as a three-level hierarchy crossed with
    /// sex, with options nested in two groups (e.g. "agree" and "disagree").
    #[test]
    fn three_level_geography_never_leaves_a_derivable_cell(
        seed in any::<u64>(),
        partnerships in proptest::collection::vec(1usize..4, 1..4),
        per_stage in 0u64..20,
        rule in rules(),
    ) {
        let geography = Tree::grouped(&partnerships);
        let options = Tree::grouped(&[2, 2]);
        let mut rng = Rng::new(seed);
        let leaves = geography.leaves().len();
        // Reuse the stage axis for geography: counts[0][area][sex][option].
        let data = simulate(&mut rng, leaves, 4, per_stage);
        let mut counts = vec![vec![vec![vec![0u64; 4]; 4]; leaves]];
        for (area, school) in data.iter().enumerate() {
            for stage in school {
                for (sx, by_option) in stage.iter().enumerate() {
                    for (op, n) in by_option.iter().enumerate() {
                        counts[0][area][sx][op] += n;
                    }
                }
            }
        }
        let sv = survey(&geography, &sexes(), &options, &counts);
        check(&sv.problem, &rule)?;
    }

    /// The audit and the exact LP agree: a cell the audit calls derivable
    /// has a feasible range of one point.
    #[test]
    fn audit_agrees_with_the_exact_interval(
        values in proptest::collection::vec(proptest::collection::vec(10u64..40, 3), 3),
        mask in proptest::collection::vec(any::<bool>(), 15),
    ) {
        let t = table(&values);
        let hidden: Vec<CellId> = t.problem.cells().zip(&mask).filter(|(_, m)| **m).map(|(c, _)| c).collect();
        let s = Suppression::from_suppressed(&t.problem, &Rule::default(), &hidden);
        if let Err(Exposure::Derivable { cell, value }) = audit_exact(&t.problem, &s) {
            let i = feasibility_interval(&t.problem, &s, cell).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(i.lower, exporter::suppress::Rational::integer(i128::from(value)));
            prop_assert_eq!(i.upper, Some(i.lower), "derivable {} has a range", cell);
        }
    }
}
