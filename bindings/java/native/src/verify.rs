//! The natives of `Verifier` (license verification, with or without a
//! revocation list) and of its revocation lists.
//!
//! One call per verification, marshalled cheaply: the root keys are parsed
//! once, when the `Verifier` is made, and kept behind a handle (a `Box`ed
//! `Vec<RootKey>` whose address Java holds as a `long`, freed by the
//! `Verifier`'s `Cleaner`); the answer is one `byte[]` that Java decodes
//! ([`encode`] writes it, `Result.java` reads it). The texts of the causes
//! (title, prompt, advice) are made only when Java asks for them, by
//! verifying again: verification is a pure function of its inputs, and a
//! product that only branches on the causes pays for no strings.

use jni::{
    Env, EnvUnowned,
    objects::{JByteArray, JClass, JObject, JObjectArray, JString},
    sys::{jboolean, jint, jlong},
};

use fanlic_formats::{ActivationPolicy, Expiry, License, LicenseKind, MAX_LICENSE_FILE_LEN, RevocationList};
use fanlic_verifier::{Cause, RevocationError, RootKey, Verified, verify_revocations, verify_with_revocations};

use crate::jvm::{self, OwnedEnvironment, Thrown, entry, illegal_argument};

/// The cause codes in SPEC.md §4.2's order: bit `i` of the answer's cause
/// mask is `CODES[i]`, and `Cause.java`'s constants are in the same order.
pub const CODES: [&str; 10] = [
    "license_expired",
    "version_mismatch",
    "app_name_mismatch",
    "license_exhausted",
    "project_content_mismatch",
    "license_type_mismatch",
    "not_yet_valid",
    "clock_rollback",
    "revoked",
    "content_incorrect",
];

/// The bit of a cause in the answer's mask.
fn bit(cause: &Cause<'_>) -> Result<u16, Thrown> {
    let code = cause.code();
    CODES
        .iter()
        .position(|c| *c == code)
        .map(|i| 1 << i)
        .ok_or_else(|| Thrown::IllegalState(format!("cause {code} is unknown to the Java binding")))
}

/// The root keys behind a handle from `newRoots`.
///
/// # Safety
/// `handle` must be 0 or a value `newRoots` returned that `freeRoots` has
/// not freed yet, and stays so for `'a`: the `Verifier` holding it keeps
/// itself reachable during each call (`Reference.reachabilityFence`), and
/// its `Cleaner` frees the handle once, after the last call.
unsafe fn roots<'a>(handle: jlong) -> Result<&'a [RootKey], Thrown> {
    let ptr = handle as usize as *const Vec<RootKey>;
    // SAFETY: the caller's promise: null or a live `Box<Vec<RootKey>>`,
    // only ever read after it was made.
    let keys = unsafe { ptr.as_ref() }.ok_or(Thrown::NullPointer("verifier root keys"))?;
    Ok(keys)
}

/// The verified revocation list, when Java passes one (the file's bytes):
/// checked again against this verifier's roots (no rollback check: the
/// product accepted it when it made the `RevocationList`).
fn revocations<'a>(list: Option<&'a [u8]>, roots: &[RootKey]) -> Result<Option<Verified<RevocationList<'a>>>, Thrown> {
    list.map(|l| {
        verify_revocations(l, roots, None).map_err(|e| {
            illegal_argument(format!("the revocation list does not verify against this verifier's root keys: {e}"))
        })
    })
    .transpose()
}

/// What one native verification reads from Java.
struct Inputs {
    license: Vec<u8>,
    env: OwnedEnvironment,
    list: Option<Vec<u8>>,
}

/// An `Environment` as `Verifier` passes it: in parts (see
/// [`jvm::environment_of`]).
struct EnvParts<'local> {
    app_name: JString<'local>,
    version: JString<'local>,
    project: JString<'local>,
    nodes: jint,
    method: jint,
    now: jlong,
    last_seen: jlong,
}

fn inputs(env: &Env<'_>, license: &JByteArray<'_>, e: &EnvParts<'_>, list: &JByteArray<'_>) -> Result<Inputs, Thrown> {
    let license = jvm::bytes(env, license, "license")?;
    let owned = jvm::environment_of(env, &e.app_name, &e.version, &e.project, e.nodes, e.method, e.now, e.last_seen)?;
    let list = if list.is_null() { None } else { Some(jvm::bytes(env, list, "revocations")?) };
    Ok(Inputs { license, env: owned, list })
}

/// Appends `s` as a u16 length (little-endian) and its UTF-8 bytes. License
/// texts are at most a few hundred bytes (SPEC.md §3.3), so they fit.
fn put_str(out: &mut Vec<u8>, s: &str) {
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes().get(..usize::from(len)).unwrap_or_default());
}

fn put_opt<const N: usize>(out: &mut Vec<u8>, v: Option<[u8; N]>) {
    match v {
        Some(b) => {
            out.push(1);
            out.extend_from_slice(&b);
        }
        None => out.push(0),
    }
}

/// The answer `Result.java` decodes, little-endian:
///
/// ```text
/// u8 valid | u16 cause mask | str content-error reason ("" if none)
/// u8 has license | license fields (see `License.java`'s decoder) when 1
/// ```
///
/// where `str` is a u16 byte length and UTF-8.
pub fn encode(causes: u16, content_error: &str, license: Option<&License<'_>>) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(u8::from(causes == 0));
    out.extend_from_slice(&causes.to_le_bytes());
    put_str(&mut out, content_error);
    let Some(l) = license else {
        out.push(0);
        return out;
    };
    out.push(1);
    out.extend_from_slice(&l.id.0);
    out.push(match l.kind {
        LicenseKind::LocalContainer => 0,
        _ => 1,
    });
    put_str(&mut out, l.app_name);
    put_str(&mut out, l.company);
    put_str(&mut out, l.project);
    let d = l.contract_signed;
    out.extend_from_slice(&d.year().to_le_bytes());
    out.extend_from_slice(&[d.month(), d.day()]);
    out.extend_from_slice(&l.issued_at.0.to_le_bytes());
    out.extend_from_slice(&l.not_before.0.to_le_bytes());
    match l.expiry {
        Expiry::On(d) => {
            out.push(1);
            out.extend_from_slice(&d.year().to_le_bytes());
            out.extend_from_slice(&[d.month(), d.day()]);
        }
        Expiry::Never => out.push(0),
    }
    out.extend_from_slice(&l.version.major.to_le_bytes());
    out.extend_from_slice(&l.version.minor.to_le_bytes());
    out.extend_from_slice(&l.max_nodes.to_le_bytes());
    match l.activation_base_url {
        Some(u) => {
            out.push(1);
            put_str(&mut out, u);
        }
        None => out.push(0),
    }
    put_opt(&mut out, l.supersedes.map(|s| s.0));
    put_opt(&mut out, l.image_public_key);
    put_opt(&mut out, l.request_email_sha256);
    out.push(u8::from(l.activation_key.is_some()));
    out.push(match l.activation_policy {
        ActivationPolicy::Code => 0,
        _ => 1,
    });
    out
}

/// Verifies and encodes, the work of one `Verifier.verify` call (also what
/// the benchmark's Rust loop is compared with).
pub fn verify_encoded(
    license: &[u8],
    roots: &[RootKey],
    env: &fanlic_verifier::Environment<'_>,
    list: Option<&Verified<RevocationList<'_>>>,
) -> Result<Vec<u8>, String> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    match verify_with_revocations(license, &mut buf, roots, env, list) {
        Ok(signed) => Ok(encode(0, "", Some(&signed.license))),
        Err(rejection) => {
            let mut mask = 0;
            let mut reason = "";
            for c in rejection.causes() {
                mask |= bit(c).map_err(|_| format!("cause {} is unknown to the Java binding", c.code()))?;
                if let Cause::ContentIncorrect(e) = c {
                    reason = e.reason();
                }
            }
            Ok(encode(mask, reason, rejection.license()))
        }
    }
}

/// `Verifier.newRoots(byte[][])`: the checked root keys behind a handle.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Verifier_newRoots<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    keys: JObjectArray<'local, JByteArray<'local>>,
) -> jlong {
    entry(env, |env| {
        let keys = jvm::roots(env, &keys)?;
        Ok(Box::into_raw(Box::new(keys)) as usize as jlong)
    })
}

/// `Verifier.freeRoots(long)`: frees a handle from `newRoots` (0: nothing).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Verifier_freeRoots<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    entry(env, |_| {
        let ptr = handle as usize as *mut Vec<RootKey>;
        if !ptr.is_null() {
            // SAFETY: `newRoots` made it with `Box::into_raw`, and the
            // `Verifier`'s `Cleaner` runs this once, when no call can use it.
            drop(unsafe { Box::from_raw(ptr) });
        }
        Ok(())
    })
}

/// `Verifier.verify(long, byte[], String appName, String version, String
/// project, int nodes, int method, long now, long lastSeen, byte[] list)`:
/// the encoded answer ([`encode`]); `lastSeen` is negative for none, `list`
/// the revocation list's file or null.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "the environment's fields, as JNI passes them")]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Verifier_verify<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    license: JByteArray<'local>,
    app_name: JString<'local>,
    version: JString<'local>,
    project: JString<'local>,
    nodes: jint,
    method: jint,
    now: jlong,
    last_seen: jlong,
    list: JByteArray<'local>,
) -> JByteArray<'local> {
    entry(env, |env| {
        // SAFETY: `Verifier` passes its own live handle (see `roots`).
        let roots = unsafe { roots(handle) }?;
        let parts = EnvParts { app_name, version, project, nodes, method, now, last_seen };
        let inputs = inputs(env, &license, &parts, &list)?;
        let list = revocations(inputs.list.as_deref(), roots)?;
        let answer = verify_encoded(&inputs.license, roots, &inputs.env.as_env(), list.as_ref())
            .map_err(Thrown::IllegalState)?;
        jvm::new_bytes(env, &answer)
    })
}

/// `Verifier.texts(long, byte[], Environment, byte[], int lang)`: title,
/// prompt and advice of each cause, in order, in the language: the texts
/// `fanlic verify` prints. Not on the hot path: the `Environment` record is
/// read as it is ([`jvm::environment`]).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Verifier_texts<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    license: JByteArray<'local>,
    record: JObject<'local>,
    list: JByteArray<'local>,
    lang: jint,
) -> JObjectArray<'local, JString<'local>> {
    entry(env, |env| {
        let lang = jvm::lang(lang)?;
        // SAFETY: `Verifier` passes its own live handle (see `roots`).
        let roots = unsafe { roots(handle) }?;
        let inputs = Inputs {
            license: jvm::bytes(env, &license, "license")?,
            env: jvm::environment(env, &record)?,
            list: if list.is_null() { None } else { Some(jvm::bytes(env, &list, "revocations")?) },
        };
        let list = revocations(inputs.list.as_deref(), roots)?;
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let texts: Vec<String> =
            match verify_with_revocations(&inputs.license, &mut buf, roots, &inputs.env.as_env(), list.as_ref()) {
                Ok(_) => Vec::new(),
                Err(rejection) => rejection
                    .causes()
                    .flat_map(|c| [c.title(lang).to_owned(), c.prompt(lang).to_string(), c.advice(lang).to_string()])
                    .collect(),
            };
        let array = JObjectArray::<JString>::new(env, texts.len(), JString::null())?;
        for (i, t) in texts.iter().enumerate() {
            let s = jvm::new_string(env, t)?;
            array.set_element(env, i, &s)?;
            env.delete_local_ref(s);
        }
        Ok(array)
    })
}

/// The reason code and message of a refused list.
fn refused(e: &RevocationError) -> Vec<u8> {
    let mut out = vec![0];
    put_str(&mut out, e.reason());
    put_str(&mut out, &e.to_string());
    out
}

/// `Verifier.verifyRevocations(long, byte[] list, boolean hasHighestSeen,
/// long highestSeen)`: `u8 1 | u64 sequence | u32 n | n × 16-byte license
/// id | u32 m | m × 8-byte key id` when the list is accepted, `u8 0 | str
/// reason | str message` when refused.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Verifier_verifyRevocations<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    list: JByteArray<'local>,
    has_highest_seen: jboolean,
    highest_seen: jlong,
) -> JByteArray<'local> {
    entry(env, |env| {
        // SAFETY: `Verifier` passes its own live handle (see `roots`).
        let roots = unsafe { roots(handle) }?;
        let list = jvm::bytes(env, &list, "list")?;
        let highest = if has_highest_seen {
            Some(u64::try_from(highest_seen).map_err(|_| illegal_argument("highestSeen must not be negative"))?)
        } else {
            None
        };
        let answer = match verify_revocations(&list, roots, highest) {
            Ok(l) => {
                let mut out = vec![1];
                out.extend_from_slice(&l.sequence().to_le_bytes());
                let ids = l.licenses();
                out.extend_from_slice(&u32::try_from(ids.len()).unwrap_or(u32::MAX).to_le_bytes());
                ids.for_each(|id| out.extend_from_slice(&id.0));
                let keys = l.issuing_keys();
                out.extend_from_slice(&u32::try_from(keys.len()).unwrap_or(u32::MAX).to_le_bytes());
                keys.for_each(|k| out.extend_from_slice(&k.0));
                out
            }
            Err(e) => refused(&e),
        };
        jvm::new_bytes(env, &answer)
    })
}
