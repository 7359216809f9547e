//! What the key commands did (`init`, `keys list`, `keys rotate`, `keys
//! receipt-key`), for people and as JSON.

use std::path::{Path, PathBuf};

use fanlic_formats::{KeyId, Timestamp};
use serde_json::{Value, json};

use super::*;
use crate::store::{IssuingKeyRow, RootKeyRow};

/// What `init` made.
#[derive(Clone, Debug)]
pub struct InitReport {
    /// The home (absolute).
    pub home: PathBuf,
    /// The root key's id.
    pub root_key_id: KeyId,
    /// The root public key.
    pub root_public_key: [u8; 32],
    /// Its PEM file (outside the root-key folder, stays in the home).
    pub root_public_key_path: PathBuf,
    /// The folder holding the root private key.
    pub root_key_dir: PathBuf,
    /// The first issuing key.
    pub issuing_key: IssuingKeyRow,
    /// The first receipt key.
    pub receipt_key: IssuingKeyRow,
    /// Authserv ids recorded.
    pub authserv_ids: Vec<String>,
}

impl InitReport {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "home": self.home.display().to_string(),
            "database": super::database_shown(&self.home),
            "root_key_id": self.root_key_id.to_string(),
            "root_public_key": hex::encode(&self.root_public_key),
            "root_public_key_path": self.root_public_key_path.display().to_string(),
            "root_private_key_dir": self.root_key_dir.display().to_string(),
            "issuing_key_id": self.issuing_key.key_id.to_string(),
            "issuing_key_not_before": self.issuing_key.not_before.to_string(),
            "issuing_key_not_after": self.issuing_key.not_after.to_string(),
            "receipt_key_id": self.receipt_key.key_id.to_string(),
            "receipt_key_not_after": self.receipt_key.not_after.to_string(),
            "authserv_ids": self.authserv_ids,
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let ids = if self.authserv_ids.is_empty() { "none".to_owned() } else { self.authserv_ids.join(", ") };
        format!(
            "Created the fanlic home {home}\n\
             \x20 database:           {db}\n\
             \x20 authserv ids:       {ids}\n\
             \n\
             Root key: embed its PUBLIC key in FineReport/FineBI builds.\n\
             \x20 root key id:        {rid}\n\
             \x20 public key (hex):   {hex}\n\
             \x20 public key (PEM):   {pem}\n\
             \n\
             Issuing key {kid}, certified by the root key, may sign licenses\n\
             \x20 from {nb} to {na}.\n\
             Receipt key {rk} signs activation receipts until {rna}; before then, make the next\n\
             \x20 with `fanlic keys receipt-key --root-key PATH` (it needs the root key).\n\
             \n\
             IMPORTANT: the root PRIVATE key is in {dir}/\n\
             Move that folder offline now (for example to an encrypted USB stick kept in a safe)\n\
             and delete it from this machine. Only `fanlic keys rotate --root-key PATH` and\n\
             `fanlic keys receipt-key --root-key PATH` need it; issuing and verifying licenses do not.\n",
            home = self.home.display(),
            db = super::database_shown(&self.home),
            rid = self.root_key_id,
            hex = hex::encode(&self.root_public_key),
            pem = self.root_public_key_path.display(),
            kid = self.issuing_key.key_id,
            nb = self.issuing_key.not_before,
            na = self.issuing_key.not_after,
            rk = self.receipt_key.key_id,
            rna = self.receipt_key.not_after,
            dir = self.root_key_dir.display(),
        )
    }
}

/// What `keys rotate` made.
#[derive(Clone, Debug)]
pub struct RotateReport {
    /// The new signing key.
    pub new_key: IssuingKeyRow,
    /// Keys retired by this rotation.
    pub retired: Vec<KeyId>,
    /// The home.
    pub home: PathBuf,
}

impl RotateReport {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "issuing_key": issuing_key_json(&self.home, &self.new_key, "active", true),
            "retired": self.retired.iter().map(ToString::to_string).collect::<Vec<_>>(),
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let retired = if self.retired.is_empty() {
            String::new()
        } else {
            format!(
                "Retired {}; licenses they signed stay valid (their windows cover when they signed).\n",
                self.retired.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
            )
        };
        format!(
            "New issuing key {kid}, certified by root key {rid}; it now signs new licenses.\n\
             \x20 may sign from {nb} to {na}\n\
             \x20 private key: {path}\n\
             {retired}\
             You can move the root key offline again.\n",
            kid = self.new_key.key_id,
            rid = self.new_key.root_key_id,
            nb = self.new_key.not_before,
            na = self.new_key.not_after,
            path = self.home.join(&self.new_key.private_key_path).display(),
        )
    }
}

/// `keys list`: every key the home knows.
#[derive(Clone, Debug)]
pub struct KeysReport {
    /// The home.
    pub home: PathBuf,
    /// Root keys.
    pub root_keys: Vec<RootKeyRow>,
    /// Issuing keys, oldest first.
    pub issuing_keys: Vec<IssuingKeyRow>,
    /// The key that signs new licenses, if any.
    pub signing: Option<KeyId>,
    /// The time of the listing (for `expired`).
    pub now: Timestamp,
    /// Receipt keys, oldest window first.
    pub receipt_keys: Vec<IssuingKeyRow>,
}

/// What `keys receipt-key` made.
#[derive(Clone, Debug)]
pub struct ReceiptKeysReport {
    /// The new keys, in window order.
    pub new_keys: Vec<IssuingKeyRow>,
    /// The home.
    pub home: PathBuf,
}

impl ReceiptKeysReport {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({ "receipt_keys": self.new_keys.iter().map(|k| receipt_key_json(&self.home, k, None)).collect::<Vec<_>>() })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mut out = String::new();
        for k in &self.new_keys {
            out.push_str(&format!(
                "New receipt key {kid}, certified by root key {rid} for activation receipts only\n\
                 \x20 may sign from {nb} to {na}\n\
                 \x20 private key: {path}\n",
                kid = k.key_id,
                rid = k.root_key_id,
                nb = k.not_before,
                na = k.not_after,
                path = self.home.join(&k.private_key_path).display(),
            ));
        }
        out.push_str(
            "`fanlic serve` signs each receipt with the newest key whose window holds the time; older keys \
             keep signing until a newer one starts. You can move the root key offline again.\n",
        );
        out
    }
}

/// A receipt key as `--json` shows it: its certificate's fields and files;
/// `status` when known.
fn receipt_key_json(home: &Path, k: &IssuingKeyRow, status: Option<&str>) -> Value {
    json!({
        "key_id": k.key_id.to_string(),
        "root_key_id": k.root_key_id.to_string(),
        "public_key": hex::encode(&k.public_key),
        "not_before": k.not_before.to_string(),
        "not_after": k.not_after.to_string(),
        "purposes": keys::purpose_names(k.purposes),
        "status": status,
        "created_at": k.created_at.to_string(),
        "private_key_path": home.join(&k.private_key_path).display().to_string(),
        "public_key_path": home.join(&k.public_key_path).display().to_string(),
    })
}

/// An issuing key: a receipt key's fields, then whether it signs and when
/// it was retired.
fn issuing_key_json(home: &Path, k: &IssuingKeyRow, status: &str, signing: bool) -> Value {
    let mut v = receipt_key_json(home, k, Some(status));
    if let Value::Object(o) = &mut v {
        o.insert("signing".to_owned(), json!(signing));
        o.insert("retired_at".to_owned(), json!(k.retired_at.map(|t| t.to_string())));
    }
    v
}

impl KeysReport {
    /// `active`, `retired` (replaced by a newer key) or `expired` (past its window).
    pub fn status(&self, k: &IssuingKeyRow) -> &'static str {
        if k.retired_at.is_some() {
            "retired"
        } else if k.not_after < self.now {
            "expired"
        } else {
            "active"
        }
    }

    /// A receipt key's status: `signing` (the one `fanlic serve` uses now),
    /// `valid` (in its window, a newer one signs), `future` or `expired`.
    pub fn receipt_status(&self, k: &IssuingKeyRow) -> &'static str {
        let signing = newest_valid(&self.receipt_keys, self.now).map(|s| s.key_id);
        if Some(k.key_id) == signing {
            "signing"
        } else if k.not_before > self.now {
            "future"
        } else if k.not_after < self.now {
            "expired"
        } else {
            "valid"
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        let roots: Vec<Value> = self
            .root_keys
            .iter()
            .map(|r| {
                let private = self.home.join(&r.private_key_path);
                json!({
                    "key_id": r.key_id.to_string(),
                    "public_key": hex::encode(&r.public_key),
                    "created_at": r.created_at.to_string(),
                    "public_key_path": self.home.join(&r.public_key_path).display().to_string(),
                    "private_key_path": private.display().to_string(),
                    "private_key_on_this_machine": private.exists(),
                })
            })
            .collect();
        let issuing: Vec<Value> = self
            .issuing_keys
            .iter()
            .map(|k| issuing_key_json(&self.home, k, self.status(k), Some(k.key_id) == self.signing))
            .collect();
        let receipt: Vec<Value> =
            self.receipt_keys.iter().map(|k| receipt_key_json(&self.home, k, Some(self.receipt_status(k)))).collect();
        json!({ "root_keys": roots, "issuing_keys": issuing, "receipt_keys": receipt })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mut out = String::from("Root keys (products embed their public keys):\n");
        for r in &self.root_keys {
            let private = self.home.join(&r.private_key_path);
            let where_ = if private.exists() {
                format!("{} (still on this machine: move it offline)", private.display())
            } else {
                format!("{} (not here: offline)", private.display())
            };
            out.push_str(&format!(
                "  {id}  created {created}\n      public key:  {hex}\n      public PEM:  {pubp}\n      private key: {where_}\n",
                id = r.key_id,
                created = r.created_at,
                hex = hex::encode(&r.public_key),
                pubp = self.home.join(&r.public_key_path).display(),
            ));
        }
        out.push_str("Issuing keys:\n");
        for k in &self.issuing_keys {
            let signing = if Some(k.key_id) == self.signing { ", signs new licenses" } else { "" };
            out.push_str(&format!(
                "  {id}  {status}{signing}\n      may sign:    {nb} to {na}\n      purposes:    {purposes}\n      root key:    {root}\n      private key: {private}\n      public PEM:  {public}\n",
                id = k.key_id,
                status = self.status(k),
                nb = k.not_before,
                na = k.not_after,
                purposes = keys::purpose_names(k.purposes).join(", "),
                root = k.root_key_id,
                private = self.home.join(&k.private_key_path).display(),
                public = self.home.join(&k.public_key_path).display(),
            ));
        }
        out.push_str("Receipt keys (sign activation receipts only):\n");
        if self.receipt_keys.is_empty() {
            out.push_str("  none: make one with `fanlic keys receipt-key --root-key PATH`\n");
        }
        for k in &self.receipt_keys {
            out.push_str(&format!(
                "  {id}  {status}\n      may sign:    {nb} to {na}\n      root key:    {root}\n      private key: {private}\n",
                id = k.key_id,
                status = self.receipt_status(k),
                nb = k.not_before,
                na = k.not_after,
                root = k.root_key_id,
                private = self.home.join(&k.private_key_path).display(),
            ));
        }
        out
    }
}
