//! The day of the survey in a real headless Chromium (driven by
//! playwright-core): the device check page reports green lines on a working
//! device and red ones for a blocked stylesheet or blocked cookies, in words,
//! with and without JavaScript; read-aloud uses a voice of the page's
//! language or says there is none; and a survey sent over a connection that
//! drops (cut for seconds, or a save whose answer is lost) ends with exactly
//! one stored response holding the answers given on those pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{EntityTrait, PaginatorTrait};
use server::store::entities::{response, response_held, response_in_progress};
use tests::{run_browser_script, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survey_day_pages_work_in_a_real_browser() {
    let app = spawn_app().await;
    // Read-aloud is checked on Polish pages: the partnership offers Polish.
    app.offer_languages("S12000036", &["pl"]).await;
    let s4 = app.sitting("S4", 5).await;
    let results = tempfile::tempdir().unwrap();
    let result_file = results.path().join("sent.json");
    let app_ref = &app;
    tokio::task::block_in_place(|| {
        run_browser_script(
            app_ref,
            "device",
            &[
                ("S4_CODES", s4.codes.join(",")),
                ("RESULT_FILE", result_file.display().to_string()),
            ],
        )
    });

    let sent: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&result_file).expect("the browser script wrote what it sent"),
    )
    .expect("the result file is JSON");
    let db = &app.state.db;
    // One pupil finished (s4[0]); the others' responses are still open and
    // hold no finished answers.
    let held = response_held::Entity::find().all(db).await.unwrap();
    let released = response::Entity::find().count(db).await.unwrap();
    assert_eq!(
        (held.len(), released),
        (1, 0),
        "expected exactly one finished response, held until its sitting closes"
    );
    let answers = survey_defs::AnswerSet::decode(&held[0].answers).expect("the response decodes");
    let q = &app
        .state
        .catalogue
        .get(held[0].questionnaire_version_id)
        .expect("the questionnaire is loaded")
        .questionnaire;
    for what in ["cut", "lost"] {
        let field = |key: &str| {
            sent[what][key]
                .as_str()
                .unwrap_or_else(|| panic!("the result file has {what}.{key}"))
                .to_owned()
        };
        let (name, value) = (field("name"), field("value"));
        let id = name
            .strip_prefix("q_")
            .expect("answer fields are named q_<id>");
        let question = q
            .questions()
            .iter()
            .find(|question| question.id().as_str() == id)
            .unwrap_or_else(|| panic!("no question {id}"));
        let expected = question
            .parse_answer(&[value.as_str()])
            .expect("the value sent is valid")
            .expect("a value was sent");
        assert_eq!(
            answers.get(question.ordinal()),
            Some(&expected),
            "expected the answer given on the page whose sending was {what} to be stored"
        );
    }
    // The other four pupils started and did not finish: their responses
    // are still open, and none of them was ended by a resend.
    let open = response_in_progress::Entity::find()
        .count(db)
        .await
        .unwrap();
    assert_eq!(
        open, 4,
        "expected the four unfinished pupils' responses open"
    );
}
