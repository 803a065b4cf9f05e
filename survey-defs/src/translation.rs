//! Translation files: one language's words for one source (a questionnaire, or
//! the server's pupil-facing strings), kept apart from the English so that
//! adding or correcting a translation never changes the English file, its
//! content hash or its version.
//!
//! Each translated text records `source`, a short SHA-256 of the English it was
//! translated from ([`source_hash`]). When the English changes, the hashes no
//! longer match and the text is *stale*: it is reported, and the English is
//! shown in its place until the translation is brought up to date.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::ids::Locale;
use crate::load::{Diagnostic, LoadError, Severity};

/// How many hex digits of the SHA-256 a translated text keeps of its English:
/// 12 (48 bits) tell any two wordings apart and stay readable in the file.
const SOURCE_HASH_LEN: usize = 12;

/// The short SHA-256 (12 hex digits) of an English text, trimmed, that a
/// translated text records as its `source`.
pub fn source_hash(english: &str) -> String {
    let digest = hex::encode(Sha256::digest(english.trim().as_bytes()));
    digest[..SOURCE_HASH_LEN].to_owned()
}

/// Whether a qualified translator has checked a translation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Not yet checked by a qualified reviewer. Pupils see it.
    Draft,
    /// Checked by a qualified reviewer, named, on a date (`YYYY-MM-DD`).
    Reviewed { by: String, on: String },
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Draft => f.write_str("draft"),
            Status::Reviewed { by, on } => write!(f, "reviewed by {by} on {on}"),
        }
    }
}

/// One translated text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslatedText {
    pub text: String,
    /// [`source_hash`] of the English it was translated from; `None` in files
    /// written by hand without one, which can never be known to be fresh.
    pub source: Option<String>,
    /// 1-based line of the entry in its file.
    pub line: usize,
}

/// A parsed translation file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslationFile {
    /// The name diagnostics use for the file.
    pub file: String,
    pub code: Locale,
    /// The language's name in its own language ("Polski").
    pub name: String,
    pub rtl: bool,
    /// The questionnaire id it translates; `None` for pupil-facing strings.
    pub questionnaire: Option<String>,
    /// `None` when the file does not say (the English source itself, or an
    /// older hand-made file); such a translation counts as a draft.
    pub status: Option<Status>,
    pub strings: BTreeMap<String, TranslatedText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTranslation {
    code: Spanned<String>,
    name: Spanned<String>,
    dir: Spanned<String>,
    questionnaire: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    reviewed_by: Option<Spanned<String>>,
    reviewed_on: Option<Spanned<String>>,
    #[serde(default)]
    strings: BTreeMap<String, Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawEntry {
    Plain(String),
    Sourced { text: String, source: String },
}

/// Turns byte offsets into 1-based lines and columns.
pub(crate) struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line, column + 1)
    }
}

impl TranslationFile {
    /// Parses a translation file; `file` only labels diagnostics. Every problem
    /// is reported at its line.
    pub fn parse(file: &str, text: &str) -> Result<Self, LoadError> {
        let lines = Lines::new(text);
        let mut diagnostics = Vec::new();
        let mut error = |span: std::ops::Range<usize>, message: String| {
            let (line, column) = lines.position(span.start);
            diagnostics.push(Diagnostic {
                file: file.to_owned(),
                line,
                column,
                severity: Severity::Error,
                message,
            });
        };
        let raw: RawTranslation = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let message = e.message().trim().replace('\n', "; ");
                error(e.span().unwrap_or(0..0), message);
                return Err(LoadError { diagnostics });
            }
        };
        let code = match raw.code.get_ref().parse::<Locale>() {
            Ok(code) => Some(code),
            Err(e) => {
                error(raw.code.span(), e.to_string());
                None
            }
        };
        if raw.name.get_ref().trim().is_empty() {
            error(
                raw.name.span(),
                "a language needs its name in its own language".to_owned(),
            );
        }
        let rtl = match raw.dir.get_ref().as_str() {
            "ltr" => false,
            "rtl" => true,
            other => {
                error(
                    raw.dir.span(),
                    format!("dir must be \"ltr\" or \"rtl\", not \"{other}\""),
                );
                false
            }
        };
        let status = match raw.status.as_ref().map(|s| (s, s.get_ref().as_str())) {
            None => None,
            Some((_, "draft")) => {
                if let Some(by) = raw.reviewed_by.as_ref().or(raw.reviewed_on.as_ref()) {
                    error(
                        by.span(),
                        "a draft has no reviewer: remove reviewed_by and reviewed_on, or set status = \"reviewed\"".to_owned(),
                    );
                }
                Some(Status::Draft)
            }
            Some((s, "reviewed")) => match (&raw.reviewed_by, &raw.reviewed_on) {
                (Some(by), Some(on)) => {
                    if by.get_ref().trim().is_empty() {
                        error(by.span(), "reviewed_by is empty".to_owned());
                    }
                    if !is_date(on.get_ref()) {
                        error(
                            on.span(),
                            format!(
                                "reviewed_on must be a date written YYYY-MM-DD, not \"{}\"",
                                on.get_ref()
                            ),
                        );
                    }
                    Some(Status::Reviewed {
                        by: by.get_ref().trim().to_owned(),
                        on: on.get_ref().clone(),
                    })
                }
                _ => {
                    error(
                        s.span(),
                        "a reviewed translation names its reviewer and the date: add reviewed_by = \"NAME\" and reviewed_on = \"YYYY-MM-DD\"".to_owned(),
                    );
                    None
                }
            },
            Some((s, other)) => {
                error(
                    s.span(),
                    format!("status must be \"draft\" or \"reviewed\", not \"{other}\""),
                );
                None
            }
        };
        let mut strings = BTreeMap::new();
        for (key, entry) in raw.strings {
            let (line, _) = lines.position(entry.span().start);
            let (text, source) = match entry.get_ref() {
                RawEntry::Plain(text) => (text.trim().to_owned(), None),
                RawEntry::Sourced { text, source } => {
                    (text.trim().to_owned(), Some(source.trim().to_owned()))
                }
            };
            if text.is_empty() {
                error(
                    entry.span(),
                    format!("the text of \"{key}\" is empty; leave the entry out instead"),
                );
                continue;
            }
            strings.insert(key, TranslatedText { text, source, line });
        }
        match code {
            Some(code) if diagnostics.is_empty() => Ok(Self {
                file: file.to_owned(),
                code,
                name: raw.name.get_ref().trim().to_owned(),
                rtl,
                questionnaire: raw.questionnaire.map(|q| q.into_inner()),
                status,
                strings,
            }),
            _ => Err(LoadError { diagnostics }),
        }
    }

    /// The translation of `id` to show for `english`: `None` when there is
    /// none, or when it was made from other English (stale). A text with no
    /// recorded `source` is shown, since nothing says it is stale, and
    /// [`Coverage::unsourced`] lists it.
    pub fn shown(&self, id: &str, english: &str) -> Option<&str> {
        self.strings
            .get(id)
            .filter(|t| {
                t.source
                    .as_deref()
                    .is_none_or(|s| s == source_hash(english))
            })
            .map(|t| t.text.as_str())
    }

    /// The translation of `id` when it was made from this very `english`.
    pub fn fresh(&self, id: &str, english: &str) -> Option<&str> {
        self.strings
            .get(id)
            .filter(|t| t.source.as_deref() == Some(source_hash(english).as_str()))
            .map(|t| t.text.as_str())
    }

    /// What the file covers of `sources` (id and English, in order).
    pub fn coverage<'s>(&self, sources: impl IntoIterator<Item = (&'s str, &'s str)>) -> Coverage {
        let mut coverage = Coverage::default();
        let mut known = std::collections::BTreeSet::new();
        for (id, english) in sources {
            known.insert(id);
            coverage.total += 1;
            match self.strings.get(id) {
                None => coverage.missing.push(id.to_owned()),
                Some(t) => match &t.source {
                    Some(s) if *s == source_hash(english) => coverage.translated += 1,
                    Some(_) => coverage.stale.push((id.to_owned(), t.line)),
                    None => coverage.unsourced.push((id.to_owned(), t.line)),
                },
            }
        }
        coverage.unknown = self
            .strings
            .iter()
            .filter(|(id, _)| !known.contains(id.as_str()))
            .map(|(id, t)| (id.clone(), t.line))
            .collect();
        coverage
    }

    /// The file as TOML, entries in the order of `order` (ids it lacks are
    /// left out), with a comment saying what the status means.
    pub fn to_toml<'o>(&self, order: impl IntoIterator<Item = &'o str>) -> String {
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let mut out = String::new();
        match &self.status {
            Some(Status::Reviewed { .. }) => out.push_str(
                "# Reviewed translation: a qualified translator checked it on the date below.\n",
            ),
            _ => out.push_str(
                "# DRAFT translation, made without a qualified reviewer. Pupils see it, but\n\
                 # it stays `status = \"draft\"` until a qualified translator has checked\n\
                 # every text and is named in `reviewed_by` with `reviewed_on`.\n",
            ),
        }
        out.push_str(
            "# Each entry's `source` is the short SHA-256 of the English it was translated\n\
             # from: when the English changes, the entry is stale and the English shows.\n\
             # Edit with `survey-defs translations export` and `import` (see\n\
             # survey-defs/FORMAT.md).\n",
        );
        out.push_str(&format!("code = {}\n", quote(self.code.as_str())));
        out.push_str(&format!("name = {}\n", quote(&self.name)));
        out.push_str(&format!(
            "dir = \"{}\"\n",
            if self.rtl { "rtl" } else { "ltr" }
        ));
        if let Some(q) = &self.questionnaire {
            out.push_str(&format!("questionnaire = {}\n", quote(q)));
        }
        match &self.status {
            Some(Status::Reviewed { by, on }) => out.push_str(&format!(
                "status = \"reviewed\"\nreviewed_by = {}\nreviewed_on = {}\n",
                quote(by),
                quote(on)
            )),
            _ => out.push_str("status = \"draft\"\n"),
        }
        out.push_str("\n[strings]\n");
        for id in order {
            if let Some(t) = self.strings.get(id) {
                match &t.source {
                    Some(source) => out.push_str(&format!(
                        "{} = {{ text = {}, source = {} }}\n",
                        quote(id),
                        quote(&t.text),
                        quote(source)
                    )),
                    None => out.push_str(&format!("{} = {}\n", quote(id), quote(&t.text))),
                }
            }
        }
        out
    }
}

/// How much of a source a translation covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Texts in the source.
    pub total: usize,
    /// Texts translated from the current English.
    pub translated: usize,
    /// Ids with no translation.
    pub missing: Vec<String>,
    /// Ids translated from other English, with their line; the English shows.
    pub stale: Vec<(String, usize)>,
    /// Ids with no recorded `source`, with their line: shown, but nothing
    /// tells whether they are stale.
    pub unsourced: Vec<(String, usize)>,
    /// Ids the source does not have, with their line.
    pub unknown: Vec<(String, usize)>,
}

impl Coverage {
    pub fn is_complete(&self) -> bool {
        self.translated == self.total && self.unknown.is_empty()
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u8>(), Ok(1..=31))
}

/// The placeholders (`{name}`) in a text, sorted, for checking that a
/// translation keeps every one.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                found.push(&rest[open..open + close + 2]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    found.sort_unstable();
    found
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const PL: &str = "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\nstatus = \"draft\"\n[strings]\n\"survey.next\" = { text = \"Dalej\", source = \"SRC\" }\n\"survey.back\" = \"Wstecz\"\n";

    fn polish() -> TranslationFile {
        let text = PL.replace("SRC", &source_hash("Next"));
        TranslationFile::parse("pl.toml", &text).unwrap()
    }

    #[test]
    fn source_hash_is_short_and_ignores_surrounding_space() {
        assert_eq!(source_hash("Next").len(), 12);
        assert_eq!(source_hash(" Next\n"), source_hash("Next"));
        assert_ne!(source_hash("Next"), source_hash("next"));
    }

    #[test]
    fn a_translation_is_fresh_only_for_the_english_it_was_made_from() {
        let pl = polish();
        assert_eq!(pl.fresh("survey.next", "Next"), Some("Dalej"));
        assert_eq!(pl.fresh("survey.next", "Next page"), None);
        // No source recorded: never known to be fresh, but shown.
        assert_eq!(pl.fresh("survey.back", "Back"), None);
        assert_eq!(pl.shown("survey.back", "Back"), Some("Wstecz"));
        assert_eq!(pl.shown("survey.next", "Next page"), None);
        assert_eq!(pl.status, Some(Status::Draft));
    }

    #[test]
    fn coverage_counts_missing_stale_and_unknown_texts() {
        let pl = polish();
        let c = pl.coverage([("survey.next", "Next page"), ("review.finish", "Finish")]);
        assert_eq!(c.total, 2);
        assert_eq!(c.translated, 0);
        assert_eq!(c.missing, vec!["review.finish".to_owned()]);
        assert_eq!(c.stale, vec![("survey.next".to_owned(), 6)]);
        assert_eq!(c.unknown, vec![("survey.back".to_owned(), 7)]);
        assert!(!c.is_complete());
        let c = pl.coverage([("survey.next", "Next"), ("survey.back", "Back")]);
        assert_eq!((c.translated, c.stale.len()), (1, 0));
        assert_eq!(c.unsourced, vec![("survey.back".to_owned(), 7)]);
    }

    #[test]
    fn a_reviewed_translation_names_its_reviewer_and_date() {
        let base = "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\n";
        let e = TranslationFile::parse("pl.toml", &format!("{base}status = \"reviewed\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("pl.toml:4:10: error: a reviewed"), "{e}");
        let e = TranslationFile::parse(
            "pl.toml",
            &format!("{base}status = \"reviewed\"\nreviewed_by = \"A\"\nreviewed_on = \"1 May\"\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("pl.toml:6:15: error: reviewed_on must be"),
            "{e}"
        );
        let ok = TranslationFile::parse(
            "pl.toml",
            &format!(
                "{base}status = \"reviewed\"\nreviewed_by = \"A. Nowak\"\nreviewed_on = \"2026-11-30\"\n"
            ),
        )
        .unwrap();
        assert_eq!(
            ok.status.unwrap().to_string(),
            "reviewed by A. Nowak on 2026-11-30"
        );
        let e = TranslationFile::parse("pl.toml", &format!("{base}status = \"finished\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("4:10: error: status must be"), "{e}");
    }

    #[test]
    fn bad_files_are_reported_at_their_line() {
        let e = TranslationFile::parse(
            "x.toml",
            "code = \"PL\"\nname = \"\"\ndir = \"up\"\n[strings]\n\"a\" = \" \"\n",
        )
        .unwrap_err()
        .to_string();
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 4, "{e}");
        assert!(lines[0].starts_with("x.toml:1:8: error:"), "{e}");
        assert!(
            lines[1].starts_with("x.toml:2:8: error: a language needs"),
            "{e}"
        );
        assert!(
            lines[2].starts_with("x.toml:3:7: error: dir must be"),
            "{e}"
        );
        assert!(
            lines[3].starts_with("x.toml:5:7: error: the text of \"a\" is empty"),
            "{e}"
        );
    }

    #[test]
    fn written_files_read_back_the_same() {
        let pl = polish();
        let text = pl.to_toml(["survey.back", "survey.next", "not.there"]);
        assert!(text.contains("DRAFT translation, made without a qualified reviewer"));
        let back = TranslationFile::parse("pl.toml", &text).unwrap();
        assert_eq!(back.strings.len(), 2);
        assert_eq!(back.fresh("survey.next", "Next"), Some("Dalej"));
        assert_eq!(back.code, pl.code);
        assert_eq!(back.status, Some(Status::Draft));
        assert!(text.find("survey.back").unwrap() < text.find("survey.next").unwrap());
    }

    #[test]
    fn placeholders_are_found_and_sorted() {
        assert_eq!(placeholders("Page {n} of {total}"), vec!["{n}", "{total}"]);
        assert_eq!(placeholders("{total} / {n}"), vec!["{n}", "{total}"]);
        assert!(placeholders("no { placeholders } {} here").is_empty());
    }
}
