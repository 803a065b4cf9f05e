//! The exporter's own entries in the server's audit log (`audit_log`, the
//! table the server appends to and never changes). The command line writes
//! one entry per run before it reads any response: the action says what kind
//! of run it was, the detail names the wave or release, the scope and
//! the file or directory written, and the actor is `exporter:` followed by
//! the operating-system user. Nothing about a pupil goes into an entry.

use chrono::Utc;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DbErr};

/// A release asked for (the release itself has an entry of its own when
/// it is made).
pub const RELEASE: &str = "exporter.release";
/// A stored release written to a directory.
pub const WRITE_RELEASE: &str = "exporter.write-release";
/// Every answer written to one CSV file (`--dump-answers`).
pub const DUMP_ANSWERS: &str = "exporter.dump-answers";
/// Responses read and counted, nothing written (`--aggregate-only`).
pub const COUNT_ONLY: &str = "exporter.aggregate-only";

/// The actor of an entry: `exporter:USER`, or `exporter` when the user is
/// not known.
pub fn actor(os_user: Option<&str>) -> String {
    match os_user {
        Some(user) => format!("exporter:{user}"),
        None => "exporter".to_owned(),
    }
}

/// The operating-system user running this process, as the environment names
/// it (`USER`, `LOGNAME` or `USERNAME`), if it does. The environment is the
/// caller's to set, so this names an account; it does not prove who sat at
/// the keyboard.
pub fn os_user() -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|user| user.trim().chars().take(64).collect::<String>())
        .find(|user| !user.is_empty())
}

/// For a SQLite URL that opens the file read-only (`mode=ro`), the same URL
/// opening it for reading and writing, so the audit entry can be appended.
/// `None` when the URL's own connection can write.
pub fn writable_url(url: &str) -> Option<String> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let (base, query) = url.split_once('?')?;
    let mut changed = false;
    let pairs: Vec<&str> = query
        .split('&')
        .map(|pair| {
            if pair == "mode=ro" {
                changed = true;
                "mode=rw"
            } else {
                pair
            }
        })
        .collect();
    changed.then(|| format!("{base}?{}", pairs.join("&")))
}

/// Appends one entry to the audit log.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbErr> {
    record_as(db, None, actor, action, detail).await
}

/// Appends one entry to the audit log, naming the staff account that acted
/// when there is one.
pub async fn record_as(
    db: &impl ConnectionTrait,
    actor_id: Option<i32>,
    actor: &str,
    action: &str,
    detail: &str,
) -> Result<(), DbErr> {
    let col = Alias::new;
    let stmt = Query::insert()
        .into_table(col("audit_log"))
        .columns([
            col("at"),
            col("actor_id"),
            col("actor"),
            col("action"),
            col("detail"),
        ])
        .values([
            Utc::now().into(),
            actor_id.into(),
            actor.into(),
            action.into(),
            detail.into(),
        ])
        .map_err(|e| DbErr::Custom(e.to_string()))?
        .to_owned();
    db.execute(&stmt).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_read_only_sqlite_url_needs_a_writable_one() {
        assert_eq!(
            writable_url("sqlite:///data/survey.sqlite?mode=ro").as_deref(),
            Some("sqlite:///data/survey.sqlite?mode=rw")
        );
        assert_eq!(
            writable_url("sqlite://a.sqlite?cache=shared&mode=ro").as_deref(),
            Some("sqlite://a.sqlite?cache=shared&mode=rw")
        );
        assert_eq!(writable_url("sqlite://a.sqlite"), None);
        assert_eq!(writable_url("sqlite://a.sqlite?mode=rwc"), None);
        assert_eq!(writable_url("postgres://survey@db/survey"), None);
    }

    #[test]
    fn the_actor_names_the_exporter_and_the_user() {
        assert_eq!(actor(Some("alice")), "exporter:alice");
        assert_eq!(actor(None), "exporter");
    }
}
