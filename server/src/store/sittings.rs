//! Sittings and their codes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{access_code, sitting};
use super::schools::School;
use crate::domain::CodeState;
use crate::domain::Signpost;
use crate::store::{Json, Text};
use survey_defs::Stage;

pub use sitting::Model as Sitting;

/// What a new sitting needs.
#[derive(Debug, Clone)]
pub struct NewSitting {
    pub school_id: i32,
    pub cpp_id: i32,
    pub stage: Text<Stage>,
    pub label: String,
    pub questionnaire_version_id: i32,
    /// The wave the sitting belongs to (its questionnaire version is the
    /// wave's).
    pub wave_id: i32,
    /// Ids of the modules switched off, copied from the partnership's settings.
    pub disabled_modules: Json<Vec<String>>,
    /// Where pupils can turn for help, copied likewise.
    pub signposting: Json<Vec<Signpost>>,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub mop_up_of: Option<i32>,
    pub created_by: Option<i32>,
    pub is_demo: bool,
}

impl NewSitting {
    /// A sitting at `school` for `stage` in a wave (and its questionnaire
    /// version), open now and with no end, with no module switched off and
    /// no signposting; set the other fields with struct update syntax
    /// (`NewSitting { closes_at, ..NewSitting::new(..) }`).
    pub fn new(school: &School, stage: Stage, questionnaire_version_id: i32, wave_id: i32) -> Self {
        Self {
            school_id: school.id,
            cpp_id: school.cpp_id,
            stage: Text(stage),
            label: format!("{stage} sitting"),
            questionnaire_version_id,
            wave_id,
            disabled_modules: Json(Vec::new()),
            signposting: Json(Vec::new()),
            opens_at: None,
            closes_at: None,
            mop_up_of: None,
            created_by: None,
            is_demo: school.is_demo,
        }
    }
}

pub async fn create(db: &impl ConnectionTrait, new: NewSitting) -> Result<Sitting, DbErr> {
    sitting::ActiveModel {
        school_id: Set(new.school_id),
        cpp_id: Set(new.cpp_id),
        stage: Set(new.stage),
        label: Set(new.label),
        questionnaire_version_id: Set(new.questionnaire_version_id),
        wave_id: Set(new.wave_id),
        disabled_modules: Set(new.disabled_modules),
        signposting: Set(new.signposting),
        opens_at: Set(new.opens_at),
        closes_at: Set(new.closes_at),
        closed_at: Set(None),
        mop_up_of: Set(new.mop_up_of),
        created_by: Set(new.created_by),
        is_demo: Set(new.is_demo),
        created_at: Set(Utc::now()),
        opted_out: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Stores codes (as keyed hashes) for a sitting, in chunks.
pub async fn add_codes(
    db: &impl ConnectionTrait,
    sitting_id: i32,
    code_hashes: &[String],
) -> Result<(), DbErr> {
    for chunk in code_hashes.chunks(500) {
        let models = chunk.iter().map(|hash| access_code::ActiveModel {
            sitting_id: Set(sitting_id),
            code_hash: Set(hash.clone()),
            state: Set(Text(CodeState::Unused)),
            response_id: Set(None),
            ..Default::default()
        });
        access_code::Entity::insert_many(models)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<Option<Sitting>, DbErr> {
    sitting::Entity::find_by_id(id).one(db).await
}

pub async fn of_school(db: &impl ConnectionTrait, school_id: i32) -> Result<Vec<Sitting>, DbErr> {
    sitting::Entity::find()
        .filter(sitting::Column::SchoolId.eq(school_id))
        .order_by_desc(sitting::Column::CreatedAt)
        .all(db)
        .await
}

/// Marks a sitting closed (idempotent). In-progress responses are ended
/// separately by the survey service.
pub async fn mark_closed(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    sitting::Entity::update_many()
        .col_expr(sitting::Column::ClosedAt, Expr::value(Utc::now()))
        .filter(sitting::Column::Id.eq(id))
        .filter(sitting::Column::ClosedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Voids a code by its keyed hash, if it was never used. Returns whether it was.
pub async fn void_code(
    db: &impl ConnectionTrait,
    sitting_id: i32,
    code_hash: &str,
) -> Result<bool, DbErr> {
    let result = access_code::Entity::update_many()
        .col_expr(
            access_code::Column::State,
            Expr::value(CodeState::Voided.as_str()),
        )
        .filter(access_code::Column::SittingId.eq(sitting_id))
        .filter(access_code::Column::CodeHash.eq(code_hash))
        .filter(access_code::Column::State.eq(CodeState::Unused.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Counts of codes per state for a sitting: the only view staff get of pupils.
pub async fn progress_counts(
    db: &impl ConnectionTrait,
    sitting_id: i32,
) -> Result<Vec<(Text<CodeState>, i64)>, DbErr> {
    access_code::Entity::find()
        .select_only()
        .column(access_code::Column::State)
        .column_as(access_code::Column::Id.count(), "n")
        .filter(access_code::Column::SittingId.eq(sitting_id))
        .group_by(access_code::Column::State)
        .into_tuple::<(Text<CodeState>, i64)>()
        .all(db)
        .await
}

/// Sittings whose close time has passed but which are not closed yet.
pub async fn due_to_close(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Vec<i32>, DbErr> {
    sitting::Entity::find()
        .select_only()
        .column(sitting::Column::Id)
        .filter(sitting::Column::ClosedAt.is_null())
        .filter(sitting::Column::ClosesAt.lte(now))
        .into_tuple::<i32>()
        .all(db)
        .await
}

/// Records how many pupils of a sitting were opted out by their parents.
pub async fn set_opted_out(db: &impl ConnectionTrait, id: i32, count: i32) -> Result<(), DbErr> {
    sitting::Entity::update_many()
        .col_expr(sitting::Column::OptedOut, Expr::value(count))
        .filter(sitting::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Pupils opted out at a school, per wave and stage, over all its sittings.
pub async fn opted_out_by_stage(
    db: &impl ConnectionTrait,
    school_id: i32,
) -> Result<Vec<(i32, Text<Stage>, i64)>, DbErr> {
    sitting::Entity::find()
        .select_only()
        .column(sitting::Column::WaveId)
        .column(sitting::Column::Stage)
        .column_as(sitting::Column::OptedOut.sum(), "n")
        .filter(sitting::Column::SchoolId.eq(school_id))
        .group_by(sitting::Column::WaveId)
        .group_by(sitting::Column::Stage)
        .into_tuple::<(i32, Text<Stage>, Option<i64>)>()
        .all(db)
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|(w, s, n)| (w, s, n.unwrap_or(0)))
                .collect()
        })
}

/// Pupils opted out on the other sittings of the same school, stage and
/// wave as `sitting`.
pub async fn opted_out_elsewhere(
    db: &impl ConnectionTrait,
    sitting: &Sitting,
) -> Result<i64, DbErr> {
    let sum = sitting::Entity::find()
        .select_only()
        .column_as(sitting::Column::OptedOut.sum(), "n")
        .filter(sitting::Column::SchoolId.eq(sitting.school_id))
        .filter(sitting::Column::Stage.eq(sitting.stage.0.to_string()))
        .filter(sitting::Column::WaveId.eq(sitting.wave_id))
        .filter(sitting::Column::Id.ne(sitting.id))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?;
    Ok(sum.flatten().unwrap_or(0))
}
