//! The records of activation (SPEC.md §6.1): what the activation service
//! reads of a license, whether it may still be activated, the license's
//! binding to one project (made by its first confirmed activation, audited),
//! each authorization server instance's highest privateConfig generation,
//! every confirmation and its outcome, the per-client count of
//! confirmations whose license could not be authenticated, and the newest
//! exported revocation list the service publishes.

use core::net::IpAddr;

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::{Date, Expiry, LicenseId, LicenseKind, Timestamp};

use super::audit::{Action, Entry};
use super::{Store, Tx, corrupt, err, int};
use crate::Error;

/// A license as the activation service needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationLicense {
    /// The product.
    pub app_name: String,
    /// The customer.
    pub company: String,
    /// The customer's project.
    pub project: String,
    /// When it ends.
    pub expiry: Expiry,
    /// The most nodes a cluster may have.
    pub max_nodes: u32,
    /// The raw license file.
    pub file_bytes: Vec<u8>,
    /// The version of the master secret its activation key was derived
    /// with; `None`: it carries no derived key.
    pub activation_master_version: Option<i64>,
    /// The issuing key that signed it.
    pub issuing_key_id: String,
    /// Local container or private cloud.
    pub kind: LicenseKind,
    /// The company as contracts compare it.
    pub company_key: String,
}

/// The project a license is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The project's fingerprint.
    pub project_fingerprint: [u8; 32],
    /// When the first confirmed activation bound it.
    pub bound_at: u64,
}

/// One activation attempt, as `fanlic serve` recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivationRecord {
    /// When.
    pub at: Timestamp,
    /// The project it came from.
    pub project_fingerprint: Vec<u8>,
    /// The node that asked.
    pub node_id: Vec<u8>,
    /// How many nodes the cluster had.
    pub nodes: i64,
    /// The client's address.
    pub client: String,
    /// `activated`, or the code of the refusal.
    pub outcome: String,
}

/// One activation receipt, as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRecord {
    /// Its id.
    pub receipt_id: Vec<u8>,
    /// The project of its binding.
    pub project_fingerprint: Vec<u8>,
    /// When its binding was made.
    pub bound_at: Timestamp,
    /// When it was signed.
    pub at: Timestamp,
    /// End of its lease, if any.
    pub lease_until: Option<Timestamp>,
    /// The client's address.
    pub client: String,
}

/// A binding to make, with its audit entry.
#[derive(Clone, Copy, Debug)]
pub struct NewBinding<'a> {
    /// The license.
    pub license_id: LicenseId,
    /// The project it is bound to.
    pub project_fingerprint: [u8; 32],
    /// When.
    pub at: Timestamp,
    /// What the audit trail says of it.
    pub why: &'a str,
    /// Who the audit trail names.
    pub by: &'a str,
}

/// One confirmation, whatever its outcome.
#[derive(Clone, Copy, Debug)]
pub struct Confirmation<'a> {
    /// The license, as the verified challenge names it.
    pub license_id: LicenseId,
    /// The project's fingerprint.
    pub project_fingerprint: [u8; 32],
    /// The node that made the challenge.
    pub node_id: [u8; 16],
    /// The cluster's nodes.
    pub nodes: u32,
    /// When.
    pub at: Timestamp,
    /// The client's address.
    pub client: IpAddr,
    /// `activated`, or the first refusal's code.
    pub outcome: &'a str,
}

/// A revocation list as `fanlic revocations export` recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedList {
    /// Its sequence number.
    pub sequence: u64,
    /// The signed file.
    pub file: Vec<u8>,
}

/// 32 bytes as stored; the schema holds 32, anything else never matches.
fn bytes32(v: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(v).unwrap_or([0; 32])
}

impl Store {
    /// Sets the database up for a long-running writer: WAL, so that other
    /// `fanlic` commands reading never block it, and FULL synchronous
    /// commits, so that a confirmed activation survives a power cut.
    pub fn configure_for_service(&mut self) -> Result<(), Error> {
        let path = self.path.clone();
        let cfg = || super::lite_err(&path, "cannot configure");
        // PostgreSQL commits durably as it is (synchronous_commit).
        let Some(conn) = self.sqlite() else { return Ok(()) };
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)).map_err(cfg())?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(cfg())
    }
}

impl Tx<'_> {
    /// The license `id` as the activation service reads it; `None`: no
    /// such license. A row whose expiry or kind does not parse is an error,
    /// never a guess.
    pub fn activation_license(&self, id: LicenseId) -> Result<Option<ActivationLicense>, Error> {
        let read = || err(self.path, "cannot read the licenses");
        let row = self
            .conn
            .prepare_cached(
                "SELECT app_name, company, project, expiry, max_nodes, file_bytes, activation_master_version,
                        issuing_key_id, kind, company_key
                 FROM licenses WHERE license_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id.to_string()], |r| {
                    Ok((
                        (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?),
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Vec<u8>>(5)?,
                        r.get::<_, Option<i64>>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, String>(8)?,
                        r.get::<_, Option<String>>(9)?,
                    ))
                })
                .optional()
            })
            .map_err(read())?;
        let Some(((app_name, company, project), expiry, max_nodes, file_bytes, version, issuing_key_id, kind, ck)) =
            row
        else {
            return Ok(None);
        };
        let expiry = if expiry == "never" {
            Expiry::Never
        } else {
            Expiry::On(
                Date::parse(&expiry)
                    .ok_or_else(|| corrupt(self.path, format!("license {id} has the expiry {expiry:?}")))?,
            )
        };
        let kind = kind.parse().map_err(|_| corrupt(self.path, format!("license {id} has the kind {kind:?}")))?;
        Ok(Some(ActivationLicense {
            app_name,
            company,
            project,
            expiry,
            max_nodes: u32::try_from(max_nodes).unwrap_or(0),
            file_bytes,
            activation_master_version: version,
            issuing_key_id,
            kind,
            company_key: ck.unwrap_or_default(),
        }))
    }

    /// Whether license `id` (signed by `issuing_key_id`) may no longer be
    /// activated: it is revoked, its issuing key is, or it was superseded
    /// (reissued, or its server migrated), whatever the revocation records say.
    pub fn activation_revoked(&self, id: LicenseId, issuing_key_id: &str) -> Result<bool, Error> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM revoked_licenses WHERE license_id = ?1)
                     OR EXISTS (SELECT 1 FROM revoked_issuing_keys WHERE key_id = ?2)
                     OR EXISTS (SELECT 1 FROM licenses WHERE license_id = ?1 AND state IN ('revoked', 'superseded'))",
            )
            .and_then(|mut s| s.query_row(params![id.to_string(), issuing_key_id], |r| r.get(0)))
            .map_err(err(self.path, "cannot read the revocations"))
    }

    /// The project license `id` is bound to, if any.
    pub fn activation_binding(&self, id: LicenseId) -> Result<Option<Binding>, Error> {
        let b: Option<(Vec<u8>, i64)> = self
            .conn
            .prepare_cached("SELECT project_fingerprint, bound_at FROM activation_bindings WHERE license_id = ?1")
            .and_then(|mut s| s.query_row(params![id.to_string()], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(err(self.path, "cannot read the bindings"))?;
        Ok(b.map(|(fp, at)| Binding { project_fingerprint: bytes32(&fp), bound_at: u64::try_from(at).unwrap_or(0) }))
    }

    /// Binds license `id` to a project and records it in the audit trail.
    /// The caller has read that it is not bound, in this transaction.
    pub fn bind(&self, b: &NewBinding<'_>) -> Result<(), Error> {
        let id = b.license_id.to_string();
        self.conn
            .prepare_cached(
                "INSERT INTO activation_bindings (license_id, project_fingerprint, bound_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![id, b.project_fingerprint.as_slice(), int(b.at.0)]))
            .map_err(err(self.path, "cannot record the binding"))?;
        let entry = Entry { license_id: Some(&id), why: b.why, ..Entry::new(Action::Bind, b.by, b.at) };
        super::audit::record(self.conn, self.path, &entry)
    }

    /// The highest privateConfig generation an authorization server
    /// instance of license `id` was activated with, if it ever was.
    pub fn server_generation(&self, id: LicenseId, instance_fingerprint: &[u8; 32]) -> Result<Option<u64>, Error> {
        let g: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT generation FROM server_instances WHERE license_id = ?1 AND instance_fingerprint = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![id.to_string(), instance_fingerprint.as_slice()], |r| r.get(0)).optional()
            })
            .map_err(err(self.path, "cannot read the server instances"))?;
        Ok(g.map(|g| u64::try_from(g).unwrap_or(0)))
    }

    /// Records an activation of an authorization server instance: its
    /// generation never goes back, its last activation is `at`.
    pub fn record_server_instance(
        &self,
        id: LicenseId,
        instance_fingerprint: &[u8; 32],
        generation: u64,
        at: Timestamp,
    ) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO server_instances (license_id, instance_fingerprint, generation, last_activated_at)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (license_id, instance_fingerprint) DO UPDATE SET
                     generation = CASE WHEN excluded.generation > server_instances.generation
                                  THEN excluded.generation ELSE server_instances.generation END,
                     last_activated_at = excluded.last_activated_at",
            )
            .and_then(|mut s| {
                s.execute(params![id.to_string(), instance_fingerprint.as_slice(), int(generation), int(at.0)])
            })
            .map(|_| ())
            .map_err(err(self.path, "cannot record the server instance"))
    }

    /// Records a confirmation whose challenge verified, whatever its outcome.
    pub fn record_confirmation(&self, c: &Confirmation<'_>) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO activations (license_id, project_fingerprint, node_id, nodes, at, client_addr, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    c.license_id.to_string(),
                    c.project_fingerprint.as_slice(),
                    c.node_id.as_slice(),
                    c.nodes,
                    int(c.at.0),
                    c.client.to_string(),
                    c.outcome
                ])
            })
            .map(|_| ())
            .map_err(err(self.path, "cannot record the activation"))
    }

    /// Counts one more confirmation from `client` whose license id could
    /// not be authenticated: one counter per client, day and `outcome`.
    pub fn count_unverified(&self, client: IpAddr, outcome: &str, at: Timestamp) -> Result<(), Error> {
        self.conn
            .prepare_cached(
                "INSERT INTO unverified_attempts (client_addr, day, outcome, count, last_at) VALUES (?1, ?2, ?3, 1, ?4)
                 ON CONFLICT (client_addr, day, outcome) DO UPDATE SET count = unverified_attempts.count + 1, last_at = excluded.last_at",
            )
            .and_then(|mut s| s.execute(params![client.to_string(), int(at.0 / 86_400), outcome, int(at.0)]))
            .map(|_| ())
            .map_err(err(self.path, "cannot count the unverified attempt"))
    }

    /// The newest `limit` activation attempts that named license `id`
    /// (confirmed or refused), newest first.
    pub fn activations_of(&self, id: &str, limit: u32) -> Result<Vec<ActivationRecord>, Error> {
        self.conn
            .prepare_cached(
                "SELECT at, project_fingerprint, node_id, nodes, client_addr, outcome FROM activations
                 WHERE license_id = ?1 ORDER BY at DESC, activation_id DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![id, limit], |r| {
                    Ok(ActivationRecord {
                        at: Timestamp(u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0)),
                        project_fingerprint: r.get(1)?,
                        node_id: r.get(2)?,
                        nodes: r.get(3)?,
                        client: r.get(4)?,
                        outcome: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(err(self.path, "cannot read the activations"))
    }

    /// The newest `limit` activation receipts issued for license `id`
    /// (under any of its bindings), newest first.
    pub fn receipts_of(&self, id: &str, limit: u32) -> Result<Vec<ReceiptRecord>, Error> {
        self.conn
            .prepare_cached(
                "SELECT receipt_id, project_fingerprint, bound_at, vendor_time, lease_until, client_addr
                 FROM receipts WHERE license_id = ?1 ORDER BY vendor_time DESC, rowid DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![id, limit], |r| {
                    let time = |i: usize| r.get::<_, i64>(i).map(|v| Timestamp(u64::try_from(v).unwrap_or(0)));
                    Ok(ReceiptRecord {
                        receipt_id: r.get(0)?,
                        project_fingerprint: r.get(1)?,
                        bound_at: time(2)?,
                        at: time(3)?,
                        lease_until: r.get::<_, Option<i64>>(4)?.map(|v| Timestamp(u64::try_from(v).unwrap_or(0))),
                        client: r.get(5)?,
                    })
                })?
                .collect()
            })
            .map_err(err(self.path, "cannot read the receipts"))
    }

    /// The newest revocation list `fanlic revocations export` recorded.
    pub fn published_revocation_list(&self) -> Result<Option<PublishedList>, Error> {
        self.conn
            .prepare_cached("SELECT sequence, file_bytes FROM revocation_lists ORDER BY sequence DESC LIMIT 1")
            .and_then(|mut s| {
                s.query_row(params![], |r| {
                    Ok(PublishedList {
                        sequence: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        file: r.get::<_, Vec<u8>>(1)?,
                    })
                })
                .optional()
            })
            .map_err(err(self.path, "cannot read the revocation lists"))
    }
}
