//! Key rows: the root keys the home knows, the issuing keys with their
//! certificates, and the receipt keys of the activation service.

use crate::error::StoreError;
use std::path::{Path, PathBuf};

use super::sql::params;
use fanlic_formats::{KeyId, Timestamp};

use super::{Tx, corrupt, err, int, time};
use crate::Error;

/// The purposes of a receipt key: exactly bit 3, activation receipts
/// (SPEC.md §3.2); a verifier refuses a receipt whose key may sign anything else.
pub const RECEIPT_PURPOSE: u32 = 0x8;

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

fn key_id(path: &Path, s: &str) -> Result<KeyId, Error> {
    s.parse().map_err(|_| corrupt(path, format!("bad key id {s:?}")))
}

fn array<const N: usize>(path: &Path, what: &str, v: &[u8]) -> Result<[u8; N], Error> {
    <[u8; N]>::try_from(v).map_err(|_| corrupt(path, format!("{what} has {} bytes, not {N}", v.len())))
}

impl Tx<'_> {
    /// Records a root key (its public half).
    pub fn insert_root_key(&self, row: &RootKeyRow) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
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

    /// The root keys, oldest first.
    pub fn root_keys(&self) -> Result<Vec<RootKeyRow>, Error> {
        let conn = self.conn;
        let path = self.path;
        let mut stmt = conn
        .prepare("SELECT key_id, public_key, public_key_path, private_key_path, created_at FROM root_keys ORDER BY created_at, rowid")
        .map_err(err(path, "cannot read the root keys"))?;
        let rows = stmt
            .query_map(params![], |r| {
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

    /// Records an issuing key with its certificate.
    pub fn insert_issuing_key(&self, row: &IssuingKeyRow) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
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
    pub fn issuing_keys(&self) -> Result<Vec<IssuingKeyRow>, Error> {
        let conn = self.conn;
        let path = self.path;
        let read = err(path, "cannot read the issuing keys");
        let mut stmt = conn
            .prepare(
                "SELECT key_id, root_key_id, public_key, not_before, not_after, purposes, certificate_message,
                    certificate_signature, private_key_path, public_key_path, created_at, retired_at
             FROM issuing_keys ORDER BY created_at, rowid",
            )
            .map_err(read)?;
        let mut rows = stmt.query(params![]).map_err(err(path, "cannot read the issuing keys"))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err(path, "cannot read the issuing keys"))? {
            let g = |e: super::sql::Error| {
                Error::Store(StoreError::Database {
                    action: "cannot read the issuing keys",
                    path: path.to_owned(),
                    source: e.into(),
                })
            };
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
    pub fn retire_others(&self, keep: KeyId, now: Timestamp) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
        conn.execute(
            "UPDATE issuing_keys SET retired_at = ?1 WHERE retired_at IS NULL AND key_id <> ?2",
            params![int(now.0), keep.to_string()],
        )
        .map(|_| ())
        .map_err(err(path, "cannot retire the old issuing keys"))
    }

    /// Records a receipt key (its row has the shape of an issuing key's; its
    /// purposes are receipts only).
    pub fn insert_receipt_key(&self, row: &IssuingKeyRow) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
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
    pub fn receipt_keys(&self) -> Result<Vec<IssuingKeyRow>, Error> {
        let conn = self.conn;
        let path = self.path;
        let read = || err(path, "cannot read the receipt keys");
        let mut stmt = conn
            .prepare_cached(
                "SELECT key_id, root_key_id, public_key, not_before, not_after, certificate_message,
                    certificate_signature, private_key_path, public_key_path, created_at
             FROM receipt_keys ORDER BY not_before, created_at, rowid",
            )
            .map_err(read())?;
        let mut rows = stmt.query(params![]).map_err(read())?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(read())? {
            let g = |e: super::sql::Error| {
                Error::Store(StoreError::Database {
                    action: "cannot read the receipt keys",
                    path: path.to_owned(),
                    source: e.into(),
                })
            };
            out.push(IssuingKeyRow {
                key_id: key_id(path, &r.get::<_, String>(0).map_err(g)?)?,
                root_key_id: key_id(path, &r.get::<_, String>(1).map_err(g)?)?,
                public_key: array(path, "a receipt public key", &r.get::<_, Vec<u8>>(2).map_err(g)?)?,
                not_before: time(path, r.get(3).map_err(g)?)?,
                not_after: time(path, r.get(4).map_err(g)?)?,
                purposes: RECEIPT_PURPOSE,
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
}
