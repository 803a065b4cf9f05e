//! Loading a questionnaire with translation files of its own.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use survey_defs::{
    Locale, TranslationFile, builtin, builtin_sources, builtin_translation_sources,
    builtin_translations, load_str, load_translated, source_hash, source_texts,
};

const QUESTIONNAIRE: &str = r#"
id = "tiny"
version = 1
title = { en = "A tiny survey" }

[[locales]]
code = "en"
name = "English"

[[option_sets]]
id = "yn"
options = [
  { code = "yes", label = { en = "Yes" } },
  { code = "no", label = { en = "No" } },
]

[[sections]]
id = "about"
theme = "about_you"
title = { en = "About you" }
stages = ["all"]

[[sections.questions]]
id = "q_pet"
kind = "yes_no"
text = { en = "Do you have a pet?" }
option_set = "yn"
"#;

fn arabic(pet_source: &str) -> TranslationFile {
    let text = format!(
        "code = \"ar\"\nname = \"العربية\"\ndir = \"rtl\"\nquestionnaire = \"tiny\"\nstatus = \"draft\"\n[strings]\n\
         \"title\" = {{ text = \"استبيان صغير\", source = \"{}\" }}\n\
         \"question.q_pet.text\" = {{ text = \"هل عندك حيوان أليف؟\", source = \"{pet_source}\" }}\n\
         \"option_set.yn.yes.label\" = {{ text = \"نعم\", source = \"{}\" }}\n",
        source_hash("A tiny survey"),
        source_hash("Yes"),
    );
    TranslationFile::parse("tiny.ar.toml", &text).unwrap()
}

fn ar() -> Locale {
    "ar".parse().unwrap()
}

#[test]
fn every_text_has_an_id_and_its_english() {
    let texts = source_texts("tiny.toml", QUESTIONNAIRE).unwrap();
    let ids: Vec<(&str, &str, usize)> = texts
        .iter()
        .map(|t| (t.id.as_str(), t.english.as_str(), t.line))
        .collect();
    assert_eq!(
        ids,
        vec![
            ("title", "A tiny survey", 4),
            ("option_set.yn.yes.label", "Yes", 13),
            ("option_set.yn.no.label", "No", 14),
            ("section.about.title", "About you", 20),
            ("question.q_pet.text", "Do you have a pet?", 26),
        ]
    );
}

#[test]
fn a_translation_adds_its_language_without_changing_the_version() {
    let t = load_translated(
        "tiny.toml",
        QUESTIONNAIRE,
        &[arabic(&source_hash("Do you have a pet?"))],
    )
    .unwrap();
    let q = &t.loaded.questionnaire;
    let english_only = load_str("tiny.toml", QUESTIONNAIRE).unwrap().questionnaire;
    assert_eq!(q.content_hash(), english_only.content_hash());
    let info = q.locale_info(&ar()).unwrap();
    assert_eq!((info.name(), info.dir()), ("العربية", "rtl"));
    assert_eq!(q.title(&ar()), "استبيان صغير");
    assert_eq!(q.questions()[0].text(&ar()), "هل عندك حيوان أليف؟");
    assert_eq!(q.questions()[0].options()[0].label(&ar()), "نعم");
    // Missing: the English shows.
    assert_eq!(q.questions()[0].options()[1].label(&ar()), "No");
    assert_eq!(q.sections()[0].title(&ar()), "About you");
    let (_, coverage) = &t.coverage[0];
    assert_eq!((coverage.total, coverage.translated), (5, 3));
    assert_eq!(
        coverage.missing,
        vec!["option_set.yn.no.label", "section.about.title"]
    );
}

#[test]
fn a_stale_translation_is_not_shown() {
    let t = load_translated(
        "tiny.toml",
        QUESTIONNAIRE,
        &[arabic(&source_hash("Have you got a pet?"))],
    )
    .unwrap();
    let q = &t.loaded.questionnaire;
    assert_eq!(q.questions()[0].text(&ar()), "Do you have a pet?");
    assert_eq!(t.coverage[0].1.stale.len(), 1);
}

#[test]
fn a_translation_of_another_questionnaire_is_refused() {
    let mut other = arabic("x");
    other.questionnaire = Some("wellbeing".to_owned());
    let e = load_translated("tiny.toml", QUESTIONNAIRE, &[other])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "tiny.ar.toml:1:1: error: this translation is of questionnaire \"wellbeing\", not \"tiny\""
    );
    let e = load_translated("tiny.toml", QUESTIONNAIRE, &[arabic("x"), arabic("x")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("locale \"ar\" is given twice"), "{e}");
}

/// Every shipped translation is complete and made from the current English,
/// for the questionnaire, so `survey-defs check` has nothing to warn about.
#[test]
fn shipped_questionnaire_translations_are_complete_and_fresh() {
    let translations = builtin_translations().unwrap();
    assert_eq!(translations.len(), builtin_translation_sources().len());
    let (name, text) = builtin_sources()[0];
    let sources = source_texts(name, text).unwrap();
    for t in &translations {
        let c = t.coverage(sources.iter().map(|s| (s.id.as_str(), s.english.as_str())));
        assert!(
            c.is_complete() && t.status.is_some(),
            "{}: {} of {} translated; missing {:?}; stale {:?}; unknown {:?}",
            t.file,
            c.translated,
            c.total,
            c.missing,
            c.stale,
            c.unknown
        );
    }
    let q = &builtin().unwrap()[0];
    assert_eq!(q.locales().len(), translations.len() + 1);
}

#[test]
fn every_translation_file_beside_the_builtin_questionnaire_ships() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires/translations");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| format!("translations/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = builtin_translation_sources()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    listed.sort();
    assert_eq!(
        listed, on_disk,
        "BUILTIN_TRANSLATIONS must list every file in {dir:?}"
    );
}

#[test]
fn the_builtin_questionnaire_speaks_polish() {
    let q = &builtin().unwrap()[0];
    let pl: Locale = "pl".parse().unwrap();
    let s_bullied = q.question(&"s_bullied".parse().unwrap()).unwrap();
    assert_eq!(
        s_bullied.text(&pl),
        "Czy w ostatnich miesiącach ktoś się nad tobą znęcał?"
    );
    assert_eq!(q.locale_info(&pl).unwrap().name(), "Polski");
    assert_eq!(
        q.content_hash(),
        load_str(builtin_sources()[0].0, builtin_sources()[0].1)
            .unwrap()
            .questionnaire
            .content_hash()
    );
}
