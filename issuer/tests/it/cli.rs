//! Golden tests of the `fanlic` command line (trycmd): one folder per
//! command, `tests/cmd/<command>/*.toml` and `*.trycmd`; `tests/cmd/fanlic/`
//! holds the cases of `fanlic` itself (no command, an unknown one, `--help`).
//!
//! The fixtures in `tests/cmd/fixtures/` are a license issued once by
//! `fanlic issue` and the root public keys; see its README.md. Checks run with
//! a fixed `--now`, so the output never depends on the day.
//! Update the expected output with `TRYCMD=overwrite cargo test -p fanlic-issuer --test it cli`.
//!
//! Standard output that is closed or full cannot be set up in trycmd: those
//! cases run the binary here.

#[test]
fn cli() {
    trycmd::TestCases::new()
        .register_bin("fanlic", std::path::Path::new(crate::common::BIN))
        .env("COLUMNS", "100")
        .case("tests/cmd/*/*.toml")
        .case("tests/cmd/*/*.trycmd");
}

use std::path::Path;
use std::process::{Output, Stdio};

/// `fanlic ARGS` with its standard output on `stdout`, `FANLIC_HOME` unset.
fn fanlic_into(args: &[&str], cwd: &Path, stdout: impl Into<Stdio>) -> Output {
    crate::common::fanlic_cmd()
        .args(args)
        .current_dir(cwd)
        .env_remove("FANLIC_HOME")
        .env("COLUMNS", "100")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("cannot run fanlic")
}

/// A home whose audit trail has an entry (one license issued), in `dir`.
fn home_with_a_license(dir: &Path) {
    for args in [
        &["--home", "home", "init"][..],
        &[
            "--home",
            "home",
            "issue",
            "--company",
            "Acme Ltd",
            "--project",
            "webroot",
            "--app",
            "FineReport",
            "--version",
            "11.0",
            "--expires",
            "never",
            "--signed",
            "2026/11/20",
            "-o",
            "Container.lic",
            "--by",
            "alice",
        ],
    ] {
        let out = fanlic_into(args, dir, Stdio::null());
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A pipe whose reader is already gone: every write to it fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer
}

/// `fanlic audit | head -1`: a reader that stops reading is not an error.
/// The command exits with the status it has without the pipe (0, or 1 for
/// a license that does not verify), with nothing on standard error.
#[test]
fn closed_pipe_is_not_an_error() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    home_with_a_license(tmp.path());
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd/fixtures");
    let verify_wrong_project = [
        "verify",
        "Container.lic",
        "--root-key",
        "root.pub.pem",
        "--app",
        "FineReport",
        "--version",
        "11.0",
        "--project",
        "other",
        "--now",
        "2027-01-01T00:00:00Z",
    ];
    let cases: [(&[&str], &Path, i32); 7] = [
        (&["--home", "home", "audit"], tmp.path(), 0),
        (&["--home", "home", "audit", "--json"], tmp.path(), 0),
        (&["--home", "home", "keys", "list"], tmp.path(), 0),
        (&["inspect", "Container.lic", "--json"], &fixtures, 0),
        (&verify_wrong_project, &fixtures, 1),
        (&["--help"], tmp.path(), 0),
        (&["demo"], tmp.path(), 0),
    ];
    for (args, cwd, code) in cases {
        let out = fanlic_into(args, cwd, closed_pipe());
        assert_eq!(out.status.code(), Some(code), "fanlic {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "fanlic {args:?}");
    }
}

/// `fanlic keys list >/dev/full`: an output that cannot be written is an
/// error that says why, with exit status 2.
#[test]
fn full_output_says_why() {
    let tmp = tempfile::tempdir().expect("temporary folder");
    home_with_a_license(tmp.path());
    for args in [&["--home", "home", "keys", "list"][..], &["--home", "home", "audit", "--json"], &["--help"]] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
        let out = fanlic_into(args, tmp.path(), full);
        assert_eq!(out.status.code(), Some(2), "fanlic {args:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "error: cannot write the output: No space left on device (os error 28)\n",
            "fanlic {args:?}"
        );
    }
}

/// `fanlic serve | head -1`: once nobody reads the address it printed, the
/// service still serves (it exited 2 before, on the failed write).
#[test]
fn serve_outlives_a_closed_standard_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    home_with_a_license(dir.path());
    let mut child = crate::common::fanlic_cmd()
        .args(["--home", "home", "serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("FANLIC_HOME")
        .stdin(Stdio::null())
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot run fanlic serve");
    // Listening and printing the address take well under a second.
    std::thread::sleep(core::time::Duration::from_secs(2));
    let running = child.try_wait().expect("try_wait").is_none();
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    assert!(running, "fanlic serve stopped: {:?} {}", out.status, String::from_utf8_lossy(&out.stderr));
}
