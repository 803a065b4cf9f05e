//! Languages: pupil-facing words come from locale files and questionnaire text
//! from the definition's locales; `lang` and `dir` follow the pupil's choice,
//! which they make on the welcome page. Proven with an Arabic test locale.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tests::{Pupil, SittingOptions, fixture, spawn_app_with};

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
