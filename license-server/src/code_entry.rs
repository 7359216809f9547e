//! Code entry on the admin's page (SPEC.md §7.1 "Code entry"): every client
//! (IP address) gets its own QR code, and wrong codes are counted per client
//! against that client's own challenge, with a separate, higher global limit.
//! A stranger's refresh or wrong codes touch only the stranger's own
//! challenge and count, so they neither invalidate the admin's code nor lock
//! the admin out (short of the global limit, which takes
//! [`GLOBAL_MAX_WRONG`] / [`MAX_WRONG_CODES`] addresses every 15 minutes).
//!
//! The counts and locks (not the challenges) live in `code-entry-locks`
//! beside `privateConfig` (mode 0600, not in `privateConfig`, which is
//! signed and mailed to the vendor), so a restart keeps a lock. Pure: time is
//! passed in, the caller writes what [`CodeEntry::take_write`] returns.

use core::net::IpAddr;
use std::collections::BTreeMap;

use fanlic_formats::activation::{LOCK_SECS, MAX_WRONG_CODES};
use fanlic_verifier::{
    CLOCK_TOLERANCE_SECS,
    activation::{Code, CodeError},
};
use serde::{Deserialize, Serialize};

/// How long a QR code is valid (SPEC.md §6.1: "valid for 5 minutes").
pub const CHALLENGE_VALID_SECS: u64 = fanlic_formats::activation::CHALLENGE_VALID_SECS;

/// The QR code being shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownChallenge {
    /// The activation URL the QR code holds.
    pub url: String,
    /// When it was made; it is valid for [`CHALLENGE_VALID_SECS`].
    pub issued_at: u64,
    /// SHA-256 of its raw token: what a receipt names (SPEC.md §6.4).
    pub token_sha256: [u8; 32],
}

impl ShownChallenge {
    /// The token as text: the activation URL's last segment, without the
    /// query.
    pub fn token_text(&self) -> &str {
        let last = self.url.rsplit('/').next().unwrap_or("");
        last.split('?').next().unwrap_or(last)
    }
}

/// Wrong codes from all clients together within [`GLOBAL_WINDOW_SECS`]
/// before code entry locks for everyone for [`LOCK_SECS`].
pub const GLOBAL_MAX_WRONG: u32 = 50;
/// The global count's window.
pub const GLOBAL_WINDOW_SECS: u64 = 900;
/// Clients remembered at most; beyond, the least recently seen unlocked one
/// is forgotten.
pub const MAX_CLIENTS: usize = 1024;
/// The lock file's name, beside `privateConfig`.
pub const FILE_NAME: &str = "code-entry-locks";
/// Its mode.
pub const FILE_MODE: u32 = 0o600;

/// A client's QR code and the code it expects (memory only: a restart
/// makes new ones).
#[derive(Clone, Debug)]
struct Pending {
    shown: ShownChallenge,
    code: Code,
    /// The process's monotonic clock when it was made, in seconds: the
    /// challenge's age is measured on it too, so moving the wall clock back
    /// never lengthens its validity.
    mono_issued: u64,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct ClientRecord {
    wrong: u8,
    locked_until: Option<u64>,
    /// Last seen, for forgetting the oldest.
    touched: u64,
    #[serde(skip)]
    pending: Option<PendingSlot>,
}

/// `Pending` without `PartialEq`/serde, wrapped.
#[derive(Clone, Debug)]
struct PendingSlot(Pending);

impl PartialEq for PendingSlot {
    fn eq(&self, other: &Self) -> bool {
        self.0.shown == other.0.shown
    }
}
impl Eq for PendingSlot {}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
struct Global {
    window_start: u64,
    wrong: u32,
    locked_until: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct FileV1 {
    version: u32,
    clients: BTreeMap<IpAddr, ClientRecord>,
    global: Global,
}

/// Every client's count and lock, and the global ones.
#[derive(Clone, Debug, Default)]
pub struct CodeEntry {
    clients: BTreeMap<IpAddr, ClientRecord>,
    global: Global,
    dirty: bool,
}

impl CodeEntry {
    /// Nothing counted.
    pub fn new() -> Self {
        Self::default()
    }

    /// The lock file's content. A file that does not parse (damaged, or
    /// edited) locks code entry for everyone for [`LOCK_SECS`] from `now`:
    /// failing closed, never handing out fresh guesses.
    pub fn load(bytes: &[u8], now: u64) -> (Self, bool) {
        match serde_json::from_slice::<FileV1>(bytes) {
            Ok(f) if f.version == 1 => (Self { clients: f.clients, global: f.global, dirty: false }, true),
            _ => {
                let global = Global { window_start: now, wrong: 0, locked_until: Some(now.saturating_add(LOCK_SECS)) };
                (Self { clients: BTreeMap::new(), global, dirty: true }, false)
            }
        }
    }

    /// Whether a count or lock changed since the last write.
    pub fn has_write(&self) -> bool {
        self.dirty
    }

    /// The file to write, if anything counted changed.
    pub fn take_write(&mut self) -> Option<Vec<u8>> {
        if !self.dirty {
            return None;
        }
        self.dirty = false;
        let f = FileV1 { version: 1, clients: self.clients.clone(), global: self.global };
        serde_json::to_vec_pretty(&f).ok()
    }

    fn unlock_if_due(&mut self, client: IpAddr, now: u64) {
        if let Some(r) = self.clients.get_mut(&client)
            && r.locked_until.is_some_and(|u| now >= u)
        {
            r.locked_until = None;
            r.wrong = 0;
            self.dirty = true;
        }
        if self.global.locked_until.is_some_and(|u| now >= u) {
            self.global = Global { window_start: now, wrong: 0, locked_until: None };
            self.dirty = true;
        }
    }

    /// Until when `client` cannot enter a code (its own lock or the global
    /// one, whichever ends later).
    pub fn locked_until(&self, client: IpAddr, now: u64) -> Option<u64> {
        let own = self.clients.get(&client).and_then(|r| r.locked_until).filter(|&u| now < u);
        let global = self.global.locked_until.filter(|&u| now < u);
        own.max(global)
    }

    /// The global lock, if any.
    pub fn global_locked_until(&self, now: u64) -> Option<u64> {
        self.global.locked_until.filter(|&u| now < u)
    }

    fn valid(p: &Pending, now: u64, mono: u64) -> bool {
        let issued_at = p.shown.issued_at;
        mono.saturating_sub(p.mono_issued) < CHALLENGE_VALID_SECS
            && now < issued_at.saturating_add(CHALLENGE_VALID_SECS)
            && issued_at <= now.saturating_add(CLOCK_TOLERANCE_SECS)
    }

    /// `client`'s QR code while it is valid.
    pub fn shown(&self, client: IpAddr, now: u64, mono: u64) -> Option<&ShownChallenge> {
        let p = &self.clients.get(&client)?.pending.as_ref()?.0;
        Self::valid(p, now, mono).then_some(&p.shown)
    }

    /// Forgets the least recently seen unlocked client when full.
    fn make_room(&mut self, client: IpAddr, now: u64) {
        if self.clients.contains_key(&client) || self.clients.len() < MAX_CLIENTS {
            return;
        }
        let oldest = self
            .clients
            .iter()
            .filter(|(_, r)| r.locked_until.is_none_or(|u| now >= u))
            .min_by_key(|(_, r)| r.touched)
            .map(|(ip, _)| *ip)
            .or_else(|| self.clients.iter().min_by_key(|(_, r)| r.locked_until).map(|(ip, _)| *ip));
        if let Some(ip) = oldest {
            self.clients.remove(&ip);
            self.dirty = true;
        }
    }

    /// Shows `client` a new QR code. Its count is kept: refreshing buys no
    /// guesses.
    pub fn set_challenge(&mut self, client: IpAddr, shown: ShownChallenge, code: Code, mono: u64) {
        let now = shown.issued_at;
        self.make_room(client, now);
        let r = self.clients.entry(client).or_default();
        r.touched = now;
        r.pending = Some(PendingSlot(Pending { shown, code, mono_issued: mono }));
    }

    /// Checks a code `client` typed at `now` (`mono`: the process's
    /// monotonic seconds) against `client`'s own challenge. The sixth wrong
    /// code in a row locks that client for 15 minutes; more than
    /// [`GLOBAL_MAX_WRONG`] wrong codes within [`GLOBAL_WINDOW_SECS`] lock
    /// everyone. While locked, nothing is counted.
    pub fn enter(&mut self, client: IpAddr, typed: &str, now: u64, mono: u64) -> Result<(), CodeError> {
        self.unlock_if_due(client, now);
        if let Some(until) = self.locked_until(client, now) {
            return Err(CodeError::Locked {
                until: fanlic_formats::Timestamp(until),
                now: fanlic_formats::Timestamp(now),
            });
        }
        let pending = self.clients.get(&client).and_then(|r| r.pending.as_ref()).map(|p| p.0.clone());
        let p = pending.ok_or(CodeError::NoChallenge)?;
        let code = Code::parse(typed).ok_or(CodeError::NotSixDigits)?;
        if !Self::valid(&p, now, mono) {
            return Err(CodeError::ChallengeExpired {
                issued_at: fanlic_formats::Timestamp(p.shown.issued_at),
                now: fanlic_formats::Timestamp(now),
            });
        }
        // Equality that takes the same time whatever the digits.
        if code.value() ^ p.code.value() == 0 {
            self.clients.remove(&client);
            self.dirty = true;
            return Ok(());
        }
        self.dirty = true;
        if now >= self.global.window_start.saturating_add(GLOBAL_WINDOW_SECS) {
            self.global = Global { window_start: now, wrong: 0, locked_until: None };
        }
        self.global.wrong = self.global.wrong.saturating_add(1);
        let r = self.clients.entry(client).or_default();
        r.touched = now;
        r.wrong = r.wrong.saturating_add(1);
        let until = now.saturating_add(LOCK_SECS);
        let lock = |until: u64| CodeError::Locked {
            until: fanlic_formats::Timestamp(until),
            now: fanlic_formats::Timestamp(now),
        };
        if r.wrong > MAX_WRONG_CODES {
            r.locked_until = Some(until);
            r.pending = None;
            return Err(lock(until));
        }
        let remaining = MAX_WRONG_CODES + 1 - r.wrong;
        if self.global.wrong > GLOBAL_MAX_WRONG {
            self.global.locked_until = Some(until);
            return Err(lock(until));
        }
        Err(CodeError::WrongCode { remaining })
    }

    /// Consumes the valid QR code whose raw token hashes to `token_sha256`,
    /// whichever client it was shown to (a receipt names the challenge, not
    /// the browser that uploads it); the client it was shown to. A receipt
    /// counts once: the challenge is gone after this.
    pub fn take_by_token(&mut self, token_sha256: &[u8; 32], now: u64, mono: u64) -> Option<IpAddr> {
        let client = self.pending_by_token(token_sha256, now, mono)?;
        if let Some(r) = self.clients.get_mut(&client) {
            r.pending = None;
        }
        Some(client)
    }

    /// The client a valid QR code whose raw token hashes to `token_sha256` was shown to.
    pub fn pending_by_token(&self, token_sha256: &[u8; 32], now: u64, mono: u64) -> Option<IpAddr> {
        self.clients.iter().find_map(|(ip, r)| {
            let p = &r.pending.as_ref()?.0;
            (p.shown.token_sha256 == *token_sha256 && Self::valid(p, now, mono)).then_some(*ip)
        })
    }

    /// Activation holds: every client's challenge is void.
    pub fn clear_challenges(&mut self) {
        for r in self.clients.values_mut() {
            r.pending = None;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use fanlic_formats::{LicenseId, Timestamp};
    use fanlic_verifier::activation::{ActivationKey, ChallengeInput, make_challenge};

    use super::*;

    const T0: u64 = 1_790_000_000;
    const ADMIN: IpAddr = IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 2));
    const STRANGER: IpAddr = IpAddr::V4(core::net::Ipv4Addr::new(10, 0, 0, 66));

    fn challenge(nonce: u8, now: u64) -> (ShownChallenge, Code) {
        let p = make_challenge(
            LicenseId([7; 16]),
            &ActivationKey::from_bytes([1; 32]),
            &ChallengeInput {
                nonce: [nonce; 16],
                node_id: [0; 16],
                project_fingerprint: [0; 32],
                nodes: 1,
                app_version: "11.0",
                now: Timestamp(now),
                server: None,
            },
        )
        .unwrap();
        (ShownChallenge { url: format!("https://x/{nonce}"), issued_at: now, token_sha256: [nonce; 32] }, p.code())
    }

    fn wrong(c: Code) -> String {
        format!("{:06}", (c.value() + 1) % 1_000_000)
    }

    #[test]
    fn a_strangers_wrong_codes_and_refreshes_do_not_touch_the_admins_challenge() {
        let mut e = CodeEntry::new();
        let (admin_ch, admin_code) = challenge(1, T0);
        e.set_challenge(ADMIN, admin_ch.clone(), admin_code, 0);
        for i in 0..5 {
            let (ch, code) = challenge(2 + i, T0 + u64::from(i));
            e.set_challenge(STRANGER, ch, code, u64::from(i));
            assert!(matches!(e.enter(STRANGER, &wrong(code), T0 + 1, 1), Err(CodeError::WrongCode { .. })));
        }
        // The sixth locks the stranger, and only the stranger.
        let (ch, code) = challenge(9, T0 + 2);
        e.set_challenge(STRANGER, ch, code, 2);
        assert!(matches!(e.enter(STRANGER, &wrong(code), T0 + 2, 2), Err(CodeError::Locked { .. })));
        assert_eq!(e.locked_until(STRANGER, T0 + 3), Some(T0 + 2 + LOCK_SECS));
        assert!(matches!(e.enter(STRANGER, &code.to_string(), T0 + 3, 3), Err(CodeError::Locked { .. })));
        assert_eq!(e.locked_until(ADMIN, T0 + 3), None);
        assert_eq!(e.shown(ADMIN, T0 + 3, 3), Some(&admin_ch));
        assert_eq!(e.enter(ADMIN, &admin_code.to_string(), T0 + 4, 4), Ok(()));
    }

    #[test]
    fn the_global_limit_locks_everyone() {
        let mut e = CodeEntry::new();
        let mut n = 0u32;
        for client in 0..=10u8 {
            let ip = IpAddr::V4(core::net::Ipv4Addr::new(10, 1, 0, client));
            let (ch, code) = challenge(client, T0);
            e.set_challenge(ip, ch, code, 0);
            for _ in 0..5 {
                n += 1;
                let r = e.enter(ip, &wrong(code), T0 + 1, 1);
                if n <= GLOBAL_MAX_WRONG {
                    assert!(matches!(r, Err(CodeError::WrongCode { .. })), "{n}: {r:?}");
                } else {
                    assert!(matches!(r, Err(CodeError::Locked { .. })), "{n}: {r:?}");
                }
            }
        }
        let (ch, code) = challenge(99, T0 + 2);
        e.set_challenge(ADMIN, ch, code, 2);
        assert!(matches!(e.enter(ADMIN, &code.to_string(), T0 + 2, 2), Err(CodeError::Locked { .. })));
        // Over after 15 minutes.
        let (ch, code) = challenge(98, T0 + 1 + LOCK_SECS);
        e.set_challenge(ADMIN, ch, code, 1 + LOCK_SECS);
        assert_eq!(e.enter(ADMIN, &code.to_string(), T0 + 1 + LOCK_SECS, 1 + LOCK_SECS), Ok(()));
    }

    #[test]
    fn a_lock_survives_the_file_and_a_damaged_file_locks() {
        let mut e = CodeEntry::new();
        let (ch, code) = challenge(1, T0);
        e.set_challenge(ADMIN, ch, code, 0);
        for _ in 0..6 {
            let _ = e.enter(ADMIN, &wrong(code), T0 + 1, 1);
        }
        let bytes = e.take_write().unwrap();
        assert!(e.take_write().is_none(), "written once");
        let (mut e, ok) = CodeEntry::load(&bytes, T0 + 10);
        assert!(ok);
        assert_eq!(e.locked_until(ADMIN, T0 + 10), Some(T0 + 1 + LOCK_SECS));
        let (ch, code) = challenge(2, T0 + 10);
        e.set_challenge(ADMIN, ch, code, 0);
        assert!(matches!(e.enter(ADMIN, &code.to_string(), T0 + 11, 1), Err(CodeError::Locked { .. })));
        let (e, ok) = CodeEntry::load(b"{not json", T0);
        assert!(!ok);
        assert_eq!(e.locked_until(STRANGER, T0), Some(T0 + LOCK_SECS));
    }

    /// A challenge is valid 300 s on both the wall clock and the monotonic
    /// one: a wall clock moved back does not lengthen it, and a challenge
    /// dated ahead of the clock by more than the tolerance is expired.
    #[test]
    fn a_clock_moved_back_never_lengthens_a_challenge() {
        let mut e = CodeEntry::new();
        let (ch, code) = challenge(1, T0);
        e.set_challenge(ADMIN, ch, code, 1000);
        // The wall clock went back 200 s after 250 s: 50 s of wall time are
        // left on the wall clock's reading, only 50 s on the monotonic one.
        assert!(e.shown(ADMIN, T0 + 50 + 240, 1000 + 290).is_some());
        assert!(e.shown(ADMIN, T0 - 200 + 300, 1000 + 300).is_none(), "the monotonic age ends it");
        assert!(matches!(
            e.enter(ADMIN, &code.to_string(), T0 + 100, 1000 + 300),
            Err(CodeError::ChallengeExpired { .. })
        ));
        // Dated ahead of the clock by more than the tolerance.
        let (ch, code) = challenge(2, T0 + CLOCK_TOLERANCE_SECS + 1);
        e.set_challenge(ADMIN, ch, code, 2000);
        assert!(e.shown(ADMIN, T0, 2000).is_none());
    }
}
