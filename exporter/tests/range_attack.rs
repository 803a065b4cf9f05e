//! The attack of a reader with a linear-programming solver on a released
//! partnership's tables, written here from what the files and the codebook
//! say, not from the exporter's own problem.
//!
//! The reader knows, for every published table:
//! - every published cell, and that no count is negative;
//! - that the sexes add up to "All", the stages to their band and to "All";
//! - that a school's stages add up to the school, the schools to the
//!   partnership, and the schools at a stage to the partnership's stage;
//! - that the options add up to the base (one answer each), or that each
//!   option is at most the base (multiple choice).
//!
//! For every hidden count below the threshold, the reader works out the
//! smallest and largest value it can take. The rule is met when that range
//! contains 0 or is at least the threshold wide.
//!
//! The worked partnership of four schools is attacked in full; random
//! partnerships (100 to 2,000 pupils in 2 to 12 schools, with routed and
//! multiple-choice questions and every sex category) are attacked on a
//! random sample of their tables, to keep the run short.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use std::collections::HashMap;

use proptest::prelude::*;

use exporter::Rule;
use exporter::disclose::{Line, PublishedTable};
use exporter::layout::{Layout, StageLevel};
use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Variable};
use survey_defs::Stage;

/// A cell of a table: a line and a slot.
type Cell = (usize, usize);

/// The reader's program for one table: a variable per hidden cell.
struct Reader<'a> {
    table: &'a PublishedTable,
    vars: HashMap<Cell, usize>,
    /// `Σ coef·cell (op) 0`, published cells included as constants.
    rows: Vec<(Vec<(Cell, f64)>, ComparisonOp)>,
}

impl<'a> Reader<'a> {
    /// `single[s]`: the one stage of the table school `s` has pupils at,
    /// for a school with one (its report shows which).
    fn new(table: &'a PublishedTable, additive: bool, single: &HashMap<usize, Stage>) -> Self {
        let lines = &table.lines;
        let width = lines[0].counts.len();
        let find = |school: Option<usize>, stage: StageLevel, sex: Option<usize>| {
            lines
                .iter()
                .position(|l| l.school == school && l.stage == stage && l.sex == sex)
        };
        let mut sums: Vec<(usize, Vec<usize>)> = Vec::new();
        let sexes: Vec<usize> = lines.iter().filter_map(|l| l.sex).collect();
        let sexes: std::collections::BTreeSet<usize> = sexes.into_iter().collect();
        let schools: std::collections::BTreeSet<usize> =
            lines.iter().filter_map(|l| l.school).collect();
        let levels = [StageLevel::Primary, StageLevel::Secondary, StageLevel::All];
        for (i, line) in lines.iter().enumerate() {
            if line.school.is_none() && line.sex.is_none() {
                // Sexes add up to All.
                let parts: Vec<usize> = sexes
                    .iter()
                    .filter_map(|&x| find(None, line.stage, Some(x)))
                    .collect();
                if !parts.is_empty() {
                    sums.push((i, parts));
                }
            }
            if levels.contains(&line.stage) && (line.school.is_none() || line.sex.is_none()) {
                // Stages add up to their band and to All.
                let parts: Vec<usize> = line
                    .stage
                    .stages()
                    .iter()
                    .filter_map(|s| find(line.school, StageLevel::Stage(s), line.sex))
                    .collect();
                if !parts.is_empty() {
                    sums.push((i, parts));
                }
            }
        }
        // Schools add up to the partnership, in all and at each stage.
        if let Some(total) = find(None, StageLevel::All, None) {
            let parts = schools
                .iter()
                .filter_map(|&s| find(Some(s), StageLevel::All, None))
                .collect();
            sums.push((total, parts));
        }
        for stage in Stage::ALL {
            let level = StageLevel::Stage(stage);
            if let Some(total) = find(None, level, None) {
                let parts: Vec<usize> = schools
                    .iter()
                    .filter_map(|&s| match single.get(&s) {
                        Some(&only) if only == stage => find(Some(s), StageLevel::All, None),
                        Some(_) => None,
                        None => find(Some(s), level, None),
                    })
                    .collect();
                if !parts.is_empty() {
                    sums.push((total, parts));
                }
            }
        }
        let mut rows = Vec::new();
        for (total, parts) in &sums {
            for k in 0..width {
                let mut terms = vec![((*total, k), 1.0)];
                terms.extend(parts.iter().map(|&p| ((p, k), -1.0)));
                rows.push((terms, ComparisonOp::Eq));
            }
        }
        let base = width - 1;
        for i in 0..lines.len() {
            if additive {
                let mut terms = vec![((i, base), 1.0)];
                terms.extend((0..base).map(|k| ((i, k), -1.0)));
                rows.push((terms, ComparisonOp::Eq));
            } else {
                for k in 0..base {
                    rows.push((vec![((i, k), 1.0), ((i, base), -1.0)], ComparisonOp::Le));
                }
            }
        }
        let mut vars = HashMap::new();
        for (i, line) in lines.iter().enumerate() {
            for (k, hidden) in line.hidden.iter().enumerate() {
                if *hidden {
                    let next = vars.len();
                    vars.insert((i, k), next);
                }
            }
        }
        Self { table, vars, rows }
    }

    fn value(&self, (i, k): Cell) -> f64 {
        f64::from(self.table.lines[i].counts[k])
    }

    /// The smallest or largest value of hidden cell `cell`.
    fn optimum(&self, cell: Cell, maximise: bool) -> f64 {
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let mut lp = Problem::new(direction);
        let mut order: Vec<(&Cell, &usize)> = self.vars.iter().collect();
        order.sort_by_key(|(_, v)| **v);
        let vars: Vec<Variable> = order
            .iter()
            .map(|(c, _)| lp.add_var(if **c == cell { 1.0 } else { 0.0 }, (0.0, 1.0e7)))
            .collect();
        for (terms, op) in &self.rows {
            let mut expr = LinearExpr::empty();
            let mut rhs = 0.0;
            let mut any = false;
            for (c, a) in terms {
                match self.vars.get(c) {
                    Some(&v) => {
                        expr.add(vars[v], *a);
                        any = true;
                    }
                    None => rhs -= a * self.value(*c),
                }
            }
            if any {
                lp.add_constraint(expr, *op, rhs);
            }
        }
        let solution = lp.solve().unwrap().into_solution().unwrap();
        solution.var_value(vars[self.vars[&cell]])
    }
}

/// The schools (by index) that have pupils at only one of the table's
/// stages: their one row is that stage's (the school report shows which).
fn single_stages(def: &exporter::layout::TableDef, stages: &[Vec<Stage>]) -> HashMap<usize, Stage> {
    stages
        .iter()
        .enumerate()
        .filter_map(|(s, at)| {
            let within: Vec<Stage> = at
                .iter()
                .copied()
                .filter(|st| def.stages.contains(*st))
                .collect();
            (within.len() == 1).then(|| (s, within[0]))
        })
        .collect()
}

/// Every hidden count below the threshold whose range, as the reader works
/// it out, excludes 0 and is narrower than the threshold.
fn narrow_cells(
    layout: &Layout,
    tables: &[PublishedTable],
    rule: &Rule,
    stages: &[Vec<Stage>],
) -> Vec<String> {
    let mut found = Vec::new();
    for table in tables {
        let def = &layout.tables[table.table];
        let single = single_stages(def, stages);
        let reader = Reader::new(table, def.additive, &single);
        for (i, line) in table.lines.iter().enumerate() {
            for (k, (&count, &hidden)) in line.counts.iter().zip(&line.hidden).enumerate() {
                if !hidden || count == 0 || u64::from(count) >= rule.threshold {
                    continue;
                }
                let low = reader.optimum((i, k), false);
                if low < 0.5 {
                    continue;
                }
                let high = reader.optimum((i, k), true);
                let (lo, hi) = ((low - 1e-6).ceil(), (high + 1e-6).floor());
                if hi - lo < rule.range_min() as f64 {
                    found.push(describe(def.id.as_str(), line, k, count, lo, hi));
                }
            }
        }
    }
    found
}

fn describe(table: &str, line: &Line, slot: usize, count: u32, lo: f64, hi: f64) -> String {
    format!(
        "{table} school {:?} {} sex {:?} slot {slot}: {count} known to lie in {lo}..={hi}",
        line.school,
        line.stage.as_str(),
        line.sex
    )
}

/// A partnership of four schools, each with pupils at two or three stages,
/// a few dozen at each: small enough that most school rows are hidden.
fn four_schools(seed: u64) -> exporter::UnitResult {
    let q = release::builtin();
    let layout = Layout::new(&q);
    let groups = vec![
        (41, Stage::P5, 14),
        (41, Stage::P6, 9),
        (41, Stage::P7, 17),
        (42, Stage::P6, 22),
        (42, Stage::P7, 6),
        (43, Stage::S1, 25),
        (43, Stage::S2, 12),
        (43, Stage::S3, 19),
        (44, Stage::S3, 8),
        (44, Stage::S4, 21),
    ];
    let cohort = release::Cohort {
        cpp_id: 4,
        groups,
        partial_every: 0,
        seed,
    };
    let tally = release::tally(&q, &layout, &cohort);
    let schools = vec![
        release::school(41, 4, [30, 30, 30, 0, 0, 0, 0]),
        release::school(42, 4, [0, 40, 40, 0, 0, 0, 0]),
        release::school(43, 4, [0, 0, 0, 40, 40, 40, 0]),
        release::school(44, 4, [0, 0, 0, 0, 0, 30, 30]),
    ];
    release::unit(
        &layout,
        &Rule::default(),
        Some(release::cpp(4)),
        schools,
        &tally,
    )
}

#[test]
fn a_reader_with_a_solver_cannot_narrow_any_small_hidden_count() {
    let q = release::builtin();
    let layout = Layout::new(&q);
    let rule = Rule::default();
    for seed in [3, 11] {
        let unit = four_schools(seed);
        let hidden: usize = unit.tables.iter().map(PublishedTable::suppressed).sum();
        assert!(hidden > 1000, "expected many hidden cells, got {hidden}");
        let stages = vec![
            vec![Stage::P5, Stage::P6, Stage::P7],
            vec![Stage::P6, Stage::P7],
            vec![Stage::S1, Stage::S2, Stage::S3],
            vec![Stage::S3, Stage::S4],
        ];
        let found = narrow_cells(&layout, &unit.tables, &rule, &stages);
        assert!(
            found.is_empty(),
            "seed {seed}: {} small hidden counts narrowed, first: {:?}",
            found.len(),
            &found[..found.len().min(5)]
        );
    }
}

/// A random partnership: 2 to 12 schools, each primary (P5-P7), secondary
/// (S1-S4) or both, with some stages missing, and 100 to 2,000 pupils in
/// all, spread unevenly so that some groups are tiny.
fn partnership() -> impl Strategy<Value = (Vec<(i32, Stage, u32)>, u64)> {
    (2usize..=12, any::<u64>(), 100u32..=2000).prop_map(|(schools, seed, pupils)| {
        let mut x = seed | 1;
        let mut roll = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut picks: Vec<(i32, Stage, u64)> = Vec::new();
        for s in 0..schools {
            let id = 100 + s as i32;
            let band: &[Stage] = match roll(3) {
                0 => &[Stage::P5, Stage::P6, Stage::P7],
                1 => &[Stage::S1, Stage::S2, Stage::S3, Stage::S4],
                _ => &Stage::ALL,
            };
            let before = picks.len();
            for &stage in band {
                if roll(4) > 0 {
                    picks.push((id, stage, 1 + roll(20)));
                }
            }
            if picks.len() == before {
                picks.push((id, band[0], 1 + roll(20)));
            }
        }
        let weight: u64 = picks.iter().map(|p| p.2).sum();
        let groups = picks
            .into_iter()
            .map(|(id, stage, w)| {
                let n = (u64::from(pupils) * w / weight).max(1);
                (id, stage, u32::try_from(n).unwrap())
            })
            .collect();
        (groups, seed)
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 3,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_reader_with_a_solver_cannot_narrow_a_small_hidden_count_in_any_partnership(
        (groups, seed) in partnership(),
        sample in proptest::collection::vec(any::<prop::sample::Index>(), 4),
    ) {
        let q = release::builtin();
        let layout = Layout::new(&q);
        let rule = Rule::default();
        let ids: Vec<i32> = {
            let mut ids: Vec<i32> = groups.iter().map(|g| g.0).collect();
            ids.dedup();
            ids
        };
        let stages: Vec<Vec<Stage>> = ids
            .iter()
            .map(|id| groups.iter().filter(|g| g.0 == *id).map(|g| g.1).collect())
            .collect();
        let schools = ids
            .iter()
            .map(|&id| {
                let mut rolls = [0u32; 7];
                for g in groups.iter().filter(|g| g.0 == id) {
                    rolls[g.1 as usize] = g.2 + g.2 / 5;
                }
                release::school(id, 5, rolls)
            })
            .collect();
        let cohort = release::Cohort { cpp_id: 5, groups: groups.clone(), partial_every: 0, seed };
        let tally = release::tally(&q, &layout, &cohort);
        let unit = release::unit(&layout, &rule, Some(release::cpp(5)), schools, &tally);
        // Always the sex table and a routed table; then a random sample.
        let mut chosen: Vec<usize> = vec![0];
        chosen.extend(
            layout.tables.iter().position(|t| t.id.as_str() == "s_bullied_where"),
        );
        chosen.extend(sample.iter().map(|i| i.index(unit.tables.len())));
        chosen.sort_unstable();
        chosen.dedup();
        let tables: Vec<PublishedTable> =
            chosen.iter().map(|&t| unit.tables[t].clone()).collect();
        let narrow = narrow_cells(&layout, &tables, &rule, &stages);
        prop_assert!(narrow.is_empty(), "{} small hidden counts narrowed: {:?}", narrow.len(), &narrow[..narrow.len().min(5)]);
    }
}
