//! Cross-cutting request handling: privacy-safe request logs,
//! and bodies handed over in pieces.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use crate::web::pieces::{self, Pieces};

/// Logs one line when a request ends: the method, the matched route pattern
/// (never the raw path, which may hold a code), the status and the duration,
/// and for a failure its cause. No address, user agent, query string or body
/// is logged.
///
/// One event per request and no span: a span with an id for the lines
/// logged inside it cost about 3% of the page saves the load benchmark
/// measures. The cause of a failure goes into the request's own line instead.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let route = req.match_pattern();
    let started = Instant::now();
    let result = next.call(req).await;
    let elapsed_ms = format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0);
    let route = route.as_deref().unwrap_or("(unmatched)");
    match &result {
        Ok(response) => {
            let status = response.status().as_u16();
            match response.response().error() {
                Some(error) if status >= 500 => {
                    tracing::error!(%method, %route, status, elapsed_ms, error = ?error, "request failed")
                }
                _ if status >= 500 => {
                    tracing::error!(%method, %route, status, elapsed_ms, "request failed")
                }
                _ => tracing::info!(%method, %route, status, elapsed_ms, "request"),
            }
        }
        Err(error) => {
            tracing::error!(%method, %route, elapsed_ms, error = ?error, "request failed")
        }
    }
    result
}

/// Hands every complete body larger than [`pieces::PIECE`] to actix-web in
/// pieces of that size (see [`pieces`]), so that no connection's write buffer
/// grows past the 8 kB it starts with. Streamed bodies (compressed assets and
/// downloads) are left as they are.
pub async fn send_in_pieces(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    Ok(response.map_body(|_, body| match body.try_into_bytes() {
        Ok(bytes) if bytes.len() > pieces::PIECE => BoxBody::new(Pieces::new(bytes)),
        Ok(bytes) => BoxBody::new(bytes),
        Err(body) => BoxBody::new(body),
    }))
}
