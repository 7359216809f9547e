//! The issuer's integration tests, one binary: a module per area, the real
//! `fanlic` binary run through [`common::fanlic_cmd`], shared helpers in
//! [`common`]. One binary links axum, tokio and lettre once, not once per
//! file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod common;

mod activation_vectors;
mod cli;
mod client_grammar;
mod client_mail;
mod console;
mod console_audit;
mod console_browser;
mod console_contracts;
mod console_licenses;
mod console_review;
mod contracts;
mod crash;
mod crypto_cross;
mod db;
mod ffi_golden;
mod image;
mod imap;
mod ingest;
mod ingest_private_cloud;
mod instances;
mod live;
mod mail_source;
mod operator;
mod outbox;
mod outbox_lease;
mod private_cloud;
mod qr;
mod reason_samples;
mod receipt_private_cloud;
mod receipts;
mod review;
mod revocations_pg;
mod revoke;
mod round_trip;
mod serve;
mod vectors_cli;
