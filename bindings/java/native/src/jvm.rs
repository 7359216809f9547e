//! The boundary with the JVM, written once for every JNI entry point:
//!
//! - [`entry`] runs an entry point's body with panics caught: a panic
//!   becomes a thrown `java.lang.IllegalStateException` and the method
//!   returns its type's default (which the JVM ignores, an exception being
//!   pending). Nothing unwinds into the JVM, which would abort the product.
//! - A body fails with a [`Thrown`]: the exception the Java caller sees
//!   (`IllegalArgumentException`, `NullPointerException`, ...), or a JNI
//!   failure whose Java exception is already pending.
//! - Conversions in ([`bytes`], [`string`], [`roots`], [`environment`] and
//!   [`environment_of`],
//!   [`lang`]) refuse null and impossible values with a message naming the
//!   argument; conversions out ([`new_bytes`], [`new_string`]) copy.
//!
//! The JNI layer allocates (Java strings, the copies of arrays); the
//! verifier it calls does not.

use jni::{
    Env, EnvUnowned,
    errors::{Error, ErrorPolicy},
    jni_sig, jni_str,
    objects::{JByteArray, JClass, JObject, JObjectArray, JString},
    strings::{JNIStr, JNIString},
    sys::{jint, jlong},
};

use fanlic_formats::{LicenseKind, Timestamp};
use fanlic_verifier::{Environment, Lang, RootKey};

/// Why an entry point stops: the Java exception it throws.
#[derive(Debug)]
#[non_exhaustive]
pub(crate) enum Thrown {
    /// `java.lang.IllegalArgumentException`: a value out of range.
    IllegalArgument(String),
    /// `java.lang.NullPointerException`: a required argument is null; the
    /// message names it.
    NullPointer(&'static str),
    /// `java.lang.IllegalStateException`: a state that does not allow the
    /// call, or a bug caught at the boundary.
    IllegalState(String),
    /// A JNI call failed. When it left a Java exception pending (a
    /// `OutOfMemoryError`, an exception thrown by a called method), that one
    /// propagates; otherwise an `IllegalStateException` says which.
    Jni(Error),
}

impl From<Error> for Thrown {
    fn from(e: Error) -> Self {
        Self::Jni(e)
    }
}

/// A Java `IllegalArgumentException` with this message.
pub(crate) fn illegal_argument(message: impl Into<String>) -> Thrown {
    Thrown::IllegalArgument(message.into())
}

/// The [`ErrorPolicy`] of every entry point: [`Thrown`] and panics become
/// Java exceptions, and the method returns `T::default()`.
#[derive(Debug)]
struct ThrowJava;

fn throw(env: &mut Env<'_>, class: &'static str, message: &str) -> jni::errors::Result<()> {
    if env.exception_check() {
        // One exception at a time: the one already pending says more.
        return Ok(());
    }
    env.throw_new(JNIString::from(class), JNIString::from(message))
}

impl<T: Default> ErrorPolicy<T, Thrown> for ThrowJava {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _: &mut (),
        err: Thrown,
    ) -> jni::errors::Result<T> {
        match err {
            Thrown::IllegalArgument(m) => throw(env, "java/lang/IllegalArgumentException", &m)?,
            Thrown::NullPointer(what) => throw(env, "java/lang/NullPointerException", what)?,
            Thrown::IllegalState(m) => throw(env, "java/lang/IllegalStateException", &m)?,
            Thrown::Jni(Error::JavaException) => {}
            Thrown::Jni(Error::NullPtr(what)) => throw(env, "java/lang/NullPointerException", what)?,
            Thrown::Jni(e) => throw(env, "java/lang/IllegalStateException", &format!("JNI call failed: {e}"))?,
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _: &mut (),
        payload: Box<dyn core::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        throw(
            env,
            "java/lang/IllegalStateException",
            &format!("bug in the fanlic native library (please report): {what}"),
        )?;
        Ok(T::default())
    }
}

/// Runs the body of a JNI entry point: a [`Thrown`] or a panic becomes a
/// Java exception (see the module's documentation), the return value is
/// `T::default()` then. Every `Java_…` function is `entry(env, |env| …)`.
pub(crate) fn entry<'local, T: Default>(
    mut unowned: EnvUnowned<'local>,
    body: impl FnOnce(&mut Env<'local>) -> Result<T, Thrown>,
) -> T {
    unowned.with_env(body).resolve::<ThrowJava>()
}

/// The bytes of a Java `byte[]`, copied; `what` names the argument when it is null.
pub(crate) fn bytes(env: &Env<'_>, array: &JByteArray<'_>, what: &'static str) -> Result<Vec<u8>, Thrown> {
    if array.is_null() {
        return Err(Thrown::NullPointer(what));
    }
    Ok(env.convert_byte_array(array)?)
}

/// The text of a Java `String`; `what` names the argument when it is null.
pub(crate) fn string(env: &Env<'_>, s: &JString<'_>, what: &'static str) -> Result<String, Thrown> {
    if s.is_null() {
        return Err(Thrown::NullPointer(what));
    }
    Ok(s.try_to_string(env)?)
}

/// A new Java `byte[]` holding `b`.
pub(crate) fn new_bytes<'local>(env: &mut Env<'local>, b: &[u8]) -> Result<JByteArray<'local>, Thrown> {
    Ok(env.byte_array_from_slice(b)?)
}

/// A new Java `String` holding `s`.
pub(crate) fn new_string<'local>(env: &mut Env<'local>, s: &str) -> Result<JString<'local>, Thrown> {
    Ok(env.new_string(s)?)
}

/// The most root keys one call takes, as in the C ABI: a product embeds one
/// or two (a rotation).
pub(crate) const MAX_ROOT_KEYS: usize = 8;

/// A Java `byte[][]` of root public keys (32 bytes each, 1 to
/// [`MAX_ROOT_KEYS`]), checked: null → `NullPointerException`; none, too
/// many, a wrong length or a point that is no Ed25519 public key →
/// `IllegalArgumentException` naming the key's index.
pub(crate) fn roots(env: &mut Env<'_>, keys: &JObjectArray<'_, JByteArray<'_>>) -> Result<Vec<RootKey>, Thrown> {
    if keys.is_null() {
        return Err(Thrown::NullPointer("rootKeys"));
    }
    let count = keys.len(env)?;
    if count == 0 || count > MAX_ROOT_KEYS {
        return Err(illegal_argument(format!("between 1 and {MAX_ROOT_KEYS} root keys, not {count}")));
    }
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let key = keys.get_element(env, i)?;
        if key.is_null() {
            return Err(Thrown::NullPointer("rootKeys[i]"));
        }
        let raw = env.convert_byte_array(&key)?;
        let raw: [u8; 32] = raw
            .try_into()
            .map_err(|b: Vec<u8>| illegal_argument(format!("root key {i} has {} bytes, not 32", b.len())))?;
        out.push(
            RootKey::from_bytes(&raw)
                .map_err(|_| illegal_argument(format!("root key {i} is not an Ed25519 public key")))?,
        );
    }
    Ok(out)
}

/// A Java `Lang` (its ordinal: `EN` = 0, `ZH_CN` = 1).
pub(crate) fn lang(ordinal: jint) -> Result<Lang, Thrown> {
    match ordinal {
        0 => Ok(Lang::En),
        1 => Ok(Lang::ZhCn),
        _ => Err(illegal_argument(format!("unknown Lang ordinal {ordinal}"))),
    }
}

/// An `Environment` read from Java, owning its text; [`Self::as_env`] is
/// what the verifier takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OwnedEnvironment {
    app_name: String,
    version: String,
    project: String,
    nodes: u32,
    method: LicenseKind,
    now: Timestamp,
    last_seen: Option<Timestamp>,
}

impl OwnedEnvironment {
    /// The verifier's view.
    pub(crate) fn as_env(&self) -> Environment<'_> {
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

/// An `Environment` that Java passed in parts, the cheap way (no field or
/// method lookups: `Verifier.verify`'s hot path): the three texts, the node
/// count, the method's ordinal, and Unix seconds (`last_seen` negative: none).
#[allow(clippy::too_many_arguments, reason = "the record's fields, as JNI passes them")]
pub(crate) fn environment_of(
    env: &Env<'_>,
    app_name: &JString<'_>,
    version: &JString<'_>,
    project: &JString<'_>,
    nodes: jint,
    method: jint,
    now: jlong,
    last_seen: jlong,
) -> Result<OwnedEnvironment, Thrown> {
    let method = match method {
        0 => LicenseKind::LocalContainer,
        1 => LicenseKind::PrivateCloud,
        other => return Err(illegal_argument(format!("unknown Environment.Method ordinal {other}"))),
    };
    Ok(OwnedEnvironment {
        app_name: string(env, app_name, "env.appName")?,
        version: string(env, version, "env.version")?,
        project: string(env, project, "env.project")?,
        nodes: u32::try_from(nodes).map_err(|_| illegal_argument(format!("nodes must not be negative: {nodes}")))?,
        method,
        now: Timestamp(
            u64::try_from(now)
                .map_err(|_| illegal_argument(format!("env.now is before 1970-01-01T00:00:00Z: {now} s")))?,
        ),
        last_seen: u64::try_from(last_seen).ok().map(Timestamp),
    })
}

/// Seconds since the Unix epoch of a `java.time.Instant`; before the epoch
/// is refused (the verifier's times are unsigned).
fn epoch_seconds(env: &mut Env<'_>, instant: &JObject<'_>, what: &str) -> Result<Timestamp, Thrown> {
    let secs = env.call_method(instant, jni_str!("getEpochSecond"), jni_sig!("()J"), &[])?.j()?;
    u64::try_from(secs)
        .map(Timestamp)
        .map_err(|_| illegal_argument(format!("{what} is before 1970-01-01T00:00:00Z: {secs} s")))
}

/// A `String` field of `record`.
fn text_field(env: &mut Env<'_>, record: &JObject<'_>, name: &JNIStr, what: &'static str) -> Result<String, Thrown> {
    let field = env.get_field(record, name, jni_sig!(java.lang.String))?.l()?;
    let s = env.cast_local::<JString>(field)?;
    string(env, &s, what)
}

/// Reads a `com.fanruan.fanlic.verifier.Environment` record (its fields:
/// the record's constructor has already refused null fields and negative
/// node counts). Null → `NullPointerException("env")`.
pub(crate) fn environment(env: &mut Env<'_>, record: &JObject<'_>) -> Result<OwnedEnvironment, Thrown> {
    if record.is_null() {
        return Err(Thrown::NullPointer("env"));
    }
    let app_name = text_field(env, record, jni_str!("appName"), "env.appName")?;
    let version = text_field(env, record, jni_str!("version"), "env.version")?;
    let project = text_field(env, record, jni_str!("project"), "env.project")?;
    let nodes = env.get_field(record, jni_str!("nodes"), jni_sig!(jint))?.i()?;
    let nodes = u32::try_from(nodes).map_err(|_| illegal_argument(format!("nodes must not be negative: {nodes}")))?;
    let method =
        env.get_field(record, jni_str!("method"), jni_sig!("Lcom/fanruan/fanlic/verifier/Environment$Method;"))?.l()?;
    if method.is_null() {
        return Err(Thrown::NullPointer("env.method"));
    }
    let method = match env.call_method(&method, jni_str!("ordinal"), jni_sig!("()I"), &[])?.i()? {
        0 => LicenseKind::LocalContainer,
        1 => LicenseKind::PrivateCloud,
        other => return Err(illegal_argument(format!("unknown Environment.Method ordinal {other}"))),
    };
    let now = env.get_field(record, jni_str!("now"), jni_sig!(java.time.Instant))?.l()?;
    if now.is_null() {
        return Err(Thrown::NullPointer("env.now"));
    }
    let now = epoch_seconds(env, &now, "env.now")?;
    let last_seen = env.get_field(record, jni_str!("lastSeen"), jni_sig!(java.time.Instant))?.l()?;
    let last_seen = if last_seen.is_null() { None } else { Some(epoch_seconds(env, &last_seen, "env.lastSeen")?) };
    Ok(OwnedEnvironment { app_name, version, project, nodes, method, now, last_seen })
}

/// `NativeLibrary.boundaryCheck(int what, String text)`: the boundary's own
/// test (see the Java side): 0 returns `text` as it came, 1 panics, 2 and 3
/// throw `IllegalArgumentException` and `NullPointerException`.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_NativeLibrary_boundaryCheck<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    what: jint,
    text: JString<'local>,
) -> JString<'local> {
    entry(env, |env| {
        let text = string(env, &text, "text")?;
        match what {
            0 => new_string(env, &text),
            #[allow(clippy::panic, reason = "the test of the panic guard")]
            1 => panic!("boundary check: {text}"),
            2 => Err(illegal_argument(format!("boundary check: {text}"))),
            _ => Err(Thrown::NullPointer("boundary check")),
        }
    })
}
