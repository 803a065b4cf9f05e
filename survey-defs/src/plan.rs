//! Page planning and routing: which questions a pupil sees, in which pages.

use std::collections::BTreeSet;

use crate::answers::AnswerSet;
use crate::ids::{Band, ModuleId, Stage};
use crate::model::Questionnaire;

/// The modules a partnership has switched off. Questions outside any module
/// (the core) are always on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleSwitches {
    disabled: BTreeSet<ModuleId>,
}

impl ModuleSwitches {
    pub fn all_on() -> Self {
        Self::default()
    }

    pub fn disable(&mut self, id: ModuleId) {
        self.disabled.insert(id);
    }

    pub fn enable(&mut self, id: &ModuleId) {
        self.disabled.remove(id);
    }

    pub fn is_enabled(&self, id: &ModuleId) -> bool {
        !self.disabled.contains(id)
    }

    pub fn disabled(&self) -> impl Iterator<Item = &ModuleId> {
        self.disabled.iter()
    }
}

impl FromIterator<ModuleId> for ModuleSwitches {
    /// Collects the ids of disabled modules.
    fn from_iter<I: IntoIterator<Item = ModuleId>>(iter: I) -> Self {
        ModuleSwitches {
            disabled: iter.into_iter().collect(),
        }
    }
}

/// The pages a pupil sees, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub pages: Vec<Page>,
}

/// One page of questions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The id of the page's first question: stable while answers change,
    /// because only pages after an answered one can regroup.
    pub key: String,
    /// Index of the section in [`Questionnaire::sections`].
    pub section: usize,
    /// Ordinals of the page's questions, ascending.
    pub questions: Vec<u16>,
}

impl Plan {
    pub fn contains(&self, ordinal: u16) -> bool {
        self.pages.iter().any(|p| p.questions.contains(&ordinal))
    }

    pub fn page_index(&self, key: &str) -> Option<usize> {
        self.pages.iter().position(|p| p.key == key)
    }

    /// Every question shown, in order.
    pub fn ordinals(&self) -> impl Iterator<Item = u16> + '_ {
        self.pages.iter().flat_map(|p| p.questions.iter().copied())
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pages.is_empty()
    }
}

/// Most questions on one secondary page.
pub const MAX_QUESTIONS_PER_PAGE: usize = 4;

/// For each question (by ordinal), whether this pupil is routed to it: the
/// stage sees it, its module is on, and its routing condition (if any) holds
/// on the answer to a question the pupil was itself routed to.
pub fn routed(
    q: &Questionnaire,
    stage: Stage,
    switches: &ModuleSwitches,
    answers: &AnswerSet,
) -> Vec<bool> {
    let mut shown: Vec<bool> = Vec::with_capacity(q.questions().len());
    for question in q.questions() {
        let visible = question.stages().contains(stage)
            && question.module().is_none_or(|m| switches.is_enabled(m));
        let condition_met = match question.show_if() {
            None => true,
            Some(c) => {
                // Routing only ever points backwards, so the earlier entry exists.
                let earlier_shown = shown
                    .get(usize::from(c.depends_on()))
                    .copied()
                    .unwrap_or(false);
                earlier_shown && answers.get(c.depends_on()).is_some_and(|a| c.matches(a))
            }
        };
        shown.push(visible && condition_met);
    }
    shown
}

/// Whether the pupil is routed to question `ordinal` (see [`routed`]). The
/// exporter uses it for a question's base: pupils not routed to it are not
/// counted as skipping it.
pub fn is_routed(
    q: &Questionnaire,
    stage: Stage,
    switches: &ModuleSwitches,
    answers: &AnswerSet,
    ordinal: u16,
) -> bool {
    let Some(question) = q.question_by_ordinal(ordinal) else {
        return false;
    };
    if !question.stages().contains(stage)
        || question.module().is_some_and(|m| !switches.is_enabled(m))
    {
        return false;
    }
    match question.show_if() {
        None => true,
        Some(c) => {
            answers.get(c.depends_on()).is_some_and(|a| c.matches(a))
                && is_routed(q, stage, switches, answers, c.depends_on())
        }
    }
}

/// The pages a pupil at `stage` sees, with routing applied to `answers`.
///
/// Primary pupils get one question per page. Secondary pages group up to
/// [`MAX_QUESTIONS_PER_PAGE`] consecutive shown questions of one section,
/// but a question never shares a page with the question it routes on, so
/// the routing can apply once that page is saved; nor with a question
/// routed on another condition, so follow-ups asked for different answers
/// (one service's questions and the next one's, say) are on pages of their
/// own.
pub fn plan(
    q: &Questionnaire,
    stage: Stage,
    switches: &ModuleSwitches,
    answers: &AnswerSet,
) -> Plan {
    pages(q, stage, &routed(q, stage, switches, answers))
}

/// Every page a pupil at `stage` could see, whatever they answer: each
/// routing condition is taken as met wherever the question it routes on is
/// itself shown, so a follow-up sits where it would for a pupil who gave
/// the answer it needs. For previews and the printed questionnaire, which
/// show everything a stage can be asked.
pub fn every_route(q: &Questionnaire, stage: Stage, switches: &ModuleSwitches) -> Plan {
    let mut shown: Vec<bool> = Vec::with_capacity(q.questions().len());
    for question in q.questions() {
        let visible = question.stages().contains(stage)
            && question.module().is_none_or(|m| switches.is_enabled(m));
        let reachable = question.show_if().is_none_or(|c| {
            shown
                .get(usize::from(c.depends_on()))
                .copied()
                .unwrap_or(false)
        });
        shown.push(visible && reachable);
    }
    pages(q, stage, &shown)
}

/// The questions marked in `shown` (by ordinal), grouped into pages as
/// [`plan`] describes.
fn pages(q: &Questionnaire, stage: Stage, shown: &[bool]) -> Plan {
    let per_page = match stage.band() {
        Band::Primary => 1,
        Band::Secondary => MAX_QUESTIONS_PER_PAGE,
    };
    let mut pages: Vec<Page> = Vec::new();
    for question in q.questions() {
        if !shown[usize::from(question.ordinal())] {
            continue;
        }
        let joins_last = pages.last().is_some_and(|page| {
            page.section == question.section()
                && page.questions.len() < per_page
                && question.show_if().is_none_or(|c| {
                    !page.questions.contains(&c.depends_on())
                        && page.questions.iter().all(|&o| {
                            q.question_by_ordinal(o)
                                .and_then(|other| other.show_if())
                                .is_none_or(|theirs| theirs == c)
                        })
                })
        });
        match pages.last_mut() {
            Some(page) if joins_last => page.questions.push(question.ordinal()),
            _ => pages.push(Page {
                key: question.id().to_string(),
                section: question.section(),
                questions: vec![question.ordinal()],
            }),
        }
    }
    Plan { pages }
}
