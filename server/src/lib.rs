//! The survey server: pupils' pages, staff pages, administration and the command
//! line that runs and administers it.

pub mod admin_cli;
pub mod auth;
pub mod cli;
pub mod db;
pub mod demo;
pub mod domain;
pub mod error;
pub mod forms;
pub mod i18n;
pub mod middleware;
pub mod pieces;
pub mod questionnaires;
pub mod retention;
pub mod routes;
pub mod saves;
pub mod schools_import;
pub mod secret;
pub mod settings;
pub mod sittings;
pub mod startup;
pub mod survey;
pub mod synth;
pub mod telemetry;
pub mod templates;
pub mod throttle;
