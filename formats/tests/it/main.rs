//! The formats' integration tests, one binary: the decoders against the test
//! vectors and arbitrary input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod decoders;
