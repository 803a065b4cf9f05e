//! Adding or changing one school by hand (administrators). The form is
//! checked by the same rules as the CSV import, and saved through it, so a
//! school entered here and one imported can never differ in what is allowed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use super::{Result, Routes, Staff, redirect};
use crate::services::schools_import::{self, ImportError, SECTORS};
use crate::state::AppState;
use crate::store::schools;
use crate::web::error::AppError;

/// What the form holds, as typed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SchoolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    cpp: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    p5: String,
    #[serde(default)]
    p6: String,
    #[serde(default)]
    p7: String,
    #[serde(default)]
    s1: String,
    #[serde(default)]
    s2: String,
    #[serde(default)]
    s3: String,
    #[serde(default)]
    s4: String,
}

impl SchoolForm {
    /// The form as the one row of an import file.
    fn as_csv(&self) -> std::result::Result<Vec<u8>, AppError> {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let header = [
            "School name",
            "SEED code",
            "CPP",
            "Sector",
            "P5",
            "P6",
            "P7",
            "S1",
            "S2",
            "S3",
            "S4",
        ];
        let row = [
            &self.name,
            &self.seed,
            &self.cpp,
            &self.sector,
            &self.p5,
            &self.p6,
            &self.p7,
            &self.s1,
            &self.s2,
            &self.s3,
            &self.s4,
        ];
        writer.write_record(header).map_err(AppError::internal)?;
        writer.write_record(row).map_err(AppError::internal)?;
        writer.into_inner().map_err(AppError::internal)
    }
}

#[derive(Deserialize)]
struct EditQuery {
    seed: Option<String>,
}

async fn form_page(
    state: &AppState,
    staff: &Staff,
    form: &SchoolForm,
    problems: Vec<String>,
) -> Result<HttpResponse> {
    let cpps = schools::all_cpps(&state.db).await?;
    let cpp_options: Vec<_> = cpps
        .iter()
        .map(|c| context! { code => c.gss_code.clone(), name => c.name.clone() })
        .collect();
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    staff.page_with_status(
        status,
        "staff/school_form.html",
        context! {
            form => Serde(form.clone()),
            cpps => cpp_options,
            sectors => Serde(SECTORS),
            problems => problems,
        },
    )
}

/// The form, empty or (with `?seed=`) holding a school's current details.
async fn new_school(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<EditQuery>,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    let mut form = SchoolForm::default();
    if let Some(seed) = &query.seed {
        let school = schools::school_by_seed(&state.db, seed)
            .await?
            .ok_or(AppError::NotFound)?;
        let cpp = schools::cpp(&state.db, school.cpp_id)
            .await?
            .ok_or(AppError::NotFound)?;
        form = SchoolForm {
            csrf: String::new(),
            name: school.name,
            seed: school.seed_code,
            cpp: cpp.gss_code,
            sector: school.sector,
            p5: school.roll_p5.to_string(),
            p6: school.roll_p6.to_string(),
            p7: school.roll_p7.to_string(),
            s1: school.roll_s1.to_string(),
            s2: school.roll_s2.to_string(),
            s3: school.roll_s3.to_string(),
            s4: school.roll_s4.to_string(),
        };
    }
    form_page(&state, &staff, &form, Vec::new()).await
}

/// Saves the school: a SEED code already known updates that school.
async fn save_school(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<SchoolForm>,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    staff.session.check_csrf(&form.csrf)?;
    let bytes = form.as_csv()?;
    let seed = form.seed.trim();
    let source = schools_import::Source::Form { seed };
    match schools_import::import(&state.db, &staff.actor(), &bytes, source).await {
        Ok(_) => {
            let school = schools::school_by_seed(&state.db, seed)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(redirect(&format!("/staff/schools/{}", school.id)))
        }
        Err(ImportError::Rows(problems)) => {
            let messages = problems.into_iter().map(|p| p.message).collect();
            form_page(&state, &staff, &form, messages).await
        }
        Err(ImportError::Database(error)) => Err(error.into()),
    }
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/admin/schools/new", new_school)
        .post("/admin/schools", save_school);
}
