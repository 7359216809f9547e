//! The valid license vectors: every form of the basic license and every
//! edge a valid license may sit on (SPEC.md §4.2), each with the environment
//! in which it verifies.

use fanlic_formats::{Timestamp, wire};

use crate::{Env, Result, rfc3339};

use super::{
    generator::{A, Base, Form, Gen, valid},
    sha256, ts,
};

/// Adds the valid vectors, the basic license's first.
pub(super) fn cases(g: &mut Gen, b: &Base<'_>) -> Result<()> {
    let Base { ia, ia2, ib, basic, .. } = b;
    let (basic_file, not_before, now) = (b.basic_file, b.not_before, g.t.now);

    // ================= valid =================
    g.vector(
        "valid-local-container",
        basic_file,
        "The basic license: FineReport 11.0, project webroot, company Example Test Co., 1 node, local-container, \
         expires 2030-12-31, issued 2026-01-01T00:00:00Z by issuing-a (certified by root-a).",
        A,
        g.env(),
        valid(),
    );

    let mut p = g.payload("valid-private-cloud");
    p.kind = wire::Kind::PrivateCloud;
    g.signed("valid-private-cloud.lic", ia, &p, Form::Armored(&[]))?;
    let env = Env { method: "private-cloud".into(), ..g.env() };
    g.vector(
        "valid-private-cloud",
        "valid-private-cloud.lic",
        "A private-cloud license, checked with the private-cloud method.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-perpetual");
    p.expiry = wire::Expiry::Never;
    g.signed("valid-perpetual.lic", ia, &p, Form::Armored(&[]))?;
    let env = Env { now: rfc3339(ts(2999, 12, 31, 23, 59, 59)?), ..g.env() };
    g.vector(
        "valid-perpetual",
        "valid-perpetual.lic",
        "A perpetual license (expiry never), checked at 2999-12-31T23:59:59Z: long after issuing-a's signing window \
         ended, which bounds when the key may sign, not how long its licenses last.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-max-nodes-5");
    p.max_nodes = 5;
    g.signed("valid-max-nodes-5.lic", ia, &p, Form::Armored(&[]))?;
    let env = Env { nodes: 5, ..g.env() };
    g.vector(
        "valid-max-nodes-5",
        "valid-max-nodes-5.lic",
        "max_nodes 5, with exactly 5 nodes in the cluster.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("valid-all-optional-fields");
    p.activation_key = Some(sha256(b"fanlic/TEST-ONLY/activation-key"));
    p.activation_base_url = Some("https://activation.example.test/fanlic/v1");
    p.image_public_key = Some(sha256(b"fanlic/TEST-ONLY/image-public-key"));
    p.supersedes = Some(basic.license_id);
    p.request_email_sha256 = Some(sha256(b"From: admin@example.test\r\nSubject: License request\r\n\r\nTEST-ONLY\r\n"));
    g.signed("valid-all-optional-fields.lic", ia, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-all-optional-fields",
        "valid-all-optional-fields.lic",
        "Every optional field filled: activation key, activation base URL, image public key, supersedes (the basic \
         license's id) and request email SHA-256.",
        A,
        g.env(),
        valid(),
    );

    let comments: &[&str] = &[
        "# fanlic license (unsigned comment lines: verifiers ignore them)",
        "# Company: Evil Corp    <- comments are not signed; the signed company is Example Test Co.",
        "# Expires: never",
        "# 测试许可证 TEST-ONLY (UTF-8 comment)",
        "",
        "-----END FANLIC LICENSE-----",
    ];
    let p = g.payload("valid-with-comments");
    g.signed("valid-with-comments.lic", ia, &p, Form::Armored(comments))?;
    g.vector(
        "valid-with-comments",
        "valid-with-comments.lic",
        "Unsigned comment lines before BEGIN (a misleading company, UTF-8, an empty line, even an END line): ignored.",
        A,
        g.env(),
        valid(),
    );

    let p = g.payload("valid-crlf");
    g.signed("valid-crlf.lic", ia, &p, Form::ArmoredCrlf(&["# CRLF line endings, as after a trip through mail"]))?;
    g.vector(
        "valid-crlf",
        "valid-crlf.lic",
        "Armored with CRLF line endings (and a comment line).",
        A,
        g.env(),
        valid(),
    );

    let p = g.payload("valid-raw");
    g.signed("valid-raw.bin", ia, &p, Form::Raw)?;
    g.vector(
        "valid-raw",
        "valid-raw.bin",
        "The raw binary license file (starts with the magic), not armored.",
        A,
        g.env(),
        valid(),
    );

    let env = Env { version: "11.0.20".into(), ..g.env() };
    g.vector(
        "valid-local-version-patch",
        basic_file,
        "Local version 11.0.20 against licensed 11.0: major.minor match.",
        A,
        env,
        valid(),
    );

    // SPEC.md §4.2, the version rule's edges: major and minor compare as
    // numbers (leading zeros), the minor is the longest run of ASCII digits
    // after the first dot, and only ASCII digits are digits.
    for (name, local, description) in [
        (
            "valid-local-version-leading-zeros",
            "11.00.1",
            "Local version 11.00.1 against licensed 11.0: numbers compare by value, so 00 is 0.",
        ),
        (
            "valid-local-version-suffix",
            "11.0x",
            "Local version 11.0x against licensed 11.0: the minor is the digits after the first dot, up to the first non-digit.",
        ),
    ] {
        let env = Env { version: local.into(), ..g.env() };
        g.vector(name, basic_file, description, A, env, valid());
    }

    let p = g.payload("valid-rotated-issuing-key");
    g.signed("valid-rotated-issuing-key.lic", ia2, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-rotated-issuing-key",
        "valid-rotated-issuing-key.lic",
        "Signed by a second issuing key, issuing-a2, also certified by root-a (key rotation). Its certificate also \
         sets reserved purpose bit 31, which must be ignored.",
        A,
        g.env(),
        valid(),
    );

    let env = Env { now: rfc3339(ts(2030, 12, 31, 23, 59, 59)?), ..g.env() };
    g.vector(
        "valid-last-second-before-expiry",
        basic_file,
        "Checked at 2030-12-31T23:59:59Z, the last second of the expiry date.",
        A,
        env,
        valid(),
    );

    let mut p = g.payload("not-before-2027");
    p.not_before = not_before.0;
    g.signed("not-before-2027.lic", ia, &p, Form::Armored(&[]))?;
    let env = Env { now: rfc3339(Timestamp(not_before.0 - 300)), ..g.env() };
    g.vector(
        "valid-not-before-within-tolerance",
        "not-before-2027.lic",
        "not_before 2027-01-01T00:00:00Z checked 300 s before it: within the clock tolerance.",
        A,
        env,
        valid(),
    );

    let env = Env { last_seen: Some(rfc3339(Timestamp(now.0 + 300))), ..g.env() };
    g.vector(
        "valid-clock-within-tolerance",
        basic_file,
        "The last-seen time is 300 s after now: within the clock tolerance.",
        A,
        env,
        valid(),
    );

    let p = g.payload("root-b");
    g.signed("root-b.lic", ib, &p, Form::Armored(&[]))?;
    g.vector(
        "valid-root-b-trusted",
        "root-b.lic",
        "Certified by root-b, checked by a product that trusts root-a and root-b.",
        &["root-a", "root-b"],
        g.env(),
        valid(),
    );
    Ok(())
}
