//! Releases: the only way results leave the system.
//!
//! A release is the set of result files of one wave for one partnership (or
//! for Scotland), computed once from the wave's responses, suppressed and
//! audited, and stored byte for byte with a manifest: each file's SHA-256,
//! the rule, the numbers of cells published and hidden, who released it and
//! when. Downloads serve the stored bytes and check them against their
//! SHA-256; nothing is computed for a download.
//!
//! A release can be made only once fieldwork is over: the partnership's
//! window in the wave has ended, none of its sittings in the wave is open,
//! and no finished response is still waiting to be stored. Scotland's needs
//! every partnership's fieldwork over, and a release of every partnership
//! with responses that counts exactly the responses there are now, so that
//! Scotland's cells add up from what the partnerships' releases publish.
//!
//! Late data (a mop-up after a release, a correction) reaches readers only
//! as a new release of the same wave and unit, numbered on from the last.
//! The new release hides every cell an earlier one hid and every cell whose
//! count changed by less than the threshold ([`crate::prior`]), so two
//! releases read side by side never show a small change.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, QueryResult, TransactionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};
use survey_defs::Questionnaire;

use crate::disclose::{Line, PublishedTable};
use crate::layout::{ALL, StageLevel};
use crate::output::{FILES, OutputError};
use crate::prior::{Prior, PriorError, Published, UnitPrior};
use crate::source::{self, CppInfo};
use crate::{Export, ExportError, ExportRequest, Progress, Rule, Scope, offload};

/// The manifest, stored with the files and served as one of them.
pub const MANIFEST: &str = "manifest.json";

/// Every file of a release, in the order they are listed.
pub fn file_names() -> impl Iterator<Item = &'static str> {
    FILES.iter().copied().chain([MANIFEST])
}

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// What a release covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// One partnership, by database id.
    Partnership(i32),
    /// Scotland as a whole.
    Scotland,
}

/// A wave as releases need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaveInfo {
    pub id: i32,
    pub name: String,
    pub version_id: i32,
    pub rule: Rule,
}

/// Who makes a release: a staff account, or the command line's user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Releaser {
    pub staff_id: Option<i32>,
    pub name: String,
}

/// What to release.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    pub wave_id: i32,
    pub unit: Unit,
    /// The wave's questionnaire version, loaded.
    pub questionnaire: Arc<Questionnaire>,
    pub by: Releaser,
    /// The day it is: fieldwork must have ended before it.
    pub today: NaiveDate,
}

/// One stored file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// A stored release, without its files' bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseInfo {
    pub id: i32,
    pub wave_id: i32,
    /// The partnership, `None` for Scotland.
    pub cpp_id: Option<i32>,
    /// The partnership's GSS code, or `All` for Scotland.
    pub unit: String,
    /// 1 for the first release of the wave and unit, then 2, ...
    pub number: i32,
    pub released_by: String,
    pub released_at: DateTime<Utc>,
    pub files: Vec<FileInfo>,
}

impl ReleaseInfo {
    pub fn is_scotland(&self) -> bool {
        self.cpp_id.is_none()
    }
}

/// Why a release was not made, or a stored file not served. Each reads as
/// a sentence for the person who asked; nothing has been stored when one is
/// returned.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("there is no wave with id {0}")]
    UnknownWave(i32),
    #[error("there is no partnership with id {0}")]
    UnknownCpp(i32),
    #[error("the wave's rule cannot be read: {0}")]
    BadRule(String),
    #[error("{0} has no fieldwork in this wave")]
    NoWindow(String),
    #[error(
        "fieldwork in {name} runs until {closes}; its results can be released from the day after"
    )]
    FieldworkOpen { name: String, closes: NaiveDate },
    #[error("{count} sitting(s) of {name} in this wave are still open; close them first")]
    SittingsOpen { name: String, count: i64 },
    #[error(
        "{count} response(s) of {name} are still being finished or stored; try again in a few minutes"
    )]
    StillStoring { name: String, count: i64 },
    #[error(
        "Scotland adds up from the partnerships' releases: first release (again) {0}, whose data changed or was never released"
    )]
    PartnershipsFirst(String),
    #[error("nothing has changed since release {0}, so no new release is needed")]
    Unchanged(i32),
    #[error("there are no responses in this wave for {0}")]
    NoData(String),
    #[error(
        "an earlier release of this wave was made under another rule, and a wave's rule never changes"
    )]
    RuleChanged,
    #[error(
        "the new release could not be protected against the earlier ones, so nothing was released: {0}"
    )]
    Refused(String),
    #[error("there is no release with id {0}")]
    UnknownRelease(i32),
    #[error("release {release} has no file {name}")]
    UnknownFile { release: i32, name: String },
    #[error(
        "the stored {name} of release {release} does not match its SHA-256, so it is not served"
    )]
    Damaged { release: i32, name: String },
    #[error(transparent)]
    Prior(#[from] PriorError),
    #[error("cannot render the release: {0}")]
    Output(#[from] OutputError),
    #[error("cannot compute the release: {0}")]
    Export(ExportError),
    #[error("cannot read or write the database: {0}")]
    Database(#[from] DbErr),
}

impl From<ExportError> for ReleaseError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::Database(e) => ReleaseError::Database(e),
            ExportError::UnknownCpp(id) => ReleaseError::UnknownCpp(id),
            e @ ExportError::Disclosure(_) => ReleaseError::Refused(e.to_string()),
            e => ReleaseError::Export(e),
        }
    }
}

async fn one(
    db: &impl ConnectionTrait,
    stmt: &sea_orm::sea_query::SelectStatement,
) -> Result<Option<QueryResult>, DbErr> {
    db.query_one(stmt).await
}

async fn count(
    db: &impl ConnectionTrait,
    stmt: &sea_orm::sea_query::SelectStatement,
) -> Result<i64, DbErr> {
    Ok(match one(db, stmt).await? {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    })
}

/// The wave with this id.
pub async fn wave(db: &impl ConnectionTrait, id: i32) -> Result<Option<WaveInfo>, ReleaseError> {
    wave_where(db, Expr::col(col("id")).eq(id)).await
}

/// The wave with this name.
pub async fn wave_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<WaveInfo>, ReleaseError> {
    wave_where(db, Expr::col(col("name")).eq(name)).await
}

async fn wave_where(
    db: &impl ConnectionTrait,
    condition: sea_orm::sea_query::SimpleExpr,
) -> Result<Option<WaveInfo>, ReleaseError> {
    let stmt = Query::select()
        .columns([
            col("id"),
            col("name"),
            col("questionnaire_version_id"),
            col("rule"),
        ])
        .from(col("wave"))
        .and_where(condition)
        .to_owned();
    wave_from(one(db, &stmt).await?)
}

fn wave_from(row: Option<QueryResult>) -> Result<Option<WaveInfo>, ReleaseError> {
    let Some(row) = row else {
        return Ok(None);
    };
    let rule: String = row.try_get_by_index(3)?;
    Ok(Some(WaveInfo {
        id: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        version_id: row.try_get_by_index(2)?,
        rule: serde_json::from_str(&rule).map_err(|e| ReleaseError::BadRule(e.to_string()))?,
    }))
}

/// A partnership's window in a wave: (opens, closes).
async fn window(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_id: i32,
) -> Result<Option<(NaiveDate, NaiveDate)>, DbErr> {
    let stmt = Query::select()
        .columns([col("opens"), col("closes")])
        .from(col("wave_window"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .and_where(Expr::col(col("cpp_id")).eq(cpp_id))
        .to_owned();
    match one(db, &stmt).await? {
        Some(row) => Ok(Some((row.try_get_by_index(0)?, row.try_get_by_index(1)?))),
        None => Ok(None),
    }
}

/// Partnerships with a window in the wave.
async fn windowed_cpps(db: &impl ConnectionTrait, wave_id: i32) -> Result<Vec<i32>, DbErr> {
    let stmt = Query::select()
        .column(col("cpp_id"))
        .from(col("wave_window"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .to_owned();
    db.query_all(&stmt)
        .await?
        .iter()
        .map(|r| r.try_get_by_index(0))
        .collect()
}

/// Checks that fieldwork is over for one partnership (see the module's
/// documentation).
pub async fn check_fieldwork_over(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp: &CppInfo,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), ReleaseError> {
    let name = cpp.name.clone();
    let (_, closes) = window(db, wave_id, cpp.id)
        .await?
        .ok_or_else(|| ReleaseError::NoWindow(name.clone()))?;
    if closes >= today {
        return Err(ReleaseError::FieldworkOpen { name, closes });
    }
    let open = Query::select()
        .expr(Expr::col(col("id")).count())
        .from(col("sitting"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .and_where(Expr::col(col("cpp_id")).eq(cpp.id))
        .and_where(Expr::col(col("closed_at")).is_null())
        .and_where(
            Expr::col(col("closes_at"))
                .is_null()
                .or(Expr::col(col("closes_at")).gt(now)),
        )
        .to_owned();
    let count = self::count(db, &open).await?;
    if count > 0 {
        return Err(ReleaseError::SittingsOpen { name, count });
    }
    let mut waiting = 0;
    for table in ["response_held", "response_in_progress"] {
        let stmt = Query::select()
            .expr(Expr::col((col(table), col("id"))).count())
            .from(col(table))
            .inner_join(
                col("sitting"),
                Expr::col((col("sitting"), col("id"))).equals((col(table), col("sitting_id"))),
            )
            .and_where(Expr::col((col("sitting"), col("wave_id"))).eq(wave_id))
            .and_where(Expr::col((col("sitting"), col("cpp_id"))).eq(cpp.id))
            .to_owned();
        waiting += self::count(db, &stmt).await?;
    }
    if waiting > 0 {
        return Err(ReleaseError::StillStoring {
            name,
            count: waiting,
        });
    }
    Ok(())
}

/// The SHA-256 of the ids of every response of the wave (of one
/// partnership, or all), in order: it changes whenever a response is added
/// or removed, and says nothing about any.
pub async fn sources(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_id: Option<i32>,
) -> Result<(String, u64), DbErr> {
    let mut stmt = Query::select();
    stmt.column(col("id"))
        .from(col("response"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .order_by(col("id"), Order::Asc);
    if let Some(cpp_id) = cpp_id {
        stmt.and_where(Expr::col(col("cpp_id")).eq(cpp_id));
    }
    let mut hash = Sha256::new();
    let mut n = 0u64;
    for row in db.query_all(&stmt).await? {
        let id: String = row.try_get_by_index(0)?;
        hash.update(id.as_bytes());
        hash.update(b"\n");
        n += 1;
    }
    Ok((hex::encode(hash.finalize()), n))
}

/// Releases of a wave (every wave when `None`), oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    wave_id: Option<i32>,
) -> Result<Vec<ReleaseInfo>, DbErr> {
    let mut stmt = release_select();
    if let Some(wave_id) = wave_id {
        stmt.and_where(Expr::col(col("wave_id")).eq(wave_id));
    }
    releases_of(db, &stmt).await
}

async fn releases_of(
    db: &impl ConnectionTrait,
    stmt: &sea_orm::sea_query::SelectStatement,
) -> Result<Vec<ReleaseInfo>, DbErr> {
    let mut releases = Vec::new();
    for row in db.query_all(stmt).await? {
        releases.push(release_from(db, &row).await?);
    }
    Ok(releases)
}

/// Releases of one partnership, every wave, oldest first.
pub async fn of_partnership(
    db: &impl ConnectionTrait,
    cpp_id: i32,
) -> Result<Vec<ReleaseInfo>, DbErr> {
    let mut stmt = release_select();
    stmt.and_where(Expr::col(col("cpp_id")).eq(cpp_id));
    releases_of(db, &stmt).await
}

/// The release with this id.
pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<Option<ReleaseInfo>, DbErr> {
    let mut stmt = release_select();
    stmt.and_where(Expr::col(col("id")).eq(id));
    match one(db, &stmt).await? {
        Some(row) => Ok(Some(release_from(db, &row).await?)),
        None => Ok(None),
    }
}

fn release_select() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns([
            col("id"),
            col("wave_id"),
            col("cpp_id"),
            col("unit"),
            col("number"),
            col("released_by"),
            col("released_at"),
        ])
        .from(col("result_release"))
        .order_by(col("wave_id"), Order::Asc)
        .order_by(col("unit"), Order::Asc)
        .order_by(col("number"), Order::Asc)
        .to_owned()
}

async fn release_from(db: &impl ConnectionTrait, row: &QueryResult) -> Result<ReleaseInfo, DbErr> {
    let id: i32 = row.try_get_by_index(0)?;
    let files = Query::select()
        .columns([col("name"), col("sha256"), col("size")])
        .from(col("result_release_file"))
        .and_where(Expr::col(col("release_id")).eq(id))
        .to_owned();
    let mut stored = Vec::new();
    for f in db.query_all(&files).await? {
        let size: i64 = f.try_get_by_index(2)?;
        stored.push(FileInfo {
            name: f.try_get_by_index(0)?,
            sha256: f.try_get_by_index(1)?,
            size: u64::try_from(size).unwrap_or(0),
        });
    }
    stored.sort_by(|a, b| {
        let rank = |f: &FileInfo| file_names().position(|n| n == f.name).unwrap_or(usize::MAX);
        rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(ReleaseInfo {
        id,
        wave_id: row.try_get_by_index(1)?,
        cpp_id: row.try_get_by_index(2)?,
        unit: row.try_get_by_index(3)?,
        number: row.try_get_by_index(4)?,
        released_by: row.try_get_by_index(5)?,
        released_at: row.try_get_by_index(6)?,
        files: stored,
    })
}

/// One stored file's bytes, checked against its SHA-256.
pub async fn file(
    db: &impl ConnectionTrait,
    release: i32,
    name: &str,
) -> Result<Vec<u8>, ReleaseError> {
    let stmt = Query::select()
        .columns([col("sha256"), col("content")])
        .from(col("result_release_file"))
        .and_where(Expr::col(col("release_id")).eq(release))
        .and_where(Expr::col(col("name")).eq(name))
        .to_owned();
    let row = one(db, &stmt)
        .await?
        .ok_or_else(|| ReleaseError::UnknownFile {
            release,
            name: name.to_owned(),
        })?;
    let sha256: String = row.try_get_by_index(0)?;
    let content: Vec<u8> = row.try_get_by_index(1)?;
    if hex::encode(Sha256::digest(&content)) != sha256 {
        return Err(ReleaseError::Damaged {
            release,
            name: name.to_owned(),
        });
    }
    Ok(content)
}

/// Writes a stored release's files into `dir` (created if missing), each
/// checked against its SHA-256 first.
pub async fn write_to_dir(
    db: &impl ConnectionTrait,
    release: i32,
    dir: &std::path::Path,
) -> Result<ReleaseInfo, ReleaseError> {
    let info = get(db, release)
        .await?
        .ok_or(ReleaseError::UnknownRelease(release))?;
    let io = |path: &std::path::Path, source| OutputError::Io {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    for f in &info.files {
        let bytes = file(db, release, &f.name).await?;
        let path = dir.join(&f.name);
        std::fs::write(&path, bytes).map_err(|e| io(&path, e))?;
    }
    Ok(info)
}

/// Every earlier release of one unit of a wave, read back (with
/// `totals_only`, only the cells of all its schools together).
async fn unit_prior(
    db: &impl ConnectionTrait,
    wave_id: i32,
    unit: &str,
    rule: &Rule,
    totals_only: bool,
) -> Result<(UnitPrior, Option<(i32, String)>), ReleaseError> {
    let stmt = Query::select()
        .columns([col("id"), col("number"), col("rule"), col("sources")])
        .from(col("result_release"))
        .and_where(Expr::col(col("wave_id")).eq(wave_id))
        .and_where(Expr::col(col("unit")).eq(unit))
        .order_by(col("number"), Order::Asc)
        .to_owned();
    let mut prior = UnitPrior::default();
    let mut latest = None;
    for row in db.query_all(&stmt).await? {
        let id: i32 = row.try_get_by_index(0)?;
        let number: i32 = row.try_get_by_index(1)?;
        let stored_rule: String = row.try_get_by_index(2)?;
        let stored_rule: Rule =
            serde_json::from_str(&stored_rule).map_err(|e| ReleaseError::BadRule(e.to_string()))?;
        if stored_rule != *rule {
            return Err(ReleaseError::RuleChanged);
        }
        prior
            .releases
            .push(stored_published(db, id, unit, totals_only).await?);
        latest = Some((number, row.try_get_by_index(3)?));
    }
    Ok((prior, latest))
}

/// How a release went, for the caller to report.
#[derive(Debug, Clone)]
pub struct Made {
    pub release: ReleaseInfo,
    pub cells: usize,
    pub suppressed: usize,
}

/// What became of one unit when releasing a wave for every partnership and
/// Scotland ([`make_all`]).
#[derive(Debug, Clone)]
pub enum Outcome {
    Made(Made),
    /// Its newest release (this number) already counts every response.
    Unchanged(i32),
}

/// A release computed and audited but not yet stored. [`make_all`] holds
/// every partnership's at once, so each unit's tables wait packed (see
/// [`Prepared::pack`]).
struct Prepared {
    wave: WaveInfo,
    unit_code: String,
    unit_name: String,
    cpp_id: Option<i32>,
    fingerprint: String,
    export: Export,
    now: DateTime<Utc>,
    /// Each unit's tables, packed, while `export` holds none.
    packed: Option<Vec<Vec<u8>>>,
}

impl Prepared {
    /// Moves the tables out of the export into a few bytes per cell (a
    /// line's counts and flags are otherwise two allocations each, which
    /// for a whole country's partnerships held together is hundreds of
    /// megabytes).
    fn pack(&mut self) {
        if self.packed.is_none() {
            let packed = self
                .export
                .units
                .iter_mut()
                .map(|unit| pack(&std::mem::take(&mut unit.tables)))
                .collect();
            self.packed = Some(packed);
        }
    }

    /// Puts packed tables back into the export.
    fn unpack(&mut self) {
        if let Some(packed) = self.packed.take() {
            for (unit, bytes) in self.export.units.iter_mut().zip(packed) {
                unit.tables = unpack(&bytes);
            }
        }
    }
}

/// Tables as bytes: per table its index and number of lines, per line its
/// school (`u32::MAX` for none), stage level (its place in
/// [`StageLevel::ALL`]), sex (255 for all), width, counts and hidden flags.
fn pack(tables: &[PublishedTable]) -> Vec<u8> {
    let mut out = Vec::new();
    let u32_of = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    for table in tables {
        out.extend(u32_of(table.table).to_le_bytes());
        out.extend(u32_of(table.lines.len()).to_le_bytes());
        for line in &table.lines {
            out.extend(line.school.map_or(u32::MAX, u32_of).to_le_bytes());
            let level = StageLevel::ALL
                .iter()
                .position(|l| *l == line.stage)
                .unwrap_or(StageLevel::ALL.len() - 1);
            out.push(u8::try_from(level).unwrap_or(u8::MAX));
            out.push(
                line.sex
                    .map_or(u8::MAX, |s| u8::try_from(s).unwrap_or(u8::MAX - 1)),
            );
            out.extend(u32_of(line.counts.len()).to_le_bytes());
            for count in &line.counts {
                out.extend(count.to_le_bytes());
            }
            out.extend(line.hidden.iter().map(|h| u8::from(*h)));
        }
    }
    out
}

/// The tables [`pack`] packed.
fn unpack(mut bytes: &[u8]) -> Vec<PublishedTable> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> &'a [u8] {
        let (head, rest) = bytes.split_at(n);
        *bytes = rest;
        head
    }
    fn word(bytes: &mut &[u8]) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(take(bytes, 4));
        u32::from_le_bytes(w)
    }
    let mut tables = Vec::new();
    while !bytes.is_empty() {
        let table = word(&mut bytes) as usize;
        let n = word(&mut bytes) as usize;
        let mut lines = Vec::with_capacity(n);
        for _ in 0..n {
            let school = word(&mut bytes);
            let level = take(&mut bytes, 1)[0] as usize;
            let sex = take(&mut bytes, 1)[0];
            let width = word(&mut bytes) as usize;
            let counts = (0..width).map(|_| word(&mut bytes)).collect();
            let hidden = take(&mut bytes, width).iter().map(|h| *h != 0).collect();
            lines.push(Line {
                school: (school != u32::MAX).then_some(school as usize),
                stage: StageLevel::ALL[level],
                sex: (sex != u8::MAX).then_some(usize::from(sex)),
                counts,
                hidden,
            });
        }
        tables.push(PublishedTable { table, lines });
    }
    tables
}

/// Makes a release: checks that fieldwork is over, computes the results
/// with every earlier release of the same wave and unit taken into account,
/// renders every file, and stores them with the manifest and an audit entry
/// in one transaction. Nothing is stored when an error is returned.
///
/// A partnership's report shows Scotland's figures beneath its own in the
/// summary when Scotland has a release of the wave already (its newest);
/// [`make_all`] gives every partnership Scotland's figures of the same run.
pub async fn make(
    db: &DatabaseConnection,
    request: &ReleaseRequest,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Made, ReleaseError> {
    let mut prepared = prepare(db, request, progress, HashMap::new()).await?;
    if request.unit != Unit::Scotland {
        prepared.export.beside = newest_scotland(db, &prepared).await?;
    }
    store(db, request, prepared).await
}

/// Releases a wave for each partnership of `partnerships` and then for
/// Scotland, all computed before any is stored, so that each partnership's
/// report can show Scotland's figures as Scotland's release of the same run
/// publishes them. A partnership whose newest release already counts every
/// response is left as it is (and Scotland adds up from that release).
///
/// If any unit cannot be released, nothing is stored and the error comes
/// back with the unit's name.
pub async fn make_all(
    db: &DatabaseConnection,
    partnerships: &[ReleaseRequest],
    scotland: &ReleaseRequest,
    progress: &(dyn Fn(&str, Progress) + Sync),
) -> Result<Vec<(Unit, Outcome)>, (String, ReleaseError)> {
    let mut outcomes = Vec::new();
    let mut prepared = Vec::new();
    let mut in_run: HashMap<String, Published> = HashMap::new();
    let cpps = source::cpps(db)
        .await
        .map_err(|e| ("the partnerships".to_owned(), ReleaseError::Database(e)))?;
    for request in partnerships {
        let name = match request.unit {
            Unit::Partnership(id) => cpps
                .iter()
                .find(|c| c.id == id)
                .map_or_else(|| format!("partnership {id}"), |c| c.name.clone()),
            Unit::Scotland => "Scotland".to_owned(),
        };
        let step = |p: Progress| progress(&name, p);
        match prepare(db, request, &step, HashMap::new()).await {
            Ok(p) => {
                let code = p.unit_code.clone();
                let (mut p, published) = published_totals(p, &code)
                    .await
                    .map_err(|e| (name.clone(), e))?;
                in_run.insert(code, published);
                p.pack();
                prepared.push((request, p));
            }
            Err(ReleaseError::Unchanged(number)) => {
                outcomes.push((request.unit, Outcome::Unchanged(number)));
            }
            Err(error) => return Err((name, error)),
        }
    }
    let step = |p: Progress| progress("Scotland", p);
    let scotland_prepared = match prepare(db, scotland, &step, in_run).await {
        Ok(p) => Some(p),
        Err(ReleaseError::Unchanged(number)) => {
            outcomes.push((Unit::Scotland, Outcome::Unchanged(number)));
            None
        }
        Err(error) => return Err(("Scotland".to_owned(), error)),
    };
    // Scotland's figures as its release of this run publishes them, or as
    // its newest stored release does when nothing changed.
    let (scotland_prepared, beside) = match scotland_prepared {
        Some(p) => {
            let (p, published) = published_totals(p, ALL)
                .await
                .map_err(|e| ("Scotland".to_owned(), e))?;
            let beside = crate::scotland::beside(
                &p.export.layout,
                &published,
                p.export.generated_at.date_naive(),
            );
            (Some(p), Some(beside))
        }
        None => (
            None,
            match prepared.first() {
                Some((_, p)) => newest_scotland(db, p)
                    .await
                    .map_err(|e| ("Scotland".to_owned(), e))?,
                None => None,
            },
        ),
    };
    for (request, mut p) in prepared {
        p.export.beside = beside.clone();
        let name = p.unit_name.clone();
        let made = store(db, request, p).await.map_err(|e| (name, e))?;
        outcomes.push((request.unit, Outcome::Made(made)));
    }
    if let Some(p) = scotland_prepared {
        let made = store(db, scotland, p)
            .await
            .map_err(|e| ("Scotland".to_owned(), e))?;
        outcomes.push((Unit::Scotland, Outcome::Made(made)));
    }
    Ok(outcomes)
}

/// The all-schools cells of `unit` as a prepared release's files publish
/// them: what Scotland's cells add up from, read from the very bytes that
/// will be stored. Rendered off the async runtime; the release comes back.
async fn published_totals(
    prepared: Prepared,
    unit: &str,
) -> Result<(Prepared, Published), ReleaseError> {
    let unit = unit.to_owned();
    let (prepared, published) = offload::run(
        move |_| {
            let read = || -> Result<Published, ReleaseError> {
                let export = &prepared.export;
                let frequencies = export.file("frequencies.csv")?;
                let indicators = export.file("indicators.csv")?;
                let rates = export.file("response_rates.csv")?;
                Ok(Published::from_files(
                    &unit,
                    &frequencies,
                    &indicators,
                    &rates,
                    true,
                )?)
            };
            let published = read();
            (prepared, published)
        },
        &|_: ()| {},
    )
    .await
    .map_err(|e| ReleaseError::Export(ExportError::Offload(e)))?;
    Ok((prepared, published?))
}

/// The cells of `unit` a stored release publishes (with `totals_only`,
/// only those of all its schools together).
async fn stored_published(
    db: &impl ConnectionTrait,
    release: i32,
    unit: &str,
    totals_only: bool,
) -> Result<Published, ReleaseError> {
    let frequencies = file(db, release, "frequencies.csv").await?;
    let indicators = file(db, release, "indicators.csv").await?;
    let rates = file(db, release, "response_rates.csv").await?;
    Ok(Published::from_files(
        unit,
        &frequencies,
        &indicators,
        &rates,
        totals_only,
    )?)
}

/// Scotland's figures from its newest release of the prepared release's
/// wave, if it has one.
async fn newest_scotland(
    db: &DatabaseConnection,
    prepared: &Prepared,
) -> Result<Option<crate::Beside>, ReleaseError> {
    let stmt = Query::select()
        .columns([col("id"), col("released_at")])
        .from(col("result_release"))
        .and_where(Expr::col(col("wave_id")).eq(prepared.wave.id))
        .and_where(Expr::col(col("unit")).eq(ALL))
        .order_by(col("number"), Order::Desc)
        .limit(1)
        .to_owned();
    let Some(row) = db.query_one(&stmt).await? else {
        return Ok(None);
    };
    let id: i32 = row.try_get_by_index(0)?;
    let released_at: DateTime<Utc> = row.try_get_by_index(1)?;
    let published = stored_published(db, id, ALL, true).await?;
    Ok(Some(crate::scotland::beside(
        &prepared.export.layout,
        &published,
        released_at.date_naive(),
    )))
}

/// Checks that fieldwork is over and computes one unit's results, with
/// every earlier release of the same wave and unit taken into account.
/// Scotland adds up from each partnership's newest stored release, or from
/// `in_run` (by GSS code) for partnerships computed in the same run.
async fn prepare(
    db: &DatabaseConnection,
    request: &ReleaseRequest,
    progress: &(dyn Fn(Progress) + Sync),
    mut in_run: HashMap<String, Published>,
) -> Result<Prepared, ReleaseError> {
    let wave = wave(db, request.wave_id)
        .await?
        .ok_or(ReleaseError::UnknownWave(request.wave_id))?;
    let now = Utc::now();
    let cpps = source::cpps(db).await?;
    let (unit_code, unit_name, scope, cpp_id) = match request.unit {
        Unit::Partnership(id) => {
            let cpp = cpps
                .iter()
                .find(|c| c.id == id)
                .ok_or(ReleaseError::UnknownCpp(id))?;
            check_fieldwork_over(db, wave.id, cpp, request.today, now).await?;
            (
                cpp.gss_code.clone(),
                cpp.name.clone(),
                Scope::Cpps(vec![id]),
                Some(id),
            )
        }
        Unit::Scotland => {
            for id in windowed_cpps(db, wave.id).await? {
                if let Some(cpp) = cpps.iter().find(|c| c.id == id) {
                    check_fieldwork_over(db, wave.id, cpp, request.today, now).await?;
                }
            }
            (ALL.to_owned(), "Scotland".to_owned(), Scope::National, None)
        }
    };
    let (fingerprint, responses) = sources(db, wave.id, cpp_id).await?;
    if responses == 0 {
        return Err(ReleaseError::NoData(unit_name));
    }
    let mut prior = Prior::default();
    let (own, latest) = unit_prior(db, wave.id, &unit_code, &wave.rule, false).await?;
    if let Some((number, sources)) = &latest
        && *sources == fingerprint
    {
        return Err(ReleaseError::Unchanged(*number));
    }
    prior.units.insert(unit_code.clone(), own);
    // Scotland: the newest release of each partnership, its totals only.
    let mut released: HashMap<String, Published> = HashMap::new();
    if request.unit == Unit::Scotland {
        let mut stale = Vec::new();
        for cpp in &cpps {
            // Moved, not copied: a country's worth of cells is large.
            if let Some(published) = in_run.remove(&cpp.gss_code) {
                released.insert(cpp.gss_code.clone(), published);
                continue;
            }
            let (current, n) = sources(db, wave.id, Some(cpp.id)).await?;
            if n == 0 {
                continue;
            }
            // Only the partnerships' totals feed Scotland's cells: their
            // school rows are left out, which keeps memory small.
            let (cpp_prior, latest) =
                unit_prior(db, wave.id, &cpp.gss_code, &wave.rule, true).await?;
            if latest.is_none_or(|(_, counted)| counted != current) {
                stale.push(format!("{} ({})", cpp.name, cpp.gss_code));
            }
            if let Some(newest) = cpp_prior.releases.last() {
                released.insert(cpp.gss_code.clone(), newest.clone());
            }
        }
        if !stale.is_empty() {
            return Err(ReleaseError::PartnershipsFirst(stale.join(", ")));
        }
    }

    let export_request = ExportRequest {
        wave_id: wave.id,
        version_id: wave.version_id,
        questionnaire: request.questionnaire.clone(),
        scope,
        rule: wave.rule,
        prior,
    };
    let export = if request.unit == Unit::Scotland {
        crate::scotland::from_releases(db, &export_request, &released, progress).await?
    } else {
        crate::export_with_progress(db, &export_request, progress).await?
    };
    Ok(Prepared {
        wave,
        unit_code,
        unit_name,
        cpp_id,
        fingerprint,
        export,
        now,
        packed: None,
    })
}

/// Renders a prepared release's files and stores them with the manifest
/// and an audit entry, in one transaction.
async fn store(
    db: &DatabaseConnection,
    request: &ReleaseRequest,
    mut prepared: Prepared,
) -> Result<Made, ReleaseError> {
    prepared.unpack();
    let Prepared {
        wave,
        unit_code,
        unit_name,
        cpp_id,
        fingerprint,
        export,
        now,
        packed: _,
    } = prepared;
    let cells: usize = export
        .units
        .iter()
        .flat_map(|u| &u.tables)
        .map(|t| t.cells())
        .sum();
    let suppressed: usize = export
        .units
        .iter()
        .flat_map(|u| &u.tables)
        .map(|t| t.suppressed())
        .sum();
    let rendered = offload::run(move |_| render(&export), &|_: ()| {})
        .await
        .map_err(|e| ReleaseError::Export(ExportError::Offload(e)))??;

    let files: Vec<(String, Vec<u8>)> = rendered;
    let txn = db.begin().await?;
    let number_stmt = Query::select()
        .expr(Expr::col(col("number")).max())
        .from(col("result_release"))
        .and_where(Expr::col(col("wave_id")).eq(wave.id))
        .and_where(Expr::col(col("unit")).eq(unit_code.as_str()))
        .to_owned();
    let number: i32 = match txn.query_one(&number_stmt).await? {
        Some(row) => row.try_get_by_index::<Option<i32>>(0)?.unwrap_or(0) + 1,
        None => 1,
    };
    let mut listed: Vec<FileInfo> = files
        .iter()
        .map(|(name, bytes)| FileInfo {
            name: name.clone(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        })
        .collect();
    let manifest = serde_json::json!({
        "wave": { "id": wave.id, "name": wave.name },
        "unit": { "code": unit_code, "name": unit_name },
        "release": number,
        "questionnaire": {
            "id": request.questionnaire.id().as_str(),
            "version": request.questionnaire.version(),
            "sha256": request.questionnaire.content_hash(),
        },
        "rule": wave.rule,
        "cells": { "published": cells - suppressed, "suppressed": suppressed },
        "released_by": request.by.name,
        "released_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "files": listed,
    });
    let manifest = serde_json::to_string_pretty(&manifest).map_err(|e| OutputError::Io {
        path: MANIFEST.to_owned(),
        source: std::io::Error::other(e),
    })?;
    let rule =
        serde_json::to_string(&wave.rule).map_err(|e| ReleaseError::BadRule(e.to_string()))?;
    let insert = Query::insert()
        .into_table(col("result_release"))
        .columns([
            col("wave_id"),
            col("cpp_id"),
            col("unit"),
            col("number"),
            col("rule"),
            col("sources"),
            col("released_by_id"),
            col("released_by"),
            col("released_at"),
            col("manifest"),
        ])
        .values([
            wave.id.into(),
            cpp_id.into(),
            unit_code.as_str().into(),
            number.into(),
            rule.into(),
            fingerprint.into(),
            request.by.staff_id.into(),
            request.by.name.as_str().into(),
            now.into(),
            manifest.as_str().into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .returning_col(col("id"))
        .to_owned();
    let id: i32 = txn
        .query_one(&insert)
        .await?
        .ok_or_else(|| DbErr::Custom("the new release has no id".into()))?
        .try_get_by_index(0)?;
    let manifest_bytes = manifest.into_bytes();
    listed.push(FileInfo {
        name: MANIFEST.to_owned(),
        sha256: hex::encode(Sha256::digest(&manifest_bytes)),
        size: manifest_bytes.len() as u64,
    });
    let contents = files
        .into_iter()
        .map(|(_, bytes)| bytes)
        .chain([manifest_bytes]);
    for (f, bytes) in listed.iter().zip(contents) {
        let insert = Query::insert()
            .into_table(col("result_release_file"))
            .columns([
                col("release_id"),
                col("name"),
                col("sha256"),
                col("size"),
                col("content"),
            ])
            .values([
                id.into(),
                f.name.as_str().into(),
                f.sha256.as_str().into(),
                i64::try_from(f.size).unwrap_or(i64::MAX).into(),
                bytes.into(),
            ])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        txn.execute(&insert).await?;
    }
    crate::source::usage::record_as(
        &txn,
        request.by.staff_id,
        &request.by.name,
        "release",
        &format!(
            "release {number} of wave \"{}\" for {unit_name} ({unit_code}): {} cells, {suppressed} suppressed",
            wave.name,
            cells
        ),
    )
    .await?;
    txn.commit().await?;
    let release = get(db, id).await?.ok_or(ReleaseError::UnknownRelease(id))?;
    Ok(Made {
        release,
        cells,
        suppressed,
    })
}

/// Every file of an export, rendered, with a report per school of a
/// partnership.
fn render(export: &Export) -> Result<Vec<(String, Vec<u8>)>, ReleaseError> {
    let mut files = FILES
        .iter()
        .map(|name| Ok(((*name).to_owned(), export.file(name)?)))
        .collect::<Result<Vec<_>, ReleaseError>>()?;
    files.extend(
        export
            .school_reports()
            .into_iter()
            .map(|(name, html)| (name, html.into_bytes())),
    );
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_tables_come_back_as_they_were() {
        let tables = vec![
            PublishedTable {
                table: 3,
                lines: vec![
                    Line {
                        school: None,
                        stage: StageLevel::All,
                        sex: None,
                        counts: vec![0, 7, 4_000_000_000],
                        hidden: vec![false, true, false],
                    },
                    Line {
                        school: Some(41),
                        stage: StageLevel::Stage(survey_defs::Stage::S2),
                        sex: Some(2),
                        counts: vec![12],
                        hidden: vec![true],
                    },
                ],
            },
            PublishedTable {
                table: 0,
                lines: Vec::new(),
            },
        ];
        assert_eq!(unpack(&pack(&tables)), tables);
        assert!(unpack(&pack(&[])).is_empty());
    }
}
