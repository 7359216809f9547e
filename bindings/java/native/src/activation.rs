//! JNI functions of `Activation` and `Receipt` (SPEC.md §6.1, §6.2, §6.4):
//! the code-entry state machine, whose 64-byte saved state (SPEC.md §6.2,
//! "Saved state") lives in the Java object and is passed to every call, and
//! the activation receipt check.
//!
//! The state is checked strictly on every call (`Activation::from_bytes`):
//! a Java caller cannot make the machine read bytes it did not write. A
//! product's challenge gets its activation key only from a license that
//! verifies, here, against the root keys and the product's environment; the
//! one entry that takes a raw key serves the specification's vectors, from a
//! package-private Java method.

pub(crate) mod wire;

use fanlic_formats::{ActivationPolicy, MAX_LICENSE_FILE_LEN, Timestamp, armor, receipt::MAX_RECEIPT_FILE_LEN};
use fanlic_verifier::{
    RootKey, Verified,
    activation::{
        Activation, ActivationKey, ChallengeInput, CodeError, STATE_LEN, Status, make_challenge, project_fingerprint,
    },
    authenticate_raw,
    receipt::{AcceptedReceipt, Expect, ReceiptRejection, sha256, verify_receipt},
};
use jni::{
    Env, EnvUnowned,
    objects::{JByteArray, JClass, JObject, JObjectArray},
    sys::jlong,
};

use wire::{Fail, Out, arg, bytes, call, fixed, opt_fixed, roots, text, time, write_back};

/// The saved state the Java object holds.
fn load(env: &Env<'_>, state: &JByteArray<'_>) -> Result<Activation, Fail> {
    let b = fixed::<STATE_LEN>(env, state, "state")?;
    Activation::from_bytes(&b).map_err(|e| arg(e.to_string()))
}

/// The raw (unarmored) license file.
fn unarmored(file: &[u8]) -> Result<Vec<u8>, Fail> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::unarmor(file, &mut buf).map_err(|e| arg(format!("the license does not decode: {e}")))?;
    Ok(raw.to_vec())
}

/// `Activation.nativeCheck(byte[] state)`: throws `IllegalArgumentException`
/// unless the bytes are a saved state.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeCheck<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
) {
    call(env, |env| load(env, &state).map(drop))
}

/// `Activation.nativeChallenge(...)`: verifies the license against the root
/// keys and the environment, makes a challenge with its activation key (or,
/// under receipt policy, its challenge key), shows it in the state, and
/// returns token, URL, issue time, receipt policy and the token's SHA-256.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one JNI argument per Java parameter")]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeChallenge<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
    license: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
    environment: JObject<'local>,
    nonce: JByteArray<'local>,
    node_id: JByteArray<'local>,
    deployment_id: JByteArray<'local>,
) -> JByteArray<'local> {
    call(env, |env| {
        let mut machine = load(env, &state)?;
        let file = bytes(env, &license, "license")?;
        let roots = roots(env, &root_keys)?;
        let product = wire::environment(env, &environment)?;
        let nonce = fixed::<16>(env, &nonce, "nonce")?;
        let node_id = fixed::<16>(env, &node_id, "nodeId")?;
        let deployment_id = bytes(env, &deployment_id, "deploymentId")?;
        let e = product.as_env();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let verified = fanlic_verifier::verify(&file, &mut buf, &roots, &e)
            .map_err(|r| arg(format!("the license does not verify, no challenge is made: {r}")))?;
        let l = verified.license;
        let (Some(key), Some(base_url)) = (l.activation_key, l.activation_base_url) else {
            return Err(arg(format!("license {} has no activation key: it needs no activation", l.id)));
        };
        let fingerprint = project_fingerprint(e.app_name, e.project, &deployment_id)
            .map_err(|err| arg(format!("cannot make the project fingerprint: {err}")))?;
        let input = ChallengeInput {
            nonce,
            node_id,
            project_fingerprint: fingerprint,
            nodes: e.nodes,
            app_version: e.version,
            now: e.now,
            server: None,
        };
        let challenge = make_challenge(l.id, &ActivationKey::from_bytes(key), &input)
            .map_err(|err| arg(format!("cannot make the challenge: {err}")))?;
        let by_receipt = l.activation_policy == ActivationPolicy::Receipt;
        if by_receipt {
            machine.set_receipt_challenge(&challenge);
        } else {
            machine.set_challenge(&challenge);
        }
        let mut url = String::new();
        challenge.write_url(base_url, &mut url).map_err(|_| arg("cannot write the activation URL"))?;
        write_back(env, &state, &machine.to_bytes())?;
        Out::new()
            .bytes(challenge.token())
            .text(&url)
            .time(Some(challenge.issued_at()))
            .u8(u8::from(by_receipt))
            .bytes(&challenge.token_sha256())
            .bytes(&l.id.0)
            .finish(env)
    })
}

/// `Activation.nativeChallengeWithKey(...)`: a challenge from a raw
/// license id and activation key, shown in the state. Only the
/// specification's vectors (fixtures/activation/vectors.json) use it, through
/// a package-private Java method: a product's key comes from a verified
/// license ([`Java_com_fanruan_fanlic_verifier_Activation_nativeChallenge`]).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one JNI argument per Java parameter")]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeChallengeWithKey<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
    license_id: JByteArray<'local>,
    activation_key: JByteArray<'local>,
    base_url: JByteArray<'local>,
    app_name: JByteArray<'local>,
    project: JByteArray<'local>,
    deployment_id: JByteArray<'local>,
    nodes: jni::sys::jint,
    version: JByteArray<'local>,
    now: jlong,
    nonce: JByteArray<'local>,
    node_id: JByteArray<'local>,
    instance_fingerprint: JByteArray<'local>,
    generation: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let mut machine = load(env, &state)?;
        let id = fanlic_formats::LicenseId(fixed::<16>(env, &license_id, "licenseId")?);
        let key = ActivationKey::from_bytes(fixed::<32>(env, &activation_key, "activationKey")?);
        let base_url = text(env, &base_url, "baseUrl")?;
        let app_name = text(env, &app_name, "appName")?;
        let project = text(env, &project, "project")?;
        let version = text(env, &version, "version")?;
        let deployment_id = bytes(env, &deployment_id, "deploymentId")?;
        let server = opt_fixed::<32>(env, &instance_fingerprint, "instanceFingerprint")?.map(|instance_fingerprint| {
            fanlic_formats::activation::ServerInstance { instance_fingerprint, generation: generation as u64 }
        });
        let input = ChallengeInput {
            nonce: fixed::<16>(env, &nonce, "nonce")?,
            node_id: fixed::<16>(env, &node_id, "nodeId")?,
            project_fingerprint: project_fingerprint(&app_name, &project, &deployment_id)
                .map_err(|err| arg(format!("cannot make the project fingerprint: {err}")))?,
            nodes: u32::try_from(nodes).map_err(|_| arg("nodes is negative"))?,
            app_version: &version,
            now: time(now, "now")?,
            server,
        };
        let challenge =
            make_challenge(id, &key, &input).map_err(|err| arg(format!("cannot make the challenge: {err}")))?;
        machine.set_challenge(&challenge);
        let mut url = String::new();
        challenge.write_url(&base_url, &mut url).map_err(|_| arg("cannot write the activation URL"))?;
        write_back(env, &state, &machine.to_bytes())?;
        Out::new()
            .bytes(challenge.token())
            .text(&url)
            .time(Some(challenge.issued_at()))
            .u8(0)
            .bytes(&challenge.token_sha256())
            .bytes(&id.0)
            .finish(env)
    })
}

/// Kinds of `EnterResult` (`Activation.java` decodes them).
const ENTER_ACCEPTED: u8 = 0;

fn code_error(e: &CodeError) -> Result<(u8, u64), Fail> {
    Ok(match *e {
        CodeError::NoChallenge => (1, 0),
        CodeError::NotSixDigits => (2, 0),
        CodeError::ChallengeExpired { issued_at, .. } => (3, issued_at.0),
        CodeError::Locked { until, .. } => (4, until.0),
        CodeError::WrongCode { remaining } => (5, u64::from(remaining)),
        CodeError::ReceiptRequired => (6, 0),
        _ => return Err(wire::state("a code result this binding does not know")),
    })
}

/// `Activation.nativeEnter(byte[] state, byte[] typed, long now)`: checks a
/// typed code; returns kind, value and message, and saves the new state.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeEnter<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
    typed: JByteArray<'local>,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let mut machine = load(env, &state)?;
        let typed = text(env, &typed, "typed")?;
        let now = time(now, "now")?;
        let out = match machine.enter(&typed, now) {
            Ok(at) => Out::new().u8(ENTER_ACCEPTED).u64(at.0).text("activated"),
            Err(e) => {
                let (kind, value) = code_error(&e)?;
                Out::new().u8(kind).u64(value).text(&e.to_string())
            }
        };
        write_back(env, &state, &machine.to_bytes())?;
        out.finish(env)
    })
}

/// `Activation.nativeStatus(byte[] state, long now)`: kind and its time.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeStatus<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let machine = load(env, &state)?;
        let (kind, at) = match machine.status(time(now, "now")?) {
            Status::NotActivated => (0, None),
            Status::AwaitingCode { expires_at } => (1, Some(expires_at)),
            Status::Locked { until } => (2, Some(until)),
            Status::Activated { at } => (3, Some(at)),
            _ => return Err(wire::state("an activation status this binding does not know")),
        };
        Out::new().u8(kind).time(at).finish(env)
    })
}

/// `Activation.nativeRestart(byte[] state)`: all nodes restarted.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeRestart<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
) {
    call(env, |env| {
        let mut machine = load(env, &state)?;
        machine.restart();
        write_back(env, &state, &machine.to_bytes())
    })
}

/// Kinds of `ReceiptResult` (`Receipt.java` decodes them).
const RECEIPT_ACCEPTED: u8 = 0;
const RECEIPT_REFUSED: u8 = 1;
const RECEIPT_NO_CHALLENGE: u8 = 2;
const RECEIPT_CHALLENGE_EXPIRED: u8 = 3;

fn accepted_receipt(out: Out, a: &Verified<AcceptedReceipt<'_>>, activated_at: Option<Timestamp>) -> Out {
    let r = &a.receipt;
    out.u8(RECEIPT_ACCEPTED)
        .time(activated_at)
        .bytes(&a.id)
        .bytes(&a.key_id.0)
        .bytes(&r.license_id.0)
        .time(Some(r.vendor_time))
        .time(r.lease_until)
        .u64(u64::from(r.max_nodes))
        .bytes(r.instance_public_key.as_ref().map_or(&[][..], |k| &k[..]))
        .bytes(r.previous_receipt.as_ref().map_or(&[][..], |k| &k[..]))
        .time(a.revocations.as_ref().map(|l| Timestamp(l.sequence())))
}

/// Every cause of a refusal: count, then code and message of each.
fn refused_receipt(out: Out, r: &ReceiptRejection) -> Out {
    let mut out = out.u8(RECEIPT_REFUSED).u64(r.causes().count() as u64);
    for c in r.causes() {
        out = out.text(c.code()).text(&c.to_string());
    }
    out
}

/// The license a receipt is checked against: authentic under the roots.
struct Licensed {
    raw: Vec<u8>,
    roots: Vec<RootKey>,
}

impl Licensed {
    fn read(
        env: &mut Env<'_>,
        license: &JByteArray<'_>,
        root_keys: &JObjectArray<'_, JByteArray<'_>>,
    ) -> Result<Self, Fail> {
        let raw = unarmored(&bytes(env, license, "license")?)?;
        Ok(Self { raw, roots: roots(env, root_keys)? })
    }

    fn authentic(&self) -> Result<fanlic_verifier::SignedLicense<'_>, Fail> {
        authenticate_raw(&self.raw, &self.roots)
            .map_err(|e| arg(format!("the license is not authentic under these root keys: {e}")))
    }

    /// Checks `receipt` against this license and the rest of `expect`.
    #[allow(clippy::too_many_arguments, reason = "the receipt rules' inputs")]
    fn verify<'a>(
        &self,
        receipt: &'a [u8],
        buf: &'a mut [u8],
        challenge_sha256: Option<[u8; 32]>,
        instance_public_key: Option<[u8; 32]>,
        previous_receipt: Option<Option<[u8; 32]>>,
        now: Timestamp,
    ) -> Result<Result<Verified<AcceptedReceipt<'a>>, ReceiptRejection>, Fail> {
        let signed = self.authentic()?;
        let expect = Expect {
            license: &signed.license,
            license_sha256: sha256(&self.raw),
            issuing_key_id: signed.certificate.key_id,
            challenge_sha256,
            instance_public_key,
            previous_receipt,
            now,
        };
        Ok(verify_receipt(receipt, buf, &self.roots, &expect))
    }
}

/// `Activation.nativeAcceptReceipt(byte[] state, byte[] receipt, byte[]
/// license, byte[] roots, long now)`: checks a receipt for the challenge
/// shown (SPEC.md §6.4, a product's: no instance key) and, accepted,
/// activates and uses the challenge up.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Activation_nativeAcceptReceipt<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    state: JByteArray<'local>,
    receipt: JByteArray<'local>,
    license: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let mut machine = load(env, &state)?;
        let receipt = bytes(env, &receipt, "receipt")?;
        let licensed = Licensed::read(env, &license, &root_keys)?;
        let now = time(now, "now")?;
        let Some(challenge) = machine.pending_challenge_sha256(now) else {
            // A license that is not authentic is an argument error whatever
            // the state (with a challenge, `verify` refuses it).
            licensed.authentic()?;
            // The saved layout (SPEC.md §6.2): flag 1 is "a challenge is
            // pending", its issue time at bytes 8..16.
            let saved = machine.to_bytes();
            let out = if saved[1] & 1 != 0 {
                let mut issued = [0u8; 8];
                issued.copy_from_slice(&saved[8..16]);
                let e = CodeError::ChallengeExpired { issued_at: Timestamp(u64::from_le_bytes(issued)), now };
                Out::new().u8(RECEIPT_CHALLENGE_EXPIRED).text(&e.to_string())
            } else {
                Out::new().u8(RECEIPT_NO_CHALLENGE).text(&CodeError::NoChallenge.to_string())
            };
            return out.finish(env);
        };
        let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        let out = match licensed.verify(&receipt, &mut buf, Some(challenge), None, None, now)? {
            Err(r) => refused_receipt(Out::new(), &r),
            Ok(accepted) => match machine.accept_receipt(&accepted, now) {
                Ok(at) => accepted_receipt(Out::new(), &accepted, Some(at)),
                Err(e) => Out::new().u8(RECEIPT_NO_CHALLENGE).text(&e.to_string()),
            },
        };
        write_back(env, &state, &machine.to_bytes())?;
        out.finish(env)
    })
}

/// `Receipt.nativeVerify(byte[] receipt, byte[] license, byte[] roots,
/// byte[] challengeSha256, byte[] instancePublicKey, boolean checkPrevious,
/// byte[] previousReceipt, long now)`: SPEC.md §6.4 rules 1 to 6 for any
/// acceptor; null `challengeSha256`: not checked (an application checking
/// its server's receipt).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments, reason = "one JNI argument per Java parameter")]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_Receipt_nativeVerify<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    receipt: JByteArray<'local>,
    license: JByteArray<'local>,
    root_keys: JObjectArray<'local, JByteArray<'local>>,
    challenge_sha256: JByteArray<'local>,
    instance_public_key: JByteArray<'local>,
    check_previous: jni::sys::jboolean,
    previous_receipt: JByteArray<'local>,
    now: jlong,
) -> JByteArray<'local> {
    call(env, |env| {
        let receipt = bytes(env, &receipt, "receipt")?;
        let licensed = Licensed::read(env, &license, &root_keys)?;
        let challenge = opt_fixed::<32>(env, &challenge_sha256, "challengeSha256")?;
        let instance = opt_fixed::<32>(env, &instance_public_key, "instancePublicKey")?;
        let previous = opt_fixed::<32>(env, &previous_receipt, "previousReceipt")?;
        let previous = if check_previous { Some(previous) } else { None };
        let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        let out = match licensed.verify(&receipt, &mut buf, challenge, instance, previous, time(now, "now")?)? {
            Ok(a) => accepted_receipt(Out::new(), &a, None),
            Err(r) => refused_receipt(Out::new(), &r),
        };
        out.finish(env)
    })
}
