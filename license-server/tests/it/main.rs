//! The authorization server's integration tests, one binary: a module per
//! area, shared helpers in [`common`] (also the unit tests' fixture) and the
//! headless-Chromium driver in [`chromium`] (also the issuer's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

#[path = "common/chromium.rs"]
mod chromium;
mod common;

mod application;
mod browser;
mod receipt;
mod server;
