//! The verifier's integration tests, one binary: properties over the test
//! vectors and arbitrary input, and the texts of every cause.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod properties;
mod texts;
