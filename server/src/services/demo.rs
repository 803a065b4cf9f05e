//! The demo: on an empty database the server creates a demo partnership, a
//! school, a survey wave in fieldwork and an open sitting with printed codes, all marked as demo, so a
//! newcomer can try the pupil side at once.

use survey_defs::Stage;

use super::Actor;
use super::accounts::{self, NewAccount};
use super::auth::{self, StaffGuard};
use super::partnerships;
use super::questionnaires::Catalogue;
use super::sittings::{self, SittingRequest};
use super::waves;
use crate::domain::AccessCode;
use crate::domain::Role;
use crate::secret::ServerSecret;
use crate::store::Db;
use crate::store::schools::{self, NewSchool};

pub const DEMO_CPP_CODE: &str = "DEMO";
pub const DEMO_SCHOOL_SEED: &str = "DEMO001";
/// The demo's survey wave, and how many days its fieldwork runs from the
/// day the demo is made.
pub const DEMO_WAVE: &str = "Demo survey (demo)";
pub const DEMO_FIELDWORK_DAYS: u64 = 60;

/// A demo staff login, with its generated password (printed once).
pub struct DemoLogin {
    pub email: String,
    pub password: String,
    pub role: &'static str,
}

/// What the demo created, to print once.
pub struct Demo {
    pub school_name: String,
    pub logins: Vec<DemoLogin>,
    pub primary_codes: Vec<AccessCode>,
    pub secondary_codes: Vec<AccessCode>,
}

/// Every language some newest questionnaire is translated into.
fn translated_languages(catalogue: &Catalogue) -> Vec<String> {
    let mut all: Vec<String> = catalogue
        .latest()
        .iter()
        .flat_map(|entry| {
            let q = &entry.questionnaire;
            q.locales()
                .iter()
                .filter(|info| info.locale() != q.default_locale())
                .map(|info| info.locale().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Creates the demo unless it exists already. Returns `None` when it did exist.
pub async fn ensure(
    db: &Db,
    secret: &ServerSecret,
    catalogue: &Catalogue,
    guard: &StaffGuard,
) -> anyhow::Result<Option<Demo>> {
    if schools::school_by_seed(db, DEMO_SCHOOL_SEED)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let cpp = match schools::cpp_by_code(db, DEMO_CPP_CODE).await? {
        Some(cpp) => cpp,
        None => schools::create_cpp(db, DEMO_CPP_CODE, "Demo Partnership (demo)", true).await?,
    };
    // The demo offers every language the questionnaires are translated
    // into, drafts too, so a newcomer can see them; a real partnership
    // chooses its own, confirming each draft.
    let languages = translated_languages(catalogue);
    partnerships::save(
        db,
        &Actor::Cli,
        &cpp,
        partnerships::NewSettings {
            disabled_modules: Vec::new(),
            signposting: partnerships::default_signposting(),
            notices: partnerships::Notices::default(),
            languages: languages.clone(),
            drafts_confirmed: languages,
        },
    )
    .await?;
    let school = schools::create_school(
        db,
        NewSchool {
            cpp_id: cpp.id,
            seed_code: DEMO_SCHOOL_SEED.to_owned(),
            name: "Demo Community School (demo)".to_owned(),
            sector: "all-through".to_owned(),
            rolls: [28, 30, 27, 120, 118, 115, 110],
            is_demo: true,
        },
    )
    .await?;
    let mut logins = Vec::new();
    for (email, role) in [
        ("staff@demo.example", Role::School),
        ("coordinator@demo.example", Role::Coordinator),
        ("analyst@demo.example", Role::Analyst),
    ] {
        let password = auth::generate_password();
        let password_hash = guard.hash(&password).await?;
        let new = NewAccount {
            email: email.to_owned(),
            role,
            cpp_id: Some(cpp.id),
            school_id: (role == Role::School).then_some(school.id),
            is_demo: true,
        };
        accounts::create(db, secret, &Actor::Server, new, password_hash, false).await?;
        logins.push(DemoLogin {
            email: email.to_owned(),
            password,
            role: role.describe(),
        });
    }
    let entry = catalogue
        .latest()
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no questionnaire is loaded"))?
        .clone();
    let today = chrono::Utc::now().date_naive();
    let wave = waves::create(
        db,
        catalogue,
        &Actor::Server,
        waves::NewWave {
            name: DEMO_WAVE.to_owned(),
            questionnaire_version_id: entry.version_id,
            threshold: exporter::Rule::default().threshold,
            is_demo: true,
        },
    )
    .await?;
    waves::set_window(
        db,
        &Actor::Server,
        &wave,
        cpp.id,
        today,
        today + chrono::Days::new(DEMO_FIELDWORK_DAYS - 1),
    )
    .await?;
    let mut made = Vec::new();
    for (stage, label) in [
        (Stage::P6, "P6 Room 4 (demo)"),
        (Stage::S4, "S4 Maths (demo)"),
    ] {
        let request = SittingRequest {
            stage,
            label: label.to_owned(),
            codes: 30,
            wave_id: wave.id,
            opens: None,
            closes: None,
        };
        let (_, codes) = sittings::create(db, secret, &Actor::Server, &school, request).await?;
        made.push(codes);
    }
    let secondary_codes = made.pop().unwrap_or_default();
    let primary_codes = made.pop().unwrap_or_default();
    Ok(Some(Demo {
        school_name: school.name,
        logins,
        primary_codes,
        secondary_codes,
    }))
}
