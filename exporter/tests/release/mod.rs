//! Exports made from synthetic pupils without a database, for the tests of
//! the files a release publishes (`report.html`, `metadata.json`).
//!
//! Each pupil answers every question their stage sees with all modules on,
//! skips a few, and keeps only what routing shows them, so the tables hold
//! what the pupil journey would store. A fixed seed gives the same export
//! every time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod attack;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use exporter::aggregate::{Aggregator, ResponseRow, UnitTally};
use exporter::disclose::{Responses, publish_every_table, publish_rates};
use exporter::layout::Layout;
use exporter::source::{CppInfo, SchoolInfo};
use exporter::{Export, Rule, UnitResult};
use survey_defs::{Answer, AnswerSet, Band, ModuleSwitches, QuestionKind, Questionnaire, Stage};

/// The built-in questionnaire.
pub fn builtin() -> Arc<Questionnaire> {
    Arc::new(survey_defs::builtin().unwrap().remove(0))
}

/// A small deterministic generator (xorshift), so no test depends on `rand`.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `percent` in 100.
    fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Who to make: how many pupils at each (school, stage), and how many of
/// every `partial_every` responses are partial.
pub struct Cohort {
    pub cpp_id: i32,
    /// (school id, stage, pupils).
    pub groups: Vec<(i32, Stage, u32)>,
    /// Every n-th pupil's response is partial (0: none).
    pub partial_every: u32,
    pub seed: u64,
}

/// One pupil's answers: earlier options a little more likely, a few
/// questions skipped, then only what routing shows.
fn pupil(q: &Questionnaire, stage: Stage, dice: &mut Dice) -> AnswerSet {
    let mut all = AnswerSet::new();
    for question in q.questions() {
        if !question.stages().contains(stage) || dice.percent(5) {
            continue;
        }
        let options = question.options().len() as u64;
        let answer = match *question.kind() {
            QuestionKind::Number { min, max } => {
                let span = u64::try_from(max - min).unwrap_or(0) + 1;
                Answer::Number(min + i32::try_from(dice.below(span)).unwrap())
            }
            QuestionKind::MultipleChoice => {
                let mut mask = 0u64;
                for (i, option) in question.options().iter().enumerate() {
                    if !option.is_exclusive() && dice.percent(35) {
                        mask |= 1 << i;
                    }
                }
                if mask == 0 {
                    mask = 1;
                }
                Answer::Multi(mask)
            }
            _ => {
                let first = dice.below(options);
                let second = dice.below(options);
                Answer::Choice(u8::try_from(first.min(second)).unwrap())
            }
        };
        all.insert(question.ordinal(), answer);
    }
    let shown = survey_defs::routed(q, stage, &ModuleSwitches::all_on(), &all);
    all.iter()
        .filter(|(o, _)| shown[usize::from(*o)])
        .map(|(o, a)| (o, *a))
        .collect()
}

/// Counts a cohort as the exporter counts stored responses.
pub fn tally(q: &Questionnaire, layout: &Layout, cohort: &Cohort) -> UnitTally {
    let mut agg = Aggregator::new(q, layout);
    let mut dice = Dice(cohort.seed | 1);
    let sex = q.sex_question().unwrap();
    let mut n = 0u32;
    for &(school_id, stage, pupils) in &cohort.groups {
        for _ in 0..pupils {
            n += 1;
            let answers = pupil(q, stage, &mut dice);
            let code = answers
                .get(sex.ordinal())
                .and_then(|a| a.option_indices().next())
                .map(|i| sex.options()[usize::from(i)].code().to_string());
            let bytes = answers.encode();
            agg.add(&ResponseRow {
                cpp_id: cohort.cpp_id,
                school_id,
                stage,
                sex: code.as_deref(),
                partial: cohort.partial_every > 0 && n.is_multiple_of(cohort.partial_every),
                answers: &bytes,
            });
        }
    }
    agg.finish().units.remove(&cohort.cpp_id).unwrap()
}

/// Publishes a tally as the export does: every table suppressed and
/// audited, and the response counts against the schools' rolls.
pub fn unit(
    layout: &Layout,
    rule: &Rule,
    cpp: Option<CppInfo>,
    schools: Vec<SchoolInfo>,
    tally: &UnitTally,
) -> UnitResult {
    // Schools in the order they are given, each with its tally row.
    let rows: Vec<Option<usize>> = schools
        .iter()
        .map(|s| tally.schools.iter().position(|t| t.school_id == s.id))
        .collect();
    let rolls: Vec<(Option<usize>, [u32; 7])> = rows
        .iter()
        .zip(&schools)
        .map(|(r, s)| (*r, s.rolls))
        .collect();
    let rates = publish_rates(tally, &rolls, rule, "test rates", None).unwrap();
    let responses = Responses::new(tally, &rolls, &rates);
    let tables =
        publish_every_table(tally, &rows, layout, rule, "test", None, Some(&responses)).unwrap();
    UnitResult {
        cpp,
        schools,
        tables,
        rates,
        responses: tally.responses,
        partial: tally.partial,
    }
}

pub fn school(id: i32, cpp_id: i32, rolls: [u32; 7]) -> SchoolInfo {
    SchoolInfo {
        id,
        cpp_id,
        seed_code: format!("SCH{id:03}"),
        name: format!("School {id}"),
        rolls,
        is_demo: false,
    }
}

pub fn cpp(id: i32) -> CppInfo {
    CppInfo {
        id,
        gss_code: format!("S120000{id:02}"),
        // Names of partnerships hold no digits, so none is taken for a count.
        name: ["Aberdeen City", "Angus", "Argyll and Bute"][usize::try_from(id).unwrap() % 3]
            .to_owned(),
    }
}

/// An export of the given units.
pub fn export(q: Arc<Questionnaire>, layout: Layout, units: Vec<UnitResult>) -> Export {
    let national = units.iter().any(|u| u.cpp.is_none());
    Export {
        questionnaire: q,
        version_id: 1,
        wave_id: 1,
        layout,
        rule: Rule::default(),
        generated_at: Utc.with_ymd_and_hms(2026, 6, 30, 12, 0, 0).unwrap(),
        units,
        skipped: Default::default(),
        national,
        beside: None,
    }
}

/// One partnership with few pupils: 7 responses, 2 of them partial, in one
/// school, so its response total and partial count are both small.
pub fn small_partnership() -> Export {
    let export = partnership(&[(Stage::S2, 7)], 3, 7);
    let unit = &export.units[0];
    assert_eq!((unit.responses, unit.partial), (7, 2));
    export
}

/// One partnership of two schools (primary stages in one, secondary in the
/// other) with `pupils` at each stage, every `partial_every`-th response
/// partial.
pub fn partnership(pupils: &[(Stage, u32)], partial_every: u32, seed: u64) -> Export {
    let q = builtin();
    let layout = Layout::new(&q);
    let rule = Rule::default();
    let school_of = |stage: Stage| match stage.band() {
        Band::Primary => 31,
        Band::Secondary => 32,
    };
    let cohort = Cohort {
        cpp_id: 3,
        groups: pupils
            .iter()
            .map(|&(stage, n)| (school_of(stage), stage, n))
            .collect(),
        partial_every,
        seed,
    };
    let tally = tally(&q, &layout, &cohort);
    let schools = vec![
        school(31, 3, [30, 30, 30, 0, 0, 0, 0]),
        school(32, 3, [0, 0, 0, 60, 60, 60, 60]),
    ];
    let unit = unit(&layout, &rule, Some(cpp(3)), schools, &tally);
    export(q, layout, vec![unit])
}

/// One partnership of a few hundred pupils in every stage, and Scotland
/// (from a larger population), so every chart has published and
/// suppressed bars.
pub fn partnership_and_scotland() -> Export {
    let q = builtin();
    let layout = Layout::new(&q);
    let rule = Rule::default();
    let mut groups = Vec::new();
    for (i, stage) in Stage::ALL.into_iter().enumerate() {
        let school = if i < 3 { 11 } else { 12 };
        groups.push((school, stage, 40 + 9 * i as u32));
    }
    groups.push((13, Stage::S4, 6));
    let cohort = Cohort {
        cpp_id: 1,
        groups,
        partial_every: 17,
        seed: 2026,
    };
    let tally_one = tally(&q, &layout, &cohort);
    let schools = vec![
        school(11, 1, [60, 60, 70, 0, 0, 0, 0]),
        school(12, 1, [0, 0, 0, 90, 90, 95, 100]),
        school(13, 1, [0, 0, 0, 0, 0, 0, 30]),
    ];
    let partnership = unit(&layout, &rule, Some(cpp(1)), schools, &tally_one);
    let nation = Cohort {
        cpp_id: 0,
        groups: Stage::ALL.into_iter().map(|s| (1, s, 400)).collect(),
        partial_every: 23,
        seed: 99,
    };
    let tally_all = tally(&q, &layout, &nation);
    let everywhere = vec![school(1, 0, [450; 7])];
    let scotland = unit(&layout, &rule, None, everywhere, &tally_all);
    export(q, layout, vec![partnership, scotland])
}

/// Each school's tally row and roll by stage, as the response rates take
/// them.
pub type Rolls = Vec<(Option<usize>, [u32; 7])>;

/// Each school's row in the tally and its roll by stage, for groups made by
/// [`spread`]: a quarter more pupils than responded, and three.
pub fn rolls(groups: &[(i32, Stage, u32)], tally: &UnitTally) -> (Vec<Option<usize>>, Rolls) {
    let mut ids: Vec<i32> = groups.iter().map(|g| g.0).collect();
    ids.dedup();
    let rows: Vec<Option<usize>> = ids
        .iter()
        .map(|id| tally.schools.iter().position(|t| t.school_id == *id))
        .collect();
    let rolls = ids
        .iter()
        .zip(&rows)
        .map(|(id, row)| {
            let mut roll = [0u32; 7];
            for (_, stage, n) in groups.iter().filter(|g| g.0 == *id) {
                roll[*stage as usize] += n + n / 4 + 3;
            }
            (*row, roll)
        })
        .collect();
    (rows, rolls)
}

/// Groups of a partnership of `schools` schools, each primary (P5-P7),
/// secondary (S1-S4) or both, with some stages missing, and `pupils` pupils
/// in all, spread unevenly so that some groups are tiny: (school id, stage,
/// pupils).
pub fn spread(schools: usize, seed: u64, pupils: u32) -> Vec<(i32, Stage, u32)> {
    let mut x = seed | 1;
    let mut roll = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut picks: Vec<(i32, Stage, u64)> = Vec::new();
    for s in 0..schools {
        let id = 100 + s as i32;
        let band: &[Stage] = match roll(3) {
            0 => &[Stage::P5, Stage::P6, Stage::P7],
            1 => &[Stage::S1, Stage::S2, Stage::S3, Stage::S4],
            _ => &Stage::ALL,
        };
        let before = picks.len();
        for &stage in band {
            if roll(4) > 0 {
                picks.push((id, stage, 1 + roll(20)));
            }
        }
        if picks.len() == before {
            picks.push((id, band[0], 1 + roll(20)));
        }
    }
    let weight: u64 = picks.iter().map(|p| p.2).sum();
    picks
        .into_iter()
        .map(|(id, stage, w)| {
            let n = (u64::from(pupils) * w / weight).max(1);
            (id, stage, u32::try_from(n).unwrap())
        })
        .collect()
}
