//! The `response` table.

use sea_orm::entity::prelude::*;
use survey_defs::Stage;

use crate::store::Text;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub questionnaire_version_id: i32,
    /// The wave of the sitting it was given in.
    pub wave_id: Option<i32>,
    pub cpp_id: i32,
    pub school_id: i32,
    pub stage: Text<Stage>,
    pub sex: Option<String>,
    pub completed_on: Date,
    pub partial: bool,
    pub answers: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
