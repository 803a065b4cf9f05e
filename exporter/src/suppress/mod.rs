//! Small-cell suppression for frequency tables.
//!
//! **What it protects.** An export for one partnership and one question is a
//! set of counts tied together by additions: options add up to the base,
//! stages to their band and the band to the whole, sexes to "All", schools to
//! the partnership. A count below the threshold (10 by default) could point at
//! a few pupils, so it is never published (*primary suppression*). Because
//! totals are published, hiding small counts alone is not enough: a hidden
//! cell can often be recovered by adding and subtracting published ones,
//! across every table of the export at once.
//!
//! **How.** Every cell is written as a linear function of a set of free
//! parameters, found by solving the relations exactly once. Cells are then
//! considered one at a time, zeros first, then largest first (so that the
//! smallest cells are the first to be given up), ties broken by position so
//! the result never changes between runs. A cell is published unless
//! publishing it would bring a protected quantity into the span of the
//! published cells, in which case it is suppressed too (*secondary
//! suppression*). This is the Gaussian-elimination method of Langsrud
//! (Statistics Norway's GaussSuppression). Protected quantities are every
//! primary cell, every gap of less than the threshold between a group and a
//! group nested inside it (published together they would expose the small
//! difference), and, with singleton protection on, the sum of the small cells
//! of any relation that holds a 1, which forces one more cell of that
//! relation to be hidden (the pupil who is the 1 could otherwise subtract
//! themself and learn the rest).
//!
//! **The guarantees.** No suppressed cell can be worked out exactly from the
//! published cells by any combination of additions and subtractions (zeros
//! excepted where zeros are published). A suppressed secondary cell cannot be
//! derived either, since deriving it would derive the protected quantity it
//! was hidden for. Beyond exact values, [`protect`] runs the range check of
//! [`ranges`]: every small hidden cell's range, by linear programming over
//! every relation, inequality and non-negativity, contains 0 or is at least
//! [`Rule::range_min`] wide, and no protected cell (a small one, one forced
//! hidden, the hidden side of a small nested gap) can be pinned to one value.
//! A pattern is checked by [`audit_exact`] (exact integer arithmetic) before
//! anything is written, and [`audit`] adds the range check; if either finds
//! an exposure it names the cell and the caller writes nothing.
//!
//! **Parameters** ([`Rule`], stored in export metadata): `threshold` (counts
//! with `0 < n < threshold` are hidden), `publish_zeros` (whether a zero may be
//! shown) and `singleton_protection`. Output only says published or
//! suppressed; it never reveals why a cell was hidden.
//! [`feasibility_interval`] reports the range a hidden cell could take given
//! the published cells and non-negativity, for checking protection by hand.

mod audit;
mod gauss;
mod interval;
mod modp;
mod problem;
mod ranges;

use std::cmp::Reverse;

use serde::{Deserialize, Serialize};

pub use audit::{Exposure, audit, audit_exact};
pub use interval::{FeasibilityInterval, IntervalError, Rational, feasibility_interval};
pub use problem::{AtMost, CellId, Problem, ProblemError, Relation};
pub use ranges::{Finding, SolverError};

/// The disclosure rule. Written into export metadata, so it is serialisable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rule {
    /// Counts with `0 < n < threshold` are never published.
    pub threshold: u64,
    /// Whether a count of zero may be published.
    pub publish_zeros: bool,
    /// Whether a relation whose only hidden cells are primaries, one of them
    /// a 1, gets one more cell hidden.
    pub singleton_protection: bool,
    /// How wide the range a reader can give a small hidden cell must be,
    /// when that range does not contain 0 (as GaussSuppression's
    /// `rangeMin`). `None` means the threshold.
    pub range_min: Option<u64>,
}

impl Default for Rule {
    fn default() -> Self {
        Self {
            threshold: 10,
            publish_zeros: true,
            singleton_protection: true,
            range_min: None,
        }
    }
}

impl Rule {
    /// The smallest width allowed for the range of a small hidden cell
    /// that excludes 0.
    pub fn range_min(&self) -> u64 {
        self.range_min.unwrap_or(self.threshold)
    }

    /// Whether a count must be hidden on its own account.
    pub fn is_primary(&self, value: u64) -> bool {
        if value == 0 {
            !self.publish_zeros
        } else {
            value < self.threshold
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Published,
    Primary,
    Secondary,
}

/// The outcome: for each cell, published or suppressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    status: Vec<Status>,
    rule: Rule,
}

impl Suppression {
    fn hidden(&self) -> Vec<bool> {
        self.status
            .iter()
            .map(|s| *s != Status::Published)
            .collect()
    }

    /// A pattern chosen elsewhere (by hand, or by another tool), so that it
    /// can be audited. Cells the rule makes primary count as primary.
    pub fn from_suppressed(problem: &Problem, rule: &Rule, suppressed: &[CellId]) -> Self {
        let mut status = vec![Status::Published; problem.len()];
        for &c in suppressed {
            if let Some(s) = status.get_mut(c.index()) {
                *s = if rule.is_primary(problem.value(c)) {
                    Status::Primary
                } else {
                    Status::Secondary
                };
            }
        }
        Self {
            status,
            rule: *rule,
        }
    }

    pub fn is_suppressed(&self, c: CellId) -> bool {
        self.status
            .get(c.index())
            .is_some_and(|s| *s != Status::Published)
    }

    pub fn len(&self) -> usize {
        self.status.len()
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_empty()
    }

    /// Whether the cell is hidden for being small itself.
    pub fn is_primary(&self, c: CellId) -> bool {
        self.status.get(c.index()) == Some(&Status::Primary)
    }

    pub fn suppressed_count(&self) -> usize {
        self.status
            .iter()
            .filter(|s| **s != Status::Published)
            .count()
    }

    /// How many cells were hidden for being small themselves (for metadata).
    pub fn primary_count(&self) -> usize {
        self.status
            .iter()
            .filter(|s| **s == Status::Primary)
            .count()
    }

    pub fn suppressed_cells(&self) -> impl Iterator<Item = CellId> + '_ {
        self.status
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != Status::Published)
            .map(|(i, _)| CellId::from_index(i))
    }

    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

/// Chooses primary and secondary suppressions so that no hidden cell can be
/// worked out exactly from sums, then hides more where linear programming
/// over every relation and inequality finds a protected cell pinned to one
/// value, or a small cell's range narrower than the rule allows (see
/// [`ranges`]), and last publishes again any cell it hid that sums give
/// away. Deterministic: the same problem and rule always give the same
/// pattern. When no more cells can be hidden and a finding remains, the
/// finding is returned instead of a pattern.
pub fn protect(problem: &Problem, rule: &Rule) -> Result<Suppression, Exposure> {
    protect_forcing(problem, rule, &vec![false; problem.len()])
}

/// As [`protect`], with the cells marked in `forced` hidden whatever their
/// value and protected like small cells (see [`suppress_forcing`]).
pub fn protect_forcing(
    problem: &Problem,
    rule: &Rule,
    initially_forced: &[bool],
) -> Result<Suppression, Exposure> {
    let mut pattern = suppress_with(problem, rule, initially_forced);
    let primary: Vec<bool> = pattern
        .status
        .iter()
        .map(|s| *s == Status::Primary)
        .collect();
    // The cells whose values are protected (see `audit::protected_cells`),
    // and the ones forced hidden; never a cell no file publishes.
    let mut protected = audit::protected_cells(problem, &pattern, &primary);
    for (c, (p, f)) in protected.iter_mut().zip(initially_forced).enumerate() {
        let cell = CellId::from_index(c);
        *p = (*p || *f) && !problem.is_unpublished(cell) && !problem.is_fixed(cell);
    }
    let neighbours = Neighbours::new(problem);
    let mut attempts: std::collections::HashMap<CellId, u32> = Default::default();
    let mut only = protected.clone();
    let mut near = false;
    // Hiding a published cell takes a fact away from the reader, so every
    // range can only widen: a cell that passed keeps passing as more cells
    // are hidden. Each round therefore checks only the cells that failed,
    // after the first on their neighbourhoods only (cheap, and on the safe
    // side: a cell may get more cells hidden around it than it needed).
    loop {
        let hidden = pattern.hidden();
        let findings = ranges::check_only(problem, &hidden, &primary, rule, Some(&only), near)?;
        let Some(first) = findings.first().cloned() else {
            break;
        };
        only = vec![false; problem.len()];
        let mut grew = false;
        for finding in &findings {
            only[finding.cell().index()] = true;
            // A cell found again gets twice as many cells hidden around it.
            let tries = attempts.entry(finding.cell()).or_insert(0u32);
            let count = 1usize << (*tries).min(5);
            *tries += 1;
            for c in neighbours.widen(problem.values(), &hidden, finding.cell(), count) {
                if pattern.status[c] == Status::Published {
                    pattern.status[c] = Status::Secondary;
                    grew = true;
                }
            }
        }
        // Cells are only ever hidden, so this ends after at most `n` rounds.
        if !grew {
            if near {
                // Nothing left to hide nearby: settle it on the whole.
                near = false;
                continue;
            }
            return Err(first.into());
        }
        near = true;
    }
    // A cell just hidden that sums give away protects nothing; publishing
    // it tells a reader nothing new.
    publish_given_away(problem, &mut pattern.status, &protected);
    Ok(pattern)
}

/// Which constraints (relations and inequalities) each cell is in.
struct Neighbours {
    members: Vec<Vec<usize>>,
    of_cell: Vec<Vec<usize>>,
    /// Cells published already, never to hide.
    fixed: Vec<bool>,
}

impl Neighbours {
    fn new(problem: &Problem) -> Self {
        let mut members: Vec<Vec<usize>> = Vec::new();
        for rel in problem.relations() {
            members.push(
                std::iter::once(rel.total)
                    .chain(rel.parts.iter().copied())
                    .map(CellId::index)
                    .collect(),
            );
        }
        for ineq in problem.at_most() {
            members.push(
                ineq.smaller
                    .iter()
                    .chain(&ineq.larger)
                    .map(|c| c.index())
                    .collect(),
            );
        }
        let mut of_cell = vec![Vec::new(); problem.len()];
        for (k, m) in members.iter().enumerate() {
            for &c in m {
                of_cell[c].push(k);
            }
        }
        let fixed = problem.cells().map(|c| problem.is_fixed(c)).collect();
        Self {
            members,
            of_cell,
            fixed,
        }
    }

    /// Published cells to hide so that `cell`'s range widens, at most
    /// `count`: the smallest non-zero published cells (the cheapest to lose)
    /// of the constraints `cell` is in, or, when all of those are hidden, of
    /// the constraints their hidden cells are in, and so on outwards;
    /// position breaks ties.
    fn widen(&self, values: &[u64], hidden: &[bool], cell: CellId, count: usize) -> Vec<usize> {
        let mut seen = std::collections::HashSet::new();
        let mut used = std::collections::HashSet::new();
        let mut frontier = vec![cell.index()];
        seen.insert(cell.index());
        while !frontier.is_empty() {
            let mut found: Vec<usize> = Vec::new();
            let mut next = Vec::new();
            for &c in &frontier {
                for &k in &self.of_cell[c] {
                    if !used.insert(k) {
                        continue;
                    }
                    for &m in &self.members[k] {
                        if !hidden[m] {
                            if values[m] > 0 && !self.fixed[m] {
                                found.push(m);
                            }
                        } else if seen.insert(m) {
                            next.push(m);
                        }
                    }
                }
            }
            if !found.is_empty() {
                found.sort_unstable_by_key(|&m| (values[m], m));
                found.dedup();
                found.truncate(count);
                return found;
            }
            frontier = next;
        }
        Vec::new()
    }
}

/// Chooses primary and secondary suppressions so that no hidden cell can be
/// worked out exactly from sums alone. Deterministic: the same problem and
/// rule always give the same pattern. [`protect`] also takes inequalities
/// and ranges into account.
pub fn suppress(problem: &Problem, rule: &Rule) -> Suppression {
    suppress_with(problem, rule, &vec![false; problem.len()])
}

/// As [`suppress`], with the cells marked in `forced` hidden whatever their
/// value and protected like small cells: none of them can be worked out
/// exactly from the published cells.
pub fn suppress_forcing(problem: &Problem, rule: &Rule, forced: &[bool]) -> Suppression {
    suppress_with(problem, rule, forced)
}

fn suppress_with(problem: &Problem, rule: &Rule, initially_forced: &[bool]) -> Suppression {
    let n = problem.len();
    let values = problem.values();
    let cells = gauss::cell_vectors(problem);
    let nested: Vec<modp::SparseVec> = problem
        .small_nested_gaps(rule.threshold)
        .into_iter()
        .map(|(outer, inner)| {
            modp::axpy(
                &cells.vectors[outer.index()],
                modp::neg(1),
                &cells.vectors[inner.index()],
            )
        })
        .collect();
    let mut protected_extra = nested;
    if rule.singleton_protection {
        protected_extra.extend(singleton_sums(problem, rule, &cells));
    }

    // The singleton sums above nearly always settle singleton protection in
    // the first pass; the literal rule is then checked on the result, and any
    // relation still short of a hidden non-primary gets one and a new pass.
    let mut forced = initially_forced.to_vec();
    loop {
        let mut status: Vec<Status> = values
            .iter()
            .map(|&v| {
                if rule.is_primary(v) {
                    Status::Primary
                } else {
                    Status::Published
                }
            })
            .collect();
        let mut protected = protected_extra.clone();
        let mut candidates = Vec::new();
        for c in 0..n {
            if problem.is_unpublished(CellId::from_index(c)) {
                status[c] = Status::Secondary;
            } else if problem.is_fixed(CellId::from_index(c)) {
                status[c] = Status::Published;
                candidates.push(c);
            } else if status[c] == Status::Primary {
                protected.push(cells.vectors[c].clone());
            } else if forced[c] {
                status[c] = Status::Secondary;
                protected.push(cells.vectors[c].clone());
            } else {
                candidates.push(c);
            }
        }
        // Zeros first (they say nothing), then largest first; position breaks ties.
        // Cells published already come first and stay published: if one
        // would give a protected cell away, the audit says so.
        candidates.sort_by_key(|&c| {
            let fixed = problem.is_fixed(CellId::from_index(c));
            (!fixed, values[c] != 0, Reverse(values[c]), c)
        });
        let hidden = gauss::eliminate(&cells, protected, &candidates);
        for (slot, &c) in candidates.iter().enumerate() {
            if hidden[slot] && !problem.is_fixed(CellId::from_index(c)) {
                status[c] = Status::Secondary;
            }
        }

        let newly_forced = if rule.singleton_protection {
            singleton_extras(problem, &status, &cells)
        } else {
            Vec::new()
        };
        let mut grew = false;
        for c in newly_forced {
            if !forced[c] {
                forced[c] = true;
                grew = true;
            }
        }
        // `forced` only grows, so this loop ends after at most `n` rounds.
        if !grew {
            publish_given_away(problem, &mut status, &forced);
            return Suppression {
                status,
                rule: *rule,
            };
        }
    }
}

/// Publishes every secondary cell that the published cells already give
/// away exactly: hiding it protects nothing, and publishing it tells a
/// reader nothing new, so no other hidden cell becomes derivable. Primary
/// and forced cells stay hidden (if one of them is derivable, the audit
/// says so).
fn publish_given_away(problem: &Problem, status: &mut [Status], forced: &[bool]) {
    // Repeated until nothing more is given away: cheap, since a pattern
    // rarely has any such cell.
    loop {
        let pattern = Suppression {
            status: status.to_vec(),
            rule: Rule::default(),
        };
        let Ok(derivable) = audit::all_derivable(problem, &pattern) else {
            return;
        };
        let mut freed = false;
        for c in derivable {
            let i = c.index();
            if status[i] == Status::Secondary && !forced[i] && !problem.is_unpublished(c) {
                status[i] = Status::Published;
                freed = true;
            }
        }
        if !freed {
            return;
        }
    }
}

/// For every relation with a primary 1 among two or more primaries, the
/// signed sum of its primary members. Keeping that sum underivable forces a
/// non-primary member to be hidden too: otherwise the pupil who is the 1 could
/// subtract themself and learn the other small cells.
fn singleton_sums(
    problem: &Problem,
    rule: &Rule,
    cells: &gauss::CellVectors,
) -> Vec<modp::SparseVec> {
    let values = problem.values();
    let mut sums = Vec::new();
    for rel in problem.relations() {
        let members = std::iter::once((rel.total, 1))
            .chain(rel.parts.iter().map(|&p| (p, modp::neg(1))))
            .filter(|(c, _)| rule.is_primary(values[c.index()]));
        let mut sum: modp::SparseVec = Vec::new();
        let mut count = 0;
        let mut has_one = false;
        for (c, sign) in members {
            sum = modp::axpy(&sum, sign, &cells.vectors[c.index()]);
            count += 1;
            has_one |= values[c.index()] == 1;
        }
        if has_one && count >= 2 && !sum.is_empty() {
            sums.push(sum);
        }
    }
    sums
}

/// Relations whose hidden cells are all primaries, one of them a 1: the
/// smallest published cell of each is returned to be hidden as well. A cell
/// the relations alone fix (always 0, such as a stage no school of the
/// partnership has pupils at) is never picked: hiding it could not protect
/// anything.
fn singleton_extras(
    problem: &Problem,
    status: &[Status],
    cells: &gauss::CellVectors,
) -> Vec<usize> {
    let values = problem.values();
    let mut extras = Vec::new();
    for rel in problem.relations() {
        let members = || std::iter::once(rel.total).chain(rel.parts.iter().copied());
        let mut any_hidden = false;
        let mut only_primary = true;
        let mut has_one = false;
        for c in members() {
            match status[c.index()] {
                Status::Published => {}
                Status::Primary => {
                    any_hidden = true;
                    has_one |= values[c.index()] == 1;
                }
                Status::Secondary => {
                    any_hidden = true;
                    only_primary = false;
                }
            }
        }
        if any_hidden && only_primary && has_one {
            let pick = members()
                .filter(|c| status[c.index()] == Status::Published)
                .filter(|c| !cells.vectors[c.index()].is_empty())
                .min_by_key(|c| (values[c.index()] == 0, values[c.index()], c.index()));
            if let Some(c) = pick {
                extras.push(c.index());
            }
        }
    }
    extras
}
