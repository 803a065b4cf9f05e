//! The staff pages about taking part: the number of pupils opted out on a
//! sitting and the response rate that uses it, the letter to parents, and
//! the questionnaire's preview and printable version.

// Test code: a failed request should stop the test.
#![allow(clippy::unwrap_used)]

use sea_orm::{EntityTrait, PaginatorTrait};
use server::services::Actor;
use server::services::auth::Role;
use server::services::partnerships::{self, NewSettings};
use server::store::entities::{
    access_code, audit_log, page_save, response, response_held, response_in_progress, sitting,
};
use server::store::schools::{self, NewSchool};
use tests::{Pupil, TestApp, capture, csrf_of, signed_in_staff, spawn_app};

async fn text(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Posts `form` with the session's form token, taken from `from`.
async fn submit(
    client: &reqwest::Client,
    app: &TestApp,
    from: &str,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let (_, page) = text(client, app, from).await;
    let csrf = csrf_of(&page);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(form);
    client.post(app.url(path)).form(&all).send().await.unwrap()
}

async fn stored_opted_out(app: &TestApp, sitting_id: i32) -> i32 {
    sitting::Entity::find_by_id(sitting_id)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap()
        .opted_out
}

/// Another school in the same partnership as `near`'s, with rolls of 30.
async fn school_beside(app: &TestApp, cpp_id: i32, seed: &str, sector: &str) -> schools::School {
    schools::create_school(
        &app.state.db,
        NewSchool {
            cpp_id,
            seed_code: seed.into(),
            name: format!("School {seed}"),
            sector: sector.into(),
            rolls: [30; 7],
            is_demo: false,
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_number_opted_out_is_checked_kept_and_taken_off_the_roll() {
    let app = spawn_app().await;
    let class = app.sitting("P7", 5).await;
    let teacher = signed_in_staff(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(class.school_id),
    )
    .await;
    let progress = format!("/staff/sittings/{}", class.id);
    let action = format!("{progress}/opted-out");
    let (status, page) = text(&teacher, &app, &progress).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"name="opted_out" value="0""#),
        "expected the form with 0 recorded: {page}"
    );

    // Bad numbers come back with the reason and what was typed; nothing is stored.
    for (typed, reason) in [
        ("three", "whole number from 0 to 30"),
        ("2.5", "whole number from 0 to 30"),
        ("-1", "cannot be less than 0"),
        ("", "Enter how many pupils were opted out"),
        ("31", "must be 30 or fewer: the P7 roll of 30"),
    ] {
        let response = submit(&teacher, &app, &progress, &action, &[("opted_out", typed)]).await;
        assert_eq!(response.status(), 422, "{typed:?} should be refused");
        let page = response.text().await.unwrap();
        assert!(
            page.contains(reason) && page.contains(r#"class="error-summary""#),
            "{typed:?}: expected {reason:?} in an error summary, saw:\n{page}"
        );
        assert!(
            page.contains(&format!(r#"name="opted_out" value="{typed}""#)),
            "{typed:?}: expected the typed value kept in the form"
        );
        assert_eq!(stored_opted_out(&app, class.id).await, 0);
    }

    let saved = submit(&teacher, &app, &progress, &action, &[("opted_out", " 5 ")]).await;
    assert_eq!(saved.status(), 303);
    assert_eq!(stored_opted_out(&app, class.id).await, 5);
    let (_, page) = text(&teacher, &app, &progress).await;
    assert!(page.contains(r#"name="opted_out" value="5""#));
    let audited = audit_log::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .any(|e| {
            e.action == "opted-out-recorded"
                && e.detail == format!("sitting {}, 5 pupils opted out (was 0)", class.id)
        });
    assert!(audited, "expected the change in the audit log");

    // A second P7 class of the school may record at most the 25 left.
    let second = server::services::sittings::create_with_codes(
        &app.state.db,
        &app.state.secret,
        &Actor::Cli,
        server::store::sittings::NewSitting {
            label: "P7 Room 9".into(),
            ..server::store::sittings::NewSitting::new(
                &schools::school(&app.state.db, class.school_id)
                    .await
                    .unwrap()
                    .unwrap(),
                survey_defs::Stage::P7,
                app.state.catalogue.find("wellbeing").unwrap().version_id,
                tests::test_wave(
                    &app.state,
                    class.cpp_id,
                    app.state.catalogue.find("wellbeing").unwrap().version_id,
                )
                .await,
            )
        },
        2,
    )
    .await
    .unwrap()
    .0;
    let second_path = format!("/staff/sittings/{}", second.id);
    let refused = submit(
        &teacher,
        &app,
        &second_path,
        &format!("{second_path}/opted-out"),
        &[("opted_out", "26")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("must be 25 or fewer")
    );

    // A mop-up sitting is the same class: its count stays on the first.
    let mop_up = submit(
        &teacher,
        &app,
        &progress,
        &format!("{progress}/mop-up"),
        &[("codes", "1")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(mop_up.contains("(mop-up)"));
    let mop_up_id: i32 = sitting::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.mop_up_of == Some(class.id))
        .unwrap()
        .id;
    let mop_up_path = format!("/staff/sittings/{mop_up_id}");
    let refused = submit(
        &teacher,
        &app,
        &mop_up_path,
        &format!("{mop_up_path}/opted-out"),
        &[("opted_out", "1")],
    )
    .await;
    assert_eq!(refused.status(), 422);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("on the class&#x27;s first sitting")
    );
    assert_eq!(stored_opted_out(&app, mop_up_id).await, 0);

    // The rate: 1 finished of 30 on the roll less 5 opted out is 4%, where
    // against the whole roll it would be 3%.
    let pupil = Pupil::new(&app).await;
    pupil.start(&class.codes[0]).await;
    pupil.answer_all().await;
    pupil.finish().await;
    let (_, school_page) = text(
        &teacher,
        &app,
        &format!("/staff/schools/{}", class.school_id),
    )
    .await;
    assert!(
        school_page.contains(r#"<th scope="row">P7</th><td class="num">30</td><td class="num">5</td><td class="num">1</td><td class="num">0</td><td class="num">4%</td>"#),
        "expected P7: roll 30, 5 opted out, 1 finished, 4%:\n{school_page}"
    );

    // Another school's staff cannot record on this sitting.
    let other = school_beside(&app, class.cpp_id, "OTHER01", "primary").await;
    let stranger = signed_in_staff(
        &app,
        "stranger@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(other.id),
    )
    .await;
    let (_, own_page) = text(&stranger, &app, &format!("/staff/schools/{}", other.id)).await;
    let csrf = csrf_of(&own_page);
    let response = stranger
        .post(app.url(&action))
        .form(&[("csrf", csrf.as_str()), ("opted_out", "9")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(stored_opted_out(&app, class.id).await, 5);
}

/// The wave and partnership of `class`, with `modules_off` switched off and
/// `controller` named in the partnership's notices.
async fn set_partnership(app: &TestApp, cpp_id: i32, modules_off: &[&str], controller: &str) {
    let cpp = schools::cpp(&app.state.db, cpp_id).await.unwrap().unwrap();
    partnerships::save(
        &app.state.db,
        &Actor::Cli,
        &cpp,
        NewSettings {
            disabled_modules: modules_off.iter().map(|m| (*m).to_owned()).collect(),
            signposting: partnerships::default_signposting(),
            notices: server::domain::Notices {
                controller_name: controller.into(),
                ..Default::default()
            },
            languages: Vec::new(),
            drafts_confirmed: Vec::new(),
        },
    )
    .await
    .unwrap();
}

/// The text of a letter's "What it asks" part, from its heading to the next
/// one at the same level.
fn asks_part(letter: &str) -> &str {
    let start = letter.find("What it asks").unwrap();
    let end = letter[start..].find("It is anonymous").unwrap();
    &letter[start..start + end]
}

#[tokio::test]
async fn the_letter_says_what_the_partnership_asks_and_only_its_school_sees_it() {
    let app = spawn_app().await;
    let class = app.sitting("S4", 2).await;
    let version = app.state.catalogue.find("wellbeing").unwrap().version_id;
    let wave_id = tests::test_wave(&app.state, class.cpp_id, version).await;
    let wave = server::services::waves::get(&app.state.db, wave_id)
        .await
        .unwrap()
        .unwrap();
    let window = server::services::waves::window(&app.state.db, wave_id, class.cpp_id)
        .await
        .unwrap()
        .unwrap();
    let teacher = signed_in_staff(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(class.school_id),
    )
    .await;
    let letter_path = format!("/staff/schools/{}/letter?wave={wave_id}", class.school_id);

    // Linked from the school's page.
    let (_, school_page) = text(
        &teacher,
        &app,
        &format!("/staff/schools/{}", class.school_id),
    )
    .await;
    assert!(
        school_page.contains(&letter_path.replace('&', "&amp;"))
            || school_page.contains(&letter_path),
        "expected a link to the letter on the school's page"
    );

    // Nothing named yet: a clear placeholder for who runs it.
    let (status, letter) = text(&teacher, &app, &letter_path).await;
    assert_eq!(status, 200);
    assert!(letter.contains("has not yet named who is responsible"));

    set_partnership(
        &app,
        class.cpp_id,
        &["substance_use"],
        "City of Edinburgh Council",
    )
    .await;
    let (status, letter) = text(&teacher, &app, &letter_path).await;
    assert_eq!(status, 200);
    let opens = window.opens.format("%A %-d %B %Y").to_string();
    for expected in [
        wave.name.as_str(),
        "City of Edinburgh Council",
        opens.as_str(),
        "anonymous",
        "voluntary",
        // Escaped as the templates escape every slash.
        "&#x2f;partnerships&#x2f;S12000036&#x2f;privacy",
        "Tell the school by",
    ] {
        assert!(
            letter.contains(expected),
            "expected {expected:?} in the letter:\n{letter}"
        );
    }
    let asks = asks_part(&letter);
    // The school has every stage on its roll: both bands, by section.
    assert!(asks.contains("Pupils in P5 to P7") && asks.contains("Pupils in S1 to S4"));
    assert!(asks.contains("Feeling safe") && asks.contains("Being included"));
    // The sensitive module still on is named, with the stages it reaches;
    // the one switched off is not mentioned at all.
    assert!(
        asks.contains("Relationships and sexual health (S4)"),
        "expected the relationships module named for S4:\n{asks}"
    );
    assert!(
        !asks.contains("Smoking, vaping, alcohol and drugs"),
        "a module switched off must not be in the letter:\n{asks}"
    );
    set_partnership(&app, class.cpp_id, &[], "City of Edinburgh Council").await;
    let (_, letter) = text(&teacher, &app, &letter_path).await;
    assert!(asks_part(&letter).contains("Smoking, vaping, alcohol and drugs"));

    // A wave the partnership has no window in, and a wave that is no number.
    let (status, _) = text(
        &teacher,
        &app,
        &format!("/staff/schools/{}/letter?wave=99999", class.school_id),
    )
    .await;
    assert_eq!(status, 404);
    let (status, page) = text(
        &teacher,
        &app,
        &format!("/staff/schools/{}/letter?wave=soon", class.school_id),
    )
    .await;
    assert_eq!(status, 400);
    assert!(page.contains("Choose the survey wave"));

    // Another school's staff cannot open this school's letter.
    let other = school_beside(&app, class.cpp_id, "OTHER02", "secondary").await;
    let stranger = signed_in_staff(
        &app,
        "stranger@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(other.id),
    )
    .await;
    let (status, _) = text(&stranger, &app, &letter_path).await;
    assert_eq!(status, 403);
    // Their own secondary school's letter covers S1 to S4 only.
    let (status, own) = text(
        &stranger,
        &app,
        &format!("/staff/schools/{}/letter?wave={wave_id}", other.id),
    )
    .await;
    assert_eq!(status, 200);
    // Rolls are recorded for every stage, so the letter covers both bands.
    assert!(asks_part(&own).contains("Pupils in S1 to S4"));
}

/// Rows that the pupil journey writes.
async fn journey_rows(app: &TestApp) -> [u64; 5] {
    let db = &app.state.db;
    [
        response::Entity::find().count(db).await.unwrap(),
        response_held::Entity::find().count(db).await.unwrap(),
        response_in_progress::Entity::find()
            .count(db)
            .await
            .unwrap(),
        page_save::Entity::find().count(db).await.unwrap(),
        access_code::Entity::find().count(db).await.unwrap(),
    ]
}

#[tokio::test]
async fn the_preview_walks_every_page_and_saves_nothing() {
    let app = spawn_app().await;
    let class = app.sitting("S4", 2).await;
    let version = app.state.catalogue.find("wellbeing").unwrap().version_id;
    let wave_id = tests::test_wave(&app.state, class.cpp_id, version).await;
    set_partnership(&app, class.cpp_id, &["substance_use"], "").await;
    let teacher = signed_in_staff(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(class.school_id),
    )
    .await;
    let base = format!("/staff/schools/{}", class.school_id);

    // Only for signed-in staff.
    let anonymous = app.client();
    let response = anonymous
        .get(app.url(&format!("{base}/preview?wave={wave_id}&stage=S4")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/staff/login");

    // Choosing: a missing stage is a clear error.
    let (status, page) = text(&teacher, &app, &format!("{base}/preview?wave={wave_id}")).await;
    assert_eq!(status, 422);
    assert!(page.contains("Choose a stage, from P5 to S4"));

    let before = journey_rows(&app).await;
    let q = app
        .state
        .catalogue
        .find("wellbeing")
        .unwrap()
        .questionnaire
        .clone();
    let mut path = format!("{base}/preview?wave={wave_id}&stage=S4");
    let mut pages = 0;
    let mut seen = String::new();
    loop {
        let (status, page) = text(&teacher, &app, &path).await;
        assert_eq!(status, 200, "{path}");
        if !page.contains("Preview for staff") {
            assert!(page.contains("That was the last page"), "{page}");
            break;
        }
        pages += 1;
        assert!(pages < 200, "the preview never ended");
        assert!(
            !page.contains(r#"action="/survey""#),
            "the preview must not post answers"
        );
        assert!(!page.contains(r#"name="csrf""#));
        let index = capture(&page, r#"name="page" value="(\d+)""#).unwrap();
        assert_eq!(index, (pages - 1).to_string());
        seen.push_str(&page);
        // Answer something on the way, as a person trying it would.
        path = format!("{base}/preview?wave={wave_id}&stage=S4&page={index}&nav=next&q_q_sex=girl");
    }
    assert!(
        pages > 5,
        "expected the S4 questionnaire over several pages"
    );
    assert!(
        seen.contains("Asked only if the answer to"),
        "expected routing notes"
    );
    // Questions of the switched-off module are left out; those of a module
    // still on are there.
    for question in q.questions() {
        let Some(module) = question.module() else {
            continue;
        };
        if !question.stages().contains(survey_defs::Stage::S4) {
            continue;
        }
        let shown = seen.contains(&format!(r#"id="q-{}""#, question.id()));
        assert_eq!(
            shown,
            module.as_str() != "substance_use",
            "question {} of module {module}",
            question.id()
        );
    }
    // Back goes back, from the second page to the first.
    let (_, first) = text(
        &teacher,
        &app,
        &format!("{base}/preview?wave={wave_id}&stage=S4&page=1&nav=back"),
    )
    .await;
    assert!(first.contains(r#"name="page" value="0""#));
    assert_eq!(
        journey_rows(&app).await,
        before,
        "the preview must save nothing"
    );

    // The printable version: every page, options, help and routing.
    let (status, printed) = text(
        &teacher,
        &app,
        &format!("{base}/questionnaire/print?wave={wave_id}&stage=S4"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(printed.contains(&format!("Page {pages}:")));
    assert!(!printed.contains(&format!("Page {}:", pages + 1)));
    assert!(printed.contains("Asked only if the answer to"));
    assert!(printed.contains("prefer not to say"));
    assert!(printed.contains(
        "Switched off by the partnership, so not asked: Smoking, vaping, alcohol and drugs"
    ));
    let help = q
        .questions()
        .iter()
        .filter(|x| x.stages().contains(survey_defs::Stage::S4))
        .filter(|x| x.module().is_none_or(|m| m.as_str() != "substance_use"))
        .find_map(|x| x.help(q.default_locale()))
        .expect("a question with help text");
    let help = help.replace('\'', "&#x27;").replace('"', "&quot;");
    assert!(printed.contains(&help), "expected the help text {help:?}");
    assert_eq!(journey_rows(&app).await, before);

    // An analyst has no school pages.
    let analyst = signed_in_staff(
        &app,
        "analyst@council.scot",
        Role::Analyst,
        Some(class.cpp_id),
        None,
    )
    .await;
    let (status, _) = text(
        &analyst,
        &app,
        &format!("{base}/preview?wave={wave_id}&stage=S4"),
    )
    .await;
    assert_eq!(status, 403);
}

/// The school page gives a response rate per wave: pupils who took part in
/// one wave do not count towards another's rate. Newest wave first.
#[tokio::test]
async fn the_school_page_gives_each_wave_its_own_rate() {
    let app = spawn_app().await;
    let class = app.sitting("P7", 3).await;
    let pupil = Pupil::new(&app).await;
    pupil.start(&class.codes[0]).await;
    pupil.answer_all().await;
    pupil.finish().await;

    // Two pupils of the same school and stage in a later wave.
    let entry = app.state.catalogue.find("wellbeing").unwrap().clone();
    let later = server::services::waves::create(
        &app.state.db,
        &app.state.catalogue,
        &Actor::Cli,
        server::services::waves::NewWave {
            name: "2027 survey".into(),
            questionnaire_version_id: entry.version_id,
            threshold: 10,
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let completed = |i: u32| {
        (
            format!("{i:032x}"),
            chrono::NaiveDate::from_ymd_opt(2027, 3, 1).unwrap(),
            server::store::pupil::Completed {
                questionnaire_version_id: entry.version_id,
                cpp_id: class.cpp_id,
                school_id: class.school_id,
                stage: survey_defs::Stage::P7,
                sex: None,
                partial: false,
                answers: survey_defs::AnswerSet::default().encode(),
            },
        )
    };
    server::store::pupil::store_completed(
        &app.state.db,
        later.id,
        vec![completed(1), completed(2)],
    )
    .await
    .unwrap();

    let teacher = signed_in_staff(
        &app,
        "teacher@school.scot",
        Role::School,
        Some(class.cpp_id),
        Some(class.school_id),
    )
    .await;
    let (status, page) = text(
        &teacher,
        &app,
        &format!("/staff/schools/{}", class.school_id),
    )
    .await;
    assert_eq!(status, 200);
    let tables: Vec<&str> = page.split("<caption>").skip(1).collect();
    assert_eq!(tables.len(), 2, "one table per wave:\n{page}");
    let p7 = |table: &str| {
        table
            .split(r#"<th scope="row">P7</th>"#)
            .nth(1)
            .and_then(|row| row.split("</tr>").next())
            .map(str::to_owned)
            .unwrap()
    };
    let (newer, older) = (tables[0], tables[1]);
    assert!(newer.starts_with("2027 survey"), "{newer}");
    assert_eq!(
        p7(older),
        r#"<td class="num">30</td><td class="num">0</td><td class="num">1</td><td class="num">0</td><td class="num">3%</td>"#
    );
    assert_eq!(
        p7(newer),
        r#"<td class="num">30</td><td class="num">0</td><td class="num">2</td><td class="num">0</td><td class="num">6%</td>"#
    );
}
