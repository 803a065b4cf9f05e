//! Aggregation and disclosure control.
