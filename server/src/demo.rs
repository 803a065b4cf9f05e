//! The demo: on an empty database the server creates a demo partnership, a
//! school and an open sitting with printed codes, all marked as demo, so a
//! newcomer can try the pupil side at once.

use crate::db::schools::{self, NewSchool};
use crate::db::sittings::NewSitting;
use crate::domain::AccessCode;
use crate::sittings;
use crate::startup::AppState;

pub const DEMO_CPP_CODE: &str = "DEMO";
pub const DEMO_SCHOOL_SEED: &str = "DEMO001";

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

/// Creates the demo unless it exists already. Returns `None` when it did exist.
pub async fn ensure(state: &AppState) -> anyhow::Result<Option<Demo>> {
    if schools::school_by_seed(&state.db, DEMO_SCHOOL_SEED)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let cpp = match schools::cpp_by_code(&state.db, DEMO_CPP_CODE).await? {
        Some(cpp) => cpp,
        None => {
            schools::create_cpp(&state.db, DEMO_CPP_CODE, "Demo Partnership (demo)", true).await?
        }
    };
    let school = schools::create_school(
        &state.db,
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
        ("staff@demo.example", crate::auth::Role::School),
        ("coordinator@demo.example", crate::auth::Role::Coordinator),
    ] {
        let password = crate::auth::generate_password();
        let password_hash = state.staff.hash(&password).await?;
        crate::db::staff::create(
            &state.db,
            crate::db::staff::NewStaff {
                email: email.to_owned(),
                password_hash,
                role: role.as_str().to_owned(),
                cpp_id: Some(cpp.id),
                school_id: (role == crate::auth::Role::School).then_some(school.id),
                is_demo: true,
            },
        )
        .await?;
        logins.push(DemoLogin {
            email: email.to_owned(),
            password,
            role: role.describe(),
        });
    }
    let entry = state
        .catalogue
        .latest()
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no questionnaire is loaded"))?
        .clone();
    let mut made = Vec::new();
    for (stage, label) in [("P6", "P6 Room 4 (demo)"), ("S4", "S4 Maths (demo)")] {
        let (_, codes) = sittings::create_with_codes(
            state,
            NewSitting {
                school_id: school.id,
                cpp_id: cpp.id,
                stage: stage.to_owned(),
                label: label.to_owned(),
                questionnaire_version_id: entry.version_id,
                disabled_modules: "[]".to_owned(),
                signposting: default_signposting(),
                opens_at: None,
                closes_at: None,
                mop_up_of: None,
                created_by: None,
                is_demo: true,
            },
            30,
        )
        .await?;
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

/// Signposting shown at the end of the survey unless a CPP sets its own.
pub fn default_signposting() -> String {
    serde_json::json!([
        { "name": "Talk to an adult you trust", "detail": "a parent or carer, a teacher, or another adult at school" },
        { "name": "Childline", "detail": "call 0800 1111 for free, any time, or visit childline.org.uk" },
        { "name": "Breathing Space", "detail": "call 0800 83 85 87 for free (for young people aged 16 and over)" },
        { "name": "If you are in danger now", "detail": "call 999" }
    ])
    .to_string()
}
