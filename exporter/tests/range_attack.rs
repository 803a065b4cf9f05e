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
//!   option is at most the base (multiple choice);
//! - from the codebook's routing, that in every group (a school at a stage,
//!   a stage and sex) the pupils who answered a routed question are at most
//!   those who gave an answer that routes to it, so a routed question and
//!   the question it routes on are attacked as one program;
//! - from `response_rates.csv`, how many pupils responded at each school
//!   and at each stage (and band) of the partnership, where published; from
//!   the public school rolls, at most how many could respond at each school
//!   and stage; and that in every group the pupils who answered a question
//!   are at most those who responded there. How many responded at one
//!   school and stage is an unknown of the program, between those sums.
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
use exporter::disclose::{
    Line, Linked, PublishedTable, RateLine, Responses, publish_rates, publish_table, routes_on,
};
use exporter::layout::{Layout, StageLevel};
use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Problem, Variable};
use survey_defs::{Questionnaire, Stage};

/// A cell of a family of tables: a table (by its place in the family), a
/// line and a slot.
type Cell = (usize, usize, usize);

/// A finest position a table publishes: a stage and sex in the grid, or a
/// school at a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Finest {
    Grid(Stage, usize),
    School(usize, Stage),
}

/// Cells of the program that are no table's: a school's responses at a
/// stage, `(RESPONDED, school, stage)`, always unknown; and numbers the
/// reader knows from elsewhere, `(KNOWN, index, 0)`.
const RESPONDED: usize = usize::MAX;
const KNOWN: usize = usize::MAX - 1;

/// What a reader knows of a partnership's responses: its published
/// response rates, and each school's roll by stage (public).
struct Responded<'a> {
    rates: &'a [RateLine],
    rolls: Vec<[u32; 7]>,
}

/// The reader's program for a question and the questions routed on it: a
/// variable per hidden cell.
struct Reader<'a> {
    tables: Vec<&'a PublishedTable>,
    /// The numbers of the cells `(KNOWN, i, 0)`.
    known: Vec<f64>,
    vars: HashMap<Cell, usize>,
    /// `Σ coef·cell (op) 0`, published cells included as constants.
    rows: Vec<(Vec<(Cell, f64)>, ComparisonOp)>,
    /// The component of each variable: variables that share no row, even
    /// through others, bound each other in no way, so each optimum needs
    /// only its variable's component.
    component: Vec<usize>,
}

/// The relations one table's own lines tell: sums and the base.
/// `single[s]`: the one stage of the table school `s` has pupils at, for a
/// school with one (its report shows which).
fn table_rows(
    t: usize,
    table: &PublishedTable,
    additive: bool,
    single: &HashMap<usize, Stage>,
) -> Vec<(Vec<(Cell, f64)>, ComparisonOp)> {
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
            let mut terms = vec![((t, *total, k), 1.0)];
            terms.extend(parts.iter().map(|&p| ((t, p, k), -1.0)));
            rows.push((terms, ComparisonOp::Eq));
        }
    }
    let base = width - 1;
    for i in 0..lines.len() {
        if additive {
            let mut terms = vec![((t, i, base), 1.0)];
            terms.extend((0..base).map(|k| ((t, i, k), -1.0)));
            rows.push((terms, ComparisonOp::Eq));
        } else {
            for k in 0..base {
                rows.push((
                    vec![((t, i, k), 1.0), ((t, i, base), -1.0)],
                    ComparisonOp::Le,
                ));
            }
        }
    }
    rows
}

/// The line of each finest position of a table.
fn finest_lines(table: &PublishedTable, single: &HashMap<usize, Stage>) -> HashMap<Finest, usize> {
    let mut at = HashMap::new();
    for (i, line) in table.lines.iter().enumerate() {
        let position = match (line.school, line.stage, line.sex) {
            (None, StageLevel::Stage(s), Some(x)) => Finest::Grid(s, x),
            (Some(school), StageLevel::Stage(s), None) => Finest::School(school, s),
            (Some(school), StageLevel::All, None) => match single.get(&school) {
                Some(&s) => Finest::School(school, s),
                None => continue,
            },
            _ => continue,
        };
        at.insert(position, i);
    }
    at
}

impl<'a> Reader<'a> {
    /// The program over `tables`, a question and questions routed on it (or
    /// one table): each table's own relations and, from the codebook's
    /// routing, that in every group the answerers of a routed question are
    /// at most the pupils who gave an answer that routes to it.
    fn new(
        layout: &Layout,
        tables: Vec<&'a PublishedTable>,
        stages: &[Vec<Stage>],
        responded: Option<&Responded<'_>>,
    ) -> Self {
        let singles: Vec<HashMap<usize, Stage>> = tables
            .iter()
            .map(|t| single_stages(&layout.tables[t.table], stages))
            .collect();
        let mut rows = Vec::new();
        for (t, table) in tables.iter().enumerate() {
            let def = &layout.tables[table.table];
            rows.extend(table_rows(t, table, def.additive, &singles[t]));
        }
        for (t, table) in tables.iter().enumerate() {
            let Some(route) = &layout.tables[table.table].route else {
                continue;
            };
            let Some(p) = tables.iter().position(|o| o.table == route.parent) else {
                continue;
            };
            let above = finest_lines(tables[p], &singles[p]);
            let base = table.lines[0].counts.len() - 1;
            for (position, i) in finest_lines(table, &singles[t]) {
                let Some(&j) = above.get(&position) else {
                    continue;
                };
                let mut terms = vec![((t, i, base), 1.0)];
                terms.extend(route.categories.iter().map(|&k| ((p, j, k), -1.0)));
                rows.push((terms, ComparisonOp::Le));
            }
        }
        let mut known = Vec::new();
        let mut vars = HashMap::new();
        if let Some(responded) = responded {
            let mut constant = |value: u32| {
                known.push(f64::from(value));
                ((KNOWN, known.len() - 1, 0), -1.0)
            };
            for (s, at) in stages.iter().enumerate() {
                for &g in at {
                    let cell = (RESPONDED, s, g as usize);
                    let next = vars.len();
                    vars.insert(cell, next);
                    let roll = responded.rolls[s][g as usize];
                    rows.push((vec![(cell, 1.0), constant(roll)], ComparisonOp::Le));
                }
            }
            for rate in responded.rates.iter().filter(|r| !r.hidden) {
                let mut terms: Vec<(Cell, f64)> = Vec::new();
                for (s, at) in stages.iter().enumerate() {
                    if rate.school.is_some_and(|school| school != s) {
                        continue;
                    }
                    for &g in at {
                        if rate.stage.stages().contains(g) {
                            terms.push(((RESPONDED, s, g as usize), 1.0));
                        }
                    }
                }
                terms.push(constant(rate.responses));
                rows.push((terms, ComparisonOp::Eq));
            }
            for (t, table) in tables.iter().enumerate() {
                let base = table.lines[0].counts.len() - 1;
                for (position, i) in finest_lines(table, &singles[t]) {
                    if let Finest::School(s, g) = position {
                        let terms = vec![((t, i, base), 1.0), ((RESPONDED, s, g as usize), -1.0)];
                        rows.push((terms, ComparisonOp::Le));
                    }
                }
            }
        }
        for (t, table) in tables.iter().enumerate() {
            for (i, line) in table.lines.iter().enumerate() {
                for (k, hidden) in line.hidden.iter().enumerate() {
                    if *hidden {
                        let next = vars.len();
                        vars.insert((t, i, k), next);
                    }
                }
            }
        }
        let mut parent: Vec<usize> = (0..vars.len()).collect();
        fn find(parent: &mut [usize], mut v: usize) -> usize {
            while parent[v] != v {
                parent[v] = parent[parent[v]];
                v = parent[v];
            }
            v
        }
        for (terms, _) in &rows {
            let mut in_row = terms.iter().filter_map(|(c, _)| vars.get(c).copied());
            if let Some(first) = in_row.next() {
                for v in in_row {
                    let (a, b) = (find(&mut parent, first), find(&mut parent, v));
                    parent[b] = a;
                }
            }
        }
        let component = (0..vars.len()).map(|v| find(&mut parent, v)).collect();
        Self {
            tables,
            known,
            vars,
            rows,
            component,
        }
    }

    fn value(&self, (t, i, k): Cell) -> f64 {
        if t == KNOWN {
            return self.known[i];
        }
        f64::from(self.tables[t].lines[i].counts[k])
    }

    /// The smallest or largest value of hidden cell `cell`, over the
    /// hidden cells of its component.
    fn optimum(&self, cell: Cell, maximise: bool) -> f64 {
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let own = self.component[self.vars[&cell]];
        let mut lp = Problem::new(direction);
        let mut order: Vec<(&Cell, &usize)> = self
            .vars
            .iter()
            .filter(|(_, v)| self.component[**v] == own)
            .collect();
        order.sort_by_key(|(_, v)| **v);
        let vars: HashMap<usize, Variable> = order
            .iter()
            .map(|(c, v)| {
                let objective = if **c == cell { 1.0 } else { 0.0 };
                (**v, lp.add_var(objective, (0.0, 1.0e7)))
            })
            .collect();
        for (terms, op) in &self.rows {
            let mut expr = LinearExpr::empty();
            let mut rhs = 0.0;
            let mut any = false;
            for (c, a) in terms {
                match self.vars.get(c) {
                    Some(v) => match vars.get(v) {
                        Some(&var) => {
                            expr.add(var, *a);
                            any = true;
                        }
                        // A variable of another component: this row is
                        // not of this component.
                        None => {
                            any = false;
                            break;
                        }
                    },
                    None => rhs -= a * self.value(*c),
                }
            }
            if any {
                lp.add_constraint(expr, *op, rhs);
            }
        }
        let solution = lp.solve().unwrap().into_solution().unwrap();
        solution.var_value(vars[&self.vars[&cell]])
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
///
/// A question and the question routed on it are attacked as one program.
/// Where several questions route on one (the services question's 24
/// follow-ups), each follow-up is attacked with that question, so that the
/// test stays quick: the exporter's own check holds every linked table at
/// once.
fn narrow_cells(
    layout: &Layout,
    tables: &[PublishedTable],
    responded: Option<&Responded<'_>>,
    rule: &Rule,
    stages: &[Vec<Stage>],
) -> Vec<String> {
    let mut programs: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for family in layout.families() {
        let present: Vec<usize> = family
            .iter()
            .copied()
            .filter(|t| tables.iter().any(|p| p.table == *t))
            .collect();
        match present[..] {
            [] => {}
            [_] | [_, _] | [_, _, _] => programs.push((present.clone(), present)),
            _ => {
                for &child in &present {
                    match &layout.tables[child].route {
                        Some(route) if present.contains(&route.parent) => {
                            programs.push((vec![route.parent, child], vec![child]));
                        }
                        _ => programs.push((vec![child], vec![child])),
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    for (program, attacked) in programs {
        let members: Vec<&PublishedTable> = program
            .iter()
            .map(|t| tables.iter().find(|p| p.table == *t).unwrap())
            .collect();
        let reader = Reader::new(layout, members, stages, responded);
        for (t, table) in reader.tables.iter().enumerate() {
            if !attacked.contains(&table.table) {
                continue;
            }
            let def = &layout.tables[table.table];
            for (i, line) in table.lines.iter().enumerate() {
                for (k, (&count, &hidden)) in line.counts.iter().zip(&line.hidden).enumerate() {
                    if !hidden || count == 0 || u64::from(count) >= rule.threshold {
                        continue;
                    }
                    let low = reader.optimum((t, i, k), false);
                    if low < 0.5 {
                        continue;
                    }
                    let high = reader.optimum((t, i, k), true);
                    let (lo, hi) = ((low - 1e-6).ceil(), (high + 1e-6).floor());
                    if hi - lo < rule.range_min() as f64 {
                        found.push(describe(def.id.as_str(), line, k, count, lo, hi));
                    }
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
    four_schools_with(&Layout::new(&q), seed)
}

/// [`four_schools`], published with `layout`.
fn four_schools_with(layout: &Layout, seed: u64) -> exporter::UnitResult {
    four_schools_of(&release::builtin(), layout, seed)
}

/// [`four_schools`], answering `q`, published with `layout`.
fn four_schools_of(q: &Questionnaire, layout: &Layout, seed: u64) -> exporter::UnitResult {
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
    let tally = release::tally(q, layout, &cohort);
    let schools = vec![
        release::school(41, 4, [30, 30, 30, 0, 0, 0, 0]),
        release::school(42, 4, [0, 40, 40, 0, 0, 0, 0]),
        release::school(43, 4, [0, 0, 0, 40, 40, 40, 0]),
        release::school(44, 4, [0, 0, 0, 0, 0, 30, 30]),
    ];
    release::unit(
        layout,
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
        let responded = Responded {
            rates: &unit.rates,
            rolls: unit.schools.iter().map(|s| s.rolls).collect(),
        };
        let found = narrow_cells(&layout, &unit.tables, Some(&responded), &rule, &stages);
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
    (2usize..=12, any::<u64>(), 100u32..=2000)
        .prop_map(|(schools, seed, pupils)| (release::spread(schools, seed, pupils), seed))
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
        let cohort = release::Cohort { cpp_id: 5, groups: groups.clone(), partial_every: 0, seed };
        let tally = release::tally(&q, &layout, &cohort);
        let (rows, rolls) = release::rolls(&groups, &tally);
        let rates = publish_rates(&tally, &rolls, &rule, "test", None).unwrap();
        let responses = Responses::new(&tally, &rolls, &rates);
        // Always the sex table and a routed table; then a random sample;
        // a routed table with the question it routes on, and a question
        // with its one follow-up. (The services questions' follow-ups are
        // attacked one at a time with their question: all 24 at once make
        // a program too slow for a test.)
        let mut picked: Vec<usize> = vec![0];
        picked.extend(
            layout.tables.iter().position(|t| t.id.as_str() == "s_bullied_where"),
        );
        picked.extend(sample.iter().map(|i| i.index(layout.tables.len())));
        let mut chosen: Vec<usize> = Vec::new();
        for t in picked {
            chosen.push(t);
            if let Some(route) = &layout.tables[t].route {
                chosen.push(route.parent);
            }
            if let Some(family) = layout.families().into_iter().find(|f| f[0] == t && f.len() == 2) {
                chosen.extend(family);
            }
        }
        chosen.sort_unstable();
        chosen.dedup();
        // Published in reverse layout order, each question routed on after
        // all its follow-ups, which its problem holds as published (as a
        // release does); only the chosen tables are attacked.
        let mut needed = chosen.clone();
        for &t in &chosen {
            needed.extend((0..layout.tables.len()).filter(|&f| routes_on(&layout, f, t)));
        }
        needed.sort_unstable();
        needed.dedup();
        let mut published: Vec<PublishedTable> = Vec::new();
        for &t in needed.iter().rev() {
            let follow_ups: Vec<&PublishedTable> = published
                .iter()
                .filter(|p| routes_on(&layout, p.table, t))
                .collect();
            let linked = Linked { follow_ups: &follow_ups, responses: Some(&responses) };
            let name = layout.tables[t].id.as_str();
            let table = publish_table(&tally, &rows, &layout, t, &rule, name, None, linked).unwrap();
            published.push(table);
        }
        let tables: Vec<PublishedTable> =
            published.into_iter().filter(|p| chosen.contains(&p.table)).collect();
        let responded = Responded {
            rates: &rates,
            rolls: rolls.iter().map(|r| r.1).collect(),
        };
        let narrow = narrow_cells(&layout, &tables, Some(&responded), &rule, &stages);
        prop_assert!(narrow.is_empty(), "{} small hidden counts narrowed: {:?}", narrow.len(), &narrow[..narrow.len().min(5)]);
    }
}

/// A follow-up protected on its own, as if routing told a reader nothing,
/// leaks: with the codebook's routing the reader narrows small counts of
/// the follow-up and of the question it routes on. Protected with what
/// routing tells, neither does.
#[test]
fn routing_narrows_counts_of_tables_protected_as_if_unlinked_but_not_of_linked_ones() {
    let q = release::builtin();
    let layout = Layout::new(&q);
    let mut unlinked = layout.clone();
    for t in &mut unlinked.tables {
        t.route = None;
    }
    let rule = Rule::default();
    let families: Vec<Vec<usize>> = layout
        .families()
        .into_iter()
        .filter(|f| {
            ["s_bullied", "s_alcohol_ever"]
                .iter()
                .any(|id| layout.tables[f[0]].id.as_str() == *id)
        })
        .collect();
    assert_eq!(families.len(), 2);
    let stages = vec![
        vec![Stage::P5, Stage::P6, Stage::P7],
        vec![Stage::P6, Stage::P7],
        vec![Stage::S1, Stage::S2, Stage::S3],
        vec![Stage::S3, Stage::S4],
    ];
    let publish = |layout: &Layout| -> exporter::UnitResult {
        let mut unit = four_schools_with(layout, 1);
        unit.tables
            .retain(|t| families.iter().any(|f| f.contains(&t.table)));
        unit
    };
    let narrowed = |unit: &exporter::UnitResult| {
        let responded = Responded {
            rates: &unit.rates,
            rolls: unit.schools.iter().map(|s| s.rolls).collect(),
        };
        narrow_cells(&layout, &unit.tables, Some(&responded), &rule, &stages)
    };
    let before = narrowed(&publish(&unlinked));
    assert!(
        !before.is_empty(),
        "routing was expected to narrow some count of tables protected as if unlinked"
    );
    let after = narrowed(&publish(&layout));
    assert!(after.is_empty(), "narrowed: {after:?}");
}

/// A follow-up of a follow-up: here, whether anything online upset the
/// pupil is asked only of pupils bullied online. The question at the top of
/// the chain is checked with both below it held as published, and the
/// reader, who attacks the three as one program, narrows nothing.
#[test]
fn a_chain_of_follow_ups_is_protected_as_one() {
    let asked = "id = \"s_online_upset\"\nstages = [\"secondary\"]\nkind = \"yes_no\"";
    let text = include_str!("../../survey-defs/questionnaires/wellbeing.toml");
    assert!(text.contains(asked));
    let text = text.replace(
        asked,
        &format!("{asked}\nshow_if = {{ question = \"s_bullied_where\", any_of = [\"online\"] }}"),
    );
    let q = survey_defs::load_str("chain.toml", &text)
        .unwrap()
        .questionnaire;
    let layout = Layout::new(&q);
    let at = |id: &str| {
        layout
            .tables
            .iter()
            .position(|t| t.id.as_str() == id)
            .unwrap()
    };
    let chain = [at("s_bullied"), at("s_bullied_where"), at("s_online_upset")];
    assert!(routes_on(&layout, chain[2], chain[0]));
    let rule = Rule::default();
    let stages = vec![
        vec![Stage::P5, Stage::P6, Stage::P7],
        vec![Stage::P6, Stage::P7],
        vec![Stage::S1, Stage::S2, Stage::S3],
        vec![Stage::S3, Stage::S4],
    ];
    for seed in [3, 11] {
        let mut unit = four_schools_of(&q, &layout, seed);
        unit.tables.retain(|t| chain.contains(&t.table));
        assert_eq!(unit.tables.len(), 3);
        let responded = Responded {
            rates: &unit.rates,
            rolls: unit.schools.iter().map(|s| s.rolls).collect(),
        };
        let found = narrow_cells(&layout, &unit.tables, Some(&responded), &rule, &stages);
        assert!(found.is_empty(), "seed {seed}: narrowed: {found:?}");
    }
}
