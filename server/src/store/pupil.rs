//! What the pupil journey reads and writes: codes, in-progress responses, page
//! saves and completed responses.
//!
//! The completion and withdrawal functions are written so that a retried or
//! concurrent request can never store a response twice: each starts by deleting
//! the in-progress row and carries on only if it was the one that deleted it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, TransactionSession, TransactionTrait,
};

use survey_defs::Stage;

use super::entities::{access_code, page_save, response, response_in_progress, sitting};
use crate::domain::CodeState;
use crate::store::Text;

pub use access_code::Model as Code;
pub use page_save::Model as PageSave;
pub use response_in_progress::Model as InProgress;
pub use sitting::Model as Sitting;

/// A random id for a response: 128 bits, hex, in no particular order.
pub fn random_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The code with this keyed hash, and its sitting.
pub async fn find_code(
    db: &impl ConnectionTrait,
    code_hash: &str,
) -> Result<Option<(Code, Sitting)>, DbErr> {
    let Some(code) = access_code::Entity::find()
        .filter(access_code::Column::CodeHash.eq(code_hash))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let sitting = sitting::Entity::find_by_id(code.sitting_id).one(db).await?;
    Ok(sitting.map(|s| (code, s)))
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
    let txn = db.begin().await?;
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

/// Records that the pupil chose not to take part. Nothing else is stored.
pub async fn decline(db: &impl ConnectionTrait, code_id: i32) -> Result<bool, DbErr> {
    let result = access_code::Entity::update_many()
        .col_expr(
            access_code::Column::State,
            Expr::value(CodeState::Declined.as_str()),
        )
        .filter(access_code::Column::Id.eq(code_id))
        .filter(access_code::Column::State.eq(CodeState::Unused.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
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
#[derive(Debug, Clone)]
pub struct Completed {
    pub questionnaire_version_id: i32,
    pub cpp_id: i32,
    pub school_id: i32,
    pub stage: Stage,
    pub sex: Option<String>,
    pub completed_on: NaiveDate,
    pub partial: bool,
    pub answers: Vec<u8>,
}

/// How a response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Finished,
    Partial,
    Withdrawn,
}

/// Ends an in-progress response in one transaction: stores the completed
/// response under a fresh random id (unless withdrawn), marks the code and cuts
/// its link, and deletes the in-progress row with its page saves. Returns false
/// when another request had already ended it.
pub async fn end_response<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    response_id: &str,
    ending: Ending,
    completed: Option<Completed>,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let new_state = match ending {
        Ending::Finished => CodeState::Finished.as_str(),
        Ending::Partial => CodeState::Partial.as_str(),
        Ending::Withdrawn => CodeState::Withdrawn.as_str(),
    };
    access_code::Entity::update_many()
        .col_expr(access_code::Column::State, Expr::value(new_state))
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
    if let (Some(c), true) = (completed, ending != Ending::Withdrawn) {
        response::ActiveModel {
            id: Set(random_id()),
            questionnaire_version_id: Set(c.questionnaire_version_id),
            cpp_id: Set(c.cpp_id),
            school_id: Set(c.school_id),
            stage: Set(Text(c.stage)),
            sex: Set(c.sex),
            completed_on: Set(c.completed_on),
            partial: Set(c.partial),
            answers: Set(c.answers),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(true)
}

/// Stores many completed responses at once, each under the id given with it,
/// in the same row shape as [`end_response`]. Used to load synthetic data;
/// run it inside a transaction to make the whole batch one commit.
pub async fn store_completed(
    db: &impl ConnectionTrait,
    batch: Vec<(String, Completed)>,
) -> Result<(), DbErr> {
    if batch.is_empty() {
        return Ok(());
    }
    let rows = batch.into_iter().map(|(id, c)| response::ActiveModel {
        id: Set(id),
        questionnaire_version_id: Set(c.questionnaire_version_id),
        cpp_id: Set(c.cpp_id),
        school_id: Set(c.school_id),
        stage: Set(Text(c.stage)),
        sex: Set(c.sex),
        completed_on: Set(c.completed_on),
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
