//! The C ABI's one integration binary: every fixture vector through the
//! `extern "C"` functions, the header's freshness, the C example compiled
//! with `cc` and run under Valgrind, and the no-allocation check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod activation;
mod c_example;
mod header;
mod license;
mod no_alloc;
mod private_cloud;
mod receipts;
