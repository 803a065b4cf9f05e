//! What a reader can learn about each hidden cell by linear programming over
//! everything they know: the published cells, every relation (sums), every
//! inequality (routing, options at most their base) and that no count is
//! negative.
//!
//! For one hidden cell the smallest and largest value it can take are the
//! optima of two linear programs. A reader knows counts are whole numbers, so
//! a range is rounded inwards to whole numbers. Two things are checked for
//! each cell asked about:
//! - **not pinned**: its range holds at least two whole numbers;
//! - **interval protection** for a cell hidden for being small: its range
//!   contains 0 (a reader cannot tell whether anyone is in it), or is at
//!   least [`Rule::range_min`] wide.
//!
//! Where zeros are published, hidden zeros are not checked: a reader who can
//! tell one is zero learns what a published zero would have told them.
//!
//! **Whole components, warm-started.** Hidden cells fall into components:
//! cells linked through constraints they share. Cells of different
//! components share no constraint, so a cell's range over its component is
//! its range over the whole release. Each component's program is solved once;
//! every optimum after that is reached from that solution by a few steps of
//! the dual simplex method, by tying a spare unknown (the only one with a
//! cost) to the cell or sum of cells of interest. Programs over sums of
//! many cells come first: a point where many small cells are 0 at once
//! settles all of them, and every feasible point seen widens the seen range
//! of every cell of the component. A seen range lies within the cell's true
//! range, so a cell whose seen range already holds 0, or is already wide
//! enough, needs no optimum of its own.
//!
//! **Neighbourhoods, on the safe side.** When only a few cells of a large
//! component need checking again ([`check_only`] with `near`), each is
//! checked on its neighbourhood: a few hundred hidden cells around it, with
//! every other hidden cell held at its true value, as if it were published.
//! That can only make a range narrower than a reader can make it, so a cell
//! that passes there passes on the whole release; one that fails may get more
//! cells hidden around it than it needed.
//!
//! The solver is microlp: pure Rust, so it adds seconds to a cold build
//! where HiGHS would add minutes of C++ and a cmake dependency. It works in
//! floating point; values are compared with a tolerance far below one pupil.
//! A solver failure of any kind is an error, never a pass.

use std::panic::{AssertUnwindSafe, catch_unwind};

use microlp::{ComparisonOp, LinearExpr, OptimizationDirection, Variable};

use super::Rule;
use super::problem::{CellId, Problem};

/// Above any count the survey can hold (every pupil in Scotland several
/// times over). Bounding unknowns keeps every program bounded; a range that
/// reaches it is treated as open.
const CEILING: f64 = 1.0e7;
/// Far below one pupil, far above the solver's own tolerance.
const EPS: f64 = 1.0e-5;

/// Why a pattern does not hold, found by linear programming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The cell can take only one whole value.
    /// `exact` when no other value is feasible even allowing fractions, so
    /// that publishing the cell would tell a reader nothing new.
    Pinned {
        cell: CellId,
        value: u64,
        exact: bool,
    },
    /// A cell hidden for being small lies in `lo..=hi`, which excludes 0 and
    /// is narrower than the rule allows.
    Narrow { cell: CellId, lo: u64, hi: u64 },
}

impl Finding {
    pub fn cell(&self) -> CellId {
        match self {
            Finding::Pinned { cell, .. } | Finding::Narrow { cell, .. } => *cell,
        }
    }
}

/// The solver failed; the pattern cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the range check could not be completed: {0}")]
pub struct SolverError(pub String);

/// One linear constraint over hidden cells: `Σ coef·x (op) rhs`.
struct Row {
    terms: Vec<(usize, f64)>,
    op: ComparisonOp,
    rhs: f64,
}

/// Checks the hidden cells marked in `only` (all when `None`) of `hidden`
/// (a mask over the problem's cells). `primary[c]` says the cell is hidden
/// for being small. Findings are in cell order.
/// The programs still hold every hidden cell linked to them, unless `near`:
/// then a cell of a large component is checked on its neighbourhood only,
/// which may report a cell that would pass on the whole release, never the
/// other way round.
pub fn check_only(
    problem: &Problem,
    hidden: &[bool],
    primary: &[bool],
    rule: &Rule,
    only: Option<&[bool]>,
    near: bool,
) -> Result<Vec<Finding>, SolverError> {
    let n = problem.len();
    let values = problem.values();
    let (rows, rows_of) = hidden_rows(problem, hidden);

    let mut low: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    let mut high = low.clone();
    let mut findings = Vec::new();
    // Where zeros are published, a hidden zero is not checked: a reader who
    // can tell it is zero learns what a published zero would have told them.
    let worth_checking = |c: usize| values[c] > 0 || !rule.publish_zeros;
    let checks = Checks {
        values,
        primary,
        rule,
    };
    let mut in_component = vec![false; n];
    for start in 0..n {
        if !hidden[start] || in_component[start] {
            continue;
        }
        let component = Component::of(start, &rows, &rows_of, &mut in_component);
        let todo: Vec<usize> = component
            .cells
            .iter()
            .copied()
            .filter(|&c| worth_checking(c) && only.is_none_or(|o| o[c]))
            .collect();
        // In a large component, cells may be checked each on its
        // neighbourhood, with every other hidden cell held at its true
        // value, as if it were published. That can only narrow a range, so
        // a cell that passes there passes on the whole release; one that
        // fails is reported, though it might pass on the whole. A cell a
        // point seen earlier already settles needs no program of its own.
        if near && component.cells.len() > LOCAL_FROM {
            for c in todo {
                if checks.settled(c, &low, &high) {
                    continue;
                }
                let local = Component::around(c, &rows, &rows_of, values);
                findings.extend(checks.settle(&local, &[c], (&mut low, &mut high))?);
            }
            continue;
        }
        if !todo.is_empty() {
            findings.extend(checks.settle(&component, &todo, (&mut low, &mut high))?);
        }
    }
    findings.sort_by_key(Finding::cell);
    Ok(findings)
}

/// The problem's constraints over the cells hidden in `hidden`, published
/// cells moved to the right-hand side, and the constraints each cell is in.
fn hidden_rows(problem: &Problem, hidden: &[bool]) -> (Vec<Row>, Vec<Vec<u32>>) {
    let values = problem.values();
    // Constraints over hidden cells, published cells moved to the right.
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |terms: Vec<(usize, i64)>, op: ComparisonOp, offset: i64| {
        let mut rhs = offset as f64;
        let mut hidden_terms: Vec<(usize, f64)> = Vec::new();
        for (c, coef) in terms {
            if hidden[c] {
                match hidden_terms.iter_mut().find(|t| t.0 == c) {
                    Some(t) => t.1 += coef as f64,
                    None => hidden_terms.push((c, coef as f64)),
                }
            } else {
                rhs -= coef as f64 * values[c] as f64;
            }
        }
        hidden_terms.retain(|t| t.1 != 0.0);
        if !hidden_terms.is_empty() {
            rows.push(Row {
                terms: hidden_terms,
                op,
                rhs,
            });
        }
    };
    for rel in problem.relations() {
        let terms = std::iter::once((rel.total.index(), 1))
            .chain(rel.parts.iter().map(|p| (p.index(), -1)))
            .collect();
        push(terms, ComparisonOp::Eq, 0);
    }
    for ineq in problem.at_most() {
        let terms = ineq
            .smaller
            .iter()
            .map(|c| (c.index(), 1))
            .chain(ineq.larger.iter().map(|c| (c.index(), -1)))
            .collect();
        push(terms, ComparisonOp::Le, ineq.offset);
    }
    let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); problem.len()];
    for (r, row) in rows.iter().enumerate() {
        for &(c, _) in &row.terms {
            rows_of[c].push(r as u32);
        }
    }

    (rows, rows_of)
}

/// Components larger than this are checked on neighbourhoods when near
/// enough will do.
const LOCAL_FROM: usize = 256;
/// Hidden cells in a neighbourhood.
const REACH: usize = 128;
/// Hidden cells each constraint brings into a neighbourhood.
const PER_ROW: usize = 4;

/// What the checks of one pattern share.
struct Checks<'a> {
    values: &'a [u64],
    primary: &'a [bool],
    rule: &'a Rule,
}

impl Checks<'_> {
    /// Checks `todo` (cells of `component`) by linear programming over the
    /// component, widening `low` and `high` to every feasible point seen.
    /// Returns the cells that fail: over a whole component these are
    /// findings, over a neighbourhood only cells to check further.
    fn settle(
        &self,
        component: &Component,
        todo: &[usize],
        (low, high): (&mut [f64], &mut [f64]),
    ) -> Result<Vec<Finding>, SolverError> {
        let values = self.values;
        let needs_zero = |c: usize| self.primary[c] && values[c] > 0;
        let pinned = |c: usize, low: &[f64], high: &[f64]| high[c] - low[c] < 1.0 - EPS;
        let cells = &component.cells;
        let open: Vec<usize> = todo
            .iter()
            .filter_map(|c| cells.binary_search(c).ok())
            .collect();
        let mut lp = component.program()?;
        see(cells, &lp.point, (low, high));

        // First, programs over the sum of many cells at once: the smallest
        // sum of the small cells not yet seen at 0 (most reach 0 together),
        // the largest and smallest sum of the cells not yet seen at two
        // values. Repeated while a round settles at least a quarter of what
        // was left.
        let mut unsettled = usize::MAX;
        loop {
            let zero: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&j| {
                    let c = cells[j];
                    needs_zero(c) && low[c] > EPS && !self.wide(low[c], high[c])
                })
                .collect();
            let pin: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&j| pinned(cells[j], low, high))
                .collect();
            let count = zero.len() + pin.len();
            if count == 0 || count.saturating_mul(4) > unsettled.saturating_mul(3) {
                break;
            }
            unsettled = count;
            if !zero.is_empty() {
                see(cells, &lp.optimum(&zero, false)?.1, (low, high));
            }
            if !pin.is_empty() {
                see(cells, &lp.optimum(&pin, true)?.1, (low, high));
                see(cells, &lp.optimum(&pin, false)?.1, (low, high));
            }
        }

        // Then each cell still unsettled on its own: its smallest and
        // largest value.
        let mut findings = Vec::new();
        for &j in &open {
            let c = cells[j];
            let is_primary = needs_zero(c);
            // Seen to exclude 0 and not yet seen to be wide enough. Every
            // range seen lies within the cell's true range, so a cell seen
            // wide enough needs neither optimum.
            let narrow = |low: &[f64], high: &[f64]| {
                is_primary && low[c] > EPS && !self.wide(low[c], high[c])
            };
            if narrow(low, high) {
                let (min, x) = lp.optimum(&[j], false)?;
                see(cells, &x, (low, high));
                low[c] = low[c].min(min);
            }
            if pinned(c, low, high) || narrow(low, high) {
                let (max, x) = lp.optimum(&[j], true)?;
                see(cells, &x, (low, high));
                high[c] = high[c].max(max);
            }
            if pinned(c, low, high) {
                let (min, x) = lp.optimum(&[j], false)?;
                see(cells, &x, (low, high));
                low[c] = low[c].min(min);
            }
            let finding = if pinned(c, low, high) {
                Some(Finding::Pinned {
                    cell: CellId::from_index(c),
                    value: values[c],
                    exact: high[c] - low[c] < EPS,
                })
            } else if narrow(low, high) {
                let (lo, hi) = whole(low[c], high[c]);
                Some(Finding::Narrow {
                    cell: CellId::from_index(c),
                    lo,
                    hi,
                })
            } else {
                None
            };
            findings.extend(finding);
        }
        Ok(findings)
    }

    /// Whether cell `c` is seen to pass: its seen range holds two whole
    /// numbers, and if it needs protecting as small, holds 0 or is wide
    /// enough. Every seen range lies within the cell's true range.
    fn settled(&self, c: usize, low: &[f64], high: &[f64]) -> bool {
        let small = self.primary[c] && self.values[c] > 0;
        high[c] - low[c] >= 1.0 - EPS && !(small && low[c] > EPS && !self.wide(low[c], high[c]))
    }

    /// Whether a range `low..=high` of a small cell is wide enough: open
    /// (it reaches [`CEILING`]) or holding whole numbers at least
    /// [`Rule::range_min`] apart.
    fn wide(&self, low: f64, high: f64) -> bool {
        let (lo, hi) = whole(low, high);
        high >= CEILING - 1.0 || hi - lo >= self.rule.range_min()
    }
}

/// Widens the seen range of each of `cells` to take in the feasible point
/// `x`.
fn see(cells: &[usize], x: &[f64], (low, high): (&mut [f64], &mut [f64])) {
    for (&cell, &v) in cells.iter().zip(x) {
        low[cell] = low[cell].min(v);
        high[cell] = high[cell].max(v);
    }
}

/// The whole numbers within `[low, high]`, as their first and last.
fn whole(low: f64, high: f64) -> (u64, u64) {
    let lo = (low - EPS).ceil().max(0.0) as u64;
    let hi = (high + EPS).floor().max(0.0) as u64;
    (lo, hi.max(lo))
}

/// A constraint of a component: unknowns by position, comparison,
/// right-hand side.
type LocalRow = (Vec<(usize, f64)>, ComparisonOp, f64);

/// The hidden cells linked to one another through shared constraints, and
/// every constraint they are in. Hidden cells of different components share
/// no constraint, so a cell's range over its component is its range over
/// the whole release.
struct Component {
    cells: Vec<usize>,
    rows: Vec<LocalRow>,
}

impl Component {
    /// The component of hidden cell `start`, marking its cells in `seen`.
    fn of(start: usize, rows: &[Row], rows_of: &[Vec<u32>], seen: &mut [bool]) -> Self {
        let mut cells = vec![start];
        seen[start] = true;
        let mut row_ids = Vec::new();
        let mut used = std::collections::HashSet::new();
        let mut next = 0;
        while next < cells.len() {
            let c = cells[next];
            next += 1;
            for &r in &rows_of[c] {
                if !used.insert(r) {
                    continue;
                }
                row_ids.push(r);
                for &(m, _) in &rows[r as usize].terms {
                    if !std::mem::replace(&mut seen[m], true) {
                        cells.push(m);
                    }
                }
            }
        }
        cells.sort_unstable();
        row_ids.sort_unstable();
        let rows = row_ids
            .iter()
            .map(|&r| {
                let row = &rows[r as usize];
                let terms = row
                    .terms
                    .iter()
                    .map(|&(c, a)| (cells.binary_search(&c).unwrap_or(0), a))
                    .collect();
                (terms, row.op, row.rhs)
            })
            .collect();
        Self { cells, rows }
    }

    /// The hidden cells nearest `cell` (by shared constraints, breadth
    /// first), at most [`REACH`] of them, and every constraint they are in,
    /// with the other hidden cells of those constraints held at their true
    /// values.
    fn around(cell: usize, rows: &[Row], rows_of: &[Vec<u32>], values: &[u64]) -> Self {
        let mut cells = vec![cell];
        let mut seen = std::collections::HashSet::from([cell]);
        let mut used = std::collections::HashSet::new();
        let mut next = 0;
        // Each constraint brings in at most a few of its cells, the largest
        // first (they leave the most room), so that every constraint of the
        // cells near `cell` gets some, however long the constraint.
        let mut picks: Vec<usize> = Vec::new();
        'grow: while next < cells.len() {
            let c = cells[next];
            next += 1;
            for &r in &rows_of[c] {
                if !used.insert(r) {
                    continue;
                }
                picks.clear();
                picks.extend(
                    rows[r as usize]
                        .terms
                        .iter()
                        .map(|t| t.0)
                        .filter(|m| !seen.contains(m)),
                );
                picks.sort_unstable_by_key(|&m| (std::cmp::Reverse(values[m]), m));
                for &m in picks.iter().take(PER_ROW) {
                    if cells.len() == REACH {
                        break 'grow;
                    }
                    seen.insert(m);
                    cells.push(m);
                }
            }
        }
        cells.sort_unstable();
        let mut row_ids: Vec<u32> = cells
            .iter()
            .flat_map(|&c| rows_of[c].iter().copied())
            .collect();
        row_ids.sort_unstable();
        row_ids.dedup();
        let rows = row_ids
            .iter()
            .map(|&r| {
                let row = &rows[r as usize];
                let mut rhs = row.rhs;
                let mut terms = Vec::with_capacity(row.terms.len());
                for &(c, a) in &row.terms {
                    match cells.binary_search(&c) {
                        Ok(j) => terms.push((j, a)),
                        Err(_) => rhs -= a * values[c] as f64,
                    }
                }
                (terms, row.op, rhs)
            })
            .collect();
        Self { cells, rows }
    }

    /// The component's program, solved once; each later optimum starts
    /// from its solution.
    fn program(&self) -> Result<Program, SolverError> {
        let reduced = Reduced::of(self)?;
        // One extra unknown, the probe `p`, is the only one with a cost:
        // minimised and otherwise free, it rests at 0. Tying it to a cell
        // (`p = x`, or `p = CEILING - x`) and minimising again gives that
        // cell's smallest (or largest) value, from the solution at hand (a
        // few steps of the dual simplex method, not a new solve).
        let (vars, probe, base) = guarded(|| {
            let (lp, mut vars) = reduced.build(OptimizationDirection::Minimize, &[], true);
            let probe = vars.pop().expect("the probe is the last unknown");
            Ok((vars, probe, solved(&lp)?))
        })?;
        let point = reduced.point(&vars, &base);
        Ok(Program {
            reduced,
            vars,
            probe,
            base,
            point,
        })
    }
}

/// A component's program with every equation between exactly two unknowns
/// used to write one of them in terms of the other: `x = ±y + k`. Such
/// equations are common (a small cell and the one cell hidden to protect
/// it, in a sum whose other cells are published), and each one taken out
/// removes an unknown and a constraint from the program, making every
/// step of the solver cheaper. The program is the same one, written
/// differently: the bounds `0 ≤ x ≤ CEILING` of an unknown written away
/// become bounds on the one it is written in terms of, and every other
/// constraint is kept, with the unknown replaced, except one left on a
/// single unknown, which becomes a bound on it (an option hidden below its
/// published base). Coefficients are ±1 and the constants whole numbers,
/// so the rewriting is exact.
struct Reduced {
    /// For each cell of the component (by position): the unknown it is
    /// written in terms of (by position among `bounds`), with sign and
    /// constant.
    cells: Vec<(usize, f64, f64)>,
    /// Each unknown's bounds.
    bounds: Vec<(f64, f64)>,
    /// The constraints over the unknowns.
    rows: Vec<LocalRow>,
}

impl Reduced {
    fn of(component: &Component) -> Result<Self, SolverError> {
        let n = component.cells.len();
        // Each cell as sign·x[root] + shift, and the cells written in terms
        // of each root.
        let mut of: Vec<(usize, f64, f64)> = (0..n).map(|j| (j, 1.0, 0.0)).collect();
        let mut members: Vec<Vec<usize>> = (0..n).map(|j| vec![j]).collect();
        let mut used = vec![false; component.rows.len()];
        let mut changed = true;
        while changed {
            changed = false;
            for (r, (terms, op, rhs)) in component.rows.iter().enumerate() {
                if used[r] || !matches!(op, ComparisonOp::Eq) {
                    continue;
                }
                let (sub, rhs) = substitute(terms, *rhs, &of);
                let [(keep, a), (gone, b)] = sub[..] else {
                    continue;
                };
                if a.abs() != 1.0 || b.abs() != 1.0 {
                    continue;
                }
                // a·x[keep] + b·x[gone] = rhs, so x[gone] = s·x[keep] + k.
                let (s, k) = (-a / b, rhs / b);
                for m in std::mem::take(&mut members[gone]) {
                    let (_, sm, km) = of[m];
                    of[m] = (keep, sm * s, sm * k + km);
                    members[keep].push(m);
                }
                used[r] = true;
                changed = true;
            }
        }
        let mut index = vec![usize::MAX; n];
        let mut bounds = Vec::new();
        for (j, slot) in index.iter_mut().enumerate() {
            if of[j].0 == j {
                *slot = bounds.len();
                bounds.push((0.0, CEILING));
            }
        }
        // 0 ≤ s·x + k ≤ CEILING for every cell written as s·x + k.
        for &(root, s, k) in &of {
            let (lo, hi): &mut (f64, f64) = &mut bounds[index[root]];
            let (a, b) = if s > 0.0 {
                (-k, CEILING - k)
            } else {
                (k - CEILING, k)
            };
            *lo = lo.max(a);
            *hi = hi.min(b);
        }
        let mut rows = Vec::new();
        for (r, (terms, op, rhs)) in component.rows.iter().enumerate() {
            if used[r] {
                continue;
            }
            let (sub, rhs) = substitute(terms, *rhs, &of);
            if sub.is_empty() {
                // Nothing left but a comparison of whole numbers, which the
                // true values meet; one they do not means a bug upstream.
                let holds = match op {
                    ComparisonOp::Eq => rhs.abs() < 0.5,
                    ComparisonOp::Le => rhs > -0.5,
                    ComparisonOp::Ge => rhs < 0.5,
                };
                if !holds {
                    return Err(SolverError(
                        "a constraint contradicts the true values".into(),
                    ));
                }
                continue;
            }
            // A constraint on one unknown alone is a bound on it.
            if let [(root, a)] = sub[..]
                && a.abs() == 1.0
            {
                let (lo, hi): &mut (f64, f64) = &mut bounds[index[root]];
                let at = rhs / a;
                let (below, above) = match op {
                    ComparisonOp::Eq => (true, true),
                    ComparisonOp::Le => (a > 0.0, a < 0.0),
                    ComparisonOp::Ge => (a < 0.0, a > 0.0),
                };
                // `below`: the unknown is at most `at`; `above`: at least.
                if below {
                    *hi = hi.min(at);
                }
                if above {
                    *lo = lo.max(at);
                }
                continue;
            }
            let terms = sub.into_iter().map(|(root, a)| (index[root], a)).collect();
            rows.push((terms, *op, rhs));
        }
        let cells = of
            .into_iter()
            .map(|(root, s, k)| (index[root], s, k))
            .collect();
        Ok(Self {
            cells,
            bounds,
            rows,
        })
    }

    /// `Σ sign·x[j]` over cells `js`, as terms over the unknowns and a
    /// constant.
    fn sum(&self, js: &[usize], sign: f64) -> (Vec<(usize, f64)>, f64) {
        let mut terms: Vec<(usize, f64)> = Vec::new();
        let mut constant = 0.0;
        for &j in js {
            let (v, s, k) = self.cells[j];
            match terms.iter_mut().find(|t| t.0 == v) {
                Some(t) => t.1 += sign * s,
                None => terms.push((v, sign * s)),
            }
            constant += sign * k;
        }
        terms.retain(|t| t.1 != 0.0);
        (terms, constant)
    }

    /// The program, with a cost of 1 on the sum of cells `js` and, if
    /// `probe`, one more unknown (last) with a cost of 1.
    fn build(
        &self,
        direction: OptimizationDirection,
        js: &[usize],
        probe: bool,
    ) -> (microlp::Problem, Vec<Variable>) {
        let mut lp = microlp::Problem::new(direction);
        let mut weights = vec![0.0; self.bounds.len()];
        for (v, a) in self.sum(js, 1.0).0 {
            weights[v] = a;
        }
        let mut vars: Vec<Variable> = weights
            .iter()
            .zip(&self.bounds)
            .map(|(&w, &b)| lp.add_var(w, b))
            .collect();
        if probe {
            vars.push(lp.add_var(1.0, (0.0, CEILING)));
        }
        for (terms, op, rhs) in &self.rows {
            let mut expr = LinearExpr::empty();
            for &(k, a) in terms {
                expr.add(vars[k], a);
            }
            lp.add_constraint(expr, *op, *rhs);
        }
        (lp, vars)
    }

    /// The cells' values at a solution.
    fn point(&self, vars: &[Variable], solution: &microlp::Solution) -> Vec<f64> {
        let values: Vec<f64> = vars.iter().map(|v| solution.var_value(*v)).collect();
        self.cells
            .iter()
            .map(|&(v, s, k)| s * values[v] + k)
            .collect()
    }
}

/// `terms` (over cells) and `rhs` with each cell written as in `of`: terms
/// over roots, merged, without zeros, in root order.
fn substitute(
    terms: &[(usize, f64)],
    rhs: f64,
    of: &[(usize, f64, f64)],
) -> (Vec<(usize, f64)>, f64) {
    let mut sub: Vec<(usize, f64)> = Vec::with_capacity(terms.len());
    let mut rhs = rhs;
    for &(j, a) in terms {
        let (root, s, k) = of[j];
        rhs -= a * k;
        match sub.iter_mut().find(|t| t.0 == root) {
            Some(t) => t.1 += a * s,
            None => sub.push((root, a * s)),
        }
    }
    sub.retain(|t| t.1 != 0.0);
    sub.sort_unstable_by_key(|t| t.0);
    (sub, rhs)
}

/// Solves `lp` to the end.
fn solved(lp: &microlp::Problem) -> Result<microlp::Solution, microlp::Error> {
    lp.solve()?
        .into_solution()
        .map_err(|_| microlp::Error::InternalError("the solve was interrupted".into()))
}

/// A component's program and its solution.
struct Program {
    reduced: Reduced,
    vars: Vec<Variable>,
    probe: Variable,
    base: microlp::Solution,
    /// The base solution's values of the cells.
    point: Vec<f64>,
}

impl Program {
    /// The smallest or largest sum of cells `js`, with a point attaining it.
    fn optimum(&mut self, js: &[usize], maximise: bool) -> Result<(f64, Vec<f64>), SolverError> {
        let warm = guarded(|| {
            let mut expr = LinearExpr::empty();
            expr.add(self.probe, 1.0);
            let sign = if maximise { 1.0 } else { -1.0 };
            let (terms, constant) = self.reduced.sum(js, sign);
            for (v, a) in terms {
                expr.add(self.vars[v], a);
            }
            let rhs = if maximise { CEILING } else { 0.0 } - constant;
            let solution = self
                .base
                .clone()
                .add_constraint(expr, ComparisonOp::Eq, rhs)?
                .into_solution()
                .map_err(|_| microlp::Error::InternalError("the solve was interrupted".into()))?;
            Ok(self.reduced.point(&self.vars, &solution))
        });
        // The warm start is only a shortcut: if it fails, solve anew.
        let x = match warm {
            Ok(x) => x,
            Err(_) => self.cold(js, maximise)?,
        };
        let sum = js.iter().map(|&j| x[j]).sum();
        Ok((sum, x))
    }

    /// [`Program::optimum`] by a program of its own.
    fn cold(&self, js: &[usize], maximise: bool) -> Result<Vec<f64>, SolverError> {
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        guarded(|| {
            let (lp, vars) = self.reduced.build(direction, js, false);
            let solution = solved(&lp)?;
            Ok(self.reduced.point(&vars, &solution))
        })
    }
}

/// Runs a solver call, turning its errors and panics into [`SolverError`].
fn guarded<T>(run: impl FnOnce() -> Result<T, microlp::Error>) -> Result<T, SolverError> {
    match catch_unwind(AssertUnwindSafe(run)) {
        Ok(Ok(x)) => Ok(x),
        Ok(Err(e)) => Err(SolverError(format!("{e:?}"))),
        Err(_) => Err(SolverError("the solver stopped unexpectedly".into())),
    }
}
