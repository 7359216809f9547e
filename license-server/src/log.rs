//! The server's log: one JSON line per event on stderr.

use std::io::Write as _;

use serde_json::Value;

/// One JSON line on stderr. Callers never pass a code, key, token or nonce.
pub fn log_line(v: &Value) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{v}");
}
