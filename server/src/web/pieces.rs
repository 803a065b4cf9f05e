//! Page bodies handed to actix-web a few kilobytes at a time.
//!
//! actix-web copies a response body into the connection's write buffer
//! before sending it, and keeps that buffer, grown to the largest response
//! the connection has sent, for as long as the connection stays open (up to
//! 128 kB). A pupil's page is 3 to 13 kB, so every open connection that had
//! been sent a larger page kept a buffer of 16 kB or more. Handed over in
//! pieces of [`PIECE`] bytes, with actix-web writing out whatever it holds
//! once it reaches [`WRITE_AT`] bytes (see `startup`), a response never needs
//! more than the 8 kB buffer each connection starts with, and most pages
//! still leave in one write together with their head.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

/// The largest piece of a body handed over at once.
pub const PIECE: usize = 6 * 1024;

/// The buffered bytes at which actix-web writes out. A response head
/// shorter than this goes out with the first piece of its body; below this,
/// plus a piece, is at most one byte under the 8 kB each connection's write
/// buffer starts with.
pub const WRITE_AT: usize = 2 * 1024;

const _: () = assert!(WRITE_AT - 1 + PIECE < 8 * 1024);

/// A complete body, sent [`PIECE`] bytes at a time with its full length
/// announced in `Content-Length`.
pub struct Pieces {
    len: u64,
    rest: Bytes,
}

impl Pieces {
    pub fn new(body: impl Into<Bytes>) -> Self {
        let rest = body.into();
        Self {
            len: rest.len() as u64,
            rest,
        }
    }
}

impl MessageBody for Pieces {
    type Error = Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.len)
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        if this.rest.is_empty() {
            return Poll::Ready(None);
        }
        let take = this.rest.len().min(PIECE);
        Poll::Ready(Some(Ok(this.rest.split_to(take))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn pieces_are_small_and_add_up_to_the_body() {
        let body: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut pieces = Pieces::new(body.clone());
        assert_eq!(pieces.size(), BodySize::Sized(10_000));
        let mut joined = Vec::new();
        let mut sizes = Vec::new();
        while let Some(piece) = std::future::poll_fn(|cx| Pin::new(&mut pieces).poll_next(cx)).await
        {
            let piece = piece.unwrap();
            sizes.push(piece.len());
            joined.extend_from_slice(&piece);
        }
        assert_eq!(sizes, [PIECE, 10_000 - PIECE]);
        assert_eq!(joined, body);
        assert_eq!(
            pieces.size(),
            BodySize::Sized(10_000),
            "the length announced stays the whole"
        );
        let empty = Pieces::new(Vec::new());
        assert_eq!(empty.size(), BodySize::Sized(0));
    }
}
