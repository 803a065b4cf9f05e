//! A partnership's settings: the modules it switches off and the signposting
//! shown at the end of the survey, which sittings copy when they are created (so a change applies to new sittings only),
//! what its public accessibility statement and privacy notice say, and the
//! languages its pupils may choose.

use std::sync::Arc;

use super::Actor;

pub use crate::domain::Signpost;
pub use crate::domain::{Compliance, Notices};
use crate::store::cpp_settings::{self, NewSetting};
use crate::store::schools::Cpp;
use crate::store::{self, Db};

/// Most signposting lines a partnership can set.
pub const MAX_SIGNPOSTS: usize = 20;

/// Signposting shown at the end of the survey unless a partnership sets its own.
pub fn default_signposting() -> Vec<Signpost> {
    [
        (
            "Talk to an adult you trust",
            "a parent or carer, a teacher, or another adult at school",
        ),
        (
            "Childline",
            "call 0800 1111 for free, any time, or visit childline.org.uk",
        ),
        (
            "Breathing Space",
            "call 0800 83 85 87 for free (for young people aged 16 and over)",
        ),
        ("If you are in danger now", "call 999"),
    ]
    .into_iter()
    .map(|(name, detail)| Signpost {
        name: name.to_owned(),
        detail: detail.to_owned(),
    })
    .collect()
}

/// The help a pupil is shown at the end of the survey: `signposting`, or the
/// default when it is empty, so no pupil is ever left without somewhere to
/// turn.
pub fn signposting_or_default(signposting: &[Signpost]) -> Vec<Signpost> {
    if signposting.is_empty() {
        default_signposting()
    } else {
        signposting.to_vec()
    }
}

/// The partnership with this id.
pub async fn partnership(
    db: &impl store::ConnectionTrait,
    id: i32,
) -> Result<Option<Cpp>, store::Error> {
    store::schools::cpp(db, id).await
}

/// GSS codes of partnerships by id, remembered once read: a partnership's
/// code never changes, and a pupil's code entry needs it on every start.
#[derive(Debug, Default)]
pub struct GssCodes {
    known: std::sync::RwLock<std::collections::HashMap<i32, String>>,
}

impl GssCodes {
    /// The GSS code of partnership `id`, if it exists.
    pub async fn get(
        &self,
        db: &impl store::ConnectionTrait,
        id: i32,
    ) -> Result<Option<String>, store::Error> {
        let remembered = self
            .known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&id)
            .cloned();
        if let Some(code) = remembered {
            return Ok(Some(code));
        }
        let Some(cpp) = partnership(db, id).await? else {
            return Ok(None);
        };
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(id, cpp.gss_code.clone());
        Ok(Some(cpp.gss_code))
    }
}

/// How long a server keeps the languages partnerships offer before reading
/// them again: a change of settings reaches the pupils of every server
/// within this time (at once on the server where it was saved).
pub const LANGUAGES_FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(15);

/// The languages partnerships offer, remembered for [`LANGUAGES_FRESH_FOR`]:
/// every code screen and every code entry needs them, and they change only
/// when a coordinator saves the settings.
#[derive(Debug, Default)]
pub struct OfferedLanguages {
    /// By partnership id; `None` holds the languages any partnership offers.
    known: std::sync::RwLock<std::collections::HashMap<Option<i32>, Remembered>>,
}

/// Languages, and when they were read.
type Remembered = (std::time::Instant, Arc<Vec<String>>);

impl OfferedLanguages {
    /// The languages partnership `cpp_id` offers (see [`languages`]).
    pub async fn of(
        &self,
        db: &impl store::ConnectionTrait,
        cpp_id: i32,
    ) -> Result<Arc<Vec<String>>, store::Error> {
        if let Some(fresh) = self.fresh(Some(cpp_id)) {
            return Ok(fresh);
        }
        let read = Arc::new(languages(db, cpp_id).await?);
        Ok(self.remember(Some(cpp_id), read))
    }

    /// The languages at least one partnership offers (see
    /// [`languages_offered_anywhere`]).
    pub async fn anywhere(
        &self,
        db: &impl store::ConnectionTrait,
    ) -> Result<Arc<Vec<String>>, store::Error> {
        if let Some(fresh) = self.fresh(None) {
            return Ok(fresh);
        }
        let read = Arc::new(languages_offered_anywhere(db).await?);
        Ok(self.remember(None, read))
    }

    /// Forgets everything remembered: settings were saved on this server.
    pub fn forget(&self) {
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    fn fresh(&self, key: Option<i32>) -> Option<Arc<Vec<String>>> {
        self.known
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&key)
            .filter(|(read_at, _)| read_at.elapsed() < LANGUAGES_FRESH_FOR)
            .map(|(_, languages)| Arc::clone(languages))
    }

    fn remember(&self, key: Option<i32>, languages: Arc<Vec<String>>) -> Arc<Vec<String>> {
        self.known
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key, (std::time::Instant::now(), Arc::clone(&languages)));
        languages
    }
}

/// The partnership with this GSS code.
pub async fn partnership_by_code(
    db: &impl store::ConnectionTrait,
    gss_code: &str,
) -> Result<Option<Cpp>, store::Error> {
    store::schools::cpp_by_code(db, gss_code).await
}

/// What a new sitting copies from its partnership.
#[derive(Debug, Clone)]
pub struct SittingDefaults {
    pub disabled_modules: Vec<String>,
    pub signposting: Vec<Signpost>,
}

/// A partnership's settings, or the defaults where it has set none.
pub async fn settings(
    db: &impl store::ConnectionTrait,
    cpp_id: i32,
) -> Result<SittingDefaults, store::Error> {
    Ok(match cpp_settings::get(db, cpp_id).await? {
        Some(s) => SittingDefaults {
            disabled_modules: s.disabled_modules.0,
            signposting: s.signposting.0,
        },
        None => SittingDefaults {
            disabled_modules: Vec::new(),
            signposting: default_signposting(),
        },
    })
}

/// The languages a partnership offers its pupils besides the
/// questionnaire's own; none until it chooses some.
pub async fn languages(
    db: &impl store::ConnectionTrait,
    cpp_id: i32,
) -> Result<Vec<String>, store::Error> {
    Ok(cpp_settings::get(db, cpp_id)
        .await?
        .map(|s| s.languages.0)
        .unwrap_or_default())
}

/// Every language at least one partnership offers: the code page offers
/// these before it knows whose pupil is at the device.
pub async fn languages_offered_anywhere(
    db: &impl store::ConnectionTrait,
) -> Result<Vec<String>, store::Error> {
    cpp_settings::languages_offered_anywhere(db).await
}

/// What a partnership's public notices say; empty where it has set nothing.
pub async fn notices(
    db: &impl store::ConnectionTrait,
    cpp_id: i32,
) -> Result<Notices, store::Error> {
    Ok(cpp_settings::get(db, cpp_id)
        .await?
        .map(|s| cpp_settings::notices_of(&s))
        .unwrap_or_default())
}

/// Every partnership, by name, for pages that list them.
pub async fn all(db: &impl store::ConnectionTrait) -> Result<Vec<Cpp>, store::Error> {
    store::schools::all_cpps(db).await
}

/// Settings that passed every check (see the settings form's parser).
#[derive(Debug, Clone)]
pub struct NewSettings {
    pub disabled_modules: Vec<String>,
    pub signposting: Vec<Signpost>,
    pub notices: Notices,
    /// Languages pupils may choose besides the questionnaire's own.
    pub languages: Vec<String>,
    /// Draft languages newly offered, whose risk the saver confirmed: the
    /// audit log names them.
    pub drafts_confirmed: Vec<String>,
}

/// Saves a partnership's settings and the audit entry, in one transaction.
pub async fn save(db: &Db, actor: &Actor, cpp: &Cpp, new: NewSettings) -> Result<(), store::Error> {
    let mut detail = format!(
        "partnership {}: modules off {}, {} signposting lines, notices updated, languages {}",
        cpp.gss_code,
        serde_json::to_string(&new.disabled_modules).unwrap_or_default(),
        new.signposting.len(),
        serde_json::to_string(&new.languages).unwrap_or_default(),
    );
    if !new.drafts_confirmed.is_empty() {
        detail.push_str(&format!(
            ", draft translations confirmed {}",
            serde_json::to_string(&new.drafts_confirmed).unwrap_or_default()
        ));
    }
    let tx = store::begin(db).await?;
    cpp_settings::save(
        &tx,
        cpp.id,
        NewSetting {
            disabled_modules: new.disabled_modules,
            signposting: new.signposting,
            notices: new.notices,
            languages: new.languages,
        },
    )
    .await?;
    actor.record(&tx, "settings-changed", &detail).await?;
    tx.commit().await
}
