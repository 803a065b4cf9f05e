//! Cross-cutting request handling: request ids and privacy-safe request logs,
//! and bodies handed over in pieces.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use rand::Rng;
use tracing::Instrument;

use crate::pieces::{self, Pieces};

/// Gives each request an id and logs one line when it ends: the method, the
/// matched route pattern (never the raw path, which may hold a code), the status
/// and the duration. No address, user agent, query string or body is logged.
pub async fn request_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = format!("{:016x}", rand::rng().next_u64());
    let method = req.method().to_string();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let span = tracing::info_span!("request", id = %request_id, %method, %route);
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let _entered = span.enter();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &result {
        Ok(response) => {
            let status = response.status().as_u16();
            if status >= 500 {
                tracing::error!(status, elapsed_ms, "request failed");
            } else {
                tracing::info!(status, elapsed_ms, "request");
            }
        }
        Err(error) => tracing::error!(%error, elapsed_ms, "request failed"),
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
