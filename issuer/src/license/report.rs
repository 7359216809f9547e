//! JSON and text shapes shared by the commands. [`license_json`] is the one
//! shape of a license, used by `verify`, `inspect` and `issue`.

use fanlic_formats::{IssuingKeyCertificate, License};
use fanlic_verifier::{Cause, ContentError, Lang, Revocation};
use serde_json::{Map, Value, json};

use crate::home::keys::purpose_names;
use crate::util::hex;

/// A license as JSON. `cert` is the certificate of the issuing key that
/// signed it (its ids are `null` without one). The activation key is never
/// included, only whether there is one.
pub fn license_json(l: &License<'_>, cert: Option<&IssuingKeyCertificate>) -> Value {
    json!({
        "license_id": l.id.to_string(),
        "kind": l.kind.as_str(),
        "app_name": l.app_name,
        "company": l.company,
        "project": l.project,
        "contract_signed": l.contract_signed.to_string(),
        "issued_at": l.issued_at.to_string(),
        "not_before": l.not_before.to_string(),
        "expiry": l.expiry.to_string(),
        "version": l.version.to_string(),
        "max_nodes": l.max_nodes,
        "activation_key_present": l.activation_key.is_some(),
        // Under `receipt`, the key present is the challenge key (SPEC.md §3.3).
        "activation_policy": l.activation_policy.as_str(),
        "activation_base_url": l.activation_base_url,
        "image_public_key": l.image_public_key.map(|k| hex::encode(&k)),
        "supersedes": l.supersedes.map(|s| s.to_string()),
        "request_email_sha256": l.request_email_sha256.map(|k| hex::encode(&k)),
        "issuing_key_id": cert.map(|c| c.key_id.to_string()),
        "root_key_id": cert.map(|c| c.root_key_id.to_string()),
    })
}

/// An issuing-key certificate as JSON.
pub fn certificate_json(c: &IssuingKeyCertificate) -> Value {
    json!({
        "root_key_id": c.root_key_id.to_string(),
        "key_id": c.key_id.to_string(),
        "public_key": hex::encode(&c.public_key),
        "not_before": c.not_before.to_string(),
        "not_after": c.not_after.to_string(),
        "purposes": purpose_names(c.purposes.0),
    })
}

/// One line for people: who, what, how many, until when.
pub fn license_summary(l: &License<'_>) -> String {
    format!("{} / {}: {}", l.company, l.project, license_terms(l))
}

/// What a license allows: app, version, kind, nodes, expiry.
pub fn license_terms(l: &License<'_>) -> String {
    let nodes = if l.max_nodes == 1 { "1 node".to_owned() } else { format!("up to {} nodes", l.max_nodes) };
    format!("{} {}, {}, {}, expires {}", l.app_name, l.version, l.kind, nodes, l.expiry)
}

/// A failing cause as JSON: `code`, `message` (English), `title`, `prompt`
/// and `advice` (in `lang`), then its details as fields.
pub fn cause_json(c: &Cause<'_>, lang: Lang) -> Value {
    let mut m = Map::new();
    m.insert("code".into(), c.code().into());
    m.insert("message".into(), c.to_string().into());
    m.insert("title".into(), c.title(lang).into());
    m.insert("prompt".into(), c.prompt(lang).to_string().into());
    m.insert("advice".into(), c.advice(lang).to_string().into());
    let mut put = |k: &str, v: Value| {
        m.insert(k.into(), v);
    };
    match c {
        Cause::LicenseExpired { expiry, now } => {
            put("expiry", expiry.to_string().into());
            put("now", now.to_string().into());
        }
        Cause::VersionMismatch { licensed, local } => {
            put("licensed", licensed.to_string().into());
            put("local", (*local).into());
        }
        Cause::AppNameMismatch { licensed, local } | Cause::ProjectContentMismatch { licensed, local } => {
            put("licensed", (*licensed).into());
            put("local", (*local).into());
        }
        Cause::LicenseExhausted { max_nodes, nodes } => {
            put("max_nodes", (*max_nodes).into());
            put("nodes", (*nodes).into());
        }
        Cause::LicenseTypeMismatch { licensed, selected } => {
            put("licensed", licensed.as_str().into());
            put("selected", selected.as_str().into());
        }
        Cause::NotYetValid { not_before, now } => {
            put("not_before", not_before.to_string().into());
            put("now", now.to_string().into());
        }
        Cause::ClockRollback { now, last_seen, tolerance_secs } => {
            put("now", now.to_string().into());
            put("last_seen", last_seen.to_string().into());
            put("tolerance_secs", (*tolerance_secs).into());
        }
        Cause::Revoked { revocation, sequence } => {
            let (license_id, key_id) = match revocation {
                Revocation::License { license_id } => (Some(license_id), None),
                Revocation::IssuingKey { key_id } => (None, Some(key_id)),
                Revocation::LicenseAndIssuingKey { license_id, key_id } => (Some(license_id), Some(key_id)),
                _ => (None, None),
            };
            put("license_id", license_id.map(ToString::to_string).into());
            put("key_id", key_id.map(ToString::to_string).into());
            put("sequence", (*sequence).into());
        }
        Cause::ContentIncorrect(e) => {
            put("reason", e.reason().into());
            put("detail", e.to_string().into());
            content_details(e, &mut put);
        }
        _ => {}
    }
    Value::Object(m)
}

fn content_details(e: &ContentError, put: &mut impl FnMut(&str, Value)) {
    match e {
        ContentError::UnknownRootKey { root_key_id } => put("root_key_id", root_key_id.to_string().into()),
        ContentError::IssuingKeyOutsideWindow { key_id, issued_at, not_before, not_after } => {
            put("key_id", key_id.to_string().into());
            put("issued_at", issued_at.to_string().into());
            put("not_before", not_before.to_string().into());
            put("not_after", not_after.to_string().into());
        }
        ContentError::KindNotCertified { key_id, kind } => {
            put("key_id", key_id.to_string().into());
            put("kind", kind.as_str().into());
        }
        _ => {}
    }
}

/// `key: value` lines of a JSON object, for people (`null` shown as `-`).
pub fn fields_text(v: &Value, indent: &str) -> String {
    let Some(obj) = v.as_object() else { return String::new() };
    let width = obj.keys().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in obj {
        let shown = match v {
            Value::Null => "-".to_owned(),
            Value::String(s) => s.clone(),
            Value::Array(a) => {
                a.iter().map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned)).collect::<Vec<_>>().join(", ")
            }
            other => other.to_string(),
        };
        out.push_str(&format!("{indent}{k:width$}  {shown}\n"));
    }
    out
}
