//! The translatable texts of a questionnaire file, each with a stable id, and
//! the loading of a questionnaire together with its translation files.
//!
//! Ids name where a text sits, so they survive reordering:
//! `title`, `module.ID.title`, `section.ID.title`, `question.ID.text`,
//! `question.ID.read_aloud`, `question.ID.help`, `question.ID.CODE.label`,
//! `question.ID.CODE.read_aloud`, `option_set.ID.CODE.label` and
//! `option_set.ID.CODE.read_aloud`.

use toml::Spanned;

use crate::load::{Diagnostic, LoadError, Loaded, Severity, build_raw, parse_raw};
use crate::raw::{RawFile, RawLocale, RawOption, RawText};
use crate::translation::{Coverage, Lines, TranslationFile};

/// One text to translate, in the questionnaire's default locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    pub id: String,
    pub english: String,
    /// 1-based line of the text in the questionnaire file.
    pub line: usize,
}

/// A questionnaire loaded with its translations, and what each covers.
#[derive(Debug, Clone)]
pub struct Translated {
    pub loaded: Loaded,
    /// One per translation applied, in the order given.
    pub coverage: Vec<(TranslationFile, Coverage)>,
}

fn visit_options(
    prefix: &str,
    options: &mut [RawOption],
    f: &mut dyn FnMut(String, &mut Spanned<RawText>),
) {
    for o in options {
        let code = o.code.get_ref().clone();
        if let Some(label) = &mut o.label {
            f(format!("{prefix}.{code}.label"), label);
        }
        if let Some(read_aloud) = &mut o.read_aloud {
            f(format!("{prefix}.{code}.read_aloud"), read_aloud);
        }
    }
}

/// Calls `f` with every translatable text of the file and its id, in file order.
fn visit(raw: &mut RawFile, f: &mut dyn FnMut(String, &mut Spanned<RawText>)) {
    f("title".to_owned(), &mut raw.title);
    for m in &mut raw.modules {
        f(format!("module.{}.title", m.id.get_ref()), &mut m.title);
    }
    for set in &mut raw.option_sets {
        let prefix = format!("option_set.{}", set.id.get_ref());
        visit_options(&prefix, set.options.get_mut(), f);
    }
    for s in &mut raw.sections {
        f(format!("section.{}.title", s.id.get_ref()), &mut s.title);
        for q in &mut s.questions {
            let prefix = format!("question.{}", q.id.get_ref());
            for (field, text) in [
                ("text", &mut q.text),
                ("read_aloud", &mut q.read_aloud),
                ("help", &mut q.help),
            ] {
                if let Some(text) = text {
                    f(format!("{prefix}.{field}"), text);
                }
            }
            if let Some(options) = &mut q.options {
                visit_options(&prefix, options.get_mut(), f);
            }
        }
    }
}

/// The default locale's text of every translatable text in the file.
fn sources(raw: &mut RawFile, lines: &Lines<'_>) -> Vec<SourceText> {
    let Some(default) = raw.locales.first().map(|l| l.code.get_ref().clone()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    visit(raw, &mut |id, text| {
        if let Some((_, english)) = text.get_ref().iter().find(|(k, _)| k.get_ref() == &default) {
            out.push(SourceText {
                id,
                english: english.get_ref().trim().to_owned(),
                line: lines.position(english.span().start).0,
            });
        }
    });
    out
}

/// Every text of a questionnaire file that a translation needs, in file
/// order, with its id and its text in the default locale (English).
pub fn source_texts(file_name: &str, text: &str) -> Result<Vec<SourceText>, LoadError> {
    let mut raw = parse_raw(file_name, text)?;
    Ok(sources(&mut raw, &Lines::new(text)))
}

/// Loads a questionnaire with translations of it, each adding its language.
/// A text whose translation is missing or stale is given in the default
/// locale (English) instead, so a pupil never sees a blank or a wording that
/// no longer matches the question; `coverage` says which. The content hash
/// stays that of the questionnaire file alone.
pub fn load_translated(
    file_name: &str,
    text: &str,
    translations: &[TranslationFile],
) -> Result<Translated, LoadError> {
    let mut raw = parse_raw(file_name, text)?;
    let source = sources(&mut raw, &Lines::new(text));
    let mut diagnostics = Vec::new();
    let mut coverage = Vec::new();
    let declared: Vec<String> = raw
        .locales
        .iter()
        .map(|l| l.code.get_ref().clone())
        .collect();
    for t in translations {
        let at = |message: String| Diagnostic {
            file: t.file.clone(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            message,
        };
        if t.questionnaire.as_deref() != Some(raw.id.get_ref().as_str()) {
            diagnostics.push(at(format!(
                "this translation is of questionnaire \"{}\", not \"{}\"",
                t.questionnaire
                    .as_deref()
                    .unwrap_or("(none: add questionnaire = \"ID\")"),
                raw.id.get_ref()
            )));
            continue;
        }
        if declared.iter().any(|d| d == t.code.as_str())
            || coverage
                .iter()
                .any(|(c, _): &(TranslationFile, Coverage)| c.code == t.code)
        {
            diagnostics.push(at(format!(
                "locale \"{}\" is given twice: in {file_name} or another translation file",
                t.code
            )));
            continue;
        }
        let locale = t.code.as_str().to_owned();
        let Some(default) = declared.first().cloned() else {
            continue;
        };
        visit(&mut raw, &mut |id, texts| {
            let entry = texts
                .get_ref()
                .iter()
                .find(|(k, _)| k.get_ref() == &default)
                .map(|(k, v)| (k.span(), v.span(), v.get_ref().clone()));
            if let Some((key_span, value_span, english)) = entry {
                let shown = t
                    .fresh(&id, &english)
                    .map_or(english.clone(), str::to_owned);
                texts.get_mut().insert(
                    Spanned::new(key_span, locale.clone()),
                    Spanned::new(value_span, shown),
                );
            }
        });
        raw.locales.push(RawLocale {
            code: Spanned::new(0..0, locale),
            name: Spanned::new(0..0, t.name.clone()),
            direction: Some(Spanned::new(
                0..0,
                if t.rtl { "rtl" } else { "ltr" }.to_owned(),
            )),
        });
        let c = t.coverage(source.iter().map(|s| (s.id.as_str(), s.english.as_str())));
        coverage.push((t.clone(), c));
    }
    if !diagnostics.is_empty() {
        return Err(LoadError { diagnostics });
    }
    let loaded = build_raw(file_name, text, raw)?;
    Ok(Translated { loaded, coverage })
}

/// Loads a questionnaire with those of `translations` that are of it (by
/// questionnaire id); the others are left alone.
pub fn load_with_translations(
    file_name: &str,
    text: &str,
    translations: &[TranslationFile],
) -> Result<Translated, LoadError> {
    let id = parse_raw(file_name, text)?.id.into_inner();
    let own: Vec<TranslationFile> = translations
        .iter()
        .filter(|t| t.questionnaire.as_deref() == Some(id.as_str()))
        .cloned()
        .collect();
    load_translated(file_name, text, &own)
}
