//! What the service knows of a license: its row, read once and cached
//! (license rows never change once issued), with the key its challenges are
//! MACed with, derived from the master secret (never stored).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use fanlic_formats::{ActivationPolicy, Expiry, LicenseId, LicenseKind};
use fanlic_verifier::activation::ActivationKey;

use crate::Error;
use crate::home::activation::MasterSecret;
use crate::store::Tx;

/// License rows by id: immutable once issued, so never invalidated.
pub(crate) type LicenseCache = Arc<Mutex<HashMap<LicenseId, Arc<LicenseRow>>>>;

/// What the service needs of a license.
#[derive(Debug)]
pub(crate) struct LicenseRow {
    pub(crate) id: LicenseId,
    pub(crate) app_name: String,
    pub(crate) company: String,
    pub(crate) project: String,
    pub(crate) expiry: Expiry,
    pub(crate) max_nodes: u32,
    pub(crate) kind: LicenseKind,
    pub(crate) issuing_key_id: String,
    /// The key challenges are MACed with: the activation key under the code
    /// policy, the challenge key under the receipt policy (SPEC.md §3.3).
    /// `None`: no key can be derived (none issued, or another master secret).
    pub(crate) key: Option<ActivationKey>,
    /// How it is activated.
    pub(crate) policy: ActivationPolicy,
    /// SHA-256 of the raw license file, as receipts name it.
    pub(crate) file_sha256: [u8; 32],
    /// The company as contracts compare it, to find the contract's lease.
    pub(crate) company_key: String,
}

/// License `id` from the cache, else read from the store and cached.
pub(crate) fn cached_license(
    tx: &Tx<'_>,
    master: &MasterSecret,
    cache: &LicenseCache,
    id: LicenseId,
) -> Result<Option<Arc<LicenseRow>>, Error> {
    if let Some(row) = cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
        return Ok(Some(row));
    }
    let row = load_license(tx, master, id)?;
    if let Some(row) = &row
        && let Ok(mut c) = cache.lock()
    {
        c.insert(id, Arc::clone(row));
    }
    Ok(row)
}

fn load_license(tx: &Tx<'_>, master: &MasterSecret, id: LicenseId) -> Result<Option<Arc<LicenseRow>>, Error> {
    let Some(l) = tx.activation_license(id)? else { return Ok(None) };
    // The key is derived, never stored. It must be the one the license
    // file carries: another master file (or version) cannot check its
    // codes.
    let (carried, policy) = carried_key(&l.file_bytes);
    let key = match l.activation_master_version {
        Some(v) if i64::from(master.version()) == v => {
            let k = master.derive(&id);
            // Under the receipt policy the license carries the
            // challenge key, which MACs its challenges (SPEC.md §3.3).
            let k = match policy {
                ActivationPolicy::Receipt => crate::home::activation::challenge_key(&k),
                _ => k,
            };
            (carried == Some(k.to_bytes())).then_some(k)
        }
        _ => None,
    };
    let file_sha256 = fanlic_verifier::receipt::sha256(&l.file_bytes);
    Ok(Some(Arc::new(LicenseRow {
        id,
        app_name: l.app_name,
        company: l.company,
        project: l.project,
        expiry: l.expiry,
        max_nodes: l.max_nodes,
        kind: l.kind,
        issuing_key_id: l.issuing_key_id,
        key,
        policy,
        file_sha256,
        company_key: l.company_key,
    })))
}

/// The key a stored license file carries (`None`: none, or the file does
/// not decode) and its activation policy.
fn carried_key(file: &[u8]) -> (Option<[u8; 32]>, ActivationPolicy) {
    let license = fanlic_formats::Envelope::decode(file)
        .ok()
        .and_then(|e| fanlic_formats::License::decode(e.license.message).ok());
    match license {
        Some(l) => (l.activation_key, l.activation_policy),
        None => (None, ActivationPolicy::Code),
    }
}
