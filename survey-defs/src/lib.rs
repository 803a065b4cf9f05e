//! Questionnaire definitions: the model, the TOML loader and checker, page
//! planning with routing, answer encoding and indicator scoring.
//!
//! This crate knows nothing of HTTP or databases. Questionnaires are TOML
//! files (see `FORMAT.md`); [`load_str`] turns one into a [`Questionnaire`]
//! that cannot be invalid, or reports every problem with its line.

mod answers;
pub mod exchange;
#[cfg(feature = "fuzz")]
pub mod fuzz;
mod ids;
mod load;
mod model;
mod plan;
mod raw;
pub mod readability;
mod score;
mod texts;
mod translation;

pub use answers::{Answer, AnswerError, AnswerSet, DecodeError, EncodedAnswers};
pub use ids::{
    Band, Indicator, Locale, ModuleId, OptionCode, ParseIdError, QuestionId, QuestionnaireId,
    SectionId, Stage, StageSet, Theme,
};
pub use load::{
    Diagnostic, LoadError, Loaded, Severity, builtin, builtin_sources, builtin_translation_sources,
    builtin_translations, content_hash, load_file, load_str,
};
pub use model::{
    AnswerOption, Condition, IndicatorRule, ItemScoring, LocaleInfo, Localised, Module, Question,
    QuestionKind, Questionnaire, Role, Section,
};
pub use plan::{
    MAX_QUESTIONS_PER_PAGE, ModuleSwitches, Page, Plan, every_route, is_routed, plan, routed,
};
pub use score::{score, score_routed};
pub use texts::{SourceText, Translated, load_translated, load_with_translations, source_texts};
pub use translation::{
    Coverage, Status, TranslatedText, TranslationFile, placeholders, source_hash,
};
