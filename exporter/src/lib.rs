//! Aggregated results per Community Planning Partnership, with small-cell
//! suppression, ready to publish.
//!
//! [`export`] reads the completed (and partial) responses of one
//! questionnaire version from the database ([`source`]), counts them
//! ([`aggregate`]) into one table per question and per indicator
//! ([`layout`]), suppresses and audits every table ([`disclose`], on top of
//! [`suppress`]) and returns an [`Export`]: the published tables, which
//! render to the output files ([`output`], [`labels`], [`report`]) in memory or straight
//! into a directory. Nothing here knows of HTTP; the server and the
//! `exporter` command line both call [`export`].

pub mod aggregate;
pub mod cli;
pub mod decoded;
pub mod disclose;
pub mod labels;
pub mod layout;
pub mod offload;
pub mod output;
pub mod prior;
pub mod release;
pub mod report;
pub mod school_report;
mod scotland;
pub mod source;
pub mod spreadsheet;
pub mod suppress;
pub mod trends;

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use sea_orm::{DatabaseConnection, DbErr};
use survey_defs::Questionnaire;

use crate::aggregate::{Skipped, Tallies, UnitTally};
use crate::disclose::{DiscloseError, PublishedTable, RateLine};
use crate::layout::Layout;
use crate::source::{CppInfo, SchoolInfo};
pub use crate::suppress::Rule;

/// Which partnerships an export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One or several partnerships, by database id (a CPP analyst).
    Cpps(Vec<i32>),
    /// Every partnership and Scotland as a whole (a national analyst).
    National,
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// The wave whose responses are counted.
    pub wave_id: i32,
    /// The wave's `questionnaire_version` row.
    pub version_id: i32,
    /// That version, loaded (the server has it in its catalogue; the command
    /// line loads it from the row's stored source).
    pub questionnaire: Arc<Questionnaire>,
    pub scope: Scope,
    pub rule: Rule,
    /// Earlier releases of the same wave, whose cells the new results must
    /// not differ from by a small amount (see [`prior`]).
    pub prior: prior::Prior,
}

/// Why an export could not be made. Nothing has been written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read from the database: {0}")]
    Database(#[from] DbErr),
    #[error("there is no partnership with id {0}")]
    UnknownCpp(i32),
    #[error("there are no responses to this questionnaire version for the chosen partnerships")]
    NoData,
    #[error(transparent)]
    Disclosure(#[from] DiscloseError),
    #[error(transparent)]
    Offload(#[from] offload::OffloadError),
    /// A partnership's counts differ from what its release published.
    #[error(
        "the responses of {0} differ from what its newest release counted; release it again first"
    )]
    ReleaseDiffers(String),
}

/// Progress reports, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Reading { done: u64, total: u64 },
    Suppressing { done: usize, total: usize },
}

/// The results of one partnership (or of Scotland, when `cpp` is `None`).
#[derive(Debug, Clone)]
pub struct UnitResult {
    pub cpp: Option<CppInfo>,
    /// Schools, by name; [`disclose::Line::school`] indexes this list.
    pub schools: Vec<SchoolInfo>,
    /// Questions, then indicators, in [`Layout::tables`] order.
    pub tables: Vec<PublishedTable>,
    pub rates: Vec<RateLine>,
    pub responses: u64,
    pub partial: u64,
}

/// A finished export: every table suppressed and audited, ready to render.
///
/// Files are rendered on demand ([`Export::file`], [`Export::write_to_dir`])
/// rather than held as bytes, because the national frequency table runs to
/// hundreds of megabytes of CSV while the tables behind it are small.
#[derive(Debug, Clone)]
pub struct Export {
    pub questionnaire: Arc<Questionnaire>,
    pub version_id: i32,
    pub wave_id: i32,
    pub layout: Layout,
    pub rule: Rule,
    pub generated_at: DateTime<Utc>,
    pub units: Vec<UnitResult>,
    pub skipped: Skipped,
    /// Whether Scotland-level tables were requested (national scope).
    pub national: bool,
    /// Scotland's figures to show beneath a partnership's in its report's
    /// summary, from Scotland's release of the same wave.
    pub beside: Option<Beside>,
}

/// Scotland's published indicator figures, shown beneath a partnership's in
/// the summary of its report: only numbers Scotland's release of the same
/// wave publishes (a hidden one stays hidden).
#[derive(Debug, Clone)]
pub struct Beside {
    /// The day Scotland's release was made.
    pub released_on: chrono::NaiveDate,
    /// Scotland's indicator tables: every school, every sex, by stage.
    pub scotland: UnitResult,
}

impl Export {
    pub fn responses(&self) -> u64 {
        self.cpp_units().map(|u| u.responses).sum()
    }

    pub fn partial(&self) -> u64 {
        self.cpp_units().map(|u| u.partial).sum()
    }

    /// Partnership results, without Scotland.
    pub fn cpp_units(&self) -> impl Iterator<Item = &UnitResult> {
        self.units.iter().filter(|u| u.cpp.is_some())
    }
}

/// Exports with no progress reports. See [`export_with_progress`].
pub async fn export(
    db: &DatabaseConnection,
    request: &ExportRequest,
) -> Result<Export, ExportError> {
    export_with_progress(db, request, &|_| {}).await
}

/// Reads, counts, suppresses and audits. Fails without writing anything if
/// any table fails its audit.
pub async fn export_with_progress(
    db: &DatabaseConnection,
    request: &ExportRequest,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Export, ExportError> {
    let q = request.questionnaire.as_ref();
    let all_cpps = source::cpps(db).await?;
    let cpps: Vec<CppInfo> = match &request.scope {
        Scope::National => all_cpps,
        Scope::Cpps(ids) => {
            let mut chosen = Vec::new();
            for id in ids {
                let cpp = all_cpps
                    .iter()
                    .find(|c| c.id == *id)
                    .ok_or(ExportError::UnknownCpp(*id))?;
                if !chosen.contains(cpp) {
                    chosen.push(cpp.clone());
                }
            }
            chosen.sort_by(|a, b| a.gss_code.cmp(&b.gss_code));
            chosen
        }
    };
    let filter: Option<Vec<i32>> = match &request.scope {
        Scope::National => None,
        Scope::Cpps(_) => Some(cpps.iter().map(|c| c.id).collect()),
    };
    let mut schools = source::schools(db, filter.as_deref()).await?;
    source::eligible(
        &mut schools,
        &source::opted_out(db, request.wave_id, filter.as_deref()).await?,
    );
    let layout = Layout::new(q);
    let Tallies {
        units: mut tallies,
        skipped,
    } = read(db, request, filter.as_deref(), &layout, progress).await?;

    let mut units = Vec::new();
    let mut plans = Vec::new();
    for cpp in &cpps {
        let Some(tally) = tallies.remove(&cpp.id) else {
            continue;
        };
        let (unit_schools, rows, rolls) = school_order(cpp.id, &schools, &tally);
        plans.push(UnitPlan {
            tally,
            rows,
            rolls,
            name: cpp.gss_code.clone(),
            seeds: unit_schools.iter().map(|s| s.seed_code.clone()).collect(),
            prior: request.prior.unit(&cpp.gss_code).cloned(),
        });
        units.push(UnitResult {
            cpp: Some(cpp.clone()),
            schools: unit_schools,
            tables: Vec::new(),
            rates: Vec::new(),
            responses: 0,
            partial: 0,
        });
    }
    if units.is_empty() {
        return Err(ExportError::NoData);
    }
    // Seconds of CPU on every core for a national export: done on threads
    // of its own, so the caller's async runtime keeps serving meanwhile.
    let (plans, published) = {
        let (layout, rule) = (layout.clone(), request.rule);
        offload::run(
            move |report| {
                let published = publish_all(&plans, &layout, &rule, report);
                (plans, published)
            },
            progress,
        )
        .await?
    };
    let published = published?;
    for ((unit, plan), (tables, rates)) in units.iter_mut().zip(&plans).zip(published) {
        unit.tables = tables;
        unit.rates = rates;
        unit.responses = plan.tally.responses;
        unit.partial = plan.tally.partial;
    }
    let national = matches!(request.scope, Scope::National);
    if national {
        let scotland = national::publish(
            &plans,
            &units,
            &layout,
            request.prior.unit(layout::ALL),
            &request.rule,
        )?;
        units.push(scotland);
    }

    Ok(Export {
        questionnaire: request.questionnaire.clone(),
        version_id: request.version_id,
        wave_id: request.wave_id,
        layout,
        rule: request.rule,
        generated_at: Utc::now(),
        units,
        skipped,
        national,
        beside: None,
    })
}

mod national;

/// Counts the wave's responses (of some partnerships, or all), reporting
/// progress; `NoData` when there are none.
pub(crate) async fn read(
    db: &DatabaseConnection,
    request: &ExportRequest,
    cpp_ids: Option<&[i32]>,
    layout: &Layout,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Tallies, ExportError> {
    let total = source::count_responses(db, request.wave_id, cpp_ids).await?;
    progress(Progress::Reading { done: 0, total });
    let (tallies, _) = source::tally(
        db,
        request.wave_id,
        cpp_ids,
        &request.questionnaire,
        layout,
        &|done| progress(Progress::Reading { done, total }),
    )
    .await?;
    if tallies.units.is_empty() {
        return Err(ExportError::NoData);
    }
    Ok(tallies)
}

/// A partnership's counts and the order its schools are published in.
struct UnitPlan {
    tally: UnitTally,
    /// Tally row of each published school, in publication order.
    rows: Vec<Option<usize>>,
    /// Tally row and roll of each school in the response-rate table.
    rolls: Vec<(Option<usize>, [u32; 7])>,
    name: String,
    /// Seed code of each published school, in publication order.
    seeds: Vec<String>,
    /// Earlier releases of this partnership.
    prior: Option<prior::UnitPrior>,
}

impl UnitPlan {
    fn earlier(&self) -> Option<disclose::Earlier<'_>> {
        self.prior.as_ref().map(|prior| disclose::Earlier {
            prior,
            seeds: &self.seeds,
        })
    }
}

/// A partnership's schools in publication order, the tally row of each,
/// and the tally row and roll of each (see [`UnitPlan`]).
type SchoolOrder = (
    Vec<SchoolInfo>,
    Vec<Option<usize>>,
    Vec<(Option<usize>, [u32; 7])>,
);

/// The partnership's schools by name: every school with responses, and
/// every non-demo school with a roll (for response rates).
pub(crate) fn school_order(cpp_id: i32, schools: &[SchoolInfo], tally: &UnitTally) -> SchoolOrder {
    let by_id: HashMap<i32, usize> = tally
        .schools
        .iter()
        .enumerate()
        .map(|(i, s)| (s.school_id, i))
        .collect();
    let mut chosen: Vec<&SchoolInfo> = schools
        .iter()
        .filter(|s| s.cpp_id == cpp_id)
        .filter(|s| by_id.contains_key(&s.id) || (!s.is_demo && s.rolls.iter().any(|r| *r > 0)))
        .collect();
    // A response whose school row is missing still counts, under its id.
    let known: Vec<i32> = chosen.iter().map(|s| s.id).collect();
    let orphans: Vec<SchoolInfo> = tally
        .schools
        .iter()
        .filter(|s| !known.contains(&s.school_id))
        .map(|s| SchoolInfo {
            id: s.school_id,
            cpp_id,
            seed_code: String::new(),
            name: format!("School {}", s.school_id),
            rolls: [0; 7],
            is_demo: false,
        })
        .collect();
    chosen.extend(orphans.iter());
    chosen.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let rows: Vec<Option<usize>> = chosen.iter().map(|s| by_id.get(&s.id).copied()).collect();
    let rolls = chosen
        .iter()
        .zip(&rows)
        .map(|(s, row)| (*row, s.rolls))
        .collect();
    (chosen.into_iter().cloned().collect(), rows, rolls)
}

type UnitTables = (Vec<PublishedTable>, Vec<RateLine>);

/// Suppresses and audits every table of every partnership, on every core.
/// Problems are independent, so the work is a shared queue of (unit, table)
/// jobs; results are put back in order, so the output never depends on timing.
/// A table routed on needs its follow-ups as published (see
/// [`disclose::publish_table`]), and every table the response rates as
/// published, so the jobs run in rounds: the response rates first, then the
/// tables nothing routes on, then the tables only those route on, and so
/// on up the longest chain of follow-ups.
fn publish_all(
    plans: &[UnitPlan],
    layout: &Layout,
    rule: &Rule,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<UnitTables>, ExportError> {
    let per_unit = layout.tables.len() + 1;
    let total = plans.len() * per_unit;
    // The response rates (numbered after the tables) come first; then each
    // table one round after the last of its follow-ups. A question routes
    // only on an earlier one, so reverse layout order meets every
    // follow-up first.
    let mut height = vec![1; layout.tables.len()];
    for t in (0..layout.tables.len()).rev() {
        if let Some(route) = &layout.tables[t].route {
            height[route.parent] = height[route.parent].max(height[t] + 1);
        }
    }
    let depth = |table: usize| height.get(table).copied().unwrap_or(0);
    let finished = AtomicUsize::new(0);
    let mut ordered: BTreeMap<usize, Job> = BTreeMap::new();
    let deepest = (0..layout.tables.len()).map(depth).max().unwrap_or(0);
    for round in 0..=deepest {
        let jobs: Vec<usize> = (0..total)
            .filter(|&job| depth(job % per_unit) == round)
            .collect();
        let done = &ordered;
        let results = run_jobs(&jobs, layout, &finished, total, progress, |job| {
            let plan = &plans[job / per_unit];
            let table = job % per_unit;
            if table < layout.tables.len() {
                let name = format!("{} {}", plan.name, layout.tables[table].id);
                let first = job - table;
                let follow_ups: Vec<&PublishedTable> = (0..layout.tables.len())
                    .filter(|&f| disclose::routes_on(layout, f, table))
                    .filter_map(|f| match done.get(&(first + f)) {
                        Some(Job::Table(t)) => Some(t),
                        _ => None,
                    })
                    .collect();
                let Some(Job::Rates(rates)) = done.get(&(first + layout.tables.len())) else {
                    return Err(DiscloseError::Incomplete);
                };
                let responses = disclose::Responses::new(&plan.tally, &plan.rolls, rates);
                let linked = disclose::Linked {
                    follow_ups: &follow_ups,
                    responses: Some(&responses),
                };
                disclose::publish_table(
                    &plan.tally,
                    &plan.rows,
                    layout,
                    table,
                    rule,
                    &name,
                    plan.earlier(),
                    linked,
                )
                .map(Job::Table)
            } else {
                let name = format!("{} response rates", plan.name);
                disclose::publish_rates(&plan.tally, &plan.rolls, rule, &name, plan.earlier())
                    .map(Job::Rates)
            }
        })?;
        ordered.extend(results);
    }
    if ordered.len() != total {
        // A worker thread panicked: treat it as a failed audit, never publish.
        return Err(ExportError::Disclosure(DiscloseError::Incomplete));
    }
    let mut out: Vec<UnitTables> = (0..plans.len()).map(|_| (Vec::new(), Vec::new())).collect();
    for (job, result) in ordered {
        let unit = &mut out[job / per_unit];
        match result {
            Job::Table(t) => unit.0.push(t),
            Job::Rates(r) => unit.1 = r,
        }
    }
    Ok(out)
}

/// The result of one job of [`publish_all`].
enum Job {
    Table(PublishedTable),
    Rates(Vec<RateLine>),
}

/// Runs `work` on each of `jobs` (numbered as in [`publish_all`]) on every
/// core, the largest tables first, so that no long job starts last while
/// the other cores have nothing left to do. Stops at the first failure.
fn run_jobs(
    jobs: &[usize],
    layout: &Layout,
    finished: &AtomicUsize,
    total: usize,
    progress: &(dyn Fn(Progress) + Sync),
    work: impl Fn(usize) -> Result<Job, DiscloseError> + Sync,
) -> Result<BTreeMap<usize, Job>, ExportError> {
    let per_unit = layout.tables.len() + 1;
    let next = AtomicUsize::new(0);
    let failed: Mutex<Option<DiscloseError>> = Mutex::new(None);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(jobs.len().max(1));
    let mut order: Vec<usize> = jobs.to_vec();
    order.sort_by_key(|&job| {
        let size = layout
            .tables
            .get(job % per_unit)
            .map_or(0, |t| t.width() * t.stages.len());
        (Reverse(size), job)
    });
    type Done = (usize, Result<Job, DiscloseError>);
    let results: Vec<Done> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out: Vec<Done> = Vec::new();
                    loop {
                        let slot = next.fetch_add(1, Ordering::Relaxed);
                        if slot >= order.len() || failed.lock().map(|f| f.is_some()).unwrap_or(true)
                        {
                            break;
                        }
                        let job = order[slot];
                        let result = work(job);
                        if let Err(e) = &result
                            && let Ok(mut f) = failed.lock()
                        {
                            f.get_or_insert_with(|| e.clone());
                        }
                        out.push((job, result));
                        let n = finished.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(64) || n == total {
                            progress(Progress::Suppressing { done: n, total });
                        }
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    if let Some(e) = failed.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let mut done = BTreeMap::new();
    for (job, result) in results {
        done.insert(job, result?);
    }
    if done.len() != jobs.len() {
        // A worker thread panicked: treat it as a failed audit, never publish.
        return Err(ExportError::Disclosure(DiscloseError::Incomplete));
    }
    Ok(done)
}
