//! `fanlic inspect`: what a license file says, decoded without any key. No
//! signature is checked, so nothing shown here is trusted.

use fanlic_formats::{Envelope, IssuingKeyCertificate, LICENSE_FILE_MAGIC, License, MAX_LICENSE_FILE_LEN, armor};
use serde_json::{Value, json};

use crate::license::report;
use crate::util::hex;

/// What `inspect` found.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspection {
    /// `armored` (Container.lic text) or `raw` (the binary file).
    pub format: &'static str,
    /// Comment lines before BEGIN (unsigned), empty lines left out.
    pub comments: Vec<String>,
    /// The license, as [`report::license_json`], when it decodes.
    pub license: Option<Value>,
    /// Why the license did not decode.
    pub license_error: Option<String>,
    /// The certificate, when it decodes.
    pub certificate: Option<Value>,
    /// Why the certificate did not decode.
    pub certificate_error: Option<String>,
    /// Why the file itself (armor, envelope) did not decode.
    pub file_error: Option<String>,
    /// The two signatures, hex (not checked).
    pub signatures: Option<(String, String)>,
}

/// The warning every inspection carries.
pub const NOT_CHECKED: &str =
    "Signatures are NOT checked by inspect: anyone can edit what is shown here. Use `fanlic verify` to check them.";

impl Inspection {
    /// Whether the license and its certificate both decoded.
    pub fn decoded(&self) -> bool {
        self.license.is_some() && self.certificate.is_some()
    }

    /// As JSON: the license under `license` (the same shape as `verify`'s),
    /// the certificate, comments, and `signatures_checked: false`.
    pub fn to_json(&self) -> Value {
        json!({
            "signatures_checked": false,
            "note": NOT_CHECKED,
            "format": self.format,
            "comments": self.comments,
            "license": self.license,
            "certificate": self.certificate,
            "license_signature": self.signatures.as_ref().map(|s| s.1.clone()),
            "certificate_signature": self.signatures.as_ref().map(|s| s.0.clone()),
            "errors": {
                "file": self.file_error,
                "license": self.license_error,
                "certificate": self.certificate_error,
            },
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mut out = format!("{NOT_CHECKED}\n\nformat: {}\n", self.format);
        for c in &self.comments {
            out.push_str(&format!("untrusted comment: {c}\n"));
        }
        if let Some(e) = &self.file_error {
            out.push_str(&format!("\nthe file does not decode: {e}\n"));
            return out;
        }
        out.push_str("\nlicense (signed by the issuing key; signature not checked here):\n");
        match (&self.license, &self.license_error) {
            (Some(l), _) => out.push_str(&report::fields_text(l, "  ")),
            (None, Some(e)) => out.push_str(&format!("  does not decode: {e}\n")),
            (None, None) => {}
        }
        out.push_str("\nissuing-key certificate (signed by the root key; signature not checked here):\n");
        match (&self.certificate, &self.certificate_error) {
            (Some(c), _) => out.push_str(&report::fields_text(c, "  ")),
            (None, Some(e)) => out.push_str(&format!("  does not decode: {e}\n")),
            (None, None) => {}
        }
        out
    }

    /// 0 when everything decoded, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(!self.decoded())
    }
}

/// Decodes a license file (armored or raw) without checking signatures.
pub fn inspect(input: &[u8]) -> Inspection {
    let raw_input = input.starts_with(LICENSE_FILE_MAGIC);
    let mut out = Inspection {
        format: if raw_input { "raw" } else { "armored" },
        comments: Vec::new(),
        license: None,
        license_error: None,
        certificate: None,
        certificate_error: None,
        file_error: None,
        signatures: None,
    };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = match armor::unarmor(input, &mut buf) {
        Ok(r) => r,
        Err(e) => {
            out.file_error = Some(e.to_string());
            return out;
        }
    };
    if !raw_input {
        out.comments =
            armor::comments(input).filter(|l| !l.is_empty()).map(|l| String::from_utf8_lossy(l).into_owned()).collect();
    }
    let envelope = match Envelope::decode(raw) {
        Ok(e) => e,
        Err(e) => {
            out.file_error = Some(e.to_string());
            return out;
        }
    };
    out.signatures = Some((hex::encode(&envelope.certificate.signature), hex::encode(&envelope.license.signature)));
    let cert = IssuingKeyCertificate::decode(envelope.certificate.message);
    match &cert {
        Ok(c) => out.certificate = Some(report::certificate_json(c)),
        Err(e) => out.certificate_error = Some(e.to_string()),
    }
    match License::decode(envelope.license.message) {
        Ok(l) => out.license = Some(report::license_json(&l, cert.as_ref().ok())),
        Err(e) => out.license_error = Some(e.to_string()),
    }
    out
}
