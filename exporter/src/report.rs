//! `report.html`: one self-contained page (inline CSS and SVG, no scripts),
//! one section per unit (Scotland first when the export holds it, then each
//! partnership). Each section opens with a one-screen summary table of every
//! indicator by stage, beside Scotland's figures when the export has them,
//! then bar charts of every indicator and question by stage and by sex.
//!
//! Only published cells are shown. A suppressed value is drawn as hatched
//! grey with a "c", never as a number, and a total (a unit's responses) is
//! shown only where the response-rate table publishes it. Every published
//! percentage carries its 95% Wilson score interval, worked out from the
//! published count and base alone.
//!
//! Chart text is laid out by a conservative estimate of its width, so long
//! labels wrap inside their column and every value stays inside its chart.
//! Each chart carries all its numbers as its text alternative, and each row
//! as a tooltip; share charts also print every percentage beside its bar.

use std::fmt::Write;

use crate::disclose::{Line, PublishedTable};
use crate::layout::{Layout, StageLevel, TableDef};
use crate::output::{SUPPRESSED, published_responses};
use crate::{Export, UnitResult};

const CSS: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:60rem;color:#1a1a1a;line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.35rem;border-bottom:2px solid #333;padding-top:1rem}h3{font-size:1.15rem;margin:1.4rem 0 .3rem}h4{font-size:1rem;margin:1.2rem 0 .3rem}
.meta{color:#333;font-size:.9rem}.key{font-size:.85rem;margin:.5rem 0}.about{font-size:.9rem;max-width:48rem}
figure{margin:.2rem 0 1rem;break-inside:avoid;page-break-inside:avoid}
figcaption{font-size:.85rem;color:#333}
svg{max-width:100%;height:auto}
svg text{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;font-size:11px;fill:#1a1a1a}
nav ul{columns:3;font-size:.9rem}
table.summary{border-collapse:collapse;font-size:.85rem;margin:.3rem 0 .5rem;break-inside:avoid;page-break-inside:avoid}
.summary caption{text-align:left;font-size:.85rem;color:#333;padding-bottom:.3rem}
.summary th,.summary td{padding:.15rem .4rem;border-bottom:1px solid #bbb;text-align:right;white-space:nowrap;line-height:1.15}
.summary th[scope=row],.summary thead th:first-child{text-align:left}
.summary thead th{border-bottom:2px solid #333}
.summary tr.scotland th,.summary tr.scotland td{color:#333;background:#f2f2f2;font-size:.8rem}
.summary tr.scotland th{padding-left:1.2rem;font-weight:normal}
.ci{color:#444;font-size:.8em}
@media print{body{margin:0;max-width:none}h2,h3,h4,.key{break-after:avoid;page-break-after:avoid}section.unit{page-break-before:always}section.unit:first-of-type{page-break-before:auto}nav{display:none}a{color:inherit;text-decoration:none}}
"#;

const COLOURS: [&str; 8] = [
    "#1b4f72", "#2e86c1", "#85c1e9", "#f5b041", "#ca6f1e", "#7d3c98", "#52be80", "#99a3a4",
];

/// The one sentence that explains the intervals, shown above the first summary.
const INTERVAL_NOTE: &str = "The range given with each percentage is its 95% confidence interval (Wilson score interval): the true share for all pupils like those who answered very likely lies inside it, and the fewer pupils a percentage rests on, the wider it is, so a difference between two groups whose ranges overlap may be chance.";

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

/// The 95% Wilson score interval of a share of `count` in `base`, as
/// fractions, or `None` when the base is zero. Unlike the plain "share ±
/// 1.96 standard errors", it stays inside 0 to 1 and is honest for small
/// groups and for shares near 0% or 100% (Newcombe, 1998).
pub fn wilson_interval(count: u32, base: u32) -> Option<(f64, f64)> {
    if base == 0 || count > base {
        return None;
    }
    const Z: f64 = 1.959_963_984_540_054;
    let n = f64::from(base);
    let p = f64::from(count) / n;
    let z2 = Z * Z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z / denominator * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - half).max(0.0), (centre + half).min(1.0)))
}

/// A published share with its interval, such as "72.3% (68.1–76.2)", or
/// `None` when the count or the base is suppressed or the base is zero.
fn share_text(count: u32, count_hidden: bool, base: u32, base_hidden: bool) -> Option<String> {
    if count_hidden || base_hidden {
        return None;
    }
    let (low, high) = wilson_interval(count, base)?;
    let share = f64::from(count) / f64::from(base);
    Some(format!(
        "{:.1}% ({:.1}–{:.1})",
        share * 100.0,
        low * 100.0,
        high * 100.0
    ))
}

/// The same in whole percentages, for the summary table: "72%" and
/// "68%–76%".
fn summary_share(line: &Line) -> Option<(String, String)> {
    let (base, base_hidden) = line.base();
    if line.hidden[0] || base_hidden {
        return None;
    }
    let (low, high) = wilson_interval(line.counts[0], base)?;
    let share = f64::from(line.counts[0]) / f64::from(base);
    Some((
        format!("{:.0}%", share * 100.0),
        format!("{:.0}%–{:.0}%", low * 100.0, high * 100.0),
    ))
}

/// The whole report.
pub fn render(export: &Export) -> String {
    let q = &export.questionnaire;
    let mut html = String::with_capacity(1 << 20);
    let title = format!("{} — results", q.title(q.default_locale()));
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{CSS}</style></head><body><main>",
        esc(&title)
    );
    let _ = write!(
        html,
        "<h1>{}</h1><p class=\"meta\">Questionnaire {} version {} · generated {}</p>",
        esc(&title),
        esc(q.id().as_str()),
        q.version(),
        export.generated_at.format("%Y-%m-%d %H:%M UTC"),
    );
    let _ = write!(
        html,
        "<div class=\"about\"><p>Counts below {} are not published, nor are other counts that would let one be worked out; each is shown as <b>{SUPPRESSED}</b>. Totals follow the same rule: a number of responses appears only where the published tables give it. {INTERVAL_NOTE}</p></div>",
        export.rule.threshold
    );
    html.push_str("<svg width=\"0\" height=\"0\" aria-hidden=\"true\" focusable=\"false\" style=\"position:absolute\"><defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#e5e5e5\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#999\" stroke-width=\"2\"/></pattern></defs></svg>");
    let scotland = export.units.iter().find(|u| u.cpp.is_none());
    let order: Vec<&UnitResult> = scotland.into_iter().chain(export.cpp_units()).collect();
    if order.len() > 1 {
        html.push_str("<nav aria-label=\"Sections\"><ul>");
        for (i, unit) in order.iter().enumerate() {
            let _ = write!(
                html,
                "<li><a href=\"#u{i}\">{}</a></li>",
                esc(&unit_name(unit))
            );
        }
        html.push_str("</ul></nav>");
    }
    // Scotland beneath each partnership: from the export itself, or from
    // Scotland's release of the same wave.
    let beside = match (scotland, &export.beside) {
        (Some(unit), _) => Some((unit, None)),
        (None, Some(b)) => Some((&b.scotland, Some(b.released_on))),
        (None, None) => None,
    };
    for (i, unit) in order.iter().enumerate() {
        let beside = beside.filter(|_| unit.cpp.is_some());
        unit_section(&mut html, export, unit, beside, i);
    }
    html.push_str("</main></body></html>");
    html
}

fn unit_name(unit: &UnitResult) -> String {
    match &unit.cpp {
        Some(c) => format!("{} ({})", c.name, c.gss_code),
        None => "Scotland".to_owned(),
    }
}

fn unit_section(
    html: &mut String,
    export: &Export,
    unit: &UnitResult,
    scotland: Option<(&UnitResult, Option<chrono::NaiveDate>)>,
    index: usize,
) {
    let layout = &export.layout;
    let _ = write!(
        html,
        "<section class=\"unit\" id=\"u{index}\" aria-labelledby=\"u{index}h\"><h2 id=\"u{index}h\">{}</h2><p class=\"meta\">Responses: {}.</p>",
        esc(&unit_name(unit)),
        published_responses(unit).map_or_else(|| SUPPRESSED.to_owned(), |n| n.to_string()),
    );
    summary(html, layout, unit, scotland);
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
            "<h4>{} <small>({})</small></h4>",
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

/// The all-pupils line of one stage level (every school, every sex).
fn stage_line(table: &PublishedTable, level: StageLevel) -> Option<&Line> {
    table
        .lines
        .iter()
        .find(|l| l.school.is_none() && l.sex.is_none() && l.stage == level)
}

/// Every indicator by stage, one screen: the unit's row and, beneath it,
/// Scotland's when the export holds Scotland or comes with Scotland's
/// release (made on the date given).
fn summary(
    html: &mut String,
    layout: &Layout,
    unit: &UnitResult,
    scotland: Option<(&UnitResult, Option<chrono::NaiveDate>)>,
) {
    let indicators: Vec<&PublishedTable> = unit
        .tables
        .iter()
        .filter(|t| layout.is_indicator(t.table))
        .collect();
    if indicators.is_empty() {
        return;
    }
    let levels: Vec<StageLevel> = std::iter::once(StageLevel::All)
        .chain(
            survey_defs::Stage::ALL
                .into_iter()
                .map(StageLevel::Stage)
                .filter(|level| indicators.iter().any(|t| stage_line(t, *level).is_some())),
        )
        .collect();
    let _ = write!(
        html,
        "<h3>Summary</h3><table class=\"summary\"><caption>Pupils with a positive result on each wellbeing indicator, by stage{}. <b>{SUPPRESSED}</b>: not published; –: not asked at that stage, or no pupil had a result.</caption><thead><tr><th scope=\"col\">Indicator</th>",
        match scotland {
            Some((_, Some(day))) => format!(
                ", with Scotland beneath as Scotland's release of this wave of {} publishes it",
                day.format("%-d %B %Y")
            ),
            Some((_, None)) => ", with Scotland beneath".to_owned(),
            None => String::new(),
        }
    );
    for level in &levels {
        let name = match level {
            StageLevel::All => "All stages",
            other => other.as_str(),
        };
        let _ = write!(html, "<th scope=\"col\">{name}</th>");
    }
    html.push_str("</tr></thead><tbody>");
    for table in indicators {
        let def = &layout.tables[table.table];
        let _ = write!(html, "<tr><th scope=\"row\">{}</th>", esc(&def.title));
        summary_cells(html, table, &levels);
        html.push_str("</tr>");
        if let Some(national) =
            scotland.and_then(|(s, _)| s.tables.iter().find(|t| t.table == table.table))
        {
            html.push_str("<tr class=\"scotland\"><th scope=\"row\">Scotland</th>");
            summary_cells(html, national, &levels);
            html.push_str("</tr>");
        }
    }
    html.push_str("</tbody></table>");
}

fn summary_cells(html: &mut String, table: &PublishedTable, levels: &[StageLevel]) {
    for level in levels {
        let cell = match stage_line(table, *level) {
            None => "–".to_owned(),
            Some(line) if line.base() == (0, false) => "–".to_owned(),
            Some(line) => match summary_share(line) {
                Some((share, range)) => {
                    format!("{share}<br><span class=\"ci\">{range}</span>")
                }
                None => SUPPRESSED.to_owned(),
            },
        };
        let _ = write!(html, "<td>{cell}</td>");
    }
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

/// Font size of chart text, in the SVG's own units.
const FONT: f64 = 11.0;
/// Distance between the baselines of a wrapped label's lines.
const LINE_H: f64 = 13.0;
/// Room for a label; longer labels wrap onto more lines.
const LABEL_W: f64 = 210.0;
const BAR_X: f64 = LABEL_W + 12.0;
const BAR_W: f64 = 330.0;
const BAR_H: f64 = 14.0;
/// Where the value column (the number or "c") starts.
const VALUE_X: f64 = BAR_X + BAR_W + 8.0;
/// The smallest row; rows grow with their label's lines.
const ROW_H: f64 = 22.0;
const MARGIN: f64 = 4.0;

/// A width no narrower than the text's, in SVG units at [`FONT`]: each
/// character counts at or above its advance in the wide fonts the style
/// sheet names first (DejaVu Sans, Verdana), which are wider than the
/// fallbacks, so a label measured here fits whichever font draws it.
fn text_width(text: &str) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | '\'' | '!' | ' ' => 0.40,
            'f' | 't' | 'r' | 'I' | '-' | '(' | ')' | ':' | ';' | '|' | '/' | '"' => 0.50,
            '&' | '#' | '+' | '=' | '<' | '>' | '~' | '^' => 0.86,
            'm' | 'w' | 'M' | 'W' | '@' | '%' | '—' => 1.10,
            c if c.is_ascii_uppercase() => 0.82,
            c if c.is_ascii() => 0.66,
            _ => 1.25,
        })
        .sum();
    em * FONT
}

/// A label broken into lines that each measure at most `width`: at spaces
/// where it can, inside a word only when the word alone is too long.
fn wrap(text: &str, width: f64) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let joined = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if text_width(&joined) <= width {
            line = joined;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            let mut longer = line.clone();
            longer.push(c);
            if !line.is_empty() && text_width(&longer) > width {
                lines.push(std::mem::replace(&mut line, c.to_string()));
            } else {
                line = longer;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One row of a chart: its label, wrapped, and what is drawn beside it.
struct Row {
    label: Vec<String>,
    /// `(start, width, fill)` of each bar segment, in shares of the bar.
    segments: Vec<(f64, f64, &'static str)>,
    /// Where a hatched (suppressed) part starts, as a share, if any.
    hatched_from: Option<f64>,
    value: String,
    /// The row read aloud: label and numbers.
    spoken: String,
}

impl Row {
    fn height(&self) -> f64 {
        (self.label.len() as f64 * LINE_H + 8.0).max(ROW_H)
    }
}

/// Draws one chart: a label column, a bar column and a value column, as
/// wide as its longest value needs, with the rows' numbers as its text
/// alternative.
fn chart(html: &mut String, caption: &str, rows: &[Row]) {
    let height: f64 = rows.iter().map(Row::height).sum::<f64>() + 2.0 * MARGIN;
    let value_w = rows
        .iter()
        .map(|r| text_width(&r.value))
        .fold(0.0, f64::max);
    let width = (VALUE_X + value_w + MARGIN).ceil();
    let spoken: Vec<&str> = rows.iter().map(|r| r.spoken.as_str()).collect();
    let _ = write!(
        html,
        "<figure><figcaption>{}</figcaption><svg role=\"img\" aria-label=\"{}: {}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\">",
        esc(caption),
        esc(caption),
        esc(&spoken.join("; ")),
    );
    let mut top = MARGIN;
    for row in rows {
        let h = row.height();
        let middle = top + h / 2.0;
        // The row's numbers as a tooltip, for a pointer over its bar.
        let _ = write!(html, "<g><title>{}</title>", esc(&row.spoken));
        // Baselines of the label's lines, centred on the row (0.35 em
        // below the middle puts a single line's x-height on it).
        let first = middle - (row.label.len() as f64 - 1.0) * LINE_H / 2.0 + 0.35 * FONT;
        for (i, line) in row.label.iter().enumerate() {
            let _ = write!(
                html,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
                LABEL_W,
                first + i as f64 * LINE_H,
                esc(line)
            );
        }
        let bar_y = middle - BAR_H / 2.0;
        for (start, share, fill) in &row.segments {
            let _ = write!(
                html,
                "<rect x=\"{:.1}\" y=\"{bar_y:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"{fill}\" stroke=\"#fff\" stroke-width=\"0.5\"/>",
                BAR_X + start * BAR_W,
                share * BAR_W
            );
        }
        if let Some(from) = row.hatched_from {
            let _ = write!(
                html,
                "<rect x=\"{:.1}\" y=\"{bar_y:.1}\" width=\"{:.1}\" height=\"{BAR_H}\" fill=\"url(#hatch)\" stroke=\"#767676\" stroke-width=\"0.5\"/>",
                BAR_X + from * BAR_W,
                ((1.0 - from) * BAR_W).max(0.0)
            );
        }
        // The whole bar's outline: the 100% scale, and an edge for pale
        // colours that white alone would not give.
        let _ = write!(
            html,
            "<rect x=\"{BAR_X:.1}\" y=\"{bar_y:.1}\" width=\"{BAR_W:.1}\" height=\"{BAR_H}\" fill=\"none\" stroke=\"#767676\" stroke-width=\"0.5\"/>"
        );
        let _ = write!(
            html,
            "<text x=\"{VALUE_X:.1}\" y=\"{:.1}\">{}</text>",
            middle + 0.35 * FONT,
            esc(&row.value)
        );
        html.push_str("</g>");
        top += h;
    }
    html.push_str("</svg></figure>");
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
    let rows: Vec<Row> = breakdown(layout, table, by_stage)
        .into_iter()
        .map(|(label, line)| {
            let (base, base_hidden) = line.base();
            let shown = share_text(line.counts[0], line.hidden[0], base, base_hidden);
            let (segments, hatched_from, value) = match shown {
                Some(text) => {
                    let share = f64::from(line.counts[0]) / f64::from(base);
                    (
                        vec![(0.0, share, COLOURS[0])],
                        None,
                        format!("{text} of {base}"),
                    )
                }
                None if base == 0 && !base_hidden => (Vec::new(), None, "no pupils".to_owned()),
                None => (Vec::new(), Some(0.0), SUPPRESSED.to_owned()),
            };
            Row {
                spoken: format!("{label} {value}"),
                label: wrap(&label, LABEL_W),
                segments,
                hatched_from,
                value,
            }
        })
        .collect();
    chart(html, &format!("{}: positive {by}", def.title), &rows);
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
    html.push_str("<span style=\"display:inline-block;width:.8em;height:.8em;background:#ddd;border:1px solid #333\"></span> not published (c)</p>");
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
    let rows: Vec<Row> = breakdown(layout, table, by_stage)
        .into_iter()
        .map(|(label, line)| {
            let (base, base_hidden) = line.base();
            let wrapped = wrap(&label, LABEL_W);
            if base_hidden || base == 0 {
                let value = if base_hidden { SUPPRESSED } else { "no pupils" };
                return Row {
                    spoken: format!("{label} {value}"),
                    label: wrapped,
                    segments: Vec::new(),
                    hatched_from: base_hidden.then_some(0.0),
                    value: value.to_owned(),
                };
            }
            let mut segments = Vec::new();
            let mut parts = Vec::new();
            let mut used = 0.0;
            for (k, category) in def.categories.iter().enumerate() {
                match share_text(line.counts[k], line.hidden[k], base, false) {
                    None => parts.push(format!("{} {SUPPRESSED}", category.label)),
                    Some(text) => {
                        let share = f64::from(line.counts[k]) / f64::from(base);
                        parts.push(format!("{} {text}", category.label));
                        segments.push((used, share, COLOURS[k % COLOURS.len()]));
                        used += share;
                    }
                }
            }
            let hidden = line.hidden.iter().take(def.categories.len()).any(|h| *h);
            Row {
                spoken: format!("{label}, {base} pupils: {}", parts.join(", ")),
                label: wrapped,
                segments,
                hatched_from: hidden.then_some(used),
                value: format!("n={base}"),
            }
        })
        .collect();
    chart(
        html,
        &format!("{by} (percent of pupils who answered)"),
        &rows,
    );
}

/// Multiple choice: one bar per option (all stages, all sexes), as a share
/// of pupils who answered; shares can add to more than 100%.
fn option_chart(html: &mut String, def: &TableDef, table: &PublishedTable) {
    let Some(line) = stage_line(table, StageLevel::All) else {
        return;
    };
    let (base, base_hidden) = line.base();
    let rows: Vec<Row> = def
        .categories
        .iter()
        .enumerate()
        .map(|(k, category)| {
            let (segments, hatched_from, value) =
                match share_text(line.counts[k], line.hidden[k], base, base_hidden) {
                    Some(text) => {
                        let share = f64::from(line.counts[k]) / f64::from(base);
                        (vec![(0.0, share, COLOURS[k % COLOURS.len()])], None, text)
                    }
                    None if base == 0 && !base_hidden => (Vec::new(), None, "no pupils".to_owned()),
                    None => (Vec::new(), Some(0.0), SUPPRESSED.to_owned()),
                };
            Row {
                spoken: format!("{} {value}", category.label),
                label: wrap(&category.label, LABEL_W),
                segments,
                hatched_from,
                value,
            }
        })
        .collect();
    let caption = match published_base(line) {
        Some(n) => format!("All {n} pupils who answered (more than one answer allowed)"),
        None => "All pupils who answered (more than one answer allowed)".to_owned(),
    };
    chart(html, &caption, &rows);
}

fn published_base(line: &Line) -> Option<u32> {
    match line.base() {
        (n, false) => Some(n),
        (_, true) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rounded(interval: Option<(f64, f64)>) -> Option<(f64, f64)> {
        interval.map(|(low, high)| {
            (
                (low * 10_000.0).round() / 10_000.0,
                (high * 10_000.0).round() / 10_000.0,
            )
        })
    }

    /// The worked examples of Newcombe (1998), "Two-sided confidence
    /// intervals for the single proportion", Table I, method 3.
    #[test]
    fn wilson_intervals_match_newcombes_worked_examples() {
        assert_eq!(rounded(wilson_interval(81, 263)), Some((0.2553, 0.3662)));
        assert_eq!(rounded(wilson_interval(15, 148)), Some((0.0624, 0.1605)));
        assert_eq!(rounded(wilson_interval(0, 20)), Some((0.0, 0.1611)));
        assert_eq!(rounded(wilson_interval(1, 29)), Some((0.0061, 0.1718)));
    }

    #[test]
    fn no_interval_without_a_base_or_with_a_count_above_it() {
        assert_eq!(wilson_interval(0, 0), None);
        assert_eq!(wilson_interval(5, 4), None);
    }

    #[test]
    fn a_share_is_written_only_when_count_and_base_are_published() {
        assert_eq!(
            share_text(81, false, 263, false).as_deref(),
            Some("30.8% (25.5–36.6)")
        );
        assert_eq!(share_text(81, true, 263, false), None);
        assert_eq!(share_text(81, false, 263, true), None);
        assert_eq!(share_text(0, false, 0, false), None);
    }

    fn line(stage: StageLevel, counts: [u32; 3], hidden: [bool; 3]) -> Line {
        Line {
            school: None,
            stage,
            sex: None,
            counts: counts.to_vec(),
            hidden: hidden.to_vec(),
        }
    }

    #[test]
    fn the_summary_shows_published_shares_c_for_suppressed_ones_and_a_dash_for_none() {
        use survey_defs::Stage;
        let table = PublishedTable {
            table: 0,
            lines: vec![
                line(StageLevel::All, [81, 182, 263], [false; 3]),
                line(
                    StageLevel::Stage(Stage::P5),
                    [4, 30, 34],
                    [true, true, false],
                ),
                line(
                    StageLevel::Stage(Stage::P6),
                    [20, 30, 50],
                    [false, false, true],
                ),
                line(StageLevel::Stage(Stage::P7), [0, 0, 0], [false; 3]),
            ],
        };
        let levels = [
            StageLevel::All,
            StageLevel::Stage(Stage::P5),
            StageLevel::Stage(Stage::P6),
            StageLevel::Stage(Stage::P7),
            StageLevel::Stage(Stage::S1),
        ];
        let mut html = String::new();
        summary_cells(&mut html, &table, &levels);
        assert_eq!(
            html,
            "<td>31%<br><span class=\"ci\">26%–37%</span></td><td>c</td><td>c</td><td>–</td><td>–</td>"
        );
    }

    #[test]
    fn an_option_nobody_could_answer_reads_no_pupils_and_a_hidden_one_reads_c() {
        use crate::layout::{Category, Subject};
        let def = TableDef {
            subject: Subject::Question(0),
            id: "where".to_owned(),
            title: "Where?".to_owned(),
            kind: "multiple_choice",
            categories: ["Home", "School"]
                .iter()
                .map(|l| Category {
                    code: l.to_lowercase(),
                    label: (*l).to_owned(),
                })
                .collect(),
            offset: 0,
            additive: false,
            route: None,
            stages: survey_defs::StageSet::ALL,
        };
        let nobody = PublishedTable {
            table: 0,
            lines: vec![line(StageLevel::All, [0, 0, 0], [false; 3])],
        };
        let mut html = String::new();
        option_chart(&mut html, &def, &nobody);
        assert_eq!(html.matches(">no pupils</text>").count(), 2, "{html}");
        assert!(!html.contains("url(#hatch)"), "{html}");

        let hidden = PublishedTable {
            table: 0,
            lines: vec![line(StageLevel::All, [3, 40, 41], [true, false, false])],
        };
        let mut html = String::new();
        option_chart(&mut html, &def, &hidden);
        assert!(html.contains(">c</text>"), "{html}");
        assert!(html.contains(">97.6% (87.4–99.6)</text>"), "{html}");
        assert!(html.contains("All 41 pupils who answered"), "{html}");
    }

    #[test]
    fn wrapped_lines_each_fit_and_keep_every_character() {
        let label =
            "Someone at school I trust, such as a teacher, a guidance teacher or another adult";
        let lines = wrap(label, 120.0);
        assert!(lines.len() > 1, "expected wrapping, saw {lines:?}");
        assert!(lines.iter().all(|l| text_width(l) <= 120.0), "{lines:?}");
        assert_eq!(lines.join(" "), label);

        let word = "Pneumonoultramicroscopicsilicovolcanoconiosis";
        let lines = wrap(word, 60.0);
        assert!(lines.iter().all(|l| text_width(l) <= 60.0), "{lines:?}");
        assert_eq!(lines.concat(), word);
        assert_eq!(wrap("", 60.0), vec![String::new()]);
    }
}
