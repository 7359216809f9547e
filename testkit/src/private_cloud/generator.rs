//! The private-cloud generator's state and primitives: its keys and fixed
//! times, the server license and instance certificate, and writing an answer
//! vector (its file and its JSON) into the generated files.

use fanlic_formats::{
    KeyId, LicenseId, Timestamp, encode_certificate_body, encode_instance_certificate, encode_license_file,
    encode_license_payload, encode_server_answer, encode_server_answer_file,
    private_cloud::{AnswerKind, InstanceCertificate, ServerAnswer, wire as pc},
    wire,
};

use crate::{Env, Error, Files, Result, TestKey, hex, parse_rfc3339, rfc3339};

use super::{AnswerInput, ConfigInput, NODE_ID, PrivateCloudExpected, PrivateCloudVector, SeedKey, kind_name};

pub(super) const A: &[&str] = &["root-a"];

pub(super) struct Keys {
    pub(super) root: TestKey,
    pub(super) issuing: TestKey,
    pub(super) image: SeedKey,
    pub(super) image_other: TestKey,
    pub(super) instance: TestKey,
    pub(super) clone: TestKey,
}

/// Fixed times.
pub(super) struct Times {
    /// 2026-01-01T00:00:00Z: the license is issued, the instance made.
    pub(super) issued: Timestamp,
    /// 2026-06-01T00:00:00Z: the product's time.
    pub(super) now: Timestamp,
}

pub(super) struct Gen<'f> {
    pub(super) files: &'f mut Files,
    pub(super) k: Keys,
    pub(super) t: Times,
    pub(super) license_id: LicenseId,
    /// The server license (private-cloud, with the image key), raw.
    pub(super) license: Vec<u8>,
}

/// An instance certificate's body and signature.
pub(super) struct Cert {
    pub(super) msg: Vec<u8>,
    pub(super) sig: [u8; 64],
}

pub(super) fn env(now: Timestamp) -> Env {
    Env {
        app_name: "FineBI".into(),
        version: "6.1.3".into(),
        project: "bi-cluster".into(),
        nodes: 1,
        method: "private-cloud".into(),
        now: rfc3339(now),
        last_seen: None,
    }
}

pub(super) fn refused(causes: &[&str], detail: Option<&str>) -> PrivateCloudExpected {
    PrivateCloudExpected {
        valid: false,
        causes: causes.iter().map(|c| (*c).to_owned()).collect(),
        detail: detail.map(str::to_owned),
        accepted: None,
        config: None,
        bound_instance_key: None,
    }
}

impl Gen<'_> {
    pub(super) fn file(&mut self, name: &str, bytes: Vec<u8>) -> Result<()> {
        let path = format!("vectors/private-cloud/{name}");
        if self.files.get(&path).is_some_and(|old| *old != bytes) {
            return Err(Error(format!("{path} generated twice with different bytes")));
        }
        self.files.insert(path, bytes);
        Ok(())
    }

    pub(super) fn json(&mut self, name: &str, v: &PrivateCloudVector) -> Result<()> {
        let mut json = serde_json::to_string_pretty(v)?;
        json.push('\n');
        self.file(&format!("{name}.json"), json.into_bytes())
    }

    /// A license of `kind` for the server, signed by issuing-a under root-a.
    pub(super) fn license(&self, kind: wire::Kind, image_public_key: Option<[u8; 32]>) -> Result<Vec<u8>> {
        let cert = encode_certificate_body(&wire::CertificateBody {
            root_key_id: self.k.root.key_id().0,
            key_id: self.k.issuing.key_id().0,
            public_key: self.k.issuing.public(),
            not_before: parse_rfc3339("2025-01-01T00:00:00Z")?.0,
            not_after: parse_rfc3339("2028-12-31T23:59:59Z")?.0,
            purposes: 0x3,
        })?;
        let payload = encode_license_payload(&wire::LicensePayload {
            license_id: self.license_id.0,
            kind,
            app_name: "FineBI",
            company: "Example Manufacturing Co., Ltd.",
            project: "bi-cluster",
            contract_signed: wire::Date { year: 2025, month: 12, day: 15 },
            issued_at: self.t.issued.0,
            not_before: self.t.issued.0,
            expiry: wire::Expiry::On(wire::Date { year: 2030, month: 12, day: 31 }),
            version: wire::Version { major: 6, minor: 1 },
            max_nodes: 3,
            activation_key: None,
            activation_base_url: None,
            image_public_key,
            supersedes: None,
            request_email_sha256: None,
        })?;
        Ok(encode_license_file(&cert, &self.k.root.sign(&cert), &payload, &self.k.issuing.sign(&payload))?)
    }

    pub(super) fn cert_body(&self, license_id: LicenseId, image_key_id: KeyId, instance: [u8; 32]) -> Result<Vec<u8>> {
        let c = InstanceCertificate::from_wire(&pc::InstanceCertificateBody {
            license_id: license_id.0,
            image_key_id: image_key_id.0,
            instance_public_key: instance,
            created_at: self.t.issued.0,
        })?;
        Ok(encode_instance_certificate(&c)?)
    }

    /// The server's certificate: instance-a, certified by the license's image key.
    pub(super) fn cert(&self) -> Result<Cert> {
        let msg = self.cert_body(self.license_id, KeyId::of(&self.k.image.public()), self.k.instance.public())?;
        let sig = self.k.image.sign(&msg);
        Ok(Cert { msg, sig })
    }

    pub(super) fn body(&self, kind: AnswerKind, nonce: [u8; 16], at: Timestamp) -> Result<ServerAnswer> {
        Ok(ServerAnswer::from_wire(&pc::ServerAnswerBody {
            license_id: self.license_id.0,
            kind,
            node_id: NODE_ID,
            nonce,
            at: at.0,
            valid_until: at.0 + fanlic_formats::private_cloud::SILENCE_LIMIT_SECS,
            nodes: if kind == AnswerKind::Deregistered { 0 } else { 2 },
        })?)
    }

    pub(super) fn answer_file(
        &self,
        license: &[u8],
        cert: &Cert,
        answer: &ServerAnswer,
        signer: &TestKey,
    ) -> Result<Vec<u8>> {
        let msg = encode_server_answer(answer)?;
        Ok(encode_server_answer_file(license, &cert.msg, &cert.sig, &msg, &signer.sign(&msg))?)
    }

    pub(super) fn answer_input(&self, kind: AnswerKind, nonce: [u8; 16], pinned: Option<[u8; 32]>) -> AnswerInput {
        AnswerInput {
            roots: A.iter().map(|r| (*r).to_owned()).collect(),
            env: env(self.t.now),
            kind: kind_name(kind).to_owned(),
            node_id: hex(&NODE_ID),
            nonce: hex(&nonce),
            pinned_instance_key: pinned.map(|p| hex(&p)),
        }
    }

    /// Writes `NAME.bin` and `NAME.json` for a server answer.
    pub(super) fn answer_vector(
        &mut self,
        name: &str,
        bytes: Vec<u8>,
        description: &str,
        input: AnswerInput,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        let file = format!("{name}.bin");
        self.file(&file, bytes)?;
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file,
            check: "server-answer".into(),
            answer: Some(input),
            config: None,
            binding: None,
            expected,
        };
        self.json(name, &v)
    }

    pub(super) fn config_vector(
        &mut self,
        name: &str,
        file: &str,
        bytes: Option<Vec<u8>>,
        description: &str,
        license_id: LicenseId,
        expected: PrivateCloudExpected,
    ) -> Result<()> {
        if let Some(bytes) = bytes {
            self.file(file, bytes)?;
        }
        let v = PrivateCloudVector {
            description: description.to_owned(),
            file: file.to_owned(),
            check: "private-config".into(),
            answer: None,
            binding: None,
            config: Some(ConfigInput { image_public_key: hex(&self.k.image.public()), license_id: hex(&license_id.0) }),
            expected,
        };
        self.json(name, &v)
    }
}
