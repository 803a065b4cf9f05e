//! Per-partnership settings: switched-off modules and signposting, which
//! sittings copy when created (so a change applies to
//! new sittings only), what the partnership's public notices say, and the
//! languages its pupils may choose (read when a pupil enters a code).

use chrono::Utc;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Set};

use super::entities::cpp_setting;
use crate::domain::{Compliance, Notices, Signpost};
use crate::store::Json;

pub use cpp_setting::Model as CppSetting;

pub async fn get(db: &impl ConnectionTrait, cpp_id: i32) -> Result<Option<CppSetting>, DbErr> {
    cpp_setting::Entity::find_by_id(cpp_id).one(db).await
}

/// Every language some partnership offers, each once, in code order: what
/// the code page offers before it knows the pupil's partnership.
pub async fn languages_offered_anywhere(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let lists: Vec<Json<Vec<String>>> = cpp_setting::Entity::find()
        .select_only()
        .column(cpp_setting::Column::Languages)
        .into_tuple()
        .all(db)
        .await?;
    let mut all: Vec<String> = lists.into_iter().flat_map(|l| l.0).collect();
    all.sort();
    all.dedup();
    Ok(all)
}

/// Settings to store.
#[derive(Debug, Clone)]
pub struct NewSetting {
    pub disabled_modules: Vec<String>,
    pub signposting: Vec<Signpost>,
    pub notices: Notices,
    pub languages: Vec<String>,
}

/// What a stored row says for the partnership's notices.
pub fn notices_of(setting: &CppSetting) -> Notices {
    Notices {
        controller_name: setting.controller_name.clone(),
        dpo_contact: setting.dpo_contact.clone(),
        lawful_basis: setting.lawful_basis.clone(),
        retention: setting.retention.clone(),
        accessibility_contact: setting.accessibility_contact.clone(),
        accessibility_issues: setting.accessibility_issues.clone(),
        accessibility_status: Compliance::parse(&setting.accessibility_status),
        statement_prepared: setting.statement_prepared,
    }
}

pub async fn save(db: &impl ConnectionTrait, cpp_id: i32, new: NewSetting) -> Result<(), DbErr> {
    let model = cpp_setting::ActiveModel {
        cpp_id: Set(cpp_id),
        disabled_modules: Set(Json(new.disabled_modules)),
        signposting: Set(Json(new.signposting)),
        updated_at: Set(Utc::now()),
        controller_name: Set(new.notices.controller_name),
        dpo_contact: Set(new.notices.dpo_contact),
        lawful_basis: Set(new.notices.lawful_basis),
        retention: Set(new.notices.retention),
        accessibility_contact: Set(new.notices.accessibility_contact),
        accessibility_status: Set(new
            .notices
            .accessibility_status
            .map_or("", Compliance::as_str)
            .to_owned()),
        accessibility_issues: Set(new.notices.accessibility_issues),
        statement_prepared: Set(new.notices.statement_prepared),
        languages: Set(Json(new.languages)),
    };
    cpp_setting::Entity::insert(model)
        .on_conflict(
            OnConflict::column(cpp_setting::Column::CppId)
                .update_columns([
                    cpp_setting::Column::DisabledModules,
                    cpp_setting::Column::Signposting,
                    cpp_setting::Column::UpdatedAt,
                    cpp_setting::Column::ControllerName,
                    cpp_setting::Column::DpoContact,
                    cpp_setting::Column::LawfulBasis,
                    cpp_setting::Column::Retention,
                    cpp_setting::Column::AccessibilityContact,
                    cpp_setting::Column::AccessibilityStatus,
                    cpp_setting::Column::AccessibilityIssues,
                    cpp_setting::Column::StatementPrepared,
                    cpp_setting::Column::Languages,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}
