//! The survey service: joins stored page saves to the questionnaire model. It
//! merges saves into answers, plans pages, and ends responses. Handlers and the
//! staff side call it; it calls the store.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::DbErr;
use survey_defs::{AnswerSet, ModuleId, ModuleSwitches, Plan, Questionnaire, Stage};

use crate::services::questionnaires::Catalogue;
use crate::store::Db;
use crate::store::journey::{Planned, Read, Store};
use crate::store::pupil::{self, Completed, Ending, PageSave, Sitting};

/// Everything needed to show a pupil their pages.
pub struct Progress {
    pub sitting: Sitting,
    pub questionnaire: Arc<Questionnaire>,
    pub stage: Stage,
    pub switches: ModuleSwitches,
    pub answers: AnswerSet,
    /// Keys of pages the pupil has moved past (saved, answered or skipped).
    pub saved_pages: Vec<String>,
    pub locale: String,
    /// Which state of the response's saves this is: a page save planned
    /// from it is stored only if nothing changed since (see
    /// [`Store::save_planned`]).
    pub planned: Planned,
}

impl Progress {
    /// The pages as routing makes them from `answers` (some of this
    /// response's answers, say).
    pub fn plan_from(&self, answers: &AnswerSet) -> Plan {
        survey_defs::plan(&self.questionnaire, self.stage, &self.switches, answers)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("sitting {0} refers to a questionnaire version this server does not have")]
    MissingQuestionnaire(i32),
}

/// The module switches a sitting was created with.
pub fn switches_of(sitting: &Sitting) -> ModuleSwitches {
    sitting
        .disabled_modules
        .0
        .iter()
        .filter_map(|id| ModuleId::from_str(id).ok())
        .collect()
}

/// Sittings as pupil pages need them, kept in memory so that a page load or
/// save does not read the sitting again. Only fields that never change once a
/// sitting has pupils are read through it (stage, module switches,
/// questionnaire, partnership, school); closing a sitting ends its responses,
/// which every page load sees in the database. Entries are refreshed after
/// [`SittingCache::FRESH_FOR`] all the same, and the cache is emptied when it
/// grows past [`SittingCache::MAX_ENTRIES`].
#[derive(Default)]
pub struct SittingCache {
    entries: RwLock<HashMap<i32, (Instant, Arc<Sitting>)>>,
}

impl SittingCache {
    pub const FRESH_FOR: Duration = Duration::from_secs(60);
    pub const MAX_ENTRIES: usize = 50_000;

    pub async fn get(&self, db: &Db, id: i32) -> Result<Option<Arc<Sitting>>, DbErr> {
        if let Ok(entries) = self.entries.read()
            && let Some((loaded, sitting)) = entries.get(&id)
            && loaded.elapsed() < Self::FRESH_FOR
        {
            return Ok(Some(sitting.clone()));
        }
        let Some(sitting) = pupil::sitting(db, id).await? else {
            return Ok(None);
        };
        let sitting = Arc::new(sitting);
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(id, (Instant::now(), sitting.clone()));
        }
        Ok(Some(sitting))
    }
}

/// Loads a pupil's progress, read as `read` asks; `None` when the response
/// has ended. Reads the sitting through `sittings` when given.
pub async fn progress(
    db: &Db,
    store: &Store,
    catalogue: &Catalogue,
    sittings: Option<&SittingCache>,
    response_id: &str,
    read: Read,
) -> Result<Option<Progress>, SurveyError> {
    let Some((in_progress, saves, planned)) = store.progress_as(response_id, read).await? else {
        return Ok(None);
    };
    let sitting = match sittings {
        Some(cache) => cache
            .get(db, in_progress.sitting_id)
            .await?
            .map(|s| s.as_ref().clone()),
        None => store.sitting(in_progress.sitting_id).await?,
    };
    let Some(sitting) = sitting else {
        return Ok(None);
    };
    let entry = catalogue
        .get(sitting.questionnaire_version_id)
        .ok_or(SurveyError::MissingQuestionnaire(sitting.id))?;
    Ok(Some(Progress {
        stage: sitting.stage.0,
        switches: switches_of(&sitting),
        questionnaire: entry.questionnaire.clone(),
        answers: merge(&saves),
        saved_pages: saves.into_iter().map(|s| s.page_key).collect(),
        locale: in_progress.locale,
        sitting,
        planned,
    }))
}

/// A stored page: the ordinals the page showed, then the answers given on it.
/// Recording what the page showed lets a later save of the page clear an answer
/// the pupil has taken back.
pub fn encode_page(shown: &[u16], answers: &AnswerSet) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + shown.len() * 2);
    push_varint(&mut out, shown.len() as u64);
    for &ordinal in shown {
        push_varint(&mut out, u64::from(ordinal));
    }
    out.extend(answers.encode());
    out
}

/// Reads a stored page back; `None` if the bytes are damaged.
pub fn decode_page(bytes: &[u8]) -> Option<(Vec<u16>, AnswerSet)> {
    let mut at = 0;
    let count = read_varint(bytes, &mut at)?;
    let mut shown = Vec::with_capacity(usize::try_from(count).ok()?.min(256));
    for _ in 0..count {
        shown.push(u16::try_from(read_varint(bytes, &mut at)?).ok()?);
    }
    let answers = AnswerSet::decode(&bytes[at..]).ok()?;
    Some((shown, answers))
}

/// Applies one page to `answers`: the page's answers replace whatever was
/// said before about the questions it showed, so a question shown and left
/// blank loses its earlier answer.
pub fn apply_page(answers: &mut AnswerSet, shown: &[u16], page: &AnswerSet) {
    for &ordinal in shown {
        answers.remove(ordinal);
    }
    for (ordinal, answer) in page.iter() {
        answers.insert(ordinal, *answer);
    }
}

/// Folds page saves, oldest first, into one set of answers (see [`apply_page`]).
pub fn merge(saves: &[PageSave]) -> AnswerSet {
    let mut merged = AnswerSet::new();
    for save in saves {
        let Some((shown, answers)) = decode_page(&save.answers) else {
            tracing::warn!("a page save could not be decoded and was skipped");
            continue;
        };
        apply_page(&mut merged, &shown, &answers);
    }
    merged
}

/// Ends a response: completes it (`Finished`), keeps what it has as a partial
/// response (`Partial`, when its sitting closes) or deletes it (`Withdrawn`).
/// Answers to questions the pupil was finally not routed to are dropped.
/// Kept answers are held, unlinked, until released with others of the
/// sitting (see [`crate::store::journey`]).
pub async fn end(
    db: &Db,
    store: &Store,
    catalogue: &Catalogue,
    response_id: &str,
    ending: Ending,
) -> Result<bool, SurveyError> {
    let Some(progress) = progress(db, store, catalogue, None, response_id, Read::Checked).await?
    else {
        return Ok(false);
    };
    let completed = ending
        .keeps_answers()
        .then(|| completed_from(&progress, ending == Ending::Partial));
    Ok(store
        .end(response_id, progress.sitting.id, ending, completed)
        .await?)
}

fn completed_from(progress: &Progress, partial: bool) -> Completed {
    let q = &progress.questionnaire;
    let shown = survey_defs::routed(q, progress.stage, &progress.switches, &progress.answers);
    let mut kept = AnswerSet::new();
    for (ordinal, answer) in progress.answers.iter() {
        if shown.get(usize::from(ordinal)).copied().unwrap_or(false) {
            kept.insert(ordinal, *answer);
        }
    }
    let sex = q.sex_question().and_then(|question| {
        let answer = kept.get(question.ordinal())?;
        let index = answer.option_indices().next()?;
        question
            .options()
            .get(usize::from(index))
            .map(|option| option.code().to_string())
    });
    Completed {
        questionnaire_version_id: progress.sitting.questionnaire_version_id,
        cpp_id: progress.sitting.cpp_id,
        school_id: progress.sitting.school_id,
        stage: progress.stage,
        sex,
        partial,
        answers: kept.encode(),
    }
}

/// Closes a sitting's in-progress responses: each becomes a partial response
/// and its link to its code is cut; then every response the sitting still
/// holds is released, however few. Returns how many were closed.
pub async fn close_in_progress(
    db: &Db,
    store: &Store,
    catalogue: &Catalogue,
    sitting_id: i32,
) -> Result<usize, SurveyError> {
    let mut closed = 0;
    for in_progress in pupil::in_progress_of_sitting(db, sitting_id).await? {
        if end(db, store, catalogue, &in_progress.id, Ending::Partial).await? {
            closed += 1;
        }
    }
    store.release(sitting_id, 1).await?;
    Ok(closed)
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use survey_defs::Answer;

    fn save(seq: i64, key: &str, shown: &[u16], answers: &[(u16, Answer)]) -> PageSave {
        let mut set = AnswerSet::new();
        for (ordinal, answer) in answers {
            set.insert(*ordinal, *answer);
        }
        PageSave {
            response_id: "r".into(),
            page_key: key.into(),
            answers: encode_page(shown, &set),
            seq,
        }
    }

    #[test]
    fn a_page_round_trips() {
        let mut set = AnswerSet::new();
        set.insert(3, Answer::Choice(2));
        set.insert(300, Answer::Number(-4));
        let bytes = encode_page(&[3, 4, 300], &set);
        assert_eq!(decode_page(&bytes), Some((vec![3, 4, 300], set)));
    }

    #[test]
    fn a_later_save_clears_an_answer_taken_back() {
        let merged = merge(&[
            save(
                1,
                "a",
                &[0, 1],
                &[(0, Answer::Choice(1)), (1, Answer::Choice(0))],
            ),
            save(2, "a", &[0, 1], &[(0, Answer::Choice(2))]),
        ]);
        assert_eq!(merged.get(0), Some(&Answer::Choice(2)));
        assert_eq!(
            merged.get(1),
            None,
            "a skipped question must clear its earlier answer"
        );
    }

    #[test]
    fn damaged_bytes_are_skipped_not_fatal() {
        let mut bad = save(1, "a", &[0], &[(0, Answer::Choice(1))]);
        bad.answers = vec![0xff, 0xff];
        let good = save(2, "b", &[1], &[(1, Answer::Choice(0))]);
        let merged = merge(&[bad, good]);
        assert_eq!(merged.len(), 1);
    }

    #[test]
    fn a_page_damaged_after_its_shown_list_takes_nothing_back() {
        let first = save(
            1,
            "a",
            &[0, 1],
            &[(0, Answer::Choice(1)), (1, Answer::Choice(2))],
        );
        for damage in [0x7f_u8, 0xff] {
            let mut bad = save(2, "a", &[0, 1], &[(0, Answer::Choice(0))]);
            // The shown list (a count and two ordinals, one byte each) is
            // intact; the answers' version byte is not, or they end mid-value.
            if damage == 0xff {
                bad.answers.push(0xff);
            } else {
                bad.answers[3] = damage;
            }
            let merged = merge(&[first.clone(), bad.clone()]);
            assert_eq!(merged.get(0), Some(&Answer::Choice(1)), "{:?}", bad.answers);
            assert_eq!(merged.get(1), Some(&Answer::Choice(2)), "{:?}", bad.answers);
        }
    }
}
