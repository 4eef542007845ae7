//! Checking `Authorization: Basic` credentials on an HTTP connection's
//! thread, against the copy of the replicated auth state the state thread
//! publishes ([`SharedAuth`]).
//!
//! A password check costs a full PBKDF2 (100 000 iterations), so:
//! - a good login is remembered for [`LOGIN_CACHE_TTL`], per user, as a
//!   keyed hash (HMAC-SHA256 under a random per-process key) of the
//!   password, next to the stored hash it was checked against. A later
//!   request with the same password costs one HMAC; any change of the
//!   user's password (or the user's removal) makes the entry useless at
//!   once, and it is dropped on the next look.
//! - a failed login is never remembered and always costs the full hash,
//!   an unknown user included (it is checked against a dummy hash), so
//!   guessing stays slow and names cannot be told apart by timing.
//! - at most a fixed number of hashes (the number of CPUs) run at once;
//!   other connections wait for a turn, up to [`PERMIT_WAIT`], then get
//!   `Busy`. A flood of bad logins holds only its own connections' threads.
//!
//! No lock is held across a hash or any IO: the view's read lock only
//! copies an `Arc`, the cache's mutex only looks up or inserts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, RwLock};
use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;

use super::access::Caller;
use super::credentials::Credentials;
use super::password::{PasswordHash, constant_time_eq};
use super::state::AuthState;

/// How long a good login is remembered.
pub const LOGIN_CACHE_TTL: Duration = Duration::from_secs(30);
/// How long a login waits for a turn to hash before it gives up.
pub const PERMIT_WAIT: Duration = Duration::from_secs(10);
/// Above this many remembered logins, expired ones are dropped (and all,
/// if that is not enough): bounded memory whatever the number of users.
const CACHE_CAPACITY: usize = 1024;

/// The replicated auth state as the HTTP threads see it, swapped whole by
/// the state thread after each change it applies.
#[derive(Clone, Default)]
pub struct SharedAuth(Arc<RwLock<Arc<AuthState>>>);

impl SharedAuth {
    pub fn new(state: AuthState) -> SharedAuth {
        SharedAuth(Arc::new(RwLock::new(Arc::new(state))))
    }

    /// The state now; the lock is held for a pointer copy only.
    pub fn current(&self) -> Arc<AuthState> {
        self.0.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn publish(&self, state: AuthState) {
        let state = Arc::new(state);
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = state;
    }
}

/// Why a login did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginError {
    /// Unknown user, wrong password, or an unreadable header.
    Rejected,
    /// Every hashing turn stayed taken for [`PERMIT_WAIT`].
    Busy,
}

struct GoodLogin {
    digest: Vec<u8>,
    /// The stored hash the password was checked against.
    against: PasswordHash,
    at: Instant,
}

pub struct Verifier {
    view: SharedAuth,
    /// None if OpenSSL could not make a key: then nothing is cached.
    cache_key: Option<PKey<Private>>,
    good: Mutex<HashMap<String, GoodLogin>>,
    permits: Permits,
    ttl: Duration,
    hashes: AtomicU64,
}

impl Verifier {
    /// A verifier with the production limits.
    pub fn new(view: SharedAuth) -> Verifier {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Verifier::with_limits(view, cpus, LOGIN_CACHE_TTL, PERMIT_WAIT)
    }

    /// `hashers`: how many hashes may run at once.
    pub fn with_limits(
        view: SharedAuth,
        hashers: usize,
        ttl: Duration,
        wait: Duration,
    ) -> Verifier {
        let mut key = [0u8; 32];
        let cache_key = openssl::rand::rand_bytes(&mut key)
            .ok()
            .and_then(|()| PKey::hmac(&key).ok());
        Verifier {
            view,
            cache_key,
            good: Mutex::new(HashMap::new()),
            permits: Permits {
                free: Mutex::new(hashers),
                returned: Condvar::new(),
                wait,
            },
            ttl,
            hashes: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> Arc<AuthState> {
        self.view.current()
    }

    /// How many full hashes this verifier computed (logins and new
    /// passwords): what the cache saves is visible here.
    pub fn hashes_computed(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// Who is asking, checked against `state` (the caller's one snapshot
    /// for the whole request): the guest without credentials, a user whose
    /// password matches.
    pub fn authenticate(
        &self,
        state: &AuthState,
        creds: &Credentials,
    ) -> Result<Caller, LoginError> {
        let result = self.check(state, creds);
        if result == Err(LoginError::Rejected) {
            crate::metrics::global().auth_failed_logins.inc();
        }
        result
    }

    fn check(&self, state: &AuthState, creds: &Credentials) -> Result<Caller, LoginError> {
        let (name, password) = match creds {
            Credentials::None => return Ok(Caller::Guest),
            Credentials::Malformed => return Err(LoginError::Rejected),
            Credentials::Basic { user, password } => (user, password),
        };
        let Some(user) = state.user(name) else {
            // The same cost as a wrong password: names stay secret.
            self.hash_turn(|| dummy_hash().is_some_and(|h| h.verify(password)))?;
            return Err(LoginError::Rejected);
        };
        let digest = self.digest(name, password);
        if let Some(d) = &digest
            && self.remembered(name, d, &user.password)
        {
            return Ok(Caller::User(name.clone()));
        }
        if !self.hash_turn(|| user.password.verify(password))? {
            return Err(LoginError::Rejected);
        }
        if let Some(digest) = digest {
            self.remember(name, digest, &user.password);
        }
        Ok(Caller::User(name.clone()))
    }

    /// Hashes a new password (a user `PUT`), in turn with the logins.
    pub fn hash_password(&self, password: &str) -> Result<PasswordHash, LoginError> {
        self.hash_turn(|| PasswordHash::new(password))?
            .map_err(|_| LoginError::Busy)
    }

    fn hash_turn<T>(&self, f: impl FnOnce() -> T) -> Result<T, LoginError> {
        let out = self.permits.run(f)?;
        self.hashes.fetch_add(1, Ordering::Relaxed);
        crate::metrics::global().auth_password_hashes.inc();
        Ok(out)
    }

    fn digest(&self, user: &str, password: &str) -> Option<Vec<u8>> {
        let key = self.cache_key.as_ref()?;
        let mut signer = Signer::new(MessageDigest::sha256(), key).ok()?;
        // The zero byte keeps ("ab", "c") and ("a", "bc") apart.
        signer.update(user.as_bytes()).ok()?;
        signer.update(&[0]).ok()?;
        signer.update(password.as_bytes()).ok()?;
        signer.sign_to_vec().ok()
    }

    fn remembered(&self, user: &str, digest: &[u8], stored: &PasswordHash) -> bool {
        let mut good = self.lock_cache();
        let Some(entry) = good.get(user) else {
            return false;
        };
        if entry.at.elapsed() >= self.ttl || entry.against != *stored {
            // Expired, or the password changed since: useless from now on.
            good.remove(user);
            return false;
        }
        constant_time_eq(&entry.digest, digest)
    }

    fn remember(&self, user: &str, digest: Vec<u8>, stored: &PasswordHash) {
        let mut good = self.lock_cache();
        if good.len() >= CACHE_CAPACITY && !good.contains_key(user) {
            let ttl = self.ttl;
            good.retain(|_, e| e.at.elapsed() < ttl);
            if good.len() >= CACHE_CAPACITY {
                good.clear();
            }
        }
        good.insert(
            user.to_string(),
            GoodLogin {
                digest,
                against: stored.clone(),
                at: Instant::now(),
            },
        );
    }

    fn lock_cache(&self) -> MutexGuard<'_, HashMap<String, GoodLogin>> {
        self.good.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What an unknown user's password is checked against.
fn dummy_hash() -> Option<&'static PasswordHash> {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    DUMMY
        .get_or_init(|| PasswordHash::new("no such user").ok())
        .as_ref()
}

/// A counting semaphore: turns to run a hash.
struct Permits {
    free: Mutex<usize>,
    returned: Condvar,
    wait: Duration,
}

impl Permits {
    fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T, LoginError> {
        let deadline = Instant::now() + self.wait;
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(LoginError::Busy);
            }
            free = self
                .returned
                .wait_timeout(free, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *free -= 1;
        drop(free);
        let _turn = Turn(self);
        Ok(f())
    }
}

/// Gives the turn back when the hash is done.
struct Turn<'a>(&'a Permits);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.returned.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{AuthCommand, UserChange};

    fn state_with(user: &str, password: &str) -> AuthState {
        let mut s = AuthState::default();
        let cmd = AuthCommand::PutUser(UserChange {
            name: user.into(),
            password: Some(PasswordHash::for_tests(password)),
            roles: None,
            grant: vec![],
            revoke: vec![],
        });
        s.apply(&cmd).unwrap();
        s
    }

    fn basic(user: &str, password: &str) -> Credentials {
        Credentials::Basic {
            user: user.into(),
            password: password.into(),
        }
    }

    fn verifier(ttl: Duration) -> Verifier {
        Verifier::with_limits(SharedAuth::default(), 2, ttl, Duration::from_secs(5))
    }

    #[test]
    fn a_good_login_is_remembered_and_a_bad_one_never() {
        let v = verifier(Duration::from_secs(60));
        let s = state_with("bob", "pw");
        assert_eq!(
            v.authenticate(&s, &basic("bob", "pw")),
            Ok(Caller::User("bob".into()))
        );
        assert_eq!(v.hashes_computed(), 1);
        for _ in 0..5 {
            assert!(v.authenticate(&s, &basic("bob", "pw")).is_ok());
        }
        assert_eq!(v.hashes_computed(), 1, "the cache answered");
        for _ in 0..3 {
            assert_eq!(
                v.authenticate(&s, &basic("bob", "wrong")),
                Err(LoginError::Rejected)
            );
        }
        assert_eq!(v.hashes_computed(), 4, "every failure paid the hash");
        assert!(v.authenticate(&s, &basic("bob", "pw")).is_ok());
        assert_eq!(
            v.hashes_computed(),
            4,
            "failures did not evict the good login"
        );
    }

    #[test]
    fn an_unknown_user_costs_a_hash_too() {
        let v = verifier(Duration::from_secs(60));
        let s = state_with("bob", "pw");
        assert_eq!(
            v.authenticate(&s, &basic("eve", "pw")),
            Err(LoginError::Rejected)
        );
        assert_eq!(v.hashes_computed(), 1);
    }

    #[test]
    fn a_password_change_makes_the_remembered_login_useless() {
        let v = verifier(Duration::from_secs(60));
        let old = state_with("bob", "pw");
        assert!(v.authenticate(&old, &basic("bob", "pw")).is_ok());
        // The same password set again gets a new salt: a new stored hash.
        let new = state_with("bob", "pw");
        assert!(v.authenticate(&new, &basic("bob", "pw")).is_ok());
        assert_eq!(v.hashes_computed(), 2);
        let changed = state_with("bob", "other");
        assert_eq!(
            v.authenticate(&changed, &basic("bob", "pw")),
            Err(LoginError::Rejected)
        );
        // And a removed user is unknown, cache or not.
        assert_eq!(
            v.authenticate(&AuthState::default(), &basic("bob", "pw")),
            Err(LoginError::Rejected)
        );
    }

    #[test]
    fn remembered_logins_expire() {
        let v = verifier(Duration::ZERO);
        let s = state_with("bob", "pw");
        assert!(v.authenticate(&s, &basic("bob", "pw")).is_ok());
        assert!(v.authenticate(&s, &basic("bob", "pw")).is_ok());
        assert_eq!(v.hashes_computed(), 2);
    }

    #[test]
    fn no_credentials_is_the_guest_and_bad_ones_are_refused_at_once() {
        let v = verifier(Duration::from_secs(60));
        let s = state_with("bob", "pw");
        assert_eq!(v.authenticate(&s, &Credentials::None), Ok(Caller::Guest));
        assert_eq!(
            v.authenticate(&s, &Credentials::Malformed),
            Err(LoginError::Rejected)
        );
        assert_eq!(v.hashes_computed(), 0);
    }

    #[test]
    fn hashes_wait_for_a_turn_and_give_up_in_time() {
        let v = Arc::new(Verifier::with_limits(
            SharedAuth::default(),
            1,
            Duration::from_secs(60),
            Duration::from_millis(50),
        ));
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let (free_tx, free_rx) = std::sync::mpsc::channel::<()>();
        let holder = {
            let v = v.clone();
            std::thread::spawn(move || {
                v.hash_turn(|| {
                    held_tx.send(()).unwrap();
                    free_rx.recv().unwrap();
                })
            })
        };
        held_rx.recv().unwrap();
        let s = state_with("bob", "pw");
        assert_eq!(
            v.authenticate(&s, &basic("bob", "pw")),
            Err(LoginError::Busy)
        );
        free_tx.send(()).unwrap();
        assert!(holder.join().unwrap().is_ok());
        assert!(v.authenticate(&s, &basic("bob", "pw")).is_ok());
    }

    #[test]
    fn the_shared_view_swaps_whole_states() {
        let view = SharedAuth::default();
        let before = view.current();
        assert!(!before.enabled());
        view.publish(state_with("bob", "pw"));
        assert!(view.current().user("bob").is_some());
        assert!(
            before.user("bob").is_none(),
            "an old snapshot stays as it was"
        );
    }

    #[test]
    fn new_passwords_are_hashed_at_full_cost() {
        let v = verifier(Duration::from_secs(60));
        let h = v.hash_password("new").unwrap();
        assert_eq!(h.iterations(), crate::auth::DEFAULT_ITERATIONS);
        assert!(h.verify("new"));
        assert_eq!(v.hashes_computed(), 1);
    }
}
