//! Per-partnership settings: switched-off modules, signposting and the
//! fieldwork window. Sittings copy them when created, so a change applies to
//! new sittings only.

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};

use super::entities::cpp_setting;
use crate::domain::Signpost;
use crate::store::Json;

pub use cpp_setting::Model as CppSetting;

pub async fn get(db: &impl ConnectionTrait, cpp_id: i32) -> Result<Option<CppSetting>, DbErr> {
    cpp_setting::Entity::find_by_id(cpp_id).one(db).await
}

/// Settings to store.
#[derive(Debug, Clone)]
pub struct NewSetting {
    pub disabled_modules: Vec<String>,
    pub signposting: Vec<Signpost>,
    pub fieldwork_opens: Option<NaiveDate>,
    pub fieldwork_closes: Option<NaiveDate>,
}

pub async fn save(db: &impl ConnectionTrait, cpp_id: i32, new: NewSetting) -> Result<(), DbErr> {
    let model = cpp_setting::ActiveModel {
        cpp_id: Set(cpp_id),
        disabled_modules: Set(Json(new.disabled_modules)),
        signposting: Set(Json(new.signposting)),
        fieldwork_opens: Set(new.fieldwork_opens),
        fieldwork_closes: Set(new.fieldwork_closes),
        updated_at: Set(Utc::now()),
    };
    cpp_setting::Entity::insert(model)
        .on_conflict(
            OnConflict::column(cpp_setting::Column::CppId)
                .update_columns([
                    cpp_setting::Column::DisabledModules,
                    cpp_setting::Column::Signposting,
                    cpp_setting::Column::FieldworkOpens,
                    cpp_setting::Column::FieldworkCloses,
                    cpp_setting::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
