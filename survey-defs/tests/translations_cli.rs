//! The translation workflow through the real `survey-defs` binary: export,
//! fill in, import, check; and bad files refused with nothing written.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_survey-defs");

fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// A workspace-shaped directory holding the shipped English only: the
/// built-in questionnaire and the pupil-facing English strings.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("survey-defs/questionnaires");
    let l = dir.path().join("server/locales");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::create_dir_all(&l).unwrap();
    std::fs::copy(
        package_dir().join("questionnaires/wellbeing.toml"),
        q.join("wellbeing.toml"),
    )
    .unwrap();
    std::fs::copy(
        package_dir().join("../server/locales/en.toml"),
        l.join("en.toml"),
    )
    .unwrap();
    dir
}

/// How many texts the built-in questionnaire gives translators, counted
/// from its English.
fn questionnaire_texts() -> usize {
    let (name, text) = survey_defs::builtin_sources()[0];
    survey_defs::source_texts(name, text).unwrap().len()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Fills the translation column of an exported CSV with `[xx] ENGLISH`,
/// except the rows whose id is in `skip`.
fn fill(csv: &str, skip: &[&str]) -> String {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let mut w = csv::Writer::from_writer(Vec::new());
    for (i, r) in reader.records().enumerate() {
        let r = r.unwrap();
        let translation = if i == 0 {
            r[2].to_owned()
        } else if skip.contains(&&r[0]) {
            String::new()
        } else {
            format!("[pl] {}", &r[1])
        };
        w.write_record([&r[0], &r[1], &translation, &r[3]]).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

#[test]
fn a_translation_goes_out_and_comes_back_and_check_reports_it() {
    let ws = workspace();
    let dir = ws.path();
    let out = run(dir, &["translations", "export", "--locale", "pl", "pl.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let exported = std::fs::read_to_string(dir.join("pl.csv")).unwrap();
    assert!(exported.contains("strings:review.finish,Finish,,missing"));
    assert!(exported.contains("wellbeing:question.s_bullied.text,"));
    assert!(
        exported.contains("wellbeing:option_set.p_agree.yes_lot.label,\"Yes, a lot\",,missing")
    );

    let filled = fill(&exported, &["strings:review.finish"]);
    std::fs::write(dir.join("pl.csv"), filled).unwrap();
    let out = run(
        dir,
        &[
            "translations",
            "import",
            "--locale",
            "pl",
            "--name",
            "Polski",
            "--dir",
            "ltr",
            "pl.csv",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let strings = std::fs::read_to_string(dir.join("server/locales/pl.toml")).unwrap();
    assert!(strings.contains("status = \"draft\""), "{strings}");
    assert!(strings.contains("\"survey.next\" = { text = \"[pl] Next\", source = "));
    let q = std::fs::read_to_string(
        dir.join("survey-defs/questionnaires/translations/wellbeing.pl.toml"),
    )
    .unwrap();
    assert!(q.contains("questionnaire = \"wellbeing\""), "{q}");

    // Check: one missing string, a warning; no errors.
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("server/locales/pl.toml:1:1: warning: \"review.finish\" is not translated"),
        "{report}"
    );
    let n = questionnaire_texts();
    assert!(
        report.contains(&format!(
            "wellbeing.pl.toml: pl (Polski): draft; {n} of {n} texts translated, 0 stale, 0 missing"
        )),
        "{report}"
    );
    assert!(report.contains("0 error(s), 1 warning(s)"), "{report}");

    // The English changes: the translation is reported stale.
    let q_path = dir.join("survey-defs/questionnaires/wellbeing.toml");
    let english = std::fs::read_to_string(&q_path).unwrap();
    let changed = english.replace(
        "Have you been bullied in the last few months?",
        "Have you been bullied this year?",
    );
    assert_ne!(english, changed, "the test's question is in the file");
    std::fs::write(&q_path, changed).unwrap();
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("warning: \"question.s_bullied.text\" is stale"),
        "{report}"
    );
    assert!(
        report.contains(&format!("{} of {n} texts translated, 1 stale", n - 1)),
        "{report}"
    );

    // The stale text is exported as such, and an export made before the
    // change is refused for that row, writing nothing.
    let before = std::fs::read_to_string(dir.join("server/locales/pl.toml")).unwrap();
    let out = run(dir, &["translations", "import", "--locale", "pl", "pl.csv"]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains(
            "error: the English of \"wellbeing:question.s_bullied.text\" no longer matches"
        ),
        "{report}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("server/locales/pl.toml")).unwrap(),
        before
    );
    let out = run(
        dir,
        &["translations", "export", "--locale", "pl", "pl.xliff"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let xliff = std::fs::read_to_string(dir.join("pl.xliff")).unwrap();
    assert!(
        xliff.contains("<notes><note>The English changed"),
        "{xliff}"
    );
}

#[test]
fn a_bad_file_is_refused_line_by_line_and_nothing_is_written() {
    let ws = workspace();
    let dir = ws.path();
    std::fs::write(
        dir.join("pl.csv"),
        "id,english,translation,status\n\
         strings:survey.next,Next,Dalej,missing\n\
         strings:no.such.key,Hello,Cześć,missing\n\
         strings:survey.back,Back\n\
         strings:survey.progress,Page {n} of {total},Strona {n},missing\n",
    )
    .unwrap();
    let out = run(
        dir,
        &[
            "translations",
            "import",
            "--locale",
            "pl",
            "--name",
            "Polski",
            "--dir",
            "ltr",
            "pl.csv",
        ],
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        report.lines().collect::<Vec<_>>(),
        vec!["pl.csv:4: error: expected 4 columns (id, english, translation, status), found 2"],
    );
    std::fs::write(
        dir.join("pl.csv"),
        "id,english,translation,status\n\
         strings:survey.next,Next,Dalej,missing\n\
         strings:no.such.key,Hello,Cześć,missing\n\
         strings:survey.progress,Page {n} of {total},Strona {n},missing\n",
    )
    .unwrap();
    let out = run(
        dir,
        &[
            "translations",
            "import",
            "--locale",
            "pl",
            "--name",
            "Polski",
            "--dir",
            "ltr",
            "pl.csv",
        ],
    );
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines.len(), 2, "{report}");
    assert_eq!(
        lines[0],
        "pl.csv:3: error: unknown id \"strings:no.such.key\""
    );
    assert!(lines[1].starts_with(
        "pl.csv:4: error: the translation of \"strings:survey.progress\" must keep the placeholders"
    ));
    assert!(!dir.join("server/locales/pl.toml").exists());
    assert!(!dir.join("survey-defs/questionnaires/translations").exists());
}

#[test]
fn english_cannot_be_imported_over_itself() {
    let ws = workspace();
    let dir = ws.path();
    std::fs::write(dir.join("en.csv"), "id,english,translation,status\n").unwrap();
    let before = std::fs::read_to_string(dir.join("server/locales/en.toml")).unwrap();
    let out = run(dir, &["translations", "import", "--locale", "en", "en.csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("error: English is the language translated from"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("server/locales/en.toml")).unwrap(),
        before
    );
}

#[test]
fn check_fails_on_a_lost_placeholder_and_warns_on_a_missing_status() {
    let ws = workspace();
    let dir = ws.path();
    std::fs::write(
        dir.join("server/locales/pl.toml"),
        format!(
            "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\n[strings]\n\
             \"survey.progress\" = {{ text = \"Strona {{n}}\", source = \"{}\" }}\n",
            survey_defs::source_hash("Page {n} of {total}")
        ),
    )
    .unwrap();
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    let report = text(&out);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        report.contains("server/locales/pl.toml:5:1: error: \"survey.progress\" must keep the English's placeholders ({n} {total}) exactly"),
        "{report}"
    );
    assert!(
        report.contains("server/locales/pl.toml:1:1: warning: the file does not give its status"),
        "{report}"
    );
}

#[test]
fn check_warns_when_a_language_lacks_its_strings_or_its_questionnaire() {
    let ws = workspace();
    let dir = ws.path();
    let q_dir = dir.join("survey-defs/questionnaires/translations");
    std::fs::create_dir_all(&q_dir).unwrap();
    std::fs::write(
        q_dir.join("wellbeing.pl.toml"),
        "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\nquestionnaire = \"wellbeing\"\nstatus = \"draft\"\n[strings]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("server/locales/uk.toml"),
        "code = \"uk\"\nname = \"Українська\"\ndir = \"ltr\"\nstatus = \"draft\"\n[strings]\n",
    )
    .unwrap();
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(
        report.contains("wellbeing.pl.toml:1:1: warning: pl has no pupil-facing strings (server/locales/pl.toml), so pupils are not offered it"),
        "{report}"
    );
    assert!(
        report.contains("server/locales/uk.toml:1:1: warning: questionnaire \"wellbeing\" has no uk translation, so pupils answering it are not offered uk"),
        "{report}"
    );
    // Also when no questionnaire has any translation.
    std::fs::remove_file(q_dir.join("wellbeing.pl.toml")).unwrap();
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    assert!(
        text(&out).contains("warning: questionnaire \"wellbeing\" has no uk translation"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_review_is_recorded_only_with_a_real_date() {
    let ws = workspace();
    let dir = ws.path();
    std::fs::write(
        dir.join("pl.csv"),
        "id,english,translation,status\nstrings:survey.next,Next,Dalej,missing\n",
    )
    .unwrap();
    let import = |date: &str| {
        run(
            dir,
            &[
                "translations",
                "import",
                "--locale",
                "pl",
                "--name",
                "Polski",
                "--dir",
                "ltr",
                "--reviewed-by",
                "A. Nowak",
                "--reviewed-on",
                date,
                "pl.csv",
            ],
        )
    };
    let out = import("1 May");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("error: reviewed_on must be a date written YYYY-MM-DD"));
    assert!(!dir.join("server/locales/pl.toml").exists());
    let out = import("2026-11-30");
    assert!(out.status.success(), "{}", text(&out));
    let written = std::fs::read_to_string(dir.join("server/locales/pl.toml")).unwrap();
    assert!(
        written.contains(
            "status = \"reviewed\"\nreviewed_by = \"A. Nowak\"\nreviewed_on = \"2026-11-30\""
        ),
        "{written}"
    );
    // Every pupil-facing English string is one text to translate.
    let english: toml::Table = toml::from_str(
        &std::fs::read_to_string(package_dir().join("../server/locales/en.toml")).unwrap(),
    )
    .unwrap();
    let texts = english["strings"].as_table().unwrap().len();
    let out = run(dir, &["check", "survey-defs/questionnaires/wellbeing.toml"]);
    let expected =
        format!("pl (Polski): reviewed by A. Nowak on 2026-11-30; 1 of {texts} texts translated");
    assert!(text(&out).contains(&expected), "{}", text(&out));
}
