//! The `school` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "school")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub cpp_id: i32,
    pub seed_code: String,
    pub name: String,
    pub sector: String,
    pub is_demo: bool,
    pub roll_p5: i32,
    pub roll_p6: i32,
    pub roll_p7: i32,
    pub roll_s1: i32,
    pub roll_s2: i32,
    pub roll_s3: i32,
    pub roll_s4: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
