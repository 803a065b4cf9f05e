//! The output files: tidy CSV tables, the codebook and the metadata (the
//! label files for R, SPSS and Stata are written by [`crate::labels`]).
//!
//! CSV follows RFC 4180 and opens correctly in Excel: UTF-8 with a byte-order
//! mark, CRLF line endings, fields quoted when they hold a comma, quote or
//! line break. "All" stands for a total in every breakdown column. A
//! suppressed cell has an empty count and percent and status `c`; every
//! published cell has an empty status. A percentage is published only when
//! both its count and its base are published (and the base is not zero); the
//! base row itself (option code `All`) carries no percentage.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use serde_json::json;
use survey_defs::{Questionnaire, StageSet};

use crate::disclose::{PublishedTable, RateLine};
use crate::layout::{ALL, StageLevel, Subject};
use crate::spreadsheet::write_row;
use crate::{Export, UnitResult};

/// Every file of an export, in the order they are written.
pub const FILES: [&str; 9] = [
    "frequencies.csv",
    "indicators.csv",
    "response_rates.csv",
    "codebook.csv",
    "labels.R",
    "labels.sps",
    "labels.do",
    "metadata.json",
    "report.html",
];

/// Header of `frequencies.csv` and `indicators.csv` (indicators put the
/// indicator id in `question_id` and the result in `option_code`).
pub const TABLE_HEADER: [&str; 12] = [
    "cpp_code",
    "cpp_name",
    "school_seed",
    "school_name",
    "stage",
    "sex",
    "question_id",
    "option_code",
    "option_label",
    "count",
    "percent",
    "status",
];

pub const RATES_HEADER: [&str; 9] = [
    "cpp_code",
    "cpp_name",
    "school_seed",
    "school_name",
    "stage",
    "responses",
    "roll",
    "rate",
    "status",
];

pub const CODEBOOK_HEADER: [&str; 12] = [
    "record",
    "id",
    "parent",
    "kind",
    "code",
    "label",
    "stages",
    "module",
    "theme",
    "flags",
    "note",
    "wording_sha256",
];

/// The SHA-256 of what a question asks: its kind, its wording and its
/// options' codes and labels, in the questionnaire's default language. Two
/// waves' results of a question compare only when this is the same.
pub fn wording_hash(question: &survey_defs::Question, locale: &survey_defs::Locale) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(question.kind().as_str().as_bytes());
    hash.update(b"\n");
    hash.update(question.text(locale).as_bytes());
    for option in question.options() {
        hash.update(b"\n");
        hash.update(option.code().as_str().as_bytes());
        hash.update(b"=");
        hash.update(option.label(locale).as_bytes());
    }
    hex::encode(hash.finalize())
}

/// The SHA-256 of an indicator's definition: its rule and the wording of
/// every question scored into it.
fn indicator_hash(q: &Questionnaire, indicator: survey_defs::Indicator, rule: &str) -> String {
    use sha2::{Digest, Sha256};
    let locale = q.default_locale();
    let mut hash = Sha256::new();
    hash.update(rule.as_bytes());
    for question in q.questions() {
        if question.theme().indicator() == Some(indicator) {
            hash.update(b"\n");
            hash.update(question.id().as_str().as_bytes());
            hash.update(b"=");
            hash.update(wording_hash(question, locale).as_bytes());
        }
    }
    hex::encode(hash.finalize())
}

/// The status of a suppressed cell, the same for every reason.
pub const SUPPRESSED: &str = "c";

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("no export file is called {0}")]
    UnknownFile(String),
}

/// The media type a file of an export is sent with.
pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    }
}

fn csv_writer<W: Write>(mut out: W) -> io::Result<csv::Writer<W>> {
    out.write_all(BOM)?;
    Ok(csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out))
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A share as a percentage with one decimal, or empty.
pub fn percent(count: u32, count_hidden: bool, base: u32, base_hidden: bool) -> String {
    if count_hidden || base_hidden || base == 0 {
        String::new()
    } else {
        format!("{:.1}", f64::from(count) * 100.0 / f64::from(base))
    }
}

fn stages_text(set: StageSet) -> String {
    set.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
}

impl Export {
    /// Writes one file by name (one of [`FILES`]).
    pub fn write_file(&self, name: &str, out: &mut dyn Write) -> Result<(), OutputError> {
        let io = |source| OutputError::Io {
            path: name.to_owned(),
            source,
        };
        match name {
            "frequencies.csv" => self.write_tables(out, false).map_err(io),
            "indicators.csv" => self.write_tables(out, true).map_err(io),
            "response_rates.csv" => self.write_rates(out).map_err(io),
            "codebook.csv" => self.write_codebook(out).map_err(io),
            "labels.R" => out.write_all(self.labels_r().as_bytes()).map_err(io),
            // SPSS reads a syntax file as UTF-8 when it starts with a byte-order mark.
            "labels.sps" => out
                .write_all(BOM)
                .and_then(|()| out.write_all(self.labels_sps().as_bytes()))
                .map_err(io),
            "labels.do" => out.write_all(self.labels_do().as_bytes()).map_err(io),
            "metadata.json" => out.write_all(self.metadata_json().as_bytes()).map_err(io),
            "report.html" => out
                .write_all(crate::report::render(self).as_bytes())
                .map_err(io),
            other => Err(OutputError::UnknownFile(other.to_owned())),
        }
    }

    /// One file as bytes (for a download).
    pub fn file(&self, name: &str) -> Result<Vec<u8>, OutputError> {
        let mut bytes = Vec::new();
        self.write_file(name, &mut bytes)?;
        Ok(bytes)
    }

    /// Every file as (name, bytes). Fine for one partnership; a national
    /// export is better written with [`Export::write_to_dir`].
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>, OutputError> {
        FILES.iter().map(|n| Ok((*n, self.file(n)?))).collect()
    }

    /// Writes every file into `dir`, creating it if needed.
    pub fn write_to_dir(&self, dir: &Path) -> Result<(), OutputError> {
        fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            path: dir.display().to_string(),
            source,
        })?;
        for name in FILES {
            let path = dir.join(name);
            let shown = path.display().to_string();
            let io = |source| OutputError::Io {
                path: shown.clone(),
                source,
            };
            let file = fs::File::create(&path).map_err(io)?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            self.write_file(name, &mut out)?;
            out.flush().map_err(io)?;
        }
        Ok(())
    }

    fn unit_names<'a>(&self, unit: &'a UnitResult) -> (&'a str, &'a str) {
        match &unit.cpp {
            Some(c) => (c.gss_code.as_str(), c.name.as_str()),
            None => (ALL, "Scotland"),
        }
    }

    fn school_names(unit: &UnitResult, school: Option<usize>) -> (&str, &str) {
        match school.and_then(|s| unit.schools.get(s)) {
            Some(s) => (s.seed_code.as_str(), s.name.as_str()),
            None => (ALL, ALL),
        }
    }

    fn sex_code(&self, sex: Option<usize>) -> &str {
        match sex {
            Some(s) => self.layout.sexes[s].code.as_str(),
            None => ALL,
        }
    }

    fn write_tables(&self, out: &mut dyn Write, indicators: bool) -> io::Result<()> {
        let mut w = csv_writer(out)?;
        write_row(&mut w, TABLE_HEADER).map_err(csv_io)?;
        let mut count_buf = String::new();
        for unit in &self.units {
            let (cpp_code, cpp_name) = self.unit_names(unit);
            for table in &unit.tables {
                let def = &self.layout.tables[table.table];
                if matches!(def.subject, Subject::Indicator(_)) != indicators {
                    continue;
                }
                for line in &table.lines {
                    let (seed, school) = Self::school_names(unit, line.school);
                    let (base, base_hidden) = line.base();
                    for (k, (&count, &hidden)) in line.counts.iter().zip(&line.hidden).enumerate() {
                        let is_base = k == def.categories.len();
                        let (code, label) = match def.categories.get(k) {
                            Some(c) => (c.code.as_str(), c.label.as_str()),
                            None => (ALL, ALL),
                        };
                        count_buf.clear();
                        let pct = if is_base {
                            String::new()
                        } else {
                            percent(count, hidden, base, base_hidden)
                        };
                        if !hidden {
                            use std::fmt::Write as _;
                            let _ = write!(count_buf, "{count}");
                        }
                        write_row(
                            &mut w,
                            [
                                cpp_code,
                                cpp_name,
                                seed,
                                school,
                                line.stage.as_str(),
                                self.sex_code(line.sex),
                                def.id.as_str(),
                                code,
                                label,
                                count_buf.as_str(),
                                pct.as_str(),
                                if hidden { SUPPRESSED } else { "" },
                            ],
                        )
                        .map_err(csv_io)?;
                    }
                }
            }
        }
        w.flush()
    }

    fn write_rates(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv_writer(out)?;
        write_row(&mut w, RATES_HEADER).map_err(csv_io)?;
        for unit in &self.units {
            let (cpp_code, cpp_name) = self.unit_names(unit);
            for line in &unit.rates {
                let (seed, school) = Self::school_names(unit, line.school);
                let (responses, rate) = rate_text(line);
                write_row(
                    &mut w,
                    [
                        cpp_code,
                        cpp_name,
                        seed,
                        school,
                        line.stage.as_str(),
                        responses.as_str(),
                        line.roll.to_string().as_str(),
                        rate.as_str(),
                        if line.hidden { SUPPRESSED } else { "" },
                    ],
                )
                .map_err(csv_io)?;
            }
        }
        w.flush()
    }

    fn write_codebook(&self, out: &mut dyn Write) -> io::Result<()> {
        let q: &Questionnaire = &self.questionnaire;
        let locale = q.default_locale();
        let mut w = csv_writer(out)?;
        write_row(&mut w, CODEBOOK_HEADER).map_err(csv_io)?;
        let mut row = |cols: [&str; 11], wording: &str| {
            let mut all = [""; 12];
            all[..11].copy_from_slice(&cols);
            all[11] = wording;
            write_row(&mut w, all).map_err(csv_io)
        };
        let version = q.version().to_string();
        let note = format!("version {} sha256 {}", q.version(), q.content_hash());
        row(
            [
                "questionnaire",
                q.id().as_str(),
                "",
                "",
                &version,
                q.title(locale),
                &stages_text(q.stages()),
                "",
                "",
                "",
                &note,
            ],
            "",
        )?;
        for level in StageLevel::ALL {
            row(
                [
                    "stage",
                    level.as_str(),
                    "",
                    "",
                    level.as_str(),
                    level.as_str(),
                    &stages_text(level.stages()),
                    "",
                    "",
                    "",
                    "",
                ],
                "",
            )?;
        }
        for sex in &self.layout.sexes {
            row(
                [
                    "sex", &sex.code, "", "", &sex.code, &sex.label, "", "", "", "", "",
                ],
                "",
            )?;
        }
        row(
            ["sex", ALL, "", "", ALL, "All pupils", "", "", "", "", ""],
            "",
        )?;
        for module in q.modules() {
            row(
                [
                    "module",
                    module.id().as_str(),
                    "",
                    "",
                    "",
                    module.title(locale),
                    "",
                    "",
                    "",
                    if module.sensitive() { "sensitive" } else { "" },
                    "",
                ],
                "",
            )?;
        }
        for question in q.questions() {
            let module = question.module().map(|m| m.as_str()).unwrap_or("");
            let stages = stages_text(question.stages());
            let routed = question
                .show_if()
                .map(|c| {
                    let codes: Vec<&str> = c.any_of().iter().map(|o| o.as_str()).collect();
                    format!("asked when {} is {}", c.question(), codes.join(" or "))
                })
                .unwrap_or_default();
            let def =
                &self.layout.tables[self.layout.question_table[usize::from(question.ordinal())]];
            row(
                [
                    "question",
                    question.id().as_str(),
                    "",
                    question.kind().as_str(),
                    "",
                    question.text(locale),
                    &stages,
                    module,
                    question.theme().as_str(),
                    if question.role().is_some() { "sex" } else { "" },
                    &routed,
                ],
                &wording_hash(question, locale),
            )?;
            for (i, category) in def.categories.iter().enumerate() {
                let option = question.options().get(i);
                let mut flags = Vec::new();
                if option.is_some_and(|o| o.is_prefer_not_to_say()) {
                    flags.push("prefer_not_to_say");
                }
                if option.is_some_and(|o| o.is_dont_know()) {
                    flags.push("dont_know");
                }
                row(
                    [
                        "option",
                        &format!("{}.{}", question.id(), category.code),
                        question.id().as_str(),
                        "",
                        &category.code,
                        &category.label,
                        "",
                        "",
                        "",
                        &flags.join(" "),
                        "",
                    ],
                    "",
                )?;
            }
        }
        for rule in q.scoring() {
            let indicator = rule.indicator();
            let def = self
                .layout
                .tables
                .iter()
                .find(|t| t.subject == Subject::Indicator(indicator));
            let note = format!(
                "positive when the mean item score is at least {}; no result with fewer than {} scored answers",
                rule.positive_at(),
                rule.min_answered()
            );
            row(
                [
                    "indicator",
                    indicator.as_str(),
                    "",
                    "indicator",
                    "",
                    indicator.label(),
                    &def.map(|d| stages_text(d.stages)).unwrap_or_default(),
                    "",
                    indicator.as_str(),
                    "",
                    &note,
                ],
                &indicator_hash(q, indicator, &note),
            )?;
        }
        w.flush()
    }

    fn table_totals<'a>(&'a self, pick: impl Fn(&PublishedTable) -> bool + 'a) -> (usize, usize) {
        self.units
            .iter()
            .flat_map(|u| u.tables.iter())
            .filter(|t| pick(t))
            .fold((0, 0), |(c, s), t| (c + t.cells(), s + t.suppressed()))
    }

    /// The contents of `metadata.json`.
    pub fn metadata_json(&self) -> String {
        let q = &self.questionnaire;
        let freq = self.table_totals(|t| !self.layout.is_indicator(t.table));
        let ind = self.table_totals(|t| self.layout.is_indicator(t.table));
        let rates: Vec<&RateLine> = self.units.iter().flat_map(|u| u.rates.iter()).collect();
        let rates_hidden = rates.iter().filter(|r| r.hidden).count();
        let value = json!({
            "questionnaire": {
                "id": q.id().as_str(),
                "version": q.version(),
                "content_hash": q.content_hash(),
                "version_row_id": self.version_id,
                "title": q.title(q.default_locale()),
            },
            "generated_at": self.generated_at.to_rfc3339(),
            "scope": {
                "national": self.national,
                "cpps": self.cpp_units().filter_map(|u| u.cpp.as_ref()).map(|c| json!({"code": c.gss_code, "name": c.name})).collect::<Vec<_>>(),
            },
            "disclosure_control": {
                "rule": self.rule,
                "method": "primary suppression of counts 0 < n < threshold, secondary suppression by Gaussian elimination over every addition in the table (stages, bands, sexes, schools, options to base), exact audit of every table before writing",
                "suppressed_marker": SUPPRESSED,
                "percent_rule": "a percentage is published only when its count and its base are both published",
                "scotland": if self.national { "a Scotland cell is published only where every partnership's cell at the same position is published" } else { "not included" },
            },
            "responses": self.units.iter().map(|u| json!({
                "unit": u.cpp.as_ref().map_or("Scotland", |c| c.gss_code.as_str()),
                "count": published_responses(u).map_or(json!(SUPPRESSED), |n| json!(n)),
            })).collect::<Vec<_>>(),
            "cells": {
                "frequencies": {"cells": freq.0, "suppressed": freq.1},
                "indicators": {"cells": ind.0, "suppressed": ind.1},
                "response_rates": {"cells": rates.len(), "suppressed": rates_hidden},
                "total": freq.0 + ind.0 + rates.len(),
                "suppressed": freq.1 + ind.1 + rates_hidden,
            },
            "files": FILES,
            "notes": {
                "all": "\"All\" in cpp_code, school_seed, stage or sex stands for a total; option_code All is the base (pupils who answered; pupils not routed to a question are not in it)",
                "indicators": "indicators.csv uses the frequencies layout: question_id holds the indicator id, option_code positive, not_positive or All (pupils with a result); percent of positive is the indicator share",
                "partial": "partial responses (from sittings closed before the pupil finished) are included; how many there were is not published",
                "responses": "a unit's count of responses is its All-stage, all-schools cell of response_rates.csv, and \"c\" wherever that cell is suppressed; no other total is published",
                "report": "report.html shows only published cells; each percentage carries its 95% Wilson score interval, worked out from its published count and base, and none where either is suppressed",
            },
        });
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }
}

/// A unit's number of responses as its response-count table publishes it:
/// `None` when that count is suppressed.
pub fn published_responses(unit: &crate::UnitResult) -> Option<u32> {
    unit.rates
        .iter()
        .find(|r| r.school.is_none() && r.stage == crate::layout::StageLevel::All && !r.hidden)
        .map(|r| r.responses)
}

/// The published response count and rate of a line (empty when suppressed).
pub fn rate_text(line: &RateLine) -> (String, String) {
    if line.hidden {
        return (String::new(), String::new());
    }
    let rate = if line.roll == 0 {
        String::new()
    } else {
        format!(
            "{:.1}",
            f64::from(line.responses) * 100.0 / f64::from(line.roll)
        )
    };
    (line.responses.to_string(), rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_report_is_sent_as_a_web_page() {
        for name in FILES {
            let html = content_type(name).starts_with("text/html");
            assert_eq!(
                html,
                name == "report.html",
                "{name} is sent as {}",
                content_type(name)
            );
        }
        assert_eq!(content_type("notes.txt"), "text/plain; charset=utf-8");
    }

    #[test]
    fn percent_needs_both_count_and_base_published() {
        assert_eq!(percent(25, false, 100, false), "25.0");
        assert_eq!(percent(25, true, 100, false), "");
        assert_eq!(percent(25, false, 100, true), "");
        assert_eq!(percent(0, false, 0, false), "");
        assert_eq!(percent(1, false, 3, false), "33.3");
    }

    #[test]
    fn release_files_write_formulas_as_text_and_numbers_as_numbers() {
        let mut bytes = Vec::new();
        {
            let mut w = csv_writer(&mut bytes).unwrap();
            write_row(&mut w, ["=1+1", "-3", "@x", "+44 131"]).unwrap();
            w.flush().unwrap();
        }
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text, "\u{feff}'=1+1,-3,'@x,'+44 131\r\n");
    }

    #[test]
    fn csv_quotes_commas_quotes_and_line_breaks_with_crlf_and_a_bom() {
        let mut bytes = Vec::new();
        {
            let mut w = csv_writer(&mut bytes).unwrap();
            write_row(
                &mut w,
                ["a,b", "say \"hi\"", "two\nlines", "Aird a' Mhachair"],
            )
            .unwrap();
            write_row(&mut w, ["x", "", "", ""]).unwrap();
            w.flush().unwrap();
        }
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",Aird a' Mhachair\r\nx,,,\r\n"
        );
    }

    #[test]
    fn a_suppressed_rate_shows_neither_count_nor_rate() {
        let line = RateLine {
            school: None,
            stage: StageLevel::All,
            responses: 4,
            roll: 50,
            hidden: true,
        };
        assert_eq!(rate_text(&line), (String::new(), String::new()));
        let shown = RateLine {
            hidden: false,
            responses: 40,
            ..line
        };
        assert_eq!(rate_text(&shown), ("40".to_owned(), "80.0".to_owned()));
    }
}
