//! Checks a `Container.lic` the way the product's registration page does, and
//! reports **every** failing cause at once, in a fixed order (SPEC.md §4).
//!
//! `#![no_std]` and allocation-free: the caller supplies a buffer for the
//! decoded file, the root public keys it embeds, and its environment,
//! including the current time (there is no clock without std).
//!
//! ```
//! # use fanlic_verifier::{Environment, RootKey, verify};
//! # use fanlic_formats::{LicenseKind, Timestamp, MAX_LICENSE_FILE_LEN};
//! # fn demo(container_lic: &[u8], root: &[u8; 32]) {
//! let roots = [RootKey::from_bytes(root).expect("a valid embedded key")];
//! let env = Environment {
//!     app_name: "FineReport",
//!     version: "11.0.20",
//!     project: "webroot",
//!     nodes: 1,
//!     method: LicenseKind::LocalContainer,
//!     now: Timestamp(1_767_225_600),
//!     last_seen: None,
//! };
//! let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
//! match verify(container_lic, &mut buf, &roots, &env) {
//!     Ok(license) => println!("registered to {}", license.license.company),
//!     Err(rejection) => for cause in rejection.causes() {
//!         println!("{}: {cause}", cause.code());
//!     },
//! }
//! # }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "std", test))]
extern crate std;

pub mod activation;
mod cause;
pub mod node_auth;
pub mod private_cloud;
pub mod receipt;
pub mod revocation;
mod texts;

use core::{fmt, ops::Deref};

use ed25519_dalek::{Signature, VerifyingKey};
use fanlic_formats::{
    DecodeError, Envelope, IssuingKeyCertificate, KeyId, License, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor,
};

pub use cause::{Cause, Causes, ContentError, Rejection, Revocation};
pub use fanlic_formats::RevocationList;
pub use revocation::{RevocationError, verify_revocations};
pub use texts::{Advice, Lang, Message, Prompt, ShownDate, ShownTime, UnknownLang, content_incorrect_title, kind_name};

/// How far the clock may be behind the last-seen time, or a license's
/// `not_before` ahead of the clock, before it counts as a cause: cluster nodes
/// and the vendor's issuer are not perfectly in sync (SPEC.md §4).
pub const CLOCK_TOLERANCE_SECS: u64 = 300;

/// A vendor root public key that a product embeds.
#[derive(Clone, Copy, Debug)]
pub struct RootKey {
    id: KeyId,
    key: VerifyingKey,
}

/// The bytes are not an Ed25519 public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidKey;

impl fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not an Ed25519 public key")
    }
}

impl core::error::Error for InvalidKey {}

impl RootKey {
    /// A root key from its 32 public bytes. Weak (small-order) keys are refused.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, InvalidKey> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| InvalidKey)?;
        if key.is_weak() {
            return Err(InvalidKey);
        }
        Ok(Self { id: KeyId::of(bytes), key })
    }

    /// Its key id.
    pub fn id(&self) -> KeyId {
        self.id
    }
}

/// What the product knows about itself when it checks a license: the fields
/// of the registration page, the node count, and the time.
#[derive(Clone, Copy, Debug)]
pub struct Environment<'a> {
    /// Local application name, e.g. `FineReport`.
    pub app_name: &'a str,
    /// Local version, e.g. `11.0.20`; matched on major.minor.
    pub version: &'a str,
    /// Local project name ("project content").
    pub project: &'a str,
    /// Nodes currently in the cluster (1 when standalone).
    pub nodes: u32,
    /// Authentication method the admin selected.
    pub method: LicenseKind,
    /// The current time.
    pub now: Timestamp,
    /// The latest time this product has seen before (for `clock_rollback`).
    pub last_seen: Option<Timestamp>,
}

/// A value that passed verification. Only this crate makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified<T>(T);

impl<T> Verified<T> {
    /// The verified value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Verified<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A license whose signatures hold: root key → issuing-key certificate →
/// license. Its claims are the vendor's, but not yet checked against a
/// product's environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignedLicense<'a> {
    /// The license.
    pub license: License<'a>,
    /// The certificate of the issuing key that signed it.
    pub certificate: IssuingKeyCertificate,
}

fn check_signature(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> Result<(), ContentError> {
    key.verify_strict(message, &Signature::from_bytes(signature)).map_err(|_| ContentError::BadSignature)
}

/// Checks the chain of signatures of a license file (armored or raw) against
/// the root keys: SPEC.md §4 steps 1 to 6. Nothing unsigned is trusted: the
/// payload is decoded only after its signature holds.
pub fn authenticate<'a>(
    input: &'a [u8],
    buf: &'a mut [u8; MAX_LICENSE_FILE_LEN],
    roots: &[RootKey],
) -> Result<SignedLicense<'a>, ContentError> {
    authenticate_raw(armor::unarmor(input, buf)?, roots)
}

/// [`authenticate`] of a **raw** license file, with no armor removed (SPEC.md
/// §4 steps 2 to 6): what an authorization server's answer carries (§7.2).
pub fn authenticate_raw<'a>(raw: &'a [u8], roots: &[RootKey]) -> Result<SignedLicense<'a>, ContentError> {
    let envelope = Envelope::decode(raw)?;
    let certificate = IssuingKeyCertificate::decode(envelope.certificate.message)?;
    let root = roots
        .iter()
        .find(|r| r.id == certificate.root_key_id)
        .ok_or(ContentError::UnknownRootKey { root_key_id: certificate.root_key_id })?;
    check_signature(&root.key, envelope.certificate.message, &envelope.certificate.signature)?;
    let issuing_key = VerifyingKey::from_bytes(&certificate.public_key).map_err(|_| ContentError::BadSignature)?;
    check_signature(&issuing_key, envelope.license.message, &envelope.license.signature)?;
    let license = License::decode(envelope.license.message)?;
    if !certificate.may_sign_at(license.issued_at) {
        return Err(ContentError::IssuingKeyOutsideWindow {
            key_id: certificate.key_id,
            issued_at: license.issued_at,
            not_before: certificate.not_before,
            not_after: certificate.not_after,
        });
    }
    if !certificate.purposes.allows(license.kind) {
        return Err(ContentError::KindNotCertified { key_id: certificate.key_id, kind: license.kind });
    }
    Ok(SignedLicense { license, certificate })
}

/// Checks an authenticated license against the product's environment and
/// returns every failing cause, in SPEC.md §4's order.
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn check<'a>(
    signed: SignedLicense<'a>,
    env: &Environment<'a>,
) -> Result<Verified<SignedLicense<'a>>, Rejection<'a>> {
    check_with_revocations(signed, env, None)
}

/// [`check`], and when the product supplies a verified revocation list
/// ([`verify_revocations`]), also cause `revoked` if the list revokes the
/// license's id or the issuing key that signed it (SPEC.md §5). Every
/// failing cause is still reported, in SPEC.md §4.2's order; with `None` this
/// is exactly [`check`].
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn check_with_revocations<'a>(
    signed: SignedLicense<'a>,
    env: &Environment<'a>,
    revocations: Option<&Verified<RevocationList<'_>>>,
) -> Result<Verified<SignedLicense<'a>>, Rejection<'a>> {
    let l = &signed.license;
    let mut causes = Causes::new();
    if let fanlic_formats::Expiry::On(date) = l.expiry
        && l.expiry.is_expired_at(env.now)
    {
        causes.push(Cause::LicenseExpired { expiry: date, now: env.now });
    }
    if !l.version.matches_local(env.version) {
        causes.push(Cause::VersionMismatch { licensed: l.version, local: env.version });
    }
    if l.app_name != env.app_name {
        causes.push(Cause::AppNameMismatch { licensed: l.app_name, local: env.app_name });
    }
    if env.nodes > l.max_nodes {
        causes.push(Cause::LicenseExhausted { max_nodes: l.max_nodes, nodes: env.nodes });
    }
    if l.project != env.project {
        causes.push(Cause::ProjectContentMismatch { licensed: l.project, local: env.project });
    }
    if l.kind != env.method {
        causes.push(Cause::LicenseTypeMismatch { licensed: l.kind, selected: env.method });
    }
    if env.now.0.saturating_add(CLOCK_TOLERANCE_SECS) < l.not_before.0 {
        causes.push(Cause::NotYetValid { not_before: l.not_before, now: env.now });
    }
    if let Some(last_seen) = env.last_seen
        && env.now.0.saturating_add(CLOCK_TOLERANCE_SECS) < last_seen.0
    {
        causes.push(Cause::ClockRollback { now: env.now, last_seen, tolerance_secs: CLOCK_TOLERANCE_SECS });
    }
    if let Some(list) = revocations
        && let Some(revocation) = Revocation::by(list, l.id, signed.certificate.key_id)
    {
        causes.push(Cause::Revoked { revocation, sequence: list.sequence() });
    }
    if causes.is_empty() { Ok(Verified(signed)) } else { Err(Rejection::new(Some(signed.license), causes)) }
}

/// [`authenticate`] then [`check`]: the verified license, or every cause.
/// When a signature does not hold the only cause is `content_incorrect`, and
/// no claim is evaluated: unsigned claims are the attacker's.
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify<'a>(
    input: &'a [u8],
    buf: &'a mut [u8; MAX_LICENSE_FILE_LEN],
    roots: &[RootKey],
    env: &Environment<'a>,
) -> Result<Verified<SignedLicense<'a>>, Rejection<'a>> {
    verify_with_revocations(input, buf, roots, env, None)
}

/// [`authenticate`] then [`check_with_revocations`]: [`verify`], plus cause
/// `revoked` when the product supplies a verified revocation list that revokes
/// the license or its issuing key (SPEC.md §5). With `None` this is exactly
/// [`verify`]. A license whose signatures fail is `content_incorrect` alone,
/// whatever the list says.
#[allow(clippy::result_large_err, reason = "no allocator to box into: the rejection is returned on the stack")]
pub fn verify_with_revocations<'a>(
    input: &'a [u8],
    buf: &'a mut [u8; MAX_LICENSE_FILE_LEN],
    roots: &[RootKey],
    env: &Environment<'a>,
    revocations: Option<&Verified<RevocationList<'_>>>,
) -> Result<Verified<SignedLicense<'a>>, Rejection<'a>> {
    match authenticate(input, buf, roots) {
        Ok(signed) => check_with_revocations(signed, env, revocations),
        Err(e) => {
            let mut causes = Causes::new();
            causes.push(Cause::ContentIncorrect(e));
            Err(Rejection::new(None, causes))
        }
    }
}

impl From<DecodeError> for ContentError {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}
