//! Survey waves: one round of the survey, with one questionnaire version, a
//! fieldwork window per partnership, and the disclosure rule fixed when the
//! wave is made.
//!
//! - `wave`: its name, questionnaire version and rule (the exporter's rule
//!   as JSON, never changed after the wave is made).
//! - `wave_window`: the days a partnership's fieldwork runs in the wave.
//! - `sitting.wave_id`: the wave every sitting belongs to.
//!
//! Sittings made before waves move into one wave per questionnaire version
//! they used ("Before waves: …"), with each partnership's window running from
//! its first sitting's first day to its last sitting's last day. Going down
//! drops the waves; the sittings stay as they were.

use std::collections::BTreeMap;

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::prelude::{ChronoDateTimeUtc, Date};
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The exporter's default rule when waves began, as the exporter writes it.
const DEFAULT_RULE: &str =
    r#"{"threshold":10,"publish_zeros":true,"singleton_protection":true,"range_min":null}"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("wave")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("name", 120))
                    .col(integer("questionnaire_version_id"))
                    .col(text("rule"))
                    .col(boolean("is_demo").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("wave", "questionnaire_version_id")
                            .to("questionnaire_version", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("wave_window")
                    .col(integer("wave_id"))
                    .col(integer("cpp_id"))
                    .col(date("opens"))
                    .col(date("closes"))
                    .primary_key(Index::create().col("wave_id").col("cpp_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("wave_window", "wave_id")
                            .to("wave", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("wave_window", "cpp_id")
                            .to("cpp", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("sitting")
                    .add_column(integer_null("wave_id"))
                    .to_owned(),
            )
            .await?;
        move_sittings_into_waves(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE \"sitting\" DROP COLUMN \"wave_id\"")
            .await?;
        manager
            .drop_table(Table::drop().table("wave_window").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("wave").to_owned())
            .await
    }
}

/// One wave per questionnaire version the existing sittings use, with a
/// window per partnership that covers its sittings, and every sitting in it.
async fn move_sittings_into_waves(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT s.questionnaire_version_id AS version_id, s.cpp_id AS cpp_id, \
             s.opens_at AS opens_at, s.closes_at AS closes_at, s.created_at AS created_at, \
             s.is_demo AS is_demo, q.questionnaire_id AS questionnaire, q.version AS version \
             FROM sitting s JOIN questionnaire_version q ON q.id = s.questionnaire_version_id",
        ))
        .await?;
    let today = chrono::Utc::now().date_naive();
    // (version id) -> (name, demo only, cpp -> (opens, closes))
    type Windows = BTreeMap<i32, (Date, Date)>;
    let mut waves: BTreeMap<i32, (String, bool, Windows)> = BTreeMap::new();
    for row in &rows {
        let version_id: i32 = row.try_get("", "version_id")?;
        let cpp_id: i32 = row.try_get("", "cpp_id")?;
        let created: ChronoDateTimeUtc = row.try_get("", "created_at")?;
        let opens: Option<ChronoDateTimeUtc> = row.try_get("", "opens_at")?;
        let closes: Option<ChronoDateTimeUtc> = row.try_get("", "closes_at")?;
        let is_demo: bool = row.try_get("", "is_demo")?;
        let questionnaire: String = row.try_get("", "questionnaire")?;
        let version: i32 = row.try_get("", "version")?;
        let first = opens.unwrap_or(created).date_naive();
        // A sitting closes at the first moment after its last day.
        let last = closes.map_or(today, |c| (c - chrono::Duration::seconds(1)).date_naive());
        let (_, demo, windows) = waves.entry(version_id).or_insert_with(|| {
            (
                format!("Before waves: {questionnaire} version {version}"),
                true,
                BTreeMap::new(),
            )
        });
        *demo &= is_demo;
        let window = windows
            .entry(cpp_id)
            .or_insert((first, Ord::max(last, first)));
        window.0 = Ord::min(window.0, first);
        window.1 = Ord::max(Ord::max(window.1, last), window.0);
    }
    let now = chrono::Utc::now();
    for (version_id, (name, demo, windows)) in waves {
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
                demo.into(),
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
        let update = Query::update()
            .table("sitting")
            .value("wave_id", wave_id)
            .and_where(Expr::col("questionnaire_version_id").eq(version_id))
            .to_owned();
        db.execute(&update).await?;
    }
    Ok(())
}
