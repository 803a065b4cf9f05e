//! Synthetic responses for trying out and timing the exporter.
//!
//! `server synth --pupils N --seed S [--cpps K]` creates synthetic schools
//! (seed codes `SYN…`, names "Synthetic school N", with rolls) in K of the
//! reference partnerships and stores N completed responses spread across
//! them and across stages P5 to S4. Each pupil answers what the routing shows
//! them, so answers are exactly what the pupil journey would store: random
//! answers to the questions a stage sees with the partnership's modules on,
//! then only those `survey_defs::routed` keeps, encoded with
//! `AnswerSet::encode` into the same `response` row shape (see
//! `survey::completed_from`). Some questions are skipped, some answered
//! "prefer not to say", and a few responses are partial. Services are
//! ticked about as often as pupils use them ([`SERVICE_USE`]), so their
//! follow-ups have realistic, mostly small, bases.
//!
//! The same seed always gives the same data (rand's `StdRng`, seeded), apart
//! from the database's own row ids for schools.

use chrono::NaiveDate;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sea_orm::DbErr;
use survey_defs::{
    Answer, AnswerOption, AnswerSet, ItemScoring, ModuleSwitches, Question, QuestionKind,
    Questionnaire, Stage,
};

use crate::store::Db;
use crate::store::pupil::{self, Completed};
use crate::store::schools::{self, NewSchool};
use crate::store::waves;

/// What to make.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub pupils: u64,
    pub seed: u64,
    /// How many partnerships to spread pupils over (at most 32).
    pub cpps: usize,
}

/// What was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthSummary {
    /// The wave the responses were stored in.
    pub wave_id: i32,
    pub responses: u64,
    pub partial: u64,
    pub schools: usize,
    pub cpps: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("synthetic schools for seed {0} already exist; use another --seed or a fresh database")]
    AlreadyThere(u64),
    #[error("there are no partnerships to put pupils in")]
    NoCpps,
}

/// Responses stored per transaction, and rows per INSERT (9 values a row
/// keeps each statement far below SQLite's and PostgreSQL's parameter limits).
const PER_TRANSACTION: usize = 50_000;
const PER_INSERT: usize = 1_000;

struct SynthSchool {
    id: i32,
    cpp_id: i32,
    /// Responses still to make, per stage.
    left: [u32; 7],
}

/// Fills the database. `progress` is told how many responses are stored so far.
pub async fn synthesise(
    db: &Db,
    version_id: i32,
    q: &Questionnaire,
    options: &SynthOptions,
    progress: &dyn Fn(u64),
) -> Result<SynthSummary, SynthError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let tag = options.seed % 100_000;
    if schools::school_by_seed(db, &format!("SYN{tag}-00001"))
        .await?
        .is_some()
    {
        return Err(SynthError::AlreadyThere(options.seed));
    }
    let mut cpps: Vec<_> = schools::all_cpps(db)
        .await?
        .into_iter()
        .filter(|c| !c.is_demo)
        .collect();
    cpps.sort_by(|a, b| a.gss_code.cmp(&b.gss_code));
    cpps.truncate(options.cpps.clamp(1, 32));
    if cpps.is_empty() {
        return Err(SynthError::NoCpps);
    }

    // Partnership sizes vary, as council areas do (Glasgow against Orkney).
    let weights: Vec<f64> = cpps.iter().map(|_| rng.random_range(0.2..3.0)).collect();
    let weight_sum: f64 = weights.iter().sum();
    let mut shares: Vec<u64> = weights
        .iter()
        .map(|w| (options.pupils as f64 * w / weight_sum).floor() as u64)
        .collect();
    let assigned: u64 = shares.iter().sum();
    if let Some(first) = shares.first_mut() {
        *first += options.pupils - assigned;
    }

    // Schools: primaries with small year groups, secondaries with large ones;
    // three sevenths of pupils are in primary (P5 to P7), as stages go.
    let txn = crate::store::begin(db).await?;
    let mut made: Vec<SynthSchool> = Vec::new();
    let mut number = 0u32;
    for (cpp, &share) in cpps.iter().zip(&shares) {
        let primary_pupils = share * 3 / 7;
        for (band_pupils, secondary) in [(primary_pupils, false), (share - primary_pupils, true)] {
            let mut left = band_pupils;
            while left > 0 {
                number += 1;
                let (stages, roll_range) = if secondary {
                    (3..7, 60u32..260)
                } else {
                    (0..3, 6u32..60)
                };
                let mut rolls = [0i32; 7];
                let mut responses = [0u32; 7];
                for stage in stages {
                    let roll = rng.random_range(roll_range.clone());
                    let rate = rng.random_range(0.55..0.97);
                    let n = ((f64::from(roll) * rate).round() as u64).min(left);
                    left -= n;
                    rolls[stage] = roll as i32;
                    responses[stage] = n as u32;
                }
                let school = schools::create_school(
                    &txn,
                    NewSchool {
                        cpp_id: cpp.id,
                        seed_code: format!("SYN{tag}-{number:05}"),
                        name: format!("Synthetic school {number}"),
                        sector: if secondary { "secondary" } else { "primary" }.to_owned(),
                        rolls,
                        is_demo: false,
                    },
                )
                .await?;
                made.push(SynthSchool {
                    id: school.id,
                    cpp_id: cpp.id,
                    left: responses,
                });
            }
        }
    }
    txn.commit().await?;

    // Modules a partnership has switched off (sensitive ones, sometimes).
    let switches: Vec<ModuleSwitches> = cpps
        .iter()
        .map(|_| {
            q.modules()
                .iter()
                .filter(|m| m.sensitive() && rng.random_bool(0.25))
                .map(|m| m.id().clone())
                .collect()
        })
        .collect();

    let fieldwork = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap_or_default();
    let wave_id = synthetic_wave(db, version_id, options.seed, &cpps, fieldwork).await?;
    let mut summary = SynthSummary {
        wave_id,
        responses: 0,
        partial: 0,
        schools: made.len(),
        cpps: cpps.len(),
    };
    let mut batch: Vec<(String, NaiveDate, Completed)> = Vec::with_capacity(PER_INSERT);
    let mut in_txn = 0usize;
    let mut txn = crate::store::begin(db).await?;
    for school in &made {
        let cpp_index = cpps.iter().position(|c| c.id == school.cpp_id).unwrap_or(0);
        for stage in Stage::ALL {
            for _ in 0..school.left[stage as usize] {
                let partial = rng.random_bool(0.03);
                let answers = pupil_answers(q, stage, &switches[cpp_index], partial, &mut rng);
                let sex = sex_code(q, &answers);
                let id = format!("{:032x}", rng.random::<u128>());
                let day = rng.random_range(0..28u64);
                batch.push((
                    id,
                    pupil::week_of(fieldwork + chrono::Days::new(day)),
                    Completed {
                        questionnaire_version_id: version_id,
                        cpp_id: school.cpp_id,
                        school_id: school.id,
                        stage,
                        sex,
                        partial,
                        answers: answers.encode(),
                    },
                ));
                summary.responses += 1;
                summary.partial += u64::from(partial);
                if batch.len() == PER_INSERT {
                    pupil::store_completed(&txn, wave_id, std::mem::take(&mut batch)).await?;
                    in_txn += PER_INSERT;
                    if in_txn >= PER_TRANSACTION {
                        txn.commit().await?;
                        txn = crate::store::begin(db).await?;
                        in_txn = 0;
                        progress(summary.responses);
                    }
                }
            }
        }
    }
    pupil::store_completed(&txn, wave_id, batch).await?;
    txn.commit().await?;
    progress(summary.responses);
    Ok(summary)
}

/// The wave synthetic responses of `seed` are given in, "Synthetic data
/// (seed N)", made if missing, with four weeks of fieldwork from `fieldwork`
/// (long over, so the wave can be released) for each partnership.
async fn synthetic_wave(
    db: &Db,
    version_id: i32,
    seed: u64,
    cpps: &[schools::Cpp],
    fieldwork: NaiveDate,
) -> Result<i32, DbErr> {
    let name = format!("Synthetic data (seed {seed})");
    let wave = match waves::by_name(db, &name).await? {
        Some(wave) => wave,
        None => {
            let rule = serde_json::to_string(&exporter::Rule::default())
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            waves::create(
                db,
                waves::NewWave {
                    name,
                    questionnaire_version_id: version_id,
                    rule,
                    is_demo: false,
                },
            )
            .await?
        }
    };
    let closes = fieldwork + chrono::Days::new(27);
    for cpp in cpps {
        if waves::window(db, wave.id, cpp.id).await?.is_none() {
            waves::set_window(db, wave.id, cpp.id, fieldwork, closes).await?;
        }
    }
    Ok(wave.id)
}

/// The sex code as the server stores it: the option picked for the question
/// with `role = "sex"`, if the pupil answered it.
fn sex_code(q: &Questionnaire, answers: &AnswerSet) -> Option<String> {
    let question = q.sex_question()?;
    let index = answers.get(question.ordinal())?.option_indices().next()?;
    question
        .options()
        .get(usize::from(index))
        .map(|o| o.code().to_string())
}

/// One pupil: a random answer to every question the stage and modules show,
/// then only the answers routing keeps, as the server keeps them. A partial
/// response stops somewhere along the way.
fn pupil_answers(
    q: &Questionnaire,
    stage: Stage,
    switches: &ModuleSwitches,
    partial: bool,
    rng: &mut StdRng,
) -> AnswerSet {
    // How well this pupil is doing, so indicators vary between pupils.
    let wellbeing: f64 = rng.random_range(0.2..1.0);
    let stop = if partial {
        rng.random_range(0..q.questions().len())
    } else {
        q.questions().len()
    };
    let mut all = AnswerSet::new();
    for question in q.questions().iter().take(stop) {
        if !question.stages().contains(stage)
            || question.module().is_some_and(|m| !switches.is_enabled(m))
            || rng.random_bool(0.04)
        {
            continue;
        }
        if let Some(answer) = random_answer(question, wellbeing, rng) {
            all.insert(question.ordinal(), answer);
        }
    }
    let shown = survey_defs::routed(q, stage, switches, &all);
    all.iter()
        .filter(|(o, _)| shown.get(usize::from(*o)).copied().unwrap_or(false))
        .map(|(o, a)| (o, *a))
        .collect()
}

/// The module of the built-in questionnaire that asks which services tried
/// to help a pupil in the last year.
const SERVICES_MODULE: &str = "services";

/// How many pupils say each service tried to help them in the last year
/// (by option code), before leaning on the pupil's wellbeing: a doctor
/// often, a school nurse or a counsellor now and then, a social worker or
/// the police rarely. About half of pupils tick none.
const SERVICE_USE: [(&str, f64); 8] = [
    ("school_nurse", 0.10),
    ("doctor", 0.30),
    ("mental_health", 0.05),
    ("social_worker", 0.04),
    ("youth_worker", 0.07),
    ("counsellor", 0.08),
    ("police", 0.04),
    ("other", 0.03),
];

/// How likely a pupil is to tick `option` of a multiple-choice question:
/// 30% for most, and for a service, its rate of use, higher for pupils who
/// are doing less well (wellbeing runs from 0.2 to 1).
fn tick_rate(question: &Question, option: &AnswerOption, wellbeing: f64) -> f64 {
    let service = question
        .module()
        .is_some_and(|m| m.as_str() == SERVICES_MODULE)
        .then(|| {
            SERVICE_USE
                .iter()
                .find(|(code, _)| *code == option.code().as_str())
        })
        .flatten();
    match service {
        Some((_, rate)) => (rate * (1.6 - wellbeing)).clamp(0.0, 1.0),
        None => 0.3,
    }
}

fn random_answer(question: &Question, wellbeing: f64, rng: &mut StdRng) -> Option<Answer> {
    let options = question.options();
    match *question.kind() {
        QuestionKind::Number { min, max } => {
            let span = f64::from(max - min);
            let centre = f64::from(min) + span * wellbeing;
            let value = (centre + rng.random_range(-0.3..0.3) * span).round() as i32;
            Some(Answer::Number(value.clamp(min, max)))
        }
        QuestionKind::MultipleChoice => {
            if let Some(i) = options.iter().position(|o| o.is_prefer_not_to_say())
                && rng.random_bool(0.03)
            {
                return Some(Answer::Multi(1 << i));
            }
            let mut mask = 0u64;
            for (i, o) in options.iter().enumerate() {
                if !o.is_exclusive() && rng.random_bool(tick_rate(question, o, wellbeing)) {
                    mask |= 1 << i;
                }
            }
            if mask == 0 {
                let i = options.iter().position(|o| o.is_exclusive()).unwrap_or(0);
                mask = 1 << i;
            }
            Some(Answer::Multi(mask))
        }
        _ => {
            if let Some(i) = options.iter().position(|o| o.is_prefer_not_to_say())
                && rng.random_bool(0.03)
            {
                return u8::try_from(i).ok().map(Answer::Choice);
            }
            // Scored options lean towards the pupil's wellbeing; others
            // favour the first options, as real answers tend to.
            let weights: Vec<f64> = match question.scoring() {
                Some(ItemScoring::Points { points, max }) if *max > 0 => points
                    .iter()
                    .map(|p| match p {
                        Some(p) => {
                            let score = f64::from(*p) / f64::from(*max);
                            (-(score - wellbeing).powi(2) / 0.08).exp() + 0.02
                        }
                        None => 0.01,
                    })
                    .collect(),
                _ => (0..options.len())
                    .map(|i| {
                        if options[i].is_prefer_not_to_say() {
                            0.0
                        } else {
                            1.0 / (i as f64 + 1.0)
                        }
                    })
                    .collect(),
            };
            let total: f64 = weights.iter().sum();
            let mut pick = rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
            for (i, w) in weights.iter().enumerate() {
                if pick < *w {
                    return u8::try_from(i).ok().map(Answer::Choice);
                }
                pick -= w;
            }
            u8::try_from(options.len().saturating_sub(1))
                .ok()
                .map(Answer::Choice)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Synthetic pupils use services at about the rates set out (a doctor
    /// often, the police rarely, about half of pupils none), and answer the
    /// three follow-ups of each service they ticked.
    #[test]
    fn services_are_ticked_at_realistic_rates_and_followed_up() {
        let q = survey_defs::builtin().unwrap().remove(0);
        let switches = ModuleSwitches::all_on();
        let mut rng = StdRng::seed_from_u64(11);
        for (stage, id) in [(Stage::P6, "p_services"), (Stage::S3, "s_services")] {
            let services = q.question(&id.parse().unwrap()).unwrap();
            let pupils = 4_000u32;
            let mut ticked = vec![0u32; services.options().len()];
            let mut follow_ups = 0u32;
            for _ in 0..pupils {
                let answers = pupil_answers(&q, stage, &switches, false, &mut rng);
                if let Some(answer) = answers.get(services.ordinal()) {
                    for i in answer.option_indices() {
                        ticked[usize::from(i)] += 1;
                    }
                }
                follow_ups += answers
                    .iter()
                    .filter(|(o, _)| {
                        q.questions()[usize::from(*o)]
                            .show_if()
                            .is_some_and(|c| c.question() == services.id())
                    })
                    .count() as u32;
            }
            let count = |code: &str| ticked[usize::from(services.option_index(code).unwrap())];
            let share = |code: &str| f64::from(count(code)) / f64::from(pupils);
            assert!(
                (0.2..0.4).contains(&share("doctor")),
                "{id} doctor {}",
                share("doctor")
            );
            assert!(share("police") < 0.08, "{id} police {}", share("police"));
            assert!(
                (0.3..0.6).contains(&share("none")),
                "{id} none {}",
                share("none")
            );
            // Three follow-ups for each service ticked, less the few skipped.
            let used: u32 = SERVICE_USE.iter().map(|(code, _)| count(code)).sum();
            assert!(
                follow_ups <= 3 * used && f64::from(follow_ups) > 2.7 * f64::from(used),
                "{id}: {follow_ups} follow-ups for {used} services ticked"
            );
        }
    }

    #[test]
    fn pupils_only_keep_routed_answers_and_the_same_seed_repeats() {
        let q = survey_defs::builtin().unwrap().remove(0);
        let switches = ModuleSwitches::all_on();
        let mut a = StdRng::seed_from_u64(7);
        let mut b = StdRng::seed_from_u64(7);
        for stage in Stage::ALL {
            let one = pupil_answers(&q, stage, &switches, false, &mut a);
            let two = pupil_answers(&q, stage, &switches, false, &mut b);
            assert_eq!(one, two);
            let shown = survey_defs::routed(&q, stage, &switches, &one);
            for (ordinal, answer) in one.iter() {
                assert!(shown[usize::from(ordinal)]);
                q.questions()[usize::from(ordinal)]
                    .check_answer(answer)
                    .unwrap();
            }
        }
    }
}
