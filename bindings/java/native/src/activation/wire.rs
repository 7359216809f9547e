//! What the activation and private-cloud JNI functions share on top of
//! `crate::jvm` (the boundary: exceptions, `byte[]`, root keys, the
//! `Environment`): fixed-length and optional `byte[]` arguments, UTF-8
//! texts, times, and results written as one `byte[]` that the Java side
//! decodes (`NativeResult.java`). Results travel as bytes, not as Java
//! objects built from Rust, so no class or constructor is looked up from
//! native code for them.
//!
//! Strings cross as UTF-8 `byte[]` (never modified UTF-8), times as `long`
//! Unix seconds.

use fanlic_formats::Timestamp;
use jni::{Env, objects::JByteArray};

pub(crate) use crate::jvm::{Thrown as Fail, bytes, entry as call, environment, roots};

/// An argument error with its message: `IllegalArgumentException`.
pub(crate) fn arg(message: impl Into<String>) -> Fail {
    crate::jvm::illegal_argument(message)
}

/// A state error: `IllegalStateException`.
pub(crate) fn state(message: &str) -> Fail {
    Fail::IllegalState(message.to_owned())
}

/// A `byte[]` argument of exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    name: &'static str,
) -> Result<[u8; N], Fail> {
    let v = bytes(env, array, name)?;
    let len = v.len();
    v.try_into().map_err(|_| arg(format!("{name} must be {N} bytes, not {len}")))
}

/// An optional `byte[]` argument of exactly `N` bytes (null: `None`).
pub(crate) fn opt_fixed<const N: usize>(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    name: &'static str,
) -> Result<Option<[u8; N]>, Fail> {
    if array.is_null() { Ok(None) } else { fixed(env, array, name).map(Some) }
}

/// A UTF-8 `byte[]` argument as text.
pub(crate) fn text(env: &Env<'_>, array: &JByteArray<'_>, name: &'static str) -> Result<String, Fail> {
    String::from_utf8(bytes(env, array, name)?).map_err(|_| arg(format!("{name} is not UTF-8")))
}

/// A time argument: Unix seconds, not negative.
pub(crate) fn time(seconds: i64, name: &'static str) -> Result<Timestamp, Fail> {
    u64::try_from(seconds).map(Timestamp).map_err(|_| arg(format!("{name} is before 1970: {seconds}")))
}

/// A result for the Java side, decoded by `NativeResult.java`: big-endian
/// numbers, byte strings and UTF-8 texts with a 4-byte length first.
#[derive(Debug, Default)]
pub(crate) struct Out(Vec<u8>);

impl Out {
    /// An empty result.
    pub(crate) fn new() -> Self {
        Self(Vec::with_capacity(128))
    }

    /// One byte (a kind, a flag).
    pub(crate) fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    /// A number.
    pub(crate) fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// A time, or -1 (all ones) for none.
    pub(crate) fn time(self, t: Option<Timestamp>) -> Self {
        self.u64(t.map_or(u64::MAX, |t| t.0))
    }

    /// Bytes with their length.
    pub(crate) fn bytes(mut self, v: &[u8]) -> Self {
        // Every result is far below 4 GiB; saturate rather than wrap.
        let len = u32::try_from(v.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(v.get(..len as usize).unwrap_or(v));
        self
    }

    /// A text, as UTF-8 with its length.
    pub(crate) fn text(self, v: &str) -> Self {
        self.bytes(v.as_bytes())
    }

    /// The Java `byte[]`.
    pub(crate) fn finish<'local>(self, env: &mut Env<'local>) -> Result<JByteArray<'local>, Fail> {
        Ok(env.byte_array_from_slice(&self.0)?)
    }
}

/// Copies a saved activation state back into the caller's `byte[]`.
pub(crate) fn write_back(env: &Env<'_>, array: &JByteArray<'_>, bytes: &[u8]) -> Result<(), Fail> {
    let signed: Vec<i8> = bytes.iter().map(|&b| b as i8).collect();
    array.set_region(env, 0, &signed)?;
    Ok(())
}
