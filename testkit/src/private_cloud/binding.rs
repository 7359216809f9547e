//! The TLS-binding vectors (SPEC.md §7): a binding of the server license to
//! the TLS key, and every way one is refused.

use fanlic_formats::{
    KeyId, LicenseId, encode_tls_binding, encode_tls_binding_file,
    private_cloud::{TLS_BINDING_MAGIC, TlsBinding, wire as pc},
    wire,
};

use crate::{Error, Result, TestKey, hex};

use super::{
    BindingInput, PrivateCloudExpected, PrivateCloudVector,
    generator::{A, Cert, Gen, refused},
    sha256,
};

/// The TEST-ONLY TLS key of the binding vectors: the DER SubjectPublicKeyInfo
/// of an ECDSA P-256 key made once with `openssl genpkey -algorithm EC
/// -pkeyopt ec_paramgen_curve:P-256` (its private key was not kept: a
/// binding names only the public key).
pub const TLS_SPKI_HEX: &str = "3059301306072a8648ce3d020106082a8648ce3d0301070342000441313994a233642e6e7c2395c596b4b8d1e1524e861948d50c29877d2dcf3419ead4ed930716543833da00cf5aebbe82a671efe5a6760f90cac9db2a964ea864";

fn binding_message(license_id: LicenseId, spki_sha256: [u8; 32]) -> Result<Vec<u8>> {
    let b = TlsBinding::from_wire(&pc::TlsBindingBody { license_id: license_id.0, spki_sha256 })?;
    Ok(encode_tls_binding(&b)?)
}

fn binding_file(license: &[u8], cert: &Cert, msg: &[u8], signer: &TestKey) -> Result<Vec<u8>> {
    Ok(encode_tls_binding_file(license, &cert.msg, &cert.sig, msg, &signer.sign(msg))?)
}

impl Gen<'_> {
    #[allow(clippy::too_many_arguments, reason = "one vector's every input, named at the call")]
    fn binding_vector(
        &mut self,
        name: &str,
        bytes: Option<Vec<u8>>,
        description: &str,
        roots: &[&str],
        connection: [u8; 32],
        pinned: Option<[u8; 32]>,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        let file = match bytes {
            Some(b) => {
                let file = format!("{name}.bin");
                self.file(&file, b)?;
                file
            }
            None => "tls-binding-valid.bin".to_owned(),
        };
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "tls-binding".into(),
            answer: None,
            config: None,
            binding: Some(BindingInput {
                roots: roots.iter().map(|r| (*r).to_owned()).collect(),
                connection_spki_sha256: hex(&connection),
                pinned_instance_key: pinned.map(|p| hex(&p)),
            }),
            expected,
        };
        self.json(name, &v)
    }
}

pub(super) fn binding_vectors(g: &mut Gen<'_>, cert: &Cert, other_license: LicenseId) -> Result<()> {
    let spki: Vec<u8> = (0..TLS_SPKI_HEX.len() / 2)
        .map(|i| u8::from_str_radix(TLS_SPKI_HEX.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<core::result::Result<_, _>>()
        .map_err(|e| Error(format!("TLS_SPKI_HEX: {e}")))?;
    g.file("tls-binding-spki.der", spki.clone())?;
    let h = sha256(&spki);
    let other_tls = sha256(b"fanlic/TEST-ONLY/another-tls-key");
    let license = g.license.clone();
    let license_id = g.license_id;
    let msg = binding_message(license_id, h)?;
    let good = binding_file(&license, cert, &msg, &g.k.instance)?;
    let instance = g.k.instance.public();
    let valid = |pinned: &str| PrivateCloudExpected {
        valid: true,
        causes: vec![],
        detail: None,
        accepted: None,
        config: None,
        bound_instance_key: Some(pinned.to_owned()),
    };
    // The parts OpenSSL checks: the instance certificate under the image
    // key, the binding under the instance key; the script also hashes
    // tls-binding-spki.der and finds the hash in the binding message.
    for (f, bytes) in [
        ("tls-binding-valid.instance-certificate.msg", cert.msg.clone()),
        ("tls-binding-valid.instance-certificate.sig", cert.sig.to_vec()),
        (
            "tls-binding-valid.instance-certificate.pub.pem",
            crate::keys::public_key_pem(&g.k.image.public()).into_bytes(),
        ),
        ("tls-binding-valid.binding.msg", msg.clone()),
        ("tls-binding-valid.binding.sig", g.k.instance.sign(&msg).to_vec()),
        ("tls-binding-valid.binding.pub.pem", crate::keys::public_key_pem(&instance).into_bytes()),
    ] {
        g.files.insert(format!("vectors/openssl-private-cloud/{f}"), bytes);
    }
    g.binding_vector(
        "tls-binding-valid",
        Some(good.clone()),
        "instance-a, certified by the license's image key, binds the TLS key of tls-binding-spki.der (ECDSA P-256); \
         the connection presented that key and nothing is pinned yet: accepted, and instance-a is pinned.",
        A,
        h,
        None,
        valid(&hex(&instance)),
    )?;
    g.binding_vector(
        "tls-binding-valid-pinned",
        None,
        "The good binding, with instance-a already pinned.",
        A,
        h,
        Some(instance),
        valid(&hex(&instance)),
    )?;
    g.binding_vector(
        "tls-binding-other-tls-key",
        None,
        "The good binding relayed over a connection that presented another TLS key (a machine in the middle).",
        A,
        other_tls,
        Some(instance),
        refused(&["tls_key_not_bound"], Some("TlsKeyNotBound")),
    )?;
    // A genuine second instance of the same image: instance-clone, certified
    // by the image key, binding its own TLS key.
    let clone_cert_msg = g.cert_body(license_id, KeyId::of(&g.k.image.public()), g.k.clone.public())?;
    let clone_cert = Cert { sig: g.k.image.sign(&clone_cert_msg), msg: clone_cert_msg };
    let clone_msg = binding_message(license_id, other_tls)?;
    g.binding_vector(
        "tls-binding-other-instance",
        Some(binding_file(&license, &clone_cert, &clone_msg, &g.k.clone)?),
        "A binding by instance-clone (a second server from the same image, certified by its image key) for its own \
         TLS key, while the application pinned instance-a.",
        A,
        other_tls,
        Some(instance),
        refused(&["instance_key_changed"], None),
    )?;
    g.binding_vector(
        "tls-binding-signed-by-other-key",
        Some(binding_file(&license, cert, &msg, &g.k.clone)?),
        "The binding of instance-a's certificate and message, signed by instance-clone.",
        A,
        h,
        None,
        refused(&["bad_signature"], None),
    )?;
    let other_msg = binding_message(other_license, h)?;
    g.binding_vector(
        "tls-binding-other-license",
        Some(binding_file(&license, cert, &other_msg, &g.k.instance)?),
        "A binding validly signed by instance-a that names another license id.",
        A,
        h,
        None,
        refused(&["binding_license_mismatch"], None),
    )?;
    g.binding_vector(
        "tls-binding-unknown-root",
        None,
        "The good binding checked by a product that trusts only root-b.",
        &["root-b"],
        h,
        None,
        refused(&["content_incorrect"], Some("UnknownRootKey")),
    )?;
    let no_image = g.license(wire::Kind::PrivateCloud, None)?;
    g.binding_vector(
        "tls-binding-license-without-image-key",
        Some(binding_file(&no_image, cert, &msg, &g.k.instance)?),
        "The good binding carrying a private-cloud license without `image_public_key`.",
        A,
        h,
        None,
        refused(&["no_image_key"], None),
    )?;
    let local = g.license(wire::Kind::LocalContainer, Some(g.k.image.public()))?;
    g.binding_vector(
        "tls-binding-local-container-license",
        Some(binding_file(&local, cert, &msg, &g.k.instance)?),
        "The good binding carrying a local-container license (with the image key).",
        A,
        h,
        None,
        refused(&["license_type_mismatch"], None),
    )?;
    let magic2 =
        [b"FANLIC-TLS-BINDING/2\n".as_slice(), good.get(TLS_BINDING_MAGIC.len()..).unwrap_or_default()].concat();
    g.binding_vector(
        "tls-binding-unknown-magic",
        Some(magic2),
        "The good binding file with the magic FANLIC-TLS-BINDING/2.",
        A,
        h,
        None,
        refused(&["malformed_binding"], Some("UnknownMagic")),
    )?;
    Ok(())
}
