//! The file as written: a loose, span-carrying deserialisation layer. Every
//! field that needs checking is kept as text or a plain number with its span,
//! so the loader can report every problem at its line instead of stopping at
//! the first.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

pub(crate) type RawText = BTreeMap<Spanned<String>, Spanned<String>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub id: Spanned<String>,
    pub version: Spanned<i64>,
    pub title: Spanned<RawText>,
    #[serde(default)]
    pub locales: Vec<RawLocale>,
    #[serde(default)]
    pub modules: Vec<RawModule>,
    #[serde(default)]
    pub option_sets: Vec<RawOptionSet>,
    #[serde(default)]
    pub scoring: Vec<RawRule>,
    #[serde(default)]
    pub sections: Vec<RawSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLocale {
    pub code: Spanned<String>,
    pub name: Spanned<String>,
    pub direction: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModule {
    pub id: Spanned<String>,
    pub title: Spanned<RawText>,
    #[serde(default)]
    pub sensitive: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOptionSet {
    pub id: Spanned<String>,
    pub options: Spanned<Vec<RawOption>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOption {
    pub code: Spanned<String>,
    pub label: Option<Spanned<RawText>>,
    pub read_aloud: Option<Spanned<RawText>>,
    pub emoji: Option<Spanned<String>>,
    #[serde(default)]
    pub prefer_not_to_say: bool,
    #[serde(default)]
    pub dont_know: bool,
    #[serde(default)]
    pub exclusive: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub indicator: Spanned<String>,
    pub positive_at: Spanned<f64>,
    pub min_answered: Spanned<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSection {
    pub id: Spanned<String>,
    pub title: Spanned<RawText>,
    pub theme: Spanned<String>,
    pub stages: Option<Spanned<Vec<Spanned<String>>>>,
    pub module: Option<Spanned<String>>,
    #[serde(default)]
    pub questions: Vec<RawQuestion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQuestion {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub text: Option<Spanned<RawText>>,
    pub read_aloud: Option<Spanned<RawText>>,
    pub help: Option<Spanned<RawText>>,
    pub stages: Option<Spanned<Vec<Spanned<String>>>>,
    pub module: Option<Spanned<String>>,
    /// Counts towards this theme's indicator instead of the section's.
    pub theme: Option<Spanned<String>>,
    pub options: Option<Spanned<Vec<RawOption>>>,
    pub option_set: Option<Spanned<String>>,
    pub min: Option<Spanned<i64>>,
    pub max: Option<Spanned<i64>>,
    pub show_if: Option<Spanned<RawCondition>>,
    pub role: Option<Spanned<String>>,
    pub score: Option<Spanned<BTreeMap<Spanned<String>, Spanned<i64>>>>,
    pub score_range: Option<Spanned<RawRange>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCondition {
    pub question: Spanned<String>,
    pub any_of: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRange {
    pub from: Option<Spanned<i64>>,
    pub to: Option<Spanned<i64>>,
}
