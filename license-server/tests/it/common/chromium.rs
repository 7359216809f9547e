//! Headless Chromium driven over the DevTools protocol on a pipe
//! (`--remote-debugging-pipe`: requests on fd 3, answers on fd 4, each JSON
//! message ended by a NUL byte), through two FIFOs a shell connects, so no
//! WebSocket client and no extra package are needed. Enough to open a page,
//! run an expression in it and wait for a condition: what a test needs to
//! press a button and read what the page says.
#![allow(dead_code, reason = "shared by the issuer's and the license server's tests; each uses a part")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use core::time::Duration;
use std::{
    fs,
    io::{BufRead as _, BufReader, Write as _},
    path::Path,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Instant,
};

use serde_json::{Value, json};

/// A headless Chromium with one page, killed when dropped.
pub struct Chromium {
    child: Child,
    to: fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    session: String,
    log: std::path::PathBuf,
}

impl Chromium {
    /// Starts Chromium in `dir` (its profile, FIFOs and log) on `url`.
    /// `--ignore-certificate-errors`: the authorization server's certificate
    /// is self-signed (a browser only warns about that).
    pub fn open(dir: &Path, url: &str) -> Self {
        fs::create_dir_all(dir).unwrap();
        let (fifo_in, fifo_out) = (dir.join("cdp-in"), dir.join("cdp-out"));
        for f in [&fifo_in, &fifo_out] {
            assert!(Command::new("mkfifo").arg(f).status().unwrap().success(), "mkfifo {}", f.display());
        }
        let log = dir.join("chromium.log");
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                "exec chromium --headless --no-sandbox --disable-gpu --ignore-certificate-errors --no-first-run \
                 --user-data-dir=\"$1\" --remote-debugging-pipe \"$0\" 3<\"$2\" 4>\"$3\"",
            )
            .arg(url)
            .arg(dir.join("profile"))
            .arg(&fifo_in)
            .arg(&fifo_out)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // The shell opens fd 3 (our write end) first, then fd 4.
        let to = fs::OpenOptions::new().write(true).open(&fifo_in).unwrap();
        let reader = fs::File::open(&fifo_out).unwrap();
        let (tx, from) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(reader);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        buf.pop();
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                            && tx.send(v).is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        let mut c = Self { child, to, from, next_id: 0, session: String::new(), log };
        let page = c.wait_for_page();
        let attached = c.call(None, "Target.attachToTarget", json!({"targetId": page, "flatten": true}));
        c.session = attached["sessionId"].as_str().unwrap().to_owned();
        c
    }

    fn wait_for_page(&mut self) -> String {
        let start = Instant::now();
        loop {
            let targets = self.call(None, "Target.getTargets", json!({}));
            let page = targets["targetInfos"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["type"] == "page"))
                .and_then(|t| t["targetId"].as_str());
            if let Some(id) = page {
                return id.to_owned();
            }
            assert!(start.elapsed() < Duration::from_secs(30), "Chromium opened no page: {}", self.log_text());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Lets the page download files, into `dir` (what a person's click on a
    /// download link saves).
    pub fn allow_downloads(&mut self, dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        self.call(None, "Browser.setDownloadBehavior", json!({"behavior": "allow", "downloadPath": dir}));
    }

    /// Chromium's stderr so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let v = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no answer to {method} ({e}); chromium said: {}", self.log_text()));
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
        }
    }

    /// Evaluates `expression` in the page; its value (awaited if a promise).
    pub fn eval(&mut self, expression: &str) -> Value {
        let session = self.session.clone();
        let r = self.call(
            Some(&session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expression}: {r}");
        r["result"]["value"].clone()
    }

    /// Evaluates `expression` every 200 ms until it is a non-empty string
    /// or `true`, within `secs`; that value.
    pub fn wait_for(&mut self, expression: &str, secs: u64) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(expression);
            if v == json!(true) || v.as_str().is_some_and(|s| !s.is_empty()) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "`{expression}` did not hold within {secs} s (last: {v}); chromium said: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
