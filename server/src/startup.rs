//! Building the application: open and migrate the database, load reference data
//! and questionnaires, read the secret, bind the listener, and assemble routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::{BrowserSession, CookieContentSecurity};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::web::error::AppError;
use crate::web::forms;

use crate::secret::{SecretError, ServerSecret};
use crate::services::locales::{LocaleError, Locales};
use crate::services::questionnaires::{Catalogue, CatalogueError};
use crate::services::throttle::Throttle;
use crate::settings::{Settings, redact_url};
use crate::state::{AppState, CODE_FAILURE_LIMIT};
use crate::store;
use crate::store::journey::Store;
use crate::web as site;
use crate::web::middleware::{body_deadline, request_log, send_in_pieces};

/// Why the server could not start. Each variant prints as one plain line.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("the database URL {0} is not valid: it must start with sqlite:// or postgres://")]
    BadDatabaseUrl(String),
    #[error("cannot use the data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error("cannot open the database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("cannot bring the database schema up to date: {0}")]
    Migration(sea_orm::DbErr),
    #[error("cannot load reference data: {0}")]
    Reference(sea_orm::DbErr),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Questionnaire(#[from] CatalogueError),
    #[error(transparent)]
    Locales(#[from] LocaleError),
    #[error("cannot listen on {addr}: {source} (is another server already using that port?)")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
}

/// The database, secret and questionnaires, ready for the server or a subcommand.
pub async fn prepare(settings: &Settings) -> Result<AppState, StartupError> {
    let url = settings.database_url();
    let is_sqlite = url.starts_with("sqlite:");
    if !is_sqlite && !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
        return Err(StartupError::BadDatabaseUrl(redact_url(&url)));
    }
    if settings.database_url.is_none() || settings.secret_key_file.is_none() {
        ensure_writable_dir(&settings.data_dir)?;
    }
    let secret = ServerSecret::load_or_create(&settings.secret_key_path())?;
    let db = store::connect(&url, settings.durability)
        .await
        .map_err(|source| StartupError::Database {
            url: redact_url(&url),
            source,
        })?;
    store::migrate(&db).await.map_err(StartupError::Migration)?;
    store::reference::load_council_areas(&db)
        .await
        .map_err(StartupError::Reference)?;
    let catalogue = Catalogue::load(&db, settings.questionnaires.as_deref()).await?;
    let locales = Locales::load(settings.locales.as_deref())?;
    warn_about_commit_timestamps(&db).await;
    let file = crate::store::direct::DirectSqlite::for_connection(&db, settings.durability);
    let store =
        Store::open(db.clone(), file, usize::from(settings.release_batch)).map_err(|source| {
            StartupError::Database {
                url: redact_url(&url),
                source,
            }
        })?;
    Ok(AppState {
        store,
        db,
        secret,
        catalogue: Arc::new(catalogue),
        settings: Arc::new(settings.clone()),
        locales: Arc::new(locales),
        code_throttle: Arc::new(Throttle::new(CODE_FAILURE_LIMIT)),
        sittings: Arc::new(crate::services::survey::SittingCache::default()),
        staff: Arc::new(crate::services::auth::StaffGuard::new(
            settings.sign_in_queue,
        )),
        exports: Arc::new(tokio::sync::Semaphore::new(1)),
        gss_codes: Arc::default(),
        languages: Arc::default(),
    })
}

/// With `track_commit_timestamp` on, PostgreSQL records when every row was
/// written, which would date each code's use to the second. Warns at
/// start-up (see docs/security.md).
async fn warn_about_commit_timestamps(db: &store::Db) {
    if let Ok(true) = store::commit_timestamps_tracked(db).await {
        tracing::warn!(
            "PostgreSQL's track_commit_timestamp is on: it records when each code was used; \
             turn it off (see docs/security.md)"
        );
    }
}

fn ensure_writable_dir(path: &std::path::Path) -> Result<(), StartupError> {
    let shown = path.display().to_string();
    std::fs::create_dir_all(path).map_err(|e| StartupError::DataDir {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    let probe = path.join(".write-test");
    std::fs::write(&probe, b"ok")
        .and_then(|()| std::fs::remove_file(&probe))
        .map_err(|e| StartupError::DataDir {
            path: shown,
            reason: e.to_string(),
        })
}

/// Pupil sessions live in an encrypted cookie, so every instance can serve
/// every request. SameSite=Strict keeps other sites from using it.
fn pupil_sessions(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("pupil".to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build()
}

/// Staff sessions: an encrypted cookie sent only to `/staff`, never kept past
/// the browser session, and ended by the server after the idle timeout.
fn staff_sessions(key: Key, secure: bool) -> SessionMiddleware<CookieSessionStore> {
    SessionMiddleware::builder(CookieSessionStore::default(), key)
        .cookie_name("staff".to_owned())
        .cookie_path("/staff".to_owned())
        .cookie_secure(secure)
        .cookie_http_only(true)
        .cookie_same_site(SameSite::Strict)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default())
        .build()
}

/// Headers on every response: a strict content security policy with no inline
/// script, no framing, no referrer, no sniffing, and no caching of pages.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("X-Frame-Options", "DENY"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        ))
        .add(("Cache-Control", "no-store"))
}

/// How long a client has to send a request's head (line and headers).
pub const REQUEST_HEAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How long an idle kept-alive connection stays open.
pub const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

async fn not_found() -> actix_web::Result<HttpResponse> {
    Err(AppError::NotFound.into())
}

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        if let Some(warning) = settings.exposure_warning() {
            tracing::warn!("{warning}");
        }
        let state = prepare(&settings).await?;
        crate::services::sittings::spawn_closer(
            state.db.clone(),
            state.store.clone(),
            state.catalogue.clone(),
        );
        Self::with_state(state)
    }

    pub fn with_state(state: AppState) -> Result<Self, StartupError> {
        let addr = state.settings.bind;
        let listener = TcpListener::bind(addr).map_err(|source| StartupError::Bind {
            addr: addr.to_string(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartupError::Bind {
                addr: addr.to_string(),
                source,
            })?
            .port();
        let data = web::Data::new(state.clone());
        let pupil_key = Key::from(&state.secret.derive_key("pupil-session"));
        let staff_key = Key::from(&state.secret.derive_key("staff-session"));
        let secure = state.settings.secure_cookies;
        let max_body = state.settings.max_body_bytes;
        let server = HttpServer::new(move || {
            // Only responses that carry no secret are compressed: the
            // stylesheet and scripts, and export downloads (see
            // `web::assets` and `web::staff::exports`). A compressed
            // page holding a form token next to text an attacker can put
            // there leaks the token by its length (BREACH), and compressing a
            // pupil's page on the blocking pool cost more than sending it.
            App::new()
                .wrap(security_headers())
                .wrap(from_fn(request_log))
                .wrap(from_fn(send_in_pieces))
                .wrap(from_fn(body_deadline))
                .app_data(data.clone())
                .app_data(forms::form_config(max_body))
                .app_data(forms::query_config())
                .app_data(web::PayloadConfig::new(max_body))
                .configure(site::health::config)
                .configure(site::assets::config)
                .configure(site::check::config)
                .service(
                    web::scope(site::staff::routes::SCOPE)
                        // Inside the session, to know who was refused.
                        .wrap(from_fn(site::staff::audit_forbidden))
                        .wrap(staff_sessions(staff_key.clone(), secure))
                        .configure(site::staff::config),
                )
                .service(
                    web::scope("")
                        .wrap(pupil_sessions(pupil_key.clone(), secure))
                        .configure(site::pupil::config),
                )
                .default_service(web::to(not_found))
        })
        .shutdown_timeout(10)
        // A response written in more than one piece (a compressed or streamed
        // body) must not wait for the client's delayed acknowledgement of the
        // first piece: up to 40 ms a page.
        .tcp_nodelay(true)
        // Write out what is buffered once it reaches 2 kB: with bodies
        // handed over in pieces (`send_in_pieces`), no connection's write
        // buffer then grows past the 8 kB it starts with (see `pieces`).
        .h1_write_buffer_size(crate::web::pieces::WRITE_AT)
        // A client must send its whole request head within this time, and an
        // idle kept-alive connection is closed after KEEP_ALIVE, so slow or
        // idle clients cannot hold connections open (slowloris).
        .client_request_timeout(REQUEST_HEAD_TIMEOUT)
        .client_disconnect_timeout(std::time::Duration::from_secs(2))
        .keep_alive(KEEP_ALIVE)
        .listen(listener)
        .map_err(|source| StartupError::Bind {
            addr: addr.to_string(),
            source,
        })?
        .run();
        Ok(Self {
            port,
            server,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT or SIGTERM, then finishes requests in flight and
    /// closes the database (the writer's last checkpoint included).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await?;
        if let Err(error) = self.state.close().await {
            tracing::warn!(%error, "closing the database after shutdown");
        }
        Ok(())
    }
}
