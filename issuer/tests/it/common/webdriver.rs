//! A small blocking W3C WebDriver client (std `TcpStream` + `serde_json`)
//! driving Debian's `chromedriver` and headless Chromium: what the console's
//! browser tests need to log in, fill and submit forms, upload a file, read
//! what a page says and take screenshots. No async runtime, no TLS stack,
//! no crate beyond those the tests already link.
//!
//! One browser for the whole test binary ([`browser`]): starting Chromium
//! costs about a second, and the tests take turns through its lock.
#![allow(dead_code, reason = "each browser test uses a part")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use core::time::Duration;
use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, MutexGuard, OnceLock},
    time::Instant,
};

use serde_json::{Value, json};

/// The W3C name of an element reference in answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long a wait for a page or an element lasts before the test fails.
const WAIT: Duration = Duration::from_secs(10);

/// A `chromedriver` with one headless Chromium session.
#[derive(Debug)]
pub struct Browser {
    addr: String,
    session: String,
    /// chromedriver, and the watcher that ends it (kept, never waited for:
    /// the browser lives until the test process exits).
    _processes: [Child; 2],
}

/// An element of the current page.
#[derive(Clone, Debug)]
pub struct Element(String);

/// The process-wide browser, started on first use. Each test holds the
/// lock for its whole run (the tests share one window) and starts with no
/// cookies.
pub fn browser() -> MutexGuard<'static, Browser> {
    static BROWSER: OnceLock<Mutex<Browser>> = OnceLock::new();
    let m = BROWSER.get_or_init(|| Mutex::new(Browser::start()));
    // A test that failed while holding the lock leaves a usable browser.
    let mut b = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Left by a test that failed: an open alert would refuse every command.
    let _ = call(&b.addr, "POST", &format!("/session/{}/alert/dismiss", b.session), Some(&json!({})));
    b.clear_cookies();
    b
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// The directory screenshots go to: `target/console-screenshots/` of the
/// target directory this test binary was built in.
pub fn screenshot_dir() -> PathBuf {
    // BIN is TARGET/debug/fanlic: honours CARGO_TARGET_DIR without reading it.
    let target = Path::new(super::BIN).parent().and_then(Path::parent).expect("the target directory");
    let dir = target.join("console-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Browser {
    fn start() -> Self {
        let driver = which("chromedriver").unwrap_or_else(|| {
            panic!("chromedriver not found on PATH: install Debian's chromium-driver (apt-get install chromium-driver)")
        });
        let chromium = which("chromium").unwrap_or_else(|| {
            panic!("chromium not found on PATH: install Debian's chromium (apt-get install chromium chromium-driver)")
        });
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Its own process group, so that the watcher below ends chromedriver
        // and the Chromium it started together.
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", driver.display()));
        // The browser lives in a static, which is never dropped: a watcher
        // ends the group once this test process has exited.
        let watcher = Command::new("sh")
            .arg("-c")
            .arg("while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill -TERM \"-$1\" 2>/dev/null")
            .arg(std::process::id().to_string())
            .arg(child.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        let start = Instant::now();
        while !matches!(call(&addr, "GET", "/status", None), Ok(v) if v["value"]["ready"] == true) {
            assert!(start.elapsed() < WAIT, "chromedriver did not answer on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                // Root in a container needs --no-sandbox; a fixed size makes
                // the screenshots comparable.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--lang=en-US"],
                // English unless a test switches: the machine's locale never decides.
                "prefs": {"intl.accept_languages": "en-US,en"},
            },
        }}});
        let v = call(&addr, "POST", "/session", Some(&caps))
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium ({}): {e}", chromium.display()));
        let session = v["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {v}")).to_owned();
        Self { addr, session, _processes: [child, watcher] }
    }

    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let path = format!("/session/{}{path}", self.session);
        call(&self.addr, method, &path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))["value"].clone()
    }

    /// Removes every cookie (a new visitor).
    pub fn clear_cookies(&mut self) {
        self.cmd("DELETE", "/cookie", None);
    }

    /// Opens `url` and waits until it has loaded.
    pub fn goto(&mut self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({ "url": url })));
    }

    /// The address of the current page.
    pub fn url(&mut self) -> String {
        self.cmd("GET", "/url", None).as_str().unwrap().to_owned()
    }

    /// The path and query of the current page.
    pub fn path(&mut self) -> String {
        let url = self.url();
        let after = url.split_once("//").map_or(url.as_str(), |(_, r)| r);
        after.find('/').map_or("/".to_owned(), |i| after[i..].to_owned())
    }

    /// The current page's HTML as the browser holds it.
    pub fn source(&mut self) -> String {
        self.cmd("GET", "/source", None).as_str().unwrap().to_owned()
    }

    /// The current page's title.
    pub fn title(&mut self) -> String {
        self.cmd("GET", "/title", None).as_str().unwrap().to_owned()
    }

    /// The first element matching `css`, if any now.
    pub fn try_find(&mut self, css: &str) -> Option<Element> {
        let path = format!("/session/{}/element", self.session);
        let v = call(&self.addr, "POST", &path, Some(&json!({"using": "css selector", "value": css}))).ok()?;
        Some(Element(v["value"][ELEMENT].as_str()?.to_owned()))
    }

    /// The first element matching `css`, waited for (polled).
    pub fn find(&mut self, css: &str) -> Element {
        let start = Instant::now();
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            if start.elapsed() > WAIT {
                let (url, src) = (self.url(), self.source());
                panic!("no {css} on {url}:\n{src}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every element matching `css`.
    pub fn find_all(&mut self, css: &str) -> Vec<Element> {
        let v = self.cmd("POST", "/elements", Some(&json!({"using": "css selector", "value": css})));
        v.as_array().unwrap().iter().map(|e| Element(e[ELEMENT].as_str().unwrap().to_owned())).collect()
    }

    /// Clicks the element (a button submits its form, a link is followed).
    pub fn click(&mut self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(&json!({})));
    }

    /// Clicks the first element matching `css` (a link or a submit button:
    /// every such click in these tests loads a page) and waits until the
    /// page it loads has replaced the one clicked on, so that what is read
    /// next is never the old page's (nor one of its elements, gone stale).
    pub fn click_css(&mut self, css: &str) {
        let e = self.find(css);
        self.execute("document.documentElement.dataset.clickedAway = '1';", &[]);
        self.click(&e);
        let start = Instant::now();
        loop {
            // Between two pages the script may fail: not loaded yet.
            let gone = call(
                &self.addr,
                "POST",
                &format!("/session/{}/execute/sync", self.session),
                Some(
                    &json!({"script": "return document.readyState === 'complete' && !document.documentElement.dataset.clickedAway;", "args": []}),
                ),
            );
            if gone.is_ok_and(|v| v["value"] == json!(true)) {
                return;
            }
            assert!(start.elapsed() < WAIT, "clicking {css} loaded no new page");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types `text` into the element after clearing it; for an
    /// `<input type=file>`, `text` is the path of the file to choose.
    pub fn type_into(&mut self, e: &Element, text: &str) {
        let _ = call(&self.addr, "POST", &format!("/session/{}/element/{}/clear", self.session, e.0), Some(&json!({})));
        self.cmd("POST", &format!("/element/{}/value", e.0), Some(&json!({ "text": text })));
    }

    /// Types `text` into the first element matching `css`.
    pub fn fill(&mut self, css: &str, text: &str) {
        let e = self.find(css);
        self.type_into(&e, text);
    }

    /// Chooses the option whose value is `value` in the `<select>` matching `css`.
    pub fn select(&mut self, css: &str, value: &str) {
        let option = self.find(&format!("{css} option[value=\"{value}\"]"));
        self.click(&option);
    }

    /// The element's rendered text.
    pub fn text(&mut self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.0), None).as_str().unwrap_or_default().to_owned()
    }

    /// The rendered text of the first element matching `css`.
    pub fn text_of(&mut self, css: &str) -> String {
        let e = self.find(css);
        self.text(&e)
    }

    /// The element's attribute `name`.
    pub fn attr(&mut self, e: &Element, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/element/{}/attribute/{name}", e.0), None).as_str().map(str::to_owned)
    }

    /// Waits until the current path starts with `prefix`; the path.
    pub fn wait_path(&mut self, prefix: &str) -> String {
        let start = Instant::now();
        loop {
            let p = self.path();
            if p.starts_with(prefix) {
                return p;
            }
            assert!(start.elapsed() < WAIT, "still on {p}, waiting for {prefix}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the
    /// page, as a page's own script would; its return value. WebDriver's
    /// scripts are not subject to the page's CSP: what a tampered page could
    /// do, for the tests of what the server refuses.
    pub fn execute(&mut self, script: &str, args: &[Value]) -> Value {
        self.cmd("POST", "/execute/sync", Some(&json!({"script": script, "args": args})))
    }

    /// Polls `done` (every 50 ms) until it holds; fails after a while with `what`.
    pub fn wait_until(&mut self, what: &str, mut done: impl FnMut(&mut Self) -> bool) {
        let start = Instant::now();
        while !done(self) {
            if start.elapsed() > WAIT {
                let (url, src) = (self.url(), self.source());
                panic!("waited for {what} on {url}:\n{src}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The text of an open `alert()`, if a page opened one.
    pub fn alert_text(&mut self) -> Option<String> {
        let path = format!("/session/{}/alert/text", self.session);
        call(&self.addr, "GET", &path, None).ok().and_then(|v| v["value"].as_str().map(str::to_owned))
    }

    /// Saves a PNG of the window as `target/console-screenshots/NAME.png`; its path.
    pub fn screenshot(&mut self, name: &str) -> PathBuf {
        use base64::Engine as _;
        let b64 = self.cmd("GET", "/screenshot", None);
        let png = base64::engine::general_purpose::STANDARD.decode(b64.as_str().unwrap()).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// One WebDriver request; the answer's JSON, or the error WebDriver gave.
fn call(addr: &str, method: &str, path: &str, body: Option<&Value>) -> Result<Value, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(60))).map_err(|e| e.to_string())?;
    let body = body.map(|b| serde_json::to_vec(b).unwrap()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if method != "GET" && method != "DELETE" || !body.is_empty() {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(&body).map_err(|e| e.to_string())?;
    // chromedriver keeps the connection open whatever the request says:
    // read the head, then exactly Content-Length bytes.
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("no content-length in {head:?}"))?;
    let mut payload = vec![0; len];
    r.read_exact(&mut payload).map_err(|e| e.to_string())?;
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("no status")?;
    let v: Value =
        serde_json::from_slice(&payload).map_err(|e| format!("{e}: {}", String::from_utf8_lossy(&payload)))?;
    if status == 200 { Ok(v) } else { Err(format!("{status} {}", v["value"])) }
}
