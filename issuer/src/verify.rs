//! `fanlic verify`: the product's check, run on the vendor's side.

use fanlic_formats::{Envelope, License, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor};
use fanlic_verifier::{Cause, Environment, RootKey, authenticate, check};
use serde_json::{Value, json};

use crate::report;

/// The product environment to check against (the registration page's fields).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckSpec {
    /// Local application name.
    pub app_name: String,
    /// Local version, e.g. `11.0.20`.
    pub version: String,
    /// Local project name.
    pub project: String,
    /// Nodes in the cluster.
    pub nodes: u32,
    /// Authentication method selected; `None`: the file's own kind.
    pub method: Option<LicenseKind>,
    /// The time of the check.
    pub now: Timestamp,
    /// The latest time seen before.
    pub last_seen: Option<Timestamp>,
}

/// One failing cause.
#[derive(Clone, Debug, PartialEq)]
pub struct CauseReport {
    /// Stable code, e.g. `license_expired`.
    pub code: &'static str,
    /// The message for people.
    pub message: String,
    /// `code`, `message` and the details, as JSON.
    pub json: Value,
}

/// The outcome of `verify`.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifyReport {
    /// Whether the license is valid for the environment.
    pub valid: bool,
    /// The license when its signatures hold, else `None`.
    pub license: Option<Value>,
    /// One line for people about a license whose signatures hold.
    pub summary: Option<String>,
    /// Every failing cause, in the verifier's order.
    pub causes: Vec<CauseReport>,
    /// The authentication method checked against.
    pub method: LicenseKind,
}

impl VerifyReport {
    /// `{"valid": .., "license": {..}|null, "causes": [..]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "valid": self.valid,
            "license": self.license,
            "causes": self.causes.iter().map(|c| c.json.clone()).collect::<Vec<_>>(),
        })
    }

    /// `valid: ...` on one line, or each cause's message on its own line.
    pub fn human(&self) -> String {
        if self.valid {
            let id = self
                .license
                .as_ref()
                .and_then(|l| l.get("license_id").and_then(serde_json::Value::as_str))
                .unwrap_or("?");
            format!("valid: license {id} for {}\n", self.summary.as_deref().unwrap_or(""))
        } else {
            self.causes.iter().map(|c| format!("{}\n", c.message)).collect()
        }
    }

    /// 0 valid, 1 invalid.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.valid)
    }
}

/// The kind a file claims, read without checking any signature.
pub fn unverified_kind(input: &[u8]) -> Option<LicenseKind> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::unarmor(input, &mut buf).ok()?;
    let envelope = Envelope::decode(raw).ok()?;
    License::decode(envelope.license.message).ok().map(|l| l.kind)
}

fn cause_report(c: &Cause<'_>) -> CauseReport {
    CauseReport { code: c.code(), message: c.to_string(), json: report::cause_json(c) }
}

/// Verifies `input` (armored or raw) against `roots` and `spec`, reporting
/// every cause at once.
pub fn verify(input: &[u8], roots: &[RootKey], spec: &CheckSpec) -> VerifyReport {
    let method = spec.method.or_else(|| unverified_kind(input)).unwrap_or(LicenseKind::LocalContainer);
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = match authenticate(input, &mut buf, roots) {
        Ok(s) => s,
        Err(e) => {
            return VerifyReport {
                valid: false,
                license: None,
                summary: None,
                causes: vec![cause_report(&Cause::ContentIncorrect(e))],
                method,
            };
        }
    };
    let license = report::license_json(&signed.license, Some(&signed.certificate));
    let summary = report::license_summary(&signed.license);
    let env = Environment {
        app_name: &spec.app_name,
        version: &spec.version,
        project: &spec.project,
        nodes: spec.nodes,
        method,
        now: spec.now,
        last_seen: spec.last_seen,
    };
    match check(signed, &env) {
        Ok(_) => VerifyReport { valid: true, license: Some(license), summary: Some(summary), causes: vec![], method },
        Err(rejection) => VerifyReport {
            valid: false,
            license: Some(license),
            summary: Some(summary),
            causes: rejection.causes().map(cause_report).collect(),
            method,
        },
    }
}
