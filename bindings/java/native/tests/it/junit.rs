//! The Java binding on a real JVM: `bindings/java/build.sh --native LIB
//! --test` packs the library cargo built for this test run into the jar,
//! compiles the Java sources, tests and examples with `javac --release 17`,
//! and runs the JUnit 5 tests with the console launcher; this test asserts
//! its summary. No cargo here (the build lock is held by `cargo test`).

use std::{path::PathBuf, process::Command};

use fanlic_formats::MAX_LICENSE_FILE_LEN;
use fanlic_testkit::read_public_key;
use fanlic_verifier::{Lang, RootKey, verify, verify_revocations, verify_with_revocations};
use serde_json::{Value, json};

/// What the Debian packages provide, and which package provides it.
const TOOLS: [(&str, &str); 3] =
    [("javac", "openjdk-17-jdk-headless"), ("jar", "openjdk-17-jdk-headless"), ("java", "openjdk-17-jdk-headless")];
/// Test classes that must appear in the run (the java-activation tests add theirs).
const CLASSES: &[&str] = &[
    "NativeLibraryTest",
    "VerifierTest",
    "RevocationTest",
    "ActivationTest",
    "ReceiptTest",
    "ApplicationClientTest",
    "TlsBindingTest",
    "PrivateConfigTest",
];
const JUNIT: &str = "/usr/share/java/junit-platform-console-standalone.jar";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..").canonicalize().unwrap()
}

/// The number in the launcher's summary line `[   6 tests found   ]`.
fn count(summary: &str, what: &str) -> Option<u64> {
    summary.lines().find_map(|l| {
        let inner = l.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
        let (n, rest) = inner.split_once(' ')?;
        (rest.trim() == what).then(|| n.parse().ok())?
    })
}

/// The texts the verifier crate gives for every vector of the manifest, by
/// name then language tag: `[[title, prompt, advice], ...]` per cause, in
/// order. VerifierTest compares Java's with them.
fn rust_texts() -> Value {
    let manifest = fanlic_testkit::Manifest::load().unwrap();
    let mut all = serde_json::Map::new();
    for v in &manifest.vectors {
        let file = v.read_file().unwrap();
        let roots = v.root_keys().unwrap();
        let env = v.env.to_environment().unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let mut by_lang = serde_json::Map::new();
        let result = verify(&file, &mut buf, &roots, &env);
        for lang in Lang::ALL {
            let texts: Vec<Value> = match &result {
                Ok(_) => Vec::new(),
                Err(r) => r
                    .causes()
                    .map(|c| json!([c.title(lang), c.prompt(lang).to_string(), c.advice(lang).to_string()]))
                    .collect(),
            };
            by_lang.insert(lang.tag().to_owned(), Value::Array(texts));
        }
        all.insert(v.name.clone(), Value::Object(by_lang));
    }
    // Cause `revoked`: the list revokes the basic license and the issuing
    // key of root-b.lic; both roots trusted (RevocationTest's case).
    let both = [read_public_key("root-a").unwrap(), read_public_key("root-b").unwrap()]
        .map(|k| RootKey::from_bytes(&k).unwrap());
    let list_file = std::fs::read(fanlic_testkit::vectors_dir().join("revocations/valid.bin")).unwrap();
    let list = verify_revocations(&list_file, &both, None).unwrap();
    let env =
        manifest.vectors.iter().find(|v| v.name == "valid-local-container").unwrap().env.to_environment().unwrap();
    for file in ["valid-local-container.lic", "root-b.lic"] {
        let input = std::fs::read(fanlic_testkit::vectors_dir().join(file)).unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let rejection = verify_with_revocations(&input, &mut buf, &both, &env, Some(&list)).unwrap_err();
        let mut by_lang = serde_json::Map::new();
        for lang in Lang::ALL {
            let texts = rejection
                .causes()
                .map(|c| json!([c.title(lang), c.prompt(lang).to_string(), c.advice(lang).to_string()]))
                .collect();
            by_lang.insert(lang.tag().to_owned(), Value::Array(texts));
        }
        all.insert(format!("revoked:{file}"), Value::Object(by_lang));
    }
    Value::Object(all)
}

#[test]
fn the_jar_builds_and_its_junit_tests_pass_on_a_real_jvm() {
    for (tool, package) in TOOLS {
        let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().unwrap().status.success();
        assert!(found, "{tool} not found: install the Debian package {package} (apt-get install {package})");
    }
    assert!(std::path::Path::new(JUNIT).exists(), "{JUNIT} not found: install the Debian package junit5");

    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let lib = deps.join("libfanlic_verifier_jni.so");
    assert!(lib.exists(), "cargo test should have built the cdylib at {}", lib.display());
    let out = deps.parent().unwrap().join("fanlic-java");
    std::fs::create_dir_all(&out).unwrap();
    let texts = out.join("expected-texts.json");
    std::fs::write(&texts, serde_json::to_vec_pretty(&rust_texts()).unwrap()).unwrap();
    let run = Command::new("bash")
        .arg(repo().join("bindings/java/build.sh"))
        .arg("--native")
        .arg(&lib)
        .arg("--out")
        .arg(&out)
        .arg("--test")
        .arg("--java-opt")
        .arg(format!("-Dfanlic.expected.texts={}", texts.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "build.sh --test failed ({}):\n{stdout}\n{stderr}", run.status);
    let found = count(&stdout, "tests found").unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let failed = count(&stdout, "tests failed").unwrap_or_else(|| panic!("no summary in:\n{stdout}"));
    let successful = count(&stdout, "tests successful").unwrap();
    assert!(found > 0, "no JUnit test found:\n{stdout}");
    assert_eq!((failed, successful), (0, found), "JUnit failures:\n{stdout}\n{stderr}");
    assert_eq!(count(&stdout, "tests skipped"), Some(0), "{stdout}");
    // Every test class ran (a class that fails to load would be missing, not failed).
    for class in CLASSES {
        assert!(stdout.contains(class), "{class} did not run:\n{stdout}");
    }
    assert!(out.join("fanlic-verifier.jar").exists());
}

#[test]
fn the_summary_reader_reads_the_launchers_lines() {
    let summary = "[         6 tests found           ]\n[         0 tests failed          ]\n";
    assert_eq!(count(summary, "tests found"), Some(6));
    assert_eq!(count(summary, "tests failed"), Some(0));
    assert_eq!(count(summary, "tests skipped"), None);
}
