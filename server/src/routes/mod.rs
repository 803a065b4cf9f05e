//! HTTP routes, one folder per feature, each with a `config` function.

pub mod assets;
pub mod health;
pub mod pupil;
pub mod staff;
