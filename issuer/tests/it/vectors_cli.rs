//! Every test vector (fixtures/vectors/manifest.json) through the `fanlic`
//! command line: `verify --json` must give the manifest's outcome, exit code
//! and causes in order, and `inspect` must decode exactly the files whose
//! encoding is sound. The library entry points are covered by
//! testkit/tests/it/vectors.rs; this is the same table through the binary.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_fanlic(args: &[&str]) -> (i32, Value, String) {
    let out = crate::common::fanlic_cmd()
        .args(args)
        // No home: root keys come from --root-key only.
        .env("FANLIC_HOME", "/nonexistent/fanlic-home")
        .output()
        .expect("run fanlic");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stdout + &String::from_utf8_lossy(&out.stderr))
}

fn manifest() -> Vec<Value> {
    let text = std::fs::read_to_string(repo().join("fixtures/vectors/manifest.json")).unwrap();
    let m: Value = serde_json::from_str(&text).unwrap();
    m["vectors"].as_array().unwrap().clone()
}

#[test]
fn every_vector_through_fanlic_verify() {
    let vectors = manifest();
    assert!(vectors.len() >= 40, "the manifest lost vectors: {}", vectors.len());
    for v in &vectors {
        let name = v["name"].as_str().unwrap();
        let file = repo().join("fixtures/vectors").join(v["file"].as_str().unwrap());
        let env = &v["env"];
        let nodes = env["nodes"].to_string();
        let mut args = vec![
            "verify".to_owned(),
            file.display().to_string(),
            "--json".to_owned(),
            "--app".to_owned(),
            env["app_name"].as_str().unwrap().to_owned(),
            "--version".to_owned(),
            env["version"].as_str().unwrap().to_owned(),
            "--project".to_owned(),
            env["project"].as_str().unwrap().to_owned(),
            "--nodes".to_owned(),
            nodes,
            "--method".to_owned(),
            env["method"].as_str().unwrap().to_owned(),
            "--now".to_owned(),
            env["now"].as_str().unwrap().to_owned(),
        ];
        if let Some(last_seen) = env["last_seen"].as_str() {
            args.extend(["--last-seen".to_owned(), last_seen.to_owned()]);
        }
        for root in v["roots"].as_array().unwrap() {
            let pem = repo().join("fixtures/keys").join(format!("{}.pub.pem", root.as_str().unwrap()));
            args.extend(["--root-key".to_owned(), pem.display().to_string()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, json, output) = run_fanlic(&argv);

        let expected = &v["expected"];
        let valid = expected["valid"].as_bool().unwrap();
        assert_eq!(code, if valid { 0 } else { 1 }, "{name}: exit code\n{output}");
        assert_eq!(json["valid"], Value::Bool(valid), "{name}\n{output}");
        let codes: Vec<&str> = json["causes"].as_array().unwrap().iter().map(|c| c["code"].as_str().unwrap()).collect();
        let want: Vec<&str> = expected["causes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
        assert_eq!(codes, want, "{name}: causes\n{output}");
        for cause in json["causes"].as_array().unwrap() {
            assert!(!cause["message"].as_str().unwrap_or("").is_empty(), "{name}: a cause without a message");
        }
        match expected["content_error"].as_str() {
            Some(reason) => {
                assert_eq!(json["license"], Value::Null, "{name}: license shown although signatures failed");
                assert_eq!(json["causes"][0]["reason"].as_str(), Some(reason), "{name}\n{output}");
            }
            None => {
                assert!(json["license"].is_object(), "{name}: no license although signatures held\n{output}");
                assert_eq!(json["license"]["license_id"].as_str().map(str::len), Some(32), "{name}");
            }
        }
    }
}

#[test]
fn inspect_decodes_what_is_well_formed_and_agrees_with_verify() {
    for v in manifest() {
        let name = v["name"].as_str().unwrap();
        let file = repo().join("fixtures/vectors").join(v["file"].as_str().unwrap());
        let (code, json, output) = run_fanlic(&["inspect", &file.display().to_string(), "--json"]);
        // Files whose armor or encoding is broken cannot be shown; everything
        // else can, whatever its signatures say (inspect does not check them).
        let undecodable =
            matches!(v["expected"]["content_error"].as_str(), Some("bad_armor" | "unknown_format" | "bad_encoding"));
        if undecodable {
            assert_ne!(code, 0, "{name}: inspect accepted an undecodable file\n{output}");
            continue;
        }
        assert_eq!(code, 0, "{name}\n{output}");
        assert_eq!(json["license"]["license_id"].as_str().map(str::len), Some(32), "{name}\n{output}");
        assert!(!output.contains("activation_key\":\""), "{name}: an activation key was printed");
    }
}
