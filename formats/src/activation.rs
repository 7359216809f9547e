//! The activation challenge and the token a QR code carries (SPEC.md §6.1).
//!
//! The product makes a challenge, MACs it under the license's activation key
//! (the MAC and the 6-digit code are computed in `fanlic-verifier`, which has
//! the HMAC), and shows `activation_base_url || "/" || token` as a QR code.
//! This module only encodes and decodes: no allocation, no panic, canonical
//! encodings only.

use base64::{
    Engine as _,
    alphabet::URL_SAFE,
    engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
};
use serde::{Deserialize, Serialize};

use crate::{DecodeError, LicenseId, Timestamp, canonical};

/// Purpose label of the message the challenge's MAC covers: SPEC.md §6.1,
/// "tag = HMAC-SHA256(activation_key, "fanlic/1/activation-challenge\n" || body)".
pub const CHALLENGE_LABEL: &[u8] = b"fanlic/1/activation-challenge\n";

/// Purpose label of the message the 6-digit code is computed over: SPEC.md
/// §6.1, "code = HOTP-truncate(HMAC-SHA256(activation_key,
/// "fanlic/1/activation-code\n" || body))".
pub const CODE_LABEL: &[u8] = b"fanlic/1/activation-code\n";

/// Purpose label hashed into a project fingerprint: SPEC.md §6.1.
pub const PROJECT_FINGERPRINT_LABEL: &[u8] = b"fanlic/1/project-fingerprint\n";

/// The first byte of a token: the token format's version (SPEC.md §6.1). A
/// decoder MUST reject any other.
pub const TOKEN_VERSION: u8 = 1;

/// Length of the challenge's MAC (full HMAC-SHA256).
pub const TAG_LEN: usize = 32;

/// The largest challenge body a decoder accepts (SPEC.md §6.1).
pub const MAX_CHALLENGE_BODY_LEN: usize = 256;

/// The largest raw token: version byte, body, tag.
pub const MAX_TOKEN_LEN: usize = 1 + MAX_CHALLENGE_BODY_LEN + TAG_LEN;

/// The largest token in its text form (unpadded base64url of [`MAX_TOKEN_LEN`] bytes).
pub const MAX_TOKEN_TEXT_LEN: usize = MAX_TOKEN_LEN.div_ceil(3) * 4;

/// How long a challenge is valid: 300 seconds after its `issued_at`
/// (SPEC.md §6.1).
pub const CHALLENGE_VALID_SECS: u64 = 300;

/// Wrong codes allowed: when they exceed five, at the sixth, input locks
/// (SPEC.md §6.2).
pub const MAX_WRONG_CODES: u8 = 5;

/// How long input stays locked: 900 seconds (SPEC.md §6.2).
pub const LOCK_SECS: u64 = 900;

/// base64url (RFC 4648 §5) without padding, canonical: no padding accepted,
/// unused trailing bits must be zero.
const TOKEN_B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_encode_padding(false).with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// The challenge body exactly as postcard lays it out (SPEC.md §6.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeBodyWire<'a> {
    /// The license being activated.
    pub license_id: [u8; 16],
    /// Fresh random bytes for every challenge (each QR code).
    pub nonce: [u8; 16],
    /// The node showing the QR code.
    pub node_id: [u8; 16],
    /// [`project_fingerprint_message`]'s SHA-256, as the product computes it.
    pub project_fingerprint: [u8; 32],
    /// Nodes in the cluster now.
    pub nodes: u32,
    /// The product's version, e.g. `11.0.20`.
    pub app_version: &'a str,
    /// When the challenge was made.
    pub issued_at: u64,
    /// For an authorization server: its instance and its state (SPEC.md §7.1).
    pub server: Option<ServerInstance>,
}

/// What an authorization server adds to its challenge (SPEC.md §6.1, §7.1):
/// which instance asks, and how far its `privateConfig` has come, so that the
/// vendor's service can tell a clone or a rolled-back copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInstance {
    /// `instance_fingerprint` of the server's instance public key (§7.1).
    pub instance_fingerprint: [u8; 32],
    /// The `generation` of the server's `privateConfig` (§7.4).
    pub generation: u64,
}

/// An activation challenge whose body decoded and passed every rule of
/// SPEC.md §6.1. Its MAC is checked by `fanlic-verifier`; until then nothing
/// in it may be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ActivationChallenge<'a> {
    /// The license being activated.
    pub license_id: LicenseId,
    /// Fresh for each challenge.
    pub nonce: [u8; 16],
    /// The node showing the QR code.
    pub node_id: [u8; 16],
    /// Identifies the project (SPEC.md §6.1).
    pub project_fingerprint: [u8; 32],
    /// Cluster node count.
    pub nodes: u32,
    /// The product's version.
    pub app_version: &'a str,
    /// When the challenge was made.
    pub issued_at: Timestamp,
    /// For an authorization server: its instance and its state.
    pub server: Option<ServerInstance>,
    /// The receipt id (SPEC.md §6.4) of the latest receipt an authorization
    /// server holds, under `receipt` policy: the trailing optional field
    /// `previous_receipt`; `None` when absent.
    pub previous_receipt: Option<[u8; 32]>,
}

impl<'a> ActivationChallenge<'a> {
    /// A challenge from its fields, checked as a decoder would check them.
    pub fn new(w: &ChallengeBodyWire<'a>) -> Result<Self, DecodeError> {
        if w.license_id == [0; 16] {
            return Err(DecodeError::Invalid { field: "license_id", rule: "is all zero" });
        }
        if w.nodes == 0 {
            return Err(DecodeError::Invalid { field: "nodes", rule: "must be at least 1" });
        }
        let v = w.app_version;
        if v.is_empty() || v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DecodeError::Invalid {
                field: "app_version",
                rule: "must be 1 to 64 printable ASCII characters",
            });
        }
        Ok(Self {
            license_id: LicenseId(w.license_id),
            nonce: w.nonce,
            node_id: w.node_id,
            project_fingerprint: w.project_fingerprint,
            nodes: w.nodes,
            app_version: w.app_version,
            issued_at: Timestamp(w.issued_at),
            server: w.server,
            previous_receipt: None,
        })
    }

    /// The same challenge naming `previous` as the receipt it follows.
    #[must_use]
    pub fn with_previous_receipt(mut self, previous: Option<[u8; 32]>) -> Self {
        self.previous_receipt = previous;
        self
    }

    /// Decodes a body: canonical, nothing left over, every rule checked.
    pub fn decode(body: &'a [u8]) -> Result<Self, DecodeError> {
        if body.len() > MAX_CHALLENGE_BODY_LEN {
            return Err(DecodeError::TooLong { len: body.len(), max: MAX_CHALLENGE_BODY_LEN });
        }
        let (w, previous) = canonical::decode_trailing::<ChallengeBodyWire<'a>, [u8; 32]>(body)?;
        Ok(Self::new(&w)?.with_previous_receipt(previous))
    }

    /// Its wire form (without the trailing `previous_receipt`, which
    /// [`ActivationChallenge::encode`] appends).
    pub fn to_wire(&self) -> ChallengeBodyWire<'a> {
        ChallengeBodyWire {
            license_id: self.license_id.0,
            nonce: self.nonce,
            node_id: self.node_id,
            project_fingerprint: self.project_fingerprint,
            nodes: self.nodes,
            app_version: self.app_version,
            issued_at: self.issued_at.0,
            server: self.server,
        }
    }

    /// Encodes the body into `out` (no allocation); the encoded bytes.
    pub fn encode<'b>(&self, out: &'b mut [u8]) -> Result<&'b [u8], DecodeError> {
        let too_long = DecodeError::TooLong { len: MAX_CHALLENGE_BODY_LEN + 1, max: MAX_CHALLENGE_BODY_LEN };
        let head = postcard::to_slice(&self.to_wire(), &mut *out).map_err(|_| too_long)?.len();
        let len = match &self.previous_receipt {
            None => head,
            Some(previous) => {
                let end = head + previous.len();
                out.get_mut(head..end).ok_or(too_long)?.copy_from_slice(previous);
                end
            }
        };
        if len > MAX_CHALLENGE_BODY_LEN {
            return Err(DecodeError::TooLong { len, max: MAX_CHALLENGE_BODY_LEN });
        }
        out.get(..len).ok_or(too_long)
    }

    /// Whether the challenge is past its 5 minutes at `now`: SPEC.md §6.1,
    /// "a challenge is valid while issued_at <= now + 300 and now < issued_at + 300".
    /// The first bound refuses a challenge from a clock far ahead.
    pub fn is_expired_at(&self, now: Timestamp) -> bool {
        now.0 >= self.issued_at.0.saturating_add(CHALLENGE_VALID_SECS)
            || self.issued_at.0 > now.0.saturating_add(CHALLENGE_VALID_SECS)
    }
}

/// A token split into its parts: `version (1) || body || tag (32)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The challenge body (not yet authenticated).
    pub body: &'a [u8],
    /// The MAC over the labelled body.
    pub tag: &'a [u8; TAG_LEN],
}

impl<'a> Token<'a> {
    /// Splits a raw token (SPEC.md §6.1): known version, a body of 1 to
    /// [`MAX_CHALLENGE_BODY_LEN`] bytes, a 32-byte tag.
    pub fn split(raw: &'a [u8]) -> Result<Self, DecodeError> {
        if raw.len() > MAX_TOKEN_LEN {
            return Err(DecodeError::TooLong { len: raw.len(), max: MAX_TOKEN_LEN });
        }
        let (&version, rest) = raw.split_first().ok_or(DecodeError::Malformed)?;
        if version != TOKEN_VERSION {
            return Err(DecodeError::UnknownMagic);
        }
        let body_len = rest.len().checked_sub(TAG_LEN).filter(|&n| n > 0).ok_or(DecodeError::Malformed)?;
        let (body, tag) = rest.split_at(body_len);
        let tag: &[u8; TAG_LEN] = tag.try_into().map_err(|_| DecodeError::Malformed)?;
        Ok(Self { body, tag })
    }

    /// Writes `version || body || tag` into `out`; the raw token.
    pub fn join<'b>(
        body: &[u8],
        tag: &[u8; TAG_LEN],
        out: &'b mut [u8; MAX_TOKEN_LEN],
    ) -> Result<&'b [u8], DecodeError> {
        let len = 1 + body.len() + TAG_LEN;
        if body.is_empty() || body.len() > MAX_CHALLENGE_BODY_LEN {
            return Err(DecodeError::TooLong { len: body.len(), max: MAX_CHALLENGE_BODY_LEN });
        }
        let dst = out.get_mut(..len).ok_or(DecodeError::Malformed)?;
        let (v, rest) = dst.split_first_mut().ok_or(DecodeError::Malformed)?;
        *v = TOKEN_VERSION;
        let (b, t) = rest.split_at_mut(body.len());
        b.copy_from_slice(body);
        t.copy_from_slice(tag);
        Ok(dst)
    }
}

/// Encodes a raw token as text (unpadded base64url) into `out`.
pub fn token_to_text<'b>(raw: &[u8], out: &'b mut [u8; MAX_TOKEN_TEXT_LEN]) -> Result<&'b str, DecodeError> {
    let n =
        TOKEN_B64.encode_slice(raw, out).map_err(|_| DecodeError::TooLong { len: raw.len(), max: MAX_TOKEN_LEN })?;
    let text = out.get(..n).ok_or(DecodeError::Malformed)?;
    core::str::from_utf8(text).map_err(|_| DecodeError::Malformed)
}

/// Decodes a token's text form (canonical unpadded base64url) into `out`.
pub fn token_from_text<'b>(text: &str, out: &'b mut [u8; MAX_TOKEN_LEN]) -> Result<&'b [u8], DecodeError> {
    if text.len() > MAX_TOKEN_TEXT_LEN {
        return Err(DecodeError::TooLong { len: text.len(), max: MAX_TOKEN_TEXT_LEN });
    }
    let n = TOKEN_B64.decode_slice(text.as_bytes(), out).map_err(|_| DecodeError::Malformed)?;
    out.get(..n).ok_or(DecodeError::Malformed)
}

/// The token in an activation URL: its last path segment, with any query or
/// fragment removed (SPEC.md §6.1: "URL = activation_base_url || "/" || token").
pub fn token_text_of_url(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

/// The bytes whose SHA-256 is a project fingerprint (SPEC.md §6.1):
/// `"fanlic/1/project-fingerprint\n" || postcard((app_name: str, project: str, deployment_id: bytes))`,
/// written to `out`. The deployment id is whatever the product persists to
/// tell two deployments of a project with the same name apart.
pub fn project_fingerprint_message<'b>(
    app_name: &str,
    project: &str,
    deployment_id: &[u8],
    out: &'b mut [u8],
) -> Result<&'b [u8], DecodeError> {
    let label = PROJECT_FINGERPRINT_LABEL.len();
    let too_long = || DecodeError::TooLong { len: out_len(app_name, project, deployment_id), max: 0 };
    let (head, tail) = out.split_at_mut_checked(label).ok_or_else(too_long)?;
    head.copy_from_slice(PROJECT_FINGERPRINT_LABEL);
    let used = postcard::to_slice(&(app_name, project, deployment_id), tail).map_err(|_| too_long())?.len();
    out.get(..label + used).ok_or_else(too_long)
}

fn out_len(app_name: &str, project: &str, deployment_id: &[u8]) -> usize {
    PROJECT_FINGERPRINT_LABEL.len() + app_name.len() + project.len() + deployment_id.len() + 15
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use std::borrow::ToOwned as _;

    use super::*;

    fn wire() -> ChallengeBodyWire<'static> {
        ChallengeBodyWire {
            license_id: [7; 16],
            nonce: [1; 16],
            node_id: [2; 16],
            project_fingerprint: [3; 32],
            nodes: 2,
            app_version: "11.0.20",
            issued_at: 1_790_000_000,
            server: None,
        }
    }

    #[test]
    fn body_round_trips_byte_for_byte() {
        let c = ActivationChallenge::new(&wire()).unwrap();
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        let body = c.encode(&mut buf).unwrap().to_vec();
        let back = ActivationChallenge::decode(&body).unwrap();
        assert_eq!(back, c);
        let mut again = [0u8; MAX_CHALLENGE_BODY_LEN];
        assert_eq!(back.encode(&mut again).unwrap(), &body[..]);
    }

    #[test]
    fn rules_are_checked() {
        let mut w = wire();
        w.nodes = 0;
        assert!(ActivationChallenge::new(&w).is_err());
        let mut w = wire();
        w.license_id = [0; 16];
        assert!(ActivationChallenge::new(&w).is_err());
        let mut w = wire();
        w.app_version = "11 0";
        assert!(ActivationChallenge::new(&w).is_err());
    }

    #[test]
    fn trailing_and_overlong_bytes_are_refused() {
        let c = ActivationChallenge::new(&wire()).unwrap();
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        let mut body = c.encode(&mut buf).unwrap().to_vec();
        body.push(0);
        // One byte is not a whole trailing `previous_receipt`.
        assert_eq!(ActivationChallenge::decode(&body), Err(DecodeError::Malformed));
        body.extend_from_slice(&[0; 32]);
        assert_eq!(ActivationChallenge::decode(&body), Err(DecodeError::TrailingBytes { count: 1 }));
    }

    #[test]
    fn previous_receipt_is_a_trailing_field() {
        let plain = ActivationChallenge::new(&wire()).unwrap();
        let c = plain.with_previous_receipt(Some([5; 32]));
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        let body = c.encode(&mut buf).unwrap().to_vec();
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        let head = plain.encode(&mut buf).unwrap().to_vec();
        // The body without it, then its 32 bytes: nothing else changes.
        assert_eq!(body[..head.len()], head[..]);
        assert_eq!(body[head.len()..], [5; 32]);
        assert_eq!(ActivationChallenge::decode(&body).unwrap(), c);
        assert_eq!(ActivationChallenge::decode(&head).unwrap().previous_receipt, None);
    }

    #[test]
    fn token_text_round_trips_and_is_canonical() {
        let c = ActivationChallenge::new(&wire()).unwrap();
        let mut buf = [0u8; MAX_CHALLENGE_BODY_LEN];
        let body = c.encode(&mut buf).unwrap();
        let mut raw = [0u8; MAX_TOKEN_LEN];
        let raw = Token::join(body, &[9; 32], &mut raw).unwrap().to_vec();
        let mut text = [0u8; MAX_TOKEN_TEXT_LEN];
        let text = token_to_text(&raw, &mut text).unwrap().to_owned();
        assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let mut back = [0u8; MAX_TOKEN_LEN];
        assert_eq!(token_from_text(&text, &mut back).unwrap(), &raw[..]);
        let t = Token::split(&raw).unwrap();
        assert_eq!(t.body, body);
        assert_eq!(t.tag, &[9; 32]);
        // Padding is refused, as is a different last character with the same bytes.
        let mut back = [0u8; MAX_TOKEN_LEN];
        assert!(token_from_text(&std::format!("{text}="), &mut back).is_err());
    }

    #[test]
    fn token_of_url() {
        assert_eq!(token_text_of_url("https://a.example/act/AbC_-9?x=1#f"), "AbC_-9");
        assert_eq!(token_text_of_url("AbC"), "AbC");
    }

    #[test]
    fn unknown_token_version_is_refused() {
        let mut raw = [0u8; 40];
        raw[0] = 2;
        assert_eq!(Token::split(&raw), Err(DecodeError::UnknownMagic));
        assert_eq!(Token::split(&[1; 33]), Err(DecodeError::Malformed));
    }

    #[test]
    fn expiry_is_five_minutes() {
        let c = ActivationChallenge::new(&wire()).unwrap();
        let t = c.issued_at.0;
        assert!(!c.is_expired_at(Timestamp(t + 299)));
        assert!(c.is_expired_at(Timestamp(t + 300)));
        assert!(!c.is_expired_at(Timestamp(t - 300)));
        assert!(c.is_expired_at(Timestamp(t - 301)));
    }

    proptest::proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = ActivationChallenge::decode(&bytes);
            let _ = Token::split(&bytes);
            let mut out = [0u8; MAX_TOKEN_LEN];
            let _ = token_from_text(&std::string::String::from_utf8_lossy(&bytes), &mut out);
        }
    }
}
