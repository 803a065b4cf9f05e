//! Staff accounts: roles and what each may reach, password hashing and the
//! password rules, and the failure budgets that slow down guessing.
//!
//! Passwords are hashed with argon2id at [`HASH_PARAMS`] (12 MiB, 3 passes, one
//! lane), by libsodium. A hash costs about 10 ms of one core and 12 MiB, so
//! hashes run on [`CONCURRENT_HASHES`] threads of their own, one at a time
//! each: a burst of logins queues instead of exhausting memory or starving the
//! async workers. A hash stored with other parameters still verifies, and is
//! replaced at the account's next successful sign-in ([`needs_rehash`]).
//!
//! libsodium and the argon2 crate compute the same function and write the
//! same PHC strings, and each verifies the other's. libsodium's hand-written
//! vector code, chosen for the processor at run time, takes about two thirds
//! of the argon2 crate's time on the same hash; twenty sign-ins at once on two
//! cores wait for ten hashes each. The argon2 crate still checks the stored
//! hashes libsodium does not read (argon2i, version 1.0, more than one lane).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, Version};

use crate::services::throttle::{GENERATION, Limit, Recent, Throttle};
use crate::store::schools::School;

/// The argon2id cost of every new password hash: 12 MiB of memory, 3 passes,
/// one lane. This is one of the settings OWASP's Password Storage Cheat Sheet
/// lists as giving the same defence as the argon2 crate's default (19 MiB,
/// 2 passes): memory times passes, which bounds how many guesses an attacker's
/// memory allows per second, is 36 MiB against 38 MiB. It hashes a little
/// faster, which a burst of sign-ins on a small server queues for, and each
/// hash holds 12 MiB instead of 19 MiB.
pub const HASH_PARAMS: Params = match Params::new(12 * 1024, 3, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("invalid argon2 parameters"),
};

/// Password hashes allowed to run at the same time (2 × 12 MiB). Hashing is
/// pure computation, so more threads than a small server's cores would only
/// hold more memory without signing anyone in sooner.
pub const CONCURRENT_HASHES: usize = 2;

/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Failed logins per address: a burst of 30, then one every 10 seconds.
pub const LOGIN_ADDRESS_LIMIT: Limit = Limit {
    burst: 30.0,
    per_second: 0.1,
};

/// Failed sign-ins in a row on one e-mail address typed (known or not)
/// after which addresses that have failed must wait between attempts.
pub const DELAY_AFTER_FAILURES: u32 = 5;

/// The wait after [`DELAY_AFTER_FAILURES`] failures; it doubles with each
/// further failure, up to [`LONGEST_DELAY`].
pub const FIRST_DELAY: Duration = Duration::from_secs(15);
pub const LONGEST_DELAY: Duration = Duration::from_secs(15 * 60);

/// Sign-ins that may wait for a hashing thread; one more is answered "busy"
/// at once (503) rather than queued without end. At about 15 ms a hash on
/// two threads, a full queue is half a second of work.
pub const HASH_QUEUE: usize = 64;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

pub use crate::domain::Role;

/// A signed-in staff member and the scope of their role.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StaffUser {
    pub id: i32,
    pub email: String,
    pub role: Role,
    pub cpp_id: Option<i32>,
    pub school_id: Option<i32>,
}

impl StaffUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this person may see and run sittings at `school`.
    pub fn may_use_school(&self, school: &School) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator => self.cpp_id == Some(school.cpp_id),
            Role::School => self.school_id == Some(school.id),
            Role::Analyst => false,
        }
    }

    /// Whether this person may see a partnership's schools and change its settings.
    pub fn may_use_cpp(&self, cpp_id: i32) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator => self.cpp_id == Some(cpp_id),
            Role::Analyst | Role::School => false,
        }
    }

    /// Whether this person may download a partnership's aggregated results.
    pub fn may_export_cpp(&self, cpp_id: i32) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Coordinator | Role::Analyst => self.cpp_id == Some(cpp_id),
            Role::School => false,
        }
    }
}

/// Why a new password is refused. Each reads as a sentence for a form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("Password must be at least 12 characters long")]
    TooShort,
    #[error("Password must be 200 characters or fewer")]
    TooLong,
    #[error("Password is too common: choose one that is harder to guess")]
    Common,
    #[error("Password must not contain your e-mail address")]
    ContainsEmail,
}

/// Checks a new password against the rules: long enough, not on the list of
/// common passwords (also with trailing digits and symbols taken off), and not
/// the e-mail address.
pub fn check_password(password: &str, email: &str) -> Result<(), PasswordProblem> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(PasswordProblem::TooShort);
    }
    if length > 200 {
        return Err(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    let stem = lower.trim_end_matches(|c: char| !c.is_alphabetic());
    if is_common(&lower) || (!stem.is_empty() && is_common(stem)) {
        return Err(PasswordProblem::Common);
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if local.len() >= 4 && lower.contains(&local) {
        return Err(PasswordProblem::ContainsEmail);
    }
    Ok(())
}

fn is_common(candidate: &str) -> bool {
    COMMON_PASSWORDS
        .lines()
        .filter(|line| !line.starts_with('#'))
        .any(|line| line == candidate)
}

/// A fresh password of 20 characters from an alphabet without look-alikes
/// (about 110 bits), for generated accounts.
pub fn generate_password() -> String {
    use rand::RngExt;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// A random token (256 bits, hex) for one-time links.
pub fn random_token() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

type HashJob = Box<dyn FnOnce() + Send>;

/// Starts `count` threads that run password hashing jobs one at a time each,
/// fed by a queue that holds at most `queue` waiting jobs.
fn start_hashing_threads(count: usize, queue: usize) -> std::sync::mpsc::SyncSender<HashJob> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<HashJob>(queue);
    let receiver = Arc::new(std::sync::Mutex::new(receiver));
    for index in 0..count {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-hash-{index}"))
            .spawn(move || {
                loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => break,
                    }
                }
            });
        if let Err(error) = spawned {
            // Start-up code: without these threads no one could sign in.
            panic!("cannot start the password hashing threads: {error}");
        }
    }
    sender
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing thread is busy and the queue is full: try again shortly.
    #[error("every password hashing thread is busy and the queue is full")]
    Busy,
    #[error("the password hashing threads have stopped")]
    Stopped,
    #[error("hashing a password: {0}")]
    Failed(String),
}

/// Login guards shared by every request on this server instance.
#[derive(Debug)]
pub struct StaffGuard {
    /// Password hashing runs on a few threads of its own: each argon2 hash
    /// takes 12 MiB, and keeping the work on a fixed handful of threads
    /// bounds both the memory in use and the memory the allocator keeps.
    hashing: std::sync::mpsc::SyncSender<HashJob>,
    pub address_failures: Throttle<IpAddr>,
    pub delays: SignInDelays,
}

impl Default for StaffGuard {
    fn default() -> Self {
        Self::new(HASH_QUEUE)
    }
}

impl StaffGuard {
    /// Guards with a hashing queue of `queue` waiting sign-ins.
    pub fn new(queue: usize) -> Self {
        Self {
            hashing: start_hashing_threads(CONCURRENT_HASHES, queue),
            address_failures: Throttle::new(LOGIN_ADDRESS_LIMIT),
            delays: SignInDelays::default(),
        }
    }

    /// Hashes a password (argon2id at [`HASH_PARAMS`], random salt) as a PHC string.
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.limited(move || hash_now(&password))
            .await?
            .map_err(|e| HashError::Failed(e.to_string()))
    }

    /// Checks a password against a stored hash. With no stored hash (an unknown
    /// account) a dummy hash is checked instead, so the answer takes as long
    /// either way and says nothing about which accounts exist.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, HashError> {
        let password = password.to_owned();
        let known = stored.is_some();
        let stored = match stored {
            Some(hash) => hash.to_owned(),
            None => dummy_hash()
                .map_err(|e| HashError::Failed(e.to_string()))?
                .to_owned(),
        };
        let matches = self.limited(move || verify_now(&password, &stored)).await?;
        Ok(known && matches)
    }

    /// Runs `work` on a hashing thread, or refuses at once when the queue
    /// in front of them is full.
    async fn limited<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.hashing
            .try_send(Box::new(move || {
                let _ = done.send(work());
            }))
            .map_err(|error| match error {
                std::sync::mpsc::TrySendError::Full(_) => HashError::Busy,
                std::sync::mpsc::TrySendError::Disconnected(_) => HashError::Stopped,
            })?;
        result.await.map_err(|_| HashError::Stopped)
    }
}

/// Failed sign-ins in a row per e-mail address typed, known or not, kept in
/// this server's memory. After [`DELAY_AFTER_FAILURES`] of them, an address
/// that has itself failed recently must wait [`SignInDelays::delay`] after
/// the last failure before trying again; an address that has not failed is
/// never made to wait, so nobody can lock a colleague out by typing their
/// address wrongly on purpose. A successful sign-in clears the count.
#[derive(Debug)]
pub struct SignInDelays {
    failures: Recent<String, Failures>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Default for SignInDelays {
    fn default() -> Self {
        Self {
            failures: Recent::new(GENERATION),
        }
    }
}

impl SignInDelays {
    /// The wait after `failures` failures in a row: none before
    /// [`DELAY_AFTER_FAILURES`], then [`FIRST_DELAY`] doubling with each
    /// failure up to [`LONGEST_DELAY`].
    pub fn delay(failures: u32) -> Duration {
        match failures.checked_sub(DELAY_AFTER_FAILURES) {
            None => Duration::ZERO,
            Some(beyond) => FIRST_DELAY
                .saturating_mul(1u32.checked_shl(beyond).unwrap_or(u32::MAX))
                .min(LONGEST_DELAY),
        }
    }

    /// How much longer attempts on `email` must wait, from an address that
    /// has failed; `None` when they need not.
    pub fn wait(&self, email: &str) -> Option<Duration> {
        let failures = self.failures.read(&email.to_owned(), |f| *f)?;
        let delay = Self::delay(failures.count);
        delay
            .checked_sub(failures.last.elapsed())
            .filter(|left| !left.is_zero())
    }

    /// Counts a failed sign-in on `email`.
    pub fn fail(&self, email: &str) {
        let now = Instant::now();
        self.failures.update(
            &email.to_owned(),
            || Failures {
                count: 0,
                last: now,
            },
            |failures| {
                failures.count = failures.count.saturating_add(1);
                failures.last = now;
            },
        );
    }

    /// A successful sign-in on `email`: the count starts again.
    pub fn succeed(&self, email: &str) {
        self.failures.remove(&email.to_owned());
    }
}

/// The hasher of [`HASH_PARAMS`] in the argon2 crate, for the tests that
/// check libsodium's hashes against it.
#[cfg(test)]
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, HASH_PARAMS)
}

/// Hashes `password` with a random salt on the calling thread, by libsodium:
/// argon2id, version 1.3, [`HASH_PARAMS`], a 16-byte salt and a 32-byte hash.
fn hash_now(password: &str) -> anyhow::Result<String> {
    use alkali::hash::pbkdf::argon2id;
    let passes = usize::try_from(HASH_PARAMS.t_cost())?;
    let bytes = usize::try_from(HASH_PARAMS.m_cost())? * 1024;
    argon2id::store_password(password, passes, bytes)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Checks `password` against a stored PHC string. Hashes of the shape this
/// server makes (argon2id, version 1.3, one lane, a 16-byte salt and a 32-byte
/// hash, at any cost) are checked by libsodium; any other argon2 hash by the
/// argon2 crate. Any malformed stored hash is a mismatch.
fn verify_now(password: &str, stored: &str) -> bool {
    if libsodium_reads(stored) {
        alkali::hash::pbkdf::argon2id::verify_password(password, stored).is_ok()
    } else {
        verify_reusing_memory(password.as_bytes(), stored)
    }
}

/// True for a hash of the shape libsodium's argon2id verifier reads.
fn libsodium_reads(stored: &str) -> bool {
    let Ok(hash) = argon2::PasswordHash::new(stored) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    hash.algorithm.as_str() == Algorithm::Argon2id.as_str()
        && hash.version == Some(Version::V0x13 as u32)
        && params.p_cost() == 1
        && hash.hash.is_some_and(|output| output.len() == 32)
        && hash.salt.is_some_and(|salt| salt.len() == 16)
}

/// True when a stored hash was not made as [`StaffGuard::hash`] makes hashes
/// now (another algorithm, version or cost), so the password should be hashed
/// again once it has been checked. A hash that cannot be read is left alone:
/// it cannot have verified.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(hash) = argon2::PasswordHash::new(stored) else {
        return false;
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let cost = |p: &Params| (p.m_cost(), p.t_cost(), p.p_cost());
    hash.algorithm.as_str() != Algorithm::Argon2id.as_str()
        || hash.version != Some(Version::V0x13 as u32)
        || cost(&params) != cost(&HASH_PARAMS)
}

thread_local! {
    /// The hashing thread's working memory for the argon2 crate, kept between
    /// hashes. Only hashes libsodium does not read come here. Each
    /// verification needs 12 MiB; allocating it afresh every time leaves the
    /// allocator holding a growing heap per thread, while this keeps exactly
    /// one buffer per hashing thread. Hashes that need more (older ones at a
    /// higher cost, until their accounts next sign in) get a buffer of their
    /// own, so the kept one never grows past the current cost.
    static HASH_MEMORY: std::cell::RefCell<Vec<argon2::Block>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks `password` against a PHC string (any argon2 variant, version and
/// parameters it names) in this thread's reused working memory. Any
/// malformed stored hash is a mismatch.
fn verify_reusing_memory(password: &[u8], stored: &str) -> bool {
    use argon2::password_hash::phc::Output;
    use argon2::{Algorithm, Params, Version};
    let Ok(hash) = argon2::PasswordHash::new(stored) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(version)) => version,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    let hashed = if blocks > HASH_PARAMS.block_count() {
        let mut memory = vec![argon2::Block::default(); blocks];
        argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory)
    } else {
        HASH_MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, argon2::Block::default());
            }
            argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])
        })
    };
    // `Output`'s equality is constant-time.
    hashed.is_ok() && Output::new(&out).is_ok_and(|out| out == *expected)
}

/// A hash of a random password, made once, checked for unknown accounts.
fn dummy_hash() -> anyhow::Result<&'static str> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash);
    }
    let hash = hash_now(&generate_password())?;
    Ok(DUMMY.get_or_init(|| hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordHasher;

    #[test]
    fn verification_in_reused_memory_agrees_with_argon2() {
        use argon2::{Algorithm, Params, PasswordVerifier, Version};
        let small = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(1024, 3, 1, Some(24)).unwrap(),
        );
        // Different parameters one after another on one thread: the buffer
        // grows and shrinks in use, and every hash is still exact.
        for argon in [
            small,
            Argon2::default(),
            hasher(),
            Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(2048, 1, 1, None).unwrap(),
            ),
        ] {
            let stored = argon.hash_password(b"correct horse").unwrap().to_string();
            for attempt in [
                &b"correct horse"[..],
                b"correct hors",
                b"",
                b"Correct horse",
            ] {
                assert_eq!(
                    verify_reusing_memory(attempt, &stored),
                    Argon2::default()
                        .verify_password(attempt, stored.as_str())
                        .is_ok(),
                    "{stored} with {attempt:?}"
                );
            }
            assert!(verify_reusing_memory(b"correct horse", &stored));
        }
        for broken in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$bcrypt$x",
        ] {
            assert!(!verify_reusing_memory(b"anything", broken), "{broken}");
        }
    }

    #[test]
    fn libsodium_and_the_argon2_crate_verify_each_others_hashes() {
        use argon2::PasswordVerifier;
        let ours = hash_now("correct horse").unwrap();
        let crate_made = hasher()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        let older = Argon2::default()
            .hash_password(b"correct horse")
            .unwrap()
            .to_string();
        for stored in [&ours, &crate_made, &older] {
            assert!(libsodium_reads(stored), "{stored}");
            for attempt in ["correct horse", "correct hors", "", "Correct horse"] {
                let expected = attempt == "correct horse";
                assert_eq!(
                    verify_now(attempt, stored),
                    expected,
                    "{stored} {attempt:?}"
                );
                assert_eq!(
                    Argon2::default()
                        .verify_password(attempt.as_bytes(), stored.as_str())
                        .is_ok(),
                    expected,
                    "{stored} {attempt:?}"
                );
            }
        }
        // One changed character, in the salt or in the hash, and nothing
        // matches.
        let hash_at = ours.rfind('$').unwrap();
        for at in [hash_at - 5, hash_at + 5] {
            let mut tampered = ours.clone().into_bytes();
            tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).unwrap();
            assert!(!verify_now("correct horse", &tampered), "{tampered}");
        }
    }

    #[test]
    fn hashes_libsodium_does_not_read_are_checked_by_the_argon2_crate() {
        let others = [
            Argon2::new(Algorithm::Argon2i, Version::V0x13, HASH_PARAMS),
            Argon2::new(Algorithm::Argon2id, Version::V0x10, HASH_PARAMS),
            Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(2048, 1, 2, None).unwrap(),
            ),
        ];
        for argon in others {
            let stored = argon.hash_password(b"correct horse").unwrap().to_string();
            assert!(!libsodium_reads(&stored), "{stored}");
            assert!(verify_now("correct horse", &stored), "{stored}");
            assert!(!verify_now("correct hors", &stored), "{stored}");
        }
        for broken in [
            "",
            "$argon2id$",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
        ] {
            assert!(!libsodium_reads(broken), "{broken}");
            assert!(!verify_now("anything", broken), "{broken}");
        }
    }

    #[test]
    fn only_hashes_at_another_cost_need_rehashing() {
        let current = hash_now("plum kettle harbour").unwrap();
        assert!(
            current.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"),
            "new hashes are argon2id at 12 MiB, 3 passes: {current}"
        );
        assert!(!needs_rehash(&current), "{current}");
        let older = Argon2::default()
            .hash_password(b"plum kettle harbour")
            .unwrap()
            .to_string();
        assert!(needs_rehash(&older), "{older}");
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, HASH_PARAMS)
            .hash_password(b"plum kettle harbour")
            .unwrap()
            .to_string();
        assert!(needs_rehash(&argon2i), "{argon2i}");
        for unreadable in ["", "$argon2id$", "$bcrypt$x"] {
            assert!(!needs_rehash(unreadable), "{unreadable}");
        }
    }

    #[test]
    fn short_common_and_email_passwords_are_refused() {
        assert_eq!(
            check_password("short", "a@b.c"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            check_password("password1234", "a@b.c"),
            Err(PasswordProblem::Common)
        );
        assert_eq!(
            check_password("Qwertyuiop123!", "a@b.c"),
            Err(PasswordProblem::Common),
            "trailing digits and symbols do not make a common password safe"
        );
        assert_eq!(
            check_password("jane.smith-rocks", "jane.smith@school.scot"),
            Err(PasswordProblem::ContainsEmail)
        );
        assert_eq!(check_password("plum kettle harbour", "a@b.c"), Ok(()));
    }

    #[test]
    fn generated_passwords_pass_the_rules() {
        for _ in 0..50 {
            let password = generate_password();
            assert_eq!(check_password(&password, "someone@example.org"), Ok(()));
        }
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let guard = StaffGuard::default();
        let hash = guard.hash("plum kettle harbour").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$"),
            "expected argon2id, got {hash}"
        );
        assert!(
            guard
                .verify("plum kettle harbour", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !guard
                .verify("plum kettle harbor", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!guard.verify("plum kettle harbour", None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_hashing_queue_answers_busy_at_once() {
        let guard = StaffGuard::new(1);
        // Hold both hashing threads, then fill the one place in the queue.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(std::sync::Mutex::new(held));
        let (started, running) = std::sync::mpsc::channel::<()>();
        let mut jobs = Vec::new();
        for index in 0..=CONCURRENT_HASHES {
            let (held, started) = (held.clone(), started.clone());
            let mut job = Box::pin(guard.limited(move || {
                let _ = started.send(());
                if let Ok(held) = held.lock() {
                    let _ = held.recv();
                }
            }));
            // The first poll hands the job to the queue.
            let polled = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(job.as_mut().poll(cx).is_pending())
            })
            .await;
            assert!(polled, "the job waits for its thread");
            if index < CONCURRENT_HASHES {
                running.recv().unwrap();
            }
            jobs.push(job);
        }
        // Every hashing thread is held until the end of the test, so an
        // answer that waited for one would never come.
        let answer = tokio::time::timeout(
            Duration::from_secs(10),
            guard.verify("plum kettle harbour", None),
        )
        .await
        .expect("a busy answer must not wait for a hashing thread");
        assert!(matches!(answer, Err(HashError::Busy)));
        for _ in 0..=CONCURRENT_HASHES {
            release.send(()).unwrap();
        }
        for job in jobs {
            assert!(job.await.is_ok(), "queued work still runs");
        }
        assert!(!guard.verify("plum kettle harbour", None).await.unwrap());
    }

    #[test]
    fn sign_in_delays_grow_with_failures_and_end_with_success() {
        assert_eq!(SignInDelays::delay(4), Duration::ZERO);
        assert_eq!(SignInDelays::delay(5), FIRST_DELAY);
        assert_eq!(SignInDelays::delay(6), FIRST_DELAY * 2);
        assert_eq!(SignInDelays::delay(40), LONGEST_DELAY);
        assert_eq!(SignInDelays::delay(u32::MAX), LONGEST_DELAY);
        let delays = SignInDelays::default();
        for _ in 0..4 {
            delays.fail("a@b.scot");
        }
        assert_eq!(delays.wait("a@b.scot"), None);
        delays.fail("a@b.scot");
        assert!(delays.wait("a@b.scot").is_some_and(|d| d <= FIRST_DELAY));
        assert_eq!(delays.wait("c@b.scot"), None);
        delays.succeed("a@b.scot");
        assert_eq!(delays.wait("a@b.scot"), None);
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    fn school_in(cpp_id: i32) -> School {
        School {
            id: 3,
            cpp_id,
            seed_code: "5000000".into(),
            name: "A school".into(),
            sector: "primary".into(),
            is_demo: false,
            roll_p5: 0,
            roll_p6: 0,
            roll_p7: 0,
            roll_s1: 0,
            roll_s2: 0,
            roll_s3: 0,
            roll_s4: 0,
        }
    }

    fn someone(role: Role, cpp_id: Option<i32>, school_id: Option<i32>) -> StaffUser {
        StaffUser {
            id: 1,
            email: "someone@example.org".into(),
            role,
            cpp_id,
            school_id,
        }
    }

    #[test]
    fn an_analyst_exports_their_own_partnership_and_reaches_nothing_else() {
        let analyst = someone(Role::Analyst, Some(7), None);
        let school = school_in(7);
        assert!(analyst.may_export_cpp(7));
        assert!(!analyst.may_export_cpp(8));
        assert!(!analyst.may_use_cpp(7), "no settings or schools list");
        assert!(!analyst.may_use_school(&school), "no sittings");
    }

    #[test]
    fn a_coordinator_reaches_their_partnership_and_its_exports() {
        let coordinator = someone(Role::Coordinator, Some(7), None);
        let school = school_in(7);
        assert!(coordinator.may_use_cpp(7));
        assert!(coordinator.may_export_cpp(7));
        assert!(coordinator.may_use_school(&school));
        assert!(!coordinator.may_use_cpp(8));
        assert!(!coordinator.may_export_cpp(8));
        let school_staff = someone(Role::School, Some(7), Some(3));
        assert!(school_staff.may_use_school(&school));
        assert!(!school_staff.may_export_cpp(7));
        assert!(!school_staff.may_use_cpp(7));
    }
}
