//! `fanlic watch imaps://…`: passes over the registration mailbox. A pass
//! lists the messages (UID and size), reads them in chunks, decides each
//! chunk as `fanlic ingest` does (batches committed, then the messages
//! moved to the decided folder), and sends the replies the chunk queued
//! (the outbox is flushed after each chunk). Between passes the session
//! waits in IDLE (or pauses, where the server has no IDLE). A lost
//! connection is made again with backoff (1 s, doubling to 60 s).

use core::time::Duration;

use super::{Credentials, ImapOptions, ImapUrl, Mailbox};
use crate::error::ImapError;
use crate::ingest::pipeline::{Progress, ingest_messages_with};
use crate::outbox::{self, FlushReport, OutboxTransport};
use crate::util::clock;
use crate::{Error, Home};

/// The longest wait before connecting again.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Bytes of mail read for one chunk (a message larger than this is a chunk
/// of its own).
const CHUNK_BYTES: u64 = 64 << 20;

/// What `fanlic watch` was given.
#[derive(Debug)]
pub struct WatchConfig<'a> {
    /// The mailbox.
    pub url: &'a ImapUrl,
    /// How to log in.
    pub credentials: &'a Credentials,
    /// The CA, the decided folder.
    pub options: &'a ImapOptions,
    /// Messages decided per transaction.
    pub batch: usize,
    /// The size over which a message is decided from its header alone.
    pub max_bytes: usize,
    /// One pass, then return (cron, tests).
    pub once: bool,
    /// The longest IDLE between two passes; where the server has no IDLE,
    /// the pause between them.
    pub interval: Duration,
    /// Where queued replies go after each chunk; `None`: they stay queued.
    pub flush: Option<&'a OutboxTransport>,
    /// How long a message found decided by another watcher is left for it
    /// to move ([`SETTLE`]).
    pub settle: Duration,
}

/// [`WatchConfig::settle`] by default: a message decided less than a
/// minute ago is another watcher's to move; an older one was left by a
/// watcher that died between its commit and its move.
pub const SETTLE: Duration = Duration::from_secs(60);

/// What happens, as it happens.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// Logged in, mailbox selected.
    Connected {
        /// The mailbox URL (no password).
        mailbox: &'a str,
        /// Where decided messages go.
        decided_folder: &'a str,
        /// Whether the server pushes new mail (IDLE).
        idle: bool,
    },
    /// A message decided (or not), as `fanlic ingest` reports it.
    Progress(Progress<'a>),
    /// A pass over the mailbox ended.
    Passed,
    /// Replies sent after a chunk.
    Flushed(&'a FlushReport),
    /// The outbox could not be flushed; its replies stay queued.
    FlushFailed(&'a Error),
    /// The connection failed; it is made again after `retry_in`.
    Lost {
        /// Why.
        error: &'a ImapError,
        /// The wait before the next try.
        retry_in: Duration,
    },
}

/// Watches the mailbox until an error that waiting cannot mend (or, with
/// `once`, for one pass). Returns whether some message could not be
/// decided (it stays in the mailbox for the next pass).
pub fn watch<F>(home: &mut Home, cfg: &WatchConfig<'_>, mut on: F) -> Result<bool, Error>
where
    F: FnMut(WatchEvent<'_>) -> Result<(), Error>,
{
    let mut backoff = Duration::from_secs(1);
    let mut undecided = false;
    loop {
        let failed = match Mailbox::open(cfg.url, cfg.credentials, cfg.options) {
            Ok(mut mailbox) => {
                backoff = Duration::from_secs(1);
                on(WatchEvent::Connected {
                    mailbox: &cfg.url.shown(),
                    decided_folder: mailbox.decided_folder(),
                    idle: mailbox.can_idle(),
                })?;
                match passes(home, &mut mailbox, cfg, &mut on) {
                    Ok(u) => {
                        mailbox.logout();
                        return Ok(undecided | u);
                    }
                    Err(Stop::Imap(e, u)) => {
                        undecided |= u;
                        e
                    }
                    Err(Stop::Other(e)) => return Err(e),
                }
            }
            Err(e) => e,
        };
        if cfg.once || !failed.is_transient() {
            return Err(failed.into());
        }
        on(WatchEvent::Lost { error: &failed, retry_in: backoff })?;
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

enum Stop {
    /// The session failed (with whether some message was left undecided).
    Imap(ImapError, bool),
    Other(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        match e {
            Error::Imap(e) => Stop::Imap(e, false),
            e => Stop::Other(e),
        }
    }
}

/// Passes on one session: forever, or once.
fn passes<F>(home: &mut Home, mailbox: &mut Mailbox, cfg: &WatchConfig<'_>, on: &mut F) -> Result<bool, Stop>
where
    F: FnMut(WatchEvent<'_>) -> Result<(), Error>,
{
    let mut undecided = false;
    loop {
        undecided |= pass(home, mailbox, cfg, on).map_err(|e| match e {
            Stop::Imap(e, u) => Stop::Imap(e, u | undecided),
            e => e,
        })?;
        on(WatchEvent::Passed)?;
        if cfg.once {
            return Ok(undecided);
        }
        mailbox.wait(cfg.interval).map_err(|e| Stop::Imap(e, undecided))?;
    }
}

/// One pass: every message in the mailbox now, in chunks.
fn pass<F>(home: &mut Home, mailbox: &mut Mailbox, cfg: &WatchConfig<'_>, on: &mut F) -> Result<bool, Stop>
where
    F: FnMut(WatchEvent<'_>) -> Result<(), Error>,
{
    let listed = mailbox.list().map_err(|e| Stop::Imap(e, false))?;
    let per_chunk = cfg.batch.saturating_mul(4).max(1);
    let mut undecided = false;
    let mut rest = listed.as_slice();
    while !rest.is_empty() {
        // Up to four batches and CHUNK_BYTES at once (at least one message).
        let mut bytes = 0u64;
        let n = rest
            .iter()
            .take(per_chunk)
            .take_while(|f| {
                bytes = bytes.saturating_add(f.size.min(cfg.max_bytes as u64));
                bytes <= CHUNK_BYTES
            })
            .count()
            .max(1);
        let (chunk, tail) = rest.split_at(n.min(rest.len()));
        rest = tail;
        let messages = mailbox.read(chunk, cfg.max_bytes).map_err(|e| Stop::Imap(e, undecided))?;
        if messages.is_empty() {
            continue;
        }
        // Read again each time, so a change made with `fanlic config` applies.
        let trusted = home.authserv_ids()?;
        let now = clock::now()?;
        undecided |= ingest_messages_with(
            home,
            messages,
            (&trusted, now, cfg.batch),
            &mut |decided| mailbox.acknowledge_all(decided, (now, cfg.settle)),
            |p| on(WatchEvent::Progress(p)),
        )?;
        if let Some(transport) = cfg.flush {
            match outbox::flush_with(home, transport, clock::now()?, outbox::FlushOptions::default()) {
                Ok(report) => on(WatchEvent::Flushed(&report))?,
                Err(e) => on(WatchEvent::FlushFailed(&e))?,
            }
        }
    }
    Ok(undecided)
}
