//! Survey waves and their fieldwork windows.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Set,
};

use super::entities::{sitting, wave, wave_window};

pub use wave::Model as WaveRow;
pub use wave_window::Model as WindowRow;

/// A wave to store.
#[derive(Debug, Clone)]
pub struct NewWave {
    pub name: String,
    pub questionnaire_version_id: i32,
    pub rule: String,
    pub is_demo: bool,
}

pub async fn create(db: &impl ConnectionTrait, new: NewWave) -> Result<WaveRow, DbErr> {
    wave::ActiveModel {
        name: Set(new.name),
        questionnaire_version_id: Set(new.questionnaire_version_id),
        rule: Set(new.rule),
        is_demo: Set(new.is_demo),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<WaveRow>, DbErr> {
    wave::Entity::find_by_id(id).one(db).await
}

pub async fn by_name(db: &impl ConnectionTrait, name: &str) -> Result<Option<WaveRow>, DbErr> {
    wave::Entity::find()
        .filter(wave::Column::Name.eq(name))
        .one(db)
        .await
}

/// Every wave, newest first.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<WaveRow>, DbErr> {
    wave::Entity::find()
        .order_by_desc(wave::Column::CreatedAt)
        .order_by_desc(wave::Column::Id)
        .all(db)
        .await
}

pub async fn rename(db: &impl ConnectionTrait, id: i32, name: &str) -> Result<(), DbErr> {
    wave::Entity::update_many()
        .col_expr(wave::Column::Name, Expr::value(name))
        .filter(wave::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A wave's windows, one per partnership that has one.
pub async fn windows(db: &impl ConnectionTrait, wave_id: i32) -> Result<Vec<WindowRow>, DbErr> {
    wave_window::Entity::find()
        .filter(wave_window::Column::WaveId.eq(wave_id))
        .order_by_asc(wave_window::Column::CppId)
        .all(db)
        .await
}

pub async fn window(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_id: i32,
) -> Result<Option<WindowRow>, DbErr> {
    wave_window::Entity::find_by_id((wave_id, cpp_id))
        .one(db)
        .await
}

/// Sets a partnership's window in a wave (made or replaced).
pub async fn set_window(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_id: i32,
    opens: NaiveDate,
    closes: NaiveDate,
) -> Result<(), DbErr> {
    wave_window::Entity::insert(wave_window::ActiveModel {
        wave_id: Set(wave_id),
        cpp_id: Set(cpp_id),
        opens: Set(opens),
        closes: Set(closes),
    })
    .on_conflict(
        OnConflict::columns([wave_window::Column::WaveId, wave_window::Column::CppId])
            .update_columns([wave_window::Column::Opens, wave_window::Column::Closes])
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The windows of a partnership whose last day is `today` or later, with
/// their waves, the soonest closing first.
pub async fn current_for(
    db: &impl ConnectionTrait,
    cpp_id: i32,
    today: NaiveDate,
) -> Result<Vec<(WaveRow, WindowRow)>, DbErr> {
    let windows = wave_window::Entity::find()
        .filter(wave_window::Column::CppId.eq(cpp_id))
        .filter(wave_window::Column::Closes.gte(today))
        .order_by_asc(wave_window::Column::Closes)
        .all(db)
        .await?;
    let mut current = Vec::with_capacity(windows.len());
    for window in windows {
        if let Some(wave) = by_id(db, window.wave_id).await? {
            current.push((wave, window));
        }
    }
    Ok(current)
}

/// Brings the end of every open sitting of a wave at a partnership forward
/// to `closes_at` where it ends later (or has no end). Returns how many.
pub async fn clamp_sittings(
    db: &impl ConnectionTrait,
    wave_id: i32,
    cpp_id: i32,
    closes_at: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let result = sitting::Entity::update_many()
        .col_expr(sitting::Column::ClosesAt, Expr::value(closes_at))
        .filter(sitting::Column::WaveId.eq(wave_id))
        .filter(sitting::Column::CppId.eq(cpp_id))
        .filter(sitting::Column::ClosedAt.is_null())
        .filter(
            Condition::any()
                .add(sitting::Column::ClosesAt.is_null())
                .add(sitting::Column::ClosesAt.gt(closes_at)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
