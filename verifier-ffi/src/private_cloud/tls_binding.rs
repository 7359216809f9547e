//! TLS bindings from C (SPEC.md §7.7): the check that ties the server's
//! TLS certificate to its instance key.

use fanlic_verifier::{
    Verified,
    private_cloud::{BoundTlsKey, TlsBindingError, verify_tls_binding},
};

use super::{OneText, optional_key};
use crate::ffi::{self, FanlicStatus};
use crate::text::write_name;

// ---------------------------------------------------------- TLS binding --

/// The binding is accepted (no cause).
pub const FANLIC_TLS_BINDING_CAUSE_NONE: u32 = 0;
/// `malformed_binding`: the file, the certificate or the binding does not
/// decode.
pub const FANLIC_TLS_BINDING_CAUSE_MALFORMED_BINDING: u32 = 1;
/// `content_incorrect`: the server license is not authentic under the
/// product's root keys.
pub const FANLIC_TLS_BINDING_CAUSE_CONTENT_INCORRECT: u32 = 2;
/// `license_type_mismatch`: the server license is not a private-cloud one.
pub const FANLIC_TLS_BINDING_CAUSE_LICENSE_TYPE_MISMATCH: u32 = 3;
/// `no_image_key`: the server license has no image key.
pub const FANLIC_TLS_BINDING_CAUSE_NO_IMAGE_KEY: u32 = 4;
/// `bad_signature`: the certificate's or the binding's signature does not
/// hold.
pub const FANLIC_TLS_BINDING_CAUSE_BAD_SIGNATURE: u32 = 5;
/// `certificate_license_mismatch`: the certificate is for another license.
pub const FANLIC_TLS_BINDING_CAUSE_CERTIFICATE_LICENSE_MISMATCH: u32 = 6;
/// `image_key_id_mismatch`: the certificate names another image key.
pub const FANLIC_TLS_BINDING_CAUSE_IMAGE_KEY_ID_MISMATCH: u32 = 7;
/// `instance_key_changed`: another instance than the pinned one.
pub const FANLIC_TLS_BINDING_CAUSE_INSTANCE_KEY_CHANGED: u32 = 8;
/// `binding_license_mismatch`: the binding is for another license.
pub const FANLIC_TLS_BINDING_CAUSE_BINDING_LICENSE_MISMATCH: u32 = 9;
/// `tls_key_not_bound`: the connection's TLS key is not the bound one (a
/// machine in the middle).
pub const FANLIC_TLS_BINDING_CAUSE_TLS_KEY_NOT_BOUND: u32 = 10;
/// A cause this version of the C ABI has no number for; its text says.
pub const FANLIC_TLS_BINDING_CAUSE_OTHER: u32 = 255;

pub(super) const TLS_BINDING_CAUSE_NAMES: [(u32, &str); 12] = [
    (FANLIC_TLS_BINDING_CAUSE_NONE, "none"),
    (FANLIC_TLS_BINDING_CAUSE_MALFORMED_BINDING, "malformed_binding"),
    (FANLIC_TLS_BINDING_CAUSE_CONTENT_INCORRECT, "content_incorrect"),
    (FANLIC_TLS_BINDING_CAUSE_LICENSE_TYPE_MISMATCH, "license_type_mismatch"),
    (FANLIC_TLS_BINDING_CAUSE_NO_IMAGE_KEY, "no_image_key"),
    (FANLIC_TLS_BINDING_CAUSE_BAD_SIGNATURE, "bad_signature"),
    (FANLIC_TLS_BINDING_CAUSE_CERTIFICATE_LICENSE_MISMATCH, "certificate_license_mismatch"),
    (FANLIC_TLS_BINDING_CAUSE_IMAGE_KEY_ID_MISMATCH, "image_key_id_mismatch"),
    (FANLIC_TLS_BINDING_CAUSE_INSTANCE_KEY_CHANGED, "instance_key_changed"),
    (FANLIC_TLS_BINDING_CAUSE_BINDING_LICENSE_MISMATCH, "binding_license_mismatch"),
    (FANLIC_TLS_BINDING_CAUSE_TLS_KEY_NOT_BOUND, "tls_key_not_bound"),
    (FANLIC_TLS_BINDING_CAUSE_OTHER, "other"),
];

pub(crate) const fn tls_binding_cause_value(e: &TlsBindingError) -> u32 {
    match e {
        TlsBindingError::Malformed { .. } => FANLIC_TLS_BINDING_CAUSE_MALFORMED_BINDING,
        TlsBindingError::License(_) => FANLIC_TLS_BINDING_CAUSE_CONTENT_INCORRECT,
        TlsBindingError::NotPrivateCloud { .. } => FANLIC_TLS_BINDING_CAUSE_LICENSE_TYPE_MISMATCH,
        TlsBindingError::NoImageKey { .. } => FANLIC_TLS_BINDING_CAUSE_NO_IMAGE_KEY,
        TlsBindingError::BadSignature => FANLIC_TLS_BINDING_CAUSE_BAD_SIGNATURE,
        TlsBindingError::CertificateLicenseMismatch { .. } => FANLIC_TLS_BINDING_CAUSE_CERTIFICATE_LICENSE_MISMATCH,
        TlsBindingError::ImageKeyIdMismatch { .. } => FANLIC_TLS_BINDING_CAUSE_IMAGE_KEY_ID_MISMATCH,
        TlsBindingError::InstanceKeyChanged { .. } => FANLIC_TLS_BINDING_CAUSE_INSTANCE_KEY_CHANGED,
        TlsBindingError::BindingLicenseMismatch { .. } => FANLIC_TLS_BINDING_CAUSE_BINDING_LICENSE_MISMATCH,
        TlsBindingError::TlsKeyNotBound { .. } => FANLIC_TLS_BINDING_CAUSE_TLS_KEY_NOT_BOUND,
        _ => FANLIC_TLS_BINDING_CAUSE_OTHER,
    }
}

/// Writes the spec's code of a `FANLIC_TLS_BINDING_CAUSE_*` (e.g.
/// `tls_key_not_bound`, SPEC.md §7.7) into `out`, and its length into
/// `*out_len`. An unknown number is `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// `out` points to `out_cap` writable bytes (or is null with `out_cap` 0);
/// `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_tls_binding_cause_name(
    cause: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> FanlicStatus {
    // SAFETY: the caller's promise, passed on.
    ffi::guard(|| unsafe { write_name(&TLS_BINDING_CAUSE_NAMES, cause, out, out_cap, out_len) })
}

/// The outcome of a TLS binding check (SPEC.md §7.7).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicTlsBindingResult {
    /// `FANLIC_TLS_BINDING_CAUSE_NONE` when accepted, else the first check
    /// that failed.
    pub cause: u32,
    /// Accepted: the server license's id.
    pub license_id: [u8; 16],
    /// Accepted: the instance key that signed the binding (the one to pin).
    pub instance_public_key: [u8; 32],
    /// Accepted: the bound TLS key's SPKI SHA-256 (the connection's).
    pub spki_sha256: [u8; 32],
}

/// Fills a TLS binding result and its text from an outcome.
pub(crate) fn tls_binding_outcome(
    outcome: Result<Verified<BoundTlsKey>, TlsBindingError>,
    result: &mut FanlicTlsBindingResult,
    text: OneText<'_>,
) -> Result<FanlicStatus, FanlicStatus> {
    match outcome {
        Ok(bound) => {
            *result = FanlicTlsBindingResult {
                cause: FANLIC_TLS_BINDING_CAUSE_NONE,
                license_id: bound.license_id.0,
                instance_public_key: bound.instance_public_key,
                spki_sha256: bound.spki_sha256,
            };
            text.write("")?;
            Ok(FanlicStatus::Ok)
        }
        Err(e) => {
            *result = FanlicTlsBindingResult { cause: tls_binding_cause_value(&e), ..Default::default() };
            text.write(e)?;
            Ok(FanlicStatus::Invalid)
        }
    }
}

/// Checks the TLS binding of a new TLS connection to the authorization
/// server (SPEC.md §7.7), before anything is sent on it.
///
/// The server's TLS certificate is self-signed, so a product's default
/// trust manager refuses it; the product trusts the server's instance key
/// instead, which vouches for the TLS key with this binding. For every new
/// connection the product:
///
/// 1. accepts the TLS handshake whatever the certificate (the handshake
///    still proves the server holds the certificate's private key);
/// 2. takes the server certificate's DER SubjectPublicKeyInfo and its
///    SHA-256 (in Java: `MessageDigest.getInstance("SHA-256")
///    .digest(cert.getPublicKey().getEncoded())`);
/// 3. fetches `GET /api/v1/tls-binding` on that connection (the response's
///    `tls_binding`, base64-decoded) and calls this with that hash;
/// 4. sends its requests on the connection only when this returns
///    `FANLIC_STATUS_OK`; otherwise it closes the connection without sending
///    anything (a request carries its node id and a MAC under the join
///    secret).
///
/// It may remember an accepted hash and skip steps 3–4 on later
/// connections presenting the same key. With a pinned instance key (not
/// null) a binding from any other instance is refused
/// (`instance_key_changed`); with none, the product pins
/// `result->instance_public_key` ([`fanlic_client_on_tls_binding`] does).
/// The first check that fails is reported, alone: `FANLIC_STATUS_INVALID`,
/// `result->cause`, and its English text in `text` (NUL-terminated when
/// there is room; `*text_len` is its length, 0 when accepted). `text` and
/// `text_len` may both be null: no text. Allocates nothing.
///
/// # Safety
/// `binding` points to `binding_len` readable bytes; `roots` to
/// `root_count` keys; `pinned_instance_key` to 32 bytes or is null;
/// `spki_sha256` to 32 bytes; `result` to a writable
/// `FanlicTlsBindingResult`; `text` to `text_cap` writable bytes or null
/// with `text_cap` 0; `text_len` to a writable `size_t` or null when `text`
/// is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_tls_binding_verify(
    binding: *const u8,
    binding_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    pinned_instance_key: *const [u8; 32],
    spki_sha256: *const [u8; 32],
    result: *mut FanlicTlsBindingResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises `binding_len` readable bytes.
        let file = unsafe { ffi::bytes(binding, binding_len) }?;
        // SAFETY: the caller promises `root_count` keys.
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: the caller promises a key or null.
        let pinned = unsafe { optional_key(pinned_instance_key) };
        // SAFETY: the caller promises 32 readable bytes or null.
        let spki = unsafe { ffi::by_ref(spki_sha256) }?;
        // SAFETY: the caller promises a writable result or null.
        let result = unsafe { ffi::by_mut(result) }?;
        // SAFETY: the caller promises the text buffer and its length, or nulls.
        let text = unsafe { OneText::new(text, text_cap, text_len) }?;
        tls_binding_outcome(verify_tls_binding(file, roots.as_slice(), pinned, spki), result, text)
    })
}
