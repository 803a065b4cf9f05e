//! Pupil-facing words, from locale files: English and the shipped
//! translations are inside the binary, and more can be added from a directory
//! (`LOCALES`). A translation is a `survey_defs::TranslationFile`: a string it
//! lacks, or one made from English that has since changed (stale), falls back
//! to English, so a pupil never sees a blank or words that no longer match.

use std::collections::BTreeMap;
use std::path::Path;

use survey_defs::{Status, TranslationFile};

const ENGLISH: &str = include_str!("../../locales/en.toml");

/// The translations shipped in `server/locales/` (a test checks that every
/// file there is listed).
const SHIPPED: &[(&str, &str)] = &[
    ("ar.toml", include_str!("../../locales/ar.toml")),
    ("gd.toml", include_str!("../../locales/gd.toml")),
    ("pl.toml", include_str!("../../locales/pl.toml")),
    ("ro.toml", include_str!("../../locales/ro.toml")),
    ("uk.toml", include_str!("../../locales/uk.toml")),
    ("ur.toml", include_str!("../../locales/ur.toml")),
    ("zh-Hans.toml", include_str!("../../locales/zh-Hans.toml")),
];

/// One locale's words, complete after falling back to English.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Strings {
    pub code: String,
    pub name: String,
    pub dir: String,
    pub strings: BTreeMap<String, String>,
    /// Not yet checked by a qualified translator: the welcome page says so.
    pub draft: bool,
    /// `strings` as a template value, built once: every pupil page passes
    /// the whole table to its template, and a template value is shared, not
    /// copied.
    #[serde(skip)]
    pub value: minijinja::Value,
}

impl Strings {
    fn new(
        code: String,
        name: String,
        dir: String,
        strings: BTreeMap<String, String>,
        draft: bool,
    ) -> Self {
        let value = minijinja::Value::from(minijinja::value::Serde(&strings));
        Self {
            code,
            name,
            dir,
            strings,
            draft,
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
    #[error("invalid locale file:\n{0}")]
    Invalid(String),
}

/// Every locale the server can show.
#[derive(Debug, Clone)]
pub struct Locales {
    by_code: BTreeMap<String, Strings>,
}

impl Locales {
    /// English and the shipped translations, plus any `*.toml` locale files
    /// in `dir` (a file there replaces a shipped one of the same language).
    pub fn load(dir: Option<&Path>) -> Result<Self, LocaleError> {
        let english = parse("en.toml", ENGLISH)?;
        let mut files = SHIPPED
            .iter()
            .map(|(name, text)| parse(name, text))
            .collect::<Result<Vec<_>, _>>()?;
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
                files.push(parse(&path.display().to_string(), &text)?);
            }
        }
        let english_strings: BTreeMap<String, String> = english
            .strings
            .iter()
            .map(|(k, t)| (k.clone(), t.text.clone()))
            .collect();
        let mut by_code = BTreeMap::new();
        for file in files {
            let strings = english_strings
                .iter()
                .map(|(key, en)| {
                    let shown = file.shown(key, en).unwrap_or(en);
                    (key.clone(), shown.to_owned())
                })
                .collect();
            let dir = if file.rtl { "rtl" } else { "ltr" };
            let draft = !matches!(file.status, Some(Status::Reviewed { .. }));
            by_code.insert(
                file.code.to_string(),
                Strings::new(
                    file.code.to_string(),
                    file.name,
                    dir.to_owned(),
                    strings,
                    draft,
                ),
            );
        }
        by_code.insert(
            english.code.to_string(),
            Strings::new(
                english.code.to_string(),
                english.name,
                "ltr".to_owned(),
                english_strings,
                false,
            ),
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

    /// Every locale, English included, in the order of their codes.
    pub fn all(&self) -> impl Iterator<Item = &Strings> {
        self.by_code.values()
    }
}

fn parse(path: &str, text: &str) -> Result<TranslationFile, LocaleError> {
    TranslationFile::parse(path, text).map_err(|e| LocaleError::Invalid(e.to_string()))
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

    /// Every file in `server/locales/` ships in the binary, and each shipped
    /// translation is complete, made from the current English and says its
    /// status, so no pupil meets a stale or missing string.
    #[test]
    fn every_shipped_translation_is_listed_complete_and_fresh() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("locales");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".toml") && n != "en.toml")
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = SHIPPED.iter().map(|(n, _)| (*n).to_owned()).collect();
        listed.sort();
        assert_eq!(listed, on_disk, "SHIPPED must list every file in {dir:?}");
        let english = parse("en.toml", ENGLISH).unwrap();
        let sources: Vec<(&str, &str)> = english
            .strings
            .iter()
            .map(|(k, t)| (k.as_str(), t.text.as_str()))
            .collect();
        for (name, text) in SHIPPED {
            let file = parse(name, text).unwrap();
            let c = file.coverage(sources.iter().copied());
            assert!(
                c.is_complete() && c.unsourced.is_empty() && file.status.is_some(),
                "{name}: {} of {} translated; missing {:?}; stale {:?}; no source {:?}; unknown {:?}",
                c.translated,
                c.total,
                c.missing,
                c.stale,
                c.unsourced,
                c.unknown
            );
            assert_eq!(format!("{}.toml", file.code), *name);
        }
    }

    #[test]
    fn polish_ships_in_the_binary() {
        let locales = Locales::load(None).unwrap();
        let polish = locales.get("pl");
        assert_eq!((polish.code.as_str(), polish.dir.as_str()), ("pl", "ltr"));
        assert_eq!(polish.get("review.finish"), "Zakończ");
        assert_eq!(polish.get("survey.progress"), "Strona {n} z {total}");
    }

    #[test]
    fn a_stale_string_shows_in_english() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pl.toml"),
            format!(
                "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\nstatus = \"draft\"\n[strings]\n\
                 \"review.finish\" = {{ text = \"Koniec\", source = \"{}\" }}\n\
                 \"survey.next\" = {{ text = \"Dalej\", source = \"{}\" }}\n",
                survey_defs::source_hash("Finish"),
                survey_defs::source_hash("Next page"),
            ),
        )
        .unwrap();
        let locales = Locales::load(Some(dir.path())).unwrap();
        let polish = locales.get("pl");
        assert_eq!(polish.get("review.finish"), "Koniec");
        assert_eq!(polish.get("survey.next"), "Next", "made from other English");
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
