//! Encoding, for the issuer (needs `alloc`). Every encoder decodes its output
//! again, so the issuer can never write bytes a verifier would refuse.

use alloc::vec::Vec;

use crate::{
    CERTIFICATE_SIGNATURE_LABEL, DecodeError, Envelope, IssuingKeyCertificate, LICENSE_FILE_MAGIC,
    LICENSE_SIGNATURE_LABEL, License, wire,
};

fn labelled<T: serde::Serialize>(label: &[u8], value: &T) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::from(label);
    let body = postcard::to_allocvec(value).map_err(|_| DecodeError::Malformed)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The message a root key signs for an issuing key: label || body.
pub fn encode_certificate_body(body: &wire::CertificateBody) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(CERTIFICATE_SIGNATURE_LABEL, body)?;
    IssuingKeyCertificate::decode(&msg)?;
    Ok(msg)
}

/// The message an issuing key signs for a license: label || payload.
pub fn encode_license_payload(payload: &wire::LicensePayload<'_>) -> Result<Vec<u8>, DecodeError> {
    let msg = labelled(LICENSE_SIGNATURE_LABEL, payload)?;
    License::decode(&msg)?;
    Ok(msg)
}

/// The message an issuing key signs for a license with an activation policy
/// (SPEC.md §3.3): label || payload || the trailing `activation_policy`,
/// which is written only for `Receipt` (absence means `Code`).
pub fn encode_license_payload_with_policy(
    payload: &wire::LicensePayload<'_>,
    policy: crate::ActivationPolicy,
) -> Result<Vec<u8>, DecodeError> {
    let mut msg = labelled(LICENSE_SIGNATURE_LABEL, payload)?;
    if policy == crate::ActivationPolicy::Receipt {
        msg.extend_from_slice(
            &postcard::to_allocvec(&wire::ActivationPolicy::Receipt).map_err(|_| DecodeError::Malformed)?,
        );
    }
    let decoded = License::decode(&msg)?;
    if decoded.activation_policy != policy {
        return Err(DecodeError::Malformed);
    }
    Ok(msg)
}

/// A raw license file: magic, then the two signed bodies.
pub fn encode_license_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    license_message: &[u8],
    license_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    let file = wire::LicenseFile {
        certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        license: wire::SignedBody { message: license_message, signature: wire::Signature(*license_signature) },
    };
    let mut out = Vec::from(LICENSE_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    Envelope::decode(&out)?;
    Ok(out)
}

/// The message an issuing key signs for a revocation list (SPEC.md §6.1):
/// label || body. The ids are sorted and deduplicated here, as the spec's
/// canonical form requires ("strictly ascending"), so the caller may pass
/// them in any order.
pub fn encode_revocation_list_body(
    sequence: u64,
    issued_at: crate::Timestamp,
    licenses: &[crate::LicenseId],
    issuing_keys: &[crate::KeyId],
) -> Result<Vec<u8>, DecodeError> {
    use crate::revocation::{REVOCATION_LIST_SIGNATURE_LABEL, RevocationList, wire::RevocationListBody};

    let mut l: Vec<[u8; 16]> = licenses.iter().map(|id| id.0).collect();
    l.sort_unstable();
    l.dedup();
    let mut k: Vec<[u8; 8]> = issuing_keys.iter().map(|id| id.0).collect();
    k.sort_unstable();
    k.dedup();
    let body = RevocationListBody {
        sequence,
        issued_at: issued_at.0,
        licenses: l.as_flattened(),
        issuing_keys: k.as_flattened(),
    };
    let msg = labelled(REVOCATION_LIST_SIGNATURE_LABEL, &body)?;
    RevocationList::decode(&msg)?;
    Ok(msg)
}

/// A raw revocation list file (SPEC.md §6.1): magic, then the certificate
/// and the list, each with its signature. There is no armored form.
pub fn encode_revocation_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    list_message: &[u8],
    list_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use crate::revocation::{REVOCATION_FILE_MAGIC, RevocationEnvelope, wire::RevocationFile};

    let file = RevocationFile {
        certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        list: wire::SignedBody { message: list_message, signature: wire::Signature(*list_signature) },
    };
    let mut out = Vec::from(REVOCATION_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    RevocationEnvelope::decode(&out)?;
    Ok(out)
}

/// The message an image key signs for an instance key (SPEC.md §7.1).
pub fn encode_instance_certificate(cert: &crate::private_cloud::InstanceCertificate) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{INSTANCE_CERTIFICATE_LABEL, InstanceCertificate};
    let msg = labelled(INSTANCE_CERTIFICATE_LABEL, &cert.to_wire())?;
    InstanceCertificate::decode(&msg)?;
    Ok(msg)
}

/// The message an instance key signs for an answer (SPEC.md §7.2).
pub fn encode_server_answer(answer: &crate::private_cloud::ServerAnswer) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{SERVER_ANSWER_LABEL, ServerAnswer};
    let msg = labelled(SERVER_ANSWER_LABEL, &answer.to_wire())?;
    ServerAnswer::decode(&msg)?;
    Ok(msg)
}

/// A server answer file (SPEC.md §7.2): magic, the raw server license, the
/// instance certificate and the answer, each with its signature.
pub fn encode_server_answer_file(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    answer_message: &[u8],
    answer_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    encode_server_answer_file_with_receipt(
        license_file,
        certificate_message,
        certificate_signature,
        answer_message,
        answer_signature,
        None,
    )
}

/// A server answer file (SPEC.md §7.2) that carries, in its trailing
/// optional `receipt`, the server's activation receipt (§6.5) without its
/// revocation list; `None` writes the file of [`encode_server_answer_file`].
pub fn encode_server_answer_file_with_receipt(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    answer_message: &[u8],
    answer_signature: &[u8; 64],
    receipt: Option<&[u8]>,
) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{SERVER_ANSWER_MAGIC, ServerAnswerEnvelope, wire::ServerAnswerFile};
    let file = ServerAnswerFile {
        license: license_file,
        instance_certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        answer: wire::SignedBody { message: answer_message, signature: wire::Signature(*answer_signature) },
    };
    let mut out = Vec::from(SERVER_ANSWER_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    if let Some(receipt) = receipt {
        out.extend_from_slice(&postcard::to_allocvec(&receipt).map_err(|_| DecodeError::Malformed)?);
    }
    ServerAnswerEnvelope::decode(&out)?;
    Ok(out)
}

/// The message an instance key signs for a TLS binding (SPEC.md §7.7).
pub fn encode_tls_binding(binding: &crate::private_cloud::TlsBinding) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{TLS_BINDING_LABEL, TlsBinding};
    let msg = labelled(TLS_BINDING_LABEL, &binding.to_wire())?;
    TlsBinding::decode(&msg)?;
    Ok(msg)
}

/// A TLS binding file (SPEC.md §7.7): magic, the raw server license, the
/// instance certificate and the binding, each with its signature.
pub fn encode_tls_binding_file(
    license_file: &[u8],
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    binding_message: &[u8],
    binding_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{TLS_BINDING_MAGIC, TlsBindingEnvelope, wire::TlsBindingFile};
    let file = TlsBindingFile {
        license: license_file,
        instance_certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        binding: wire::SignedBody { message: binding_message, signature: wire::Signature(*binding_signature) },
    };
    let mut out = Vec::from(TLS_BINDING_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    TlsBindingEnvelope::decode(&out)?;
    Ok(out)
}

/// The message an instance key signs for `privateConfig`'s state (SPEC.md
/// §7.4).
pub fn encode_private_config_body(
    body: &crate::private_cloud::wire::PrivateConfigBody,
) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{PRIVATE_CONFIG_LABEL, PrivateConfig};
    let msg = labelled(PRIVATE_CONFIG_LABEL, body)?;
    PrivateConfig::decode(&msg)?;
    Ok(msg)
}

/// A `privateConfig` file (SPEC.md §7.4): magic, the instance certificate
/// and the state, each with its signature.
pub fn encode_private_config_file(
    certificate_message: &[u8],
    certificate_signature: &[u8; 64],
    state_message: &[u8],
    state_signature: &[u8; 64],
) -> Result<Vec<u8>, DecodeError> {
    use crate::private_cloud::{PRIVATE_CONFIG_MAGIC, PrivateConfigEnvelope, wire::PrivateConfigFile};
    let file = PrivateConfigFile {
        instance_certificate: wire::SignedBody {
            message: certificate_message,
            signature: wire::Signature(*certificate_signature),
        },
        state: wire::SignedBody { message: state_message, signature: wire::Signature(*state_signature) },
    };
    let mut out = Vec::from(PRIVATE_CONFIG_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    PrivateConfigEnvelope::decode(&out)?;
    Ok(out)
}

/// The message a receipt key signs for a receipt (SPEC.md §6.5): label || body.
pub fn encode_receipt_body(receipt: &crate::receipt::Receipt) -> Result<Vec<u8>, DecodeError> {
    use crate::receipt::{RECEIPT_LABEL, Receipt};
    let msg = labelled(RECEIPT_LABEL, &receipt.to_wire())?;
    Receipt::decode(&msg)?;
    Ok(msg)
}

/// A raw receipt file (SPEC.md §6.5): magic, the receipt key's certificate,
/// the receipt, and the revocation file it delivers, if any.
pub fn encode_receipt_file(
    certificate: crate::SignedBody<'_>,
    receipt: crate::SignedBody<'_>,
    revocation_list: Option<&[u8]>,
) -> Result<Vec<u8>, DecodeError> {
    use crate::receipt::{RECEIPT_FILE_MAGIC, ReceiptEnvelope, wire::ReceiptFile};
    let file = ReceiptFile {
        certificate: wire::SignedBody {
            message: certificate.message,
            signature: wire::Signature(certificate.signature),
        },
        receipt: wire::SignedBody { message: receipt.message, signature: wire::Signature(receipt.signature) },
        revocation_list,
    };
    let mut out = Vec::from(RECEIPT_FILE_MAGIC.as_slice());
    out.extend_from_slice(&postcard::to_allocvec(&file).map_err(|_| DecodeError::Malformed)?);
    ReceiptEnvelope::decode(&out)?;
    Ok(out)
}
