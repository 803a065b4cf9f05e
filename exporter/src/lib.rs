//! Aggregation and disclosure control.
pub mod suppress;
