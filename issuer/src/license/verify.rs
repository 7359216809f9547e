//! `fanlic verify`: the product's check, run on the vendor's side.

use crate::error::RevocationListError;
use std::{fs, path::Path};

use fanlic_formats::{Envelope, License, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, armor};
use fanlic_verifier::{
    Cause, Environment, Lang, RevocationList, RootKey, Verified, authenticate, check_with_revocations,
    verify_revocations,
};
use serde_json::{Value, json};

use crate::Error;
use crate::license::report;

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
    /// The message for people, in English.
    pub message: String,
    /// The product's name of the cause, in the report's language.
    pub title: &'static str,
    /// The details, in the report's language.
    pub prompt: String,
    /// What to do next, in the report's language.
    pub advice: String,
    /// `code`, `message`, `title`, `prompt`, `advice` and the details, as JSON.
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
    /// The language of the causes' titles, prompts and advice.
    pub lang: Lang,
}

impl VerifyReport {
    /// `{"valid": .., "lang": .., "license": {..}|null, "causes": [..]}`.
    pub fn to_json(&self) -> Value {
        json!({
            "valid": self.valid,
            "lang": self.lang.tag(),
            "license": self.license,
            "causes": self.causes.iter().map(|c| c.json.clone()).collect::<Vec<_>>(),
        })
    }

    /// `valid: ...` on one line, or for each cause its title and prompt on a
    /// line and what to do next indented under it, in the report's language.
    pub fn human(&self) -> String {
        if self.valid {
            let id = self
                .license
                .as_ref()
                .and_then(|l| l.get("license_id").and_then(serde_json::Value::as_str))
                .unwrap_or("?");
            let summary = self.summary.as_deref().unwrap_or("");
            match self.lang {
                fanlic_verifier::Lang::ZhCn => format!("有效：许可证 {id}（{summary}）\n"),
                _ => format!("valid: license {id} for {summary}\n"),
            }
        } else {
            let sep = self.lang.pick(". ", "。");
            self.causes.iter().map(|c| format!("{}{sep}{}\n  {}\n", c.title, c.prompt, c.advice)).collect()
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

fn cause_report(c: &Cause<'_>, lang: Lang) -> CauseReport {
    CauseReport {
        code: c.code(),
        message: c.to_string(),
        title: c.title(lang),
        prompt: c.prompt(lang).to_string(),
        advice: c.advice(lang).to_string(),
        json: report::cause_json(c, lang),
    }
}

/// Reads and checks a revocation list file (SPEC.md §5) against `roots`,
/// for [`verify_with`]. The vendor's tool keeps no highest sequence, so no
/// list is refused as older. A list that does not verify is an error, not a
/// cause: it revokes nothing.
pub fn read_revocations(path: &Path, roots: &[RootKey]) -> Result<Vec<u8>, Error> {
    let bytes = fs::read(path).map_err(Error::io("cannot read the revocation list", path))?;
    verify_revocations(&bytes, roots, None).map_err(|e| {
        Error::RevocationList(RevocationListError::Refused { path: path.to_owned(), reason: e.to_string() })
    })?;
    Ok(bytes)
}

/// `--lang`'s parser: `en` or `zh-CN` (any `en*` or `zh*` tag).
pub fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::from_tag(s).ok_or_else(|| format!("unknown language {s:?}: use en or zh-CN"))
}

/// Verifies `input` (armored or raw) against `roots` and `spec`, reporting
/// every cause at once, in English.
pub fn verify(input: &[u8], roots: &[RootKey], spec: &CheckSpec) -> VerifyReport {
    verify_with(input, roots, spec, Lang::En, None)
}

/// [`verify`], with the causes' texts in `lang`, and cause `revoked` when a
/// revocation list checked by [`read_revocations`] (raw bytes) revokes the
/// license or its issuing key.
pub fn verify_with(
    input: &[u8],
    roots: &[RootKey],
    spec: &CheckSpec,
    lang: Lang,
    revocations: Option<&[u8]>,
) -> VerifyReport {
    let list: Option<Verified<RevocationList<'_>>> =
        revocations.and_then(|bytes| verify_revocations(bytes, roots, None).ok());
    let method = spec.method.or_else(|| unverified_kind(input)).unwrap_or(LicenseKind::LocalContainer);
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = match authenticate(input, &mut buf, roots) {
        Ok(s) => s,
        Err(e) => {
            return VerifyReport {
                valid: false,
                license: None,
                summary: None,
                causes: vec![cause_report(&Cause::ContentIncorrect(e), lang)],
                method,
                lang,
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
    match check_with_revocations(signed, &env, list.as_ref()) {
        Ok(_) => {
            VerifyReport { valid: true, license: Some(license), summary: Some(summary), causes: vec![], method, lang }
        }
        Err(rejection) => VerifyReport {
            valid: false,
            license: Some(license),
            summary: Some(summary),
            causes: rejection.causes().map(|c| cause_report(c, lang)).collect(),
            method,
            lang,
        },
    }
}
