//! Questionnaire definitions: the model, the TOML loader and checker, page
//! planning with routing, answer encoding and indicator scoring.
//!
//! This crate knows nothing of HTTP or databases. Questionnaires are TOML
//! files (see `FORMAT.md`); [`load_str`] turns one into a [`Questionnaire`]
//! that cannot be invalid, or reports every problem with its line.

mod answers;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod ids;
mod load;
mod model;
mod plan;
mod raw;
pub mod readability;
mod score;

pub use answers::{Answer, AnswerError, AnswerSet, DecodeError, EncodedAnswers};
pub use ids::{
    Band, Indicator, Locale, ModuleId, OptionCode, ParseIdError, QuestionId, QuestionnaireId,
    SectionId, Stage, StageSet, Theme,
};
pub use load::{
    Diagnostic, LoadError, Loaded, Severity, builtin, builtin_sources, content_hash, load_file,
    load_str,
};
pub use model::{
    AnswerOption, Condition, IndicatorRule, ItemScoring, LocaleInfo, Localised, Module, Question,
    QuestionKind, Questionnaire, Role, Section,
};
pub use plan::{MAX_QUESTIONS_PER_PAGE, ModuleSwitches, Page, Plan, is_routed, plan, routed};
pub use score::{score, score_routed};
