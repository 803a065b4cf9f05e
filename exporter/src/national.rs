//! Scotland as a whole, for a national analyst.
//!
//! Scotland's cells are sums of partnership cells (Scotland = the sum of the
//! CPPs, at every stage, sex and category), so they are tied to every
//! partnership's table. Solving one problem for all 32 partnerships and
//! Scotland together would change the partnerships' patterns, and then a
//! partnership's own export and the national export, read side by side,
//! could expose what each hides.
//!
//! So the partnership patterns are kept exactly as a CPP analyst gets them,
//! and a Scotland cell is published only where every partnership's cell at
//! the same position is published. Such a cell is the sum of published
//! numbers: it tells a reader nothing they could not add up themselves, so
//! it cannot expose a hidden cell, and it is never small (a sum of zeros and
//! counts of at least the threshold) nor a small step from a nested
//! published cell (each partnership's steps are zero or at least the
//! threshold). Every other Scotland cell is suppressed. The price is that a
//! Scotland cell is hidden whenever one partnership hides its part, which
//! mostly touches the finest breakdowns (single stage by a small sex
//! category); Scotland's stage-by-sex totals of common answers are published.
//!
//! A Scotland release that follows an earlier one also hides every cell the
//! earlier one hid or whose count changed by less than the threshold (see
//! [`crate::prior`]).

use std::collections::HashMap;

use crate::aggregate::UnitTally;
use crate::disclose::{DiscloseError, Line, PublishedTable, RateLine};
use crate::layout::{ALL, Layout, StageLevel};
use crate::prior::{CellKey, RATES, UnitPrior};
use crate::{Rule, UnitPlan, UnitResult};

pub(crate) fn publish(
    plans: &[UnitPlan],
    units: &[UnitResult],
    layout: &Layout,
    prior: Option<&UnitPrior>,
    rule: &Rule,
) -> Result<UnitResult, DiscloseError> {
    let mut tables = Vec::with_capacity(layout.tables.len());
    for table in 0..layout.tables.len() {
        let mut lines: Vec<Line> = Vec::new();
        let mut index: HashMap<(StageLevel, Option<usize>), usize> = HashMap::new();
        for unit in units {
            let Some(t) = unit.tables.get(table) else {
                continue;
            };
            for line in t.lines.iter().filter(|l| l.school.is_none()) {
                let key = (line.stage, line.sex);
                match index.get(&key) {
                    Some(&i) => {
                        let total = &mut lines[i];
                        for k in 0..total.counts.len() {
                            total.counts[k] += line.counts[k];
                            total.hidden[k] |= line.hidden[k];
                        }
                    }
                    None => {
                        index.insert(key, lines.len());
                        lines.push(Line {
                            school: None,
                            ..line.clone()
                        });
                    }
                }
            }
        }
        if let Some(prior) = prior {
            let def = &layout.tables[table];
            for line in &mut lines {
                for k in 0..line.counts.len() {
                    let key = CellKey {
                        school: ALL.to_owned(),
                        stage: line.stage.as_str().to_owned(),
                        sex: line
                            .sex
                            .map_or(ALL, |s| layout.sexes[s].code.as_str())
                            .to_owned(),
                        table: def.id.clone(),
                        option: def.option_code(k).to_owned(),
                    };
                    line.hidden[k] |= prior.forces(&key, u64::from(line.counts[k]), rule.threshold);
                }
            }
        }
        tables.push(PublishedTable { table, lines });
    }

    let mut rates: Vec<RateLine> = Vec::new();
    for level in StageLevel::ALL {
        let mut total: Option<RateLine> = None;
        for unit in units {
            if let Some(line) = unit
                .rates
                .iter()
                .find(|r| r.school.is_none() && r.stage == level)
            {
                let t = total.get_or_insert(RateLine {
                    school: None,
                    stage: level,
                    responses: 0,
                    roll: 0,
                    hidden: false,
                });
                t.responses += line.responses;
                t.roll += line.roll;
                t.hidden |= line.hidden;
            }
        }
        if let (Some(prior), Some(line)) = (prior, total.as_mut()) {
            let key = CellKey {
                school: ALL.to_owned(),
                stage: level.as_str().to_owned(),
                sex: ALL.to_owned(),
                table: RATES.to_owned(),
                option: ALL.to_owned(),
            };
            line.hidden |= prior.forces(&key, u64::from(line.responses), rule.threshold);
        }
        rates.extend(total);
    }

    let mut grid_total = UnitTally::new(layout);
    for plan in plans {
        grid_total.add_grid(&plan.tally);
    }
    Ok(UnitResult {
        cpp: None,
        schools: Vec::new(),
        tables,
        rates,
        responses: grid_total.responses,
        partial: grid_total.partial,
    })
}
