//! One IMAP session on the registration mailbox: connect (TLS, STARTTLS,
//! or plain on loopback), log in (password or SASL XOAUTH2), select the
//! mailbox, read its messages (size first: one over the limit is never
//! downloaded whole), move decided ones out, and wait for new mail (IDLE,
//! or a pause where the server has none). async-imap runs on a one-thread
//! runtime of the session's own, only while the caller waits: `fanlic
//! watch` stays synchronous, as the store is.

use core::pin::Pin;
use core::task::{Context, Poll};
use core::time::Duration;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use async_imap::{Authenticator, Client, Session};
use futures_util::TryStreamExt as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::{Credentials, DECIDED_FOLDER, ImapOptions, ImapUrl, Security};
use crate::error::ImapError;
use crate::ingest::outcome::{IngestOutcome, OutcomeKind};
use crate::ingest::source::{HEAD_BYTES, IncomingMessage, Receipt, SourceError};
use fanlic_formats::Timestamp;

/// How long connecting (TCP and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one command may take before the connection is taken as lost.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// UIDs per FETCH or MOVE command (a command line stays short).
const UIDS_PER_COMMAND: usize = 500;

/// The connection: TLS, or plain TCP (before STARTTLS, or on loopback).
#[derive(Debug)]
enum Stream {
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
    Plain(TcpStream),
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// SASL XOAUTH2 (what Microsoft 365 and Gmail take): the user and the
/// bearer token in the first response; an empty one to a server's error
/// challenge, after which it answers NO.
struct XOAuth2 {
    first: Option<String>,
}

impl Authenticator for XOAuth2 {
    type Response = String;

    fn process(&mut self, _challenge: &[u8]) -> String {
        self.first.take().unwrap_or_default()
    }
}

/// A message's UID and size, before it is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetched {
    /// Its UID.
    pub uid: u32,
    /// Its size in bytes (RFC822.SIZE).
    pub size: u64,
}

/// A logged-in session with the registration mailbox selected.
pub struct Mailbox {
    rt: tokio::runtime::Runtime,
    /// `None` only while IDLE holds it, or after the connection failed.
    session: Option<Session<Stream>>,
    url: ImapUrl,
    uid_validity: u32,
    /// The decided folder, with the server's hierarchy separator.
    decided: String,
    can_move: bool,
    can_idle: bool,
}

impl core::fmt::Debug for Mailbox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Mailbox({})", self.url.shown())
    }
}

fn tls_config(ca_file: Option<&PathBuf>) -> Result<rustls::ClientConfig, ImapError> {
    crate::util::tls::client_config(ca_file.map(PathBuf::as_path))
        .map_err(|reason| ImapError::Credentials { what: "--ca-file".into(), reason })
}

impl Mailbox {
    /// Connects, logs in and selects the mailbox; makes the decided folder
    /// if it is missing.
    pub fn open(url: &ImapUrl, credentials: &Credentials, options: &ImapOptions) -> Result<Self, ImapError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
            ImapError::Connection { server: url.server(), reason: format!("cannot start the IMAP client: {e}") }
        })?;
        let tls = match url.security {
            Security::Plain => None,
            _ => Some(Arc::new(tls_config(options.ca_file.as_ref())?)),
        };
        let session = rt.block_on(connect(url, tls, credentials))?;
        let mut mailbox = Self {
            rt,
            session: Some(session),
            url: url.clone(),
            uid_validity: 0,
            decided: String::new(),
            can_move: false,
            can_idle: false,
        };
        mailbox.prepare(options.decided_folder.as_deref().unwrap_or(DECIDED_FOLDER))?;
        Ok(mailbox)
    }

    fn server(&self) -> String {
        self.url.server()
    }

    /// Runs one command on the session, with a time limit.
    fn run<T>(
        &mut self,
        action: &'static str,
        f: impl AsyncFnOnce(&mut Session<Stream>) -> async_imap::error::Result<T>,
    ) -> Result<T, ImapError> {
        let server = self.server();
        let session = self.session.as_mut().ok_or_else(|| ImapError::Connection {
            server: server.clone(),
            reason: "the connection was lost".into(),
        })?;
        let out = self.rt.block_on(async { tokio::time::timeout(COMMAND_TIMEOUT, f(session)).await });
        match out {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(&server, action, e)),
            Err(_) => Err(ImapError::Connection {
                server,
                reason: format!("{action}: no answer in {} s", COMMAND_TIMEOUT.as_secs()),
            }),
        }
    }

    fn prepare(&mut self, decided: &str) -> Result<(), ImapError> {
        let caps = self.run("CAPABILITY", async |s| s.capabilities().await)?;
        self.can_move = caps.has_str("MOVE");
        self.can_idle = caps.has_str("IDLE");
        let uidplus = caps.has_str("UIDPLUS");
        if !self.can_move && !uidplus {
            return Err(ImapError::Command {
                server: self.server(),
                action: "CAPABILITY",
                reason: "the server has neither MOVE nor UIDPLUS: decided messages could not be moved out one by one"
                    .into(),
            });
        }
        let mailbox = self.url.mailbox.clone();
        let selected = self.run("SELECT", async |s| s.select(&mailbox).await).map_err(|e| ImapError::Mailbox {
            server: self.server(),
            mailbox: mailbox.clone(),
            reason: e.to_string(),
        })?;
        self.uid_validity = selected.uid_validity.unwrap_or(0);
        // The folder's name with the server's separator (Dovecot's Maildir++: `.`),
        // as the LIST of the mailbox being read says it.
        let listed = mailbox.clone();
        let names: Vec<async_imap::types::Name> =
            self.run("LIST", async |s| s.list(Some(""), Some(&listed)).await?.try_collect().await)?;
        let separator = names.first().and_then(|n| n.delimiter()).unwrap_or("/").to_owned();
        self.decided = decided.replace('/', &separator);
        let target = self.decided.clone();
        let found: Vec<async_imap::types::Name> =
            self.run("LIST", async |s| s.list(Some(""), Some(&target)).await?.try_collect().await)?;
        if found.is_empty() {
            let target = self.decided.clone();
            self.run("CREATE", async |s| s.create(&target).await).map_err(|e| ImapError::Mailbox {
                server: self.server(),
                mailbox: self.decided.clone(),
                reason: format!("cannot make the folder for decided mail: {e}"),
            })?;
        }
        Ok(())
    }

    /// Whether the server pushes new mail (IDLE).
    pub fn can_idle(&self) -> bool {
        self.can_idle
    }

    /// The mailbox's UIDVALIDITY when selected.
    pub fn uid_validity(&self) -> u32 {
        self.uid_validity
    }

    /// The decided folder's name on the server.
    pub fn decided_folder(&self) -> &str {
        &self.decided
    }

    /// Every message in the mailbox now: UID and size, oldest first.
    pub fn list(&mut self) -> Result<Vec<Fetched>, ImapError> {
        let uids = self.run("UID SEARCH", async |s| s.uid_search("ALL").await)?;
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        let mut out = Vec::with_capacity(uids.len());
        for chunk in uids.chunks(UIDS_PER_COMMAND) {
            let set = uid_set(chunk);
            let fetches: Vec<async_imap::types::Fetch> =
                self.run("UID FETCH", async |s| s.uid_fetch(&set, "(UID RFC822.SIZE)").await?.try_collect().await)?;
            out.extend(
                fetches.iter().filter_map(|f| Some(Fetched { uid: f.uid?, size: u64::from(f.size.unwrap_or(0)) })),
            );
        }
        out.sort_unstable_by_key(|f| f.uid);
        Ok(out)
    }

    /// The `source` a message is reported as: the mailbox URL with its
    /// UIDVALIDITY and UID (RFC 5092).
    pub fn source_of(&self, uid: u32) -> String {
        format!("{};UIDVALIDITY={}/;UID={uid}", self.url.shown(), self.uid_validity)
    }

    /// Reads `listed` messages: whole when at most `max_bytes`, else only
    /// their header, as [`SourceError::TooLarge`] (decided
    /// `message_too_large` without being read). A message gone meanwhile
    /// (another watcher moved it) is left out.
    pub fn read(
        &mut self,
        listed: &[Fetched],
        max_bytes: usize,
    ) -> Result<Vec<Result<IncomingMessage, SourceError>>, ImapError> {
        let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX);
        let (small, large): (Vec<Fetched>, Vec<Fetched>) = listed.iter().partition(|f| f.size <= limit);
        let mut bodies: std::collections::HashMap<u32, Vec<u8>> = std::collections::HashMap::new();
        for chunk in small.chunks(UIDS_PER_COMMAND) {
            let set = uid_set(&chunk.iter().map(|f| f.uid).collect::<Vec<_>>());
            let fetches: Vec<async_imap::types::Fetch> =
                self.run("UID FETCH", async |s| s.uid_fetch(&set, "(UID BODY.PEEK[])").await?.try_collect().await)?;
            for f in &fetches {
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    bodies.insert(uid, body.to_vec());
                }
            }
        }
        let mut heads: std::collections::HashMap<u32, Vec<u8>> = std::collections::HashMap::new();
        for chunk in large.chunks(UIDS_PER_COMMAND) {
            let set = uid_set(&chunk.iter().map(|f| f.uid).collect::<Vec<_>>());
            let fetches: Vec<async_imap::types::Fetch> = self
                .run("UID FETCH", async |s| s.uid_fetch(&set, "(UID BODY.PEEK[HEADER])").await?.try_collect().await)?;
            for f in &fetches {
                if let (Some(uid), Some(head)) = (f.uid, f.header()) {
                    heads.insert(uid, head.get(..HEAD_BYTES).unwrap_or(head).to_vec());
                }
            }
        }
        let uid_validity = self.uid_validity;
        let mut out = Vec::with_capacity(listed.len());
        for f in listed {
            let receipt = Receipt::Imap { uid_validity, uid: f.uid };
            let source = self.source_of(f.uid);
            if f.size > limit {
                if let Some(head) = heads.remove(&f.uid) {
                    out.push(Err(SourceError::TooLarge {
                        origin: source,
                        size: f.size,
                        max: max_bytes,
                        receipt,
                        head,
                    }));
                }
            } else if let Some(raw) = bodies.remove(&f.uid) {
                out.push(Ok(IncomingMessage { source, raw, receipt }));
            }
        }
        Ok(out)
    }

    /// Moves committed messages to the decided folder: UID MOVE, or UID
    /// COPY + `\Deleted` + UID EXPUNGE (only those UIDs). A receipt of
    /// another UIDVALIDITY (the mailbox was rebuilt since it was read) is
    /// not moved: its UID may now name another message; the next pass
    /// reads it again and finds it decided. Results in the order given.
    ///
    /// A duplicate whose decision is younger than `settle` is left where it
    /// is: another watcher read the same message and decided it moments
    /// ago, and moves it (two moves of one message would leave two copies
    /// in the decided folder). Once older, it is moved: its watcher died
    /// between its commit and its move.
    pub fn acknowledge_all(
        &mut self,
        decided: &[(&Receipt, &IngestOutcome)],
        (now, settle): (Timestamp, Duration),
    ) -> Vec<Result<Option<PathBuf>, SourceError>> {
        let current = self.uid_validity;
        let mut uids = Vec::new();
        let receipts: Vec<&Receipt> = decided.iter().map(|(r, _)| *r).collect();
        let mut results: Vec<Result<Option<PathBuf>, SourceError>> = Vec::with_capacity(receipts.len());
        for (r, outcome) in decided {
            let fresh = outcome.decision == OutcomeKind::Duplicate
                && outcome.earlier_decided_at.is_some_and(|at| now.0 < at.0.saturating_add(settle.as_secs()));
            results.push(match r {
                Receipt::Imap { .. } if fresh => Ok(None),
                Receipt::Imap { uid_validity, uid } if *uid_validity == current => {
                    uids.push(*uid);
                    Ok(None)
                }
                Receipt::Imap { uid, .. } => Err(SourceError::NotMoved {
                    origin: self.source_of(*uid),
                    folder: self.decided.clone(),
                    reason: "the mailbox's UIDVALIDITY changed since it was read; the next pass moves it".into(),
                }),
                _ => Ok(None),
            });
        }
        if uids.is_empty() {
            return results;
        }
        let mut failed: Option<String> = None;
        for chunk in uids.chunks(UIDS_PER_COMMAND) {
            let set = uid_set(chunk);
            let folder = self.decided.clone();
            let moved = if self.can_move {
                self.run("UID MOVE", async |s| s.uid_mv(&set, &folder).await)
            } else {
                self.run("UID COPY", async |s| {
                    s.uid_copy(&set, &folder).await?;
                    let stored: Vec<async_imap::types::Fetch> =
                        s.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").await?.try_collect().await?;
                    drop(stored);
                    let gone: Vec<u32> = s.uid_expunge(&set).await?.try_collect().await?;
                    drop(gone);
                    Ok(())
                })
            };
            if let Err(e) = moved {
                failed.get_or_insert(e.to_string());
            }
        }
        if let Some(reason) = failed {
            for (r, receipt) in results.iter_mut().zip(&receipts) {
                if let (Ok(_), Receipt::Imap { uid, .. }) = (&r, receipt) {
                    *r = Err(SourceError::NotMoved {
                        origin: self.source_of(*uid),
                        folder: self.decided.clone(),
                        reason: reason.clone(),
                    });
                }
            }
        }
        results
    }

    /// Waits up to `max` for new mail: IDLE where the server has it (true
    /// when the server announced a change), else a pause of `max` (false).
    /// Mail announced during the commands before is not waited for.
    pub fn wait(&mut self, max: Duration) -> Result<bool, ImapError> {
        if let Some(s) = &self.session {
            let mut announced = false;
            while let Ok(r) = s.unsolicited_responses.try_recv() {
                announced |= matches!(r, UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_));
            }
            if announced {
                return Ok(true);
            }
        }
        if !self.can_idle {
            std::thread::sleep(max);
            return Ok(false);
        }
        let server = self.server();
        let session = self.session.take().ok_or_else(|| ImapError::Connection {
            server: server.clone(),
            reason: "the connection was lost".into(),
        })?;
        let (session, news) = self.rt.block_on(async {
            let mut idle = session.idle();
            idle.init().await.map_err(|e| classify(&server, "IDLE", e))?;
            let (wait, _stop) = idle.wait_with_timeout(max);
            let news = match wait.await.map_err(|e| classify(&server, "IDLE", e))? {
                IdleResponse::NewData(_) => true,
                IdleResponse::Timeout | IdleResponse::ManualInterrupt => false,
            };
            let session = tokio::time::timeout(COMMAND_TIMEOUT, idle.done())
                .await
                .map_err(|_| ImapError::Connection {
                    server: server.clone(),
                    reason: "IDLE: no answer to DONE".into(),
                })?
                .map_err(|e| classify(&server, "IDLE", e))?;
            Ok::<_, ImapError>((session, news))
        })?;
        self.session = Some(session);
        Ok(news)
    }

    /// Logs out (best effort).
    pub fn logout(mut self) {
        if self.session.is_some() {
            drop(self.run("LOGOUT", async |s| s.logout().await));
        }
    }
}

/// `1,3,7:9`-style set of sorted UIDs.
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while let Some(&start) = uids.get(i) {
        let mut end = start;
        while uids.get(i + 1).is_some_and(|&n| Some(n) == end.checked_add(1)) {
            i += 1;
            end = uids.get(i).copied().unwrap_or(end);
        }
        if !out.is_empty() {
            out.push(',');
        }
        if end == start {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An async-imap error as ours: I/O and parse errors mean the connection
/// is gone (retried); a NO or BAD is the server's refusal.
fn classify(server: &str, action: &'static str, e: async_imap::error::Error) -> ImapError {
    use async_imap::error::Error as E;
    match e {
        E::Io(_) | E::ConnectionLost | E::Parse(_) => {
            ImapError::Connection { server: server.to_owned(), reason: format!("{action}: {e}") }
        }
        e => ImapError::Command { server: server.to_owned(), action, reason: e.to_string() },
    }
}

async fn connect(
    url: &ImapUrl,
    tls: Option<Arc<rustls::ClientConfig>>,
    credentials: &Credentials,
) -> Result<Session<Stream>, ImapError> {
    let server = url.server();
    let gone = |reason: String| ImapError::Connection { server: server.clone(), reason };
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((url.host.as_str(), url.port)))
        .await
        .map_err(|_| gone(format!("cannot connect: no answer in {} s", CONNECT_TIMEOUT.as_secs())))?
        .map_err(|e| gone(format!("cannot connect: {e}")))?;
    let handshake = |tcp: TcpStream| {
        let server = server.clone();
        let tls = tls.clone();
        let host = url.host.clone();
        async move {
            let (Some(tls), Ok(name)) = (tls, rustls::pki_types::ServerName::try_from(host)) else {
                return Err(ImapError::Tls { server, reason: "not a valid server name".into() });
            };
            tokio::time::timeout(CONNECT_TIMEOUT, tokio_rustls::TlsConnector::from(tls).connect(name, tcp))
                .await
                .map_err(|_| ImapError::Tls { server: server.clone(), reason: "no handshake".into() })?
                .map_err(|e| ImapError::Tls { server, reason: e.to_string() })
        }
    };
    let greeting = async |c: &mut Client<Stream>| match tokio::time::timeout(CONNECT_TIMEOUT, c.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err(gone("the server closed the connection before its greeting".into())),
        Ok(Err(e)) => Err(gone(format!("no greeting: {e}"))),
        Err(_) => Err(gone("no greeting".into())),
    };
    let client = match url.security {
        Security::Tls => {
            let mut c = Client::new(Stream::Tls(Box::new(handshake(tcp).await?)));
            greeting(&mut c).await?;
            c
        }
        Security::StartTls => {
            let mut c = Client::new(Stream::Plain(tcp));
            greeting(&mut c).await?;
            if c.run_command_and_check_ok("STARTTLS", None).await.is_err() {
                return Err(ImapError::NoStartTls { server });
            }
            let Stream::Plain(tcp) = c.into_inner() else {
                return Err(gone("STARTTLS on a TLS connection".into()));
            };
            Client::new(Stream::Tls(Box::new(handshake(tcp).await?)))
        }
        Security::Plain => {
            let mut c = Client::new(Stream::Plain(tcp));
            greeting(&mut c).await?;
            c
        }
    };
    let refused = |e: async_imap::error::Error| match e {
        e @ (async_imap::error::Error::Io(_) | async_imap::error::Error::ConnectionLost) => {
            ImapError::Connection { server: server.clone(), reason: format!("login: {e}") }
        }
        e => ImapError::Login { server: server.clone(), user: url.user.clone(), reason: e.to_string() },
    };
    let login = async {
        match credentials {
            Credentials::Password(password) => client.login(&url.user, password).await.map_err(|(e, _)| refused(e)),
            Credentials::OAuth2(source) => {
                let token = source.token()?;
                let first = format!("user={}\x01auth=Bearer {token}\x01\x01", url.user);
                client.authenticate("XOAUTH2", XOAuth2 { first: Some(first) }).await.map_err(|(e, _)| refused(e))
            }
        }
    };
    tokio::time::timeout(COMMAND_TIMEOUT, login).await.map_err(|_| gone("login: no answer".into()))?
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_join_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), format!("{}:{}", u32::MAX - 1, u32::MAX));
    }
}
