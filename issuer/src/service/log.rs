//! Request logs: one line per request on stderr (JSON or text), written by
//! their own thread so that a slow stderr never blocks a worker. No part of
//! an activation token is ever logged.

use crate::error::ServiceError;
use core::net::IpAddr;
use std::{
    io::{BufWriter, Write as _},
    sync::mpsc,
    thread,
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::http::StatusCode;
use fanlic_formats::{LicenseId, Timestamp};
use serde_json::json;

use super::{LogFormat, RECEIPT_SEGMENT};
use crate::Error;

/// Where log lines go, and in which format.
pub(crate) struct Logger {
    pub(crate) lines: mpsc::Sender<String>,
    pub(crate) format: LogFormat,
}

/// What one request did, for its log line.
pub(crate) struct Outcome {
    /// The license, once its challenge's tag verified.
    pub(crate) license_id: Option<LicenseId>,
    /// The answer's status.
    pub(crate) status: StatusCode,
    /// `activated`, `ready`, a refusal's code, ...
    pub(crate) outcome: &'static str,
    /// What failed, for an internal error.
    pub(crate) error: Option<String>,
}

/// Starts the thread that writes log lines on stderr; it ends when the
/// last sender is dropped.
pub(crate) fn start() -> Result<(mpsc::Sender<String>, thread::JoinHandle<()>), Error> {
    let (tx, rx) = mpsc::channel::<String>();
    let handle = thread::Builder::new()
        .name("fanlic-log".to_owned())
        .spawn(move || {
            let mut err = BufWriter::new(std::io::stderr());
            while let Ok(line) = rx.recv() {
                let _ = err.write_all(line.as_bytes());
                while let Ok(line) = rx.try_recv() {
                    let _ = err.write_all(line.as_bytes());
                }
                let _ = err.flush();
            }
        })
        .map_err(|e| Error::Service(ServiceError::Failed { reason: format!("cannot start the log thread: {e}") }))?;
    Ok((tx, handle))
}

/// What the log says of a request path: `/healthz` and `/readyz`, else the path's
/// segments before the last that are short plain words (`/a`), each other
/// one as `<redacted>`, and the last as `<token>`. A token is at least 46
/// characters, so no part of one is ever logged, whatever the URL's shape
/// (a trailing or doubled slash, percent-encoding, a token in any segment).
fn logged_path(path: &str) -> String {
    /// Longest segment logged as is.
    const MAX_SEGMENT: usize = 16;
    /// Segments logged at most, before the token.
    const MAX_SEGMENTS: usize = 8;
    if path == "/healthz" || path == "/readyz" {
        return path.to_owned();
    }
    if path.is_empty() {
        return "-".to_owned();
    }
    let mut out = String::new();
    let mut segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.pop();
    for seg in segments.iter().take(MAX_SEGMENTS) {
        out.push('/');
        if seg.len() <= MAX_SEGMENT && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            out.push_str(seg);
        } else {
            out.push_str("<redacted>");
        }
    }
    if segments.len() > MAX_SEGMENTS {
        out.push_str("/...");
    }
    out.push_str(if last == Some(RECEIPT_SEGMENT) { "/receipt" } else { "/<token>" });
    out
}

/// Logs one request.
pub(crate) fn log_request(log: &Logger, method: &str, path: &str, client: IpAddr, out: &Outcome, start: Instant) {
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let line = match log.format {
        LogFormat::Json => {
            let mut v = serde_json::Map::new();
            v.insert("ts".to_owned(), json!(Timestamp(ts).to_string()));
            v.insert("method".to_owned(), json!(method));
            v.insert("path".to_owned(), json!(logged_path(path)));
            if let Some(id) = out.license_id {
                v.insert("license_id".to_owned(), json!(id.to_string()));
            }
            v.insert("client".to_owned(), json!(client.to_string()));
            v.insert("status".to_owned(), json!(out.status.as_u16()));
            v.insert("outcome".to_owned(), json!(out.outcome));
            v.insert("micros".to_owned(), json!(micros));
            if let Some(e) = &out.error {
                v.insert("error".to_owned(), json!(e));
            }
            format!("{}\n", serde_json::Value::Object(v))
        }
        LogFormat::Text => {
            let id = out.license_id.map_or_else(|| "-".to_owned(), |id| id.to_string());
            let error = out.error.as_deref().map_or_else(String::new, |e| format!(" error: {e}"));
            format!(
                "{} {client} {} {} {} license {id} {} {micros}us{error}\n",
                Timestamp(ts),
                method,
                logged_path(path),
                out.status.as_u16(),
                out.outcome
            )
        }
    };
    let _ = log.lines.send(line);
}
