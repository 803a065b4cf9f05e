//! Every CSV the server writes opens in a spreadsheet as text: a school
//! named like a formula (the fuzz corpus's formula file) and a class label
//! that is one reach the code list neutralised, and negative numbers stay
//! numbers.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod common;

use server::services::Actor;
use server::services::schools_import;
use server::services::sittings::{self, SittingRequest};
use server::store::schools;
use survey_defs::Stage;

fn risky(cell: &str) -> bool {
    cell.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn a_formula_in_a_school_name_or_a_class_label_reaches_the_code_list_as_text() {
    let (state, _dir) = common::prepared_state().await;
    let corpus = common::corpus("schools_csv");
    let (_, formula_file) = corpus
        .iter()
        .find(|(name, _)| name == "formula_header.csv")
        .unwrap();
    let formula = String::from_utf8_lossy(formula_file)
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    assert!(risky(&formula), "the corpus file starts with a formula");

    // The import accepts the name as it is: it is data, made safe on output.
    let csv = format!(
        "school name,seed code,cpp,sector,p5,p6,p7,s1,s2,s3,s4\n\
         \"{formula}\",7716001,S12000036,primary,20,20,20,0,0,0,0\n"
    );
    schools_import::import(
        &state.db,
        &Actor::Cli,
        csv.as_bytes(),
        schools_import::Source::File("schools.csv"),
    )
    .await
    .unwrap();
    let school = schools::school_by_seed(&state.db, "7716001")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(school.name, formula);
    let request = SittingRequest {
        stage: Stage::P6,
        label: "@SUM(A1:A9)".into(),
        codes: 3,
        wave_id: common::test_wave(
            &state,
            school.cpp_id,
            state.catalogue.latest()[0].version_id,
        )
        .await,
        opens: None,
        closes: None,
    };
    let (sitting, codes) =
        sittings::create(&state.db, &state.secret, &Actor::Cli, &school, request)
            .await
            .unwrap();

    let bytes = sittings::write_codes_csv(Vec::new(), &sitting, &school, &codes).unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        for cell in row {
            assert!(!risky(cell), "a cell a spreadsheet would run: {cell:?}");
        }
        assert_eq!(&row[3], "'@SUM(A1:A9)");
        assert_eq!(&row[4], format!("'{formula}"));
    }
}
