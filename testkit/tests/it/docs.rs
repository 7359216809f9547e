//! SECURITY.md names, for its claims, the tests that show them: every claim
//! (a bullet, outside "Left to audit", which lists what is not claimed)
//! names one, every file it names exists, and every test it names is a test
//! that runs (not ignored). A renamed or deleted test otherwise leaves a
//! claim that nothing checks.

use std::{
    collections::BTreeMap,
    fs,
    path::{Path, PathBuf},
};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file of the workspace's crates (not build output).
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type().unwrap().is_dir() {
            if name != "target" && !name.to_string_lossy().starts_with('.') {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Test functions by name: whether each runs (has a test attribute and no
/// `#[ignore]` among the attributes above it); and all the sources' text,
/// to tell a cause code (a string the code writes) from a test name.
fn tests_by_name() -> (BTreeMap<String, bool>, String) {
    let mut files = Vec::new();
    rust_files(&workspace(), &mut files);
    let mut tests = BTreeMap::new();
    let mut all = String::new();
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        all.push_str(&text);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(rest) =
                line.trim_start().strip_prefix("fn ").or_else(|| line.trim_start().strip_prefix("async fn "))
            else {
                continue;
            };
            let Some(name) =
                rest.split('(').next().filter(|n| n.chars().all(|c| c == '_' || c.is_ascii_alphanumeric()))
            else {
                continue;
            };
            // The attributes directly above the function, each whole even
            // when rustfmt spreads it over lines (`#[cfg_attr(\n miri,\n …)]`).
            let mut attrs: Vec<String> = Vec::new();
            let mut above = lines[..i].iter().rev().map(|l| l.trim());
            while let Some(l) = above.next() {
                if l.starts_with("///") || (l.starts_with("#[") && l.ends_with(']')) {
                    attrs.push(l.to_owned());
                } else if l.ends_with(")]") {
                    let mut whole = vec![l];
                    for up in above.by_ref() {
                        whole.push(up);
                        if up.starts_with("#[") {
                            break;
                        }
                    }
                    whole.reverse();
                    attrs.push(whole.join(" "));
                } else {
                    break;
                }
            }
            let is_test = attrs.iter().any(|a| a.starts_with("#[test]") || a.starts_with("#[tokio::test"));
            if is_test {
                // Ignored only under Miri (which CI does not run) still runs.
                let ignored = attrs.iter().any(|a| a.starts_with("#[ignore"));
                tests.insert(name.to_owned(), !ignored);
            }
        }
    }
    (tests, all)
}

/// Whether `span` looks like a test's name (a snake_case phrase).
fn is_test_like(span: &str) -> bool {
    span.matches('_').count() >= 3 && span.chars().all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// The bullets of SECURITY.md (each with its continuation lines) and the
/// section each is in.
fn bullets(text: &str) -> Vec<(String, String)> {
    let (mut out, mut section): (Vec<(String, String)>, String) = (Vec::new(), String::new());
    let mut open = false;
    for line in text.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.to_owned();
            open = false;
        } else if let Some(item) = line.strip_prefix("- ") {
            out.push((section.clone(), item.to_owned()));
            open = true;
        } else if line.trim().is_empty() {
            open = false;
        } else if open && let Some((_, item)) = out.last_mut() {
            item.push(' ');
            item.push_str(line.trim());
        }
    }
    out
}

/// The words of SECURITY.md between backticks (a span may cross a line).
fn code_spans(text: &str) -> Vec<String> {
    text.split('`').skip(1).step_by(2).map(|s| s.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

#[test]
fn every_test_and_file_security_md_names_exists_and_runs() {
    let text = fs::read_to_string(workspace().join("SECURITY.md")).unwrap();
    let (tests, sources) = tests_by_name();
    assert!(tests.len() > 300, "found only {} tests: is the walk wrong?", tests.len());
    let (mut files, mut named, mut problems) = (0, 0, Vec::new());
    for span in code_spans(&text) {
        let is_path = span.ends_with(".rs") || span.ends_with(".sh");
        if is_path && span.contains('/') && !span.contains(' ') {
            files += 1;
            if !workspace().join(&span).is_file() {
                problems.push(format!("file {span} does not exist"));
            }
        } else if is_test_like(&span) {
            named += 1;
            match tests.get(&span) {
                Some(true) => {}
                Some(false) => problems.push(format!("test {span} is ignored")),
                // A cause or refusal code the code writes, not a test.
                None if sources.contains(&format!("\"{span}\"")) => named -= 1,
                None => problems.push(format!("{span} is neither a test nor a code the sources write")),
            }
        }
    }
    for (section, item) in bullets(&text) {
        let names_a_test = code_spans(&item).iter().any(|s| tests.get(s) == Some(&true));
        if section != "Left to audit" && !names_a_test {
            problems
                .push(format!("a claim in \"{section}\" names no test: {}", item.chars().take(90).collect::<String>()));
        }
    }
    assert!(problems.is_empty(), "SECURITY.md names what does not hold:\n{}", problems.join("\n"));
    // The claims name tests: a SECURITY.md that names none has lost them.
    assert!(named >= 40 && files >= 10, "SECURITY.md names only {named} tests and {files} files");
}

/// SECURITY.md: `unsafe` is written only at the C and Java boundaries. Every
/// other workspace crate inherits the workspace's lints, which forbid
/// `unsafe_code` (so not even an `allow` can bring it back), and no source
/// of theirs writes an unsafe block, function, impl or extern block.
#[test]
fn unsafe_code_is_forbidden_outside_the_c_and_java_boundaries() {
    let root = workspace();
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nunsafe_code = \"forbid\""), "the workspace lints must forbid unsafe_code");
    let members: Vec<String> = manifest
        .lines()
        .find_map(|l| l.strip_prefix("members = ["))
        .unwrap()
        .trim_end_matches(']')
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .collect();
    let boundary = ["verifier-ffi", "bindings/java/native"];
    assert!(boundary.iter().all(|b| members.iter().any(|m| m == b)), "members: {members:?}");
    for member in members.iter().filter(|m| !boundary.contains(&m.as_str())) {
        let toml = fs::read_to_string(root.join(member).join("Cargo.toml")).unwrap();
        assert!(toml.contains("[lints]\nworkspace = true"), "{member}/Cargo.toml must inherit the workspace lints");
        let mut files = Vec::new();
        rust_files(&root.join(member), &mut files);
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                // Spelled in parts, so that this file does not match itself.
                for word in [
                    concat!("unsafe", " {"),
                    concat!("unsafe", " fn"),
                    concat!("unsafe", " impl"),
                    concat!("unsafe", " extern"),
                ] {
                    assert!(!code.contains(word), "{}:{}: `{word}` outside the boundary crates", file.display(), n + 1);
                }
            }
        }
    }
}
