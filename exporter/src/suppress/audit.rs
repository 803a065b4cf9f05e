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
}

/// Checks a pattern exactly. `Ok` means: every small cell is hidden, no
/// hidden cell can be derived, and no two published nested groups differ by a
/// small amount.
pub fn audit(problem: &Problem, suppression: &Suppression) -> Result<(), Exposure> {
    if suppression.len() != problem.len() {
        return Err(Exposure::WrongSize {
            pattern: suppression.len(),
            problem: problem.len(),
        });
    }
    let rule: &Rule = suppression.rule();
    for c in problem.cells() {
        let value = problem.value(c);
        if rule.is_primary(value) && !suppression.is_suppressed(c) {
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

type Row = Vec<(u32, i128)>;

/// The first suppressed cell (lowest index) that is exactly derivable.
pub(crate) fn first_derivable(
    problem: &Problem,
    suppression: &Suppression,
) -> Result<Option<CellId>, Exposure> {
    let mut rows: Vec<Row> = Vec::new();
    for rel in problem.relations() {
        let mut row: Row = std::iter::once((rel.total, 1i128))
            .chain(rel.parts.iter().map(|&p| (p, -1i128)))
            .filter(|(c, _)| suppression.is_suppressed(*c))
            .map(|(c, x)| (c.index() as u32, x))
            .collect();
        row.sort_unstable_by_key(|e| e.0);
        let mut merged: Row = Vec::with_capacity(row.len());
        for (i, x) in row {
            match merged.last_mut() {
                Some(last) if last.0 == i => last.1 += x,
                _ => merged.push((i, x)),
            }
        }
        merged.retain(|e| e.1 != 0);
        if !merged.is_empty() {
            rows.push(merged);
        }
    }

    // Forward elimination into echelon form, pivot = first column of a row.
    let n = problem.len();
    let mut pivot_of: Vec<Option<usize>> = vec![None; n];
    let mut basis: Vec<Row> = Vec::new();
    for mut row in rows {
        while let Some(&(lead, _)) = row.first() {
            match pivot_of[lead as usize] {
                Some(k) => row = eliminate(&row, &basis[k], lead)?,
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
                let updated = eliminate(&basis[other], &basis[k], lead)?;
                basis[other] = updated;
            }
        }
    }

    let mut exposed: Option<u32> = None;
    for row in &basis {
        if let [(cell, _)] = row.as_slice() {
            exposed = Some(exposed.map_or(*cell, |e| e.min(*cell)));
        }
    }
    Ok(exposed.map(|c| CellId::from_index(c as usize)))
}

/// `p·row − r·pivot` where `p`, `r` are their entries in column `col`, which
/// therefore vanishes; the result is divided by the gcd of its entries.
fn eliminate(row: &Row, pivot: &Row, col: u32) -> Result<Row, Exposure> {
    let entry = |v: &Row| {
        v.binary_search_by_key(&col, |e| e.0)
            .map(|k| v[k].1)
            .unwrap_or(0)
    };
    let (r, p) = (entry(row), entry(pivot));
    let g = gcd(r, p);
    let (a, b) = (p / g, r / g);
    let mut out: Row = Vec::with_capacity(row.len() + pivot.len());
    let (mut i, mut j) = (0, 0);
    while i < row.len() || j < pivot.len() {
        let (idx, x) = if j >= pivot.len() || (i < row.len() && row[i].0 < pivot[j].0) {
            i += 1;
            (row[i - 1].0, mul(a, row[i - 1].1)?)
        } else if i >= row.len() || pivot[j].0 < row[i].0 {
            j += 1;
            (
                pivot[j - 1].0,
                mul(b, pivot[j - 1].1)?
                    .checked_neg()
                    .ok_or(Exposure::Overflow)?,
            )
        } else {
            i += 1;
            j += 1;
            let x = mul(a, row[i - 1].1)?
                .checked_sub(mul(b, pivot[j - 1].1)?)
                .ok_or(Exposure::Overflow)?;
            (row[i - 1].0, x)
        };
        if x != 0 {
            out.push((idx, x));
        }
    }
    // Entries are nearly always ±1, so the gcd usually settles at 1 at once.
    let mut g = 0;
    for e in &out {
        g = gcd(g, e.1);
        if g == 1 {
            break;
        }
    }
    if g > 1 {
        for e in &mut out {
            e.1 /= g;
        }
    }
    Ok(out)
}

fn mul(a: i128, b: i128) -> Result<i128, Exposure> {
    a.checked_mul(b).ok_or(Exposure::Overflow)
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
