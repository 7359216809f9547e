//! `vectors/manifest.json` and `vectors/openssl/`: the manifest of every
//! license vector, and the signed parts of every valid one for OpenSSL.

use crate::{Error, Manifest, Result, keys};

use super::{REGENERATE, generator::Gen};

/// Writes the OpenSSL parts of every valid vector, then the manifest.
pub(super) fn write(g: &mut Gen) -> Result<()> {
    // ================= OpenSSL parts of every valid vector =================
    let valid: Vec<(String, String)> =
        g.vectors.iter().filter(|v| v.expected.valid).map(|v| (v.name.clone(), v.file.clone())).collect();
    for (name, file) in valid {
        let p = g.parts.get(&file).ok_or_else(|| Error(format!("no signed parts for {file}")))?;
        let out = [
            (format!("{name}.cert.msg"), p.cert_msg.clone()),
            (format!("{name}.cert.sig"), p.cert_sig.to_vec()),
            (format!("{name}.cert.pub.pem"), keys::public_key_pem(&p.root_public).into_bytes()),
            (format!("{name}.license.msg"), p.license_msg.clone()),
            (format!("{name}.license.sig"), p.license_sig.to_vec()),
            (format!("{name}.license.pub.pem"), keys::public_key_pem(&p.issuing_public).into_bytes()),
        ];
        for (f, bytes) in out {
            g.put(format!("vectors/openssl/{f}"), bytes)?;
        }
    }

    // ================= manifest =================
    let manifest = Manifest {
        comment: "TEST-ONLY fanlic test vectors (SPEC.md §8). Every key is published in fixtures/keys: trust nothing \
                  signed by one. Generated; do not edit by hand."
            .into(),
        regenerate: REGENERATE.into(),
        vectors: core::mem::take(&mut g.vectors),
    };
    let mut json = serde_json::to_string_pretty(&manifest)?;
    json.push('\n');
    g.put("vectors/manifest.json".into(), json.into_bytes())?;
    Ok(())
}
