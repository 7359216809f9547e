//! What the container end-to-end tests share: podman with its own storage,
//! the static authorization server's binary, the tools they need, and
//! OpenSSL's view of the TLS key a server presents.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Output},
    time::{SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

/// Where the static authorization server is built, under a target folder.
pub const SERVER: &str = "x86_64-unknown-linux-musl/release/fanruan-license-server";

/// The path of a tool this test needs, or a failure naming its package.
pub fn tool(name: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("{name} not found: this test needs it; run `apt-get install -y {package}`")
}

/// The static authorization server (in `CARGO_TARGET_DIR` if built there),
/// or a failure that says how to build it.
pub fn server_binary() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target").join(SERVER);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(|d| PathBuf::from(d).join(SERVER));
    let p = target.filter(|t| t.is_file()).unwrap_or(p);
    assert!(
        p.is_file(),
        "{} is missing: build the static authorization server first with \
         `cargo build --release -p fanlic-license-server --target x86_64-unknown-linux-musl` \
         (needs `rustup target add x86_64-unknown-linux-musl` and `apt-get install -y musl-tools`)",
        p.display()
    );
    p
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// Runs `cmd`; its output, or a failure with what it printed.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// podman with its own storage in `dir` (vfs), runc, and the machine's
/// containers.conf fix (the default nofile limit is above the hard limit).
pub struct Podman {
    pub bin: PathBuf,
    pub dir: PathBuf,
    /// Containers removed when dropped.
    pub containers: Vec<String>,
}

impl Podman {
    pub fn new(dir: &Path) -> Self {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("containers.conf"), "[containers]\ndefault_ulimits = []\n").unwrap();
        tool("runc", "runc");
        Self { bin: tool("podman", "podman runc"), dir: dir.to_owned(), containers: vec![] }
    }

    /// podman with this storage.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.env("CONTAINERS_CONF", self.dir.join("containers.conf"))
            .arg("--root")
            .arg(self.dir.join("root"))
            .arg("--runroot")
            .arg(self.dir.join("runroot"))
            .args(["--storage-driver", "vfs", "--runtime", "/usr/sbin/runc"]);
        c
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = self.cmd().args(["rm", "-f", "-t", "0", c]).output();
        }
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}

/// A running `fanlic serve`, killed when dropped.
pub struct Serve(pub Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `body` as JSON, or a failure showing it.
pub fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the SubjectPublicKeyInfo the server at `base` presents, as
/// OpenSSL's own handshake sees it.
pub fn handshake_spki_sha256(base: &str) -> [u8; 32] {
    let port = base.rsplit(':').next().unwrap();
    let openssl = tool("openssl", "openssl");
    let o = openssl.display();
    let pipeline = format!(
        "{o} s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | {o} x509 -pubkey -noout | \
         {o} pkey -pubin -outform DER | {o} dgst -sha256 -binary"
    );
    let out = run(Command::new("sh").args(["-c", &pipeline]));
    out.stdout.try_into().unwrap_or_else(|o: Vec<u8>| panic!("not a SHA-256 ({} bytes)", o.len()))
}
