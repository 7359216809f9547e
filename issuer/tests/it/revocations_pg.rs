//! Revocation lists with several processes on one real PostgreSQL: signed
//! only where the issuing key is (`fanlic revocations export`), one list
//! per sequence number whatever runs at once, and served by every `fanlic
//! serve` instance, including one on a host that holds only what serving
//! needs.

use std::{
    collections::BTreeSet,
    fs,
    io::{BufRead as _, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
};

use fanlic_issuer::home::load_root_public_key;
use fanlic_verifier::RootKey;
use serde_json::Value;

use crate::common::{AUTHSERV, BIN, Env, fanlic, issue_license, new_database, ok};

/// How many exports run at once.
const AT_ONCE: usize = 4;

/// `fanlic ARGS` against `home` and `database`, started (not waited for).
fn spawn(home: &Path, database: &str, dir: &Path, args: &[&str]) -> Child {
    Command::new(BIN)
        .args(args)
        .env("FANLIC_HOME", home)
        .env("FANLIC_DATABASE_URL", database)
        .env("USER", "tester")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The root key of the home, as products embed it.
fn root(env: &Env) -> RootKey {
    let pem: Vec<PathBuf> = fs::read_dir(env.home.join("public"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".pub.pem"))
        .collect();
    assert_eq!(pem.len(), 1, "{pem:?}");
    load_root_public_key(&pem[0]).unwrap()
}

/// A `fanlic serve` on 127.0.0.1, killed when dropped.
struct Serve {
    child: Child,
    addr: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// `fanlic serve --database URL` for `home`, with its log in `log`.
    fn start(home: &Path, database: &str, log: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database])
            .env("FANLIC_HOME", home)
            .env_remove("FANLIC_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        let addr = first
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("first line {first:?}; log: {}", fs::read_to_string(log).unwrap()))
            .trim()
            .to_owned();
        Self { child, addr }
    }

    /// `GET /revocations.bin`: status, `X-Fanlic-Sequence`, body.
    fn list(&self, into: &Path) -> (u16, Option<String>, Vec<u8>) {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "20", "-D", "-", "-o"])
            .arg(into)
            .arg(format!("http://{}/revocations.bin", self.addr))
            .output()
            .expect("curl is installed");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let head = String::from_utf8(out.stdout).unwrap();
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let sequence = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("x-fanlic-sequence:").map(|v| v.trim().to_owned()));
        (status, sequence, fs::read(into).unwrap_or_default())
    }
}

/// `AT_ONCE` exports started together on one PostgreSQL database each get
/// their own sequence number, the numbers follow on from the last without
/// a gap, every list verifies with the root key and names what is revoked;
/// a `fanlic serve` on a second home holding only `activation/` and
/// `receipt-keys/` serves the newest list byte for byte, cannot sign one,
/// and follows a newer export at once.
#[test]
fn concurrent_exports_take_distinct_sequences_and_every_instance_serves_the_newest() {
    let database = new_database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let env = Env { home: dir.join("issuing-host"), dir: dir.clone(), _tmp: tmp, database: Some(database.clone()) };
    ok(&env, &["init", "--authserv-id", AUTHSERV]);
    crate::common::add_contract(&env, "Customer Trading Co., Ltd.", "Alice@Customer.example", "2026/11/20", "3");
    let revoked: BTreeSet<String> = (0..3)
        .map(|i| {
            let id = issue_license(&env, "Customer Trading Co., Ltd.", &format!("project-{i}"));
            ok(&env, &["revoke", &id, "--reason", "contract ended", "--no-mail"]);
            id
        })
        .collect();
    // One list before, so that the exports at once follow on from it.
    ok(&env, &["revocations", "export", "-o", "first.bin"]);

    let children: Vec<Child> = (0..AT_ONCE)
        .map(|i| {
            let out = format!("list-{i}.bin");
            spawn(&env.home, &database, &dir, &["revocations", "export", "-o", &out, "--json"])
        })
        .collect();
    let exported: Vec<Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "an export failed: {}", String::from_utf8_lossy(&out.stderr));
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let sequences: BTreeSet<u64> = exported.iter().map(|v| v["sequence"].as_u64().unwrap()).collect();
    assert_eq!(sequences, (2..2 + AT_ONCE as u64).collect(), "{exported:?}");

    // Each file is the list recorded under its sequence, and verifies.
    let roots = [root(&env)];
    let listed: Value = serde_json::from_str(&ok(&env, &["revocations", "list", "--json"])).unwrap();
    let recorded: Vec<u64> =
        listed["lists"].as_array().unwrap().iter().map(|l| l["sequence"].as_u64().unwrap()).collect();
    assert_eq!(recorded, (1..2 + AT_ONCE as u64).collect::<Vec<_>>(), "{listed}");
    for v in &exported {
        let file = fs::read(dir.join(v["file"].as_str().unwrap())).unwrap();
        let list = fanlic_verifier::verify_revocations(&file, &roots, None).expect("the exported list verifies");
        assert_eq!(list.sequence(), v["sequence"].as_u64().unwrap());
        let names: BTreeSet<String> = list.licenses().map(|l| l.to_string()).collect();
        assert_eq!(names, revoked);
    }
    let newest = exported.iter().max_by_key(|v| v["sequence"].as_u64().unwrap()).unwrap();
    let newest_bytes = fs::read(dir.join(newest["file"].as_str().unwrap())).unwrap();

    // A serving host: only the activation master secret and the receipt keys.
    let serving = dir.join("serving-host");
    fs::create_dir(&serving).unwrap();
    for sub in ["activation", "receipt-keys"] {
        let status = Command::new("cp").arg("-a").arg(env.home.join(sub)).arg(&serving).status().unwrap();
        assert!(status.success(), "cp {sub}");
    }
    let mut has: Vec<String> =
        fs::read_dir(&serving).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    has.sort();
    assert_eq!(has, ["activation", "receipt-keys"]);
    let serve = Serve::start(&serving, &database, &dir.join("serve.log"));
    let (status, sequence, body) = serve.list(&dir.join("fetched.bin"));
    assert_eq!((status, sequence), (200, Some(newest["sequence"].to_string())));
    assert_eq!(body, newest_bytes, "the served list is not byte for byte the newest export");

    // The serving host cannot sign a list: the issuing key is not there.
    let serving_env = Env {
        home: serving.clone(),
        dir: dir.clone(),
        _tmp: tempfile::tempdir().unwrap(),
        database: Some(database.clone()),
    };
    let refused = fanlic(&serving_env, &["revocations", "export", "-o", "forged.bin"], None);
    assert!(!refused.status.success(), "a serve-only home signed a revocation list");
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("issuing key") && why.contains("host"), "{why}");
    assert!(!dir.join("forged.bin").exists());

    // The issuing host exports again: every instance serves it at once.
    let next: Value = serde_json::from_str(&ok(&env, &["revocations", "export", "-o", "next.bin", "--json"])).unwrap();
    let (status, sequence, body) = serve.list(&dir.join("fetched-next.bin"));
    assert_eq!((status, sequence), (200, Some(next["sequence"].to_string())));
    assert_eq!(body, fs::read(dir.join("next.bin")).unwrap());
}
