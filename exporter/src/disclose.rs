//! From counts to published tables: one disclosure-control problem per
//! partnership and table, solved with [`crate::suppress`] and audited before
//! anything is written.
//!
//! A problem holds every cell the table publishes for the partnership: the
//! stage-by-sex grid with its band and "All" subtotals, and one row per school.
//! Its relations are the additions a reader could use:
//! - All = Primary + Secondary; Primary = P5 + P6 + P7; Secondary = S1 + ... + S4
//!   (for every sex level and category);
//! - sex All = the sum of the sex categories, "Not stated" included (for every
//!   stage level and category);
//! - the partnership's All/All cell = the sum of its schools (per category);
//! - a school's cell = the sum of its stages, and the partnership's cell of
//!   a stage (sex All) = the sum of its schools at that stage: each school's
//!   rows by stage are published too, in its school report
//!   ([`crate::school_report`]), and so are protected in the same problem;
//! - base = the sum of the categories, wherever every pupil falls in exactly
//!   one category (all kinds but multiple choice);
//! - in multiple choice, each category at most the base (an inequality,
//!   which only the range check of [`crate::suppress::protect`] uses);
//! - routing: in every group, a routed question's base at most the answers
//!   that route to it: a question routed on holds its follow-ups, as
//!   published, in its own problem ([`hold_follow_up`]); a follow-up takes
//!   the answers that route to it as known bounds ([`routing_bounds`]);
//! - response counts: in every school at every stage, a question's base at
//!   most the pupils who responded there, which the problem holds as
//!   unknowns between the published response counts ([`Responses`]).
//!
//! Each pattern is made by [`crate::suppress::protect_forcing`]: elimination,
//! then the range check by linear programming, then the exact audit.

use std::collections::{BTreeMap, HashMap};

use survey_defs::Stage;

use crate::aggregate::UnitTally;
use crate::layout::ALL;
use crate::layout::{Layout, StageLevel, TableDef};
use crate::prior::{CellKey, RATES, UnitPrior};
use crate::suppress::{
    CellId, Exposure, Problem, ProblemError, Rule, audit_exact, protect_forcing,
};

/// Earlier releases of the same unit, which force cells hidden in a new one
/// (see [`crate::prior`]).
#[derive(Debug, Clone, Copy)]
pub struct Earlier<'a> {
    pub prior: &'a UnitPrior,
    /// The seed code of each of the unit's schools, by index.
    pub seeds: &'a [String],
}

impl Earlier<'_> {
    fn school(&self, school: Option<usize>) -> String {
        school
            .and_then(|s| self.seeds.get(s))
            .map_or_else(|| ALL.to_owned(), Clone::clone)
    }
}

/// One published row group: a breakdown position with every category and the
/// base (last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Index into the unit's school list; `None` for all schools.
    pub school: Option<usize>,
    pub stage: StageLevel,
    /// Index into [`Layout::sexes`]; `None` for all.
    pub sex: Option<usize>,
    /// Categories, then the base.
    pub counts: Vec<u32>,
    pub hidden: Vec<bool>,
}

impl Line {
    pub fn base(&self) -> (u32, bool) {
        let last = self.counts.len() - 1;
        (self.counts[last], self.hidden[last])
    }
}

/// One table for one unit (partnership or Scotland), after suppression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedTable {
    pub table: usize,
    pub lines: Vec<Line>,
}

impl PublishedTable {
    pub fn cells(&self) -> usize {
        self.lines.iter().map(|l| l.counts.len()).sum()
    }

    pub fn suppressed(&self) -> usize {
        self.lines
            .iter()
            .map(|l| l.hidden.iter().filter(|h| **h).count())
            .sum()
    }
}

/// A response count against a roll, for one school or the partnership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLine {
    pub school: Option<usize>,
    pub stage: StageLevel,
    pub responses: u32,
    pub roll: u32,
    pub hidden: bool,
}

/// Why a table could not be published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscloseError {
    /// The audit found an exposure: nothing may be written.
    #[error("the disclosure audit failed for {table}: {exposure}")]
    Audit { table: String, exposure: Exposure },
    /// A relation did not add up: a bug in aggregation, never expected.
    #[error("the counts of {table} do not add up: {source}")]
    Inconsistent { table: String, source: ProblemError },
    /// A worker stopped before every table was suppressed.
    #[error("suppression did not finish for every table")]
    Incomplete,
    /// A table given as published does not match the counts it was
    /// published from.
    #[error("the published {0} do not match the counts they were published from")]
    Mismatch(String),
}

/// Builds cells line by line and records relations between them.
struct Builder {
    problem: Problem,
    lines: Vec<(Line, Vec<CellId>)>,
}

impl Builder {
    fn new() -> Self {
        Self {
            problem: Problem::new(),
            lines: Vec::new(),
        }
    }

    fn line(
        &mut self,
        school: Option<usize>,
        stage: StageLevel,
        sex: Option<usize>,
        counts: Vec<u32>,
    ) -> usize {
        let ids = counts
            .iter()
            .map(|&v| self.problem.add_cell(u64::from(v)))
            .collect();
        let hidden = vec![false; counts.len()];
        self.lines.push((
            Line {
                school,
                stage,
                sex,
                counts,
                hidden,
            },
            ids,
        ));
        self.lines.len() - 1
    }

    fn relate(&mut self, total: usize, parts: &[usize], slot: usize) -> Result<(), ProblemError> {
        if parts.is_empty() {
            return Ok(());
        }
        let total_id = self.lines[total].1[slot];
        let part_ids: Vec<CellId> = parts.iter().map(|&p| self.lines[p].1[slot]).collect();
        self.problem.add_relation(total_id, &part_ids)
    }

    /// base = sum of categories, on every line from `first` on.
    fn additive(&mut self, first: usize) -> Result<(), ProblemError> {
        for (_, ids) in &self.lines[first..] {
            if let Some((&base, parts)) = ids.split_last()
                && !parts.is_empty()
            {
                self.problem.add_relation(base, parts)?;
            }
        }
        Ok(())
    }

    /// Each category at most the base, on every line from `first` on
    /// (multiple choice: a pupil may tick several, but each counts once in
    /// the base).
    fn at_most_base(&mut self, first: usize) -> Result<(), ProblemError> {
        for (_, ids) in &self.lines[first..] {
            if let Some((&base, parts)) = ids.split_last() {
                for &part in parts {
                    self.problem.add_at_most(&[part], &[base])?;
                }
            }
        }
        Ok(())
    }

    /// Which cells earlier releases force hidden: `key` names a line's cell.
    fn forced(
        &self,
        earlier: Option<Earlier<'_>>,
        rule: &Rule,
        key: impl Fn(&Line, usize) -> CellKey,
    ) -> Vec<bool> {
        let mut forced = vec![false; self.problem.len()];
        let Some(earlier) = earlier else {
            return forced;
        };
        for (line, ids) in &self.lines {
            for (k, id) in ids.iter().enumerate() {
                let value = u64::from(line.counts[k]);
                forced[id.index()] = earlier.prior.forces(&key(line, k), value, rule.threshold);
            }
        }
        forced
    }

    /// Suppresses (with `forced` cells hidden whatever their value), audits,
    /// and returns the lines with their hidden flags.
    fn solve(
        mut self,
        rule: &Rule,
        name: &str,
        forced: &[bool],
    ) -> Result<Vec<Line>, DiscloseError> {
        // Zeros of groups smaller than the threshold are hidden and
        // protected like small counts, so that no sum gives them back.
        let mut forced = forced.to_vec();
        for (line, ids) in &self.lines {
            let (base, _) = line.base();
            if base == 0 || u64::from(base) >= rule.threshold {
                continue;
            }
            for (count, id) in line.counts.iter().zip(ids) {
                if *count == 0 {
                    forced[id.index()] = true;
                }
            }
        }
        let pattern = protect_forcing(&self.problem, rule, &forced).map_err(|exposure| {
            DiscloseError::Audit {
                table: name.to_owned(),
                exposure,
            }
        })?;
        audit_exact(&self.problem, &pattern).map_err(|exposure| DiscloseError::Audit {
            table: name.to_owned(),
            exposure,
        })?;
        Ok(self
            .lines
            .drain(..)
            .map(|(mut line, ids)| {
                for (h, id) in line.hidden.iter_mut().zip(&ids) {
                    *h = pattern.is_suppressed(*id);
                }
                line
            })
            .collect())
    }
}

/// The stage-by-sex grid of one table: for each published stage level, one
/// line per sex category and one for All. Returns the line index of each
/// (level, sex) position, with `sexes` standing for All.
fn grid(
    b: &mut Builder,
    tally: &UnitTally,
    layout: &Layout,
    t: &TableDef,
    levels: &[StageLevel],
) -> Result<HashMap<(StageLevel, usize), usize>, ProblemError> {
    let sexes = layout.sexes.len();
    let width = t.width();
    let mut at = HashMap::new();
    for &level in levels {
        let mut all = vec![0u32; width];
        for sex in 0..sexes {
            let mut counts = vec![0u32; width];
            for stage in level.stages().intersection(t.stages).iter() {
                for (k, c) in counts.iter_mut().enumerate() {
                    *c += tally.cell(stage, sex, t.offset + k);
                }
            }
            for (a, c) in all.iter_mut().zip(&counts) {
                *a += c;
            }
            at.insert((level, sex), b.line(None, level, Some(sex), counts));
        }
        at.insert((level, sexes), b.line(None, level, None, all));
    }
    for slot in 0..width {
        for sex in 0..=sexes {
            let line = |l: StageLevel| at.get(&(l, sex)).copied();
            let band = |band: StageLevel| -> Vec<usize> {
                band.stages()
                    .iter()
                    .filter_map(|s| line(StageLevel::Stage(s)))
                    .collect()
            };
            for band_level in [StageLevel::Primary, StageLevel::Secondary] {
                if let Some(total) = line(band_level) {
                    b.relate(total, &band(band_level), slot)?;
                }
            }
            if let Some(total) = line(StageLevel::All) {
                let bands: Vec<usize> = [StageLevel::Primary, StageLevel::Secondary]
                    .into_iter()
                    .filter_map(line)
                    .collect();
                b.relate(total, &bands, slot)?;
            }
        }
        for &level in levels {
            let parts: Vec<usize> = (0..sexes)
                .filter_map(|s| at.get(&(level, s)).copied())
                .collect();
            if let Some(&total) = at.get(&(level, sexes)) {
                b.relate(total, &parts, slot)?;
            }
        }
    }
    Ok(at)
}

/// A finest position a table publishes: a stage and sex in the partnership's
/// grid, or a school at a stage. Every other line of the table is a sum of
/// these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Finest {
    Grid(Stage, usize),
    School(usize, Stage),
}

/// One table's finest lines in a problem.
struct Part {
    table: usize,
    finest: BTreeMap<Finest, usize>,
}

/// Adds one table for one partnership to `b`: the grid and the school rows,
/// with every relation between them. `schools[i]` is the tally row (if any)
/// of the unit's school `i`; lines name schools by `i`.
fn add_table(
    b: &mut Builder,
    tally: &UnitTally,
    schools: &[Option<usize>],
    layout: &Layout,
    table: usize,
    responses: Option<&Responses>,
) -> Result<Part, ProblemError> {
    let t = &layout.tables[table];
    let first = b.lines.len();
    let mut finest = BTreeMap::new();
    let levels = StageLevel::published_for(t.stages);
    let at = grid(b, tally, layout, t, &levels)?;
    let sexes = layout.sexes.len();
    for (&(level, sex), &line) in &at {
        if let StageLevel::Stage(stage) = level
            && sex < sexes
        {
            finest.insert(Finest::Grid(stage, sex), line);
        }
    }
    // Schools whose pupils can be in this table, in the caller's order.
    let mut rows = Vec::new();
    let mut by_stage: BTreeMap<Stage, Vec<usize>> = Default::default();
    for (index, s) in schools.iter().enumerate() {
        let Some(school) = s.map(|s| &tally.schools[s]) else {
            continue;
        };
        let reached: u32 = t
            .stages
            .iter()
            .map(|stage: Stage| school.responses[stage as usize])
            .sum();
        if reached == 0 {
            continue;
        }
        let counts = school.slots[t.offset..t.offset + t.width()].to_vec();
        let row = b.line(Some(index), StageLevel::All, None, counts);
        rows.push(row);
        // The school by stage, for its report: the same problem, so that
        // the school's cells and the partnership's are protected together.
        // A school with pupils at one stage only has one row, which is
        // that stage's.
        let stages: Vec<Stage> = t
            .stages
            .iter()
            .filter(|s| school.responses[*s as usize] > 0)
            .collect();
        if let [only] = stages[..] {
            by_stage.entry(only).or_default().push(row);
            finest.insert(Finest::School(index, only), row);
            continue;
        }
        let mut stage_rows = Vec::new();
        for stage in stages {
            let counts = school.stage(stage)[t.offset..t.offset + t.width()].to_vec();
            let line = b.line(Some(index), StageLevel::Stage(stage), None, counts);
            by_stage.entry(stage).or_default().push(line);
            finest.insert(Finest::School(index, stage), line);
            stage_rows.push(line);
        }
        for slot in 0..t.width() {
            b.relate(row, &stage_rows, slot)?;
        }
    }
    if let Some(&total) = at.get(&(StageLevel::All, sexes)) {
        for slot in 0..t.width() {
            b.relate(total, &rows, slot)?;
        }
    }
    for (stage, lines) in &by_stage {
        if let Some(&total) = at.get(&(StageLevel::Stage(*stage), sexes)) {
            for slot in 0..t.width() {
                b.relate(total, lines, slot)?;
            }
        }
    }
    if t.additive {
        b.additive(first)?;
    } else {
        b.at_most_base(first)?;
    }
    if let Some(responses) = responses {
        responses.bound(b, &finest)?;
    }
    Ok(Part { table, finest })
}

/// What the published response counts tell a reader about a partnership's
/// tables: in every group, the pupils who answered a question (its base)
/// are at most the pupils who responded there.
///
/// `response_rates.csv` publishes each school's responses and the
/// partnership's at each stage, band and in all, not a school's at one
/// stage. Those stand between: unknowns a reader can narrow from the
/// published sums and the public school rolls. So each table's problem
/// holds them as cells no file publishes, with what a reader knows of them
/// (each published sum, each at most its roll) and each base of a school
/// at a stage at most its cell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Responses {
    /// Each school's responses and roll by stage, by the school's index.
    schools: Vec<([u32; 7], [u32; 7])>,
    /// Each published count: of one school or the partnership, over which
    /// stages.
    published: Vec<(Option<usize>, StageLevel, u64)>,
}

impl Responses {
    /// The responses of `tally`'s schools as `rates` publishes them, with
    /// `schools[i]` the tally row and roll by stage of the unit's school `i`
    /// (as for [`publish_rates`], which made `rates`).
    pub fn new(
        tally: &UnitTally,
        schools: &[(Option<usize>, [u32; 7])],
        rates: &[RateLine],
    ) -> Self {
        Self {
            schools: schools
                .iter()
                .map(|(row, roll)| {
                    let n = row.map(|s| tally.schools[s].responses).unwrap_or([0; 7]);
                    (n, *roll)
                })
                .collect(),
            published: rates
                .iter()
                .filter(|r| !r.hidden)
                .map(|r| (r.school, r.stage, u64::from(r.responses)))
                .collect(),
        }
    }

    /// Adds the response cells and bounds to a table's problem, whose
    /// finest lines are `finest`.
    fn bound(&self, b: &mut Builder, finest: &BTreeMap<Finest, usize>) -> Result<(), ProblemError> {
        let mut at: BTreeMap<(usize, Stage), CellId> = BTreeMap::new();
        for (index, (n, roll)) in self.schools.iter().enumerate() {
            for stage in Stage::ALL {
                let (n, roll) = (
                    u64::from(n[stage as usize]),
                    u64::from(roll[stage as usize]),
                );
                // A school with no responses at a stage has no line there;
                // taking its count as known (0) only narrows ranges.
                if n == 0 {
                    continue;
                }
                let cell = b.problem.add_unpublished_cell(n);
                b.problem.add_upper_bound(&[cell], roll.max(n))?;
                at.insert((index, stage), cell);
            }
        }
        for &(school, level, value) in &self.published {
            let stages = level.stages();
            let cells: Vec<CellId> = at
                .iter()
                .filter(|((s, g), _)| school.is_none_or(|i| i == *s) && stages.contains(*g))
                .map(|(_, &cell)| cell)
                .collect();
            if !cells.is_empty() {
                b.problem.add_upper_bound(&cells, value)?;
                b.problem.add_lower_bound(&cells, value)?;
            }
        }
        for (&position, &line) in finest {
            if let Finest::School(index, stage) = position
                && let Some(&responded) = at.get(&(index, stage))
                && let Some(&base) = b.lines[line].1.last()
            {
                b.problem.add_at_most(&[base], &[responded])?;
            }
        }
        Ok(())
    }
}

/// A count of table `t` at a finest position, from the tally: the sum of
/// the table's `slots` (category indices, the base being the last).
fn finest_count(
    tally: &UnitTally,
    schools: &[Option<usize>],
    t: &TableDef,
    position: Finest,
    slots: &[usize],
) -> u64 {
    let stage = match position {
        Finest::Grid(stage, _) | Finest::School(_, stage) => stage,
    };
    if !t.stages.contains(stage) {
        return 0;
    }
    slots
        .iter()
        .map(|&k| {
            u64::from(match position {
                Finest::Grid(stage, sex) => tally.cell(stage, sex, t.offset + k),
                Finest::School(i, stage) => schools
                    .get(i)
                    .copied()
                    .flatten()
                    .map_or(0, |s| tally.schools[s].stage(stage)[t.offset + k]),
            })
        })
        .sum()
}

/// What routing tells a reader about `part`'s table: in every group, the
/// pupils who answered a routed question (its base) are at most those who
/// gave an answer that routes to it. Stated at each finest position the
/// tables publish (a stage and sex, a school at a stage), which every
/// coarser line adds up from.
///
/// Follow-ups held in the same problem ([`hold_follow_up`]) bring the
/// relation with them. Otherwise it enters with the linked table's side as
/// a known number at every position, its true count. A reader who knows
/// less can only find wider ranges, so a table that passes its range check
/// with these bounds passes against the real reader too:
/// - for a routed table, an upper bound on its base: the true count of the
///   answers that route to it, as if the reader knew it exactly, even
///   where the table routed on hides it;
/// - for a table routed on, a lower bound on its routing answers: the true
///   base of each follow-up not `held`.
fn routing_bounds(
    b: &mut Builder,
    tally: &UnitTally,
    schools: &[Option<usize>],
    layout: &Layout,
    part: &Part,
    held: &[usize],
) -> Result<(), ProblemError> {
    let t = &layout.tables[part.table];
    if let Some(route) = &t.route {
        let parent = &layout.tables[route.parent];
        for (&position, &line) in &part.finest {
            let Some(&base) = b.lines[line].1.last() else {
                continue;
            };
            let routed = finest_count(tally, schools, parent, position, &route.categories);
            b.problem.add_upper_bound(&[base], routed)?;
        }
    }
    for (c, child) in layout.tables.iter().enumerate() {
        let Some(route) = child.route.as_ref().filter(|r| r.parent == part.table) else {
            continue;
        };
        if held.contains(&c) {
            continue;
        }
        let base = [child.categories.len()];
        for (&position, &line) in &part.finest {
            let answered = finest_count(tally, schools, child, position, &base);
            if answered == 0 {
                continue;
            }
            let routing: Vec<CellId> = route
                .categories
                .iter()
                .map(|&k| b.lines[line].1[k])
                .collect();
            b.problem.add_lower_bound(&routing, answered)?;
        }
    }
    Ok(())
}

/// Holds follow-up `published`, as published, in the problem of the table
/// it routes on (`parent`, already in `b`): every cell it publishes as
/// published already, every cell it hides as one no file publishes, with
/// all its relations, and in every group its base at most the answers that
/// route to it. The table routed on is then checked against everything a
/// reader of the follow-up knows, no more and no less. Returns the
/// follow-up's part, for the questions routed on it in turn.
fn hold_follow_up(
    b: &mut Builder,
    tally: &UnitTally,
    schools: &[Option<usize>],
    layout: &Layout,
    parent: &Part,
    published: &PublishedTable,
) -> Result<Part, DiscloseError> {
    let name = || layout.tables[published.table].id.as_str().to_owned();
    let inconsistent = |source| DiscloseError::Inconsistent {
        table: name(),
        source,
    };
    let first = b.lines.len();
    let part = add_table(b, tally, schools, layout, published.table, None).map_err(inconsistent)?;
    if b.lines.len() - first != published.lines.len() {
        return Err(DiscloseError::Mismatch(name()));
    }
    for ((_, ids), line) in b.lines[first..].iter().zip(&published.lines) {
        for (&id, &hidden) in ids.iter().zip(&line.hidden) {
            if hidden {
                b.problem.mark_unpublished(id);
            } else {
                b.problem.fix_published(id);
            }
        }
    }
    let t = &layout.tables[published.table];
    let Some(route) = &t.route else {
        return Ok(part);
    };
    for (&position, &line) in &part.finest {
        let Some(&base) = b.lines[line].1.last() else {
            continue;
        };
        match parent.finest.get(&position) {
            Some(&above) => {
                let routing: Vec<CellId> = route
                    .categories
                    .iter()
                    .map(|&k| b.lines[above].1[k])
                    .collect();
                b.problem.add_at_most(&[base], &routing)
            }
            None => {
                let parent = &layout.tables[route.parent];
                let routed = finest_count(tally, schools, parent, position, &route.categories);
                b.problem.add_upper_bound(&[base], routed)
            }
        }
        .map_err(inconsistent)?;
    }
    Ok(part)
}

/// What else of its unit a table is published beside, which tells its
/// reader more about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Linked<'a> {
    /// For a table routed on, the tables routed on it (directly or through
    /// others, see [`routes_on`]) as published, held in its problem (see
    /// [`hold_follow_up`]); a follow-up not given bounds the table with its
    /// true bases, which is safe and hides more.
    pub follow_ups: &'a [&'a PublishedTable],
    /// The unit's responses (see [`Responses`]); without them the table is
    /// protected as if no response count were published.
    pub responses: Option<&'a Responses>,
}

/// One table for one partnership: the grid and the school rows, suppressed
/// and audited together, with what routing and the response counts tell
/// about it (`linked`). `schools[i]` is the tally row (if any) of the
/// unit's school `i`; lines name schools by `i`.
#[allow(clippy::too_many_arguments)]
pub fn publish_table(
    tally: &UnitTally,
    schools: &[Option<usize>],
    layout: &Layout,
    table: usize,
    rule: &Rule,
    name: &str,
    earlier: Option<Earlier<'_>>,
    linked: Linked<'_>,
) -> Result<PublishedTable, DiscloseError> {
    let inconsistent = |source| DiscloseError::Inconsistent {
        table: name.to_owned(),
        source,
    };
    let t = &layout.tables[table];
    // A routed table's base is at most the answers that route to it (their
    // true counts), which are at most the responses.
    let responses = linked.responses.filter(|_| t.route.is_none());
    let mut b = Builder::new();
    let part = add_table(&mut b, tally, schools, layout, table, responses).map_err(inconsistent)?;
    let own = b.lines.len();
    // Each follow-up after the question it routes on, which layout order
    // gives: a follow-up of a follow-up is held beside the one it routes on.
    let mut follow_ups: Vec<&PublishedTable> = linked.follow_ups.to_vec();
    follow_ups.sort_by_key(|f| f.table);
    let mut held: Vec<Part> = Vec::new();
    for follow_up in follow_ups {
        let Some(route) = &layout.tables[follow_up.table].route else {
            continue;
        };
        if held.iter().any(|h| h.table == follow_up.table) {
            continue;
        }
        let above = if route.parent == table {
            &part
        } else if let Some(above) = held.iter().find(|h| h.table == route.parent) {
            above
        } else {
            continue;
        };
        let holding = hold_follow_up(&mut b, tally, schools, layout, above, follow_up)?;
        held.push(holding);
    }
    let held: Vec<usize> = held.iter().map(|h| h.table).collect();
    routing_bounds(&mut b, tally, schools, layout, &part, &held).map_err(inconsistent)?;
    let forced = b.forced(earlier, rule, |line, k| CellKey {
        school: earlier.map(|e| e.school(line.school)).unwrap_or_default(),
        stage: line.stage.as_str().to_owned(),
        sex: line
            .sex
            .map_or(ALL, |s| layout.sexes[s].code.as_str())
            .to_owned(),
        table: t.id.clone(),
        option: t.option_code(k).to_owned(),
    });
    let mut lines = b.solve(rule, name, &forced)?;
    lines.truncate(own);
    Ok(PublishedTable { table, lines })
}

/// Every table of one partnership, one problem after another on one thread
/// (the export runs them on every core); each table routed on after its
/// follow-ups, which bound it as published.
pub fn publish_every_table(
    tally: &UnitTally,
    schools: &[Option<usize>],
    layout: &Layout,
    rule: &Rule,
    name: &str,
    earlier: Option<Earlier<'_>>,
    responses: Option<&Responses>,
) -> Result<Vec<PublishedTable>, DiscloseError> {
    // A question routes only on an earlier one, so in reverse layout order
    // every follow-up comes before the question it routes on.
    let mut done: Vec<Option<PublishedTable>> = vec![None; layout.tables.len()];
    for t in (0..layout.tables.len()).rev() {
        let follow_ups: Vec<&PublishedTable> = done
            .iter()
            .flatten()
            .filter(|p| routes_on(layout, p.table, t))
            .collect();
        let linked = Linked {
            follow_ups: &follow_ups,
            responses,
        };
        let published = publish_table(tally, schools, layout, t, rule, name, earlier, linked)?;
        done[t] = Some(published);
    }
    Ok(done.into_iter().flatten().collect())
}

/// Whether table `follow_up` routes on table `table`, directly or through
/// questions routed on it.
pub fn routes_on(layout: &Layout, follow_up: usize, table: usize) -> bool {
    let mut t = follow_up;
    while let Some(route) = &layout.tables[t].route {
        if route.parent == table {
            return true;
        }
        t = route.parent;
    }
    false
}

/// Response counts against the roll, suppressed and audited as one problem
/// per partnership: each school's total, and the partnership's at each
/// stage, band and in all. `rolls[i]` is the roll of `schools[i]` by stage;
/// schools with no roll and no responses get no line.
///
/// A school's count at one stage is not published: a reader who knew it
/// would know, within the few who skipped it, how many pupils of that small
/// group answered each question (see [`Responses`]). It is in the problem
/// as a cell no file publishes, since it ties each school's total to the
/// stages' totals.
pub fn publish_rates(
    tally: &UnitTally,
    schools: &[(Option<usize>, [u32; 7])],
    rule: &Rule,
    name: &str,
    earlier: Option<Earlier<'_>>,
) -> Result<Vec<RateLine>, DiscloseError> {
    let inconsistent = |source| DiscloseError::Inconsistent {
        table: name.to_owned(),
        source,
    };
    let mut b = Builder::new();
    let mut rolls: Vec<u32> = Vec::new();
    // (cell, responses, roll) of each school at each stage.
    let mut by_stage: BTreeMap<Stage, Vec<(CellId, u32, u32)>> = BTreeMap::new();
    let mut school_totals = Vec::new();
    for (index, (tally_school, roll)) in schools.iter().enumerate() {
        let responses = tally_school
            .map(|s| tally.schools[s].responses)
            .unwrap_or([0; 7]);
        let mut parts = Vec::new();
        for stage in Stage::ALL {
            let (n, r) = (responses[stage as usize], roll[stage as usize]);
            if n == 0 && r == 0 {
                continue;
            }
            let cell = b.problem.add_unpublished_cell(u64::from(n));
            // School rolls by stage are public.
            b.problem
                .add_upper_bound(&[cell], u64::from(r.max(n)))
                .map_err(inconsistent)?;
            parts.push(cell);
            by_stage.entry(stage).or_default().push((cell, n, r));
        }
        if parts.is_empty() {
            continue;
        }
        let total: u32 = responses.iter().sum();
        let line = b.line(Some(index), StageLevel::All, None, vec![total]);
        rolls.push(roll.iter().sum());
        let total = b.lines[line].1[0];
        b.problem
            .add_relation(total, &parts)
            .map_err(inconsistent)?;
        school_totals.push(line);
    }
    let mut levels: HashMap<StageLevel, usize> = HashMap::new();
    for level in StageLevel::ALL {
        let at: Vec<(CellId, u32, u32)> = level
            .stages()
            .iter()
            .filter_map(|s| by_stage.get(&s))
            .flatten()
            .copied()
            .collect();
        if at.is_empty() {
            continue;
        }
        let n: u32 = at.iter().map(|a| a.1).sum();
        let r: u32 = at.iter().map(|a| a.2).sum();
        let line = b.line(None, level, None, vec![n]);
        rolls.push(r);
        levels.insert(level, line);
        match level {
            StageLevel::Stage(_) => {
                let cells: Vec<CellId> = at.iter().map(|a| a.0).collect();
                let total = b.lines[line].1[0];
                b.problem.add_relation(total, &cells)
            }
            StageLevel::Primary | StageLevel::Secondary => {
                let parts: Vec<usize> = level
                    .stages()
                    .iter()
                    .filter_map(|s| levels.get(&StageLevel::Stage(s)).copied())
                    .collect();
                b.relate(line, &parts, 0)
            }
            StageLevel::All => {
                let bands: Vec<usize> = [StageLevel::Primary, StageLevel::Secondary]
                    .iter()
                    .filter_map(|l| levels.get(l).copied())
                    .collect();
                b.relate(line, &bands, 0)
                    .and_then(|()| b.relate(line, &school_totals, 0))
            }
        }
        .map_err(inconsistent)?;
    }
    let forced = b.forced(earlier, rule, |line, _| CellKey {
        school: earlier.map(|e| e.school(line.school)).unwrap_or_default(),
        stage: line.stage.as_str().to_owned(),
        sex: ALL.to_owned(),
        table: RATES.to_owned(),
        option: ALL.to_owned(),
    });
    let lines = b.solve(rule, name, &forced)?;
    Ok(lines
        .into_iter()
        .zip(rolls)
        .map(|(line, roll)| RateLine {
            school: line.school,
            stage: line.stage,
            responses: line.counts[0],
            roll,
            hidden: line.hidden[0],
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Aggregator, ResponseRow};
    use survey_defs::{Answer, AnswerSet, Questionnaire};

    fn builtin() -> Questionnaire {
        survey_defs::builtin().unwrap().remove(0)
    }

    /// `n` pupils at each of a few schools and stages, all answering the sex
    /// question with option `i % 4`.
    fn tally(q: &Questionnaire, layout: &Layout, per_cell: u32) -> UnitTally {
        let sex = q.sex_question().unwrap();
        let mut agg = Aggregator::new(q, layout);
        let mut i = 0u32;
        for (school, stages) in [(1, [Stage::P5, Stage::P6]), (2, [Stage::S1, Stage::S3])] {
            for stage in stages {
                for _ in 0..per_cell {
                    let choice = (i % 4) as u8;
                    i += 1;
                    let set: AnswerSet = [(sex.ordinal(), Answer::Choice(choice))]
                        .into_iter()
                        .collect();
                    let bytes = set.encode();
                    let code = sex.options()[usize::from(choice)].code().to_string();
                    agg.add(&ResponseRow {
                        cpp_id: 7,
                        school_id: school,
                        stage,
                        sex: Some(&code),
                        partial: false,
                        answers: &bytes,
                    });
                }
            }
        }
        agg.finish().units.remove(&7).unwrap()
    }

    fn lines_for(p: &PublishedTable, stage: StageLevel, sex: Option<usize>) -> &Line {
        p.lines
            .iter()
            .find(|l| l.school.is_none() && l.stage == stage && l.sex == sex)
            .unwrap()
    }

    #[test]
    fn published_breakdowns_add_up() {
        let q = builtin();
        let layout = Layout::new(&q);
        let t = tally(&q, &layout, 40);
        let table = layout.question_table[usize::from(q.sex_question().unwrap().ordinal())];
        let p = publish_table(
            &t,
            &[Some(0), Some(1)],
            &layout,
            table,
            &Rule::default(),
            "q_sex",
            None,
            Linked::default(),
        )
        .unwrap();
        let all = lines_for(&p, StageLevel::All, None);
        let primary = lines_for(&p, StageLevel::Primary, None);
        let secondary = lines_for(&p, StageLevel::Secondary, None);
        for k in 0..all.counts.len() {
            assert_eq!(all.counts[k], primary.counts[k] + secondary.counts[k]);
        }
        let schools: u32 = p
            .lines
            .iter()
            .filter(|l| l.school.is_some() && l.stage == StageLevel::All)
            .map(|l| l.base().0)
            .sum();
        assert_eq!(schools, all.base().0);
        // Each school's stages add up to the school, and each stage's
        // schools to the partnership's stage.
        for stage in [Stage::P5, Stage::P6, Stage::S1, Stage::S3] {
            let at_stage: u32 = p
                .lines
                .iter()
                .filter(|l| l.school.is_some() && l.stage == StageLevel::Stage(stage))
                .map(|l| l.base().0)
                .sum();
            assert_eq!(at_stage, 40, "{stage:?}");
            assert_eq!(lines_for(&p, StageLevel::Stage(stage), None).base().0, 40);
        }
        assert_eq!(all.base().0, 160);
        // Categories add to the base on every line.
        for l in &p.lines {
            let n = l.counts.len() - 1;
            assert_eq!(l.counts[..n].iter().sum::<u32>(), l.counts[n]);
        }
    }

    #[test]
    fn small_cells_are_hidden_and_large_ones_mostly_shown() {
        let q = builtin();
        let layout = Layout::new(&q);
        let t = tally(&q, &layout, 6);
        let table = layout.question_table[usize::from(q.sex_question().unwrap().ordinal())];
        let p = publish_table(
            &t,
            &[Some(0), Some(1)],
            &layout,
            table,
            &Rule::default(),
            "q_sex",
            None,
            Linked::default(),
        )
        .unwrap();
        for l in &p.lines {
            for (c, h) in l.counts.iter().zip(&l.hidden) {
                if *c > 0 && *c < 10 {
                    assert!(*h, "a count of {c} was published");
                }
            }
        }
        assert!(!lines_for(&p, StageLevel::All, None).base().1);
    }

    #[test]
    fn a_group_of_fewer_pupils_than_the_threshold_shows_no_zero() {
        let q = builtin();
        let layout = Layout::new(&q);
        let t = tally(&q, &layout, 3);
        let mut small_lines = 0;
        for table in 0..layout.tables.len() {
            let p = publish_table(
                &t,
                &[Some(0), Some(1)],
                &layout,
                table,
                &Rule::default(),
                "small",
                None,
                Linked::default(),
            )
            .unwrap();
            for l in &p.lines {
                let (base, _) = l.base();
                if base == 0 || base >= 10 {
                    continue;
                }
                small_lines += 1;
                for (c, h) in l.counts.iter().zip(&l.hidden) {
                    assert!(*c > 0 || *h, "a zero of a group of {base} was published");
                }
            }
        }
        assert!(small_lines > 0);
    }

    #[test]
    fn response_rates_add_up_and_hide_small_counts() {
        let q = builtin();
        let layout = Layout::new(&q);
        let t = tally(&q, &layout, 30);
        let rolls = [
            (Some(0), [40, 35, 0, 0, 0, 0, 0]),
            (Some(1), [0, 0, 0, 50, 0, 45, 3]),
            (None, [20, 20, 20, 0, 0, 0, 0]),
        ];
        let lines = publish_rates(&t, &rolls, &Rule::default(), "rates", None).unwrap();
        let total = lines
            .iter()
            .find(|l| l.school.is_none() && l.stage == StageLevel::All)
            .unwrap();
        assert_eq!(total.responses, 120);
        assert_eq!(total.roll, 75 + 98 + 60);
        // The school with no responses has zero cells (zeros are published).
        assert!(
            lines
                .iter()
                .any(|l| l.school == Some(2) && l.responses == 0)
        );
    }
}
