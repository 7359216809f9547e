//! `fixtures/activation/challenge-keys.json`: the challenge key (SPEC.md
//! §3.3) of every activation vector's key, of the verifier's unit-test key
//! and of the two receipt-policy licenses.

use fanlic_formats::receipt::CHALLENGE_KEY_LABEL;

use crate::{Error, Files, Result, hex, private_cloud::MASTER_VERSION};

use super::{
    ChallengeKeyCase, ChallengeKeys, challenge_key,
    policy::{CLOUD_LICENSE, LOCAL_LICENSE, policy_activation_key, policy_license_id},
};

/// The activation vectors' names and activation keys (fixtures/activation/vectors.json).
fn activation_cases() -> Result<Vec<(String, [u8; 32])>> {
    let text = std::fs::read_to_string(crate::fixtures_dir().join("activation").join("vectors.json"))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let cases = v.get("cases").and_then(|c| c.as_array()).ok_or_else(|| Error("vectors.json: no cases".into()))?;
    cases
        .iter()
        .map(|c| {
            let name = c
                .get("name")
                .and_then(|n| n.as_str())
                .ok_or_else(|| Error("vectors.json: a case without name".into()))?;
            let key = c
                .get("activation_key")
                .and_then(|n| n.as_str())
                .ok_or_else(|| Error(format!("vectors.json: {name} has no activation_key")))?;
            Ok((name.to_owned(), crate::private_cloud::unhex::<32>(key)?))
        })
        .collect()
}

pub(super) fn challenge_keys(files: &mut Files) -> Result<()> {
    let mut cases = Vec::new();
    for (name, key) in activation_cases()? {
        cases.push(ChallengeKeyCase {
            name,
            master_secret: None,
            master_version: None,
            license_id: None,
            license: None,
            activation_key: hex(&key),
            challenge_key: hex(&challenge_key(&key)),
        });
    }
    // The activation key of the verifier's unit tests (verifier/src/receipt.rs).
    let key = [0x42; 32];
    cases.push(ChallengeKeyCase {
        name: "activation-key-0x42".into(),
        master_secret: None,
        master_version: None,
        license_id: None,
        license: None,
        activation_key: hex(&key),
        challenge_key: hex(&challenge_key(&key)),
    });
    for name in [LOCAL_LICENSE, CLOUD_LICENSE] {
        let key = policy_activation_key(name)?;
        cases.push(ChallengeKeyCase {
            name: name.to_owned(),
            master_secret: Some(hex(&crate::private_cloud::master_secret())),
            master_version: Some(MASTER_VERSION),
            license_id: Some(hex(&policy_license_id(name).0)),
            license: Some(format!("{name}.lic")),
            activation_key: hex(&key),
            challenge_key: hex(&challenge_key(&key)),
        });
    }
    let doc = ChallengeKeys {
        spec: "formats/SPEC.md §3.3".into(),
        label: String::from_utf8_lossy(CHALLENGE_KEY_LABEL).into_owned(),
        cases,
    };
    let mut json = serde_json::to_string_pretty(&doc)?;
    json.push('\n');
    files.insert("activation/challenge-keys.json".into(), json.into_bytes());
    Ok(())
}
