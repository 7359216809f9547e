//! The Java binding's one integration binary: builds the jar around the
//! native library cargo just built and runs its JUnit 5 tests on a real JVM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod junit;
