//! Checking a `privateConfig` file (SPEC.md §7.4) from C: the result is a
//! handle, since the file holds lists (up to 4096 nodes, 256 events) read
//! by index.

use fanlic_formats::{
    LicenseId,
    private_cloud::{EventKind, PrivateConfig},
};
use fanlic_verifier::private_cloud::{PrivateConfigError, verify_private_config};

use super::OneText;
use crate::ffi::{self, FanlicStatus};
use crate::text::write_name;

/// The file is accepted (no cause).
pub const FANLIC_PRIVATE_CONFIG_CAUSE_NONE: u32 = 0;
/// `unknown_format`: not a `privateConfig` file (its magic).
pub const FANLIC_PRIVATE_CONFIG_CAUSE_UNKNOWN_FORMAT: u32 = 1;
/// `bad_encoding`: the file, the certificate or the state does not decode.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_BAD_ENCODING: u32 = 2;
/// `bad_signature`: the certificate's or the state's signature does not
/// hold.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_BAD_SIGNATURE: u32 = 3;
/// `foreign_license`: the instance certificate is for another license.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_FOREIGN_LICENSE: u32 = 4;
/// `image_key_id_mismatch`: the certificate names another image key.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_IMAGE_KEY_ID_MISMATCH: u32 = 5;
/// `state_license_mismatch`: the state is for another license than its
/// certificate.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_STATE_LICENSE_MISMATCH: u32 = 6;
/// `instance_key_mismatch`: the state names another instance key than its
/// certificate.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_INSTANCE_KEY_MISMATCH: u32 = 7;
/// A cause this version of the C ABI has no number for; its text says.
pub const FANLIC_PRIVATE_CONFIG_CAUSE_OTHER: u32 = 255;

pub(super) const PRIVATE_CONFIG_CAUSE_NAMES: [(u32, &str); 9] = [
    (FANLIC_PRIVATE_CONFIG_CAUSE_NONE, "none"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_UNKNOWN_FORMAT, "unknown_format"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_BAD_ENCODING, "bad_encoding"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_BAD_SIGNATURE, "bad_signature"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_FOREIGN_LICENSE, "foreign_license"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_IMAGE_KEY_ID_MISMATCH, "image_key_id_mismatch"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_STATE_LICENSE_MISMATCH, "state_license_mismatch"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_INSTANCE_KEY_MISMATCH, "instance_key_mismatch"),
    (FANLIC_PRIVATE_CONFIG_CAUSE_OTHER, "other"),
];

fn cause_value(e: &PrivateConfigError) -> u32 {
    // Numbered by the verifier's stable reason, so a decode error maps as
    // SPEC.md §7.4's table says (the magic, or any other rule).
    match e.reason() {
        "unknown_format" => FANLIC_PRIVATE_CONFIG_CAUSE_UNKNOWN_FORMAT,
        "bad_encoding" => FANLIC_PRIVATE_CONFIG_CAUSE_BAD_ENCODING,
        "bad_signature" => FANLIC_PRIVATE_CONFIG_CAUSE_BAD_SIGNATURE,
        "foreign_license" => FANLIC_PRIVATE_CONFIG_CAUSE_FOREIGN_LICENSE,
        "image_key_id_mismatch" => FANLIC_PRIVATE_CONFIG_CAUSE_IMAGE_KEY_ID_MISMATCH,
        "state_license_mismatch" => FANLIC_PRIVATE_CONFIG_CAUSE_STATE_LICENSE_MISMATCH,
        "instance_key_mismatch" => FANLIC_PRIVATE_CONFIG_CAUSE_INSTANCE_KEY_MISMATCH,
        _ => FANLIC_PRIVATE_CONFIG_CAUSE_OTHER,
    }
}

/// Writes the spec's code of a `FANLIC_PRIVATE_CONFIG_CAUSE_*` (e.g.
/// `foreign_license`, SPEC.md §7.4) into `out`, and its length into
/// `*out_len`. An unknown number is `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// `out` points to `out_cap` writable bytes (or is null with `out_cap` 0);
/// `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_cause_name(
    cause: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> FanlicStatus {
    // SAFETY: the caller's promise, passed on.
    ffi::guard(|| unsafe { write_name(&PRIVATE_CONFIG_CAUSE_NAMES, cause, out, out_cap, out_len) })
}

/// A `privateConfig` that passed every check of SPEC.md §7.4: made by
/// [`fanlic_private_config_verify`], read with
/// [`fanlic_private_config_get_info`], [`fanlic_private_config_node`] and
/// [`fanlic_private_config_event`], freed by [`fanlic_private_config_free`].
#[derive(Debug)]
pub struct FanlicPrivateConfig {
    config: PrivateConfig,
}

/// What a verified `privateConfig` says, besides its lists.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicPrivateConfigInfo {
    /// The server license's id.
    pub license_id: [u8; 16],
    /// The instance key (the server checks it is the key of its
    /// `instance.key`).
    pub instance_public_key: [u8; 32],
    /// The write counter (the vendor checks it is not below the highest it
    /// recorded: `stale_private_config`).
    pub generation: u64,
    /// The latest time the server has seen (Unix seconds).
    pub time_high_water: u64,
    /// 1 when `activated_at` is set: an activation holds.
    pub has_activated_at: u8,
    /// When the activation that holds succeeded.
    pub activated_at: u64,
    /// How many nodes [`fanlic_private_config_node`] reads (at most 4096).
    pub node_count: usize,
    /// How many events [`fanlic_private_config_event`] reads (at most 256).
    pub event_count: usize,
    /// The head of the event log's hash chain.
    pub log_head: [u8; 32],
}

/// One node registered with the server.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicNodeRecord {
    /// The node's id.
    pub node_id: [u8; 16],
    /// When it registered (Unix seconds).
    pub registered_at: u64,
    /// When the server last heard from it.
    pub last_seen: u64,
}

/// Event `Created`: the instance key was made (first start).
pub const FANLIC_EVENT_CREATED: u32 = 0;
/// Event `Started`: the server started.
pub const FANLIC_EVENT_STARTED: u32 = 1;
/// Event `Activated`: the activation succeeded.
pub const FANLIC_EVENT_ACTIVATED: u32 = 2;
/// Event `ActivationLapsed`: down for more than 24 hours.
pub const FANLIC_EVENT_ACTIVATION_LAPSED: u32 = 3;
/// Event `ClockBehind`: the clock was behind the time high-water mark.
pub const FANLIC_EVENT_CLOCK_BEHIND: u32 = 4;
/// Event `NodeRegistered`.
pub const FANLIC_EVENT_NODE_REGISTERED: u32 = 5;
/// Event `NodeDeregistered`.
pub const FANLIC_EVENT_NODE_DEREGISTERED: u32 = 6;
/// Event `NodeDropped`: silent for 24 hours.
pub const FANLIC_EVENT_NODE_DROPPED: u32 = 7;

/// One event of the server's log (SPEC.md §7.4).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FanlicEvent {
    /// When it happened (server time, Unix seconds).
    pub at: u64,
    /// A `FANLIC_EVENT_*`.
    pub kind: u32,
    /// The node concerned, or all zero.
    pub node_id: [u8; 16],
}

const fn event_kind_value(kind: EventKind) -> u32 {
    match kind {
        EventKind::Created => FANLIC_EVENT_CREATED,
        EventKind::Started => FANLIC_EVENT_STARTED,
        EventKind::Activated => FANLIC_EVENT_ACTIVATED,
        EventKind::ActivationLapsed => FANLIC_EVENT_ACTIVATION_LAPSED,
        EventKind::ClockBehind => FANLIC_EVENT_CLOCK_BEHIND,
        EventKind::NodeRegistered => FANLIC_EVENT_NODE_REGISTERED,
        EventKind::NodeDeregistered => FANLIC_EVENT_NODE_DEREGISTERED,
        EventKind::NodeDropped => FANLIC_EVENT_NODE_DROPPED,
    }
}

/// Checks a `privateConfig` file (SPEC.md §7.4) along image key → instance
/// certificate → instance key → state, for the server license
/// `license_id` whose image key is `image_public_key`.
///
/// `FANLIC_STATUS_OK`: `*config` is a new handle (free it with
/// [`fanlic_private_config_free`]) and `*cause` is
/// `FANLIC_PRIVATE_CONFIG_CAUSE_NONE`. `FANLIC_STATUS_INVALID`: `*config` is
/// null, `*cause` the first check that failed, and its English text is in
/// `text` (NUL-terminated when there is room; `*text_len` its length). `text`
/// and `text_len` may both be null: no text. This check allocates (the
/// file's lists), unlike the answer and TLS binding checks.
///
/// # Safety
/// `file` points to `file_len` readable bytes; `image_public_key` to 32;
/// `license_id` to 16; `config` to a writable pointer; `cause` to a
/// writable `uint32_t`; `text` to `text_cap` writable bytes or null with
/// `text_cap` 0; `text_len` to a writable `size_t` or null when `text` is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_verify(
    file: *const u8,
    file_len: usize,
    image_public_key: *const [u8; 32],
    license_id: *const [u8; 16],
    config: *mut *mut FanlicPrivateConfig,
    cause: *mut u32,
    text: *mut u8,
    text_cap: usize,
    text_len: *mut usize,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises `file_len` readable bytes.
        let file = unsafe { ffi::bytes(file, file_len) }?;
        // SAFETY: the caller promises 32 readable bytes or null.
        let image = unsafe { ffi::by_ref(image_public_key) }?;
        // SAFETY: the caller promises 16 readable bytes or null.
        let license_id = LicenseId(*unsafe { ffi::by_ref(license_id) }?);
        // SAFETY: the caller promises a writable pointer or null.
        let config = unsafe { ffi::by_mut(config) }?;
        // SAFETY: the caller promises a writable u32 or null.
        let cause = unsafe { ffi::by_mut(cause) }?;
        // SAFETY: the caller promises the text buffer and its length, or nulls.
        let text = unsafe { OneText::new(text, text_cap, text_len) }?;
        *config = core::ptr::null_mut();
        match verify_private_config(file, image, &license_id) {
            Ok(verified) => {
                *cause = FANLIC_PRIVATE_CONFIG_CAUSE_NONE;
                text.write("")?;
                *config = Box::into_raw(Box::new(FanlicPrivateConfig { config: verified.into_inner() }));
                Ok(FanlicStatus::Ok)
            }
            Err(e) => {
                *cause = cause_value(&e);
                text.write(e)?;
                Ok(FanlicStatus::Invalid)
            }
        }
    })
}

/// Frees a `privateConfig` handle. Null is accepted and does nothing.
///
/// # Safety
/// `config` is null or a handle from [`fanlic_private_config_verify`] not
/// freed before; it is not used after.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_free(config: *mut FanlicPrivateConfig) {
    let _ = ffi::guard(|| {
        if !config.is_null() {
            // SAFETY: made by Box::into_raw in fanlic_private_config_verify,
            // freed once (the caller's promise).
            drop(unsafe { Box::from_raw(config) });
        }
        Ok(FanlicStatus::Ok)
    });
}

/// What a verified `privateConfig` says, into `*info`.
///
/// # Safety
/// `config` is a live handle; `info` points to a writable
/// `FanlicPrivateConfigInfo`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_get_info(
    config: *const FanlicPrivateConfig,
    info: *mut FanlicPrivateConfigInfo,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let c = &unsafe { ffi::by_ref(config) }?.config;
        // SAFETY: the caller promises a writable struct or null.
        let info = unsafe { ffi::by_mut(info) }?;
        *info = FanlicPrivateConfigInfo {
            license_id: c.license_id().0,
            instance_public_key: *c.instance_public_key(),
            generation: c.generation(),
            time_high_water: c.time_high_water().0,
            has_activated_at: u8::from(c.activated_at().is_some()),
            activated_at: c.activated_at().map_or(0, |t| t.0),
            node_count: c.nodes().len(),
            event_count: c.events().len(),
            log_head: c.log_head(),
        };
        Ok(FanlicStatus::Ok)
    })
}

/// The node at `index` (nodes are in ascending order of id), into `*node`;
/// `index >= node_count` is `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// `config` is a live handle; `node` points to a writable
/// `FanlicNodeRecord`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_node(
    config: *const FanlicPrivateConfig,
    index: usize,
    node: *mut FanlicNodeRecord,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let c = &unsafe { ffi::by_ref(config) }?.config;
        // SAFETY: the caller promises a writable struct or null.
        let out = unsafe { ffi::by_mut(node) }?;
        let n = c.nodes().get(index).ok_or(FanlicStatus::BadArgument)?;
        *out = FanlicNodeRecord { node_id: n.node_id, registered_at: n.registered_at, last_seen: n.last_seen };
        Ok(FanlicStatus::Ok)
    })
}

/// The event at `index` (oldest first), into `*event`; `index >=
/// event_count` is `FANLIC_STATUS_BAD_ARGUMENT`.
///
/// # Safety
/// `config` is a live handle; `event` points to a writable `FanlicEvent`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn fanlic_private_config_event(
    config: *const FanlicPrivateConfig,
    index: usize,
    event: *mut FanlicEvent,
) -> FanlicStatus {
    ffi::guard(|| {
        // SAFETY: the caller promises a live handle or null.
        let c = &unsafe { ffi::by_ref(config) }?.config;
        // SAFETY: the caller promises a writable struct or null.
        let out = unsafe { ffi::by_mut(event) }?;
        let e = c.events().get(index).ok_or(FanlicStatus::BadArgument)?;
        *out = FanlicEvent { at: e.at, kind: event_kind_value(e.kind), node_id: e.node_id };
        Ok(FanlicStatus::Ok)
    })
}
