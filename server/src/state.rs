//! [`AppState`]: what every request handler and subcommand shares.

use std::sync::Arc;

use crate::domain::AccessCode;
use crate::secret::ServerSecret;
use crate::services::locales::Locales;
use crate::services::questionnaires::Catalogue;
use crate::services::sittings;
use crate::services::throttle::{Limit, Throttle};
use crate::settings::Settings;
use crate::store::Db;
use crate::store::journey::Store;

/// What every part of the server shares: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub secret: ServerSecret,
    pub catalogue: Arc<Catalogue>,
    pub settings: Arc<Settings>,
    pub locales: Arc<Locales>,
    /// The pupil journey's reads and writes (see [`crate::store::journey`]).
    pub store: Store,
    /// Failed code entries per client address.
    pub code_throttle: Arc<Throttle>,
    /// Sittings read by pupil pages (see [`crate::services::survey::SittingCache`]).
    pub sittings: Arc<crate::services::survey::SittingCache>,
    /// Staff password hashing and login failure budgets.
    pub staff: Arc<crate::services::auth::StaffGuard>,
    /// One export computed at a time on this server: each takes every core
    /// for seconds, on threads of its own.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Partnerships' GSS codes by id, for pupil pages' links.
    pub gss_codes: Arc<crate::services::partnerships::GssCodes>,
    /// The languages partnerships offer, for the code screen and code entry.
    pub languages: Arc<crate::services::partnerships::OfferedLanguages>,
}

/// Misses (well-formed codes that do not exist) allowed per address: a burst
/// of 100, then one every 30 seconds. Typing mistakes are caught by the check
/// character and cost nothing, so a school behind one address never meets the
/// limit. See the README's "Why codes resist guessing".
pub const CODE_FAILURE_LIMIT: Limit = Limit {
    burst: 100.0,
    per_second: 1.0 / 30.0,
};

impl AppState {
    /// Writes what is queued, then closes every connection to the database.
    pub async fn close(&self) -> Result<(), sea_orm::DbErr> {
        self.store.stop().await;
        self.db.clone().close().await
    }

    /// The keyed hash under which a code is stored (see
    /// [`sittings::code_hash`]).
    pub fn code_hash(&self, code: &AccessCode) -> String {
        sittings::code_hash(&self.secret, code)
    }

    /// What closing a sitting needs.
    pub fn closer(&self) -> sittings::Closer<'_> {
        sittings::Closer {
            db: &self.db,
            store: &self.store,
            catalogue: &self.catalogue,
        }
    }
}
