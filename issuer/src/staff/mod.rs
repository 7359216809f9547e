//! Staff accounts and logins: who may use the console and what each may
//! do. Passwords are hashed with Argon2id at OWASP's parameters (19 MiB,
//! 2 passes, 1 lane) and never stored, logged or echoed; failed logins are
//! counted per account name and per client address (5 in 15 minutes lock
//! that name or address for 15 minutes; an admin can unlock); every login,
//! failure, lockout and change of an account is one audit row.
//!
//! `fanlic staff` (the CLI, for automation) and `fanlic console` both come
//! here.

use core::fmt::Write as _;

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier as _, Version};
use fanlic_formats::Timestamp;
use ring::rand::{SecureRandom as _, SystemRandom};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::Error;
use crate::error::StaffError;
use crate::store::audit::{Action, Entry};
use crate::store::staff::{Lockout, LoginKey};
use crate::store::{Role, StaffAccount, StaffSession, Store, Tx};
use crate::util::input;

/// Failed logins allowed per name or client address within [`LOCK_SECS`].
pub const LOGIN_ATTEMPTS: u32 = 5;
/// How long a lockout lasts, and the window failures are counted in.
pub const LOCK_SECS: u64 = 15 * 60;
/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Argon2id with OWASP's recommended parameters (m = 19 MiB, t = 2, p = 1).
fn argon2() -> Result<Argon2<'static>, Error> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| StaffError::Hash { reason: e.to_string() })?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
pub fn hash_password(password: &str) -> Result<String, Error> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).map_err(|_| Error::Random)?;
    let salt =
        argon2::password_hash::SaltString::encode_b64(&salt).map_err(|e| StaffError::Hash { reason: e.to_string() })?;
    Ok(argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StaffError::Hash { reason: e.to_string() })?
        .to_string())
}

/// Whether `password` matches the PHC string `hash` (a malformed hash never matches).
pub fn password_matches(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else { return false };
    argon2().is_ok_and(|a| a.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checks a new password: long enough, not the account's name, printable.
pub fn check_password(name: &str, password: &str) -> Result<(), Error> {
    let chars = password.chars().count();
    let why = if chars < MIN_PASSWORD_CHARS {
        Some("it must have at least 10 characters")
    } else if chars > 1024 {
        Some("it must have at most 1024 characters")
    } else if password.eq_ignore_ascii_case(name) {
        Some("it must not be the account's name")
    } else if password.chars().any(char::is_control) {
        Some("it must not contain control characters (a newline inside it, say)")
    } else {
        None
    };
    match why {
        Some(why) => Err(StaffError::WeakPassword { why }.into()),
        None => Ok(()),
    }
}

/// Reads a password from `--password-stdin`'s input: its first line,
/// without the line end.
pub fn password_from(input: &str) -> Result<Zeroizing<String>, Error> {
    let line = input.split(['\n', '\r']).next().unwrap_or_default();
    if line.is_empty() {
        return Err(StaffError::NoPassword.into());
    }
    Ok(Zeroizing::new(line.to_owned()))
}

/// Checks an account name: what `--by` accepts (it goes into the audit trail).
pub fn check_name(name: &str) -> Result<String, Error> {
    let name = input::name("NAME", name)?;
    if name.chars().count() > 64 || name.chars().any(char::is_whitespace) {
        return Err(Error::input("NAME", &name, "a staff name has at most 64 characters and no spaces"));
    }
    Ok(name)
}

fn audit(tx: &Tx<'_>, action: Action, by: &str, why: &str, now: Timestamp) -> Result<(), Error> {
    tx.audit(&Entry { why, ..Entry::new(action, by, now) })
}

/// Adds an account.
pub fn add(
    store: &mut Store,
    name: &str,
    role: Role,
    password: &str,
    by: &str,
    now: Timestamp,
) -> Result<StaffAccount, Error> {
    let name = check_name(name)?;
    check_password(&name, password)?;
    let hash = hash_password(password)?;
    store.write(|tx| {
        if !tx.insert_staff(&name, role, &hash, now)? {
            return Err(StaffError::NameTaken { name: name.clone() }.into());
        }
        audit(tx, Action::StaffAdd, by, &format!("{name} ({role})"), now)?;
        tx.staff_account(&name)?.map(|(a, _)| a).ok_or_else(|| StaffError::NoSuchAccount { name: name.clone() }.into())
    })
}

/// Every account.
pub fn list(store: &Store) -> Result<Vec<StaffAccount>, Error> {
    store.read(|tx| tx.staff_accounts())
}

fn last_admin(tx: &Tx<'_>, name: &str) -> Result<bool, Error> {
    let admins: Vec<String> =
        tx.staff_accounts()?.into_iter().filter(|a| a.enabled && a.role == Role::Admin).map(|a| a.name).collect();
    Ok(admins.len() == 1 && admins.first().is_some_and(|a| a == name))
}

/// Disables (or enables again) an account; disabling ends its sessions.
/// The last enabled admin cannot be disabled.
pub fn set_enabled(
    store: &mut Store,
    name: &str,
    enabled: bool,
    by: &str,
    now: Timestamp,
) -> Result<StaffAccount, Error> {
    store.write(|tx| {
        if !enabled && last_admin(tx, name)? {
            return Err(StaffError::LastAdmin { name: name.to_owned() }.into());
        }
        if !tx.set_staff_enabled(name, enabled, now)? {
            return Err(StaffError::NoSuchAccount { name: name.to_owned() }.into());
        }
        let action = if enabled { Action::StaffEnable } else { Action::StaffDisable };
        audit(tx, action, by, name, now)?;
        tx.staff_account(name)?
            .map(|(a, _)| a)
            .ok_or_else(|| StaffError::NoSuchAccount { name: name.to_owned() }.into())
    })
}

/// Changes an account's role. The last enabled admin keeps its role.
pub fn set_role(store: &mut Store, name: &str, role: Role, by: &str, now: Timestamp) -> Result<StaffAccount, Error> {
    store.write(|tx| {
        if role != Role::Admin && last_admin(tx, name)? {
            return Err(StaffError::LastAdmin { name: name.to_owned() }.into());
        }
        if !tx.set_staff_role(name, role, now)? {
            return Err(StaffError::NoSuchAccount { name: name.to_owned() }.into());
        }
        audit(tx, Action::StaffRole, by, &format!("{name} is now {role}"), now)?;
        tx.staff_account(name)?
            .map(|(a, _)| a)
            .ok_or_else(|| StaffError::NoSuchAccount { name: name.to_owned() }.into())
    })
}

/// Sets a new password; the account's sessions end.
pub fn set_password(store: &mut Store, name: &str, password: &str, by: &str, now: Timestamp) -> Result<(), Error> {
    check_password(name, password)?;
    let hash = hash_password(password)?;
    store.write(|tx| {
        if !tx.set_staff_password(name, &hash, now)? {
            return Err(StaffError::NoSuchAccount { name: name.to_owned() }.into());
        }
        audit(tx, Action::StaffPassword, by, name, now)
    })
}

/// Lifts the lockouts of an account name (and of `client`, if given).
/// Returns how many lockouts were lifted.
pub fn unlock(store: &mut Store, name: &str, client: Option<&str>, by: &str, now: Timestamp) -> Result<u32, Error> {
    store.write(|tx| {
        let mut n = u32::from(tx.clear_login_failures(LoginKey::Name, name)?);
        if let Some(c) = client {
            n += u32::from(tx.clear_login_failures(LoginKey::Client, c)?);
        }
        audit(tx, Action::StaffUnlock, by, &client.map_or_else(|| name.to_owned(), |c| format!("{name}, {c}")), now)?;
        Ok(n)
    })
}

/// The lockouts in force.
pub fn lockouts(store: &Store, now: Timestamp) -> Result<Vec<Lockout>, Error> {
    store.read(|tx| tx.login_lockouts(now))
}

/// A session opened by [`login`]: the token goes into the cookie and is
/// never stored; only its SHA-256 is.
#[derive(Debug)]
pub struct NewSession {
    /// The cookie's value (64 hex digits).
    pub token: Zeroizing<String>,
    /// The session's CSRF token.
    pub csrf: String,
    /// The account.
    pub account: StaffAccount,
}

/// Why a login was refused. People see one message for all of them (a
/// stranger learns nothing of which names exist); the audit row says which.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginRefused {
    /// Unknown name, wrong password or disabled account.
    BadCredentials,
    /// Too many failures from this name or address: wait until then.
    Locked {
        /// Until when.
        until: Timestamp,
    },
}

fn random_hex() -> Result<String, Error> {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).map_err(|_| Error::Random)?;
    let mut s = String::with_capacity(64);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    Ok(s)
}

/// SHA-256 of a session token: what the store keeps.
pub fn token_digest(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// A hash of a random password, checked when the name is unknown so that
/// an unknown name takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| random_hex().and_then(|p| hash_password(&p)).unwrap_or_default())
}

/// Logs `name` in from `client`: checks lockouts, the password, counts
/// failures, records the session. Everything is audited.
pub fn login(
    store: &mut Store,
    name: &str,
    password: &str,
    client: &str,
    now: Timestamp,
) -> Result<Result<NewSession, LoginRefused>, Error> {
    let name = name.trim();
    // Locked: refused without looking at the password (no guessing on).
    let locked = store.read(|tx| {
        Ok(tx.login_lockout(LoginKey::Name, name, now)?.or(tx.login_lockout(LoginKey::Client, client, now)?))
    })?;
    if let Some(l) = locked {
        store.write(|tx| {
            audit(tx, Action::LoginFailed, name, &format!("locked out until {} (from {client})", l.until), now)
        })?;
        return Ok(Err(LoginRefused::Locked { until: l.until }));
    }
    let account = store.read(|tx| tx.staff_account(name))?;
    let matches = password_matches(password, account.as_ref().map_or(dummy_hash(), |(_, h)| h.as_str()));
    match account {
        Some((account, _)) if matches && account.enabled => {
            let token = Zeroizing::new(random_hex()?);
            let csrf = random_hex()?;
            store.write(|tx| {
                tx.clear_login_failures(LoginKey::Name, name)?;
                tx.insert_staff_session(&token_digest(&token), name, &csrf, now)?;
                audit(tx, Action::Login, name, &format!("from {client}"), now)
            })?;
            Ok(Ok(NewSession { token, csrf, account }))
        }
        other => {
            let why = match &other {
                None => "no such account",
                Some((a, _)) if !a.enabled => "account disabled",
                Some(_) => "wrong password",
            };
            // What the name field held goes into the audit row only as the
            // account it names, never a typed password: a name is at most
            // 64 characters of text, else it is recorded as "(not a name)".
            let who = check_name(name).unwrap_or_else(|_| "(not a name)".to_owned());
            let lock = (LOCK_SECS, LOGIN_ATTEMPTS, LOCK_SECS);
            let until = store.write(|tx| {
                audit(tx, Action::LoginFailed, &who, &format!("{why} (from {client})"), now)?;
                let by_name = tx.record_login_failure(LoginKey::Name, &who, now, lock)?;
                let by_client = tx.record_login_failure(LoginKey::Client, client, now, lock)?;
                for l in by_name.iter().chain(by_client.iter()) {
                    let what = match l.kind {
                        LoginKey::Client => format!("client {} locked until {}", l.key, l.until),
                        _ => format!("name {} locked until {}", l.key, l.until),
                    };
                    audit(tx, Action::LoginLocked, &who, &what, now)?;
                }
                Ok(by_name.or(by_client).map(|l| l.until))
            })?;
            Ok(Err(match until {
                Some(until) => LoginRefused::Locked { until },
                None => LoginRefused::BadCredentials,
            }))
        }
    }
}

/// The session of a cookie's token, if it is open and not idle longer than
/// `idle_secs` (nor older than `max_secs`); marks it used (at most once a
/// minute, to spare the disk).
pub fn session(
    store: &mut Store,
    token: &str,
    now: Timestamp,
    (idle_secs, max_secs): (u64, u64),
) -> Result<Option<StaffSession>, Error> {
    let digest = token_digest(token);
    let Some(s) = store.read(|tx| tx.staff_session(&digest))? else { return Ok(None) };
    if s.last_seen.0.saturating_add(idle_secs) <= now.0 || s.created_at.0.saturating_add(max_secs) <= now.0 {
        store.write(|tx| tx.end_staff_session(&digest))?;
        return Ok(None);
    }
    if now.0.saturating_sub(s.last_seen.0) >= 60 {
        store.write(|tx| tx.touch_staff_session(&digest, now))?;
    }
    Ok(Some(s))
}

/// Ends a session (logout), audited.
pub fn logout(store: &mut Store, token: &str, name: &str, now: Timestamp) -> Result<(), Error> {
    store.write(|tx| {
        tx.end_staff_session(&token_digest(token))?;
        audit(tx, Action::Logout, name, "", now)
    })
}

/// An account as JSON.
pub fn account_json(a: &StaffAccount) -> Value {
    json!({
        "name": a.name,
        "role": a.role.as_str(),
        "enabled": a.enabled,
        "created_at": a.created_at.to_string(),
        "updated_at": a.updated_at.to_string(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code

    use super::*;

    /// A new store on each backend: SQLite in a temporary folder, and a
    /// new database in the test process's PostgreSQL (over TLS).
    fn stores() -> Vec<(tempfile::TempDir, Store)> {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Store::open(&dir.path().join("fanlic.db"), true).unwrap();
        let pg = fanlic_testkit::postgres::PgCluster::shared();
        let url = pg.tls_url(&pg.new_database()).parse().unwrap();
        let postgres = Store::open_database(&crate::store::Database::Postgres(url), true).unwrap();
        vec![(dir, sqlite), (tempfile::tempdir().unwrap(), postgres)]
    }

    const PW: &str = "correct horse battery";

    #[test]
    fn a_session_ends_after_the_idle_time_and_after_its_longest_life() {
        for (_d, s) in stores() {
            session_times(s);
        }
    }

    fn session_times(mut s: Store) {
        add(&mut s, "alice", Role::Admin, PW, "root", Timestamp(1_000)).unwrap();
        let Ok(open) = login(&mut s, "alice", PW, "127.0.0.1", Timestamp(1_000)).unwrap() else { panic!("refused") };
        let limits = (1_800, 43_200);
        // Used at +1,700 s: the idle clock starts again from there.
        assert!(session(&mut s, &open.token, Timestamp(2_700), limits).unwrap().is_some());
        assert!(session(&mut s, &open.token, Timestamp(4_400), limits).unwrap().is_some());
        // 1,800 s unused: gone, and it stays gone.
        assert!(session(&mut s, &open.token, Timestamp(6_200), limits).unwrap().is_none());
        assert!(session(&mut s, &open.token, Timestamp(6_201), limits).unwrap().is_none());
        // Used all the time, still ended after 12 hours.
        let Ok(open) = login(&mut s, "alice", PW, "127.0.0.1", Timestamp(10_000)).unwrap() else { panic!("refused") };
        let mut t = 10_000;
        while t < 10_000 + 43_200 - 1_000 {
            t += 1_000;
            assert!(session(&mut s, &open.token, Timestamp(t), limits).unwrap().is_some(), "at {t}");
        }
        assert!(session(&mut s, &open.token, Timestamp(10_000 + 43_200), limits).unwrap().is_none());
    }

    #[test]
    fn only_the_digest_of_a_token_is_stored_and_a_wrong_token_opens_nothing() {
        for (_d, s) in stores() {
            token_digest_only(s);
        }
    }

    fn token_digest_only(mut s: Store) {
        add(&mut s, "alice", Role::Issuer, PW, "root", Timestamp(1_000)).unwrap();
        let Ok(open) = login(&mut s, "alice", PW, "::1", Timestamp(1_000)).unwrap() else { panic!("refused") };
        let limits = (1_800, 43_200);
        let mut wrong = open.token.to_string();
        wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
        assert!(session(&mut s, &wrong, Timestamp(1_001), limits).unwrap().is_none());
        let found = session(&mut s, &open.token, Timestamp(1_001), limits).unwrap().unwrap();
        assert_eq!((found.name.as_str(), found.role), ("alice", Role::Issuer));
        assert!(s.read(|tx| tx.staff_session(&token_digest(&open.token))).unwrap().is_some());
        // A new password ends every open session.
        set_password(&mut s, "alice", "another good password", "root", Timestamp(1_002)).unwrap();
        assert!(session(&mut s, &open.token, Timestamp(1_003), limits).unwrap().is_none());
    }

    #[test]
    fn the_hash_is_argon2id_at_owasp_parameters_and_checks() {
        let h = hash_password(PW).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(password_matches(PW, &h));
        assert!(!password_matches("correct horse batterY", &h));
        assert!(!password_matches(PW, "not a hash"));
        assert_ne!(hash_password(PW).unwrap(), h, "salted");
    }

    #[test]
    fn weak_passwords_are_refused_with_the_reason() {
        for (pw, why) in [("short", "10 characters"), ("alicealice", "name"), ("with\nnewline-long", "control")] {
            let e = check_password("alicealice", pw).unwrap_err().to_string();
            assert!(e.contains(why), "{pw:?}: {e}");
        }
        check_password("alice", PW).unwrap();
    }
}
