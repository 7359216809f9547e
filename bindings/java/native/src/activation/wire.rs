//! What the activation and private-cloud JNI functions share: turning a
//! failure or a panic into a Java exception, reading `byte[]` arguments, and
//! writing results as one `byte[]` that the Java side decodes
//! (`NativeResult.java`). Results travel as bytes, not as Java objects built
//! from Rust, so no class or constructor is looked up from native code: the
//! only JNI calls are array copies and `ThrowNew`.
//!
//! Strings cross as UTF-8 `byte[]` (never modified UTF-8), times as `long`
//! Unix seconds, root keys as one `byte[]` of 32-byte keys.

use fanlic_formats::{LicenseKind, Timestamp};
use fanlic_verifier::{Environment, RootKey};
use jni::{
    Env, EnvUnowned,
    errors::{Error, ErrorPolicy},
    jni_str,
    objects::JByteArray,
    strings::JNIString,
};

/// Why a native call failed; each becomes one Java exception.
#[derive(Debug)]
pub(crate) enum Fail {
    /// A bad argument: `IllegalArgumentException`.
    Arg(String),
    /// A null where a value is needed: `NullPointerException`.
    Null(&'static str),
    /// A call on a closed object: `IllegalStateException`.
    State(&'static str),
    /// A JNI call failed (an exception may already be pending).
    Jni(Error),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Self::Jni(e)
    }
}

/// An argument error with its message.
pub(crate) fn arg(message: impl Into<String>) -> Fail {
    Fail::Arg(message.into())
}

/// Throws the Java exception for each failure, and `IllegalStateException`
/// for a panic: nothing unwinds into the JVM.
#[derive(Debug)]
pub(crate) struct Throw;

fn throw(env: &mut Env<'_>, class: &jni::strings::JNIStr, message: &str) {
    if env.exception_check() {
        return;
    }
    // `throw_new` reports `Err(JavaException)` once the exception is
    // pending: that is success here.
    let _ = env.throw_new(class, JNIString::from(message));
}

impl<T: Default> ErrorPolicy<T, Fail> for Throw {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        err: Fail,
    ) -> jni::errors::Result<T> {
        match err {
            Fail::Arg(m) => throw(env, jni_str!("java/lang/IllegalArgumentException"), &m),
            Fail::Null(what) => throw(env, jni_str!("java/lang/NullPointerException"), what),
            Fail::State(m) => throw(env, jni_str!("java/lang/IllegalStateException"), m),
            Fail::Jni(Error::NullPtr(what)) => throw(env, jni_str!("java/lang/NullPointerException"), what),
            Fail::Jni(e) => throw(env, jni_str!("java/lang/IllegalStateException"), &format!("JNI: {e}")),
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _cap: &mut Self::Captures<'unowned_env_local, 'native_method>,
        payload: Box<dyn core::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        throw(env, jni_str!("java/lang/IllegalStateException"), &format!("fanlic native code panicked: {what}"));
        Ok(T::default())
    }
}

/// Runs `f` with the JNI environment; a failure or a panic becomes a Java
/// exception and the native method returns `T::default()` (null, 0).
pub(crate) fn call<'local, T: Default + 'local>(
    mut env: EnvUnowned<'local>,
    f: impl FnOnce(&mut Env<'local>) -> Result<T, Fail>,
) -> T {
    env.with_env(f).resolve::<Throw>()
}

/// The bytes of a `byte[]` argument; null is a `NullPointerException`
/// naming it.
pub(crate) fn bytes(env: &Env<'_>, array: &JByteArray<'_>, name: &'static str) -> Result<Vec<u8>, Fail> {
    if array.is_null() {
        return Err(Fail::Null(name));
    }
    Ok(env.convert_byte_array(array)?)
}

/// A `byte[]` argument of exactly `N` bytes.
pub(crate) fn fixed<const N: usize>(env: &Env<'_>, array: &JByteArray<'_>, name: &'static str) -> Result<[u8; N], Fail> {
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

/// Most root keys a product embeds.
const MAX_ROOTS: usize = 8;

/// The root keys: one `byte[]` of 1 to 8 Ed25519 public keys of 32 bytes.
pub(crate) fn roots(env: &Env<'_>, array: &JByteArray<'_>) -> Result<Vec<RootKey>, Fail> {
    let all = bytes(env, array, "rootKeys")?;
    if all.is_empty() || all.len() % 32 != 0 || all.len() / 32 > MAX_ROOTS {
        return Err(arg(format!("root keys are 1 to {MAX_ROOTS} keys of 32 bytes, not {} bytes", all.len())));
    }
    all.chunks_exact(32)
        .enumerate()
        .map(|(i, k)| {
            let k: &[u8; 32] = k.try_into().map_err(|_| arg("root key is not 32 bytes"))?;
            RootKey::from_bytes(k).map_err(|e| arg(format!("root key {i}: {e}")))
        })
        .collect()
}

/// The Java `Environment`, its texts read as owned strings.
#[derive(Debug)]
pub(crate) struct OwnedEnv {
    app_name: String,
    version: String,
    project: String,
    nodes: u32,
    method: LicenseKind,
    now: Timestamp,
    last_seen: Option<Timestamp>,
}

/// What the Java side passes for an `Environment`: its texts as UTF-8,
/// `method` 1 (local container) or 2 (private cloud), `last_seen` -1 for none.
#[derive(Debug)]
pub(crate) struct EnvArgs<'a, 'local> {
    /// `appName`.
    pub app_name: &'a JByteArray<'local>,
    /// `version`.
    pub version: &'a JByteArray<'local>,
    /// `project`.
    pub project: &'a JByteArray<'local>,
    /// `nodes`.
    pub nodes: i32,
    /// `method`.
    pub method: i32,
    /// `now`.
    pub now: i64,
    /// `lastSeen`, -1 for none.
    pub last_seen: i64,
}

impl OwnedEnv {
    /// Reads the arguments.
    pub(crate) fn read(env: &Env<'_>, a: &EnvArgs<'_, '_>) -> Result<Self, Fail> {
        Ok(Self {
            app_name: text(env, a.app_name, "appName")?,
            version: text(env, a.version, "version")?,
            project: text(env, a.project, "project")?,
            nodes: u32::try_from(a.nodes).map_err(|_| arg(format!("nodes is negative: {}", a.nodes)))?,
            method: match a.method {
                1 => LicenseKind::LocalContainer,
                2 => LicenseKind::PrivateCloud,
                m => return Err(arg(format!("unknown method {m}"))),
            },
            now: time(a.now, "now")?,
            last_seen: if a.last_seen == -1 { None } else { Some(time(a.last_seen, "lastSeen")?) },
        })
    }

    /// The verifier's view of it.
    pub(crate) fn get(&self) -> Environment<'_> {
        Environment {
            app_name: &self.app_name,
            version: &self.version,
            project: &self.project,
            nodes: self.nodes,
            method: self.method,
            now: self.now,
            last_seen: self.last_seen,
        }
    }
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
