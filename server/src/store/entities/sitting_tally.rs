//! The `sitting_tally` table: how many responses of a sitting ended each way.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sitting_tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sitting_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub ending: String,
    pub n: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
