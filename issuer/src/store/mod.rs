//! The home's SQLite database: schema migrations numbered by
//! `PRAGMA user_version`, and the rows the issuer keeps.

pub mod audit;
pub mod decisions;
pub mod reasons;

use std::path::{Path, PathBuf};

use fanlic_formats::{KeyId, Timestamp};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::Error;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// an existing migration is never edited once released.
const MIGRATIONS: &[&str] = &[
    // 1: keys, licenses, settings.
    r"
CREATE TABLE root_keys (
    key_id           TEXT PRIMARY KEY,             -- 16 lowercase hex
    public_key       BLOB NOT NULL CHECK (length(public_key) = 32),
    public_key_path  TEXT NOT NULL,                -- relative to the home
    private_key_path TEXT NOT NULL,                -- where init wrote it; meant to move offline
    created_at       INTEGER NOT NULL              -- Unix seconds
) STRICT;

CREATE TABLE issuing_keys (
    key_id                TEXT PRIMARY KEY,
    root_key_id           TEXT NOT NULL REFERENCES root_keys (key_id),
    public_key            BLOB NOT NULL CHECK (length(public_key) = 32),
    not_before            INTEGER NOT NULL,        -- may sign from (Unix seconds)
    not_after             INTEGER NOT NULL,        -- may sign until (inclusive)
    purposes              INTEGER NOT NULL,
    certificate_message   BLOB NOT NULL,           -- label || postcard body
    certificate_signature BLOB NOT NULL CHECK (length(certificate_signature) = 64),
    private_key_path      TEXT NOT NULL,
    public_key_path       TEXT NOT NULL,
    created_at            INTEGER NOT NULL,
    retired_at            INTEGER                  -- set when a newer key replaced it
) STRICT;

CREATE TABLE licenses (
    license_id           TEXT PRIMARY KEY,         -- 32 lowercase hex
    kind                 TEXT NOT NULL,            -- local-container | private-cloud
    app_name             TEXT NOT NULL,
    company              TEXT NOT NULL,
    project              TEXT NOT NULL,
    contract_signed      TEXT NOT NULL,            -- YYYY-MM-DD
    issued_at            INTEGER NOT NULL,
    not_before           INTEGER NOT NULL,
    expiry               TEXT NOT NULL,            -- never | YYYY-MM-DD
    version              TEXT NOT NULL,            -- major.minor
    max_nodes            INTEGER NOT NULL,
    activation_key       BLOB,
    activation_base_url  TEXT,
    image_public_key     BLOB,
    supersedes           TEXT,
    request_email_sha256 BLOB,
    issuing_key_id       TEXT NOT NULL REFERENCES issuing_keys (key_id),
    file_bytes           BLOB NOT NULL,            -- the raw (binary) license file
    armored              TEXT NOT NULL,            -- Container.lic as written
    output_path          TEXT NOT NULL
) STRICT;
CREATE INDEX licenses_by_company ON licenses (company, project);

CREATE TABLE authserv_ids (
    authserv_id TEXT PRIMARY KEY,
    added_at    INTEGER NOT NULL
) STRICT;
",
    // 2: the contract registry (see contracts.rs).
    r"
CREATE TABLE contracts (
    contract_id INTEGER PRIMARY KEY,
    company     TEXT NOT NULL,                     -- as the customer writes it
    company_key TEXT NOT NULL UNIQUE,              -- normalized: case, white space, full-width folded
    signed      TEXT NOT NULL,                     -- YYYY-MM-DD
    product     TEXT NOT NULL,                     -- FineReport | FineBI
    methods     TEXT NOT NULL,                     -- comma list: local-container,private-cloud
    max_nodes   INTEGER NOT NULL CHECK (max_nodes >= 1),
    version     TEXT NOT NULL,                     -- major.minor
    expires     TEXT NOT NULL,                     -- never | YYYY-MM-DD
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    created_at  INTEGER NOT NULL,                  -- Unix seconds
    created_by  TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL
) STRICT;

CREATE TABLE contract_emails (
    contract_id INTEGER NOT NULL REFERENCES contracts (contract_id),
    email       TEXT NOT NULL,                     -- lowercase, trimmed
    PRIMARY KEY (contract_id, email)
) STRICT;
CREATE INDEX contract_emails_by_email ON contract_emails (email);

CREATE TABLE contract_audit (
    audit_id    INTEGER PRIMARY KEY,
    contract_id INTEGER NOT NULL REFERENCES contracts (contract_id),
    action      TEXT NOT NULL,                     -- add | update | disable | enable | import
    at          INTEGER NOT NULL,                  -- Unix seconds
    by          TEXT NOT NULL,
    contract    TEXT NOT NULL                      -- JSON: the contract after the change
) STRICT;
",
    // 3: the reply outbox (see outbox.rs): a queue of replies, with retry.
    r"
CREATE TABLE outbox (
    outbox_id       INTEGER PRIMARY KEY,
    to_addr         TEXT NOT NULL,                 -- a contract's address, never Reply-To
    from_addr       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    in_reply_to     TEXT,                          -- <message-id> of the request
    refs            TEXT NOT NULL,                 -- References: message ids, space separated
    language        TEXT NOT NULL CHECK (language IN ('en', 'zh')),
    body            TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,          -- <...@...>, fixed at enqueue: retries resend the same
    created_at      INTEGER NOT NULL,              -- Unix seconds
    status          TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER,
    sent_via        TEXT                           -- smtp://host:port, or the .eml file written
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE outbox_attachments (
    outbox_id    INTEGER NOT NULL REFERENCES outbox (outbox_id),
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (outbox_id, position)
) STRICT;
",
    // 4: registration-mail decisions (see ingest.rs): one per message, and their audit trail.
    r"
CREATE TABLE decisions (
    decision_id   INTEGER PRIMARY KEY,
    dedup_key     TEXT NOT NULL,                   -- Message-ID, else SHA-256 (hex) of the raw bytes
    message_id    TEXT,                            -- without angle brackets
    source        TEXT NOT NULL,                   -- file, mbox#n, maildir path or -
    from_addr     TEXT NOT NULL,                   -- normalized; empty when none
    subject       TEXT NOT NULL,
    decision      TEXT NOT NULL CHECK (decision IN ('issued', 'rejected', 'held')),
    reasons       TEXT NOT NULL,                   -- JSON: [{code, message}]
    license_id    TEXT REFERENCES licenses (license_id),
    authenticated INTEGER NOT NULL CHECK (authenticated IN (0, 1)),
    raw_sha256    TEXT NOT NULL,
    raw           BLOB NOT NULL,                   -- the message, for review and approve
    outbox_id     INTEGER REFERENCES outbox (outbox_id),
    decided_at    INTEGER NOT NULL,                -- Unix seconds
    decided_by    TEXT NOT NULL,                   -- `fanlic ingest`, or the staff user
    -- A spoof never blocks the real request: at most one decision per key and
    -- authentication state; see ingest.rs for the rule.
    UNIQUE (dedup_key, authenticated)
) STRICT;
CREATE INDEX decisions_by_decision ON decisions (decision, decided_at);

CREATE TABLE decision_audit (
    audit_id    INTEGER PRIMARY KEY,
    decision_id INTEGER REFERENCES decisions (decision_id),
    dedup_key   TEXT NOT NULL,
    action      TEXT NOT NULL,                     -- issued | rejected | held | duplicate | approved | staff-rejected
    reasons     TEXT NOT NULL,                     -- JSON: [{code, message}]
    license_id  TEXT,
    at          INTEGER NOT NULL,
    by          TEXT NOT NULL
) STRICT;
",
    // 5: the home's settings (`fanlic config`).
    r"
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,                   -- reply_from
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,                   -- Unix seconds
    updated_by TEXT NOT NULL
) STRICT;
",
    // 6: activation (`fanlic serve`), revocation and unbinding.
    r"
-- Which version of the activation master secret derived a license's
-- activation key (NULL: the license has none).
ALTER TABLE licenses ADD COLUMN activation_master_version INTEGER;

-- The project a Container.lic is bound to: set by its first confirmed
-- activation, cleared by `fanlic unbind`.
CREATE TABLE activation_bindings (
    license_id          TEXT PRIMARY KEY REFERENCES licenses (license_id),
    project_fingerprint BLOB NOT NULL CHECK (length(project_fingerprint) = 32),
    bound_at            INTEGER NOT NULL
) STRICT;

-- Every confirmed activation, and every refused confirmation.
CREATE TABLE activations (
    activation_id       INTEGER PRIMARY KEY,
    license_id          TEXT NOT NULL,             -- as the challenge names it; may be unknown
    project_fingerprint BLOB NOT NULL,
    node_id             BLOB NOT NULL,
    nodes               INTEGER NOT NULL,
    at                  INTEGER NOT NULL,
    client_addr         TEXT NOT NULL,
    outcome             TEXT NOT NULL              -- activated | a refusal code
) STRICT;
CREATE INDEX activations_by_license ON activations (license_id, at);

CREATE TABLE revoked_licenses (
    license_id  TEXT PRIMARY KEY REFERENCES licenses (license_id),
    reason      TEXT NOT NULL,
    revoked_at  INTEGER NOT NULL,
    revoked_by  TEXT NOT NULL
) STRICT;

CREATE TABLE revoked_issuing_keys (
    key_id      TEXT PRIMARY KEY REFERENCES issuing_keys (key_id),
    reason      TEXT NOT NULL,
    revoked_at  INTEGER NOT NULL,
    revoked_by  TEXT NOT NULL
) STRICT;

-- Every revocation list exported, so that sequence numbers only grow.
CREATE TABLE revocation_lists (
    sequence    INTEGER PRIMARY KEY,
    issued_at   INTEGER NOT NULL,
    file_bytes  BLOB NOT NULL
) STRICT;

-- revoke | unbind | bind, per license, with who and why.
CREATE TABLE license_audit (
    audit_id    INTEGER PRIMARY KEY,
    license_id  TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    by          TEXT NOT NULL
) STRICT;
",
    // 7: private cloud (SPEC.md §7): the highest privateConfig generation the
    // activation service has seen per authorization server instance, so a
    // rolled-back copy is refused; and the image each license was sent.
    "
CREATE TABLE server_instances (
    license_id           TEXT NOT NULL,
    instance_fingerprint BLOB NOT NULL CHECK (length(instance_fingerprint) = 32),
    generation           INTEGER NOT NULL,
    last_activated_at    INTEGER NOT NULL,
    PRIMARY KEY (license_id, instance_fingerprint)
) STRICT;
",
    // 8: one live license per (company, application, project), the license
    // count of a contract, the decisions a resent or automatic mail gets, and
    // one audit trail for every state change. `live::migrate_licenses` then
    // fills `company_key`, marks duplicates and creates the unique index.
    r#"
-- The company as contracts compare it (contracts::company_key), and the
-- license's state: live (in force), revoked, superseded (a later license of
-- the same project replaced it), duplicate (found beside a live one when
-- this rule came; it keeps working until staff decide).
ALTER TABLE licenses ADD COLUMN company_key TEXT;
-- The project folded the same way, to find a look-alike of a live project.
ALTER TABLE licenses ADD COLUMN project_key TEXT;
ALTER TABLE licenses ADD COLUMN state TEXT NOT NULL DEFAULT 'live'
    CHECK (state IN ('live', 'revoked', 'superseded', 'duplicate'));
UPDATE licenses SET state = 'revoked' WHERE license_id IN (SELECT license_id FROM revoked_licenses);
UPDATE licenses SET state = 'superseded'
    WHERE license_id IN (SELECT supersedes FROM licenses WHERE supersedes IS NOT NULL);

-- How many projects (live licenses) a contract covers.
ALTER TABLE contracts ADD COLUMN max_licenses INTEGER NOT NULL DEFAULT 1 CHECK (max_licenses >= 1);

-- One audit trail: who, when, what and why, for every state change.
CREATE TABLE audit (
    audit_id    INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,                  -- Unix seconds
    by          TEXT NOT NULL,
    action      TEXT NOT NULL,                     -- audit::Action
    license_id  TEXT,
    contract_id INTEGER,
    decision_id INTEGER,
    dedup_key   TEXT,                              -- the mail's, for decisions
    why         TEXT NOT NULL,                     -- the reason given, or a summary
    data        TEXT                               -- JSON: reasons, or the contract after the change
) STRICT;
CREATE INDEX audit_by_license ON audit (license_id);
CREATE INDEX audit_by_contract ON audit (contract_id);
CREATE INDEX audit_by_at ON audit (at);
INSERT INTO audit (at, by, action, license_id, contract_id, decision_id, dedup_key, why, data)
SELECT at, by, action, license_id, contract_id, decision_id, dedup_key, why, data FROM (
    SELECT at, by, action, license_id, NULL AS contract_id, decision_id, dedup_key, '' AS why,
           reasons AS data, 1 AS src, audit_id AS id FROM decision_audit
    UNION ALL
    SELECT at, by, action, license_id, NULL, NULL, NULL, detail, NULL, 2, audit_id FROM license_audit
    UNION ALL
    SELECT at, by, 'contract-' || action, NULL, contract_id, NULL, NULL, '', contract, 3, audit_id
    FROM contract_audit
) ORDER BY at, src, id;
DROP TABLE decision_audit;
DROP TABLE license_audit;
DROP TABLE contract_audit;

-- Decisions gain: resent (the live license sent again), joined (a resend of
-- a held request, added to it), ignored (an automatic mail: never answered),
-- revoked (a destroy request carried out); the request a decision is about
-- (request_key), and the held decision a resend joined.
CREATE TABLE decisions_new (
    decision_id   INTEGER PRIMARY KEY,
    dedup_key     TEXT NOT NULL,
    message_id    TEXT,
    source        TEXT NOT NULL,
    from_addr     TEXT NOT NULL,
    subject       TEXT NOT NULL,
    decision      TEXT NOT NULL
        CHECK (decision IN ('issued', 'rejected', 'held', 'resent', 'joined', 'ignored', 'revoked')),
    reasons       TEXT NOT NULL,
    license_id    TEXT REFERENCES licenses (license_id),
    authenticated INTEGER NOT NULL CHECK (authenticated IN (0, 1)),
    raw_sha256    TEXT NOT NULL,
    raw           BLOB NOT NULL,
    outbox_id     INTEGER REFERENCES outbox (outbox_id),
    decided_at    INTEGER NOT NULL,
    decided_by    TEXT NOT NULL,
    request_key   TEXT,                            -- live::request_key: sender, company, app, project
    joined_to     INTEGER,                         -- for `joined`: the held decision
    UNIQUE (dedup_key, authenticated)
) STRICT;
INSERT INTO decisions_new (decision_id, dedup_key, message_id, source, from_addr, subject, decision, reasons,
    license_id, authenticated, raw_sha256, raw, outbox_id, decided_at, decided_by)
SELECT decision_id, dedup_key, message_id, source, from_addr, subject,
       CASE WHEN decision = 'issued' AND license_id IS NULL AND reasons LIKE '%"license_revoked"%'
            THEN 'revoked' ELSE decision END,
       reasons, license_id, authenticated, raw_sha256, raw, outbox_id, decided_at, decided_by
FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions_new RENAME TO decisions;
CREATE INDEX decisions_by_decision ON decisions (decision, decided_at);
CREATE INDEX decisions_by_request ON decisions (request_key, decision);
CREATE INDEX decisions_by_license ON decisions (license_id, decision);
"#,
    // 9: secrets at rest. Activation keys are derived from the master secret
    // (activation.rs), so the column is emptied and never written again.
    // Attachments keep their SHA-256 and size, their bytes only until the
    // reply is sent (`outbox::migrate_attachments` copies the rows).
    // Requests whose license id was not authenticated are counted per client
    // and day, never stored under a license.
    r"
UPDATE licenses SET activation_key = NULL;

CREATE TABLE outbox_attachments_new (
    outbox_id    INTEGER NOT NULL REFERENCES outbox (outbox_id),
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       BLOB NOT NULL CHECK (length(sha256) = 32),
    bytes        BLOB,                             -- NULL once the reply was sent
    PRIMARY KEY (outbox_id, position)
) STRICT;

CREATE TABLE unverified_attempts (
    client_addr TEXT NOT NULL,
    day         INTEGER NOT NULL,                  -- Unix seconds / 86400
    outcome     TEXT NOT NULL,                     -- forged_challenge | unknown_license | no_activation_key
    count       INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    PRIMARY KEY (client_addr, day, outcome)
) STRICT;
INSERT INTO unverified_attempts (client_addr, day, outcome, count, last_at)
SELECT client_addr, at / 86400, outcome, count(*), max(at) FROM activations
WHERE outcome IN ('forged_challenge', 'unknown_license', 'no_activation_key')
GROUP BY client_addr, at / 86400, outcome;
DELETE FROM activations WHERE outcome IN ('forged_challenge', 'unknown_license', 'no_activation_key');
",
    // 10: activation receipts (SPEC.md §6.4): each contract's activation
    // policy and re-activation lease, the receipt keys (certified by a root
    // key for receipts only, with a window of at most 31 days), every
    // receipt issued, and alerts for staff (`fanlic alerts`).
    r"
ALTER TABLE contracts ADD COLUMN activation_policy TEXT NOT NULL DEFAULT 'code'
    CHECK (activation_policy IN ('code', 'receipt'));
-- Days a private-cloud receipt lets its server run before it must be
-- activated again; NULL: no lease.
ALTER TABLE contracts ADD COLUMN lease_days INTEGER CHECK (lease_days >= 1);

CREATE TABLE receipt_keys (
    key_id                TEXT PRIMARY KEY,
    root_key_id           TEXT NOT NULL REFERENCES root_keys (key_id),
    public_key            BLOB NOT NULL CHECK (length(public_key) = 32),
    not_before            INTEGER NOT NULL,        -- may sign from (Unix seconds)
    not_after             INTEGER NOT NULL,        -- may sign until (inclusive)
    certificate_message   BLOB NOT NULL,           -- label || postcard body, purposes exactly 0x8
    certificate_signature BLOB NOT NULL CHECK (length(certificate_signature) = 64),
    private_key_path      TEXT NOT NULL,
    public_key_path       TEXT NOT NULL,
    created_at            INTEGER NOT NULL
) STRICT;

-- Every receipt `fanlic serve` issued, under the binding it was issued for.
CREATE TABLE receipts (
    receipt_id          BLOB PRIMARY KEY CHECK (length(receipt_id) = 32),
    license_id          TEXT NOT NULL REFERENCES licenses (license_id),
    project_fingerprint BLOB NOT NULL CHECK (length(project_fingerprint) = 32),
    bound_at            INTEGER NOT NULL,          -- the binding's bound_at: which binding
    challenge_sha256    BLOB NOT NULL CHECK (length(challenge_sha256) = 32),
    previous_receipt    BLOB,
    receipt_key_id      TEXT NOT NULL,
    vendor_time         INTEGER NOT NULL,
    lease_until         INTEGER,
    client_addr         TEXT NOT NULL,
    reminder_outbox_id  INTEGER                    -- the lease reminder queued for it
) STRICT;
CREATE INDEX receipts_by_binding ON receipts (license_id, project_fingerprint, bound_at, vendor_time);

-- What staff must look at: a forked authorization server, a local
-- container activated too often.
CREATE TABLE alerts (
    alert_id    INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('forked', 'receipt_burst')),
    license_id  TEXT NOT NULL,
    at          INTEGER NOT NULL,
    detail      TEXT NOT NULL,
    closed_at   INTEGER,
    closed_by   TEXT
) STRICT;
CREATE INDEX alerts_open ON alerts (closed_at, license_id);
",
    // 11: bounded raw mail. How much of each decision's message `raw` still
    // holds: whole, its first bytes only (rejected or ignored junk), or
    // nothing (`fanlic prune`); the message's full size, and when it was
    // pruned. raw_sha256 stays the digest of the whole message.
    r"
ALTER TABLE decisions ADD COLUMN raw_size INTEGER;
ALTER TABLE decisions ADD COLUMN raw_kept TEXT NOT NULL DEFAULT 'whole'
    CHECK (raw_kept IN ('whole', 'truncated', 'pruned'));
ALTER TABLE decisions ADD COLUMN raw_pruned_at INTEGER;
UPDATE decisions SET raw_size = length(raw);
",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The home's database. Every read and write of the vendor's records goes
/// through it, one unit of work at a time: [`Store::write`] commits
/// everything its closure did or nothing, [`Store::read`] sees one
/// consistent state. Callers never see the backend: no SQL, no connection,
/// no SQLite-only behaviour (an `INSERT OR IGNORE` is a result the caller
/// reads, e.g. `Inserted::Already`), so a second backend (PostgreSQL) fits
/// behind the same methods.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One unit of work, given to the closure of [`Store::write`] or
/// [`Store::read`]. The record methods (licenses, decisions, outbox,
/// contracts, revocations, bindings, audit, settings) are defined on it in
/// this folder's files.
#[derive(Debug)]
pub struct Tx<'s> {
    conn: &'s Connection,
    path: &'s Path,
}

impl Store {
    /// Opens (`create`: creates) the database and brings its schema up to date.
    pub fn open(path: &Path, create: bool) -> Result<Self, Error> {
        Ok(Self { conn: open(path, create)?, path: path.to_owned() })
    }

    /// The database file (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in one transaction that takes the write lock first and
    /// commits when `f` returns `Ok`; on `Err` nothing of it is kept.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err(path, "cannot start a transaction"))?;
        let out = f(&Tx { conn: &tx, path })?;
        tx.commit().map_err(err(path, "cannot commit"))?;
        Ok(out)
    }

    /// Runs `f` on one consistent view of the records; writes nothing.
    pub fn read<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        let path = self.path.as_path();
        let tx = self.conn.unchecked_transaction().map_err(err(path, "cannot start a transaction"))?;
        let out = f(&Tx { conn: &tx, path })?;
        tx.finish().map_err(err(path, "cannot end a transaction"))?;
        Ok(out)
    }

    /// The raw connection, for the modules whose SQL has not yet moved into
    /// this folder. Nothing new may use it.
    pub(crate) fn raw_mut(&mut self) -> (&mut Connection, &Path) {
        (&mut self.conn, &self.path)
    }

    /// The raw connection, read-only; see [`Store::raw_mut`].
    pub(crate) fn raw(&self) -> (&Connection, &Path) {
        (&self.conn, &self.path)
    }
}

impl Tx<'_> {
    /// Runs `f` under a savepoint: when it fails, what it did is undone and
    /// the rest of the transaction goes on (`fanlic ingest` decides each
    /// message of a batch this way).
    pub fn savepoint<T>(&self, f: impl FnOnce(&Tx<'_>) -> Result<T, Error>) -> Result<T, Error> {
        // Prepared once per connection: `fanlic ingest` takes one per message.
        let run = |sql: &str, what| {
            self.conn.prepare_cached(sql).and_then(|mut s| s.execute([])).map(drop).map_err(err(self.path, what))
        };
        run("SAVEPOINT fanlic", "cannot take a savepoint")?;
        match f(self) {
            Ok(out) => {
                run("RELEASE fanlic", "cannot release a savepoint")?;
                Ok(out)
            }
            Err(e) => {
                run("ROLLBACK TO fanlic", "cannot roll back a savepoint")?;
                run("RELEASE fanlic", "cannot release a savepoint")?;
                Err(e)
            }
        }
    }

    /// The database file (for messages).
    pub fn path(&self) -> &Path {
        self.path
    }
}

/// The database file inside a home.
pub const FILE_NAME: &str = "fanlic.db";

/// A database error with context.
pub(crate) fn err(path: &Path, action: &'static str) -> impl FnOnce(rusqlite::Error) -> Error {
    let path = path.to_owned();
    move |source| Error::Database { action, path, source }
}

/// Opens (`create`: creates) the database and brings its schema up to date.
pub fn open(path: &Path, create: bool) -> Result<Connection, Error> {
    use rusqlite::OpenFlags as F;
    // SQLite gives its -wal and -shm files the database file's mode, so the
    // database is made 0600 before SQLite opens it; an older one is narrowed.
    private_files(path, create)?;
    let flags = if create { F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE } else { F::SQLITE_OPEN_READ_WRITE };
    let mut conn =
        Connection::open_with_flags(path, flags | F::SQLITE_OPEN_NO_MUTEX).map_err(err(path, "cannot open"))?;
    conn.busy_timeout(core::time::Duration::from_secs(10)).map_err(err(path, "cannot configure"))?;
    // Room for every statement `fanlic ingest` runs per message (the default keeps 16).
    conn.set_prepared_statement_cache_capacity(64);
    // A cached statement keeps its plan when new values are bound. Without
    // this, SQLite (built with STAT4) prepares a statement again at each
    // step after a bind that could change its plan: most of the SQL time of
    // `fanlic ingest`, for plans that are all simple key lookups.
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map_err(err(path, "cannot configure"))?;
    // Statement journals (the savepoint `fanlic ingest` takes for each
    // message) in memory, not in temporary files.
    conn.pragma_update(None, "temp_store", "MEMORY").map_err(err(path, "cannot configure"))?;
    // Deleted content (a sent reply's attachments) is overwritten with
    // zeros, not left in free pages.
    conn.pragma_update(None, "secure_delete", true).map_err(err(path, "cannot configure"))?;
    // Migrations run with foreign keys off, as SQLite's procedure for
    // rebuilding a table requires (migration 8 rebuilds `decisions`).
    migrate(&mut conn, path)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(err(path, "cannot configure"))?;
    Ok(conn)
}

/// Creates the database file with mode 0600 (`create`), and narrows the
/// database and its -wal and -shm files to 0600 where they are wider.
fn private_files(path: &Path, create: bool) -> Result<(), Error> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    if create {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::util::fsutil::PRIVATE_MODE)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::Io { action: "cannot create", path: path.to_owned(), source: e }),
        }
    }
    let side = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    for file in [path.to_owned(), side("-wal"), side("-shm")] {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(crate::util::fsutil::PRIVATE_MODE))
                .map_err(Error::io("cannot set the mode of", &file))?;
        }
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), Error> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err(path, "cannot read the schema version"))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew { path: path.to_owned(), found, supported: SCHEMA_VERSION });
    }
    let done = usize::try_from(found).unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction().map_err(err(path, "cannot migrate"))?;
        tx.execute_batch(sql).map_err(err(path, "cannot migrate"))?;
        if i + 1 == 8 {
            crate::license::live::migrate_licenses(&tx, path)?;
        }
        if i + 1 == 9 {
            crate::outbox::migrate_attachments(&tx, path)?;
        }
        let to = i64::try_from(i + 1).unwrap_or(i64::MAX);
        tx.pragma_update(None, "user_version", to).map_err(err(path, "cannot migrate"))?;
        tx.commit().map_err(err(path, "cannot migrate"))?;
    }
    Ok(())
}

/// SQLite integers are signed; our times are small positive numbers.
pub(crate) fn int(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// A root key the home knows (its public half).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RootKeyRow {
    /// Its key id.
    pub key_id: KeyId,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// Its PEM public key file, relative to the home.
    pub public_key_path: PathBuf,
    /// Where `init` wrote the private key, relative to the home.
    pub private_key_path: PathBuf,
    /// When it was made.
    pub created_at: Timestamp,
}

/// An issuing key with its certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuingKeyRow {
    /// Its key id.
    pub key_id: KeyId,
    /// The root key that certified it.
    pub root_key_id: KeyId,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// May sign from.
    pub not_before: Timestamp,
    /// May sign until (inclusive).
    pub not_after: Timestamp,
    /// What it may sign (bit set).
    pub purposes: u32,
    /// The certificate's signed message.
    pub certificate_message: Vec<u8>,
    /// The root key's signature over it.
    pub certificate_signature: [u8; 64],
    /// Private key file, relative to the home.
    pub private_key_path: PathBuf,
    /// Public key file, relative to the home.
    pub public_key_path: PathBuf,
    /// When it was made.
    pub created_at: Timestamp,
    /// When a newer key replaced it.
    pub retired_at: Option<Timestamp>,
}

pub(crate) fn corrupt(path: &Path, what: impl Into<String>) -> Error {
    Error::Corrupt { path: path.to_owned(), what: what.into() }
}

fn key_id(path: &Path, s: &str) -> Result<KeyId, Error> {
    s.parse().map_err(|_| corrupt(path, format!("bad key id {s:?}")))
}

fn array<const N: usize>(path: &Path, what: &str, v: &[u8]) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(v).map_err(|_| corrupt(path, format!("{what} has {} bytes, not {N}", v.len())))
}

/// A time read back from a column: negative means a corrupt database.
pub(crate) fn time(path: &Path, v: i64) -> Result<Timestamp, Error> {
    u64::try_from(v).map(Timestamp).map_err(|_| corrupt(path, format!("negative time {v}")))
}

pub(crate) fn insert_root_key(conn: &Connection, path: &Path, row: &RootKeyRow) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO root_keys (key_id, public_key, public_key_path, private_key_path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            row.key_id.to_string(),
            row.public_key.as_slice(),
            row.public_key_path.to_string_lossy(),
            row.private_key_path.to_string_lossy(),
            int(row.created_at.0),
        ],
    )
    .map(|_| ())
    .map_err(err(path, "cannot record the root key"))
}

pub(crate) fn root_keys(conn: &Connection, path: &Path) -> Result<Vec<RootKeyRow>, Error> {
    let mut stmt = conn
        .prepare("SELECT key_id, public_key, public_key_path, private_key_path, created_at FROM root_keys ORDER BY created_at, rowid")
        .map_err(err(path, "cannot read the root keys"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(err(path, "cannot read the root keys"))?;
    let mut out = Vec::new();
    for row in rows {
        let (id, pk, pub_path, priv_path, created) = row.map_err(err(path, "cannot read the root keys"))?;
        out.push(RootKeyRow {
            key_id: key_id(path, &id)?,
            public_key: array(path, "a root public key", &pk)?,
            public_key_path: pub_path.into(),
            private_key_path: priv_path.into(),
            created_at: time(path, created)?,
        });
    }
    Ok(out)
}

pub(crate) fn insert_issuing_key(conn: &Connection, path: &Path, row: &IssuingKeyRow) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO issuing_keys (key_id, root_key_id, public_key, not_before, not_after, purposes,
             certificate_message, certificate_signature, private_key_path, public_key_path, created_at, retired_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            row.key_id.to_string(),
            row.root_key_id.to_string(),
            row.public_key.as_slice(),
            int(row.not_before.0),
            int(row.not_after.0),
            i64::from(row.purposes),
            row.certificate_message,
            row.certificate_signature.as_slice(),
            row.private_key_path.to_string_lossy(),
            row.public_key_path.to_string_lossy(),
            int(row.created_at.0),
            row.retired_at.map(|t| int(t.0)),
        ],
    )
    .map(|_| ())
    .map_err(err(path, "cannot record the issuing key"))
}

/// Issuing keys, oldest first.
pub(crate) fn issuing_keys(conn: &Connection, path: &Path) -> Result<Vec<IssuingKeyRow>, Error> {
    let read = err(path, "cannot read the issuing keys");
    let mut stmt = conn
        .prepare(
            "SELECT key_id, root_key_id, public_key, not_before, not_after, purposes, certificate_message,
                    certificate_signature, private_key_path, public_key_path, created_at, retired_at
             FROM issuing_keys ORDER BY created_at, rowid",
        )
        .map_err(read)?;
    let mut rows = stmt.query([]).map_err(err(path, "cannot read the issuing keys"))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(err(path, "cannot read the issuing keys"))? {
        let g = |e| Error::Database { action: "cannot read the issuing keys", path: path.to_owned(), source: e };
        let purposes: i64 = r.get(5).map_err(g)?;
        out.push(IssuingKeyRow {
            key_id: key_id(path, &r.get::<_, String>(0).map_err(g)?)?,
            root_key_id: key_id(path, &r.get::<_, String>(1).map_err(g)?)?,
            public_key: array(path, "an issuing public key", &r.get::<_, Vec<u8>>(2).map_err(g)?)?,
            not_before: time(path, r.get(3).map_err(g)?)?,
            not_after: time(path, r.get(4).map_err(g)?)?,
            purposes: u32::try_from(purposes).map_err(|_| corrupt(path, format!("bad purposes {purposes}")))?,
            certificate_message: r.get(6).map_err(g)?,
            certificate_signature: array(path, "a certificate signature", &r.get::<_, Vec<u8>>(7).map_err(g)?)?,
            private_key_path: r.get::<_, String>(8).map_err(g)?.into(),
            public_key_path: r.get::<_, String>(9).map_err(g)?.into(),
            created_at: time(path, r.get(10).map_err(g)?)?,
            retired_at: r.get::<_, Option<i64>>(11).map_err(g)?.map(|t| time(path, t)).transpose()?,
        });
    }
    Ok(out)
}

/// Marks every issuing key but `keep` as retired at `now`.
pub(crate) fn retire_others(conn: &Connection, path: &Path, keep: KeyId, now: Timestamp) -> Result<(), Error> {
    conn.execute(
        "UPDATE issuing_keys SET retired_at = ?1 WHERE retired_at IS NULL AND key_id <> ?2",
        params![int(now.0), keep.to_string()],
    )
    .map(|_| ())
    .map_err(err(path, "cannot retire the old issuing keys"))
}

pub(crate) fn insert_authserv_ids(conn: &Connection, path: &Path, ids: &[String], now: Timestamp) -> Result<(), Error> {
    for id in ids {
        conn.execute(
            "INSERT OR IGNORE INTO authserv_ids (authserv_id, added_at) VALUES (?1, ?2)",
            params![id, int(now.0)],
        )
        .map_err(err(path, "cannot record the authserv ids"))?;
    }
    Ok(())
}

pub(crate) fn remove_authserv_id(conn: &Connection, path: &Path, id: &str) -> Result<bool, Error> {
    conn.execute("DELETE FROM authserv_ids WHERE authserv_id = ?1", params![id])
        .map(|n| n > 0)
        .map_err(err(path, "cannot change the authserv ids"))
}

/// A setting's value, if set.
/// Whether `fanlic revoke --issuing-key` revoked this key.
pub(crate) fn issuing_key_revoked(conn: &Connection, path: &Path, key_id: KeyId) -> Result<bool, Error> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM revoked_issuing_keys WHERE key_id = ?1)",
        params![key_id.to_string()],
        |r| r.get(0),
    )
    .map_err(err(path, "cannot read the revoked issuing keys"))
}

pub(crate) fn setting(conn: &Connection, path: &Path, name: &str) -> Result<Option<String>, Error> {
    conn.query_row("SELECT value FROM settings WHERE name = ?1", params![name], |r| r.get(0))
        .optional()
        .map_err(err(path, "cannot read the settings"))
}

pub(crate) fn set_setting(
    conn: &Connection,
    path: &Path,
    name: &str,
    value: &str,
    now: Timestamp,
    by: &str,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by",
        params![name, value, int(now.0), by],
    )
    .map(|_| ())
    .map_err(err(path, "cannot change the settings"))
}

pub(crate) fn authserv_ids(conn: &Connection, path: &Path) -> Result<Vec<String>, Error> {
    let mut stmt = conn
        .prepare("SELECT authserv_id FROM authserv_ids ORDER BY added_at, rowid")
        .map_err(err(path, "cannot read the authserv ids"))?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(err(path, "cannot read the authserv ids"))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(err(path, "cannot read the authserv ids"))
}

/// What the database keeps of one issued license.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLicense {
    /// 32 hex digits.
    pub license_id: String,
    /// The issuing key that signed it.
    pub issuing_key_id: String,
    /// The raw license file.
    pub file_bytes: Vec<u8>,
    /// The armored `Container.lic` text.
    pub armored: String,
    /// Where it was written.
    pub output_path: String,
}

pub(crate) fn stored_license(conn: &Connection, path: &Path, id: &str) -> Result<Option<StoredLicense>, Error> {
    conn.query_row(
        "SELECT license_id, issuing_key_id, file_bytes, armored, output_path FROM licenses WHERE license_id = ?1",
        params![id],
        |r| {
            Ok(StoredLicense {
                license_id: r.get(0)?,
                issuing_key_id: r.get(1)?,
                file_bytes: r.get(2)?,
                armored: r.get(3)?,
                output_path: r.get(4)?,
            })
        },
    )
    .optional()
    .map_err(err(path, "cannot read the licenses"))
}

pub(crate) fn license_count(conn: &Connection, path: &Path) -> Result<u64, Error> {
    let n: i64 = conn
        .query_row("SELECT count(*) FROM licenses", [], |r| r.get(0))
        .map_err(err(path, "cannot read the licenses"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Records an issued license with every field and its file.
pub(crate) fn insert_license(
    conn: &Connection,
    path: &Path,
    l: &fanlic_formats::License<'_>,
    issuing_key_id: KeyId,
    file_bytes: &[u8],
    armored: &str,
    output_path: &Path,
) -> Result<(), Error> {
    conn.prepare_cached(
        "INSERT INTO licenses (license_id, kind, app_name, company, project, contract_signed, issued_at,
             not_before, expiry, version, max_nodes, activation_base_url, image_public_key,
             supersedes, request_email_sha256, issuing_key_id, file_bytes, armored, output_path, company_key,
             project_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    )
    .and_then(|mut s| {
        s.execute(params![
            l.id.to_string(),
            l.kind.as_str(),
            l.app_name,
            l.company,
            l.project,
            l.contract_signed.to_string(),
            int(l.issued_at.0),
            int(l.not_before.0),
            l.expiry.to_string(),
            l.version.to_string(),
            i64::from(l.max_nodes),
            // No activation key: it is derived when needed (activation.rs).
            l.activation_base_url,
            l.image_public_key.as_ref().map(|k| k.as_slice()),
            l.supersedes.map(|s| s.to_string()),
            l.request_email_sha256.as_ref().map(|k| k.as_slice()),
            issuing_key_id.to_string(),
            file_bytes,
            armored,
            output_path.to_string_lossy(),
            crate::contracts::company_key(l.company),
            crate::contracts::company_key(l.project),
        ])
    })
    .map(|_| ())
    .map_err(|e| {
        // The unique index over live licenses: another process recorded a
        // license of this project first.
        if crate::license::live::is_second_live(&e) {
            Error::LiveLicenseExists { project: l.project.to_owned(), license_id: None }
        } else {
            err(path, "cannot record the license")(e)
        }
    })
}

/// Records a receipt key (its row has the shape of an issuing key's; its
/// purposes are receipts only).
pub(crate) fn insert_receipt_key(conn: &Connection, path: &Path, row: &IssuingKeyRow) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO receipt_keys (key_id, root_key_id, public_key, not_before, not_after, certificate_message,
             certificate_signature, private_key_path, public_key_path, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            row.key_id.to_string(),
            row.root_key_id.to_string(),
            row.public_key.as_slice(),
            int(row.not_before.0),
            int(row.not_after.0),
            row.certificate_message,
            row.certificate_signature.as_slice(),
            row.private_key_path.to_string_lossy(),
            row.public_key_path.to_string_lossy(),
            int(row.created_at.0),
        ],
    )
    .map(|_| ())
    .map_err(err(path, "cannot record the receipt key"))
}

/// Receipt keys, oldest window first.
pub(crate) fn receipt_keys(conn: &Connection, path: &Path) -> Result<Vec<IssuingKeyRow>, Error> {
    let read = || err(path, "cannot read the receipt keys");
    let mut stmt = conn
        .prepare_cached(
            "SELECT key_id, root_key_id, public_key, not_before, not_after, certificate_message,
                    certificate_signature, private_key_path, public_key_path, created_at
             FROM receipt_keys ORDER BY not_before, created_at, rowid",
        )
        .map_err(read())?;
    let mut rows = stmt.query([]).map_err(read())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(read())? {
        let g = |e| Error::Database { action: "cannot read the receipt keys", path: path.to_owned(), source: e };
        out.push(IssuingKeyRow {
            key_id: key_id(path, &r.get::<_, String>(0).map_err(g)?)?,
            root_key_id: key_id(path, &r.get::<_, String>(1).map_err(g)?)?,
            public_key: array(path, "a receipt public key", &r.get::<_, Vec<u8>>(2).map_err(g)?)?,
            not_before: time(path, r.get(3).map_err(g)?)?,
            not_after: time(path, r.get(4).map_err(g)?)?,
            purposes: crate::home::keys::RECEIPT_PURPOSE,
            certificate_message: r.get(5).map_err(g)?,
            certificate_signature: array(path, "a certificate signature", &r.get::<_, Vec<u8>>(6).map_err(g)?)?,
            private_key_path: r.get::<_, String>(7).map_err(g)?.into(),
            public_key_path: r.get::<_, String>(8).map_err(g)?.into(),
            created_at: time(path, r.get(9).map_err(g)?)?,
            retired_at: None,
        });
    }
    Ok(out)
}
