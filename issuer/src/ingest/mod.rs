//! Registration-mail ingestion: `fanlic ingest`, `review`, `approve`,
//! `reject` and `audit`.
//!
//! For each message: parse, evaluate the sender with the home's trusted
//! authserv ids, look up the contract of the company the mail names and of
//! the sender, [`decide::validate`], then record **one** decision.
//!
//! # Exactly once
//!
//! A message is recorded under its dedup key (the `Message-ID`, else the
//! SHA-256 of the raw bytes) and whether its sender was authenticated. A
//! message is a duplicate of an earlier decision with the same key whose
//! sender was authenticated, or as (un)authenticated as this one: an
//! unauthenticated message (a spoof) never blocks the authenticated one with
//! the same `Message-ID`, which is decided normally.
//!
//! # One transaction
//!
//! The decision row, the license row and the queued reply commit together.
//! The license file (`HOME/issued/<license_id>-Container.lic`) is written
//! after the commit; its bytes are in the database, so ingesting the message
//! again (a duplicate) rewrites it if it is missing or not whole.
//!
//! # Group commit
//!
//! [`ingest_messages`] decides up to [`BATCH_MESSAGES`] messages in one
//! transaction (each under a savepoint of its own, so one that fails is
//! left undecided alone), writes their license files, flushes the file
//! system once (`syncfs`), and only then acknowledges the messages (moves
//! them to a Maildir's `cur/`, flushing `cur/` and `new/` once). A crash
//! anywhere leaves each message either undecided (nothing of it recorded)
//! or decided and still in `new/`: the next run finds it decided (a
//! duplicate), repairs its license file if needed and acknowledges it.
//!
//! Two threads share the work: one reads and prepares the next batch
//! (parse, validate, sign, build the reply), the other records the current
//! one; batches are recorded and reported in the order they were read.
//!
//! The files: [`pipeline`] runs the batches, [`prepare`] does the work that
//! needs no lock, [`record`] writes a decision under the write lock,
//! [`mod@review`] is staff's side (`review`, `approve`, `reject`), [`decide`]
//! is what to do with one request, [`private_cloud`] the image, migration
//! and destroy requests, [`replies`] the customer's mails, [`notify`] the
//! mail to staff about a new held request, [`files`] the
//! issued license files, [`incoming`] a message of a batch, [`prune`] the
//! raw copies of decided mail and [`source`] where mail is read from.

pub mod decide;
pub mod files;
pub mod imap;
pub mod incoming;
pub mod notify;
pub mod outcome;
pub mod pipeline;
pub mod prepare;
pub mod private_cloud;
pub mod prune;
pub mod record;
pub mod replies;
pub mod review;
pub mod source;

pub use self::files::{ISSUED_DIR, LICENSE_FILE, license_path, write_license_file};
pub use self::outcome::IngestOutcome;
pub use self::pipeline::{BATCH_BYTES, BATCH_MESSAGES, Incoming, Progress, ingest_batch, ingest_messages, ingest_one};
pub use self::record::RESEND_INTERVAL_SECS;
pub use self::replies::rejection_reply;
pub use self::review::{approve, decision, reject, review};
pub use crate::store::decisions::{DecisionRow, RAW_KEPT_BYTES, RawCopy};

/// Who `fanlic ingest` records as the author of its decisions.
pub const INGEST_ACTOR: &str = "fanlic ingest";
