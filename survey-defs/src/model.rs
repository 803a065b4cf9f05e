//! The validated questionnaire model. Values of these types come only from the
//! loader ([`crate::load_str`]), so code holding one can rely on its invariants:
//! ids are unique, every declared locale has every text, routing only points at
//! earlier questions, every option that scoring names exists.

use std::ops::Range;

use crate::ids::{
    Indicator, Locale, ModuleId, OptionCode, QuestionId, QuestionnaireId, SectionId, StageSet,
    Theme,
};

/// Text in every declared locale; the first entry is the default locale.
#[derive(Debug, Clone, PartialEq)]
pub struct Localised {
    pub(crate) entries: Vec<(Locale, String)>,
}

impl Localised {
    /// The text in `locale`, or in the default locale when `locale` is not declared.
    pub fn get(&self, locale: &Locale) -> &str {
        self.entries
            .iter()
            .find(|(l, _)| l == locale)
            .or_else(|| self.entries.first())
            .map(|(_, t)| t.as_str())
            .unwrap_or("")
    }

    /// The text in the default locale.
    pub fn default_text(&self) -> &str {
        self.entries.first().map(|(_, t)| t.as_str()).unwrap_or("")
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Locale, &str)> {
        self.entries.iter().map(|(l, t)| (l, t.as_str()))
    }
}

/// A language the questionnaire is written in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocaleInfo {
    pub(crate) locale: Locale,
    pub(crate) name: String,
    pub(crate) rtl: bool,
}

impl LocaleInfo {
    pub fn locale(&self) -> &Locale {
        &self.locale
    }

    /// The language's own name for itself (endonym), e.g. "العربية".
    pub fn name(&self) -> &str {
        &self.name
    }

    /// True for right-to-left scripts.
    pub fn rtl(&self) -> bool {
        self.rtl
    }

    /// The value for an HTML `dir` attribute: "rtl" or "ltr".
    pub fn dir(&self) -> &'static str {
        if self.rtl { "rtl" } else { "ltr" }
    }
}

/// A group of questions a partnership can switch off as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub(crate) id: ModuleId,
    pub(crate) title: Localised,
    pub(crate) sensitive: bool,
}

impl Module {
    pub fn id(&self) -> &ModuleId {
        &self.id
    }

    pub fn title(&self, locale: &Locale) -> &str {
        self.title.get(locale)
    }

    /// Sensitive modules (substance use, relationships) are the ones councils
    /// most often switch off; the server can ask for confirmation.
    pub fn sensitive(&self) -> bool {
        self.sensitive
    }
}

/// A titled run of consecutive questions about one theme.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub(crate) id: SectionId,
    pub(crate) title: Localised,
    pub(crate) theme: Theme,
    pub(crate) questions: Range<u16>,
}

impl Section {
    pub fn id(&self) -> &SectionId {
        &self.id
    }

    pub fn title(&self, locale: &Locale) -> &str {
        self.title.get(locale)
    }

    pub fn theme(&self) -> Theme {
        self.theme
    }

    /// Ordinals of the section's questions (never empty).
    pub fn question_range(&self) -> Range<u16> {
        self.questions.clone()
    }
}

/// How a question is answered. There is no free text, by design: free text can
/// identify a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuestionKind {
    SingleChoice,
    /// Ordered points, each with a text label (and optionally an emoji).
    Scale,
    /// Options include the codes "yes" and "no".
    YesNo,
    MultipleChoice,
    Number {
        min: i32,
        max: i32,
    },
}

impl QuestionKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            QuestionKind::SingleChoice => "single_choice",
            QuestionKind::Scale => "scale",
            QuestionKind::YesNo => "yes_no",
            QuestionKind::MultipleChoice => "multiple_choice",
            QuestionKind::Number { .. } => "number",
        }
    }

    /// True when answers are option indices.
    pub fn has_options(&self) -> bool {
        !matches!(self, QuestionKind::Number { .. })
    }
}

/// One answer option of a choice, scale or yes/no question.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerOption {
    pub(crate) code: OptionCode,
    pub(crate) label: Localised,
    pub(crate) read_aloud: Option<Localised>,
    pub(crate) emoji: Option<String>,
    pub(crate) prefer_not_to_say: bool,
    pub(crate) dont_know: bool,
    pub(crate) exclusive: bool,
}

impl AnswerOption {
    pub fn code(&self) -> &OptionCode {
        &self.code
    }

    pub fn label(&self, locale: &Locale) -> &str {
        self.label.get(locale)
    }

    /// What a screen reader or read-aloud button says; falls back to the label.
    pub fn read_aloud(&self, locale: &Locale) -> &str {
        match &self.read_aloud {
            Some(r) => r.get(locale),
            None => self.label.get(locale),
        }
    }

    /// A picture for the point; always shown beside its text label, never alone.
    pub fn emoji(&self) -> Option<&str> {
        self.emoji.as_deref()
    }

    pub fn is_prefer_not_to_say(&self) -> bool {
        self.prefer_not_to_say
    }

    pub fn is_dont_know(&self) -> bool {
        self.dont_know
    }

    /// In a multiple-choice question, an option that cannot be ticked together
    /// with others ("None of these", "prefer not to say", "don't know").
    pub fn is_exclusive(&self) -> bool {
        self.exclusive || self.prefer_not_to_say || self.dont_know
    }
}

/// Show a question only when an earlier question's answer is one of some options.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub(crate) question: QuestionId,
    pub(crate) ordinal: u16,
    pub(crate) any_of: Vec<OptionCode>,
    /// Option indices of `any_of` in the earlier question.
    pub(crate) indices: Vec<u8>,
}

impl Condition {
    /// The earlier question this condition looks at.
    pub fn question(&self) -> &QuestionId {
        &self.question
    }

    /// Ordinal of the earlier question.
    pub fn depends_on(&self) -> u16 {
        self.ordinal
    }

    pub fn any_of(&self) -> &[OptionCode] {
        &self.any_of
    }

    /// True when `answer` (to the earlier question) picks one of the options.
    pub fn matches(&self, answer: &crate::Answer) -> bool {
        match *answer {
            crate::Answer::Choice(i) => self.indices.contains(&i),
            crate::Answer::Multi(mask) => self
                .indices
                .iter()
                .any(|&i| i < 64 && mask & (1u64 << i) != 0),
            crate::Answer::Number(_) => false,
        }
    }
}

/// How one question's answer scores towards its section's indicator. Item
/// scores run from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemScoring {
    /// Points per option index (`None`: the option scores nothing, e.g. "prefer
    /// not to say"); the item score is points divided by the largest points.
    Points { points: Vec<Option<u32>>, max: u32 },
    /// A number scores 1 inside the inclusive range and 0 outside it.
    Range { from: i32, to: i32 },
}

/// A special meaning a question has for reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The sex or gender question used for the exporter's breakdown.
    Sex,
}

/// One question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub(crate) id: QuestionId,
    pub(crate) ordinal: u16,
    pub(crate) section: usize,
    pub(crate) theme: Theme,
    pub(crate) kind: QuestionKind,
    pub(crate) text: Localised,
    pub(crate) read_aloud: Option<Localised>,
    pub(crate) help: Option<Localised>,
    pub(crate) stages: StageSet,
    pub(crate) module: Option<ModuleId>,
    pub(crate) options: Vec<AnswerOption>,
    pub(crate) show_if: Option<Condition>,
    pub(crate) role: Option<Role>,
    pub(crate) scoring: Option<ItemScoring>,
}

impl Question {
    pub fn id(&self) -> &QuestionId {
        &self.id
    }

    /// Position in the questionnaire, from 0. Stable for a questionnaire version;
    /// answers are stored against it.
    pub fn ordinal(&self) -> u16 {
        self.ordinal
    }

    /// Index of the question's section in [`crate::Questionnaire::sections`].
    pub fn section(&self) -> usize {
        self.section
    }

    pub fn kind(&self) -> &QuestionKind {
        &self.kind
    }

    pub fn text(&self, locale: &Locale) -> &str {
        self.text.get(locale)
    }

    /// Simpler wording for reading aloud; falls back to the text.
    pub fn read_aloud(&self, locale: &Locale) -> &str {
        match &self.read_aloud {
            Some(r) => r.get(locale),
            None => self.text.get(locale),
        }
    }

    pub fn help(&self, locale: &Locale) -> Option<&str> {
        self.help.as_ref().map(|h| h.get(locale))
    }

    /// Stages that see this question (never empty).
    pub fn stages(&self) -> StageSet {
        self.stages
    }

    /// The switchable module; `None` means the core, which is always on.
    pub fn module(&self) -> Option<&ModuleId> {
        self.module.as_ref()
    }

    /// Answer options; empty for number questions.
    pub fn options(&self) -> &[AnswerOption] {
        &self.options
    }

    /// Index of the option with `code`.
    pub fn option_index(&self, code: &str) -> Option<u8> {
        self.options
            .iter()
            .position(|o| o.code.as_str() == code)
            .and_then(|i| u8::try_from(i).ok())
    }

    pub fn show_if(&self) -> Option<&Condition> {
        self.show_if.as_ref()
    }

    /// The theme the question counts towards: its own `theme` when the file
    /// gives one, else its section's.
    pub fn theme(&self) -> Theme {
        self.theme
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn scoring(&self) -> Option<&ItemScoring> {
        self.scoring.as_ref()
    }
}

/// When an indicator counts as positive for a pupil.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IndicatorRule {
    pub(crate) indicator: Indicator,
    pub(crate) positive_at: f64,
    pub(crate) min_answered: u16,
}

impl IndicatorRule {
    pub fn indicator(&self) -> Indicator {
        self.indicator
    }

    /// Mean item score (0 to 1) at or above which the result is positive.
    pub fn positive_at(&self) -> f64 {
        self.positive_at
    }

    /// Fewer scored answers than this give no result.
    pub fn min_answered(&self) -> u16 {
        self.min_answered
    }
}

/// A validated questionnaire version.
#[derive(Debug, Clone, PartialEq)]
pub struct Questionnaire {
    pub(crate) id: QuestionnaireId,
    pub(crate) version: u32,
    pub(crate) content_hash: String,
    pub(crate) title: Localised,
    pub(crate) locales: Vec<LocaleInfo>,
    pub(crate) default_locale: Locale,
    pub(crate) sections: Vec<Section>,
    pub(crate) modules: Vec<Module>,
    pub(crate) questions: Vec<Question>,
    pub(crate) scoring: Vec<IndicatorRule>,
    pub(crate) sex_question: Option<u16>,
}

impl Questionnaire {
    pub fn id(&self) -> &QuestionnaireId {
        &self.id
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// SHA-256 (lower-case hex) of the file's bytes with CRLF turned into LF.
    /// The server refuses a file whose hash changed but whose version did not.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    /// The title in `locale`, falling back to the default locale.
    pub fn title(&self, locale: &Locale) -> &str {
        self.title.get(locale)
    }

    /// Declared locales; the first is the default.
    pub fn locales(&self) -> &[LocaleInfo] {
        &self.locales
    }

    pub fn locale_info(&self, locale: &Locale) -> Option<&LocaleInfo> {
        self.locales.iter().find(|l| &l.locale == locale)
    }

    pub fn default_locale(&self) -> &Locale {
        &self.default_locale
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    pub fn module(&self, id: &ModuleId) -> Option<&Module> {
        self.modules.iter().find(|m| &m.id == id)
    }

    /// All questions in questionnaire order: `questions()[i].ordinal() == i`.
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    pub fn question(&self, id: &QuestionId) -> Option<&Question> {
        self.questions.iter().find(|q| &q.id == id)
    }

    pub fn question_by_ordinal(&self, ordinal: u16) -> Option<&Question> {
        self.questions.get(usize::from(ordinal))
    }

    /// The questions of the section at `index`.
    pub fn section_questions(&self, index: usize) -> &[Question] {
        match self.sections.get(index) {
            Some(s) => {
                &self.questions[usize::from(s.questions.start)..usize::from(s.questions.end)]
            }
            None => &[],
        }
    }

    /// The About-you question marked `role = "sex"`, for the sex breakdown.
    pub fn sex_question(&self) -> Option<&Question> {
        self.sex_question.and_then(|o| self.question_by_ordinal(o))
    }

    /// Stages that see at least one question.
    pub fn stages(&self) -> StageSet {
        self.questions
            .iter()
            .fold(StageSet::EMPTY, |acc, q| acc.union(q.stages))
    }

    /// Rules for the indicators this questionnaire scores, in indicator order.
    pub fn scoring(&self) -> &[IndicatorRule] {
        &self.scoring
    }
}
