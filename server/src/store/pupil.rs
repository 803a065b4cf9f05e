//! What the pupil journey reads and writes: codes, in-progress responses, page
//! saves and completed responses.
//!
//! The completion and withdrawal functions are written so that a retried or
//! concurrent request can never store a response twice: each starts by deleting
//! the in-progress row and carries on only if it was the one that deleted it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionSession, TransactionTrait,
};

use survey_defs::Stage;

use super::entities::{
    access_code, page_save, response, response_held, response_in_progress, sitting, sitting_tally,
};
use crate::domain::CodeState;
pub use crate::domain::Ending;
use crate::store::Text;

pub use access_code::Model as Code;
pub use page_save::Model as PageSave;
pub use response_in_progress::Model as InProgress;
pub use sitting::Model as Sitting;

/// A random id for a response: 128 bits, hex, in no particular order.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The code with this keyed hash, and its sitting, in one query: on
/// PostgreSQL every query is a round trip to another process, and a pupil
/// typing a code needs both.
pub async fn find_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<(Code, Sitting)>, DbErr> {
    with_sitting(access_code::Column::CodeHash.eq(code_hash), db).await
}

/// The code with this id, and its sitting, in one query (see [`find_code`]).
pub async fn code_with_sitting(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<Option<(Code, Sitting)>, DbErr> {
    with_sitting(access_code::Column::Id.eq(id), db).await
}

/// The code `condition` picks, joined to its sitting.
async fn with_sitting(
    condition: sea_orm::sea_query::SimpleExpr,
    db: &impl ConnectionTrait,
) -> Result<Option<(Code, Sitting)>, DbErr> {
    let its_sitting = access_code::Entity::belongs_to(sitting::Entity)
        .from(access_code::Column::SittingId)
        .to(sitting::Column::Id)
        .into();
    let found = access_code::Entity::find()
        .filter(condition)
        .select_also(sitting::Entity)
        .join(sea_orm::JoinType::InnerJoin, its_sitting)
        .one(db)
        .await?;
    Ok(found.and_then(|(code, sitting)| Some((code, sitting?))))
}

pub async fn code_by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<Code>, DbErr> {
    access_code::Entity::find_by_id(id).one(db).await
}

pub async fn sitting(db: &impl ConnectionTrait, id: i32) -> Result<Option<Sitting>, DbErr> {
    sitting::Entity::find_by_id(id).one(db).await
}

/// Starts a response for an unused code, or returns the one a concurrent request
/// already started. `None` when the code can no longer be started.
pub async fn start_response<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    code_id: i32,
    sitting_id: i32,
    locale: &str,
) -> Result<Option<String>, DbErr> {
    let txn = super::begin(db).await?;
    let id = random_id();
    response_in_progress::ActiveModel {
        id: Set(id.clone()),
        sitting_id: Set(sitting_id),
        locale: Set(locale.to_owned()),
    }
    .insert(&txn)
    .await?;
    let claimed = access_code::Entity::update_many()
        .col_expr(
            access_code::Column::State,
            Expr::value(CodeState::Started.as_str()),
        )
        .col_expr(access_code::Column::ResponseId, Expr::value(id.clone()))
        .filter(access_code::Column::Id.eq(code_id))
        .filter(access_code::Column::State.eq(CodeState::Unused.as_str()))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 1 {
        txn.commit().await?;
        return Ok(Some(id));
    }
    txn.rollback().await?;
    // Someone else (a double click, another device) started it first.
    let code = code_by_id(db, code_id).await?;
    Ok(code.and_then(|c| {
        (c.state.0 == CodeState::Started)
            .then_some(c.response_id)
            .flatten()
    }))
}

/// Records that the pupil chose not to take part: the code is used and the
/// sitting's count of declines goes up, in one transaction. Nothing else is
/// stored. False when the code was not unused.
pub async fn decline<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    code_id: i32,
    sitting_id: i32,
) -> Result<bool, DbErr> {
    let txn = super::begin(db).await?;
    let result = access_code::Entity::update_many()
        .col_expr(
            access_code::Column::State,
            Expr::value(CodeState::Used.as_str()),
        )
        .filter(access_code::Column::Id.eq(code_id))
        .filter(access_code::Column::State.eq(CodeState::Unused.as_str()))
        .exec(&txn)
        .await?;
    if result.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    count_ending(&txn, sitting_id, Ending::Declined).await?;
    txn.commit().await?;
    Ok(true)
}

/// Adds one to a sitting's count of responses that ended this way.
async fn count_ending(
    db: &impl ConnectionTrait,
    sitting_id: i32,
    ending: Ending,
) -> Result<(), DbErr> {
    use sitting_tally::Column as T;
    sitting_tally::Entity::insert(sitting_tally::ActiveModel {
        sitting_id: Set(sitting_id),
        ending: Set(ending.as_str().to_owned()),
        n: Set(1),
    })
    .on_conflict(
        OnConflict::columns([T::SittingId, T::Ending])
            .value(T::N, Expr::col((sitting_tally::Entity, T::N)).add(1))
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// How many responses of a sitting ended each way.
pub async fn tally(
    db: &impl ConnectionTrait,
    sitting_id: i32,
) -> Result<Vec<(Ending, i64)>, DbErr> {
    let rows = sitting_tally::Entity::find()
        .filter(sitting_tally::Column::SittingId.eq(sitting_id))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((Ending::parse(&row.ending)?, i64::from(row.n))))
        .collect())
}

pub async fn in_progress(
    db: &impl ConnectionTrait,
    response_id: &str,
) -> Result<Option<InProgress>, DbErr> {
    response_in_progress::Entity::find_by_id(response_id.to_owned())
        .one(db)
        .await
}

/// Every page saved so far, oldest first.
pub async fn page_saves(
    db: &impl ConnectionTrait,
    response_id: &str,
) -> Result<Vec<PageSave>, DbErr> {
    page_save::Entity::find()
        .filter(page_save::Column::ResponseId.eq(response_id))
        .order_by_asc(page_save::Column::Seq)
        .all(db)
        .await
}

/// An in-progress response and every page saved so far (oldest first), in one
/// query: a pupil page needs both, and on SQLite each query is a hop to the
/// connection's thread and back, which costs more than the query itself.
pub async fn in_progress_with_saves(
    db: &impl ConnectionTrait,
    response_id: &str,
) -> Result<Option<(InProgress, Vec<PageSave>)>, DbErr> {
    use response_in_progress::Column as R;
    use sea_orm::sea_query::{ExprTrait, JoinType, Order, Query};
    let (rip, ps) = (response_in_progress::Entity, page_save::Entity);
    let query = Query::select()
        .column((rip, R::SittingId))
        .column((rip, R::Locale))
        .column((ps, page_save::Column::PageKey))
        .column((ps, page_save::Column::Answers))
        .column((ps, page_save::Column::Seq))
        .from(rip)
        .join(
            JoinType::LeftJoin,
            ps,
            Expr::col((ps, page_save::Column::ResponseId)).equals((rip, R::Id)),
        )
        .and_where(Expr::col((rip, R::Id)).eq(response_id))
        .order_by((ps, page_save::Column::Seq), Order::Asc)
        .to_owned();
    let rows = db.query_all(&query).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let in_progress = InProgress {
        id: response_id.to_owned(),
        sitting_id: first.try_get("", "sitting_id")?,
        locale: first.try_get("", "locale")?,
    };
    let mut saves = Vec::with_capacity(rows.len());
    for row in &rows {
        let Some(page_key) = row.try_get::<Option<String>>("", "page_key")? else {
            continue;
        };
        saves.push(PageSave {
            response_id: response_id.to_owned(),
            page_key,
            answers: row.try_get("", "answers")?,
            seq: row.try_get("", "seq")?,
        });
    }
    Ok(Some((in_progress, saves)))
}

/// [`in_progress_with_saves`] on PostgreSQL, with the response's version
/// (raised by every page save, see [`save_pages_postgres`]), in one query.
pub async fn progress_postgres(
    pool: &sea_orm::sqlx::PgPool,
    response_id: &str,
) -> Result<Option<(i64, InProgress, Vec<PageSave>)>, DbErr> {
    const PROGRESS: &str = "SELECT r.version, r.sitting_id, r.locale, s.page_key, s.answers, s.seq \
         FROM response_in_progress r LEFT JOIN page_save s ON s.response_id = r.id \
         WHERE r.id = $1";
    type Row = (
        i64,
        i32,
        String,
        Option<String>,
        Option<Vec<u8>>,
        Option<i64>,
    );
    let rows: Vec<Row> = sea_orm::sqlx::query_as(PROGRESS)
        .bind(response_id)
        .fetch_all(pool)
        .await
        .map_err(|e| DbErr::Custom(format!("PostgreSQL: {e}")))?;
    let Some((version, sitting_id, locale, ..)) = rows.first().cloned() else {
        return Ok(None);
    };
    let mut saves: Vec<PageSave> = rows
        .into_iter()
        .filter_map(|(_, _, _, page_key, answers, seq)| {
            Some(PageSave {
                response_id: response_id.to_owned(),
                page_key: page_key?,
                answers: answers?,
                seq: seq?,
            })
        })
        .collect();
    // Oldest first, sorted here rather than inside the query.
    saves.sort_by_key(|save| save.seq);
    let in_progress = InProgress {
        id: response_id.to_owned(),
        sitting_id,
        locale,
    };
    Ok(Some((version, in_progress, saves)))
}

/// The version of an in-progress response on PostgreSQL (see
/// [`progress_postgres`]); `None` once it has ended.
pub async fn progress_version_postgres(
    pool: &sea_orm::sqlx::PgPool,
    response_id: &str,
) -> Result<Option<i64>, DbErr> {
    sea_orm::sqlx::query_scalar("SELECT version FROM response_in_progress WHERE id = $1")
        .bind(response_id)
        .fetch_optional(pool)
        .await
        .map_err(|e| DbErr::Custom(format!("PostgreSQL: {e}")))
}

/// What became of one page save written on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored; the response's version is now this.
    Stored(i64),
    /// Not stored: the response had ended, or (for a save made only if the
    /// response was unchanged) its version was no longer the one expected.
    Refused,
}

/// [`save_pages`] on PostgreSQL, with the response's version (see
/// [`progress_postgres`]): the batch as arrays, unpacked by `UNNEST` into
/// one statement that raises the version of each response saved to by its
/// number of saves in the batch, and stores the pages of those it raised.
/// The statement's text is the same whatever the batch's size, so each
/// connection prepares and plans it once. A page saved twice in one batch
/// keeps the later save.
///
/// Each save may carry the version it expects; a response any save of
/// which expects another version is left alone, and its saves are
/// [`Written::Refused`], as are saves to a response that has ended.
/// Returns what became of each save, in the order given.
pub async fn save_pages_postgres(
    pool: &sea_orm::sqlx::PgPool,
    saves: &[(PageSave, Option<i64>)],
) -> Result<Vec<Written>, DbErr> {
    const SAVE: &str = "WITH input AS ( \
         SELECT * FROM UNNEST($1::varchar[], $2::varchar[], $3::bytea[], $4::int8[], \
         $5::int8[], $6::int8[], $7::int8[]) \
         AS i(response_id, page_key, answers, seq, saves, low, high)), \
         wanted AS ( \
         SELECT response_id, max(saves) AS saves, min(low) AS low, max(high) AS high \
         FROM input GROUP BY response_id), \
         raised AS ( \
         UPDATE response_in_progress r SET version = r.version + wanted.saves FROM wanted \
         WHERE r.id = wanted.response_id \
         AND (wanted.low IS NULL OR wanted.low = r.version) \
         AND (wanted.high IS NULL OR wanted.high = r.version) \
         RETURNING r.id, r.version), \
         stored AS ( \
         INSERT INTO page_save (response_id, page_key, answers, seq) \
         SELECT input.response_id, input.page_key, input.answers, input.seq \
         FROM input JOIN raised ON raised.id = input.response_id \
         ON CONFLICT (response_id, page_key) \
         DO UPDATE SET answers = excluded.answers, seq = excluded.seq) \
         SELECT id, version FROM raised";
    if saves.is_empty() {
        return Ok(Vec::new());
    }
    let mut per_response: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for (save, _) in saves {
        *per_response.entry(save.response_id.as_str()).or_default() += 1;
    }
    // Every save's expectation is checked, the lowest and highest of each
    // response's (two that differ cannot both hold).
    let mut expected_of: std::collections::HashMap<&str, (Option<i64>, Option<i64>)> =
        std::collections::HashMap::new();
    for (save, expected) in saves {
        if let Some(expected) = expected {
            let (low, high) = expected_of.entry(save.response_id.as_str()).or_default();
            *low = Some(low.map_or(*expected, |l| Ord::min(l, *expected)));
            *high = Some(high.map_or(*expected, |h| Ord::max(h, *expected)));
        }
    }
    // The later of two saves of the same page: PostgreSQL refuses to update
    // a row twice in one statement, and the later save is the one the
    // pupil last sent. Both still count in the version's rise.
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<&PageSave> = saves
        .iter()
        .rev()
        .map(|(save, _)| save)
        .filter(|s| seen.insert((s.response_id.as_str(), s.page_key.as_str())))
        .collect();
    let mut ids = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    let mut answers = Vec::with_capacity(rows.len());
    let mut seqs = Vec::with_capacity(rows.len());
    let mut counts = Vec::with_capacity(rows.len());
    let mut lows = Vec::with_capacity(rows.len());
    let mut highs = Vec::with_capacity(rows.len());
    for save in rows.into_iter().rev() {
        let id = save.response_id.as_str();
        let (low, high) = expected_of.get(id).copied().unwrap_or_default();
        ids.push(id);
        keys.push(save.page_key.as_str());
        answers.push(save.answers.as_slice());
        seqs.push(save.seq);
        counts.push(per_response.get(id).copied().unwrap_or(1));
        lows.push(low);
        highs.push(high);
    }
    let raised: Vec<(String, i64)> = sea_orm::sqlx::query_as(SAVE)
        .bind(ids)
        .bind(keys)
        .bind(answers)
        .bind(seqs)
        .bind(counts)
        .bind(lows)
        .bind(highs)
        .fetch_all(pool)
        .await
        .map_err(|e| DbErr::Custom(format!("PostgreSQL: {e}")))?;
    let raised: std::collections::HashMap<String, i64> = raised.into_iter().collect();
    Ok(saves
        .iter()
        .map(|(save, _)| match raised.get(&save.response_id) {
            Some(version) => Written::Stored(*version),
            None => Written::Refused,
        })
        .collect())
}

/// [`start_response`] on PostgreSQL in one statement (one round trip, one
/// implicit transaction): claim the code if it is unused and create its
/// in-progress response. Only when the code was not unused is it read
/// again, to return the response a concurrent request started.
pub async fn start_response_postgres(
    pool: &sea_orm::sqlx::PgPool,
    code_id: i32,
    sitting_id: i32,
    locale: &str,
) -> Result<Option<String>, DbErr> {
    const START: &str = "WITH claimed AS ( \
         UPDATE access_code SET state = $5, response_id = $2 \
         WHERE id = $1 AND state = $6 RETURNING id), \
         started AS ( \
         INSERT INTO response_in_progress (id, sitting_id, locale) \
         SELECT $2, $3, $4 FROM claimed RETURNING id) \
         SELECT count(*) FROM started";
    let err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("PostgreSQL: {e}"));
    let id = random_id();
    let started: i64 = sea_orm::sqlx::query_scalar(START)
        .bind(code_id)
        .bind(&id)
        .bind(sitting_id)
        .bind(locale)
        .bind(CodeState::Started.as_str())
        .bind(CodeState::Unused.as_str())
        .fetch_one(pool)
        .await
        .map_err(err)?;
    if started == 1 {
        return Ok(Some(id));
    }
    // Someone else (a double click, another device) started it first.
    let found: Option<(String, Option<String>)> =
        sea_orm::sqlx::query_as("SELECT state, response_id FROM access_code WHERE id = $1")
            .bind(code_id)
            .fetch_optional(pool)
            .await
            .map_err(err)?;
    Ok(found.and_then(|(state, response_id)| {
        (state == CodeState::Started.as_str())
            .then_some(response_id)
            .flatten()
    }))
}

/// A start waiting in the writer's queue (see [`start_responses_postgres`]).
#[derive(Debug, Clone)]
pub struct NewStart {
    pub code_id: i32,
    pub sitting_id: i32,
    pub locale: String,
}

/// Many starts on PostgreSQL in one statement (one round trip, one commit):
/// each unused code among them is claimed and its in-progress response
/// created. Returns, in the order given, each start's response: the new one,
/// the one a concurrent request had already started (read afterwards, in
/// one query for all of them), or `None` when the code can no longer be
/// started. A code started twice in one batch is claimed once, by one of
/// its starts, and the other gets that start's response.
pub async fn start_responses_postgres(
    pool: &sea_orm::sqlx::PgPool,
    starts: &[NewStart],
) -> Result<Vec<Option<String>>, DbErr> {
    const START: &str = "WITH input AS ( \
         SELECT * FROM UNNEST($1::int4[], $2::varchar[], $3::int4[], $4::varchar[]) \
         AS i(code_id, id, sitting_id, locale)), \
         claimed AS ( \
         UPDATE access_code c SET state = $5, response_id = input.id FROM input \
         WHERE c.id = input.code_id AND c.state = $6 RETURNING c.response_id AS id), \
         started AS ( \
         INSERT INTO response_in_progress (id, sitting_id, locale) \
         SELECT input.id, input.sitting_id, input.locale FROM input JOIN claimed USING (id) \
         RETURNING id) \
         SELECT id FROM started";
    let err = |e: sea_orm::sqlx::Error| DbErr::Custom(format!("PostgreSQL: {e}"));
    let ids: Vec<String> = starts.iter().map(|_| random_id()).collect();
    let started: Vec<String> = sea_orm::sqlx::query_scalar(START)
        .bind(starts.iter().map(|s| s.code_id).collect::<Vec<_>>())
        .bind(&ids[..])
        .bind(starts.iter().map(|s| s.sitting_id).collect::<Vec<_>>())
        .bind(starts.iter().map(|s| s.locale.as_str()).collect::<Vec<_>>())
        .bind(CodeState::Started.as_str())
        .bind(CodeState::Unused.as_str())
        .fetch_all(pool)
        .await
        .map_err(err)?;
    let started: std::collections::HashSet<String> = started.into_iter().collect();
    let others: Vec<i32> = starts
        .iter()
        .zip(&ids)
        .filter(|(_, id)| !started.contains(*id))
        .map(|(start, _)| start.code_id)
        .collect();
    // Someone else (a double click, another device) started these first.
    let mut elsewhere = std::collections::HashMap::new();
    if !others.is_empty() {
        let found: Vec<(i32, String, Option<String>)> = sea_orm::sqlx::query_as(
            "SELECT id, state, response_id FROM access_code WHERE id = ANY($1)",
        )
        .bind(&others[..])
        .fetch_all(pool)
        .await
        .map_err(err)?;
        for (code_id, state, response_id) in found {
            if state == CodeState::Started.as_str() {
                elsewhere.insert(code_id, response_id);
            }
        }
    }
    Ok(starts
        .iter()
        .zip(ids)
        .map(|(start, id)| match started.contains(&id) {
            true => Some(id),
            false => elsewhere.get(&start.code_id).cloned().flatten(),
        })
        .collect())
}

/// Many page saves as one multi-row upsert: a group commit's batch in a single
/// statement, so the database parses and plans it once. A page saved twice in
/// one batch keeps the later save (PostgreSQL refuses to update a row twice in
/// one statement, and the later save is the one the pupil last sent).
pub async fn save_pages(db: &impl ConnectionTrait, saves: Vec<PageSave>) -> Result<(), DbErr> {
    let mut seen = std::collections::HashSet::new();
    let mut rows: Vec<page_save::ActiveModel> = saves
        .into_iter()
        .rev()
        .filter(|s| seen.insert((s.response_id.clone(), s.page_key.clone())))
        .map(|s| page_save::ActiveModel {
            response_id: Set(s.response_id),
            page_key: Set(s.page_key),
            answers: Set(s.answers),
            seq: Set(s.seq),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    rows.reverse();
    page_save::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([page_save::Column::ResponseId, page_save::Column::PageKey])
                .update_columns([page_save::Column::Answers, page_save::Column::Seq])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What is kept of a finished response: nothing that leads back to its code.
/// The day it is stored under is given when it is released (see [`release`]).
#[derive(Debug, Clone)]
pub struct Completed {
    pub questionnaire_version_id: i32,
    pub cpp_id: i32,
    pub school_id: i32,
    pub stage: Stage,
    pub sex: Option<String>,
    pub partial: bool,
    pub answers: Vec<u8>,
}

/// Ends an in-progress response in one transaction: marks its code used and
/// cuts the link, counts the ending for the sitting, deletes the in-progress
/// row with its page saves, and (unless withdrawn) holds the answers under a
/// fresh random id until [`release`] moves them into `response` with others
/// of the sitting. Returns false when another request had already ended it.
pub async fn end_response<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    response_id: &str,
    ending: Ending,
    completed: Option<Completed>,
) -> Result<bool, DbErr> {
    let txn = super::begin(db).await?;
    // On PostgreSQL the in-progress row is locked before its page saves are
    // touched: a page save locks the same row first (it raises the version)
    // and then writes its page, so taking the locks in the other order here
    // would let the two deadlock.
    let mut find = response_in_progress::Entity::find_by_id(response_id.to_owned());
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        find = find.lock_exclusive();
    }
    let Some(in_progress) = find.one(&txn).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    access_code::Entity::update_many()
        .col_expr(
            access_code::Column::State,
            Expr::value(CodeState::Used.as_str()),
        )
        .col_expr(
            access_code::Column::ResponseId,
            Expr::value(Option::<String>::None),
        )
        .filter(access_code::Column::ResponseId.eq(response_id))
        .exec(&txn)
        .await?;
    page_save::Entity::delete_many()
        .filter(page_save::Column::ResponseId.eq(response_id))
        .exec(&txn)
        .await?;
    let deleted = response_in_progress::Entity::delete_by_id(response_id.to_owned())
        .exec(&txn)
        .await?;
    if deleted.rows_affected != 1 {
        txn.rollback().await?;
        return Ok(false);
    }
    count_ending(&txn, in_progress.sitting_id, ending).await?;
    if let (Some(c), true) = (completed, ending.keeps_answers()) {
        response_held::ActiveModel {
            sitting_id: Set(in_progress.sitting_id),
            id: Set(random_id()),
            questionnaire_version_id: Set(c.questionnaire_version_id),
            cpp_id: Set(c.cpp_id),
            school_id: Set(c.school_id),
            stage: Set(Text(c.stage)),
            sex: Set(c.sex),
            partial: Set(c.partial),
            answers: Set(c.answers),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// The Monday of `day`'s week: the only date a released response carries, so
/// that a pupil who finished alone on some day is not the only response of
/// that day.
pub fn week_of(day: NaiveDate) -> NaiveDate {
    day.week(chrono::Weekday::Mon).first_day()
}

/// Moves a sitting's held responses into `response` when at least `min` are
/// held (all of them, however few, when `min` is 1), in one transaction of
/// its own that touches no code. Each gets a new random id, the rows are
/// inserted in the order of those ids (a random order) and dated to the
/// week of `today`. Returns how many were released.
///
/// The sitting's row is locked first, so two servers releasing the same
/// sitting at once release each response once and never fewer than `min`.
pub async fn release<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    sitting_id: i32,
    min: usize,
    today: NaiveDate,
) -> Result<usize, DbErr> {
    let txn = super::begin(db).await?;
    let mut find_sitting = sitting::Entity::find_by_id(sitting_id);
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        find_sitting = find_sitting.lock_exclusive();
    }
    let wave_id = find_sitting.one(&txn).await?.map(|s| s.wave_id);
    let held = response_held::Entity::find()
        .filter(response_held::Column::SittingId.eq(sitting_id))
        .all(&txn)
        .await?;
    if held.is_empty() || held.len() < min {
        txn.rollback().await?;
        return Ok(0);
    }
    let count = held.len();
    let ids: Vec<String> = held.iter().map(|h| h.id.clone()).collect();
    let rows = shuffled(held.into_iter().map(|h| response::ActiveModel {
        id: Set(random_id()),
        questionnaire_version_id: Set(h.questionnaire_version_id),
        wave_id: Set(wave_id),
        cpp_id: Set(h.cpp_id),
        school_id: Set(h.school_id),
        stage: Set(h.stage),
        sex: Set(h.sex),
        completed_on: Set(week_of(today)),
        partial: Set(h.partial),
        answers: Set(h.answers),
    }));
    response::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    response_held::Entity::delete_many()
        .filter(response_held::Column::SittingId.eq(sitting_id))
        .filter(response_held::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(count)
}

/// Rows in the order of their new random ids: a random order, unrelated to
/// the order they were held in.
fn shuffled(rows: impl Iterator<Item = response::ActiveModel>) -> Vec<response::ActiveModel> {
    let mut rows: Vec<response::ActiveModel> = rows.collect();
    rows.sort_by(|a, b| a.id.as_ref().cmp(b.id.as_ref()));
    rows
}

/// Sittings with held responses, and how many each holds.
pub async fn held_by_sitting(db: &impl ConnectionTrait) -> Result<Vec<(i32, i64)>, DbErr> {
    response_held::Entity::find()
        .select_only()
        .column(response_held::Column::SittingId)
        .column_as(response_held::Column::Id.count(), "n")
        .group_by(response_held::Column::SittingId)
        .into_tuple::<(i32, i64)>()
        .all(db)
        .await
}

/// Stores many completed responses of one wave at once, each under the id
/// and date given with it, in the same row shape as [`release`]. Used to
/// load synthetic data; run it inside a transaction to make the whole batch
/// one commit.
pub async fn store_completed(
    db: &impl ConnectionTrait,
    wave_id: i32,
    batch: Vec<(String, NaiveDate, Completed)>,
) -> Result<(), DbErr> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows = batch.into_iter().map(|(id, day, c)| response::ActiveModel {
        id: Set(id),
        questionnaire_version_id: Set(c.questionnaire_version_id),
        wave_id: Set(Some(wave_id)),
        cpp_id: Set(c.cpp_id),
        school_id: Set(c.school_id),
        stage: Set(Text(c.stage)),
        sex: Set(c.sex),
        completed_on: Set(day),
        partial: Set(c.partial),
        answers: Set(c.answers),
    });
    response::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// In-progress responses of a sitting (to end them when it closes).
pub async fn in_progress_of_sitting(
    db: &impl ConnectionTrait,
    sitting_id: i32,
) -> Result<Vec<InProgress>, DbErr> {
    response_in_progress::Entity::find()
        .filter(response_in_progress::Column::SittingId.eq(sitting_id))
        .all(db)
        .await
}

/// Whether a sitting accepts pupils at `now`.
pub fn sitting_window(sitting: &Sitting, now: DateTime<Utc>) -> Window {
    if sitting.closed_at.is_some() || sitting.closes_at.is_some_and(|t| now >= t) {
        Window::Closed
    } else if sitting.opens_at.is_some_and(|t| now < t) {
        Window::NotYetOpen
    } else {
        Window::Open
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    NotYetOpen,
    Open,
    Closed,
}
