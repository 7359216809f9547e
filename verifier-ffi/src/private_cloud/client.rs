//! The application client of the authorization server (SPEC.md §7.3, §7.5)
//! behind an opaque handle.

use fanlic_formats::Timestamp;
use fanlic_verifier::private_cloud::{Client, Next, Status, verify_server_answer_with_revocations};

use super::{
    FanlicAnswerResult, FanlicRequest, FanlicTlsBindingResult, OneText, Texts, answer_kind, revocations,
    tls_binding_outcome,
};
use crate::ffi::{self, FanlicEnvironment, FanlicStatus};

/// A node's client of the authorization server (SPEC.md §7.5): a state
/// machine with no clock and no I/O. Made by [`fanlic_client_new`] or
/// [`fanlic_client_new_pinned`], freed by [`fanlic_client_free`]; used by one
/// thread at a time.
///
/// The product's loop: [`fanlic_client_next`] says what to do at `now`; to
/// send a registration or a heartbeat, [`fanlic_client_request`] makes the
/// request (with a fresh random nonce from the product's RNG) and
/// [`fanlic_client_authorization`](super::fanlic_client_authorization) its
/// `Authorization` header for the exact body; on a new TLS connection,
/// [`fanlic_client_on_tls_binding`] before sending anything; then the
/// answer goes to [`fanlic_client_on_answer`], and no answer (time-out,
/// connection error, refusal by the server) to [`fanlic_client_on_failure`].
/// [`fanlic_client_get_status`] says where the registration stands.
#[derive(Debug)]
pub struct FanlicClient {
    client: Client,
}

/// Send a registration (`POST /api/v1/register`) now.
pub const FANLIC_CLIENT_NEXT_REGISTER: u32 = 1;
/// Send a heartbeat (`POST /api/v1/heartbeat`) now.
pub const FANLIC_CLIENT_NEXT_HEARTBEAT: u32 = 2;
/// Nothing to send before `until`.
pub const FANLIC_CLIENT_NEXT_WAIT: u32 = 3;
/// The registration has just failed: no feedback within 24 hours (`now >=
/// valid_until` of the last accepted answer) since `since`. Reported once;
/// the next call says to register again.
pub const FANLIC_CLIENT_NEXT_REGISTRATION_FAILED: u32 = 4;

/// What the client should do now ([`fanlic_client_next`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicNextAction {
    /// A `FANLIC_CLIENT_NEXT_*`.
    pub action: u32,
    /// `FANLIC_CLIENT_NEXT_WAIT`: when to ask again (Unix seconds;
    /// `UINT64_MAX` after a deregistration: until the product registers
    /// again). Otherwise 0.
    pub until: u64,
    /// `FANLIC_CLIENT_NEXT_REGISTRATION_FAILED`: the `valid_until` that
    /// passed. Otherwise 0.
    pub since: u64,
}

/// No answer accepted yet.
pub const FANLIC_CLIENT_STATUS_NOT_REGISTERED: u32 = 1;
/// Registered until `valid_until`.
pub const FANLIC_CLIENT_STATUS_REGISTERED: u32 = 2;
/// The registration failed at `since` (no feedback within 24 hours).
pub const FANLIC_CLIENT_STATUS_FAILED: u32 = 3;
/// The server confirmed this node's deregistration.
pub const FANLIC_CLIENT_STATUS_DEREGISTERED: u32 = 4;
/// A state this version of the C ABI has no number for.
pub const FANLIC_CLIENT_STATUS_OTHER: u32 = 0;

/// Where the node's registration stands ([`fanlic_client_get_status`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicClientStatus {
    /// A `FANLIC_CLIENT_STATUS_*`.
    pub state: u32,
    /// `FANLIC_CLIENT_STATUS_REGISTERED`: the first instant at which the
    /// registration fails without another answer. Otherwise 0.
    pub valid_until: u64,
    /// `FANLIC_CLIENT_STATUS_REGISTERED`: nodes registered with the server, by the
    /// last answer. Otherwise 0.
    pub nodes: u32,
    /// `FANLIC_CLIENT_STATUS_FAILED`: the `valid_until` that passed. Otherwise 0.
    pub since: u64,
}

impl FanlicClientStatus {
    pub(crate) fn from_status(s: Status) -> Self {
        match s {
            Status::NotRegistered => Self { state: FANLIC_CLIENT_STATUS_NOT_REGISTERED, ..Self::default() },
            Status::Registered { valid_until, nodes } => {
                Self { state: FANLIC_CLIENT_STATUS_REGISTERED, valid_until: valid_until.0, nodes, since: 0 }
            }
            Status::Failed { since } => Self { state: FANLIC_CLIENT_STATUS_FAILED, since: since.0, ..Self::default() },
            Status::Deregistered => Self { state: FANLIC_CLIENT_STATUS_DEREGISTERED, ..Self::default() },
            _ => Self { state: FANLIC_CLIENT_STATUS_OTHER, ..Self::default() },
        }
    }
}

fn boxed(client: Client) -> *mut FanlicClient {
    Box::into_raw(Box::new(FanlicClient { client }))
}

/// A client for the node `node_id` that has not registered yet and pins
/// the instance key of its first accepted TLS binding or answer. Null when
/// `node_id` is null.
///
/// # Safety
/// `node_id` points to 16 readable bytes or is null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_new(node_id: *const [u8; 16]) -> *mut FanlicClient {
    let mut out = core::ptr::null_mut();
    let _ = ffi::guard(|| {
        // SAFETY: the caller promises 16 bytes or null.
        let node_id = unsafe { ffi::by_ref(node_id) }?;
        out = boxed(Client::new(*node_id));
        Ok(FanlicStatus::Ok)
    });
    out
}

/// A client for the node `node_id` whose product pinned `instance_public_key`
/// before (persisted from [`fanlic_client_pinned_instance_key`] in an earlier
/// run): only TLS bindings and answers from that instance are accepted. Null
/// when a pointer is null.
///
/// # Safety
/// `node_id` points to 16 readable bytes, `instance_public_key` to 32, or
/// either is null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_new_pinned(
    node_id: *const [u8; 16],
    instance_public_key: *const [u8; 32],
) -> *mut FanlicClient {
    let mut out = core::ptr::null_mut();
    let _ = ffi::guard(|| {
        // SAFETY: the caller promises 16 bytes or null.
        let node_id = unsafe { ffi::by_ref(node_id) }?;
        // SAFETY: the caller promises 32 bytes or null.
        let key = unsafe { ffi::by_ref(instance_public_key) }?;
        out = boxed(Client::with_pinned_instance_key(*node_id, *key));
        Ok(FanlicStatus::Ok)
    });
    out
}

/// Frees a client. Null is accepted and does nothing.
///
/// # Safety
/// `client` is null or a handle from `fanlic_client_new*` not freed before;
/// it is not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_free(client: *mut FanlicClient) {
    let _ = ffi::guard(|| {
        if !client.is_null() {
            // SAFETY: made by Box::into_raw in `boxed`, freed once (the
            // caller's promise).
            drop(unsafe { Box::from_raw(client) });
        }
        Ok(FanlicStatus::Ok)
    });
}

/// The client behind a handle.
///
/// # Safety
/// `client` is null or a live handle used by no one else during the call.
unsafe fn client<'a>(client: *mut FanlicClient) -> Result<&'a mut Client, FanlicStatus> {
    // SAFETY: the caller's promise, passed on.
    Ok(&mut unsafe { ffi::by_mut(client) }?.client)
}

/// What to do at `now` (Unix seconds), into `*next`: register, send a
/// heartbeat, wait until a time, or the registration has just failed
/// (reported once).
///
/// # Safety
/// `client` is a live handle; `next` points to a writable
/// `FanlicNextAction`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_next(
    client: *mut FanlicClient,
    now: u64,
    next: *mut FanlicNextAction,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = unsafe { self::client(client) }?;
        // SAFETY: the caller promises a writable struct or null.
        let next = unsafe { ffi::by_mut(next) }?;
        *next = match client.next(Timestamp(now)) {
            Next::Register => FanlicNextAction { action: FANLIC_CLIENT_NEXT_REGISTER, ..Default::default() },
            Next::Heartbeat => FanlicNextAction { action: FANLIC_CLIENT_NEXT_HEARTBEAT, ..Default::default() },
            Next::Wait { until } => FanlicNextAction { action: FANLIC_CLIENT_NEXT_WAIT, until: until.0, since: 0 },
            Next::RegistrationFailed { since } => {
                FanlicNextAction { action: FANLIC_CLIENT_NEXT_REGISTRATION_FAILED, until: 0, since: since.0 }
            }
            _ => return Err(FanlicStatus::BadState),
        };
        Ok(FanlicStatus::Ok)
    })
}

/// Makes the request of `kind` (a `FANLIC_ANSWER_KIND_*`) to send at `now`,
/// with `nonce`, 16 fresh random bytes from the product's RNG, into
/// `*request` (its path, kind, node id and nonce); it becomes the one
/// outstanding request (a later one replaces it). Until its answer or
/// [`fanlic_client_on_failure`], [`fanlic_client_next`] waits 300 seconds.
/// Its `Authorization` header: `fanlic_client_authorization`.
///
/// # Safety
/// `client` is a live handle; `nonce` points to 16 readable bytes;
/// `request` to a writable `FanlicRequest`. `nonce` may point into
/// `*request` (its own `nonce` field).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_request(
    client: *mut FanlicClient,
    kind: u32,
    nonce: *const [u8; 16],
    now: u64,
    request: *mut FanlicRequest,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = unsafe { self::client(client) }?;
        let kind = answer_kind(kind)?;
        // Copied before `request` is borrowed: a product may pass the nonce
        // of the very struct it wants filled (`&req.nonce`, `&req`).
        // SAFETY: the caller promises 16 bytes or null.
        let nonce: [u8; 16] = *unsafe { ffi::by_ref(nonce) }?;
        // SAFETY: the caller promises a writable struct or null.
        let out = unsafe { ffi::by_mut(request) }?;
        *out = FanlicRequest::from_request(&client.request(kind, nonce, Timestamp(now)));
        Ok(FanlicStatus::Ok)
    })
}

/// Checks the answer file to the outstanding request (as
/// `fanlic_answer_verify` does, with that request and the pinned instance
/// key) at `env->now`, with the product's root keys and environment, and a
/// revocation list when `revocation_list` is not null (as
/// `fanlic_answer_verify_with_revocations`).
///
/// `FANLIC_STATUS_OK`: accepted; `*result` holds the answer. It consumes the
/// request, pins the instance key if none was, and moves the registration
/// on (the next heartbeat is due at `min(now + 7200, valid_until - 300)`).
/// `FANLIC_STATUS_INVALID`: refused; `*result` holds every cause
/// (`unrequested` alone when no request is outstanding) and `text` their
/// texts, as `fanlic_answer_verify` says. Nothing changes but the next
/// attempt, 300 seconds on; the request may still get its genuine answer.
/// `FANLIC_STATUS_BUFFER_TOO_SMALL`: refused, and the texts did not fit;
/// the same call again gives the same outcome. Allocates nothing.
///
/// # Safety
/// `client` is a live handle; the other pointers as
/// `fanlic_answer_verify_with_revocations` says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_on_answer(
    client: *mut FanlicClient,
    answer: *const u8,
    answer_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    revocation_list: *const u8,
    revocation_list_len: usize,
    result: *mut FanlicAnswerResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = unsafe { self::client(client) }?;
        // SAFETY: the caller promises `answer_len` readable bytes.
        let file = unsafe { ffi::bytes(answer, answer_len) }?;
        // SAFETY: the caller promises `root_count` keys.
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: the caller promises a valid environment or null.
        let env = unsafe { ffi::by_ref(env) }?;
        // SAFETY: its texts are the caller's promise too.
        let env = unsafe { ffi::environment(env) }?;
        // SAFETY: the caller promises the list's bytes or null.
        let list = unsafe { revocations(revocation_list, revocation_list_len, &roots) }?;
        // SAFETY: the caller promises a writable result or null.
        let result = unsafe { ffi::by_mut(result) }?;
        // SAFETY: the caller promises the text buffer and its length, or nulls.
        let mut texts = unsafe { Texts::new(text, text_cap, text_len) }?;
        // What the client checks the answer against, before it consumes it.
        let request = client.outstanding().copied();
        let pinned = client.pinned_instance_key().copied();
        match client.on_answer_with_revocations(file, roots.as_slice(), &env, list.as_ref()) {
            Ok(_) => {
                // The client keeps only the status; the answer's fields come
                // from the same check of the same inputs, which cannot differ.
                let request = request.ok_or(FanlicStatus::BadState)?;
                let accepted = verify_server_answer_with_revocations(
                    file,
                    roots.as_slice(),
                    &env,
                    &request,
                    pinned.as_ref(),
                    list.as_ref(),
                )
                .map_err(|_| FanlicStatus::BadState)?;
                *result = FanlicAnswerResult::accepted(&accepted);
                texts.finish()?;
                Ok(FanlicStatus::Ok)
            }
            Err(rejection) => {
                *result = FanlicAnswerResult::refused(&rejection, &mut texts);
                texts.finish()?;
                Ok(FanlicStatus::Invalid)
            }
        }
    })
}

/// Checks the TLS binding fetched over a new TLS connection whose server
/// certificate's DER SubjectPublicKeyInfo hashes (SHA-256) to `spki_sha256`,
/// with the pinned instance key, before anything is sent on the connection
/// (SPEC.md §7.7; how a product uses it: `fanlic_tls_binding_verify`).
/// `FANLIC_STATUS_OK`: accepted; it pins the instance key if none was (trust
/// on first use, along the vendor's chain). `FANLIC_STATUS_INVALID`:
/// refused, with the first cause in `*result` and its text in `text`; it
/// changes nothing: close the connection without sending anything.
/// Allocates nothing.
///
/// # Safety
/// `client` is a live handle; the other pointers as
/// `fanlic_tls_binding_verify` says.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_on_tls_binding(
    client: *mut FanlicClient,
    binding: *const u8,
    binding_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    spki_sha256: *const [u8; 32],
    result: *mut FanlicTlsBindingResult,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = unsafe { self::client(client) }?;
        // SAFETY: the caller promises `binding_len` readable bytes.
        let file = unsafe { ffi::bytes(binding, binding_len) }?;
        // SAFETY: the caller promises `root_count` keys.
        let roots = unsafe { ffi::roots(roots, root_count) }?;
        // SAFETY: the caller promises 32 readable bytes or null.
        let spki = unsafe { ffi::by_ref(spki_sha256) }?;
        // SAFETY: the caller promises a writable result or null.
        let result = unsafe { ffi::by_mut(result) }?;
        // Before the client changes: a bad text buffer pins nothing.
        // SAFETY: the caller promises the text buffer and its length, or nulls.
        let text = unsafe { OneText::new(text, text_cap, text_len) }?;
        tls_binding_outcome(client.on_tls_binding(file, roots.as_slice(), spki), result, text)
    })
}

/// The outstanding request got no answer (time-out, connection error, or a
/// refusal by the server, such as HTTP 401 or 403) at `now`: it is dropped
/// and the next attempt is 300 seconds after `now`.
///
/// # Safety
/// `client` is a live handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_on_failure(client: *mut FanlicClient, now: u64) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        unsafe { self::client(client) }?.on_failure(Timestamp(now));
        Ok(FanlicStatus::Ok)
    })
}

/// Where the registration stands at `now`, into `*status`: it fails at the
/// first instant `now >= valid_until` of the last accepted answer, whether
/// or not [`fanlic_client_next`] was called.
///
/// # Safety
/// `client` is a live handle; `status` points to a writable
/// `FanlicClientStatus`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_get_status(
    client: *const FanlicClient,
    now: u64,
    status: *mut FanlicClientStatus,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = &unsafe { ffi::by_ref(client) }?.client;
        // SAFETY: the caller promises a writable struct or null.
        let out = unsafe { ffi::by_mut(status) }?;
        *out = FanlicClientStatus::from_status(client.status(Timestamp(now)));
        Ok(FanlicStatus::Ok)
    })
}

/// The pinned instance key, for the product to persist (and give to
/// [`fanlic_client_new_pinned`] at its next start): `*pinned` is 1 and
/// `*key` the key once a TLS binding or an answer was accepted (or one was
/// given), else `*pinned` is 0 and `*key` all zero.
///
/// # Safety
/// `client` is a live handle; `key` points to 32 writable bytes; `pinned`
/// to a writable byte.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_client_pinned_instance_key(
    client: *const FanlicClient,
    key: *mut [u8; 32],
    pinned: *mut u8,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let client = &unsafe { ffi::by_ref(client) }?.client;
        // SAFETY: the caller promises 32 writable bytes or null.
        let key = unsafe { ffi::by_mut(key) }?;
        // SAFETY: the caller promises a writable byte or null.
        let pinned = unsafe { ffi::by_mut(pinned) }?;
        *key = client.pinned_instance_key().copied().unwrap_or([0; 32]);
        *pinned = u8::from(client.pinned_instance_key().is_some());
        Ok(FanlicStatus::Ok)
    })
}
