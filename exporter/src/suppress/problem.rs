//! The input to disclosure control: cells and the additive relations between them.

use std::fmt;

use thiserror::Error;

/// Identifies one cell of a [`Problem`]. Only [`Problem::add_cell`] makes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CellId(u32);

impl CellId {
    /// The position of the cell, in the order the cells were added.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    pub(crate) fn from_index(index: usize) -> Self {
        // Problems are far below 2^32 cells; `add_cell` refuses to grow past it.
        Self(u32::try_from(index).unwrap_or(u32::MAX))
    }
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cell #{}", self.0)
    }
}

/// Why a relation was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProblemError {
    #[error("{0} does not belong to this problem")]
    UnknownCell(CellId),
    #[error("a relation needs at least one part")]
    NoParts,
    #[error("{total} cannot be one of its own parts")]
    TotalIsPart { total: CellId },
    #[error("the smaller side of an inequality adds up to {smaller}, more than {larger}")]
    Violated { smaller: i128, larger: i128 },
    #[error("an inequality needs cells on both sides")]
    EmptySide,
    #[error("{total} is {expected} but its parts add up to {actual}")]
    Unbalanced {
        total: CellId,
        expected: u64,
        actual: u128,
    },
}

/// One additive relation: `total = parts[0] + parts[1] + ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    pub total: CellId,
    pub parts: Vec<CellId>,
}

/// An inequality a reader knows: `sum(smaller) <= sum(larger) + offset`
/// (a multiple-choice option is at most its base; the pupils who answered a
/// routed question are at most those who gave an answer that routes to it,
/// where `offset` stands for counts of a linked table held outside the
/// problem).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtMost {
    pub smaller: Vec<CellId>,
    pub larger: Vec<CellId>,
    pub offset: i64,
}

/// A set of non-negative integer cells tied together by additive relations
/// `total = sum(parts)` and inequalities ([`AtMost`]).
///
/// A cell may be the total of several relations (a grand total is the sum of
/// the stages and also the sum of the sexes) and a part of several others.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Problem {
    values: Vec<u64>,
    relations: Vec<Relation>,
    at_most: Vec<AtMost>,
    /// Cells no file publishes (see [`Problem::add_unpublished_cell`]).
    unpublished: Vec<bool>,
    /// Cells published already, elsewhere (see [`Problem::fix_published`]).
    fixed: Vec<bool>,
}

impl Problem {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a cell holding `value` and returns its id.
    pub fn add_cell(&mut self, value: u64) -> CellId {
        let id = CellId::from_index(self.values.len());
        self.values.push(value);
        self.unpublished.push(false);
        self.fixed.push(false);
        id
    }

    /// Adds a cell that no file publishes, holding `value`: a count that
    /// ties published ones together (a school's responses at one stage,
    /// between its total and the stage's). It is always hidden, never
    /// hidden or checked for its own sake: a reader may narrow it, or work
    /// it out, without learning anything a published cell would not say.
    pub fn add_unpublished_cell(&mut self, value: u64) -> CellId {
        let id = self.add_cell(value);
        self.unpublished[id.index()] = true;
        id
    }

    /// Whether the cell is one no file publishes.
    pub fn is_unpublished(&self, cell: CellId) -> bool {
        self.unpublished.get(cell.index()).copied().unwrap_or(false)
    }

    /// Makes `cell` one no file publishes (see
    /// [`Problem::add_unpublished_cell`]): a hidden cell of a table
    /// published already, held in this problem for what it tells about
    /// this one's cells.
    pub fn mark_unpublished(&mut self, cell: CellId) {
        if let Some(u) = self.unpublished.get_mut(cell.index()) {
            *u = true;
        }
    }

    /// Makes `cell` one published already, in a table published before:
    /// it stays published whatever this problem's pattern, and it is never
    /// hidden to protect another.
    pub fn fix_published(&mut self, cell: CellId) {
        if let Some(f) = self.fixed.get_mut(cell.index()) {
            *f = true;
        }
    }

    /// Whether the cell is published already (see
    /// [`Problem::fix_published`]).
    pub fn is_fixed(&self, cell: CellId) -> bool {
        self.fixed.get(cell.index()).copied().unwrap_or(false)
    }

    /// Records `total = sum(parts)`. The values must already add up: a relation
    /// that does not hold would make every later guarantee meaningless.
    pub fn add_relation(&mut self, total: CellId, parts: &[CellId]) -> Result<(), ProblemError> {
        if parts.is_empty() {
            return Err(ProblemError::NoParts);
        }
        for &cell in std::iter::once(&total).chain(parts) {
            if cell.index() >= self.values.len() {
                return Err(ProblemError::UnknownCell(cell));
            }
        }
        if parts.contains(&total) {
            return Err(ProblemError::TotalIsPart { total });
        }
        let actual: u128 = parts.iter().map(|p| u128::from(self.value(*p))).sum();
        let expected = self.value(total);
        if actual != u128::from(expected) {
            return Err(ProblemError::Unbalanced {
                total,
                expected,
                actual,
            });
        }
        self.relations.push(Relation {
            total,
            parts: parts.to_vec(),
        });
        Ok(())
    }

    /// Records `sum(smaller) <= sum(larger)`, which the values must satisfy.
    pub fn add_at_most(
        &mut self,
        smaller: &[CellId],
        larger: &[CellId],
    ) -> Result<(), ProblemError> {
        if smaller.is_empty() || larger.is_empty() {
            return Err(ProblemError::EmptySide);
        }
        self.add_inequality(smaller, larger, 0)
    }

    /// Records `sum(cells) <= value`, a bound a reader knows from outside
    /// the problem, which the values must satisfy.
    pub fn add_upper_bound(&mut self, cells: &[CellId], value: u64) -> Result<(), ProblemError> {
        if cells.is_empty() {
            return Err(ProblemError::EmptySide);
        }
        self.add_inequality(cells, &[], i64::try_from(value).unwrap_or(i64::MAX))
    }

    /// Records `sum(cells) >= value`, a bound a reader knows from outside
    /// the problem, which the values must satisfy.
    pub fn add_lower_bound(&mut self, cells: &[CellId], value: u64) -> Result<(), ProblemError> {
        if cells.is_empty() {
            return Err(ProblemError::EmptySide);
        }
        self.add_inequality(&[], cells, -i64::try_from(value).unwrap_or(i64::MAX))
    }

    fn add_inequality(
        &mut self,
        smaller: &[CellId],
        larger: &[CellId],
        offset: i64,
    ) -> Result<(), ProblemError> {
        for &cell in smaller.iter().chain(larger) {
            if cell.index() >= self.values.len() {
                return Err(ProblemError::UnknownCell(cell));
            }
        }
        let sum =
            |cells: &[CellId]| -> i128 { cells.iter().map(|c| i128::from(self.value(*c))).sum() };
        let (a, b) = (sum(smaller), sum(larger) + i128::from(offset));
        if a > b {
            return Err(ProblemError::Violated {
                smaller: a,
                larger: b,
            });
        }
        self.at_most.push(AtMost {
            smaller: smaller.to_vec(),
            larger: larger.to_vec(),
            offset,
        });
        Ok(())
    }

    pub fn at_most(&self) -> &[AtMost] {
        &self.at_most
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of a cell. Panics on an id from another problem, like slice indexing.
    pub fn value(&self, c: CellId) -> u64 {
        self.values[c.index()]
    }

    pub fn cells(&self) -> impl ExactSizeIterator<Item = CellId> + '_ {
        (0..self.values.len()).map(CellId::from_index)
    }

    pub fn relations(&self) -> &[Relation] {
        &self.relations
    }

    pub(crate) fn values(&self) -> &[u64] {
        &self.values
    }

    /// For every cell, the relations in which it is the total.
    pub(crate) fn relations_by_total(&self) -> Vec<Vec<usize>> {
        let mut by_total = vec![Vec::new(); self.len()];
        for (r, rel) in self.relations.iter().enumerate() {
            by_total[rel.total.index()].push(r);
        }
        by_total
    }

    /// Pairs of nested cells (`outer` contains `inner` through a chain of
    /// relations) whose values differ by `0 < gap < threshold`. Values only
    /// shrink going down a chain, so the walk stops as soon as the gap is big.
    pub(crate) fn small_nested_gaps(&self, threshold: u64) -> Vec<(CellId, CellId)> {
        let by_total = self.relations_by_total();
        let mut pairs = Vec::new();
        let mut seen = vec![usize::MAX; self.len()];
        let mut stack = Vec::new();
        for outer in 0..self.len() {
            let top = self.values[outer];
            seen[outer] = outer;
            stack.clear();
            stack.push(outer);
            while let Some(cell) = stack.pop() {
                for &r in &by_total[cell] {
                    for part in &self.relations[r].parts {
                        let p = part.index();
                        if seen[p] == outer {
                            continue;
                        }
                        seen[p] = outer;
                        let gap = top.saturating_sub(self.values[p]);
                        if gap >= threshold {
                            continue;
                        }
                        // A group no file publishes has no published side
                        // to guard.
                        if gap > 0 && !self.unpublished[outer] && !self.unpublished[p] {
                            pairs.push((CellId::from_index(outer), *part));
                        }
                        stack.push(p);
                    }
                }
            }
        }
        pairs
    }
}
