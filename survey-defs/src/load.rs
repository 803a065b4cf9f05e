//! Loading and checking questionnaire files: raw TOML in, a validated
//! [`Questionnaire`] (plus warnings) or every problem found out.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::Path;

use sha2::{Digest, Sha256};
use thiserror::Error;
use toml::Spanned;

use crate::ids::{
    Band, Indicator, Locale, ModuleId, OptionCode, QuestionId, QuestionnaireId, SectionId,
    StageSet, Theme,
};
use crate::model::{
    AnswerOption, Condition, IndicatorRule, ItemScoring, LocaleInfo, Localised, Module, Question,
    QuestionKind, Questionnaire, Role, Section,
};
use crate::raw::{RawFile, RawOption, RawQuestion, RawText};
use crate::readability;
use crate::translation::{Lines, TranslationFile};

/// How serious a diagnostic is: errors stop a file loading, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One problem in a file, with a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file,
            self.line,
            self.column,
            self.severity.as_str(),
            self.message
        )
    }
}

/// A file that did not load. `diagnostics` holds every error and warning
/// found, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct LoadError {
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// A questionnaire that loaded, with any warnings (such as reading level).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub questionnaire: Questionnaire,
    pub warnings: Vec<Diagnostic>,
}

/// Loads a questionnaire from text. `file_name` only labels diagnostics.
pub fn load_str(file_name: &str, text: &str) -> Result<Loaded, LoadError> {
    build_raw(file_name, text, parse_raw(file_name, text)?)
}

/// The file as written, or its syntax error.
pub(crate) fn parse_raw(file_name: &str, text: &str) -> Result<RawFile, LoadError> {
    toml::from_str::<RawFile>(text).map_err(|e| {
        let mut cx = Cx::new(file_name, text);
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().replace('\n', "; ");
        cx.error(&span, message);
        cx.into_error()
    })
}

/// Checks and converts the file as written; the content hash is that of `text`.
pub(crate) fn build_raw(file_name: &str, text: &str, raw: RawFile) -> Result<Loaded, LoadError> {
    let mut cx = Cx::new(file_name, text);
    let questionnaire = cx.build(raw, content_hash(text));
    match questionnaire {
        Some(q) if !cx.has_errors() => Ok(Loaded {
            questionnaire: q,
            warnings: cx.sorted(),
        }),
        _ => Err(cx.into_error()),
    }
}

/// Loads a questionnaire file from disk.
pub fn load_file(path: &Path) -> Result<Loaded, LoadError> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_str(&name, &text),
            Err(e) => Err(LoadError {
                diagnostics: vec![file_level(
                    &name,
                    format!(
                        "the file is not UTF-8 text (bad byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )],
            }),
        },
        Err(e) => Err(LoadError {
            diagnostics: vec![file_level(&name, format!("cannot read the file: {e}"))],
        }),
    }
}

fn file_level(file: &str, message: String) -> Diagnostic {
    Diagnostic {
        file: file.to_owned(),
        line: 1,
        column: 1,
        severity: Severity::Error,
        message,
    }
}

/// SHA-256 hex of the text with Windows line endings made Unix ones, so a
/// checkout on either system hashes the same.
pub fn content_hash(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n");
    hex::encode(Sha256::digest(normalised.as_bytes()))
}

const BUILTIN: &[(&str, &str)] = &[(
    "wellbeing.toml",
    include_str!("../questionnaires/wellbeing.toml"),
)];

/// Translation files of the built-in questionnaires (see
/// `questionnaires/translations/`), shipped inside the binary with them.
const BUILTIN_TRANSLATIONS: &[(&str, &str)] = &[
    (
        "translations/wellbeing.ar.toml",
        include_str!("../questionnaires/translations/wellbeing.ar.toml"),
    ),
    (
        "translations/wellbeing.gd.toml",
        include_str!("../questionnaires/translations/wellbeing.gd.toml"),
    ),
    (
        "translations/wellbeing.pl.toml",
        include_str!("../questionnaires/translations/wellbeing.pl.toml"),
    ),
    (
        "translations/wellbeing.ro.toml",
        include_str!("../questionnaires/translations/wellbeing.ro.toml"),
    ),
    (
        "translations/wellbeing.uk.toml",
        include_str!("../questionnaires/translations/wellbeing.uk.toml"),
    ),
    (
        "translations/wellbeing.ur.toml",
        include_str!("../questionnaires/translations/wellbeing.ur.toml"),
    ),
    (
        "translations/wellbeing.zh-Hans.toml",
        include_str!("../questionnaires/translations/wellbeing.zh-Hans.toml"),
    ),
];

/// The questionnaires shipped inside the binary (see `questionnaires/`), each
/// with its shipped translations.
pub fn builtin() -> Result<Vec<Questionnaire>, LoadError> {
    let translations = builtin_translations()?;
    BUILTIN
        .iter()
        .map(|(name, text)| {
            crate::texts::load_with_translations(name, text, &translations)
                .map(|t| t.loaded.questionnaire)
        })
        .collect()
}

/// File names and text of the built-in questionnaires, for tools that want
/// the warnings too.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

/// The shipped translations of the built-in questionnaires.
pub fn builtin_translations() -> Result<Vec<TranslationFile>, LoadError> {
    BUILTIN_TRANSLATIONS
        .iter()
        .map(|(name, text)| TranslationFile::parse(name, text))
        .collect()
}

/// File names and text of the shipped translation files, for tools and tests.
pub fn builtin_translation_sources() -> &'static [(&'static str, &'static str)] {
    BUILTIN_TRANSLATIONS
}

/// Largest number of answer options a single-choice question may have (they
/// are stored as a `u8` index).
const MAX_OPTIONS: usize = 255;
/// Multiple-choice answers are a 64-bit mask.
const MAX_MULTI_OPTIONS: usize = 64;
const MAX_POINTS: i64 = 1000;

/// Collects diagnostics while converting the raw tree.
struct Cx<'a> {
    file: &'a str,
    lines: Lines<'a>,
    diags: Vec<Diagnostic>,
    locales: Vec<Locale>,
}

struct QuestionSeen {
    ordinal: u16,
    show_if: Option<String>,
}

impl<'a> Cx<'a> {
    fn new(file: &'a str, text: &'a str) -> Self {
        Cx {
            file,
            lines: Lines::new(text),
            diags: Vec::new(),
            locales: Vec::new(),
        }
    }

    fn push(&mut self, span: &Range<usize>, severity: Severity, message: String) {
        let (line, column) = self.lines.position(span.start);
        self.diags.push(Diagnostic {
            file: self.file.to_owned(),
            line,
            column,
            severity,
            message,
        });
    }

    fn error(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(span, Severity::Error, message.into());
    }

    fn warning(&mut self, span: &Range<usize>, message: impl Into<String>) {
        self.push(span, Severity::Warning, message.into());
    }

    fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.severity == Severity::Error)
    }

    fn sorted(&mut self) -> Vec<Diagnostic> {
        let mut d = std::mem::take(&mut self.diags);
        d.sort_by_key(|d| (d.line, d.column));
        d
    }

    fn into_error(mut self) -> LoadError {
        LoadError {
            diagnostics: self.sorted(),
        }
    }

    fn parse<T: std::str::FromStr<Err = crate::ParseIdError>>(
        &mut self,
        s: &Spanned<String>,
    ) -> Option<T> {
        match s.get_ref().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(&s.span(), e.to_string());
                None
            }
        }
    }

    /// Converts text given per locale, requiring every declared locale.
    fn localised(&mut self, raw: &Spanned<RawText>, what: &str) -> Option<Localised> {
        let mut ok = true;
        for (key, value) in raw.get_ref() {
            if !self.locales.iter().any(|l| l.as_str() == key.get_ref()) {
                self.error(
                    &key.span(),
                    format!(
                        "{what} is given in \"{}\", which is not a declared locale",
                        key.get_ref()
                    ),
                );
                ok = false;
            } else if value.get_ref().trim().is_empty() {
                self.error(
                    &value.span(),
                    format!("{what} is empty in locale \"{}\"", key.get_ref()),
                );
                ok = false;
            }
        }
        let mut entries = Vec::with_capacity(self.locales.len());
        for locale in self.locales.clone() {
            match raw
                .get_ref()
                .iter()
                .find(|(k, _)| k.get_ref() == locale.as_str())
            {
                Some((_, v)) => entries.push((locale, v.get_ref().trim().to_owned())),
                None => {
                    self.error(
                        &raw.span(),
                        format!("{what} is missing in locale \"{locale}\""),
                    );
                    ok = false;
                }
            }
        }
        (ok && !entries.is_empty()).then_some(Localised { entries })
    }

    fn optional_localised(
        &mut self,
        raw: &Option<Spanned<RawText>>,
        what: &str,
    ) -> Result<Option<Localised>, ()> {
        match raw {
            None => Ok(None),
            Some(r) => self.localised(r, what).map(Some).ok_or(()),
        }
    }

    fn build(&mut self, raw: RawFile, content_hash: String) -> Option<Questionnaire> {
        let id = self.parse::<QuestionnaireId>(&raw.id);
        let version = match u32::try_from(*raw.version.get_ref()) {
            Ok(v) if v > 0 => Some(v),
            _ => {
                self.error(
                    &raw.version.span(),
                    "version must be a whole number from 1 upwards",
                );
                None
            }
        };

        // Locales come first: every text is checked against them.
        let mut locale_infos = Vec::new();
        for l in &raw.locales {
            let Some(locale) = self.parse::<Locale>(&l.code) else {
                continue;
            };
            if locale_infos.iter().any(|i: &LocaleInfo| i.locale == locale) {
                self.error(
                    &l.code.span(),
                    format!("locale \"{locale}\" is declared twice"),
                );
                continue;
            }
            let rtl = match l.direction.as_ref().map(|d| (d, d.get_ref().as_str())) {
                None | Some((_, "ltr")) => false,
                Some((_, "rtl")) => true,
                Some((d, other)) => {
                    self.error(
                        &d.span(),
                        format!("direction \"{other}\" is not \"ltr\" or \"rtl\""),
                    );
                    false
                }
            };
            if l.name.get_ref().trim().is_empty() {
                self.error(
                    &l.name.span(),
                    "a locale needs its name in its own language",
                );
            }
            locale_infos.push(LocaleInfo {
                locale,
                name: l.name.get_ref().trim().to_owned(),
                rtl,
            });
        }
        if raw.locales.is_empty() {
            self.error(
                &(0..0),
                "no locales are declared; add [[locales]] with code = \"en\", name = \"English\"",
            );
        }
        self.locales = locale_infos.iter().map(|l| l.locale.clone()).collect();
        let default_locale = self.locales.first().cloned();
        let title = self.localised(&raw.title, "the title");

        let mut modules: Vec<Module> = Vec::new();
        for m in &raw.modules {
            let mid = self.parse::<ModuleId>(&m.id);
            let mtitle = self.localised(&m.title, "the module title");
            if let Some(mid) = mid {
                if modules.iter().any(|x| x.id == mid) {
                    self.error(&m.id.span(), format!("duplicate module id \"{mid}\""));
                } else if let Some(title) = mtitle {
                    modules.push(Module {
                        id: mid,
                        title,
                        sensitive: m.sensitive,
                    });
                }
            }
        }
        let module_ids: Vec<String> = raw.modules.iter().map(|m| m.id.get_ref().clone()).collect();

        let mut option_sets: HashMap<String, Option<Vec<AnswerOption>>> = HashMap::new();
        for set in &raw.option_sets {
            let name = set.id.get_ref().clone();
            if option_sets.contains_key(&name) {
                self.error(
                    &set.id.span(),
                    format!("duplicate option set id \"{name}\""),
                );
                continue;
            }
            let converted = self.options(&set.options, None);
            option_sets.insert(name, converted);
        }

        // First pass over questions: ids, so routing can tell an unknown
        // question from a later one, and cycles can be traced.
        let mut seen: HashMap<String, QuestionSeen> = HashMap::new();
        let mut ordinal: usize = 0;
        for q in raw.sections.iter().flat_map(|s| &s.questions) {
            let name = q.id.get_ref().clone();
            match seen.entry(name) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    let message = format!("duplicate question id \"{}\"", e.key());
                    self.error(&q.id.span(), message);
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(QuestionSeen {
                        ordinal: u16::try_from(ordinal).unwrap_or(u16::MAX),
                        show_if: q
                            .show_if
                            .as_ref()
                            .map(|c| c.get_ref().question.get_ref().clone()),
                    });
                }
            }
            ordinal += 1;
        }
        if ordinal > usize::from(u16::MAX) {
            self.error(&(0..0), "a questionnaire can hold at most 65535 questions");
            return None;
        }

        let mut sections: Vec<Section> = Vec::new();
        let mut questions: Vec<Option<Question>> = Vec::new();
        let mut section_ids: Vec<String> = Vec::new();
        let mut sex_question: Option<u16> = None;
        let mut complete = true;
        for (section_index, s) in raw.sections.iter().enumerate() {
            let sid = self.parse::<SectionId>(&s.id);
            if section_ids.contains(s.id.get_ref()) {
                self.error(
                    &s.id.span(),
                    format!("duplicate section id \"{}\"", s.id.get_ref()),
                );
            }
            section_ids.push(s.id.get_ref().clone());
            let theme = self.parse::<Theme>(&s.theme);
            let stitle = self.localised(&s.title, "the section title");
            if s.questions.is_empty() {
                self.error(
                    &s.id.span(),
                    format!(
                        "section \"{}\" is empty; add questions or remove it",
                        s.id.get_ref()
                    ),
                );
            }
            if let Some(m) = &s.module {
                self.check_module_exists(m, &module_ids);
            }
            let section_stages = s.stages.as_ref().map(|st| self.stages(st));
            let start = questions.len();
            for rq in &s.questions {
                let ctx = SectionCx {
                    index: section_index,
                    theme,
                    stages: section_stages,
                    module: s.module.as_ref(),
                };
                let q = self.question(
                    rq,
                    u16::try_from(questions.len()).unwrap_or(u16::MAX),
                    &ctx,
                    &module_ids,
                    &option_sets,
                    &seen,
                    &questions,
                );
                if let Some(q) = &q
                    && q.role == Some(Role::Sex)
                {
                    if sex_question.is_some()
                        && let Some(r) = &rq.role
                    {
                        self.error(&r.span(), "only one question can have role = \"sex\"");
                    }
                    sex_question = Some(q.ordinal);
                }
                questions.push(q);
            }
            match (sid, theme, stitle) {
                (Some(id), Some(theme), Some(title)) => sections.push(Section {
                    id,
                    title,
                    theme,
                    questions: u16::try_from(start).unwrap_or(u16::MAX)
                        ..u16::try_from(questions.len()).unwrap_or(u16::MAX),
                }),
                _ => complete = false,
            }
        }
        if raw.sections.is_empty() {
            self.error(&(0..0), "the questionnaire has no sections");
        }

        let questions: Option<Vec<Question>> = questions.into_iter().collect();
        let scoring = self.rules(&raw, questions.as_deref());
        if let Some(qs) = &questions {
            self.reading_level(qs, &raw);
        }

        if !complete {
            return None;
        }
        Some(Questionnaire {
            id: id?,
            version: version?,
            content_hash,
            title: title?,
            locales: locale_infos,
            default_locale: default_locale?,
            sections,
            modules,
            questions: questions?,
            scoring: scoring?,
            sex_question,
        })
    }

    fn check_module_exists(
        &mut self,
        m: &Spanned<String>,
        module_ids: &[String],
    ) -> Option<ModuleId> {
        let id = self.parse::<ModuleId>(m)?;
        if module_ids.iter().any(|x| x == id.as_str()) {
            Some(id)
        } else {
            self.error(
                &m.span(),
                format!("unknown module \"{id}\"; declare it with [[modules]] first"),
            );
            None
        }
    }

    fn stages(&mut self, raw: &Spanned<Vec<Spanned<String>>>) -> StageSet {
        let mut set = StageSet::EMPTY;
        for word in raw.get_ref() {
            match StageSet::parse_word(word.get_ref()) {
                Ok(s) => set = set.union(s),
                Err(e) => self.error(&word.span(), e.to_string()),
            }
        }
        set
    }

    /// Converts options; `kind` is `None` for option sets (checked again when used).
    fn options(
        &mut self,
        raw: &Spanned<Vec<RawOption>>,
        kind: Option<QuestionKind>,
    ) -> Option<Vec<AnswerOption>> {
        let mut out = Vec::new();
        let mut ok = true;
        for o in raw.get_ref() {
            let code = self.parse::<OptionCode>(&o.code);
            if let Some(c) = &code
                && out.iter().any(|x: &AnswerOption| &x.code == c)
            {
                self.error(&o.code.span(), format!("duplicate option code \"{c}\""));
                ok = false;
            }
            let label = match &o.label {
                Some(l) => {
                    self.localised(l, &format!("the label of option \"{}\"", o.code.get_ref()))
                }
                None => {
                    let msg = if kind == Some(QuestionKind::Scale) || o.emoji.is_some() {
                        format!(
                            "scale point \"{}\" has no text label; every point needs words, even with an emoji",
                            o.code.get_ref()
                        )
                    } else {
                        format!("option \"{}\" has no label", o.code.get_ref())
                    };
                    self.error(&o.code.span(), msg);
                    None
                }
            };
            let read_aloud = self.optional_localised(
                &o.read_aloud,
                &format!("the read-aloud text of option \"{}\"", o.code.get_ref()),
            );
            if o.prefer_not_to_say && o.dont_know {
                self.error(
                    &o.code.span(),
                    format!(
                        "option \"{}\" cannot be both \"prefer not to say\" and \"don't know\"",
                        o.code.get_ref()
                    ),
                );
                ok = false;
            }
            let emoji = match &o.emoji {
                Some(e) if e.get_ref().trim().is_empty() => {
                    self.error(&e.span(), "emoji is empty; remove it or give a picture");
                    ok = false;
                    None
                }
                Some(e) => Some(e.get_ref().trim().to_owned()),
                None => None,
            };
            match (code, label, read_aloud) {
                (Some(code), Some(label), Ok(read_aloud)) => out.push(AnswerOption {
                    code,
                    label,
                    read_aloud,
                    emoji,
                    prefer_not_to_say: o.prefer_not_to_say,
                    dont_know: o.dont_know,
                    exclusive: o.exclusive,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn question(
        &mut self,
        rq: &RawQuestion,
        ordinal: u16,
        section: &SectionCx<'_>,
        module_ids: &[String],
        option_sets: &HashMap<String, Option<Vec<AnswerOption>>>,
        seen: &HashMap<String, QuestionSeen>,
        earlier: &[Option<Question>],
    ) -> Option<Question> {
        let name = rq.id.get_ref().as_str();
        let id = self.parse::<QuestionId>(&rq.id);
        let id_span = rq.id.span();

        let kind = match rq.kind.get_ref().as_str() {
            "single_choice" => Some(QuestionKind::SingleChoice),
            "scale" => Some(QuestionKind::Scale),
            "yes_no" => Some(QuestionKind::YesNo),
            "multiple_choice" => Some(QuestionKind::MultipleChoice),
            "number" => self.number_kind(rq),
            other => {
                self.error(
                    &rq.kind.span(),
                    format!(
                        "unknown kind \"{other}\"; use single_choice, scale, yes_no, multiple_choice or number (there is no free text)"
                    ),
                );
                None
            }
        };

        let text = match &rq.text {
            Some(t) => self.localised(t, &format!("the text of question \"{name}\"")),
            None => {
                self.error(&id_span, format!("question \"{name}\" has no text"));
                None
            }
        };
        let read_aloud = self.optional_localised(
            &rq.read_aloud,
            &format!("the read-aloud text of question \"{name}\""),
        );
        let help =
            self.optional_localised(&rq.help, &format!("the help text of question \"{name}\""));

        let stages = match (&rq.stages, section.stages) {
            (Some(st), _) => Some(self.stages(st)),
            (None, Some(s)) => Some(s),
            (None, None) => {
                self.error(
                    &id_span,
                    format!("question \"{name}\" has no stages, so no stage can see it; add stages = [...] to it or its section"),
                );
                None
            }
        };
        if let (Some(s), Some(raw)) = (stages, &rq.stages)
            && s.is_empty()
            && raw.get_ref().is_empty()
        {
            self.error(
                &raw.span(),
                format!("question \"{name}\" has an empty stage list, so no stage can see it"),
            );
        }
        if stages.is_some_and(|s| s.is_empty()) && rq.stages.is_none() {
            self.error(
                &id_span,
                format!("question \"{name}\" has no stages, so no stage can see it"),
            );
        }

        let module = match (&rq.module, section.module) {
            (Some(m), _) => self.check_module_exists(m, module_ids).map(Some),
            (None, Some(m)) => Some(m.get_ref().parse::<ModuleId>().ok()),
            (None, None) => Some(None),
        };

        let options = self.question_options(rq, kind, option_sets);
        let show_if = self.condition(rq, ordinal, seen, earlier, module.as_ref(), stages);

        // A question may count towards another indicator than its section's
        // (one page can then mix indicators, as the services module does).
        let theme = match &rq.theme {
            Some(t) => self.parse::<Theme>(t),
            None => section.theme,
        };

        let role = match &rq.role {
            None => Some(None),
            Some(r) if r.get_ref() == "sex" => {
                if theme != Some(Theme::AboutYou) {
                    self.error(
                        &r.span(),
                        "the sex question belongs in an \"about_you\" section",
                    );
                }
                if kind != Some(QuestionKind::SingleChoice) {
                    self.error(
                        &r.span(),
                        "the sex question must be a single_choice question",
                    );
                }
                Some(Some(Role::Sex))
            }
            Some(r) => {
                self.error(
                    &r.span(),
                    format!("unknown role \"{}\"; the only role is \"sex\"", r.get_ref()),
                );
                None
            }
        };

        let scoring = self.item_scoring(rq, kind, options.as_deref(), theme);

        Some(Question {
            id: id?,
            ordinal,
            section: section.index,
            theme: theme?,
            kind: kind?,
            text: text?,
            read_aloud: read_aloud.ok()?,
            help: help.ok()?,
            stages: stages.filter(|s| !s.is_empty())?,
            module: module?,
            options: options?,
            show_if: show_if.ok()?,
            role: role?,
            scoring: scoring.ok()?,
        })
    }

    fn number_kind(&mut self, rq: &RawQuestion) -> Option<QuestionKind> {
        let bound = |cx: &mut Self, v: &Option<Spanned<i64>>, which: &str| match v {
            None => {
                cx.error(
                    &rq.kind.span(),
                    format!("a number question needs {which} = ..."),
                );
                None
            }
            Some(v) => match i32::try_from(*v.get_ref()) {
                Ok(n) => Some(n),
                Err(_) => {
                    cx.error(&v.span(), format!("{which} is too large"));
                    None
                }
            },
        };
        let min = bound(self, &rq.min, "min");
        let max = bound(self, &rq.max, "max");
        let (min, max) = (min?, max?);
        if min > max {
            if let Some(m) = &rq.min {
                self.error(
                    &m.span(),
                    format!("min ({min}) is greater than max ({max})"),
                );
            }
            return None;
        }
        Some(QuestionKind::Number { min, max })
    }

    fn question_options(
        &mut self,
        rq: &RawQuestion,
        kind: Option<QuestionKind>,
        option_sets: &HashMap<String, Option<Vec<AnswerOption>>>,
    ) -> Option<Vec<AnswerOption>> {
        let name = rq.id.get_ref();
        let kind = kind?;
        if !kind.has_options() {
            if let Some(o) = &rq.options {
                self.error(&o.span(), "a number question has no options");
            }
            if let Some(o) = &rq.option_set {
                self.error(&o.span(), "a number question has no options");
            }
            return Some(Vec::new());
        }
        if rq.min.is_some() || rq.max.is_some() {
            let span = rq
                .min
                .as_ref()
                .or(rq.max.as_ref())
                .map(|s| s.span())
                .unwrap_or(rq.kind.span());
            self.error(&span, "min and max are only for number questions");
        }
        let (options, span) = match (&rq.options, &rq.option_set) {
            (Some(_), Some(set)) => {
                self.error(
                    &set.span(),
                    format!("question \"{name}\" has both options and option_set; keep one"),
                );
                return None;
            }
            (Some(o), None) => (self.options(o, Some(kind))?, o.span()),
            (None, Some(set)) => match option_sets.get(set.get_ref()) {
                Some(Some(opts)) => (opts.clone(), set.span()),
                Some(None) => return None,
                None => {
                    self.error(
                        &set.span(),
                        format!("unknown option set \"{}\"", set.get_ref()),
                    );
                    return None;
                }
            },
            (None, None) => {
                let what = if kind == QuestionKind::Scale {
                    format!("scale \"{name}\" has no labelled points; give options with labels")
                } else {
                    format!("question \"{name}\" has no options")
                };
                self.error(&rq.id.span(), what);
                return None;
            }
        };
        let mut ok = true;
        if options.len() < 2 {
            let what = if kind == QuestionKind::Scale {
                "a scale needs at least two labelled points"
            } else {
                "a question needs at least two options"
            };
            self.error(&span, what);
            ok = false;
        }
        let limit = if kind == QuestionKind::MultipleChoice {
            MAX_MULTI_OPTIONS
        } else {
            MAX_OPTIONS
        };
        if options.len() > limit {
            self.error(
                &span,
                format!(
                    "a {} question can have at most {limit} options",
                    kind.as_str()
                ),
            );
            ok = false;
        }
        if kind == QuestionKind::YesNo {
            for needed in ["yes", "no"] {
                if !options.iter().any(|o| o.code.as_str() == needed) {
                    self.error(
                        &span,
                        format!("a yes_no question needs an option with code \"{needed}\""),
                    );
                    ok = false;
                }
            }
        }
        ok.then_some(options)
    }

    fn condition(
        &mut self,
        rq: &RawQuestion,
        ordinal: u16,
        seen: &HashMap<String, QuestionSeen>,
        earlier: &[Option<Question>],
        module: Option<&Option<ModuleId>>,
        stages: Option<StageSet>,
    ) -> Result<Option<Condition>, ()> {
        let Some(raw) = &rq.show_if else {
            return Ok(None);
        };
        let cond = raw.get_ref();
        let target_name = cond.question.get_ref();
        let span = cond.question.span();
        let Some(target) = seen.get(target_name) else {
            self.error(
                &span,
                format!("show_if names unknown question \"{target_name}\""),
            );
            return Err(());
        };
        if target_name == rq.id.get_ref() {
            self.error(
                &span,
                format!("question \"{target_name}\" routes on itself: a routing cycle"),
            );
            return Err(());
        }
        if target.ordinal > ordinal {
            // Trace the chain forward to tell a cycle from a plain forward reference.
            let mut chain = vec![rq.id.get_ref().clone(), target_name.clone()];
            let mut cursor = target.show_if.clone();
            let mut cycle = false;
            while let Some(next) = cursor {
                if next == *rq.id.get_ref() {
                    cycle = true;
                    chain.push(next);
                    break;
                }
                if chain.contains(&next) || chain.len() > seen.len() {
                    break;
                }
                cursor = seen.get(&next).and_then(|s| s.show_if.clone());
                chain.push(next);
            }
            if cycle {
                self.error(&span, format!("routing cycle: {}", chain.join(" -> ")));
            } else {
                self.error(
                    &span,
                    format!("show_if names later question \"{target_name}\"; a question can only depend on an earlier one"),
                );
            }
            return Err(());
        }
        // The target is earlier, so it is converted already (unless it had errors).
        let Some(Some(target_q)) = earlier.get(usize::from(target.ordinal)) else {
            return Err(());
        };
        if !target_q.kind.has_options() {
            self.error(
                &span,
                format!(
                    "show_if can only look at a choice question, and \"{target_name}\" is a number"
                ),
            );
            return Err(());
        }
        if cond.any_of.is_empty() {
            self.error(&raw.span(), "show_if needs at least one option in any_of");
            return Err(());
        }
        let mut any_of = Vec::new();
        let mut indices = Vec::new();
        let mut ok = true;
        for code in &cond.any_of {
            match target_q.option_index(code.get_ref()) {
                Some(i) => {
                    any_of.push(target_q.options[usize::from(i)].code.clone());
                    indices.push(i);
                }
                None => {
                    self.error(
                        &code.span(),
                        format!(
                            "show_if names unknown option \"{}\" of question \"{target_name}\"",
                            code.get_ref()
                        ),
                    );
                    ok = false;
                }
            }
        }
        if let Some(module) = module {
            match (module, &target_q.module) {
                (_, None) => {}
                (Some(mine), Some(theirs)) if mine == theirs => {}
                (_, Some(theirs)) => {
                    self.error(
                        &span,
                        format!(
                            "show_if names \"{target_name}\" in module \"{theirs}\", which can be switched off separately; route only on questions in the same module or the core"
                        ),
                    );
                    ok = false;
                }
            }
        }
        if let Some(stages) = stages {
            let unseen =
                StageSet::from_iter(stages.iter().filter(|s| !target_q.stages.contains(*s)));
            if !unseen.is_empty() {
                self.warning(
                    &span,
                    format!("question \"{}\" depends on \"{target_name}\", which {unseen} never see, so they will never see it either", rq.id.get_ref()),
                );
            }
        }
        if !ok {
            return Err(());
        }
        Ok(Some(Condition {
            question: target_q.id.clone(),
            ordinal: target.ordinal,
            any_of,
            indices,
        }))
    }

    fn item_scoring(
        &mut self,
        rq: &RawQuestion,
        kind: Option<QuestionKind>,
        options: Option<&[AnswerOption]>,
        theme: Option<Theme>,
    ) -> Result<Option<ItemScoring>, ()> {
        let name = rq.id.get_ref();
        let any_span = rq
            .score
            .as_ref()
            .map(|s| s.span())
            .or(rq.score_range.as_ref().map(|s| s.span()));
        let Some(any_span) = any_span else {
            return Ok(None);
        };
        if theme == Some(Theme::AboutYou) {
            self.error(&any_span, "about_you questions are not scored");
            return Err(());
        }
        let Some(kind) = kind else { return Err(()) };
        if let Some(range) = &rq.score_range {
            let QuestionKind::Number { min, max } = kind else {
                self.error(
                    &range.span(),
                    "score_range is only for number questions; use score = { code = points }",
                );
                return Err(());
            };
            if rq.score.is_some() {
                self.error(&range.span(), "give score or score_range, not both");
                return Err(());
            }
            let r = range.get_ref();
            let mut bound = |v: &Option<Spanned<i64>>, default: i32| -> Result<i32, ()> {
                match v {
                    None => Ok(default),
                    Some(v) => match i32::try_from(*v.get_ref()) {
                        Ok(n) if n >= min && n <= max => Ok(n),
                        _ => {
                            self.error(
                                &v.span(),
                                format!("score_range bound must lie within {min} to {max}"),
                            );
                            Err(())
                        }
                    },
                }
            };
            let from = bound(&r.from, min)?;
            let to = bound(&r.to, max)?;
            if from > to {
                self.error(
                    &range.span(),
                    "score_range runs backwards (from is after to)",
                );
                return Err(());
            }
            return Ok(Some(ItemScoring::Range { from, to }));
        }
        let Some(score) = &rq.score else {
            return Err(());
        };
        match kind {
            QuestionKind::Number { .. } => {
                self.error(
                    &score.span(),
                    "a number question is scored with score_range = { from = ..., to = ... }",
                );
                return Err(());
            }
            QuestionKind::MultipleChoice => {
                self.error(&score.span(), "multiple-choice questions cannot be scored");
                return Err(());
            }
            _ => {}
        }
        let options = options.ok_or(())?;
        let mut points: Vec<Option<u32>> = vec![None; options.len()];
        let mut ok = true;
        for (code, value) in score.get_ref() {
            let Some(i) = options
                .iter()
                .position(|o| o.code.as_str() == code.get_ref())
            else {
                self.error(
                    &code.span(),
                    format!(
                        "score names unknown option \"{}\" of question \"{name}\"",
                        code.get_ref()
                    ),
                );
                ok = false;
                continue;
            };
            let option = &options[i];
            if option.prefer_not_to_say || option.dont_know {
                self.error(
                    &code.span(),
                    format!("option \"{}\" is \"prefer not to say\" or \"don't know\" and scores nothing; remove it from score", code.get_ref()),
                );
                ok = false;
                continue;
            }
            match u32::try_from(*value.get_ref()) {
                Ok(p) if i64::from(p) <= MAX_POINTS => points[i] = Some(p),
                _ => {
                    self.error(
                        &value.span(),
                        format!("points must be a whole number from 0 to {MAX_POINTS}"),
                    );
                    ok = false;
                }
            }
        }
        for (o, p) in options.iter().zip(&points) {
            if p.is_none() && !o.prefer_not_to_say && !o.dont_know && ok {
                self.error(
                    &score.span(),
                    format!(
                        "score gives no points for option \"{}\"; score every option, or mark it prefer_not_to_say or dont_know",
                        o.code
                    ),
                );
                ok = false;
            }
        }
        let max = points.iter().flatten().copied().max().unwrap_or(0);
        if ok && max == 0 {
            self.error(&score.span(), "score gives no option any points");
            ok = false;
        }
        if ok {
            Ok(Some(ItemScoring::Points { points, max }))
        } else {
            Err(())
        }
    }

    fn rules(
        &mut self,
        raw: &RawFile,
        questions: Option<&[Question]>,
    ) -> Option<Vec<IndicatorRule>> {
        let mut rules: Vec<IndicatorRule> = Vec::new();
        let mut ok = true;
        let mut scored: BTreeMap<Indicator, usize> = BTreeMap::new();
        if let Some(qs) = questions {
            for q in qs.iter().filter(|q| q.scoring.is_some()) {
                if let Some(i) = q.theme.indicator() {
                    *scored.entry(i).or_default() += 1;
                }
            }
        }
        for r in &raw.scoring {
            let Some(indicator) = self.parse::<Indicator>(&r.indicator) else {
                ok = false;
                continue;
            };
            if rules.iter().any(|x| x.indicator == indicator) {
                self.error(
                    &r.indicator.span(),
                    format!("indicator \"{indicator}\" has two scoring rules"),
                );
                ok = false;
                continue;
            }
            let positive_at = *r.positive_at.get_ref();
            if !(positive_at > 0.0 && positive_at <= 1.0) {
                self.error(
                    &r.positive_at.span(),
                    "positive_at is a mean item score, above 0 and at most 1",
                );
                ok = false;
            }
            let min_answered = match u16::try_from(*r.min_answered.get_ref()) {
                Ok(n) if n >= 1 => n,
                _ => {
                    self.error(
                        &r.min_answered.span(),
                        "min_answered must be a whole number from 1 upwards",
                    );
                    ok = false;
                    1
                }
            };
            if questions.is_some() {
                let n = scored.get(&indicator).copied().unwrap_or(0);
                if n == 0 {
                    self.error(
                        &r.indicator.span(),
                        format!("no question scores towards \"{indicator}\""),
                    );
                    ok = false;
                } else if usize::from(min_answered) > n {
                    self.error(
                        &r.min_answered.span(),
                        format!("min_answered is {min_answered} but only {n} questions score towards \"{indicator}\""),
                    );
                    ok = false;
                }
            }
            rules.push(IndicatorRule {
                indicator,
                positive_at,
                min_answered,
            });
        }
        if let Some(qs) = questions {
            for (indicator, _) in scored {
                if !rules.iter().any(|r| r.indicator == indicator) {
                    let first = qs
                        .iter()
                        .find(|q| q.scoring.is_some() && q.theme.indicator() == Some(indicator))
                        .map(|q| usize::from(q.ordinal));
                    let span = first
                        .and_then(|o| raw.sections.iter().flat_map(|s| &s.questions).nth(o))
                        .and_then(|rq| {
                            rq.score
                                .as_ref()
                                .map(|s| s.span())
                                .or(rq.score_range.as_ref().map(|s| s.span()))
                        })
                        .unwrap_or(0..0);
                    self.error(
                        &span,
                        format!("questions score towards \"{indicator}\" but there is no [[scoring]] rule for it"),
                    );
                    ok = false;
                }
            }
        }
        rules.sort_by_key(|r| r.indicator);
        ok.then_some(rules)
    }

    /// Warns when a question's default-locale words read above its band's
    /// level: its text; its help, read as a pupil reads it (the question,
    /// the help, then each answer as a sentence); and each answer's words.
    /// The formula needs sentences, and a label of one to four words says
    /// little on its own ("Disagree" alone would score as a university
    /// text), so a label is held to the band's longest word instead.
    fn reading_level(&mut self, questions: &[Question], raw: &RawFile) {
        let raw_questions: Vec<&RawQuestion> =
            raw.sections.iter().flat_map(|s| &s.questions).collect();
        for q in questions {
            let band = if q.stages.touches(Band::Primary) {
                Band::Primary
            } else {
                Band::Secondary
            };
            let limit = readability::max_grade(band);
            let rq = raw_questions.get(usize::from(q.ordinal)).copied();
            let text = q.text.default_text();
            let grade = readability::grade(text);
            if grade > limit {
                let span = rq
                    .and_then(|rq| rq.text.as_ref().map(|t| t.span()))
                    .unwrap_or(0..0);
                self.warning(
                    &span,
                    format!(
                        "question \"{}\" reads at Flesch-Kincaid grade {grade:.1}, above the {band} limit of {limit:.1}; use shorter words and sentences",
                        q.id
                    ),
                );
            }
            if let Some(help) = &q.help {
                let mut passage = vec![sentence(text), sentence(help.default_text())];
                passage.extend(q.options.iter().map(|o| sentence(o.label.default_text())));
                let grade = readability::grade(&passage.join(" "));
                if grade > limit {
                    let span = rq
                        .and_then(|rq| rq.help.as_ref().map(|h| h.span()))
                        .unwrap_or(0..0);
                    self.warning(
                        &span,
                        format!(
                            "the help of question \"{}\", read with the question and its answers, reads at Flesch-Kincaid grade {grade:.1}, above the {band} limit of {limit:.1}; use shorter words and sentences",
                            q.id
                        ),
                    );
                }
            }
            let options_span = rq
                .and_then(|rq| {
                    rq.options
                        .as_ref()
                        .map(|o| o.span())
                        .or(rq.option_set.as_ref().map(|o| o.span()))
                })
                .unwrap_or(0..0);
            for option in &q.options {
                let label = option.label.default_text();
                if let Some(problem) = readability::label_problem(label, band) {
                    self.warning(
                        &options_span,
                        format!("the answer \"{label}\" of question \"{}\" {problem}", q.id),
                    );
                }
            }
        }
    }
}

/// `text` ending as a sentence, so the formula counts it as one.
fn sentence(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() || text.ends_with(['.', '?', '!']) {
        text.to_owned()
    } else {
        format!("{text}.")
    }
}

struct SectionCx<'r> {
    index: usize,
    theme: Option<Theme>,
    stages: Option<StageSet>,
    module: Option<&'r Spanned<String>>,
}
