//! A running `fanlic console` (the real binary) and a plain HTTP/1.1
//! client for it with a cookie jar: what the console tests that do not
//! need a browser use (role and CSRF refusals, headers, downloads).
#![allow(dead_code, reason = "each console test uses a part")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::{
    collections::BTreeMap,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    process::{Child, Stdio},
};

use super::{Env, fanlic, fanlic_cmd};

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery";

/// `fanlic staff add NAME --role ROLE` with [`PASSWORD`].
pub fn add_staff(env: &Env, name: &str, role: &str) {
    let out = fanlic(env, &["staff", "add", name, "--role", role, "--password-stdin"], Some(PASSWORD.as_bytes()));
    assert!(out.status.success(), "staff add {name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `fanlic console` on a free loopback port, stopped (SIGTERM) when dropped.
pub struct Console {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl Console {
    /// Starts the console on `env`'s home with `args` added, and waits for
    /// its `listening on http://ADDR` line.
    pub fn start(env: &Env, args: &[&str]) -> Self {
        let mut child = fanlic_cmd()
            .args(["console", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("FANLIC_HOME", &env.home)
            .envs(env.database_env())
            .env("USER", "tester")
            .current_dir(&env.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .or_else(|| line.trim().strip_prefix("listening on https://"))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        Self { child, addr }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client without a session.
    pub fn client(&self) -> Client {
        Client { addr: self.addr.clone(), cookies: BTreeMap::new() }
    }

    /// A client logged in as `name` (password [`PASSWORD`]).
    pub fn login(&self, name: &str) -> Client {
        let mut c = self.client();
        let page = c.get("/login");
        let csrf = hidden(&page.body, "csrf").expect("the login form has a csrf field");
        let r = c.post("/login", &[("username", name), ("password", PASSWORD), ("csrf", &csrf), ("next", "/")]);
        assert_eq!(r.status, 303, "login as {name}: {}", r.body);
        c
    }

    /// Stops the console with SIGTERM and returns whether it exited 0.
    pub fn stop(mut self) -> bool {
        let ok = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        ok && self.child.wait().unwrap().success()
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Header names lowercased; repeated headers in order.
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A plain HTTP/1.1 client with a cookie jar (one connection per request).
#[derive(Clone, Debug)]
pub struct Client {
    pub addr: String,
    pub cookies: BTreeMap<String, String>,
}

impl Client {
    /// GET `path`.
    pub fn get(&mut self, path: &str) -> Answer {
        self.send("GET", path, &[], None)
    }

    /// POST an urlencoded form to `path`.
    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded_pairs(form);
        self.send("POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], Some(body.as_bytes()))
    }

    /// POST a form with this session's CSRF token (read from `from`, a page
    /// of the console) added.
    pub fn post_form(&mut self, from: &str, path: &str, form: &[(&str, &str)]) -> Answer {
        let page = self.get(from);
        let csrf = hidden(&page.body, "csrf").unwrap_or_else(|| panic!("no csrf field on {from}: {}", page.body));
        let mut all: Vec<(&str, &str)> = form.to_vec();
        all.push(("csrf", &csrf));
        self.post(path, &all)
    }

    /// Any request, with extra headers.
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Answer {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        if let Some(b) = body {
            s.write_all(b).unwrap();
        }
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header end");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.lines();
        let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
            body = dechunk(&body);
        }
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap();
                let (name, value) = pair.split_once('=').unwrap();
                if value.is_empty() || v.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned(), bytes: body }
    }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..end]).split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
}

fn serde_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Percent-encodes a form value.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The value of the first `<input type="hidden" name="NAME" value="…">` in a page.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &page[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_owned())
}
