//! The pupil journey over real HTTP: codes, saving and resuming, finishing,
//! withdrawing, and every kind of bad input. Runs on SQLite, and on PostgreSQL
//! when TEST_DATABASE_URL is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::store::entities::{
    access_code, page_save, response, response_held, response_in_progress,
};
use tests::{Pupil, SittingOptions, spawn_app};

/// Responses stored, released or still held with others of their sitting.
async fn count_responses(app: &tests::TestApp) -> u64 {
    let db = &app.state.db;
    response::Entity::find().count(db).await.unwrap()
        + response_held::Entity::find().count(db).await.unwrap()
}

/// Closes a sitting, which releases every response it holds.
async fn close(app: &tests::TestApp, sitting_id: i32) {
    server::services::sittings::close(
        app.state.closer(),
        &server::services::Actor::Cli,
        sitting_id,
    )
    .await
    .unwrap();
}

async fn code_row(app: &tests::TestApp, code: &str) -> access_code::Model {
    let parsed = server::domain::AccessCode::parse(code).unwrap();
    access_code::Entity::find()
        .filter(access_code::Column::CodeHash.eq(app.state.code_hash(&parsed)))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the code is stored")
}

#[tokio::test]
async fn a_p5_pupil_completes_the_survey_and_the_link_to_the_code_is_cut() {
    let app = spawn_app().await;
    let sitting = app.sitting("P5", 3).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let pages = pupil.answer_all().await;
    assert!(
        pages >= 30,
        "expected about 40 one-question pages for P5, saw {pages}"
    );
    let done = pupil.finish().await;
    assert_eq!(done.status(), 200);
    let body = done.text().await.unwrap();
    assert!(
        body.contains("Childline"),
        "expected signposting on the finish page"
    );

    // Held, unlinked, until enough of the sitting have finished or it closes.
    assert_eq!(
        response::Entity::find().count(&app.state.db).await.unwrap(),
        0
    );
    assert_eq!(count_responses(&app).await, 1);

    // The spent code cannot be used again, and says so kindly.
    let again = Pupil::new(&app).await;
    let retry = again.enter_code(&sitting.codes[0]).await;
    assert_eq!(retry.status(), 422);
    assert!(retry.text().await.unwrap().contains("already been used"));

    close(&app, sitting.id).await;
    let stored = response::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(stored.len(), 1, "expected exactly one completed response");
    let r = &stored[0];
    assert_eq!(r.stage.0, survey_defs::Stage::P5);
    assert!(!r.partial);
    assert_eq!(
        r.completed_on,
        server::store::pupil::week_of(Utc::now().date_naive()),
        "a response is dated to its week, no finer"
    );
    assert_eq!(r.id.len(), 32, "response ids are 128 random bits");

    // Nothing anywhere refers to the code any more.
    let code = code_row(&app, &sitting.codes[0]).await;
    assert_eq!(code.state.0.as_str(), "used");
    assert_eq!(
        code.response_id, None,
        "the code must no longer point at a response"
    );
    assert_eq!(
        response_in_progress::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    let codes = access_code::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(
        codes
            .iter()
            .all(|c| c.response_id.as_deref() != Some(r.id.as_str())),
        "no code row may hold the response id"
    );
}

#[tokio::test]
async fn an_s4_pupil_completes_the_survey_with_grouped_pages() {
    let app = spawn_app().await;
    let sitting = app.sitting("S4", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let pages = pupil.answer_all().await;
    assert!(
        pages < 60,
        "secondary pages group questions; saw {pages} pages"
    );
    assert_eq!(pupil.finish().await.status(), 200);
    close(&app, sitting.id).await;
    let stored = response::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.stage.0, survey_defs::Stage::S4);
    let answers = survey_defs::AnswerSet::decode(&stored.answers).unwrap();
    assert!(
        answers.len() >= 60,
        "expected the S4 answers, saw {}",
        answers.len()
    );
    assert!(stored.sex.is_some(), "the sex question was answered");
}

#[tokio::test]
async fn a_pupil_resumes_on_another_device_where_they_left_off() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let first = Pupil::new(&app).await;
    first.start(&sitting.codes[0]).await;
    let (key1, fields1, _) = first.page("/survey").await;
    let answer = fields1[0].options[1].clone();
    first
        .save(&key1, &[(fields1[0].name.clone(), answer.clone())], "next")
        .await;
    let (key2, _, _) = first.page("/survey").await;
    assert_ne!(key1, key2);

    let second = Pupil::new(&app).await;
    assert_eq!(
        second.enter_code(&sitting.codes[0]).await.headers()["location"],
        "/survey"
    );
    let (resumed, _, _) = second.page("/survey").await;
    assert_eq!(
        resumed, key2,
        "expected to continue at the first unanswered page"
    );
    // Back on the new device says the question was answered, without
    // showing the answer (see the next test); the first device shows it.
    let (_, _, html) = second.page(&format!("/survey?p={key1}")).await;
    assert!(
        !html.contains(" checked"),
        "another device was shown an answer"
    );
    assert!(html.contains("This was answered before"));
    let (_, _, html) = first.page(&format!("/survey?p={key1}")).await;
    assert!(
        html.contains(&format!("value=\"{answer}\" checked")),
        "Back on the pupil's own device must show the earlier answer"
    );
}

#[tokio::test]
async fn replayed_and_concurrent_saves_neither_duplicate_nor_lose_answers() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let a = Pupil::new(&app).await;
    a.start(&sitting.codes[0]).await;
    let (key, fields, _) = a.page("/survey").await;
    let answer = vec![(fields[0].name.clone(), fields[0].options[0].clone())];
    for _ in 0..3 {
        assert_eq!(a.save(&key, &answer, "next").await.status(), 303);
    }
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );

    // The same code on a second device, saving at the same moment.
    let b = Pupil::new(&app).await;
    b.enter_code(&sitting.codes[0]).await;
    let (key2, fields2, _) = b.page("/survey").await;
    let answer2 = vec![(fields2[0].name.clone(), fields2[0].options[1].clone())];
    let saves = (0..20).map(|i| {
        let (who, k, ans) = if i % 2 == 0 {
            (&a, &key, &answer)
        } else {
            (&b, &key2, &answer2)
        };
        who.save(k, ans, "next")
    });
    for response in futures::future::join_all(saves).await {
        assert_eq!(response.status(), 303);
    }
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        2
    );

    // Finishing twice at once stores one response.
    a.answer_all().await;
    let (x, y) = tokio::join!(a.finish(), b.finish());
    assert_eq!(x.status(), 200);
    assert!(y.status() == 200 || y.status() == 303);
    assert_eq!(
        count_responses(&app).await,
        1,
        "a double finish must store one response"
    );
}

#[tokio::test]
async fn a_pupil_can_withdraw_and_nothing_is_kept() {
    let app = spawn_app().await;
    let sitting = app.sitting("S2", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    pupil
        .save(
            &key,
            &[(fields[0].name.clone(), fields[0].options[0].clone())],
            "next",
        )
        .await;
    let confirm = pupil.get("/withdraw").await.text().await.unwrap();
    assert!(
        confirm.contains("deleted"),
        "the confirmation says what happens"
    );
    let done = pupil
        .post("/withdraw", &[("csrf", &pupil.csrf), ("confirm", "yes")])
        .await;
    assert_eq!(done.status(), 200);
    assert_eq!(count_responses(&app).await, 0);
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        code_row(&app, &sitting.codes[0]).await.state.0.as_str(),
        "used"
    );
    assert_eq!(
        server::store::pupil::tally(&app.state.db, sitting.id)
            .await
            .unwrap(),
        vec![(server::domain::Ending::Withdrawn, 1)],
        "the sitting counts one withdrawal; the code says only that it was used"
    );
    // The browser session is gone: the survey page sends the pupil to the start.
    assert_eq!(pupil.get("/survey").await.headers()["location"], "/");
}

#[tokio::test]
async fn declining_is_counted_and_stores_no_answers() {
    let app = spawn_app().await;
    let sitting = app.sitting("P7", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.enter_code(&sitting.codes[0]).await;
    let welcome = pupil.get("/welcome").await.text().await.unwrap();
    // A P7 pupil is told, in the primary band's words, that nobody asks
    // their name or can tell which answers are theirs.
    let promise = "We do not ask your name. Nobody will know which answers are yours.";
    assert!(
        welcome.contains(promise),
        "expected the welcome page to say {promise:?}; it said:\n{welcome}"
    );
    let response = pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "decline")])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        code_row(&app, &sitting.codes[0]).await.state.0.as_str(),
        "used"
    );
    assert_eq!(
        server::store::pupil::tally(&app.state.db, sitting.id)
            .await
            .unwrap(),
        vec![(server::domain::Ending::Declined, 1)]
    );
    assert_eq!(count_responses(&app).await, 0);
    assert_eq!(
        response_in_progress::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn stopping_keeps_answers_and_clears_the_browser() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    let stop = pupil
        .save(
            &key,
            &[(fields[0].name.clone(), fields[0].options[0].clone())],
            "stop",
        )
        .await;
    assert_eq!(stop.status(), 200);
    assert!(stop.text().await.unwrap().contains("saved"));
    assert_eq!(pupil.get("/survey").await.headers()["location"], "/");
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        code_row(&app, &sitting.codes[0]).await.state.0.as_str(),
        "started"
    );
}

#[tokio::test]
async fn wrong_codes_get_kind_distinct_messages() {
    let app = spawn_app().await;
    let open = app.sitting("P6", 2).await;
    let closed = app
        .sitting_with(
            "P6",
            1,
            SittingOptions {
                closes_at: Some(Utc::now() - Duration::hours(1)),
                ..Default::default()
            },
        )
        .await;
    let later = app
        .sitting_with(
            "P6",
            1,
            SittingOptions {
                opens_at: Some(Utc::now() + Duration::hours(1)),
                ..Default::default()
            },
        )
        .await;
    let pupil = Pupil::new(&app).await;

    let mut typo = open.codes[0].clone().into_bytes();
    typo[0] = if typo[0] == b'A' { b'B' } else { b'A' };
    let typo = String::from_utf8(typo).unwrap();
    let cases = [
        (typo.as_str(), "does not look right"),
        ("0000-0000-000", "could not find"),
        ("", "Please type the code"),
        (closed.codes[0].as_str(), "has closed"),
        (later.codes[0].as_str(), "has not started yet"),
    ];
    for (code, expected) in cases {
        let response = pupil.enter_code(code).await;
        assert_eq!(response.status(), 422, "code {code:?}");
        let body = response.text().await.unwrap();
        assert!(
            body.contains(expected),
            "code {code:?}: expected {expected:?} in the page"
        );
        assert!(
            body.contains("error-summary"),
            "errors use the error summary pattern"
        );
    }
    // Sloppy typing of a real code is fine.
    let sloppy = open.codes[1].to_lowercase().replace('-', " ");
    assert_eq!(pupil.enter_code(&sloppy).await.status(), 303);
}

#[tokio::test]
async fn forged_oversized_and_undecodable_forms_are_refused_cleanly() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    let forged = pupil
        .post(
            "/code",
            &[("csrf", "deadbeef"), ("code", &sitting.codes[0])],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let forged_body = forged.text().await.unwrap();
    assert!(!forged_body.contains("panicked") && !forged_body.contains("SELECT"));

    // A form from another browser's session is refused too.
    let other = Pupil::new(&app).await;
    let cross = pupil
        .post(
            "/code",
            &[("csrf", &other.csrf), ("code", &sitting.codes[0])],
        )
        .await;
    assert_eq!(cross.status(), 403);

    let huge = "x".repeat(200_000);
    let big = pupil
        .post("/code", &[("csrf", &pupil.csrf), ("code", &huge)])
        .await;
    assert_eq!(big.status(), 413);

    // Bytes that are not UTF-8 are read as replacement characters, never as a
    // code: the pupil is told the code does not look right.
    let mut body = format!("csrf={}&code=", pupil.csrf).into_bytes();
    body.extend_from_slice(b"%ff%fe\xff\xfe");
    let raw = pupil
        .client
        .post(app.url("/code"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    assert!(raw.text().await.unwrap().contains("does not look right"));
    // Nothing was started by any of it.
    assert_eq!(
        code_row(&app, &sitting.codes[0]).await.state.0.as_str(),
        "unused"
    );
}

#[tokio::test]
async fn an_invalid_answer_is_shown_again_with_the_problem_named() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    let response = pupil
        .save(
            &key,
            &[(fields[0].name.clone(), "not-an-option".into())],
            "next",
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("error-summary"));
    assert_eq!(
        page_save::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn closing_a_sitting_keeps_in_progress_answers_as_partial_and_unlinked() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 2).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    pupil
        .save(
            &key,
            &[(fields[0].name.clone(), fields[0].options[0].clone())],
            "next",
        )
        .await;
    let closed = server::services::sittings::close(
        app.state.closer(),
        &server::services::Actor::Cli,
        sitting.id,
    )
    .await
    .unwrap();
    assert_eq!(closed, 1);
    let stored = response::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.partial);
    let code = code_row(&app, &sitting.codes[0]).await;
    assert_eq!((code.state.0.as_str(), code.response_id), ("used", None));
    assert_eq!(
        response_in_progress::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    // The pupil's next page sends them to the start; the other code is closed.
    assert_eq!(pupil.get("/survey").await.headers()["location"], "/");
    let late = Pupil::new(&app).await;
    assert!(
        late.enter_code(&sitting.codes[1])
            .await
            .text()
            .await
            .unwrap()
            .contains("has closed")
    );
}

#[tokio::test]
async fn pupil_pages_are_never_cached_and_carry_security_headers() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    for path in ["/", "/survey", "/review", "/withdraw"] {
        let response = pupil.get(path).await;
        let headers = response.headers();
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(headers.contains_key("permissions-policy"), "{path}");
    }
    let finish = pupil.finish().await;
    assert!(
        finish.headers()["clear-site-data"]
            .to_str()
            .unwrap()
            .contains("storage")
    );
}

#[tokio::test]
async fn guessing_runs_out_of_budget_but_a_class_mistyping_is_never_locked_out() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 30).await;
    let guesser = Pupil::new(&app).await;
    // Thirty pupils mistype their codes (typos cost nothing) and then get them right.
    for code in &sitting.codes {
        let mut typo = code.clone().into_bytes();
        typo.swap(0, 1);
        if typo[0] != typo[1] {
            let t = String::from_utf8(typo).unwrap();
            assert_eq!(guesser.enter_code(&t).await.status(), 422);
        }
    }
    for code in &sitting.codes {
        let pupil = Pupil::new(&app).await;
        assert_eq!(
            pupil.enter_code(code).await.status(),
            303,
            "a real code must always work"
        );
    }
    // Well-formed guesses drain the address's budget.
    let budget = server::state::CODE_FAILURE_LIMIT.burst as usize;
    let mut slowed = false;
    for _ in 0..budget + 5 {
        let guess = server::domain::AccessCode::generate().to_string();
        let body = guesser.enter_code(&guess).await.text().await.unwrap();
        if body.contains("wait one minute") {
            slowed = true;
            break;
        }
    }
    assert!(
        slowed,
        "expected guessing to be slowed after {budget} misses"
    );
}

#[tokio::test]
async fn a_sitting_whose_window_has_ended_is_closed_and_its_answers_kept_as_partial() {
    let app = spawn_app().await;
    let sitting = app
        .sitting_with(
            "S1",
            1,
            SittingOptions {
                closes_at: Some(Utc::now() + Duration::seconds(2)),
                ..Default::default()
            },
        )
        .await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let (key, fields, _) = pupil.page("/survey").await;
    pupil
        .save(
            &key,
            &[(fields[0].name.clone(), fields[0].options[0].clone())],
            "next",
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let closed = server::services::sittings::close_due(app.state.closer())
        .await
        .unwrap();
    assert_eq!(closed, 1);
    let stored = response::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.partial);
    assert_eq!(code_row(&app, &sitting.codes[0]).await.response_id, None);
}

/// Pages loaded one after another leave the session as it was: the cookie is
/// not encrypted and sent again with every page, only when something in it
/// changes (here, the pupil's display preferences).
#[tokio::test]
async fn the_session_cookie_is_only_sent_again_when_the_session_changes() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&sitting.codes[0]).await;
    let sets_cookie = |response: &reqwest::Response| {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap_or("").starts_with("pupil="))
    };
    let first = pupil.get("/survey").await;
    assert_eq!(first.status(), 200);
    for _ in 0..3 {
        let again = pupil.get("/survey").await;
        assert_eq!(again.status(), 200);
        assert!(!sets_cookie(&again), "an unchanged session was sent again");
    }
    let changed = pupil
        .post(
            "/prefs",
            &[
                ("csrf", &pupil.csrf),
                ("toggle", "large"),
                ("back", "/survey"),
            ],
        )
        .await;
    assert!(sets_cookie(&changed), "a changed session must be sent");
}

#[tokio::test]
async fn a_qr_code_link_leaves_no_code_in_the_address_or_the_next_page() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 1).await;
    let code = &sitting.codes[0];
    let client = app.client();

    // The slip's address is answered with a redirect to the bare code page.
    let scanned = client
        .get(app.url(&format!("/?code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(scanned.status(), 303, "expected a redirect from /?code=");
    let location = scanned.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/", "the redirect must not carry the code");
    let cookie = scanned.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        !cookie.contains(code.as_str()),
        "the code must travel encrypted, not in clear: {cookie}"
    );

    // The bare page shows the code in the field, once.
    let page = client.get(app.url("/")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"value="{code}""#)),
        "expected the code page to be filled in with {code}"
    );
    let again = client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !again.contains(code.as_str()),
        "the next load of the code page (the next pupil) must not show the code"
    );
}

/// Someone holding a pupil's printed code types it on another device while
/// the pupil is part-way through: they can carry on, but cannot read what
/// the pupil answered, not even through routing (a follow-up question that
/// an answer opened), and leaving a question blank does not erase it. The
/// pupil's own device still shows every answer.
#[tokio::test]
async fn a_code_holder_on_another_device_cannot_read_earlier_answers() {
    let app = spawn_app().await;
    let sitting = app.sitting("S2", 1).await;
    let code = &sitting.codes[0];
    let pupil = Pupil::new(&app).await;
    pupil.start(code).await;

    // The pupil answers up to the bullying question, says yes, and is asked
    // the follow-up.
    let bullied_page = loop {
        let (key, fields, _) = pupil.page("/survey").await;
        assert!(!key.is_empty(), "the bullying question never came");
        if fields.iter().any(|f| f.name == "q_s_bullied") {
            let answers: Vec<(String, String)> = fields
                .iter()
                .map(|f| {
                    let value = if f.name == "q_s_bullied" {
                        "yes".to_owned()
                    } else {
                        f.options.first().cloned().unwrap_or_else(|| "3".into())
                    };
                    (f.name.clone(), value)
                })
                .collect();
            assert_eq!(pupil.save(&key, &answers, "next").await.status(), 303);
            break key;
        }
        let answers: Vec<(String, String)> = fields
            .iter()
            .map(|f| {
                let value = f.options.first().cloned().unwrap_or_else(|| "3".into());
                (f.name.clone(), value)
            })
            .collect();
        assert_eq!(pupil.save(&key, &answers, "next").await.status(), 303);
    };
    let (follow_up_page, follow_up_fields, _) = pupil.page("/survey").await;
    assert!(
        follow_up_fields
            .iter()
            .any(|f| f.name == "q_s_bullied_where"),
        "expected the follow-up after a yes"
    );
    let checked = r#"value="yes" checked"#;
    let own = pupil.get(&format!("/survey?p={bullied_page}")).await;
    assert!(
        own.text().await.unwrap().contains(checked),
        "the pupil's own device shows the answer"
    );

    // Another device, same code.
    let other = Pupil::new(&app).await;
    assert_eq!(other.enter_code(code).await.status(), 303);
    let page = other
        .get(&format!("/survey?p={bullied_page}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(checked),
        "another device was shown the answer"
    );
    assert!(
        page.contains("This was answered before"),
        "expected the page to say the question was answered"
    );
    let follow_up = other
        .get(&format!("/survey?p={follow_up_page}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !follow_up.contains("q_s_bullied_where"),
        "the follow-up reveals the answer that opened it"
    );

    // Pressing Next without choosing keeps the pupil's answer.
    let (_, fields, _) = other.page(&format!("/survey?p={bullied_page}")).await;
    assert!(fields.iter().any(|f| f.name == "q_s_bullied"));
    assert_eq!(other.save(&bullied_page, &[], "next").await.status(), 303);
    let own = pupil.get(&format!("/survey?p={bullied_page}")).await;
    assert!(
        own.text().await.unwrap().contains(checked),
        "a blank page from another device erased the answer"
    );

    // Choosing again replaces it; that device then shows its own choice.
    let replaced = [("q_s_bullied".to_owned(), "no".to_owned())];
    assert_eq!(
        other.save(&bullied_page, &replaced, "next").await.status(),
        303
    );
    let now = other
        .get(&format!("/survey?p={bullied_page}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(now.contains(r#"value="no" checked"#));
}

/// Gives a sitting its own signposting, as if its partnership had set it
/// before the sitting was created.
async fn set_signposting(app: &tests::TestApp, sitting_id: i32, lines: &[(&str, &str)]) {
    use sea_orm::{ActiveModelTrait, Set};
    use server::store::entities::sitting;
    let signposts = lines
        .iter()
        .map(|(name, detail)| server::domain::Signpost {
            name: (*name).to_owned(),
            detail: (*detail).to_owned(),
        })
        .collect();
    sitting::ActiveModel {
        id: Set(sitting_id),
        signposting: Set(server::store::Json(signposts)),
        ..Default::default()
    }
    .update(&app.state.db)
    .await
    .unwrap();
}

fn assert_help(page: &str, expected: &str, after: &str) {
    assert!(
        page.contains(r#"class="signposting""#) && page.contains(expected),
        "expected the page after {after} to show where to get help ({expected:?}); it said:\n{page}"
    );
}

/// Finishing, stopping, withdrawing and declining each end on a page that
/// says where to get help, with the sitting's own signposting.
#[tokio::test]
async fn every_ending_says_where_to_get_help() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 4).await;
    let helpline = "Edinburgh Youth Helpline";
    set_signposting(&app, sitting.id, &[(helpline, "call 0131 000 0000")]).await;

    let finisher = Pupil::new(&app).await;
    finisher.start(&sitting.codes[0]).await;
    finisher.answer_all().await;
    let finished = finisher.finish().await;
    assert_eq!(finished.status(), 200);
    assert_help(&finished.text().await.unwrap(), helpline, "finishing");

    let stopper = Pupil::new(&app).await;
    stopper.start(&sitting.codes[1]).await;
    let (key, _, _) = stopper.page("/survey").await;
    let stopped = stopper.save(&key, &[], "stop").await;
    assert_eq!(stopped.status(), 200);
    assert_help(&stopped.text().await.unwrap(), helpline, "stopping");

    let withdrawer = Pupil::new(&app).await;
    withdrawer.start(&sitting.codes[2]).await;
    let withdrawn = withdrawer
        .post(
            "/withdraw",
            &[("csrf", &withdrawer.csrf), ("confirm", "yes")],
        )
        .await;
    assert_eq!(withdrawn.status(), 200);
    assert_help(&withdrawn.text().await.unwrap(), helpline, "withdrawing");

    let decliner = Pupil::new(&app).await;
    decliner.enter_code(&sitting.codes[3]).await;
    let declined = decliner
        .post(
            "/welcome",
            &[("csrf", &decliner.csrf), ("action", "decline")],
        )
        .await;
    assert_eq!(declined.status(), 200);
    assert_help(&declined.text().await.unwrap(), helpline, "declining");
}

/// A sitting whose partnership left signposting empty still tells the pupil
/// about Childline.
#[tokio::test]
async fn empty_signposting_falls_back_to_childline() {
    let app = spawn_app().await;
    let sitting = app.sitting("S1", 1).await;
    set_signposting(&app, sitting.id, &[]).await;
    let pupil = Pupil::new(&app).await;
    pupil.enter_code(&sitting.codes[0]).await;
    let declined = pupil
        .post("/welcome", &[("csrf", &pupil.csrf), ("action", "decline")])
        .await;
    assert_help(&declined.text().await.unwrap(), "Childline", "declining");
}

/// A pupil who leaves the device idle past the limit: the server refuses the
/// session (the pupil is sent to the code screen, which says why), the idle
/// page's own way back empties the browser, and the code still resumes.
#[tokio::test]
async fn an_idle_session_is_refused_and_the_code_still_resumes() {
    let app = tests::spawn_app_with(|settings| settings.pupil_idle_minutes = 0).await;
    let sitting = app.sitting("P6", 1).await;
    let pupil = Pupil::new(&app).await;
    // Typing the code records when the pupil was last seen (to the second).
    pupil.start(&sitting.codes[0]).await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let idle = pupil.get("/survey").await;
    assert_eq!(idle.status(), 303);
    // The notice names the partnership (the same for all its schools), so
    // that it can show the partnership's help.
    assert_eq!(idle.headers()["location"], "/?notice=timeout&cpp=S12000036");
    let screen = pupil
        .get("/?notice=timeout&cpp=S12000036")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        screen.contains("name=\"code\"") && screen.contains("You were away for a while"),
        "expected the code screen, saying why, after the time-out"
    );
    assert_help(&screen, "Childline", "the idle time-out");
    // The session is gone: the survey is not reachable without the code.
    assert_eq!(pupil.get("/survey").await.headers()["location"], "/");

    // The page's own time-out empties the browser too.
    let timeout = pupil.get("/timeout").await;
    assert_eq!(timeout.status(), 303);
    assert_eq!(timeout.headers()["location"], "/?notice=timeout");
    assert_eq!(
        timeout.headers()["clear-site-data"],
        "\"cache\", \"storage\""
    );

    // The response was kept: the code resumes it.
    let again = Pupil::new(&app).await;
    assert_eq!(
        again.enter_code(&sitting.codes[0]).await.headers()["location"],
        "/survey"
    );
}

/// The time-out notice shows the partnership's current signposting, and
/// Childline when the partnership is not known.
#[tokio::test]
async fn the_idle_notice_shows_the_partnerships_help() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let cpp = server::store::schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    let helpline = "Edinburgh Youth Helpline";
    server::services::partnerships::save(
        db,
        &server::services::Actor::Cli,
        &cpp,
        server::services::partnerships::NewSettings {
            disabled_modules: Vec::new(),
            signposting: vec![server::domain::Signpost {
                name: helpline.into(),
                detail: "call 0131 000 0000".into(),
            }],
            notices: Default::default(),
            languages: Vec::new(),
            drafts_confirmed: Vec::new(),
        },
    )
    .await
    .unwrap();
    let pupil = Pupil::new(&app).await;
    let known = pupil.get("/?notice=timeout&cpp=S12000036").await;
    assert_help(&known.text().await.unwrap(), helpline, "the idle time-out");
    for unknown in ["S99999999", "<script>", ""] {
        let page = pupil
            .get(&format!("/?notice=timeout&cpp={unknown}"))
            .await
            .text()
            .await
            .unwrap();
        assert_help(&page, "Childline", "the idle time-out");
    }
}

/// "Where your answers go" is linked from every pupil page, as a plain link,
/// and speaks in the words of the pupil's band: words for everyone before a
/// code is typed, then primary or secondary words.
#[tokio::test]
async fn where_your_answers_go_is_linked_everywhere_in_the_bands_words() {
    let app = spawn_app().await;
    let primary = app.sitting("P6", 1).await;
    let secondary = app.sitting("S2", 1).await;
    let link = r#"<a href="/your-answers""#;
    let everyone = "This page tells you what happens to the answers in this survey.";
    let primary_words = "This page tells you what happens to your answers.";
    let secondary_words = "This page explains what happens to your answers, and who can see what.";

    let pupil = Pupil::new(&app).await;
    let code_page = pupil.get("/").await.text().await.unwrap();
    assert!(
        code_page.contains(link),
        "expected the code page to link to it"
    );
    let before = pupil.get("/your-answers").await;
    assert_eq!(before.status(), 200);
    let before = before.text().await.unwrap();
    for expected in [
        everyone,
        "The survey never asks for a",
        "split apart for good",
        "Childline",
    ] {
        assert!(
            before.contains(expected),
            "expected the page before a code to say {expected:?}; it said:\n{before}"
        );
    }

    pupil.start(&primary.codes[0]).await;
    let (_, _, survey_page) = pupil.page("/survey").await;
    assert!(
        survey_page.contains(link),
        "expected a survey page to link to it"
    );
    let during = pupil.get("/your-answers").await.text().await.unwrap();
    assert!(
        during.contains(primary_words) && !during.contains(everyone),
        "expected a P6 pupil to get the primary words; the page said:\n{during}"
    );
    assert!(
        during.contains(r#"href="/survey""#),
        "expected a way back to the survey"
    );
    // The survey carries on where it was.
    assert_eq!(pupil.get("/survey").await.status(), 200);

    let older = Pupil::new(&app).await;
    older.enter_code(&secondary.codes[0]).await;
    let welcome = older.get("/welcome").await.text().await.unwrap();
    assert!(
        welcome.contains(link),
        "expected the welcome page to link to it"
    );
    let words = older.get("/your-answers").await.text().await.unwrap();
    assert!(
        words.contains(secondary_words) && words.contains(r#"href="/welcome""#),
        "expected an S2 pupil to get the secondary words and a way back; the page said:\n{words}"
    );

    // The ending pages link to it too.
    let ended = older
        .post("/welcome", &[("csrf", &older.csrf), ("action", "decline")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        ended.contains(link),
        "expected the ending page to link to it"
    );
}

/// Before a code, pupil pages link to pages that list every partnership's
/// accessibility statement and privacy notice; once the code is known, to
/// the pupil's own partnership's.
#[tokio::test]
async fn pupil_pages_link_to_their_partnerships_notices() {
    let app = spawn_app().await;
    let sitting = app.sitting("S3", 1).await;
    let pupil = Pupil::new(&app).await;
    let code_page = pupil.get("/").await.text().await.unwrap();
    for link in [r#"href="/accessibility""#, r#"href="/privacy""#] {
        assert!(
            code_page.contains(link),
            "expected the code page to have {link}"
        );
    }
    for general in ["/accessibility", "/privacy"] {
        let page = pupil.get(general).await;
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            page.contains("only once you type your code")
                && page.contains(&format!(r#"href="/partnerships/S12000036{general}""#)),
            "expected {general} to say the partnership is not known yet and list them:\n{page}"
        );
    }
    pupil.start(&sitting.codes[0]).await;
    let (_, _, survey_page) = pupil.page("/survey").await;
    for link in [
        r#"href="/partnerships/S12000036/accessibility""#,
        r#"href="/partnerships/S12000036/privacy""#,
    ] {
        assert!(
            survey_page.contains(link),
            "expected a survey page to have {link}"
        );
    }
    let statement = pupil
        .get("/partnerships/S12000036/accessibility")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        statement.contains("run by City of Edinburgh")
            && statement.contains("City of Edinburgh has not filled this in yet."),
        "expected the statement to name the partnership and say what it has not filled in:\n{statement}"
    );
}

/// The services module over HTTP: a pupil who ticks only the doctor gets one
/// page of the doctor's three questions and nothing about any other
/// service, and those answers are stored; one who ticks "None of these"
/// gets no follow-up; and once a partnership switches the module off, a
/// sitting made afterwards asks none of it.
#[tokio::test]
async fn the_services_module_follows_up_each_service_ticked_and_can_be_switched_off() {
    let app = spawn_app().await;
    let sitting = app.sitting("S3", 2).await;
    let q = survey_defs::builtin().unwrap().remove(0);
    let follow_ups = |pages: &[Vec<String>], prefix: &str| -> Vec<String> {
        pages
            .iter()
            .flatten()
            .filter(|name| name.starts_with(prefix))
            .cloned()
            .collect()
    };

    let doctor = Pupil::new(&app).await;
    doctor.start(&sitting.codes[0]).await;
    let pages = doctor
        .answer_all_with(|name| (name == "q_s_services").then_some(&["doctor"][..]))
        .await;
    let services = pages
        .iter()
        .position(|p| p.iter().any(|n| n == "q_s_services"))
        .expect("expected the services question");
    let doctors_page = [
        "q_s_svc_doctor_listened",
        "q_s_svc_doctor_retold",
        "q_s_svc_doctor_helped",
    ];
    assert_eq!(
        pages[services + 1],
        doctors_page,
        "expected the doctor's page after the services page"
    );
    assert_eq!(
        follow_ups(&pages, "q_s_svc_"),
        doctors_page,
        "expected no other service's questions"
    );
    assert_eq!(doctor.finish().await.status(), 200);

    let none = Pupil::new(&app).await;
    none.start(&sitting.codes[1]).await;
    let pages = none
        .answer_all_with(|name| (name == "q_s_services").then_some(&["none"][..]))
        .await;
    assert!(pages.iter().flatten().any(|n| n == "q_s_services"));
    assert_eq!(follow_ups(&pages, "q_s_svc_"), Vec::<String>::new());
    assert_eq!(none.finish().await.status(), 200);

    // The doctor's answers were stored with the response, and no others.
    close(&app, sitting.id).await;
    let stored = response::Entity::find().all(&app.state.db).await.unwrap();
    assert_eq!(stored.len(), 2);
    let answered: Vec<Vec<String>> = stored
        .iter()
        .map(|r| {
            survey_defs::AnswerSet::decode(&r.answers)
                .unwrap()
                .iter()
                .map(|(o, _)| q.questions()[usize::from(o)].id().to_string())
                .filter(|id| id.starts_with("s_svc_"))
                .collect()
        })
        .collect();
    assert!(
        answered.contains(&vec![
            "s_svc_doctor_listened".to_owned(),
            "s_svc_doctor_retold".to_owned(),
            "s_svc_doctor_helped".to_owned(),
        ]) && answered.contains(&Vec::new()),
        "expected the doctor's three answers in one response and none in the other, saw {answered:?}"
    );

    // The partnership switches the module off: new sittings copy that.
    let db = &app.state.db;
    let cpp = server::store::schools::cpp_by_code(db, "S12000036")
        .await
        .unwrap()
        .unwrap();
    server::services::partnerships::save(
        db,
        &server::services::Actor::Cli,
        &cpp,
        server::services::partnerships::NewSettings {
            disabled_modules: vec!["services".into()],
            signposting: Vec::new(),
            notices: Default::default(),
            languages: Vec::new(),
            drafts_confirmed: Vec::new(),
        },
    )
    .await
    .unwrap();
    let school = server::store::schools::school(db, sitting.school_id)
        .await
        .unwrap()
        .unwrap();
    let version_id = app.state.catalogue.find("wellbeing").unwrap().version_id;
    let wave_id = tests::test_wave(&app.state, cpp.id, version_id).await;
    for stage in [survey_defs::Stage::P6, survey_defs::Stage::S3] {
        let (off, codes) = server::services::sittings::create(
            db,
            &app.state.secret,
            &server::services::Actor::Cli,
            &school,
            server::services::sittings::SittingRequest {
                stage,
                label: format!("{stage} without services"),
                codes: 1,
                wave_id,
                opens: None,
                closes: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(off.disabled_modules.0, vec!["services".to_owned()]);
        let pupil = Pupil::new(&app).await;
        pupil.start(&codes[0].to_string()).await;
        // Every service ticked, were it asked.
        let pages = pupil
            .answer_all_with(|name| {
                name.ends_with("_services")
                    .then_some(&["school_nurse", "doctor", "police"][..])
            })
            .await;
        let band = match stage.band() {
            survey_defs::Band::Primary => "p",
            survey_defs::Band::Secondary => "s",
        };
        let (question, follow_up) = (format!("q_{band}_services"), format!("q_{band}_svc_"));
        assert!(
            pages
                .iter()
                .flatten()
                .all(|n| *n != question && !n.starts_with(&follow_up)),
            "expected no services questions at {stage} once the module is off"
        );
        assert!(pages.len() > 20, "the rest of the survey is still asked");
    }
}
