//! Releases: results computed once per wave and partnership (or Scotland),
//! stored with their manifest, and served as stored.
//!
//! - `response.wave_id`: the wave a response was given in, so that results
//!   of one round of the survey never pool another's. Existing responses
//!   join the earliest wave of their questionnaire version; responses of a
//!   version no wave uses join a new "Before waves: …" wave whose windows
//!   cover the weeks they are dated in.
//! - `result_release`: one release of one wave for one partnership
//!   (`cpp_id`, and its GSS code in `unit`) or Scotland (`cpp_id` null,
//!   `unit` "All"), numbered from 1 within its wave and unit, with the rule it was made under, the fingerprint of the
//!   responses it counted, who made it and when, and its manifest.
//! - `result_release_file`: the files of a release, byte for byte, each
//!   with its SHA-256.
//!
//! Going down drops the releases and `response.wave_id`; waves made on the
//! way up stay, as any other wave would.

use std::collections::BTreeMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::Date;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The exporter's default rule, as the exporter writes it.
const DEFAULT_RULE: &str =
    r#"{"threshold":10,"publish_zeros":true,"singleton_protection":true,"range_min":null}"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("response")
                    .add_column(integer_null("wave_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("result_release")
                    .col(pk_auto("id"))
                    .col(integer("wave_id"))
                    .col(integer_null("cpp_id"))
                    .col(string_len("unit", 16))
                    .col(integer("number"))
                    .col(text("rule"))
                    .col(string_len("sources", 64))
                    .col(integer_null("released_by_id"))
                    .col(string_len("released_by", 320))
                    .col(timestamp_with_time_zone("released_at"))
                    .col(text("manifest"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("result_release", "wave_id")
                            .to("wave", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("result_release", "cpp_id")
                            .to("cpp", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("result_release_number")
                    .table("result_release")
                    .col("wave_id")
                    .col("unit")
                    .col("number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("result_release_file")
                    .col(integer("release_id"))
                    .col(string_len("name", 64))
                    .col(string_len("sha256", 64))
                    .col(big_integer("size"))
                    .col(blob("content"))
                    .primary_key(Index::create().col("release_id").col("name"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("result_release_file", "release_id")
                            .to("result_release", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        move_responses_into_waves(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("result_release_file").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("result_release").to_owned())
            .await?;
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE \"response\" DROP COLUMN \"wave_id\"")
            .await?;
        Ok(())
    }
}

/// Every response into the earliest wave of its questionnaire version, after
/// making a wave for each version that has responses but no wave.
async fn move_responses_into_waves(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT r.questionnaire_version_id AS version_id, r.cpp_id AS cpp_id, \
             MIN(r.completed_on) AS first, MAX(r.completed_on) AS last, \
             q.questionnaire_id AS questionnaire, q.version AS version \
             FROM response r JOIN questionnaire_version q ON q.id = r.questionnaire_version_id \
             WHERE NOT EXISTS (SELECT 1 FROM wave w \
                               WHERE w.questionnaire_version_id = r.questionnaire_version_id) \
             GROUP BY r.questionnaire_version_id, r.cpp_id, q.questionnaire_id, q.version",
        ))
        .await?;
    // (version id) -> (name, cpp -> (first, last))
    type Windows = BTreeMap<i32, (Date, Date)>;
    let mut waves: BTreeMap<i32, (String, Windows)> = BTreeMap::new();
    for row in &rows {
        let version_id: i32 = row.try_get("", "version_id")?;
        let cpp_id: i32 = row.try_get("", "cpp_id")?;
        let first: Date = row.try_get("", "first")?;
        let last: Date = row.try_get("", "last")?;
        let questionnaire: String = row.try_get("", "questionnaire")?;
        let version: i32 = row.try_get("", "version")?;
        waves
            .entry(version_id)
            .or_insert_with(|| {
                (
                    format!("Before waves: {questionnaire} version {version}"),
                    BTreeMap::new(),
                )
            })
            .1
            // A response is dated to the Monday of its week.
            .insert(cpp_id, (first, last + chrono::Duration::days(6)));
    }
    let now = chrono::Utc::now();
    for (version_id, (name, windows)) in waves {
        let insert = Query::insert()
            .into_table("wave")
            .columns([
                "name",
                "questionnaire_version_id",
                "rule",
                "is_demo",
                "created_at",
            ])
            .values_panic([
                name.clone().into(),
                version_id.into(),
                DEFAULT_RULE.into(),
                false.into(),
                now.into(),
            ])
            .to_owned();
        db.execute(&insert).await?;
        let select = Query::select()
            .column("id")
            .from("wave")
            .and_where(Expr::col("name").eq(name))
            .to_owned();
        let row = db
            .query_one(&select)
            .await?
            .ok_or_else(|| DbErr::Custom("the wave just made is missing".into()))?;
        let wave_id: i32 = row.try_get("", "id")?;
        for (cpp_id, (opens, closes)) in windows {
            let insert = Query::insert()
                .into_table("wave_window")
                .columns(["wave_id", "cpp_id", "opens", "closes"])
                .values_panic([wave_id.into(), cpp_id.into(), opens.into(), closes.into()])
                .to_owned();
            db.execute(&insert).await?;
        }
    }
    db.execute_unprepared(
        "UPDATE \"response\" SET \"wave_id\" = \
         (SELECT MIN(w.\"id\") FROM \"wave\" w \
          WHERE w.\"questionnaire_version_id\" = \"response\".\"questionnaire_version_id\") \
         WHERE \"wave_id\" IS NULL",
    )
    .await?;
    Ok(())
}
