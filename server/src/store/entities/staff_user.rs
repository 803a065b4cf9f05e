//! The `staff_user` table.

use sea_orm::entity::prelude::*;

use crate::domain::Role;
use crate::store::Text;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub email: String,
    pub password_hash: String,
    pub role: Text<Role>,
    pub cpp_id: Option<i32>,
    pub school_id: Option<i32>,
    pub active: bool,
    pub is_demo: bool,
    /// Goes up whenever every session of the account must end.
    pub session_version: i32,
    pub reset_token_hash: Option<String>,
    pub reset_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
