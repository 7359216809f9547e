//! The fanlic verifier behind a stable C ABI, for products that are not
//! written in Rust: check a `Container.lic` against the product's
//! environment (every failing cause, with the registration page's texts in
//! English or Chinese), run activation by QR code and code entry or by
//! receipt, and be the application client of the authorization server.
//!
//! The header is `include/fanlic_verifier.h`, generated from this crate by
//! cbindgen and checked in (a test fails when it is stale). The rules every
//! function keeps:
//!
//! - it returns a [`FanlicStatus`]: `Ok` or `Invalid` are answers, a
//!   negative value is an error of the call and nothing was checked;
//! - no panic crosses the boundary: each entry point catches it and returns
//!   `FANLIC_STATUS_PANIC` (an abort would take the product's JVM down);
//! - null pointers are refused, never dereferenced; lengths are explicit;
//!   text is UTF-8 in and out; text out goes into caller buffers;
//! - state is kept in opaque handles (`*_new` / `*_free`), everything else
//!   in fixed-size structs; a handle is used by one thread at a time;
//! - the ABI has a version, [`fanlic_abi_version`]: a product built against
//!   one major version refuses a library of another.
//!
//! This is the one crate that writes `unsafe`: each block says why it holds
//! (`// SAFETY:`), and the tests run under Miri.
#![deny(missing_docs)]

mod ffi;

pub mod activation;
pub mod license;
pub mod private_cloud;
pub mod receipt;
pub mod revocation;
mod text;

pub use ffi::{
    FANLIC_LANG_EN, FANLIC_LANG_ZH_CN, FANLIC_MAX_ROOT_KEYS, FANLIC_METHOD_LOCAL_CONTAINER,
    FANLIC_METHOD_PRIVATE_CLOUD, FanlicEnvironment, FanlicStatus,
};

/// The ABI's major version: it changes when a function, struct or constant
/// changes incompatibly. Products check it at load.
pub const FANLIC_ABI_VERSION_MAJOR: u32 = 1;
/// The ABI's minor version: it grows when something is added.
pub const FANLIC_ABI_VERSION_MINOR: u32 = 0;

/// The ABI version of this library: `major << 16 | minor`. A product built
/// with `FANLIC_ABI_VERSION_MAJOR` refuses a library whose major differs.
#[unsafe(no_mangle)]
pub extern "C" fn fanlic_abi_version() -> u32 {
    (FANLIC_ABI_VERSION_MAJOR << 16) | FANLIC_ABI_VERSION_MINOR
}
