//! What an export publishes, worked out once from the questionnaire: one
//! table per question and per scored indicator, each with its categories, and
//! the stage and sex breakdowns every table is published for.
//!
//! Counting happens in *slots*: each table owns a run of consecutive slots,
//! one per category followed by one for its base, so a pupil's answers turn
//! into a handful of increments in one flat array.

use survey_defs::{Indicator, Question, QuestionKind, Questionnaire, Stage, StageSet, Theme};

/// Number ranges wider than this are published as a base only: one row per
/// value would be a long table of small, suppressed cells.
pub const MAX_NUMBER_CATEGORIES: i32 = 32;

/// The label and code of the sex category for pupils with no recorded sex.
pub const NOT_STATED: &str = "Not stated";
pub const NOT_STATED_CODE: &str = "not_stated";
/// Stands for a total in every breakdown column.
pub const ALL: &str = "All";

/// A stage breakdown level: a stage, a band subtotal, or all stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StageLevel {
    Stage(Stage),
    Primary,
    Secondary,
    All,
}

impl StageLevel {
    /// Every level, in publication order.
    pub const ALL: [StageLevel; 10] = [
        StageLevel::Stage(Stage::P5),
        StageLevel::Stage(Stage::P6),
        StageLevel::Stage(Stage::P7),
        StageLevel::Primary,
        StageLevel::Stage(Stage::S1),
        StageLevel::Stage(Stage::S2),
        StageLevel::Stage(Stage::S3),
        StageLevel::Stage(Stage::S4),
        StageLevel::Secondary,
        StageLevel::All,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StageLevel::Stage(s) => s.as_str(),
            StageLevel::Primary => "Primary",
            StageLevel::Secondary => "Secondary",
            StageLevel::All => ALL,
        }
    }

    /// The stages the level covers.
    pub fn stages(&self) -> StageSet {
        match self {
            StageLevel::Stage(s) => std::iter::once(*s).collect(),
            StageLevel::Primary => survey_defs::Band::Primary.stages(),
            StageLevel::Secondary => survey_defs::Band::Secondary.stages(),
            StageLevel::All => StageSet::ALL,
        }
    }

    /// The levels published for a table whose pupils come from `stages`:
    /// stages outside it would only ever hold zeros, and a band subtotal is
    /// published only when the table reaches that band.
    pub fn published_for(stages: StageSet) -> Vec<StageLevel> {
        StageLevel::ALL
            .into_iter()
            .filter(|level| match level {
                StageLevel::Stage(s) => stages.contains(*s),
                StageLevel::Primary | StageLevel::Secondary => {
                    !level.stages().intersection(stages).is_empty()
                }
                StageLevel::All => true,
            })
            .collect()
    }
}

/// What a table counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A question, by ordinal.
    Question(u16),
    Indicator(Indicator),
}

/// One category of a table: an answer option, a number, or an indicator result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: String,
    pub label: String,
}

/// One published table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub subject: Subject,
    /// The question id, or the indicator id ("safe", ...).
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub categories: Vec<Category>,
    /// First slot; the base is at `offset + categories.len()`.
    pub offset: usize,
    /// True when every counted pupil falls in exactly one category, so the
    /// categories add up to the base (single choice, scale, yes/no, number,
    /// indicator). Multiple choice is not additive.
    pub additive: bool,
    /// Stages whose pupils can be in the table.
    pub stages: StageSet,
    /// For a routed question, the question it routes on.
    pub route: Option<Route>,
}

/// A routed question's link to the earlier question it routes on: in every
/// group of pupils, those who answer it are at most those who gave one of
/// the routing answers, and the codebook says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Table of the earlier question.
    pub parent: usize,
    /// Its categories that route to this question.
    pub categories: Vec<usize>,
}

impl TableDef {
    /// The code of slot `k` as the files name it: the category's, or
    /// `All` for the base.
    pub fn option_code(&self, k: usize) -> &str {
        self.categories.get(k).map_or(ALL, |c| c.code.as_str())
    }

    pub fn base_slot(&self) -> usize {
        self.offset + self.categories.len()
    }

    /// Categories plus the base.
    pub fn width(&self) -> usize {
        self.categories.len() + 1
    }
}

/// Everything an export publishes, in order: questions, then indicators.
#[derive(Debug, Clone)]
pub struct Layout {
    pub tables: Vec<TableDef>,
    /// Table index of each question, by ordinal.
    pub question_table: Vec<usize>,
    /// Table index of each scored indicator, in the questionnaire's rule order.
    pub indicator_tables: Vec<usize>,
    pub slots: usize,
    /// The sex categories: the sex question's options, then "Not stated".
    pub sexes: Vec<Category>,
}

impl Layout {
    pub fn new(q: &Questionnaire) -> Self {
        let mut tables = Vec::new();
        let mut offset = 0;
        let mut question_table = Vec::with_capacity(q.questions().len());
        let locale = q.default_locale();
        for question in q.questions() {
            let categories = question_categories(question, locale);
            let width = categories.len() + 1;
            question_table.push(tables.len());
            tables.push(TableDef {
                subject: Subject::Question(question.ordinal()),
                id: question.id().to_string(),
                title: question.text(locale).to_owned(),
                kind: question.kind().as_str(),
                additive: !matches!(question.kind(), QuestionKind::MultipleChoice),
                route: route(q, question, &question_table),
                categories,
                offset,
                stages: question.stages(),
            });
            offset += width;
        }
        let mut indicator_tables = Vec::new();
        for rule in q.scoring() {
            let indicator = rule.indicator();
            let stages = q
                .questions()
                .iter()
                .filter(|qu| qu.theme() == Theme::Indicator(indicator) && qu.scoring().is_some())
                .fold(StageSet::EMPTY, |acc, qu| acc.union(qu.stages()));
            indicator_tables.push(tables.len());
            tables.push(TableDef {
                subject: Subject::Indicator(indicator),
                id: indicator.as_str().to_owned(),
                title: indicator.label().to_owned(),
                kind: "indicator",
                categories: vec![
                    Category {
                        code: "positive".to_owned(),
                        label: "Positive".to_owned(),
                    },
                    Category {
                        code: "not_positive".to_owned(),
                        label: "Not positive".to_owned(),
                    },
                ],
                offset,
                additive: true,
                stages,
                route: None,
            });
            offset += 3;
        }
        let mut sexes: Vec<Category> = q
            .sex_question()
            .map(|sq| {
                sq.options()
                    .iter()
                    .map(|o| Category {
                        code: o.code().to_string(),
                        label: o.label(locale).to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        sexes.push(Category {
            code: NOT_STATED_CODE.to_owned(),
            label: NOT_STATED.to_owned(),
        });
        Layout {
            tables,
            question_table,
            indicator_tables,
            slots: offset,
            sexes,
        }
    }

    /// The sex category of a stored sex code; unknown codes and none are "Not stated".
    pub fn sex_index(&self, code: Option<&str>) -> usize {
        let not_stated = self.sexes.len() - 1;
        match code {
            Some(c) => self.sexes[..not_stated]
                .iter()
                .position(|s| s.code == c)
                .unwrap_or(not_stated),
            None => not_stated,
        }
    }

    pub fn is_indicator(&self, table: usize) -> bool {
        matches!(self.tables[table].subject, Subject::Indicator(_))
    }

    /// The tables grouped so that a routed question is in the group of the
    /// question it routes on (and so on down a chain of follow-ups); every
    /// other table is a group of its own. Groups are in the order of their
    /// first table, and tables within a group in layout order. A question
    /// routes only on an earlier one, so a group's first table is the one
    /// the others route on, directly or down the chain.
    pub fn families(&self) -> Vec<Vec<usize>> {
        let root = |mut t: usize| {
            while let Some(route) = &self.tables[t].route {
                t = route.parent;
            }
            t
        };
        let mut families: Vec<Vec<usize>> = Vec::new();
        let mut of_root: std::collections::HashMap<usize, usize> = Default::default();
        for t in 0..self.tables.len() {
            let r = root(t);
            match of_root.get(&r) {
                Some(&f) => families[f].push(t),
                None => {
                    of_root.insert(r, families.len());
                    families.push(vec![t]);
                }
            }
        }
        families
    }
}

/// The route of `question`, when it has one. Questions come in order and a
/// question routes only on an earlier one, so its table is already known.
fn route(q: &Questionnaire, question: &Question, question_table: &[usize]) -> Option<Route> {
    let condition = question.show_if()?;
    let parent = q
        .questions()
        .iter()
        .find(|p| p.ordinal() == condition.depends_on())?;
    let categories = parent
        .options()
        .iter()
        .enumerate()
        .filter(|(_, o)| condition.any_of().iter().any(|c| c == o.code()))
        .map(|(i, _)| i)
        .collect();
    Some(Route {
        parent: *question_table.get(usize::from(condition.depends_on()))?,
        categories,
    })
}

fn question_categories(question: &Question, locale: &survey_defs::Locale) -> Vec<Category> {
    match *question.kind() {
        QuestionKind::Number { min, max } => {
            if max.saturating_sub(min) >= MAX_NUMBER_CATEGORIES {
                Vec::new()
            } else {
                (min..=max)
                    .map(|n| Category {
                        code: n.to_string(),
                        label: n.to_string(),
                    })
                    .collect()
            }
        }
        _ => question
            .options()
            .iter()
            .map(|o| Category {
                code: o.code().to_string(),
                label: o.label(locale).to_owned(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn builtin() -> Questionnaire {
        survey_defs::builtin().unwrap().remove(0)
    }

    #[test]
    fn slots_are_contiguous_and_cover_every_table() {
        let layout = Layout::new(&builtin());
        let mut next = 0;
        for t in &layout.tables {
            assert_eq!(t.offset, next);
            next += t.width();
        }
        assert_eq!(next, layout.slots);
    }

    #[test]
    fn sex_categories_end_with_not_stated() {
        let layout = Layout::new(&builtin());
        assert_eq!(layout.sexes.last().unwrap().label, NOT_STATED);
        assert_eq!(layout.sex_index(None), layout.sexes.len() - 1);
        assert_eq!(layout.sex_index(Some("girl")), 1);
        assert_eq!(layout.sex_index(Some("nonsense")), layout.sexes.len() - 1);
    }

    #[test]
    fn a_secondary_only_table_publishes_no_primary_levels() {
        let levels = StageLevel::published_for(survey_defs::Band::Secondary.stages());
        assert!(!levels.contains(&StageLevel::Primary));
        assert!(!levels.contains(&StageLevel::Stage(Stage::P5)));
        assert!(levels.contains(&StageLevel::Secondary));
        assert!(levels.contains(&StageLevel::All));
    }
}
