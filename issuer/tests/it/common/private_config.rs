//! A `privateConfig` file (SPEC.md §7.4) as an authorization server of a
//! home's private-cloud license would write it: its instance certificate
//! signed with the license's image key (derived from the home's master
//! secret, as the image carries it), its state signed by an instance key.

use std::path::Path;

use ed25519_dalek::{Signer as _, SigningKey};
use fanlic_formats::{
    KeyId, LicenseId, encode_instance_certificate, encode_private_config_body, encode_private_config_file,
    private_cloud::{
        InstanceCertificate,
        wire::{InstanceCertificateBody, PrivateConfigBody},
    },
};
use fanlic_issuer::Home;

/// The image key of `license_id` in the home at `home`, as a signing key.
pub fn image_key(home: &Path, license_id: &str) -> SigningKey {
    let h = Home::open(home).unwrap();
    let master = h.activation_master().unwrap().expect("the home has a master secret");
    let id: LicenseId = license_id.parse().unwrap();
    let pem = master.derive_image_key(&id).to_pkcs8_pem();
    let der = fanlic_issuer::util::pem::decode("PRIVATE KEY", &pem).unwrap();
    // PKCS#8 v1 Ed25519: a 16-byte prefix, then the 32-byte seed.
    let seed: [u8; 32] = der[16..48].try_into().unwrap();
    SigningKey::from_bytes(&seed)
}

/// A `privateConfig` of the server of `license_id` whose instance key is
/// made from `instance_seed`, signed by `image` (normally [`image_key`]).
pub fn private_config_signed(image: &SigningKey, license_id: &str, instance_seed: u8) -> Vec<u8> {
    let id: LicenseId = license_id.parse().unwrap();
    let instance = SigningKey::from_bytes(&[instance_seed; 32]);
    let instance_public = instance.verifying_key().to_bytes();
    let cert = InstanceCertificate::from_wire(&InstanceCertificateBody {
        license_id: id.0,
        image_key_id: KeyId::of(&image.verifying_key().to_bytes()).0,
        instance_public_key: instance_public,
        created_at: 1_790_000_000,
    })
    .unwrap();
    let cert_msg = encode_instance_certificate(&cert).unwrap();
    let cert_sig = image.sign(&cert_msg).to_bytes();
    let body = PrivateConfigBody {
        license_id: id.0,
        instance_public_key: instance_public,
        generation: 3,
        time_high_water: 1_790_003_600,
        activated_at: Some(1_790_000_100),
        nodes: Vec::new(),
        log_base: [0; 32],
        events: Vec::new(),
    };
    let state_msg = encode_private_config_body(&body).unwrap();
    let state_sig = instance.sign(&state_msg).to_bytes();
    encode_private_config_file(&cert_msg, &cert_sig, &state_msg, &state_sig).unwrap()
}

/// The `privateConfig` the server of `license_id` (issued by the home at
/// `home`) would write.
pub fn private_config(home: &Path, license_id: &str) -> Vec<u8> {
    private_config_signed(&image_key(home, license_id), license_id, 4)
}
