//! Languages: pupil-facing words come from locale files and questionnaire text
//! from the definition's locales or its translation files; `lang` and `dir`
//! follow the pupil's choice, which they make on the code screen, the
//! welcome page or any page, among the languages their partnership offers
//! (none but the questionnaire's own until it chooses some; a draft only
//! with a confirmation). Proven with the shipped translations of the
//! built-in questionnaire, a test Arabic locale and a test translation of
//! an extra questionnaire.
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
    app.offer_languages("S12000036", &["ar"]).await;
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
    app.offer_languages("S12000036", &["pl"]).await;
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
    app.offer_languages("S12000036", &["ar"]).await;
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
    app.offer_languages("S12000036", &["ur"]).await;
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
    app.offer_languages("S12000036", &["pl"]).await;
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
    app.offer_languages("S12000036", &["pl"]).await;
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

#[tokio::test]
async fn no_translation_is_offered_until_the_partnership_chooses_it() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(
        !code_page.contains("/?lang="),
        "no language offered anywhere, none on the code screen:\n{code_page}"
    );
    pupil.get("/?lang=pl").await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(welcome.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(!welcome.contains("/welcome?lang=pl"), "Polish not offered");
    pupil.get("/welcome?lang=pl").await;
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<html lang="en" dir="ltr">"#),
        "a language the partnership does not offer cannot be forced"
    );
}

#[tokio::test]
async fn a_pupil_chooses_polish_on_the_code_screen_before_the_code() {
    let app = spawn_app().await;
    app.offer_languages("S12000036", &["pl", "ar"]).await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(
        code_page.contains(r#"<a href="/?lang=pl" lang="pl" dir="ltr">Polski</a>"#),
        "expected the code screen to offer Polski:\n{code_page}"
    );
    assert!(code_page.contains(r#"href="/?lang=ar" lang="ar" dir="rtl""#));
    assert_eq!(pupil.get("/?lang=pl").await.status(), 303);
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(code_page.contains(r#"<html lang="pl" dir="ltr">"#));
    assert!(
        code_page.contains("Wpisz swój kod"),
        "the code screen in Polish"
    );
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<html lang="pl" dir="ltr">"#),
        "the choice made before the code is remembered"
    );
    assert!(welcome.contains("Zacznij"));
}

#[tokio::test]
async fn a_choice_the_pupils_own_partnership_does_not_offer_falls_back_to_english() {
    let app = spawn_app().await;
    // Another partnership offers Polish, so the code screen does.
    app.offer_languages("S12000033", &["pl"]).await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    assert!(
        pupil
            .get("/")
            .await
            .text()
            .await
            .unwrap()
            .contains("/?lang=pl")
    );
    pupil.get("/?lang=pl").await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(r#"<html lang="en" dir="ltr">"#),
        "Edinburgh does not offer Polish:\n{welcome}"
    );
}

#[tokio::test]
async fn the_language_can_be_changed_on_any_page_and_lasts_for_the_session() {
    let app = spawn_app().await;
    app.offer_languages("S12000036", &["uk"]).await;
    let sitting = app.sitting("S1", 2).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="en" dir="ltr">"#));
    assert!(
        page.contains(r#"class="language-link" href="/language?back=&#x2f;survey""#),
        "every pupil page links to the language choice:\n{page}"
    );
    let choose = pupil
        .get("/language?back=/survey")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        choose.contains(
            r#"value="uk" class="button secondary" lang="uk" dir="ltr">Українська</button>"#
        ),
        "{choose}"
    );
    assert!(
        !choose.contains(r#"value="pl""#),
        "only the partnership's languages"
    );
    // A language not offered changes nothing.
    let refused = pupil
        .post(
            "/language",
            &[("csrf", &pupil.csrf), ("lang", "pl"), ("back", "/survey")],
        )
        .await;
    assert_eq!(refused.status(), 303);
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="en" dir="ltr">"#));
    let switched = pupil
        .post(
            "/language",
            &[("csrf", &pupil.csrf), ("lang", "uk"), ("back", "/survey")],
        )
        .await;
    assert_eq!(switched.status(), 303);
    assert_eq!(
        switched.headers()["location"].to_str().unwrap(),
        "/survey",
        "back to the page the pupil came from"
    );
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="uk" dir="ltr">"#));
    let q = &survey_defs::builtin().unwrap()[0];
    let uk: survey_defs::Locale = "uk".parse().unwrap();
    assert!(
        page.contains(q.sex_question().unwrap().text(&uk)),
        "the question itself changes language:\n{page}"
    );
    // Going anywhere but one of our pages goes to the code screen.
    let away = pupil
        .post(
            "/language",
            &[
                ("csrf", &pupil.csrf),
                ("lang", "en"),
                ("back", "https://example.com/"),
            ],
        )
        .await;
    assert_eq!(away.headers()["location"].to_str().unwrap(), "/");

    // The next pupil on the device starts in English.
    let next = Pupil::new(&app).await;
    let code_page = next.get("/").await.text().await.unwrap();
    assert!(code_page.contains(r#"<html lang="en" dir="ltr">"#));
}

#[tokio::test]
async fn simplified_chinese_pages_carry_their_language_tag() {
    let app = spawn_app().await;
    app.offer_languages("S12000036", &["zh-Hans"]).await;
    let sitting = app.sitting("S3", 1).await;
    let pupil = Pupil::new(&app).await;
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(
        code_page.contains(r#"href="/?lang=zh-Hans" lang="zh-Hans" dir="ltr">简体中文</a>"#),
        "expected the code screen to offer Simplified Chinese:\n{code_page}"
    );
    pupil.get("/?lang=zh-Hans").await;
    pupil.start(&sitting.codes[0]).await;
    let (_, _, page) = pupil.page("/survey").await;
    assert!(page.contains(r#"<html lang="zh-Hans" dir="ltr">"#));
    let q = &survey_defs::builtin().unwrap()[0];
    let zh: survey_defs::Locale = "zh-Hans".parse().unwrap();
    assert!(
        page.contains(q.sex_question().unwrap().text(&zh)),
        "expected the first question in Chinese:\n{page}"
    );
}
