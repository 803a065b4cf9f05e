//! Every sitting belongs to a survey wave and keeps to its partnership's
//! fieldwork window in that wave: it closes at the window's end at the
//! latest, cannot be made outside it, and is brought forward when the window
//! is shortened. (A sitting that never closed would keep its abandoned
//! responses linked to their codes for ever.)

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use chrono::{Days, NaiveDate, Utc};
use server::services::sittings::{self, SittingError, SittingRequest, end_of_day};
use server::services::waves::{self, NewWave, WaveError};
use server::services::{Actor, waves::Wave};
use server::state::AppState;
use survey_defs::Stage;

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

async fn wave(state: &AppState, name: &str) -> Wave {
    waves::create(
        &state.db,
        &state.catalogue,
        &Actor::Cli,
        NewWave {
            name: name.into(),
            questionnaire_version_id: state.catalogue.latest()[0].version_id,
            threshold: 10,
            is_demo: false,
        },
    )
    .await
    .unwrap()
}

fn request(wave: &Wave, opens: Option<NaiveDate>, closes: Option<NaiveDate>) -> SittingRequest {
    SittingRequest {
        stage: Stage::P6,
        label: "P6".into(),
        codes: 2,
        wave_id: wave.id,
        opens,
        closes,
    }
}

fn refused_on(result: Result<impl std::fmt::Debug, SittingError>, field: &str) -> String {
    match result {
        Err(SittingError::Invalid(problems)) => {
            assert_eq!(problems.0[0].field, field, "{problems}");
            problems.to_string()
        }
        other => panic!("expected a refusal on {field}, got {other:?}"),
    }
}

#[tokio::test]
async fn a_sitting_keeps_to_its_wave_window_and_closes_at_its_end() {
    let (state, _dir) = common::prepared_state().await;
    let school = common::school(&state, "7719999", "Window Primary").await;
    let wave = wave(&state, "2027 survey").await;
    let create =
        |request| sittings::create(&state.db, &state.secret, &Actor::Cli, &school, request);

    // No window for the partnership yet: nothing can be made.
    let message = refused_on(create(request(&wave, None, None)).await, "wave");
    assert!(message.contains("no fieldwork window"), "{message}");

    let (opens, closes) = (today() - Days::new(3), today() + Days::new(20));
    waves::set_window(&state.db, &Actor::Cli, &wave, school.cpp_id, opens, closes)
        .await
        .unwrap();

    // No dates: open now, closing at the end of the window's last day.
    let (sitting, _) = create(request(&wave, None, None)).await.unwrap();
    assert_eq!(sitting.closes_at, Some(end_of_day(closes)));
    assert_eq!(sitting.wave_id, wave.id);
    assert_eq!(
        sitting.questionnaire_version_id,
        wave.questionnaire_version_id
    );

    // Outside the window: refused, field by field.
    refused_on(
        create(request(&wave, Some(opens - Days::new(1)), None)).await,
        "opens",
    );
    refused_on(
        create(request(&wave, None, Some(closes + Days::new(1)))).await,
        "closes",
    );
    let (inside, _) = create(request(&wave, None, Some(today() + Days::new(5))))
        .await
        .unwrap();
    assert_eq!(inside.closes_at, Some(end_of_day(today() + Days::new(5))));

    // A mop-up of a sitting whose last day has passed runs to the window's
    // end, no further.
    let mut ended = inside.clone();
    ended.closes_at = Some(Utc::now() - chrono::Duration::days(1));
    let (mop_up, _) = sittings::mop_up(&state.db, &state.secret, &Actor::Cli, &ended, 2)
        .await
        .unwrap();
    assert_eq!(mop_up.closes_at, Some(end_of_day(closes)));
    assert_eq!(mop_up.wave_id, wave.id);

    // Shortening the window brings every open sitting's end forward.
    let shorter = today() + Days::new(2);
    waves::set_window(&state.db, &Actor::Cli, &wave, school.cpp_id, opens, shorter)
        .await
        .unwrap();
    for id in [sitting.id, inside.id, mop_up.id] {
        let now = server::store::sittings::get(&state.db, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(now.closes_at, Some(end_of_day(shorter)), "sitting {id}");
    }

    // Once fieldwork has ended, neither a sitting nor a mop-up can be made.
    let past = (today() - Days::new(30), today() - Days::new(1));
    waves::set_window(&state.db, &Actor::Cli, &wave, school.cpp_id, past.0, past.1)
        .await
        .unwrap();
    let message = refused_on(create(request(&wave, None, None)).await, "wave");
    assert!(message.contains("ended"), "{message}");
    refused_on(
        sittings::mop_up(&state.db, &state.secret, &Actor::Cli, &sitting, 2).await,
        "wave",
    );
}

#[tokio::test]
async fn a_wave_has_a_unique_name_and_a_safe_threshold() {
    let (state, _dir) = common::prepared_state().await;
    let first = wave(&state, "2027 survey").await;
    assert_eq!(first.rule.threshold, 10);
    let again = |name: &str, threshold| {
        waves::create(
            &state.db,
            &state.catalogue,
            &Actor::Cli,
            NewWave {
                name: name.into(),
                questionnaire_version_id: first.questionnaire_version_id,
                threshold,
                is_demo: false,
            },
        )
    };
    for (name, threshold, field) in [
        ("2027 survey", 10, "name"),
        ("  ", 10, "name"),
        ("2028 survey", 1, "threshold"),
    ] {
        match again(name, threshold).await {
            Err(WaveError::Invalid { field: f, .. }) => assert_eq!(f, field, "{name}"),
            other => panic!("expected {name:?} with threshold {threshold} refused, got {other:?}"),
        }
    }
    let school = common::school(&state, "7719998", "Window Secondary").await;
    let refused = waves::set_window(
        &state.db,
        &Actor::Cli,
        &first,
        school.cpp_id,
        today(),
        today() - Days::new(1),
    )
    .await;
    assert!(matches!(
        refused,
        Err(WaveError::Invalid {
            field: "closes",
            ..
        })
    ));
    // The rule stays as made: renaming changes the name only.
    waves::rename(&state.db, &Actor::Cli, &first, "2027 wellbeing survey")
        .await
        .unwrap();
    let renamed = waves::get(&state.db, first.id).await.unwrap().unwrap();
    assert_eq!(renamed.name, "2027 wellbeing survey");
    assert_eq!(renamed.rule, first.rule);
}
