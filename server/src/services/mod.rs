//! The actions of the product, one function each, called alike by the web
//! handlers and the command line. A write of more than one row runs in one
//! transaction together with its audit entry. Services use the store and the
//! domain types; they know nothing of HTTP.

pub mod accounts;
pub mod auth;
pub mod demo;
pub mod locales;
pub mod partnerships;
pub mod questionnaires;
pub mod retention;
pub mod schools_import;
pub mod sittings;
pub mod survey;
pub mod synth;
pub mod throttle;
pub mod waves;

use crate::store::{self, ConnectionTrait};

/// Who did something, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A signed-in staff member.
    Staff { id: i32, email: String },
    /// An administration subcommand on the server's command line.
    Cli,
    /// The server itself, as when it closes sittings whose window has ended.
    Server,
}

impl Actor {
    pub fn id(&self) -> Option<i32> {
        match self {
            Actor::Staff { id, .. } => Some(*id),
            Actor::Cli | Actor::Server => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::Staff { email, .. } => email,
            Actor::Cli => "cli",
            Actor::Server => "server",
        }
    }

    /// Appends an audit entry for this actor, on `db` (which may be the
    /// transaction of the action it records).
    pub async fn record(
        &self,
        db: &impl ConnectionTrait,
        action: &str,
        detail: &str,
    ) -> Result<(), store::Error> {
        store::audit::record(db, self.id(), self.name(), action, detail).await
    }
}
