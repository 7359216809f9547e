//! Text out of the C ABI into caller buffers: several texts one after
//! another, each followed by a NUL, each placed by a [`FanlicText`]; and a
//! code's name from its table.

use core::fmt;

use crate::ffi::{self, FanlicStatus};

/// A text in the caller's buffer: `len` UTF-8 bytes at `offset`, followed by
/// a NUL (not counted). An absent text, or one of a field that does not
/// apply, is empty (`len` 0) and still points at a NUL: the buffer starts
/// with an empty text.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicText {
    /// Where the text starts in the buffer.
    pub offset: usize,
    /// Its length in bytes, without the NUL.
    pub len: usize,
}

/// Texts written one after another into the caller's buffer, each followed
/// by a NUL; the total needed is counted whether or not they fit.
pub(crate) struct TextOut<'b> {
    buf: &'b mut [u8],
    used: usize,
}

impl<'b> TextOut<'b> {
    /// Offset 0 holds an empty text, so a [`FanlicText`] left at `{0, 0}`
    /// (a field that does not apply) is an empty C string too.
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        let mut out = Self { buf, used: 0 };
        out.put("");
        out
    }

    /// Writes `text` and a NUL; its place, whether or not it fitted.
    pub(crate) fn put(&mut self, text: impl fmt::Display) -> FanlicText {
        let tail = self.buf.get_mut(self.used..).unwrap_or_default();
        let mut len = 0;
        // Too small is told by `finish`, from the total.
        let _ = ffi::write_text(tail, &mut len, text);
        let at = FanlicText { offset: self.used, len };
        self.used = self.used.saturating_add(len).saturating_add(1);
        at
    }

    /// The bytes used (or needed), and whether they fit.
    pub(crate) fn finish(&self) -> (usize, Result<(), FanlicStatus>) {
        let fits = if self.used <= self.buf.len() { Ok(()) } else { Err(FanlicStatus::BufferTooSmall) };
        (self.used, fits)
    }
}

/// A name from a table of (number, name), into a caller buffer; an unknown
/// number is `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// As [`ffi::bytes_mut`] for `out`/`out_cap`; `out_len` null or writable.
pub(crate) unsafe fn write_name(
    table: &[(u32, &str)],
    value: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> Result<FanlicStatus, FanlicStatus> {
    // SAFETY: the caller's promise, passed on.
    let out = unsafe { ffi::bytes_mut(out, out_cap) }?;
    // SAFETY: the caller's promise, passed on.
    let out_len = unsafe { ffi::by_mut(out_len) }?;
    let name = table.iter().find(|(v, _)| *v == value).map(|(_, n)| *n).ok_or(FanlicStatus::BadArgument)?;
    ffi::write_text(out, out_len, name)?;
    Ok(FanlicStatus::Ok)
}
