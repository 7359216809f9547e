//! Writes `fixtures/keys/` and `fixtures/vectors/` (TEST-ONLY keys and test
//! vectors) from `fanlic_testkit::generate`, and removes files there that the
//! generator no longer makes. Deterministic: running it again changes nothing.

use std::{collections::BTreeSet, fs, path::Path, process::ExitCode};

fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) -> std::io::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type()?.is_dir() {
            files_under(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.insert(name);
        }
    }
    Ok(())
}

fn run() -> Result<(), Box<dyn core::error::Error>> {
    let root = fanlic_testkit::fixtures_dir();
    let files = fanlic_testkit::generate()?;
    let mut written = 0usize;
    let mut unchanged = 0usize;
    for (path, bytes) in &files {
        let full = root.join(path);
        if fs::read(&full).ok().as_deref() == Some(bytes.as_slice()) {
            unchanged += 1;
            continue;
        }
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&full, bytes)?;
        written += 1;
    }
    let mut on_disk = BTreeSet::new();
    files_under(&root.join("keys"), "keys/", &mut on_disk)?;
    files_under(&root.join("vectors"), "vectors/", &mut on_disk)?;
    let mut removed = 0usize;
    for stale in on_disk.iter().filter(|p| !files.contains_key(*p)) {
        fs::remove_file(root.join(stale))?;
        println!("removed stale {stale}");
        removed += 1;
    }
    println!(
        "gen-vectors: {} files under {}: {written} written, {unchanged} unchanged, {removed} removed",
        files.len(),
        root.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-vectors: {e}");
            ExitCode::FAILURE
        }
    }
}
