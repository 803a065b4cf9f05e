//! The one-time page of code slips, with their QR codes and a CSV of the codes.

use super::*;

#[derive(Serialize)]
struct Slip {
    code: String,
    qr_svg: String,
}

/// The QR code for a slip: the code page's address with the code filled in,
/// as SVG (no inline styles, so it passes the content security policy).
fn qr_svg(url: &str) -> Result<String> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)
        .map_err(AppError::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(160, 160)
        .quiet_zone(true)
        .build();
    // Drop the XML declaration: the image is embedded in a data: address.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

/// The CSV of a batch of codes (see
/// [`crate::services::sittings::write_codes_csv`]).
fn codes_csv(sitting: &Sitting, school: &School, codes: &[AccessCode]) -> Result<String> {
    let bytes = crate::services::sittings::write_codes_csv(Vec::new(), sitting, school, codes)
        .map_err(AppError::internal)?;
    String::from_utf8(bytes).map_err(AppError::internal)
}

/// The one-time page of code slips, ready to print, with the CSV download.
pub(super) fn slips_page(
    state: &AppState,
    staff: &Staff,
    sitting: &Sitting,
    school: &School,
    codes: &[AccessCode],
    kind: &str,
) -> Result<HttpResponse> {
    let base = state.settings.public_url();
    let slips = codes
        .iter()
        .map(|code| {
            Ok(Slip {
                code: code.grouped(),
                qr_svg: qr_svg(&format!("{base}/?code={}", code.grouped()))?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let pages: Vec<&[Slip]> = slips.chunks(21).collect();
    staff.page(
        "staff/slips.html",
        context! {
            sitting => Serde(SittingView::from(sitting)),
            school => Serde(SchoolView::from(school)),
            pages => Serde(pages),
            count => codes.len(),
            address => base,
            csv => codes_csv(sitting, school, codes)?,
            kind => kind,
        },
    )
}
