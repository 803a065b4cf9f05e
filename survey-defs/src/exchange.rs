//! Exchanging translations with translators: every text of one or more
//! sources (a questionnaire, the pupil-facing strings) written as CSV or XLIFF
//! with its English, its current translation and its state, and read back
//! into translation files. Reading checks every row and reports every problem
//! as `FILE:LINE: error: message`; nothing is returned when there is one.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::ids::Locale;
use crate::translation::{Status, TranslatedText, TranslationFile, placeholders, source_hash};

/// The file formats, chosen by the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// `.xlf`: XLIFF 1.2, which most translation tools read.
    Xliff12,
    /// `.xliff`: XLIFF 2.0.
    Xliff20,
}

impl Format {
    pub fn for_path(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("xlf") => Format::Xliff12,
            Some("xliff") => Format::Xliff20,
            _ => Format::Csv,
        }
    }
}

/// The state of one text in a translation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Missing,
    /// Translated from English that has since changed.
    Stale,
    Draft,
    Reviewed,
}

impl State {
    pub fn as_str(&self) -> &'static str {
        match self {
            State::Missing => "missing",
            State::Stale => "stale",
            State::Draft => "draft",
            State::Reviewed => "reviewed",
        }
    }
}

/// One source of texts: its English texts by id, in order, and its
/// translation into the language being exchanged, if there is one yet.
#[derive(Debug, Clone)]
pub struct Source {
    /// Written before each id as `PREFIX:ID` (`strings`, or a questionnaire id).
    pub prefix: String,
    pub texts: Vec<(String, String)>,
    pub translation: Option<TranslationFile>,
}

/// One exported text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub id: String,
    pub english: String,
    pub translation: String,
    pub state: State,
}

/// Every text of `sources`, with its current translation and state.
pub fn rows(sources: &[Source]) -> Vec<Row> {
    let mut out = Vec::new();
    for source in sources {
        for (id, english) in &source.texts {
            let found = source
                .translation
                .as_ref()
                .and_then(|t| t.strings.get(id).map(|e| (t, e)));
            let (translation, state) = match found {
                None => (String::new(), State::Missing),
                Some((_, e)) if e.source.as_deref() != Some(source_hash(english).as_str()) => {
                    (e.text.clone(), State::Stale)
                }
                Some((t, e)) => (
                    e.text.clone(),
                    match t.status {
                        Some(Status::Reviewed { .. }) => State::Reviewed,
                        _ => State::Draft,
                    },
                ),
            };
            out.push(Row {
                id: format!("{}:{id}", source.prefix),
                english: english.clone(),
                translation,
                state,
            });
        }
    }
    out
}

const CSV_HEADER: [&str; 4] = ["id", "english", "translation", "status"];

fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The rows as a file in `format`, for translation into `locale`.
pub fn write(format: Format, source_locale: &Locale, locale: &Locale, rows: &[Row]) -> String {
    match format {
        Format::Csv => write_csv(rows),
        Format::Xliff12 => write_xliff12(source_locale, locale, rows),
        Format::Xliff20 => write_xliff20(source_locale, locale, rows),
    }
}

fn write_csv(rows: &[Row]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut records = vec![CSV_HEADER.map(str::to_owned)];
    records.extend(rows.iter().map(|r| {
        [
            r.id.clone(),
            r.english.clone(),
            r.translation.clone(),
            r.state.as_str().to_owned(),
        ]
    }));
    for record in records {
        // Writing to memory cannot fail.
        let _ = w.write_record(&record);
    }
    let bytes = w.into_inner().unwrap_or_default();
    // A byte-order mark, so spreadsheet programs read the file as UTF-8.
    format!("\u{feff}{}", String::from_utf8_lossy(&bytes))
}

fn write_xliff12(source_locale: &Locale, locale: &Locale, rows: &[Row]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <xliff version=\"1.2\" xmlns=\"urn:oasis:names:tc:xliff:document:1.2\">\n  \
         <file original=\"survey\" datatype=\"plaintext\" source-language=\"{source_locale}\" target-language=\"{locale}\">\n    \
         <body>\n"
    );
    for r in rows {
        out.push_str(&format!(
            "      <trans-unit id=\"{}\" xml:space=\"preserve\">\n        <source>{}</source>\n",
            escape_xml(&r.id),
            escape_xml(&r.english)
        ));
        let state = match r.state {
            State::Missing => "needs-translation",
            State::Stale => "needs-review-translation",
            State::Draft => "translated",
            State::Reviewed => "signed-off",
        };
        out.push_str(&format!(
            "        <target state=\"{state}\">{}</target>\n",
            escape_xml(&r.translation)
        ));
        if r.state == State::Stale {
            out.push_str("        <note>The English changed after this was translated.</note>\n");
        }
        out.push_str("      </trans-unit>\n");
    }
    out.push_str("    </body>\n  </file>\n</xliff>\n");
    out
}

fn write_xliff20(source_locale: &Locale, locale: &Locale, rows: &[Row]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <xliff xmlns=\"urn:oasis:names:tc:xliff:document:2.0\" version=\"2.0\" srcLang=\"{source_locale}\" trgLang=\"{locale}\">\n  \
         <file id=\"survey\">\n"
    );
    for r in rows {
        out.push_str(&format!("    <unit id=\"{}\">\n", escape_xml(&r.id)));
        if r.state == State::Stale {
            out.push_str(
                "      <notes><note>The English changed after this was translated.</note></notes>\n",
            );
        }
        let state = match r.state {
            State::Missing | State::Stale => "initial",
            State::Draft => "translated",
            State::Reviewed => "reviewed",
        };
        out.push_str(&format!(
            "      <segment state=\"{state}\">\n        <source xml:space=\"preserve\">{}</source>\n",
            escape_xml(&r.english)
        ));
        if r.state != State::Missing {
            out.push_str(&format!(
                "        <target xml:space=\"preserve\">{}</target>\n",
                escape_xml(&r.translation)
            ));
        }
        out.push_str("      </segment>\n    </unit>\n");
    }
    out.push_str("  </file>\n</xliff>\n");
    out
}

/// One text read back from a translator's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadRow {
    pub id: String,
    pub english: String,
    pub translation: String,
    pub line: usize,
}

/// Reads a CSV or XLIFF file (XLIFF 1.2 or 2.0, told apart by its `version`)
/// for `locale`. Errors are `FILE:LINE: error: message`, every one found.
pub fn read(
    format: Format,
    file: &str,
    text: &str,
    locale: &Locale,
) -> Result<Vec<ReadRow>, Vec<String>> {
    match format {
        Format::Csv => read_csv(file, text),
        Format::Xliff12 | Format::Xliff20 => read_xliff(file, text, locale),
    }
}

fn read_csv(file: &str, text: &str) -> Result<Vec<ReadRow>, Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(format!("{file}:{line}: error: {e}"));
                break;
            }
        };
        let line = record.position().map_or(0, |p| p.line()) as usize;
        if i == 0 {
            if record.iter().map(str::trim).ne(CSV_HEADER) {
                errors.push(format!(
                    "{file}:{line}: error: the first row must be the header \"{}\"",
                    CSV_HEADER.join(",")
                ));
            }
            continue;
        }
        if record.len() != CSV_HEADER.len() {
            errors.push(format!(
                "{file}:{line}: error: expected {} columns (id, english, translation, status), found {}",
                CSV_HEADER.len(),
                record.len()
            ));
            continue;
        }
        rows.push(ReadRow {
            id: record[0].trim().to_owned(),
            english: record[1].trim().to_owned(),
            translation: record[2].trim().to_owned(),
            line,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

fn read_xliff(file: &str, text: &str, locale: &Locale) -> Result<Vec<ReadRow>, Vec<String>> {
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            let pos = e.pos();
            return Err(vec![format!(
                "{file}:{}: error: not valid XML: {e}",
                pos.row
            )]);
        }
    };
    let line = |node: roxmltree::Node<'_, '_>| doc.text_pos_at(node.range().start).row as usize;
    let root = doc.root_element();
    let mut errors = Vec::new();
    if root.tag_name().name() != "xliff" {
        return Err(vec![format!(
            "{file}:{}: error: the root element is <{}>, not <xliff>",
            line(root),
            root.tag_name().name()
        )]);
    }
    let (unit_name, target_language) = match root.attribute("version") {
        Some("1.2") => (
            "trans-unit",
            root.descendants()
                .find(|n| n.has_tag_name("file"))
                .and_then(|f| f.attribute("target-language")),
        ),
        Some("2.0") => ("unit", root.attribute("trgLang")),
        other => {
            return Err(vec![format!(
                "{file}:{}: error: XLIFF version {} is not read; use 1.2 or 2.0",
                line(root),
                other.unwrap_or("(none)")
            )]);
        }
    };
    if target_language != Some(locale.as_str()) {
        errors.push(format!(
            "{file}:{}: error: the file is a translation into \"{}\", not \"{locale}\"",
            line(root),
            target_language.unwrap_or("(no target language)")
        ));
    }
    let text_of =
        |node: Option<roxmltree::Node<'_, '_>>, what: &str, errors: &mut Vec<String>| -> String {
            let Some(node) = node else {
                return String::new();
            };
            if let Some(child) = node.children().find(|c| c.is_element()) {
                errors.push(format!(
                    "{file}:{}: error: <{}> inside the {what} is not supported; write plain text",
                    line(child),
                    child.tag_name().name()
                ));
            }
            node.children()
                .filter_map(|c| c.text())
                .collect::<String>()
                .trim()
                .to_owned()
        };
    let mut rows = Vec::new();
    for unit in root.descendants().filter(|n| n.has_tag_name(unit_name)) {
        let at = line(unit);
        let Some(id) = unit.attribute("id") else {
            errors.push(format!("{file}:{at}: error: <{unit_name}> has no id"));
            continue;
        };
        let holder = if unit_name == "unit" {
            let segments: Vec<_> = unit
                .children()
                .filter(|n| n.has_tag_name("segment"))
                .collect();
            if segments.len() != 1 {
                errors.push(format!(
                    "{file}:{at}: error: unit \"{id}\" has {} segments, not one",
                    segments.len()
                ));
                continue;
            }
            segments[0]
        } else {
            unit
        };
        let source = holder.children().find(|n| n.has_tag_name("source"));
        if source.is_none() {
            errors.push(format!("{file}:{at}: error: \"{id}\" has no <source>"));
            continue;
        }
        let english = text_of(source, "source", &mut errors);
        let target = holder.children().find(|n| n.has_tag_name("target"));
        let translation = text_of(target, "target", &mut errors);
        rows.push(ReadRow {
            id: id.to_owned(),
            english,
            translation,
            line: at,
        });
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// What a language's translation files need beyond their texts.
#[derive(Debug, Clone)]
pub struct Language {
    pub code: Locale,
    pub name: String,
    pub rtl: bool,
    pub status: Status,
}

/// Merges read rows into new translation files, one per source (in the order
/// of `sources`). Every row is checked: its id must be known and given once,
/// its English must still be the current English, and a translation must keep
/// the English's placeholders. A text whose row is missing keeps its current
/// translation; an empty translation removes it. A stale translation read back
/// unchanged stays stale, so only a translator's decision makes it current.
pub fn merge(
    file: &str,
    rows: &[ReadRow],
    sources: &[Source],
    language: &Language,
) -> Result<Vec<TranslationFile>, Vec<String>> {
    let mut errors = Vec::new();
    let mut files: Vec<TranslationFile> = sources
        .iter()
        .map(|s| TranslationFile {
            file: String::new(),
            code: language.code.clone(),
            name: language.name.clone(),
            rtl: language.rtl,
            questionnaire: (s.prefix != "strings").then(|| s.prefix.clone()),
            status: Some(language.status.clone()),
            strings: s
                .translation
                .as_ref()
                .map(|t| t.strings.clone())
                .unwrap_or_default(),
        })
        .collect();
    let english: BTreeMap<(usize, &str), &str> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| {
            s.texts
                .iter()
                .map(move |(id, e)| ((i, id.as_str()), e.as_str()))
        })
        .collect();
    let mut seen = BTreeSet::new();
    for row in rows {
        let line = row.line;
        let found = row.id.split_once(':').and_then(|(prefix, id)| {
            let i = sources.iter().position(|s| s.prefix == prefix)?;
            english.get(&(i, id)).map(|e| (i, id, *e))
        });
        let Some((i, id, current)) = found else {
            errors.push(format!("{file}:{line}: error: unknown id \"{}\"", row.id));
            continue;
        };
        if !seen.insert(row.id.as_str()) {
            errors.push(format!(
                "{file}:{line}: error: \"{}\" is given more than once",
                row.id
            ));
            continue;
        }
        if row.english != current {
            errors.push(format!(
                "{file}:{line}: error: the English of \"{}\" no longer matches: the file has \"{}\", the text is now \"{current}\"; export again and translate the new English",
                row.id, row.english
            ));
            continue;
        }
        let strings = &mut files[i].strings;
        if row.translation.is_empty() {
            strings.remove(id);
            continue;
        }
        if placeholders(&row.translation) != placeholders(current) {
            errors.push(format!(
                "{file}:{line}: error: the translation of \"{}\" must keep the placeholders {} exactly, and add none",
                row.id,
                placeholder_list(current)
            ));
            continue;
        }
        let unchanged_stale = strings
            .get(id)
            .is_some_and(|old| old.text == row.translation);
        if !unchanged_stale {
            strings.insert(
                id.to_owned(),
                TranslatedText {
                    text: row.translation.clone(),
                    source: Some(source_hash(current)),
                    line,
                },
            );
        }
    }
    if errors.is_empty() {
        Ok(files)
    } else {
        Err(errors)
    }
}

fn placeholder_list(text: &str) -> String {
    let found = placeholders(text);
    if found.is_empty() {
        "(none)".to_owned()
    } else {
        found.join(" ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn locale(s: &str) -> Locale {
        s.parse().unwrap()
    }

    fn sources(translation: Option<TranslationFile>) -> Vec<Source> {
        vec![
            Source {
                prefix: "strings".to_owned(),
                texts: vec![
                    ("survey.next".to_owned(), "Next".to_owned()),
                    (
                        "survey.progress".to_owned(),
                        "Page {n} of {total}".to_owned(),
                    ),
                    ("review.finish".to_owned(), "Finish".to_owned()),
                ],
                translation,
            },
            Source {
                prefix: "wellbeing".to_owned(),
                texts: vec![(
                    "question.q1.text".to_owned(),
                    "Do you feel \"safe\", <b>and</b> well?".to_owned(),
                )],
                translation: None,
            },
        ]
    }

    fn polish_strings() -> TranslationFile {
        let text = format!(
            "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\nstatus = \"draft\"\n[strings]\n\
             \"survey.next\" = {{ text = \"Dalej\", source = \"{}\" }}\n\
             \"review.finish\" = {{ text = \"Koniec\", source = \"0123456789ab\" }}\n",
            source_hash("Next")
        );
        TranslationFile::parse("pl.toml", &text).unwrap()
    }

    fn language() -> Language {
        Language {
            code: locale("pl"),
            name: "Polski".to_owned(),
            rtl: false,
            status: Status::Draft,
        }
    }

    #[test]
    fn export_states_say_what_needs_doing() {
        let rows = rows(&sources(Some(polish_strings())));
        let states: Vec<(&str, &str, State)> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.translation.as_str(), r.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("strings:survey.next", "Dalej", State::Draft),
                ("strings:survey.progress", "", State::Missing),
                ("strings:review.finish", "Koniec", State::Stale),
                ("wellbeing:question.q1.text", "", State::Missing),
            ]
        );
    }

    #[test]
    fn every_format_reads_back_what_it_wrote() {
        let sources = sources(Some(polish_strings()));
        let rows = rows(&sources);
        for (format, name) in [
            (Format::Csv, "pl.csv"),
            (Format::Xliff12, "pl.xlf"),
            (Format::Xliff20, "pl.xliff"),
        ] {
            assert_eq!(Format::for_path(Path::new(name)), format);
            let text = write(format, &locale("en"), &locale("pl"), &rows);
            let back = read(format, name, &text, &locale("pl")).unwrap();
            let got: Vec<(&str, &str, &str)> = back
                .iter()
                .map(|r| (r.id.as_str(), r.english.as_str(), r.translation.as_str()))
                .collect();
            let want: Vec<(&str, &str, &str)> = rows
                .iter()
                .map(|r| (r.id.as_str(), r.english.as_str(), r.translation.as_str()))
                .collect();
            assert_eq!(got, want, "{name}:\n{text}");
        }
    }

    #[test]
    fn a_filled_in_export_becomes_fresh_translations() {
        let sources = sources(Some(polish_strings()));
        let csv = "\u{feff}id,english,translation,status\n\
                   strings:survey.progress,Page {n} of {total},Strona {n} z {total},missing\n\
                   strings:review.finish,Finish,Zakończ,stale\n\
                   wellbeing:question.q1.text,\"Do you feel \"\"safe\"\", <b>and</b> well?\",\"Czy czujesz się \"\"bezpiecznie\"\", <b>i</b> dobrze?\",missing\n";
        let read_rows = read(Format::Csv, "pl.csv", csv, &locale("pl")).unwrap();
        let files = merge("pl.csv", &read_rows, &sources, &language()).unwrap();
        let strings = &files[0];
        assert_eq!(strings.fresh("survey.next", "Next"), Some("Dalej"), "kept");
        assert_eq!(
            strings.fresh("survey.progress", "Page {n} of {total}"),
            Some("Strona {n} z {total}")
        );
        assert_eq!(strings.fresh("review.finish", "Finish"), Some("Zakończ"));
        assert_eq!(strings.questionnaire, None);
        let q = &files[1];
        assert_eq!(q.questionnaire.as_deref(), Some("wellbeing"));
        assert_eq!(
            q.fresh("question.q1.text", "Do you feel \"safe\", <b>and</b> well?"),
            Some("Czy czujesz się \"bezpiecznie\", <b>i</b> dobrze?")
        );
    }

    #[test]
    fn a_stale_translation_read_back_unchanged_stays_stale() {
        let sources = sources(Some(polish_strings()));
        let csv = "id,english,translation,status\nstrings:review.finish,Finish,Koniec,stale\n";
        let read_rows = read(Format::Csv, "pl.csv", csv, &locale("pl")).unwrap();
        let files = merge("pl.csv", &read_rows, &sources, &language()).unwrap();
        assert_eq!(files[0].fresh("review.finish", "Finish"), None);
        assert_eq!(files[0].strings["review.finish"].text, "Koniec");
    }

    #[test]
    fn bad_rows_are_each_reported_at_their_line() {
        let sources = sources(Some(polish_strings()));
        let csv = "id,english,translation,status\n\
                   strings:nope,Nope,Nie,missing\n\
                   strings:survey.next,Next,Dalej\n\
                   strings:review.finish,End,Koniec,stale\n\
                   strings:survey.progress,Page {n} of {total},Strona {n},missing\n\
                   strings:survey.next,Next,Dalej,draft\n\
                   strings:survey.next,Next,Dalej,draft\n";
        let read_rows = read(Format::Csv, "pl.csv", csv, &locale("pl"));
        let errors = read_rows.unwrap_err();
        assert_eq!(
            errors,
            vec!["pl.csv:3: error: expected 4 columns (id, english, translation, status), found 3"]
        );
        let csv = csv.replace("strings:survey.next,Next,Dalej\n", "");
        let read_rows = read(Format::Csv, "pl.csv", &csv, &locale("pl")).unwrap();
        let errors = merge("pl.csv", &read_rows, &sources, &language()).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert_eq!(errors[0], "pl.csv:2: error: unknown id \"strings:nope\"");
        assert!(
            errors[1].starts_with(
                "pl.csv:3: error: the English of \"strings:review.finish\" no longer matches"
            ),
            "{}",
            errors[1]
        );
        assert!(
            errors[2].starts_with("pl.csv:4: error: the translation of \"strings:survey.progress\" must keep the placeholders {n} {total}"),
            "{}",
            errors[2]
        );
        assert_eq!(
            errors[3],
            "pl.csv:6: error: \"strings:survey.next\" is given more than once"
        );
    }

    #[test]
    fn a_csv_without_its_header_is_refused() {
        let errors = read(
            Format::Csv,
            "pl.csv",
            "strings:survey.next,Next,Dalej,draft\n",
            &locale("pl"),
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "pl.csv:1: error: the first row must be the header \"id,english,translation,status\""
            ]
        );
    }

    #[test]
    fn xliff_for_another_language_or_with_markup_is_refused() {
        let rows = rows(&sources(Some(polish_strings())));
        let text = write(Format::Xliff20, &locale("en"), &locale("pl"), &rows);
        let errors = read(Format::Xliff20, "x.xliff", &text, &locale("uk")).unwrap_err();
        assert_eq!(
            errors,
            vec!["x.xliff:2: error: the file is a translation into \"pl\", not \"uk\""]
        );
        let marked = text.replace(
            "<target xml:space=\"preserve\">Dalej</target>",
            "<target xml:space=\"preserve\">Da<g id=\"1\">lej</g></target>",
        );
        let errors = read(Format::Xliff20, "x.xliff", &marked, &locale("pl")).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("x.xliff:7: error: <g> inside the target"),
            "{errors:?}"
        );
        let errors = read(
            Format::Xliff12,
            "x.xlf",
            "<xliff version=\"1.2\"><file",
            &locale("pl"),
        )
        .unwrap_err();
        assert!(
            errors[0].starts_with("x.xlf:1: error: not valid XML"),
            "{errors:?}"
        );
    }
}
