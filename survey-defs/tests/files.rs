//! Loading files: the built-in questionnaire, valid fixtures and one invalid
//! fixture per mistake.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::path::PathBuf;

use survey_defs::{
    Band, Indicator, Locale, ModuleSwitches, Severity, Stage, Theme, builtin, builtin_sources,
    load_file, load_str, readability,
};

/// This package's directory, as cargo gives it to the running test: right
/// even when the test was built in another checkout sharing the build cache.
fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}
fn fixtures(dir: &str) -> Vec<PathBuf> {
    let dir = package_dir().join("tests/fixtures").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn builtin_questionnaires_load_without_warnings() {
    for (name, text) in builtin_sources() {
        let loaded = load_str(name, text).unwrap_or_else(|e| panic!("{name} failed:\n{e}"));
        assert!(
            loaded.warnings.is_empty(),
            "{name} has warnings:\n{:#?}",
            loaded.warnings
        );
    }
    assert_eq!(builtin().unwrap().len(), builtin_sources().len());
}

#[test]
fn builtin_questionnaire_fits_its_bands() {
    let q = &builtin().unwrap()[0];
    let count = |stage| {
        survey_defs::plan(q, stage, &ModuleSwitches::all_on(), &Default::default())
            .ordinals()
            .count()
    };
    let visible = |stage: Stage| {
        q.questions()
            .iter()
            .filter(|x| x.stages().contains(stage))
            .count()
    };
    // Every pupil is asked about 40 questions at P5 and 75 at S4; routed
    // follow-ups (three for each service a pupil used, say) add to that,
    // never beyond the 120 a census asks at most.
    assert!(
        (35..=45).contains(&count(Stage::P5)),
        "P5 is asked {}",
        count(Stage::P5)
    );
    assert!(
        (65..=80).contains(&count(Stage::S4)),
        "S4 is asked {}",
        count(Stage::S4)
    );
    for stage in Stage::ALL {
        assert!(visible(stage) <= 120, "{stage} can see {}", visible(stage));
    }
    assert!(
        count(Stage::S4) < visible(Stage::S4),
        "routing hides follow-up questions"
    );

    // Every indicator is covered, and has a rule.
    for indicator in Indicator::ALL {
        assert!(
            q.questions()
                .iter()
                .any(|x| x.theme() == Theme::Indicator(indicator))
        );
        assert!(q.scoring().iter().any(|r| r.indicator() == indicator));
    }
    // The sex question is asked of everyone and offers "prefer not to say".
    let sex = q.sex_question().unwrap();
    assert_eq!(sex.stages(), survey_defs::StageSet::ALL);
    assert!(sex.options().iter().any(|o| o.is_prefer_not_to_say()));

    // Sensitive modules are secondary-only and narrowed.
    for module in q.modules().iter().filter(|m| m.sensitive()) {
        for question in q
            .questions()
            .iter()
            .filter(|x| x.module() == Some(module.id()))
        {
            assert!(!question.stages().touches(Band::Primary));
            assert!(
                !question.stages().contains(Stage::S1) && !question.stages().contains(Stage::S2)
            );
        }
    }
    // Primary scale points all carry pictures and labels.
    let en: Locale = "en".parse().unwrap();
    for question in q
        .questions()
        .iter()
        .filter(|x| x.stages().touches(Band::Primary))
    {
        if *question.kind() == survey_defs::QuestionKind::Scale {
            for option in question.options() {
                assert!(
                    option.emoji().is_some(),
                    "{} {}",
                    question.id(),
                    option.code()
                );
                assert!(!option.label(&en).is_empty());
            }
        }
        assert!(readability::grade(question.text(&en)) <= readability::max_grade(Band::Primary));
    }
}

/// A question's own `theme` decides the indicator it scores into; without
/// one it takes its section's. "About you" questions are never scored.
#[test]
fn a_question_can_score_into_another_indicator_than_its_section() {
    let text = |theme: &str| {
        format!(
            r#"
id = "themes"
version = 1
title = {{ en = "Themes" }}
[[locales]]
code = "en"
name = "English"
[[scoring]]
indicator = "respected"
positive_at = 0.5
min_answered = 1
[[scoring]]
indicator = "included"
positive_at = 0.5
min_answered = 1
[[sections]]
id = "s"
theme = "respected"
title = {{ en = "S" }}
stages = ["all"]
[[sections.questions]]
id = "q_listened"
kind = "yes_no"
text = {{ en = "Did they listen?" }}
options = [{{ code = "yes", label = {{ en = "Yes" }} }}, {{ code = "no", label = {{ en = "No" }} }}]
score = {{ yes = 1, no = 0 }}
[[sections.questions]]
id = "q_helped"
kind = "yes_no"
theme = "{theme}"
text = {{ en = "Did they help?" }}
options = [{{ code = "yes", label = {{ en = "Yes" }} }}, {{ code = "no", label = {{ en = "No" }} }}]
score = {{ yes = 1, no = 0 }}
"#
        )
    };
    let q = load_str("themes.toml", &text("included"))
        .unwrap()
        .questionnaire;
    let theme = |id: &str| q.question(&id.parse().unwrap()).unwrap().theme();
    assert_eq!(theme("q_listened"), Theme::Indicator(Indicator::Respected));
    assert_eq!(theme("q_helped"), Theme::Indicator(Indicator::Included));
    assert_eq!(
        q.sections()[0].theme(),
        Theme::Indicator(Indicator::Respected)
    );
    let helped = q.question(&"q_helped".parse().unwrap()).unwrap();
    let yes: survey_defs::AnswerSet = [(helped.ordinal(), survey_defs::Answer::Choice(0))]
        .into_iter()
        .collect();
    assert_eq!(
        survey_defs::score(&q, &yes),
        vec![
            (Indicator::Respected, None),
            (Indicator::Included, Some(true))
        ]
    );

    let err = load_str("themes.toml", &text("about_you")).unwrap_err();
    assert!(
        err.errors()
            .any(|d| d.line == 33 && d.message.contains("about_you questions are not scored")),
        "{err}"
    );
}

#[test]
fn valid_fixtures_load() {
    for file in fixtures("valid") {
        load_file(&file).unwrap_or_else(|e| panic!("{} failed:\n{e}", file.display()));
    }
}

#[test]
fn right_to_left_locale_is_described_and_used() {
    let file = package_dir().join("tests/fixtures/valid/rtl_arabic.toml");
    let q = load_file(&file).unwrap().questionnaire;
    let ar: Locale = "ar".parse().unwrap();
    let en: Locale = "en".parse().unwrap();
    let info = q.locale_info(&ar).unwrap();
    assert!(info.rtl());
    assert_eq!(info.dir(), "rtl");
    assert_eq!(info.name(), "العربية");
    assert_eq!(q.locale_info(&en).unwrap().dir(), "ltr");
    assert_eq!(q.default_locale(), &en);
    assert_eq!(q.title(&ar), "استبيان قصير");
    // An undeclared locale falls back to the default.
    assert_eq!(q.title(&"fr".parse().unwrap()), "A short survey");
    let question = q.question(&"q_safe_school".parse().unwrap()).unwrap();
    assert_eq!(question.text(&ar), "هل تشعر بالأمان في المدرسة؟");
    assert_eq!(question.options()[0].label(&ar), "دائمًا");
    assert_eq!(question.options()[0].read_aloud(&ar), "دائمًا");
    assert_eq!(question.help(&en), Some("Think about the last few weeks."));
    let no_read_aloud = q.question(&"q_sex".parse().unwrap()).unwrap();
    assert_eq!(no_read_aloud.read_aloud(&ar), no_read_aloud.text(&ar));
}

/// Each invalid fixture starts with `# expect: LINE: phrase`.
#[test]
fn each_invalid_fixture_reports_its_mistake_at_its_line() {
    let files = fixtures("invalid");
    assert!(files.len() >= 15, "only {} invalid fixtures", files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let header = text.lines().next().unwrap();
        let (line, phrase) = header
            .strip_prefix("# expect: ")
            .and_then(|rest| rest.split_once(": "))
            .unwrap_or_else(|| panic!("{} lacks an expect header", file.display()));
        let line: usize = line.parse().unwrap();
        let err = match load_file(&file) {
            Ok(_) => panic!("{} loaded but should fail", file.display()),
            Err(e) => e,
        };
        let found = err
            .errors()
            .any(|d| d.line == line && d.message.contains(phrase));
        assert!(
            found,
            "{}: expected an error at line {line} containing {phrase:?}, saw:\n{err}",
            file.display()
        );
        for d in &err.diagnostics {
            assert_eq!(d.file, file.display().to_string());
            assert!(d.column >= 1);
        }
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
id = "many"
version = 1
title = { en = "Many" }
[[locales]]
code = "en"
name = "English"
[[sections]]
id = "s"
theme = "safe"
title = { en = "S" }
stages = ["P9"]
[[sections.questions]]
id = "q"
kind = "yes_no"
text = { en = "Hi?" }
options = [{ code = "yes", label = { en = "Yes" } }, { code = "no", label = { en = "No" } }]
score = { yes = 1, no = 0, perhaps = 1 }
[[sections]]
id = "empty"
theme = "included"
title = { en = "E" }
"#;
    let err = load_str("many.toml", text).unwrap_err();
    let shown = err.to_string();
    for needle in [
        "many.toml:12:",
        "unknown stage \"P9\"",
        "many.toml:18:",
        "unknown option \"perhaps\"",
        "many.toml:20:",
        "is empty",
    ] {
        assert!(shown.contains(needle), "missing {needle:?} in:\n{shown}");
    }
    assert!(
        shown
            .lines()
            .all(|l| l.starts_with("many.toml:") && l.contains(": error: "))
    );
}

#[test]
fn hard_wording_warns_but_loads() {
    let text = r#"
id = "hard"
version = 1
title = { en = "Hard" }
[[locales]]
code = "en"
name = "English"
[[sections]]
id = "s"
theme = "about_you"
title = { en = "S" }
stages = ["P5"]
[[sections.questions]]
id = "q"
kind = "yes_no"
text = { en = "Do you experience considerable organisational difficulties regarding extracurricular participation?" }
options = [{ code = "yes", label = { en = "Yes" } }, { code = "no", label = { en = "No" } }]
"#;
    let loaded = load_str("hard.toml", text).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    let w = &loaded.warnings[0];
    assert_eq!((w.line, w.severity), (16, Severity::Warning));
    assert!(w.message.contains("primary limit"), "{}", w.message);
    assert!(w.to_string().starts_with("hard.toml:16:8: warning: "));
}

/// Hard help and a hard word in an answer each warn, at their own line,
/// even under a plain question.
#[test]
fn hard_help_and_hard_answers_warn_at_their_lines() {
    let text = r#"
id = "hard"
version = 1
title = { en = "Hard" }
[[locales]]
code = "en"
name = "English"
[[sections]]
id = "s"
theme = "about_you"
title = { en = "S" }
stages = ["P5"]
[[sections.questions]]
id = "q"
kind = "yes_no"
text = { en = "Do you like school?" }
help = { en = "Consider institutional characteristics, organisational arrangements and extracurricular opportunities." }
options = [
  { code = "yes", label = { en = "Yes" } },
  { code = "no", label = { en = "Unquestionably not" } },
]
"#;
    let loaded = load_str("hard.toml", text).unwrap();
    let shown: Vec<String> = loaded.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(shown.len(), 2, "expected two warnings, saw {shown:#?}");
    assert!(
        shown[0].starts_with("hard.toml:17:8: warning: the help of question \"q\"")
            && shown[0].contains("primary limit"),
        "{}",
        shown[0]
    );
    assert!(
        shown[1].starts_with("hard.toml:18:11: warning: the answer \"Unquestionably not\"")
            && shown[1].contains("\"Unquestionably\""),
        "{}",
        shown[1]
    );
}

#[test]
fn content_hash_ignores_line_endings_only() {
    let (name, text) = builtin_sources()[0];
    let unix = load_str(name, text).unwrap().questionnaire;
    let windows = load_str(name, &text.replace('\n', "\r\n"))
        .unwrap()
        .questionnaire;
    assert_eq!(unix.content_hash(), windows.content_hash());
    assert_eq!(unix.content_hash().len(), 64);
    let changed = load_str(
        name,
        &text.replace("Do you feel happy?", "Do you feel glad?"),
    )
    .unwrap()
    .questionnaire;
    assert_ne!(unix.content_hash(), changed.content_hash());
}
