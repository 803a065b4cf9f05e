//! Indicator scoring.
//!
//! Each scored question gives an item score from 0 to 1: the chosen option's
//! points divided by the question's largest points (for a number question, 1
//! inside its `score_range` and 0 outside). "Prefer not to say", "don't
//! know" and skipped questions score nothing. An indicator is positive when
//! the mean item score over the answered items is at least its rule's
//! `positive_at`, and has no result (`None`) when fewer than `min_answered`
//! of its items were answered.

use crate::answers::{Answer, AnswerSet};
use crate::ids::{Indicator, Stage};
use crate::model::{ItemScoring, Question, Questionnaire};
use crate::plan::{ModuleSwitches, routed};

impl Question {
    /// The item score (0 to 1) of an answer, or `None` when the question is
    /// not scored or the answer scores nothing.
    pub fn item_score(&self, answer: &Answer) -> Option<f64> {
        match (self.scoring()?, *answer) {
            (ItemScoring::Points { points, max }, Answer::Choice(i)) => {
                let p = (*points.get(usize::from(i))?)?;
                Some(f64::from(p) / f64::from(*max))
            }
            (ItemScoring::Range { from, to }, Answer::Number(n)) => {
                Some(if n >= *from && n <= *to { 1.0 } else { 0.0 })
            }
            _ => None,
        }
    }
}

/// Scores every indicator the questionnaire has a rule for, counting every
/// answer given. Use [`score_routed`] when answers may include questions the
/// pupil was later routed away from.
pub fn score(q: &Questionnaire, answers: &AnswerSet) -> Vec<(Indicator, Option<bool>)> {
    score_where(q, answers, |_| true)
}

/// Like [`score`], counting only answers to questions the pupil was routed to.
pub fn score_routed(
    q: &Questionnaire,
    stage: Stage,
    switches: &ModuleSwitches,
    answers: &AnswerSet,
) -> Vec<(Indicator, Option<bool>)> {
    let shown = routed(q, stage, switches, answers);
    score_where(q, answers, |o| {
        shown.get(usize::from(o)).copied().unwrap_or(false)
    })
}

fn score_where(
    q: &Questionnaire,
    answers: &AnswerSet,
    counts: impl Fn(u16) -> bool,
) -> Vec<(Indicator, Option<bool>)> {
    let mut sums = [(0.0f64, 0u32); Indicator::ALL.len()];
    for (ordinal, answer) in answers.iter() {
        if !counts(ordinal) {
            continue;
        }
        let Some(question) = q.question_by_ordinal(ordinal) else {
            continue;
        };
        let (Some(indicator), Some(s)) =
            (question.theme().indicator(), question.item_score(answer))
        else {
            continue;
        };
        let slot = &mut sums[indicator as usize];
        slot.0 += s;
        slot.1 += 1;
    }
    q.scoring()
        .iter()
        .map(|rule| {
            let (sum, n) = sums[rule.indicator() as usize];
            let result = (n >= u32::from(rule.min_answered()))
                .then(|| sum / f64::from(n) >= rule.positive_at() - 1e-9);
            (rule.indicator(), result)
        })
        .collect()
}
