//! The test-vector kit's integration tests, one binary: the committed
//! fixtures against the generator, every vector through both verifier entry
//! points, the receipt, revocation and private-cloud vectors, and the test
//! names SECURITY.md cites, the README's embedding examples, and the
//! PostgreSQL and Dovecot harnesses against real servers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)] // test code

mod docs;
mod dovecot;
mod fixtures;
mod postgres;
mod private_cloud;
mod readme;
mod receipts;
mod revocations;
mod round_trip;
mod vectors;
