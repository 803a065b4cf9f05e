//! The `response_held` table: finished responses waiting to be released
//! into `response` with others of their sitting.

use sea_orm::entity::prelude::*;
use survey_defs::Stage;

use crate::store::Text;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response_held")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sitting_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub questionnaire_version_id: i32,
    pub cpp_id: i32,
    pub school_id: i32,
    pub stage: Text<Stage>,
    pub sex: Option<String>,
    pub partial: bool,
    pub answers: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
