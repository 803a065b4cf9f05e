//! Languages: pupil-facing words come from locale files and questionnaire text
//! from the definition's locales or its translation files; `lang` and `dir`
//! follow the pupil's choice, which they make on the welcome page. Proven with
//! the shipped translations of the built-in questionnaire, a test Arabic
//! locale and a test translation of an extra questionnaire.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::{Pupil, SittingOptions, fixture, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_pupil_switches_to_a_right_to_left_language_on_the_welcome_page() {
    let app = spawn_app_with(|s| {
        s.questionnaires = Some(fixture("questionnaires"));
        s.locales = Some(fixture("locales"));
    })
    .await;
    let sitting = app
        .sitting_with(
            "P6",
            1,
            SittingOptions {
                questionnaire: Some("mini_bilingual".into()),
                ..Default::default()
            },
        )
        .await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);

    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<html lang="en" dir="ltr">"#),
        "English first"
    );
    assert!(
        welcome.contains("/welcome?lang=ar"),
        "the welcome page offers Arabic"
    );

    let switch = pupil.get("/welcome?lang=ar").await;
    assert_eq!(switch.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<html lang="ar" dir="rtl">"#),
        "expected lang=ar dir=rtl"
    );
    assert!(welcome.contains("ابدأ"), "expected the Arabic Start button");
    assert!(
        welcome.contains("لا أريد المشاركة"),
        "expected the Arabic decline button"
    );

    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="ar" dir="rtl">"#));
    assert!(
        page.contains("هل أنت ولد أم بنت؟"),
        "expected the question in Arabic"
    );
    assert!(
        page.contains("التالي"),
        "expected the Next button in Arabic"
    );
    // A string the test locale lacks falls back to English rather than a blank.
    assert!(page.contains("Stop for now"));
}

#[tokio::test]
async fn an_unknown_language_is_ignored() {
    let app = spawn_app_with(|s| s.questionnaires = Some(fixture("questionnaires"))).await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.enter_code(&sitting.codes[0]).await;
    pupil.get("/welcome?lang=xx").await;
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(welcome.contains(r#"<html lang="en" dir="ltr">"#));
}

/// The first page's question texts for a P6 pupil of the built-in
/// questionnaire, in `locale`, and its English, for comparison.
fn first_p6_questions(locale: &str) -> (Vec<String>, Vec<String>) {
    let q = &survey_defs::builtin().unwrap()[0];
    let plan = survey_defs::plan(
        q,
        survey_defs::Stage::P6,
        &survey_defs::ModuleSwitches::all_on(),
        &Default::default(),
    );
    let locale: survey_defs::Locale = locale.parse().unwrap();
    let english = q.default_locale().clone();
    plan.pages[0]
        .questions
        .iter()
        .map(|&o| {
            let question = q.question_by_ordinal(o).unwrap();
            (
                question.text(&locale).to_owned(),
                question.text(&english).to_owned(),
            )
        })
        .unzip()
}

#[tokio::test]
async fn a_pupil_picks_polish_and_answers_the_built_in_questionnaire_in_polish() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);

    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<a href="/welcome?lang=pl" lang="pl" dir="ltr">Polski</a>"#),
        "expected the welcome page to offer Polski, got:\n{welcome}"
    );
    // English is the source, never a draft.
    assert!(!welcome.contains("still being checked"));
    assert_eq!(pupil.get("/welcome?lang=pl").await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(welcome.contains(r#"<html lang="pl" dir="ltr">"#));
    assert!(
        welcome.contains("Zacznij"),
        "expected the Polish Start button"
    );
    // The shipped Polish is a draft, and the welcome page says so, in Polish.
    assert!(
        welcome.contains("To tłumaczenie jest nowe i wciąż jest sprawdzane."),
        "expected the draft notice in Polish"
    );

    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let (_, fields, page) = pupil.page("/survey").await;
    assert!(!fields.is_empty(), "expected questions on the first page");
    assert!(page.contains(r#"<html lang="pl" dir="ltr">"#));
    let (polish, english) = first_p6_questions("pl");
    for (pl, en) in polish.iter().zip(&english) {
        assert_ne!(pl, en, "the shipped Polish translates {en:?}");
        assert!(
            page.contains(pl.as_str()),
            "expected {pl:?} on the page:\n{page}"
        );
        assert!(!page.contains(en.as_str()), "expected no English {en:?}");
    }
    assert!(page.contains("Dalej"), "expected the Polish Next button");
}

#[tokio::test]
async fn arabic_pages_of_the_built_in_questionnaire_are_right_to_left() {
    let app = spawn_app().await;
    let sitting = app.sitting("S2", 1).await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"href="/welcome?lang=ar" lang="ar" dir="rtl""#),
        "expected the welcome page to offer Arabic"
    );
    assert_eq!(pupil.get("/welcome?lang=ar").await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(welcome.contains(r#"<html lang="ar" dir="rtl">"#));
    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(
        page.contains(r#"<html lang="ar" dir="rtl">"#),
        "expected lang=ar dir=rtl on the survey page"
    );
    let q = &survey_defs::builtin().unwrap()[0];
    let ar: survey_defs::Locale = "ar".parse().unwrap();
    let sex = q.sex_question().unwrap();
    assert!(
        page.contains(sex.text(&ar)),
        "expected the first question in Arabic:\n{page}"
    );
}

#[tokio::test]
async fn urdu_pages_are_right_to_left_too() {
    let app = spawn_app().await;
    let sitting = app.sitting("P5", 1).await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"href="/welcome?lang=ur" lang="ur" dir="rtl""#),
        "expected the welcome page to offer Urdu"
    );
    pupil.get("/welcome?lang=ur").await;
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(welcome.contains(r#"<html lang="ur" dir="rtl">"#));
    assert!(
        welcome.contains("شروع کریں"),
        "expected the Urdu Start button"
    );
}

#[tokio::test]
async fn an_extra_questionnaire_takes_its_translations_from_beside_it() {
    let app = spawn_app_with(|s| s.questionnaires = Some(fixture("questionnaires"))).await;
    let sitting = app
        .sitting_with(
            "P6",
            1,
            SittingOptions {
                questionnaire: Some("mini_bilingual".into()),
                ..Default::default()
            },
        )
        .await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains("/welcome?lang=pl"),
        "expected the translation in translations/ to offer Polski"
    );
    pupil.get("/welcome?lang=pl").await;
    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="pl" dir="ltr">"#));
    assert!(
        page.contains("Czy jesteś chłopcem czy dziewczynką?"),
        "expected the translated question:\n{page}"
    );
    assert!(page.contains("Chłopiec"), "expected the translated option");
    // Untranslated options show in English rather than a blank.
    assert!(
        page.contains("Girl"),
        "expected the English for a missing text"
    );
}

#[tokio::test]
async fn a_translation_in_the_questionnaires_directory_replaces_the_shipped_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("translations")).unwrap();
    let q = &survey_defs::builtin().unwrap()[0];
    let sex = q.sex_question().unwrap();
    let english = sex.text(q.default_locale());
    std::fs::write(
        dir.path().join("translations/wellbeing.pl.toml"),
        format!(
            "code = \"pl\"\nname = \"Polski\"\ndir = \"ltr\"\nquestionnaire = \"wellbeing\"\nstatus = \"draft\"\n[strings]\n\
             \"question.{}.text\" = {{ text = \"Poprawione pytanie\", source = \"{}\" }}\n",
            sex.id(),
            survey_defs::source_hash(english)
        ),
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let app = spawn_app_with(|s| s.questionnaires = Some(path)).await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    pupil.get("/welcome?lang=pl").await;
    pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
        .await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="pl" dir="ltr">"#));
    assert!(
        page.contains("Poprawione pytanie"),
        "expected the partner's own translation:\n{page}"
    );
}
