//! The `questionnaire_version` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "questionnaire_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub questionnaire_id: String,
    pub version: i32,
    pub content_hash: String,
    pub title: String,
    pub source: String,
    pub loaded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
