//! The server secret: the key for hashing access codes, signing pupil and staff
//! sessions and deriving form tokens.
//!
//! It is generated on first run and kept in a file (mode 0600) beside the
//! database, or read from `SECRET_KEY_FILE`. Several servers that share one
//! database must share this file too.

use std::fs;
use std::io::Write;
use std::path::Path;

use hmac::{KeyInit, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretSlice};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Bytes of key material kept in the secret file (stored as hex).
const KEY_LEN: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read the secret key file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot create the secret key file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the secret key file {path} is not valid: it must hold at least 64 hex characters \
         (make one with: head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \\n' > FILE)"
    )]
    Invalid { path: String },
}

/// Key material that never prints.
#[derive(Clone)]
pub struct ServerSecret(SecretSlice<u8>);

impl std::fmt::Debug for ServerSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerSecret(***)")
    }
}

impl ServerSecret {
    /// Reads the secret at `path`, creating it with fresh random bytes if it does
    /// not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, SecretError> {
        let shown = path.display().to_string();
        match fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim()).ok_or(SecretError::Invalid { path: shown }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut bytes);
                write_private(path, hex::encode(&bytes).as_bytes()).map_err(|source| {
                    SecretError::Write {
                        path: shown,
                        source,
                    }
                })?;
                Ok(Self(bytes.into()))
            }
            Err(source) => Err(SecretError::Read {
                path: shown,
                source,
            }),
        }
    }

    /// A secret from hex text (at least 32 bytes).
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        (bytes.len() >= 32).then(|| Self(bytes.into()))
    }

    /// HMAC-SHA256 of `message` under a key derived for `purpose`, so each use of
    /// the secret has its own key.
    pub fn mac(&self, purpose: &str, message: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed(purpose);
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// 64 bytes of key material derived for `purpose` (for cookie keys).
    pub fn derive_key(&self, purpose: &str) -> [u8; 64] {
        let mut out = [0u8; 64];
        out[..32].copy_from_slice(&self.mac(purpose, b"key-1"));
        out[32..].copy_from_slice(&self.mac(purpose, b"key-2"));
        out
    }

    fn keyed(&self, purpose: &str) -> HmacSha256 {
        let mut base = match HmacSha256::new_from_slice(self.0.expose_secret()) {
            Ok(mac) => mac,
            // HMAC takes keys of any length.
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        base.update(purpose.as_bytes());
        let derived = base.finalize().into_bytes();
        match HmacSha256::new_from_slice(&derived) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts any key length"),
        }
    }
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let first = ServerSecret::load_or_create(&path).unwrap();
        let second = ServerSecret::load_or_create(&path).unwrap();
        assert_eq!(first.mac("x", b"y"), second.mac("x", b"y"));
    }

    #[test]
    fn purposes_get_different_keys() {
        let secret = ServerSecret::from_hex(&"ab".repeat(32)).unwrap();
        assert_ne!(secret.mac("code", b"m"), secret.mac("csrf", b"m"));
    }

    #[test]
    fn a_short_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        std::fs::write(&path, "abcd").unwrap();
        assert!(matches!(
            ServerSecret::load_or_create(&path),
            Err(SecretError::Invalid { .. })
        ));
    }
}
