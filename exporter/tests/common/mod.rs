//! Builders for the tables the exporter makes, shared by the suppression tests.
#![allow(dead_code)]

use exporter::suppress::{CellId, Problem};

/// A two-way table with row, column and grand totals.
pub struct Table {
    pub problem: Problem,
    pub inner: Vec<Vec<CellId>>,
    pub row_totals: Vec<CellId>,
    pub col_totals: Vec<CellId>,
    pub grand: CellId,
}

pub fn table(values: &[Vec<u64>]) -> Table {
    let mut problem = Problem::new();
    let cols = values.first().map_or(0, Vec::len);
    let inner: Vec<Vec<CellId>> = values
        .iter()
        .map(|row| row.iter().map(|&v| problem.add_cell(v)).collect())
        .collect();
    let row_totals: Vec<CellId> = values
        .iter()
        .map(|row| problem.add_cell(row.iter().sum()))
        .collect();
    let col_totals: Vec<CellId> = (0..cols)
        .map(|j| problem.add_cell(values.iter().map(|r| r[j]).sum()))
        .collect();
    let grand = problem.add_cell(values.iter().flatten().sum());
    for (i, row) in inner.iter().enumerate() {
        problem
            .add_relation(row_totals[i], row)
            .expect("row adds up");
    }
    for j in 0..cols {
        let col: Vec<CellId> = inner.iter().map(|r| r[j]).collect();
        problem
            .add_relation(col_totals[j], &col)
            .expect("column adds up");
    }
    problem
        .add_relation(grand, &row_totals)
        .expect("grand total adds up");
    problem
        .add_relation(grand, &col_totals)
        .expect("grand total adds up");
    Table {
        problem,
        inner,
        row_totals,
        col_totals,
        grand,
    }
}

/// A classification tree; node 0 is "All", leaves carry the data.
#[derive(Clone)]
pub struct Tree {
    pub children: Vec<Vec<usize>>,
}

impl Tree {
    /// All > (one node per group > its leaves); groups of size 1 are flat leaves.
    pub fn grouped(groups: &[usize]) -> Self {
        let mut children = vec![Vec::new()];
        for &g in groups {
            let id = children.len();
            children.push(Vec::new());
            children[0].push(id);
            if g > 1 {
                for _ in 0..g {
                    let leaf = children.len();
                    children.push(Vec::new());
                    children[id].push(leaf);
                }
            }
        }
        Tree { children }
    }

    pub fn flat(leaves: usize) -> Self {
        Self::grouped(&vec![1; leaves])
    }

    pub fn len(&self) -> usize {
        self.children.len()
    }

    pub fn leaves(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&n| self.children[n].is_empty())
            .collect()
    }

    /// For each node, the positions (in `leaves()`) of the leaves below it.
    pub fn leaf_sets(&self) -> Vec<Vec<usize>> {
        let leaves = self.leaves();
        let mut sets = vec![Vec::new(); self.len()];
        for (k, &leaf) in leaves.iter().enumerate() {
            for (node, set) in sets.iter_mut().enumerate() {
                if self.is_ancestor_or_self(node, leaf) {
                    set.push(k);
                }
            }
        }
        sets
    }

    fn is_ancestor_or_self(&self, node: usize, leaf: usize) -> bool {
        node == leaf
            || self.children[node]
                .iter()
                .any(|&c| self.is_ancestor_or_self(c, leaf))
    }
}

/// One question for one partnership: stage × sex × option cells with every
/// marginal, plus one row per school (stage All, sex All) by option, tied to
/// the partnership row.
pub struct Survey {
    pub problem: Problem,
    /// cube[stage_node][sex_node][option_node]
    pub cube: Vec<Vec<Vec<CellId>>>,
    /// schools[school][option_node]
    pub schools: Vec<Vec<CellId>>,
}

/// `counts[school][stage_leaf][sex_leaf][option_leaf]`.
pub fn survey(stage: &Tree, sex: &Tree, option: &Tree, counts: &[Vec<Vec<Vec<u64>>>]) -> Survey {
    let (st_sets, sx_sets, op_sets) = (stage.leaf_sets(), sex.leaf_sets(), option.leaf_sets());
    let mut problem = Problem::new();
    let sum = |school: Option<usize>, a: &[usize], b: &[usize], c: &[usize]| -> u64 {
        let mut total = 0;
        for (s, data) in counts.iter().enumerate() {
            if school.is_some_and(|x| x != s) {
                continue;
            }
            for &i in a {
                for &j in b {
                    for &k in c {
                        total += data[i][j][k];
                    }
                }
            }
        }
        total
    };
    let mut cube = Vec::new();
    for a in &st_sets {
        let mut plane = Vec::new();
        for b in &sx_sets {
            plane.push(
                op_sets
                    .iter()
                    .map(|c| problem.add_cell(sum(None, a, b, c)))
                    .collect::<Vec<_>>(),
            );
        }
        cube.push(plane);
    }
    let schools: Vec<Vec<CellId>> = (0..counts.len())
        .map(|s| {
            op_sets
                .iter()
                .map(|c| problem.add_cell(sum(Some(s), &st_sets[0], &sx_sets[0], c)))
                .collect()
        })
        .collect();

    for (si, st_kids) in stage.children.iter().enumerate() {
        for (xi, sx_kids) in sex.children.iter().enumerate() {
            for (oi, op_kids) in option.children.iter().enumerate() {
                if !st_kids.is_empty() {
                    let parts: Vec<CellId> = st_kids.iter().map(|&k| cube[k][xi][oi]).collect();
                    problem
                        .add_relation(cube[si][xi][oi], &parts)
                        .expect("stage adds up");
                }
                if !sx_kids.is_empty() {
                    let parts: Vec<CellId> = sx_kids.iter().map(|&k| cube[si][k][oi]).collect();
                    problem
                        .add_relation(cube[si][xi][oi], &parts)
                        .expect("sex adds up");
                }
                if !op_kids.is_empty() {
                    let parts: Vec<CellId> = op_kids.iter().map(|&k| cube[si][xi][k]).collect();
                    problem
                        .add_relation(cube[si][xi][oi], &parts)
                        .expect("options add up");
                }
            }
        }
    }
    for row in &schools {
        for (oi, op_kids) in option.children.iter().enumerate() {
            if !op_kids.is_empty() {
                let parts: Vec<CellId> = op_kids.iter().map(|&k| row[k]).collect();
                problem
                    .add_relation(row[oi], &parts)
                    .expect("school options add up");
            }
        }
    }
    if !schools.is_empty() {
        for oi in 0..option.len() {
            let parts: Vec<CellId> = schools.iter().map(|row| row[oi]).collect();
            problem
                .add_relation(cube[0][0][oi], &parts)
                .expect("schools add up");
        }
    }
    Survey {
        problem,
        cube,
        schools,
    }
}

/// Scottish stages: All > Primary (P5–P7) + Secondary (S1–S4).
pub fn stages() -> Tree {
    Tree::grouped(&[3, 4])
}

/// All > Female, Male, Other, Not stated.
pub fn sexes() -> Tree {
    Tree::flat(4)
}

/// A small deterministic generator so tests need no extra crates.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Picks an index with the given weights.
    pub fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Simulated pupils: each school is primary or secondary, pupils get a sex
/// and one answer option. Returns `counts[school][stage][sex][option]`.
pub fn simulate(
    rng: &mut Rng,
    schools: usize,
    options: usize,
    max_per_stage: u64,
) -> Vec<Vec<Vec<Vec<u64>>>> {
    let sex_weights = [48, 48, 2, 2];
    let option_weights: Vec<u64> = (0..options as u64).map(|k| 1 + (k * 7919) % 13).collect();
    (0..schools)
        .map(|_| {
            let secondary = rng.below(4) == 0;
            let mut data = vec![vec![vec![0u64; options]; 4]; 7];
            let stage_range = if secondary { 3..7 } else { 0..3 };
            for st in stage_range {
                let pupils = rng.below(max_per_stage + 1);
                for _ in 0..pupils {
                    let sx = rng.weighted(&sex_weights);
                    let op = rng.weighted(&option_weights);
                    data[st][sx][op] += 1;
                }
            }
            data
        })
        .collect()
}
