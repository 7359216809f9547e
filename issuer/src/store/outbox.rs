//! The reply outbox: queued replies with their attachments, their
//! delivery state ([`OutboxStatus`]) and retries.

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::Timestamp;

use super::{Tx, err, int, sha256};
use crate::Error;

/// Where a queued reply stands. Stored as its text ([`OutboxStatus::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboxStatus {
    /// Waiting to be delivered (or retried).
    Pending,
    /// Delivered.
    Sent,
    /// Given up after a permanent failure.
    Failed,
}

impl OutboxStatus {
    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }

    /// From the stored text.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Sent, Self::Failed].into_iter().find(|v| v.as_str() == s)
    }
}

/// Compares with the stored text (`status == "sent"`), for callers that
/// read the text form.
impl PartialEq<&str> for OutboxStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The language of the request, and so of the reply's text: the one
/// language type, the mail's.
pub use fanlic_mail::Language;

/// A file attached to a reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyAttachment {
    /// The file name the customer sees, e.g. `Container.lic`.
    pub file_name: String,
    /// Its MIME type, e.g. `application/octet-stream`.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// One reply, as queued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The recipient: an address of the contract, never `Reply-To`.
    pub to: String,
    /// The vendor's sender address (default [`DEFAULT_FROM`]).
    pub from: String,
    /// The subject, normally [`re_subject`] of the request's.
    pub subject: String,
    /// The request's `Message-ID`, with its angle brackets.
    pub in_reply_to: Option<String>,
    /// The thread's message ids (the request's `References`, then its id).
    pub references: Vec<String>,
    /// The request's language.
    pub language: Language,
    /// The text of the reply.
    pub body: String,
    /// The attachments (the license).
    pub attachments: Vec<ReplyAttachment>,
}

/// The state of a queued reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Its outbox id.
    pub id: i64,
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The reply's language.
    pub language: Language,
    /// Its `Message-ID`.
    pub message_id: String,
    /// Waiting, delivered, or given up.
    pub status: OutboxStatus,
    /// Delivery attempts that failed.
    pub attempts: u32,
    /// When it is (or was) next due.
    pub next_attempt_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
    /// Where it went: `smtp://host:port` or the `.eml` file.
    pub sent_via: Option<String>,
    /// Its attachments.
    pub attachments: Vec<AttachmentInfo>,
}

/// What the outbox keeps of an attachment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its file name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256.
    pub sha256: [u8; 32],
    /// Whether its bytes are still stored (deleted once the reply is sent).
    pub stored: bool,
}

/// A pending reply that is due, as [`Tx::claim_replies`] leases it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReply {
    /// Its outbox id.
    pub id: i64,
    /// The recipient.
    pub to: String,
    /// The sender.
    pub from: String,
    /// The subject.
    pub subject: String,
    /// The request's `Message-ID`.
    pub in_reply_to: Option<String>,
    /// The thread's message ids.
    pub references: Vec<String>,
    /// The text.
    pub body: String,
    /// Its `Message-ID`, fixed when queued.
    pub message_id: String,
    /// When it was queued.
    pub created_at: Timestamp,
    /// Its attachments, read once claimed ([`Tx::reply_attachments`]).
    pub attachments: Vec<ReplyAttachment>,
    /// Delivery attempts that failed.
    pub attempts: u32,
}

fn ts(v: i64) -> Timestamp {
    Timestamp(u64::try_from(v).unwrap_or(0))
}

impl Tx<'_> {
    /// Queues `reply` as pending, due at `now`, with the `Message-ID`
    /// chosen for it (retries resend the same); its outbox id.
    pub fn insert_reply(&self, reply: &Reply, message_id: &str, now: Timestamp) -> Result<i64, Error> {
        const QUEUE: &str = "cannot queue the reply";
        let path = self.path;
        let refs = reply.references.join(" ");
        let values = params![
            reply.to.trim(),
            reply.from,
            reply.subject,
            reply.in_reply_to,
            refs,
            reply.language.as_str(),
            reply.body,
            message_id,
            int(now.0),
        ];
        // While writes are deferred (PostgreSQL), the id is taken ahead and
        // the insert waits for no answer; else the insert returns it.
        let id = match self.conn.reserved_id("outbox", "outbox_id").map_err(err(path, QUEUE))? {
            Some(id) => self
                .conn
                .prepare_cached(
                    "INSERT INTO outbox (to_addr, from_addr, subject, in_reply_to, refs, language, body, message_id,
                         created_at, status, attempts, next_attempt_at, outbox_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 0, ?9, ?10)",
                )
                .and_then(|mut s| {
                    let mut with_id = values.to_vec();
                    with_id.push(&id);
                    s.execute_deferred(with_id.as_slice(), QUEUE)
                })
                .map(|()| id),
            None => self
                .conn
                .prepare_cached(
                    "INSERT INTO outbox (to_addr, from_addr, subject, in_reply_to, refs, language, body, message_id,
                         created_at, status, attempts, next_attempt_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'pending', 0, ?9)
                     RETURNING outbox_id",
                )
                .and_then(|mut s| s.query_row(values, |r| r.get::<_, i64>(0))),
        }
        .map_err(err(path, QUEUE))?;
        for (i, a) in reply.attachments.iter().enumerate() {
            self.conn
                .prepare_cached(
                    "INSERT INTO outbox_attachments (outbox_id, position, file_name, content_type, size, sha256, bytes)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .and_then(|mut s| {
                    s.execute_deferred(
                        params![
                            id,
                            i64::try_from(i).unwrap_or(i64::MAX),
                            a.file_name,
                            a.content_type,
                            i64::try_from(a.bytes.len()).unwrap_or(i64::MAX),
                            sha256(&a.bytes).as_slice(),
                            a.bytes
                        ],
                        QUEUE,
                    )
                })
                .map_err(err(path, QUEUE))?;
        }
        Ok(id)
    }

    /// Every queued reply, oldest first (`all`: also those sent).
    pub fn outbox_entries(&self, all: bool) -> Result<Vec<OutboxEntry>, Error> {
        let (conn, path) = (self.conn, self.path);
        let read = || err(path, "cannot read the outbox");
        let mut stmt = conn
            .prepare(
                "SELECT outbox_id, to_addr, subject, message_id, status, attempts, next_attempt_at, last_error,
                        created_at, sent_at, sent_via, language
                 FROM outbox WHERE ?1 OR status <> 'sent' ORDER BY outbox_id",
            )
            .map_err(read())?;
        let rows = stmt
            .query_map(params![all], |r| {
                Ok((
                    OutboxEntry {
                        id: r.get(0)?,
                        to: r.get(1)?,
                        subject: r.get(2)?,
                        language: Language::parse(&r.get::<_, String>(11)?).unwrap_or(Language::En),
                        message_id: r.get(3)?,
                        status: OutboxStatus::Pending,
                        attempts: u32::try_from(r.get::<_, i64>(5)?).unwrap_or(u32::MAX),
                        next_attempt_at: ts(r.get(6)?),
                        last_error: r.get(7)?,
                        created_at: ts(r.get(8)?),
                        sent_at: r.get::<_, Option<i64>>(9)?.map(ts),
                        sent_via: r.get(10)?,
                        attachments: Vec::new(),
                    },
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(read())?;
        let mut entries = Vec::new();
        for row in rows {
            let (mut e, status) = row.map_err(read())?;
            // The schema allows these three only.
            e.status = OutboxStatus::parse(&status)
                .ok_or_else(|| super::corrupt(path, format!("outbox {} has status {status:?}", e.id)))?;
            entries.push(e);
        }
        let mut att = conn
            .prepare(
                "SELECT file_name, size, sha256, bytes IS NOT NULL FROM outbox_attachments WHERE outbox_id = ?1
                 ORDER BY position",
            )
            .map_err(read())?;
        for e in &mut entries {
            let rows = att
                .query_map(params![e.id], |r| {
                    let digest: Vec<u8> = r.get(2)?;
                    Ok(AttachmentInfo {
                        file_name: r.get(0)?,
                        size: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                        // The schema holds 32 bytes.
                        sha256: <[u8; 32]>::try_from(digest.as_slice()).unwrap_or([0; 32]),
                        stored: r.get(3)?,
                    })
                })
                .map_err(read())?;
            e.attachments = rows.collect::<Result<Vec<_>, _>>().map_err(read())?;
        }
        Ok(entries)
    }

    /// Leases to `holder` until `until` at most `limit` pending replies due
    /// at `due` and not leased to anyone at `now` (no lease, or one that ran
    /// out), and returns them oldest first, without their attachments. Run
    /// in its own short write transaction: once it commits, no other flush
    /// takes these replies until `until`. On PostgreSQL the rows are also
    /// locked with `SKIP LOCKED`, so that a writer that somehow ran beside
    /// the store's write lock would pass over them rather than wait.
    pub fn claim_replies(
        &self,
        due: Timestamp,
        now: Timestamp,
        until: Timestamp,
        holder: &str,
        limit: u32,
    ) -> Result<Vec<DueReply>, Error> {
        let write = || err(self.path, "cannot lease replies in the outbox");
        let skip_locked = match self.conn.dialect() {
            super::sql::Dialect::Sqlite => "",
            super::sql::Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "UPDATE outbox SET leased_until = ?3, leased_by = ?4
                 WHERE outbox_id IN (
                     SELECT outbox_id FROM outbox
                     WHERE status = 'pending' AND next_attempt_at <= ?1
                       AND (leased_until IS NULL OR leased_until <= ?2)
                     ORDER BY outbox_id LIMIT ?5 {skip_locked})
                 RETURNING outbox_id, to_addr, from_addr, subject, in_reply_to, refs, body, message_id, created_at,
                           attempts"
            ))
            .map_err(write())?;
        let rows = stmt
            .query_map(params![int(due.0), int(now.0), int(until.0), holder, i64::from(limit)], |r| {
                let refs: String = r.get(5)?;
                Ok(DueReply {
                    id: r.get(0)?,
                    to: r.get(1)?,
                    from: r.get(2)?,
                    subject: r.get(3)?,
                    in_reply_to: r.get(4)?,
                    references: refs.split_whitespace().map(str::to_owned).collect(),
                    body: r.get(6)?,
                    message_id: r.get(7)?,
                    created_at: ts(r.get(8)?),
                    attachments: Vec::new(),
                    attempts: u32::try_from(r.get::<_, i64>(9)?).unwrap_or(u32::MAX),
                })
            })
            .map_err(write())?;
        let mut claimed = rows.collect::<Result<Vec<_>, _>>().map_err(write())?;
        // RETURNING promises no order.
        claimed.sort_by_key(|d| d.id);
        Ok(claimed)
    }

    /// Extends to `until` every lease `holder` still has on a pending reply;
    /// the ids it still holds. A reply missing from them was taken by
    /// another flush after this holder's lease ran out: it must not be sent
    /// from here.
    pub fn renew_leases(&self, holder: &str, until: Timestamp) -> Result<Vec<i64>, Error> {
        let write = || err(self.path, "cannot renew the outbox leases");
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET leased_until = ?2 WHERE leased_by = ?1 AND status = 'pending' RETURNING outbox_id",
            )
            .map_err(write())?;
        let rows = stmt.query_map(params![holder, int(until.0)], |r| r.get::<_, i64>(0)).map_err(write())?;
        rows.collect::<Result<Vec<_>, _>>().map_err(write())
    }

    /// How many pending replies due at `due` another flush is sending at
    /// `now` (leased to someone else, lease not run out).
    pub fn replies_leased_elsewhere(&self, due: Timestamp, now: Timestamp, holder: &str) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?1
                   AND leased_until > ?2 AND leased_by IS DISTINCT FROM ?3",
                params![int(due.0), int(now.0), holder],
                |r| r.get(0),
            )
            .map_err(err(self.path, "cannot read the outbox"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// How many pending replies are not yet due at `now` (backing off).
    pub fn replies_not_due(&self, now: Timestamp) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE status = 'pending' AND next_attempt_at > ?1",
                params![int(now.0)],
                |r| r.get(0),
            )
            .map_err(err(self.path, "cannot read the outbox"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The attachments of a reply, with their bytes; `None` once their
    /// bytes are gone (the reply was sent, by another flush if this one
    /// thought it held it).
    pub fn reply_attachments(&self, id: i64) -> Result<Option<Vec<ReplyAttachment>>, Error> {
        let read = || err(self.path, "cannot read the outbox");
        let mut att = self
            .conn
            .prepare_cached(
                "SELECT file_name, content_type, bytes FROM outbox_attachments WHERE outbox_id = ?1 ORDER BY position",
            )
            .map_err(read())?;
        let rows = att
            .query_map(params![id], |r| {
                let (file_name, content_type, bytes): (String, String, Option<Vec<u8>>) =
                    (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(bytes.map(|bytes| ReplyAttachment { file_name, content_type, bytes }))
            })
            .map_err(read())?;
        let all = rows.collect::<Result<Vec<_>, _>>().map_err(read())?;
        Ok(all.into_iter().collect())
    }

    /// Marks a reply sent via `via` if `holder` still leases it (false: it
    /// does not, and nothing changed); its attachments' bytes go, their
    /// digests stay.
    pub fn mark_reply_sent(&self, id: i64, now: Timestamp, via: &str, holder: &str) -> Result<bool, Error> {
        let write = || err(self.path, "cannot update the outbox");
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, sent_via = ?3, last_error = NULL,
                     leased_until = NULL, leased_by = NULL
                 WHERE outbox_id = ?1 AND leased_by = ?4",
                params![id, int(now.0), via, holder],
            )
            .map_err(write())?;
        if n != 1 {
            return Ok(false);
        }
        self.conn
            .execute("UPDATE outbox_attachments SET bytes = NULL WHERE outbox_id = ?1", params![id])
            .map_err(write())?;
        Ok(true)
    }

    /// Records a failed attempt to retry at `at`, if `holder` still leases
    /// the reply (false: it does not, and nothing changed).
    pub fn mark_reply_retry(
        &self,
        id: i64,
        attempts: u32,
        at: Timestamp,
        error: &str,
        holder: &str,
    ) -> Result<bool, Error> {
        self.conn
            .execute(
                "UPDATE outbox SET attempts = ?2, next_attempt_at = ?3, last_error = ?4,
                     leased_until = NULL, leased_by = NULL
                 WHERE outbox_id = ?1 AND leased_by = ?5",
                params![id, i64::from(attempts), int(at.0), error, holder],
            )
            .map(|n| n == 1)
            .map_err(err(self.path, "cannot update the outbox"))
    }

    /// Marks a reply failed for good, if `holder` still leases it (false:
    /// it does not, and nothing changed).
    pub fn mark_reply_failed(&self, id: i64, attempts: u32, error: &str, holder: &str) -> Result<bool, Error> {
        self.conn
            .execute(
                "UPDATE outbox SET status = 'failed', attempts = ?2, last_error = ?3,
                     leased_until = NULL, leased_by = NULL
                 WHERE outbox_id = ?1 AND leased_by = ?4",
                params![id, i64::from(attempts), error, holder],
            )
            .map(|n| n == 1)
            .map_err(err(self.path, "cannot update the outbox"))
    }
}

/// Which outbox entries the console lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutboxFilter {
    /// Every entry.
    All,
    /// Pending and never failed: waiting for the next flush.
    Queued,
    /// Something went wrong and it is not sent: failed for good, or
    /// pending again after a failed attempt (backing off).
    Failed,
    /// Delivered.
    Sent,
}

impl OutboxFilter {
    /// The query text (`status=`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::All => "",
            Self::Queued => "queued",
            Self::Failed => "failed",
            Self::Sent => "sent",
        }
    }

    /// From the query text; anything else is [`OutboxFilter::All`].
    pub fn parse(s: &str) -> Self {
        [Self::Queued, Self::Failed, Self::Sent].into_iter().find(|f| f.as_str() == s.trim()).unwrap_or(Self::All)
    }

    fn condition(self) -> &'static str {
        match self {
            // TRUE, not 1: PostgreSQL wants a boolean (SQLite reads TRUE as 1).
            Self::All => "TRUE",
            Self::Queued => "status = 'pending' AND attempts = 0",
            Self::Failed => "(status = 'failed' OR (status = 'pending' AND attempts > 0))",
            Self::Sent => "status = 'sent'",
        }
    }
}

/// One row of the console's outbox list (no body, no attachments).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxRow {
    /// Its outbox id.
    pub id: i64,
    /// The recipient.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// Waiting, delivered, or given up.
    pub status: OutboxStatus,
    /// Delivery attempts that failed.
    pub attempts: u32,
    /// When it is (or was) next due.
    pub next_attempt_at: Timestamp,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
}

const OUTBOX_ROW_COLUMNS: &str =
    "outbox_id, to_addr, subject, status, attempts, next_attempt_at, last_error, created_at, sent_at";

fn outbox_row_of(r: &super::sql::Row<'_>) -> super::sql::Result<(OutboxRow, String)> {
    Ok((
        OutboxRow {
            id: r.get(0)?,
            to: r.get(1)?,
            subject: r.get(2)?,
            status: OutboxStatus::Pending,
            attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
            next_attempt_at: ts(r.get(5)?),
            last_error: r.get(6)?,
            created_at: ts(r.get(7)?),
            sent_at: r.get::<_, Option<i64>>(8)?.map(ts),
        },
        r.get::<_, String>(3)?,
    ))
}

impl Tx<'_> {
    /// One page of the outbox, newest first: `limit` rows from `offset`.
    pub fn outbox_page(&self, filter: OutboxFilter, offset: u64, limit: u32) -> Result<Vec<OutboxRow>, Error> {
        let read = || err(self.path, "cannot read the outbox");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {OUTBOX_ROW_COLUMNS} FROM outbox WHERE {} ORDER BY outbox_id DESC LIMIT ?1 OFFSET ?2",
                filter.condition()
            ))
            .map_err(read())?;
        let rows = stmt.query_map(params![i64::from(limit), int(offset)], outbox_row_of).map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            out.push(self.with_status(row.map_err(read())?)?);
        }
        Ok(out)
    }

    /// How many entries `filter` lists.
    pub fn outbox_count(&self, filter: OutboxFilter) -> Result<u64, Error> {
        let n: i64 = self
            .conn
            .query_row(&format!("SELECT count(*) FROM outbox WHERE {}", filter.condition()), params![], |r| r.get(0))
            .map_err(err(self.path, "cannot read the outbox"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One entry's row, if it exists.
    pub fn outbox_row(&self, id: i64) -> Result<Option<OutboxRow>, Error> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {OUTBOX_ROW_COLUMNS} FROM outbox WHERE outbox_id = ?1"),
                params![id],
                outbox_row_of,
            )
            .optional()
            .map_err(err(self.path, "cannot read the outbox"))?;
        row.map(|r| self.with_status(r)).transpose()
    }

    /// The row with its status read (the schema allows three).
    fn with_status(&self, (mut e, status): (OutboxRow, String)) -> Result<OutboxRow, Error> {
        e.status = OutboxStatus::parse(&status)
            .ok_or_else(|| super::corrupt(self.path, format!("outbox {} has status {status:?}", e.id)))?;
        Ok(e)
    }

    /// Makes a failed entry (or one backing off after a failed attempt)
    /// pending and due at `now`, keeping its attempts and last error; false
    /// when it is sent, or pending and never tried (nothing to retry).
    pub fn retry_reply(&self, id: i64, now: Timestamp) -> Result<bool, Error> {
        let n = self
            .conn
            .execute(
                "UPDATE outbox SET status = 'pending', next_attempt_at = ?2
                 WHERE outbox_id = ?1 AND (status = 'failed' OR (status = 'pending' AND attempts > 0))",
                params![id, int(now.0)],
            )
            .map_err(err(self.path, "cannot update the outbox"))?;
        Ok(n == 1)
    }
}
