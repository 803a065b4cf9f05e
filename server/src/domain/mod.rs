//! Domain types that can only be built by parsing.

pub mod code;

pub use code::{AccessCode, CodeError};
