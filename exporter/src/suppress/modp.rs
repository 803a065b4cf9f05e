//! Arithmetic modulo the Mersenne prime 2^61 − 1 and sparse vectors over it.
//!
//! Choosing the suppression pattern needs many rank decisions, and exact
//! rationals would be slow and can overflow. Working modulo a large prime is
//! fast and never overflows; a rank decision can only differ from the exact one
//! when the prime divides a specific non-zero minor, which for the small
//! coefficients of frequency tables is vanishingly unlikely. The exact audit in
//! `audit.rs` re-checks every pattern anyway, so this is a speed choice, not a
//! safety one.

pub(crate) const P: u64 = (1 << 61) - 1;

pub(crate) type SparseVec = Vec<(u32, u64)>;

#[inline]
pub(crate) fn add(a: u64, b: u64) -> u64 {
    let s = a + b;
    if s >= P { s - P } else { s }
}

#[inline]
pub(crate) fn neg(a: u64) -> u64 {
    if a == 0 { 0 } else { P - a }
}

#[inline]
pub(crate) fn mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    // 2^61 ≡ 1 (mod P), so the high and low 61-bit halves can simply be added.
    let lo = (r as u64) & P;
    let hi = (r >> 61) as u64;
    add(lo, hi)
}

pub(crate) fn pow(mut base: u64, mut exp: u64) -> u64 {
    let mut acc = 1;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = mul(acc, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    acc
}

#[inline]
pub(crate) fn inv(a: u64) -> u64 {
    pow(a, P - 2)
}

/// Scales `v` so that its first entry is 1: two vectors are parallel exactly
/// when their normalised forms are equal.
pub(crate) fn normalise_first(v: &mut SparseVec) {
    if let Some(&(_, lead)) = v.first()
        && lead != 1
    {
        let f = inv(lead);
        for e in v.iter_mut() {
            e.1 = mul(e.1, f);
        }
    }
}

pub(crate) fn hash(v: &SparseVec) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &(i, x) in v {
        h = (h ^ u64::from(i)).wrapping_mul(0x0000_0100_0000_01b3);
        h = (h ^ x).wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

pub(crate) fn get(v: &SparseVec, index: u32) -> u64 {
    match v.binary_search_by_key(&index, |e| e.0) {
        Ok(k) => v[k].1,
        Err(_) => 0,
    }
}

/// `a + f·b`, merging two sorted sparse vectors.
pub(crate) fn axpy(a: &SparseVec, f: u64, b: &SparseVec) -> SparseVec {
    let mut out = Vec::with_capacity(a.len() + b.len());
    axpy_into(a, f, b, &mut out);
    out
}

/// `a + f·b` written into `out` (cleared first), so that a buffer can be reused.
pub(crate) fn axpy_into(a: &SparseVec, f: u64, b: &SparseVec, out: &mut SparseVec) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        let take_a = j >= b.len() || (i < a.len() && a[i].0 < b[j].0);
        let take_b = i >= a.len() || (j < b.len() && b[j].0 < a[i].0);
        if take_a {
            out.push(a[i]);
            i += 1;
        } else if take_b {
            let x = mul(f, b[j].1);
            if x != 0 {
                out.push((b[j].0, x));
            }
            j += 1;
        } else {
            let x = add(a[i].1, mul(f, b[j].1));
            if x != 0 {
                out.push((a[i].0, x));
            }
            i += 1;
            j += 1;
        }
    }
}

/// A dense scratch vector that remembers which entries it touched, so that
/// sums of many sparse vectors cost only their total length.
pub(crate) struct Accumulator {
    dense: Vec<u64>,
    live: Vec<bool>,
    touched: Vec<u32>,
}

impl Accumulator {
    pub(crate) fn new(dim: usize) -> Self {
        Self {
            dense: vec![0; dim],
            live: vec![false; dim],
            touched: Vec::new(),
        }
    }

    #[inline]
    pub(crate) fn value(&self, i: u32) -> u64 {
        self.dense[i as usize]
    }

    /// Adds `f·v`; returns the indices touched for the first time.
    #[inline]
    pub(crate) fn add_scaled(&mut self, f: u64, v: &SparseVec, mut fresh: impl FnMut(u32)) {
        for &(i, x) in v {
            let k = i as usize;
            self.dense[k] = add(self.dense[k], mul(f, x));
            if !self.live[k] {
                self.live[k] = true;
                self.touched.push(i);
                fresh(i);
            }
        }
    }

    /// Empties the scratch vector and returns its non-zero entries in order.
    pub(crate) fn take(&mut self) -> SparseVec {
        if self.touched.len() * 8 > self.dense.len() {
            // Dense enough that one scan beats sorting.
            let mut out = Vec::with_capacity(self.touched.len());
            for (k, live) in self.live.iter_mut().enumerate() {
                if *live {
                    if self.dense[k] != 0 {
                        out.push((k as u32, self.dense[k]));
                    }
                    self.dense[k] = 0;
                    *live = false;
                }
            }
            self.touched.clear();
            return out;
        }
        self.touched.sort_unstable();
        let mut out = Vec::with_capacity(self.touched.len());
        for &i in &self.touched {
            let k = i as usize;
            if self.dense[k] != 0 {
                out.push((i, self.dense[k]));
            }
            self.dense[k] = 0;
            self.live[k] = false;
        }
        self.touched.clear();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_multiplies_to_one() {
        for a in [1, 2, 3, 12345, P - 1] {
            assert_eq!(mul(a, inv(a)), 1, "inverse of {a}");
        }
    }

    #[test]
    fn axpy_cancels_equal_vectors() {
        let a: SparseVec = vec![(1, 3), (4, 5)];
        assert!(axpy(&a, neg(1), &a).is_empty());
    }
}
