//! What a reader can learn about each hidden cell by linear programming over
//! everything they know: the published cells, every relation (sums), every
//! inequality (routing, options at most their base) and that no count is
//! negative.
//!
//! For one hidden cell the smallest and largest value it can take are the
//! optima of two linear programs. A reader knows counts are whole numbers, so
//! a range is rounded inwards to whole numbers. Two things are checked:
//! - **no hidden cell is pinned**: its range holds at least two whole numbers
//!   (zeros excepted where the rule publishes zeros: a hidden zero can only
//!   be pinned by a published zero of a larger group that holds it);
//! - **interval protection** for every cell hidden for being small: its range
//!   contains 0 (a reader cannot tell whether anyone is in it), or is at
//!   least [`Rule::range_min`] wide.
//!
//! **Local programs, on the safe side.** A national release hides hundreds
//! of thousands of cells, joined by relations into components of thousands;
//! two programs of that size per cell would take hours. Each cell is
//! therefore checked on its neighbourhood: the hidden cells reachable from
//! it through at most a few shared relations, up to [`FIRST_REACH`] cells,
//! with every other hidden cell held at its true value, as if it had been
//! published. That can only make a range narrower than a reader can really
//! make it, never wider, so a cell that passes on its neighbourhood passes on
//! the whole release. A cell that fails is checked again on a neighbourhood
//! four times as large, up to [`LAST_REACH`] cells, before it counts as a
//! finding (and gets more cells hidden around it). Every solution found is a
//! feasible point of the whole release, so it settles every cell of the
//! neighbourhood it moves by a whole unit, or moves to 0; most cells never
//! need a program of their own.
//!
//! The solver is microlp: pure Rust, so it adds seconds to a cold build
//! where HiGHS would add minutes of C++ and a cmake dependency, and fast on
//! these small programs. It works in floating point; values are compared
//! with a tolerance far below one pupil. A solver failure of any kind is an
//! error, never a pass.

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
    Pinned { cell: CellId, value: u64 },
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
    /// Every cell of the constraint, hidden or published.
    members: Vec<usize>,
}

/// What checks of one problem settled, kept from one pattern to the next.
/// A cell settled by programs none of whose cells changed between the two
/// patterns is settled again without solving anything: those programs are
/// exactly the same.
#[derive(Debug, Default)]
pub struct Memory {
    hidden: Vec<bool>,
    /// For every program solved: each cell its outcome depends on (its
    /// unknowns, and every cell of every constraint they are in).
    footprints: Vec<Vec<u32>>,
    /// The programs each settled cell was settled by.
    settled: std::collections::HashMap<usize, Vec<u32>>,
}

impl Memory {
    /// Forgets everything that depended on a cell whose status changed.
    fn update(&mut self, hidden: &[bool]) {
        if self.hidden.len() != hidden.len() {
            *self = Memory::default();
        } else {
            let changed: Vec<bool> = self
                .hidden
                .iter()
                .zip(hidden)
                .map(|(a, b)| a != b)
                .collect();
            let stale: Vec<bool> = self
                .footprints
                .iter()
                .map(|f| f.iter().any(|&c| changed[c as usize]))
                .collect();
            self.settled
                .retain(|_, by| by.iter().all(|&k| !stale[k as usize]));
        }
        self.hidden = hidden.to_vec();
    }
}

/// Hidden cells in a cell's first neighbourhood.
const FIRST_REACH: usize = 64;
/// Hidden cells in its largest neighbourhood.
const LAST_REACH: usize = 256;

/// Checks every hidden cell of `hidden` (a mask over the problem's cells).
/// `primary[c]` says the cell is hidden for being small. Findings are in
/// cell order.
pub fn check(
    problem: &Problem,
    hidden: &[bool],
    primary: &[bool],
    rule: &Rule,
) -> Result<Vec<Finding>, SolverError> {
    check_again(problem, hidden, primary, rule, &mut Memory::default())
}

/// [`check`], reusing what `memory` settled for an earlier pattern of the
/// same problem, and remembering what this one settles.
pub fn check_again(
    problem: &Problem,
    hidden: &[bool],
    primary: &[bool],
    rule: &Rule,
    memory: &mut Memory,
) -> Result<Vec<Finding>, SolverError> {
    memory.update(hidden);
    let n = problem.len();
    let values = problem.values();
    // Constraints over hidden cells, published cells moved to the right.
    let mut rows: Vec<Row> = Vec::new();
    let mut push = |terms: Vec<(usize, i64)>, op: ComparisonOp| {
        let members: Vec<usize> = terms.iter().map(|t| t.0).collect();
        let mut rhs = 0f64;
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
                members,
            });
        }
    };
    for rel in problem.relations() {
        let terms = std::iter::once((rel.total.index(), 1))
            .chain(rel.parts.iter().map(|p| (p.index(), -1)))
            .collect();
        push(terms, ComparisonOp::Eq);
    }
    for ineq in problem.at_most() {
        let terms = ineq
            .smaller
            .iter()
            .map(|c| (c.index(), 1))
            .chain(ineq.larger.iter().map(|c| (c.index(), -1)))
            .collect();
        push(terms, ComparisonOp::Le);
    }
    let mut rows_of: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (r, row) in rows.iter().enumerate() {
        for &(c, _) in &row.terms {
            rows_of[c].push(r as u32);
        }
    }

    let mut low: Vec<f64> = values.iter().map(|&v| v as f64).collect();
    let mut high = low.clone();
    let mut findings = Vec::new();
    let ctx = Context {
        rows: &rows,
        rows_of: &rows_of,
        values,
    };
    // The programs that moved each cell's range, this round.
    let mut moved_by: std::collections::HashMap<usize, Vec<u32>> = Default::default();
    let needs_zero = |c: usize| primary[c] && values[c] > 0;
    let worth_checking = |c: usize| values[c] > 0 || !rule.publish_zeros;

    // First, programs over whole components at once: the smallest sum of
    // the unsettled small cells (most reach 0 together), the largest and
    // smallest sum of the cells not yet seen at two values. Repeated while a
    // round settles at least a quarter of what was left.
    let mut in_component = vec![false; n];
    for c in (0..n).filter(|&c| hidden[c] && worth_checking(c)) {
        if in_component[c] || memory.settled.contains_key(&c) {
            continue;
        }
        let whole = ctx.neighbourhood(c, usize::MAX);
        for &m in &whole.cells {
            in_component[m] = true;
        }
        let footprint = memory.footprints.len() as u32;
        memory.footprints.push(whole.footprint(&rows));
        let mut unsettled = usize::MAX;
        loop {
            let open = |j: &usize| {
                let m = whole.cells[*j];
                worth_checking(m) && !memory.settled.contains_key(&m)
            };
            let zero: Vec<usize> = (0..whole.cells.len())
                .filter(open)
                .filter(|&j| needs_zero(whole.cells[j]) && low[whole.cells[j]] > EPS)
                .collect();
            let pin: Vec<usize> = (0..whole.cells.len())
                .filter(open)
                .filter(|&j| high[whole.cells[j]] - low[whole.cells[j]] < 1.0 - EPS)
                .collect();
            let count = zero.len() + pin.len();
            if count == 0 || count.saturating_mul(4) > unsettled.saturating_mul(3) {
                break;
            }
            unsettled = count;
            let mut points = Vec::new();
            if !zero.is_empty() {
                points.push(whole.solve_sum(&zero, false)?);
            }
            if !pin.is_empty() {
                points.push(whole.solve_sum(&pin, true)?);
                points.push(whole.solve_sum(&pin, false)?);
            }
            for x in points {
                see(
                    &whole.cells,
                    &x,
                    footprint,
                    (&mut low, &mut high),
                    &mut moved_by,
                );
            }
        }
    }

    for c in (0..n).filter(|&c| hidden[c]) {
        if memory.settled.contains_key(&c) {
            continue;
        }
        // Where zeros are published, a hidden zero is not checked: it can
        // be pinned only by published numbers that show zero for a larger
        // group holding it (a reader then knows it is zero regardless).
        if values[c] == 0 && rule.publish_zeros {
            continue;
        }
        let value = values[c] as f64;
        let is_primary = primary[c] && values[c] > 0;
        let mut reach = FIRST_REACH;
        let finding = loop {
            let pinned = high[c] - low[c] < 1.0 - EPS;
            let unsure_of_zero = is_primary && low[c] > EPS;
            if !pinned && !unsure_of_zero {
                memory
                    .settled
                    .insert(c, moved_by.get(&c).cloned().unwrap_or_default());
                break None;
            }
            let local = ctx.neighbourhood(c, reach);
            let footprint = memory.footprints.len() as u32;
            memory.footprints.push(local.footprint(&rows));
            let cells = &local.cells;
            let mut record = |x: &[f64], low: &mut [f64], high: &mut [f64]| {
                see(cells, x, footprint, (low, high), &mut moved_by);
            };
            let j = local.position(c);
            if pinned {
                record(&local.solve(j, true)?, &mut low, &mut high);
                if high[c] < value + 1.0 - EPS {
                    record(&local.solve(j, false)?, &mut low, &mut high);
                }
            }
            let mut found = None;
            if high[c] - low[c] < 1.0 - EPS {
                found = Some(Finding::Pinned {
                    cell: CellId::from_index(c),
                    value: values[c],
                });
            } else if is_primary && low[c] > EPS {
                record(&local.solve(j, false)?, &mut low, &mut high);
                if low[c] > EPS {
                    record(&local.solve(j, true)?, &mut low, &mut high);
                    let (lo, hi) = whole(low[c], high[c]);
                    if high[c] < CEILING - 1.0 && hi - lo < rule.range_min() {
                        found = Some(Finding::Narrow {
                            cell: CellId::from_index(c),
                            lo,
                            hi,
                        });
                    } else {
                        memory
                            .settled
                            .insert(c, moved_by.get(&c).cloned().unwrap_or_default());
                        break None;
                    }
                }
            }
            // A neighbourhood that already holds the whole component gives
            // the exact answer; otherwise look further before concluding.
            if found.is_none() || local.complete || reach >= LAST_REACH {
                break found;
            }
            reach *= 4;
        };
        findings.extend(finding);
    }
    Ok(findings)
}

/// Widens the seen range of each of `cells` to take in the feasible point
/// `x`, noting program `footprint` against every cell it moved.
fn see(
    cells: &[usize],
    x: &[f64],
    footprint: u32,
    (low, high): (&mut [f64], &mut [f64]),
    moved_by: &mut std::collections::HashMap<usize, Vec<u32>>,
) {
    for (&cell, &v) in cells.iter().zip(x) {
        if v < low[cell] || v > high[cell] {
            low[cell] = low[cell].min(v);
            high[cell] = high[cell].max(v);
            let by = moved_by.entry(cell).or_default();
            if by.last() != Some(&footprint) {
                by.push(footprint);
            }
        }
    }
}

/// The whole numbers within `[low, high]`, as their first and last.
fn whole(low: f64, high: f64) -> (u64, u64) {
    let lo = (low - EPS).ceil().max(0.0) as u64;
    let hi = (high + EPS).floor().max(0.0) as u64;
    (lo, hi.max(lo))
}

/// Everything the neighbourhoods are cut from.
struct Context<'a> {
    rows: &'a [Row],
    rows_of: &'a [Vec<u32>],
    values: &'a [u64],
}

impl Context<'_> {
    /// The hidden cells nearest `cell` (by shared constraints, breadth
    /// first), at most `reach` of them, and every constraint they are in,
    /// with the other hidden cells of those constraints held at their true
    /// values.
    fn neighbourhood(&self, cell: usize, reach: usize) -> Local {
        let mut cells = vec![cell];
        let mut seen = std::collections::HashSet::from([cell]);
        let mut used = std::collections::HashSet::new();
        let mut next = 0;
        let mut complete = true;
        'grow: while next < cells.len() {
            let c = cells[next];
            next += 1;
            for &r in &self.rows_of[c] {
                if !used.insert(r) {
                    continue;
                }
                for &(m, _) in &self.rows[r as usize].terms {
                    if seen.insert(m) {
                        if cells.len() == reach {
                            complete = false;
                            break 'grow;
                        }
                        cells.push(m);
                    }
                }
            }
        }
        cells.sort_unstable();
        let mut row_ids: Vec<u32> = cells
            .iter()
            .flat_map(|&c| self.rows_of[c].iter().copied())
            .collect();
        row_ids.sort_unstable();
        row_ids.dedup();
        let rows = row_ids
            .iter()
            .map(|&r| {
                let row = &self.rows[r as usize];
                let mut rhs = row.rhs;
                let mut terms = Vec::with_capacity(row.terms.len());
                for &(c, a) in &row.terms {
                    match cells.binary_search(&c) {
                        Ok(j) => terms.push((j, a)),
                        Err(_) => rhs -= a * self.values[c] as f64,
                    }
                }
                (terms, row.op, rhs)
            })
            .collect();
        Local {
            cells,
            rows,
            row_ids,
            complete,
        }
    }
}

/// A constraint of a neighbourhood: unknowns by position, comparison,
/// right-hand side.
type LocalRow = (Vec<(usize, f64)>, ComparisonOp, f64);

/// One neighbourhood's program, ready to be solved for one cell.
struct Local {
    cells: Vec<usize>,
    rows: Vec<LocalRow>,
    /// The constraints it was cut from.
    row_ids: Vec<u32>,
    /// Whether it holds every hidden cell its cell is linked to.
    complete: bool,
}

impl Local {
    fn position(&self, cell: usize) -> usize {
        self.cells.binary_search(&cell).unwrap_or(0)
    }

    /// Every cell the program's outcome depends on: its unknowns and every
    /// cell of every constraint they are in.
    fn footprint(&self, rows: &[Row]) -> Vec<u32> {
        let mut out: Vec<u32> = self
            .row_ids
            .iter()
            .flat_map(|&r| rows[r as usize].members.iter().map(|&c| c as u32))
            .chain(self.cells.iter().map(|&c| c as u32))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// An optimal point when cell `j` is maximised or minimised.
    fn solve(&self, j: usize, maximise: bool) -> Result<Vec<f64>, SolverError> {
        self.solve_sum(&[j], maximise)
    }

    /// An optimal point when the sum of cells `js` is maximised or minimised.
    fn solve_sum(&self, js: &[usize], maximise: bool) -> Result<Vec<f64>, SolverError> {
        let direction = if maximise {
            OptimizationDirection::Maximize
        } else {
            OptimizationDirection::Minimize
        };
        let run = || -> Result<Vec<f64>, microlp::Error> {
            let mut lp = microlp::Problem::new(direction);
            let mut weights = vec![0.0; self.cells.len()];
            for &j in js {
                weights[j] = 1.0;
            }
            let vars: Vec<Variable> = weights
                .iter()
                .map(|&w| lp.add_var(w, (0.0, CEILING)))
                .collect();
            for (terms, op, rhs) in &self.rows {
                let mut expr = LinearExpr::empty();
                for &(k, a) in terms {
                    expr.add(vars[k], a);
                }
                lp.add_constraint(expr, *op, *rhs);
            }
            let outcome = lp.solve()?;
            let solution = outcome.solution().ok_or_else(|| {
                microlp::Error::InternalError("the solve stopped without a solution".into())
            })?;
            Ok(vars.iter().map(|v| solution.var_value(*v)).collect())
        };
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok(Ok(x)) => Ok(x),
            Ok(Err(e)) => Err(SolverError(format!("{e:?}"))),
            Err(_) => Err(SolverError("the solver stopped unexpectedly".into())),
        }
    }
}
