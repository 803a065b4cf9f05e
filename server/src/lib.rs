//! The survey server: pupils' pages, staff pages, administration and the command
//! line that runs and administers it.
//!
//! The modules are layered, and each may use only those below it:
//!
//! - [`cli`] and [`startup`]: the command line and the assembly of the server;
//! - [`web`]: HTTP routes, forms, templates and middleware;
//! - [`state`]: [`state::AppState`], what every request handler shares;
//! - [`services`]: one function per action, each write one transaction with its
//!   audit entry; the web handlers and the command line call the same ones;
//! - [`store`]: the only code that builds queries;
//! - [`domain`], [`settings`], [`secret`], [`telemetry`]: types and
//!   configuration every layer may use.
//!
//! `.ci/layers.sh` fails the build on an import that goes back up.

pub mod cli;
pub mod domain;
pub mod secret;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod web;
