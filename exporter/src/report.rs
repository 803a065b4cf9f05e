//! `report.html`: one self-contained page (inline CSS and SVG, no scripts),
//! one section per partnership (and Scotland), with bar charts of every
//! indicator and question by stage and by sex. Suppressed values are drawn as
//! hatched grey with a "c", never as a number, and every chart carries its
//! numbers as text so the page reads when printed in black and white.

use std::fmt::Write;

use crate::disclose::{Line, PublishedTable};
use crate::layout::{Layout, StageLevel, TableDef};
use crate::{Export, UnitResult};

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#1a1a1a;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.35rem;border-bottom:2px solid #333;padding-top:1rem}h3{font-size:1.05rem;margin:1.2rem 0 .3rem}
.meta{color:#444;font-size:.9rem}.key{font-size:.85rem;margin:.5rem 0}
figure{margin:.2rem 0 1rem;break-inside:avoid;page-break-inside:avoid}
figcaption{font-size:.85rem;color:#333}
svg{max-width:100%;height:auto}
svg text{font-size:11px;fill:#1a1a1a}
nav ul{columns:3;font-size:.9rem}
@media print{body{margin:0;max-width:none}section.unit{page-break-before:always}nav{display:none}a{color:inherit;text-decoration:none}}
"#;

const COLOURS: [&str; 8] = [
    "#1b4f72", "#2e86c1", "#85c1e9", "#f5b041", "#ca6f1e", "#7d3c98", "#52be80", "#99a3a4",
];

/// Text escaped for HTML content and attribute values.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The whole report.
pub fn render(export: &Export) -> String {
    let q = &export.questionnaire;
    let mut html = String::with_capacity(1 << 20);
    let title = format!("{} — results", q.title(q.default_locale()));
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&title)
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"meta\">Questionnaire {} version {} · generated {} · counts below {} are suppressed and shown as <b>c</b>; so are other cells that would let a suppressed count be worked out.</p>",
        esc(&title),
        esc(q.id().as_str()),
        q.version(),
        export.generated_at.format("%Y-%m-%d %H:%M UTC"),
        export.rule.threshold
    );
    html.push_str("<svg width=\"0\" height=\"0\" aria-hidden=\"true\" style=\"position:absolute\"><defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e5e5e5\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs></svg>");
    html.push_str("<nav><ul>");
    for (i, unit) in export.units.iter().enumerate() {
        let _ = write!(
            html,
            "<li><a href=\"#u{i}\">{}</a></li>",
            esc(&unit_name(unit))
        );
    }
    html.push_str("</ul></nav>");
    for (i, unit) in export.units.iter().enumerate() {
        unit_section(&mut html, export, unit, i);
    }
    html.push_str("</body></html>");
    html
}

fn unit_name(unit: &UnitResult) -> String {
    match &unit.cpp {
        Some(c) => format!("{} ({})", c.name, c.gss_code),
        None => "Scotland".to_owned(),
    }
}

fn unit_section(html: &mut String, export: &Export, unit: &UnitResult, index: usize) {
    let layout = &export.layout;
    let _ = write!(
        html,
        "<section class=\"unit\" id=\"u{index}\"><h2>{}</h2><p class=\"meta\">{} responses.</p>",
        esc(&unit_name(unit)),
        crate::output::published_responses(unit)
            .map_or_else(|| crate::output::SUPPRESSED.to_owned(), |n| n.to_string()),
    );
    html.push_str("<h3>Wellbeing indicators</h3><p class=\"key\">Share of pupils with a positive result, of those with a result.</p>");
    for table in unit.tables.iter().filter(|t| layout.is_indicator(t.table)) {
        let def = &layout.tables[table.table];
        share_chart(html, layout, def, table, "by stage", true);
        share_chart(html, layout, def, table, "by sex", false);
    }
    html.push_str("<h3>Questions</h3>");
    for table in unit.tables.iter().filter(|t| !layout.is_indicator(t.table)) {
        let def = &layout.tables[table.table];
        let _ = write!(
            html,
            "<h3>{} <small>({})</small></h3>",
            esc(&def.title),
            esc(&def.id)
        );
        if def.categories.is_empty() {
            html.push_str("<p class=\"key\">Published as a base only (see frequencies.csv).</p>");
            continue;
        }
        legend(html, def);
        if def.additive {
            stacked_chart(html, layout, def, table, "by stage", true);
            stacked_chart(html, layout, def, table, "by sex", false);
        } else {
            option_chart(html, def, table);
        }
    }
    html.push_str("</section>");
}

/// The grid lines of one breakdown: by stage (sex All) or by sex (stage All).
fn breakdown<'a>(
    layout: &'a Layout,
    table: &'a PublishedTable,
    by_stage: bool,
) -> Vec<(String, &'a Line)> {
    table
        .lines
        .iter()
        .filter(|l| l.school.is_none())
        .filter(|l| {
            if by_stage {
                l.sex.is_none()
            } else {
                l.stage == StageLevel::All
            }
        })
        .map(|l| {
            let label = if by_stage {
                l.stage.as_str().to_owned()
            } else {
                l.sex
                    .map(|s| layout.sexes[s].label.clone())
                    .unwrap_or_else(|| "All".to_owned())
            };
            (label, l)
        })
        .collect()
}

const LABEL_W: f64 = 170.0;
const BAR_W: f64 = 420.0;
const ROW_H: f64 = 20.0;

fn svg_open(html: &mut String, rows: usize, caption: &str) {
    let height = rows as f64 * ROW_H + 6.0;
    let _ = write!(
        html,
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {height}\" width=\"{}\" height=\"{height}\">",
        esc(caption),
        esc(caption),
        LABEL_W + BAR_W + 80.0,
        LABEL_W + BAR_W + 80.0
    );
}

fn hidden_bar(html: &mut String, y: f64, x: f64, w: f64) {
    let _ = write!(
        html,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\" fill=\"url(#hatch)\" stroke=\"#999\" stroke-width=\"0.5\"/>",
        ROW_H - 6.0
    );
}

fn row_label(html: &mut String, y: f64, label: &str) {
    let _ = write!(
        html,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        LABEL_W - 6.0,
        y + ROW_H - 9.0,
        esc(label)
    );
}

/// One bar per breakdown level: the share of the first category ("positive").
fn share_chart(
    html: &mut String,
    layout: &Layout,
    def: &TableDef,
    table: &PublishedTable,
    by: &str,
    by_stage: bool,
) {
    let rows = breakdown(layout, table, by_stage);
    svg_open(html, rows.len(), &format!("{}: positive {by}", def.title));
    for (i, (label, line)) in rows.iter().enumerate() {
        let y = i as f64 * ROW_H + 3.0;
        row_label(html, y, label);
        let (base, base_hidden) = line.base();
        let (count, hidden) = (line.counts[0], line.hidden[0]);
        if hidden || base_hidden || base == 0 {
            hidden_bar(html, y, LABEL_W, BAR_W);
            let text = if base == 0 && !base_hidden {
                "no pupils"
            } else {
                "c (suppressed)"
            };
            let _ = write!(
                html,
                "<text x=\"{:.1}\" y=\"{:.1}\">{text}</text>",
                LABEL_W + BAR_W + 4.0,
                y + ROW_H - 9.0
            );
            continue;
        }
        let share = f64::from(count) / f64::from(base);
        let _ = write!(
            html,
            "<rect x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{:.1}% of {base}</text>",
            share * BAR_W,
            ROW_H - 6.0,
            COLOURS[0],
            LABEL_W + share * BAR_W + 4.0,
            y + ROW_H - 9.0,
            share * 100.0
        );
    }
    html.push_str("</svg></figure>");
}

fn legend(html: &mut String, def: &TableDef) {
    html.push_str("<p class=\"key\">");
    for (i, c) in def.categories.iter().enumerate() {
        let _ = write!(
            html,
            "<span style=\"display:inline-block;width:.8em;height:.8em;background:{};border:1px solid #333\"></span> {} &nbsp; ",
            COLOURS[i % COLOURS.len()],
            esc(&c.label)
        );
    }
    html.push_str("<span style=\"display:inline-block;width:.8em;height:.8em;background:#ddd;border:1px solid #333\"></span> suppressed (c)</p>");
}

/// One 100% bar per level, one segment per category; suppressed categories
/// are lumped into one hatched segment so no hidden value can be measured.
fn stacked_chart(
    html: &mut String,
    layout: &Layout,
    def: &TableDef,
    table: &PublishedTable,
    by: &str,
    by_stage: bool,
) {
    let rows = breakdown(layout, table, by_stage);
    svg_open(
        html,
        rows.len(),
        &format!("{by} (percent of pupils who answered)"),
    );
    for (i, (label, line)) in rows.iter().enumerate() {
        let y = i as f64 * ROW_H + 3.0;
        row_label(html, y, label);
        let (base, base_hidden) = line.base();
        if base_hidden || base == 0 {
            hidden_bar(html, y, LABEL_W, BAR_W);
            let text = if base_hidden {
                "c (suppressed)"
            } else {
                "no pupils"
            };
            let _ = write!(
                html,
                "<text x=\"{:.1}\" y=\"{:.1}\">{text}</text>",
                LABEL_W + BAR_W + 4.0,
                y + ROW_H - 9.0
            );
            continue;
        }
        let mut x = LABEL_W;
        let mut title = Vec::new();
        for k in 0..def.categories.len() {
            if line.hidden[k] {
                title.push(format!("{}: c", def.categories[k].label));
                continue;
            }
            let share = f64::from(line.counts[k]) / f64::from(base);
            title.push(format!(
                "{}: {:.1}%",
                def.categories[k].label,
                share * 100.0
            ));
            let w = share * BAR_W;
            let _ = write!(
                html,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{}\" fill=\"{}\"/>",
                ROW_H - 6.0,
                COLOURS[k % COLOURS.len()]
            );
            x += w;
        }
        let used = x - LABEL_W;
        if line.hidden.iter().take(def.categories.len()).any(|h| *h) {
            hidden_bar(html, y, x, (BAR_W - used).max(0.0));
        }
        let _ = write!(
            html,
            "<text x=\"{:.1}\" y=\"{:.1}\">n={base}</text><title>{}</title>",
            LABEL_W + BAR_W + 4.0,
            y + ROW_H - 9.0,
            esc(&title.join("; "))
        );
    }
    html.push_str("</svg></figure>");
}

/// Multiple choice: one bar per option (all stages, all sexes), as a share
/// of pupils who answered; shares can add to more than 100%.
fn option_chart(html: &mut String, def: &TableDef, table: &PublishedTable) {
    let Some(line) = table
        .lines
        .iter()
        .find(|l| l.school.is_none() && l.sex.is_none() && l.stage == StageLevel::All)
    else {
        return;
    };
    svg_open(
        html,
        def.categories.len(),
        "all pupils who answered (more than one answer allowed)",
    );
    let (base, base_hidden) = line.base();
    for (k, c) in def.categories.iter().enumerate() {
        let y = k as f64 * ROW_H + 3.0;
        row_label(html, y, &c.label);
        if line.hidden[k] || base_hidden || base == 0 {
            hidden_bar(html, y, LABEL_W, BAR_W);
            let _ = write!(
                html,
                "<text x=\"{:.1}\" y=\"{:.1}\">c (suppressed)</text>",
                LABEL_W + BAR_W + 4.0,
                y + ROW_H - 9.0
            );
            continue;
        }
        let share = f64::from(line.counts[k]) / f64::from(base);
        let _ = write!(
            html,
            "<rect x=\"{LABEL_W}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{}\" fill=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{:.1}%</text>",
            share * BAR_W,
            ROW_H - 6.0,
            COLOURS[k % COLOURS.len()],
            LABEL_W + share * BAR_W + 4.0,
            y + ROW_H - 9.0,
            share * 100.0
        );
    }
    html.push_str("</svg></figure>");
}
