//! Activation by QR code and 6-digit code (SPEC.md §6.1, §6.2), no_std and
//! allocation-free.
//!
//! The product, holding a verified license with an activation key:
//! 1. makes a challenge with [`make_challenge`] (fresh nonce, its node id,
//!    project fingerprint, node count, version, the time) and shows
//!    [`PreparedChallenge::write_url`] as a QR code;
//! 2. keeps the expected code in an [`Activation`] state machine;
//! 3. checks what the admin types with [`Activation::enter`]: 5 minutes per
//!    challenge, the sixth wrong code locks input for 15 minutes, and
//!    [`Activation::restart`] after all nodes restarted asks again.
//!
//! The vendor's service opens the same token with [`open_challenge`] (the
//! MAC must hold under the key it derives for that license) and computes
//! the same code with [`activation_code`].

use core::fmt;

use fanlic_formats::{
    DecodeError, LicenseId, Timestamp,
    activation::{
        self as wire, ActivationChallenge, CHALLENGE_LABEL, CODE_LABEL, LOCK_SECS, MAX_CHALLENGE_BODY_LEN,
        MAX_TOKEN_LEN, MAX_TOKEN_TEXT_LEN, MAX_WRONG_CODES, ServerInstance, TAG_LEN, Token,
    },
};
use hmac::{Hmac, Mac as _};
use sha2::{Digest as _, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// A license's activation key (SPEC.md §3.3 `activation_key`). Deliberately
/// not `Debug`-printable: the key is never shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ActivationKey([u8; 32]);

impl ActivationKey {
    /// The key from its bytes (from a verified license, or derived by the vendor).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Its bytes, for the vendor to put into a license.
    pub const fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl fmt::Debug for ActivationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ActivationKey(<hidden>)")
    }
}

fn mac(key: &ActivationKey, label: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length: this cannot fail for 32 bytes.
    let mut m = <HmacSha256 as hmac::digest::KeyInit>::new_from_slice(&key.0)
        .unwrap_or_else(|_| <HmacSha256 as hmac::digest::KeyInit>::new(&Default::default()));
    m.update(label);
    m.update(body);
    m
}

/// The challenge's MAC: SPEC.md §6.1,
/// `tag = HMAC-SHA256(activation_key, "fanlic/1/activation-challenge\n" || body)`.
pub fn challenge_tag(key: &ActivationKey, body: &[u8]) -> [u8; TAG_LEN] {
    mac(key, CHALLENGE_LABEL, body).finalize().into_bytes().into()
}

/// A 6-digit activation code. Shown zero-padded (`012345`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code(u32);

impl Code {
    /// Parses what an admin typed: exactly six ASCII digits, spaces around
    /// them ignored. `None` for anything else.
    pub fn parse(typed: &str) -> Option<Self> {
        let t = typed.trim();
        if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok().map(Self)
    }

    /// The code as a number below 1,000,000.
    pub const fn value(self) -> u32 {
        self.0
    }

    /// Equality that takes the same time whatever the digits.
    fn same(self, other: Self) -> bool {
        (self.0 ^ other.0) == 0
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(******)")
    }
}

/// The 6-digit code for a challenge body: SPEC.md §6.1, HMAC-SHA256 over
/// `"fanlic/1/activation-code\n" || body`, then RFC 4226 §5.3 dynamic
/// truncation: `offset = mac[31] & 0x0f`, the 31-bit big-endian number at
/// `mac[offset..offset + 4]`, modulo 10^6.
pub fn activation_code(key: &ActivationKey, body: &[u8]) -> Code {
    let m: [u8; 32] = mac(key, CODE_LABEL, body).finalize().into_bytes().into();
    Code(truncate(&m))
}

fn truncate(m: &[u8; 32]) -> u32 {
    let offset = usize::from(m[31] & 0x0f);
    let mut four = [0u8; 4];
    // offset <= 15, so offset + 4 <= 19 < 32.
    four.copy_from_slice(m.get(offset..offset + 4).unwrap_or(&[0; 4]));
    (u32::from_be_bytes(four) & 0x7fff_ffff) % 1_000_000
}

/// A project fingerprint: SPEC.md §6.1,
/// `SHA-256("fanlic/1/project-fingerprint\n" || postcard((app_name, project, deployment_id)))`.
pub fn project_fingerprint(app_name: &str, project: &str, deployment_id: &[u8]) -> Result<[u8; 32], DecodeError> {
    let mut buf = [0u8; 1024];
    let message = wire::project_fingerprint_message(app_name, project, deployment_id, &mut buf)?;
    Ok(Sha256::digest(message).into())
}

/// What the product puts in a challenge besides the license id.
#[derive(Clone, Copy, Debug)]
pub struct ChallengeInput<'a> {
    /// 16 fresh random bytes for this challenge (the product's RNG).
    pub nonce: [u8; 16],
    /// This node's id (persisted by the product).
    pub node_id: [u8; 16],
    /// [`project_fingerprint`] of the project.
    pub project_fingerprint: [u8; 32],
    /// Nodes in the cluster now.
    pub nodes: u32,
    /// The product's version, e.g. `11.0.20`.
    pub app_version: &'a str,
    /// The current time.
    pub now: Timestamp,
    /// For an authorization server: its instance fingerprint and `privateConfig` generation.
    pub server: Option<ServerInstance>,
}

/// A challenge ready to show: the raw token and the code it expects.
#[derive(Clone)]
pub struct PreparedChallenge {
    token: [u8; MAX_TOKEN_LEN],
    token_len: usize,
    code: Code,
    issued_at: Timestamp,
}

impl fmt::Debug for PreparedChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedChallenge").field("issued_at", &self.issued_at).finish_non_exhaustive()
    }
}

impl PreparedChallenge {
    /// The raw token (`version || body || tag`).
    pub fn token(&self) -> &[u8] {
        self.token.get(..self.token_len).unwrap_or(&[])
    }

    /// The code this challenge expects (for [`Activation::set_challenge`]).
    pub const fn code(&self) -> Code {
        self.code
    }

    /// When it was made.
    pub const fn issued_at(&self) -> Timestamp {
        self.issued_at
    }

    /// SHA-256 of the raw token: what a receipt for this challenge names as
    /// its `challenge_sha256` (SPEC.md §6.4).
    pub fn token_sha256(&self) -> [u8; 32] {
        Sha256::digest(self.token()).into()
    }

    /// Writes the activation URL, `base_url || "/" || token` (SPEC.md §6.1).
    /// A trailing `/` of `base_url` is not doubled.
    pub fn write_url(&self, base_url: &str, out: &mut impl fmt::Write) -> fmt::Result {
        let mut text = [0u8; MAX_TOKEN_TEXT_LEN];
        let text = wire::token_to_text(self.token(), &mut text).map_err(|_| fmt::Error)?;
        out.write_str(base_url.trim_end_matches('/'))?;
        out.write_char('/')?;
        out.write_str(text)
    }
}

/// Makes a challenge for a license (SPEC.md §6.1): encodes the body, MACs it
/// and computes the code it expects.
pub fn make_challenge(
    license_id: LicenseId,
    key: &ActivationKey,
    input: &ChallengeInput<'_>,
) -> Result<PreparedChallenge, DecodeError> {
    make_challenge_after(license_id, key, input, None)
}

/// [`make_challenge`] for an authorization server under receipt policy
/// (SPEC.md §6.1, §6.4): the challenge names, in its trailing
/// `previous_receipt`, the id of the receipt the server holds (`None`: it
/// holds none, and the body is that of [`make_challenge`]). Under receipt
/// policy `key` is the license's challenge key, and the code it computes is
/// never accepted (§3.3).
pub fn make_challenge_after(
    license_id: LicenseId,
    key: &ActivationKey,
    input: &ChallengeInput<'_>,
    previous_receipt: Option<[u8; 32]>,
) -> Result<PreparedChallenge, DecodeError> {
    let c = ActivationChallenge::new(&wire::ChallengeBodyWire {
        license_id: license_id.0,
        nonce: input.nonce,
        node_id: input.node_id,
        project_fingerprint: input.project_fingerprint,
        nodes: input.nodes,
        app_version: input.app_version,
        issued_at: input.now.0,
        server: input.server,
    })?
    .with_previous_receipt(previous_receipt);
    let mut body = [0u8; MAX_CHALLENGE_BODY_LEN];
    let body = c.encode(&mut body)?;
    let tag = challenge_tag(key, body);
    let mut token = [0u8; MAX_TOKEN_LEN];
    let token_len = Token::join(body, &tag, &mut token)?.len();
    Ok(PreparedChallenge { token, token_len, code: activation_code(key, body), issued_at: input.now })
}

/// Why the vendor's service refuses a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Not a token: bad base64, unknown version, or a body that does not decode.
    Malformed(DecodeError),
    /// The MAC does not hold under the license's activation key: the
    /// challenge was not made by a holder of this license. Says no more.
    Forged,
    /// Made more than 5 minutes before `now` (or more than 5 minutes after it).
    Expired {
        /// When the challenge says it was made.
        issued_at: Timestamp,
        /// The service's time.
        now: Timestamp,
    },
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(e) => write!(f, "not an activation QR code: {e}"),
            Self::Forged => f.write_str("this QR code was not made by the licensed product (forged challenge)"),
            Self::Expired { issued_at, now } => write!(
                f,
                "this QR code has expired (made at {issued_at}, now {now}; a QR code is valid for 5 minutes): refresh it on the product"
            ),
        }
    }
}

impl core::error::Error for ChallengeError {}

/// The license id a token names, before anything is authenticated: only to
/// look up the key that [`open_challenge`] then checks the token with.
pub fn claimed_license_id(raw_token: &[u8]) -> Result<LicenseId, ChallengeError> {
    let t = Token::split(raw_token).map_err(ChallengeError::Malformed)?;
    Ok(ActivationChallenge::decode(t.body).map_err(ChallengeError::Malformed)?.license_id)
}

/// Opens a token at the vendor's service: the MAC must hold under `key`
/// (compared in constant time), then the body is trusted, then its age is
/// checked against `now`. Returns the challenge and the code it expects.
pub fn open_challenge<'a>(
    raw_token: &'a [u8],
    key: &ActivationKey,
    now: Timestamp,
) -> Result<(ActivationChallenge<'a>, Code), ChallengeError> {
    let t = Token::split(raw_token).map_err(ChallengeError::Malformed)?;
    // `verify_slice` compares in constant time.
    if mac(key, CHALLENGE_LABEL, t.body).verify_slice(t.tag).is_err() {
        return Err(ChallengeError::Forged);
    }
    let c = ActivationChallenge::decode(t.body).map_err(ChallengeError::Malformed)?;
    if c.is_expired_at(now) {
        return Err(ChallengeError::Expired { issued_at: c.issued_at, now });
    }
    Ok((c, activation_code(key, t.body)))
}

/// Decodes a token's text (the last path segment of the QR URL) into `out`.
pub fn token_from_url<'b>(url: &str, out: &'b mut [u8; MAX_TOKEN_LEN]) -> Result<&'b [u8], ChallengeError> {
    wire::token_from_text(wire::token_text_of_url(url), out).map_err(ChallengeError::Malformed)
}

/// Why a typed code was not accepted (SPEC.md §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodeError {
    /// No QR code is being shown: make a challenge first.
    NoChallenge,
    /// Not six digits. Does not count as a wrong code.
    NotSixDigits,
    /// The QR code is more than 5 minutes old: refresh it.
    ChallengeExpired {
        /// When it was made.
        issued_at: Timestamp,
        /// Now.
        now: Timestamp,
    },
    /// Input is locked after too many wrong codes.
    Locked {
        /// When input unlocks.
        until: Timestamp,
        /// Now.
        now: Timestamp,
    },
    /// Wrong code; `remaining` more wrong codes are allowed before input locks.
    WrongCode {
        /// Wrong codes left before the lock.
        remaining: u8,
    },
    /// The license is under receipt policy (SPEC.md §3.3): a code is never
    /// accepted, only a receipt from the vendor's service.
    ReceiptRequired,
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoChallenge => f.write_str("no QR code is shown: show one and scan it first"),
            Self::NotSixDigits => f.write_str("the code has six digits"),
            Self::ChallengeExpired { .. } => {
                f.write_str("the QR code has expired (valid for 5 minutes): refresh it and scan again")
            }
            Self::Locked { until, now } => write!(
                f,
                "too many wrong codes: input is locked for {} more seconds (until {until})",
                until.0.saturating_sub(now.0)
            ),
            Self::WrongCode { remaining } => {
                write!(f, "wrong code; {remaining} more wrong codes lock input for 15 minutes")
            }
            Self::ReceiptRequired => f.write_str(
                "this license is activated by a receipt from the vendor's service, not by a code: use \"Activate \
                 through the vendor's service\" or upload the receipt file",
            ),
        }
    }
}

impl core::error::Error for CodeError {}

/// Where activation stands (SPEC.md §6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// No challenge shown, not activated.
    NotActivated,
    /// A challenge is shown, valid until `expires_at`.
    AwaitingCode {
        /// First instant at which the challenge is expired.
        expires_at: Timestamp,
    },
    /// Input locked until `until`.
    Locked {
        /// When input unlocks.
        until: Timestamp,
    },
    /// Activated at `at`, until the next restart of all nodes.
    Activated {
        /// When.
        at: Timestamp,
    },
}

/// Length of [`Activation::to_bytes`] (SPEC.md §6.2, "Saved state").
pub const STATE_LEN: usize = 64;

/// The first byte of a saved [`Activation`]: its layout's version.
pub const STATE_VERSION: u8 = 1;

/// Why saved bytes are not an [`Activation`] state (SPEC.md §6.2): every
/// byte is checked, so a state edited by hand is refused, not half-read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateError {
    /// Not [`STATE_LEN`] bytes.
    Length {
        /// The length given.
        len: usize,
    },
    /// A layout version this verifier does not know.
    Version {
        /// The version byte found.
        version: u8,
    },
    /// A reserved bit or byte is set, a field is filled that its flag says
    /// is absent, the code is not below 1,000,000, or the wrong-code count
    /// is above what the lock allows.
    Malformed,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { len } => write!(f, "a saved activation state is {STATE_LEN} bytes, not {len}"),
            Self::Version { version } => {
                write!(f, "saved activation state version {version} is unknown (this verifier reads {STATE_VERSION})")
            }
            Self::Malformed => f.write_str("the saved activation state is malformed"),
        }
    }
}

impl core::error::Error for StateError {}

const FLAG_PENDING: u8 = 1;
const FLAG_CODE: u8 = 2;
const FLAG_LOCKED: u8 = 4;
const FLAG_ACTIVATED: u8 = 8;

/// The product's code check, with time supplied by the caller (SPEC.md §6.2).
///
/// - A challenge expires 5 minutes after it was made; a refresh
///   ([`Activation::set_challenge`]) replaces it and does **not** reset the
///   wrong-code count (refreshing must not buy more guesses).
/// - The sixth wrong code in a row locks input for 15 minutes; while locked
///   every code, right or wrong, is refused and not counted. The count
///   starts again when the lock ends.
/// - The right code activates and clears the count; [`Activation::restart`]
///   (all nodes restarted) forgets the activation.
#[derive(Clone, Debug)]
pub struct Activation {
    // The code is `None` under receipt policy: no code is accepted then.
    pending: Option<(Option<Code>, Timestamp, [u8; 32])>,
    wrong: u8,
    locked_until: Option<Timestamp>,
    activated_at: Option<Timestamp>,
}

impl Default for Activation {
    fn default() -> Self {
        Self::new()
    }
}

impl Activation {
    /// Not activated, nothing shown.
    pub const fn new() -> Self {
        Self { pending: None, wrong: 0, locked_until: None, activated_at: None }
    }

    /// Shows a new challenge (first time or refresh).
    pub fn set_challenge(&mut self, challenge: &PreparedChallenge) {
        self.pending = Some((Some(challenge.code), challenge.issued_at, challenge.token_sha256()));
    }

    /// Shows a new challenge of a receipt-policy license (SPEC.md §3.3,
    /// §6.4): it is answered only by a receipt ([`Activation::accept_receipt`]);
    /// every code is refused (`ReceiptRequired`) and not counted.
    pub fn set_receipt_challenge(&mut self, challenge: &PreparedChallenge) {
        self.pending = Some((None, challenge.issued_at, challenge.token_sha256()));
    }

    /// SHA-256 of the token of the challenge shown, while it is valid at
    /// `now`: what [`crate::receipt::Expect::challenge_sha256`] must be.
    pub fn pending_challenge_sha256(&self, now: Timestamp) -> Option<[u8; 32]> {
        self.pending
            .filter(|(_, issued_at, _)| now.0 < issued_at.0.saturating_add(wire::CHALLENGE_VALID_SECS))
            .map(|(_, _, sha)| sha)
    }

    /// Activates with a receipt verified for the challenge shown
    /// ([`crate::receipt::verify_receipt`] with
    /// [`Activation::pending_challenge_sha256`]). The challenge is used up: a
    /// receipt answers one challenge, once (SPEC.md §6.4 rule 4). Refused
    /// (`NoChallenge`) when the receipt is for another challenge or the
    /// challenge is already used; `ChallengeExpired` after its 5 minutes.
    pub fn accept_receipt(
        &mut self,
        receipt: &crate::Verified<crate::receipt::AcceptedReceipt<'_>>,
        now: Timestamp,
    ) -> Result<Timestamp, CodeError> {
        let (_, issued_at, sha) = self.pending.ok_or(CodeError::NoChallenge)?;
        if sha != receipt.receipt.challenge_sha256 {
            return Err(CodeError::NoChallenge);
        }
        if now.0 >= issued_at.0.saturating_add(wire::CHALLENGE_VALID_SECS) {
            return Err(CodeError::ChallengeExpired { issued_at, now });
        }
        self.pending = None;
        self.wrong = 0;
        self.activated_at = Some(now);
        Ok(now)
    }

    fn unlock_if_due(&mut self, now: Timestamp) {
        if let Some(until) = self.locked_until
            && now.0 >= until.0
        {
            self.locked_until = None;
            self.wrong = 0;
        }
    }

    /// Checks a typed code at `now`.
    pub fn enter(&mut self, typed: &str, now: Timestamp) -> Result<Timestamp, CodeError> {
        self.unlock_if_due(now);
        if let Some(until) = self.locked_until {
            return Err(CodeError::Locked { until, now });
        }
        let (expected, issued_at, _) = self.pending.ok_or(CodeError::NoChallenge)?;
        let expected = expected.ok_or(CodeError::ReceiptRequired)?;
        let code = Code::parse(typed).ok_or(CodeError::NotSixDigits)?;
        if now.0 >= issued_at.0.saturating_add(wire::CHALLENGE_VALID_SECS) {
            return Err(CodeError::ChallengeExpired { issued_at, now });
        }
        if code.same(expected) {
            self.pending = None;
            self.wrong = 0;
            self.activated_at = Some(now);
            return Ok(now);
        }
        self.wrong = self.wrong.saturating_add(1);
        if self.wrong > MAX_WRONG_CODES {
            let until = Timestamp(now.0.saturating_add(LOCK_SECS));
            self.locked_until = Some(until);
            return Err(CodeError::Locked { until, now });
        }
        Err(CodeError::WrongCode { remaining: MAX_WRONG_CODES + 1 - self.wrong })
    }

    /// The state as [`STATE_LEN`] bytes (SPEC.md §6.2, "Saved state"), for
    /// a product to keep across a restart of one node. It holds the expected
    /// code: keep it where the product keeps its other secrets. A receipt
    /// accepted before the state was saved is not accepted again by the
    /// restored state: the challenge it answered is no longer pending.
    pub fn to_bytes(&self) -> [u8; STATE_LEN] {
        let mut out = [0u8; STATE_LEN];
        let mut flags = 0u8;
        if let Some((code, issued_at, sha)) = self.pending {
            flags |= FLAG_PENDING;
            if let Some(code) = code {
                flags |= FLAG_CODE;
                out[4..8].copy_from_slice(&code.0.to_le_bytes());
            }
            out[8..16].copy_from_slice(&issued_at.0.to_le_bytes());
            out[16..48].copy_from_slice(&sha);
        }
        if let Some(until) = self.locked_until {
            flags |= FLAG_LOCKED;
            out[48..56].copy_from_slice(&until.0.to_le_bytes());
        }
        if let Some(at) = self.activated_at {
            flags |= FLAG_ACTIVATED;
            out[56..64].copy_from_slice(&at.0.to_le_bytes());
        }
        out[0] = STATE_VERSION;
        out[1] = flags;
        out[2] = self.wrong;
        out
    }

    /// A state saved by [`Activation::to_bytes`]. Strict: any byte that
    /// `to_bytes` would not have written is refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateError> {
        let b: &[u8; STATE_LEN] = bytes.try_into().map_err(|_| StateError::Length { len: bytes.len() })?;
        if b[0] != STATE_VERSION {
            return Err(StateError::Version { version: b[0] });
        }
        let [_, flags, wrong, reserved, ..] = *b;
        let u64_at = |at: usize| {
            let mut v = [0u8; 8];
            v.copy_from_slice(b.get(at..at + 8).unwrap_or(&[0; 8]));
            u64::from_le_bytes(v)
        };
        let zero = |r: core::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(|&x| x == 0));
        if flags & !(FLAG_PENDING | FLAG_CODE | FLAG_LOCKED | FLAG_ACTIVATED) != 0
            || reserved != 0
            || wrong > MAX_WRONG_CODES + 1
            || (flags & FLAG_CODE != 0 && flags & FLAG_PENDING == 0)
        {
            return Err(StateError::Malformed);
        }
        let pending = if flags & FLAG_PENDING != 0 {
            let code = if flags & FLAG_CODE != 0 {
                let mut c = [0u8; 4];
                c.copy_from_slice(&b[4..8]);
                let c = u32::from_le_bytes(c);
                if c >= 1_000_000 {
                    return Err(StateError::Malformed);
                }
                Some(Code(c))
            } else if zero(4..8) {
                None
            } else {
                return Err(StateError::Malformed);
            };
            let mut sha = [0u8; 32];
            sha.copy_from_slice(&b[16..48]);
            Some((code, Timestamp(u64_at(8)), sha))
        } else if zero(4..48) {
            None
        } else {
            return Err(StateError::Malformed);
        };
        let locked_until = match (flags & FLAG_LOCKED != 0, u64_at(48)) {
            (true, t) => Some(Timestamp(t)),
            (false, 0) => None,
            (false, _) => return Err(StateError::Malformed),
        };
        let activated_at = match (flags & FLAG_ACTIVATED != 0, u64_at(56)) {
            (true, t) => Some(Timestamp(t)),
            (false, 0) => None,
            (false, _) => return Err(StateError::Malformed),
        };
        Ok(Self { pending, wrong, locked_until, activated_at })
    }

    /// All nodes restarted: the product must be activated again.
    pub fn restart(&mut self) {
        self.activated_at = None;
        self.pending = None;
    }

    /// Where things stand at `now`.
    pub fn status(&self, now: Timestamp) -> Status {
        if let Some(until) = self.locked_until
            && now.0 < until.0
        {
            return Status::Locked { until };
        }
        if let Some(at) = self.activated_at {
            return Status::Activated { at };
        }
        match self.pending {
            Some((_, issued_at, _)) if now.0 < issued_at.0.saturating_add(wire::CHALLENGE_VALID_SECS) => {
                Status::AwaitingCode { expires_at: Timestamp(issued_at.0.saturating_add(wire::CHALLENGE_VALID_SECS)) }
            }
            _ => Status::NotActivated,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use std::string::String;

    use super::*;

    const KEY: ActivationKey = ActivationKey([0x42; 32]);
    const T0: u64 = 1_790_000_000;

    fn input(now: u64) -> ChallengeInput<'static> {
        ChallengeInput {
            nonce: [1; 16],
            node_id: [2; 16],
            project_fingerprint: project_fingerprint("FineReport", "webroot", b"dep-1").unwrap(),
            nodes: 1,
            app_version: "11.0.20",
            now: Timestamp(now),
            server: None,
        }
    }

    fn prepared(now: u64) -> PreparedChallenge {
        make_challenge(LicenseId([7; 16]), &KEY, &input(now)).unwrap()
    }

    fn wrong(code: Code) -> String {
        std::format!("{:06}", (code.value() + 1) % 1_000_000)
    }

    #[test]
    fn a_saved_state_restores_the_same_machine() {
        let c = prepared(T0);
        let mut a = Activation::new();
        assert_eq!(Activation::from_bytes(&a.to_bytes()).unwrap().to_bytes(), a.to_bytes());
        a.set_challenge(&c);
        for _ in 0..3 {
            assert!(matches!(a.enter(&wrong(c.code()), Timestamp(T0 + 1)), Err(CodeError::WrongCode { .. })));
        }
        let saved = a.to_bytes();
        assert_eq!(saved[0], STATE_VERSION);
        let mut b = Activation::from_bytes(&saved).unwrap();
        // The wrong-code count survives: a restart buys no guesses.
        assert_eq!(b.enter(&wrong(c.code()), Timestamp(T0 + 2)), Err(CodeError::WrongCode { remaining: 2 }));
        assert_eq!(a.enter(&wrong(c.code()), Timestamp(T0 + 2)), Err(CodeError::WrongCode { remaining: 2 }));
        assert_eq!(a.to_bytes(), b.to_bytes());
        let code = std::format!("{:06}", c.code().value());
        assert_eq!(b.enter(&code, Timestamp(T0 + 3)), Ok(Timestamp(T0 + 3)));
        let restored = Activation::from_bytes(&b.to_bytes()).unwrap();
        assert_eq!(restored.status(Timestamp(T0 + 4)), Status::Activated { at: Timestamp(T0 + 3) });
        // Locked, then restored: still locked.
        let mut l = Activation::new();
        l.set_challenge(&c);
        for _ in 0..6 {
            let _ = l.enter(&wrong(c.code()), Timestamp(T0 + 1));
        }
        let l2 = Activation::from_bytes(&l.to_bytes()).unwrap();
        assert_eq!(l2.status(Timestamp(T0 + 2)), Status::Locked { until: Timestamp(T0 + 1 + LOCK_SECS) });
    }

    #[test]
    fn a_saved_state_is_read_strictly() {
        let mut a = Activation::new();
        a.set_challenge(&prepared(T0));
        let good = a.to_bytes();
        assert_eq!(Activation::from_bytes(&good[..63]).unwrap_err(), StateError::Length { len: 63 });
        let mut v = good;
        v[0] = 2;
        assert_eq!(Activation::from_bytes(&v).unwrap_err(), StateError::Version { version: 2 });
        // Every single-byte change outside the values themselves is refused.
        for (at, byte) in [(1, 0x10), (2, 7), (3, 1), (48, 1), (56, 1)] {
            let mut m = good;
            m[at] = byte;
            assert_eq!(Activation::from_bytes(&m).unwrap_err(), StateError::Malformed, "byte {at}");
        }
        let mut big = good;
        big[4..8].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(Activation::from_bytes(&big).unwrap_err(), StateError::Malformed);
        let empty = Activation::new().to_bytes();
        let mut stray = empty;
        stray[20] = 1;
        assert_eq!(Activation::from_bytes(&stray).unwrap_err(), StateError::Malformed);
    }

    #[test]
    fn rfc4226_truncation() {
        // RFC 4226 §5.4's worked example.
        let m: [u8; 20] = [
            0x1f, 0x86, 0x98, 0x69, 0x0e, 0x02, 0xca, 0x16, 0x61, 0x85, 0x50, 0xef, 0x7f, 0x19, 0xda, 0x8e, 0x94, 0x5b,
            0x55, 0x5a,
        ];
        // Same algorithm over a 20-byte MAC: offset from the last byte.
        let offset = usize::from(m[19] & 0x0f);
        let v = u32::from_be_bytes([m[offset], m[offset + 1], m[offset + 2], m[offset + 3]]) & 0x7fff_ffff;
        assert_eq!(v, 0x50ef_7f19);
        assert_eq!(v % 1_000_000, 872_921);
        let mut m32 = [0u8; 32];
        m32[..20].copy_from_slice(&m);
        m32[31] = 0x5a;
        assert_eq!(truncate(&m32), 872_921);
    }

    #[test]
    fn service_opens_what_the_product_made() {
        let p = prepared(T0);
        let (c, code) = open_challenge(p.token(), &KEY, Timestamp(T0 + 10)).unwrap();
        assert_eq!(code, p.code());
        assert_eq!(c.license_id, LicenseId([7; 16]));
        assert_eq!(claimed_license_id(p.token()).unwrap(), LicenseId([7; 16]));
        let mut url = String::new();
        p.write_url("https://activate.example/a/", &mut url).unwrap();
        assert!(url.starts_with("https://activate.example/a/A"));
        let mut raw = [0u8; MAX_TOKEN_LEN];
        assert_eq!(token_from_url(&url, &mut raw).unwrap(), p.token());
    }

    #[test]
    fn a_challenge_under_another_key_is_forged() {
        let forged = make_challenge(LicenseId([7; 16]), &ActivationKey([1; 32]), &input(T0)).unwrap();
        assert_eq!(open_challenge(forged.token(), &KEY, Timestamp(T0)).unwrap_err(), ChallengeError::Forged);
        // One flipped bit anywhere in the body or tag.
        let p = prepared(T0);
        for i in 1..p.token().len() {
            let mut t = p.token().to_vec();
            t[i] ^= 1;
            assert!(open_challenge(&t, &KEY, Timestamp(T0)).is_err(), "byte {i}");
        }
    }

    #[test]
    fn the_service_refuses_an_old_challenge() {
        let p = prepared(T0);
        assert!(matches!(open_challenge(p.token(), &KEY, Timestamp(T0 + 300)), Err(ChallengeError::Expired { .. })));
    }

    #[test]
    fn right_code_activates_and_restart_forgets() {
        let p = prepared(T0);
        let mut a = Activation::new();
        assert_eq!(a.enter("123456", Timestamp(T0)), Err(CodeError::NoChallenge));
        a.set_challenge(&p);
        assert_eq!(a.status(Timestamp(T0)), Status::AwaitingCode { expires_at: Timestamp(T0 + 300) });
        assert_eq!(a.enter(&std::format!(" {} ", p.code()), Timestamp(T0 + 5)), Ok(Timestamp(T0 + 5)));
        assert_eq!(a.status(Timestamp(T0 + 6)), Status::Activated { at: Timestamp(T0 + 5) });
        a.restart();
        assert_eq!(a.status(Timestamp(T0 + 7)), Status::NotActivated);
    }

    #[test]
    fn expired_challenge_refuses_the_right_code() {
        let p = prepared(T0);
        let mut a = Activation::new();
        a.set_challenge(&p);
        let e = a.enter(&std::format!("{}", p.code()), Timestamp(T0 + 300)).unwrap_err();
        assert_eq!(e, CodeError::ChallengeExpired { issued_at: Timestamp(T0), now: Timestamp(T0 + 300) });
        // A refresh makes a new one that works.
        let q = prepared(T0 + 301);
        a.set_challenge(&q);
        assert!(a.enter(&std::format!("{}", q.code()), Timestamp(T0 + 302)).is_ok());
    }

    #[test]
    fn sixth_wrong_code_locks_for_fifteen_minutes() {
        let p = prepared(T0);
        let mut a = Activation::new();
        a.set_challenge(&p);
        let bad = wrong(p.code());
        for i in 1..=5u8 {
            assert_eq!(a.enter(&bad, Timestamp(T0 + 1)), Err(CodeError::WrongCode { remaining: 6 - i }));
        }
        let until = Timestamp(T0 + 2 + 900);
        assert_eq!(a.enter(&bad, Timestamp(T0 + 2)), Err(CodeError::Locked { until, now: Timestamp(T0 + 2) }));
        // The right code is refused while locked, even after a refresh.
        let q = prepared(T0 + 600);
        a.set_challenge(&q);
        let right = std::format!("{}", q.code());
        assert!(matches!(a.enter(&right, Timestamp(T0 + 601)), Err(CodeError::Locked { .. })));
        assert_eq!(a.status(Timestamp(T0 + 601)), Status::Locked { until });
        // At the end of the lock, a fresh challenge's right code works.
        let r = prepared(until.0);
        a.set_challenge(&r);
        assert!(a.enter(&std::format!("{}", r.code()), until).is_ok());
    }

    #[test]
    fn refresh_does_not_reset_the_count() {
        let mut a = Activation::new();
        let p = prepared(T0);
        a.set_challenge(&p);
        for _ in 0..5 {
            let _ = a.enter(&wrong(p.code()), Timestamp(T0 + 1));
        }
        let q = prepared(T0 + 2);
        a.set_challenge(&q);
        assert!(matches!(a.enter(&wrong(q.code()), Timestamp(T0 + 3)), Err(CodeError::Locked { .. })));
    }

    #[test]
    fn malformed_input_is_not_counted() {
        let p = prepared(T0);
        let mut a = Activation::new();
        a.set_challenge(&p);
        for _ in 0..20 {
            assert_eq!(a.enter("12a456", Timestamp(T0 + 1)), Err(CodeError::NotSixDigits));
        }
        assert!(a.enter(&std::format!("{}", p.code()), Timestamp(T0 + 2)).is_ok());
    }

    #[test]
    fn code_is_six_digits_and_key_dependent() {
        let body = b"body";
        let a = activation_code(&KEY, body);
        assert!(a.value() < 1_000_000);
        assert_eq!(std::format!("{a}").len(), 6);
        assert_ne!(activation_code(&ActivationKey([0x43; 32]), body), a);
        assert_eq!(std::format!("{a:?}"), "Code(******)");
        assert_eq!(std::format!("{KEY:?}"), "ActivationKey(<hidden>)");
    }
}
