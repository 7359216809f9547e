//! A small HTTP/1.1 client over one keep-alive `TcpStream` with a cookie
//! jar: what a browser does, without a browser's own costs.

use std::{
    collections::BTreeMap,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
};

/// One answer.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// A keep-alive connection (reopened when the server closes it) and cookies.
pub struct Conn {
    addr: String,
    stream: Option<(TcpStream, BufReader<TcpStream>)>,
    cookies: BTreeMap<String, String>,
}

impl Conn {
    pub fn new(addr: &str) -> Self {
        Self { addr: addr.to_owned(), stream: None, cookies: BTreeMap::new() }
    }

    /// `method path`, with an urlencoded `form` body if any.
    pub fn request(&mut self, method: &str, path: &str, form: Option<&str>) -> Answer {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nAccept-Language: zh-CN,zh;q=0.9\r\n", self.addr);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            req.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        if let Some(b) = form {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        let (s, r) = self.stream.get_or_insert_with(|| {
            let s = TcpStream::connect(&self.addr).unwrap();
            s.set_nodelay(true).unwrap();
            let r = BufReader::new(s.try_clone().unwrap());
            (s, r)
        });
        s.write_all(req.as_bytes()).unwrap();
        let (status, headers, body) = read_response(r);
        let close = headers.iter().any(|(k, v)| k == "connection" && v.eq_ignore_ascii_case("close"));
        for (k, v) in &headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap_or("");
                if let Some((name, value)) = pair.split_once('=') {
                    if value.is_empty() || v.contains("Max-Age=0") {
                        self.cookies.remove(name);
                    } else {
                        self.cookies.insert(name.to_owned(), value.to_owned());
                    }
                }
            }
        }
        if close {
            self.stream = None;
        }
        Answer { status, body: String::from_utf8_lossy(&body).into_owned() }
    }
}

/// Status, lowercased headers and body (Content-Length or chunked).
fn read_response(r: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line).unwrap();
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse::<usize>().ok());
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let mut body = Vec::new();
    if let Some(n) = len {
        body.resize(n, 0);
        r.read_exact(&mut body).unwrap();
    } else if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        r.read_to_end(&mut body).unwrap();
    }
    (status, headers, body)
}

/// The value of the hidden input `name` in `page`.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let v = tag.split("value=\"").nth(1)?;
    Some(v[..v.find('"')?].replace("&amp;", "&"))
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
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

/// An urlencoded form.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}
