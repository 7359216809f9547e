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

pub mod decide;
pub mod private_cloud;
pub mod prune;
pub mod replies;
pub mod source;

use std::path::{Path, PathBuf};

use fanlic_formats::Timestamp;
use rusqlite::{OptionalExtension as _, TransactionBehavior, params};
use serde_json::{Value, json};

use self::decide::{Decision, Outcome, Reason, RevokePlan};
use self::private_cloud::Images;
use self::source::{IncomingMessage, Receipt, SourceError};
use crate::Error;
use crate::Home;
use crate::contracts;
use crate::license::issue::{self, SignedLicense, Signer};
use crate::license::live::{self, Standing};
use crate::mail::{
    auth, fields,
    message::{self, Language as MailLanguage, RegistrationMail},
};
use crate::outbox::{self, Language, Reply};
use crate::revoke;
use crate::store;
use crate::store::audit::{Action, reasons_from_json, reasons_json};
use crate::util::fsutil;
use crate::util::hex;

/// Who `fanlic ingest` records as the author of its decisions.
pub const INGEST_ACTOR: &str = "fanlic ingest";
/// The folder of licenses issued from mail, inside the home.
pub const ISSUED_DIR: &str = "issued";
/// The file name of an issued license.
pub const LICENSE_FILE: &str = "Container.lic";

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Where it came from.
    pub source: String,
    /// Its `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Its sender, normalized.
    pub from: Option<String>,
    /// `issued`, `resent` (the project's live license again), `joined` (a
    /// resend of a held request), `ignored` (a program sent it), `rejected`,
    /// `held`, `duplicate`, or `revoked` (a destroy request carried out).
    pub decision: &'static str,
    /// `(code, message)` of every reason.
    pub reasons: Vec<(String, String)>,
    /// The license issued (for a duplicate: the earlier one; for `revoked`:
    /// the license revoked), if any.
    pub license_id: Option<String>,
    /// Files written now (absolute).
    pub files: Vec<PathBuf>,
    /// The decision's row (for a duplicate: the earlier decision's).
    pub decision_id: Option<i64>,
    /// The reply queued, if any.
    pub outbox_id: Option<i64>,
    /// The license text still to be written once the decision commits.
    pending_file: Option<String>,
    /// A private-cloud license: its image and reply are made after the
    /// commit ([`private_cloud::deliver_image`]).
    image_owed: bool,
}

impl IngestOutcome {
    /// The `--json` line.
    pub fn to_json(&self) -> Value {
        json!({
            "source": self.source,
            "message_id": self.message_id,
            "from": self.from,
            "decision": self.decision,
            "reasons": self.reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
            "license_id": self.license_id,
            "files": self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
            "decision_id": self.decision_id,
        })
    }

    /// One line for people.
    pub fn human(&self) -> String {
        let id = self.decision_id.map(|i| format!(" [decision {i}]")).unwrap_or_default();
        let codes: Vec<&str> = self.reasons.iter().map(|(c, _)| c.as_str()).collect();
        let detail = match self.decision {
            "issued" => format!(
                "license {} -> {}",
                self.license_id.as_deref().unwrap_or("?"),
                self.files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            "revoked" => format!("license {}", self.license_id.as_deref().unwrap_or("?")),
            "resent" => format!(
                "license {} ({})",
                self.license_id.as_deref().unwrap_or("?"),
                if codes.contains(&decide::RESEND_LIMITED) {
                    "sent less than 24 hours ago: not again"
                } else {
                    "sent again"
                }
            ),
            _ if codes.is_empty() => String::new(),
            _ => format!("({})", codes.join(", ")),
        };
        let reply = if self.outbox_id.is_some() { "; reply queued" } else { "" };
        format!("{}: {}{id} {detail}{reply}\n", self.source, self.decision)
    }
}

fn pairs(reasons: &[Reason]) -> Vec<(String, String)> {
    reasons.iter().map(|r| (r.code.to_owned(), r.message.clone())).collect()
}

fn language(mail: &RegistrationMail) -> Language {
    match mail.language_hint {
        MailLanguage::Zh => Language::Zh,
        MailLanguage::En => Language::En,
    }
}

fn bracket(id: &str) -> String {
    format!("<{id}>")
}

/// The reply listing why a request was refused (no attachment), then the
/// customer's fields as they were read ([`replies::rejection_body`]).
pub fn rejection_reply(from: &str, to: &str, mail: &RegistrationMail, reasons: &[Reason]) -> Reply {
    let lang = language(mail);
    let parsed = decide::ParsedRequest::of(mail);
    let body = replies::rejection_body(reasons, Some((parsed.fields(), parsed.subject_info())), lang);
    let mut references: Vec<String> = mail.references.iter().map(|r| bracket(r)).collect();
    let in_reply_to = mail.message_id.as_deref().map(bracket);
    if let Some(id) = &in_reply_to {
        references.push(id.clone());
    }
    Reply {
        to: to.to_owned(),
        from: from.to_owned(),
        subject: outbox::re_subject(&mail.subject),
        in_reply_to,
        references,
        language: lang,
        body,
        attachments: Vec::new(),
    }
}

/// The reply carrying a license: what it grants (read from the signed
/// license itself) and the next steps for its method.
fn license_reply(from: &str, to: &str, mail: &RegistrationMail, armored: &str) -> Reply {
    let refs: Vec<String> = mail.references.iter().map(|r| bracket(r)).collect();
    let id = mail.message_id.as_deref().map(bracket);
    let lang = language(mail);
    let mut reply =
        Reply::license(to, from, &mail.subject, id.as_deref(), &refs, lang, LICENSE_FILE, armored.as_bytes().to_vec());
    reply.body = replies::license_body(replies::Licensed::of_armored(armored).as_ref(), lang);
    reply
}

/// `HOME/issued/<license_id>-Container.lic`: one flat folder, one file per
/// license (a folder per license would cost a second inode for each, the
/// largest part of `fanlic ingest`'s time on ext4).
pub fn license_path(home: &Path, license_id: &str) -> PathBuf {
    home.join(ISSUED_DIR).join(format!("{license_id}-{LICENSE_FILE}"))
}

pub(crate) fn issued_dir(home: &Path) -> Result<PathBuf, Error> {
    let issued = home.join(ISSUED_DIR);
    // Another run may create it meanwhile: that is as good.
    if !issued.is_dir() && fsutil::create_dir(&issued, 0o700).is_err() && !issued.is_dir() {
        fsutil::create_dir(&issued, 0o700)?;
    }
    Ok(issued)
}

/// Writes (again) an issued license's file, 0600 in a 0700 folder,
/// atomically, replacing a file already there (idempotent), and flushes it.
pub fn write_license_file(home: &Path, license_id: &str, armored: &str) -> Result<PathBuf, Error> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    let issued = issued_dir(home)?;
    let path = license_path(home, license_id);
    // A name per license and process: a run killed here leaves at most this
    // file, which the next rewrite by the same process id replaces; two runs
    // rewriting the same license at once (both found it a duplicate) each
    // rename a whole file with the same bytes, never one the other is
    // still writing.
    let tmp = issued.join(format!(".{license_id}-{LICENSE_FILE}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(fsutil::PRIVATE_MODE)
            .open(&tmp)?;
        f.write_all(armored.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&issued)?.sync_all()
    };
    write().map_err(Error::io("cannot write", &path))?;
    Ok(path)
}

/// Writes a license just issued (a fresh id), 0600 in a 0700 folder, not
/// flushed: [`ingest_batch`] flushes a batch of them at once. The file may
/// be there already: another run that read the same message once this
/// decision committed found it a duplicate and wrote the file from the
/// database ([`repair_license_file`]) first. That file is whole (it was
/// renamed into place) and, holding these very bytes, is kept; any other
/// file under the name is an error.
fn write_new_license_file(home: &Path, license_id: &str, armored: &str) -> Result<PathBuf, Error> {
    issued_dir(home)?;
    let path = license_path(home, license_id);
    match fsutil::write_new(&path, armored.as_bytes(), fsutil::PRIVATE_MODE) {
        Err(Error::OutputExists { .. }) if std::fs::read(&path).ok().as_deref() == Some(armored.as_bytes()) => {}
        other => other?,
    }
    Ok(path)
}

/// For a duplicate of an issued message: writes its license file again if
/// it is missing or does not hold the recorded license (a crash between
/// the commit and the flush of the file).
fn repair_license_file(home: &Home, home_dir: &Path, license_id: &str) -> Result<(), Error> {
    let path = license_path(home_dir, license_id);
    let Some(stored) = home.stored_license(license_id)? else {
        return Ok(());
    };
    if std::fs::read(&path).ok().as_deref() != Some(stored.armored.as_bytes()) {
        write_license_file(home_dir, license_id, &stored.armored)?;
    }
    Ok(())
}

fn contracts_of(
    home: &mut Home,
    mail: &RegistrationMail,
    parsed: &decide::ParsedRequest,
) -> Result<(Option<contracts::Contract>, Option<contracts::Contract>), Error> {
    ContractCache::default().contracts_of(home, mail, parsed)
}

/// Contracts looked up for one batch, by company name and by sender: a
/// batch's mails mostly come from few customers.
#[derive(Default)]
struct ContractCache {
    by_company: std::collections::HashMap<String, Option<contracts::Contract>>,
    by_sender: std::collections::HashMap<String, Option<contracts::Contract>>,
}

impl ContractCache {
    fn contracts_of(
        &mut self,
        home: &mut Home,
        mail: &RegistrationMail,
        parsed: &decide::ParsedRequest,
    ) -> Result<(Option<contracts::Contract>, Option<contracts::Contract>), Error> {
        let by_company = match parsed.company_named() {
            Some(name) => match self.by_company.get(&name) {
                Some(c) => c.clone(),
                None => {
                    let c = contracts::find_by_company(home, &name)?;
                    self.by_company.insert(name, c.clone());
                    c
                }
            },
            None => None,
        };
        let by_sender = match mail.single_from() {
            Some(addr) => match self.by_sender.get(addr) {
                Some(c) => c.clone(),
                None => {
                    let c = contracts::find_by_email(home, addr)?;
                    self.by_sender.insert(addr.to_owned(), c.clone());
                    c
                }
            },
            None => None,
        };
        Ok((by_company, by_sender))
    }
}

/// Everything recorded about one decision.
struct NewDecision<'a> {
    dedup_key: &'a str,
    message_id: Option<&'a str>,
    source: &'a str,
    from: &'a str,
    subject: &'a str,
    decision: &'static str,
    /// The audit trail's action.
    action: Action,
    reasons: &'a [(String, String)],
    license_id: Option<&'a str>,
    authenticated: bool,
    /// The message as read (its head only when too large to read).
    raw: &'a [u8],
    /// The message's full size in bytes.
    raw_size: u64,
    raw_sha256: [u8; 32],
    outbox_id: Option<i64>,
    at: Timestamp,
    by: &'a str,
    /// [`live::request_key`] of the request, when it names one.
    request_key: Option<&'a str>,
    /// For a `joined` decision: the held decision it joined.
    joined_to: Option<i64>,
}

/// How much of a rejected or ignored message the decision keeps: its first
/// 64 KiB (with the digest and size of the whole).
pub const RAW_KEPT_BYTES: usize = 64 << 10;

/// What of a decision's message is kept ([`RawCopy`]), and the bytes: the
/// whole message for what staff or a later step may act on (held, issued,
/// resent, joined, revoked: approve and a private-cloud delivery parse it
/// again), the first [`RAW_KEPT_BYTES`] for rejected and ignored mail
/// (unparseable and too-large junk included), which nothing reads again.
fn raw_to_keep<'a>(decision: &str, raw: &'a [u8], size: u64) -> (RawCopy, &'a [u8]) {
    let whole_needed = !matches!(decision, "rejected" | "ignored");
    let cut = raw.get(..RAW_KEPT_BYTES).filter(|_| !whole_needed).unwrap_or(raw);
    let complete = u64::try_from(cut.len()).is_ok_and(|n| n == size);
    (if complete { RawCopy::Whole } else { RawCopy::Truncated }, cut)
}

fn insert_decision(tx: &rusqlite::Transaction<'_>, path: &Path, d: &NewDecision<'_>) -> Result<i64, Error> {
    let (kept, raw) = raw_to_keep(d.decision, d.raw, d.raw_size);
    tx.prepare_cached(
        "INSERT INTO decisions (dedup_key, message_id, source, from_addr, subject, decision, reasons, license_id,
             authenticated, raw_sha256, raw, outbox_id, decided_at, decided_by, request_key, joined_to,
             raw_size, raw_kept)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )
    .and_then(|mut s| {
        s.execute(params![
            d.dedup_key,
            d.message_id,
            d.source,
            d.from,
            d.subject,
            d.decision,
            reasons_json(d.reasons),
            d.license_id,
            d.authenticated,
            hex::encode(&d.raw_sha256),
            raw,
            d.outbox_id,
            store::int(d.at.0),
            d.by,
            d.request_key,
            d.joined_to,
            store::int(d.raw_size),
            kept.as_str(),
        ])
    })
    .map_err(store::err(path, "cannot record the decision"))?;
    let id = tx.last_insert_rowid();
    audit(tx, path, Some(id), d.dedup_key, d.action, d.reasons, d.license_id, d.at, d.by)?;
    Ok(id)
}

#[allow(clippy::too_many_arguments)]
fn audit(
    conn: &rusqlite::Connection,
    path: &Path,
    decision_id: Option<i64>,
    dedup_key: &str,
    action: Action,
    reasons: &[(String, String)],
    license_id: Option<&str>,
    at: Timestamp,
    by: &str,
) -> Result<(), Error> {
    let entry = crate::store::audit::Entry {
        decision_id,
        dedup_key: Some(dedup_key),
        license_id,
        data: Some(reasons_json(reasons)),
        ..crate::store::audit::Entry::new(action, by, at)
    };
    crate::store::audit::record(conn, path, &entry)
}

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
    {
        let (conn, path) = home.conn_mut();
        use_wal(conn, path)?;
    }
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
            undecided |= record_and_acknowledge(home, batch, prepared, (images, now), &mut report)?;
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
    let receipts: Vec<&Receipt> =
        items.iter().zip(&results).filter(|(_, r)| r.is_ok()).map(|(item, _)| item.receipt()).collect();
    let mut acks = source::acknowledge_all(&receipts).into_iter();
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

/// One message of a batch: read, or too large to read.
#[derive(Debug)]
pub enum Incoming {
    /// A message read whole.
    Message(IncomingMessage),
    /// A message over the size limit, not read.
    TooLarge {
        /// Where it came from.
        source: String,
        /// Its size.
        size: u64,
        /// The limit.
        max: usize,
        /// Its receipt.
        receipt: Receipt,
        /// Its first bytes, kept with the decision as a record.
        head: Vec<u8>,
    },
}

impl Incoming {
    fn source(&self) -> &str {
        match self {
            Incoming::Message(m) => &m.source,
            Incoming::TooLarge { source, .. } => source,
        }
    }

    fn receipt(&self) -> &Receipt {
        match self {
            Incoming::Message(m) => &m.receipt,
            Incoming::TooLarge { receipt, .. } => receipt,
        }
    }

    fn raw(&self) -> &[u8] {
        match self {
            Incoming::Message(m) => &m.raw,
            Incoming::TooLarge { head, .. } => head,
        }
    }

    /// The message's full size in bytes.
    fn size(&self) -> u64 {
        match self {
            Incoming::Message(m) => u64::try_from(m.raw.len()).unwrap_or(u64::MAX),
            Incoming::TooLarge { size, .. } => *size,
        }
    }
}

/// Whose word on the sender counts: the trusted authserv ids, and how many
/// `Received` lines of the vendor's own servers may sit above their results.
struct SenderPolicy<'a> {
    trusted: &'a [String],
    own_received_lines: usize,
}

/// A message after the work that needs no lock: parsed, its sender
/// evaluated, its contracts looked up, validated, and (if it gets a
/// license and was not decided before) its license signed.
struct Prepared {
    mail: Option<RegistrationMail>,
    decision: Decision,
    auth_ok: bool,
    dedup_key: String,
    raw_sha256: [u8; 32],
    /// The license, if the request gets one; `Err`: signing failed, which
    /// matters only if the message was not decided before.
    signed: Result<Option<SignedLicense>, Error>,
    /// The reply to queue with the decision, built and checked.
    reply: Option<outbox::CheckedReply>,
    /// A destroy request to carry out instead of the decision, with its
    /// confirmation mails (`Err`: why none may be sent).
    destroy: Option<(RevokePlan, Result<Vec<outbox::CheckedReply>, String>)>,
    /// [`live::request_key`] of the request, when it names one.
    request_key: Option<String>,
    /// A program sent it: recorded, never answered.
    automatic: Option<message::Automatic>,
}

/// A message parsed and validated, not signed yet.
struct Assessed {
    mail: Option<RegistrationMail>,
    decision: Decision,
    auth_ok: bool,
    sender_contract: Option<contracts::Contract>,
    dedup_key: String,
    raw_sha256: [u8; 32],
    /// A destroy request to carry out (then `decision` is not used).
    destroy: Option<RevokePlan>,
    request_key: Option<String>,
    automatic: Option<message::Automatic>,
}

/// Validates a parsed mail with what the home knows besides it: its intent
/// (migration, destroy), its `privateConfig` checked against the recorded
/// licenses, and whether images can be built (the server binary is loaded
/// only when a private-cloud license would be issued).
fn validate_mail(
    home: &mut Home,
    (mail, raw, parsed): (&RegistrationMail, &[u8], &decide::ParsedRequest),
    sender_auth: &auth::SenderAuth,
    contracts: (Option<&contracts::Contract>, Option<&contracts::Contract>),
    (images, now): (&Images, Timestamp),
) -> Result<(Decision, Option<RevokePlan>), Error> {
    let intent = decide::intent_of(mail, parsed);
    let config = match intent {
        decide::Intent::Registration => decide::ConfigCheck::Missing,
        decide::Intent::Migration | decide::Intent::Destroy => {
            private_cloud::check_private_config(home, private_cloud::private_config_of(raw).as_deref())?
        }
    };
    let mut ctx = decide::Context { intent, images_unavailable: None, config: &config };
    let mut verdict = decide::validate_request(mail, parsed, sender_auth, contracts, now, &ctx);
    let needs_image = matches!(&verdict, decide::Verdict::Decide(Decision { outcome: Outcome::Issue(plan), .. })
        if plan.kind == fanlic_formats::LicenseKind::PrivateCloud);
    if needs_image && let Err(why) = images.get(home) {
        ctx.images_unavailable = Some(why);
        verdict = decide::validate_request(mail, parsed, sender_auth, contracts, now, &ctx);
    }
    Ok(match verdict {
        decide::Verdict::Decide(d) => (d, None),
        decide::Verdict::Revoke { plan, reply_allowed } => {
            (Decision { outcome: Outcome::Hold(Vec::new()), reply_allowed }, Some(plan))
        }
    })
}

fn assess(
    home: &mut Home,
    item: &Incoming,
    policy: &SenderPolicy<'_>,
    cache: &mut ContractCache,
    (images, now): (&Images, Timestamp),
) -> Result<Assessed, Error> {
    let mut destroy = None;
    let mut request_key = None;
    let (mail, decision, auth_ok, sender_contract, raw_sha) = match item {
        Incoming::TooLarge { source, size, max, .. } => {
            let err = message::MailError::TooLarge { size: usize::try_from(*size).unwrap_or(usize::MAX), max: *max };
            // Not read: the key is of where it was and how big.
            let key = message::sha256(format!("too-large\n{source}\n{size}").as_bytes());
            (None, decide::unparseable(&err), false, None, key)
        }
        Incoming::Message(msg) => match message::parse(&msg.raw) {
            // A program sent it: nothing is validated, signed or answered.
            Ok(mail) if mail.automatic.is_some() => {
                let sha = mail.raw_sha256;
                let d = Decision { outcome: Outcome::Hold(Vec::new()), reply_allowed: false };
                (Some(mail), d, false, None, sha)
            }
            Ok(mail) => {
                let sender_auth = auth::evaluate_mail_with(&mail, policy.trusted, policy.own_received_lines);
                let parsed = decide::ParsedRequest::of(&mail);
                let (by_company, by_sender) = cache.contracts_of(home, &mail, &parsed)?;
                let (d, revoke) = validate_mail(
                    home,
                    (&mail, &msg.raw, &parsed),
                    &sender_auth,
                    (by_company.as_ref(), by_sender.as_ref()),
                    (images, now),
                )?;
                destroy = revoke;
                // Only registrations are resent; a cancellation or a
                // migration naming the same project is another request.
                let registration = parsed.kind() == fields::RequestKind::Registration
                    && decide::intent_of(&mail, &parsed) == decide::Intent::Registration;
                if let (true, Some(from), Some(company), Some(project)) =
                    (registration, mail.single_from(), parsed.company_named(), parsed.project_named())
                {
                    let app = by_company.as_ref().map_or("", |c| c.terms.product);
                    request_key = Some(live::request_key(sender_auth.is_pass(), from, &company, app, project));
                }
                // The parser hashed the bytes already.
                let sha = mail.raw_sha256;
                (Some(mail), d, sender_auth.is_pass(), by_sender, sha)
            }
            Err(e) => (None, decide::unparseable(&e), false, None, message::sha256(&msg.raw)),
        },
    };
    let dedup_key = mail.as_ref().map_or_else(|| hex::encode(&raw_sha), |m| m.dedup_key.clone());
    let automatic = mail.as_ref().and_then(|m| m.automatic.clone());
    Ok(Assessed {
        mail,
        decision,
        auth_ok,
        sender_contract,
        dedup_key,
        raw_sha256: raw_sha,
        destroy,
        request_key,
        automatic,
    })
}

/// Signs the license of an assessed message, if it gets one. Here, before
/// the transaction: slow work outside the write lock. Whether the message
/// was decided before is told inside the transaction, which then drops this
/// license; a signing error waits for that check, so that an old mail stays
/// a duplicate even once the issuing key can no longer sign.
fn sign(
    home: &Home,
    a: &Assessed,
    signer: &mut Option<Signer>,
    now: Timestamp,
) -> Result<Option<SignedLicense>, Error> {
    let Outcome::Issue(plan) = &a.decision.outcome else {
        return Ok(None);
    };
    let signer = match signer {
        Some(s) => s,
        None => signer.insert(home.signer(now)?),
    };
    signer.sign(&plan.to_request(PathBuf::new(), false), now).map(Some)
}

/// The reply to queue with the decision, built now: only to the contract's
/// address (the sender, when it is one), and only when the sender may get one.
fn reply_for(
    a: &Assessed,
    signed: &Result<Option<SignedLicense>, Error>,
    reply_from: &str,
    now: Timestamp,
) -> Result<Option<outbox::CheckedReply>, Error> {
    let decision = &a.decision;
    Ok(match (&decision.outcome, signed, &a.mail) {
        // A destroy request is confirmed by revoke's mail.
        _ if a.destroy.is_some() => None,
        // The image goes with a reply of its own once the license is recorded.
        (Outcome::Issue(plan), _, _) if plan.kind == fanlic_formats::LicenseKind::PrivateCloud => None,
        (Outcome::Issue(plan), Ok(Some(s)), Some(m)) if decision.reply_allowed => {
            Some(outbox::CheckedReply::new(license_reply(reply_from, &plan.sender, m, &s.armored), now)?)
        }
        (Outcome::Reject(rs), _, Some(m)) if decision.reply_allowed => {
            match a.sender_contract.as_ref().filter(|c| c.enabled).and_then(|_| m.single_from()) {
                Some(to) => Some(outbox::CheckedReply::new(rejection_reply(reply_from, to, m, rs), now)?),
                None => None,
            }
        }
        _ => None,
    })
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

/// [`prepare`] for each message of a batch (contracts looked up once for
/// the batch); `signer` is made at the first license and kept.
fn prepare_all(
    home: &mut Home,
    batch: &[Incoming],
    (trusted, images): (&[String], &Images),
    signer: &mut Option<Signer>,
    now: Timestamp,
) -> Result<Vec<Result<Prepared, Error>>, Error> {
    let mut cache = ContractCache::default();
    let reply_from = home.reply_from()?;
    let policy = SenderPolicy { trusted, own_received_lines: home.own_received_lines()? };
    let assessed: Vec<Result<Assessed, Error>> =
        batch.iter().map(|item| assess(home, item, &policy, &mut cache, (images, now))).collect();
    // All the batch's signatures one after the other: the signing key's
    // tables stay in the CPU cache (interleaved with parsing, each signature
    // cost twice as much).
    let signed: Vec<Result<Option<SignedLicense>, Error>> =
        assessed.iter().map(|a| a.as_ref().map_or(Ok(None), |a| sign(home, a, signer, now))).collect();
    let mut prepared = Vec::with_capacity(assessed.len());
    for (a, signed) in assessed.into_iter().zip(signed) {
        let one = (|| {
            let a = a?;
            let reply = reply_for(&a, &signed, &reply_from, now)?;
            let destroy = match a.destroy {
                Some(plan) => {
                    let mails = revoke::revoke_confirmations(home, &plan.license_id.to_string(), now)?;
                    let mails = match mails {
                        Ok(replies) => Ok(replies
                            .into_iter()
                            .map(|r| outbox::CheckedReply::new(r, now))
                            .collect::<Result<Vec<_>, _>>()?),
                        Err(why) => Err(why),
                    };
                    Some((plan, mails))
                }
                None => None,
            };
            Ok(Prepared {
                mail: a.mail,
                decision: a.decision,
                auth_ok: a.auth_ok,
                dedup_key: a.dedup_key,
                raw_sha256: a.raw_sha256,
                signed,
                reply,
                destroy,
                request_key: a.request_key,
                automatic: a.automatic,
            })
        })();
        prepared.push(one);
    }
    Ok(prepared)
}

/// The recording half of [`ingest_batch`].
fn commit_batch(
    home: &mut Home,
    batch: &[Incoming],
    prepared: Vec<Result<Prepared, Error>>,
    (images, now): (&Images, Timestamp),
) -> Result<Vec<Result<IngestOutcome, Error>>, Error> {
    {
        let (conn, path) = home.conn_mut();
        use_wal(conn, path)?;
    }
    let home_dir = home.dir().to_owned();
    let reply_from = home.reply_from()?;

    let (conn, path) = home.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store::err(path, "cannot start a transaction"))?;
    let mut results: Vec<Result<IngestOutcome, Error>> = Vec::with_capacity(batch.len());
    for (item, p) in batch.iter().zip(prepared) {
        let result = p.and_then(|p| {
            let run = |sql: &str, what| {
                tx.prepare_cached(sql).and_then(|mut s| s.execute([])).map_err(store::err(path, what))
            };
            run("SAVEPOINT message", "cannot start a savepoint")?;
            match record(&tx, path, &home_dir, (item, p), (&reply_from, now)) {
                Ok(outcome) => {
                    run("RELEASE message", "cannot release a savepoint")?;
                    Ok(outcome)
                }
                Err(e) => {
                    run("ROLLBACK TO message", "cannot roll back a savepoint")?;
                    run("RELEASE message", "cannot release a savepoint")?;
                    Err(e)
                }
            }
        });
        results.push(result);
    }
    tx.commit().map_err(store::err(path, "cannot commit"))?;

    // The files, after the commit: their bytes are in the database, so a
    // crash before they are on disk loses nothing (see `repair_license_file`).
    // A file that cannot be written leaves its message in place (an `Err`
    // here): the decision stands, and the next run, finding it a duplicate,
    // writes the file again.
    let unwritten = |e: Error| Error::LicenseFileNotWritten { reason: e.to_string() };
    let mut wrote: Vec<usize> = Vec::new();
    for (i, result) in results.iter_mut().enumerate() {
        let Ok(outcome) = result else { continue };
        let written = match outcome.decision {
            "issued" => match (&outcome.license_id, outcome.pending_file.take()) {
                (Some(lid), Some(armored)) => write_new_license_file(&home_dir, lid, &armored).map(|path| {
                    outcome.files.push(path);
                    wrote.push(i);
                }),
                _ => Ok(()),
            },
            "duplicate" => match outcome.license_id.clone() {
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
                *r = Err(Error::LicenseFileNotWritten { reason: text.clone() });
            }
        }
    }
    // Private cloud: the image and the reply carrying it, once the license
    // is committed (see `migrate`); for a duplicate, whatever of them a
    // crash left undone. A failure leaves the message unacknowledged.
    for result in &mut results {
        let Ok(outcome) = result else { continue };
        let due = outcome.image_owed || (outcome.decision == "duplicate" && outcome.license_id.is_some());
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
                    e @ Error::ImageNotDelivered { .. } => e,
                    e => Error::ImageNotDelivered {
                        license_id: outcome.license_id.clone().unwrap_or_default(),
                        reason: e.to_string(),
                    },
                });
            }
        }
    }
    Ok(results)
}

/// The reply recorded on a decision.
fn decision_outbox(home: &mut Home, decision_id: i64) -> Result<Option<i64>, Error> {
    let (conn, path) = home.conn_mut();
    conn.query_row("SELECT outbox_id FROM decisions WHERE decision_id = ?1", params![decision_id], |r| r.get(0))
        .map_err(store::err(path, "cannot read the decisions"))
}

/// Writes one prepared message's decision in the caller's transaction.
///
/// Here, under the write lock, the request meets what is recorded: an
/// earlier decision of the same message (a duplicate), a held decision of
/// the same request (the resend joins it), and the live licenses of its
/// company ([`live::standing`]: the same project's license is sent again,
/// other terms or a look-alike project are held, a new project past the
/// contract's count is rejected). A migration supersedes by design and is
/// not held.
fn record(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    home_dir: &Path,
    (item, mut p): (&Incoming, Prepared),
    (reply_from, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let signed = core::mem::replace(&mut p.signed, Ok(None));
    let reply = p.reply.take();
    let mail = p.mail.as_ref();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned).or_else(|| m.from.first().cloned()));
    if let Some((id, what, license_id)) = earlier_decision(tx, path, &p.dedup_key, p.auth_ok)? {
        let reasons = vec![(
            "duplicate".to_owned(),
            format!("This message was already decided ({what}, decision {id}); nothing was done again."),
        )];
        audit(tx, path, Some(id), &p.dedup_key, Action::Duplicate, &reasons, license_id.as_deref(), now, INGEST_ACTOR)?;
        return Ok(IngestOutcome {
            source: item.source().to_owned(),
            message_id,
            from,
            decision: "duplicate",
            reasons,
            license_id,
            files: Vec::new(),
            decision_id: Some(id),
            outbox_id: None,
            pending_file: None,
            image_owed: false,
        });
    }
    if let Some(loop_kind) = &p.automatic {
        let reasons = vec![(loop_kind.code().to_owned(), loop_kind.message())];
        return decide(tx, path, (item, &p), Decided::new("ignored", Action::Ignored, reasons), now);
    }
    if let Some((plan, mails)) = p.destroy {
        return record_destroy(tx, path, (item, mail, &p.dedup_key, p.auth_ok, p.raw_sha256), (plan, mails), now);
    }

    let decision = &p.decision;
    // A resend of a request staff still hold joins it: one item to decide.
    if matches!(decision.outcome, Outcome::Issue(_) | Outcome::Hold(_))
        && let Some(key) = p.request_key.as_deref()
        && let Some(held_id) = held_request(tx, path, key)?
    {
        let reasons = vec![(
            decide::JOINED_HELD.to_owned(),
            format!("A resend of the request held as decision {held_id}; staff decide them together."),
        )];
        let mut d = Decided::new("joined", Action::Joined, reasons);
        d.joined_to = Some(held_id);
        return decide(tx, path, (item, &p), d, now);
    }
    if let (Outcome::Issue(plan), Some(m)) = (&decision.outcome, mail)
        && plan.migration.is_none()
    {
        let standing = live::standing(
            &crate::store::Tx::over(tx, path),
            (&plan.company, plan.app, &plan.project),
            &terms_of(plan),
            (Some(plan.max_licenses), false),
        )?;
        if let Standing::Same(l) = standing {
            return record_resent(tx, path, (item, &p, m), (plan, l), (reply_from, now));
        }
        if let Some(reason) = decide::standing_reason(&standing, &plan.project) {
            let reasons = pairs(core::slice::from_ref(&reason));
            let mut d = if matches!(standing, Standing::Full { .. }) {
                let mut d = Decided::new("rejected", Action::Rejected, reasons);
                if decision.reply_allowed {
                    let reply = rejection_reply(reply_from, &plan.sender, m, &[reason]);
                    d.outbox_id = Some(outbox::enqueue_checked(tx, outbox::CheckedReply::new(reply, now)?, now)?);
                }
                d
            } else {
                Decided::new("held", Action::Held, reasons)
            };
            d.license_id = None;
            return decide(tx, path, (item, &p), d, now);
        }
    }

    // Not decided before: a signing error counts now.
    let signed = signed?;
    let (label, action, reasons, license_id) = match (&decision.outcome, &signed, mail) {
        (Outcome::Issue(plan), Some(s), Some(_)) => {
            // A migration: the old license is revoked and superseded with
            // the new one recorded, in this message's savepoint.
            if let Some(m) = plan.migration.filter(|m| m.revoke) {
                let reason = private_cloud::migrated_reason(&s.license_id);
                revoke::revoke_in(&crate::store::Tx::over(tx, path), &m.old.to_string(), &reason, INGEST_ACTOR, now)?;
            }
            if let Some(m) = plan.migration {
                let old = m.old.to_string();
                live::set_state(tx, path, &old, live::LicenseState::Superseded)?;
                let why = format!("superseded by {}", s.license_id);
                let entry = crate::store::audit::Entry {
                    license_id: Some(&old),
                    why: &why,
                    ..crate::store::audit::Entry::new(Action::Supersede, INGEST_ACTOR, now)
                };
                crate::store::audit::record(tx, path, &entry)?;
            }
            let output = license_path(home_dir, &s.license_id.to_string());
            issue::record_license(&crate::store::Tx::over(tx, path), s, &output)?;
            ("issued", Action::Issued, Vec::new(), Some(s.license_id.to_string()))
        }
        (Outcome::Reject(rs), _, Some(_)) => ("rejected", Action::Rejected, pairs(rs), None),
        (Outcome::Hold(rs), _, _) => ("held", Action::Held, pairs(rs), None),
        (Outcome::Issue(_), _, _) => {
            return Err(store::corrupt(path, "a decision seen before this message vanished; ingest it again"));
        }
        (outcome, _, _) => ("rejected", Action::Rejected, pairs(outcome_reasons(outcome)), None),
    };
    // The reply was built and checked when the message was prepared.
    let outbox_id = match reply {
        Some(reply) => Some(outbox::enqueue_checked(tx, reply, now)?),
        None => None,
    };
    let image_owed = label == "issued"
        && matches!(&decision.outcome, Outcome::Issue(plan) if plan.kind == fanlic_formats::LicenseKind::PrivateCloud);
    let pending_file = signed.as_ref().filter(|_| label == "issued").map(|s| s.armored.clone());
    let mut d = Decided::new(label, action, reasons);
    d.license_id = license_id;
    d.outbox_id = outbox_id;
    let mut outcome = decide(tx, path, (item, &p), d, now)?;
    outcome.image_owed = image_owed;
    outcome.pending_file = pending_file;
    Ok(outcome)
}

/// What [`decide`] records.
struct Decided {
    label: &'static str,
    action: Action,
    reasons: Vec<(String, String)>,
    license_id: Option<String>,
    outbox_id: Option<i64>,
    joined_to: Option<i64>,
}

impl Decided {
    fn new(label: &'static str, action: Action, reasons: Vec<(String, String)>) -> Self {
        Self { label, action, reasons, license_id: None, outbox_id: None, joined_to: None }
    }
}

/// Records a decision row (and its audit entry) for a prepared message.
fn decide(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    (item, p): (&Incoming, &Prepared),
    d: Decided,
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let mail = p.mail.as_ref();
    let source = item.source().to_owned();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned).or_else(|| m.from.first().cloned()));
    let decision_id = insert_decision(
        tx,
        path,
        &NewDecision {
            dedup_key: &p.dedup_key,
            message_id: message_id.as_deref(),
            source: &source,
            from: from.as_deref().unwrap_or_default(),
            subject: mail.map(|m| m.subject.as_str()).unwrap_or_default(),
            decision: d.label,
            action: d.action,
            reasons: &d.reasons,
            license_id: d.license_id.as_deref(),
            authenticated: p.auth_ok,
            raw: item.raw(),
            raw_size: item.size(),
            raw_sha256: p.raw_sha256,
            outbox_id: d.outbox_id,
            at: now,
            by: INGEST_ACTOR,
            request_key: p.request_key.as_deref(),
            joined_to: d.joined_to,
        },
    )?;
    Ok(IngestOutcome {
        source,
        message_id,
        from,
        decision: d.label,
        reasons: d.reasons,
        license_id: d.license_id,
        files: Vec::new(),
        decision_id: Some(decision_id),
        outbox_id: d.outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// The terms of a plan, as [`live::standing`] compares them.
fn terms_of(plan: &decide::IssuePlan) -> live::Terms {
    live::Terms { kind: plan.kind, version: plan.version, nodes: plan.nodes, expiry: plan.expiry }
}

/// The held decision of the request `key`, if one is still held.
fn held_request(conn: &rusqlite::Connection, path: &Path, key: &str) -> Result<Option<i64>, Error> {
    conn.prepare_cached(
        "SELECT decision_id FROM decisions WHERE request_key = ?1 AND decision = 'held' ORDER BY decision_id LIMIT 1",
    )
    .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
    .map_err(store::err(path, "cannot read the decisions"))
}

/// How long after one resent reply the next resend of the same license is
/// recorded without an answer: a customer's "send again" loop, or a mail
/// loop, gets one reply a day.
pub const RESEND_INTERVAL_SECS: u64 = 24 * 60 * 60;

/// A resend of a request whose project already holds a live license with
/// the same terms: no new license; the live one goes out again (its image
/// too, for private cloud), at most once per license per
/// [`RESEND_INTERVAL_SECS`].
fn record_resent(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    (item, p, mail): (&Incoming, &Prepared, &RegistrationMail),
    (plan, live): (&decide::IssuePlan, live::LiveLicense),
    (reply_from, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let last: Option<i64> = tx
        .prepare_cached(
            "SELECT max(decided_at) FROM decisions
             WHERE license_id = ?1 AND decision = 'resent' AND reasons LIKE '%\"resent\"%'",
        )
        .and_then(|mut s| s.query_row(params![live.license_id], |r| r.get(0)))
        .map_err(store::err(path, "cannot read the decisions"))?;
    let limited = last.is_some_and(|t| now.0.saturating_sub(u64::try_from(t).unwrap_or(0)) < RESEND_INTERVAL_SECS);
    let answer = p.decision.reply_allowed && !limited;
    let (code, message) = if limited {
        (
            decide::RESEND_LIMITED,
            format!(
                "Project {:?} already has license {}; it was sent again less than 24 hours ago, so this resend \
                 is recorded and not answered.",
                plan.project, live.license_id
            ),
        )
    } else {
        (
            decide::RESENT,
            format!(
                "Project {:?} already has license {} with these terms; it is sent again (no new license).",
                plan.project, live.license_id
            ),
        )
    };
    let mut d = Decided::new("resent", Action::Resent, vec![(code.to_owned(), message)]);
    d.license_id = Some(live.license_id.clone());
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    if answer && !private_cloud {
        let reply = license_reply(reply_from, &plan.sender, mail, &live.armored);
        d.outbox_id = Some(outbox::enqueue_checked(tx, outbox::CheckedReply::new(reply, now)?, now)?);
    }
    let mut outcome = decide(tx, path, (item, p), d, now)?;
    // The image and its reply follow the commit, as for a new license.
    outcome.image_owed = answer && private_cloud;
    Ok(outcome)
}

/// Records a destroy request carried out: the license revoked (audited as
/// `fanlic revoke` does), its confirmation mails queued, and the decision
/// (`issued`: the request was granted; no license of its own; the revoked
/// license in its reasons as `license_revoked`), in the caller's
/// transaction.
fn record_destroy(
    tx: &rusqlite::Transaction<'_>,
    path: &Path,
    (item, mail, dedup_key, authenticated, raw_sha256): (&Incoming, Option<&RegistrationMail>, &str, bool, [u8; 32]),
    (plan, mails): (RevokePlan, Result<Vec<outbox::CheckedReply>, String>),
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let lid = plan.license_id.to_string();
    revoke::revoke_in(&crate::store::Tx::over(tx, path), &lid, &plan.reason, INGEST_ACTOR, now)?;
    let (outbox_id, note) = match mails {
        Ok(replies) => {
            let mut first = None;
            for r in replies {
                let id = outbox::enqueue_checked(tx, r, now)?;
                first = first.or(Some(id));
            }
            (first, String::from("; a confirmation mail is queued"))
        }
        Err(why) => (None, format!("; no confirmation mail: {why}")),
    };
    let reasons = vec![(
        "license_revoked".to_owned(),
        format!("License {lid} was revoked at the customer's request (destroy the old authorization component){note}."),
    )];
    let source = item.source().to_owned();
    let message_id = mail.and_then(|m| m.message_id.clone());
    let from = mail.and_then(|m| m.single_from().map(str::to_owned));
    let decision_id = insert_decision(
        tx,
        path,
        &NewDecision {
            dedup_key,
            message_id: message_id.as_deref(),
            source: &source,
            from: from.as_deref().unwrap_or_default(),
            subject: mail.map(|m| m.subject.as_str()).unwrap_or_default(),
            decision: "revoked",
            action: Action::Destroyed,
            reasons: &reasons,
            license_id: None,
            authenticated,
            raw: item.raw(),
            raw_size: item.size(),
            raw_sha256,
            outbox_id,
            at: now,
            by: INGEST_ACTOR,
            request_key: None,
            joined_to: None,
        },
    )?;
    Ok(IngestOutcome {
        source,
        message_id,
        from,
        decision: "revoked",
        reasons,
        license_id: Some(lid),
        files: Vec::new(),
        decision_id: Some(decision_id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// Puts the database in write-ahead-log mode with `synchronous = FULL`, once
/// (the journal mode is stored in the database file; later calls only read it).
///
/// Why: in the default rollback-journal mode every decision's commit creates,
/// fsyncs and deletes `fanlic.db-journal` and fsyncs the database (several
/// fsyncs and file creations per message); in WAL mode a commit appends to
/// `fanlic.db-wal` and fsyncs it once. `synchronous = FULL` (not `NORMAL`)
/// keeps that fsync at *every* commit, so a decision is durable, power loss
/// included, before `ingest_one` returns and the caller acknowledges the
/// message (moves it to the Maildir's `cur/`): with `NORMAL` the last commits
/// could roll back on power loss after their messages were acknowledged, and
/// those mails would be lost. If WAL cannot be set (another connection is
/// open, or a file system without shared memory), the database stays in its
/// journal mode, which is as safe, only slower.
fn use_wal(conn: &rusqlite::Connection, path: &Path) -> Result<(), Error> {
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .map_err(store::err(path, "cannot read the journal mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // The answer is the mode now in force; anything but WAL is kept as is.
        let _: Option<String> = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).ok();
    }
    conn.pragma_update(None, "synchronous", "FULL").map_err(store::err(path, "cannot configure"))
}

/// The earlier decision this message duplicates: same dedup key, and a
/// sender authenticated then, or as (un)authenticated as now.
fn earlier_decision(
    conn: &rusqlite::Connection,
    path: &Path,
    dedup_key: &str,
    authenticated: bool,
) -> Result<Option<(i64, String, Option<String>)>, Error> {
    conn.prepare_cached(
        "SELECT decision_id, decision, license_id FROM decisions
         WHERE dedup_key = ?1 AND (authenticated = ?2 OR authenticated = 1)
         ORDER BY authenticated DESC, decision_id LIMIT 1",
    )
    .and_then(|mut s| {
        s.query_row(params![dedup_key, authenticated], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()
    })
    .map_err(store::err(path, "cannot read the decisions"))
}

fn outcome_reasons(outcome: &Outcome) -> &[Reason] {
    match outcome {
        Outcome::Issue(_) => &[],
        Outcome::Reject(r) | Outcome::Hold(r) => r,
    }
}

/// A recorded decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRow {
    /// Its id (for `approve` / `reject`).
    pub id: i64,
    /// The dedup key.
    pub dedup_key: String,
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// Where the message came from.
    pub source: String,
    /// The sender, normalized.
    pub from: String,
    /// The subject.
    pub subject: String,
    /// `issued`, `rejected` or `held`.
    pub decision: String,
    /// `(code, message)` of every reason.
    pub reasons: Vec<(String, String)>,
    /// The license, if issued.
    pub license_id: Option<String>,
    /// Whether the sender was authenticated.
    pub authenticated: bool,
    /// The raw message, as much of it as is kept ([`DecisionRow::raw_kept`]).
    pub raw: Vec<u8>,
    /// How much of the message `raw` holds.
    pub raw_kept: RawCopy,
    /// The whole message's size in bytes.
    pub raw_size: u64,
    /// SHA-256 of the whole message, lowercase hex (for mail too large to
    /// read: of its source and size).
    pub raw_sha256: String,
    /// When decided.
    pub decided_at: Timestamp,
    /// By whom.
    pub decided_by: String,
    /// How many resends of the same request joined this one while it was held.
    pub resends_joined: u64,
}

/// How much of a decision's message is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RawCopy {
    /// The whole message.
    Whole,
    /// Its first [`RAW_KEPT_BYTES`] only (or nothing, for a message too
    /// large to read): rejected or ignored mail.
    Truncated,
    /// Removed by `fanlic prune`; the digest and size stay.
    Pruned,
}

impl RawCopy {
    /// The stored text: `whole`, `truncated`, `pruned`.
    pub fn as_str(self) -> &'static str {
        match self {
            RawCopy::Whole => "whole",
            RawCopy::Truncated => "truncated",
            RawCopy::Pruned => "pruned",
        }
    }

    fn parse(s: &str) -> RawCopy {
        match s {
            "truncated" => RawCopy::Truncated,
            "pruned" => RawCopy::Pruned,
            _ => RawCopy::Whole,
        }
    }
}

impl DecisionRow {
    /// The fields of the message, when it is kept whole (a cut or pruned
    /// copy is not parsed: what it would show could mislead).
    fn mail(&self) -> Option<RegistrationMail> {
        (self.raw_kept == RawCopy::Whole).then(|| message::parse(&self.raw).ok()).flatten()
    }

    /// What is kept of the message, for people; `None` when it is whole.
    pub fn raw_note(&self) -> Option<String> {
        match self.raw_kept {
            RawCopy::Whole => None,
            RawCopy::Truncated => Some(format!(
                "only the first {} of its {} bytes are kept (rejected or ignored mail); SHA-256 {}",
                self.raw.len(),
                self.raw_size,
                self.raw_sha256
            )),
            RawCopy::Pruned => Some(format!(
                "its raw copy ({} bytes) was removed by `fanlic prune`; SHA-256 {}",
                self.raw_size, self.raw_sha256
            )),
        }
    }

    /// As JSON, with the fields parsed from the message.
    pub fn to_json(&self) -> Value {
        let mail = self.mail();
        json!({
            "id": self.id,
            "source": self.source,
            "message_id": self.message_id,
            "from": self.from,
            "subject": self.subject,
            "decision": self.decision,
            "reasons": self.reasons.iter().map(|(c, m)| json!({"code": c, "message": m})).collect::<Vec<_>>(),
            "license_id": self.license_id,
            "authenticated": self.authenticated,
            "company": mail.as_ref().and_then(decide::company_named),
            "reply_to": mail.as_ref().map(|m| m.reply_to.clone()).unwrap_or_default(),
            "text": mail.as_ref().map(|m| m.text.clone()).unwrap_or_default(),
            "decided_at": self.decided_at.to_string(),
            "decided_by": self.decided_by,
            "resends_joined": self.resends_joined,
            "raw": {
                "kept": self.raw_kept.as_str(),
                "stored_bytes": self.raw.len(),
                "size": self.raw_size,
                "sha256": self.raw_sha256,
            },
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mail = self.mail();
        let mut out = format!(
            "#{id} {decision}  {from}  \"{subject}\"\n  source: {source}\n  message id: {mid}\n  authenticated: {auth}\n  company named: {company}\n  decided {at} by {by}\n",
            id = self.id,
            decision = self.decision,
            from = if self.from.is_empty() { "(no sender)" } else { &self.from },
            subject = self.subject,
            source = self.source,
            mid = self.message_id.as_deref().unwrap_or("(none)"),
            auth = if self.authenticated { "yes" } else { "no" },
            company = mail.as_ref().and_then(decide::company_named).unwrap_or_else(|| "(none)".to_owned()),
            at = self.decided_at,
            by = self.decided_by,
        );
        for (c, m) in &self.reasons {
            out.push_str(&format!("  - {c}: {m}\n"));
        }
        if self.resends_joined > 0 {
            out.push_str(&format!(
                "  resent {} more time(s) while held; those mails joined this one\n",
                self.resends_joined
            ));
        }
        if let Some(note) = self.raw_note() {
            out.push_str(&format!("  message: {note}\n"));
        }
        if let Some(m) = &mail {
            for line in m.text.lines().take(20) {
                out.push_str(&format!("  | {line}\n"));
            }
        }
        out
    }
}

const DECISION_COLUMNS: &str = "decision_id, dedup_key, message_id, source, from_addr, subject, decision, reasons,
     license_id, authenticated, raw, decided_at, decided_by,
     (SELECT count(*) FROM decisions j WHERE j.joined_to = decisions.decision_id),
     raw_kept, coalesce(raw_size, length(raw)), raw_sha256";

fn decision_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DecisionRow> {
    let at: i64 = r.get(11)?;
    Ok(DecisionRow {
        id: r.get(0)?,
        dedup_key: r.get(1)?,
        message_id: r.get(2)?,
        source: r.get(3)?,
        from: r.get(4)?,
        subject: r.get(5)?,
        decision: r.get(6)?,
        reasons: reasons_from_json(&r.get::<_, String>(7)?),
        license_id: r.get(8)?,
        authenticated: r.get(9)?,
        raw: r.get(10)?,
        decided_at: Timestamp(u64::try_from(at).unwrap_or(0)),
        decided_by: r.get(12)?,
        resends_joined: u64::try_from(r.get::<_, i64>(13)?).unwrap_or(0),
        raw_kept: RawCopy::parse(&r.get::<_, String>(14)?),
        raw_size: u64::try_from(r.get::<_, i64>(15)?).unwrap_or(0),
        raw_sha256: r.get(16)?,
    })
}

/// Decisions held for staff, oldest first.
pub fn review(home: &mut Home) -> Result<Vec<DecisionRow>, Error> {
    let (conn, path) = home.conn_mut();
    let mut stmt = conn
        .prepare(&format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE decision = 'held' ORDER BY decision_id"))
        .map_err(store::err(path, "cannot read the decisions"))?;
    let rows = stmt.query_map([], decision_row).map_err(store::err(path, "cannot read the decisions"))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(store::err(path, "cannot read the decisions"))
}

/// One decision by id.
pub fn decision(home: &mut Home, id: i64) -> Result<Option<DecisionRow>, Error> {
    let (conn, path) = home.conn_mut();
    conn.query_row(
        &format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE decision_id = ?1"),
        params![id],
        decision_row,
    )
    .optional()
    .map_err(store::err(path, "cannot read the decisions"))
}

fn held(home: &mut Home, id: i64) -> Result<DecisionRow, Error> {
    let row = decision(home, id)?
        .ok_or_else(|| Error::input("ID", &id.to_string(), "no such decision: `fanlic review` lists held ones"))?;
    if row.decision != "held" {
        return Err(Error::input(
            "ID",
            &id.to_string(),
            format!("decision {id} is {}, not held: only held decisions can be approved or rejected", row.decision),
        ));
    }
    Ok(row)
}

/// Staff approve a held decision: the mail is validated again as if its
/// sender were authenticated (staff checked it), with the holds approving
/// resolves set aside ([`decide::validate_for_approval`]: a special
/// requirements note, repeated fields); if that gives a license, it is
/// issued now, recorded and (for an authenticated sender only) a reply
/// queued. Refused, with the reasons, when anything else is still wrong
/// (for example the contract no longer exists, or private cloud).
pub fn approve(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<IngestOutcome, Error> {
    let row = held(home, id)?;
    if let Some(note) = row.raw_note() {
        return Err(Error::input("ID", &id.to_string(), format!("the held message is not whole: {note}")));
    }
    let mail = message::parse(&row.raw)
        .map_err(|e| Error::input("ID", &id.to_string(), format!("the held message no longer parses: {e}")))?;
    let parsed = decide::ParsedRequest::of(&mail);
    let (by_company, by_sender) = contracts_of(home, &mail, &parsed)?;
    // A private-cloud license goes out as an image: its server binary is
    // read (once) before anything is signed, and the reply with the image is
    // queued by `deliver_image` after the commit, as ingest does.
    let images = crate::ingest::private_cloud::Images::default();
    let images_unavailable = images.get(home).err().map(str::to_owned);
    let d: Decision = decide::validate_for_approval(
        &mail,
        &parsed,
        (by_company.as_ref(), by_sender.as_ref()),
        now,
        by,
        images_unavailable.as_deref(),
    );
    let Outcome::Issue(plan) = &d.outcome else {
        let why: Vec<String> = d.reasons().iter().map(|r| format!("{}: {}", r.code, r.message)).collect();
        return Err(Error::input(
            "ID",
            &id.to_string(),
            format!("cannot issue this request as it stands ({}); use `fanlic reject`", why.join("; ")),
        ));
    };
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    // One live license per project: approving a request whose project has a
    // live license with other terms reissues it (the new license supersedes
    // the old, which is revoked); one with the same terms sends it again.
    let similar_is_new = row.reasons.iter().any(|(c, _)| c == decide::SIMILAR_PROJECT);
    let standing_now = |home: &mut Home| -> Result<Standing, Error> {
        let (conn, path) = home.conn_mut();
        if plan.migration.is_some() {
            return Ok(Standing::Free);
        }
        live::standing(
            &crate::store::Tx::over(conn, path),
            (&plan.company, plan.app, &plan.project),
            &terms_of(plan),
            (Some(plan.max_licenses), similar_is_new),
        )
    };
    let standing = standing_now(home)?;
    let mut request = plan.to_request(PathBuf::new(), false);
    match &standing {
        Standing::Free => {}
        Standing::Differs(l, _) => {
            request.supersedes = Some(l.license_id.parse().map_err(|_| {
                store::corrupt(home.db_path(), format!("a license id {:?} does not parse", l.license_id))
            })?)
        }
        Standing::Same(l) => return approve_as_resend(home, (id, &row, &mail, &d), plan, l.clone(), (by, now)),
        other => {
            let why = decide::standing_reason(other, &plan.project).map(|r| r.message).unwrap_or_default();
            return Err(Error::input(
                "ID",
                &id.to_string(),
                format!(
                    "cannot issue this request as it stands ({why}); use `fanlic reject`, or raise the contract's \
                     count with `fanlic contract update --max-licenses N`"
                ),
            ));
        }
    }
    let signed = home.sign_license(&request, now)?;
    let home_dir = home.dir().to_owned();
    let reply_from = home.reply_from()?;
    let lid = signed.license_id.to_string();
    let (conn, path) = home.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store::err(path, "cannot start a transaction"))?;
    // Checked again under the write lock: a concurrent ingest or approve
    // may have issued for this project meanwhile.
    if plan.migration.is_none() {
        let again = live::standing(
            &crate::store::Tx::over(&tx, path),
            (&plan.company, plan.app, &plan.project),
            &terms_of(plan),
            (Some(plan.max_licenses), similar_is_new),
        )?;
        if again != standing {
            return Err(Error::input("ID", &id.to_string(), "the project's licenses changed meanwhile; approve again"));
        }
    }
    issue::supersede_live(&crate::store::Tx::over(&tx, path), &request, &lid, (by, now))?;
    issue::record_license(&crate::store::Tx::over(&tx, path), &signed, &license_path(&home_dir, &lid))?;
    let outbox_id = if row.authenticated && d.reply_allowed && !private_cloud {
        Some(outbox::enqueue(&tx, &license_reply(&reply_from, &plan.sender, &mail, &signed.armored), now)?)
    } else {
        None
    };
    let changed = tx
        .execute(
            "UPDATE decisions SET decision = 'issued', license_id = ?1, outbox_id = ?2, decided_at = ?3, decided_by = ?4
             WHERE decision_id = ?5 AND decision = 'held'",
            params![lid, outbox_id, store::int(now.0), by, id],
        )
        .map_err(store::err(path, "cannot record the decision"))?;
    if changed != 1 {
        return Err(Error::input("ID", &id.to_string(), "the decision changed meanwhile; run `fanlic review` again"));
    }
    audit(&tx, path, Some(id), &row.dedup_key, Action::Approved, &[], Some(&lid), now, by)?;
    tx.commit().map_err(store::err(path, "cannot commit"))?;
    let file = write_license_file(&home_dir, &lid, &signed.armored)?;
    let mut files = vec![file];
    let mut outbox_id = outbox_id;
    if private_cloud {
        // Idempotent: a crash here is repaired by the next ingest run, as
        // for an ingested request.
        if let Some(image) = crate::ingest::private_cloud::deliver_image(home, id, &images, now)? {
            files.push(image);
        }
        outbox_id = decision_outbox(home, id)?;
    }
    Ok(IngestOutcome {
        source: row.source,
        message_id: row.message_id,
        from: Some(row.from),
        decision: "issued",
        reasons: Vec::new(),
        license_id: Some(lid),
        files,
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// Approving a held request whose project already has a live license
/// with the same terms: no new license; the decision becomes `resent` and
/// the live license goes out again (its image after the commit, for private
/// cloud).
fn approve_as_resend(
    home: &mut Home,
    (id, row, mail, d): (i64, &DecisionRow, &RegistrationMail, &Decision),
    plan: &decide::IssuePlan,
    live: live::LiveLicense,
    (by, now): (&str, Timestamp),
) -> Result<IngestOutcome, Error> {
    let private_cloud = plan.kind == fanlic_formats::LicenseKind::PrivateCloud;
    let reply_from = home.reply_from()?;
    let reasons = vec![(
        decide::RESENT.to_owned(),
        format!(
            "Project {:?} already has license {} with these terms; it is sent again.",
            plan.project, live.license_id
        ),
    )];
    let (conn, path) = home.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store::err(path, "cannot start a transaction"))?;
    let outbox_id = if row.authenticated && d.reply_allowed && !private_cloud {
        Some(outbox::enqueue(&tx, &license_reply(&reply_from, &plan.sender, mail, &live.armored), now)?)
    } else {
        None
    };
    let changed = tx
        .execute(
            "UPDATE decisions SET decision = 'resent', reasons = ?1, license_id = ?2, outbox_id = ?3, decided_at = ?4,
                 decided_by = ?5 WHERE decision_id = ?6 AND decision = 'held'",
            params![reasons_json(&reasons), live.license_id, outbox_id, store::int(now.0), by, id],
        )
        .map_err(store::err(path, "cannot record the decision"))?;
    if changed != 1 {
        return Err(Error::input("ID", &id.to_string(), "the decision changed meanwhile; run `fanlic review` again"));
    }
    audit(&tx, path, Some(id), &row.dedup_key, Action::Resent, &reasons, Some(&live.license_id), now, by)?;
    tx.commit().map_err(store::err(path, "cannot commit"))?;
    let mut files = Vec::new();
    let mut outbox_id = outbox_id;
    if private_cloud {
        let images = crate::ingest::private_cloud::Images::default();
        if let Some(image) = crate::ingest::private_cloud::deliver_image(home, id, &images, now)? {
            files.push(image);
        }
        outbox_id = decision_outbox(home, id)?;
    }
    Ok(IngestOutcome {
        source: row.source.clone(),
        message_id: row.message_id.clone(),
        from: Some(row.from.clone()),
        decision: "resent",
        reasons,
        license_id: Some(live.license_id),
        files,
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}

/// Staff reject a held decision with `reason`. A reply saying so is
/// queued when `reply` is set, the sender was authenticated and is an
/// address of an enabled contract (never to an unauthenticated sender: a
/// spoofed From would make it go to someone who never wrote).
pub fn reject(
    home: &mut Home,
    id: i64,
    reason: &str,
    reply: bool,
    by: &str,
    now: Timestamp,
) -> Result<IngestOutcome, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::input("--reason", reason, "say why the request is rejected"));
    }
    let row = held(home, id)?;
    let mut reasons = row.reasons.clone();
    reasons.push(("staff_rejected".to_owned(), reason.to_owned()));
    let mail = if reply && row.authenticated { message::parse(&row.raw).ok() } else { None };
    let to = match &mail {
        Some(m) => match m.single_from() {
            Some(addr) => contracts::find_by_email(home, addr)?.filter(|c| c.enabled).map(|_| addr.to_owned()),
            None => None,
        },
        None => None,
    };
    let reply_from = home.reply_from()?;
    let (conn, path) = home.conn_mut();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store::err(path, "cannot start a transaction"))?;
    let outbox_id = match (&mail, &to) {
        (Some(mail), Some(to)) => {
            let why = Reason { code: "staff_rejected", message: reason.to_owned(), message_zh: reason.to_owned() };
            Some(outbox::enqueue(&tx, &rejection_reply(&reply_from, to, mail, &[why]), now)?)
        }
        _ => None,
    };
    let changed = tx
        .execute(
            "UPDATE decisions SET decision = 'rejected', reasons = ?1, outbox_id = ?2, decided_at = ?3, decided_by = ?4
             WHERE decision_id = ?5 AND decision = 'held'",
            params![reasons_json(&reasons), outbox_id, store::int(now.0), by, id],
        )
        .map_err(store::err(path, "cannot record the decision"))?;
    if changed != 1 {
        return Err(Error::input("ID", &id.to_string(), "the decision changed meanwhile; run `fanlic review` again"));
    }
    audit(&tx, path, Some(id), &row.dedup_key, Action::StaffRejected, &reasons, None, now, by)?;
    tx.commit().map_err(store::err(path, "cannot commit"))?;
    Ok(IngestOutcome {
        source: row.source,
        message_id: row.message_id,
        from: Some(row.from),
        decision: "rejected",
        reasons,
        license_id: None,
        files: Vec::new(),
        decision_id: Some(id),
        outbox_id,
        pending_file: None,
        image_owed: false,
    })
}
