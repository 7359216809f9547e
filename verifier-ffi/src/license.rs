//! Checking a `Container.lic` from C: [`fanlic_license_verify`] authenticates
//! the file (armored or raw) against the product's root keys, checks it
//! against the product's environment, optionally with a revocation list, and
//! fills one fixed-size [`FanlicLicenseResult`]: whether it is valid, every
//! failing cause in SPEC.md §4.2's order (a numeric code, and the title,
//! prompt and advice `fanlic verify` prints, in English or Chinese), and the
//! license's fields.
//!
//! Every text goes into ONE caller buffer: the result holds a
//! [`FanlicText`] (offset, length) per text, and each text is followed by a
//! NUL, so C can print `text + t.offset` as it is. When the buffer is too
//! small the call returns `FANLIC_STATUS_BUFFER_TOO_SMALL` with the length
//! needed in `text_len`; the numeric fields are filled all the same, and the
//! call made again with a buffer that big succeeds.

use core::fmt;

use fanlic_formats::{ActivationPolicy, Expiry, IssuingKeyCertificate, License, LicenseKind, MAX_LICENSE_FILE_LEN};
use fanlic_verifier::{Cause, Lang, authenticate, check_with_revocations, verify_revocations};

use crate::ffi::{self, FanlicEnvironment, FanlicStatus};
use crate::revocation;
pub use crate::revocation::{
    FANLIC_REVOCATIONS_ACCEPTED, FANLIC_REVOCATIONS_NONE, FANLIC_REVOCATIONS_REFUSED, FanlicRevocationsUsed,
};
pub use crate::text::FanlicText;
use crate::text::TextOut;

/// Cause `license_expired`: the license's expiration date has passed.
pub const FANLIC_CAUSE_LICENSE_EXPIRED: u32 = 1;
/// Cause `version_mismatch`: the local version is not the licensed major.minor.
pub const FANLIC_CAUSE_VERSION_MISMATCH: u32 = 2;
/// Cause `app_name_mismatch`: the license is for another application.
pub const FANLIC_CAUSE_APP_NAME_MISMATCH: u32 = 3;
/// Cause `license_exhausted`: more nodes than the license allows.
pub const FANLIC_CAUSE_LICENSE_EXHAUSTED: u32 = 4;
/// Cause `project_content_mismatch`: the license is for another project.
pub const FANLIC_CAUSE_PROJECT_CONTENT_MISMATCH: u32 = 5;
/// Cause `license_type_mismatch`: the selected method is not the license's kind.
pub const FANLIC_CAUSE_LICENSE_TYPE_MISMATCH: u32 = 6;
/// Cause `not_yet_valid`: the license's `not_before` is still ahead.
pub const FANLIC_CAUSE_NOT_YET_VALID: u32 = 7;
/// Cause `clock_rollback`: the clock is behind a time already seen.
pub const FANLIC_CAUSE_CLOCK_ROLLBACK: u32 = 8;
/// Cause `revoked`: the revocation list revokes the license or its issuing key.
pub const FANLIC_CAUSE_REVOKED: u32 = 9;
/// Cause `content_incorrect`: the file does not decode or a signature does
/// not hold; then it is the only cause (unsigned claims are not checked).
pub const FANLIC_CAUSE_CONTENT_INCORRECT: u32 = 10;

/// Every cause code with its SPEC.md §4.2 name, in the order causes are
/// reported.
const CAUSE_CODES: [(u32, &str); 10] = [
    (FANLIC_CAUSE_LICENSE_EXPIRED, "license_expired"),
    (FANLIC_CAUSE_VERSION_MISMATCH, "version_mismatch"),
    (FANLIC_CAUSE_APP_NAME_MISMATCH, "app_name_mismatch"),
    (FANLIC_CAUSE_LICENSE_EXHAUSTED, "license_exhausted"),
    (FANLIC_CAUSE_PROJECT_CONTENT_MISMATCH, "project_content_mismatch"),
    (FANLIC_CAUSE_LICENSE_TYPE_MISMATCH, "license_type_mismatch"),
    (FANLIC_CAUSE_NOT_YET_VALID, "not_yet_valid"),
    (FANLIC_CAUSE_CLOCK_ROLLBACK, "clock_rollback"),
    (FANLIC_CAUSE_REVOKED, "revoked"),
    (FANLIC_CAUSE_CONTENT_INCORRECT, "content_incorrect"),
];

/// The most causes one check reports: one of each kind.
pub const FANLIC_MAX_CAUSES: usize = 10;

/// The license's activation policy (SPEC.md §3.3): the 6-digit code.
pub const FANLIC_ACTIVATION_POLICY_CODE: u32 = 1;
/// The license's activation policy: a vendor-signed receipt.
pub const FANLIC_ACTIVATION_POLICY_RECEIPT: u32 = 2;

/// One failing cause.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicCause {
    /// `FANLIC_CAUSE_*`; `fanlic_cause_name` gives its string code.
    pub code: u32,
    /// The product's name of the cause (e.g. "License Expired").
    pub title: FanlicText,
    /// The details, with the values that failed.
    pub prompt: FanlicText,
    /// What to do next.
    pub advice: FanlicText,
    /// For `content_incorrect`, the reason code (`bad_signature`,
    /// `bad_encoding`, `unknown_root_key`, ...), for logs; empty otherwise.
    pub reason: FanlicText,
}

/// The license's fields, when its signatures held (`has_license`): its
/// claims are then the vendor's, whether or not they fit this product.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicLicenseInfo {
    /// The license id: 32 lowercase hex digits.
    pub license_id: FanlicText,
    /// `FANLIC_METHOD_LOCAL_CONTAINER` or `FANLIC_METHOD_PRIVATE_CLOUD`.
    pub kind: u32,
    /// Its kind as text: `local-container` or `private-cloud`.
    pub kind_name: FanlicText,
    /// Application name, e.g. `FineReport`.
    pub app_name: FanlicText,
    /// Customer company.
    pub company: FanlicText,
    /// Project name ("project content").
    pub project: FanlicText,
    /// Licensed version, `major.minor`.
    pub version: FanlicText,
    /// Licensed major version.
    pub version_major: u16,
    /// Licensed minor version.
    pub version_minor: u16,
    /// Most cluster nodes.
    pub max_nodes: u32,
    /// 1 when the license never expires.
    pub perpetual: u8,
    /// The expiration date `YYYY-MM-DD` (valid through that UTC day), or
    /// `never`.
    pub expiry: FanlicText,
    /// The first second (Unix) at which the license is expired; 0 when
    /// perpetual.
    pub expires_at: u64,
    /// Not valid before (Unix seconds).
    pub not_before: u64,
    /// When the vendor signed it (Unix seconds).
    pub issued_at: u64,
    /// Contract signing date, `YYYY-MM-DD`.
    pub contract_signed: FanlicText,
    /// `FANLIC_ACTIVATION_POLICY_CODE` or `FANLIC_ACTIVATION_POLICY_RECEIPT`.
    pub activation_policy: u32,
    /// 1 when the license carries an activation (or challenge) key; the key
    /// itself is never given out here.
    pub activation_key_present: u8,
    /// The activation service's base URL; empty when absent.
    pub activation_base_url: FanlicText,
    /// The private-cloud image public key, 64 hex digits; empty when absent.
    pub image_public_key: FanlicText,
    /// The id of the license this one replaces; empty when absent.
    pub supersedes: FanlicText,
    /// SHA-256 of the request mail, 64 hex digits; empty when absent.
    pub request_email_sha256: FanlicText,
    /// The issuing key that signed it, 16 hex digits.
    pub issuing_key_id: FanlicText,
    /// The root key that certified the issuing key, 16 hex digits.
    pub root_key_id: FanlicText,
    /// One line for people, as `fanlic verify` shows it: `company / project:
    /// app version, kind, N nodes, expires DATE`.
    pub summary: FanlicText,
}

/// The outcome of `fanlic_license_verify`. Fixed size; its texts are in the
/// caller's text buffer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicLicenseResult {
    /// 1 when the license is valid for the environment (then `cause_count`
    /// is 0), else 0.
    pub valid: u8,
    /// 1 when the license's signatures held and `license` is filled; 0 when
    /// not (then the only cause is `content_incorrect`).
    pub has_license: u8,
    /// How many of `causes` are set, in SPEC.md §4.2's order.
    pub cause_count: u32,
    /// The failing causes; the first `cause_count` are set.
    pub causes: [FanlicCause; FANLIC_MAX_CAUSES],
    /// The license's fields, when `has_license`.
    pub license: FanlicLicenseInfo,
    /// The revocation list given, if any.
    pub revocations: FanlicRevocationsUsed,
    /// When valid, the line `fanlic verify` prints (without the newline):
    /// `valid: license ID for SUMMARY`, or in Chinese
    /// `有效：许可证 ID（SUMMARY）`; else empty.
    pub valid_line: FanlicText,
    /// The bytes of the text buffer used, or needed when the call returned
    /// `FANLIC_STATUS_BUFFER_TOO_SMALL` (every text and its NUL).
    pub text_len: usize,
}

/// Lowercase hex of bytes, with no allocation.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// `company / project: app version, kind, nodes, expires expiry`: the
/// summary `fanlic verify` shows of a license.
struct Summary<'l, 'a>(&'l License<'a>);

impl fmt::Display for Summary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.0;
        write!(f, "{} / {}: {} {}, {}, ", l.company, l.project, l.app_name, l.version, l.kind)?;
        if l.max_nodes == 1 {
            f.write_str("1 node")?;
        } else {
            write!(f, "up to {} nodes", l.max_nodes)?;
        }
        write!(f, ", expires {}", l.expiry)
    }
}

/// The line `fanlic verify` prints for a valid license.
struct ValidLine<'l, 'a>(&'l License<'a>, Lang);

impl fmt::Display for ValidLine<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (l, summary) = (self.0, Summary(self.0));
        match self.1 {
            Lang::ZhCn => write!(f, "有效：许可证 {}（{summary}）", l.id),
            _ => write!(f, "valid: license {} for {summary}", l.id),
        }
    }
}

/// The `FANLIC_CAUSE_*` code of a cause (0 for one this ABI version does not
/// know; its texts are still given).
pub(crate) fn cause_code(cause: &Cause<'_>) -> u32 {
    CAUSE_CODES.iter().find(|(_, name)| *name == cause.code()).map_or(0, |(code, _)| *code)
}

/// A method constant of a license kind.
const fn method(kind: LicenseKind) -> u32 {
    match kind {
        LicenseKind::LocalContainer => ffi::FANLIC_METHOD_LOCAL_CONTAINER,
        LicenseKind::PrivateCloud => ffi::FANLIC_METHOD_PRIVATE_CLOUD,
    }
}

fn optional(out: &mut TextOut<'_>, text: Option<impl fmt::Display>) -> FanlicText {
    match text {
        Some(t) => out.put(t),
        None => out.put(""),
    }
}

fn license_info(l: &License<'_>, cert: &IssuingKeyCertificate, out: &mut TextOut<'_>) -> FanlicLicenseInfo {
    let (perpetual, expires_at) = match l.expiry {
        Expiry::Never => (1, 0),
        Expiry::On(date) => (0, date.end().0),
    };
    FanlicLicenseInfo {
        license_id: out.put(l.id),
        kind: method(l.kind),
        kind_name: out.put(l.kind.as_str()),
        app_name: out.put(l.app_name),
        company: out.put(l.company),
        project: out.put(l.project),
        version: out.put(l.version),
        version_major: l.version.major,
        version_minor: l.version.minor,
        max_nodes: l.max_nodes,
        perpetual,
        expiry: out.put(l.expiry),
        expires_at,
        not_before: l.not_before.0,
        issued_at: l.issued_at.0,
        contract_signed: out.put(l.contract_signed),
        activation_policy: match l.activation_policy {
            ActivationPolicy::Code => FANLIC_ACTIVATION_POLICY_CODE,
            ActivationPolicy::Receipt => FANLIC_ACTIVATION_POLICY_RECEIPT,
        },
        activation_key_present: u8::from(l.activation_key.is_some()),
        activation_base_url: optional(out, l.activation_base_url),
        image_public_key: optional(out, l.image_public_key.as_ref().map(|k| Hex(k))),
        supersedes: optional(out, l.supersedes),
        request_email_sha256: optional(out, l.request_email_sha256.as_ref().map(|k| Hex(k))),
        issuing_key_id: out.put(cert.key_id),
        root_key_id: out.put(cert.root_key_id),
        summary: out.put(Summary(l)),
    }
}

fn cause(c: &Cause<'_>, lang: Lang, out: &mut TextOut<'_>) -> FanlicCause {
    FanlicCause {
        code: cause_code(c),
        title: out.put(c.title(lang)),
        prompt: out.put(c.prompt(lang)),
        advice: out.put(c.advice(lang)),
        reason: optional(out, if let Cause::ContentIncorrect(e) = c { Some(e.reason()) } else { None }),
    }
}

/// Authenticates a license file and checks it against the product's
/// environment, the way the registration page does (SPEC.md §4): every
/// failing cause at once, in SPEC.md §4.2's order, with the texts
/// `fanlic verify` prints, in `lang`.
///
/// - `license`, `license_len`: the `Container.lic` file, armored or raw.
/// - `roots`, `root_count`: the product's root public keys, 32 bytes each,
///   1 to `FANLIC_MAX_ROOT_KEYS`.
/// - `env`: the product's environment (application, version, project,
///   nodes, method, now, last seen).
/// - `revocations`, `revocations_len`: a signed revocation list file
///   (SPEC.md §5), or null and 0 for none. It is verified against the same
///   roots; when it does not verify the call returns
///   `FANLIC_STATUS_BAD_ARGUMENT` with `result->revocations.state ==
///   FANLIC_REVOCATIONS_REFUSED` and its reason, and checks nothing.
/// - `highest_seen`: the highest list sequence accepted before (an older list
///   is refused), or null for none.
/// - `lang`: `FANLIC_LANG_EN` or `FANLIC_LANG_ZH_CN`.
/// - `result`: filled on every return but `FANLIC_STATUS_NULL_POINTER` for
///   `result` itself (zeroed first).
/// - `text`, `text_cap`: the buffer for every text of the result (4096 bytes
///   are plenty for ordinary names); null and 0 asks for the length.
///
/// Returns `FANLIC_STATUS_OK` (valid), `FANLIC_STATUS_INVALID` (see the
/// causes), `FANLIC_STATUS_BUFFER_TOO_SMALL` (`result->text_len` is the
/// length needed; the other fields are filled), or an error of the call.
/// Allocates nothing.
///
/// # Safety
/// Each pointer, when not null, must point to its length of readable memory
/// (`roots`: `root_count` arrays of 32 bytes; `env`, `highest_seen`: one
/// value, with `env`'s texts valid for their lengths), and `result` and
/// `text` to writable memory (`text`: `text_cap` bytes) that nothing else
/// accesses during the call.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "a C function: every input is an explicit pointer and length")]
pub unsafe extern "C" fn fanlic_license_verify(
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    revocations: *const u8,
    revocations_len: usize,
    highest_seen: *const u64,
    lang: u32,
    result: *mut FanlicLicenseResult,
    text: *mut u8,
    text_cap: usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: `result` is valid and exclusive when not null (the contract).
        let result = unsafe { ffi::by_mut(result) }?;
        *result = FanlicLicenseResult::default();
        // SAFETY: `license_len` readable bytes at `license` (the contract).
        let input = unsafe { ffi::bytes(license, license_len) }?;
        // SAFETY: `root_count` arrays at `roots` (the contract).
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: one valid environment at `env` (the contract).
        let env = unsafe { ffi::by_ref(env) }?;
        // SAFETY: its texts are valid for their lengths (the contract).
        let env = unsafe { ffi::environment(env) }?;
        // SAFETY: the list's bytes are readable when the pointer is not null.
        let list = unsafe { revocation::optional_list(revocations, revocations_len) }?;
        // SAFETY: one u64 at `highest_seen` when not null.
        let highest_seen = unsafe { revocation::optional_u64(highest_seen) }?;
        let lang = ffi::lang(lang)?;
        // SAFETY: `text_cap` writable, exclusive bytes at `text` (the contract).
        let mut out = TextOut::new(unsafe { ffi::bytes_mut(text, text_cap) }?);

        let list = match list.map(|bytes| verify_revocations(bytes, roots.as_slice(), highest_seen)) {
            None => None,
            Some(Ok(list)) => {
                result.revocations.state = FANLIC_REVOCATIONS_ACCEPTED;
                result.revocations.sequence = list.sequence();
                Some(list)
            }
            Some(Err(e)) => {
                result.revocations = revocation::refused(&e, &mut out);
                let (used, fits) = out.finish();
                result.text_len = used;
                fits?;
                return Err(FanlicStatus::BadArgument);
            }
        };

        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let (causes, license) = match authenticate(input, &mut buf, roots.as_slice()) {
            Err(e) => {
                let first = result.causes.first_mut().ok_or(FanlicStatus::Panic)?;
                *first = cause(&Cause::ContentIncorrect(e), lang, &mut out);
                (1, None)
            }
            Ok(signed) => {
                let (l, cert) = (signed.license, signed.certificate);
                let mut count = 0;
                if let Err(rejection) = check_with_revocations(signed, &env, list.as_ref()) {
                    for (slot, c) in result.causes.iter_mut().zip(rejection.causes()) {
                        *slot = cause(c, lang, &mut out);
                        count += 1;
                    }
                }
                (count, Some((l, cert)))
            }
        };
        result.cause_count = causes;
        result.valid = u8::from(causes == 0);
        if let Some((l, cert)) = license {
            result.has_license = 1;
            result.license = license_info(&l, &cert, &mut out);
            if causes == 0 {
                result.valid_line = out.put(ValidLine(&l, lang));
            }
        }
        let (used, fits) = out.finish();
        result.text_len = used;
        fits?;
        Ok(if causes == 0 { FanlicStatus::Ok } else { FanlicStatus::Invalid })
    })
}

/// The string code of a `FANLIC_CAUSE_*` value, as SPEC.md §4.2 and
/// `fanlic verify --json` name it (e.g. `license_expired`), into `buf`:
/// the length goes to `*len` whether or not it fits, and a NUL follows
/// when there is room. `FANLIC_STATUS_BAD_ARGUMENT` for an unknown code.
///
/// # Safety
/// `buf`, when not null, must point to `cap` writable bytes, and `len` to a
/// writable `size_t`; nothing else accesses them during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_cause_name(code: u32, buf: *mut u8, cap: usize, len: *mut usize) -> FanlicStatus {
    // SAFETY: the caller's contract, passed on.
    ffi::guard(|| unsafe { crate::text::write_name(&CAUSE_CODES, code, buf, cap, len) })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn every_cause_code_names_the_cause_of_its_slot() {
        // The table's order is the report order, and its names are the
        // verifier's codes, so `cause_code` of each cause is its entry.
        let codes: Vec<u32> = CAUSE_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes, (1..=10).collect::<Vec<u32>>());
        let mut buf = [0u8; 32];
        let mut len = 0;
        for (code, name) in CAUSE_CODES {
            // SAFETY: a 32-byte buffer and a usize on the stack.
            let s = unsafe { fanlic_cause_name(code, buf.as_mut_ptr(), buf.len(), &mut len) };
            assert_eq!((s, &buf[..len]), (FanlicStatus::Ok, name.as_bytes()));
        }
        // SAFETY: as above.
        let s = unsafe { fanlic_cause_name(0, buf.as_mut_ptr(), buf.len(), &mut len) };
        assert_eq!(s, FanlicStatus::BadArgument);
    }

    #[test]
    fn texts_follow_each_other_with_a_nul_and_the_total_is_told() {
        let mut buf = [0xAAu8; 16];
        let mut out = TextOut::new(&mut buf);
        let a = out.put("abc");
        let b = out.put("");
        let c = out.put("许");
        assert_eq!(
            (a, b, c),
            (FanlicText { offset: 1, len: 3 }, FanlicText { offset: 5, len: 0 }, FanlicText { offset: 6, len: 3 })
        );
        assert_eq!(out.finish(), (10, Ok(())));
        assert_eq!(&buf[..10], "\0abc\0\0许\0".as_bytes());
        let mut small = [0u8; 9];
        let mut out = TextOut::new(&mut small);
        out.put("abc");
        out.put("许");
        // NUL + 3 + NUL + 3 + NUL: exactly full.
        assert_eq!(out.finish(), (9, Ok(())));
        out.put("x");
        assert_eq!(out.finish(), (11, Err(FanlicStatus::BufferTooSmall)));
        let mut none: [u8; 0] = [];
        assert_eq!(TextOut::new(&mut none).finish(), (1, Err(FanlicStatus::BufferTooSmall)));
    }
}
