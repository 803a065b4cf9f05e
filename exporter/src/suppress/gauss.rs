//! Secondary suppression by Gaussian elimination, after Langsrud's
//! GaussSuppression (Statistics Norway).
//!
//! Every cell is first written as a linear function of a set of free
//! parameters (a basis of the solutions of the relations, `cell_vectors`). A
//! published cell then tells an intruder the value of that linear function.
//! Candidates are taken in order of preference for publishing; each is reduced
//! against the cells already published. If what remains is parallel to what
//! remains of a protected vector, publishing it would let that protected
//! quantity be computed, so it is suppressed instead; otherwise it is
//! published and its pivot is eliminated from the protected vectors.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};

use super::modp::{self, Accumulator, SparseVec};
use super::problem::Problem;

/// Each cell as a sparse vector over the free parameters, and their number.
pub(crate) struct CellVectors {
    pub(crate) vectors: Vec<SparseVec>,
    pub(crate) dim: usize,
}

/// Solves the relations for a basis of their solutions. Columns are ordered
/// largest value first, so pivots fall on totals and the free parameters are
/// mostly the innermost cells; that keeps the vectors short.
pub(crate) fn cell_vectors(problem: &Problem) -> CellVectors {
    let n = problem.len();
    let values = problem.values();
    let mut is_total = vec![false; n];
    for rel in problem.relations() {
        is_total[rel.total.index()] = true;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&c| (Reverse(values[c]), !is_total[c], c));
    let mut pos = vec![0u32; n];
    for (p, &c) in order.iter().enumerate() {
        pos[c] = p as u32;
    }

    // Forward elimination of the relation rows (total − Σ parts = 0). Each
    // row is reduced in a dense scratch vector against every pivot it meets,
    // smallest position first; a pivot only has entries after its lead, so
    // this settles each position once and the first survivor is the new lead
    // (the same lead as reducing the first entry again and again). Which
    // positions end up free, and so the parameters, depend only on the leads.
    let mut pivot_of: Vec<Option<u32>> = vec![None; n];
    let mut pivots: Vec<SparseVec> = Vec::new();
    let mut acc = Accumulator::new(n);
    let mut heap: BinaryHeap<Reverse<u32>> = BinaryHeap::new();
    let mut row: SparseVec = Vec::new();
    for rel in problem.relations() {
        row.clear();
        row.push((pos[rel.total.index()], 1));
        row.extend(rel.parts.iter().map(|p| (pos[p.index()], modp::neg(1))));
        row.sort_unstable_by_key(|e| e.0);
        let merged = merge_duplicates(std::mem::take(&mut row));
        acc.add_scaled(1, &merged, |r| {
            if pivot_of[r as usize].is_some() {
                heap.push(Reverse(r));
            }
        });
        row = merged;
        while let Some(Reverse(r)) = heap.pop() {
            let coef = acc.value(r);
            if coef == 0 {
                continue;
            }
            let Some(k) = pivot_of[r as usize] else {
                continue;
            };
            acc.add_scaled(modp::neg(coef), &pivots[k as usize], |r2| {
                if pivot_of[r2 as usize].is_some() {
                    heap.push(Reverse(r2));
                }
            });
        }
        let mut reduced = acc.take();
        if let Some(&(lead, _)) = reduced.first() {
            modp::normalise_first(&mut reduced);
            pivot_of[lead as usize] = Some(pivots.len() as u32);
            pivots.push(reduced);
        }
    }

    // Free positions become parameters; pivots are solved from the back.
    let mut param = vec![u32::MAX; n];
    let mut dim = 0usize;
    for p in 0..n {
        if pivot_of[p].is_none() {
            param[p] = dim as u32;
            dim += 1;
        }
    }
    let mut by_pos: Vec<SparseVec> = vec![Vec::new(); n];
    let mut acc = Accumulator::new(dim);
    for p in (0..n).rev() {
        by_pos[p] = match pivot_of[p] {
            None => vec![(param[p], 1)],
            Some(k) => {
                for &(q, c) in &pivots[k as usize][1..] {
                    acc.add_scaled(modp::neg(c), &by_pos[q as usize], |_| {});
                }
                acc.take()
            }
        };
    }
    let vectors = (0..n)
        .map(|c| std::mem::take(&mut by_pos[pos[c] as usize]))
        .collect();
    CellVectors { vectors, dim }
}

fn merge_duplicates(row: SparseVec) -> SparseVec {
    let mut out: SparseVec = Vec::with_capacity(row.len());
    for (i, x) in row {
        match out.last_mut() {
            Some(last) if last.0 == i => last.1 = modp::add(last.1, x),
            _ => out.push((i, x)),
        }
    }
    out.retain(|e| e.1 != 0);
    out
}

/// The keys of the protected-vector index are already well-mixed hashes, so
/// they are used as they are.
#[derive(Default)]
struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = i;
    }
}

type PassThrough = BuildHasherDefault<PassThroughHasher>;

/// One elimination pass. `protected` are the vectors that must stay outside
/// the span of everything published; `candidates` are cells in order of
/// preference for publishing. Returns, per candidate, whether it is suppressed.
pub(crate) fn eliminate(
    cells: &CellVectors,
    protected: Vec<SparseVec>,
    candidates: &[usize],
) -> Vec<bool> {
    let dim = cells.dim;
    let mut row_use = vec![0u32; dim];
    for v in &cells.vectors {
        for &(r, _) in v {
            row_use[r as usize] += 1;
        }
    }

    let mut protected: Vec<SparseVec> = protected.into_iter().filter(|v| !v.is_empty()).collect();
    let mut by_hash: HashMap<u64, Vec<usize>, PassThrough> = HashMap::default();
    let mut hashes: Vec<u64> = Vec::with_capacity(protected.len());
    let mut watch: Vec<Vec<u32>> = vec![Vec::new(); dim];
    for (q, v) in protected.iter_mut().enumerate() {
        modp::normalise_first(v);
        let h = modp::hash(v);
        hashes.push(h);
        by_hash.entry(h).or_default().push(q);
        for &(r, _) in v.iter() {
            watch[r as usize].push(q as u32);
        }
    }

    let mut pivot_at_row: Vec<u32> = vec![u32::MAX; dim];
    let mut pivots: Vec<(u32, SparseVec)> = Vec::new();
    let mut acc = Accumulator::new(dim);
    let mut heap: BinaryHeap<Reverse<u32>> = BinaryHeap::new();
    let mut suppressed = vec![false; candidates.len()];
    let mut seen_at = vec![u32::MAX; protected.len()];
    let mut scratch: SparseVec = Vec::new();

    for (slot, &cell) in candidates.iter().enumerate() {
        // Reduce against published pivots, oldest first, so each pivot (already
        // free of older pivot rows) never reintroduces an eliminated row.
        acc.add_scaled(1, &cells.vectors[cell], |r| {
            let k = pivot_at_row[r as usize];
            if k != u32::MAX {
                heap.push(Reverse(k));
            }
        });
        while let Some(Reverse(k)) = heap.pop() {
            let (row, ref pv) = pivots[k as usize];
            let coef = acc.value(row);
            if coef != 0 {
                acc.add_scaled(modp::neg(coef), pv, |r| {
                    let k2 = pivot_at_row[r as usize];
                    if k2 != u32::MAX && k2 > k {
                        heap.push(Reverse(k2));
                    }
                });
            }
        }
        let mut v = acc.take();
        if v.is_empty() {
            // Already implied by published cells: publishing it reveals nothing new.
            continue;
        }
        modp::normalise_first(&mut v);
        let h = modp::hash(&v);
        if by_hash
            .get(&h)
            .is_some_and(|qs| qs.iter().any(|&q| protected[q] == v))
        {
            suppressed[slot] = true;
            continue;
        }

        // Publish. The pivot row is the one touching fewest protected vectors
        // (each touched one fills in), then fewest cells; this limits fill-in.
        let Some(&(row, _)) = v.iter().min_by_key(|e| {
            let r = e.0 as usize;
            (watch[r].len(), row_use[r], e.0)
        }) else {
            continue;
        };
        let scale = modp::inv(modp::get(&v, row));
        for e in v.iter_mut() {
            e.1 = modp::mul(e.1, scale);
        }
        let k = pivots.len() as u32;
        pivot_at_row[row as usize] = k;

        let affected = std::mem::take(&mut watch[row as usize]);
        for q in affected {
            let q = q as usize;
            if seen_at[q] == k {
                continue;
            }
            seen_at[q] = k;
            let c = modp::get(&protected[q], row);
            if c == 0 {
                continue;
            }
            if let Some(list) = by_hash.get_mut(&hashes[q]) {
                list.retain(|&x| x != q);
            }
            modp::axpy_into(&protected[q], modp::neg(c), &v, &mut scratch);
            // The old vector becomes the next scratch buffer.
            std::mem::swap(&mut protected[q], &mut scratch);
            let updated = &mut protected[q];
            modp::normalise_first(updated);
            // Only rows of `v` can be new in `q`; older rows already watch it.
            for &(r, _) in &v {
                if r != row {
                    watch[r as usize].push(q as u32);
                }
            }
            let h = modp::hash(updated);
            hashes[q] = h;
            by_hash.entry(h).or_default().push(q);
        }
        pivots.push((row, v));
    }
    suppressed
}
