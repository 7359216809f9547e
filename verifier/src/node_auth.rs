//! How an application proves to its authorization server that it belongs to
//! the customer's cluster (SPEC.md §7.3, "Authentication"): every
//! register, heartbeat and deregister request carries
//!
//! ```text
//! Authorization: FANLIC-HMAC-SHA256 <at>:<mac>
//! request_key = HMAC-SHA256(join_secret, "fanlic/1/node-request-key\n")
//! mac         = HMAC-SHA256(request_key, "fanlic/1/node-request\n" || path || "\n" || decimal(at) || "\n" || body)
//! ```
//!
//! where `at` is the application's clock (Unix seconds), `path` the request's
//! path (`/api/v1/heartbeat`) and `body` the exact bytes of the JSON body,
//! which names the node and a fresh nonce. The join secret itself never
//! travels: a MAC cannot be replayed to another node (the body names the
//! node), another path, or, since the server keeps the nonces it saw within
//! the time window, at all.
//!
//! No allocation: the header is written into a fixed buffer.

use core::fmt;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes in a join secret.
pub const JOIN_SECRET_LEN: usize = 32;
/// The `Authorization` scheme.
pub const AUTH_SCHEME: &str = "FANLIC-HMAC-SHA256";
/// Label of the request key's derivation.
pub const REQUEST_KEY_LABEL: &[u8] = b"fanlic/1/node-request-key\n";
/// Label of a request's MAC.
pub const REQUEST_MAC_LABEL: &[u8] = b"fanlic/1/node-request\n";
/// Longest `Authorization` value: the scheme, a space, up to 20 digits, `:`,
/// 64 hex digits.
pub const MAX_AUTH_HEADER_LEN: usize = AUTH_SCHEME.len() + 1 + 20 + 1 + 64;

fn hmac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    // HMAC accepts keys of any length: this cannot fail.
    let mut m = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    for p in parts {
        m.update(p);
    }
    m
}

/// The cluster's join secret: made by the authorization server, shown to
/// the admin once activation succeeds, configured in every application.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinSecret([u8; JOIN_SECRET_LEN]);

impl fmt::Debug for JoinSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinSecret(..)")
    }
}

/// Why a join secret's text was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinSecretError {
    /// Not 64 hexadecimal digits (white space around them is ignored).
    NotHex64,
}

impl fmt::Display for JoinSecretError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHex64 => f.write_str("a join secret is 64 hexadecimal digits"),
        }
    }
}

impl core::error::Error for JoinSecretError {}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let t = text.as_bytes();
    if t.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
        let (hi, lo) = (hex_value(*pair.first()?)?, hex_value(*pair.get(1)?)?);
        *o = hi << 4 | lo;
    }
    Some(out)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl JoinSecret {
    /// From its 32 bytes.
    pub const fn from_bytes(bytes: [u8; JOIN_SECRET_LEN]) -> Self {
        Self(bytes)
    }

    /// From the text the server shows and writes (`join-secret`): 64
    /// hexadecimal digits, white space around them ignored.
    pub fn parse(text: &str) -> Result<Self, JoinSecretError> {
        parse_hex(text.trim()).map(Self).ok_or(JoinSecretError::NotHex64)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; JOIN_SECRET_LEN] {
        &self.0
    }

    /// The key every request's MAC is made with.
    pub fn request_key(&self) -> RequestKey {
        RequestKey(hmac(&self.0, &[REQUEST_KEY_LABEL]).finalize().into_bytes().into())
    }

    /// Compares with `other` in constant time.
    pub fn same(&self, other: &Self) -> bool {
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }
}

/// The key derived from a join secret that MACs requests.
#[derive(Clone)]
pub struct RequestKey([u8; 32]);

impl fmt::Debug for RequestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestKey(..)")
    }
}

/// An `Authorization` header's value, written without allocation.
#[derive(Clone, Copy)]
pub struct AuthHeader {
    buf: [u8; MAX_AUTH_HEADER_LEN],
    len: usize,
}

impl AuthHeader {
    /// The value, e.g. `FANLIC-HMAC-SHA256 1790000000:3f…`.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written.
        core::str::from_utf8(self.buf.get(..self.len).unwrap_or(&[])).unwrap_or("")
    }
}

impl fmt::Debug for AuthHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a request's `Authorization` was not accepted. The server answers
/// every one of them alike (`not_authorized`), saying which in its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header.
    Missing,
    /// Not `FANLIC-HMAC-SHA256 <at>:<64 hex>`.
    Malformed,
    /// `at` is more than the tolerance away from the server's clock.
    OutOfWindow {
        /// The request's time.
        at: u64,
        /// The server's.
        now: u64,
    },
    /// The MAC does not hold: another join secret, or the request changed.
    BadMac,
    /// The same request (its nonce) was seen before.
    Replayed,
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("the request carries no Authorization header"),
            Self::Malformed => f.write_str("the Authorization header is not FANLIC-HMAC-SHA256 <at>:<mac>"),
            Self::OutOfWindow { at, now } => write!(
                f,
                "the request's time ({at}) is more than {} seconds from the server's ({now}): check both clocks",
                crate::CLOCK_TOLERANCE_SECS
            ),
            Self::BadMac => f.write_str("the MAC does not hold: the application's join secret is not this server's"),
            Self::Replayed => f.write_str("this request was already received once"),
        }
    }
}

impl core::error::Error for AuthError {}

impl RequestKey {
    fn mac(&self, path: &str, at: u64, body: &[u8]) -> HmacSha256 {
        let mut digits = [0u8; 20];
        let at_text = decimal(at, &mut digits);
        hmac(&self.0, &[REQUEST_MAC_LABEL, path.as_bytes(), b"\n", at_text, b"\n", body])
    }

    /// The MAC of a request to `path` with `body`, made at `at`.
    pub fn request_mac(&self, path: &str, at: u64, body: &[u8]) -> [u8; 32] {
        self.mac(path, at, body).finalize().into_bytes().into()
    }

    /// The `Authorization` value of a request to `path` with `body` at `at`.
    pub fn authorization(&self, path: &str, at: u64, body: &[u8]) -> AuthHeader {
        let mac = self.request_mac(path, at, body);
        let mut h = AuthHeader { buf: [0; MAX_AUTH_HEADER_LEN], len: 0 };
        let mut push = |bytes: &[u8]| {
            for &b in bytes {
                if let Some(slot) = h.buf.get_mut(h.len) {
                    *slot = b;
                    h.len += 1;
                }
            }
        };
        push(AUTH_SCHEME.as_bytes());
        push(b" ");
        let mut digits = [0u8; 20];
        push(decimal(at, &mut digits));
        push(b":");
        for b in mac {
            let digit = |n: u8| HEX.get(usize::from(n)).copied().unwrap_or(b'0');
            push(&[digit(b >> 4), digit(b & 0x0f)]);
        }
        h
    }

    /// Checks an `Authorization` value (`None`: no header) for a request to
    /// `path` with `body` at the server's `now`: the form, the time window
    /// (`|now - at| <= tolerance`), then the MAC in constant time. Returns
    /// `at`. Replays are the caller's to refuse (it keeps the nonces).
    pub fn check(&self, header: Option<&str>, path: &str, body: &[u8], now: u64) -> Result<u64, AuthError> {
        let (at, mac) = parse_authorization(header.ok_or(AuthError::Missing)?).ok_or(AuthError::Malformed)?;
        if at.abs_diff(now) > crate::CLOCK_TOLERANCE_SECS {
            return Err(AuthError::OutOfWindow { at, now });
        }
        // `verify_slice` compares in constant time.
        self.mac(path, at, body).verify_slice(&mac).map_err(|_| AuthError::BadMac)?;
        Ok(at)
    }
}

/// `FANLIC-HMAC-SHA256 <at>:<mac>`: the time and the MAC.
pub fn parse_authorization(value: &str) -> Option<(u64, [u8; 32])> {
    let rest = value.trim().strip_prefix(AUTH_SCHEME)?.strip_prefix(' ')?;
    let (at, mac) = rest.split_once(':')?;
    if at.is_empty() || at.len() > 20 || !at.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if mac.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Some((at.parse().ok()?, parse_hex(mac)?))
}

/// `n` in decimal, in `buf`.
fn decimal(mut n: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            // n % 10 < 10: fits a u8.
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SECRET: [u8; 32] = [0x5a; 32];

    #[test]
    fn a_request_made_with_the_secret_passes_and_nothing_else_does() {
        let key = JoinSecret::from_bytes(SECRET).request_key();
        let body = br#"{"node_id":"01010101010101010101010101010101","nonce":"02020202020202020202020202020202"}"#;
        let h = key.authorization("/api/v1/heartbeat", 1_790_000_000, body);
        assert!(h.as_str().starts_with("FANLIC-HMAC-SHA256 1790000000:"));
        assert_eq!(h.as_str().len(), AUTH_SCHEME.len() + 1 + 10 + 1 + 64);
        assert_eq!(key.check(Some(h.as_str()), "/api/v1/heartbeat", body, 1_790_000_300), Ok(1_790_000_000));
        assert_eq!(
            key.check(Some(h.as_str()), "/api/v1/heartbeat", body, 1_790_000_301),
            Err(AuthError::OutOfWindow { at: 1_790_000_000, now: 1_790_000_301 })
        );
        assert_eq!(key.check(Some(h.as_str()), "/api/v1/deregister", body, 1_790_000_000), Err(AuthError::BadMac));
        let other = JoinSecret::from_bytes([0x5b; 32]).request_key();
        assert_eq!(other.check(Some(h.as_str()), "/api/v1/heartbeat", body, 1_790_000_000), Err(AuthError::BadMac));
        let mut changed = *body;
        changed[20] ^= 1;
        assert_eq!(key.check(Some(h.as_str()), "/api/v1/heartbeat", &changed, 1_790_000_000), Err(AuthError::BadMac));
        assert_eq!(key.check(None, "/api/v1/heartbeat", body, 0), Err(AuthError::Missing));
        let upper = h.as_str().to_ascii_uppercase().replace("FANLIC-HMAC-SHA256", AUTH_SCHEME);
        assert_eq!(key.check(Some(&upper), "/api/v1/heartbeat", body, 1_790_000_000), Err(AuthError::Malformed));
        assert_eq!(key.check(Some("Bearer x"), "/api/v1/heartbeat", body, 0), Err(AuthError::Malformed));
    }

    #[test]
    fn parses_a_join_secret() {
        let text = std::format!("  {}\n", "5a".repeat(32));
        assert_eq!(JoinSecret::parse(&text).unwrap(), JoinSecret::from_bytes(SECRET));
        assert_eq!(JoinSecret::parse("5a5a"), Err(JoinSecretError::NotHex64));
        assert_eq!(decimal(0, &mut [0; 20]), b"0");
        assert_eq!(decimal(u64::MAX, &mut [0; 20]), b"18446744073709551615");
    }
}
