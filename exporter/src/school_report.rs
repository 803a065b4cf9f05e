//! A school's report for its headteacher: `school-SEED.html`, one per school
//! of a partnership release. It shows the school's own rows of every
//! indicator and question table, stage by stage, exactly as the release
//! publishes them: the school's rows are cells of the partnership's tables,
//! suppressed and audited in the same problem ([`crate::disclose`]), so a
//! school report read beside the partnership's files reveals nothing that
//! either hides. One self-contained page, tables only, no scripts.

use std::fmt::Write;

use crate::disclose::Line;
use crate::layout::{StageLevel, Subject};
use crate::output::percent;
use crate::report::esc;
use crate::{Export, UnitResult};

/// The file name of a school's report: `school-` and its seed code, with
/// anything but letters, digits and hyphens left out.
pub fn file_name(seed: &str) -> String {
    let safe: String = seed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("school-{safe}.html")
}

const CSS: &str = "body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#1a1a1a;line-height:1.4;padding:0 1rem}\
table{border-collapse:collapse;margin:.3rem 0 1.2rem;font-size:.9rem}th,td{border:1px solid #999;padding:.25rem .5rem;text-align:right;vertical-align:top}\
th[scope=row],thead th{text-align:left}caption{text-align:left;font-weight:600;padding:.3rem 0}\
.meta{color:#444;font-size:.9rem}@media print{body{margin:0;max-width:none}table{break-inside:avoid}}";

/// The report of school `school` (an index into `unit.schools`), or `None`
/// when the school has no published row in any table.
pub fn render(export: &Export, unit: &UnitResult, school: usize) -> Option<String> {
    let info = unit.schools.get(school)?;
    let q = &export.questionnaire;
    let mut tables = String::new();
    // Indicators first: they are what a headteacher reads first.
    let mut order: Vec<&crate::disclose::PublishedTable> = unit.tables.iter().collect();
    order.sort_by_key(|t| !matches!(export.layout.tables[t.table].subject, Subject::Indicator(_)));
    for table in order {
        let def = &export.layout.tables[table.table];
        let mut lines: Vec<&Line> = table
            .lines
            .iter()
            .filter(|l| l.school == Some(school))
            .collect();
        if lines.is_empty() {
            continue;
        }
        lines.sort_by_key(|l| {
            StageLevel::ALL
                .iter()
                .position(|s| *s == l.stage)
                .unwrap_or(usize::MAX)
        });
        let _ = write!(
            tables,
            "<table><caption>{}</caption><thead><tr><th scope=\"col\">Stage</th>",
            esc(&def.title)
        );
        for c in &def.categories {
            let _ = write!(tables, "<th scope=\"col\">{}</th>", esc(&c.label));
        }
        let _ = write!(
            tables,
            "<th scope=\"col\">Pupils who answered</th></tr></thead><tbody>"
        );
        for line in lines {
            let (base, base_hidden) = line.base();
            let _ = write!(
                tables,
                "<tr><th scope=\"row\">{}</th>",
                if line.stage == StageLevel::All {
                    "All stages"
                } else {
                    line.stage.as_str()
                }
            );
            for k in 0..def.categories.len() {
                let (count, hidden) = (line.counts[k], line.hidden[k]);
                if hidden {
                    let _ = write!(tables, "<td>c</td>");
                } else {
                    let pct = percent(count, hidden, base, base_hidden);
                    if pct.is_empty() {
                        let _ = write!(tables, "<td>{count}</td>");
                    } else {
                        let _ = write!(tables, "<td>{count} ({pct}%)</td>");
                    }
                }
            }
            if base_hidden {
                let _ = write!(tables, "<td>c</td></tr>");
            } else {
                let _ = write!(tables, "<td>{base}</td></tr>");
            }
        }
        let _ = write!(tables, "</tbody></table>");
    }
    if tables.is_empty() {
        return None;
    }
    let partnership = unit.cpp.as_ref().map_or("", |c| c.name.as_str());
    let title = format!("{}: {}", info.name, q.title(q.default_locale()));
    let mut html = String::with_capacity(tables.len() + 2048);
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>\
         <h1>{}</h1><p class=\"meta\">{} · questionnaire {} version {}. Counts from 1 to {} are hidden and shown as <b>c</b>, \
         and so are other numbers that would let a hidden one be worked out, here or in the partnership's results. \
         Percentages are of the pupils who answered.</p>{tables}</body></html>",
        esc(&title),
        esc(&title),
        esc(partnership),
        esc(q.id().as_str()),
        q.version(),
        export.rule.threshold.saturating_sub(1),
    );
    Some(html)
}

impl Export {
    /// Every school report of every partnership: (file name, page).
    pub fn school_reports(&self) -> Vec<(String, String)> {
        let mut reports = Vec::new();
        for unit in self.cpp_units() {
            for (index, school) in unit.schools.iter().enumerate() {
                if let Some(html) = render(self, unit, index) {
                    reports.push((file_name(&school.seed_code), html));
                }
            }
        }
        reports
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_keeps_only_safe_characters() {
        assert_eq!(file_name("5244439"), "school-5244439.html");
        assert_eq!(file_name("SYN1-00001"), "school-SYN1-00001.html");
        assert_eq!(file_name("../x y"), "school-xy.html");
    }
}
