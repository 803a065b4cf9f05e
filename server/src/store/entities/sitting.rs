//! The `sitting` table.

use sea_orm::entity::prelude::*;
use survey_defs::Stage;

use crate::domain::Signpost;
use crate::store::{Json, Text};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sitting")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    pub cpp_id: i32,
    pub stage: Text<Stage>,
    pub label: String,
    pub questionnaire_version_id: i32,
    /// The survey wave the sitting belongs to.
    pub wave_id: i32,
    pub disabled_modules: Json<Vec<String>>,
    pub signposting: Json<Vec<Signpost>>,
    pub opens_at: Option<DateTimeUtc>,
    pub closes_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub mop_up_of: Option<i32>,
    pub created_by: Option<i32>,
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    /// Pupils of the class whose parents opted them out: a count, never
    /// names. Response rates take it off the roll.
    pub opted_out: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
