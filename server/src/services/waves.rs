//! Survey waves: one round of the survey. A wave has a name, one
//! questionnaire version and a disclosure rule, both fixed when it is made,
//! and a fieldwork window per partnership. Every sitting belongs to a wave,
//! opens and closes inside its partnership's window, and closes at the
//! window's end at the latest.
//!
//! Each change is one transaction with its audit entry.

use chrono::NaiveDate;

use super::Actor;
use super::questionnaires::Catalogue;
use super::sittings::end_of_day;
use crate::store::waves::{self, NewWave as StoredWave, WaveRow, WindowRow};
use crate::store::{self, Db};

/// Longest wave name, in characters.
pub const MAX_NAME: usize = 120;

/// The smallest threshold a wave may use: a count of 1 must always be
/// hidden.
pub const MIN_THRESHOLD: u64 = 2;

/// A wave as the rest of the product sees it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Wave {
    pub id: i32,
    pub name: String,
    pub questionnaire_version_id: i32,
    pub rule: exporter::Rule,
    pub is_demo: bool,
}

impl TryFrom<WaveRow> for Wave {
    type Error = store::Error;

    fn try_from(row: WaveRow) -> Result<Self, Self::Error> {
        let rule = serde_json::from_str(&row.rule).map_err(|error| {
            store::Error::Custom(format!("wave {} has an unreadable rule: {error}", row.id))
        })?;
        Ok(Wave {
            id: row.id,
            name: row.name,
            questionnaire_version_id: row.questionnaire_version_id,
            rule,
            is_demo: row.is_demo,
        })
    }
}

/// A partnership's fieldwork days in a wave, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub cpp_id: i32,
    pub opens: NaiveDate,
    pub closes: NaiveDate,
}

impl From<WindowRow> for Window {
    fn from(row: WindowRow) -> Self {
        Window {
            cpp_id: row.cpp_id,
            opens: row.opens,
            closes: row.closes,
        }
    }
}

impl Window {
    /// Whether fieldwork has ended by `today` (its last day has passed).
    pub fn ended(&self, today: NaiveDate) -> bool {
        self.closes < today
    }
}

/// Why a wave action was refused; each reads as a sentence for a person.
#[derive(Debug, thiserror::Error)]
pub enum WaveError {
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Database(#[from] store::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> WaveError {
    WaveError::Invalid {
        field,
        message: message.into(),
    }
}

/// A wave to make, before checking.
#[derive(Debug, Clone)]
pub struct NewWave {
    pub name: String,
    pub questionnaire_version_id: i32,
    pub threshold: u64,
    pub is_demo: bool,
}

/// Checks a wave's name: present, not too long, not taken by another wave.
async fn check_name(db: &Db, name: &str, other_than: Option<i32>) -> Result<String, WaveError> {
    let name = name.trim().to_owned();
    if name.is_empty() {
        return Err(invalid(
            "name",
            "Enter a name for the wave, such as 2027 survey",
        ));
    }
    if name.chars().count() > MAX_NAME {
        return Err(invalid(
            "name",
            format!("The name must be {MAX_NAME} characters or fewer"),
        ));
    }
    if let Some(existing) = waves::by_name(db, &name).await?
        && Some(existing.id) != other_than
    {
        return Err(invalid("name", "Another wave has this name already"));
    }
    Ok(name)
}

/// Makes a wave, with the audit entry. Its questionnaire version and rule
/// can never change afterwards.
pub async fn create(
    db: &Db,
    catalogue: &Catalogue,
    actor: &Actor,
    new: NewWave,
) -> Result<Wave, WaveError> {
    let name = check_name(db, &new.name, None).await?;
    let entry = catalogue
        .get(new.questionnaire_version_id)
        .ok_or_else(|| invalid("version", "Select a questionnaire"))?;
    if new.threshold < MIN_THRESHOLD || new.threshold > 1_000 {
        return Err(invalid(
            "threshold",
            format!("The threshold must be a whole number from {MIN_THRESHOLD} to 1000"),
        ));
    }
    let rule = exporter::Rule {
        threshold: new.threshold,
        ..exporter::Rule::default()
    };
    let rule_json = serde_json::to_string(&rule)
        .map_err(|error| store::Error::Custom(format!("writing a rule: {error}")))?;
    let tx = store::begin(db).await?;
    let row = waves::create(
        &tx,
        StoredWave {
            name: name.clone(),
            questionnaire_version_id: entry.version_id,
            rule: rule_json,
            is_demo: new.is_demo,
        },
    )
    .await?;
    let questionnaire = &entry.questionnaire;
    actor
        .record(
            &tx,
            "wave-created",
            &format!(
                "{name}: {} version {}, threshold {}",
                questionnaire.id(),
                questionnaire.version(),
                rule.threshold
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(Wave::try_from(row)?)
}

/// Renames a wave, with the audit entry.
pub async fn rename(db: &Db, actor: &Actor, wave: &Wave, name: &str) -> Result<(), WaveError> {
    let name = check_name(db, name, Some(wave.id)).await?;
    let tx = store::begin(db).await?;
    waves::rename(&tx, wave.id, &name).await?;
    actor
        .record(&tx, "wave-renamed", &format!("{} to {name}", wave.name))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets a partnership's fieldwork window in a wave, with the audit entry.
/// Open sittings of the wave at that partnership that would run past the
/// new last day are brought forward to it.
pub async fn set_window(
    db: &Db,
    actor: &Actor,
    wave: &Wave,
    cpp_id: i32,
    opens: NaiveDate,
    closes: NaiveDate,
) -> Result<Window, WaveError> {
    if closes < opens {
        return Err(invalid(
            "closes",
            "The last day must be on or after the first day",
        ));
    }
    let tx = store::begin(db).await?;
    waves::set_window(&tx, wave.id, cpp_id, opens, closes).await?;
    let clamped = waves::clamp_sittings(&tx, wave.id, cpp_id, end_of_day(closes)).await?;
    actor
        .record(
            &tx,
            "wave-window-set",
            &format!(
                "{}: partnership {cpp_id}, {opens} to {closes}{}",
                wave.name,
                if clamped > 0 {
                    format!(", {clamped} open sitting(s) now end on {closes}")
                } else {
                    String::new()
                }
            ),
        )
        .await?;
    tx.commit().await?;
    Ok(Window {
        cpp_id,
        opens,
        closes,
    })
}

pub async fn get(db: &Db, id: i32) -> Result<Option<Wave>, store::Error> {
    waves::by_id(db, id).await?.map(Wave::try_from).transpose()
}

pub async fn by_name(db: &Db, name: &str) -> Result<Option<Wave>, store::Error> {
    waves::by_name(db, name.trim())
        .await?
        .map(Wave::try_from)
        .transpose()
}

/// Every wave, newest first.
pub async fn all(db: &Db) -> Result<Vec<Wave>, store::Error> {
    waves::all(db)
        .await?
        .into_iter()
        .map(Wave::try_from)
        .collect()
}

pub async fn windows(db: &Db, wave_id: i32) -> Result<Vec<Window>, store::Error> {
    Ok(waves::windows(db, wave_id)
        .await?
        .into_iter()
        .map(Window::from)
        .collect())
}

pub async fn window(db: &Db, wave_id: i32, cpp_id: i32) -> Result<Option<Window>, store::Error> {
    Ok(waves::window(db, wave_id, cpp_id).await?.map(Window::from))
}

/// The waves a partnership can run sittings in from `today`: those whose
/// window for it has not ended, the soonest ending first.
pub async fn current_for(
    db: &impl store::ConnectionTrait,
    cpp_id: i32,
    today: NaiveDate,
) -> Result<Vec<(Wave, Window)>, store::Error> {
    waves::current_for(db, cpp_id, today)
        .await?
        .into_iter()
        .map(|(wave, window)| Ok((Wave::try_from(wave)?, Window::from(window))))
        .collect()
}

/// The wave named `name`, made with `questionnaire_version_id` and the
/// default rule if there is none, with a window for `cpp_id` from `opens`
/// to `closes` if that partnership has none in it yet. For generated data
/// (synthetic responses, load tests and test fixtures), where one wave
/// holds everything.
pub async fn ensure(
    db: &Db,
    catalogue: &Catalogue,
    actor: &Actor,
    name: &str,
    questionnaire_version_id: i32,
    cpp_id: i32,
    (opens, closes): (NaiveDate, NaiveDate),
) -> Result<Wave, WaveError> {
    let wave = match by_name(db, name).await? {
        Some(wave) => wave,
        None => {
            create(
                db,
                catalogue,
                actor,
                NewWave {
                    name: name.to_owned(),
                    questionnaire_version_id,
                    threshold: exporter::Rule::default().threshold,
                    is_demo: false,
                },
            )
            .await?
        }
    };
    if window(db, wave.id, cpp_id).await?.is_none() {
        set_window(db, actor, &wave, cpp_id, opens, closes).await?;
    }
    Ok(wave)
}
