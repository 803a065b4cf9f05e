//! Cross-cutting request handling: privacy-safe request logs, bodies
//! handed over in pieces, and a deadline for request bodies.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::ConnectionType;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_core::Stream;

use crate::state::AppState;
use crate::web::error::error_page;

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

/// The rate below which a request body is too slow: 16 KiB a second. A
/// form of a few kilobytes gets the base time alone; the largest upload
/// (2 MiB) gets two minutes more.
pub const SLOWEST_BODY_BYTES_PER_SECOND: u64 = 16 * 1024;

/// Cuts off a request body that arrives too slowly, so that a client
/// dripping its body a byte at a time cannot hold a connection and a worker
/// (the request head has its own time-out). The body may take the
/// configured base time plus one second per [`SLOWEST_BODY_BYTES_PER_SECOND`]
/// it declares; after that reading it fails, and the answer is 408 with the
/// connection closed, whatever the handler made of the failed read.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let chunked = req
        .headers()
        .get(header::TRANSFER_ENCODING)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let settings = &state.settings;
    let length = match declared {
        Some(0) | None if !chunked => {
            return Ok(next.call(req).await?.map_into_boxed_body());
        }
        Some(length) => length,
        // A chunked body declares no length: it gets the time of the
        // largest upload accepted (a schools file, 2 MiB).
        None => 2 * 1024 * 1024,
    };
    let allowed = Duration::from_secs(
        u64::from(settings.body_timeout_seconds) + length / SLOWEST_BODY_BYTES_PER_SECOND,
    );
    let expired = Arc::new(AtomicBool::new(false));
    let payload = Deadline {
        inner: req.take_payload(),
        sleep: Box::pin(tokio::time::sleep(allowed)),
        expired: expired.clone(),
    };
    req.set_payload(Payload::Stream {
        payload: Box::pin(payload),
    });
    let response = next.call(req).await?;
    if !expired.load(Ordering::Relaxed) {
        return Ok(response.map_into_boxed_body());
    }
    tracing::info!("cut off a request body that arrived too slowly");
    let mut page = error_page(
        StatusCode::REQUEST_TIMEOUT,
        "The page took too long to send. Please try again.",
    );
    page.head_mut().set_connection_type(ConnectionType::Close);
    let (request, _) = response.into_parts();
    Ok(ServiceResponse::new(request, page))
}

/// A request body that fails once its time is up.
struct Deadline {
    inner: Payload,
    sleep: Pin<Box<tokio::time::Sleep>>,
    expired: Arc<AtomicBool>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the request body arrived too slowly",
            )))));
        }
        Poll::Pending
    }
}
