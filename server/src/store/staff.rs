//! Staff accounts, their session versions and reset tokens; school upserts for
//! imports; and the counts staff may see of responses.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{response, response_held, school, sitting, staff_user};
use super::schools::{NewSchool, School};
use crate::domain::Role;
use crate::store::Text;

pub use staff_user::Model as StaffRow;

/// A staff account to create. E-mail addresses are stored lower-cased.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub cpp_id: Option<i32>,
    pub school_id: Option<i32>,
    pub is_demo: bool,
}

pub async fn create(db: &impl ConnectionTrait, new: NewStaff) -> Result<StaffRow, DbErr> {
    staff_user::ActiveModel {
        email: Set(new.email.trim().to_lowercase()),
        password_hash: Set(new.password_hash),
        role: Set(Text(new.role)),
        cpp_id: Set(new.cpp_id),
        school_id: Set(new.school_id),
        active: Set(true),
        is_demo: Set(new.is_demo),
        session_version: Set(0),
        reset_token_hash: Set(None),
        reset_expires_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn by_email(db: &impl ConnectionTrait, email: &str) -> Result<Option<StaffRow>, DbErr> {
    staff_user::Entity::find()
        .filter(staff_user::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await
}

pub async fn by_id(db: &impl ConnectionTrait, id: i32) -> Result<Option<StaffRow>, DbErr> {
    staff_user::Entity::find_by_id(id).one(db).await
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StaffRow>, DbErr> {
    staff_user::Entity::find()
        .order_by_asc(staff_user::Column::Email)
        .all(db)
        .await
}

/// The account's session version plus one: sessions started under the
/// version before are refused from then on.
fn next_session_version() -> sea_orm::sea_query::SimpleExpr {
    Expr::col(staff_user::Column::SessionVersion).add(1)
}

/// Ends every session of an account: sessions started under an older
/// version are refused from now on.
pub async fn end_sessions(db: &impl ConnectionTrait, id: i32) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::SessionVersion, next_session_version())
        .filter(staff_user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets a new password hash; any reset link is cleared and every session
/// of the account ends with it.
pub async fn set_password(db: &impl ConnectionTrait, id: i32, hash: &str) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::PasswordHash, Expr::value(hash))
        .col_expr(
            staff_user::Column::ResetTokenHash,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            staff_user::Column::ResetExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(staff_user::Column::SessionVersion, next_session_version())
        .filter(staff_user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Replaces a password hash with one of the same password at the current
/// cost, unless the password has been changed since `old` was read.
pub async fn upgrade_password_hash(
    db: &impl ConnectionTrait,
    id: i32,
    old: &str,
    new: &str,
) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::PasswordHash, Expr::value(new))
        .filter(staff_user::Column::Id.eq(id))
        .filter(staff_user::Column::PasswordHash.eq(old))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores the hash of a one-time reset token and when it stops working.
pub async fn set_reset_token(
    db: &impl ConnectionTrait,
    id: i32,
    token_hash: &str,
    expires: DateTime<Utc>,
) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::ResetTokenHash, Expr::value(token_hash))
        .col_expr(staff_user::Column::ResetExpiresAt, Expr::value(expires))
        .filter(staff_user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The active account a reset token belongs to, if it has not expired.
pub async fn by_reset_token(
    db: &impl ConnectionTrait,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<StaffRow>, DbErr> {
    staff_user::Entity::find()
        .filter(staff_user::Column::ResetTokenHash.eq(token_hash))
        .filter(staff_user::Column::ResetExpiresAt.gt(now))
        .filter(staff_user::Column::Active.eq(true))
        .one(db)
        .await
}

/// Gives an account another role and scope; every session of it ends.
pub async fn set_role(
    db: &impl ConnectionTrait,
    id: i32,
    role: Role,
    cpp_id: Option<i32>,
    school_id: Option<i32>,
) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::Role, Expr::value(role.as_str()))
        .col_expr(staff_user::Column::CppId, Expr::value(cpp_id))
        .col_expr(staff_user::Column::SchoolId, Expr::value(school_id))
        .col_expr(staff_user::Column::SessionVersion, next_session_version())
        .filter(staff_user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Enables or disables an account; every session of it ends either way.
pub async fn set_active(db: &impl ConnectionTrait, id: i32, active: bool) -> Result<(), DbErr> {
    staff_user::Entity::update_many()
        .col_expr(staff_user::Column::Active, Expr::value(active))
        .col_expr(staff_user::Column::SessionVersion, next_session_version())
        .filter(staff_user::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Creates a school, or updates the one with the same SEED code. Returns
/// whether it was new.
pub async fn upsert_school(db: &impl ConnectionTrait, new: NewSchool) -> Result<bool, DbErr> {
    let existing = school::Entity::find()
        .filter(school::Column::SeedCode.eq(new.seed_code.as_str()))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        super::schools::create_school(db, new).await?;
        return Ok(true);
    };
    let [p5, p6, p7, s1, s2, s3, s4] = new.rolls;
    let mut model: school::ActiveModel = existing.into();
    model.cpp_id = Set(new.cpp_id);
    model.name = Set(new.name);
    model.sector = Set(new.sector);
    model.roll_p5 = Set(p5);
    model.roll_p6 = Set(p6);
    model.roll_p7 = Set(p7);
    model.roll_s1 = Set(s1);
    model.roll_s2 = Set(s2);
    model.roll_s3 = Set(s3);
    model.roll_s4 = Set(s4);
    model.update(db).await?;
    Ok(false)
}

pub async fn all_schools(db: &impl ConnectionTrait) -> Result<Vec<School>, DbErr> {
    school::Entity::find()
        .order_by_asc(school::Column::Name)
        .all(db)
        .await
}

/// Completed responses per wave and stage at a school, as (wave, stage,
/// partial, count), released or still held with others of their sitting
/// (whose wave they take): counts only, never an answer.
pub async fn responses_by_stage(
    db: &impl ConnectionTrait,
    school_id: i32,
) -> Result<Vec<(Option<i32>, String, bool, i64)>, DbErr> {
    let released = response::Entity::find()
        .select_only()
        .column(response::Column::WaveId)
        .column(response::Column::Stage)
        .column(response::Column::Partial)
        .column_as(response::Column::Id.count(), "n")
        .filter(response::Column::SchoolId.eq(school_id))
        .group_by(response::Column::WaveId)
        .group_by(response::Column::Stage)
        .group_by(response::Column::Partial)
        .into_tuple::<(Option<i32>, String, bool, i64)>()
        .all(db)
        .await?;
    let (h, st) = (response_held::Entity, sitting::Entity);
    let query = sea_orm::sea_query::Query::select()
        .column((st, sitting::Column::WaveId))
        .column((h, response_held::Column::Stage))
        .column((h, response_held::Column::Partial))
        .expr_as(Expr::col((h, response_held::Column::Id)).count(), "n")
        .from(h)
        .inner_join(
            st,
            Expr::col((st, sitting::Column::Id)).equals((h, response_held::Column::SittingId)),
        )
        .and_where(Expr::col((h, response_held::Column::SchoolId)).eq(school_id))
        .group_by_col((st, sitting::Column::WaveId))
        .group_by_col((h, response_held::Column::Stage))
        .group_by_col((h, response_held::Column::Partial))
        .to_owned();
    let mut held = Vec::new();
    for row in db.query_all(&query).await? {
        held.push((
            Some(row.try_get::<i32>("", "wave_id")?),
            row.try_get::<String>("", "stage")?,
            row.try_get::<bool>("", "partial")?,
            row.try_get::<i64>("", "n")?,
        ));
    }
    let mut counts: std::collections::BTreeMap<(Option<i32>, String, bool), i64> =
        Default::default();
    for (wave, stage, partial, n) in released.into_iter().chain(held) {
        *counts.entry((wave, stage, partial)).or_default() += n;
    }
    Ok(counts
        .into_iter()
        .map(|((wave, stage, partial), n)| (wave, stage, partial, n))
        .collect())
}
