//! The node-auth vectors (SPEC.md §7.3, "Authentication"): the MAC of a
//! node's request under its join secret, in
//! `fixtures/vectors/private-cloud/node-auth/requests.json`.

use serde::{Deserialize, Serialize};

use crate::{Error, Result, hex};

use super::{generator::Gen, nonce, private_cloud_dir, sha256};

/// One request's MAC (SPEC.md §7.3, "Authentication"), in
/// `fixtures/vectors/private-cloud/node-auth/requests.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeAuthVector {
    /// Short name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The join secret, 64 hex digits.
    pub join_secret: String,
    /// `HMAC-SHA256(join_secret, "fanlic/1/node-request-key\n")`, hex.
    pub request_key: String,
    /// The request's path.
    pub path: String,
    /// The application's time, Unix seconds.
    pub at: u64,
    /// The exact body bytes, as text.
    pub body: String,
    /// `HMAC-SHA256(request_key, "fanlic/1/node-request\n" || path || "\n" || decimal(at) || "\n" || body)`, hex.
    pub mac: String,
    /// The `Authorization` header's value.
    pub authorization: String,
}

/// The node-auth vectors' file.
pub const NODE_AUTH_VECTORS: &str = "node-auth/requests.json";

/// Every node-auth vector.
pub fn load_node_auth() -> Result<Vec<NodeAuthVector>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(private_cloud_dir().join(NODE_AUTH_VECTORS))?)?)
}

pub(super) fn node_auth_vectors(g: &mut Gen<'_>) -> Result<()> {
    use fanlic_verifier::node_auth::JoinSecret;
    let secret = sha256(b"fanlic test join secret a");
    let other = sha256(b"fanlic test join secret b");
    let at = g.t.now.0;
    let node = hex(&[0x11; 16]);
    let cases = [
        (
            "heartbeat",
            &secret,
            "/api/v1/heartbeat",
            at,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(1))),
            "A heartbeat at 2026-06-01T00:00:00Z.",
        ),
        (
            "register",
            &secret,
            "/api/v1/register",
            at,
            format!(
                "{{\"app_name\":\"FineReport\",\"version\":\"11.0.20\",\"project\":\"webroot\",\"node_id\":\"{node}\",\"nonce\":\"{}\"}}",
                hex(&nonce(2))
            ),
            "A registration: the body names the node, so the MAC cannot serve another node.",
        ),
        (
            "deregister",
            &secret,
            "/api/v1/deregister",
            at + 1,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(3))),
            "A deregistration one second later.",
        ),
        (
            "heartbeat-other-secret",
            &other,
            "/api/v1/heartbeat",
            at,
            format!("{{\"node_id\":\"{node}\",\"nonce\":\"{}\"}}", hex(&nonce(1))),
            "The first vector's request under another join secret: another MAC.",
        ),
    ];
    let mut out = Vec::new();
    for (name, secret, path, at, body, description) in cases {
        let s = JoinSecret::from_bytes(*secret);
        let key = s.request_key();
        let key_bytes: [u8; 32] = {
            // The request key's bytes, computed independently of the verifier.
            let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&k, fanlic_verifier::node_auth::REQUEST_KEY_LABEL)
                .as_ref()
                .try_into()
                .map_err(|_| Error("hmac length".into()))?
        };
        let mac = key.request_mac(path, at, body.as_bytes());
        let mut msg = fanlic_verifier::node_auth::REQUEST_MAC_LABEL.to_vec();
        msg.extend_from_slice(format!("{path}\n{at}\n{body}").as_bytes());
        let independent = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes), &msg);
        if independent.as_ref() != mac.as_slice() {
            return Err(Error(format!("node-auth {name}: the verifier's MAC is not HMAC-SHA256 of the stated input")));
        }
        let authorization = key.authorization(path, at, body.as_bytes()).as_str().to_owned();
        out.push(NodeAuthVector {
            name: name.to_owned(),
            description: description.to_owned(),
            join_secret: hex(secret),
            request_key: hex(&key_bytes),
            path: path.to_owned(),
            at,
            body,
            mac: hex(&mac),
            authorization,
        });
    }
    let mut json = serde_json::to_string_pretty(&out)?;
    json.push('\n');
    g.file(NODE_AUTH_VECTORS, json.into_bytes())
}
