//! The receipt generator's state and primitives: the keys and clocks it
//! signs with, challenge tokens, and writing a receipt vector (its file, its
//! JSON and, when accepted, its OpenSSL parts) into the generated files.

use fanlic_formats::{
    LicenseId, SignedBody, Timestamp,
    activation::ServerInstance,
    armor, encode_receipt_body, encode_receipt_file, encode_revocation_file, encode_revocation_list_body,
    private_cloud::instance_fingerprint,
    receipt::{Receipt, receipt_id},
};
use fanlic_verifier::activation::{ActivationKey, ChallengeInput, make_challenge_after, project_fingerprint};

use crate::{Error, Files, Result, TestKey, hex, keys, parse_rfc3339, rfc3339};

use super::{
    ChallengeJson, ReceiptExpected, ReceiptVector, challenge_key,
    policy::{CLOUD_LICENSE, Cert, LOCAL_LICENSE, certify, policy_activation_key, policy_license_id},
    sha256,
};

/// What the receipt vectors need from the license generator.
pub(crate) struct Inputs<'k> {
    pub(crate) root_a: &'k TestKey,
    pub(crate) root_b: &'k TestKey,
    pub(crate) receipt_key: &'k TestKey,
    /// The receipt key's certificate by root-a (purposes 0x8, 30 days).
    pub(crate) receipt_cert: Cert,
    /// issuing-a and its certificate: signs the licenses.
    pub(crate) license_key: &'k TestKey,
    pub(crate) license_cert: Cert,
    /// issuing-a2 and its certificate: signs revocation lists.
    pub(crate) revoker: &'k TestKey,
    pub(crate) revoker_cert: Cert,
    /// The two receipt-policy licenses, raw and armored (file under `vectors/`).
    pub(crate) local_raw: Vec<u8>,
    pub(crate) cloud_raw: Vec<u8>,
}

/// The acceptor of a vector.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Acceptor {
    Product,
    /// An authorization server holding this receipt (None: none).
    Server(Option<[u8; 32]>),
    Application,
}

/// A challenge's token.
#[derive(Clone)]
pub(super) struct Token {
    pub(super) raw: Vec<u8>,
    pub(super) input: ChallengeJson,
}

fn challenge_json(input: &ChallengeInput<'_>, previous: Option<[u8; 32]>) -> ChallengeJson {
    ChallengeJson {
        nonce: hex(&input.nonce),
        node_id: hex(&input.node_id),
        project_fingerprint: hex(&input.project_fingerprint),
        nodes: input.nodes,
        app_version: input.app_version.to_owned(),
        issued_at: rfc3339(input.now),
        instance_fingerprint: input.server.map(|s| hex(&s.instance_fingerprint)),
        generation: input.server.map(|s| s.generation),
        previous_receipt: previous.map(|p| hex(&p)),
    }
}

impl Token {
    pub(super) fn sha256(&self) -> [u8; 32] {
        sha256(&self.raw)
    }
}

pub(super) struct Gen<'f, 'k> {
    pub(super) files: &'f mut Files,
    pub(super) i: Inputs<'k>,
    pub(super) instance: TestKey,
    pub(super) clone: TestKey,
    pub(super) vendor_time: Timestamp,
    pub(super) now: Timestamp,
    pub(super) lease: Timestamp,
}

fn hex32(b: &[u8; 32]) -> String {
    hex(b)
}

impl Gen<'_, '_> {
    pub(super) fn put(&mut self, path: String, bytes: Vec<u8>) -> Result<()> {
        if self.files.get(&path).is_some_and(|old| *old != bytes) {
            return Err(Error(format!("{path} generated twice with different bytes")));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    /// A local-container challenge (product) with `nonce_byte`.
    pub(super) fn local_token(&self, nonce_byte: u8) -> Result<Token> {
        let key = ActivationKey::from_bytes(challenge_key(&policy_activation_key(LOCAL_LICENSE)?));
        let input = ChallengeInput {
            nonce: [nonce_byte; 16],
            node_id: [0x0c; 16],
            project_fingerprint: project_fingerprint("FineReport", "webroot", b"")?,
            nodes: 1,
            app_version: "11.0.20",
            now: Timestamp(self.vendor_time.0 - 60),
            server: None,
        };
        let c = make_challenge_after(policy_license_id(LOCAL_LICENSE), &key, &input, None)?;
        Ok(Token { raw: c.token().to_vec(), input: challenge_json(&input, None) })
    }

    /// An authorization server's challenge (instance-a, generation 1) naming `previous`.
    pub(super) fn cloud_token(&self, nonce_byte: u8, previous: Option<[u8; 32]>) -> Result<Token> {
        let key = ActivationKey::from_bytes(challenge_key(&policy_activation_key(CLOUD_LICENSE)?));
        let input = ChallengeInput {
            nonce: [nonce_byte; 16],
            node_id: [0x0d; 16],
            project_fingerprint: project_fingerprint("FineBI", "bi-cluster", b"")?,
            nodes: 3,
            app_version: "6.1.3",
            now: Timestamp(self.vendor_time.0 - 60),
            server: Some(ServerInstance {
                instance_fingerprint: instance_fingerprint(&self.instance.public()),
                generation: 1,
            }),
        };
        let c = make_challenge_after(policy_license_id(CLOUD_LICENSE), &key, &input, previous)?;
        Ok(Token { raw: c.token().to_vec(), input: challenge_json(&input, previous) })
    }

    /// The local receipt for `token`, as the service makes it.
    pub(super) fn local_receipt(&self, token: &Token) -> Result<Receipt> {
        Ok(Receipt::new(
            policy_license_id(LOCAL_LICENSE),
            sha256(&self.i.local_raw),
            token.sha256(),
            None,
            None,
            self.vendor_time,
            None,
            1,
            0,
        )?)
    }

    /// The server's receipt for `token`, binding `instance`, after `previous`, with `lease`.
    pub(super) fn cloud_receipt(
        &self,
        token: &Token,
        instance: [u8; 32],
        previous: Option<[u8; 32]>,
        lease: Option<Timestamp>,
    ) -> Result<Receipt> {
        Ok(Receipt::new(
            policy_license_id(CLOUD_LICENSE),
            sha256(&self.i.cloud_raw),
            token.sha256(),
            Some(instance),
            previous,
            self.vendor_time,
            lease,
            3,
            0,
        )?)
    }

    /// A receipt file: `receipt` signed by `signer` under `cert`, with `list`.
    pub(super) fn file(
        &self,
        cert: &Cert,
        signer: &TestKey,
        receipt: &Receipt,
        list: Option<&[u8]>,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        let msg = encode_receipt_body(receipt)?;
        let file = encode_receipt_file(
            SignedBody { message: &cert.msg, signature: cert.sig },
            SignedBody { message: &msg, signature: signer.sign(&msg) },
            list,
        )?;
        Ok((file, msg))
    }

    /// The receipt file as the service signs it: receipt-a under its certificate.
    pub(super) fn signed(&self, receipt: &Receipt, list: Option<&[u8]>) -> Result<Vec<u8>> {
        let cert = self.i.receipt_cert.clone();
        Ok(self.file(&cert, self.i.receipt_key, receipt, list)?.0)
    }

    /// A certificate of receipt-a by root-a with these purposes and window.
    pub(super) fn receipt_cert(&self, window: (Timestamp, Timestamp), purposes: u32) -> Result<Cert> {
        certify(self.i.root_a, self.i.receipt_key, window, purposes)
    }

    /// Writes `NAME.bin` (and `NAME.fanlic` when `armored`) and `NAME.json`;
    /// for an accepted receipt, its signed parts for OpenSSL.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn vector(
        &mut self,
        name: &str,
        bytes: &[u8],
        armored: Option<&[&str]>,
        description: &str,
        acceptor: Acceptor,
        token: Option<&Token>,
        now: Timestamp,
        causes: &[&str],
    ) -> Result<()> {
        self.vector_file(name, name, bytes, armored, description, acceptor, token, now, causes)
    }

    /// [`Gen::vector`] whose receipt file is `FILE.bin` (shared with another vector).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn vector_file(
        &mut self,
        name: &str,
        file_stem: &str,
        bytes: &[u8],
        armored: Option<&[&str]>,
        description: &str,
        acceptor: Acceptor,
        token: Option<&Token>,
        now: Timestamp,
        causes: &[&str],
    ) -> Result<()> {
        let file = format!("{file_stem}.bin");
        self.put(format!("vectors/receipts/{file}"), bytes.to_vec())?;
        let armored_name = match armored {
            Some(comments) => {
                let f = format!("{file_stem}.fanlic");
                self.put(format!("vectors/receipts/{f}"), armor::encode_receipt(bytes, comments)?.into_bytes())?;
                Some(f)
            }
            None => None,
        };
        let (license, raw) = match acceptor {
            Acceptor::Product => (LOCAL_LICENSE, &self.i.local_raw),
            _ => (CLOUD_LICENSE, &self.i.cloud_raw),
        };
        let license_sha256 = hex32(&sha256(raw));
        let accepted = causes.is_empty();
        let mut expected = ReceiptExpected {
            accepted,
            causes: causes.iter().map(|c| (*c).to_owned()).collect(),
            receipt_id: None,
            vendor_time: None,
            lease_until: None,
            delivered_list_sequence: None,
        };
        if accepted {
            let env = fanlic_formats::receipt::ReceiptEnvelope::decode(bytes)?;
            let r = Receipt::decode(env.receipt.message)?;
            expected.receipt_id = Some(hex32(&receipt_id(env.receipt.message)));
            expected.vendor_time = Some(rfc3339(r.vendor_time));
            expected.lease_until = r.lease_until.map(rfc3339);
            // delivered_list_sequence: set by hand (set_delivered) where a list is delivered.
            let cert = fanlic_formats::IssuingKeyCertificate::decode(env.certificate.message)?;
            let openssl = [
                (format!("{file_stem}.cert.msg"), env.certificate.message.to_vec()),
                (format!("{file_stem}.cert.sig"), env.certificate.signature.to_vec()),
                (format!("{file_stem}.cert.pub.pem"), keys::public_key_pem(&self.i.root_a.public()).into_bytes()),
                (format!("{file_stem}.receipt.msg"), env.receipt.message.to_vec()),
                (format!("{file_stem}.receipt.sig"), env.receipt.signature.to_vec()),
                (format!("{file_stem}.receipt.pub.pem"), keys::public_key_pem(&cert.public_key).into_bytes()),
            ];
            for (f, b) in openssl {
                self.put(format!("vectors/openssl-receipts/{f}"), b)?;
            }
        }
        let (instance, checked, previous) = match acceptor {
            Acceptor::Product => (None, false, None),
            Acceptor::Server(held) => (Some(hex32(&self.instance.public())), true, held.map(|h| hex32(&h))),
            Acceptor::Application => (Some(hex32(&self.instance.public())), false, None),
        };
        let v = ReceiptVector {
            description: description.to_owned(),
            acceptor: match acceptor {
                Acceptor::Product => "product",
                Acceptor::Server(_) => "server",
                Acceptor::Application => "application",
            }
            .to_owned(),
            file,
            armored: armored_name,
            roots: vec!["root-a".to_owned()],
            license: format!("{license}.lic"),
            license_sha256,
            challenge_token: token.map(|t| hex(&t.raw)),
            challenge_sha256: token.map(|t| hex32(&t.sha256())),
            challenge: token.map(|t| t.input.clone()),
            instance_public_key: instance,
            previous_receipt_checked: checked,
            previous_receipt: previous,
            now: rfc3339(now),
            expected,
        };
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        self.put(format!("vectors/receipts/{name}.json"), json.into_bytes())
    }

    /// Sets the delivered list's sequence of an accepted vector's JSON.
    pub(super) fn set_delivered(&mut self, name: &str, sequence: u64) -> Result<()> {
        let path = format!("vectors/receipts/{name}.json");
        let text = self.files.get(&path).ok_or_else(|| Error(format!("no {path}")))?;
        let mut v: ReceiptVector = serde_json::from_slice(text)?;
        v.expected.delivered_list_sequence = Some(sequence);
        let mut json = serde_json::to_string_pretty(&v)?;
        json.push('\n');
        self.files.insert(path, json.into_bytes());
        Ok(())
    }

    /// A revocation list of `sequence` by issuing-a2, revoking `revoked`.
    pub(super) fn list(&self, sequence: u64, revoked: &[LicenseId]) -> Result<Vec<u8>> {
        let body = encode_revocation_list_body(sequence, parse_rfc3339("2026-05-01T00:00:00Z")?, revoked, &[])?;
        Ok(encode_revocation_file(
            &self.i.revoker_cert.msg,
            &self.i.revoker_cert.sig,
            &body,
            &self.i.revoker.sign(&body),
        )?)
    }
}

/// The receipt with a changed wire body, checked as a decoder checks it.
pub(super) fn with(r: &Receipt, f: impl FnOnce(&mut fanlic_formats::receipt::wire::ReceiptBody)) -> Result<Receipt> {
    let mut w = r.to_wire();
    f(&mut w);
    Ok(Receipt::from_wire(&w)?)
}

pub(super) fn flip(bytes: &mut [u8], at: usize) -> Result<()> {
    let b = bytes.get_mut(at).ok_or_else(|| Error(format!("no byte {at}")))?;
    *b ^= 0x01;
    Ok(())
}
