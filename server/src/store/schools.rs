//! CPPs and schools.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};

use super::entities::{cpp, school};

pub use cpp::Model as Cpp;
pub use school::Model as School;

/// A school as created or imported. Rolls are per stage, P5 to S4.
#[derive(Debug, Clone)]
pub struct NewSchool {
    pub cpp_id: i32,
    pub seed_code: String,
    pub name: String,
    pub sector: String,
    pub rolls: [i32; 7],
    pub is_demo: bool,
}

pub async fn create_school(db: &impl ConnectionTrait, new: NewSchool) -> Result<School, DbErr> {
    let [p5, p6, p7, s1, s2, s3, s4] = new.rolls;
    school::ActiveModel {
        cpp_id: Set(new.cpp_id),
        seed_code: Set(new.seed_code),
        name: Set(new.name),
        sector: Set(new.sector),
        is_demo: Set(new.is_demo),
        roll_p5: Set(p5),
        roll_p6: Set(p6),
        roll_p7: Set(p7),
        roll_s1: Set(s1),
        roll_s2: Set(s2),
        roll_s3: Set(s3),
        roll_s4: Set(s4),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn school_by_seed(
    db: &impl ConnectionTrait,
    seed: &str,
) -> Result<Option<School>, DbErr> {
    school::Entity::find()
        .filter(school::Column::SeedCode.eq(seed))
        .one(db)
        .await
}

pub async fn school(db: &impl ConnectionTrait, id: i32) -> Result<Option<School>, DbErr> {
    school::Entity::find_by_id(id).one(db).await
}

pub async fn schools_of_cpp(db: &impl ConnectionTrait, cpp_id: i32) -> Result<Vec<School>, DbErr> {
    school::Entity::find()
        .filter(school::Column::CppId.eq(cpp_id))
        .order_by_asc(school::Column::Name)
        .all(db)
        .await
}

pub async fn all_cpps(db: &impl ConnectionTrait) -> Result<Vec<Cpp>, DbErr> {
    cpp::Entity::find()
        .order_by_asc(cpp::Column::Name)
        .all(db)
        .await
}

pub async fn cpp(db: &impl ConnectionTrait, id: i32) -> Result<Option<Cpp>, DbErr> {
    cpp::Entity::find_by_id(id).one(db).await
}

pub async fn cpp_by_code(db: &impl ConnectionTrait, gss_code: &str) -> Result<Option<Cpp>, DbErr> {
    cpp::Entity::find()
        .filter(cpp::Column::GssCode.eq(gss_code))
        .one(db)
        .await
}

pub async fn create_cpp(
    db: &impl ConnectionTrait,
    gss_code: &str,
    name: &str,
    is_demo: bool,
) -> Result<Cpp, DbErr> {
    cpp::ActiveModel {
        gss_code: Set(gss_code.to_owned()),
        name: Set(name.to_owned()),
        is_demo: Set(is_demo),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// A school's rolls, P5 to S4, in [`survey_defs::Stage::ALL`] order.
pub fn rolls_of(school: &School) -> [i32; 7] {
    [
        school.roll_p5,
        school.roll_p6,
        school.roll_p7,
        school.roll_s1,
        school.roll_s2,
        school.roll_s3,
        school.roll_s4,
    ]
}

/// A school's roll for one stage.
pub fn roll_of(school: &School, stage: survey_defs::Stage) -> i32 {
    let at = survey_defs::Stage::ALL
        .iter()
        .position(|s| *s == stage)
        .unwrap_or_default();
    rolls_of(school)[at]
}
