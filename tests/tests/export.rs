//! The exporter end to end: synthetic responses stored through the server's
//! own storage path, exported, and the files checked as a reader would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;

use exporter::{ExportRequest, Rule, Scope};
use server::services::synth::{SynthOptions, synthesise};
use tests::spawn_app;

#[path = "../../exporter/tests/release/attack.rs"]
mod attack;

const HEADER: &str = "cpp_code,cpp_name,school_seed,school_name,stage,sex,question_id,option_code,option_label,count,percent,status";

/// Parses a CSV file the exporter wrote: checks the BOM and CRLF, returns
/// the header and rows as maps.
fn read_csv(bytes: &[u8]) -> (String, Vec<HashMap<String, String>>) {
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "CSV must start with a BOM"
    );
    let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
    assert!(text.contains("\r\n"), "CSV lines must end in CRLF");
    let header = text.split("\r\n").next().expect("a first line").to_owned();
    let mut records = parse_csv(text).into_iter();
    let names = records.next().expect("a header");
    let rows = records
        .map(|r| {
            assert_eq!(r.len(), names.len(), "every row has every column");
            names.iter().cloned().zip(r).collect()
        })
        .collect();
    (header, rows)
}

/// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

type Key = (String, String, String, String, String, String); // cpp, school, stage, sex, question, option

fn index(rows: &[HashMap<String, String>]) -> HashMap<Key, Option<u64>> {
    rows.iter()
        .map(|r| {
            let key = (
                r["cpp_code"].clone(),
                r["school_seed"].clone(),
                r["stage"].clone(),
                r["sex"].clone(),
                r["question_id"].clone(),
                r["option_code"].clone(),
            );
            let count = if r["status"] == "c" {
                assert!(r["count"].is_empty() && r["percent"].is_empty());
                None
            } else {
                assert_eq!(r["status"], "");
                Some(r["count"].parse::<u64>().expect("a published count"))
            };
            (key, count)
        })
        .collect()
}

/// For a relation total = sum(parts) among published rows: when all are
/// published the sum holds; exactly one hidden cell would be derivable.
fn check_relation(cells: &HashMap<Key, Option<u64>>, total: &Key, parts: &[Key], what: &str) {
    let Some(&t) = cells.get(total) else {
        return;
    };
    let values: Vec<Option<u64>> = parts.iter().filter_map(|p| cells.get(p).copied()).collect();
    let members = std::iter::once(t).chain(values.iter().copied());
    let hidden = members.clone().filter(Option::is_none).count();
    assert_ne!(
        hidden, 1,
        "{what}: one hidden cell in {total:?} could be derived"
    );
    if hidden == 0 {
        let sum: u64 = values.iter().map(|v| v.unwrap_or(0)).sum();
        assert_eq!(t, Some(sum), "{what} must add up at {total:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synthetic_survey_exports_safe_tables_that_add_up() {
    let app = spawn_app().await;
    let db = &app.state.db;
    let entry = app
        .state
        .catalogue
        .find("wellbeing")
        .expect("the built-in questionnaire");
    let summary = synthesise(
        db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 2_500,
            seed: 11,
            cpps: 3,
        },
        &|_| {},
    )
    .await
    .expect("synthetic data");
    assert_eq!(summary.responses, 2_500);

    let request = ExportRequest {
        wave_id: summary.wave_id,
        version_id: entry.version_id,
        questionnaire: Arc::clone(&entry.questionnaire),
        scope: Scope::National,
        rule: Rule::default(),
        prior: Default::default(),
    };
    let export = exporter::export(db, &request).await.expect("the export");
    let out = tempfile::tempdir().unwrap();
    export.write_to_dir(out.path()).unwrap();
    for name in exporter::output::FILES {
        assert!(out.path().join(name).is_file(), "{name} must be written");
    }

    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("metadata.json")).unwrap()).unwrap();
    // Only published counts: Scotland's total is large enough to show, and
    // nothing says how many responses were partial or how many cells small.
    let scotland = metadata["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"] == "Scotland")
        .unwrap();
    assert_eq!(scotland["count"], 2_500);
    assert!(
        metadata["responses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r.get("partial").is_none())
    );
    assert!(metadata["cells"].get("below_threshold").is_none());
    assert_eq!(metadata["disclosure_control"]["rule"]["threshold"], 10);
    assert!(metadata["cells"]["suppressed"].as_u64().unwrap() > 0);
    // Every number in metadata.json and report.html that states a count is
    // a published cell. Published cells are 0 or at least the threshold, so
    // this catches any small count; in an export this large most bigger
    // numbers are some cell, which is why exporter/tests/release_counts.rs
    // also runs the same attack on partnerships small enough that every
    // total must be hidden.
    attack::assert_every_count_is_published(&export);

    let (header, rows) = read_csv(&std::fs::read(out.path().join("frequencies.csv")).unwrap());
    assert_eq!(header, HEADER);
    let (ind_header, ind_rows) =
        read_csv(&std::fs::read(out.path().join("indicators.csv")).unwrap());
    assert_eq!(ind_header, HEADER);
    let (rates_header, _) =
        read_csv(&std::fs::read(out.path().join("response_rates.csv")).unwrap());
    assert_eq!(
        rates_header,
        "cpp_code,cpp_name,school_seed,school_name,stage,responses,roll,rate,status"
    );

    for r in rows.iter().chain(&ind_rows) {
        if let Ok(n) = r["count"].parse::<u64>() {
            assert!(n == 0 || n >= 10, "a count of {n} was published: {r:?}");
        }
        if r["status"] == "c" {
            assert!(r["percent"].is_empty());
        }
    }

    let q = &entry.questionnaire;
    let sexes: Vec<String> = q
        .sex_question()
        .unwrap()
        .options()
        .iter()
        .map(|o| o.code().to_string())
        .chain(["not_stated".to_owned()])
        .collect();
    for (rows, what) in [(&rows, "frequencies"), (&ind_rows, "indicators")] {
        let cells = index(rows);
        let cpps: Vec<String> = {
            let mut v: Vec<String> = rows.iter().map(|r| r["cpp_code"].clone()).collect();
            v.sort();
            v.dedup();
            v
        };
        let tables: Vec<(String, Vec<String>)> = {
            let mut seen: Vec<(String, Vec<String>)> = Vec::new();
            for r in rows.iter() {
                let id = &r["question_id"];
                match seen.iter_mut().find(|(q, _)| q == id) {
                    Some((_, opts)) => {
                        if !opts.contains(&r["option_code"]) {
                            opts.push(r["option_code"].clone())
                        }
                    }
                    None => seen.push((id.clone(), vec![r["option_code"].clone()])),
                }
            }
            seen
        };
        let key = |cpp: &str, school: &str, stage: &str, sex: &str, q: &str, o: &str| -> Key {
            (
                cpp.into(),
                school.into(),
                stage.into(),
                sex.into(),
                q.into(),
                o.into(),
            )
        };
        for cpp in &cpps {
            let schools: Vec<String> = {
                let mut v: Vec<String> = rows
                    .iter()
                    .filter(|r| &r["cpp_code"] == cpp && r["school_seed"] != "All")
                    .map(|r| r["school_seed"].clone())
                    .collect();
                v.sort();
                v.dedup();
                v
            };
            for (table, options) in &tables {
                let multiple = q
                    .questions()
                    .iter()
                    .any(|qu| qu.id().as_str() == table && qu.kind().as_str() == "multiple_choice");
                for option in options {
                    let o = option.as_str();
                    for sex in sexes.iter().map(String::as_str).chain(["All"]) {
                        let k = |stage: &str| key(cpp, "All", stage, sex, table, o);
                        check_relation(&cells, &k("Primary"), &[k("P5"), k("P6"), k("P7")], what);
                        check_relation(
                            &cells,
                            &k("Secondary"),
                            &[k("S1"), k("S2"), k("S3"), k("S4")],
                            what,
                        );
                        check_relation(&cells, &k("All"), &[k("Primary"), k("Secondary")], what);
                    }
                    for stage in [
                        "P5",
                        "P6",
                        "P7",
                        "Primary",
                        "S1",
                        "S2",
                        "S3",
                        "S4",
                        "Secondary",
                        "All",
                    ] {
                        let parts: Vec<Key> = sexes
                            .iter()
                            .map(|s| key(cpp, "All", stage, s, table, o))
                            .collect();
                        check_relation(
                            &cells,
                            &key(cpp, "All", stage, "All", table, o),
                            &parts,
                            what,
                        );
                    }
                    if cpp != "All" {
                        let parts: Vec<Key> = schools
                            .iter()
                            .map(|s| key(cpp, s, "All", "All", table, o))
                            .collect();
                        check_relation(
                            &cells,
                            &key(cpp, "All", "All", "All", table, o),
                            &parts,
                            what,
                        );
                    }
                }
                if !multiple {
                    let categories: Vec<&String> = options.iter().filter(|o| *o != "All").collect();
                    for r in rows.iter().filter(|r| {
                        &r["cpp_code"] == cpp
                            && &r["question_id"] == table
                            && r["option_code"] == "All"
                    }) {
                        let at =
                            |o: &str| key(cpp, &r["school_seed"], &r["stage"], &r["sex"], table, o);
                        let parts: Vec<Key> = categories.iter().map(|o| at(o)).collect();
                        check_relation(&cells, &at("All"), &parts, what);
                    }
                }
            }
        }
        // Scotland ("All") = the sum of the partnerships, where published.
        for ((cpp, school, stage, sex, table, option), value) in &cells {
            if cpp != "All" || school != "All" {
                continue;
            }
            if let Some(v) = value {
                let sum: u64 = cpps
                    .iter()
                    .filter(|c| *c != "All")
                    .map(|c| {
                        cells
                            .get(&key(c, "All", stage, sex, table, option))
                            .copied()
                            .flatten()
                            .expect("a published Scotland cell has published parts")
                    })
                    .sum();
                assert_eq!(*v, sum, "Scotland must be the sum of the partnerships");
            }
        }
    }

    // One partnership alone gets the same cells for that partnership.
    let first = export.cpp_units().next().unwrap().cpp.clone().unwrap();
    let one = exporter::export(
        db,
        &ExportRequest {
            scope: Scope::Cpps(vec![first.id]),
            ..request.clone()
        },
    )
    .await
    .unwrap();
    assert_eq!(one.units.len(), 1);
    assert_eq!(one.units[0].tables, export.units[0].tables);
    let html = String::from_utf8(one.file("report.html").unwrap()).unwrap();
    assert!(html.contains(&first.name));
    assert!(html.contains("<svg") && !html.contains("<script"));
}

#[tokio::test]
async fn an_export_with_no_responses_says_so() {
    let app = spawn_app().await;
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    let result = exporter::export(
        &app.state.db,
        &ExportRequest {
            wave_id: tests::test_wave(
                &app.state,
                server::store::schools::all_cpps(&app.state.db)
                    .await
                    .unwrap()[0]
                    .id,
                entry.version_id,
            )
            .await,
            version_id: entry.version_id,
            questionnaire: Arc::clone(&entry.questionnaire),
            scope: Scope::National,
            rule: Rule::default(),
            prior: Default::default(),
        },
    )
    .await;
    assert!(matches!(result, Err(exporter::ExportError::NoData)));
}

/// One school's counts: id, slots, responses per stage.
type SchoolCounts = (i32, Vec<u32>, [u32; 7]);
/// One partnership's counts: id, responses, partial, grid, schools by id.
type UnitCounts = (i32, u64, u64, Vec<u32>, Vec<SchoolCounts>);

/// Everything a tally holds, in a form that compares regardless of the order
/// schools were first seen in.
fn fingerprint(tallies: &exporter::aggregate::Tallies) -> Vec<UnitCounts> {
    tallies
        .units
        .iter()
        .map(|(cpp, unit)| {
            let mut schools: Vec<_> = unit
                .schools
                .iter()
                .map(|s| (s.school_id, s.slots.clone(), s.responses))
                .collect();
            schools.sort_by_key(|s| s.0);
            (
                *cpp,
                unit.responses,
                unit.partial,
                unit.grid.clone(),
                schools,
            )
        })
        .collect()
}

/// A SQLite database file is counted straight from the file on every core;
/// that must give exactly what the connection's row-by-row stream gives,
/// for every partnership and for a chosen few, with gaps in the rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counting_from_the_file_matches_counting_from_the_stream() {
    use exporter::aggregate::Aggregator;
    use exporter::layout::Layout;
    use exporter::source;
    use sea_orm::{ConnectionTrait, DatabaseBackend};

    let app = spawn_app().await;
    let db = &app.state.db;
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    let wave = synthesise(
        db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 3_000,
            seed: 5,
            cpps: 4,
        },
        &|_| {},
    )
    .await
    .unwrap()
    .wave_id;
    // Gaps in the table (as retention leaves), and one row with a stage
    // that is not P5 to S4, which both ways must skip and count as skipped.
    db.execute_unprepared(
        "DELETE FROM response WHERE id IN (SELECT id FROM response ORDER BY id LIMIT 300)",
    )
    .await
    .unwrap();
    db.execute_unprepared(
        "UPDATE response SET stage = 'S9' WHERE id = (SELECT min(id) FROM response)",
    )
    .await
    .unwrap();

    let sqlite = db.get_database_backend() == DatabaseBackend::Sqlite;
    assert_eq!(
        source::file::sqlite_file(db).is_some(),
        sqlite,
        "a SQLite test database is a file, and is read as one"
    );
    let q = &entry.questionnaire;
    let layout = Layout::new(q);
    let cpps: Vec<i32> = source::cpps(db)
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    let chosen: Vec<i32> = cpps.iter().copied().step_by(7).take(3).collect();
    for filter in [None, Some(chosen.as_slice())] {
        let (fast, read) = source::tally(db, wave, filter, q, &layout, &|_| {})
            .await
            .unwrap();
        let mut aggregator = Aggregator::new(q, &layout);
        let mut bad = 0;
        let streamed_rows =
            source::each_response(db, wave, filter, |row| aggregator.add(row), || bad += 1)
                .await
                .unwrap();
        for _ in 0..bad {
            aggregator.skip_bad_stage();
        }
        let streamed = aggregator.finish();
        assert_eq!(read, streamed_rows);
        assert_eq!(fast.skipped, streamed.skipped);
        assert_eq!(fingerprint(&fast), fingerprint(&streamed));
        if filter.is_none() {
            assert_eq!(read, 2_700);
            assert_eq!(fast.skipped.bad_stage_responses, 1);
            let counted: u64 = fast.units.values().map(|u| u.responses).sum();
            assert_eq!(counted, 2_699);
        }
    }
}

/// The response-rate table's base is the roll less the pupils opted out on
/// the wave's sittings: responses / (roll − opted out).
#[tokio::test]
async fn response_rates_take_pupils_opted_out_off_the_roll() {
    use survey_defs::Stage;
    let app = spawn_app().await;
    let db = &app.state.db;
    let entry = app.state.catalogue.find("wellbeing").unwrap();
    let summary = synthesise(
        db,
        entry.version_id,
        &entry.questionnaire,
        &SynthOptions {
            pupils: 200,
            seed: 5,
            cpps: 1,
        },
        &|_| {},
    )
    .await
    .unwrap();
    let request = ExportRequest {
        wave_id: summary.wave_id,
        version_id: entry.version_id,
        questionnaire: Arc::clone(&entry.questionnaire),
        scope: Scope::National,
        rule: Rule::default(),
        prior: Default::default(),
    };
    use exporter::layout::StageLevel;
    // The first school with pupils at P5: its roll (all its stages; a
    // school's roll at one stage is not published) and the partnership's
    // P5 roll.
    let before = exporter::export(db, &request).await.unwrap();
    let unit = before.cpp_units().next().unwrap();
    let index = unit
        .schools
        .iter()
        .position(|s| s.rolls[Stage::P5 as usize] > 4)
        .expect("a synthetic school with pupils at P5");
    let (cpp_id, school_id) = (unit.cpp.clone().unwrap().id, unit.schools[index].id);
    assert!(
        unit.rates
            .iter()
            .all(|r| r.school.is_none() || r.stage == StageLevel::All),
        "a school's responses at one stage are not published"
    );
    let rolls = |export: &exporter::Export| {
        let unit = export.cpp_units().next().unwrap();
        let at = |school: Option<usize>, stage: StageLevel| {
            unit.rates
                .iter()
                .find(|r| r.school == school && r.stage == stage)
                .map(|r| r.roll)
                .unwrap()
        };
        (
            at(Some(index), StageLevel::All),
            at(None, StageLevel::Stage(Stage::P5)),
        )
    };
    let (school_roll, cpp_roll) = rolls(&before);

    // Two P5 sittings of the school in the wave, one with 3 opted out and
    // one with 1; a sitting of another wave does not count.
    let school = server::store::schools::school(db, school_id)
        .await
        .unwrap()
        .unwrap();
    for opted_out in [3, 1] {
        let sitting = server::store::sittings::create(
            db,
            server::store::sittings::NewSitting::new(
                &school,
                Stage::P5,
                entry.version_id,
                summary.wave_id,
            ),
        )
        .await
        .unwrap();
        server::store::sittings::set_opted_out(db, sitting.id, opted_out)
            .await
            .unwrap();
    }
    let other_wave = tests::test_wave(&app.state, cpp_id, entry.version_id).await;
    assert_ne!(other_wave, summary.wave_id);
    let elsewhere = server::store::sittings::create(
        db,
        server::store::sittings::NewSitting::new(&school, Stage::P5, entry.version_id, other_wave),
    )
    .await
    .unwrap();
    server::store::sittings::set_opted_out(db, elsewhere.id, 2)
        .await
        .unwrap();

    let after = exporter::export(db, &request).await.unwrap();
    let (school_after, cpp_after) = rolls(&after);
    assert_eq!(school_after, school_roll - 4, "the school's roll");
    assert_eq!(cpp_after, cpp_roll - 4, "the partnership's P5 base");
}
