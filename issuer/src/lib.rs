//! The vendor side of fanlic: the `fanlic` command's logic, as a library so
//! that it can be tested without a process.
//!
//! - [`Home`]: the vendor home (keys, database); [`Home::init`],
//!   [`Home::issue`], [`Home::rotate`], [`Home::list_keys`].
//! - [`verify::verify`]: the product's check with every cause, as a report.
//! - [`inspect::inspect`]: a license's contents without keys, untrusted.
//! - [`demo::run`]: the whole loop on a throw-away home.
//!
//! Signing uses *ring* (Ed25519 from PKCS#8); verification uses
//! `fanlic-verifier`, the crate products embed. Private keys are PEM PKCS#8
//! files of mode 0600, never printed.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod contracts;
pub mod demo;
mod error;
pub mod home;
pub mod image;
pub mod ingest;
pub mod license;
pub use fanlic_mail as mail;
pub mod outbox;
pub use fanlic_qr as qr;
pub mod console;
pub mod revoke;
pub mod service;
pub mod staff;
pub mod store;
pub mod util;

pub use error::{
    ConsoleError, ContractError, Error, HomeError, ImageBuildError, ImapError, LicenseError, OutboxError, Refusal,
    RevocationListError, ServiceError, StaffError, StoreError,
};
pub use home::{Home, InitOptions, InitReport, KeysReport, RotateReport};
pub use license::issue::{IssueInput, IssueRequest, Issued, SignedLicense};
pub use store::{IssuingKeyRow, RootKeyRow, SCHEMA_VERSION, StoredLicense};
