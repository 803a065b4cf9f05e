//! Stored questionnaire versions. The source text of every version is kept, so a
//! version that sittings and responses refer to can always be read back, and a
//! version is identified by its content hash as well as its number.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::entities::{questionnaire_version, response, sitting};

pub use questionnaire_version::Model as StoredVersion;

/// What happened when a questionnaire file was offered to the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A version not seen before was stored.
    New(i32),
    /// The same version with the same content was already there.
    Unchanged(i32),
    /// The content changed, but nothing refers to the version yet, so it was updated.
    Updated(i32),
    /// The content changed after sittings or responses began to use it.
    ChangedInUse { id: i32, stored_hash: String },
}

pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<StoredVersion>, DbErr> {
    questionnaire_version::Entity::find()
        .order_by_asc(questionnaire_version::Column::QuestionnaireId)
        .order_by_asc(questionnaire_version::Column::Version)
        .all(db)
        .await
}

/// Stores a questionnaire version, or checks it against the stored one.
pub async fn register(
    db: &impl ConnectionTrait,
    questionnaire_id: &str,
    version: i32,
    content_hash: &str,
    title: &str,
    source: &str,
) -> Result<Registered, DbErr> {
    let existing = questionnaire_version::Entity::find()
        .filter(questionnaire_version::Column::QuestionnaireId.eq(questionnaire_id))
        .filter(questionnaire_version::Column::Version.eq(version))
        .one(db)
        .await?;
    let Some(existing) = existing else {
        let stored = questionnaire_version::ActiveModel {
            questionnaire_id: Set(questionnaire_id.to_owned()),
            version: Set(version),
            content_hash: Set(content_hash.to_owned()),
            title: Set(title.to_owned()),
            source: Set(source.to_owned()),
            loaded_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(db)
        .await?;
        return Ok(Registered::New(stored.id));
    };
    if existing.content_hash == content_hash {
        return Ok(Registered::Unchanged(existing.id));
    }
    if in_use(db, existing.id).await? {
        return Ok(Registered::ChangedInUse {
            id: existing.id,
            stored_hash: existing.content_hash,
        });
    }
    let id = existing.id;
    let mut changed: questionnaire_version::ActiveModel = existing.into();
    changed.content_hash = Set(content_hash.to_owned());
    changed.title = Set(title.to_owned());
    changed.source = Set(source.to_owned());
    changed.loaded_at = Set(Utc::now());
    changed.update(db).await?;
    Ok(Registered::Updated(id))
}

/// Whether any sitting or response refers to the version.
async fn in_use(db: &impl ConnectionTrait, version_id: i32) -> Result<bool, DbErr> {
    let responses = response::Entity::find()
        .filter(response::Column::QuestionnaireVersionId.eq(version_id))
        .count(db)
        .await?;
    if responses > 0 {
        return Ok(true);
    }
    let sittings = sitting::Entity::find()
        .filter(sitting::Column::QuestionnaireVersionId.eq(version_id))
        .count(db)
        .await?;
    Ok(sittings > 0)
}
