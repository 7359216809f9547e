//! The `privateConfig` vectors (SPEC.md §7): the signed cluster state file,
//! and every way one is refused.

use fanlic_formats::{
    LicenseId, encode_private_config_body, encode_private_config_file,
    private_cloud::{Event, EventKind, NodeRecord, chain_event, wire as pc},
};

use crate::{Result, TestKey, hex};

use super::{
    ConfigJson, NODE_ID, PrivateCloudExpected,
    generator::{Cert, Gen, refused},
};

pub(super) fn state(g: &Gen<'_>) -> pc::PrivateConfigBody {
    let t = g.t.issued.0;
    let node2 = [0x33; 16];
    pc::PrivateConfigBody {
        license_id: g.license_id.0,
        instance_public_key: g.k.instance.public(),
        generation: 7,
        time_high_water: g.t.now.0,
        activated_at: Some(t + 600),
        nodes: vec![
            NodeRecord { node_id: NODE_ID, registered_at: t + 900, last_seen: g.t.now.0 - 60 },
            NodeRecord { node_id: node2, registered_at: t + 960, last_seen: g.t.now.0 - 120 },
        ],
        log_base: [0; 32],
        events: vec![
            Event { at: t, kind: EventKind::Created, node_id: [0; 16] },
            Event { at: t, kind: EventKind::Started, node_id: [0; 16] },
            Event { at: t + 600, kind: EventKind::Activated, node_id: [0; 16] },
            Event { at: t + 900, kind: EventKind::NodeRegistered, node_id: NODE_ID },
            Event { at: t + 960, kind: EventKind::NodeRegistered, node_id: node2 },
        ],
    }
}

fn config_file(cert: &Cert, body: &pc::PrivateConfigBody, signer: &TestKey) -> Result<Vec<u8>> {
    let msg = encode_private_config_body(body)?;
    Ok(encode_private_config_file(&cert.msg, &cert.sig, &msg, &signer.sign(&msg))?)
}

pub(super) fn config_vectors(g: &mut Gen<'_>, cert: &Cert, other_license: LicenseId) -> Result<()> {
    let s = state(g);
    let good = config_file(cert, &s, &g.k.instance)?;
    let head = s.events.iter().fold(s.log_base, |h, e| chain_event(&h, e));
    let license_id = g.license_id;
    g.config_vector(
        "config-valid",
        "config-valid.bin",
        Some(good.clone()),
        "A privateConfig of generation 7: instance-a certified by the license's image key, activated, two nodes, \
         five events.",
        license_id,
        PrivateCloudExpected {
            valid: true,
            causes: vec![],
            detail: None,
            accepted: None,
            config: Some(ConfigJson {
                generation: 7,
                nodes: s.nodes.iter().map(|n| hex(&n.node_id)).collect(),
                log_head: hex(&head),
            }),
            bound_instance_key: None,
        },
    )?;
    g.config_vector(
        "config-foreign-license",
        "config-valid.bin",
        None,
        "The valid privateConfig checked for another license id (a file from another customer's server).",
        other_license,
        refused(&["foreign_license"], None),
    )?;

    // One byte of the state changed: the generation 7 → 6 (a rollback by hand).
    let msg = encode_private_config_body(&s)?;
    let forged_msg = encode_private_config_body(&pc::PrivateConfigBody { generation: 6, ..s.clone() })?;
    let tampered = encode_private_config_file(&cert.msg, &cert.sig, &forged_msg, &g.k.instance.sign(&msg))?;
    g.config_vector(
        "config-tampered",
        "config-tampered.bin",
        Some(tampered),
        "The valid privateConfig with its generation edited from 7 to 6, the signature kept.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    let other_msg = g.cert_body(license_id, g.k.image_other.key_id(), g.k.instance.public())?;
    let other = Cert { sig: g.k.image_other.sign(&other_msg), msg: other_msg };
    g.config_vector(
        "config-other-image",
        "config-other-image.bin",
        Some(config_file(&other, &s, &g.k.instance)?),
        "A privateConfig whose instance certificate is signed by image-other, checked with the license's image key.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    g.config_vector(
        "config-signed-by-clone",
        "config-signed-by-clone.bin",
        Some(config_file(cert, &s, &g.k.clone)?),
        "The valid state signed by instance-clone, while the certificate certifies instance-a.",
        license_id,
        refused(&["bad_signature"], None),
    )?;

    let other_key = pc::PrivateConfigBody { instance_public_key: g.k.clone.public(), ..s.clone() };
    g.config_vector(
        "config-state-other-instance",
        "config-state-other-instance.bin",
        Some(config_file(cert, &other_key, &g.k.instance)?),
        "A state validly signed by instance-a that names instance-clone's key as `instance_public_key`.",
        license_id,
        refused(&["instance_key_mismatch"], None),
    )?;

    let other_id = pc::PrivateConfigBody { license_id: other_license.0, ..s.clone() };
    g.config_vector(
        "config-state-other-license",
        "config-state-other-license.bin",
        Some(config_file(cert, &other_id, &g.k.instance)?),
        "A state validly signed by instance-a that names another license id than its certificate.",
        license_id,
        refused(&["state_license_mismatch"], None),
    )?;

    // Two checks fail at once: only the first is reported, in the order of
    // §7.4 (certificate: license id, then image key id; state: license id,
    // then instance key).
    let both_msg = g.cert_body(other_license, g.k.image_other.key_id(), g.k.instance.public())?;
    let both = Cert { sig: g.k.image.sign(&both_msg), msg: both_msg };
    g.config_vector(
        "config-certificate-two-mismatches",
        "config-certificate-two-mismatches.bin",
        Some(config_file(&both, &s, &g.k.instance)?),
        "An instance certificate validly signed by the license's image key that names another license id and \
         image-other's key id: foreign_license, the first failing check.",
        license_id,
        refused(&["foreign_license"], None),
    )?;
    let both =
        pc::PrivateConfigBody { license_id: other_license.0, instance_public_key: g.k.clone.public(), ..s.clone() };
    g.config_vector(
        "config-state-two-mismatches",
        "config-state-two-mismatches.bin",
        Some(config_file(cert, &both, &g.k.instance)?),
        "A state validly signed by instance-a that names another license id and instance-clone's key: \
         state_license_mismatch, the first failing check.",
        license_id,
        refused(&["state_license_mismatch"], None),
    )?;

    let unsorted = pc::PrivateConfigBody { nodes: s.nodes.iter().rev().copied().collect(), ..s.clone() };
    let unsorted_msg =
        [fanlic_formats::private_cloud::PRIVATE_CONFIG_LABEL, postcard::to_allocvec(&unsorted)?.as_slice()].concat();
    let file = encode_private_config_file(&cert.msg, &cert.sig, &unsorted_msg, &g.k.instance.sign(&unsorted_msg))?;
    g.config_vector(
        "config-unsorted-nodes",
        "config-unsorted-nodes.bin",
        Some(file),
        "A state validly signed by instance-a whose nodes are not in ascending order of node_id.",
        license_id,
        refused(&["bad_encoding"], Some("ascending")),
    )?;

    let magic2 = [b"FANLIC-PRIVATECONFIG/2\n".as_slice(), good.get(23..).unwrap_or_default()].concat();
    g.config_vector(
        "config-unknown-magic",
        "config-unknown-magic.bin",
        Some(magic2),
        "The valid privateConfig with the magic FANLIC-PRIVATECONFIG/2.",
        license_id,
        refused(&["unknown_format"], None),
    )?;
    Ok(())
}
