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

pub mod activation;
pub mod audit;
pub mod clock;
pub mod contracts;
mod db;
pub mod demo;
mod error;
pub mod fsutil;
pub mod hex;
pub mod home;
pub mod image;
pub mod ingest;
pub mod input;
pub mod inspect;
pub mod issue;
pub mod keys;
pub mod live;
pub mod mail;
pub mod migrate;
pub mod outbox;
pub mod pem;
pub mod prune;
pub mod receipts;
pub mod replies;
pub use fanlic_qr as qr;
pub mod report;
pub mod revoke;
pub mod serve;
pub mod server_image;
pub mod validate;
pub mod verify;

pub use db::{IssuingKeyRow, RootKeyRow, SCHEMA_VERSION, StoredLicense};
pub use error::Error;
pub use home::{Home, InitOptions, InitReport, KeysReport, RotateReport};
pub use issue::{IssueInput, IssueRequest, Issued, SignedLicense};
