//! The ingest pipeline: messages read from a source in batches, each batch
//! prepared on one thread ([`super::prepare`]) while the previous one is
//! recorded on the other, in **one** transaction with a savepoint per
//! message ([`super::record`]); then the license files are written and
//! flushed once, the private-cloud images delivered, and the messages
//! acknowledged, in the order they were read.

use crate::error::{ImageBuildError, LicenseError};
use fanlic_formats::Timestamp;

use super::files::{ISSUED_DIR, repair_license_file, write_new_license_file};
pub use super::incoming::Incoming;
use super::outcome::{IngestOutcome, OutcomeKind};
use super::prepare::{Prepared, prepare_all};
use super::private_cloud::{self, Images};
use super::record::record;
use super::source::{self, IncomingMessage, Receipt, SourceError};
use crate::Error;
use crate::Home;
use crate::license::issue::Signer;
use crate::store;
use crate::store::decisions::DecisionKind;
use crate::util::fsutil;

/// The most messages decided in one transaction by [`ingest_messages`].
pub const BATCH_MESSAGES: usize = 256;

/// The most bytes of mail [`ingest_messages`] holds for one transaction (a
/// message larger than this is a batch of its own).
pub const BATCH_BYTES: usize = 32 << 20;

/// What [`ingest_messages`] reports about each message, as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Decided and committed; `acknowledged` tells whether its receipt was
    /// then acknowledged (moved to a Maildir's `cur/`).
    Decided {
        /// The decision.
        outcome: &'a IngestOutcome,
        /// `Err` when the message could not be marked as read.
        acknowledged: Result<(), &'a SourceError>,
    },
    /// Not decided: left where it is, for the next run.
    Undecided {
        /// Where it came from.
        source: &'a str,
        /// Why.
        error: &'a Error,
    },
    /// A message that could not be read from its source.
    Unreadable(&'a SourceError),
}

/// What `fanlic ingest PATH` does with the messages of one source: decides
/// them in batches of at most `max_batch` messages (`fanlic ingest --batch`,
/// default [`BATCH_MESSAGES`]) and [`BATCH_BYTES`] bytes ([`ingest_batch`]: one transaction, one flush of
/// the license files), then acknowledges each decided message. `report` is
/// called for every message, in order; an error it returns stops the run
/// (messages not yet acknowledged stay for the next one). Returns whether
/// some message could not be decided or read.
///
/// A message over the size limit ([`SourceError::TooLarge`]) is decided as
/// rejected (`message_too_large`) without being read, and acknowledged, so
/// it does not stay in a Maildir's `new/` to fail every run.
pub fn ingest_messages<I, F>(
    home: &mut Home,
    messages: I,
    trusted: &[String],
    now: Timestamp,
    max_batch: usize,
    report: F,
) -> Result<bool, Error>
where
    I: IntoIterator<Item = Result<IncomingMessage, SourceError>>,
    I::IntoIter: Send,
    F: FnMut(Progress<'_>) -> Result<(), Error>,
{
    let mut acknowledge = |decided: &[(&Receipt, &IngestOutcome)]| {
        source::acknowledge_all(&decided.iter().map(|(r, _)| *r).collect::<Vec<_>>())
    };
    ingest_messages_with(home, messages, (trusted, now, max_batch), &mut acknowledge, report)
}

/// What acknowledges a batch's committed messages, given with their
/// outcomes: [`source::acknowledge_all`] for files and Maildirs, the IMAP
/// session's move for a mailbox. Results in the order given.
pub type Acknowledge<'a> =
    dyn FnMut(&[(&Receipt, &IngestOutcome)]) -> Vec<Result<Option<std::path::PathBuf>, SourceError>> + 'a;

/// [`ingest_messages`] with the messages acknowledged by `acknowledge`
/// (`fanlic watch imaps://…`: moved to the decided folder), on the calling
/// thread, after each batch's commit.
pub fn ingest_messages_with<I, F>(
    home: &mut Home,
    messages: I,
    (trusted, now, max_batch): (&[String], Timestamp, usize),
    acknowledge: &mut Acknowledge<'_>,
    mut report: F,
) -> Result<bool, Error>
where
    I: IntoIterator<Item = Result<IncomingMessage, SourceError>>,
    I::IntoIter: Send,
    F: FnMut(Progress<'_>) -> Result<(), Error>,
{
    let max_batch = max_batch.max(1);
    let dir = home.dir().to_owned();
    let messages = messages.into_iter();
    // The server binary, read once for the run and only if a private-cloud
    // request comes (shared by both threads).
    let images = Images::default();
    let images = &images;
    // Once, before the worker opens its own connection.
    home.store_mut().use_wal()?;
    // Two stages on two threads: a worker reads and prepares batch k+1
    // (parse, validate, sign, build the reply: CPU, with its own database
    // connection for reads) while this thread records batch k (the
    // transaction, the files, the acknowledgements: mostly waiting on the
    // disk). Batches are recorded and reported in the order they were read.
    std::thread::scope(|scope| {
        let (done_tx, done) = std::sync::mpsc::sync_channel::<(Batch, Prepare)>(1);
        scope.spawn(move || {
            let mut messages = messages.peekable();
            let mut reader: Option<Home> = None;
            let mut signer: Option<Signer> = None;
            loop {
                let (batch, end) = read_batch(&mut messages, max_batch);
                let prepared = if batch.items.is_empty() {
                    Ok(Vec::new())
                } else {
                    match reader.take().map_or_else(|| Home::open(&dir), Ok) {
                        Ok(mut h) => {
                            let p = prepare_all(&mut h, &batch.items, (trusted, images), &mut signer, now);
                            reader = Some(h);
                            p
                        }
                        Err(e) => Err(e),
                    }
                };
                let empty = batch.items.is_empty() && batch.unreadable.is_empty();
                // A closed channel: the recording side stopped (its report failed).
                if !empty && done_tx.send((batch, prepared)).is_err() {
                    return;
                }
                if end {
                    return;
                }
            }
        });
        let mut undecided = false;
        for (batch, prepared) in done {
            undecided |= record_and_acknowledge(home, batch, prepared, (images, now), acknowledge, &mut report)?;
        }
        Ok(undecided)
    })
}

/// What the worker made of a batch: `Err` when it could not open the home.
type Prepare = Result<Vec<Result<Prepared, Error>>, Error>;

/// Messages read together, and the sources' read errors in their places
/// (`(i, e)`: `e` came before `items[i]`).
#[derive(Debug, Default)]
struct Batch {
    items: Vec<Incoming>,
    unreadable: Vec<(usize, SourceError)>,
}

/// Reads up to `max_batch` messages and [`BATCH_BYTES`] bytes, or to the
/// source's end (then the `bool` is true).
fn read_batch<I>(messages: &mut core::iter::Peekable<I>, max_batch: usize) -> (Batch, bool)
where
    I: Iterator<Item = Result<IncomingMessage, SourceError>>,
{
    let mut batch = Batch::default();
    let mut bytes = 0usize;
    loop {
        match messages.next() {
            Some(Ok(msg)) => {
                bytes = bytes.saturating_add(msg.raw.len());
                batch.items.push(Incoming::Message(msg));
            }
            Some(Err(SourceError::TooLarge { origin, size, max, receipt, head })) => {
                batch.items.push(Incoming::TooLarge { source: origin, size, max, receipt, head });
            }
            Some(Err(e)) => batch.unreadable.push((batch.items.len(), e)),
            None => return (batch, true),
        }
        if batch.items.len() >= max_batch || bytes >= BATCH_BYTES {
            return (batch, false);
        }
        if messages.peek().is_none() {
            return (batch, true);
        }
    }
}

fn record_and_acknowledge<F>(
    home: &mut Home,
    batch: Batch,
    prepared: Prepare,
    (images, now): (&Images, Timestamp),
    acknowledge: &mut Acknowledge<'_>,
    report: &mut F,
) -> Result<bool, Error>
where
    F: FnMut(Progress<'_>) -> Result<(), Error>,
{
    let Batch { items, unreadable } = batch;
    // An entry skipped (not a regular file, not mail) is a warning: left in
    // place, it does not count as undecided.
    let mut undecided = unreadable.iter().any(|(_, e)| e.skipped().is_none());
    let mut unreadable = unreadable.into_iter().peekable();
    let mut unreadable_before = |i: usize, report: &mut F| -> Result<(), Error> {
        while let Some((_, e)) = unreadable.next_if(|(at, _)| *at <= i) {
            report(Progress::Unreadable(&e))?;
        }
        Ok(())
    };
    let results = match prepared.and_then(|p| commit_batch(home, &items, p, (images, now))) {
        Ok(results) => results,
        Err(e) => {
            // Nothing of the batch committed: every message stays.
            for (i, item) in items.iter().enumerate() {
                unreadable_before(i, report)?;
                report(Progress::Undecided { source: item.source(), error: &e })?;
            }
            unreadable_before(usize::MAX, report)?;
            return Ok(true);
        }
    };
    let decided: Vec<(&Receipt, &IngestOutcome)> =
        items.iter().zip(&results).filter_map(|(item, r)| Some((item.receipt(), r.as_ref().ok()?))).collect();
    let mut acks = acknowledge(&decided).into_iter();
    for (i, (item, result)) in items.iter().zip(&results).enumerate() {
        unreadable_before(i, report)?;
        match result {
            Ok(outcome) => {
                let ack = acks.next().unwrap_or(Ok(None));
                undecided |= ack.is_err();
                report(Progress::Decided { outcome, acknowledged: ack.as_ref().map(|_| ()) })?;
            }
            Err(error) => {
                undecided = true;
                report(Progress::Undecided { source: item.source(), error })?;
            }
        }
    }
    unreadable_before(usize::MAX, report)?;
    Ok(undecided)
}

/// Decides one message and commits the decision (with its license and
/// reply); writes the license file after the commit. The caller
/// acknowledges the message's receipt once this returns `Ok`. For many
/// messages, [`ingest_messages`] is faster: one commit for many.
pub fn ingest_one(
    home: &mut Home,
    msg: &IncomingMessage,
    trusted: &[String],
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let batch = [Incoming::Message(msg.clone())];
    ingest_batch(home, &batch, trusted, now)?
        .pop()
        .unwrap_or_else(|| Err(store::corrupt(home.db_path(), "a batch of one message gave no result")))
}

/// Decides a batch of messages in **one** transaction: each message's
/// decision, license, queued reply and audit entry are written under a
/// savepoint of their own (a message that fails is rolled back alone and
/// left undecided), then everything commits at once (one flush of the
/// write-ahead log). After the commit the license files are written and
/// flushed with one `syncfs`. The caller acknowledges each message whose
/// result is `Ok` only after this returns.
///
/// `Err` (the transaction could not start or commit): nothing of the batch
/// was recorded.
pub fn ingest_batch(
    home: &mut Home,
    batch: &[Incoming],
    trusted: &[String],
    now: Timestamp,
) -> Result<Vec<Result<IngestOutcome, Error>>, Error> {
    let images = Images::default();
    let prepared = prepare_all(home, batch, (trusted, &images), &mut None, now)?;
    commit_batch(home, batch, prepared, (&images, now))
}

/// The recording half of [`ingest_batch`].
fn commit_batch(
    home: &mut Home,
    batch: &[Incoming],
    prepared: Vec<Result<Prepared, Error>>,
    (images, now): (&Images, Timestamp),
) -> Result<Vec<Result<IngestOutcome, Error>>, Error> {
    home.store_mut().use_wal()?;
    let home_dir = home.dir().to_owned();
    let reply_from = home.reply_from()?;

    // Writes deferred: on PostgreSQL a message costs two round trips (its
    // reads; its writes with the savepoint's release), not one per statement.
    let mut results = home.store_mut().write(|tx| {
        tx.deferring(|tx| {
            let mut results: Vec<Result<IngestOutcome, Error>> = Vec::with_capacity(batch.len());
            for (item, p) in batch.iter().zip(prepared) {
                // A message that fails is rolled back alone; the batch goes on.
                let result = p.and_then(|p| tx.savepoint(|tx| record(tx, &home_dir, (item, p), (&reply_from, now))));
                results.push(result);
            }
            Ok(results)
        })
    })?;
    // PostgreSQL plans the next batch with what this one wrote.
    home.store().refresh_statistics();

    // The files, after the commit: their bytes are in the database, so a
    // crash before they are on disk loses nothing (see `repair_license_file`).
    // A file that cannot be written leaves its message in place (an `Err`
    // here): the decision stands, and the next run, finding it a duplicate,
    // writes the file again.
    let unwritten = |e: Error| Error::License(LicenseError::LicenseFileNotWritten { reason: e.to_string() });
    let mut wrote: Vec<usize> = Vec::new();
    for (i, result) in results.iter_mut().enumerate() {
        let Ok(outcome) = result else { continue };
        let written = match outcome.decision {
            OutcomeKind::Decided(DecisionKind::Issued) => match (&outcome.license_id, outcome.pending_file.take()) {
                (Some(lid), Some(armored)) => write_new_license_file(&home_dir, lid, &armored).map(|path| {
                    outcome.files.push(path);
                    wrote.push(i);
                }),
                _ => Ok(()),
            },
            OutcomeKind::Duplicate => match outcome.license_id.clone() {
                Some(lid) => repair_license_file(home, &home_dir, &lid),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(e) = written {
            *result = Err(unwritten(e));
        }
    }
    if !wrote.is_empty()
        && let Err(e) = fsutil::sync_file_system(&home_dir.join(ISSUED_DIR))
    {
        let text = e.to_string();
        for i in wrote {
            if let Some(r) = results.get_mut(i) {
                *r = Err(Error::License(LicenseError::LicenseFileNotWritten { reason: text.clone() }));
            }
        }
    }
    // Private cloud: the image and the reply carrying it, once the license
    // is committed (see `migrate`); for a duplicate, whatever of them a
    // crash left undone. A failure leaves the message unacknowledged.
    for result in &mut results {
        let Ok(outcome) = result else { continue };
        let due = outcome.image_owed || (outcome.decision == OutcomeKind::Duplicate && outcome.license_id.is_some());
        let Some(decision_id) = outcome.decision_id.filter(|_| due) else { continue };
        match private_cloud::deliver_image(home, decision_id, images, now) {
            Ok(Some(path)) => {
                if outcome.image_owed {
                    outcome.files.push(path);
                    outcome.outbox_id = decision_outbox(home, decision_id)?;
                }
            }
            Ok(None) => {}
            Err(e) => {
                *result = Err(match e {
                    e @ Error::Image(ImageBuildError::ImageNotDelivered { .. }) => e,
                    e => Error::Image(ImageBuildError::ImageNotDelivered {
                        license_id: outcome.license_id.clone().unwrap_or_default(),
                        reason: e.to_string(),
                    }),
                });
            }
        }
    }
    Ok(results)
}

/// The reply recorded on a decision.
pub(crate) fn decision_outbox(home: &mut Home, decision_id: i64) -> Result<Option<i64>, Error> {
    home.store().read(|tx| tx.decision_outbox(decision_id))
}
