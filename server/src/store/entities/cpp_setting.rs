//! The `cpp_setting` table.

use sea_orm::entity::prelude::*;

use crate::domain::Signpost;
use crate::store::Json;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cpp_setting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cpp_id: i32,
    pub disabled_modules: Json<Vec<String>>,
    pub signposting: Json<Vec<Signpost>>,
    pub updated_at: DateTimeUtc,
    pub controller_name: String,
    pub dpo_contact: String,
    pub lawful_basis: String,
    pub retention: String,
    pub accessibility_contact: String,
    pub accessibility_status: String,
    pub accessibility_issues: String,
    pub statement_prepared: Option<Date>,
    /// Locale codes offered to pupils besides the questionnaire's own.
    pub languages: Json<Vec<String>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
