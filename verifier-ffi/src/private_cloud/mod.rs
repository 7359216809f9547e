//! The private cloud from C (SPEC.md §7): the product's application client
//! of the authorization server, and the checks it is made of.
//!
//! - [`FanlicClient`] (`fanlic_client_*`) is the client state machine of
//!   SPEC.md §7.5 behind an opaque handle: what to do next, the request to
//!   send and its `Authorization` header, the answer check, the TLS binding
//!   check, failures and the registration's status. The caller gives the time
//!   to every step; the handle does no I/O.
//! - `fanlic_answer_verify*` checks a server answer file against a request
//!   (SPEC.md §7.2), `fanlic_tls_binding_verify` a TLS binding against the
//!   connection it came over (§7.7), `fanlic_private_config_verify` a
//!   `privateConfig` file (§7.4).
//!
//! A refused answer reports every cause, in SPEC.md §7.5's order: each as a
//! `FANLIC_ANSWER_CAUSE_*` number in the result, its spec code through
//! [`fanlic_answer_cause_name`] and its English text in the caller's text
//! buffer. A TLS binding and a `privateConfig` report the first check that
//! fails, alone. Checking an answer or a TLS binding allocates nothing.

mod answer;
mod client;
mod config;
mod tls_binding;

use fanlic_formats::{RevocationList, private_cloud::AnswerKind};
use fanlic_verifier::{Verified, private_cloud::Request, verify_revocations};

use crate::ffi::{self, FanlicStatus, Roots};

pub use answer::*;
pub use client::*;
pub use config::*;
pub use tls_binding::*;

// ---------------------------------------------------------------- kinds --

/// A registration (`POST /api/v1/register`, answer kind `Registered`, 0 in
/// SPEC.md §7.2).
pub const FANLIC_ANSWER_KIND_REGISTERED: u32 = 0;
/// A heartbeat (`POST /api/v1/heartbeat`, answer kind `Heartbeat`, 1).
pub const FANLIC_ANSWER_KIND_HEARTBEAT: u32 = 1;
/// A deregistration (`POST /api/v1/deregister`, answer kind
/// `Deregistered`, 2).
pub const FANLIC_ANSWER_KIND_DEREGISTERED: u32 = 2;

/// A `kind` argument.
pub(crate) fn answer_kind(value: u32) -> Result<AnswerKind, FanlicStatus> {
    match value {
        FANLIC_ANSWER_KIND_REGISTERED => Ok(AnswerKind::Registered),
        FANLIC_ANSWER_KIND_HEARTBEAT => Ok(AnswerKind::Heartbeat),
        FANLIC_ANSWER_KIND_DEREGISTERED => Ok(AnswerKind::Deregistered),
        _ => Err(FanlicStatus::BadArgument),
    }
}

pub(crate) const fn answer_kind_value(kind: AnswerKind) -> u32 {
    match kind {
        AnswerKind::Registered => FANLIC_ANSWER_KIND_REGISTERED,
        AnswerKind::Heartbeat => FANLIC_ANSWER_KIND_HEARTBEAT,
        AnswerKind::Deregistered => FANLIC_ANSWER_KIND_DEREGISTERED,
    }
}

// -------------------------------------------------------------- request --

/// Room for a request's path, NUL included.
pub const FANLIC_MAX_PATH_LEN: usize = 32;

/// One request to the authorization server (SPEC.md §7.3): what
/// [`fanlic_client_request`] makes, and what [`fanlic_answer_verify`]
/// checks an answer against.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanlicRequest {
    /// What is asked: a `FANLIC_ANSWER_KIND_*`.
    pub kind: u32,
    /// This node's id.
    pub node_id: [u8; 16],
    /// The request's fresh random nonce.
    pub nonce: [u8; 16],
    /// The request's path, e.g. `/api/v1/heartbeat`, NUL-terminated (out
    /// only: the functions that take a request derive it from `kind`).
    pub path: [u8; FANLIC_MAX_PATH_LEN],
    /// The path's length in bytes, NUL not counted.
    pub path_len: usize,
}

impl FanlicRequest {
    pub(crate) fn from_request(r: &Request) -> Self {
        let mut path = [0u8; FANLIC_MAX_PATH_LEN];
        let text = r.path().as_bytes();
        let path_len = text.len().min(FANLIC_MAX_PATH_LEN - 1);
        if let (Some(dst), Some(src)) = (path.get_mut(..path_len), text.get(..path_len)) {
            dst.copy_from_slice(src);
        }
        Self { kind: answer_kind_value(r.kind), node_id: r.node_id, nonce: r.nonce, path, path_len }
    }

    pub(crate) fn request(&self) -> Result<Request, FanlicStatus> {
        Ok(Request { kind: answer_kind(self.kind)?, node_id: self.node_id, nonce: self.nonce })
    }
}

/// Writes the `Authorization` header value of `request` sent with `body`
/// (the exact bytes of the JSON body) at `now` (SPEC.md §7.3,
/// "Authentication"): `FANLIC-HMAC-SHA256 <now>:<mac>`, the MAC made with
/// the key of the cluster's join secret; the secret itself never travels.
/// `join_secret` is the text the authorization server shows the admin (64
/// hexadecimal digits; white space around them is ignored); one that is not
/// is `FANLIC_STATUS_BAD_ARGUMENT`. The value is ASCII, at most 104 bytes.
///
/// # Safety
/// `request` points to a valid `FanlicRequest`; `join_secret` to
/// `join_secret_len` bytes, `body` to `body_len` bytes, `out` to `out_cap`
/// writable bytes (each may be null when its length is 0); `out_len` to a
/// writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_authorization(
    request: *const FanlicRequest,
    join_secret: *const u8,
    join_secret_len: usize,
    body: *const u8,
    body_len: usize,
    now: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a valid request or null.
        let request = unsafe { ffi::by_ref(request) }?.request()?;
        // SAFETY: the caller promises `join_secret_len` readable bytes.
        let secret = unsafe { ffi::utf8(join_secret, join_secret_len) }?;
        // SAFETY: the caller promises `body_len` readable bytes.
        let body = unsafe { ffi::bytes(body, body_len) }?;
        // SAFETY: the caller promises `out_cap` writable bytes.
        let out = unsafe { ffi::bytes_mut(out, out_cap) }?;
        // SAFETY: the caller promises a writable size_t or null.
        let out_len = unsafe { ffi::by_mut(out_len) }?;
        let key =
            fanlic_verifier::node_auth::JoinSecret::parse(secret).map_err(|_| FanlicStatus::BadArgument)?.request_key();
        let header = request.authorization(&key, body, fanlic_formats::Timestamp(now));
        ffi::write_text(out, out_len, header.as_str())?;
        Ok(FanlicStatus::Ok)
    })
}
// ------------------------------------------------------- text buffers --

/// Where the texts of several causes go: one caller buffer, each text
/// followed by a NUL, one after the other. The needed length counts the
/// NULs; nothing is allocated.
pub(crate) struct Texts<'a> {
    out: Option<(&'a mut [u8], &'a mut usize)>,
    needed: usize,
}

impl<'a> Texts<'a> {
    /// The caller's (text, text_cap, text_len): text and text_len both null
    /// means no texts are wanted.
    ///
    /// # Safety
    /// As [`ffi::bytes_mut`] for `text`/`cap`; `len` null or writable.
    pub(crate) unsafe fn new(text: *mut u8, cap: usize, len: *mut usize) -> Result<Self, FanlicStatus> {
        if text.is_null() && len.is_null() {
            return Ok(Self { out: None, needed: 0 });
        }
        // SAFETY: the caller's promise, passed on.
        let out = unsafe { ffi::bytes_mut(text, cap) }?;
        // SAFETY: the caller's promise, passed on.
        let len = unsafe { ffi::by_mut(len) }?;
        *len = 0;
        Ok(Self { out: Some((out, len)), needed: 0 })
    }

    /// Appends one text; returns its offset and length.
    pub(crate) fn push(&mut self, text: impl core::fmt::Display) -> (usize, usize) {
        let offset = self.needed;
        let Some((out, _)) = self.out.as_mut() else {
            return (0, 0);
        };
        let mut len = 0;
        let dst = out.get_mut(offset..).unwrap_or_default();
        // Too small is seen at the end, from the total.
        let _ = ffi::write_text(dst, &mut len, text);
        self.needed = offset.saturating_add(len).saturating_add(1);
        (offset, len)
    }

    /// The total into the caller's length; `BufferTooSmall` when it did not
    /// fit.
    pub(crate) fn finish(self) -> Result<(), FanlicStatus> {
        match self.out {
            None => Ok(()),
            Some((out, len)) => {
                *len = self.needed;
                if self.needed > out.len() { Err(FanlicStatus::BufferTooSmall) } else { Ok(()) }
            }
        }
    }
}

/// The text of a single cause into the caller's (text, cap, len), as
/// [`ffi::write_text`] writes it (its length, NUL not counted, in `*len`);
/// text and len both null means no text is wanted.
pub(crate) struct OneText<'a>(Option<(&'a mut [u8], &'a mut usize)>);

impl<'a> OneText<'a> {
    /// # Safety
    /// As [`ffi::bytes_mut`] for `text`/`cap`; `len` null or writable.
    pub(crate) unsafe fn new(text: *mut u8, cap: usize, len: *mut usize) -> Result<Self, FanlicStatus> {
        if text.is_null() && len.is_null() {
            return Ok(Self(None));
        }
        // SAFETY: the caller's promise, passed on.
        let out = unsafe { ffi::bytes_mut(text, cap) }?;
        // SAFETY: the caller's promise, passed on.
        let len = unsafe { ffi::by_mut(len) }?;
        Ok(Self(Some((out, len))))
    }

    /// Writes the text (empty when there is no cause).
    pub(crate) fn write(self, text: impl core::fmt::Display) -> Result<(), FanlicStatus> {
        match self.0 {
            None => Ok(()),
            Some((out, len)) => ffi::write_text(out, len, text),
        }
    }
}

/// A revocation list from C: null is none; otherwise it must verify under
/// `roots` (signatures and certificate), or the call is
/// `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// When not null, `list` points to `len` readable bytes for `'a`.
pub(crate) unsafe fn revocations<'a>(
    list: *const u8,
    len: usize,
    roots: &Roots,
) -> Result<Option<Verified<RevocationList<'a>>>, FanlicStatus> {
    if list.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's promise, passed on.
    let bytes = unsafe { ffi::bytes(list, len) }?;
    verify_revocations(bytes, roots.as_slice(), None).map(Some).map_err(|_| FanlicStatus::BadArgument)
}

/// An optional 32-byte key: null is none.
///
/// # Safety
/// When not null, `key` points to a readable `[u8; 32]` for `'a`.
pub(crate) unsafe fn optional_key<'a>(key: *const [u8; 32]) -> Option<&'a [u8; 32]> {
    // SAFETY: the caller's promise; `as_ref` handles null.
    unsafe { key.as_ref() }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn cause_numbers_are_unique_and_named() {
        for table in [
            &answer::ANSWER_CAUSE_NAMES[..],
            &tls_binding::TLS_BINDING_CAUSE_NAMES[..],
            &config::PRIVATE_CONFIG_CAUSE_NAMES[..],
        ] {
            for (i, (v, n)) in table.iter().enumerate() {
                assert!(!n.is_empty());
                assert!(table[i + 1..].iter().all(|(w, _)| w != v), "{v} twice");
            }
        }
    }

    #[test]
    fn texts_count_their_nuls_and_say_when_they_do_not_fit() {
        let mut buf = [0xAAu8; 8];
        let mut len = 0;
        // SAFETY: a live buffer and length.
        let mut t = unsafe { Texts::new(buf.as_mut_ptr(), 8, &mut len) }.unwrap();
        assert_eq!(t.push("abc"), (0, 3));
        assert_eq!(t.push("de"), (4, 2));
        assert_eq!(t.finish(), Ok(()));
        assert_eq!((&buf[..7], len), (&b"abc\0de\0"[..], 7));
        // SAFETY: as above.
        let mut t = unsafe { Texts::new(buf.as_mut_ptr(), 8, &mut len) }.unwrap();
        t.push("abcd");
        t.push("efgh");
        assert_eq!(t.finish(), Err(FanlicStatus::BufferTooSmall));
        assert_eq!(len, 10);
    }
}
