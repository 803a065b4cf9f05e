//! A partnership's results over its waves, from released numbers only.
//!
//! For each wave, the newest release of the partnership is read back from
//! its stored files: the indicators and questions at partnership level (all
//! schools, all sexes), by stage. A question is compared across waves only
//! where it has the same id and the same wording (`wording_sha256` in the
//! codebook); where the wording changed, the series shows a break. Every
//! number shown is a number a release published, so comparing waves never
//! needs one that is not in a release.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;
use serde::Serialize;

use crate::layout::ALL;
use crate::release::{self, ReleaseError, ReleaseInfo};

/// One point of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Point {
    /// The published percentage.
    Share { percent: String },
    /// Hidden in that release (small numbers).
    Suppressed,
    /// The question was not in that wave's questionnaire, or had no row.
    Missing,
    /// The question's wording differs from the wave before: not comparable.
    Break { percent: Option<String> },
}

/// One line of a table over the waves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The option (or "positive" for an indicator) and the stage level.
    pub label: String,
    pub points: Vec<Point>,
}

/// One indicator or question over the waves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendTable {
    pub id: String,
    pub title: String,
    pub series: Vec<Series>,
}

/// A wave with a release of the partnership.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WaveColumn {
    pub wave_id: i32,
    pub name: String,
    pub release: i32,
}

/// A partnership's trends.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Trends {
    pub waves: Vec<WaveColumn>,
    pub indicators: Vec<TrendTable>,
    pub questions: Vec<TrendTable>,
}

/// What one release says of one table: (option code, stage) to its share
/// (`None` where hidden), its title and the label of each option.
#[derive(Default)]
struct Read {
    shares: HashMap<(String, String, String), Option<String>>,
    titles: HashMap<String, String>,
    labels: HashMap<(String, String), String>,
    wording: HashMap<String, String>,
    order: Vec<(String, bool)>,
    options: HashMap<String, Vec<String>>,
}

fn read_release(
    frequencies: &[u8],
    indicators: &[u8],
    codebook: &[u8],
) -> Result<Read, csv::Error> {
    let mut read = Read::default();
    let strip = |b: &[u8]| -> Vec<u8> { b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b).to_vec() };
    for bytes in [frequencies, indicators] {
        let bytes = strip(bytes);
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        for record in reader.records() {
            let r = record?;
            // Partnership level only: every school, every sex.
            if &r[2] != ALL || &r[5] != ALL || &r[7] == ALL {
                continue;
            }
            let share = if r[11].is_empty() && !r[10].is_empty() {
                Some(r[10].to_owned())
            } else {
                None
            };
            read.shares
                .insert((r[6].to_owned(), r[7].to_owned(), r[4].to_owned()), share);
            read.labels
                .entry((r[6].to_owned(), r[7].to_owned()))
                .or_insert_with(|| r[8].to_owned());
        }
    }
    let bytes = strip(codebook);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    for record in reader.records() {
        let r = record?;
        let kind = &r[0];
        if kind == "option" {
            read.options
                .entry(r[2].to_owned())
                .or_default()
                .push(r[4].to_owned());
        }
        if kind == "question" || kind == "indicator" {
            read.titles.insert(r[1].to_owned(), r[5].to_owned());
            read.wording
                .insert(r[1].to_owned(), r.get(11).unwrap_or_default().to_owned());
            read.order.push((r[1].to_owned(), kind == "indicator"));
        }
    }
    Ok(read)
}

/// The stage levels a trend is shown for.
const LEVELS: [&str; 3] = [ALL, "Primary", "Secondary"];

/// The trends of partnership `cpp_id` over every wave it has a release of.
pub async fn for_partnership(
    db: &impl ConnectionTrait,
    cpp_id: i32,
) -> Result<Trends, ReleaseError> {
    let mut newest: Vec<ReleaseInfo> = Vec::new();
    for r in release::of_partnership(db, cpp_id).await? {
        match newest.iter_mut().find(|n| n.wave_id == r.wave_id) {
            Some(n) if n.number < r.number => *n = r,
            Some(_) => {}
            None => newest.push(r),
        }
    }
    newest.sort_by_key(|r| r.wave_id);
    let mut trends = Trends::default();
    let mut reads = Vec::new();
    for r in &newest {
        let wave = release::wave(db, r.wave_id).await?;
        trends.waves.push(WaveColumn {
            wave_id: r.wave_id,
            name: wave.map_or_else(|| format!("Wave {}", r.wave_id), |w| w.name),
            release: r.number,
        });
        let frequencies = release::file(db, r.id, "frequencies.csv").await?;
        let indicators = release::file(db, r.id, "indicators.csv").await?;
        let codebook = release::file(db, r.id, "codebook.csv").await?;
        let read = read_release(&frequencies, &indicators, &codebook).map_err(|e| {
            ReleaseError::Prior(crate::prior::PriorError {
                file: "codebook.csv".into(),
                message: e.to_string(),
            })
        })?;
        reads.push(read);
    }
    let Some(latest) = reads.last() else {
        return Ok(trends);
    };
    for (id, is_indicator) in &latest.order {
        let options: Vec<String> = if *is_indicator {
            vec!["positive".to_owned()]
        } else {
            latest.options.get(id).cloned().unwrap_or_default()
        };
        let mut series = Vec::new();
        for option in &options {
            for level in LEVELS {
                let mut points = Vec::new();
                let mut shown = false;
                for (w, read) in reads.iter().enumerate() {
                    let Some(wording) = read.wording.get(id) else {
                        points.push(Point::Missing);
                        continue;
                    };
                    let share = read
                        .shares
                        .get(&(id.clone(), option.clone(), level.to_owned()));
                    let changed = w > 0
                        && reads[w - 1]
                            .wording
                            .get(id)
                            .is_some_and(|before| before != wording);
                    let point = match share {
                        None => Point::Missing,
                        Some(share) if changed => Point::Break {
                            percent: share.clone(),
                        },
                        Some(Some(percent)) => Point::Share {
                            percent: percent.clone(),
                        },
                        Some(None) => Point::Suppressed,
                    };
                    shown |= point != Point::Missing;
                    points.push(point);
                }
                if shown {
                    let label = latest
                        .labels
                        .get(&(id.clone(), option.clone()))
                        .cloned()
                        .unwrap_or_else(|| option.clone());
                    series.push(Series {
                        label: format!("{label} ({})", level_name(level)),
                        points,
                    });
                }
            }
        }
        if series.is_empty() {
            continue;
        }
        let table = TrendTable {
            id: id.clone(),
            title: latest.titles.get(id).cloned().unwrap_or_default(),
            series,
        };
        if *is_indicator {
            trends.indicators.push(table);
        } else {
            trends.questions.push(table);
        }
    }
    Ok(trends)
}

fn level_name(level: &str) -> &str {
    if level == ALL { "all stages" } else { level }
}
