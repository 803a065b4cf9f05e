//! The label files, read back by the tools they are written for: `labels.R`
//! by R (`Rscript`), `labels.sps` by GNU PSPP, and `labels.do` by a strict
//! reader of exactly the Stata commands it uses (`stata/mod.rs`; Stata is
//! proprietary and cannot run in CI).
//!
//! Each test writes a small export (the bilingual fixture questionnaire, with
//! wording full of quotes, backslashes, `$`, backticks, line breaks and
//! non-ASCII text; the built-in questionnaire; one without indicators) into
//! a folder, runs the label file there, and checks row by row that every key
//! carries the label the questionnaire gives it.
//!
//! When R or PSPP is missing, a test fails if `CI` is set (CI installs both,
//! see `tests/run.sh`) and otherwise prints a note and passes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod stata;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use exporter::aggregate::{Aggregator, ResponseRow, Skipped};
use exporter::disclose::{Responses, publish_every_table, publish_rates};
use exporter::labels::Table;
use exporter::layout::Layout;
use exporter::source::{CppInfo, SchoolInfo};
use exporter::{Export, Rule, UnitResult};
use survey_defs::{Answer, AnswerSet, QuestionKind, Stage};

const FIXTURE: &str = include_str!("../../tests/fixtures/questionnaires/rtl_arabic.toml");

/// The fixture with wording that each language must escape, and names that
/// could be confused.
fn awkward_questionnaire() -> String {
    let replaced = FIXTURE
        .replace(
            r#"en = "Are you a boy or a girl?""#,
            r#"en = "Are you a \"boy\" or a girl? It's \\ $HOME `pwd` `\"x\"' 50%\nNext line\tÉirinn 😀""#,
        )
        .replace(
            r#"en = "In another way""#,
            r#"en = "In \"another\"' way`""#,
        )
        .replace(r#"en = "Sometimes""#, r#"en = "=Sometimes + -1""#)
        // Two questions worded alike, and a question id that is also an
        // indicator's.
        .replace(
            r#"en = "On how many days last week did you smoke?""#,
            r#"en = "Have you ever smoked?""#,
        )
        .replace(r#"id = "q_safe_school""#, r#"id = "safe""#)
        .replace(
            r#"en = "Do you feel safe at school?""#,
            r#"en = "Do you feel safe at school, in the playground, on the way there and back, in the dining hall and in the changing rooms? Dè do bheachd? ½ ""#,
        );
    assert_ne!(replaced, FIXTURE, "the fixture's wording has changed");
    replaced
}

/// The expected label of a wording: on one line.
fn flat(text: &str) -> String {
    text.replace("\r\n", " ")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An export of one partnership with two schools and 240 pupils answering
/// every question they are routed to.
fn export(toml: &str) -> Export {
    let q = survey_defs::load_str("fixture.toml", toml)
        .unwrap()
        .questionnaire;
    let layout = Layout::new(&q);
    let sex = q.sex_question().unwrap();
    let mut aggregator = Aggregator::new(&q, &layout);
    for i in 0..240u32 {
        let (school, stage) = match i % 4 {
            0 => (1, Stage::P6),
            1 => (1, Stage::P7),
            2 => (2, Stage::S3),
            _ => (2, Stage::S4),
        };
        // Every question the pupil's stage and routing reach, answered
        // in turn with each option (or number).
        let mut answers: Vec<(u16, Answer)> = Vec::new();
        for (n, question) in q.questions().iter().enumerate() {
            if !question.stages().contains(stage) {
                continue;
            }
            if let Some(condition) = question.show_if() {
                let earlier = answers.iter().find(|(o, _)| *o == condition.depends_on());
                if !earlier.is_some_and(|(_, a)| condition.matches(a)) {
                    continue;
                }
            }
            let turn = i / 4 + n as u32;
            let answer = match *question.kind() {
                QuestionKind::Number { min, max } => {
                    Answer::Number(min + (turn % (max - min + 1) as u32) as i32)
                }
                QuestionKind::MultipleChoice => {
                    Answer::Multi(1 << (turn % question.options().len() as u32))
                }
                _ => Answer::Choice((turn % question.options().len() as u32) as u8),
            };
            answers.push((question.ordinal(), answer));
        }
        let sex_code =
            answers
                .iter()
                .find(|(o, _)| *o == sex.ordinal())
                .and_then(|(_, a)| match a {
                    Answer::Choice(c) => Some(sex.options()[usize::from(*c)].code().to_string()),
                    _ => None,
                });
        let bytes = answers.into_iter().collect::<AnswerSet>().encode();
        aggregator.add(&ResponseRow {
            cpp_id: 7,
            school_id: school,
            stage,
            sex: sex_code.as_deref(),
            partial: false,
            answers: &bytes,
        });
    }
    let tally = aggregator.finish().units.remove(&7).unwrap();
    let schools = vec![
        SchoolInfo {
            id: 1,
            cpp_id: 7,
            seed_code: "5512345".to_owned(),
            name: "St Brìde's \"Primary\" School".to_owned(),
            rolls: [0, 70, 70, 0, 0, 0, 0],
            is_demo: false,
        },
        SchoolInfo {
            id: 2,
            cpp_id: 7,
            seed_code: "5567890".to_owned(),
            name: "=Àrd-sgoil, Dùn Èideann".to_owned(),
            rolls: [0, 0, 0, 0, 0, 70, 70],
            is_demo: false,
        },
    ];
    let rows: Vec<Option<usize>> = schools
        .iter()
        .map(|s| tally.schools.iter().position(|t| t.school_id == s.id))
        .collect();
    let rule = Rule::default();
    let rolls: Vec<(Option<usize>, [u32; 7])> = rows
        .iter()
        .zip(&schools)
        .map(|(r, s)| (*r, s.rolls))
        .collect();
    let rates = publish_rates(&tally, &rolls, &rule, "fixture", None).unwrap();
    let responses = Responses::new(&tally, &rolls, &rates);
    let tables = publish_every_table(
        &tally,
        &rows,
        &layout,
        &rule,
        "fixture",
        None,
        Some(&responses),
    )
    .unwrap();
    Export {
        questionnaire: Arc::new(q),
        version_id: 1,
        wave_id: 1,
        layout,
        rule,
        generated_at: chrono::Utc::now(),
        units: vec![UnitResult {
            cpp: Some(CppInfo {
                id: 7,
                gss_code: "S12000036".to_owned(),
                name: "City of Edinburgh \"Dùn Èideann\" & 'Lodainn'".to_owned(),
            }),
            schools,
            tables,
            rates,
            responses: tally.responses,
            partial: 0,
        }],
        skipped: Skipped::default(),
        national: false,
        beside: None,
    }
}

/// The release's files in a new folder.
fn release(export: &Export) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    export.write_to_dir(dir.path()).unwrap();
    dir
}

/// Whether a tool is on the PATH; without it a test fails under CI and is
/// skipped, with a note, elsewhere.
fn have(tool: &str, package: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed, but CI is set: install Debian's {package} \
             (tests/run.sh does)"
        );
        // Straight to standard error, past the test harness's capture, so
        // the skip shows in the output.
        let _ = writeln!(
            std::io::stderr(),
            "note: {tool} is not installed (Debian package {package}); skipping a label test"
        );
    }
    found
}

/// Rows of a release CSV as maps from column to cell.
fn csv_rows(path: &Path) -> Vec<Vec<(String, String)>> {
    let bytes = std::fs::read(path).unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    &row.iter().find(|(c, _)| c == column).unwrap().1
}

/// What every key of a table row should say, worked out from the
/// questionnaire: (column, expected label), and the expected option key.
fn expected_labels(
    export: &Export,
    file: Table,
    row: &[(String, String)],
) -> (Vec<(String, String)>, u32) {
    let layout = &export.layout;
    let stage = match cell(row, "stage") {
        "P5" => "Primary 5",
        "P6" => "Primary 6",
        "P7" => "Primary 7",
        "Primary" => "Primary stages (P5 to P7)",
        "S1" => "Secondary 1",
        "S2" => "Secondary 2",
        "S3" => "Secondary 3",
        "S4" => "Secondary 4",
        "Secondary" => "Secondary stages (S1 to S4)",
        "All" => "All stages",
        other => panic!("unexpected stage {other}"),
    };
    let mut labels = vec![("stage_key".to_owned(), stage.to_owned())];
    if row.iter().any(|(c, _)| c == "sex") {
        let sex = match cell(row, "sex") {
            "All" => "All pupils".to_owned(),
            code => layout
                .sexes
                .iter()
                .find(|s| s.code == code)
                .unwrap()
                .label
                .clone(),
        };
        let index = layout
            .tables
            .iter()
            .position(|t| {
                t.id == cell(row, "question_id")
                    && (t.kind == "indicator") == (file == Table::Indicators)
            })
            .unwrap();
        let table = &layout.tables[index];
        let code = cell(row, "option_code");
        let (option, number) = match table.categories.iter().position(|c| c.code == code) {
            Some(k) => (table.categories[k].label.clone(), k + 1),
            None if code == "All" && table.kind == "indicator" => {
                ("All (pupils with a result)".to_owned(), 0)
            }
            None if code == "All" => ("All (pupils who answered)".to_owned(), 0),
            None => panic!("unexpected option {code}"),
        };
        labels.extend([
            ("sex_key".to_owned(), flat(&sex)),
            ("question_key".to_owned(), flat(&table.title)),
            ("option_key".to_owned(), flat(&option)),
        ]);
        return (labels, (index as u32 + 1) * 1000 + number as u32);
    }
    (labels, 0)
}

#[test]
fn label_files_are_release_files_sent_as_plain_text() {
    for name in ["labels.R", "labels.sps", "labels.do"] {
        assert!(
            exporter::output::FILES.contains(&name),
            "{name} is not in FILES"
        );
        assert_eq!(
            exporter::output::content_type(name),
            "text/plain; charset=utf-8",
            "{name}"
        );
    }
}

#[test]
fn label_files_do_not_change_with_the_time_of_the_export() {
    let mut first = export(&awkward_questionnaire());
    let mut second = first.clone();
    first.generated_at = chrono::DateTime::from_timestamp(0, 0).unwrap();
    second.generated_at = chrono::DateTime::from_timestamp(1_000_000_000, 0).unwrap();
    for name in ["labels.R", "labels.sps", "labels.do"] {
        assert_eq!(
            first.file(name).unwrap(),
            second.file(name).unwrap(),
            "{name} changed with the time of the export"
        );
    }
}

#[test]
fn r_reads_the_release_and_labels_every_key_and_column() {
    if have("Rscript", "r-base-core") {
        check_r(&export(&awkward_questionnaire()));
    }
}

/// Runs `labels.R` on the release of `export` and checks what R made of it.
fn check_r(export: &Export) {
    let dir = release(export);
    // Prints, as UTF-8 bytes whatever the locale, every key's label of every
    // row, and every column's variable label.
    let check = r#"
source("labels.R")
out <- file("r-out.tsv", "wb")
for (name in c("frequencies", "indicators", "response_rates")) {
  if (!exists(name)) next
  data <- get(name)
  keys <- intersect(c("stage_key", "sex_key", "question_key", "option_key"), names(data))
  for (i in seq_len(nrow(data))) {
    for (key in keys) {
      writeLines(enc2utf8(paste(name, i, key, as.character(data[[key]][i]), sep = "\t")),
                 out, useBytes = TRUE)
    }
  }
  for (column in names(data)) {
    writeLines(enc2utf8(paste(name, 0, column, attr(data[[column]], "label"), sep = "\t")),
               out, useBytes = TRUE)
  }
  counts <- if (name == "response_rates") data$responses else data$count
  writeLines(paste(name, 0, "suppressed", sum(is.na(counts)), sep = "\t"), out)
}
writeLines(enc2utf8(paste("lookup", 0, "first", question_text[[1]], sep = "\t")),
           out, useBytes = TRUE)
close(out)
"#;
    std::fs::write(dir.path().join("check.R"), check).unwrap();
    // The C locale is the harshest: nothing but ASCII is native there.
    let run = Command::new("Rscript")
        .arg("check.R")
        .current_dir(dir.path())
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "Rscript failed:\n{}\n--- labels.R ---\n{}",
        String::from_utf8_lossy(&run.stderr),
        export.labels_r()
    );
    let printed = std::fs::read_to_string(dir.path().join("r-out.tsv")).unwrap();
    let seen: std::collections::HashMap<(String, String, String), String> = printed
        .lines()
        .map(|l| {
            let parts: Vec<&str> = l.splitn(4, '\t').collect();
            (
                (
                    parts[0].to_owned(),
                    parts[1].to_owned(),
                    parts[2].to_owned(),
                ),
                parts.get(3).copied().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let got = |name: &str, row: usize, key: &str| {
        seen.get(&(name.to_owned(), row.to_string(), key.to_owned()))
            .unwrap_or_else(|| panic!("R printed nothing for {name} row {row} {key}"))
            .as_str()
    };
    for table in exporter::labels::Keys::new(export).tables() {
        let rows = csv_rows(&dir.path().join(table.csv()));
        assert!(!rows.is_empty(), "{} is empty", table.csv());
        let mut suppressed = 0;
        for (i, row) in rows.iter().enumerate() {
            for (key, label) in expected_labels(export, table, row).0 {
                // R's question levels are unique: a shared wording takes the id.
                let twice = export
                    .layout
                    .tables
                    .iter()
                    .filter(|t| (t.kind == "indicator") == (table == Table::Indicators))
                    .filter(|t| flat(&t.title) == label)
                    .count()
                    > 1;
                let label = if key == "question_key" && twice {
                    format!("{label} [{}]", cell(row, "question_id"))
                } else {
                    label
                };
                assert_eq!(
                    got(table.name(), i + 1, &key),
                    label,
                    "R's {key} of {} row {}",
                    table.csv(),
                    i + 1
                );
            }
            suppressed += usize::from(cell(row, "status") == "c");
        }
        assert_eq!(
            got(table.name(), 0, "suppressed"),
            suppressed.to_string(),
            "suppressed counts of {} should be NA in R",
            table.csv()
        );
        for (column, label) in table.variable_labels() {
            assert_eq!(got(table.name(), 0, column), label, "R's label of {column}");
        }
    }
    assert_eq!(
        got("lookup", 0, "first"),
        flat(&export.layout.tables[0].title)
    );
}

/// Runs PSPP on `syntax` in `dir`, returning its output as CSV text.
fn pspp(dir: &Path, syntax: &str) -> String {
    std::fs::write(dir.join("check.sps"), syntax).unwrap();
    let run = Command::new("pspp")
        .args(["-O", "format=csv", "-o", "pspp-out.csv", "check.sps"])
        .current_dir(dir)
        .output()
        .unwrap();
    let printed = std::fs::read_to_string(dir.join("pspp-out.csv")).unwrap_or_default();
    assert!(
        run.status.success(),
        "pspp failed:\n{}\n{printed}",
        String::from_utf8_lossy(&run.stderr)
    );
    printed
}

#[test]
fn pspp_reads_the_release_and_labels_every_key_and_column() {
    if have("pspp", "pspp") {
        check_pspp(&export(&awkward_questionnaire()));
    }
}

/// Runs `labels.sps` with PSPP on the release of `export` and checks what
/// PSPP made of it.
fn check_pspp(export: &Export) {
    let dir = release(export);
    // Every data set written back out twice: once with values, once with
    // value labels in place of the values.
    let mut syntax = String::from("INSERT FILE='labels.sps'.\n");
    for table in exporter::labels::Keys::new(export).tables() {
        for (cells, suffix) in [("VALUES", "values"), ("LABELS", "labels")] {
            syntax.push_str(&format!(
                "DATASET ACTIVATE {name}.\nSAVE TRANSLATE /OUTFILE='pspp-{name}-{suffix}.csv' \
                 /TYPE=CSV /REPLACE /FIELDNAMES /CELLS={cells}.\n",
                name = table.name()
            ));
        }
        syntax.push_str(&format!(
            "DATASET ACTIVATE {}.\nDISPLAY DICTIONARY.\n",
            table.name()
        ));
    }
    let printed = pspp(dir.path(), &syntax);
    assert!(
        !printed.contains("warning") && !printed.contains("error"),
        "PSPP complained:\n{printed}"
    );
    for table in exporter::labels::Keys::new(export).tables() {
        let rows = csv_rows(&dir.path().join(table.csv()));
        let values = csv_rows(&dir.path().join(format!("pspp-{}-values.csv", table.name())));
        let labels = csv_rows(&dir.path().join(format!("pspp-{}-labels.csv", table.name())));
        assert_eq!(
            values.len(),
            rows.len(),
            "PSPP read every row of {}",
            table.csv()
        );
        for (i, row) in rows.iter().enumerate() {
            for column in table.columns() {
                let written = cell(row, column);
                let read = cell(&values[i], column);
                if table.numbers().contains(column) {
                    let number = |t: &str| t.trim().parse::<f64>().ok();
                    assert_eq!(number(read), number(written), "{column} of row {}", i + 1);
                } else {
                    assert_eq!(read.trim_end(), written, "{column} of row {}", i + 1);
                }
            }
            let (expected, option_key) = expected_labels(export, table, row);
            for (key, label) in expected {
                let shown = cell(&labels[i], &key);
                // SPSS keeps 120 bytes of a value label; longer ones end in "...".
                if label.len() > 120 {
                    let kept = shown.strip_suffix("...").unwrap_or(shown);
                    assert!(
                        shown.len() <= 120 && label.starts_with(kept) && kept.len() > 100,
                        "PSPP's {key} of {} row {}: {shown:?} should start {label:?}",
                        table.csv(),
                        i + 1
                    );
                } else {
                    assert_eq!(
                        shown,
                        label,
                        "PSPP's {key} of {} row {}",
                        table.csv(),
                        i + 1
                    );
                }
            }
            if option_key > 0 {
                assert_eq!(
                    cell(&values[i], "option_key").trim().parse::<f64>().ok(),
                    Some(f64::from(option_key)),
                    "the option key of {} row {}",
                    table.csv(),
                    i + 1
                );
            }
        }
    }
    // DISPLAY DICTIONARY lists each variable with its label.
    for table in exporter::labels::Keys::new(export).tables() {
        for (column, label) in table.variable_labels() {
            let line = printed
                .lines()
                .find(|l| l.starts_with(&format!("{column},")) && l.contains(&csv_field(label)))
                .is_some();
            assert!(
                line,
                "PSPP's dictionary lacks {column} labelled {label:?}:\n{printed}"
            );
        }
    }
}

/// `text` as a CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[test]
fn the_stata_reader_reads_the_release_and_labels_every_key_and_column() {
    check_stata(&export(&awkward_questionnaire()));
}

/// Runs `labels.do` with the strict reader on the release of `export` and
/// checks what it made of it.
fn check_stata(export: &Export) {
    let dir = release(export);
    let do_file = std::fs::read_to_string(dir.path().join("labels.do")).unwrap();
    let stata = stata::run(dir.path(), &do_file);
    let mut expected: Vec<String> = exporter::labels::Keys::new(export)
        .tables()
        .iter()
        .map(|t| format!("{}.dta", t.name()))
        .collect();
    expected.sort();
    assert_eq!(stata.saved.keys().cloned().collect::<Vec<_>>(), expected);
    assert_eq!(
        stata.data, stata.saved["frequencies.dta"],
        "frequencies stays loaded"
    );
    for table in exporter::labels::Keys::new(export).tables() {
        let data = &stata.saved[&format!("{}.dta", table.name())];
        let rows = csv_rows(&dir.path().join(table.csv()));
        assert_eq!(data.rows(), rows.len(), "every row of {}", table.csv());
        for (i, row) in rows.iter().enumerate() {
            for column in table.columns() {
                if table.numbers().contains(column) {
                    let written = cell(row, column).parse::<f64>().ok();
                    assert_eq!(data.number(column, i), written, "{column} of row {}", i + 1);
                } else {
                    assert_eq!(data.text(column, i), cell(row, column), "{column}");
                }
            }
            let (expected, option_key) = expected_labels(export, table, row);
            for (key, label) in expected {
                // Stata has no escape for `" or "' inside compound quotes:
                // those take typographic quotes.
                let label = label
                    .replace("`\"", "\u{2018}\"")
                    .replace("\"'", "\"\u{2019}");
                let label = match label.strip_suffix('`') {
                    Some(rest) => format!("{rest}\u{2018}"),
                    None => label,
                };
                assert_eq!(
                    data.labelled(&key, i),
                    Some(label.as_str()),
                    "Stata's {key} of {} row {}",
                    table.csv(),
                    i + 1
                );
            }
            if option_key > 0 {
                assert_eq!(data.number("option_key", i), Some(f64::from(option_key)));
            }
        }
        for (column, label) in table.variable_labels() {
            assert_eq!(
                data.variable(column).label.as_deref(),
                Some(label),
                "Stata's label of {column}"
            );
        }
    }
}

#[test]
fn every_tool_reads_the_release_of_the_built_in_questionnaire() {
    let (_, source) = survey_defs::builtin_sources()[0];
    let export = export(source);
    assert!(
        export
            .layout
            .tables
            .iter()
            .any(|t| t.kind == "multiple_choice"),
        "the built-in questionnaire has a multiple choice question"
    );
    check_stata(&export);
    if have("Rscript", "r-base-core") {
        check_r(&export);
    }
    if have("pspp", "pspp") {
        check_pspp(&export);
    }
}

#[test]
fn every_tool_reads_a_release_without_indicators() {
    let unscored = FIXTURE
        .replace(
            "[[scoring]]\nindicator = \"safe\"\npositive_at = 0.5\nmin_answered = 1\n",
            "",
        )
        .replace("score = { always = 2, sometimes = 1, never = 0 }\n", "");
    let export = export(&unscored);
    assert!(
        export.questionnaire.scoring().is_empty(),
        "no scoring rules left"
    );
    let keys = exporter::labels::Keys::new(&export);
    assert_eq!(keys.tables(), [Table::Frequencies, Table::ResponseRates]);
    check_stata(&export);
    if have("Rscript", "r-base-core") {
        check_r(&export);
    }
    if have("pspp", "pspp") {
        check_pspp(&export);
    }
}

#[test]
fn the_stata_reader_refuses_what_stata_would_get_wrong() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), "\u{feff}a,b\r\nx,1\r\n").unwrap();
    let import = "import delimited using \"t.csv\", varnames(nonames) rowrange(2) \
                  encoding(\"utf-8\") bindquote(strict) stringcols(_all) clear\n";
    let refused = |body: &str| {
        let script = format!("{import}{body}");
        let path = dir.path().to_owned();
        std::panic::catch_unwind(move || stata::run(&path, &script)).is_err()
    };
    // A `$` or a backtick would start a macro and vanish.
    assert!(refused("label variable v1 `\"costs $5\"'\n"));
    assert!(refused("label variable v1 `\"a `b' c\"'\n"));
    // An escaped one is read as itself.
    assert!(!refused("label variable v1 `\"costs \\$5 \\`b' \\\\\"'\n"));
    // A value label defined twice, or a code it lacks.
    assert!(refused(
        "label define l 1 `\"x\"'\nlabel define l 1 `\"y\"', add\n"
    ));
    assert!(refused(
        "label define l 1 `\"y\"'\nencode v1, generate(k) label(l) noextend\n"
    ));
    assert!(!refused(
        "label define l 1 `\"x\"'\nencode v1, generate(k) label(l) noextend\n"
    ));
    // Commands it does not know.
    assert!(refused("replace v1 = \"y\"\n"));
    // Variable labels over 80 characters.
    assert!(refused(&format!(
        "label variable v1 \"{}\"\n",
        "x".repeat(81)
    )));
    let script = format!("{import}label variable v1 `\"costs \\$5 \\`b' \\\\ \"q\"\"'\n");
    let read = stata::run(dir.path(), &script);
    assert_eq!(
        read.data.variable("v1").label.as_deref(),
        Some("costs $5 `b' \\ \"q\"")
    );
}

#[test]
fn option_keys_are_unique_and_follow_the_questionnaire() {
    let export = export(FIXTURE);
    let keys = exporter::labels::Keys::new(&export);
    let mut seen = std::collections::HashSet::new();
    for (n, item) in keys.items.iter().enumerate() {
        assert_eq!(item.key, n as u32 + 1);
        for (k, option) in item.options.iter().enumerate() {
            assert_eq!(option.key, item.key * 1000 + k as u32);
            assert!(seen.insert(option.key), "key {} twice", option.key);
        }
    }
    let numbers = export
        .questionnaire
        .questions()
        .iter()
        .find(|q| matches!(q.kind(), QuestionKind::Number { .. }))
        .unwrap();
    let item = keys
        .items
        .iter()
        .find(|i| i.id == numbers.id().as_str())
        .unwrap();
    assert_eq!(item.options.len(), 1 + 8, "the base and the numbers 0 to 7");
}
