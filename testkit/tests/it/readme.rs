//! The README's "Embedding the verifier" examples are files that CI
//! compiles (a Rust example, a C file the C ABI's tests compile with `cc`, a
//! Java file the Java binding's build compiles): each code block marked
//! `<!-- file: PATH -->` in the README must be that file, byte for byte, so
//! the README never shows code that no longer builds.

use std::{fs, path::PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// (path, the fenced block that follows its marker).
fn marked_blocks(readme: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line.trim().strip_prefix("<!-- file: ").and_then(|r| r.strip_suffix(" -->")) else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```"), "README: the marker for {path} must be followed by a ``` block");
        let mut body = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        out.push((path.to_owned(), body));
    }
    out
}

#[test]
fn the_readme_embedding_examples_are_the_files_ci_compiles() {
    let readme = fs::read_to_string(workspace().join("README.md")).unwrap();
    let blocks = marked_blocks(&readme);
    let paths: Vec<&str> = blocks.iter().map(|(p, _)| p.as_str()).collect();
    for wanted in
        ["verifier/examples/minimal.rs", "verifier-ffi/examples/minimal.c", "bindings/java/examples/Minimal.java"]
    {
        assert!(paths.contains(&wanted), "README shows no `<!-- file: {wanted} -->` block (has {paths:?})");
    }
    for (path, body) in blocks {
        let file = fs::read_to_string(workspace().join(&path)).unwrap_or_else(|e| panic!("README names {path}: {e}"));
        assert_eq!(body, file, "README's block for {path} differs from the file: copy the file into the README");
    }
}

#[test]
fn a_block_is_read_up_to_its_closing_fence() {
    let md = "text\n<!-- file: a.c -->\n```c\nint x;\n\nint y;\n```\nafter\n";
    assert_eq!(marked_blocks(md), vec![("a.c".to_owned(), "int x;\n\nint y;\n".to_owned())]);
}
