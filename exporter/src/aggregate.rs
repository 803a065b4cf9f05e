//! Counting: each response adds to its partnership's stage-by-sex grid and to
//! its school's row, one slot per category and base (see [`crate::layout`]).
//!
//! Only the finest cells are counted here (one stage, one sex category); band
//! subtotals, "All" and the partnership's school total are sums of them, so
//! every published breakdown adds up by construction.

use std::collections::{BTreeMap, HashMap};

use survey_defs::{Answer, AnswerSet, Indicator, QuestionKind, Questionnaire, Stage};

use crate::layout::Layout;

/// One stored response, as the source reads it.
#[derive(Debug, Clone, Copy)]
pub struct ResponseRow<'a> {
    pub cpp_id: i32,
    pub school_id: i32,
    pub stage: Stage,
    pub sex: Option<&'a str>,
    pub partial: bool,
    pub answers: &'a [u8],
}

/// One school's counts: one slot per category and base, over all stages
/// and per stage, and responses per stage.
#[derive(Debug, Clone)]
pub struct SchoolTally {
    pub school_id: i32,
    pub slots: Vec<u32>,
    /// `[stage][slot]`: the same counts, stage by stage.
    pub by_stage: Vec<u32>,
    pub responses: [u32; 7],
}

impl SchoolTally {
    /// The counts of one stage, one per slot.
    pub fn stage(&self, stage: Stage) -> &[u32] {
        let width = self.slots.len();
        &self.by_stage[stage as usize * width..(stage as usize + 1) * width]
    }
}

/// One partnership's counts.
#[derive(Debug, Clone)]
pub struct UnitTally {
    /// `[stage][sex][slot]`, the finest cells.
    pub grid: Vec<u32>,
    /// Schools in the order their first response was read.
    pub schools: Vec<SchoolTally>,
    school_index: HashMap<i32, usize>,
    pub responses: u64,
    pub partial: u64,
    sexes: usize,
    slots: usize,
}

impl UnitTally {
    pub fn new(layout: &Layout) -> Self {
        Self {
            grid: vec![0; Stage::ALL.len() * layout.sexes.len() * layout.slots],
            schools: Vec::new(),
            school_index: HashMap::new(),
            responses: 0,
            partial: 0,
            sexes: layout.sexes.len(),
            slots: layout.slots,
        }
    }

    /// The count of one slot for one stage and sex category.
    pub fn cell(&self, stage: Stage, sex: usize, slot: usize) -> u32 {
        self.grid[(stage as usize * self.sexes + sex) * self.slots + slot]
    }

    /// The index of a school's row, adding an empty row the first time.
    fn school(&mut self, school_id: i32) -> usize {
        let next = self.schools.len();
        let index = *self.school_index.entry(school_id).or_insert(next);
        if index == next {
            self.schools.push(SchoolTally {
                school_id,
                slots: vec![0; self.slots],
                by_stage: vec![0; Stage::ALL.len() * self.slots],
                responses: [0; 7],
            });
        }
        index
    }

    /// Adds another tally's grid and totals (not its schools): for national totals.
    pub fn add_grid(&mut self, other: &UnitTally) {
        for (a, b) in self.grid.iter_mut().zip(&other.grid) {
            *a += b;
        }
        self.responses += other.responses;
        self.partial += other.partial;
    }
}

/// Why some stored data was left out (counted in metadata, never silently).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Responses whose answer data could not be decoded.
    pub undecodable_responses: u64,
    /// Responses with a stage that is not P5 to S4.
    pub bad_stage_responses: u64,
    /// Single answers that do not fit their question or stage.
    pub invalid_answers: u64,
}

/// Every partnership's counts, and what was left out.
#[derive(Debug, Clone, Default)]
pub struct Tallies {
    pub units: BTreeMap<i32, UnitTally>,
    pub skipped: Skipped,
}

impl Tallies {
    /// Adds counts made separately (of other responses) to these.
    pub fn absorb(&mut self, other: Tallies) {
        for (cpp_id, theirs) in other.units {
            match self.units.get_mut(&cpp_id) {
                None => {
                    self.units.insert(cpp_id, theirs);
                }
                Some(ours) => {
                    ours.add_grid(&theirs);
                    for school in theirs.schools {
                        let row = ours.school(school.school_id);
                        let mine = &mut ours.schools[row];
                        for (a, b) in mine.slots.iter_mut().zip(&school.slots) {
                            *a += b;
                        }
                        for (a, b) in mine.by_stage.iter_mut().zip(&school.by_stage) {
                            *a += b;
                        }
                        for (a, b) in mine.responses.iter_mut().zip(&school.responses) {
                            *a += b;
                        }
                    }
                }
            }
        }
        let (a, b) = (&mut self.skipped, other.skipped);
        a.undecodable_responses += b.undecodable_responses;
        a.bad_stage_responses += b.bad_stage_responses;
        a.invalid_answers += b.invalid_answers;
    }
}

/// Counts responses into per-partnership tallies.
pub struct Aggregator<'a> {
    q: &'a Questionnaire,
    layout: &'a Layout,
    units: BTreeMap<i32, UnitTally>,
    skipped: Skipped,
    scratch: Vec<(u16, Answer)>,
}

impl<'a> Aggregator<'a> {
    pub fn new(q: &'a Questionnaire, layout: &'a Layout) -> Self {
        Self {
            q,
            layout,
            units: BTreeMap::new(),
            skipped: Skipped::default(),
            scratch: Vec::with_capacity(q.questions().len()),
        }
    }

    pub fn skip_bad_stage(&mut self) {
        self.skipped.bad_stage_responses += 1;
    }

    /// Counts one response.
    ///
    /// Stored answers are only ever those to questions the pupil was routed
    /// to (the server drops answers it routed away from before storing), so a
    /// question's base is simply the pupils with an answer to it: a pupil who
    /// was not routed to it, or skipped it, has none.
    ///
    /// Indicators: the scoring here equals `score_routed` with the sitting's
    /// own module switches, although the response does not record them.
    /// Every stored answer is routed under the sitting's switches; routing
    /// under `ModuleSwitches::all_on()` shows a superset of questions (the
    /// same stages, more modules, conditions read from the same answers), so
    /// every stored answer is also routed with all modules on, and
    /// `score_routed(all_on)` counts exactly the stored answers, as
    /// `score_routed(sitting switches)` does. The test
    /// `indicators_match_score_routed` checks this on random pupils.
    pub fn add(&mut self, row: &ResponseRow<'_>) {
        self.scratch.clear();
        for item in AnswerSet::iter_encoded(row.answers) {
            match item {
                Ok(pair) => self.scratch.push(pair),
                Err(_) => {
                    self.skipped.undecodable_responses += 1;
                    return;
                }
            }
        }
        let layout = self.layout;
        let q = self.q;
        let sex = layout.sex_index(row.sex);
        let unit = self
            .units
            .entry(row.cpp_id)
            .or_insert_with(|| UnitTally::new(layout));
        unit.responses += 1;
        unit.partial += u64::from(row.partial);
        let grid_start = (row.stage as usize * layout.sexes.len() + sex) * layout.slots;
        let school = unit.school(row.school_id);
        unit.schools[school].responses[row.stage as usize] += 1;
        let UnitTally { grid, schools, .. } = unit;
        let grid = &mut grid[grid_start..grid_start + layout.slots];
        let SchoolTally {
            slots: school_slots,
            by_stage,
            ..
        } = &mut schools[school];
        let stage_start = row.stage as usize * layout.slots;
        let stage_slots = &mut by_stage[stage_start..stage_start + layout.slots];
        let mut sums = [(0.0f64, 0u32); Indicator::ALL.len()];
        let mut bump = |slot: usize| {
            grid[slot] += 1;
            school_slots[slot] += 1;
            stage_slots[slot] += 1;
        };
        for &(ordinal, answer) in &self.scratch {
            let Some(question) = q.question_by_ordinal(ordinal) else {
                self.skipped.invalid_answers += 1;
                continue;
            };
            if !question.stages().contains(row.stage) || question.check_answer(&answer).is_err() {
                self.skipped.invalid_answers += 1;
                continue;
            }
            let table = &layout.tables[layout.question_table[usize::from(ordinal)]];
            bump(table.base_slot());
            match (answer, question.kind()) {
                (Answer::Number(n), QuestionKind::Number { min, .. }) => {
                    if !table.categories.is_empty() {
                        // check_answer keeps n within min..=max.
                        let index = usize::try_from(n - min).unwrap_or(0);
                        bump(table.offset + index);
                    }
                }
                _ => {
                    for i in answer.option_indices() {
                        bump(table.offset + usize::from(i));
                    }
                }
            }
            if let (Some(indicator), Some(score)) =
                (question.theme().indicator(), question.item_score(&answer))
            {
                let slot = &mut sums[indicator as usize];
                slot.0 += score;
                slot.1 += 1;
            }
        }
        // The same rule as survey_defs::score (see FORMAT.md, "Scoring").
        for (rule, &table) in q.scoring().iter().zip(&layout.indicator_tables) {
            let (sum, n) = sums[rule.indicator() as usize];
            if n >= u32::from(rule.min_answered()) && n > 0 {
                let positive = sum / f64::from(n) >= rule.positive_at() - 1e-9;
                let t = &layout.tables[table];
                bump(t.offset + usize::from(!positive));
                bump(t.base_slot());
            }
        }
    }

    pub fn skipped(&self) -> Skipped {
        self.skipped
    }

    /// The tallies, by partnership id.
    pub fn finish(self) -> Tallies {
        Tallies {
            units: self.units,
            skipped: self.skipped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Subject;
    use survey_defs::{ModuleSwitches, score_routed};

    fn builtin() -> Questionnaire {
        survey_defs::builtin().unwrap().remove(0)
    }

    fn ordinal(q: &Questionnaire, id: &str) -> u16 {
        q.questions()
            .iter()
            .find(|qu| qu.id().as_str() == id)
            .unwrap()
            .ordinal()
    }

    fn row<'a>(stage: Stage, sex: Option<&'a str>, answers: &'a [u8]) -> ResponseRow<'a> {
        ResponseRow {
            cpp_id: 1,
            school_id: 10,
            stage,
            sex,
            partial: false,
            answers,
        }
    }

    #[test]
    fn an_answer_counts_its_option_and_the_base_and_a_skip_counts_nothing() {
        let q = builtin();
        let layout = Layout::new(&q);
        let sex = ordinal(&q, "q_sex");
        let mut agg = Aggregator::new(&q, &layout);
        let answered: AnswerSet = [(sex, Answer::Choice(1))].into_iter().collect();
        let skipped = AnswerSet::new();
        let a = answered.encode();
        let s = skipped.encode();
        agg.add(&row(Stage::P6, Some("girl"), &a));
        agg.add(&row(Stage::P6, None, &s));
        let units = agg.finish().units;
        let unit = &units[&1];
        let t = &layout.tables[layout.question_table[usize::from(sex)]];
        assert_eq!(unit.cell(Stage::P6, 1, t.offset + 1), 1);
        assert_eq!(unit.cell(Stage::P6, 1, t.base_slot()), 1);
        let not_stated = layout.sexes.len() - 1;
        assert_eq!(unit.cell(Stage::P6, not_stated, t.base_slot()), 0);
        assert_eq!(unit.responses, 2);
        assert_eq!(unit.schools[0].slots[t.base_slot()], 1);
        assert_eq!(unit.schools[0].responses[Stage::P6 as usize], 2);
    }

    #[test]
    fn prefer_not_to_say_is_counted_as_an_option() {
        let q = builtin();
        let layout = Layout::new(&q);
        let sex = ordinal(&q, "q_sex");
        let pnts = q.questions()[usize::from(sex)]
            .options()
            .iter()
            .position(|o| o.is_prefer_not_to_say())
            .unwrap();
        let mut agg = Aggregator::new(&q, &layout);
        let set: AnswerSet = [(sex, Answer::Choice(pnts as u8))].into_iter().collect();
        let bytes = set.encode();
        agg.add(&row(Stage::S2, Some("pnts"), &bytes));
        let units = agg.finish().units;
        let t = &layout.tables[layout.question_table[usize::from(sex)]];
        assert_eq!(units[&1].cell(Stage::S2, pnts, t.offset + pnts), 1);
        assert_eq!(units[&1].cell(Stage::S2, pnts, t.base_slot()), 1);
    }

    #[test]
    fn a_pupil_not_routed_to_a_question_is_not_in_its_base() {
        let q = builtin();
        let layout = Layout::new(&q);
        // Any routed question: find one with show_if.
        let follow = q
            .questions()
            .iter()
            .find(|qu| qu.show_if().is_some())
            .unwrap();
        let parent = follow.show_if().unwrap().depends_on();
        let stage = follow.stages().iter().next().unwrap();
        // Choose a parent answer that does not route to the follow-up.
        let parent_q = &q.questions()[usize::from(parent)];
        let non_matching = (0..parent_q.options().len() as u8)
            .find(|i| !follow.show_if().unwrap().matches(&Answer::Choice(*i)))
            .unwrap();
        let set: AnswerSet = [(parent, Answer::Choice(non_matching))]
            .into_iter()
            .collect();
        let shown = survey_defs::routed(&q, stage, &ModuleSwitches::all_on(), &set);
        assert!(!shown[usize::from(follow.ordinal())]);
        let mut agg = Aggregator::new(&q, &layout);
        let bytes = set.encode();
        agg.add(&row(stage, None, &bytes));
        let units = agg.finish().units;
        let t = &layout.tables[layout.question_table[usize::from(follow.ordinal())]];
        let ns = layout.sexes.len() - 1;
        assert_eq!(units[&1].cell(stage, ns, t.base_slot()), 0);
        let pt = &layout.tables[layout.question_table[usize::from(parent)]];
        assert_eq!(units[&1].cell(stage, ns, pt.base_slot()), 1);
    }

    #[test]
    fn corrupt_answers_are_skipped_whole_and_counted() {
        let q = builtin();
        let layout = Layout::new(&q);
        let mut agg = Aggregator::new(&q, &layout);
        agg.add(&row(Stage::S1, None, &[9, 9, 9]));
        let Tallies { units, skipped } = agg.finish();
        assert!(units.is_empty());
        assert_eq!(skipped.undecodable_responses, 1);
    }

    /// Random answers to routed questions only, as the server stores them.
    fn random_pupil(q: &Questionnaire, stage: Stage, seed: &mut u64) -> AnswerSet {
        let mut next = || {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            *seed
        };
        let mut set = AnswerSet::new();
        for question in q.questions() {
            let shown = survey_defs::is_routed(
                q,
                stage,
                &ModuleSwitches::all_on(),
                &set,
                question.ordinal(),
            );
            if !shown || next() % 10 == 0 {
                continue;
            }
            let answer = match *question.kind() {
                QuestionKind::Number { min, max } => {
                    Answer::Number(min + (next() % (max - min + 1) as u64) as i32)
                }
                QuestionKind::MultipleChoice => {
                    let n = question.options().len() as u64;
                    let pick = next() % n;
                    if question.options()[pick as usize].is_exclusive() {
                        Answer::Multi(1 << pick)
                    } else {
                        let mask = (next() % (1 << n)) | (1 << pick);
                        let clean = (0..n)
                            .filter(|i| {
                                mask & (1 << i) != 0
                                    && !question.options()[*i as usize].is_exclusive()
                            })
                            .fold(0, |m, i| m | (1 << i));
                        Answer::Multi(clean)
                    }
                }
                _ => Answer::Choice((next() % question.options().len() as u64) as u8),
            };
            set.insert(question.ordinal(), answer);
        }
        set
    }

    #[test]
    fn indicators_match_score_routed() {
        let q = builtin();
        let layout = Layout::new(&q);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for round in 0..300 {
            let stage = Stage::ALL[round % 7];
            let set = random_pupil(&q, stage, &mut seed);
            let mut agg = Aggregator::new(&q, &layout);
            let bytes = set.encode();
            agg.add(&row(stage, None, &bytes));
            let Tallies { units, skipped } = agg.finish();
            assert_eq!(skipped, Skipped::default());
            let ns = layout.sexes.len() - 1;
            let expected = score_routed(&q, stage, &ModuleSwitches::all_on(), &set);
            for (indicator, result) in expected {
                let t = layout
                    .tables
                    .iter()
                    .find(|t| t.subject == Subject::Indicator(indicator))
                    .unwrap();
                let got = (
                    units[&1].cell(stage, ns, t.offset),
                    units[&1].cell(stage, ns, t.offset + 1),
                );
                let want = match result {
                    Some(true) => (1, 0),
                    Some(false) => (0, 1),
                    None => (0, 0),
                };
                assert_eq!(got, want, "{indicator} at {stage}");
            }
        }
    }
}
