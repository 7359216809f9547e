//! Who may do what (SPEC.md §7.3 "Authentication"):
//! - applications prove they hold the cluster's **join secret** with a MAC
//!   on every request ([`fanlic_verifier::node_auth`]); the server keeps the
//!   nonces it accepted within the time window, so no request counts twice;
//! - the admin's forms carry a CSRF token bound to the client's address and
//!   pass an Origin check; evicting a node also takes the join secret.
//!
//! The join secret is made at the first start into `join-secret` beside
//! `privateConfig` (mode 0600, never in `privateConfig`, which is mailed to
//! the vendor), and shown on the page that confirms an activation.

use core::net::IpAddr;
use std::{
    collections::{HashSet, VecDeque},
    fs,
    path::Path,
};

use axum::http::{HeaderMap, header};
use fanlic_verifier::{CLOCK_TOLERANCE_SECS, node_auth::JoinSecret};
use ring::hmac;
use zeroize::Zeroizing;

use crate::{Error, config::write_atomic, hex, keys};

/// The join secret's file, beside `privateConfig`.
pub const JOIN_SECRET_FILE: &str = "join-secret";
/// Nonces remembered at most; the oldest go first (only requests whose MAC
/// held are remembered, so only the cluster's own traffic fills it).
pub const MAX_REMEMBERED_NONCES: usize = 1 << 17;

/// Reads `join-secret` (mode 0600), or makes it at the first start.
pub fn load_or_create_join_secret(dir: &Path) -> Result<(JoinSecret, bool), Error> {
    let path = dir.join(JOIN_SECRET_FILE);
    if path.exists() {
        keys::check_mode(&path)?;
        let text = Zeroizing::new(fs::read_to_string(&path).map_err(Error::io(&path, "cannot read"))?);
        let secret =
            JoinSecret::parse(&text).map_err(|e| Error::BadKeyFile { path: path.clone(), reason: e.to_string() })?;
        return Ok((secret, false));
    }
    let secret = JoinSecret::from_bytes(keys::random::<32>()?);
    let text = Zeroizing::new(format!("{}\n", hex(secret.as_bytes())));
    write_atomic(&path, text.as_bytes(), 0o600)?;
    Ok((secret, true))
}

/// The nonces of accepted application requests within the time window.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: HashSet<[u8; 16]>,
    order: VecDeque<(u64, [u8; 16])>,
}

impl ReplayGuard {
    /// Records `nonce` (of a request whose MAC held, made at `at`); false if
    /// it was seen before.
    pub fn first_time(&mut self, nonce: [u8; 16], at: u64, now: u64) -> bool {
        // A request older than twice the window cannot pass the time check
        // any more: forget it.
        let horizon = now.saturating_sub(2 * CLOCK_TOLERANCE_SECS);
        while let Some(&(t, n)) = self.order.front() {
            if t >= horizon && self.order.len() < MAX_REMEMBERED_NONCES {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&n);
        }
        if !self.seen.insert(nonce) {
            return false;
        }
        self.order.push_back((at, nonce));
        true
    }
}

/// The key of the admin forms' CSRF tokens, new at every start.
pub struct CsrfKey(hmac::Key);

impl core::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CsrfKey(..)")
    }
}

const CSRF_LABEL: &[u8] = b"fanlic/1/csrf\n";

impl CsrfKey {
    /// A fresh key.
    pub fn new() -> Result<Self, Error> {
        Ok(Self(hmac::Key::new(hmac::HMAC_SHA256, &keys::random::<32>()?)))
    }

    /// The token of `client`'s forms: `HMAC(key, label || address)`, hex.
    pub fn token(&self, client: IpAddr) -> String {
        let mut ctx = hmac::Context::with_key(&self.0);
        ctx.update(CSRF_LABEL);
        ctx.update(client.to_string().as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// Whether `token` is `client`'s (constant time).
    pub fn check(&self, client: IpAddr, token: &str) -> bool {
        let Some(tag) = parse_hex32(token) else { return false };
        let mut msg = CSRF_LABEL.to_vec();
        msg.extend_from_slice(client.to_string().as_bytes());
        hmac::verify(&self.0, &msg, &tag).is_ok()
    }
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
        *o = u8::from_str_radix(core::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// A state-changing request from a browser must come from this server's own
/// pages: an `Origin`, when sent, is `https://` + the `Host` asked for, and
/// `Sec-Fetch-Site`, when sent, is `same-origin` (or `none`: typed by the
/// user). Tools that send neither (curl) are judged by the CSRF token alone.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    match get(header::ORIGIN.as_str()) {
        None => true,
        Some(origin) => get(header::HOST.as_str()).is_some_and(|host| origin == format!("https://{host}")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_nonce_counts_once() {
        let mut g = ReplayGuard::default();
        assert!(g.first_time([1; 16], 1000, 1000));
        assert!(!g.first_time([1; 16], 1001, 1001));
        assert!(g.first_time([2; 16], 1001, 1001));
    }

    #[test]
    fn csrf_tokens_are_bound_to_the_client() {
        let k = CsrfKey::new().unwrap();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        assert!(k.check(a, &k.token(a)));
        assert!(!k.check(b, &k.token(a)));
        assert!(!k.check(a, ""));
        assert!(!CsrfKey::new().unwrap().check(a, &k.token(a)), "a restart makes new tokens");
    }

    #[test]
    fn the_origin_must_be_this_server() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("10.0.0.5:18081"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://10.0.0.5:18081"));
        assert!(same_origin(&h));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_origin(&h));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
    }
}
