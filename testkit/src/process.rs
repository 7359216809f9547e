//! What the tests' own servers (PostgreSQL, Dovecot) share: temporary
//! folders, free ports, random names, running a tool with a clear failure,
//! and the watchdog that stops a server and removes its folder however
//! the test process ends.

#![allow(clippy::panic, reason = "a test harness: a failed step ends the test, with what failed and how")]

use core::net::Ipv4Addr;
use core::sync::atomic::{AtomicU32, Ordering};
use std::ffi::OsStr;
use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// `$TMPDIR/fanlic-NAME-PID-N-RANDOM`, new, with `mode` (set again after
/// creation: the umask may have taken bits away).
pub(crate) fn new_temp_dir(name: &str, mode: u32) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fanlic-{name}-{}-{n}-{}", std::process::id(), random_hex(4)));
    if let Err(e) = fs::DirBuilder::new().mode(mode).create(&dir) {
        panic!("creating {}: {e}", dir.display());
    }
    if let Err(e) = fs::set_permissions(&dir, fs::Permissions::from_mode(mode)) {
        panic!("chmod {mode:o} {}: {e}", dir.display());
    }
    dir
}

/// A port on 127.0.0.1 that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("binding 127.0.0.1:0 to pick a free port: {e}"))
}

/// `bytes` random bytes, as hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut buf).is_err() {
        panic!("the system random number generator failed");
    }
    crate::hex(&buf)
}

/// Runs `cmd`; its output when it succeeds, else what failed: the command,
/// its status, its stderr and stdout. A program that is not there is said
/// with `install`, what to install.
pub(crate) fn output_of(mut cmd: Command, what: &str, install: &str) -> Result<Output, String> {
    let out = match cmd.stdin(Stdio::null()).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!("{what}: {cmd:?} cannot run: {e} ({install})"));
        }
        Err(e) => return Err(format!("{what}: {cmd:?} cannot run: {e}")),
    };
    if out.status.success() {
        return Ok(out);
    }
    Err(format!(
        "{what}: {cmd:?} failed ({})\nstderr:\n{}\nstdout:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim_end(),
        String::from_utf8_lossy(&out.stdout).trim_end()
    ))
}

/// A shell that outlives the test process: when its stdin pipe closes
/// (the server is dropped, or the process exits however it exits) it runs
/// the rest of its script, which stops the server and removes its folder.
#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Child,
}

impl Watchdog {
    /// Starts `sh -c SCRIPT NAME DIR ARGS…` (`$1` is `dir`); `sh` is
    /// `shell` (a command with its environment set as the server needs).
    /// On failure `dir` is removed and the panic names `server`.
    pub(crate) fn spawn(
        mut shell: Command,
        script: &str,
        name: &str,
        dir: &Path,
        args: &[&OsStr],
        server: &str,
    ) -> Self {
        shell.args(["-c", script, name]).arg(dir).args(args);
        // Its own process group: a Ctrl-C to the tests must not kill it before
        // the server is stopped. Nothing of ours on stdout/stderr: it outlives
        // us, and a pipe it held open would keep `cargo test` waiting.
        shell.process_group(0).current_dir("/").stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null());
        match shell.spawn() {
            Ok(child) => Watchdog { child },
            Err(e) => {
                let _ = fs::remove_dir_all(dir);
                panic!("starting the {server}'s watchdog ({shell:?}): {e}")
            }
        }
    }

    /// Closes the pipe and waits until the server is stopped and removed.
    pub(crate) fn finish(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.finish();
    }
}
