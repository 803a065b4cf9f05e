//! Pupil-facing words, from locale files: English ships inside the binary, and
//! more can be added from a directory (`LOCALES`). A locale that lacks a key
//! falls back to English, so a partial translation never shows a blank.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

const ENGLISH: &str = include_str!("../../locales/en.toml");

#[derive(Debug, Clone, Deserialize)]
struct LocaleFile {
    code: String,
    name: String,
    dir: String,
    strings: BTreeMap<String, String>,
}

/// One locale's words, complete after falling back to English.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Strings {
    pub code: String,
    pub name: String,
    pub dir: String,
    pub strings: BTreeMap<String, String>,
    /// `strings` as a template value, built once: every pupil page passes
    /// the whole table to its template, and a template value is shared, not
    /// copied.
    #[serde(skip)]
    pub value: minijinja::Value,
}

impl Strings {
    fn new(code: String, name: String, dir: String, strings: BTreeMap<String, String>) -> Self {
        let value = minijinja::Value::from(minijinja::value::Serde(&strings));
        Self {
            code,
            name,
            dir,
            strings,
            value,
        }
    }

    pub fn get<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map_or(key, String::as_str)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LocaleError {
    #[error("cannot read the locale directory {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the locale file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

/// Every locale the server can show.
#[derive(Debug, Clone)]
pub struct Locales {
    by_code: BTreeMap<String, Strings>,
}

impl Locales {
    /// English, plus any `*.toml` locale files in `dir`.
    pub fn load(dir: Option<&Path>) -> Result<Self, LocaleError> {
        let english = parse("en.toml", ENGLISH)?;
        let mut by_code = BTreeMap::new();
        if let Some(dir) = dir {
            let read_err = |source| LocaleError::Read {
                path: dir.display().to_string(),
                source,
            };
            let mut paths: Vec<_> = std::fs::read_dir(dir)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            paths.sort();
            for path in paths {
                let text = std::fs::read_to_string(&path).map_err(read_err)?;
                let file = parse(&path.display().to_string(), &text)?;
                let mut strings = english.strings.clone();
                strings.extend(file.strings);
                by_code.insert(
                    file.code.clone(),
                    Strings::new(file.code, file.name, file.dir, strings),
                );
            }
        }
        by_code.insert(
            english.code.clone(),
            Strings::new(english.code, english.name, english.dir, english.strings),
        );
        Ok(Self { by_code })
    }

    /// The words for `code`, or English.
    pub fn get(&self, code: &str) -> &Strings {
        self.by_code
            .get(code)
            .or_else(|| self.by_code.get("en"))
            .unwrap_or_else(|| unreachable!("English always loads"))
    }

    pub fn has(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }
}

fn parse(path: &str, text: &str) -> Result<LocaleFile, LocaleError> {
    let file: LocaleFile = toml::from_str(text).map_err(|e| LocaleError::Invalid {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    if file.dir != "ltr" && file.dir != "rtl" {
        return Err(LocaleError::Invalid {
            path: path.to_owned(),
            message: format!("dir must be \"ltr\" or \"rtl\", not \"{}\"", file.dir),
        });
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words chosen by band (keys ending `.primary` or `.secondary`)
    /// and the words for everyone (`.everyone`, read by P5 pupils too) are
    /// held to the same reading levels as the questionnaire's questions.
    #[test]
    fn banded_english_words_are_within_their_reading_level() {
        use survey_defs::{Band, readability};
        let locales = Locales::load(None).unwrap();
        let mut problems = Vec::new();
        let mut checked = 0;
        for (key, text) in &locales.get("en").strings {
            let band = match key.rsplit('.').next() {
                Some("primary" | "everyone") => Band::Primary,
                Some("secondary") => Band::Secondary,
                _ => continue,
            };
            // Headings and buttons are too short for the formula.
            if text.split_whitespace().count() < 5 {
                continue;
            }
            checked += 1;
            let (grade, limit) = (readability::grade(text), readability::max_grade(band));
            if grade > limit {
                problems.push(format!("{key}: grade {grade:.1} above {limit:.1}"));
            }
        }
        assert!(checked > 10, "expected banded words, found {checked}");
        assert!(
            problems.is_empty(),
            "too hard for their band:\n{}",
            problems.join("\n")
        );
    }

    #[test]
    fn english_loads_and_unknown_locales_fall_back_to_it() {
        let locales = Locales::load(None).unwrap();
        assert_eq!(locales.get("en").get("review.finish"), "Finish");
        assert_eq!(locales.get("xx").code, "en");
    }

    #[test]
    fn a_translation_falls_back_to_english_for_missing_keys() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ar.toml"),
            "code = \"ar\"\nname = \"العربية\"\ndir = \"rtl\"\n[strings]\n\"review.finish\" = \"إنهاء\"\n",
        )
        .unwrap();
        let locales = Locales::load(Some(dir.path())).unwrap();
        let arabic = locales.get("ar");
        assert_eq!(arabic.dir, "rtl");
        assert_eq!(arabic.get("review.finish"), "إنهاء");
        assert_eq!(arabic.get("survey.next"), "Next");
    }

    #[test]
    fn a_bad_direction_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("xx.toml"),
            "code = \"xx\"\nname = \"X\"\ndir = \"up\"\n[strings]\n",
        )
        .unwrap();
        let error = Locales::load(Some(dir.path())).unwrap_err().to_string();
        assert!(
            error.contains("xx.toml") && error.contains("dir"),
            "{error}"
        );
    }
}
