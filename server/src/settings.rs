//! Typed settings, from command-line flags or the matching environment variables.
//! Every setting is documented in the README's Configuration table.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// Settings shared by the server and every administration subcommand.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Address and port to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,

    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST/DB.
    /// Defaults to a SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Directory for the SQLite database and the generated secret key.
    #[arg(long, env = "DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Extra questionnaire files (*.toml) to load beside the built-in ones.
    #[arg(long, env = "QUESTIONNAIRES", global = true)]
    pub questionnaires: Option<PathBuf>,

    /// File holding the server secret (hex). Created in the data directory when not given.
    #[arg(long, env = "SECRET_KEY_FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,

    /// SQLite commit durability: `full` waits for fsync on every commit.
    #[arg(
        long,
        env = "DURABILITY",
        value_enum,
        default_value = "full",
        global = true
    )]
    pub durability: Durability,

    /// Finished responses are written to the results table at least this
    /// many of a sitting at a time, shuffled (all that remain when the
    /// sitting closes). At least 2.
    #[arg(
        long,
        env = "RELEASE_BATCH",
        default_value_t = 5,
        value_parser = clap::value_parser!(u16).range(2..),
        global = true
    )]
    pub release_batch: u16,

    /// Address printed on code slips and in QR codes (defaults to http://BIND).
    #[arg(long, env = "PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Minutes an idle pupil page waits before returning to the code screen.
    #[arg(long, env = "PUPIL_IDLE_MINUTES", default_value_t = 20, global = true)]
    pub pupil_idle_minutes: u32,

    /// Minutes of inactivity after which a staff session ends.
    #[arg(long, env = "STAFF_IDLE_MINUTES", default_value_t = 30, global = true)]
    pub staff_idle_minutes: u32,

    /// Hours after sign-in at which a staff session ends however active.
    #[arg(long, env = "STAFF_SESSION_HOURS", default_value_t = 12, global = true)]
    pub staff_session_hours: u32,

    /// Sign-ins that may wait for a password check at once; more are asked
    /// to try again in a few seconds (503).
    #[arg(long, env = "SIGN_IN_QUEUE", default_value_t = 64, global = true)]
    pub sign_in_queue: usize,

    /// Mark cookies Secure (set this when the server is behind https).
    #[arg(long, env = "SECURE_COOKIES", default_value_t = false, global = true)]
    pub secure_cookies: bool,

    /// Extra pupil-facing locale files (*.toml) beside the built-in English.
    #[arg(long, env = "LOCALES", global = true)]
    pub locales: Option<PathBuf>,

    /// Your own reverse proxies, as addresses or networks (comma-separated,
    /// e.g. 10.0.0.0/8,192.0.2.7). Only from these is the forwarding header
    /// read; the client is its rightmost address that is not one of them.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_delimiter = ',',
        value_parser = parse_proxy,
        global = true
    )]
    pub trusted_proxies: Vec<ipnet::IpNet>,

    /// The header the trusted proxies set: `x-forwarded-for`, or `forwarded`
    /// (RFC 7239). The other one is ignored.
    #[arg(
        long,
        env = "PROXY_HEADER",
        value_enum,
        default_value = "x-forwarded-for",
        global = true
    )]
    pub proxy_header: ProxyHeader,

    /// Largest request body accepted, in bytes (larger ones get 413).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 65_536, global = true)]
    pub max_body_bytes: usize,

    /// Seconds a request body may take to arrive, plus one second for each
    /// 16 KiB it declares; a slower body is cut off with 408.
    #[arg(
        long,
        env = "BODY_TIMEOUT_SECONDS",
        default_value_t = 10,
        global = true
    )]
    pub body_timeout_seconds: u32,

    /// Do not create the demo CPP, school, login and sitting on an empty database.
    #[arg(long, env = "NO_DEMO", default_value_t = false, global = true)]
    pub no_demo: bool,
}

impl Settings {
    /// The database URL in force: the one given, or SQLite under the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("survey.sqlite").display()
            ),
        }
    }

    pub fn secret_key_path(&self) -> PathBuf {
        self.secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"))
    }

    /// Why pupils' privacy on shared devices is at risk with these
    /// settings, if it is: served beyond this machine without https or
    /// without Secure cookies. Browsers honour `Clear-Site-Data` only over
    /// https, and cookies not marked Secure can leave over plain http.
    pub fn exposure_warning(&self) -> Option<String> {
        if self.bind.ip().is_loopback() {
            return None;
        }
        let mut problems = Vec::new();
        if !self.public_url().starts_with("https://") {
            problems.push("PUBLIC_URL is not an https:// address");
        }
        if !self.secure_cookies {
            problems.push("SECURE_COOKIES is off");
        }
        (!problems.is_empty()).then(|| {
            format!(
                "listening on {} beyond this machine, but {}: serve pupils only over https \
                 behind a proxy, with SECURE_COOKIES=true and an https PUBLIC_URL \
                 (browsers clear a shared device only over https)",
                self.bind,
                problems.join(" and ")
            )
        })
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// Settings for a test server: port 0 on loopback, the given database and
    /// data directory, no demo.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: Some(database_url),
            data_dir,
            questionnaires: None,
            secret_key_file: None,
            durability: Durability::Full,
            release_batch: 5,
            public_url: None,
            pupil_idle_minutes: 20,
            staff_idle_minutes: 30,
            staff_session_hours: 12,
            sign_in_queue: 64,
            secure_cookies: false,
            no_demo: true,
            locales: None,
            trusted_proxies: Vec::new(),
            proxy_header: ProxyHeader::XForwardedFor,
            max_body_bytes: 65_536,
            body_timeout_seconds: 10,
        }
    }
}

/// Hides the password of a database URL, for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serving_beyond_loopback_without_https_is_warned_about() {
        let mut settings = Settings::for_tests("sqlite::memory:".into(), PathBuf::from("data"));
        assert_eq!(settings.exposure_warning(), None, "loopback is fine");
        settings.bind = SocketAddr::from(([0, 0, 0, 0], 8080));
        let warning = settings.exposure_warning().unwrap();
        assert!(warning.contains("PUBLIC_URL") && warning.contains("SECURE_COOKIES"));
        settings.public_url = Some("https://survey.example.scot".into());
        settings.secure_cookies = true;
        assert_eq!(settings.exposure_warning(), None);
        settings.secure_cookies = false;
        assert!(
            settings
                .exposure_warning()
                .unwrap()
                .contains("SECURE_COOKIES")
        );
    }

    #[test]
    fn a_database_password_never_shows() {
        assert_eq!(
            redact_url("postgres://survey:hunter2@db.example/survey"),
            "postgres://survey:***@db.example/survey"
        );
        assert_eq!(
            redact_url("sqlite://data/survey.sqlite"),
            "sqlite://data/survey.sqlite"
        );
    }
}

/// How SQLite commits: `Full` waits for fsync before a commit returns, so an
/// acknowledged page save survives a power cut; `Normal` (in WAL mode) may lose
/// the last commits on power loss but never corrupts the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    Full,
    Normal,
}

/// The header trusted proxies put the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// Reads a trusted proxy as given on the command line: a network in CIDR
/// form (`10.0.0.0/8`) or one address (`10.0.0.5`).
pub fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            format!("{text:?} is not an address or a network such as 10.0.0.0/8 or 2001:db8::/32")
        })
}
