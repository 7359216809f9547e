//! The schema: one list of migrations for both backends, each taking the
//! database one version up in one transaction (SQLite counts them in
//! `PRAGMA user_version`, PostgreSQL in `schema_migrations`), and opening
//! a database (SQLite: created with mode 0600; both brought up to date).

use crate::error::StoreError;
use std::path::{Path, PathBuf};

use super::sql::{Connection, params};

use super::audit::{Action, Entry};
use super::{LicenseState, MIGRATION_ACTOR, Tx, company_key, err, sha256};
use crate::Error;

/// One schema change, in each backend's SQL.
struct Migration {
    sqlite: &'static str,
    /// Empty for the changes made before PostgreSQL was supported: a
    /// PostgreSQL database starts empty and migration 13 makes all of them.
    postgres: &'static str,
}

impl Migration {
    const fn before_postgres(sqlite: &'static str) -> Self {
        Self { sqlite, postgres: "" }
    }
}

/// Migration `i` takes the schema from version `i` to `i + 1`, on either
/// backend. Append only: an existing migration is never edited once
/// released; a change is added once, here, in both dialects.
const MIGRATIONS: &[Migration] = &[
    // 1: keys, licenses, settings.
    Migration::before_postgres(
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
    ),
    // 2: the contract registry (contracts/, store/contracts.rs).
    Migration::before_postgres(
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
    ),
    // 3: the reply outbox (outbox/, store/outbox.rs): a queue of replies, with retry.
    Migration::before_postgres(
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
    ),
    // 4: registration-mail decisions (ingest/): one per message, and their audit trail.
    Migration::before_postgres(
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
    ),
    // 5: the home's settings (`fanlic config`).
    Migration::before_postgres(
        r"
CREATE TABLE settings (
    name       TEXT PRIMARY KEY,                   -- reply_from
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,                   -- Unix seconds
    updated_by TEXT NOT NULL
) STRICT;
",
    ),
    // 6: activation (`fanlic serve`), revocation and unbinding.
    Migration::before_postgres(
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
    ),
    // 7: private cloud (SPEC.md §7): the highest privateConfig generation the
    // activation service has seen per authorization server instance, so a
    // rolled-back copy is refused; and the image each license was sent.
    Migration::before_postgres(
        "
CREATE TABLE server_instances (
    license_id           TEXT NOT NULL,
    instance_fingerprint BLOB NOT NULL CHECK (length(instance_fingerprint) = 32),
    generation           INTEGER NOT NULL,
    last_activated_at    INTEGER NOT NULL,
    PRIMARY KEY (license_id, instance_fingerprint)
) STRICT;
",
    ),
    // 8: one live license per (company, application, project), the license
    // count of a contract, the decisions a resent or automatic mail gets, and
    // one audit trail for every state change. `migrate_licenses` then
    // fills `company_key`, marks duplicates and creates the unique index.
    Migration::before_postgres(
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
    ),
    // 9: secrets at rest. Activation keys are derived from the master secret
    // (activation.rs), so the column is emptied and never written again.
    // Attachments keep their SHA-256 and size, their bytes only until the
    // reply is sent (`migrate_attachments` copies the rows).
    // Requests whose license id was not authenticated are counted per client
    // and day, never stored under a license.
    Migration::before_postgres(
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
    ),
    // 10: activation receipts (SPEC.md §6.3): each contract's activation
    // policy and re-activation lease, the receipt keys (certified by a root
    // key for receipts only, with a window of at most 31 days), every
    // receipt issued, and alerts for staff (`fanlic alerts`).
    Migration::before_postgres(
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
    ),
    // 11: bounded raw mail. How much of each decision's message `raw` still
    // holds: whole, its first bytes only (rejected or ignored junk), or
    // nothing (`fanlic prune`); the message's full size, and when it was
    // pruned. raw_sha256 stays the digest of the whole message.
    Migration::before_postgres(
        r"
ALTER TABLE decisions ADD COLUMN raw_size INTEGER;
ALTER TABLE decisions ADD COLUMN raw_kept TEXT NOT NULL DEFAULT 'whole'
    CHECK (raw_kept IN ('whole', 'truncated', 'pruned'));
ALTER TABLE decisions ADD COLUMN raw_pruned_at INTEGER;
UPDATE decisions SET raw_size = length(raw);
",
    ),
    // 12: the staff console. Staff accounts (Argon2id PHC strings, never the
    // password), their sessions (only the SHA-256 of the cookie's token is
    // kept: a copy of the database logs nobody in) and failed logins counted
    // per account name and per client address.
    Migration::before_postgres(
        r"
CREATE TABLE staff (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'issuer', 'admin')),
    password_hash TEXT NOT NULL,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;
CREATE TABLE staff_sessions (
    token_sha256  BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
    name          TEXT NOT NULL REFERENCES staff (name),
    csrf          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL
) STRICT;
CREATE INDEX staff_sessions_by_name ON staff_sessions (name);
CREATE TABLE login_failures (
    kind          TEXT NOT NULL CHECK (kind IN ('name', 'client')),
    key           TEXT NOT NULL,
    failures      INTEGER NOT NULL,
    first_at      INTEGER NOT NULL,
    locked_until  INTEGER,
    PRIMARY KEY (kind, key)
) STRICT;
",
    ),
    // 13: the staff console's lists, each page an index range, never a
    // sort of every row.
    // The review queue counts the resends joined to each held request
    // (`joined_to`), which only `joined` decisions set.
    // Licenses: newest first, and newest first in one state, each holding
    // what a search compares so that a walk through them reads no license's
    // row (its file is large); live ones by expiry; by the start of the
    // company or project (folded); and what superseded a license.
    // The audit page and the dashboard: the audit trail is read
    // newest first filtered by who and what (each index ends in `at`, so a
    // page is read in order and stops at its last row); its free text is
    // found through a trigram index of `why` and the license id (any
    // substring of 3 characters or more, kept by triggers); a contract's
    // audit finds its company's licenses by company key; the dashboard
    // counts licenses issued since a time, live licenses by expiry date and
    // contracts near their license count.
    Migration {
        sqlite: r"
CREATE INDEX decisions_by_joined_to ON decisions (joined_to) WHERE joined_to IS NOT NULL;
CREATE INDEX licenses_by_issued ON licenses (issued_at, license_id, company_key, project_key);
CREATE INDEX licenses_by_state ON licenses (state, issued_at, license_id, company_key, project_key);
CREATE INDEX licenses_by_state_expiry ON licenses (state, expiry, license_id);
CREATE INDEX licenses_by_company_key ON licenses (company_key, issued_at);
CREATE INDEX licenses_by_project_key ON licenses (project_key, issued_at);
CREATE INDEX licenses_by_supersedes ON licenses (supersedes) WHERE supersedes IS NOT NULL;
CREATE VIRTUAL TABLE audit_text USING fts5 (
    why, license_id, content = 'audit', content_rowid = 'audit_id', tokenize = 'trigram'
);
INSERT INTO audit_text (audit_text) VALUES ('rebuild');
CREATE TRIGGER audit_text_insert AFTER INSERT ON audit BEGIN
    INSERT INTO audit_text (rowid, why, license_id) VALUES (NEW.audit_id, NEW.why, NEW.license_id);
END;
CREATE TRIGGER audit_text_delete AFTER DELETE ON audit BEGIN
    INSERT INTO audit_text (audit_text, rowid, why, license_id) VALUES ('delete', OLD.audit_id, OLD.why, OLD.license_id);
END;
CREATE TRIGGER audit_text_update AFTER UPDATE OF why, license_id ON audit BEGIN
    INSERT INTO audit_text (audit_text, rowid, why, license_id) VALUES ('delete', OLD.audit_id, OLD.why, OLD.license_id);
    INSERT INTO audit_text (rowid, why, license_id) VALUES (NEW.audit_id, NEW.why, NEW.license_id);
END;
CREATE INDEX audit_by_who ON audit (by, at);
CREATE INDEX audit_by_action ON audit (action, at);
CREATE INDEX audit_by_who_action ON audit (by, action, at);
CREATE INDEX contracts_limits ON contracts (company_key, enabled, max_licenses);
-- A license's audit trail is its own rows and its decisions' rows
-- (`license_id = ? OR decision_id IN (its decisions)`): with this index both
-- halves are index searches instead of a scan of the whole trail.
CREATE INDEX audit_by_decision ON audit (decision_id) WHERE decision_id IS NOT NULL;
",
        // PostgreSQL support began here: its first migration makes all that 1–13 made.
        postgres: include_str!("postgres_13.sql"),
    },
    // 14: several instances on one database. The outbox leased to one
    // sender at a time (`leased_until`, `leased_by`: a crashed sender's
    // lease runs out and another sends the reply again, same Message-ID);
    // what each instance's secrets must match (the activation master
    // secret's version and check value, recorded by the first instance);
    // rate limits counted in the database so that every instance sees one
    // count.
    Migration {
        sqlite: r"
ALTER TABLE outbox ADD COLUMN leased_until INTEGER;
ALTER TABLE outbox ADD COLUMN leased_by TEXT;
CREATE TABLE instance_secrets (
    name        TEXT PRIMARY KEY,                  -- activation-master
    version     INTEGER NOT NULL,
    check_value BLOB NOT NULL,                     -- a MAC under the secret of a fixed label: never the secret
    recorded_at INTEGER NOT NULL,
    recorded_by TEXT NOT NULL
) STRICT;
CREATE TABLE rate_limits (
    scope        TEXT NOT NULL,                    -- license | client | forged
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,                 -- Unix seconds
    count        INTEGER NOT NULL,
    PRIMARY KEY (scope, key, window_start)
) STRICT;
",
        postgres: r#"
ALTER TABLE outbox ADD COLUMN leased_until BIGINT;
ALTER TABLE outbox ADD COLUMN leased_by TEXT COLLATE "C";
CREATE TABLE instance_secrets (
    rowid       BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
    name        TEXT COLLATE "C" PRIMARY KEY,
    version     BIGINT NOT NULL,
    check_value BYTEA NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by TEXT COLLATE "C" NOT NULL
);
CREATE TABLE rate_limits (
    rowid        BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,
    scope        TEXT COLLATE "C" NOT NULL,
    key          TEXT COLLATE "C" NOT NULL,
    window_start BIGINT NOT NULL,
    count        BIGINT NOT NULL,
    PRIMARY KEY (scope, key, window_start)
);
"#,
    },
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// What each migration does, in a line: `fanlic db status` lists the
/// pending ones, `fanlic db migrate` the ones it applied.
pub(crate) const MIGRATION_TITLES: [&str; 14] = [
    "keys, licenses, settings",
    "the contract registry",
    "the reply outbox",
    "registration-mail decisions",
    "the home's settings",
    "activation, revocation and unbinding",
    "private cloud: server instances",
    "one live license per project, one audit trail",
    "secrets at rest: attachments kept until sent, unverified attempts",
    "activation receipts, receipt keys, alerts",
    "bounded raw mail",
    "the staff console: accounts, sessions, failed logins",
    "the staff console's indexes and audit search",
    "several instances: outbox leases, instance secrets, shared rate limits",
];
// A migration added without its title fails the build here.
const _: () = assert!(MIGRATION_TITLES.len() == MIGRATIONS.len());

/// Opens (`create`: creates) the database and brings its schema up to date.
pub(crate) fn open(path: &Path, create: bool) -> Result<Connection, Error> {
    use rusqlite::OpenFlags as F;
    let err = super::lite_err;
    // SQLite gives its -wal and -shm files the database file's mode, so the
    // database is made 0600 before SQLite opens it; an older one is narrowed.
    private_files(path, create)?;
    let flags = if create { F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE } else { F::SQLITE_OPEN_READ_WRITE };
    let conn = rusqlite::Connection::open_with_flags(path, flags | F::SQLITE_OPEN_NO_MUTEX)
        .map_err(err(path, "cannot open"))?;
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
    let conn = Connection::Sqlite(conn);
    migrate(&conn, path)?;
    let lite = conn.sqlite().unwrap_or_else(|| unreachable!("just opened"));
    lite.pragma_update(None, "foreign_keys", true).map_err(err(path, "cannot configure"))?;
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

fn migrate(conn: &Connection, path: &Path) -> Result<(), Error> {
    let lite = conn.sqlite().unwrap_or_else(|| unreachable!("a SQLite connection"));
    let found: i64 = lite
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| err(path, "cannot read the schema version")(e.into()))?;
    if found > SCHEMA_VERSION {
        return Err(Error::Store(StoreError::SchemaTooNew { path: path.to_owned(), found, supported: SCHEMA_VERSION }));
    }
    let done = usize::try_from(found).unwrap_or(0);
    for (i, m) in MIGRATIONS.iter().enumerate().skip(done) {
        let fail = || err(path, "cannot migrate");
        conn.execute_batch("BEGIN").map_err(fail())?;
        let step = || -> Result<(), Error> {
            conn.execute_batch(m.sqlite).map_err(fail())?;
            if i + 1 == 8 {
                migrate_licenses(conn, path)?;
            }
            if i + 1 == 9 {
                migrate_attachments(conn, path)?;
            }
            let to = i64::try_from(i + 1).unwrap_or(i64::MAX);
            lite.pragma_update(None, "user_version", to).map_err(|e| fail()(e.into()))?;
            conn.execute_batch("COMMIT").map_err(fail())
        };
        if let Err(e) = step() {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

/// The lock PostgreSQL migrations hold, so that instances starting at once
/// migrate one after the other ("fanlicmg").
pub(crate) const MIGRATION_LOCK: i64 = 0x6661_6e6c_6963_6d67;

/// What the database's schema is: its version, and the versions this build
/// would still apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The version the database is at.
    pub version: i64,
    /// The version this build brings it to.
    pub latest: i64,
}

/// Brings a PostgreSQL database up to date, each migration in its own
/// transaction, under a session lock.
pub(crate) fn migrate_postgres(conn: &Connection, path: &Path) -> Result<(), Error> {
    let fail = || err(path, "cannot migrate");
    conn.execute_batch(&format!(
        "SELECT pg_advisory_lock({MIGRATION_LOCK});
         CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);"
    ))
    .map_err(fail())?;
    let run = || -> Result<(), Error> {
        let found = postgres_version(conn, path)?;
        if found > SCHEMA_VERSION {
            return Err(Error::Store(StoreError::SchemaTooNew {
                path: path.to_owned(),
                found,
                supported: SCHEMA_VERSION,
            }));
        }
        let now = crate::util::clock::now()?;
        for (i, m) in MIGRATIONS.iter().enumerate().skip(usize::try_from(found).unwrap_or(0)) {
            conn.execute_batch("BEGIN").map_err(fail())?;
            let to = i64::try_from(i + 1).unwrap_or(i64::MAX);
            let step = conn.execute_batch(m.postgres).and_then(|()| {
                conn.execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                    params![to, super::int(now.0)],
                )
            });
            match step {
                Ok(_) => conn.execute_batch("COMMIT").map_err(fail())?,
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(fail()(e));
                }
            }
        }
        Ok(())
    };
    let out = run();
    let _ = conn.execute_batch(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"));
    out
}

fn postgres_version(conn: &Connection, path: &Path) -> Result<i64, Error> {
    conn.query_row("SELECT coalesce(max(version), 0) FROM schema_migrations", params![], |r| r.get(0))
        .map_err(err(path, "cannot read the schema version"))
}

/// The schema version of the database `conn` is on, read without
/// migrating: a PostgreSQL database without `schema_migrations` (never
/// opened by fanlic) is at version 0.
pub(crate) fn version_without_migrating(conn: &Connection, path: &Path) -> Result<i64, Error> {
    if conn.sqlite().is_some() {
        return status(conn, path).map(|s| s.version);
    }
    let known: bool = conn
        .query_row("SELECT to_regclass('schema_migrations') IS NOT NULL", params![], |r| r.get(0))
        .map_err(err(path, "cannot read the schema version"))?;
    if known { postgres_version(conn, path) } else { Ok(0) }
}

/// Makes the PostgreSQL schema of `version` in an empty database, inside
/// the caller's transaction (`fanlic db copy`: the schema and the records
/// are kept together or not at all).
pub(crate) fn create_postgres(conn: &Connection, path: &Path, version: i64, now: i64) -> Result<(), Error> {
    let fail = || err(path, "cannot create the schema");
    conn.execute_batch("CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .map_err(fail())?;
    for (i, m) in MIGRATIONS.iter().enumerate().take(usize::try_from(version).unwrap_or(0)) {
        conn.execute_batch(m.postgres).map_err(fail())?;
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![i64::try_from(i + 1).unwrap_or(i64::MAX), now],
        )
        .map_err(fail())?;
    }
    Ok(())
}

/// The schema version of the database `conn` is on.
pub(crate) fn status(conn: &Connection, path: &Path) -> Result<SchemaStatus, Error> {
    let version = match conn.sqlite() {
        Some(lite) => lite
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| err(path, "cannot read the schema version")(e.into()))?,
        None => postgres_version(conn, path)?,
    };
    Ok(SchemaStatus { version, latest: SCHEMA_VERSION })
}

/// Part of schema migration 8 that SQL alone cannot do: fills
/// `licenses.company_key`, marks every live license beside an earlier live
/// license of the same (company, application, project) as `duplicate` (the
/// first issued stays live; none is revoked: they keep working until staff
/// decide), audits each and says so on standard error, then creates the
/// unique index that keeps it so.
fn migrate_licenses(conn: &Connection, path: &Path) -> Result<(), Error> {
    let fail = || err(path, "cannot migrate");
    let rows: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare("SELECT license_id, company, project FROM licenses").map_err(fail())?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())?
    };
    for (id, company, project) in &rows {
        conn.execute(
            "UPDATE licenses SET company_key = ?1, project_key = ?2 WHERE license_id = ?3",
            params![company_key(company), company_key(project), id],
        )
        .map_err(fail())?;
    }
    let dups: Vec<(String, String, String)> = {
        let mut stmt = conn
            .prepare(
                "SELECT l.license_id, first.license_id, l.project FROM licenses l
                 JOIN licenses first ON first.license_id = (
                     SELECT f.license_id FROM licenses f
                     WHERE f.company_key = l.company_key AND f.app_name = l.app_name AND f.project = l.project
                       AND f.state = 'live' ORDER BY f.issued_at, f.rowid LIMIT 1)
                 WHERE l.state = 'live' AND first.license_id <> l.license_id
                 ORDER BY l.issued_at, l.rowid",
            )
            .map_err(fail())?;
        let rows = stmt.query_map(params![], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(fail())?;
        rows.collect::<Result<_, _>>().map_err(fail())?
    };
    let now = crate::util::clock::now()?;
    let tx = Tx { conn, path };
    for (dup, first, project) in &dups {
        tx.set_license_state(dup, LicenseState::Duplicate)?;
        let why = format!("a second live license of project {project:?}; {first} stays live");
        tx.audit(&Entry {
            license_id: Some(dup),
            why: &why,
            ..Entry::new(Action::MarkedDuplicate, MIGRATION_ACTOR, now)
        })?;
        eprintln!(
            "fanlic: license {dup} is marked duplicate: {why}. It keeps working; `fanlic revoke {dup}` \
             or keep it (`fanlic audit --license {dup}`)."
        );
    }
    conn.execute_batch(LIVE_SCHEMA).map_err(fail())
}

/// What keeps the rule in the database: the unique index over live
/// licenses, the look-alike index, and each company's count of live
/// licenses, kept by triggers so that checking a contract's license count
/// costs one lookup however many projects it has.
const LIVE_SCHEMA: &str = "
CREATE UNIQUE INDEX one_live_license ON licenses (company_key, app_name, project) WHERE state = 'live';
CREATE INDEX live_by_project_key ON licenses (company_key, app_name, project_key) WHERE state = 'live';
CREATE TABLE live_license_counts (
    company_key TEXT PRIMARY KEY,
    live        INTEGER NOT NULL CHECK (live >= 0)
) STRICT;
INSERT INTO live_license_counts (company_key, live)
    SELECT company_key, count(*) FROM licenses WHERE state = 'live' GROUP BY company_key;
CREATE TRIGGER live_count_insert AFTER INSERT ON licenses WHEN NEW.state = 'live'
BEGIN
    INSERT INTO live_license_counts (company_key, live) VALUES (NEW.company_key, 1)
        ON CONFLICT (company_key) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER live_count_update AFTER UPDATE OF state ON licenses
    WHEN (OLD.state = 'live') <> (NEW.state = 'live')
BEGIN
    INSERT INTO live_license_counts (company_key, live) VALUES (NEW.company_key, NEW.state = 'live')
        ON CONFLICT (company_key) DO UPDATE SET live = live + (CASE WHEN NEW.state = 'live' THEN 1 ELSE -1 END);
END;
";

/// Migration 9's copy of the attachments into their new table: each with
/// its size and SHA-256, and its bytes only if its reply is not sent yet.
fn migrate_attachments(tx: &Connection, path: &Path) -> Result<(), Error> {
    let e = || err(path, "cannot migrate");
    {
        let mut read = tx
            .prepare(
                "SELECT a.outbox_id, a.position, a.file_name, a.content_type, a.bytes, o.status = 'sent'
                 FROM outbox_attachments a JOIN outbox o ON o.outbox_id = a.outbox_id",
            )
            .map_err(e())?;
        let mut write = tx
            .prepare(
                "INSERT INTO outbox_attachments_new (outbox_id, position, file_name, content_type, size, sha256, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(e())?;
        let mut rows = read.query(params![]).map_err(e())?;
        while let Some(r) = rows.next().map_err(e())? {
            let bytes: Vec<u8> = r.get(4).map_err(e())?;
            let sent: bool = r.get(5).map_err(e())?;
            write
                .execute(params![
                    r.get::<_, i64>(0).map_err(e())?,
                    r.get::<_, i64>(1).map_err(e())?,
                    r.get::<_, String>(2).map_err(e())?,
                    r.get::<_, String>(3).map_err(e())?,
                    i64::try_from(bytes.len()).unwrap_or(i64::MAX),
                    sha256(&bytes).as_slice(),
                    (!sent).then_some(bytes.as_slice()),
                ])
                .map_err(e())?;
        }
    }
    tx.execute_batch(
        "DROP TABLE outbox_attachments;
         ALTER TABLE outbox_attachments_new RENAME TO outbox_attachments;",
    )
    .map_err(e())
}
