//! Staff accounts, their console sessions and failed logins (tables
//! `staff`, `staff_sessions`, `login_failures`). Passwords are kept only as
//! Argon2id PHC strings and sessions only as the SHA-256 of their token.

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::Timestamp;

use super::Tx;
use crate::Error;
use crate::store::{self, int};

/// What a staff account may do. Each role can do everything the ones
/// before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Reads everything (licenses, contracts, the review queue, the audit
    /// trail); changes nothing, downloads no license file.
    Viewer,
    /// Also approves, rejects and reissues held requests, resends
    /// licenses, downloads `Container.lic` and images, retries the outbox.
    Issuer,
    /// Also edits contracts, revokes, unbinds and manages staff accounts.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Self; 3] = [Self::Viewer, Self::Issuer, Self::Admin];

    /// The stored text (and the CLI's `--role`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Issuer => "issuer",
            Self::Admin => "admin",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do what `needed` may.
    pub fn allows(self, needed: Self) -> bool {
        self >= needed
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account, without its password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffAccount {
    /// The login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Disabled accounts cannot log in and have no session.
    pub enabled: bool,
    /// When created.
    pub created_at: Timestamp,
    /// When last changed.
    pub updated_at: Timestamp,
}

/// A console session, read with its account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffSession {
    /// The account.
    pub name: String,
    /// Its role now (a role change applies to open sessions at once).
    pub role: Role,
    /// The token every form of this session carries.
    pub csrf: String,
    /// When logged in.
    pub created_at: Timestamp,
    /// When last used.
    pub last_seen: Timestamp,
}

/// What failed logins are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginKey {
    /// The account name typed.
    Name,
    /// The client's address.
    Client,
}

impl LoginKey {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Client => "client",
        }
    }
}

/// A lockout in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lockout {
    /// By name or by client address.
    pub kind: LoginKey,
    /// The name or the address.
    pub key: String,
    /// Failed logins counted.
    pub failures: u32,
    /// Until when logins are refused.
    pub until: Timestamp,
}

fn account(r: &super::sql::Row<'_>) -> super::sql::Result<(StaffAccount, String)> {
    let role: String = r.get(1)?;
    Ok((
        StaffAccount {
            name: r.get(0)?,
            // The CHECK constraint admits only the three names.
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            enabled: r.get::<_, i64>(3)? != 0,
            created_at: Timestamp(u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0)),
            updated_at: Timestamp(u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0)),
        },
        r.get(2)?,
    ))
}

impl Tx<'_> {
    /// Adds an account; `false` when the name is taken.
    pub fn insert_staff(&self, name: &str, role: Role, password_hash: &str, now: Timestamp) -> Result<bool, Error> {
        let n = self
            .conn
            .execute(
                "INSERT INTO staff (name, role, password_hash, enabled, created_at, updated_at)
                 VALUES (?1, ?2, ?3, 1, ?4, ?4) ON CONFLICT DO NOTHING",
                params![name, role.as_str(), password_hash, int(now.0)],
            )
            .map_err(store::err(self.path, "cannot add the staff account"))?;
        Ok(n == 1)
    }

    /// Every account, by name.
    pub fn staff_accounts(&self) -> Result<Vec<StaffAccount>, Error> {
        let read = || store::err(self.path, "cannot read the staff accounts");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, role, password_hash, enabled, created_at, updated_at FROM staff ORDER BY name",
            )
            .map_err(read())?;
        let rows = stmt.query_map(params![], account).map_err(read())?;
        rows.map(|r| r.map(|(a, _)| a).map_err(read())).collect()
    }

    /// One account with its password hash.
    pub fn staff_account(&self, name: &str) -> Result<Option<(StaffAccount, String)>, Error> {
        self.conn
            .prepare_cached(
                "SELECT name, role, password_hash, enabled, created_at, updated_at FROM staff WHERE name = ?1",
            )
            .and_then(|mut s| s.query_row([name], account).optional())
            .map_err(store::err(self.path, "cannot read the staff account"))
    }

    /// Sets an account's password hash and ends its sessions; `false`: no such account.
    pub fn set_staff_password(&self, name: &str, password_hash: &str, now: Timestamp) -> Result<bool, Error> {
        let n = self
            .conn
            .execute(
                "UPDATE staff SET password_hash = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, password_hash, int(now.0)],
            )
            .map_err(store::err(self.path, "cannot change the password"))?;
        self.end_staff_sessions(name)?;
        Ok(n == 1)
    }

    /// Enables or disables an account (disabling ends its sessions);
    /// `false`: no such account.
    pub fn set_staff_enabled(&self, name: &str, enabled: bool, now: Timestamp) -> Result<bool, Error> {
        let n = self
            .conn
            .execute(
                "UPDATE staff SET enabled = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, i64::from(enabled), int(now.0)],
            )
            .map_err(store::err(self.path, "cannot change the staff account"))?;
        if !enabled {
            self.end_staff_sessions(name)?;
        }
        Ok(n == 1)
    }

    /// Sets an account's role; `false`: no such account.
    pub fn set_staff_role(&self, name: &str, role: Role, now: Timestamp) -> Result<bool, Error> {
        let n = self
            .conn
            .execute(
                "UPDATE staff SET role = ?2, updated_at = ?3 WHERE name = ?1",
                params![name, role.as_str(), int(now.0)],
            )
            .map_err(store::err(self.path, "cannot change the staff account"))?;
        Ok(n == 1)
    }

    /// Ends every session of an account.
    pub fn end_staff_sessions(&self, name: &str) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM staff_sessions WHERE name = ?1", [name])
            .map(drop)
            .map_err(store::err(self.path, "cannot end the sessions"))
    }

    /// Records a new session.
    pub fn insert_staff_session(
        &self,
        token_sha256: &[u8; 32],
        name: &str,
        csrf: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO staff_sessions (token_sha256, name, csrf, created_at, last_seen) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![token_sha256.as_slice(), name, csrf, int(now.0)],
            )
            .map(drop)
            .map_err(store::err(self.path, "cannot record the session"))
    }

    /// The session of a token, if it exists and its account is enabled.
    pub fn staff_session(&self, token_sha256: &[u8; 32]) -> Result<Option<StaffSession>, Error> {
        self.conn
            .prepare_cached(
                "SELECT s.name, a.role, s.csrf, s.created_at, s.last_seen FROM staff_sessions s
                 JOIN staff a USING (name) WHERE s.token_sha256 = ?1 AND a.enabled = 1",
            )
            .and_then(|mut s| {
                s.query_row([token_sha256.as_slice()], |r| {
                    let role: String = r.get(1)?;
                    Ok(StaffSession {
                        name: r.get(0)?,
                        role: Role::parse(&role).unwrap_or(Role::Viewer),
                        csrf: r.get(2)?,
                        created_at: Timestamp(u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0)),
                        last_seen: Timestamp(u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0)),
                    })
                })
                .optional()
            })
            .map_err(store::err(self.path, "cannot read the session"))
    }

    /// Marks a session used now.
    pub fn touch_staff_session(&self, token_sha256: &[u8; 32], now: Timestamp) -> Result<(), Error> {
        self.conn
            .prepare_cached("UPDATE staff_sessions SET last_seen = ?2 WHERE token_sha256 = ?1")
            .and_then(|mut s| s.execute(params![token_sha256.as_slice(), int(now.0)]))
            .map(drop)
            .map_err(store::err(self.path, "cannot update the session"))
    }

    /// Ends one session.
    pub fn end_staff_session(&self, token_sha256: &[u8; 32]) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM staff_sessions WHERE token_sha256 = ?1", [token_sha256.as_slice()])
            .map(drop)
            .map_err(store::err(self.path, "cannot end the session"))
    }

    /// Ends the sessions unused since `before` or opened before `opened_before`.
    pub fn end_stale_sessions(&self, before: Timestamp, opened_before: Timestamp) -> Result<(), Error> {
        self.conn
            .prepare_cached("DELETE FROM staff_sessions WHERE last_seen < ?1 OR created_at < ?2")
            .and_then(|mut s| s.execute(params![int(before.0), int(opened_before.0)]))
            .map(drop)
            .map_err(store::err(self.path, "cannot end stale sessions"))
    }

    /// The lockout on `key`, if one is in force at `now`.
    pub fn login_lockout(&self, kind: LoginKey, key: &str, now: Timestamp) -> Result<Option<Lockout>, Error> {
        let row: Option<(i64, Option<i64>)> = self
            .conn
            .prepare_cached("SELECT failures, locked_until FROM login_failures WHERE kind = ?1 AND key = ?2")
            .and_then(|mut s| s.query_row(params![kind.as_str(), key], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(store::err(self.path, "cannot read failed logins"))?;
        Ok(row.and_then(|(failures, until)| {
            let until = u64::try_from(until?).ok()?;
            (until > now.0).then(|| Lockout {
                kind,
                key: key.to_owned(),
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                until: Timestamp(until),
            })
        }))
    }

    /// Counts one failed login on `key`: failures older than `window` secs
    /// start the count again; the `limit`th locks `key` for `lock_secs`.
    /// Returns the lockout this failure started, if it did.
    pub fn record_login_failure(
        &self,
        kind: LoginKey,
        key: &str,
        now: Timestamp,
        (window, limit, lock_secs): (u64, u32, u64),
    ) -> Result<Option<Lockout>, Error> {
        let path = self.path;
        let current: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT failures, first_at FROM login_failures WHERE kind = ?1 AND key = ?2")
            .and_then(|mut s| s.query_row(params![kind.as_str(), key], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(store::err(path, "cannot read failed logins"))?;
        let (failures, first_at) = match current {
            Some((n, first)) if u64::try_from(first).unwrap_or(0).saturating_add(window) > now.0 => {
                (u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1), first)
            }
            _ => (1, int(now.0)),
        };
        let locked = (failures >= limit).then(|| Timestamp(now.0.saturating_add(lock_secs)));
        self.conn
            .prepare_cached(
                "INSERT INTO login_failures (kind, key, failures, first_at, locked_until) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (kind, key) DO UPDATE SET failures = ?3, first_at = ?4, locked_until = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![kind.as_str(), key, i64::from(failures), first_at, locked.map(|t| int(t.0))])
            })
            .map_err(store::err(path, "cannot count the failed login"))?;
        Ok(locked.map(|until| Lockout { kind, key: key.to_owned(), failures, until }))
    }

    /// Forgets the failed logins on `key` (a successful login, an admin's unlock).
    pub fn clear_login_failures(&self, kind: LoginKey, key: &str) -> Result<bool, Error> {
        self.conn
            .prepare_cached("DELETE FROM login_failures WHERE kind = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![kind.as_str(), key]))
            .map(|n| n > 0)
            .map_err(store::err(self.path, "cannot clear failed logins"))
    }

    /// Every lockout in force at `now`.
    pub fn login_lockouts(&self, now: Timestamp) -> Result<Vec<Lockout>, Error> {
        let read = || store::err(self.path, "cannot read failed logins");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT kind, key, failures, locked_until FROM login_failures WHERE locked_until > ?1 ORDER BY kind, key",
            )
            .map_err(read())?;
        let rows = stmt
            .query_map([int(now.0)], |r| {
                let kind: String = r.get(0)?;
                Ok(Lockout {
                    kind: if kind == "name" { LoginKey::Name } else { LoginKey::Client },
                    key: r.get(1)?,
                    failures: u32::try_from(r.get::<_, i64>(2)?).unwrap_or(u32::MAX),
                    until: Timestamp(u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0)),
                })
            })
            .map_err(read())?;
        rows.map(|r| r.map_err(read())).collect()
    }
}
