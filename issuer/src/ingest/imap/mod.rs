//! The registration mailbox over IMAP (`fanlic watch imaps://USER@HOST/MAILBOX`):
//! where it is ([`ImapUrl`]), how to log in ([`Credentials`]), and the
//! session that reads its messages and moves each decided one out
//! ([`Mailbox`], in `session.rs`).
//!
//! Exactly once: a message is decided and committed first, then moved to
//! the decided folder (UID MOVE, or UID COPY + `\Deleted` + UID EXPUNGE).
//! A crash between the two leaves it in the mailbox; the next pass finds
//! its decision by its dedup key (a duplicate: nothing is done again) and
//! moves it. Several watchers on one mailbox (one PostgreSQL database)
//! decide each message once the same way: the store's write lock orders
//! them, and the second finds the first's decision.

mod session;
mod watch;

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::ImapError;

pub use session::{Fetched, Mailbox};
pub use watch::{SETTLE, WatchConfig, WatchEvent, watch};

/// The folder decided messages are moved to, made if missing (`/` is
/// replaced with the server's hierarchy separator).
pub const DECIDED_FOLDER: &str = "fanlic/decided";

/// How the connection is protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Security {
    /// `imaps://`: TLS from the first byte (port 993).
    Tls,
    /// `imap://`: STARTTLS, required (port 143).
    StartTls,
    /// `imap://` with `--allow-plaintext`, a server on loopback only.
    Plain,
}

/// Where the registration mailbox is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImapUrl {
    /// How the connection is protected.
    pub security: Security,
    /// The server's name (checked against its certificate).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// The user to log in as.
    pub user: String,
    /// The mailbox to read (`INBOX` when the URL names none).
    pub mailbox: String,
}

impl ImapUrl {
    /// Whether `s` is an IMAP URL (rather than a Maildir path).
    pub fn is_imap(s: &str) -> bool {
        let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
        lower.starts_with("imaps://") || lower.starts_with("imap://")
    }

    /// Parses `imaps://USER@HOST[:PORT][/MAILBOX]` or `imap://…`.
    /// `allow_plaintext` makes `imap://` go without TLS, and only to a
    /// server on loopback. A password in the URL is refused: it would show
    /// in `ps` and in logs.
    pub fn parse(url: &str, allow_plaintext: bool) -> Result<Self, ImapError> {
        let bad = |reason: &str| ImapError::Url { url: url.to_owned(), reason: reason.to_owned() };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let security = match scheme.to_ascii_lowercase().as_str() {
            "imaps" => Security::Tls,
            "imap" if allow_plaintext => Security::Plain,
            "imap" => Security::StartTls,
            _ => return Err(bad("the scheme must be imaps or imap")),
        };
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let (userinfo, hostport) = authority.rsplit_once('@').ok_or_else(|| bad("no user (USER@HOST)"))?;
        if userinfo.contains(':') {
            return Err(bad(
                "a password does not go in the URL (it would show in ps and logs); use FANLIC_IMAP_PASSWORD or \
                 --password-file",
            ));
        }
        let user = percent_decode(userinfo).ok_or_else(|| bad("the user is not valid percent-encoded UTF-8"))?;
        if user.is_empty() {
            return Err(bad("no user (USER@HOST)"));
        }
        let (host, port) = split_host_port(hostport).ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = port.unwrap_or(if security == Security::Tls { 993 } else { 143 });
        let mailbox = match path.trim_end_matches('/') {
            "" => "INBOX".to_owned(),
            p => percent_decode(p).ok_or_else(|| bad("the mailbox is not valid percent-encoded UTF-8"))?,
        };
        if mailbox.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(bad("the mailbox name holds a control character, a quote or a backslash"));
        }
        let parsed = Self { security, host, port, user, mailbox };
        if security == Security::Plain && !parsed.is_loopback() {
            return Err(ImapError::PlaintextNotLocal { server: parsed.server() });
        }
        Ok(parsed)
    }

    /// `HOST:PORT`, for messages.
    pub fn server(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The URL again (no password ever), for reports.
    pub fn shown(&self) -> String {
        let scheme = if self.security == Security::Tls { "imaps" } else { "imap" };
        format!("{scheme}://{}@{}/{}", self.user, self.server(), self.mailbox)
    }

    fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self.host.parse::<core::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0);
    if let Some(rest) = s.strip_prefix('[') {
        // [IPv6]:port
        let (host, tail) = rest.split_once(']')?;
        return match tail.strip_prefix(':') {
            Some(p) => Some((host.to_owned(), Some(port(p)?))),
            None if tail.is_empty() => Some((host.to_owned(), None)),
            None => None,
        };
    }
    match s.rsplit_once(':') {
        Some((host, p)) => Some((host.to_owned(), Some(port(p)?))),
        None => Some((s.to_owned(), None)),
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// How to log in.
#[derive(Clone)]
pub enum Credentials {
    /// LOGIN with a password.
    Password(String),
    /// SASL XOAUTH2 (or OAUTHBEARER) with a bearer token read anew at each login.
    OAuth2(TokenSource),
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Password(_) => f.write_str("Password(…)"),
            Self::OAuth2(t) => write!(f, "OAuth2({t:?})"),
        }
    }
}

/// Where an OAuth2 access token comes from. Tokens expire (an hour for
/// Microsoft 365 and Gmail): it is read again at every login, so the file
/// can be refreshed, or the command asked, by whatever holds the refresh
/// token.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// A file holding the token (mode 0600).
    File(PathBuf),
    /// A command (run with `sh -c`) that prints the token.
    Command(String),
}

impl TokenSource {
    /// The current token.
    pub fn token(&self) -> Result<String, ImapError> {
        let token = match self {
            Self::File(path) => read_secret_file(path)?,
            Self::Command(cmd) => {
                let out = Command::new("sh").arg("-c").arg(cmd).output().map_err(|e| ImapError::Credentials {
                    what: format!("--oauth2-token-command {cmd:?}"),
                    reason: format!("cannot run it: {e}"),
                })?;
                if !out.status.success() {
                    return Err(ImapError::Credentials {
                        what: format!("--oauth2-token-command {cmd:?}"),
                        reason: format!("it failed ({}); it must print the access token", out.status),
                    });
                }
                String::from_utf8(out.stdout).map_err(|_| ImapError::Credentials {
                    what: format!("--oauth2-token-command {cmd:?}"),
                    reason: "it printed something that is not UTF-8".into(),
                })?
            }
        };
        let token = token.trim().to_owned();
        if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ImapError::Credentials {
                what: format!("{self:?}"),
                reason: "no token, or one with spaces or control characters in it".into(),
            });
        }
        Ok(token)
    }
}

/// A secret read from a file only its owner can read (mode 0600 or
/// stricter), trimmed of surrounding white space.
pub fn read_secret_file(path: &Path) -> Result<String, ImapError> {
    use std::os::unix::fs::PermissionsExt as _;
    let what = || path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| ImapError::Credentials { what: what(), reason: format!("cannot read it: {e}") })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(ImapError::Credentials {
            what: what(),
            reason: format!("mode {mode:o} lets others read it; `chmod 600 {}` first", path.display()),
        });
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| ImapError::Credentials { what: what(), reason: format!("cannot read it: {e}") })?;
    Ok(text.trim().to_owned())
}

/// How to reach the mailbox, besides its URL.
#[derive(Clone, Debug, Default)]
pub struct ImapOptions {
    /// PEM file of CA certificates trusted instead of the public web's.
    pub ca_file: Option<PathBuf>,
    /// The folder decided messages go to (default [`DECIDED_FOLDER`]).
    pub decided_folder: Option<String>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code

    use super::*;

    #[test]
    fn urls_are_read_with_their_defaults() {
        let u = ImapUrl::parse("imaps://licenses@mail.example.com/Registrations", false).unwrap();
        assert_eq!(
            (u.security, u.host.as_str(), u.port, u.user.as_str()),
            (Security::Tls, "mail.example.com", 993, "licenses")
        );
        assert_eq!(u.mailbox, "Registrations");
        let u = ImapUrl::parse("imap://li%40censes@mail.example.com:1143", false).unwrap();
        assert_eq!(
            (u.security, u.port, u.user.as_str(), u.mailbox.as_str()),
            (Security::StartTls, 1143, "li@censes", "INBOX")
        );
        let u = ImapUrl::parse("imap://u@127.0.0.1:1143/INBOX", true).unwrap();
        assert_eq!(u.security, Security::Plain);
        let u = ImapUrl::parse("imaps://u@[::1]:10993/a%2Fb", false).unwrap();
        assert_eq!((u.host.as_str(), u.port, u.mailbox.as_str()), ("::1", 10993, "a/b"));
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        for (url, plain, says) in [
            ("imaps://u:secret@host/INBOX", false, "password does not go in the URL"),
            ("pop3://u@host", false, "scheme"),
            ("imaps://host/INBOX", false, "no user"),
            ("imaps://u@host:99999", false, "port"),
            ("imap://u@mail.example.com", true, "loopback"),
            ("imaps://u@host/a\"b", false, "quote"),
        ] {
            let e = ImapUrl::parse(url, plain).unwrap_err().to_string();
            assert!(e.contains(says), "{url}: {e}");
        }
    }

    #[test]
    fn a_secret_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("token");
        std::fs::write(&f, "tok-1\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(read_secret_file(&f).unwrap_err().to_string().contains("chmod 600"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(TokenSource::File(f).token().unwrap(), "tok-1");
        assert_eq!(TokenSource::Command("printf 'tok-2\\n'".into()).token().unwrap(), "tok-2");
        assert!(TokenSource::Command("exit 3".into()).token().is_err());
    }
}
