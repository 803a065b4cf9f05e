//! The initial schema.
//!
//! Anonymity is built into the shape of the tables:
//! - `access_code` holds only a keyed hash of each printed code, and points at an
//!   in-progress response only while the pupil is answering;
//! - `response` (completed answers) has a random id, no column that refers to a
//!   code, and no time finer than the day;
//! - a page save writes one small row of `page_save`, keyed by response and page,
//!   so a retried save overwrites itself instead of adding a duplicate.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(
    from: &str,
    column: &str,
    to: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{from}_{column}"))
        .from(Alias::new(from), Alias::new(column))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

/// Tables in creation order; dropped in reverse.
const TABLES: &[&str] = &[
    "cpp",
    "school",
    "staff_user",
    "questionnaire_version",
    "cpp_setting",
    "sitting",
    "response_in_progress",
    "access_code",
    "page_save",
    "response",
    "audit_log",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("cpp")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("gss_code", 16))
                    .col(string("name"))
                    .col(boolean("is_demo").default(false))
                    .to_owned(),
            )
            .await?;

        let mut school = Table::create();
        school
            .table("school")
            .col(pk_auto("id"))
            .col(integer("cpp_id"))
            .col(string_len_uniq("seed_code", 16))
            .col(string("name"))
            .col(string_len("sector", 16))
            .col(boolean("is_demo").default(false));
        for stage in ["p5", "p6", "p7", "s1", "s2", "s3", "s4"] {
            school.col(integer(format!("roll_{stage}")).default(0));
        }
        school.foreign_key(&mut fk(
            "school",
            "cpp_id",
            "cpp",
            ForeignKeyAction::Restrict,
        ));
        manager.create_table(school.to_owned()).await?;
        manager
            .create_index(index("school", &["cpp_id"], false))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("staff_user")
                    .col(pk_auto("id"))
                    .col(string_uniq("email"))
                    .col(string("password_hash"))
                    .col(string_len("role", 16))
                    .col(integer_null("cpp_id"))
                    .col(integer_null("school_id"))
                    .col(boolean("active").default(true))
                    .col(boolean("is_demo").default(false))
                    .col(integer("failed_logins").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(string_len_null("reset_token_hash", 64))
                    .col(timestamp_with_time_zone_null("reset_expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "staff_user",
                        "cpp_id",
                        "cpp",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "staff_user",
                        "school_id",
                        "school",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("questionnaire_version")
                    .col(pk_auto("id"))
                    .col(string_len("questionnaire_id", 64))
                    .col(integer("version"))
                    .col(string_len("content_hash", 64))
                    .col(string("title"))
                    .col(text("source"))
                    .col(timestamp_with_time_zone("loaded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "questionnaire_version",
                &["questionnaire_id", "version"],
                true,
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("cpp_setting")
                    .col(integer("cpp_id").primary_key())
                    .col(text("disabled_modules"))
                    .col(text("signposting"))
                    .col(date_null("fieldwork_opens"))
                    .col(date_null("fieldwork_closes"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk(
                        "cpp_setting",
                        "cpp_id",
                        "cpp",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("sitting")
                    .col(pk_auto("id"))
                    .col(integer("school_id"))
                    .col(integer("cpp_id"))
                    .col(string_len("stage", 2))
                    .col(string("label"))
                    .col(integer("questionnaire_version_id"))
                    .col(text("disabled_modules"))
                    .col(text("signposting"))
                    .col(timestamp_with_time_zone_null("opens_at"))
                    .col(timestamp_with_time_zone_null("closes_at"))
                    .col(timestamp_with_time_zone_null("closed_at"))
                    .col(integer_null("mop_up_of"))
                    .col(integer_null("created_by"))
                    .col(boolean("is_demo").default(false))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut fk(
                        "sitting",
                        "school_id",
                        "school",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "sitting",
                        "cpp_id",
                        "cpp",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "sitting",
                        "questionnaire_version_id",
                        "questionnaire_version",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("sitting", &["school_id"], false))
            .await?;

        // An in-progress response lives only while a pupil is answering. Its id is
        // random; it is deleted, with its page saves, when the response completes,
        // is withdrawn, or its sitting closes.
        manager
            .create_table(
                Table::create()
                    .table("response_in_progress")
                    .col(string_len("id", 32).primary_key())
                    .col(integer("sitting_id"))
                    .col(string_len("locale", 16))
                    .foreign_key(&mut fk(
                        "response_in_progress",
                        "sitting_id",
                        "sitting",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("response_in_progress", &["sitting_id"], false))
            .await?;

        // A printed code, stored only as HMAC(server secret, code). `response_id`
        // is set only while the response is in progress and cleared when it ends.
        // No time is stored here, so the order codes were used cannot be read back.
        manager
            .create_table(
                Table::create()
                    .table("access_code")
                    .col(pk_auto("id"))
                    .col(integer("sitting_id"))
                    .col(string_len_uniq("code_hash", 64))
                    .col(string_len("state", 16))
                    .col(string_len_null("response_id", 32))
                    .foreign_key(&mut fk(
                        "access_code",
                        "sitting_id",
                        "sitting",
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "access_code",
                        "response_id",
                        "response_in_progress",
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("access_code", &["sitting_id", "state"], false))
            .await?;

        // One row per page a pupil has moved past: the answers on that page in the
        // compact survey-defs encoding. Upserted on (response_id, page_key), so a
        // replayed save is a no-op and the last writer wins per page.
        manager
            .create_table(
                Table::create()
                    .table("page_save")
                    .col(string_len("response_id", 32))
                    .col(string_len("page_key", 64))
                    .col(blob("answers"))
                    .col(big_integer("seq"))
                    .primary_key(Index::create().col("response_id").col("page_key"))
                    .foreign_key(&mut fk(
                        "page_save",
                        "response_id",
                        "response_in_progress",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        // Completed (or, when a sitting closed, partial) responses: everything the
        // exporter needs and nothing that leads back to a code or a moment.
        manager
            .create_table(
                Table::create()
                    .table("response")
                    .col(string_len("id", 32).primary_key())
                    .col(integer("questionnaire_version_id"))
                    .col(integer("cpp_id"))
                    .col(integer("school_id"))
                    .col(string_len("stage", 2))
                    .col(string_len_null("sex", 32))
                    .col(date("completed_on"))
                    .col(boolean("partial").default(false))
                    .col(blob("answers"))
                    .foreign_key(&mut fk(
                        "response",
                        "questionnaire_version_id",
                        "questionnaire_version",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "response",
                        "cpp_id",
                        "cpp",
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "response",
                        "school_id",
                        "school",
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "response",
                &["questionnaire_version_id", "cpp_id"],
                false,
            ))
            .await?;

        // Append-only: the server only ever inserts here.
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(big_pk_auto("id"))
                    .col(timestamp_with_time_zone("at"))
                    .col(integer_null("actor_id"))
                    .col(string("actor"))
                    .col(string_len("action", 64))
                    .col(text("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("audit_log", &["at"], false))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
