//! The attack on a release's prose files: a reader collects every number
//! that states a count of pupils in `metadata.json` and `report.html` and
//! checks it against the published cells of the CSV tables. A count that is
//! not a published cell (a response total, a partial count, a base that the
//! tables suppress) tells the reader something suppression was meant to hide.
//!
//! Shared by the exporter's tests (`exporter/tests/release_counts.rs`) and
//! the end-to-end export test (`tests/tests/export.rs`).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use exporter::Export;
use exporter::layout::Subject;

/// Every published count: the non-empty `count` cells of the frequency and
/// indicator tables and the non-empty `responses` and `roll` cells of the
/// response-rate table, read from the files as a reader gets them.
pub fn published_cells(export: &Export) -> BTreeSet<u64> {
    let mut cells = BTreeSet::new();
    for (file, columns) in [
        ("frequencies.csv", &["count"][..]),
        ("indicators.csv", &["count"][..]),
        ("response_rates.csv", &["responses", "roll"][..]),
    ] {
        let bytes = export.file(file).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let rows = csv_rows(text.trim_start_matches('\u{feff}'));
        let wanted: Vec<usize> = columns
            .iter()
            .map(|c| rows[0].iter().position(|h| h == c).unwrap())
            .collect();
        for row in &rows[1..] {
            for &i in &wanted {
                if !row[i].is_empty() {
                    cells.insert(row[i].parse().unwrap());
                }
            }
        }
    }
    cells
}

/// The rows of an RFC 4180 file: fields split at commas outside quotes,
/// `""` inside quotes read as one quote.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field) = (Vec::new(), String::new());
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

/// Paths in `metadata.json` whose numbers are not counts of pupils: the
/// questionnaire's version and row id, the disclosure rule's parameters, and
/// how many cells each file has and hides (a reader counts those rows in the
/// CSV files themselves).
const NOT_COUNTS: [&str; 4] = [
    "questionnaire.version",
    "questionnaire.version_row_id",
    "disclosure_control.rule.",
    "cells.",
];

fn numbers_in_json(value: &serde_json::Value, path: &str, out: &mut Vec<(String, u64)>) {
    match value {
        serde_json::Value::Number(n) if !NOT_COUNTS.iter().any(|p| path.starts_with(p)) => {
            let n = n
                .as_u64()
                .unwrap_or_else(|| panic!("expected a whole number at {path}, saw {n}"));
            out.push((path.to_owned(), n));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                numbers_in_json(item, &format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                numbers_in_json(item, &path, out);
            }
        }
        _ => {}
    }
}

/// What a reader of `report.html` reads: the text of the page, without its
/// style sheet, plus the text alternatives (`aria-label`, `alt`) a screen
/// reader reads out, with character references decoded.
pub fn readable_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        text.push(' ');
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let tag = &rest[open..close];
        for attribute in ["aria-label=\"", "alt=\""] {
            if let Some(start) = tag.find(attribute) {
                let value = &tag[start + attribute.len()..];
                text.push_str(&value[..value.find('"').unwrap_or(value.len())]);
                text.push(' ');
            }
        }
        rest = &rest[close..];
        if tag.starts_with("<style") {
            let end = rest.find("</style>").unwrap_or(rest.len());
            rest = &rest[end..];
        }
    }
    text.push_str(rest);
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// The whole numbers a reader could take for counts: runs of digits that
/// are words of their own (not part of a code such as S12000003 or P5) and
/// not part of a decimal, a percentage or a range of percentages.
pub fn whole_numbers(text: &str) -> Vec<(String, u64)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
            i += 1;
        }
        let token: String = chars[start..i].iter().collect();
        let token = token.trim_end_matches('.');
        let glued = |c: Option<&char>| c.is_some_and(|c| c.is_alphanumeric() || *c == '_');
        let before = start.checked_sub(1).and_then(|j| chars.get(j));
        let after = chars.get(start + token.chars().count());
        if token.contains('.') || glued(before) || glued(after) || after == Some(&'%') {
            continue;
        }
        let context: String = chars[start.saturating_sub(40)..(i + 20).min(chars.len())]
            .iter()
            .collect();
        out.push((context, token.parse().unwrap()));
    }
    out
}

/// The report's statements that hold numbers which are not counts: when it
/// was made, which version it describes and the threshold of the rule.
fn without_non_counts(text: &str, export: &Export) -> String {
    let generated = export.generated_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let version = format!("version {}", export.questionnaire.version());
    let threshold = format!("below {}", export.rule.threshold);
    let mut out = text.to_owned();
    for phrase in [generated.as_str(), version.as_str(), threshold.as_str()] {
        assert!(
            out.contains(phrase),
            "expected the report to say \"{phrase}\"; it no longer does, so this test must learn its new wording"
        );
        out = out.replace(phrase, " ");
    }
    out.replace("95%", " ")
}

/// Answer labels may hold numbers ("0" to "7" days, "1 to 2 hours"):
/// within the part of the report about a question (from its heading, which
/// ends in its id in brackets, to the next question's), its answer labels are
/// labels, not counts.
fn without_answer_labels(text: &str, export: &Export) -> String {
    let questions: Vec<_> = export
        .layout
        .tables
        .iter()
        .filter(|t| !matches!(t.subject, Subject::Indicator(_)))
        .collect();
    let mut out = text.to_owned();
    for (i, table) in questions.iter().enumerate() {
        let labels: Vec<&str> = table.categories.iter().map(|c| c.label.as_str()).collect();
        if !labels
            .iter()
            .any(|l| l.contains(|c: char| c.is_ascii_digit()))
        {
            continue;
        }
        let heading = format!("({})", table.id);
        let next = questions.get(i + 1).map(|t| format!("({})", t.id));
        let mut from = 0;
        while let Some(found) = out[from..].find(&heading) {
            let start = from + found + heading.len();
            let end = next
                .as_ref()
                .and_then(|n| out[start..].find(n.as_str()))
                .map_or(out.len(), |e| start + e);
            let mut part = out[start..end].to_owned();
            for label in labels.iter().filter(|l| l.contains(' ')) {
                part = part.replace(label, " ");
            }
            let words: Vec<&str> = part
                .split_whitespace()
                .filter(|w| !labels.contains(&w.trim_end_matches([':', ';', ','])))
                .collect();
            let part = format!(" {} ", words.join(" "));
            out.replace_range(start..end, &part);
            from = start + part.len();
        }
    }
    out
}

pub fn assert_every_count_is_published(export: &Export) {
    let published = published_cells(export);
    let metadata: serde_json::Value =
        serde_json::from_slice(&export.file("metadata.json").unwrap()).unwrap();
    let mut counts = Vec::new();
    numbers_in_json(&metadata, "", &mut counts);
    for (path, n) in counts {
        assert!(
            published.contains(&n),
            "metadata.json states {n} at {path}, which is no published cell"
        );
    }
    let html = String::from_utf8(export.file("report.html").unwrap()).unwrap();
    let text = without_answer_labels(&without_non_counts(&readable_text(&html), export), export);
    for (context, n) in whole_numbers(&text) {
        assert!(
            published.contains(&n),
            "report.html states {n}, which is no published cell: …{context}…"
        );
    }
}
