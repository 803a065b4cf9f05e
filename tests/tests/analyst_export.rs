//! Analysts' downloads over HTTP: a coordinator exports their own partnership
//! and no other, school staff export nothing, an administrator exports
//! Scotland, every download is audited, and no published count is small.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use server::services::auth::Role;
use server::services::synth::{SynthOptions, synthesise};
use server::store::entities::{audit_log, response};
use tests::{signed_in_staff, spawn_app};

#[tokio::test]
async fn analysts_download_only_their_own_partnership_and_every_download_is_audited() {
    let app = spawn_app().await;
    let entry = app.state.catalogue.find("wellbeing").unwrap().clone();
    synthesise(
        &app.state.db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 600,
            seed: 5,
            cpps: 2,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let cpps: Vec<i32> = response::Entity::find()
        .select_only()
        .column(response::Column::CppId)
        .distinct()
        .into_tuple()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(cpps.len(), 2);
    let (mine, theirs) = (cpps[0], cpps[1]);
    let v = entry.version_id;

    let coordinator = signed_in_staff(
        &app,
        "coordinator@example.org",
        Role::Coordinator,
        Some(mine),
        None,
    )
    .await;
    let page = coordinator
        .get(app.url(&format!("/staff/cpps/{mine}/export")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("frequencies.csv"));

    let csv = coordinator
        .get(app.url(&format!("/staff/cpps/{mine}/export/{v}/frequencies.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let text = csv.text().await.unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().trim_start_matches('\u{feff}'),
        "cpp_code,cpp_name,school_seed,school_name,stage,sex,question_id,option_code,option_label,count,percent,status"
    );
    let mut suppressed = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let n = fields.len();
        let (count, status) = (fields[n - 3], fields[n - 1]);
        if status == "c" {
            suppressed += 1;
            assert!(
                count.is_empty(),
                "a suppressed cell must have no count: {line}"
            );
        } else if let Ok(count) = count.parse::<u64>() {
            assert!(
                count == 0 || count >= 10,
                "a count from 1 to 9 was published: {line}"
            );
        }
    }
    assert!(
        suppressed > 0,
        "expected some small cells in 300 pupils to be hidden"
    );

    // Downloads hold no secret, so a client that accepts gzip gets one.
    let gzipped = coordinator
        .get(app.url(&format!("/staff/cpps/{mine}/export/{v}/frequencies.csv")))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&gzipped.bytes().await.unwrap()[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, text, "the compressed download is the same file");

    for (file, media_type) in [
        ("indicators.csv", "text/csv; charset=utf-8"),
        ("response_rates.csv", "text/csv; charset=utf-8"),
        ("codebook.csv", "text/csv; charset=utf-8"),
        ("labels.R", "text/plain; charset=utf-8"),
        ("labels.sps", "text/plain; charset=utf-8"),
        ("labels.do", "text/plain; charset=utf-8"),
        ("metadata.json", "application/json"),
        ("report.html", "text/html; charset=utf-8"),
    ] {
        let response = coordinator
            .get(app.url(&format!("/staff/cpps/{mine}/export/{v}/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{file}");
        assert_eq!(
            response.headers()["content-type"],
            media_type,
            "{file} is sent as {media_type}"
        );
    }
    for path in [
        format!("/staff/cpps/{theirs}/export"),
        format!("/staff/cpps/{theirs}/export/{v}/frequencies.csv"),
        "/staff/export".to_owned(),
        format!("/staff/export/{v}/frequencies.csv"),
    ] {
        let response = coordinator.get(app.url(&path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            403,
            "a coordinator must not reach {path}"
        );
    }
    let unknown = coordinator
        .get(app.url(&format!("/staff/cpps/{mine}/export/{v}/passwords.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let admin = signed_in_staff(&app, "admin@example.org", Role::Admin, None, None).await;
    let national = admin
        .get(app.url(&format!("/staff/export/{v}/frequencies.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(national.status(), 200);
    assert!(national.text().await.unwrap().lines().count() > 1);

    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("export"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        audited.len(),
        11,
        "every download is recorded (the compressed one too), and nothing else"
    );
    assert!(audited.iter().all(|a| !a.detail.contains("answers")));

    let anonymous = app.client();
    let response = anonymous
        .get(app.url(&format!("/staff/cpps/{mine}/export/{v}/frequencies.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "not signed in: sent to the login page"
    );
}

/// Every run of the `exporter` command line is in the audit log before it
/// reads anything: an export, a dump of every answer and a count, each
/// naming the questionnaire version, the scope and what was written, and
/// the operating-system user; never anything a pupil answered. A database
/// opened read-only still gets its entry.
#[tokio::test]
async fn every_exporter_run_is_in_the_audit_log() {
    use clap::Parser;
    use exporter::cli::{Cli, run};
    use exporter::source::usage;

    let app = spawn_app().await;
    let entry = app.state.catalogue.find("wellbeing").unwrap().clone();
    synthesise(
        &app.state.db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 200,
            seed: 9,
            cpps: 1,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let cpp_id: i32 = response::Entity::find()
        .select_only()
        .column(response::Column::CppId)
        .into_tuple()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let code = server::store::schools::cpp(&app.state.db, cpp_id)
        .await
        .unwrap()
        .unwrap()
        .gss_code;
    let q = &entry.questionnaire;
    let spec = format!("{}@{}", q.id(), q.version());
    let what = format!("{spec} (version id {}) for {code}", entry.version_id);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("release");
    let dump = dir.path().join("answers.csv");
    let url = app.database_url.as_str();
    let exporter = |args: &[&str]| {
        let mut all = vec!["exporter", "--database-url", url, "--questionnaire", &spec];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).unwrap()
    };
    let (out_arg, dump_arg) = (out.display().to_string(), dump.display().to_string());
    run(exporter(&["--cpp", &code, "--out", &out_arg]))
        .await
        .unwrap();
    run(exporter(&["--cpp", &code, "--dump-answers", &dump_arg]))
        .await
        .unwrap();
    run(exporter(&["--cpp", &code, "--aggregate-only"]))
        .await
        .unwrap();
    let mut expected = vec![
        (
            usage::EXPORT,
            format!("{what} at threshold 10 to {}", out.display()),
        ),
        (
            usage::DUMP_ANSWERS,
            format!("every answer of {what} to {}", dump.display()),
        ),
        (usage::COUNT_ONLY, format!("counts only of {what}")),
    ];
    if let Some(file) = url.strip_prefix("sqlite://") {
        // Read-only: the audit entry still gets written.
        let path = file.split('?').next().unwrap();
        let read_only = format!("sqlite://{path}?mode=ro");
        let args = [
            "exporter",
            "--database-url",
            &read_only,
            "--questionnaire",
            &spec,
            "--cpp",
            &code,
            "--dump-answers",
            &dump_arg,
        ];
        run(Cli::try_parse_from(args).unwrap()).await.unwrap();
        expected.push((
            usage::DUMP_ANSWERS,
            format!("every answer of {what} to {}", dump.display()),
        ));
    }
    // A run that names no known partnership reads nothing and is not a use.
    let unknown = run(exporter(&["--cpp", "S12999999", "--aggregate-only"])).await;
    assert_eq!(unknown.unwrap_err().code, 3);

    let actor = usage::actor(usage::os_user().as_deref());
    let recorded: Vec<_> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.starts_with("exporter."))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        recorded
            .iter()
            .map(|e| (e.action.as_str(), e.detail.clone()))
            .collect::<Vec<_>>(),
        expected
            .iter()
            .map(|(action, detail)| (*action, detail.clone()))
            .collect::<Vec<_>>(),
        "one entry per run, saying what was run"
    );
    for e in &recorded {
        assert_eq!(e.actor, actor);
        assert!(actor.starts_with("exporter"), "{actor}");
        assert_eq!(e.actor_id, None, "no staff account ran it");
    }
}
