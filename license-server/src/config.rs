//! `privateConfig` and the instance certificate on disk (SPEC.md §7.1, §7.4).
//!
//! The start-up check is the verifier's `verify_private_config`, plus the one
//! check only the server can make: the state is signed by the key in
//! `instance.key`.

use std::{
    fs,
    io::Write as _,
    os::unix::fs::OpenOptionsExt as _,
    path::{Path, PathBuf},
};

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use fanlic_formats::{
    KeyId, LicenseId, Timestamp, encode_instance_certificate, encode_private_config_body, encode_private_config_file,
    private_cloud::{InstanceCertificate, PrivateConfig, PrivateConfigEnvelope, wire::PrivateConfigBody},
};
use fanlic_verifier::private_cloud::PrivateConfigError;

use crate::{Error, keys::sync_parent};

/// A signed instance certificate: the image key's word that the instance key
/// runs this license (SPEC.md §7.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCertificate {
    /// `"fanlic/1/instance-certificate\n" || postcard(body)`.
    pub message: Vec<u8>,
    /// The image key's signature over `message`.
    pub signature: [u8; 64],
}

impl SignedCertificate {
    /// Certifies `instance` for `license_id` with the image key, as made at
    /// `created_at`.
    pub fn make(
        license_id: LicenseId,
        image_key: &SigningKey,
        instance: &VerifyingKey,
        created_at: Timestamp,
    ) -> Result<Self, Error> {
        let cert = InstanceCertificate::from_wire(&fanlic_formats::private_cloud::wire::InstanceCertificateBody {
            license_id: license_id.0,
            image_key_id: KeyId::of(image_key.verifying_key().as_bytes()).0,
            instance_public_key: *instance.as_bytes(),
            created_at: created_at.0,
        })
        .map_err(|source| Error::Encode { what: "the instance certificate", source })?;
        let message = encode_instance_certificate(&cert)
            .map_err(|source| Error::Encode { what: "the instance certificate", source })?;
        let signature = image_key.sign(&message).to_bytes();
        Ok(Self { message, signature })
    }
}

/// A `privateConfig` whose every check passed.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The instance certificate it carries.
    pub certificate: SignedCertificate,
    /// Its state.
    pub state: PrivateConfig,
}

/// Checks a `privateConfig` file (SPEC.md §7.4, "Starting"): "the certificate
/// with the image key, the state with the instance key of `instance.key`, the
/// license id". The chain is the verifier's
/// [`fanlic_verifier::private_cloud::verify_private_config`] (shared with the
/// vendor's migration check); the server adds that the certified key is the
/// one of its `instance.key`. The error says which check failed.
pub fn verify_private_config(
    file: &[u8],
    image_public_key: &[u8; 32],
    license_id: LicenseId,
    instance_public_key: &[u8; 32],
) -> Result<LoadedConfig, String> {
    let state = fanlic_verifier::private_cloud::verify_private_config(file, image_public_key, &license_id)
        .map_err(|e| match e {
            PrivateConfigError::BadSignature => {
                format!("{e} ({}): the file was altered, or belongs to another image", e.reason())
            }
            _ => format!("{e} ({})", e.reason()),
        })?
        .into_inner();
    if state.instance_public_key() != instance_public_key {
        return Err("privateConfig refused: it belongs to another instance key than instance.key".to_owned());
    }
    // Decoded again only to keep the certificate's bytes, which every answer
    // and every later write carries.
    let env = PrivateConfigEnvelope::decode(file).map_err(|e| format!("not a privateConfig file: {e}"))?;
    Ok(LoadedConfig {
        certificate: SignedCertificate {
            message: env.instance_certificate.message.to_vec(),
            signature: env.instance_certificate.signature,
        },
        state,
    })
}

/// Encodes and signs a `privateConfig` file.
pub fn encode_private_config(
    certificate: &SignedCertificate,
    body: &PrivateConfigBody,
    instance: &SigningKey,
) -> Result<Vec<u8>, Error> {
    let what = "privateConfig";
    let message = encode_private_config_body(body).map_err(|source| Error::Encode { what, source })?;
    let signature = instance.sign(&message).to_bytes();
    encode_private_config_file(&certificate.message, &certificate.signature, &message, &signature)
        .map_err(|source| Error::Encode { what, source })
}

/// Writes `bytes` to `path` atomically (SPEC.md §7.4): "a temporary file in
/// the same folder, fsync, rename, fsync of the folder". A crash leaves the
/// old file or the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let mut tmp = PathBuf::from(path);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tmp.set_file_name(format!(".{name}.tmp"));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(Error::io(&tmp, "cannot create"))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(Error::io(&tmp, "cannot write"))?;
    drop(f);
    fs::rename(&tmp, path).map_err(Error::io(path, "cannot replace"))?;
    sync_parent(path)
}
