//! Revocations: revoked licenses and issuing keys, the revocation lists
//! exported (whose sequence numbers only grow), and undoing a license's
//! binding to its project.

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::{KeyId, LicenseId, Timestamp};

use super::{Tx, corrupt, err, int, time};
use crate::Error;

/// One revoked license or issuing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The license id or key id.
    pub id: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Whether the newest exported list names it.
    pub published: bool,
}

/// A revocation list as recorded when it was exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRevocationList {
    /// Its sequence number.
    pub sequence: u64,
    /// When it was signed.
    pub issued_at: Timestamp,
    /// The file.
    pub file_bytes: Vec<u8>,
}

impl Tx<'_> {
    /// Whether `fanlic revoke --issuing-key` revoked this key.
    pub fn issuing_key_revoked(&self, key_id: KeyId) -> Result<bool, Error> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM revoked_issuing_keys WHERE key_id = ?1)",
                params![key_id.to_string()],
                |r| r.get(0),
            )
            .map_err(err(self.path, "cannot read the revoked issuing keys"))
    }

    /// `(revoked_at, revoked_by, reason)` if the license is revoked.
    pub fn revocation_of(&self, id: &str) -> Result<Option<(Timestamp, String, String)>, Error> {
        let row: Option<(i64, String, String)> = self
            .conn
            .query_row(
                "SELECT revoked_at, revoked_by, reason FROM revoked_licenses WHERE license_id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(err(self.path, "cannot read the revoked licenses"))?;
        row.map(|(at, by, reason)| Ok((time(self.path, at)?, by, reason))).transpose()
    }

    /// Records a license's revocation and makes it revoked (from live or
    /// duplicate). The caller checked it was not revoked already.
    pub fn insert_license_revocation(&self, id: &str, reason: &str, by: &str, now: Timestamp) -> Result<(), Error> {
        let write = || err(self.path, "cannot record the revocation");
        self.conn
            .execute(
                "INSERT INTO revoked_licenses (license_id, reason, revoked_at, revoked_by) VALUES (?1, ?2, ?3, ?4)",
                params![id, reason, int(now.0), by],
            )
            .map_err(write())?;
        self.conn
            .execute(
                "UPDATE licenses SET state = 'revoked' WHERE license_id = ?1 AND state IN ('live', 'duplicate')",
                params![id],
            )
            .map_err(write())?;
        Ok(())
    }

    /// `(revoked_at, revoked_by)` if the issuing key is revoked.
    pub fn issuing_key_revocation(&self, key_id: KeyId) -> Result<Option<(Timestamp, String)>, Error> {
        let before: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT revoked_at, revoked_by FROM revoked_issuing_keys WHERE key_id = ?1",
                params![key_id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err(self.path, "cannot read the revoked issuing keys"))?;
        before.map(|(at, by)| Ok((time(self.path, at)?, by))).transpose()
    }

    /// Records an issuing key's revocation.
    pub fn insert_issuing_key_revocation(
        &self,
        key_id: KeyId,
        reason: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO revoked_issuing_keys (key_id, reason, revoked_at, revoked_by) VALUES (?1, ?2, ?3, ?4)",
                params![key_id.to_string(), reason, int(now.0), by],
            )
            .map(|_| ())
            .map_err(err(self.path, "cannot record the revocation"))
    }

    /// The project fingerprint a license is bound to, and since when.
    pub fn binding_of(&self, id: &str) -> Result<Option<(Vec<u8>, Timestamp)>, Error> {
        let binding: Option<(Vec<u8>, i64)> = self
            .conn
            .query_row(
                "SELECT project_fingerprint, bound_at FROM activation_bindings WHERE license_id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err(self.path, "cannot read the activation bindings"))?;
        binding.map(|(fp, at)| Ok((fp, time(self.path, at)?))).transpose()
    }

    /// Removes a license's binding to its project.
    pub fn delete_binding(&self, id: &str) -> Result<(), Error> {
        self.conn
            .execute("DELETE FROM activation_bindings WHERE license_id = ?1", params![id])
            .map(|_| ())
            .map_err(err(self.path, "cannot remove the binding"))
    }

    /// The sequence number of the newest revocation list exported; 0 when none.
    pub fn last_revocation_sequence(&self) -> Result<u64, Error> {
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(sequence) FROM revocation_lists", params![], |r| r.get(0))
            .map_err(err(self.path, "cannot read the revocation lists"))?;
        u64::try_from(last.unwrap_or(0)).map_err(|_| corrupt(self.path, "a negative revocation list sequence"))
    }

    /// Records a revocation list exported; false when a list with this
    /// sequence is recorded already (the primary key: one list per sequence,
    /// whoever signed it).
    pub fn insert_revocation_list(&self, sequence: u64, issued_at: Timestamp, file: &[u8]) -> Result<bool, Error> {
        self.conn
            .execute(
                "INSERT INTO revocation_lists (sequence, issued_at, file_bytes) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sequence) DO NOTHING",
                params![int(sequence), int(issued_at.0), file],
            )
            .map(|n| n == 1)
            .map_err(err(self.path, "cannot record the revocation list"))
    }

    /// Every revoked license's id, in order.
    pub fn revoked_license_ids(&self) -> Result<Vec<LicenseId>, Error> {
        let path = self.path;
        let read = || err(path, "cannot read the revoked licenses");
        let mut stmt =
            self.conn.prepare("SELECT license_id FROM revoked_licenses ORDER BY license_id").map_err(read())?;
        let ids = stmt.query_map(params![], |r| r.get::<_, String>(0)).map_err(read())?;
        let mut out = Vec::new();
        for id in ids {
            let id = id.map_err(read())?;
            out.push(id.parse().map_err(|_| corrupt(path, format!("revoked license id {id:?} is not 32 hex digits")))?);
        }
        Ok(out)
    }

    /// Every revoked issuing key's id, in order.
    pub fn revoked_key_ids(&self) -> Result<Vec<KeyId>, Error> {
        let path = self.path;
        let read = || err(path, "cannot read the revoked issuing keys");
        let mut stmt = self.conn.prepare("SELECT key_id FROM revoked_issuing_keys ORDER BY key_id").map_err(read())?;
        let ids = stmt.query_map(params![], |r| r.get::<_, String>(0)).map_err(read())?;
        let mut out = Vec::new();
        for id in ids {
            let id = id.map_err(read())?;
            out.push(id.parse().map_err(|_| corrupt(path, format!("revoked key id {id:?} is not 16 hex digits")))?);
        }
        Ok(out)
    }

    fn revoked_entries(&self, sql: &str) -> Result<Vec<RevokedEntry>, Error> {
        let path = self.path;
        let read = || err(path, "cannot read the revocations");
        let mut stmt = self.conn.prepare(sql).map_err(read())?;
        let rows = stmt
            .query_map(params![], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?, r.get(3)?))
            })
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (id, reason, at, by) = row.map_err(read())?;
            out.push(RevokedEntry { id, reason, at: time(path, at)?, by, published: false });
        }
        Ok(out)
    }

    /// Revoked licenses, oldest first (`published` left false).
    pub fn revoked_licenses(&self) -> Result<Vec<RevokedEntry>, Error> {
        self.revoked_entries(
            "SELECT license_id, reason, revoked_at, revoked_by FROM revoked_licenses ORDER BY revoked_at, license_id",
        )
    }

    /// Revoked issuing keys, oldest first (`published` left false).
    pub fn revoked_issuing_keys(&self) -> Result<Vec<RevokedEntry>, Error> {
        self.revoked_entries(
            "SELECT key_id, reason, revoked_at, revoked_by FROM revoked_issuing_keys ORDER BY revoked_at, key_id",
        )
    }

    /// Every revocation list exported, by sequence.
    pub fn revocation_lists(&self) -> Result<Vec<StoredRevocationList>, Error> {
        let path = self.path;
        let read = || err(path, "cannot read the revocation lists");
        let mut stmt = self
            .conn
            .prepare("SELECT sequence, issued_at, file_bytes FROM revocation_lists ORDER BY sequence")
            .map_err(read())?;
        let rows = stmt
            .query_map(params![], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Vec<u8>>(2)?)))
            .map_err(read())?;
        let mut out = Vec::new();
        for row in rows {
            let (sequence, issued_at, file_bytes) = row.map_err(read())?;
            out.push(StoredRevocationList {
                sequence: u64::try_from(sequence).map_err(|_| corrupt(path, "a negative revocation list sequence"))?,
                issued_at: time(path, issued_at)?,
                file_bytes,
            });
        }
        Ok(out)
    }
}
