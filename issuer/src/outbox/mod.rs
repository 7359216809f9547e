//! The reply outbox: replies queued in the store, rendered with lettre and
//! sent later by [`flush`], with retry and backoff, so that an SMTP outage
//! loses nothing.
//!
//! - [`enqueue`] inserts a [`Reply`] inside the caller's transaction, so the
//!   decision, the license and the outbox entry commit together. It refuses
//!   any address that is not an address of an enabled contract: replies never
//!   go to `Reply-To` nor to an unproven sender (no backscatter).
//! - [`flush`] renders every due entry (`In-Reply-To`, `References`, `Re:`
//!   subject, a short text/plain part, the attachments) and delivers it with
//!   an [`OutboxTransport`]: `.eml` files in a folder (the default,
//!   `HOME/outbox/`, folder 0700, files 0600, written atomically) or SMTP
//!   (plain, STARTTLS or implicit TLS via rustls, optional credentials).
//! - A transient failure keeps the entry `pending`: `attempts` grows and
//!   `next_attempt_at` moves back by [`backoff`] (1 minute, doubling, capped
//!   at 1 hour), for ever. A permanent failure (an SMTP 5xx reply, or a
//!   message that cannot be built) marks it `failed` with the reason; it is
//!   never retried automatically.
//! - Once a reply is sent, its attachments' bytes are deleted (a private
//!   cloud's image tar is several MiB and holds an image key); their name,
//!   size and SHA-256 stay, and [`list`] shows them. A reply that will be
//!   retried, or that failed, keeps its bytes.
//! - Several flushes may run at once on one database (a cron job and a
//!   person, two hosts): each leases the replies it sends ([`LEASE_SECS`],
//!   `outbox.leased_until` / `leased_by`), so no reply is sent by two.
//! - Delivery is at least once: if the process dies between the server's
//!   acceptance and the database update, a flush after its lease ran out
//!   sends it again, with the same `Message-ID` (fixed at enqueue) so the
//!   receiver can tell.

use crate::error::OutboxError;
use core::{fmt, time::Duration};
use std::{
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

use fanlic_formats::Timestamp;
use lettre::{
    Message,
    message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType},
    transport::smtp::client::TlsParameters,
};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::store::audit::Action;
pub use crate::store::{
    AttachmentInfo, Language, OutboxEntry, OutboxFilter, OutboxRow, OutboxStatus, Reply, ReplyAttachment,
};
use crate::store::{DueReply as Stored, Tx};
use crate::util::fsutil;

mod smtp;

pub use crate::home::DEFAULT_FROM;

/// The folder, inside the home, that file delivery writes to by default.
pub const OUTBOX_DIR: &str = "outbox";

/// Mode of the outbox folder: it holds bearer licenses.
pub const DIR_MODE: u32 = 0o700;

/// First retry delay, in seconds.
pub const BACKOFF_FIRST: u64 = 60;
/// Longest retry delay, in seconds.
pub const BACKOFF_MAX: u64 = 3600;

impl Reply {
    /// The usual reply to a registration mail: `Re:` subject, threading
    /// headers, the short text of [`license_text`] in `language`, and the
    /// license attached as `file_name`.
    #[allow(clippy::too_many_arguments)]
    pub fn license(
        to: &str,
        from: &str,
        request_subject: &str,
        request_message_id: Option<&str>,
        request_references: &[String],
        language: Language,
        file_name: &str,
        license: Vec<u8>,
    ) -> Self {
        let mut references = request_references.to_vec();
        if let Some(id) = request_message_id {
            references.push(id.to_owned());
        }
        Self {
            to: to.to_owned(),
            from: from.to_owned(),
            subject: re_subject(request_subject),
            in_reply_to: request_message_id.map(str::to_owned),
            references,
            language,
            body: license_text(language).to_owned(),
            attachments: vec![ReplyAttachment {
                file_name: file_name.to_owned(),
                content_type: "application/octet-stream".to_owned(),
                bytes: license,
            }],
        }
    }
}

/// The short text of a reply that carries a license.
pub fn license_text(language: Language) -> &'static str {
    match language {
        Language::En => {
            "Hello,\n\nYour license is attached. Save it as Container.lic and upload it on the \
             product's registration page.\n\nThis message was sent automatically; reply to it if \
             something is wrong.\n"
        }
        Language::Zh => {
            "您好：\n\n附件是您的授权文件。请保存为 Container.lic，并在产品的注册页面上传。\n\n\
             本邮件由系统自动发送；如有问题，请直接回复本邮件。\n"
        }
    }
}

/// `Re: ` + `subject`, unless it already starts with `Re:` (any case) or
/// `回复:`/`答复:` (either colon); an empty subject gives `Re: license`.
pub fn re_subject(subject: &str) -> String {
    let s = subject.trim();
    let lower = s.to_lowercase();
    let already = ["re:", "re：", "回复:", "回复：", "答复:", "答复："].iter().any(|p| lower.starts_with(p));
    if already {
        s.to_owned()
    } else if s.is_empty() {
        "Re: license".to_owned()
    } else {
        format!("Re: {s}")
    }
}

/// The delay before retry number `attempts` (1 = after the first failure):
/// [`BACKOFF_FIRST`] doubling, capped at [`BACKOFF_MAX`].
pub fn backoff(attempts: u32) -> u64 {
    let shift = attempts.saturating_sub(1).min(20);
    BACKOFF_FIRST.saturating_mul(1u64 << shift).min(BACKOFF_MAX)
}

fn domain_of(addr: &str) -> &str {
    let a = addr.trim().trim_end_matches('>');
    match a.rsplit_once('@') {
        Some((_, d)) if !d.is_empty() => d,
        _ => "localhost",
    }
}

/// Queues `reply` inside the caller's transaction `tx` and returns its
/// outbox id; nothing is sent until [`flush`]. Refuses
/// ([`OutboxError::ReplyNotToContract`]) a recipient that is not an address of an
/// enabled contract, and ([`OutboxError::ReplyInvalid`]) addresses, headers or
/// attachment types lettre would not accept, so that a queued reply can
/// always be built.
pub fn enqueue(tx: &Tx<'_>, reply: &Reply, now: Timestamp) -> Result<i64, Error> {
    enqueue_checked(tx, CheckedReply::new(reply.clone(), now)?, now)
}

/// A reply lettre builds, with its `Message-ID` chosen: [`enqueue`]'s
/// checks that need no database, done before the transaction (`fanlic
/// ingest` does them on the thread that prepares messages).
#[derive(Clone, Debug)]
pub struct CheckedReply {
    reply: Reply,
    message_id: String,
}

impl CheckedReply {
    /// Chooses the `Message-ID` and checks what lettre could refuse when
    /// building the message (the addresses, the attachment types): it is
    /// refused here, before it is queued.
    pub fn new(reply: Reply, now: Timestamp) -> Result<Self, Error> {
        let mut random = [0u8; 16];
        SystemRandom::new().fill(&mut random).map_err(|_| Error::Random)?;
        let message_id = format!("<fanlic.{}.{}@{}>", now.0, crate::util::hex::encode(&random), domain_of(&reply.from));
        parsed_parts(0, reply.to.trim(), &reply.from, &reply.attachments)?;
        Ok(Self { reply, message_id })
    }

    /// The recipient in the form the registry stores addresses in.
    pub fn recipient(&self) -> String {
        let to = &self.reply.to;
        crate::util::text::normalize_email("to", to).unwrap_or_else(|_| to.trim().to_lowercase())
    }
}

/// [`enqueue`] of a reply already checked: the recipient must still be an
/// address of an enabled contract, looked up in `tx`.
pub fn enqueue_checked(tx: &Tx<'_>, checked: CheckedReply, now: Timestamp) -> Result<i64, Error> {
    let to_contract = tx.is_enabled_contract_email(&checked.recipient())?;
    enqueue_looked_up(tx, checked, now, to_contract)
}

/// [`enqueue_checked`] with the recipient looked up already in `tx`
/// (`to_contract`: whether an enabled contract holds
/// [`CheckedReply::recipient`]), as `fanlic ingest` reads it with the rest
/// of a message's records.
pub(crate) fn enqueue_looked_up(
    tx: &Tx<'_>,
    checked: CheckedReply,
    now: Timestamp,
    to_contract: bool,
) -> Result<i64, Error> {
    if !to_contract {
        return Err(Error::Outbox(OutboxError::ReplyNotToContract { to: checked.reply.to.clone() }));
    }
    tx.insert_reply(&checked.reply, &checked.message_id, now)
}

/// [`enqueue`] in a transaction of its own, for callers with no decision to
/// commit alongside.
pub fn enqueue_one(home: &mut Home, reply: &Reply, now: Timestamp) -> Result<i64, Error> {
    home.store_mut().write(|tx| enqueue(tx, reply, now))
}

/// TLS on the SMTP connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// None: plain text (only for a relay on localhost or a test server).
    None,
    /// STARTTLS, required (default port 587).
    StartTls,
    /// Implicit TLS (default port 465).
    Tls,
}

impl SmtpTls {
    /// Parses `none`, `starttls` or `tls`.
    pub fn parse(option: &'static str, s: &str) -> Result<Self, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" | "ssl" => Ok(Self::Tls),
            _ => Err(Error::input(option, s, "expected none, starttls or tls")),
        }
    }

    /// The port used when none is given.
    pub fn default_port(self) -> u16 {
        match self {
            Self::None => 25,
            Self::StartTls => 587,
            Self::Tls => 465,
        }
    }
}

/// Where the SMTP server is and how to log in. The password is never
/// printed, not even by `Debug`.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name (also the name its TLS certificate must carry).
    pub host: String,
    /// Port [default: by `tls`].
    pub port: Option<u16>,
    /// TLS mode.
    pub tls: SmtpTls,
    /// User name and password, if the server wants a login.
    pub credentials: Option<(String, String)>,
    /// Connection and command timeout.
    pub timeout: Duration,
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("password", &self.credentials.as_ref().map(|_| "(hidden)"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpConfig {
    /// A server with no login, STARTTLS, a 30 second timeout.
    pub fn new(host: &str) -> Self {
        Self {
            host: host.to_owned(),
            port: None,
            tls: SmtpTls::StartTls,
            credentials: None,
            timeout: Duration::from_secs(30),
        }
    }

    /// The port in use.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.tls.default_port())
    }

    /// `smtp://host:port`, for reports (no user, no password).
    pub fn url(&self) -> String {
        let scheme = if self.tls == SmtpTls::Tls { "smtps" } else { "smtp" };
        format!("{scheme}://{}:{}", self.host, self.port())
    }

    /// Refuses settings no connection could use (a host name TLS cannot check).
    fn check(&self) -> Result<(), Error> {
        if self.tls != SmtpTls::None {
            TlsParameters::new_rustls(self.host.clone()).map_err(|e| {
                Error::Outbox(OutboxError::SmtpConfig { host: self.host.clone(), reason: e.to_string() })
            })?;
        }
        Ok(())
    }
}

/// How [`flush`] delivers.
#[derive(Clone, Debug)]
pub enum OutboxTransport {
    /// Writes each message as `ID.eml` into this folder (made 0700 if
    /// missing), mode 0600, atomically. The default is `HOME/outbox/`.
    Files(PathBuf),
    /// Sends over SMTP.
    Smtp(SmtpConfig),
}

impl OutboxTransport {
    /// The default: `.eml` files in the home's `outbox/` folder.
    pub fn default_files(home: &Home) -> Self {
        Self::Files(home.dir().join(OUTBOX_DIR))
    }
}

/// `Auto-Submitted: auto-replied` (RFC 3834 §5): every reply says a program
/// sent it, so that the customer's auto-responders do not answer it and
/// two programs cannot mail each other forever.
#[derive(Clone, Copy, Debug)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn core::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-replied".to_owned())
    }
}

/// Builds the message. Only `to` is a recipient: lettre derives the envelope
/// from `To`, and no `Reply-To`, `Cc` or `Bcc` is ever set.
fn render(s: &Stored) -> Result<Message, Error> {
    let bad = |what: &str, e: &dyn fmt::Display| {
        Error::Outbox(OutboxError::ReplyInvalid { id: s.id, reason: format!("{what}: {e}") })
    };
    let (to, from, types) = parsed_parts(s.id, &s.to, &s.from, &s.attachments)?;
    let mut b = Message::builder()
        .from(from)
        .to(to)
        .subject(s.subject.clone())
        .message_id(Some(s.message_id.clone()))
        .date(UNIX_EPOCH + Duration::from_secs(s.created_at.0))
        .header(AutoSubmitted);
    if let Some(id) = &s.in_reply_to {
        b = b.in_reply_to(id.clone());
    }
    if !s.references.is_empty() {
        b = b.references(s.references.join(" "));
    }
    let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(s.body.clone()));
    for (a, ct) in s.attachments.iter().zip(types) {
        parts = parts.singlepart(Attachment::new(a.file_name.clone()).body(a.bytes.clone(), ct));
    }
    // With a From and a To set, building cannot fail: what can is above.
    b.multipart(parts).map_err(|e| bad("message", &e))
}

/// What lettre may refuse in a reply: the two addresses and the attachment
/// types, parsed ([`CheckedReply::new`] checks only these, at a tenth of
/// the cost of rendering the message).
fn parsed_parts(
    id: i64,
    to: &str,
    from: &str,
    attachments: &[ReplyAttachment],
) -> Result<(Mailbox, Mailbox, Vec<ContentType>), Error> {
    let bad = |what: &str, e: &dyn fmt::Display| {
        Error::Outbox(OutboxError::ReplyInvalid { id, reason: format!("{what}: {e}") })
    };
    let to: Mailbox = to.parse().map_err(|e| bad("recipient", &e))?;
    let from: Mailbox = from.parse().map_err(|e| bad("sender", &e))?;
    let types = attachments
        .iter()
        .map(|a| ContentType::parse(&a.content_type).map_err(|e| bad("attachment type", &e)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((to, from, types))
}

impl OutboxEntry {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "to": self.to,
            "subject": self.subject,
            "language": self.language.as_str(),
            "message_id": self.message_id,
            "status": self.status.as_str(),
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at.to_string(),
            "last_error": self.last_error,
            "created_at": self.created_at.to_string(),
            "sent_at": self.sent_at.map(|t| t.to_string()),
            "sent_via": self.sent_via,
            "attachments": self.attachments.iter().map(|a| json!({
                "file_name": a.file_name,
                "size": a.size,
                "sha256": crate::util::hex::encode(&a.sha256),
                "stored": a.stored,
            })).collect::<Vec<_>>(),
        })
    }
}

/// Every queued reply, oldest first (`all`: also those sent).
pub fn list(home: &mut Home, all: bool) -> Result<Vec<OutboxEntry>, Error> {
    home.store().read(|tx| tx.outbox_entries(all))
}

/// Makes entry `id` due again at `now`: a failed entry becomes pending, an
/// entry backing off after a failed attempt stops waiting. Its attempts and
/// last error are kept (the backoff after a new failure goes on from
/// there). Delivery is still `fanlic outbox flush`'s. One audit row
/// (`outbox-retry`) under `by`. Refused when the entry is unknown, sent, or
/// queued and never tried.
pub fn retry(home: &mut Home, id: i64, by: &str, now: Timestamp) -> Result<OutboxRow, Error> {
    home.store_mut().write(|tx| {
        let Some(before) = tx.outbox_row(id)? else {
            return Err(Error::input("outbox id", &id.to_string(), "no such outbox entry"));
        };
        if !tx.retry_reply(id, now)? {
            let why = if before.status == OutboxStatus::Sent {
                "it is sent already"
            } else {
                "it is queued and has not failed: the next flush sends it"
            };
            return Err(Error::input("outbox id", &id.to_string(), why));
        }
        let why = format!(
            "outbox {id} to {} due again ({}, {} failed attempts{})",
            before.to,
            before.status.as_str(),
            before.attempts,
            before.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        );
        tx.audit(&crate::store::audit::Entry {
            why: &why,
            ..crate::store::audit::Entry::new(Action::OutboxRetry, by, now)
        })?;
        tx.outbox_row(id)?.ok_or_else(|| Error::input("outbox id", &id.to_string(), "no such outbox entry"))
    })
}

/// Human text for [`list`].
pub fn list_human(entries: &[OutboxEntry]) -> String {
    if entries.is_empty() {
        return "The outbox is empty.\n".to_owned();
    }
    let mut out = String::new();
    for e in entries {
        out.push_str(&format!("{}  {:<7}  {}  {}\n", e.id, e.status.as_str(), e.to, e.subject));
        match e.status {
            OutboxStatus::Sent => {
                let at = e.sent_at.map(|t| t.to_string()).unwrap_or_default();
                out.push_str(&format!("    sent {at} via {}\n", e.sent_via.as_deref().unwrap_or("?")));
            }
            _ => {
                out.push_str(&format!("    attempts {}, next {}\n", e.attempts, e.next_attempt_at));
                if let Some(err) = &e.last_error {
                    out.push_str(&format!("    last error: {err}\n"));
                }
            }
        }
        for a in &e.attachments {
            let kept = if a.stored { "" } else { ", deleted once sent" };
            out.push_str(&format!(
                "    attachment {} ({} bytes, sha256 {}{kept})\n",
                a.file_name,
                a.size,
                crate::util::hex::encode(&a.sha256)
            ));
        }
    }
    out
}

/// One entry [`flush`] could not deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlushFailure {
    /// Its outbox id.
    pub id: i64,
    /// The recipient.
    pub to: String,
    /// Why.
    pub error: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When it will be tried again; `None`: marked `failed`, not retried.
    pub retry_at: Option<Timestamp>,
}

/// What [`flush`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Delivered: (id, recipient, where to).
    pub sent: Vec<(i64, String, String)>,
    /// Not delivered.
    pub failures: Vec<FlushFailure>,
    /// Pending entries not yet due (backing off).
    pub not_due: u64,
    /// Due entries another flush holds (is sending, or was killed while
    /// sending: then they go out once its lease runs out).
    pub leased_elsewhere: u64,
    /// Entries this flush claimed but whose lease another flush took over
    /// (this one stalled past its lease): that flush records the outcome.
    pub lease_lost: Vec<i64>,
}

impl FlushReport {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "sent": self.sent.iter().map(|(id, to, via)| json!({"id": id, "to": to, "via": via})).collect::<Vec<_>>(),
            "failed": self.failures.iter().map(|f| json!({
                "id": f.id,
                "to": f.to,
                "error": f.error,
                "attempts": f.attempts,
                "retry_at": f.retry_at.map(|t| t.to_string()),
            })).collect::<Vec<_>>(),
            "not_due": self.not_due,
            "leased_elsewhere": self.leased_elsewhere,
            "lease_lost": self.lease_lost,
        })
    }

    /// Human text.
    pub fn human(&self) -> String {
        let mut out = format!(
            "{} sent, {} failed, {} waiting to retry later\n",
            self.sent.len(),
            self.failures.len(),
            self.not_due
        );
        if self.leased_elsewhere > 0 {
            out.push_str(&format!("{} being sent by another flush\n", self.leased_elsewhere));
        }
        for id in &self.lease_lost {
            out.push_str(&format!("lease lost on {id}: another flush took it over and records its outcome\n"));
        }
        for (id, to, via) in &self.sent {
            out.push_str(&format!("sent {id} to {to} via {via}\n"));
        }
        for f in &self.failures {
            let when = f.retry_at.map_or_else(|| "not retried (failed)".to_owned(), |t| format!("retry at {t}"));
            out.push_str(&format!("failed {} to {} (attempt {}; {when}): {}\n", f.id, f.to, f.attempts, f.error));
        }
        out
    }
}

enum Outcome {
    Sent(String),
    Retry(String),
    Failed(String),
}

fn deliver(s: &Stored, transport: &OutboxTransport, smtp: &mut Option<smtp::Session>) -> Outcome {
    let msg = match render(s) {
        Ok(m) => m,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    match transport {
        OutboxTransport::Files(dir) => {
            let file = dir.join(format!("{}.eml", s.id));
            // Replace: a file left by a flush that died before its database
            // update is the same message.
            match fsutil::write_atomic(&file, &msg.formatted(), fsutil::PRIVATE_MODE, true) {
                Ok(()) => Outcome::Sent(file.display().to_string()),
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
        OutboxTransport::Smtp(cfg) => {
            // One connection for the flush, made again after a failure.
            let sent = match smtp.take() {
                Some(session) => Ok(session),
                None => smtp::Session::open(cfg),
            }
            .and_then(|mut session| session.send(&msg).map(|()| session));
            match sent {
                Ok(session) => {
                    *smtp = Some(session);
                    Outcome::Sent(cfg.url())
                }
                Err(smtp::SendError::Smtp(e)) if e.is_permanent() => Outcome::Failed(format!("{}: {e}", cfg.url())),
                Err(smtp::SendError::Smtp(e)) => Outcome::Retry(format!("{}: {e}", cfg.url())),
                Err(smtp::SendError::Refused(why)) => Outcome::Failed(format!("{}: {why}", cfg.url())),
            }
        }
    }
}

/// Makes `dir` (and missing parents) with the outbox's mode; an existing
/// folder has its mode narrowed to 0700.
fn ensure_dir(dir: &Path) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(Error::io("cannot create the folder", dir))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
        .map_err(Error::io("cannot set the mode of", dir))
}

/// How long a flush holds the replies it has claimed before another flush
/// may take them, in seconds: long enough for one SMTP send with its
/// timeouts (the default timeout is 30 s a step, and a send that stalls
/// past that fails), short enough that the replies of a flush killed
/// mid-send go out again within minutes. A flush renews its leases before
/// each send once half of this has passed, so a long batch keeps them.
pub const LEASE_SECS: u64 = 120;

/// How many replies a flush claims at once: a few, so that two flushes
/// share the work and a killed one strands only these until its lease runs
/// out.
pub const CLAIM_BATCH: u32 = 16;

/// The environment variable that sets the lease, in seconds, instead of
/// [`LEASE_SECS`] (`fanlic outbox flush` reads it; its hidden flag is
/// `--lease-secs`). For tests that kill a flush and wait for its lease to
/// run out; a deployment keeps the default.
pub const LEASE_ENV: &str = "FANLIC_OUTBOX_LEASE_SECS";

/// How [`flush_with`] leases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlushOptions {
    /// Seconds a claimed reply stays this flush's ([`LEASE_SECS`]).
    pub lease_secs: u64,
    /// Replies claimed at once ([`CLAIM_BATCH`]).
    pub batch: u32,
}

impl Default for FlushOptions {
    fn default() -> Self {
        Self { lease_secs: LEASE_SECS, batch: CLAIM_BATCH }
    }
}

/// Who holds a lease: `host:pid:random`, unique to one flush (the random
/// part tells apart two flushes of one process, and a pid reused after a
/// crash), and readable in the table by an operator.
fn lease_holder() -> Result<String, Error> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let mut random = [0u8; 8];
    SystemRandom::new().fill(&mut random).map_err(|_| Error::Random)?;
    Ok(format!("{host}:{}:{}", std::process::id(), crate::util::hex::encode(&random)))
}

/// [`flush_with`] with the default lease ([`FlushOptions::default`]).
pub fn flush(home: &mut Home, transport: &OutboxTransport, now: Timestamp) -> Result<FlushReport, Error> {
    flush_with(home, transport, now, FlushOptions::default())
}

/// Delivers every pending reply due at `now` with `transport`, recording
/// each outcome at once (so a crash mid-flush loses nothing). A transient
/// failure is retried after [`backoff`]; a permanent one marks the entry
/// `failed`. Returns an error only for the database or the transport's
/// setup (the outbox folder, the SMTP settings), never for a failed
/// delivery, which the report lists.
///
/// Several flushes may run at once, in one process or many, on one
/// database: each claims a few due replies at a time ([`CLAIM_BATCH`]) with
/// a lease of `options.lease_secs`, in a short write transaction, and
/// records an outcome only while it still holds the lease. So no reply is
/// sent by two flushes, unless one was killed (or stalled past its lease)
/// after the SMTP server took the message and before the outcome was
/// recorded: then, once its lease has run out, another flush sends it again,
/// with the same `Message-ID` (fixed at enqueue).
pub fn flush_with(
    home: &mut Home,
    transport: &OutboxTransport,
    now: Timestamp,
    options: FlushOptions,
) -> Result<FlushReport, Error> {
    let store = home.store_mut();
    let holder = lease_holder()?;
    let lease = options.lease_secs.max(1);
    // `now` is when this flush started (what is due, and when a retry is
    // due, are counted from it); leases follow the time that has passed since.
    let started = std::time::Instant::now();
    let clock = || Timestamp(now.0.saturating_add(started.elapsed().as_secs()));
    let not_due = store.read(|tx| tx.replies_not_due(now))?;
    let mut report = FlushReport { not_due, ..FlushReport::default() };
    let mut smtp = None;
    let mut ready = false;
    loop {
        let t = clock();
        let until = Timestamp(t.0.saturating_add(lease));
        let batch = store.write(|tx| tx.claim_replies(now, t, until, &holder, options.batch.max(1)))?;
        if batch.is_empty() {
            break;
        }
        if !ready {
            // Set up once there is something to deliver.
            match transport {
                OutboxTransport::Files(dir) => ensure_dir(dir)?,
                // Checked before anything is claimed for it; connected at the first send.
                OutboxTransport::Smtp(cfg) => cfg.check()?,
            }
            ready = true;
        }
        let mut deadline = until;
        let mut held: Option<Vec<i64>> = None;
        for mut s in batch {
            // Renewed once less than half the lease is left, so that every
            // send starts with at least that much. Counted as others count
            // it: they compare whole seconds of the wall clock, which may be
            // up to a second ahead of `clock()`.
            let horizon = core::time::Duration::from_secs(deadline.0.saturating_sub(now.0.saturating_add(1)));
            if horizon.saturating_sub(started.elapsed()) < core::time::Duration::from_secs(lease) / 2 {
                let until = Timestamp(clock().0.saturating_add(lease));
                held = Some(store.write(|tx| tx.renew_leases(&holder, until))?);
                deadline = until;
            }
            if held.as_ref().is_some_and(|h| !h.contains(&s.id)) {
                // Another flush took it once this one's lease ran out.
                report.lease_lost.push(s.id);
                continue;
            }
            let Some(attachments) = store.read(|tx| tx.reply_attachments(s.id))? else {
                // Sent meanwhile by a flush that took it over (this one
                // stalled past its lease without renewing).
                report.lease_lost.push(s.id);
                continue;
            };
            s.attachments = attachments;
            let attempts = s.attempts;
            match deliver(&s, transport, &mut smtp) {
                Outcome::Sent(via) => {
                    // Sent: the attachments' bytes go, their digests stay; in
                    // one transaction with the status.
                    if store.write(|tx| tx.mark_reply_sent(s.id, now, &via, &holder))? {
                        report.sent.push((s.id, s.to, via));
                    } else {
                        report.lease_lost.push(s.id);
                    }
                }
                Outcome::Retry(error) => {
                    let attempts = attempts.saturating_add(1);
                    let at = Timestamp(now.0.saturating_add(backoff(attempts)));
                    if store.write(|tx| tx.mark_reply_retry(s.id, attempts, at, &error, &holder))? {
                        report.failures.push(FlushFailure { id: s.id, to: s.to, error, attempts, retry_at: Some(at) });
                    } else {
                        report.lease_lost.push(s.id);
                    }
                }
                Outcome::Failed(error) => {
                    let attempts = attempts.saturating_add(1);
                    if store.write(|tx| tx.mark_reply_failed(s.id, attempts, &error, &holder))? {
                        report.failures.push(FlushFailure { id: s.id, to: s.to, error, attempts, retry_at: None });
                    } else {
                        report.lease_lost.push(s.id);
                    }
                }
            }
        }
    }
    if let Some(session) = smtp {
        session.quit();
    }
    report.leased_elsewhere = store.read(|tx| tx.replies_leased_elsewhere(now, clock(), &holder))?;
    Ok(report)
}

/// SMTP settings from the environment: `FANLIC_SMTP_HOST` (none: `None`,
/// file delivery), `FANLIC_SMTP_PORT`, `FANLIC_SMTP_TLS` (`none`,
/// `starttls` (default), `tls`), `FANLIC_SMTP_USER` and
/// `FANLIC_SMTP_PASSWORD`. The password is read here only, never logged.
pub fn smtp_from_env() -> Result<Option<SmtpConfig>, Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let Some(host) = var("FANLIC_SMTP_HOST") else { return Ok(None) };
    let mut cfg = SmtpConfig::new(host.trim());
    if let Some(p) = var("FANLIC_SMTP_PORT") {
        cfg.port = Some(
            p.trim().parse().map_err(|_| Error::input("FANLIC_SMTP_PORT", &p, "expected a port number 1..65535"))?,
        );
    }
    if let Some(t) = var("FANLIC_SMTP_TLS") {
        cfg.tls = SmtpTls::parse("FANLIC_SMTP_TLS", &t)?;
    }
    if let Some(user) = var("FANLIC_SMTP_USER") {
        cfg.credentials = Some((user, std::env::var("FANLIC_SMTP_PASSWORD").unwrap_or_default()));
    }
    Ok(Some(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(backoff(1), 60);
        assert_eq!(backoff(2), 120);
        assert_eq!(backoff(6), 1920);
        assert_eq!(backoff(7), 3600);
        assert_eq!(backoff(u32::MAX), 3600);
    }

    #[test]
    fn subjects() {
        assert_eq!(re_subject("License request"), "Re: License request");
        assert_eq!(re_subject("RE: License request"), "RE: License request");
        assert_eq!(re_subject("回复：注册申请"), "回复：注册申请");
        assert_eq!(re_subject("  "), "Re: license");
    }

    #[test]
    fn rustls_with_ring_builds() {
        for tls in [SmtpTls::StartTls, SmtpTls::Tls, SmtpTls::None] {
            let mut c = SmtpConfig::new("mail.example.com");
            c.tls = tls;
            assert!(c.check().is_ok(), "{tls:?}");
        }
        assert_eq!(SmtpConfig::new("h").url(), "smtp://h:587");
    }

    #[test]
    fn password_not_in_debug() {
        let mut c = SmtpConfig::new("mail.example");
        c.credentials = Some(("u".to_owned(), "hunter2".to_owned()));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
