//! Every vector of `fixtures/vectors/receipts/` through every entry point of
//! the verifier that checks a receipt (SPEC.md §6.4): `verify_receipt` of
//! the raw file and of the armored one, and `verify_raw_receipt`. The
//! answers that carry a receipt (§7.2 rule 6) are run with the other answer
//! vectors (private_cloud.rs). The parts for OpenSSL are the bytes the
//! decoder extracts as signed, and the challenge keys are the verifier's.

use std::collections::BTreeSet;

use fanlic_formats::activation::ServerInstance;
use fanlic_formats::{
    ActivationPolicy, MAX_LICENSE_FILE_LEN, armor,
    receipt::{MAX_RECEIPT_FILE_LEN, ReceiptEnvelope},
};
use fanlic_testkit::{
    ReceiptVector, hex, parse_rfc3339,
    private_cloud::unhex,
    read_public_key,
    receipts::{ChallengeKeys, openssl_receipts_dir, receipts_dir},
    vectors_dir,
};
use fanlic_verifier::{
    RootKey,
    activation::{Activation, ActivationKey, ChallengeInput, CodeError, make_challenge_after},
    authenticate,
    receipt::{Expect, challenge_key, verify_raw_receipt, verify_receipt},
};

fn sha256(data: &[u8]) -> [u8; 32] {
    ring::digest::digest(&ring::digest::SHA256, data).as_ref().try_into().unwrap()
}

/// What one entry point reported: the codes, or the accepted receipt's id,
/// vendor time, lease and delivered list's sequence.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Accepted { id: String, vendor_time: String, lease_until: Option<String>, list: Option<u64> },
    Refused(Vec<&'static str>),
}

fn check(name: &str, v: &ReceiptVector) -> Vec<String> {
    let roots: Vec<RootKey> =
        v.roots.iter().map(|n| RootKey::from_bytes(&read_public_key(n).unwrap()).unwrap()).collect();
    let license_file = v.read_license().unwrap();
    let mut raw_license = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::unarmor(&license_file, &mut raw_license).unwrap().to_vec();
    assert_eq!(hex(&sha256(&raw)), v.license_sha256, "{name}: license_sha256");
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = authenticate(&license_file, &mut buf, &roots).unwrap();
    assert_eq!(signed.license.activation_policy, ActivationPolicy::Receipt, "{name}");
    if let (Some(token), Some(sha)) = (&v.challenge_token, &v.challenge_sha256) {
        let token: Vec<u8> =
            (0..token.len()).step_by(2).map(|i| u8::from_str_radix(&token[i..i + 2], 16).unwrap()).collect();
        assert_eq!(hex(&sha256(&token)), *sha, "{name}: challenge_sha256 is the token's SHA-256");
        assert_eq!(token[0], 0x01, "{name}: token version");
        assert_eq!(&token[1..17], signed.license.id.0, "{name}: the token is the license's");
    }
    assert_eq!(v.challenge_token.is_some(), v.challenge_sha256.is_some(), "{name}");
    assert_eq!(v.challenge_token.is_some(), v.challenge.is_some(), "{name}");
    // The token is the challenge the acceptor made: its inputs MACed under
    // the license's challenge key (the license's activation_key field).
    let challenge = v.challenge.as_ref().map(|c| {
        let server = match (&c.instance_fingerprint, c.generation) {
            (Some(f), Some(generation)) => Some(ServerInstance { instance_fingerprint: unhex(f).unwrap(), generation }),
            (None, None) => None,
            _ => panic!("{name}: instance fingerprint and generation go together"),
        };
        let input = ChallengeInput {
            nonce: unhex(&c.nonce).unwrap(),
            node_id: unhex(&c.node_id).unwrap(),
            project_fingerprint: unhex(&c.project_fingerprint).unwrap(),
            nodes: c.nodes,
            app_version: &c.app_version,
            now: parse_rfc3339(&c.issued_at).unwrap(),
            server,
        };
        let key = ActivationKey::from_bytes(signed.license.activation_key.unwrap());
        let previous = c.previous_receipt.as_deref().map(|p| unhex(p).unwrap());
        let made = make_challenge_after(signed.license.id, &key, &input, previous).unwrap();
        assert_eq!(Some(hex(made.token())), v.challenge_token, "{name}: the token is the challenge's");
        made
    });
    match v.acceptor.as_str() {
        "product" => {
            assert!(v.instance_public_key.is_none() && !v.previous_receipt_checked && v.challenge_sha256.is_some())
        }
        "server" => {
            assert!(v.instance_public_key.is_some() && v.previous_receipt_checked && v.challenge_sha256.is_some())
        }
        "application" => {
            assert!(v.instance_public_key.is_some() && !v.previous_receipt_checked && v.challenge_sha256.is_none())
        }
        other => panic!("{name}: unknown acceptor {other}"),
    }
    let expect = Expect {
        license: &signed.license,
        license_sha256: sha256(&raw),
        issuing_key_id: signed.certificate.key_id,
        challenge_sha256: v.challenge_sha256.as_deref().map(|s| unhex(s).unwrap()),
        instance_public_key: v.instance_public_key.as_deref().map(|s| unhex(s).unwrap()),
        previous_receipt: v.previous_receipt_checked.then(|| v.previous_receipt.as_deref().map(|s| unhex(s).unwrap())),
        now: parse_rfc3339(&v.now).unwrap(),
    };

    let file = v.read_file().unwrap();
    let outcome = |r: Result<fanlic_verifier::Verified<fanlic_verifier::receipt::AcceptedReceipt<'_>>, _>| match r {
        Ok(a) => {
            assert_eq!(a.raw, file.as_slice(), "{name}: the accepted raw file");
            Outcome::Accepted {
                id: hex(&a.id),
                vendor_time: a.receipt.vendor_time.to_string(),
                lease_until: a.receipt.lease_until.map(|t| t.to_string()),
                list: a.revocations.as_ref().map(|l| l.sequence()),
            }
        }
        Err(e) => {
            let e: fanlic_verifier::receipt::ReceiptRejection = e;
            assert!(!e.to_string().is_empty());
            e.causes().for_each(|c| assert!(!c.to_string().is_empty()));
            Outcome::Refused(e.causes().map(|c| c.code()).collect())
        }
    };
    // Entry point 1: verify_receipt of the raw file (a reader also accepts it raw).
    let mut rbuf = vec![0u8; MAX_RECEIPT_FILE_LEN];
    let from_raw = outcome(verify_receipt(&file, &mut rbuf, &roots, &expect));
    // Entry point 2: verify_raw_receipt (what an answer's receipt goes through).
    let direct = outcome(verify_raw_receipt(&file, &roots, &expect));
    assert_eq!(from_raw, direct, "{name}: verify_receipt and verify_raw_receipt disagree");
    // Entry point 3: verify_receipt of the armored file.
    let mut entry_points = vec!["verify_receipt(raw)", "verify_raw_receipt"];
    if let Some(armored) = v.read_armored().unwrap() {
        let text = core::str::from_utf8(&armored).unwrap();
        assert!(text.contains(armor::RECEIPT_BEGIN) && text.contains(armor::RECEIPT_END), "{name}");
        let mut abuf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        assert_eq!(armor::decode_receipt(&armored, &mut abuf).unwrap(), file.as_slice(), "{name}: the armor's body");
        let mut abuf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        let via_armor = match verify_receipt(&armored, &mut abuf, &roots, &expect) {
            Ok(a) => Outcome::Accepted {
                id: hex(&a.id),
                vendor_time: a.receipt.vendor_time.to_string(),
                lease_until: a.receipt.lease_until.map(|t| t.to_string()),
                list: a.revocations.as_ref().map(|l| l.sequence()),
            },
            Err(e) => Outcome::Refused(e.causes().map(|c| c.code()).collect()),
        };
        assert_eq!(via_armor, direct, "{name}: armored and raw disagree");
        entry_points.push("verify_receipt(armored)");
    }

    // Entry point 4, a product: the challenge shown, a code refused, the
    // receipt accepted for it once.
    if v.acceptor == "product" {
        let challenge = challenge.as_ref().unwrap();
        let now = expect.now;
        let mut a = Activation::new();
        a.set_receipt_challenge(challenge);
        let code = format!("{:06}", challenge.code().value());
        assert_eq!(a.enter(&code, now), Err(CodeError::ReceiptRequired), "{name}: a code is never accepted");
        assert_eq!(a.pending_challenge_sha256(now), expect.challenge_sha256, "{name}: the challenge is pending");
        let mut rbuf = vec![0u8; MAX_RECEIPT_FILE_LEN];
        if let Ok(accepted) = verify_receipt(&file, &mut rbuf, &roots, &expect) {
            assert_eq!(a.accept_receipt(&accepted, now), Ok(now), "{name}");
            assert_eq!(a.accept_receipt(&accepted, now), Err(CodeError::NoChallenge), "{name}: once");
            assert_eq!(a.pending_challenge_sha256(now), None, "{name}");
        } else {
            assert_eq!(a.pending_challenge_sha256(now), expect.challenge_sha256, "{name}: still pending");
        }
        entry_points.push("Activation::accept_receipt");
    }

    let e = &v.expected;
    assert_eq!(e.accepted, e.causes.is_empty(), "{name}");
    match direct {
        Outcome::Accepted { id, vendor_time, lease_until, list } => {
            assert!(e.accepted, "{name}: accepted, expected {:?}", e.causes);
            assert_eq!(Some(id), e.receipt_id, "{name}: receipt id");
            assert_eq!(Some(vendor_time), e.vendor_time, "{name}");
            assert_eq!(lease_until, e.lease_until, "{name}");
            assert_eq!(list, e.delivered_list_sequence, "{name}: delivered list");
            // The id is the SHA-256 of the signed message, whatever the file.
            let env = ReceiptEnvelope::decode(&file).unwrap();
            assert_eq!(Some(hex(&sha256(env.receipt.message))), e.receipt_id, "{name}");
        }
        Outcome::Refused(codes) => {
            assert!(!e.accepted, "{name}: refused with {codes:?}");
            assert_eq!(codes, e.causes, "{name} (through {entry_points:?})");
        }
    }
    e.causes.clone()
}

#[test]
fn every_receipt_vector_gives_its_outcome_through_every_entry_point() {
    let vectors = ReceiptVector::load_all().unwrap();
    assert!(vectors.len() >= 20, "only {} vectors", vectors.len());
    let mut codes = BTreeSet::new();
    let mut accepted = BTreeSet::new();
    let mut armored = 0;
    for (name, v) in &vectors {
        codes.extend(check(name, v));
        if v.expected.accepted {
            accepted.insert(name.clone());
        }
        armored += usize::from(v.armored.is_some());
    }
    // Every cause of ReceiptCause::code has a vector.
    for code in [
        "receipt_malformed",
        "receipt_unknown_root_key",
        "receipt_bad_signature",
        "receipt_key_not_certified",
        "receipt_key_outside_window",
        "receipt_license_mismatch",
        "receipt_challenge_mismatch",
        "receipt_instance_mismatch",
        "receipt_previous_mismatch",
        "lease_expired",
        "revoked",
    ] {
        assert!(codes.contains(code), "no vector has cause {code}");
    }
    for good in [
        "valid-local-container",
        "valid-private-cloud-first",
        "valid-private-cloud",
        "valid-private-cloud-application",
        "delivered-list-other-sequence",
        "valid-with-delivered-list",
    ] {
        assert!(accepted.contains(good), "{good} is not an accepted vector");
    }
    assert!(armored >= 2, "too few armored vectors");
    // Every file in the directory is a vector's JSON or a file a vector checks.
    let used: BTreeSet<String> =
        vectors.iter().flat_map(|(_, v)| [Some(v.file.clone()), v.armored.clone()]).flatten().collect();
    for entry in std::fs::read_dir(receipts_dir()).unwrap() {
        let f = entry.unwrap().file_name().into_string().unwrap();
        assert!(f.ends_with(".json") || used.contains(&f), "{f} is in no vector");
    }
}

/// A server's receipts chain: its re-activation names the receipt it holds,
/// which is the id of its first receipt.
#[test]
fn the_servers_receipts_chain_by_id() {
    let all = ReceiptVector::load_all().unwrap();
    let get = |n: &str| all.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let first = get("valid-private-cloud-first");
    let next = get("valid-private-cloud");
    assert_eq!(first.previous_receipt, None);
    assert_eq!(next.previous_receipt, first.expected.receipt_id);
    let bytes = std::fs::read(receipts_dir().join(&next.file)).unwrap();
    let env = ReceiptEnvelope::decode(&bytes).unwrap();
    let r = fanlic_formats::receipt::Receipt::decode(env.receipt.message).unwrap();
    assert_eq!(r.previous_receipt.map(|p| hex(&p)), first.expected.receipt_id);
    // The server's challenge names it too, in its trailing previous_receipt.
    let token = next.challenge_token.unwrap();
    assert!(token.contains(first.expected.receipt_id.as_deref().unwrap()), "the token names the receipt held");
}

/// The parts in `fixtures/vectors/openssl-receipts/` (which
/// `scripts/openssl-receipt-vectors.sh` verifies with OpenSSL) are the bytes
/// the decoder extracts as signed, for exactly the accepted vectors' files.
#[test]
fn openssl_parts_are_the_signed_bytes_of_every_accepted_receipt() {
    let mut stems = BTreeSet::new();
    for (name, v) in ReceiptVector::load_all().unwrap() {
        if !v.expected.accepted {
            continue;
        }
        let stem = v.file.strip_suffix(".bin").unwrap().to_owned();
        let file = v.read_file().unwrap();
        let env = ReceiptEnvelope::decode(&file).unwrap();
        let cert = fanlic_formats::IssuingKeyCertificate::decode(env.certificate.message).unwrap();
        let read = |f: &str| std::fs::read(openssl_receipts_dir().join(format!("{stem}.{f}"))).unwrap();
        assert_eq!(read("cert.msg"), env.certificate.message, "{name}");
        assert_eq!(read("cert.sig"), env.certificate.signature, "{name}");
        assert_eq!(read("receipt.msg"), env.receipt.message, "{name}");
        assert_eq!(read("receipt.sig"), env.receipt.signature, "{name}");
        let pem = |f: &str| fanlic_testkit::keys::public_key_from_pem(&String::from_utf8(read(f)).unwrap()).unwrap();
        assert_eq!(pem("cert.pub.pem"), read_public_key("root-a").unwrap(), "{name}");
        assert_eq!(pem("receipt.pub.pem"), cert.public_key, "{name}");
        assert_eq!(cert.public_key, read_public_key("receipt-a").unwrap(), "{name}: signed by receipt-a");
        stems.insert(stem);
    }
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(openssl_receipts_dir()).unwrap() {
        let f = entry.unwrap().file_name().into_string().unwrap();
        on_disk.insert(f.split('.').next().unwrap().to_owned());
    }
    assert_eq!(on_disk, stems);
}

/// `fixtures/activation/challenge-keys.json` is what the verifier computes
/// (the generator computed it with ring), and each receipt-policy license
/// carries its challenge key, never its activation key.
#[test]
fn challenge_keys_are_the_verifiers_and_the_licenses_carry_them() {
    let path = fanlic_testkit::fixtures_dir().join("activation").join("challenge-keys.json");
    let doc: ChallengeKeys = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(doc.label, "fanlic/1/challenge-key\n");
    let activation: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fanlic_testkit::fixtures_dir().join("activation").join("vectors.json")).unwrap(),
    )
    .unwrap();
    let n = activation["cases"].as_array().unwrap().len();
    assert!(doc.cases.len() >= n + 2);
    let mut licenses = 0;
    for c in &doc.cases {
        let key: [u8; 32] = unhex(&c.activation_key).unwrap();
        assert_eq!(hex(&challenge_key(&key)), c.challenge_key, "{}", c.name);
        if let Some(license) = &c.license {
            let text = std::fs::read(vectors_dir().join(license)).unwrap();
            let roots = [RootKey::from_bytes(&read_public_key("root-a").unwrap()).unwrap()];
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            let signed = authenticate(&text, &mut buf, &roots).unwrap();
            assert_eq!(signed.license.activation_policy, ActivationPolicy::Receipt, "{license}");
            assert_eq!(signed.license.activation_key.map(|k| hex(&k)).as_ref(), Some(&c.challenge_key), "{license}");
            assert_eq!(Some(hex(&signed.license.id.0)), c.license_id, "{license}");
            licenses += 1;
        }
    }
    assert_eq!(licenses, 2);
}

/// SPEC.md §5: a list "treats a license the list names, or signed by a key
/// it names, as revoked", and §6.4: "a license the list revokes is not
/// activated". A receipt that delivers the list it names, which revokes the
/// issuing key that signed the license (issuing-a), is refused `revoked`
/// (regression: the receipt check once compared only the license's id).
#[test]
fn a_delivered_list_that_revokes_the_licenses_issuing_key_refuses_the_receipt() {
    use fanlic_formats::{
        SignedBody, Timestamp, encode_receipt_body, encode_receipt_file, encode_revocation_file,
        encode_revocation_list_body, receipt::Receipt,
    };
    use fanlic_testkit::{TestKey, receipts::certify};
    let (_, v) = ReceiptVector::load_all().unwrap().into_iter().find(|(n, _)| n == "valid-local-container").unwrap();
    let file = v.read_file().unwrap();
    let env = ReceiptEnvelope::decode(&file).unwrap();
    let root = TestKey::new("root-a").unwrap();
    let revoker = TestKey::new("issuing-a2").unwrap();
    let receipt_key = TestKey::new("receipt-a").unwrap();
    let issuing_a = TestKey::new("issuing-a").unwrap();
    // issuing-a2 certified for revocation lists, as the vectors' lists are.
    let window = (parse_rfc3339("2026-01-01T00:00:00Z").unwrap(), parse_rfc3339("2029-12-31T23:59:59Z").unwrap());
    let cert = certify(&root, &revoker, window, 0x4).unwrap();
    let body = encode_revocation_list_body(
        7,
        Timestamp(parse_rfc3339("2026-05-01T00:00:00Z").unwrap().0),
        &[],
        &[issuing_a.key_id()],
    )
    .unwrap();
    let list = encode_revocation_file(&cert.msg, &cert.sig, &body, &revoker.sign(&body)).unwrap();
    let mut w = Receipt::decode(env.receipt.message).unwrap().to_wire();
    w.revocation_sequence = 7;
    let msg = encode_receipt_body(&Receipt::from_wire(&w).unwrap()).unwrap();
    let receipt = encode_receipt_file(
        env.certificate,
        SignedBody { message: &msg, signature: receipt_key.sign(&msg) },
        Some(&list),
    )
    .unwrap();

    let roots = [RootKey::from_bytes(&read_public_key("root-a").unwrap()).unwrap()];
    let license_file = v.read_license().unwrap();
    let mut raw = [0u8; MAX_LICENSE_FILE_LEN];
    let raw = armor::unarmor(&license_file, &mut raw).unwrap().to_vec();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let signed = authenticate(&license_file, &mut buf, &roots).unwrap();
    let expect = Expect {
        license: &signed.license,
        license_sha256: sha256(&raw),
        issuing_key_id: signed.certificate.key_id,
        challenge_sha256: Some(unhex(v.challenge_sha256.as_deref().unwrap()).unwrap()),
        instance_public_key: None,
        previous_receipt: None,
        now: parse_rfc3339(&v.now).unwrap(),
    };
    let codes: Vec<&str> = match verify_raw_receipt(&receipt, &roots, &expect) {
        Ok(a) => {
            // The list is delivered, and the license's own check refuses it.
            assert_eq!(a.revocations.as_ref().map(|l| l.sequence()), Some(7));
            vec![]
        }
        Err(e) => e.causes().map(|c| c.code()).collect(),
    };
    assert_eq!(codes, ["revoked"]);
}
