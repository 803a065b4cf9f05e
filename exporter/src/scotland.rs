//! Scotland's results straight from the partnerships' releases.
//!
//! A Scotland cell is published only where every partnership's cell at the
//! same position (all schools, the same stage level, sex and category) is
//! published in that partnership's newest release ([`crate::national`]).
//! The partnerships' releases are stored, and Scotland is released only
//! while each still counts exactly the responses there are, so their
//! published cells are read back rather than worked out again: Scotland's
//! cells are the sums of the counted cells, hidden wherever one
//! partnership's release hides its part. A partnership cell that its
//! release lacks counts as hidden, and one whose released count differs from
//! the count now is an error (the data changed under the release).

use std::collections::HashMap;

use sea_orm::DatabaseConnection;

use crate::aggregate::Tallies;
use crate::disclose::{Line, PublishedTable, RateLine};
use crate::layout::{ALL, Layout, StageLevel};
use crate::prior::{CellKey, Published, RATES};
use crate::source::{self, CppInfo};
use crate::{Export, ExportError, ExportRequest, Progress, UnitPlan, UnitResult, offload};

/// Scotland's results, from the responses of the wave and the newest
/// release of each partnership (`released`, by GSS code, totals only).
pub(crate) async fn from_releases(
    db: &DatabaseConnection,
    request: &ExportRequest,
    released: &HashMap<String, Published>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Export, ExportError> {
    let q = request.questionnaire.as_ref();
    let cpps = source::cpps(db).await?;
    let mut schools = source::schools(db, None).await?;
    source::eligible(
        &mut schools,
        &source::opted_out(db, request.wave_id, None).await?,
    );
    let layout = Layout::new(q);
    let Tallies {
        units: mut tallies,
        skipped,
    } = crate::read(db, request, None, &layout, progress).await?;
    let mut plans = Vec::new();
    let mut units = Vec::new();
    for cpp in &cpps {
        let Some(tally) = tallies.remove(&cpp.id) else {
            continue;
        };
        let Some(published) = released.get(&cpp.gss_code) else {
            return Err(ExportError::ReleaseDiffers(format!(
                "{} ({})",
                cpp.name, cpp.gss_code
            )));
        };
        let (_, rows, rolls) = crate::school_order(cpp.id, &schools, &tally);
        units.push(unit_from_release(cpp, &tally, &rolls, &layout, published)?);
        plans.push(UnitPlan {
            tally,
            rows,
            rolls,
            name: cpp.gss_code.clone(),
            seeds: Vec::new(),
            prior: None,
        });
    }
    let (plans, units, layout, prior, rule) = (
        plans,
        units,
        layout,
        request.prior.unit(ALL).cloned(),
        request.rule,
    );
    let (scotland, layout) = offload::run(
        move |_| {
            let scotland = crate::national::publish(&plans, &units, &layout, prior.as_ref(), &rule);
            (scotland, layout)
        },
        &|_: ()| {},
    )
    .await?;
    Ok(Export {
        questionnaire: request.questionnaire.clone(),
        version_id: request.version_id,
        wave_id: request.wave_id,
        layout,
        rule: request.rule,
        generated_at: chrono::Utc::now(),
        units: vec![scotland?],
        skipped,
        national: true,
        beside: None,
    })
}

/// Scotland's indicator figures as a release of Scotland publishes them
/// (`published`, totals only), to show beneath a partnership's: a cell the
/// release hid, or lacks, stays hidden.
pub(crate) fn beside(
    layout: &Layout,
    published: &Published,
    released_on: chrono::NaiveDate,
) -> crate::Beside {
    let mut tables = Vec::new();
    for (index, t) in layout.tables.iter().enumerate() {
        if !layout.is_indicator(index) {
            continue;
        }
        let mut lines = Vec::new();
        for level in StageLevel::published_for(t.stages) {
            let mut counts = Vec::with_capacity(t.width());
            let mut hidden = Vec::with_capacity(t.width());
            for k in 0..t.width() {
                let key = CellKey {
                    school: ALL.to_owned(),
                    stage: level.as_str().to_owned(),
                    sex: ALL.to_owned(),
                    table: t.id.clone(),
                    option: t.option_code(k).to_owned(),
                };
                let value = published.get(&key).flatten();
                counts.push(value.map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX)));
                hidden.push(value.is_none());
            }
            lines.push(Line {
                school: None,
                stage: level,
                sex: None,
                counts,
                hidden,
            });
        }
        tables.push(PublishedTable {
            table: index,
            lines,
        });
    }
    crate::Beside {
        released_on,
        scotland: UnitResult {
            cpp: None,
            schools: Vec::new(),
            tables,
            rates: Vec::new(),
            responses: 0,
            partial: 0,
        },
    }
}

/// A partnership's all-schools lines as its release published them.
fn unit_from_release(
    cpp: &CppInfo,
    tally: &crate::aggregate::UnitTally,
    rolls: &[(Option<usize>, [u32; 7])],
    layout: &Layout,
    published: &Published,
) -> Result<UnitResult, ExportError> {
    let changed = || ExportError::ReleaseDiffers(format!("{} ({})", cpp.name, cpp.gss_code));
    // Hidden unless the release published this very count.
    let hidden = |key: CellKey, count: u32| -> Result<bool, ExportError> {
        match published.get(&key) {
            Some(Some(v)) if v == u64::from(count) => Ok(false),
            Some(Some(_)) => Err(changed()),
            _ => Ok(true),
        }
    };
    let sexes = layout.sexes.len();
    let mut tables = Vec::with_capacity(layout.tables.len());
    for (index, t) in layout.tables.iter().enumerate() {
        let mut lines = Vec::new();
        for level in StageLevel::published_for(t.stages) {
            let stages = level.stages().intersection(t.stages);
            for sex in 0..=sexes {
                let mut counts = vec![0u32; t.width()];
                for stage in stages.iter() {
                    for (k, c) in counts.iter_mut().enumerate() {
                        *c += if sex == sexes {
                            (0..sexes).map(|s| tally.cell(stage, s, t.offset + k)).sum()
                        } else {
                            tally.cell(stage, sex, t.offset + k)
                        };
                    }
                }
                let mut flags = Vec::with_capacity(counts.len());
                for (k, &count) in counts.iter().enumerate() {
                    let key = CellKey {
                        school: ALL.to_owned(),
                        stage: level.as_str().to_owned(),
                        sex: if sex == sexes {
                            ALL.to_owned()
                        } else {
                            layout.sexes[sex].code.clone()
                        },
                        table: t.id.clone(),
                        option: t.option_code(k).to_owned(),
                    };
                    flags.push(hidden(key, count)?);
                }
                lines.push(Line {
                    school: None,
                    stage: level,
                    sex: (sex < sexes).then_some(sex),
                    counts,
                    hidden: flags,
                });
            }
        }
        tables.push(PublishedTable {
            table: index,
            lines,
        });
    }
    let mut rates = Vec::new();
    for level in StageLevel::ALL {
        let stages = level.stages();
        let mut responses = 0u32;
        let mut roll = 0u32;
        let mut present = false;
        for (row, school_rolls) in rolls {
            let counted = row.map(|r| tally.schools[r].responses).unwrap_or([0; 7]);
            for stage in stages.iter() {
                let (n, r) = (counted[stage as usize], school_rolls[stage as usize]);
                present |= n > 0 || r > 0;
                responses += n;
                roll += r;
            }
        }
        if !present {
            continue;
        }
        let key = CellKey {
            school: ALL.to_owned(),
            stage: level.as_str().to_owned(),
            sex: ALL.to_owned(),
            table: RATES.to_owned(),
            option: ALL.to_owned(),
        };
        rates.push(RateLine {
            school: None,
            stage: level,
            responses,
            roll,
            hidden: hidden(key, responses)?,
        });
    }
    Ok(UnitResult {
        cpp: Some(cpp.clone()),
        schools: Vec::new(),
        tables,
        rates,
        responses: tally.responses,
        partial: tally.partial,
    })
}
