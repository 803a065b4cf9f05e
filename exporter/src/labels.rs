//! Label files for analysts' tools: `labels.R`, `labels.sps` and `labels.do`.
//!
//! Each file, run in the folder holding a release's files, reads
//! `frequencies.csv`, `indicators.csv` and `response_rates.csv` and attaches
//! a label to every column and to every code: the stage and sex codes, each
//! question (its wording) and each answer option and indicator result.
//!
//! The tables are long (one row per cell), so an option code only means
//! something together with its question. Every tool gets the same numbered
//! keys, added as new columns beside the codes, which stay as they are:
//! - `stage_key`: the stage levels in publication order (P5 = 1 ... All = 10);
//! - `sex_key`: the sex categories in questionnaire order, "Not stated", then All;
//! - `question_key`: questions in questionnaire order, then indicators;
//! - `option_key`: `question_key` × [`Keys::step`] (1000) plus the option's
//!   number within its question, or plus 0 for the base (`All`).
//!
//! Stata labels only whole numbers, which is why the keys are numbers. R gets
//! the same keys as factors whose levels are the labels, in the same order.
//!
//! Labels are shown on one line: a line break, tab or other control
//! character in a wording becomes a space (the codebook keeps the exact
//! text). Nothing in these files depends on the time they were made.

use std::collections::HashSet;
use std::fmt::Write as _;

use crate::Export;
use crate::layout::{ALL, StageLevel, Subject};
use crate::output::{RATES_HEADER, TABLE_HEADER};

/// The label of the base row of a question (option code `All`).
pub const QUESTION_BASE: &str = "All (pupils who answered)";
/// The label of the base row of an indicator (option code `All`).
pub const INDICATOR_BASE: &str = "All (pupils with a result)";
/// The label of sex `All`, as in the codebook.
pub const ALL_PUPILS: &str = "All pupils";

/// SPSS keeps at most 120 bytes of a value label.
const SPSS_VALUE_LABEL_BYTES: usize = 120;
/// SPSS keeps at most 255 bytes of a variable label.
const SPSS_VARIABLE_LABEL_BYTES: usize = 255;

/// The label of a stage level, in words an analyst would use.
pub fn stage_label(level: StageLevel) -> &'static str {
    use survey_defs::Stage;
    match level {
        StageLevel::Stage(Stage::P5) => "Primary 5",
        StageLevel::Stage(Stage::P6) => "Primary 6",
        StageLevel::Stage(Stage::P7) => "Primary 7",
        StageLevel::Stage(Stage::S1) => "Secondary 1",
        StageLevel::Stage(Stage::S2) => "Secondary 2",
        StageLevel::Stage(Stage::S3) => "Secondary 3",
        StageLevel::Stage(Stage::S4) => "Secondary 4",
        StageLevel::Primary => "Primary stages (P5 to P7)",
        StageLevel::Secondary => "Secondary stages (S1 to S4)",
        StageLevel::All => "All stages",
    }
}

/// One labelled code: the code as the CSV writes it, its number and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Code {
    pub code: String,
    pub key: u32,
    pub label: String,
}

/// A question or indicator with its options (the base first, key 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub id: String,
    pub key: u32,
    pub label: String,
    pub indicator: bool,
    /// The base (`All`), then each category in table order.
    pub options: Vec<Code>,
}

/// Every code of an export with its key and label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub stages: Vec<Code>,
    pub sexes: Vec<Code>,
    pub items: Vec<Item>,
    /// What a question key is multiplied by in an option key: 1000, or more
    /// when a question has 1000 options or more.
    pub step: u32,
}

impl Keys {
    pub fn new(export: &Export) -> Self {
        let layout = &export.layout;
        let stages = StageLevel::ALL
            .iter()
            .zip(1..)
            .map(|(level, key)| Code {
                code: level.as_str().to_owned(),
                key,
                label: stage_label(*level).to_owned(),
            })
            .collect();
        let mut sexes: Vec<Code> = layout
            .sexes
            .iter()
            .zip(1..)
            .map(|(sex, key)| Code {
                code: sex.code.clone(),
                key,
                label: sex.label.clone(),
            })
            .collect();
        sexes.push(Code {
            code: ALL.to_owned(),
            key: sexes.len() as u32 + 1,
            label: ALL_PUPILS.to_owned(),
        });
        let widest = layout
            .tables
            .iter()
            .map(|t| t.categories.len())
            .max()
            .unwrap_or(0);
        let mut step = 1000u32;
        while widest as u64 >= u64::from(step) {
            step = step.saturating_mul(10);
        }
        let items = layout
            .tables
            .iter()
            .zip(1u32..)
            .map(|(table, key)| {
                let indicator = matches!(table.subject, Subject::Indicator(_));
                let base = Code {
                    code: ALL.to_owned(),
                    key: key * step,
                    label: if indicator {
                        INDICATOR_BASE
                    } else {
                        QUESTION_BASE
                    }
                    .to_owned(),
                };
                let options = std::iter::once(base)
                    .chain(table.categories.iter().zip(1u32..).map(|(c, k)| Code {
                        code: c.code.clone(),
                        key: key * step + k,
                        label: c.label.clone(),
                    }))
                    .collect();
                Item {
                    id: table.id.clone(),
                    key,
                    label: table.title.clone(),
                    indicator,
                    options,
                }
            })
            .collect();
        Keys {
            stages,
            sexes,
            items,
            step,
        }
    }

    /// The tables the label files read: all three, less `indicators.csv`
    /// when the questionnaire scores no indicator (the file is then empty,
    /// and an empty list of labels is an error in SPSS and Stata).
    pub fn tables(&self) -> Vec<Table> {
        Table::ALL
            .into_iter()
            .filter(|t| *t == Table::ResponseRates || t.items(self).next().is_some())
            .collect()
    }

    fn questions(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| !i.indicator)
    }

    fn indicators(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.indicator)
    }
}

/// Which file a column belongs to: its variable label can differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Frequencies,
    Indicators,
    ResponseRates,
}

impl Table {
    pub const ALL: [Table; 3] = [Table::Frequencies, Table::Indicators, Table::ResponseRates];

    /// The data set name used in every tool, and the CSV it is read from.
    pub fn name(self) -> &'static str {
        match self {
            Table::Frequencies => "frequencies",
            Table::Indicators => "indicators",
            Table::ResponseRates => "response_rates",
        }
    }

    pub fn csv(self) -> String {
        format!("{}.csv", self.name())
    }

    /// The CSV's columns, in file order.
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Table::Frequencies | Table::Indicators => &TABLE_HEADER,
            Table::ResponseRates => &RATES_HEADER,
        }
    }

    /// The columns read as numbers.
    pub fn numbers(self) -> &'static [&'static str] {
        match self {
            Table::Frequencies | Table::Indicators => &["count", "percent"],
            Table::ResponseRates => &["responses", "roll", "rate"],
        }
    }

    /// The labelled key columns added to the table.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Table::Frequencies | Table::Indicators => {
                &["stage_key", "sex_key", "question_key", "option_key"]
            }
            Table::ResponseRates => &["stage_key"],
        }
    }

    /// Every column, the CSV's then the keys, with its variable label (at
    /// most 80 characters, Stata's limit).
    pub fn variable_labels(self) -> Vec<(&'static str, &'static str)> {
        let indicators = self == Table::Indicators;
        let mut labels = vec![
            ("cpp_code", "Partnership GSS code (All: Scotland)"),
            ("cpp_name", "Partnership name"),
            ("school_seed", "School code (All: every school)"),
            ("school_name", "School name (All: every school)"),
            ("stage", "Stage or band code (All: every stage)"),
        ];
        match self {
            Table::Frequencies | Table::Indicators => {
                labels.push(("sex", "Sex code (All: every pupil)"));
                labels.extend(if indicators {
                    [
                        ("question_id", "Indicator id"),
                        (
                            "option_code",
                            "Indicator result code (All: pupils with a result)",
                        ),
                        ("option_label", "Indicator result"),
                    ]
                } else {
                    [
                        ("question_id", "Question id (see codebook.csv)"),
                        (
                            "option_code",
                            "Answer option code (All: pupils who answered)",
                        ),
                        ("option_label", "Answer option"),
                    ]
                });
                labels.extend([
                    ("count", "Number of pupils (missing when suppressed)"),
                    (
                        "percent",
                        "Percentage of the base (missing when not published)",
                    ),
                    ("status", "c when the cell is suppressed"),
                    ("stage_key", "Stage or band"),
                    ("sex_key", "Sex"),
                ]);
                labels.extend(if indicators {
                    [
                        ("question_key", "Indicator"),
                        (
                            "option_key",
                            "Indicator result (indicator key x 1000 + result)",
                        ),
                    ]
                } else {
                    [
                        ("question_key", "Question"),
                        (
                            "option_key",
                            "Answer option (question key x 1000 + option number)",
                        ),
                    ]
                });
            }
            Table::ResponseRates => labels.extend([
                ("responses", "Number of responses (missing when suppressed)"),
                ("roll", "Pupils on the school roll less those opted out"),
                (
                    "rate",
                    "Responses as % of the roll less pupils opted out (missing if not published)",
                ),
                ("status", "c when the count is suppressed"),
                ("stage_key", "Stage or band"),
            ]),
        }
        labels
    }

    /// The questions (or indicators) this table holds.
    fn items<'a>(self, keys: &'a Keys) -> Box<dyn Iterator<Item = &'a Item> + 'a> {
        match self {
            Table::Frequencies => Box::new(keys.questions()),
            Table::Indicators => Box::new(keys.indicators()),
            Table::ResponseRates => Box::new(std::iter::empty()),
        }
    }
}

/// `text` on one line: each line break (CR LF counts as one), tab or other
/// control character becomes a space.
pub fn one_line(text: &str) -> String {
    text.replace("\r\n", " ")
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The first `max` bytes of `text` at most, cut at a character boundary,
/// ending in "..." when cut.
fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

/// A label as an R string literal: ASCII only (anything else as a `\u{...}`
/// escape), so the script reads the same in every locale.
pub fn r_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in one_line(text).chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            ' '..='~' => out.push(c),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{{{:x}}}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

/// A label as an SPSS string literal: single quotes, a quote doubled, cut to
/// `max` bytes.
fn spss_string_max(text: &str, max: usize) -> String {
    let text = truncate_bytes(&one_line(text), max);
    format!("'{}'", text.replace('\'', "''"))
}

pub fn spss_value_label(text: &str) -> String {
    spss_string_max(text, SPSS_VALUE_LABEL_BYTES)
}

pub fn spss_variable_label(text: &str) -> String {
    spss_string_max(text, SPSS_VARIABLE_LABEL_BYTES)
}

/// A label as a Stata string in compound double quotes.
///
/// Stata expands macros before it reads a command, so `\`, `$` and the
/// backtick are escaped with a backslash (`\\`, `\$`, ``\` ``). Compound
/// quotes nest, and Stata has no escape for a quote inside them: the two
/// sequences that would open or close one (a backtick before a double quote,
/// a double quote before an apostrophe, and a backtick at the very end) take
/// the typographic quotes ‘ and ’ instead.
pub fn stata_string(text: &str) -> String {
    let mut text = one_line(text)
        .replace("`\"", "\u{2018}\"")
        .replace("\"'", "\"\u{2019}");
    if text.ends_with('`') {
        text.pop();
        text.push('\u{2018}');
    }
    let mut out = String::from("`\"");
    for c in text.chars() {
        if matches!(c, '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("\"'");
    out
}

/// The width in bytes of the widest value each string column can hold, as
/// the CSV writes it (see [`crate::spreadsheet::safe_cell`]), at least 1.
fn string_widths(export: &Export, keys: &Keys, table: Table) -> Vec<(&'static str, usize)> {
    use crate::spreadsheet::safe_cell;
    let width = |values: &mut dyn Iterator<Item = &str>| {
        values.map(|v| safe_cell(v).len()).max().unwrap_or(0).max(1)
    };
    let cpps: Vec<(&str, &str)> = export
        .units
        .iter()
        .map(|u| match &u.cpp {
            Some(c) => (c.gss_code.as_str(), c.name.as_str()),
            None => (ALL, "Scotland"),
        })
        .collect();
    let schools = export.units.iter().flat_map(|u| u.schools.iter());
    let items: Vec<&Item> = table.items(keys).collect();
    let mut widths = vec![
        ("cpp_code", width(&mut cpps.iter().map(|c| c.0))),
        ("cpp_name", width(&mut cpps.iter().map(|c| c.1))),
        (
            "school_seed",
            width(&mut schools.clone().map(|s| s.seed_code.as_str()).chain([ALL])),
        ),
        (
            "school_name",
            width(&mut schools.map(|s| s.name.as_str()).chain([ALL])),
        ),
        (
            "stage",
            width(&mut keys.stages.iter().map(|s| s.code.as_str())),
        ),
    ];
    if table == Table::ResponseRates {
        widths.push(("status", 1));
        return widths;
    }
    let categories = || {
        export
            .layout
            .tables
            .iter()
            .filter(|t| items.iter().any(|i| i.id == t.id))
            .flat_map(|t| t.categories.iter())
    };
    widths.extend([
        (
            "sex",
            width(&mut keys.sexes.iter().map(|s| s.code.as_str())),
        ),
        (
            "question_id",
            width(&mut items.iter().map(|i| i.id.as_str())),
        ),
        (
            "option_code",
            width(&mut categories().map(|c| c.code.as_str()).chain([ALL])),
        ),
        (
            "option_label",
            width(&mut categories().map(|c| c.label.as_str()).chain([ALL])),
        ),
        ("status", 1),
    ]);
    widths
}

/// The names of R's lookups of a table's ids and of its option codes.
fn r_lookups(table: Table) -> (&'static str, &'static str) {
    match table {
        Table::Indicators => ("indicator_text", "result_text"),
        Table::Frequencies | Table::ResponseRates => ("question_text", "option_text"),
    }
}

fn header(out: &mut String, export: &Export, comment: &str) {
    let q = &export.questionnaire;
    // Only identifiers and digits go into comments: a wording with a line
    // break in it could otherwise end a comment and start a command.
    let _ = writeln!(
        out,
        "{comment} Labels for the release of questionnaire {} version {}",
        q.id(),
        q.version()
    );
    let _ = writeln!(
        out,
        "{comment} (questionnaire sha256 {}).",
        q.content_hash()
    );
}

impl Export {
    /// The contents of `labels.R`: base R, no packages.
    pub fn labels_r(&self) -> String {
        let keys = Keys::new(self);
        let mut out = String::new();
        header(&mut out, self, "#");
        out.push_str(R_INTRO);
        let vector = |out: &mut String, name: &str, values: &mut dyn Iterator<Item = String>| {
            let _ = writeln!(out, "{name} <- c(");
            let values: Vec<String> = values.collect();
            for (i, v) in values.iter().enumerate() {
                let comma = if i + 1 < values.len() { "," } else { "" };
                let _ = writeln!(out, "  {v}{comma}");
            }
            out.push_str(")\n");
        };
        let named = |pairs: &mut dyn Iterator<Item = (String, String)>| {
            pairs
                .map(|(name, value)| format!("{} = {}", r_string(&name), r_string(&value)))
                .collect::<Vec<_>>()
        };
        out.push_str("\n# Stage and sex codes and their labels, in publication order.\n");
        vector(
            &mut out,
            "stage_codes",
            &mut named(
                &mut keys
                    .stages
                    .iter()
                    .map(|s| (s.code.clone(), s.label.clone())),
            )
            .into_iter(),
        );
        vector(
            &mut out,
            "sex_codes",
            &mut named(&mut keys.sexes.iter().map(|s| (s.code.clone(), s.label.clone())))
                .into_iter(),
        );
        let tables = keys.tables();
        for table in tables.iter().filter(|t| **t != Table::ResponseRates) {
            let table = *table;
            let (items, options) = r_lookups(table);
            let _ = writeln!(
                out,
                "\n# {0}: ids and wording in questionnaire order (a wording that\n\
                 # two share carries the id in brackets, so that each level of\n\
                 # question_key is one of them), then {1} as id, a dot and code.",
                table.csv(),
                if table == Table::Indicators {
                    "each result"
                } else {
                    "each answer option"
                }
            );
            let mine: Vec<&Item> = table.items(&keys).collect();
            let mut seen = HashSet::new();
            let duplicated: HashSet<String> = mine
                .iter()
                .map(|i| one_line(&i.label))
                .filter(|label| !seen.insert(label.clone()))
                .collect();
            vector(
                &mut out,
                items,
                &mut named(&mut mine.iter().map(|i| {
                    let label = one_line(&i.label);
                    let label = if duplicated.contains(&label) {
                        format!("{label} [{}]", i.id)
                    } else {
                        label
                    };
                    (i.id.clone(), label)
                }))
                .into_iter(),
            );
            vector(
                &mut out,
                options,
                &mut named(&mut mine.iter().flat_map(|i| {
                    i.options
                        .iter()
                        .map(move |o| (format!("{}.{}", i.id, o.code), o.label.clone()))
                }))
                .into_iter(),
            );
        }
        out.push_str("\n# Variable labels of every column, file by file.\n");
        for &table in &tables {
            vector(
                &mut out,
                &format!("{}_labels", table.name()),
                &mut named(
                    &mut table
                        .variable_labels()
                        .into_iter()
                        .map(|(c, l)| (c.to_owned(), l.to_owned())),
                )
                .into_iter(),
            );
        }
        out.push('\n');
        for &table in &tables {
            let columns: Vec<String> = table.columns().iter().map(|c| r_string(c)).collect();
            let numbers: Vec<String> = table.numbers().iter().map(|c| r_string(c)).collect();
            let _ = writeln!(
                out,
                "{name} <- read_release({file},\n  c({columns}),\n  c({numbers}))",
                name = table.name(),
                file = r_string(&table.csv()),
                columns = columns.join(", "),
                numbers = numbers.join(", "),
            );
            let _ = writeln!(
                out,
                "{0}$stage_key <- as_labelled({0}$stage, stage_codes, {1})",
                table.name(),
                r_string(&format!("stage in {}", table.csv())),
            );
            if table != Table::ResponseRates {
                let _ = writeln!(
                    out,
                    "{0}$sex_key <- as_labelled({0}$sex, sex_codes, {1})",
                    table.name(),
                    r_string(&format!("sex in {}", table.csv())),
                );
                let (items, options) = r_lookups(table);
                let _ = writeln!(
                    out,
                    "{0}$question_key <- as_labelled({0}$question_id, {items}, {1})",
                    table.name(),
                    r_string(&format!("question_id in {}", table.csv())),
                );
                let _ = writeln!(
                    out,
                    "{0}$option_key <- as_labelled(paste({0}$question_id, {0}$option_code, sep = \".\"),\n  {options}, {1})",
                    table.name(),
                    r_string(&format!("option_code in {}", table.csv())),
                );
            }
            let _ = writeln!(
                out,
                "{0} <- with_variable_labels({0}, {0}_labels)\n",
                table.name()
            );
        }
        out
    }

    /// The contents of `labels.sps`: SPSS syntax, which PSPP runs too.
    pub fn labels_sps(&self) -> String {
        let keys = Keys::new(self);
        let mut out = String::new();
        header(&mut out, self, "*");
        out.push_str(SPSS_INTRO);
        for table in keys.tables() {
            let widths = string_widths(self, &keys, table);
            let _ = writeln!(
                out,
                "\nGET DATA\n  /TYPE=TXT\n  /FILE='{}'\n  /ENCODING='UTF8'\n  /ARRANGEMENT=DELIMITED\n  /DELCASE=LINE\n  /FIRSTCASE=2\n  /DELIMITERS=\",\"\n  /QUALIFIER='\"'\n  /VARIABLES=",
                table.csv()
            );
            for column in table.columns() {
                let format = match widths.iter().find(|(c, _)| c == column) {
                    Some((_, w)) => format!("A{w}"),
                    None if matches!(*column, "percent" | "rate") => "F8.1".to_owned(),
                    None => "F10.0".to_owned(),
                };
                let _ = writeln!(out, "    {column} {format}");
            }
            // The command ends with a period on a line of its own.
            out.push_str(".\n");
            let recode = |out: &mut String,
                          from: &str,
                          to: &str,
                          codes: &mut dyn Iterator<Item = (String, u32)>| {
                let _ = writeln!(out, "RECODE {from}");
                for (code, key) in codes {
                    let _ = writeln!(out, "  ({}={key})", spss_value_label(&code));
                }
                let _ = writeln!(out, "  INTO {to}.");
            };
            recode(
                &mut out,
                "stage",
                "stage_key",
                &mut keys.stages.iter().map(|s| (s.code.clone(), s.key)),
            );
            let items: Vec<&Item> = table.items(&keys).collect();
            if table != Table::ResponseRates {
                recode(
                    &mut out,
                    "sex",
                    "sex_key",
                    &mut keys.sexes.iter().map(|s| (s.code.clone(), s.key)),
                );
                recode(
                    &mut out,
                    "question_id",
                    "question_key",
                    &mut items.iter().map(|i| (i.id.clone(), i.key)),
                );
                let pair_width = widths
                    .iter()
                    .filter(|(c, _)| matches!(*c, "question_id" | "option_code"))
                    .map(|(_, w)| w)
                    .sum::<usize>()
                    + 1;
                let _ = writeln!(out, "STRING #pair (A{pair_width}).");
                out.push_str(
                    "COMPUTE #pair = CONCAT(RTRIM(question_id), '.', RTRIM(option_code)).\n",
                );
                recode(
                    &mut out,
                    "#pair",
                    "option_key",
                    &mut items.iter().flat_map(|i| {
                        i.options
                            .iter()
                            .map(move |o| (format!("{}.{}", i.id, o.code), o.key))
                    }),
                );
            }
            let key_digits = |n: u32| n.to_string().len();
            let _ = writeln!(out, "FORMATS stage_key (F2.0).");
            if table != Table::ResponseRates {
                let last = keys.items.last().map_or(0, |i| i.key);
                let _ = writeln!(
                    out,
                    "FORMATS sex_key (F{}.0) /question_key (F{}.0) /option_key (F{}.0).",
                    key_digits(keys.sexes.len() as u32),
                    key_digits(last),
                    key_digits(last.saturating_mul(keys.step) + keys.step - 1),
                );
            }
            out.push_str("VARIABLE LABELS\n");
            let labels = table.variable_labels();
            for (i, (column, label)) in labels.iter().enumerate() {
                let slash = if i == 0 { " " } else { "/" };
                let end = if i + 1 == labels.len() { "." } else { "" };
                let _ = writeln!(out, " {slash}{column} {}{end}", spss_variable_label(label));
            }
            out.push_str("VALUE LABELS\n  stage_key\n");
            let mut lines: Vec<String> = keys
                .stages
                .iter()
                .map(|s| format!("    {} {}", s.key, spss_value_label(&s.label)))
                .collect();
            if table != Table::ResponseRates {
                lines.push("  /sex_key".to_owned());
                lines.extend(
                    keys.sexes
                        .iter()
                        .map(|s| format!("    {} {}", s.key, spss_value_label(&s.label))),
                );
                lines.push("  /question_key".to_owned());
                lines.extend(
                    items
                        .iter()
                        .map(|i| format!("    {} {}", i.key, spss_value_label(&i.label))),
                );
                lines.push("  /option_key".to_owned());
                lines.extend(items.iter().flat_map(|i| {
                    i.options
                        .iter()
                        .map(|o| format!("    {} {}", o.key, spss_value_label(&o.label)))
                }));
            }
            let _ = writeln!(out, "{}.", lines.join("\n"));
            let _ = writeln!(out, "VARIABLE LEVEL {} (NOMINAL).", table.keys().join(" "));
            // The next GET DATA replaces the active data set: keep a copy
            // under the table's name.
            let _ = writeln!(out, "EXECUTE.\nDATASET COPY {}.", table.name());
        }
        out.push_str("\nDATASET ACTIVATE frequencies.\n");
        out
    }

    /// The contents of `labels.do`: Stata commands.
    pub fn labels_do(&self) -> String {
        let keys = Keys::new(self);
        let mut out = String::new();
        header(&mut out, self, "*");
        out.push_str(STATA_INTRO);
        out.push_str("version 16\n");
        // Stata value labels map whole numbers to text. Each key is made by
        // `encode` through a value label whose texts are the codes, which
        // `noextend` makes stop on a code it does not know; the real labels
        // are then attached in its place.
        let define =
            |out: &mut String, name: &str, pairs: &mut dyn Iterator<Item = (u32, String)>| {
                let mut first = true;
                for (key, text) in pairs {
                    let add = if first { "" } else { ", add" };
                    first = false;
                    let _ = writeln!(
                        out,
                        "label define {name} {key} {}{add}",
                        stata_string(&text)
                    );
                }
            };
        let key_column =
            |out: &mut String,
             code_column: &str,
             key: &str,
             codes: &mut dyn Iterator<Item = (u32, String, String)>| {
                let codes: Vec<(u32, String, String)> = codes.collect();
                let code_label = format!("{key}_codes");
                define(
                    out,
                    &code_label,
                    &mut codes.iter().map(|(k, code, _)| (*k, code.clone())),
                );
                let _ = writeln!(
                    out,
                    "encode {code_column}, generate({key}) label({code_label}) noextend"
                );
                define(
                    out,
                    key,
                    &mut codes.iter().map(|(k, _, label)| (*k, label.clone())),
                );
                let _ = writeln!(out, "label values {key} {key}");
                let _ = writeln!(out, "label drop {code_label}");
            };
        // Frequencies last, so it is the data in memory at the end.
        for table in keys.tables().into_iter().rev() {
            let _ = writeln!(out, "\n* {}", table.csv());
            let _ = writeln!(
                out,
                "import delimited using \"{}\", varnames(nonames) rowrange(2) encoding(\"utf-8\") bindquote(strict) stringcols(_all) clear",
                table.csv()
            );
            let generated: Vec<String> = (1..=table.columns().len())
                .map(|i| format!("v{i}"))
                .collect();
            let _ = writeln!(
                out,
                "rename ({}) ({})",
                generated.join(" "),
                table.columns().join(" ")
            );
            let _ = writeln!(out, "destring {}, replace", table.numbers().join(" "));
            key_column(
                &mut out,
                "stage",
                "stage_key",
                &mut keys
                    .stages
                    .iter()
                    .map(|s| (s.key, s.code.clone(), s.label.clone())),
            );
            if table != Table::ResponseRates {
                let items: Vec<&Item> = table.items(&keys).collect();
                key_column(
                    &mut out,
                    "sex",
                    "sex_key",
                    &mut keys
                        .sexes
                        .iter()
                        .map(|s| (s.key, s.code.clone(), s.label.clone())),
                );
                key_column(
                    &mut out,
                    "question_id",
                    "question_key",
                    &mut items.iter().map(|i| (i.key, i.id.clone(), i.label.clone())),
                );
                out.push_str("generate option_pair = question_id + \".\" + option_code\n");
                key_column(
                    &mut out,
                    "option_pair",
                    "option_key",
                    &mut items.iter().flat_map(|i| {
                        i.options
                            .iter()
                            .map(move |o| (o.key, format!("{}.{}", i.id, o.code), o.label.clone()))
                    }),
                );
                out.push_str("drop option_pair\n");
            }
            for (column, label) in table.variable_labels() {
                let _ = writeln!(out, "label variable {column} {}", stata_string(label));
            }
            let _ = writeln!(out, "save \"{}.dta\", replace", table.name());
        }
        out
    }
}

const R_INTRO: &str = r#"#
# Run in the folder holding the release's files, with base R only:
#   source("labels.R")     (in R or RStudio)
#   Rscript labels.R
# It reads frequencies.csv, indicators.csv and response_rates.csv into the
# data frames frequencies, indicators and response_rates. Every column keeps
# its codes and gets a "label" attribute (its variable label). Beside the
# codes, labelled factors are added: stage_key, sex_key, question_key (the
# question's wording) and option_key (the answer option's label), with levels
# in questionnaire order. Counts and percentages are numbers; a suppressed
# cell is NA. The lookups question_text and option_text give the wording of
# each question id and of each "question_id.option_code"; indicator_text and
# result_text do the same for indicators.csv.

read_release <- function(file, columns, numbers) {
  data <- read.csv(file, header = FALSE, skip = 1, col.names = columns,
                   colClasses = "character", encoding = "UTF-8",
                   na.strings = character(0), check.names = FALSE)
  for (column in numbers) data[[column]] <- as.numeric(data[[column]])
  data
}

as_labelled <- function(codes, labels, what) {
  key <- factor(codes, levels = names(labels), labels = unname(labels))
  unknown <- unique(codes[is.na(key)])
  if (length(unknown) > 0) {
    stop(what, " holds codes these labels do not know: ",
         paste(unknown, collapse = ", "))
  }
  key
}

with_variable_labels <- function(data, labels) {
  for (column in names(labels)) attr(data[[column]], "label") <- labels[[column]]
  data
}
"#;

const SPSS_INTRO: &str = "* Run in the folder holding the release's files (in SPSS, first set the
* working folder with CD 'folder'.) or with PSPP: pspp labels.sps.
* It reads frequencies.csv, indicators.csv and response_rates.csv into the
* data sets frequencies, indicators and response_rates, labels every
* variable, and adds numeric keys with value labels: stage_key, sex_key,
* question_key (labelled with the question's wording) and option_key
* (question_key times 1000 plus the option's number, 0 for the base All).
* Suppressed counts are system-missing. Value labels longer than SPSS's
* 120 bytes are cut and end in '...'; codebook.csv has every full text.
";

const STATA_INTRO: &str = "* Run in the folder holding the release's files:  do labels.do
* It reads response_rates.csv, indicators.csv and frequencies.csv, labels
* every variable, adds numeric keys with value labels (stage_key, sex_key,
* question_key labelled with the question's wording, and option_key:
* question_key times 1000 plus the option's number, 0 for the base All),
* and saves each as a .dta file in this folder. frequencies stays loaded.
* Suppressed counts are missing (.).
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_one_line() {
        assert_eq!(one_line("a\r\nb\nc\td\u{2028}e"), "a b c d e");
    }

    #[test]
    fn r_strings_are_ascii_with_quotes_and_backslashes_escaped() {
        assert_eq!(r_string(r#"It's "x" \ $y"#), r#""It's \"x\" \\ $y""#);
        assert_eq!(r_string("é😀\n"), r#""\u{e9}\U{1f600} ""#);
    }

    #[test]
    fn spss_strings_double_quotes_and_cut_long_labels_at_a_character() {
        assert_eq!(spss_value_label("It's \"x\""), "'It''s \"x\"'");
        let long = "é".repeat(100);
        let cut = spss_value_label(&long);
        let inner = &cut[1..cut.len() - 1];
        assert!(inner.len() <= SPSS_VALUE_LABEL_BYTES, "{inner}");
        assert!(inner.ends_with("...") && inner.starts_with("éé"), "{inner}");
    }

    #[test]
    fn stata_strings_escape_macros_and_avoid_unbalanced_compound_quotes() {
        assert_eq!(stata_string(r#"a $b `c' \d"#), r#"`"a \$b \`c' \\d"'"#);
        assert_eq!(
            stata_string(r#"say "hi"' `"x"#),
            "`\"say \"hi\"\u{2019} \u{2018}\"x\"'"
        );
        assert_eq!(stata_string("end`"), "`\"end\u{2018}\"'");
    }

    #[test]
    fn variable_labels_fit_stata() {
        for table in Table::ALL {
            let labels = table.variable_labels();
            let named: Vec<&str> = labels.iter().map(|(c, _)| *c).collect();
            let expected: Vec<&str> = table
                .columns()
                .iter()
                .chain(table.keys())
                .copied()
                .collect();
            assert_eq!(named, expected, "{} labels every column", table.name());
            for (column, label) in labels {
                assert!(label.chars().count() <= 80, "{column}: {label}");
            }
        }
    }
}
