//! `survey-defs`: checks questionnaire files and their translations, and
//! exchanges translations with translators as CSV or XLIFF.
//!
//! Every problem is reported as `FILE:LINE[:COLUMN]: error: message` (or
//! `warning:`). Exits 1 on errors, 0 when there are only warnings, 2 on wrong
//! usage.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use survey_defs::exchange::{self, Format, Language, Source};
use survey_defs::{
    Diagnostic, Locale, Severity, Status, TranslationFile, load_file, load_translated,
    placeholders, source_texts,
};

/// Where the pupil-facing strings live, relative to the workspace root.
const DEFAULT_LOCALES: &str = "server/locales";
/// The built-in questionnaire, relative to the workspace root.
const DEFAULT_QUESTIONNAIRE: &str = "survey-defs/questionnaires/wellbeing.toml";
/// Prefix of the pupil-facing strings' ids in exported files.
const STRINGS: &str = "strings";

#[derive(Parser)]
#[command(
    name = "survey-defs",
    about = "Check questionnaire files and their translations; export and import translations."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check questionnaire files, the translations beside them (translations/ID.LOCALE.toml)
    /// and the pupil-facing strings' translations.
    Check {
        /// Directory of pupil-facing strings (en.toml and its translations) [default:
        /// server/locales, when it exists]
        #[arg(long)]
        locales: Option<PathBuf>,
        /// Questionnaire files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Export translations for translators, and import them back.
    #[command(subcommand)]
    Translations(Translations),
}

#[derive(Subcommand)]
enum Translations {
    /// Write every text to translate (id, English, translation, status) to FILE:
    /// CSV, or XLIFF 1.2 for .xlf, XLIFF 2.0 for .xliff.
    Export {
        #[command(flatten)]
        place: Place,
        /// The file to write: CSV, or XLIFF (.xlf 1.2, .xliff 2.0)
        file: PathBuf,
    },
    /// Read FILE (as written by export) and write the translation files; nothing
    /// is written when any row has a problem.
    Import {
        #[command(flatten)]
        place: Place,
        /// The language's name in its own language, for a new translation
        #[arg(long)]
        name: Option<String>,
        /// Text direction for a new translation: ltr or rtl
        #[arg(long, value_parser = ["ltr", "rtl"])]
        dir: Option<String>,
        /// Mark the translation reviewed by this qualified translator (with --reviewed-on);
        /// without it the translation is written as a draft
        #[arg(long, requires = "reviewed_on")]
        reviewed_by: Option<String>,
        /// The date of the review, YYYY-MM-DD
        #[arg(long, requires = "reviewed_by")]
        reviewed_on: Option<String>,
        /// The file to read: CSV, or XLIFF (.xlf or .xliff, 1.2 or 2.0)
        file: PathBuf,
    },
}

#[derive(Args)]
struct Place {
    /// The language, e.g. pl, gd, zh-Hans
    #[arg(long)]
    locale: Locale,
    /// The questionnaire; its translations are in translations/ beside it
    #[arg(long, default_value = DEFAULT_QUESTIONNAIRE)]
    questionnaire: PathBuf,
    /// Directory of pupil-facing strings: en.toml and LOCALE.toml
    #[arg(long, default_value = DEFAULT_LOCALES)]
    locales: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Check { locales, files } => {
            let locales = locales.or_else(|| {
                let default = PathBuf::from(DEFAULT_LOCALES);
                default.is_dir().then_some(default)
            });
            return check(&files, locales.as_deref());
        }
        Command::Translations(Translations::Export { place, file }) => export(&place, &file),
        Command::Translations(Translations::Import {
            place,
            name,
            dir,
            reviewed_by,
            reviewed_on,
            file,
        }) => {
            let status = match (reviewed_by, reviewed_on) {
                (Some(by), Some(on)) => Status::Reviewed { by, on },
                _ => Status::Draft,
            };
            import(&place, &file, name, dir, status)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(errors) => {
            for e in errors {
                println!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

fn read_text(path: &Path) -> Result<String, Vec<String>> {
    std::fs::read_to_string(path).map_err(|e| {
        vec![format!(
            "{}:1: error: cannot read the file: {e}",
            path.display()
        )]
    })
}

fn diagnostics(e: survey_defs::LoadError) -> Vec<String> {
    e.diagnostics.iter().map(ToString::to_string).collect()
}

/// A translation file if it exists.
fn read_translation(path: &Path) -> Result<Option<TranslationFile>, Vec<String>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = read_text(path)?;
    TranslationFile::parse(&path.display().to_string(), &text)
        .map(Some)
        .map_err(diagnostics)
}

/// The pupil-facing English strings, in file order.
fn english_strings(locales: &Path) -> Result<Vec<(String, String)>, Vec<String>> {
    let path = locales.join("en.toml");
    let english = TranslationFile::parse(&path.display().to_string(), &read_text(&path)?)
        .map_err(diagnostics)?;
    let mut texts: Vec<_> = english.strings.into_iter().collect();
    texts.sort_by_key(|(_, t)| t.line);
    Ok(texts.into_iter().map(|(id, t)| (id, t.text)).collect())
}

fn questionnaire_translation_path(questionnaire: &Path, id: &str, locale: &Locale) -> PathBuf {
    questionnaire
        .parent()
        .unwrap_or(Path::new("."))
        .join("translations")
        .join(format!("{id}.{locale}.toml"))
}

/// Both sources of one language, with the paths of their translation files.
fn sources(place: &Place) -> Result<Vec<(Source, PathBuf)>, Vec<String>> {
    if place.locale.as_str() == "en" {
        return Err(vec![format!(
            "{}:1: error: English is the language translated from; name another --locale",
            place.locales.join("en.toml").display()
        )]);
    }
    let strings_path = place.locales.join(format!("{}.toml", place.locale));
    let strings = Source {
        prefix: STRINGS.to_owned(),
        texts: english_strings(&place.locales)?,
        translation: read_translation(&strings_path)?,
    };
    let name = place.questionnaire.display().to_string();
    let text = read_text(&place.questionnaire)?;
    let loaded = survey_defs::load_str(&name, &text).map_err(diagnostics)?;
    let id = loaded.questionnaire.id().to_string();
    let q_path = questionnaire_translation_path(&place.questionnaire, &id, &place.locale);
    let questionnaire = Source {
        prefix: id,
        texts: source_texts(&name, &text)
            .map_err(diagnostics)?
            .into_iter()
            .map(|s| (s.id, s.english))
            .collect(),
        translation: read_translation(&q_path)?,
    };
    Ok(vec![(strings, strings_path), (questionnaire, q_path)])
}

fn export(place: &Place, file: &Path) -> Result<(), Vec<String>> {
    let sources: Vec<Source> = sources(place)?.into_iter().map(|(s, _)| s).collect();
    let rows = exchange::rows(&sources);
    let english: Locale = "en"
        .parse()
        .unwrap_or_else(|_| unreachable!("\"en\" is a language tag"));
    let text = exchange::write(Format::for_path(file), &english, &place.locale, &rows);
    std::fs::write(file, text).map_err(|e| {
        vec![format!(
            "{}:1: error: cannot write the file: {e}",
            file.display()
        )]
    })?;
    let count = |state| rows.iter().filter(|r| r.state == state).count();
    eprintln!(
        "{}: {} texts for {}: {} missing, {} stale, {} draft, {} reviewed",
        file.display(),
        rows.len(),
        place.locale,
        count(exchange::State::Missing),
        count(exchange::State::Stale),
        count(exchange::State::Draft),
        count(exchange::State::Reviewed),
    );
    Ok(())
}

fn import(
    place: &Place,
    file: &Path,
    name: Option<String>,
    dir: Option<String>,
    status: Status,
) -> Result<(), Vec<String>> {
    let pairs = sources(place)?;
    let (sources, paths): (Vec<Source>, Vec<PathBuf>) = pairs.into_iter().unzip();
    let existing = sources.iter().find_map(|s| s.translation.as_ref());
    let name = name.or_else(|| existing.map(|t| t.name.clone()));
    let rtl = dir.map(|d| d == "rtl").or_else(|| existing.map(|t| t.rtl));
    let (Some(name), Some(rtl)) = (name, rtl) else {
        return Err(vec![format!(
            "{}:1: error: there is no {} translation yet: give the language's own name and direction with --name NAME --dir ltr|rtl",
            file.display(),
            place.locale
        )]);
    };
    let language = Language {
        code: place.locale.clone(),
        name,
        rtl,
        status,
    };
    let file_name = file.display().to_string();
    let text = read_text(file)?;
    let rows = exchange::read(Format::for_path(file), &file_name, &text, &place.locale)?;
    let files = exchange::merge(&file_name, &rows, &sources, &language)?;
    // Every file is written beside its target first, then renamed over it, so
    // a failure part-way leaves the old translations whole.
    let mut texts = Vec::new();
    for ((translation, source), path) in files.iter().zip(&sources).zip(&paths) {
        let order = source.texts.iter().map(|(id, _)| id.as_str());
        let text = translation.to_toml(order);
        // What is written must read back: this catches a bad --reviewed-on.
        TranslationFile::parse(&path.display().to_string(), &text).map_err(diagnostics)?;
        texts.push((text, path));
    }
    let mut staged = Vec::new();
    for (text, path) in texts {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                vec![format!(
                    "{}:1: error: cannot create the directory: {e}",
                    parent.display()
                )]
            })?;
        }
        let temporary = path.with_extension("toml.new");
        std::fs::write(&temporary, text).map_err(|e| {
            vec![format!(
                "{}:1: error: cannot write the file: {e}",
                temporary.display()
            )]
        })?;
        staged.push((temporary, path));
    }
    for (temporary, path) in staged {
        std::fs::rename(&temporary, path).map_err(|e| {
            vec![format!(
                "{}:1: error: cannot write the file: {e}",
                path.display()
            )]
        })?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Counts and prints diagnostics.
#[derive(Default)]
struct Report {
    errors: usize,
    warnings: usize,
}

impl Report {
    fn emit(&mut self, d: &Diagnostic) {
        println!("{d}");
        match d.severity {
            Severity::Error => self.errors += 1,
            Severity::Warning => self.warnings += 1,
        }
    }

    fn say(&mut self, file: &str, line: usize, severity: Severity, message: String) {
        self.emit(&Diagnostic {
            file: file.to_owned(),
            line,
            column: 1,
            severity,
            message,
        });
    }

    fn lines(&mut self, errors: Vec<String>) {
        for e in errors {
            println!("{e}");
            self.errors += 1;
        }
    }

    /// Reports what `translation` lacks of `sources` and returns a summary.
    fn coverage(&mut self, translation: &TranslationFile, sources: &[(String, String)]) -> String {
        let file = translation.file.as_str();
        let c = translation.coverage(sources.iter().map(|(i, e)| (i.as_str(), e.as_str())));
        for id in &c.missing {
            self.say(
                file,
                1,
                Severity::Warning,
                format!("\"{id}\" is not translated; the English shows"),
            );
        }
        for (id, line) in &c.stale {
            self.say(
                file,
                *line,
                Severity::Warning,
                format!(
                    "\"{id}\" is stale: it was translated from other English, so the English shows; translate it again"
                ),
            );
        }
        for (id, line) in &c.unsourced {
            self.say(
                file,
                *line,
                Severity::Warning,
                format!(
                    "\"{id}\" records no source, so nothing tells whether it is stale; import it to record one"
                ),
            );
        }
        for (id, line) in &c.unknown {
            self.say(
                file,
                *line,
                Severity::Warning,
                format!("\"{id}\" is not a text of the English; remove it"),
            );
        }
        for (id, english) in sources {
            if let Some(t) = translation.strings.get(id)
                && placeholders(&t.text) != placeholders(english)
            {
                self.say(
                    file,
                    t.line,
                    Severity::Error,
                    format!(
                        "\"{id}\" must keep the English's placeholders ({}) exactly",
                        placeholders(english).join(" ")
                    ),
                );
            }
        }
        let status = match &translation.status {
            Some(s) => s.to_string(),
            None => {
                self.say(
                    file,
                    1,
                    Severity::Warning,
                    "the file does not give its status; it counts as a draft: add status = \"draft\"".to_owned(),
                );
                "draft".to_owned()
            }
        };
        format!(
            "{file}: {} ({}): {status}; {} of {} texts translated, {} stale, {} missing",
            translation.code,
            translation.name,
            c.translated,
            c.total,
            c.stale.len(),
            c.missing.len()
        )
    }
}

/// The translation files of questionnaire `id` beside `file`, sorted by name.
fn translation_files(file: &Path, id: &str) -> Vec<PathBuf> {
    let dir = file.parent().unwrap_or(Path::new(".")).join("translations");
    let prefix = format!("{id}.");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".toml"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn check(files: &[PathBuf], locales: Option<&Path>) -> ExitCode {
    let mut report = Report::default();
    // (id, version) -> (file, hash): two files must not claim the same version.
    let mut versions: HashMap<(String, u32), (String, String)> = HashMap::new();
    // (language, translation file, questionnaire id) of every questionnaire translation.
    let mut questionnaire_languages: Vec<(String, String, String)> = Vec::new();
    // The ids of the questionnaires that loaded.
    let mut checked: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for path in files {
        let file = path.display().to_string();
        let loaded = match load_file(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                e.diagnostics.iter().for_each(|d| report.emit(d));
                continue;
            }
        };
        loaded.warnings.iter().for_each(|d| report.emit(d));
        let q = &loaded.questionnaire;
        let key = (q.id().to_string(), q.version());
        if let Some((other, hash)) = versions.get(&key) {
            if hash != q.content_hash() {
                report.say(
                    &file,
                    1,
                    Severity::Error,
                    format!(
                        "questionnaire \"{}\" version {} is also defined, differently, in {other}; give one a new version",
                        key.0, key.1
                    ),
                );
            }
        } else {
            versions.insert(key, (file.clone(), q.content_hash().to_owned()));
        }
        let counts: Vec<String> = q
            .stages()
            .iter()
            .map(|s| {
                let n = q
                    .questions()
                    .iter()
                    .filter(|x| x.stages().contains(s))
                    .count();
                format!("{s} {n}")
            })
            .collect();
        eprintln!(
            "{file}: ok: \"{}\" version {}, {} questions (per stage: {}), sha256 {}",
            q.id(),
            q.version(),
            q.questions().len(),
            counts.join(", "),
            q.content_hash()
        );
        checked.insert(q.id().to_string());
        for (code, file) in check_questionnaire_translations(&mut report, path, q.id().as_str()) {
            questionnaire_languages.push((code, file, q.id().to_string()));
        }
    }
    if let Some(dir) = locales {
        let string_languages = check_strings(&mut report, dir);
        // The server offers a language only when it has both.
        for (code, file, _) in &questionnaire_languages {
            if !string_languages.iter().any(|(c, _)| c == code) {
                report.say(
                    file,
                    1,
                    Severity::Warning,
                    format!(
                        "{} has no pupil-facing strings ({}/{code}.toml), so pupils are not offered it",
                        code,
                        dir.display()
                    ),
                );
            }
        }
        for (code, file) in &string_languages {
            for id in &checked {
                if !questionnaire_languages
                    .iter()
                    .any(|(c, _, q)| c == code && q == id)
                {
                    report.say(
                        file,
                        1,
                        Severity::Warning,
                        format!(
                            "questionnaire \"{id}\" has no {code} translation, so pupils answering it are not offered {code}"
                        ),
                    );
                }
            }
        }
    }
    eprintln!("{} error(s), {} warning(s)", report.errors, report.warnings);
    if report.errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Checks the translations of the questionnaire at `path`; returns the
/// language and file of each that loads.
fn check_questionnaire_translations(
    report: &mut Report,
    path: &Path,
    id: &str,
) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let name = path.display().to_string();
    let Ok(sources) = source_texts(&name, &text) else {
        return Vec::new();
    };
    let sources: Vec<(String, String)> = sources.into_iter().map(|s| (s.id, s.english)).collect();
    let mut translations = Vec::new();
    for t_path in translation_files(path, id) {
        let t_name = t_path.display().to_string();
        let translation = match read_translation(&t_path) {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(errors) => {
                report.lines(errors);
                continue;
            }
        };
        let expected = format!("{id}.{}.toml", translation.code);
        if t_path.file_name().and_then(|n| n.to_str()) != Some(expected.as_str()) {
            report.say(
                &t_name,
                1,
                Severity::Error,
                format!(
                    "a translation of \"{id}\" into \"{}\" must be named {expected}",
                    translation.code
                ),
            );
            continue;
        }
        translations.push(translation);
    }
    if let Err(e) = load_translated(&name, &text, &translations) {
        e.diagnostics.iter().for_each(|d| report.emit(d));
        return Vec::new();
    }
    for translation in &translations {
        let summary = report.coverage(translation, &sources);
        eprintln!("{summary}");
    }
    translations
        .iter()
        .map(|t| (t.code.to_string(), t.file.clone()))
        .collect()
}

/// Checks the pupil-facing strings' translations in `dir`; returns the
/// language and file of each that parses.
fn check_strings(report: &mut Report, dir: &Path) -> Vec<(String, String)> {
    let mut languages = Vec::new();
    let english = match english_strings(dir) {
        Ok(e) => e,
        Err(errors) => {
            report.lines(errors);
            return languages;
        }
    };
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .filter(|p| p.file_name().is_some_and(|n| n != "en.toml"))
            .collect(),
        Err(e) => {
            report.lines(vec![format!(
                "{}:1: error: cannot read the directory: {e}",
                dir.display()
            )]);
            return languages;
        }
    };
    paths.sort();
    for path in paths {
        match read_translation(&path) {
            Ok(Some(translation)) => {
                let expected = format!("{}.toml", translation.code);
                if path.file_name().and_then(|n| n.to_str()) != Some(expected.as_str()) {
                    report.say(
                        &translation.file,
                        1,
                        Severity::Error,
                        format!(
                            "the strings for \"{}\" must be named {expected}",
                            translation.code
                        ),
                    );
                    continue;
                }
                let summary = report.coverage(&translation, &english);
                eprintln!("{summary}");
                languages.push((translation.code.to_string(), translation.file.clone()));
            }
            Ok(None) => {}
            Err(errors) => report.lines(errors),
        }
    }
    languages
}
