//! Activation receipts (SPEC.md §6.4, §7.1 "Activation by receipt"): under
//! a license's `receipt` policy the server cannot check a 6-digit code (the
//! license carries only the challenge key); the vendor's service signs a
//! **receipt** over the server's pending challenge instead, and the server
//! accepts it when:
//!
//! - the verifier accepts it (signatures along root → receipt key, the
//!   license, the challenge, the node count, the lease);
//! - it names a QR code this server shows now, and counts once (the
//!   challenge is consumed);
//! - it names this server's instance key;
//! - its `previous_receipt` is the receipt this server holds (none: absent),
//!   so two copies of one server cannot both follow one receipt.
//!
//! The accepted receipt is kept armored in `activation-receipt` beside
//! `privateConfig` (written atomically before `privateConfig` records the
//! activation, so a crash between the two leaves the receipt the vendor
//! knows as the latest), and every answer carries it without its revocation
//! list.

use fanlic_formats::{
    Timestamp, armor, encode_receipt_file,
    receipt::{MAX_RECEIPT_FILE_LEN, Receipt, ReceiptEnvelope},
};
use fanlic_verifier::receipt::{Expect, ReceiptCause, sha256, verify_receipt};

use crate::license::ServerLicense;

/// The receipt's file, beside `privateConfig`.
pub const FILE_NAME: &str = "activation-receipt";
/// Its mode: public, signed by the vendor, no secret in it.
pub const FILE_MODE: u32 = 0o644;

/// What the server acts on of a receipt whose signatures and terms the
/// verifier accepted.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedReceipt {
    /// The receipt id: SHA-256 of its signed message.
    pub id: [u8; 32],
    /// SHA-256 of the raw challenge token it answers.
    pub challenge_sha256: [u8; 32],
    /// The instance key it was made for.
    pub instance_public_key: Option<[u8; 32]>,
    /// The receipt it follows (the challenge's `previous_receipt`).
    pub previous_receipt: Option<[u8; 32]>,
    /// The vendor's clock when it signed.
    pub vendor_time: u64,
    /// The re-activation lease's end.
    pub lease_until: Option<u64>,
    /// Its revocation list revokes the server license.
    pub revokes_license: bool,
    /// The file as stored, armored.
    pub armored: String,
    /// The raw receipt file without its revocation list: what every answer
    /// carries (SPEC.md §7.2).
    pub for_answers: Vec<u8>,
}

impl core::fmt::Debug for CheckedReceipt {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CheckedReceipt")
            .field("id", &crate::hex(&self.id))
            .field("vendor_time", &self.vendor_time)
            .field("lease_until", &self.lease_until)
            .field("revokes_license", &self.revokes_license)
            .finish_non_exhaustive()
    }
}

/// Why a receipt is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptRefusal {
    /// The server license is activated by 6-digit code, not by receipt.
    #[error(
        "this server's license is activated by QR code and 6-digit code, not by receipt: enter the code the phone shows"
    )]
    CodePolicy,
    /// The verifier refused the receipt: every cause, its code and message.
    #[error("the receipt is not valid: {}", .0.iter().map(|(code, m)| format!("{m} ({code})")).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<(&'static str, String)>),
    /// It answers no QR code this server shows now: used already,
    /// expired, or made for another server.
    #[error(
        "the receipt answers no QR code this server shows now (it was used already, its QR code expired after 5 minutes, or it is another server's): activate again"
    )]
    NoPendingChallenge,
    /// It names another instance key than this server's.
    #[error("the receipt was made for another authorization server (another instance key)")]
    OtherInstance,
    /// It follows another receipt than the one this server holds.
    #[error(
        "the receipt follows another receipt than the one this server holds (it was made for a copy of this server, or before this server's last activation): activate again"
    )]
    StalePrevious,
    /// Its revocation list revokes the server license: the receipt is kept
    /// (the next challenge names it), but the server is not activated and
    /// serves nothing.
    #[error(
        "the vendor has revoked this server's license (the receipt's revocation list): it is not activated and serves no application; contact the vendor's business staff"
    )]
    Revoked,
    /// The receipt could not be stored: nothing changed.
    #[error("the receipt could not be stored, nothing changed: {0}")]
    Storage(String),
}

impl ReceiptRefusal {
    /// A stable code for JSON.
    pub fn code(&self) -> &'static str {
        match self {
            Self::CodePolicy => "wrong_policy",
            Self::Invalid(causes) => causes.first().map_or("receipt_invalid", |c| c.0),
            Self::NoPendingChallenge => "receipt_challenge_mismatch",
            Self::OtherInstance => "receipt_instance_mismatch",
            Self::StalePrevious => "receipt_previous_mismatch",
            Self::Revoked => "revoked",
            Self::Storage(_) => "internal_error",
        }
    }
}

/// What the check is for.
#[derive(Clone, Copy)]
enum Purpose<'a> {
    /// A receipt posted by the admin: for a challenge the server shows now
    /// (by the SHA-256 of its token), after the receipt held, its lease not
    /// over.
    Accept(&'a dyn Fn(&[u8; 32]) -> bool),
    /// `activation-receipt` at start: signed for this license and instance;
    /// an ended lease is refused on requests, not here.
    Load,
}

/// What a receipt is checked against: this server's license, its instance
/// key and the receipt it holds.
#[derive(Clone, Copy, Debug)]
pub struct Holder<'a> {
    /// The server license.
    pub license: &'a ServerLicense,
    /// This instance's public key.
    pub instance_public_key: [u8; 32],
    /// The id of the receipt this server holds, if any.
    pub held: Option<[u8; 32]>,
}

/// The verifier's check of a posted receipt file (armored or raw) for the
/// `holder`'s license, instance key and held receipt, at `now`
/// ([`fanlic_verifier::receipt::verify_receipt`], SPEC.md §6.4 rules 1–6):
/// this server shows a QR code per client, and a receipt counts for
/// whichever valid one it answers (`shows_challenge`, by the SHA-256 of its
/// token; the state checks that again when it is accepted). A receipt whose
/// own revocation list revokes the license is returned with
/// `revokes_license` set: the server keeps it and serves nothing.
pub fn verify(
    holder: &Holder<'_>,
    shows_challenge: impl Fn(&[u8; 32]) -> bool,
    input: &[u8],
    now: u64,
) -> Result<CheckedReceipt, ReceiptRefusal> {
    check(holder, input, now, Purpose::Accept(&shows_challenge))
}

/// `activation-receipt` checked again at start (the signatures, this
/// license, this instance key): the receipt the next challenge names.
pub fn load(holder: &Holder<'_>, input: &[u8], now: u64) -> Result<CheckedReceipt, String> {
    check(holder, input, now, Purpose::Load).map_err(|e| e.to_string())
}

fn check(holder: &Holder<'_>, input: &[u8], now: u64, purpose: Purpose<'_>) -> Result<CheckedReceipt, ReceiptRefusal> {
    let license = holder.license;
    let malformed = |e: fanlic_formats::DecodeError| {
        ReceiptRefusal::Invalid(vec![("receipt_malformed", format!("the receipt does not decode: {e}"))])
    };
    let mut armor_buf = vec![0u8; MAX_RECEIPT_FILE_LEN + 64];
    let raw = armor::decode_receipt(input, &mut armor_buf).map_err(malformed)?.to_vec();
    // Not trusted yet: only which challenge it claims to answer, which the
    // verifier then holds it to.
    let envelope = ReceiptEnvelope::decode(&raw).map_err(malformed)?;
    let claimed = Receipt::decode(envelope.receipt.message).map_err(malformed)?;
    let signed = fanlic_verifier::authenticate_raw(&license.raw, &license.roots).map_err(|e| {
        ReceiptRefusal::Invalid(vec![("content_incorrect", format!("the server license does not verify: {e}"))])
    })?;
    let held = holder.held;
    let expect = Expect {
        license: &signed.license,
        license_sha256: sha256(&license.raw),
        issuing_key_id: signed.certificate.key_id,
        // Rule 4 against whichever QR code it claims, if this server shows
        // it now; else against none it could answer.
        challenge_sha256: match purpose {
            Purpose::Accept(shows) if shows(&claimed.challenge_sha256) => Some(claimed.challenge_sha256),
            Purpose::Accept(_) => Some(sha256(b"no QR code this server shows")),
            Purpose::Load => None,
        },
        instance_public_key: Some(holder.instance_public_key),
        previous_receipt: match purpose {
            Purpose::Accept(_) => Some(held),
            Purpose::Load => None,
        },
        now: Timestamp(now),
    };
    let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN + 64];
    let revokes_license = match verify_receipt(&raw, &mut buf, &license.roots, &expect) {
        Ok(_) => false,
        Err(rejection) => {
            let tolerated = |c: &ReceiptCause| match c {
                ReceiptCause::Revoked { .. } => true,
                ReceiptCause::LeaseExpired { .. } => matches!(purpose, Purpose::Load),
                _ => false,
            };
            if !rejection.causes().all(|c| tolerated(&c)) {
                let causes = rejection.causes().map(|c| (c.code(), c.to_string())).collect();
                return Err(ReceiptRefusal::Invalid(causes));
            }
            rejection.causes().any(|c| matches!(c, ReceiptCause::Revoked { .. }))
        }
    };
    // Every signature held: the claimed body is the vendor's.
    let for_answers = encode_receipt_file(envelope.certificate, envelope.receipt, None).map_err(malformed)?;
    let comment = format!("Activation receipt of license {}", license.id);
    let armored = armor::encode_receipt(&raw, &[comment.as_str()]).map_err(malformed)?;
    Ok(CheckedReceipt {
        id: envelope.id(),
        challenge_sha256: claimed.challenge_sha256,
        instance_public_key: claimed.instance_public_key,
        previous_receipt: claimed.previous_receipt,
        vendor_time: claimed.vendor_time.0,
        lease_until: claimed.lease_until.map(|t| t.0),
        revokes_license,
        armored,
        for_answers,
    })
}

/// The origin (`scheme://host[:port]`) of an `http`/`https` URL, for the
/// page's `connect-src`; `None` for anything else, or a character that has
/// no place in a CSP source (so a base URL cannot add directives).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(allowed) {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // test code
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_a_base_url_is_all_a_csp_source_gets() {
        assert_eq!(origin_of("https://Activate.Example.com/a").unwrap(), "https://activate.example.com");
        assert_eq!(origin_of("http://127.0.0.1:8380/a/b?x#y").unwrap(), "http://127.0.0.1:8380");
        assert_eq!(origin_of("https://[::1]:8443").unwrap(), "https://[::1]:8443");
        assert_eq!(origin_of("https://u@h.example/a").unwrap(), "https://h.example");
        assert!(origin_of("ftp://h.example/").is_none());
        assert!(origin_of("https://h.example;script-src *").is_none());
        assert!(origin_of("https:///a").is_none());
        assert!(origin_of("h.example").is_none());
    }
}
