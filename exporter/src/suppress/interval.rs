//! The range a suppressed cell could take, by exact linear programming.
//!
//! Given the published cells, the relations and non-negativity of every cell,
//! the smallest and largest value a suppressed cell can take are the
//! optimum of two small linear programs. They are solved with a dense
//! two-phase simplex on exact rationals and Bland's rule (which cannot
//! cycle). This is for checking protection on small tables, not for
//! national-scale runs.

use std::cmp::Ordering;
use std::fmt;

use thiserror::Error;

use super::Suppression;
use super::audit::gcd;
use super::problem::{CellId, Problem};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IntervalError {
    #[error("{0} is not suppressed, so its value is simply published")]
    NotSuppressed(CellId),
    #[error("the published cells and relations admit no solution")]
    Infeasible,
    #[error("the computation needed numbers beyond 128 bits")]
    Overflow,
}

/// An exact fraction in lowest terms with a positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rational {
    num: i128,
    den: i128,
}

type Res<T> = Result<T, IntervalError>;

impl Rational {
    pub const ZERO: Rational = Rational { num: 0, den: 1 };
    pub const ONE: Rational = Rational { num: 1, den: 1 };

    pub fn new(num: i128, den: i128) -> Option<Self> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den);
        let sign = if den < 0 { -1 } else { 1 };
        Some(Self {
            num: sign * (num / g),
            den: sign * (den / g),
        })
    }

    pub fn integer(n: i128) -> Self {
        Self { num: n, den: 1 }
    }

    pub fn numerator(self) -> i128 {
        self.num
    }

    pub fn denominator(self) -> i128 {
        self.den
    }

    fn is_zero(self) -> bool {
        self.num == 0
    }

    fn signum(self) -> i128 {
        self.num.signum()
    }

    fn add(self, o: Self) -> Res<Self> {
        let g = gcd(self.den, o.den);
        let l = self.den / g;
        let num = self
            .num
            .checked_mul(o.den / g)
            .zip(o.num.checked_mul(l))
            .and_then(|(a, b)| a.checked_add(b));
        let den = l.checked_mul(o.den);
        match (num, den) {
            (Some(n), Some(d)) => Rational::new(n, d).ok_or(IntervalError::Overflow),
            _ => Err(IntervalError::Overflow),
        }
    }

    fn neg(self) -> Self {
        Self {
            num: -self.num,
            den: self.den,
        }
    }

    fn sub(self, o: Self) -> Res<Self> {
        self.add(o.neg())
    }

    fn mul(self, o: Self) -> Res<Self> {
        let g1 = gcd(self.num, o.den);
        let g2 = gcd(o.num, self.den);
        let num = (self.num / g1).checked_mul(o.num / g2);
        let den = (self.den / g2).checked_mul(o.den / g1);
        match (num, den) {
            (Some(n), Some(d)) => Rational::new(n, d).ok_or(IntervalError::Overflow),
            _ => Err(IntervalError::Overflow),
        }
    }

    fn div(self, o: Self) -> Res<Self> {
        let inv = Rational::new(o.den, o.num).ok_or(IntervalError::Overflow)?;
        self.mul(inv)
    }
}

impl PartialOrd for Rational {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Rational {
    fn cmp(&self, other: &Self) -> Ordering {
        // Denominators are positive; compare a/b with c/d as a·d with c·b, widened.
        let l = self.num.checked_mul(other.den);
        let r = other.num.checked_mul(self.den);
        match (l, r) {
            (Some(l), Some(r)) => l.cmp(&r),
            _ => (self.num as f64 / self.den as f64)
                .partial_cmp(&(other.num as f64 / other.den as f64))
                .unwrap_or(Ordering::Equal),
        }
    }
}

impl fmt::Display for Rational {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// The exact range of a suppressed cell; `upper` is `None` when unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeasibilityInterval {
    pub lower: Rational,
    pub upper: Option<Rational>,
}

/// The smallest and largest value `cell` can take, given the published cells,
/// the relations, and that every cell is non-negative.
pub fn feasibility_interval(
    problem: &Problem,
    suppression: &Suppression,
    cell: CellId,
) -> Result<FeasibilityInterval, IntervalError> {
    if !suppression.is_suppressed(cell) {
        return Err(IntervalError::NotSuppressed(cell));
    }
    let hidden: Vec<CellId> = suppression.suppressed_cells().collect();
    let col = |c: CellId| hidden.binary_search(&c).ok();
    let target = col(cell).ok_or(IntervalError::NotSuppressed(cell))?;

    // Rows: Σ_hidden a·x = −Σ_published a·value.
    let mut a: Vec<Vec<Rational>> = Vec::new();
    let mut b: Vec<Rational> = Vec::new();
    for rel in problem.relations() {
        let mut row = vec![Rational::ZERO; hidden.len()];
        let mut rhs: i128 = 0;
        let terms = std::iter::once((rel.total, 1i128)).chain(rel.parts.iter().map(|&p| (p, -1)));
        let mut any = false;
        for (c, coef) in terms {
            match col(c) {
                Some(j) => {
                    row[j] = row[j].add(Rational::integer(coef))?;
                    any = true;
                }
                None => rhs -= coef * i128::from(problem.value(c)),
            }
        }
        if any {
            a.push(row);
            b.push(Rational::integer(rhs));
        }
    }
    let lp = Lp::feasible(a, b)?;
    let lower = lp
        .clone()
        .optimise(target, false)?
        .unwrap_or(Rational::ZERO);
    let upper = lp.optimise(target, true)?;
    Ok(FeasibilityInterval { lower, upper })
}

/// A simplex tableau in canonical form for `A x = b, x ≥ 0`.
#[derive(Clone)]
struct Lp {
    /// Constraint rows, each `vars` coefficients then the right-hand side.
    rows: Vec<Vec<Rational>>,
    basis: Vec<usize>,
    vars: usize,
}

impl Lp {
    /// Phase one: find a basic feasible solution with artificial variables.
    fn feasible(a: Vec<Vec<Rational>>, b: Vec<Rational>) -> Res<Self> {
        let m = a.len();
        let vars = a.first().map_or(0, Vec::len);
        let width = vars + m;
        let mut rows = Vec::with_capacity(m);
        for (i, (mut row, rhs)) in a.into_iter().zip(b).enumerate() {
            let flip = rhs.signum() < 0;
            if flip {
                row.iter_mut().for_each(|x| *x = x.neg());
            }
            row.resize(width, Rational::ZERO);
            row[vars + i] = Rational::ONE;
            row.push(if flip { rhs.neg() } else { rhs });
            rows.push(row);
        }
        let mut lp = Lp {
            rows,
            basis: (vars..width).collect(),
            vars: width,
        };
        // Minimise the sum of artificials = maximise their negated sum.
        let mut objective = vec![Rational::ZERO; width];
        for x in objective.iter_mut().skip(vars) {
            *x = Rational::integer(-1);
        }
        lp.run(&objective)?;
        for (i, &bv) in lp.basis.iter().enumerate() {
            if bv >= vars && !lp.rows[i][width].is_zero() {
                return Err(IntervalError::Infeasible);
            }
        }
        // Drive remaining (zero) artificials out of the basis, or drop their row.
        let mut i = 0;
        while i < lp.rows.len() {
            if lp.basis[i] >= vars {
                match (0..vars).find(|&j| !lp.rows[i][j].is_zero()) {
                    Some(j) => lp.pivot(i, j)?,
                    None => {
                        lp.rows.remove(i);
                        lp.basis.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        for row in &mut lp.rows {
            row.drain(vars..width);
        }
        lp.vars = vars;
        Ok(lp)
    }

    fn pivot(&mut self, r: usize, c: usize) -> Res<()> {
        let p = self.rows[r][c];
        for x in self.rows[r].iter_mut() {
            *x = x.div(p)?;
        }
        let prow = self.rows[r].clone();
        for (i, row) in self.rows.iter_mut().enumerate() {
            if i == r || row[c].is_zero() {
                continue;
            }
            let f = row[c];
            for (x, y) in row.iter_mut().zip(&prow) {
                *x = x.sub(f.mul(*y)?)?;
            }
        }
        self.basis[r] = c;
        Ok(())
    }

    /// Maximises `objective · x`; `Ok(false)` when unbounded.
    fn run(&mut self, objective: &[Rational]) -> Res<bool> {
        let rhs = self.vars;
        loop {
            // Reduced cost of column j: c_j − Σ_i c_basis(i) · a_ij.
            let mut entering = None;
            for j in 0..self.vars {
                if self.basis.contains(&j) {
                    continue;
                }
                let mut reduced = objective[j];
                for (i, row) in self.rows.iter().enumerate() {
                    reduced = reduced.sub(objective[self.basis[i]].mul(row[j])?)?;
                }
                if reduced.signum() > 0 {
                    entering = Some(j);
                    break;
                }
            }
            let Some(j) = entering else {
                return Ok(true);
            };
            let mut leaving: Option<(usize, Rational)> = None;
            for (i, row) in self.rows.iter().enumerate() {
                if row[j].signum() > 0 {
                    let ratio = row[rhs].div(row[j])?;
                    let better = match leaving {
                        None => true,
                        Some((l, best)) => {
                            ratio < best || (ratio == best && self.basis[i] < self.basis[l])
                        }
                    };
                    if better {
                        leaving = Some((i, ratio));
                    }
                }
            }
            let Some((i, _)) = leaving else {
                return Ok(false);
            };
            self.pivot(i, j)?;
        }
    }

    /// The optimum of variable `target`, maximised or minimised; `None` when
    /// unbounded.
    fn optimise(mut self, target: usize, maximise: bool) -> Res<Option<Rational>> {
        let mut objective = vec![Rational::ZERO; self.vars];
        objective[target] = if maximise {
            Rational::ONE
        } else {
            Rational::integer(-1)
        };
        if !self.run(&objective)? {
            return Ok(None);
        }
        let value = self
            .basis
            .iter()
            .position(|&b| b == target)
            .map_or(Rational::ZERO, |i| self.rows[i][self.vars]);
        Ok(Some(value))
    }
}
