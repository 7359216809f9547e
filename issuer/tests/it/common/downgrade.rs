//! Turns a current database back into an older schema version, for the
//! migration tests: one undo per migration, so a new migration is undone in
//! this one place.

/// Undo of migration N + 2 at index N (migration 1 is the base schema).
const UNDO: &[&str] = &[
    // 2: contracts
    "DROP TABLE contract_audit; DROP TABLE contract_emails; DROP TABLE contracts;",
    // 3: the outbox
    "DROP TABLE outbox_attachments; DROP TABLE outbox;",
    // 4: decisions
    "DROP TABLE decision_audit; DROP TABLE decisions;",
    // 5: settings
    "DROP TABLE settings;",
    // 6: activation and revocation
    "DROP TABLE license_audit; DROP TABLE revocation_lists; DROP TABLE revoked_issuing_keys;
     DROP TABLE revoked_licenses; DROP TABLE activations; DROP TABLE activation_bindings;
     ALTER TABLE licenses DROP COLUMN activation_master_version;",
    // 7: private cloud
    "DROP TABLE server_instances;",
    // 8: live licenses, license counts, the audit trail, new decisions
    r"
DROP TRIGGER live_count_insert;
DROP TRIGGER live_count_update;
DROP TABLE live_license_counts;
DROP INDEX one_live_license;
DROP INDEX live_by_project_key;
ALTER TABLE licenses DROP COLUMN state;
ALTER TABLE licenses DROP COLUMN project_key;
ALTER TABLE licenses DROP COLUMN company_key;
ALTER TABLE contracts DROP COLUMN max_licenses;
CREATE TABLE decision_audit (
    audit_id INTEGER PRIMARY KEY, decision_id INTEGER REFERENCES decisions (decision_id), dedup_key TEXT NOT NULL,
    action TEXT NOT NULL, reasons TEXT NOT NULL, license_id TEXT, at INTEGER NOT NULL, by TEXT NOT NULL
) STRICT;
CREATE TABLE license_audit (
    audit_id INTEGER PRIMARY KEY, license_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL,
    at INTEGER NOT NULL, by TEXT NOT NULL
) STRICT;
CREATE TABLE contract_audit (
    audit_id INTEGER PRIMARY KEY, contract_id INTEGER NOT NULL REFERENCES contracts (contract_id),
    action TEXT NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL, contract TEXT NOT NULL
) STRICT;
DROP TABLE audit;
DROP INDEX decisions_by_request;
DROP INDEX decisions_by_license;
DELETE FROM decisions WHERE decision IN ('resent', 'joined', 'ignored');
UPDATE decisions SET decision = 'issued' WHERE decision = 'revoked';
ALTER TABLE decisions DROP COLUMN request_key;
ALTER TABLE decisions DROP COLUMN joined_to;
",
    // 9: secrets at rest. An attachment whose bytes were deleted comes back
    // empty; the activation keys stay NULL (a test that needs an old row
    // writes one).
    r"
DROP TABLE unverified_attempts;
CREATE TABLE outbox_attachments_old (
    outbox_id    INTEGER NOT NULL REFERENCES outbox (outbox_id),
    position     INTEGER NOT NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (outbox_id, position)
) STRICT;
INSERT INTO outbox_attachments_old SELECT outbox_id, position, file_name, content_type, coalesce(bytes, X'')
FROM outbox_attachments;
DROP TABLE outbox_attachments;
ALTER TABLE outbox_attachments_old RENAME TO outbox_attachments;
",
    // 10: activation receipts
    r"
DROP TABLE alerts;
DROP TABLE receipts;
DROP TABLE receipt_keys;
ALTER TABLE contracts DROP COLUMN lease_days;
ALTER TABLE contracts DROP COLUMN activation_policy;
",
    // 11: bounded raw mail. A pruned copy stays empty.
    r"
ALTER TABLE decisions DROP COLUMN raw_pruned_at;
ALTER TABLE decisions DROP COLUMN raw_kept;
ALTER TABLE decisions DROP COLUMN raw_size;
",
    // 12: the staff console.
    r"
DROP TABLE login_failures;
DROP TABLE staff_sessions;
DROP TABLE staff;
",
    // 13: the staff console's list indexes.
    r"
DROP TRIGGER audit_text_insert;
DROP TRIGGER audit_text_delete;
DROP TRIGGER audit_text_update;
DROP TABLE audit_text;
DROP INDEX audit_by_who;
DROP INDEX audit_by_action;
DROP INDEX audit_by_who_action;
DROP INDEX contracts_limits;
DROP INDEX licenses_by_supersedes;
DROP INDEX licenses_by_project_key;
DROP INDEX licenses_by_company_key;
DROP INDEX licenses_by_state_expiry;
DROP INDEX licenses_by_state;
DROP INDEX licenses_by_issued;
DROP INDEX decisions_by_joined_to;
DROP INDEX audit_by_decision;
",
    // 14: several instances: outbox leases, instance secrets, shared rate limits
    r"
DROP TABLE rate_limits;
DROP TABLE instance_secrets;
ALTER TABLE outbox DROP COLUMN leased_by;
ALTER TABLE outbox DROP COLUMN leased_until;
",
];

/// Undoes every migration after `version`, newest first, and sets `user_version`.
pub fn to_version(conn: &rusqlite::Connection, version: usize) {
    assert_eq!(UNDO.len() + 1, fanlic_issuer::SCHEMA_VERSION as usize, "add the new migration's undo here");
    for sql in UNDO.iter().skip(version - 1).rev() {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", version as i64).unwrap();
}
