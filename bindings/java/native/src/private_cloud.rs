//! JNI functions of `ApplicationClient`, `TlsBinding` and `PrivateConfig`
//! (SPEC.md §7): the product's client of its authorization server, the
//! check that ties the server's TLS key to its instance key, and
//! `privateConfig` verification.
//!
//! The client's state lives in Rust, behind a handle: a `Box`ed
//! [`ClientHandle`] whose address the Java object keeps as a `long`. The Java
//! side frees it once (`close()` or its `Cleaner`, which runs at most once)
//! and calls in under its own lock, never after freeing: so every call here
//! has the handle to itself.

use fanlic_formats::{
    LicenseId, Timestamp,
    private_cloud::{AnswerKind, PrivateConfig},
};
use fanlic_verifier::{
    Verified,
    private_cloud::{
        BoundTlsKey, Client, JoinSecret, Next, PrivateConfigError, RequestKey, Status, TlsBindingError,
        verify_private_config, verify_tls_binding,
    },
};
use jni::{
    EnvUnowned,
    objects::{JByteArray, JClass, JObject, JObjectArray},
    sys::{jint, jlong},
};

use crate::activation::wire::{self, Fail, Out, arg, bytes, call, fixed, opt_fixed, roots, state, text, time};

/// What an `ApplicationClient` handle points to.
#[derive(Debug)]
pub struct ClientHandle {
    client: Client,
    key: RequestKey,
}

/// The handle's client, for the length of one call.
fn client<'h>(handle: jlong) -> Result<&'h mut ClientHandle, Fail> {
    if handle == 0 {
        return Err(state("the ApplicationClient is closed"));
    }
    // SAFETY: a non-zero handle is the address `nativeNew` returned from
    // `Box::into_raw`, not yet given to `nativeFree`: the Java object zeroes
    // its copy before freeing, under the same lock that every call holds, so
    // the box is alive and no other call borrows it during this one.
    Ok(unsafe { &mut *(handle as *mut ClientHandle) })
}

/// `ApplicationClient.nativeNew(byte[] nodeId, byte[] joinSecret, byte[]
/// pinnedInstanceKey)`: a client that has not registered; the join secret is
/// its 64 hexadecimal digits as UTF-8.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeNew<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    node_id: JByteArray<'local>,
    join_secret: JByteArray<'local>,
    pinned: JByteArray<'local>,
) -> jlong {
    call(env, |env| {
        let node_id = fixed::<16>(env, &node_id, "nodeId")?;
        let secret = JoinSecret::parse(&text(env, &join_secret, "joinSecret")?).map_err(|e| arg(e.to_string()))?;
        let client = match opt_fixed::<32>(env, &pinned, "pinnedInstanceKey")? {
            Some(key) => Client::with_pinned_instance_key(node_id, key),
            None => Client::new(node_id),
        };
        let handle = Box::new(ClientHandle { client, key: secret.request_key() });
        Ok(Box::into_raw(handle) as jlong)
    })
}

/// `ApplicationClient.nativeFree(long handle)`: frees the client (0: nothing).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeFree<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) {
    call(env, |_| {
        if handle != 0 {
            // SAFETY: `handle` came from `Box::into_raw` in `nativeNew`, and
            // the Java side frees each handle once (a `Cleaner` action runs at
            // most once, and `close()` goes through it).
            drop(unsafe { Box::from_raw(handle as *mut ClientHandle) });
        }
        Ok(())
    })
}

/// `nativeNext(long handle, long now)`: kind (register 0, heartbeat 1,
/// wait 2, registration failed 3) and its time.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeNext<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let now = time(now, "now")?;
        let (kind, at) = match client(handle)?.client.next(now) {
            Next::Register => (0, None),
            Next::Heartbeat => (1, None),
            Next::Wait { until } => (2, Some(until)),
            Next::RegistrationFailed { since } => (3, Some(since)),
            _ => return Err(state("a next step this binding does not know")),
        };
        Out::new().u8(kind).time(at).finish(env)
    })
}

fn answer_kind(kind: jint) -> Result<AnswerKind, Fail> {
    match kind {
        0 => Ok(AnswerKind::Registered),
        1 => Ok(AnswerKind::Heartbeat),
        2 => Ok(AnswerKind::Deregistered),
        k => Err(arg(format!("unknown request kind {k}"))),
    }
}

/// `nativeRequest(long handle, int kind, byte[] nonce, byte[] body, long
/// now)`: remembers the request as outstanding; returns its path and the
/// `Authorization` value for `body` under the join secret.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeRequest<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    kind: jint,
    nonce: JByteArray<'local>,
    body: JByteArray<'local>,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let kind = answer_kind(kind)?;
        let nonce = fixed::<16>(env, &nonce, "nonce")?;
        let body = bytes(env, &body, "body")?;
        let now = time(now, "now")?;
        let h = client(handle)?;
        let request = h.client.request(kind, nonce, now);
        let auth = request.authorization(&h.key, &body, now);
        Out::new().text(request.path()).text(auth.as_str()).finish(env)
    })
}

fn status(out: Out, s: Status) -> Result<Out, Fail> {
    Ok(match s {
        Status::NotRegistered => out.u8(0).time(None).u64(0),
        Status::Registered { valid_until, nodes } => out.u8(1).time(Some(valid_until)).u64(u64::from(nodes)),
        Status::Failed { since } => out.u8(2).time(Some(since)).u64(0),
        Status::Deregistered => out.u8(3).time(None).u64(0),
        _ => return Err(state("a registration status this binding does not know")),
    })
}

/// `nativeOnAnswer(long handle, byte[] answer, byte[] roots, <environment>)`:
/// accepted (0, then the status) or refused (1, then every cause's code and
/// message, in order).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one JNI argument per Java parameter")]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeOnAnswer<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    answer: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
    environment: JObject<'local>,
) -> JByteArray<'local> {
    call(env, |env| {
        let answer = bytes(env, &answer, "answer")?;
        let roots = roots(env, &root_keys)?;
        let product = wire::environment(env, &environment)?;
        let out = match client(handle)?.client.on_answer(&answer, &roots, &product.as_env()) {
            Ok(s) => status(Out::new().u8(0), s)?,
            Err(rejection) => {
                let mut out = Out::new().u8(1).u64(rejection.causes().count() as u64);
                for c in rejection.causes() {
                    out = out.text(c.code()).text(&c.to_string());
                }
                out
            }
        };
        out.finish(env)
    })
}

fn tls_result(out: Out, r: Result<Verified<BoundTlsKey>, TlsBindingError>) -> Out {
    match r {
        Ok(b) => out.u8(0).bytes(&b.license_id.0).bytes(&b.instance_public_key).bytes(&b.spki_sha256),
        Err(e) => out.u8(1).text(e.code()).text(&e.to_string()),
    }
}

/// `nativeOnTlsBinding(long handle, byte[] binding, byte[] spkiSha256,
/// byte[] roots)`: bound (0, license id, instance key, SPKI hash) or refused
/// (1, code, message); accepted, the client pins the instance key.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeOnTlsBinding<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    binding: JByteArray<'local>,
    spki_sha256: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
) -> JByteArray<'local> {
    call(env, |env| {
        let binding = bytes(env, &binding, "binding")?;
        let spki = fixed::<32>(env, &spki_sha256, "connectionSpkiSha256")?;
        let roots = roots(env, &root_keys)?;
        let r = client(handle)?.client.on_tls_binding(&binding, &roots, &spki);
        tls_result(Out::new(), r).finish(env)
    })
}

/// `nativeOnFailure(long handle, long now)`: no answer; retry in 300 s.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeOnFailure<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    now: jlong,
) {
    call(env, |_| {
        let now = time(now, "now")?;
        client(handle)?.client.on_failure(now);
        Ok(())
    })
}

/// `nativeStatus(long handle, long now)`: kind (not registered 0,
/// registered 1, failed 2, deregistered 3), its time, the node count.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativeStatus<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let now = time(now, "now")?;
        let s = client(handle)?.client.status(now);
        status(Out::new(), s)?.finish(env)
    })
}

/// `nativePinned(long handle)`: the pinned instance key, or no bytes.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_ApplicationClient_nativePinned<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    handle: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let pinned = client(handle)?.client.pinned_instance_key().copied();
        Out::new().bytes(pinned.as_ref().map_or(&[][..], |k| &k[..])).finish(env)
    })
}

/// `TlsBinding.nativeVerify(byte[] binding, byte[] roots, byte[]
/// pinnedInstanceKey, byte[] spkiSha256)`: SPEC.md §7.7 without a client.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_TlsBinding_nativeVerify<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    binding: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
    pinned: JByteArray<'local>,
    spki_sha256: JByteArray<'local>,
) -> JByteArray<'local> {
    call(env, |env| {
        let binding = bytes(env, &binding, "binding")?;
        let roots = roots(env, &root_keys)?;
        let pinned = opt_fixed::<32>(env, &pinned, "pinnedInstanceKey")?;
        let spki = fixed::<32>(env, &spki_sha256, "connectionSpkiSha256")?;
        tls_result(Out::new(), verify_tls_binding(&binding, &roots, pinned.as_ref(), &spki)).finish(env)
    })
}

fn config_result(out: Out, r: Result<Verified<PrivateConfig>, PrivateConfigError>) -> Out {
    match r {
        Ok(c) => {
            let mut out = out
                .u8(0)
                .bytes(&c.license_id().0)
                .bytes(c.instance_public_key())
                .u64(c.generation())
                .time(c.activated_at())
                .bytes(&c.log_head())
                .u64(c.events().len() as u64)
                .u64(c.nodes().len() as u64);
            for n in c.nodes() {
                out = out.bytes(&n.node_id).time(Some(Timestamp(n.registered_at))).time(Some(Timestamp(n.last_seen)));
            }
            out
        }
        Err(e) => out.u8(1).text(e.reason()).text(&e.to_string()),
    }
}

/// `PrivateConfig.nativeVerify(byte[] file, byte[] imagePublicKey, byte[]
/// licenseId)`: SPEC.md §7.4; valid (0, its fields) or refused (1, reason,
/// message).
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_PrivateConfig_nativeVerify<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    file: JByteArray<'local>,
    image_public_key: JByteArray<'local>,
    license_id: JByteArray<'local>,
) -> JByteArray<'local> {
    call(env, |env| {
        let file = bytes(env, &file, "file")?;
        let image = fixed::<32>(env, &image_public_key, "imagePublicKey")?;
        let id = LicenseId(fixed::<16>(env, &license_id, "licenseId")?);
        config_result(Out::new(), verify_private_config(&file, &image, &id)).finish(env)
    })
}
