//! `report.html` in headless Chromium (tests/browser/report.mjs): a report
//! holding the built-in questionnaire's longest labels and deliberately long
//! synthetic ones, on a 1280 px screen and printed on A4, with every chart
//! text inside its chart. Needs Node.js, Chromium and the browser test
//! packages, which `bash tests/run.sh` installs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod release;

use std::path::{Path, PathBuf};

use exporter::layout::Category;

/// A label longer than any in the built-in questionnaire, with ordinary words.
const LONG_LABEL: &str = "Someone else I trust and can talk to about anything at all, such as a youth worker, a sports coach, a neighbour, a friend's parent or an older cousin who lives nearby";
/// One word too long for any label column, so it has to break inside the word.
const LONG_WORD: &str = "Supercalifragilisticexpialidociouslyunbreakablewordwithoutanyspaces";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser")
}

#[test]
fn every_chart_label_fits_its_chart_on_screen_and_on_a4() {
    let mut export = release::partnership_and_scotland();
    let layout = &mut export.layout;
    let multiple = layout
        .tables
        .iter()
        .position(|t| t.kind == "multiple_choice" && t.categories.len() >= 2)
        .expect("a multiple-choice question in the built-in questionnaire");
    layout.tables[multiple].categories[0].label = LONG_LABEL.to_owned();
    layout.tables[multiple].categories[1].label = LONG_WORD.to_owned();
    layout.tables[multiple].title = format!("{} {LONG_LABEL}", layout.tables[multiple].title);
    let longest = layout
        .tables
        .iter()
        .flat_map(|t| {
            t.categories
                .iter()
                .map(|c: &Category| c.label.chars().count())
        })
        .max()
        .unwrap();
    assert_eq!(longest, LONG_LABEL.chars().count().max(LONG_WORD.len()));
    let sex = layout.sexes.len() - 2;
    layout.sexes[sex].label = format!("{} {LONG_LABEL}", layout.sexes[sex].label);

    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "the browser test packages are missing: run `bash tests/run.sh` (or `npm ci` in tests/browser)"
    );
    // The report, its screenshots and the printed PDF stay where a person
    // can look at them when REPORT_SCREENSHOTS names a directory.
    let work = tempfile::tempdir().unwrap();
    let out = std::env::var_os("REPORT_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| work.path().to_owned());
    std::fs::create_dir_all(&out).unwrap();
    let report = out.join("report.html");
    std::fs::write(&report, export.file("report.html").unwrap()).unwrap();
    let output = std::process::Command::new("node")
        .arg(dir.join("report.mjs"))
        .current_dir(&dir)
        .env("REPORT_PATH", &report)
        .env("OUT_DIR", &out)
        .output()
        .expect("running node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser script report.mjs failed:\n{stdout}\n{stderr}"
    );
    assert!(out.join("report-1280.png").is_file());
    assert!(out.join("report-a4.pdf").is_file());
}
