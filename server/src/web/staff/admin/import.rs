//! Importing schools from an uploaded CSV file.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use minijinja::value::Serde;

use super::super::{Result, Routes, Staff};
use crate::services::schools_import::{self, ImportError};
use crate::state::AppState;
use crate::web::error::AppError;

/// Largest CSV of schools accepted by the upload form.
pub const MAX_IMPORT_BYTES: usize = 2 * 1024 * 1024;

async fn import_page(staff: Staff) -> Result<HttpResponse> {
    staff.require_admin()?;
    staff.page("staff/import.html", context! {})
}

/// One part of a `multipart/form-data` body.
struct Part<'a> {
    name: String,
    body: &'a [u8],
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Splits a `multipart/form-data` body into its parts. The upload form has
/// two simple fields (the form token and one file), so this small reader is
/// enough; anything it cannot read is refused as a bad request.
fn multipart_parts<'a>(content_type: &str, body: &'a [u8]) -> Option<Vec<Part<'a>>> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    if boundary.is_empty() || boundary.len() > 200 {
        return None;
    }
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = &body[find(body, delimiter.as_bytes())? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let header_end = find(rest, b"\r\n\r\n")?;
        let headers = std::str::from_utf8(&rest[..header_end]).ok()?;
        let name = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))?
            .split(';')
            .map(str::trim)
            .find_map(|p| p.strip_prefix("name="))?
            .trim_matches('"')
            .to_owned();
        let content = &rest[header_end + 4..];
        let end = find(content, format!("\r\n{delimiter}").as_bytes())?;
        parts.push(Part {
            name,
            body: &content[..end],
        });
        rest = &content[end + 2 + delimiter.len()..];
    }
}

/// Reads an upload's body, refusing it once it passes `limit` bytes.
async fn read_upload(payload: web::Payload, limit: usize) -> Result<web::Bytes> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(AppError::BadRequest("The upload could not be read.".into())),
        Err(_) => Err(AppError::TooLarge(limit / (1024 * 1024))),
    }
}

/// Imports schools from an uploaded CSV: all rows or none. Only an
/// administrator's upload is read at all: anyone else is refused before a
/// byte of the body is taken in.
async fn import_upload(
    state: web::Data<AppState>,
    staff: Staff,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse> {
    staff.require_admin()?;
    let body = read_upload(payload, MAX_IMPORT_BYTES).await?;
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let parts = multipart_parts(content_type, &body)
        .ok_or_else(|| AppError::BadRequest("The upload could not be read.".into()))?;
    let csrf = parts
        .iter()
        .find(|p| p.name == "csrf")
        .and_then(|p| std::str::from_utf8(p.body).ok())
        .unwrap_or("");
    staff.check_csrf(csrf)?;
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .map_or(&[][..], |p| p.body);
    match schools_import::import(
        &state.db,
        &staff.actor(),
        file,
        schools_import::Source::File("upload"),
    )
    .await
    {
        Ok(done) => staff.page("staff/import.html", context! { done => Serde(done) }),
        Err(ImportError::Rows(problems)) => {
            staff
                .audit(
                    &state,
                    "schools-import-refused",
                    &format!("{} problems (upload)", problems.len()),
                )
                .await?;
            staff.page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                "staff/import.html",
                context! { problems => Serde(problems) },
            )
        }
        Err(ImportError::Database(e)) => Err(e.into()),
    }
}

pub fn config(routes: &mut Routes<'_>) {
    routes
        .get("/admin/import", import_page)
        .post("/admin/import", import_upload);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_body_splits_into_named_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"s.csv\"\r\nContent-Type: text/csv\r\n\r\na,b\r\nc,d\r\n--XyZ--\r\n";
        let parts = multipart_parts("multipart/form-data; boundary=XyZ", body).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].body, b"abc");
        assert_eq!(parts[1].name, "file");
        assert_eq!(parts[1].body, b"a,b\r\nc,d");
        assert!(multipart_parts("multipart/form-data; boundary=Q", body).is_none());
    }
}
