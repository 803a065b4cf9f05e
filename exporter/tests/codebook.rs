//! `codebook.csv` of a release of the built-in questionnaire describes every
//! question it publishes, the services module's routed follow-ups included.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use std::collections::BTreeMap;

use exporter::output::CODEBOOK_HEADER;
use survey_defs::Stage;

/// The rows of the codebook of a small partnership's release, each as
/// column name → value, and the questionnaire it describes.
fn codebook() -> (
    Vec<BTreeMap<&'static str, String>>,
    std::sync::Arc<survey_defs::Questionnaire>,
) {
    let export = release::partnership(&[(Stage::P6, 30), (Stage::S2, 30)], 0, 9);
    let bytes = export.file("codebook.csv").unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, CODEBOOK_HEADER);
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            CODEBOOK_HEADER
                .iter()
                .zip(r.iter())
                .map(|(k, v)| (*k, v.to_owned()))
                .collect()
        })
        .collect();
    (rows, export.questionnaire.clone())
}

fn find<'a>(
    rows: &'a [BTreeMap<&'static str, String>],
    record: &str,
    id: &str,
) -> &'a BTreeMap<&'static str, String> {
    rows.iter()
        .find(|r| r["record"] == record && r["id"] == id)
        .unwrap_or_else(|| panic!("no {record} row for {id}"))
}

#[test]
fn every_question_and_option_has_a_row() {
    let (rows, q) = codebook();
    for question in q.questions() {
        let row = find(&rows, "question", question.id().as_str());
        assert_eq!(row["kind"], question.kind().as_str());
        assert_eq!(row["theme"], question.theme().as_str());
        for option in question.options() {
            find(
                &rows,
                "option",
                &format!("{}.{}", question.id(), option.code()),
            );
        }
    }
}

#[test]
fn the_services_module_its_routing_and_its_scoring_themes_are_described() {
    let (rows, _) = codebook();
    let module = find(&rows, "module", "services");
    assert_eq!(module["label"], "Getting help from services");
    assert_eq!(module["flags"], "", "the services module is not sensitive");

    for (band, stages) in [("p", "P5 P6 P7"), ("s", "S1 S2 S3 S4")] {
        let services = find(&rows, "question", &format!("{band}_services"));
        assert_eq!(services["kind"], "multiple_choice");
        assert_eq!(services["module"], "services");
        assert_eq!(services["stages"], stages);
        assert_eq!(services["note"], "", "asked of everyone the module reaches");
        let pnts = find(&rows, "option", &format!("{band}_services.pnts"));
        assert_eq!(pnts["flags"], "prefer_not_to_say");
        find(&rows, "option", &format!("{band}_services.none"));

        for (code, part) in [
            ("school_nurse", "nurse"),
            ("doctor", "doctor"),
            ("mental_health", "mental_health"),
            ("social_worker", "social_worker"),
            ("youth_worker", "youth_worker"),
            ("counsellor", "counsellor"),
            ("police", "police"),
            ("other", "other"),
        ] {
            for (follow_up, theme) in [
                ("listened", "respected"),
                ("retold", "respected"),
                ("helped", "included"),
            ] {
                let row = find(&rows, "question", &format!("{band}_svc_{part}_{follow_up}"));
                assert_eq!(
                    row["note"],
                    format!("asked when {band}_services is {code}"),
                    "{band} {part} {follow_up}"
                );
                assert_eq!(row["module"], "services");
                assert_eq!(row["stages"], stages);
                assert_eq!(row["theme"], theme, "{band} {part} {follow_up}");
                assert_eq!(row["wording_sha256"].len(), 64);
            }
        }
    }
}
