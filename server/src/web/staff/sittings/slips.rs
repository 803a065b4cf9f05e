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

/// The CSV of a batch of codes: one row per code, with the class and no names.
fn codes_csv(sitting: &Sitting, school: &School, codes: &[AccessCode]) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["code", "sitting", "stage", "label", "school"])
        .map_err(AppError::internal)?;
    let id = sitting.id.to_string();
    let stage = sitting.stage.0.to_string();
    for code in codes {
        writer
            .write_record([
                code.grouped().as_str(),
                id.as_str(),
                stage.as_str(),
                sitting.label.as_str(),
                school.name.as_str(),
            ])
            .map_err(AppError::internal)?;
    }
    let bytes = writer.into_inner().map_err(AppError::internal)?;
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
