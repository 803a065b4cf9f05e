//! Concurrency: a thousand simultaneous retries of one page save, and of one
//! code redemption, each store exactly one result; two devices answering with
//! the same code at the same time never produce a corrupt or doubled response.
//! Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::store::entities::{access_code, page_save, response, response_in_progress};
use tests::{Pupil, TestApp, spawn_app};

const RETRIES: usize = 1_000;

async fn code_row(app: &TestApp, code: &str) -> access_code::Model {
    let parsed = server::domain::AccessCode::parse(code).unwrap();
    access_code::Entity::find()
        .filter(access_code::Column::CodeHash.eq(app.state.code_hash(&parsed)))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the code is stored")
}

fn answers_for(fields: &[tests::Field], pick_last: bool) -> Vec<(String, String)> {
    fields
        .iter()
        .map(|f| {
            let value = if f.number {
                "3".to_owned()
            } else if pick_last {
                f.options[f.options.len() - 1].clone()
            } else {
                f.options[0].clone()
            };
            (f.name.clone(), value)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_retries_of_one_page_save_store_one_row() {
    let app = spawn_app().await;
    let sitting = app.sitting("S2", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    let answers = answers_for(&fields, false);

    let statuses: Vec<u16> = join_all(
        (0..RETRIES).map(|_| async { pupil.save(&key, &answers, "next").await.status().as_u16() }),
    )
    .await;
    let not_redirected: Vec<&u16> = statuses.iter().filter(|s| **s != 303).collect();
    assert!(
        not_redirected.is_empty(),
        "expected every retry to be acknowledged with 303, saw {} others: {:?}",
        not_redirected.len(),
        &not_redirected[..not_redirected.len().min(10)]
    );

    let rid = code_row(&app, &sitting.codes[0])
        .await
        .response_id
        .expect("the code is started");
    let saves = page_save::Entity::find()
        .filter(page_save::Column::ResponseId.eq(rid.as_str()))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        saves.len(),
        1,
        "expected one stored page after {RETRIES} retries, found {}",
        saves.len()
    );
    assert_eq!(saves[0].page_key, key);
    let (_, stored) =
        server::services::survey::decode_page(&saves[0].answers).expect("the save decodes");
    assert_eq!(
        stored.len(),
        answers.len(),
        "the stored page holds every answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_retries_of_one_code_redemption_start_one_response() {
    let app = spawn_app().await;
    let sitting = app.sitting("P7", 2).await;

    // One session pressing Start a thousand times at once.
    let pupil = Pupil::new(&app).await;
    assert_eq!(pupil.enter_code(&sitting.codes[0]).await.status(), 303);
    let starts: Vec<String> = join_all((0..RETRIES).map(|_| async {
        let r = pupil
            .post("/welcome", &[("csrf", &pupil.csrf), ("action", "start")])
            .await;
        format!(
            "{} {}",
            r.status().as_u16(),
            r.headers()
                .get("location")
                .map(|l| l.to_str().unwrap_or(""))
                .unwrap_or("")
        )
    }))
    .await;
    // A Start that arrives with the session cookie an earlier Start already
    // moved on (code swapped for response) carries on into the survey; none
    // may fail or start a second response.
    assert!(
        starts.iter().all(|s| s == "303 /survey"),
        "expected every Start to lead to the survey, saw {:?}",
        starts.iter().find(|s| *s != "303 /survey")
    );
    assert!(starts.iter().any(|s| s == "303 /survey"));
    // And the same code typed again a thousand times at once.
    let typed: Vec<u16> = join_all(
        (0..RETRIES).map(|_| async { pupil.enter_code(&sitting.codes[0]).await.status().as_u16() }),
    )
    .await;
    assert!(
        typed.iter().all(|s| *s == 303),
        "expected every retype to resume"
    );

    // A thousand devices typing the second code and pressing Start at once.
    let devices: Vec<Pupil> = join_all((0..100).map(|_| Pupil::new(&app))).await;
    let second = sitting.codes[1].as_str();
    let joined: Vec<String> = join_all(devices.iter().cycle().take(RETRIES).map(
        |device| async move {
            let entered = device.enter_code(second).await.status().as_u16();
            let r = device
                .post("/welcome", &[("csrf", &device.csrf), ("action", "start")])
                .await;
            format!("{entered} {}", r.status().as_u16())
        },
    ))
    .await;
    assert!(
        joined.iter().all(|s| s == "303 303"),
        "expected every device to get in, saw {:?}",
        joined.iter().find(|s| *s != "303 303")
    );

    let db = &app.state.db;
    assert_eq!(
        response_in_progress::Entity::find()
            .count(db)
            .await
            .unwrap(),
        2,
        "expected exactly one started response per code"
    );
    for code in &sitting.codes {
        let row = code_row(&app, code).await;
        assert_eq!(row.state.0, server::domain::CodeState::Started);
        let rid = row
            .response_id
            .expect("a started code points at its response");
        assert!(
            response_in_progress::Entity::find_by_id(rid)
                .one(db)
                .await
                .unwrap()
                .is_some(),
            "the code points at the response that was started"
        );
    }
}

/// One device's run through the survey; stops quietly when the other device
/// has already finished the response.
async fn answer_and_finish(device: &Pupil<'_>, pick_last: bool) -> u16 {
    let mut path = "/survey".to_owned();
    for _ in 0..500 {
        let (key, fields, _) = device.page(&path).await;
        if key.is_empty() {
            break;
        }
        let response = device
            .save(&key, &answers_for(&fields, pick_last), "next")
            .await;
        assert!(
            !response.status().is_server_error(),
            "a save on one device while the other finishes must not fail, saw {}",
            response.status()
        );
        match response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap_or("").to_owned())
        {
            Some(next) if next.starts_with("/survey") => path = next,
            _ => break,
        }
    }
    device.finish().await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_devices_with_one_code_never_corrupt_a_response() {
    let app = spawn_app().await;
    let codes = 12;
    let sitting = app.sitting("S4", codes).await;
    let mut pairs = Vec::new();
    for code in &sitting.codes {
        let a = Pupil::new(&app).await;
        let b = Pupil::new(&app).await;
        assert_eq!(a.enter_code(code).await.status(), 303);
        assert_eq!(b.enter_code(code).await.status(), 303);
        pairs.push((a, b));
    }
    // Both devices press Start, answer differently and finish, all at once.
    let endings: Vec<(u16, u16)> = join_all(pairs.iter().map(|(a, b)| async move {
        let form_a = [("csrf", a.csrf.as_str()), ("action", "start")];
        let form_b = [("csrf", b.csrf.as_str()), ("action", "start")];
        let (sa, sb) = futures::join!(a.post("/welcome", &form_a), b.post("/welcome", &form_b));
        assert!(
            sa.status() == 303 && sb.status() == 303,
            "both devices start"
        );
        futures::join!(answer_and_finish(a, false), answer_and_finish(b, true))
    }))
    .await;
    for (a, b) in &endings {
        assert!(
            *a < 500 && *b < 500,
            "expected clean endings on both devices, saw {a} and {b}"
        );
    }

    let db = &app.state.db;
    server::services::sittings::close(
        app.state.closer(),
        &server::services::Actor::Cli,
        sitting.id,
    )
    .await
    .unwrap();
    let stored = response::Entity::find().all(db).await.unwrap();
    assert_eq!(
        stored.len(),
        codes,
        "expected exactly one completed response per code, found {}",
        stored.len()
    );
    let q = &app
        .state
        .catalogue
        .get(stored[0].questionnaire_version_id)
        .expect("the questionnaire is loaded")
        .questionnaire;
    for r in &stored {
        let answers = survey_defs::AnswerSet::decode(&r.answers).expect("the response decodes");
        assert!(!answers.is_empty(), "a finished response holds answers");
        for (ordinal, answer) in answers.iter() {
            let question = q
                .question_by_ordinal(ordinal)
                .unwrap_or_else(|| panic!("answer to unknown question {ordinal}"));
            question
                .check_answer(answer)
                .unwrap_or_else(|e| panic!("a stored answer is not valid: {e}"));
        }
    }
    for code in &sitting.codes {
        let row = code_row(&app, code).await;
        assert_eq!(row.state.0, server::domain::CodeState::Used);
        assert_eq!(row.response_id, None, "the link to the code is cut");
    }
    assert_eq!(
        response_in_progress::Entity::find()
            .count(db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(page_save::Entity::find().count(db).await.unwrap(), 0);
}
