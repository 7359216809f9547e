//! Crash test: `kill -9` a `fanlic ingest` of a few hundred Maildir messages
//! at random moments, at least 20 times, then let one run finish. Afterwards
//! (and, as far as it can be read without recovering it, after every kill)
//! every message is decided exactly once, nothing is issued twice, no license
//! is half issued, every reply is queued once, the Maildir holds every message
//! in `cur/`, and `PRAGMA integrity_check` is ok.
//!
//! The kill moments come from a seeded generator: the seed is printed, and
//! `FANLIC_CRASH_SEED=N` replays it (timing still varies with the machine).

use core::time::Duration;
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fs,
    os::unix::{fs::PermissionsExt as _, process::ExitStatusExt as _},
    path::{Path, PathBuf},
    process::Stdio,
    time::Instant,
};

use crate::common::{Env, PASS, bad_values, body_for, fanlic_cmd, ok, setup};
use fanlic_formats::MAX_LICENSE_FILE_LEN;
use fanlic_issuer::Home;

const SPOOF: &str = "mail.attacker.example; dkim=pass header.d=customer.example";
/// Messages in the first delivery.
const MAILS: usize = 300;
/// Kills that must interrupt a run (the requirement is 20; a margin on top).
const WANT_KILLS: usize = 24;
const MIN_KILLS: usize = 20;
/// What `Child::kill` sends on Unix.
const SIGKILL: i32 = 9;

/// splitmix64: deterministic, no dependency.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    /// Uniform in `[0, max)`.
    fn f64(&mut self, max: f64) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * max
    }
}

/// A registration mail for `project` of the contract [`setup`] adds, with
/// values it does not allow when `bad`.
fn mail(auth: Option<&str>, message_id: &str, project: &str, bad: bool) -> Vec<u8> {
    let body = body_for(project);
    let body = if bad { bad_values(&body) } else { body };
    crate::common::mail(auth, message_id, &body).into_bytes()
}

fn sha256_hex(raw: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, raw).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What one decision row must say.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expected {
    decision: &'static str,
    reply: bool,
    /// The project of the license, when issued.
    project: Option<String>,
}

/// One generated message.
#[derive(Clone, Debug)]
struct Generated {
    name: String,
    raw: Vec<u8>,
    dedup_key: String,
    authenticated: bool,
    /// `None`: a duplicate by design (no decision row of its own).
    row: Option<Expected>,
}

/// The mails of one delivery, and what each must become.
#[derive(Debug, Default)]
struct Corpus {
    mails: Vec<Generated>,
    /// Authenticated, issued: (message id, project).
    clean: Vec<(String, String)>,
    next_id: usize,
}

impl Corpus {
    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("crash-{:05}@customer.example", self.next_id)
    }

    fn push(&mut self, round: usize, raw: Vec<u8>, key: String, authenticated: bool, row: Option<Expected>) {
        let name = format!("{}.R{round}N{:05}_0.crashhost", 1_763_800_000 + round, self.mails.len());
        self.mails.push(Generated { name, raw, dedup_key: key, authenticated, row });
    }

    fn clean(&mut self, round: usize, id: String) {
        let project = format!("p{}", id.split('@').next().unwrap().trim_start_matches("crash-"));
        self.clean.push((id.clone(), project.clone()));
        let row = Expected { decision: "issued", reply: true, project: Some(project.clone()) };
        self.push(round, mail(Some(PASS), &id, &project, false), id, true, Some(row));
    }

    /// Adds about `n` messages, a mix of every kind.
    fn generate(&mut self, rng: &mut Rng, round: usize, n: usize) {
        let target = self.mails.len() + n;
        while self.mails.len() < target {
            let earlier =
                (!self.clean.is_empty()).then(|| self.clean[rng.below(self.clean.len() as u64) as usize].clone());
            match (rng.below(100), earlier) {
                (0..55, _) | (82.., None) => {
                    let id = self.fresh_id();
                    self.clean(round, id);
                }
                (55..68, _) => {
                    let id = self.fresh_id();
                    let row = Expected { decision: "rejected", reply: true, project: None };
                    self.push(round, mail(Some(PASS), &id, "badproject", true), id, true, Some(row));
                }
                (68..79, _) => {
                    // From an untrusted authserv id, or with no header at all.
                    let id = self.fresh_id();
                    let auth = if rng.below(2) == 0 { Some(SPOOF) } else { None };
                    let row = Expected { decision: "held", reply: false, project: None };
                    // A project of its own: spoofs of one project would join one held item.
                    let project = format!("spoofed-{}", self.next_id);
                    self.push(round, mail(auth, &id, &project, false), id, false, Some(row));
                }
                (79..82, _) => {
                    // Garbage: no Message-ID, keyed by its SHA-256; mail-parser
                    // reads it as a message with no sender, so it is held.
                    let mut raw = vec![0xff, 0x00, 0xfe, 0x13, 0x37];
                    raw.extend_from_slice(&(self.mails.len() as u64).to_le_bytes());
                    let key = sha256_hex(&raw);
                    let row = Expected { decision: "held", reply: false, project: None };
                    self.push(round, raw, key, false, Some(row));
                }
                (82..90, Some((id, project))) => {
                    // Delivered twice: the very same bytes.
                    self.push(round, mail(Some(PASS), &id, &project, false), id, true, None);
                }
                (90..94, Some((id, _))) => {
                    // Sent again, changed: still one license only.
                    self.push(round, mail(Some(PASS), &id, "resent", false), id, true, None);
                }
                (94..97, Some((id, _))) => {
                    // A spoof reusing a decided authenticated id.
                    self.push(round, mail(Some(SPOOF), &id, "spoofed", false), id, false, None);
                }
                (_, Some(_)) => {
                    // A spoof first, then the real mail with its id: both decided.
                    let id = self.fresh_id();
                    let row = Expected { decision: "held", reply: false, project: None };
                    let project = format!("spoofed-{}", self.next_id);
                    self.push(round, mail(Some(SPOOF), &id, &project, false), id.clone(), false, Some(row));
                    self.clean(round, id);
                }
            }
        }
    }

    fn deliver(&self, maildir: &Path, from: usize) {
        for m in &self.mails[from..] {
            // As an MTA does: written in tmp/, then renamed into new/.
            let tmp = maildir.join("tmp").join(&m.name);
            fs::write(&tmp, &m.raw).unwrap();
            fs::rename(&tmp, maildir.join("new").join(&m.name)).unwrap();
        }
    }

    fn expected_rows(&self) -> BTreeMap<(String, bool), Expected> {
        let mut rows = BTreeMap::new();
        for m in &self.mails {
            if let Some(row) = &m.row {
                let old = rows.insert((m.dedup_key.clone(), m.authenticated), row.clone());
                assert!(old.is_none(), "generator: two rows for {}", m.dedup_key);
            }
        }
        rows
    }
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect()
}

/// Files under `dir` (recursively) that look like leftovers of an
/// interrupted write: `*.tmp`, `.fanlic-*`, SQLite journals.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
                continue;
            }
            let n = e.file_name().into_string().unwrap();
            if n.ends_with(".tmp") || n.starts_with(".fanlic-") || n.ends_with("-journal") || n.ends_with("-wal") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn hot_journal(home: &Path) -> bool {
    fs::metadata(home.join("fanlic.db-journal")).is_ok_and(|m| m.len() > 0)
}

fn open_ro(home: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(home.join("fanlic.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// Decisions recorded so far (0 before the first run creates the table).
fn decided_count(home: &Path) -> usize {
    let conn = open_ro(home);
    conn.query_row("SELECT count(*) FROM decisions", [], |r| r.get::<_, i64>(0)).map_or(0, |n| n as usize)
}

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// One decision row, as read back.
#[derive(Debug)]
struct Row {
    decision: String,
    license_id: Option<String>,
    outbox_id: Option<i64>,
    raw_sha256: String,
    message_id: Option<String>,
    codes: Vec<String>,
}

fn decisions(conn: &rusqlite::Connection) -> HashMap<(String, bool), Row> {
    let mut stmt = conn
        .prepare("SELECT dedup_key, authenticated, decision, license_id, outbox_id, raw_sha256, message_id, reasons FROM decisions")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            let reasons: String = r.get(7)?;
            let codes = serde_json::from_str::<serde_json::Value>(&reasons)
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_owned())
                .collect();
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, bool>(1)?),
                Row {
                    decision: r.get(2)?,
                    license_id: r.get(3)?,
                    outbox_id: r.get(4)?,
                    raw_sha256: r.get(5)?,
                    message_id: r.get(6)?,
                    codes,
                },
            ))
        })
        .unwrap();
    let mut map = HashMap::new();
    for row in rows {
        let (k, v) = row.unwrap();
        assert!(map.insert(k.clone(), v).is_none(), "two decisions for {k:?}");
    }
    map
}

/// What must hold at every crash point (read from the state a kill left):
/// no half-issued license, no reply without its decision, no message
/// acknowledged without its decision. Returns (decided but still in new/,
/// licenses recorded whose file is not written yet).
fn check_crash_point(home: &Path, maildir: &Path, corpus: &Corpus) -> (usize, usize) {
    let conn = open_ro(home);
    let ok: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let rows = decisions(&conn);
    let issued = rows.values().filter(|r| r.decision == "issued").count() as i64;
    assert_eq!(count(&conn, "SELECT count(*) FROM licenses"), issued, "a license without its decision, or the reverse");
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM licenses WHERE license_id NOT IN (SELECT license_id FROM decisions WHERE license_id IS NOT NULL)"
        ),
        0
    );
    assert_eq!(
        count(&conn, "SELECT count(*) FROM outbox"),
        count(&conn, "SELECT count(*) FROM decisions WHERE outbox_id IS NOT NULL"),
        "a reply without its decision, or the reverse"
    );
    let by_name: HashMap<&str, &Generated> = corpus.mails.iter().map(|m| (m.name.as_str(), m)).collect();
    let decided = |m: &Generated| {
        rows.contains_key(&(m.dedup_key.clone(), m.authenticated)) || rows.contains_key(&(m.dedup_key.clone(), true))
    };
    for n in names(&maildir.join("cur")) {
        let unique = n.strip_suffix(":2,S").unwrap_or_else(|| panic!("cur/{n}: not marked seen"));
        let m = by_name[unique];
        assert!(decided(m), "cur/{n} was acknowledged but has no decision: the mail is lost");
    }
    let pending_acks =
        names(&maildir.join("new")).iter().filter(|n| by_name.get(n.as_str()).is_some_and(|m| decided(m))).count();
    let missing_files = rows
        .values()
        .filter_map(|r| r.license_id.as_ref())
        .filter(|lid| !home.join("issued").join(format!("{lid}-Container.lic")).is_file())
        .count();
    (pending_acks, missing_files)
}

#[derive(Debug, Default)]
struct Stats {
    runs: usize,
    interrupted: usize,
    /// Killed before the run committed a decision (start-up, opening the
    /// database, or inside its first batch).
    early: usize,
    /// Killed with decisions committed in that run and messages left in `new/`.
    mid: usize,
    /// Runs that finished before the kill.
    completed: usize,
    /// Kills that left a hot rollback journal (killed inside a transaction).
    hot_journal: usize,
    /// Kills after which a decided message was still in `new/`.
    pending_ack: usize,
    /// Kills after which a recorded license had no file yet.
    missing_file: usize,
    /// Temporary files left by kills (distinct).
    tmp_left: usize,
}

#[test]
fn kill_9_during_ingest_loses_nothing_and_issues_nothing_twice() {
    let started = Instant::now();
    let seed = std::env::var("FANLIC_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    println!("crash test seed: {seed} (replay with FANLIC_CRASH_SEED={seed})");
    let mut rng = Rng(seed);

    let env = setup();
    let (dir, home) = (env.dir.clone(), env.home.clone());
    let maildir = dir.join("Maildir");
    for sub in ["new", "cur", "tmp"] {
        fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let md = maildir.to_str().unwrap().to_owned();

    // The start-up cost of a run, with nothing to do.
    let t = Instant::now();
    for _ in 0..3 {
        assert_eq!(ok(&env, &["ingest", &md, "--json"]), "");
    }
    let startup_ms = t.elapsed().as_secs_f64() * 1000.0 / 3.0;

    let mut corpus = Corpus::default();
    corpus.generate(&mut rng, 0, MAILS);
    corpus.deliver(&maildir, 0);
    println!("setup {:?}, {} mails, start-up {startup_ms:.1} ms per run", started.elapsed(), corpus.mails.len());

    let logs = dir.join("logs");
    fs::create_dir(&logs).unwrap();
    let mut stats = Stats::default();
    // For each batch size, how long after start-up a kill is tried: adapted
    // run by run, shorter after a run that finished, longer after a kill
    // that found nothing decided, so kills land mid-ingest whatever the
    // speed of this machine and build.
    let mut horizon_ms = [50.0_f64; 4];
    let mut round = 0;
    let mut stale_tmp = BTreeSet::new();
    let kills_started = Instant::now();
    // Until enough kills, and enough of them mid-ingest (kills are random).
    while (stats.interrupted < WANT_KILLS || stats.mid < MIN_KILLS / 4) && stats.runs < 200 {
        let remaining = names(&maildir.join("new")).len();
        if remaining == 0 {
            // Everything was decided before enough kills: deliver more.
            round += 1;
            assert!(round <= 10, "runs keep finishing before the kill: {stats:?}");
            let from = corpus.mails.len();
            corpus.generate(&mut rng, round, 150);
            corpus.deliver(&maildir, from);
            continue;
        }
        // Each run decides in batches of its own size: one message per
        // transaction up to the default, so kills land inside batches,
        // between them, and between a batch's commit and its acknowledgements.
        let size = rng.below(4) as usize;
        let batch = ["1", "7", "32", "256"][size];
        let early = rng.below(10) < 2;
        let delay_ms = if early {
            // Early: while it starts and opens the database.
            rng.f64(startup_ms)
        } else {
            startup_ms + rng.f64(horizon_ms[size])
        };
        let delay = Duration::from_secs_f64(delay_ms.min(2000.0) / 1000.0);

        stats.runs += 1;
        let out = fs::File::create(logs.join(format!("run-{}.out", stats.runs))).unwrap();
        let err = fs::File::create(logs.join(format!("run-{}.err", stats.runs))).unwrap();
        let decided_before = decided_count(&home);
        let mut child = fanlic_cmd()
            .args(["ingest", &md, "--json", "--batch", batch])
            .env("FANLIC_HOME", &home)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL; a no-op when it already exited
        let status = child.wait().unwrap();
        let after = names(&maildir.join("new")).len();
        // Decided in this run: committed, whether acknowledged yet or not.
        let done_now = if hot_journal(&home) { remaining - after } else { decided_count(&home) - decided_before };
        if status.signal() == Some(SIGKILL) {
            stats.interrupted += 1;
            if !early && done_now == 0 {
                horizon_ms[size] = (horizon_ms[size] * 1.5).min(2000.0);
            }
            if done_now == 0 {
                stats.early += 1;
            } else if after > 0 {
                stats.mid += 1;
            }
        } else {
            stats.completed += 1;
            horizon_ms[size] *= 0.6;
            let stderr = fs::read_to_string(logs.join(format!("run-{}.err", stats.runs))).unwrap();
            assert_eq!(status.code(), Some(0), "run {} (seed {seed}) failed: {stderr}", stats.runs);
        }
        if hot_journal(&home) {
            // Recovering it would need a writer; the next run does that.
            stats.hot_journal += 1;
        } else {
            let (pending, missing) = check_crash_point(&home, &maildir, &corpus);
            stats.pending_ack += usize::from(pending > 0);
            stats.missing_file += usize::from(missing > 0);
        }
        stale_tmp.extend(leftovers(&home).into_iter().filter(|p| p.to_string_lossy().ends_with(".tmp")));
        stats.tmp_left = stale_tmp.len();
    }
    let kill_time = kills_started.elapsed();

    // The last run, to completion.
    let t = Instant::now();
    let out = fanlic_cmd()
        .args(["ingest", &md, "--json"])
        .env("FANLIC_HOME", &home)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let final_time = t.elapsed();
    assert_eq!(out.status.code(), Some(0), "final run (seed {seed}): {}", String::from_utf8_lossy(&out.stderr));
    let final_lines = String::from_utf8(out.stdout).unwrap().lines().count();
    println!(
        "{} mails in {} round(s); {} runs killed/finished in {kill_time:?}, final run {final_time:?} ({final_lines} left)\n{stats:?}",
        corpus.mails.len(),
        round + 1,
        stats.runs,
    );
    assert!(
        stats.interrupted >= MIN_KILLS,
        "only {} kills interrupted a run (seed {seed}): {stats:?}",
        stats.interrupted
    );
    assert!(stats.mid >= MIN_KILLS / 4, "too few kills landed mid-ingest (seed {seed}): {stats:?}");

    check_final(&env, &maildir, &corpus, seed);
    println!("total {:?}", started.elapsed());
}

fn check_final(env: &Env, maildir: &Path, corpus: &Corpus, seed: u64) {
    let home = env.home.as_path();
    let conn = open_ro(home);
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok", "seed {seed}");
    assert_eq!(count(&conn, "SELECT count(*) FROM pragma_foreign_key_check"), 0, "seed {seed}");

    // Every message decided exactly once: one row per (key, authenticated)
    // the corpus calls for, none more, each as expected.
    let rows = decisions(&conn);
    let expected = corpus.expected_rows();
    assert_eq!(rows.len(), expected.len(), "seed {seed}");
    let raw_of: HashMap<(String, bool), &Generated> =
        corpus.mails.iter().filter(|m| m.row.is_some()).map(|m| ((m.dedup_key.clone(), m.authenticated), m)).collect();
    for (key, want) in &expected {
        let got = rows.get(key).unwrap_or_else(|| panic!("seed {seed}: no decision for {key:?}"));
        assert_eq!(got.decision, want.decision, "seed {seed}: {key:?} {:?}", got.codes);
        assert_eq!(got.outbox_id.is_some(), want.reply, "seed {seed}: reply of {key:?}");
        assert_eq!(got.license_id.is_some(), want.decision == "issued", "seed {seed}: {key:?}");
        assert_eq!(got.raw_sha256, sha256_hex(&raw_of[key].raw), "seed {seed}: {key:?} decided from other bytes");
        match want.decision {
            "held" if raw_of[key].raw.starts_with(b"\xff") => {
                assert!(got.codes.iter().any(|c| c == "sender_not_single"), "seed {seed}: {key:?} {:?}", got.codes);
            }
            "held" => assert_eq!(got.codes, ["sender_unauthenticated"], "seed {seed}: {key:?}"),
            "rejected" if want.reply => assert_eq!(
                got.codes,
                ["signing_date_mismatch", "nodes_exceed_contract", "version_mismatch"],
                "seed {seed}: {key:?}"
            ),
            _ => {}
        }
    }
    // The audit trail: one decision entry per row; the duplicates by design
    // (and re-reads after a kill) are `duplicate` entries.
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM audit WHERE decision_id IS NOT NULL AND action IN ('issued', 'rejected', 'held')"
        ),
        rows.len() as i64
    );
    let dups = corpus.mails.iter().filter(|m| m.row.is_none()).count() as i64;
    assert!(count(&conn, "SELECT count(*) FROM audit WHERE decision_id IS NOT NULL AND action = 'duplicate'") >= dups);

    // Nothing issued twice: one license per issued decision, one per project.
    let issued: Vec<&Row> = rows.values().filter(|r| r.decision == "issued").collect();
    assert_eq!(count(&conn, "SELECT count(*) FROM licenses") as usize, issued.len(), "seed {seed}");
    assert_eq!(
        count(&conn, "SELECT count(DISTINCT license_id) FROM decisions WHERE license_id IS NOT NULL") as usize,
        issued.len()
    );
    assert_eq!(count(&conn, "SELECT count(DISTINCT project) FROM licenses") as usize, issued.len(), "seed {seed}");
    let mut stmt = conn.prepare("SELECT license_id, project, armored, request_email_sha256 FROM licenses").unwrap();
    let licenses: Vec<(String, String, String, Vec<u8>)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
    let project_of: HashMap<&str, (&str, &Row)> =
        expected.iter().filter_map(|(k, e)| e.project.as_deref().map(|p| (p, (k.0.as_str(), &rows[k])))).collect();
    for (lid, project, armored, req_sha) in &licenses {
        let (_, row) = project_of.get(project.as_str()).unwrap_or_else(|| panic!("seed {seed}: license for {project}"));
        assert_eq!(row.license_id.as_deref(), Some(lid.as_str()), "seed {seed}");
        let sha: String = req_sha.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sha, row.raw_sha256, "seed {seed}: license {lid} names another request mail");
        // Its file is there, whole, private.
        let file = home.join("issued").join(format!("{lid}-Container.lic"));
        assert_eq!(fs::read_to_string(&file).unwrap_or_default(), *armored, "seed {seed}: {}", file.display());
        assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Each file is one license of this home, and nothing else is there.
    let files = names(&home.join("issued"));
    assert_eq!(
        files,
        licenses.iter().map(|l| format!("{}-Container.lic", l.0)).collect::<BTreeSet<_>>(),
        "seed {seed}"
    );

    // One reply per decision that calls for one, each to its request.
    assert_eq!(
        count(&conn, "SELECT count(*) FROM outbox") as usize,
        expected.values().filter(|e| e.reply).count(),
        "seed {seed}"
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM outbox o JOIN decisions d ON d.outbox_id = o.outbox_id
                      WHERE o.in_reply_to = '<' || d.message_id || '>'"
        ),
        count(&conn, "SELECT count(*) FROM outbox")
    );
    assert_eq!(
        count(
            &conn,
            "SELECT count(*) FROM outbox_attachments a JOIN decisions d ON d.outbox_id = a.outbox_id
                      JOIN licenses l ON l.license_id = d.license_id WHERE a.bytes = CAST(l.armored AS BLOB)"
        ),
        issued.len() as i64,
        "seed {seed}: every license reply carries its license"
    );
    assert_eq!(count(&conn, "SELECT count(*) FROM outbox_attachments") as usize, issued.len());
    let mids = issued.iter().filter(|r| r.message_id.is_none()).count();
    assert_eq!(mids, 0);
    drop(stmt);
    drop(conn);

    // The Maildir: everything in cur/, seen, unchanged; new/ and tmp/ empty.
    assert!(names(&maildir.join("new")).is_empty(), "seed {seed}");
    assert!(names(&maildir.join("tmp")).is_empty(), "seed {seed}");
    let want: BTreeSet<String> = corpus.mails.iter().map(|m| format!("{}:2,S", m.name)).collect();
    assert_eq!(names(&maildir.join("cur")), want, "seed {seed}");
    for m in &corpus.mails {
        assert_eq!(fs::read(maildir.join("cur").join(format!("{}:2,S", m.name))).unwrap(), m.raw);
    }

    // The licenses verify against the home's root key: all in process, a
    // few with `fanlic verify` as a product would.
    let h = Home::open(home).unwrap();
    let roots = h.root_keys().unwrap();
    for (lid, project, _, _) in &licenses {
        let stored = h.stored_license(lid).unwrap().unwrap();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let signed = fanlic_verifier::authenticate(&stored.file_bytes, &mut buf, &roots).unwrap();
        assert_eq!(signed.license.project, *project);
    }
    for (lid, project, _, _) in licenses.iter().take(3) {
        let file = home.join("issued").join(format!("{lid}-Container.lic"));
        ok(
            env,
            &["verify", file.to_str().unwrap(), "--app", "FineReport", "--version", "11.0.20", "--project", project],
        );
    }
    drop(h);

    // Nothing half written left behind. Regression: a kill inside
    // `fsutil::write_atomic` (while `write_license_file` wrote a license
    // file) used to leave its `.fanlic-XXXXXX.tmp` for good; license files
    // are now written under a fixed temporary name that the next rewrite
    // replaces.
    let left: Vec<PathBuf> = leftovers(home);
    assert!(left.is_empty(), "seed {seed}: left behind: {left:?}");
}
