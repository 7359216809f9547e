//! The boundary itself: status codes, the panic guard, and reading the
//! caller's pointers. Every other module goes through these helpers, so the
//! rules for a pointer from C are written once:
//!
//! - a null pointer is refused with [`FanlicStatus::NullPointer`] and never
//!   dereferenced; a null pointer with length 0 is the empty input;
//! - a length above `isize::MAX` is refused with [`FanlicStatus::BadLength`]
//!   (no Rust slice can be that long);
//! - text in is UTF-8 with an explicit length, never NUL-terminated;
//! - text out goes into a caller buffer: the needed length is always written
//!   to `*len_out`, and [`FanlicStatus::BufferTooSmall`] says to call again
//!   with a bigger one. When there is room a NUL follows the text (not
//!   counted), so C can print it as it is.

use core::{fmt, panic::AssertUnwindSafe};
use std::panic::catch_unwind;

use fanlic_verifier::{Environment, Lang, RootKey};

/// What every function of the C ABI returns. Negative values are errors of
/// the call itself (nothing was checked); `Ok` and `Invalid` are answers.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use]
pub enum FanlicStatus {
    /// The check passed, or the call did what it says.
    Ok = 0,
    /// The check ran and failed: the result lists every cause.
    Invalid = 1,
    /// A required pointer was null.
    NullPointer = -1,
    /// A length is impossible (above `isize::MAX`), or outside what the
    /// argument allows (e.g. a root key that is not 32 bytes).
    BadLength = -2,
    /// Text in was not UTF-8.
    NotUtf8 = -3,
    /// An output buffer is too small; `*len_out` holds the length needed.
    BufferTooSmall = -4,
    /// A bug in the library: it panicked, and the panic was stopped at the
    /// boundary. Nothing was changed; please report it.
    Panic = -5,
    /// An argument is out of range: an unknown enum value, an index past
    /// the end, a root key that is not an Ed25519 public key, zero roots.
    BadArgument = -6,
    /// A saved state or a handle's state does not allow the call.
    BadState = -7,
}

/// Runs one entry point with panics caught: an unwinding panic across
/// `extern "C"` aborts the process, and the process is the product's (a JVM,
/// an application server).
pub(crate) fn guard(f: impl FnOnce() -> Result<FanlicStatus, FanlicStatus>) -> FanlicStatus {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(s) | Err(s)) => s,
        Err(_) => FanlicStatus::Panic,
    }
}

/// `len` bytes at `ptr`.
///
/// # Safety
/// When `ptr` is not null and `len` is not 0, `ptr` must point to `len`
/// readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], FanlicStatus> {
    if len > isize::MAX as usize {
        return Err(FanlicStatus::BadLength);
    }
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FanlicStatus::NullPointer);
    }
    // SAFETY: not null, len ≤ isize::MAX, and the caller promises `len`
    // readable bytes for 'a (the function's contract, in the header).
    Ok(unsafe { core::slice::from_raw_parts(ptr, len) })
}

/// `len` bytes of UTF-8 at `ptr`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn utf8<'a>(ptr: *const u8, len: usize) -> Result<&'a str, FanlicStatus> {
    // SAFETY: the same contract, passed on.
    let b = unsafe { bytes(ptr, len) }?;
    core::str::from_utf8(b).map_err(|_| FanlicStatus::NotUtf8)
}

/// A caller's output buffer of `cap` bytes.
///
/// # Safety
/// When `ptr` is not null and `cap` is not 0, `ptr` must point to `cap`
/// writable bytes not otherwise accessed for `'a`.
pub(crate) unsafe fn bytes_mut<'a>(ptr: *mut u8, cap: usize) -> Result<&'a mut [u8], FanlicStatus> {
    if cap > isize::MAX as usize {
        return Err(FanlicStatus::BadLength);
    }
    if cap == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(FanlicStatus::NullPointer);
    }
    // SAFETY: not null, cap ≤ isize::MAX, and the caller promises `cap`
    // writable bytes, exclusively ours for 'a.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) })
}

/// The value at `ptr`, read only.
///
/// # Safety
/// When not null, `ptr` must point to a valid, aligned `T` for `'a`.
pub(crate) unsafe fn by_ref<'a, T>(ptr: *const T) -> Result<&'a T, FanlicStatus> {
    // SAFETY: the caller promises a valid, aligned T when not null; `as_ref`
    // handles null.
    unsafe { ptr.as_ref() }.ok_or(FanlicStatus::NullPointer)
}

/// The value at `ptr`, to write or to update (an output struct, a handle).
///
/// # Safety
/// When not null, `ptr` must point to a valid, aligned `T` not otherwise
/// accessed for `'a`.
pub(crate) unsafe fn by_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T, FanlicStatus> {
    // SAFETY: the caller promises a valid, aligned, exclusive T when not
    // null; `as_mut` handles null.
    unsafe { ptr.as_mut() }.ok_or(FanlicStatus::NullPointer)
}

/// Writes `text` into `out`, and its length into `*len_out`, whether or not
/// it fits; a NUL follows when there is room. Allocates nothing: the text is
/// formatted straight into the buffer.
pub(crate) fn write_text(out: &mut [u8], len_out: &mut usize, text: impl fmt::Display) -> Result<(), FanlicStatus> {
    struct Into<'b> {
        out: &'b mut [u8],
        len: usize,
    }
    impl fmt::Write for Into<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let end = self.len.saturating_add(s.len());
            if let Some(dst) = self.out.get_mut(self.len..end) {
                dst.copy_from_slice(s.as_bytes());
            }
            self.len = end;
            Ok(())
        }
    }
    let mut w = Into { out, len: 0 };
    fmt::write(&mut w, format_args!("{text}")).map_err(|_| FanlicStatus::Panic)?;
    *len_out = w.len;
    if w.len > w.out.len() {
        return Err(FanlicStatus::BufferTooSmall);
    }
    if let Some(nul) = w.out.get_mut(w.len) {
        *nul = 0;
    }
    Ok(())
}

/// The most root keys one call takes: a product embeds one or two (a
/// rotation), and the list is kept on the stack.
pub const FANLIC_MAX_ROOT_KEYS: usize = 8;

/// The product's root keys, checked, on the stack.
#[derive(Debug)]
pub(crate) struct Roots {
    keys: [RootKey; FANLIC_MAX_ROOT_KEYS],
    len: usize,
}

impl Roots {
    /// The keys, for the verifier.
    pub(crate) fn as_slice(&self) -> &[RootKey] {
        self.keys.get(..self.len).unwrap_or(&[])
    }
}

/// `count` root keys of 32 bytes each at `keys`, back to back.
///
/// # Safety
/// When not null, `keys` must point to `count` readable `[u8; 32]`.
pub(crate) unsafe fn roots(keys: *const [u8; 32], count: usize) -> Result<Roots, FanlicStatus> {
    if count == 0 || count > FANLIC_MAX_ROOT_KEYS {
        return Err(FanlicStatus::BadArgument);
    }
    if keys.is_null() {
        return Err(FanlicStatus::NullPointer);
    }
    // SAFETY: not null, count ≤ 8, and the caller promises `count` arrays.
    let raw = unsafe { core::slice::from_raw_parts(keys, count) };
    let mut parsed = raw.iter().map(|k| RootKey::from_bytes(k).map_err(|_| FanlicStatus::BadArgument));
    let first = parsed.next().ok_or(FanlicStatus::BadArgument)??;
    let mut out = Roots { keys: [first; FANLIC_MAX_ROOT_KEYS], len: 1 };
    for (slot, key) in out.keys.iter_mut().skip(1).zip(parsed) {
        *slot = key?;
        out.len += 1;
    }
    Ok(out)
}

/// English, for [`FanlicEnvironment`]-taking calls' `lang`.
pub const FANLIC_LANG_EN: u32 = 0;
/// Simplified Chinese (zh-CN), the products' default.
pub const FANLIC_LANG_ZH_CN: u32 = 1;

/// A `lang` argument.
pub(crate) fn lang(value: u32) -> Result<Lang, FanlicStatus> {
    match value {
        FANLIC_LANG_EN => Ok(Lang::En),
        FANLIC_LANG_ZH_CN => Ok(Lang::ZhCn),
        _ => Err(FanlicStatus::BadArgument),
    }
}

/// The local-container authentication method (SPEC.md §3.3 `kind`).
pub const FANLIC_METHOD_LOCAL_CONTAINER: u32 = 1;
/// The private-cloud authentication method.
pub const FANLIC_METHOD_PRIVATE_CLOUD: u32 = 2;

/// What the product knows about itself when it checks a license: the fields
/// of its registration page, the node count and the time (the verifier has
/// no clock). Text is UTF-8 with explicit lengths.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct FanlicEnvironment {
    /// Local application name, e.g. `FineReport`.
    pub app_name: *const u8,
    /// Its length in bytes.
    pub app_name_len: usize,
    /// Local version, e.g. `11.0.20`; matched on major.minor.
    pub version: *const u8,
    /// Its length in bytes.
    pub version_len: usize,
    /// Local project name ("project content").
    pub project: *const u8,
    /// Its length in bytes.
    pub project_len: usize,
    /// Nodes currently in the cluster (1 when standalone).
    pub nodes: u32,
    /// The method the admin selected: `FANLIC_METHOD_LOCAL_CONTAINER` or
    /// `FANLIC_METHOD_PRIVATE_CLOUD`.
    pub method: u32,
    /// Now, in seconds since the Unix epoch.
    pub now: u64,
    /// The latest time this product has seen before, in seconds since the
    /// Unix epoch, when `has_last_seen` is not 0 (for `clock_rollback`).
    pub last_seen: u64,
    /// Whether `last_seen` is set.
    pub has_last_seen: u8,
}

/// The environment a C caller filled in.
///
/// # Safety
/// Its three text pointers must each point to their length in readable
/// bytes (or be null with length 0) for `'a`.
pub(crate) unsafe fn environment<'a>(env: &FanlicEnvironment) -> Result<Environment<'a>, FanlicStatus> {
    use fanlic_formats::{LicenseKind, Timestamp};
    let method = match env.method {
        FANLIC_METHOD_LOCAL_CONTAINER => LicenseKind::LocalContainer,
        FANLIC_METHOD_PRIVATE_CLOUD => LicenseKind::PrivateCloud,
        _ => return Err(FanlicStatus::BadArgument),
    };
    Ok(Environment {
        // SAFETY: the three (pointer, length) pairs are the caller's promise.
        app_name: unsafe { utf8(env.app_name, env.app_name_len) }?,
        // SAFETY: as above.
        version: unsafe { utf8(env.version, env.version_len) }?,
        // SAFETY: as above.
        project: unsafe { utf8(env.project, env.project_len) }?,
        nodes: env.nodes,
        method,
        now: Timestamp(env.now),
        last_seen: (env.has_last_seen != 0).then_some(Timestamp(env.last_seen)),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn a_panic_stops_at_the_boundary() {
        assert_eq!(guard(|| panic!("a bug")), FanlicStatus::Panic);
        assert_eq!(guard(|| Ok(FanlicStatus::Invalid)), FanlicStatus::Invalid);
        assert_eq!(guard(|| Err(FanlicStatus::NotUtf8)), FanlicStatus::NotUtf8);
    }

    #[test]
    fn null_pointers_and_impossible_lengths_are_refused() {
        // Null is checked before any read, an impossible length before the
        // pointer is used, and length 0 reads nothing.
        // SAFETY: see above.
        assert_eq!(unsafe { bytes(core::ptr::null(), 3) }, Err(FanlicStatus::NullPointer));
        // SAFETY: as above.
        assert_eq!(unsafe { bytes(core::ptr::null(), 0) }, Ok(&[][..]));
        // SAFETY: as above.
        assert_eq!(unsafe { bytes(core::ptr::NonNull::dangling().as_ptr(), usize::MAX) }, Err(FanlicStatus::BadLength));
        // SAFETY: one valid byte.
        assert_eq!(unsafe { utf8(b"\xff".as_ptr(), 1) }, Err(FanlicStatus::NotUtf8));
        // SAFETY: as above.
        assert_eq!(unsafe { roots(core::ptr::null(), 1) }.unwrap_err(), FanlicStatus::NullPointer);
        // SAFETY: zero roots are refused before the pointer is read.
        assert_eq!(unsafe { roots([[0u8; 32]].as_ptr(), 0) }.unwrap_err(), FanlicStatus::BadArgument);
        // SAFETY: as above.
        assert_eq!(unsafe { by_ref::<u32>(core::ptr::null()) }, Err(FanlicStatus::NullPointer));
    }

    #[test]
    fn text_says_its_length_and_fits_or_not() {
        let mut buf = [0xAAu8; 8];
        let mut len = 0;
        assert_eq!(write_text(&mut buf, &mut len, "许可"), Ok(()));
        assert_eq!((len, &buf[..7]), (6, &"许可\0".as_bytes()[..7]));
        assert_eq!(write_text(&mut buf[..3], &mut len, "too long"), Err(FanlicStatus::BufferTooSmall));
        assert_eq!(len, 8);
        // Exactly the text's length: fits, with no room for the NUL.
        assert_eq!(write_text(&mut buf, &mut len, "12345678"), Ok(()));
        assert_eq!(&buf, b"12345678");
    }
}
