//! What staff do to a sitting: spare codes, a void, a mop-up, closing.

use super::*;

#[derive(Deserialize)]
struct CountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    codes: String,
}

/// A number of codes from 1 to [`MAX_CODES`].
struct CodeCount(usize);

impl TryFrom<&CountForm> for CodeCount {
    type Error = AppError;

    fn try_from(form: &CountForm) -> Result<Self> {
        code_count(number(&form.codes))
            .map(CodeCount)
            .map_err(|p| AppError::BadRequest(format!("{}.", p.message)))
    }
}

/// Adds spare codes to an open sitting and shows them, once.
async fn spares(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let CodeCount(count) = CodeCount::try_from(&*form)?;
    let codes =
        sittings::add_spares(&state.db, &state.secret, &staff.actor(), &sitting, count).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "spares")
}

#[derive(Deserialize)]
struct VoidForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
}

/// Voids a lost code, typed in from the slip list. The audit log records that
/// a code was voided, never which.
async fn void(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, _) = sitting_for(&state, &staff, path.into_inner()).await?;
    let voided = match AccessCode::parse(&form.code) {
        Ok(code) => {
            sittings::void_code(&state.db, &state.secret, &staff.actor(), &sitting, &code).await?
        }
        Err(_) => false,
    };
    let notice = if voided { "voided" } else { "not-voided" };
    Ok(redirect(&format!(
        "/staff/sittings/{}?notice={notice}",
        sitting.id
    )))
}

/// Opens a mop-up sitting for pupils who were absent: a new sitting with its
/// own codes, linked to this one, with the same stage, questionnaire, module
/// switches and signposting.
async fn mop_up(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (original, school) = sitting_for(&state, &staff, path.into_inner()).await?;
    let CodeCount(count) = CodeCount::try_from(&*form)?;
    let (sitting, codes) =
        sittings::mop_up(&state.db, &state.secret, &staff.actor(), &original, count).await?;
    slips_page(&state, &staff, &sitting, &school, &codes, "mop-up")
}

/// Closes a sitting: no code works any more; answers in progress are kept as
/// partial responses, cut off from their codes.
async fn close(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<i32>,
    form: web::Form<CountForm>,
) -> Result<HttpResponse> {
    staff.check_csrf(&form.csrf)?;
    let (sitting, _) = sitting_for(&state, &staff, path.into_inner()).await?;
    sittings::close(state.closer(), &staff.actor(), sitting.id).await?;
    Ok(redirect(&format!(
        "/staff/sittings/{}?notice=closed",
        sitting.id
    )))
}

pub(super) fn config(routes: &mut Routes<'_>) {
    routes
        .post("/sittings/{id}/spares", spares)
        .post("/sittings/{id}/void", void)
        .post("/sittings/{id}/mop-up", mop_up)
        .post("/sittings/{id}/close", close);
}
