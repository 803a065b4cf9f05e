//! Releases over HTTP and from the command line: results leave the system
//! only as stored, audited releases made after fieldwork closes; each
//! partnership's staff download their own partnership's releases and no
//! other; a late pupil reaches readers only through a new release that
//! shows no small change against the first; Scotland adds up from the
//! partnerships' releases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use server::services::auth::Role;
use server::services::synth::{SynthOptions, synthesise};
use server::store::entities::{audit_log, response};
use sha2::{Digest, Sha256};
use tests::{csrf_of, signed_in_staff, spawn_app};

/// Every cell of a release's CSV: (cpp, school, stage, sex, question,
/// option) to its count, `None` where hidden.
type Cells = HashMap<Vec<String>, Option<u64>>;

fn cells(csv: &[u8], key_columns: &[usize], count: usize, status: usize) -> Cells {
    let text = std::str::from_utf8(csv)
        .unwrap()
        .trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let key = key_columns.iter().map(|&i| r[i].to_owned()).collect();
            let value = if r[status].is_empty() {
                Some(r[count].parse().unwrap())
            } else {
                None
            };
            (key, value)
        })
        .collect()
}

fn table_cells(csv: &[u8]) -> Cells {
    cells(csv, &[0, 2, 4, 5, 6, 7], 9, 11)
}

fn rate_cells(csv: &[u8]) -> Cells {
    cells(csv, &[0, 2, 4], 5, 8)
}

async fn synthetic(app: &tests::TestApp, pupils: u64, seed: u64, cpps: usize) -> (i32, Vec<i32>) {
    let entry = app.state.catalogue.find("wellbeing").unwrap().clone();
    let summary = synthesise(
        &app.state.db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions { pupils, seed, cpps },
        &|_| {},
    )
    .await
    .unwrap();
    let mut ids: Vec<i32> = response::Entity::find()
        .select_only()
        .column(response::Column::CppId)
        .distinct()
        .into_tuple()
        .all(&app.state.db)
        .await
        .unwrap();
    ids.sort();
    (summary.wave_id, ids)
}

async fn release(
    app: &tests::TestApp,
    wave: i32,
    unit: exporter::release::Unit,
) -> Result<exporter::release::Made, exporter::release::ReleaseError> {
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    exporter::release::make(
        &app.state.db,
        &exporter::release::ReleaseRequest {
            wave_id: wave,
            unit,
            questionnaire: entry.questionnaire.clone(),
            by: exporter::release::Releaser {
                staff_id: None,
                name: "test".into(),
            },
            today: chrono::Utc::now().date_naive(),
        },
        &|_| {},
    )
    .await
}

async fn stored(app: &tests::TestApp, release: i32, name: &str) -> Vec<u8> {
    exporter::release::file(&app.state.db, release, name)
        .await
        .unwrap()
}

/// One more synthetic pupil in `cpp`'s first school, in the wave: a late
/// answer, as a mop-up after a release would bring.
async fn one_more_pupil(app: &tests::TestApp, wave: i32, cpp: i32) {
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    let template = response::Entity::find()
        .filter(response::Column::CppId.eq(cpp))
        .filter(response::Column::Partial.eq(false))
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    server::store::pupil::store_completed(
        &app.state.db,
        wave,
        vec![(
            "ffffffffffffffffffffffffffffffff".to_owned(),
            template.completed_on,
            server::store::pupil::Completed {
                questionnaire_version_id: entry.version_id,
                cpp_id: cpp,
                school_id: template.school_id,
                stage: template.stage.0,
                sex: template.sex.clone(),
                partial: false,
                answers: template.answers.clone(),
            },
        )],
    )
    .await
    .unwrap();
}

/// The analyst who downloads twice: one pupil is added after a release.
/// Computed afresh, the second results differ from the first by exactly 1
/// in hundreds of cells, which together are that pupil's answers. As a
/// release, every cell published in both is unchanged or changed by at
/// least the threshold, and every cell hidden before stays hidden.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_pupil_shows_no_small_change_between_two_releases() {
    let app = spawn_app().await;
    let (wave, cpps) = synthetic(&app, 1_200, 21, 2).await;
    let cpp = cpps[0];
    let first = release(&app, wave, exporter::release::Unit::Partnership(cpp))
        .await
        .unwrap();
    assert_eq!(first.release.number, 1);
    let again = release(&app, wave, exporter::release::Unit::Partnership(cpp)).await;
    assert!(
        matches!(again, Err(exporter::release::ReleaseError::Unchanged(1))),
        "{again:?}"
    );

    one_more_pupil(&app, wave, cpp).await;

    // The attack on results computed afresh, as downloads were before.
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    let fresh = exporter::export(
        &app.state.db,
        &exporter::ExportRequest {
            wave_id: wave,
            version_id: entry.version_id,
            questionnaire: entry.questionnaire.clone(),
            scope: exporter::Scope::Cpps(vec![cpp]),
            rule: exporter::Rule::default(),
            prior: Default::default(),
        },
    )
    .await
    .unwrap();
    let before = table_cells(&stored(&app, first.release.id, "frequencies.csv").await);
    let after_fresh = table_cells(&fresh.file("frequencies.csv").unwrap());
    let changed_by_one = before
        .iter()
        .filter(|(k, v)| {
            matches!((v, after_fresh.get(*k)), (Some(a), Some(Some(b))) if b.abs_diff(*a) == 1)
        })
        .count();
    assert!(
        changed_by_one > 50,
        "computed afresh, many cells change by exactly one pupil ({changed_by_one})"
    );

    let second = release(&app, wave, exporter::release::Unit::Partnership(cpp))
        .await
        .unwrap();
    assert_eq!(second.release.number, 2);
    for (file, read) in [
        ("frequencies.csv", table_cells as fn(&[u8]) -> Cells),
        ("indicators.csv", table_cells),
        ("response_rates.csv", rate_cells),
    ] {
        let one = read(&stored(&app, first.release.id, file).await);
        let two = read(&stored(&app, second.release.id, file).await);
        let mut compared = 0;
        for (key, new) in &two {
            let old = one.get(key).copied().flatten();
            match (one.get(key), new) {
                (Some(None), Some(n)) => {
                    panic!("{file} {key:?}: hidden in release 1, shown as {n} in release 2")
                }
                (_, Some(n)) => {
                    let change = n.abs_diff(old.unwrap_or(0));
                    assert!(
                        change == 0 || change >= 10,
                        "{file} {key:?}: {old:?} in release 1, {n} in release 2"
                    );
                    compared += 1;
                }
                (_, None) => {}
            }
        }
        assert!(compared > 0, "{file}: nothing published in both");
    }
}

/// Releases over HTTP: the administrator releases each partnership, then
/// Scotland; coordinators and analysts download only their own
/// partnership's stored files, byte for byte as the manifest lists them;
/// school staff and other partnerships get nothing; every release and
/// download is audited; a damaged stored file is never served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partnership_staff_download_only_their_own_stored_releases() {
    let app = spawn_app().await;
    let (wave, cpps) = synthetic(&app, 600, 5, 2).await;
    let (mine, theirs) = (cpps[0], cpps[1]);
    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin, None, None).await;
    let wave_page = format!("/staff/admin/waves/{wave}");
    let post_release = |unit: String| {
        let admin = admin.clone();
        let (page, app_url) = (
            app.url(&wave_page),
            app.url(&format!("{wave_page}/releases")),
        );
        async move {
            let html = admin.get(page).send().await.unwrap().text().await.unwrap();
            admin
                .post(app_url)
                .form(&[("csrf", csrf_of(&html)), ("unit", unit)])
                .send()
                .await
                .unwrap()
        }
    };
    // Scotland first is refused: its cells must add up from the
    // partnerships' releases.
    let refused = post_release("scotland".into()).await;
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(text.contains("Not released"), "{text}");
    for cpp in [mine, theirs] {
        let made = post_release(cpp.to_string()).await;
        assert_eq!(made.status(), 303, "{}", made.text().await.unwrap());
    }
    assert_eq!(post_release("scotland".into()).await.status(), 303);
    let releases = exporter::release::list(&app.state.db, Some(wave))
        .await
        .unwrap();
    assert_eq!(releases.len(), 3);
    let own = releases.iter().find(|r| r.cpp_id == Some(mine)).unwrap();
    let other = releases.iter().find(|r| r.cpp_id == Some(theirs)).unwrap();
    let scotland = releases.iter().find(|r| r.is_scotland()).unwrap();

    let coordinator = signed_in_staff(
        &app,
        "coordinator@example.org",
        Role::Coordinator,
        Some(mine),
        None,
    )
    .await;
    let analyst =
        signed_in_staff(&app, "analyst@example.org", Role::Analyst, Some(mine), None).await;
    let page = coordinator
        .get(app.url(&format!("/staff/cpps/{mine}/releases")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("/staff/releases/{}/frequencies.csv", own.id)));
    assert!(!page.contains(&format!("/staff/releases/{}/", other.id)));
    let manifest: serde_json::Value =
        serde_json::from_slice(&stored(&app, own.id, "manifest.json").await).unwrap();
    assert_eq!(manifest["rule"]["threshold"], 10);
    assert_eq!(manifest["release"], 1);
    for client in [&coordinator, &analyst] {
        for listed in manifest["files"].as_array().unwrap() {
            let name = listed["name"].as_str().unwrap();
            let got = client
                .get(app.url(&format!("/staff/releases/{}/{name}", own.id)))
                .send()
                .await
                .unwrap();
            assert_eq!(got.status(), 200, "{name}");
            let bytes = got.bytes().await.unwrap();
            assert_eq!(
                hex::encode(Sha256::digest(&bytes)),
                listed["sha256"].as_str().unwrap(),
                "{name} is served exactly as released"
            );
        }
    }
    let school = signed_in_staff(&app, "teacher@example.org", Role::School, None, None).await;
    for (client, path) in [
        (
            &coordinator,
            format!("/staff/releases/{}/frequencies.csv", other.id),
        ),
        (
            &coordinator,
            format!("/staff/releases/{}/frequencies.csv", scotland.id),
        ),
        (&coordinator, format!("/staff/cpps/{theirs}/releases")),
        (&coordinator, "/staff/releases".to_owned()),
        (
            &analyst,
            format!("/staff/releases/{}/frequencies.csv", other.id),
        ),
        (
            &school,
            format!("/staff/releases/{}/frequencies.csv", own.id),
        ),
    ] {
        let response = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    let scotland_csv = admin
        .get(app.url(&format!("/staff/releases/{}/frequencies.csv", scotland.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(scotland_csv.status(), 200);
    let scotland_cells = table_cells(&scotland_csv.bytes().await.unwrap());
    assert!(
        scotland_cells.keys().all(|k| k[0] == "All"),
        "Scotland's release holds Scotland only"
    );

    // Scotland adds up from the partnerships' releases: every published
    // Scotland cell is the sum of published partnership cells.
    let mut sums: HashMap<Vec<String>, Option<u64>> = HashMap::new();
    for r in [own, other] {
        for (k, v) in table_cells(&stored(&app, r.id, "frequencies.csv").await) {
            if k[1] != "All" {
                continue;
            }
            let mut key = k.clone();
            key[0] = "All".into();
            let sum = sums.entry(key).or_insert(Some(0));
            *sum = match (*sum, v) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
    }
    let mut checked = 0;
    for (k, v) in &scotland_cells {
        if let Some(v) = v {
            assert_eq!(sums.get(k).copied().flatten(), Some(*v), "{k:?}");
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} Scotland cells published");

    // Each school's staff read their own school's report, from the school
    // page, and no other school's.
    let schools = server::store::schools::schools_of_cpp(&app.state.db, mine)
        .await
        .unwrap();
    let (first, second) = (&schools[0], &schools[1]);
    let teacher = signed_in_staff(
        &app,
        "head@example.org",
        Role::School,
        Some(mine),
        Some(first.id),
    )
    .await;
    let school_page = teacher
        .get(app.url(&format!("/staff/schools/{}", first.id)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = format!("/staff/schools/{}/results/{}", first.id, own.id);
    assert!(school_page.contains(&link), "{school_page}");
    let report = teacher.get(app.url(&link)).send().await.unwrap();
    assert_eq!(report.status(), 200);
    let report = report.text().await.unwrap();
    assert!(report.contains(&first.name) && report.contains("<table"));
    assert_eq!(
        report.as_bytes(),
        stored(
            &app,
            own.id,
            &exporter::school_report::file_name(&first.seed_code)
        )
        .await,
        "the report is served as released"
    );
    for path in [
        format!("/staff/schools/{}/results/{}", second.id, own.id),
        format!(
            "/staff/releases/{}/{}",
            own.id,
            exporter::school_report::file_name(&first.seed_code)
        ),
    ] {
        let response = teacher.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 403, "{path}");
    }
    // The school's rows by stage are cells of the partnership's tables.
    let frequencies = table_cells(&stored(&app, own.id, "frequencies.csv").await);
    assert!(
        frequencies
            .keys()
            .any(|k| k[1] == first.seed_code && k[2] != "All"),
        "the partnership's files hold the school's rows by stage"
    );

    let unknown = coordinator
        .get(app.url(&format!("/staff/releases/{}/passwords.txt", own.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // A stored file changed behind the server's back is never served.
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE result_release_file SET content = {} \
             WHERE release_id = {} AND name = 'codebook.csv'",
            if tests::backend() == "postgres" {
                "'\\x00'::bytea"
            } else {
                "x'00'"
            },
            own.id
        ))
        .await
        .unwrap();
    let damaged = coordinator
        .get(app.url(&format!("/staff/releases/{}/codebook.csv", own.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(damaged.status(), 500);

    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.is_in(["release", "download"]))
        .all(&app.state.db)
        .await
        .unwrap();
    let count = |action: &str| audited.iter().filter(|a| a.action == action).count();
    assert_eq!(count("release"), 3);
    assert_eq!(
        count("download"),
        2 * manifest["files"].as_array().unwrap().len() + 2
    );

    let anonymous = app.client();
    let response = anonymous
        .get(app.url(&format!("/staff/releases/{}/frequencies.csv", own.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "not signed in: sent to the login page"
    );
}

/// A release waits for fieldwork to end: while the window is open, or a
/// sitting of the partnership is open, it is refused with a plain reason
/// and nothing is stored.
#[tokio::test]
async fn a_release_waits_for_fieldwork_to_close() {
    let app = spawn_app().await;
    let sitting = app.sitting("P6", 2).await;
    let wave: i32 = app
        .state
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            format!("SELECT wave_id FROM sitting WHERE id = {}", sitting.id),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    let refused = release(
        &app,
        wave,
        exporter::release::Unit::Partnership(sitting.cpp_id),
    )
    .await;
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("fieldwork in") && message.contains("runs until"),
        "{message}"
    );
    // With the window over but the sitting still open.
    let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
    server::store::waves::set_window(
        &app.state.db,
        wave,
        sitting.cpp_id,
        yesterday - chrono::Days::new(30),
        yesterday,
    )
    .await
    .unwrap();
    let refused = release(
        &app,
        wave,
        exporter::release::Unit::Partnership(sitting.cpp_id),
    )
    .await;
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("still open"), "{message}");
    assert!(
        exporter::release::list(&app.state.db, None)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The command line makes and records releases and writes stored ones out
/// byte for byte; it makes nothing while fieldwork is open; every run is in
/// the audit log first, with the operating-system user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_releases_and_writes_stored_releases() {
    use clap::Parser;
    use exporter::cli::{Cli, run};
    use exporter::source::usage;

    let app = spawn_app().await;
    let (wave, cpps) = synthetic(&app, 300, 9, 1).await;
    let wave_name = server::services::waves::get(&app.state.db, wave)
        .await
        .unwrap()
        .unwrap()
        .name;
    let code = server::store::schools::cpp(&app.state.db, cpps[0])
        .await
        .unwrap()
        .unwrap()
        .gss_code;
    let url = app.database_url.as_str();
    let exporter = |args: &[&str]| {
        let mut all = vec!["exporter", "--database-url", url];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    };
    run(exporter(&["release", "--wave", &wave_name, "--cpp", &code]))
        .await
        .unwrap();
    let made = exporter::release::list(&app.state.db, Some(wave))
        .await
        .unwrap();
    assert_eq!(made.len(), 1);
    let id = made[0].id.to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("release");
    run(exporter(&[
        "write",
        "--release",
        &id,
        "--out",
        &out.display().to_string(),
    ]))
    .await
    .unwrap();
    for f in &made[0].files {
        let written = std::fs::read(out.join(&f.name)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&written)),
            f.sha256,
            "{}",
            f.name
        );
    }
    run(exporter(&["list"])).await.unwrap();
    // Everything: the partnership is unchanged, so only Scotland is made.
    run(exporter(&["release", "--wave", &wave_name, "--all"]))
        .await
        .unwrap();
    let made = exporter::release::list(&app.state.db, Some(wave))
        .await
        .unwrap();
    assert_eq!(made.len(), 2);
    assert!(made.iter().any(|r| r.is_scotland()));
    let dump = dir.path().join("answers.csv");
    run(exporter(&[
        "dump-answers",
        "--wave",
        &wave_name,
        "--cpp",
        &code,
        "--out",
        &dump.display().to_string(),
    ]))
    .await
    .unwrap();
    assert!(std::fs::read_to_string(&dump).unwrap().lines().count() > 300);

    // A wave in the field: no release, no dump.
    let sitting = app.sitting("P6", 1).await;
    let open_wave = server::services::waves::all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .find(|w| w.name.starts_with("Test wave"))
        .unwrap()
        .name;
    let open_code = server::store::schools::cpp(&app.state.db, sitting.cpp_id)
        .await
        .unwrap()
        .unwrap()
        .gss_code;
    let refused = run(exporter(&[
        "release", "--wave", &open_wave, "--cpp", &open_code,
    ]))
    .await;
    assert_eq!(refused.unwrap_err().code, 6);
    let refused = run(exporter(&[
        "dump-answers",
        "--wave",
        &open_wave,
        "--cpp",
        &open_code,
        "--out",
        &dump.display().to_string(),
    ]))
    .await;
    assert_eq!(refused.unwrap_err().code, 6);
    let unknown = run(exporter(&[
        "release",
        "--wave",
        "No such wave",
        "--scotland",
    ]))
    .await;
    assert_eq!(unknown.unwrap_err().code, 3);

    let actor = usage::actor(usage::os_user().as_deref());
    let recorded: Vec<_> = audit_log::Entity::find()
        .filter(audit_log::Column::Actor.eq(actor.as_str()))
        .all(&app.state.db)
        .await
        .unwrap();
    let actions: Vec<&str> = recorded.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            usage::RELEASE,
            "release",
            usage::WRITE_RELEASE,
            usage::RELEASE,
            "release",
            usage::DUMP_ANSWERS,
            usage::RELEASE
        ],
        "one entry per run before it reads, and the release itself"
    );
    assert!(recorded.iter().all(|e| e.actor_id.is_none()));
}

/// A second wave shows a trend: the partnership's trends page puts each
/// wave's released shares side by side, every one of them a number its
/// release published, and nothing from a wave that has no release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_wave_shows_a_trend_from_released_numbers() {
    let app = spawn_app().await;
    let (first_wave, cpps) = synthetic(&app, 500, 31, 1).await;
    let cpp = cpps[0];
    let (second_wave, _) = synthetic(&app, 500, 32, 1).await;
    let (unreleased_wave, _) = synthetic(&app, 200, 33, 1).await;
    let mut releases = Vec::new();
    for wave in [first_wave, second_wave] {
        releases.push(
            release(&app, wave, exporter::release::Unit::Partnership(cpp))
                .await
                .unwrap()
                .release,
        );
    }
    let trends = exporter::trends::for_partnership(&app.state.db, cpp)
        .await
        .unwrap();
    assert_eq!(
        trends.waves.iter().map(|w| w.wave_id).collect::<Vec<_>>(),
        [first_wave, second_wave],
        "waves with a release only (not {unreleased_wave})"
    );
    assert!(!trends.indicators.is_empty() && !trends.questions.is_empty());
    let mut compared = 0;
    for (column, r) in releases.iter().enumerate() {
        let published: HashMap<(String, String, String), String> = {
            let bytes = stored(&app, r.id, "indicators.csv").await;
            let text = std::str::from_utf8(&bytes)
                .unwrap()
                .trim_start_matches('\u{feff}');
            csv::Reader::from_reader(text.as_bytes())
                .records()
                .map(|rec| rec.unwrap())
                .filter(|rec| &rec[2] == "All" && &rec[5] == "All" && rec[11].is_empty())
                .map(|rec| {
                    (
                        (rec[6].to_owned(), rec[7].to_owned(), rec[4].to_owned()),
                        rec[10].to_owned(),
                    )
                })
                .collect()
        };
        for table in &trends.indicators {
            let series = &table.series[0];
            assert!(series.label.ends_with("(all stages)"), "{}", series.label);
            if let exporter::trends::Point::Share { percent } = &series.points[column] {
                assert_eq!(
                    published.get(&(table.id.clone(), "positive".into(), "All".into())),
                    Some(percent),
                    "{}: the trend shows the released share",
                    table.id
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 4, "only {compared} shares compared");

    let coordinator = signed_in_staff(
        &app,
        "coord@example.org",
        Role::Coordinator,
        Some(cpp),
        None,
    )
    .await;
    let page = coordinator
        .get(app.url(&format!("/staff/cpps/{cpp}/trends")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for w in &trends.waves {
        assert!(page.contains(&w.name), "{}", w.name);
    }
}

/// Scotland's figures in one partnership report's summary, row by row:
/// for each indicator, the text of each stage column ("72%", "c" or "–"),
/// with the stage columns' names.
fn scotland_rows(report: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let summary = report
        .split("<table class=\"summary\">")
        .nth(1)
        .expect("the report has a summary")
        .split("</table>")
        .next()
        .unwrap();
    let header = summary.split("</thead>").next().unwrap();
    let levels: Vec<String> = header
        .split("<th scope=\"col\">")
        .skip(2)
        .map(|h| h.split("</th>").next().unwrap().to_owned())
        .collect();
    let rows = summary
        .split("<tr class=\"scotland\"><th scope=\"row\">Scotland</th>")
        .skip(1)
        .map(|row| {
            row.split("</tr>")
                .next()
                .unwrap()
                .split("<td>")
                .skip(1)
                .map(|cell| {
                    let cell = cell.split("</td>").next().unwrap();
                    cell.split("<br>").next().unwrap().to_owned()
                })
                .collect()
        })
        .collect();
    (levels, rows)
}

/// What Scotland's release publishes for each indicator, as the summary
/// shows it: for each indicator (in order), each stage level's share of
/// pupils with a positive result, "c" where a count it needs is hidden.
fn scotland_published(indicators: &[u8], levels: &[String]) -> Vec<Vec<String>> {
    let cells = table_cells(indicators);
    let text = std::str::from_utf8(indicators)
        .unwrap()
        .trim_start_matches('\u{feff}');
    let mut order: Vec<String> = Vec::new();
    for r in csv::Reader::from_reader(text.as_bytes()).records() {
        let id = r.unwrap()[6].to_owned();
        if !order.contains(&id) {
            order.push(id);
        }
    }
    let get = |id: &str, stage: &str, option: &str| {
        let key: Vec<String> = ["All", "All", stage, "All", id, option]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        cells.get(&key).copied()
    };
    order
        .iter()
        .map(|id| {
            levels
                .iter()
                .map(|level| {
                    let stage = if level == "All stages" { "All" } else { level };
                    match (get(id, stage, "positive"), get(id, stage, "All")) {
                        (None, None) | (Some(_), Some(Some(0))) => "–".to_owned(),
                        (Some(Some(positive)), Some(Some(base))) => {
                            format!("{:.0}%", positive as f64 / base as f64 * 100.0)
                        }
                        _ => "c".to_owned(),
                    }
                })
                .collect()
        })
        .collect()
}

/// Each partnership's report sets its indicators beside Scotland's, and
/// every Scotland figure it shows is one Scotland's release publishes: the
/// release of every partnership and Scotland computes Scotland first and
/// gives its published figures to each partnership's report; a partnership
/// released alone shows Scotland's newest release of the wave, dated, or no
/// Scotland row before Scotland has one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partnership_reports_show_only_figures_scotlands_release_publishes() {
    use clap::Parser;
    use exporter::cli::{Cli, run};

    let app = spawn_app().await;
    let (wave, cpps) = synthetic(&app, 450, 23, 3).await;
    assert_eq!(cpps.len(), 3);
    let first = release(&app, wave, exporter::release::Unit::Partnership(cpps[0]))
        .await
        .unwrap()
        .release;
    let report = String::from_utf8(stored(&app, first.id, "report.html").await).unwrap();
    assert!(
        !report.contains("class=\"scotland\""),
        "before Scotland has a release, no Scotland figure is shown"
    );

    let wave_name = server::services::waves::get(&app.state.db, wave)
        .await
        .unwrap()
        .unwrap()
        .name;
    let url = app.database_url.as_str();
    run(Cli::try_parse_from([
        "exporter",
        "--database-url",
        url,
        "release",
        "--wave",
        &wave_name,
        "--all",
    ])
    .unwrap())
    .await
    .unwrap();
    let made = exporter::release::list(&app.state.db, Some(wave))
        .await
        .unwrap();
    assert_eq!(made.len(), 4, "the first partnership is unchanged");
    let scotland = made.iter().find(|r| r.is_scotland()).unwrap();
    let national = stored(&app, scotland.id, "indicators.csv").await;
    let mut checked = 0;
    for r in made.iter().filter(|r| !r.is_scotland() && r.id != first.id) {
        let report = String::from_utf8(stored(&app, r.id, "report.html").await).unwrap();
        let (levels, rows) = scotland_rows(&report);
        assert!(levels.len() > 1 && !rows.is_empty(), "{}", r.unit);
        assert_eq!(
            rows,
            scotland_published(&national, &levels),
            "{}: Scotland's row differs from what Scotland's release publishes",
            r.unit
        );
        checked += rows.iter().flatten().filter(|c| c.ends_with('%')).count();
    }
    assert!(checked > 10, "Scotland's shares are shown ({checked})");

    // A late pupil: the first partnership's new release, made alone, shows
    // Scotland's newest release, dated.
    one_more_pupil(&app, wave, cpps[0]).await;
    let again = release(&app, wave, exporter::release::Unit::Partnership(cpps[0]))
        .await
        .unwrap()
        .release;
    let report = String::from_utf8(stored(&app, again.id, "report.html").await).unwrap();
    let (levels, rows) = scotland_rows(&report);
    assert_eq!(rows, scotland_published(&national, &levels));
    let day = scotland
        .released_at
        .date_naive()
        .format("%-d %B %Y")
        .to_string();
    assert!(
        report.contains(&format!("Scotland's release of this wave of {day}")),
        "the summary says which release Scotland's figures come from"
    );
}
