//! The `wave_window` table: a partnership's fieldwork days in a wave.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wave_window")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub wave_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub cpp_id: i32,
    /// The first day of fieldwork.
    pub opens: Date,
    /// The last day of fieldwork: sittings close at its end at the latest.
    pub closes: Date,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
