//! `fanlic verify` prints what the C example of the verifier's C ABI prints:
//! each case of verifier-ffi/tests/expected/cases.txt is run through the real
//! binary with the same arguments, and its standard output and exit code must
//! be the golden ones that verifier-ffi/tests/it/c_example.rs holds
//! examples/product.c to (under Valgrind). So a product that embeds the C
//! library shows its users the vendor's own words, byte for byte.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn expected_dir() -> PathBuf {
    repo().join("verifier-ffi/tests/expected")
}

#[test]
fn fanlic_verify_prints_the_c_examples_golden_output() {
    let text = std::fs::read_to_string(expected_dir().join("cases.txt")).unwrap();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap();
        let exit: i32 = words.next().unwrap().parse().unwrap();
        let out = crate::common::fanlic_cmd()
            .arg("verify")
            .args(words)
            .current_dir(repo())
            // No home: the root keys are the --root-key files only.
            .env("FANLIC_HOME", "/nonexistent/fanlic-home")
            .output()
            .unwrap();
        let golden = std::fs::read(expected_dir().join(format!("{name}.txt"))).unwrap();
        if out.stdout != golden || out.status.code() != Some(exit) {
            failures.push(format!(
                "{name}: exit {:?} (expected {exit}), stdout:\n{}\nexpected:\n{}\nstderr:\n{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&golden),
                String::from_utf8_lossy(&out.stderr),
            ));
        }
        checked += 1;
    }
    assert!(checked >= 10, "cases.txt lost its cases: {checked}");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
