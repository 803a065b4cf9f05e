//! The exact check run on every pattern before it is written.
//!
//! A suppressed cell `j` can be worked out exactly when some combination of
//! the relations, after moving every published cell to the other side,
//! leaves `j` as the only unknown. In matrix terms: `e_j` lies in the row
//! space of the relation matrix restricted to the suppressed columns. The
//! check brings that matrix to reduced row echelon form with integer
//! (fraction-free) arithmetic; `j` is exposed exactly when the row whose
//! pivot is `j` has no other entry.

use thiserror::Error;

use super::problem::{CellId, Problem};
use super::ranges::{self, Finding, SolverError};
use super::{Rule, Suppression};

/// Why a pattern must not be published.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Exposure {
    #[error("{cell} holds {value}, below the threshold, but is published")]
    SmallCellPublished { cell: CellId, value: u64 },
    #[error("suppressed {cell} (value {value}) can be worked out from published cells")]
    Derivable { cell: CellId, value: u64 },
    #[error("published {outer} and {inner} (nested) differ by {gap}, which exposes a small group")]
    NestedGap {
        outer: CellId,
        inner: CellId,
        gap: u64,
    },
    #[error("the pattern covers {pattern} cells but the problem has {problem}")]
    WrongSize { pattern: usize, problem: usize },
    #[error("the exact check needed numbers beyond 128 bits; the pattern is not trusted")]
    Overflow,
    #[error("suppressed {cell} (value {value}) can only take one value given everything published")]
    Pinned { cell: CellId, value: u64 },
    #[error("suppressed {cell} is known to lie between {lo} and {hi}, too narrow a range")]
    Narrow { cell: CellId, lo: u64, hi: u64 },
    #[error(transparent)]
    Solver(#[from] SolverError),
}

/// Checks a pattern. `Ok` means: every small cell is hidden, no hidden cell can be
/// derived exactly from sums (exact integer arithmetic), no two published
/// nested groups differ by a small amount, and, by linear programming over
/// every relation and inequality, no protected cell (a small one, or the
/// hidden side of a small gap between nested groups) is pinned to one value,
/// and every small hidden cell's range contains 0 or is wide enough.
pub fn audit(problem: &Problem, suppression: &Suppression) -> Result<(), Exposure> {
    audit_exact(problem, suppression)?;
    let hidden: Vec<bool> = problem
        .cells()
        .map(|c| suppression.is_suppressed(c))
        .collect();
    let primary: Vec<bool> = problem.cells().map(|c| suppression.is_primary(c)).collect();
    let protected = protected_cells(problem, suppression, &primary);
    let rule = suppression.rule();
    match ranges::check_only(problem, &hidden, &primary, rule, Some(&protected), false)?.first() {
        None => Ok(()),
        Some(finding) => Err(finding.clone().into()),
    }
}

/// The cells whose values a pattern protects: the small ones (`primary`)
/// and the hidden side of every small gap between nested groups. Any other
/// hidden cell is hidden only for their sake: a reader who can work it out
/// learns a count the rule would publish.
pub(crate) fn protected_cells(
    problem: &Problem,
    suppression: &Suppression,
    primary: &[bool],
) -> Vec<bool> {
    let mut protected = primary.to_vec();
    for (outer, inner) in problem.small_nested_gaps(suppression.rule().threshold) {
        for c in [outer, inner] {
            protected[c.index()] |= suppression.is_suppressed(c);
        }
    }
    protected
}

impl From<Finding> for Exposure {
    fn from(finding: Finding) -> Self {
        match finding {
            Finding::Pinned { cell, value, .. } => Exposure::Pinned { cell, value },
            Finding::Narrow { cell, lo, hi } => Exposure::Narrow { cell, lo, hi },
        }
    }
}

/// The checks of [`audit`] that need no linear programming: small cells
/// hidden, nested gaps, and exact derivation from sums.
/// [`super::protect`] ends with the range check on the pattern it returns,
/// so a pattern it made needs only these.
pub fn audit_exact(problem: &Problem, suppression: &Suppression) -> Result<(), Exposure> {
    if suppression.len() != problem.len() {
        return Err(Exposure::WrongSize {
            pattern: suppression.len(),
            problem: problem.len(),
        });
    }
    let rule: &Rule = suppression.rule();
    for c in problem.cells() {
        let value = problem.value(c);
        if rule.is_primary(value) && !suppression.is_suppressed(c) && !problem.is_unpublished(c) {
            return Err(Exposure::SmallCellPublished { cell: c, value });
        }
    }
    for (outer, inner) in problem.small_nested_gaps(rule.threshold) {
        if !suppression.is_suppressed(outer) && !suppression.is_suppressed(inner) {
            return Err(Exposure::NestedGap {
                outer,
                inner,
                gap: problem.value(outer) - problem.value(inner),
            });
        }
    }
    if let Some(cell) = first_derivable(problem, suppression)? {
        return Err(Exposure::Derivable {
            cell,
            value: problem.value(cell),
        });
    }
    Ok(())
}

/// The integers the exact check works in. Entries nearly always stay tiny, so
/// the check runs in 64 bits and starts again in 128 only if a product would
/// not fit; every step is checked, so no width ever wraps silently.
trait Exact: Copy + Eq + Ord + Default + std::fmt::Debug {
    const ONE: Self;
    fn mul(self, other: Self) -> Result<Self, Exposure>;
    fn sub(self, other: Self) -> Result<Self, Exposure>;
    fn neg(self) -> Result<Self, Exposure>;
    fn add(self, other: Self) -> Result<Self, Exposure>;
    fn gcd(self, other: Self) -> Self;
    fn div(self, other: Self) -> Self;
}

macro_rules! exact {
    ($t:ty, $gcd:expr) => {
        impl Exact for $t {
            const ONE: Self = 1;
            fn mul(self, other: Self) -> Result<Self, Exposure> {
                fits(self.checked_mul(other))
            }
            fn sub(self, other: Self) -> Result<Self, Exposure> {
                fits(self.checked_sub(other))
            }
            fn neg(self) -> Result<Self, Exposure> {
                fits(self.checked_neg())
            }
            fn add(self, other: Self) -> Result<Self, Exposure> {
                fits(self.checked_add(other))
            }
            fn gcd(self, other: Self) -> Self {
                $gcd(self, other)
            }
            fn div(self, other: Self) -> Self {
                self / other
            }
        }

        impl Fits for $t {
            /// The most negative value has no positive counterpart (its
            /// absolute value, and so a gcd, would not fit); it counts as
            /// overflow too.
            fn fits(value: Option<Self>) -> Result<Self, Exposure> {
                value.filter(|v| *v != <$t>::MIN).ok_or(Exposure::Overflow)
            }
        }
    };
}

trait Fits: Sized {
    fn fits(value: Option<Self>) -> Result<Self, Exposure>;
}

fn fits<T: Fits>(value: Option<T>) -> Result<T, Exposure> {
    T::fits(value)
}

exact!(i64, gcd64);
exact!(i128, gcd);

fn gcd64(a: i64, b: i64) -> i64 {
    let (mut x, mut y) = (a.unsigned_abs(), b.unsigned_abs());
    while y != 0 {
        (x, y) = (y, x % y);
    }
    // i64::MIN never survives the checks, so every entry's size fits.
    i64::try_from(x).unwrap_or(i64::MAX).max(1)
}

/// The first suppressed cell (lowest index) that is exactly derivable.
pub(crate) fn first_derivable(
    problem: &Problem,
    suppression: &Suppression,
) -> Result<Option<CellId>, Exposure> {
    // Where zeros are published, a hidden zero a reader can work out tells
    // them what a published zero would: that nobody is in the group.
    let zeros_published = suppression.rule().publish_zeros;
    Ok(all_derivable(problem, suppression)?
        .into_iter()
        .filter(|&c| !(zeros_published && problem.value(c) == 0))
        .filter(|&c| !problem.is_unpublished(c))
        .min())
}

/// Every suppressed cell that can be worked out exactly from the published
/// cells.
pub(crate) fn all_derivable(
    problem: &Problem,
    suppression: &Suppression,
) -> Result<Vec<CellId>, Exposure> {
    match derivable_in::<i64>(problem, suppression) {
        Err(Exposure::Overflow) => derivable_in::<i128>(problem, suppression),
        result => result,
    }
}

type Row<T> = Vec<(u32, T)>;

fn derivable_in<T: Exact>(
    problem: &Problem,
    suppression: &Suppression,
) -> Result<Vec<CellId>, Exposure> {
    // Columns are the suppressed cells only, numbered densely.
    // Which cells come first decides only how much the rows fill in, not
    // the answer: cells in fewest relations first (the innermost) keeps
    // the rows short.
    let mut uses = vec![0u32; problem.len()];
    for rel in problem.relations() {
        uses[rel.total.index()] += 1;
        for p in &rel.parts {
            uses[p.index()] += 1;
        }
    }
    let mut cell_of: Vec<u32> = problem
        .cells()
        .filter(|&c| suppression.is_suppressed(c))
        .map(|c| c.index() as u32)
        .collect();
    cell_of.sort_by_key(|&c| (uses[c as usize], c));
    let mut column = vec![u32::MAX; problem.len()];
    for (k, &c) in cell_of.iter().enumerate() {
        column[c as usize] = k as u32;
    }
    let n = cell_of.len();
    let minus_one = T::ONE.neg()?;
    let mut rows: Vec<Row<T>> = Vec::new();
    for rel in problem.relations() {
        let mut row: Row<T> = std::iter::once((rel.total, T::ONE))
            .chain(rel.parts.iter().map(|&p| (p, minus_one)))
            .map(|(c, x)| (column[c.index()], x))
            .filter(|(c, _)| *c != u32::MAX)
            .collect();
        row.sort_unstable_by_key(|e| e.0);
        let mut merged: Row<T> = Vec::with_capacity(row.len());
        for (i, x) in row {
            match merged.last_mut() {
                Some(last) if last.0 == i => last.1 = last.1.add(x)?,
                _ => merged.push((i, x)),
            }
        }
        merged.retain(|e| e.1 != T::default());
        if !merged.is_empty() {
            rows.push(merged);
        }
    }
    // Shortest relations first: a long relation (a partnership's schools
    // adding up, say) then meets pivots that are already short, instead of
    // being the pivot every short one has to be reduced against. On the
    // national export this cut the elimination's work more than tenfold.
    rows.sort_by_key(Vec::len);

    // Forward elimination into echelon form, pivot = first column of a row.
    let mut pivot_of: Vec<Option<usize>> = vec![None; n];
    let mut basis: Vec<Row<T>> = Vec::new();
    let mut scratch: Row<T> = Vec::new();
    for mut row in rows {
        while let Some(&(lead, _)) = row.first() {
            match pivot_of[lead as usize] {
                Some(k) => {
                    eliminate(&row, &basis[k], lead, &mut scratch)?;
                    std::mem::swap(&mut row, &mut scratch);
                }
                None => {
                    pivot_of[lead as usize] = Some(basis.len());
                    basis.push(row);
                    break;
                }
            }
        }
    }

    // Back substitution: clear each pivot column from every other row, last
    // pivot first. When pivot `lead` is used, its row holds no later pivot
    // column any more, so no row ever gains a pivot column here: which rows
    // hold which pivot column can be listed once, before the first step.
    let mut leads: Vec<u32> = basis
        .iter()
        .filter_map(|r| r.first().map(|e| e.0))
        .collect();
    leads.sort_unstable();
    let mut holders: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, row) in basis.iter().enumerate() {
        for &(col, _) in row.iter().skip(1) {
            if pivot_of[col as usize].is_some() {
                holders[col as usize].push(k);
            }
        }
    }
    for &lead in leads.iter().rev() {
        let Some(k) = pivot_of[lead as usize] else {
            continue;
        };
        for &other in &holders[lead as usize] {
            if other == k {
                continue;
            }
            if basis[other].binary_search_by_key(&lead, |e| e.0).is_ok() {
                eliminate(&basis[other], &basis[k], lead, &mut scratch)?;
                std::mem::swap(&mut basis[other], &mut scratch);
            }
        }
    }

    let mut exposed: Vec<CellId> = Vec::new();
    for row in &basis {
        if let [(col, _)] = row.as_slice() {
            exposed.push(CellId::from_index(cell_of[*col as usize] as usize));
        }
    }
    Ok(exposed)
}

/// Writes `p·row − r·pivot` into `out`, where `p`, `r` are their entries in
/// column `col`, which therefore vanishes; the result is divided by the gcd
/// of its entries.
fn eliminate<T: Exact>(
    row: &Row<T>,
    pivot: &Row<T>,
    col: u32,
    out: &mut Row<T>,
) -> Result<(), Exposure> {
    let entry = |v: &Row<T>| {
        v.binary_search_by_key(&col, |e| e.0)
            .map(|k| v[k].1)
            .unwrap_or_default()
    };
    let (r, p) = (entry(row), entry(pivot));
    let g = r.gcd(p);
    let (a, b) = (p.div(g), r.div(g));
    out.clear();
    out.reserve(row.len() + pivot.len());
    let (mut i, mut j) = (0, 0);
    while i < row.len() || j < pivot.len() {
        let (idx, x) = if j >= pivot.len() || (i < row.len() && row[i].0 < pivot[j].0) {
            i += 1;
            (row[i - 1].0, a.mul(row[i - 1].1)?)
        } else if i >= row.len() || pivot[j].0 < row[i].0 {
            j += 1;
            (pivot[j - 1].0, b.mul(pivot[j - 1].1)?.neg()?)
        } else {
            i += 1;
            j += 1;
            let x = a.mul(row[i - 1].1)?.sub(b.mul(pivot[j - 1].1)?)?;
            (row[i - 1].0, x)
        };
        if x != T::default() {
            out.push((idx, x));
        }
    }
    // Entries are nearly always ±1, so the gcd usually settles at 1 at once.
    let mut g = T::default();
    for e in out.iter() {
        g = g.gcd(e.1);
        if g == T::ONE {
            break;
        }
    }
    if g > T::ONE {
        for e in out.iter_mut() {
            e.1 = e.1.div(g);
        }
    }
    Ok(())
}

pub(crate) fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    if let (Ok(mut x), Ok(mut y)) = (u64::try_from(a), u64::try_from(b)) {
        // The usual case: 64-bit remainders are far cheaper than 128-bit ones.
        while y != 0 {
            (x, y) = (y, x % y);
        }
        return i128::from(x.max(1));
    }
    while b != 0 {
        (a, b) = (b, a % b);
    }
    // Entries stay far below i128::MAX (every product is checked), so this fits.
    i128::try_from(a).unwrap_or(i128::MAX).max(1)
}
