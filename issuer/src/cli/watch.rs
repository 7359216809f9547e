//! `fanlic watch`: keep deciding registration mail as it arrives, from a
//! Maildir or from an IMAP mailbox, and say what each watch last did.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::Args;
use fanlic_formats::Timestamp;
use fanlic_issuer::ingest::imap::{self, Credentials, ImapOptions, ImapUrl, TokenSource, WatchConfig, WatchEvent};
use fanlic_issuer::ingest::{self, source};
use fanlic_issuer::outbox::{self, FlushReport, OutboxTransport};
use fanlic_issuer::util::{clock, fsutil};
use fanlic_issuer::{Error, Home, ImapError};
use serde_json::{Value, json};

use crate::cli::args::{LinesOutput, Output as _};
use crate::cli::ingest::{batch_size, ingest_path};
use crate::cli::outbox::TransportArgs;
use crate::cli::output::{print, warn};

/// Keep ingesting a Maildir or an IMAP mailbox as registration mail arrives
#[derive(Debug, Args)]
#[command(after_help = "\
Decides each new message as `fanlic ingest` does, printing one line (or JSON object) per message.
A message that cannot be decided now (for example, the database is locked) stays where it is and
is tried again at the next look. Stop it with Ctrl-C or SIGTERM at any moment: each message is
committed before it is moved, so stopping loses nothing and decides nothing twice.

MAILDIR: looks in MAILDIR/new/ every --interval seconds; decided messages move to cur/. An entry
of new/ that is not a regular file (a symbolic link, FIFO, device or folder) is never followed or
read: it is reported as skipped once per run of watch and left in place.

IMAP (imaps://USER@HOST[:PORT]/MAILBOX, or imap://… with STARTTLS required): reads the mailbox,
then waits for new mail with IDLE (where the server has no IDLE: every --interval seconds).
Decided messages are moved to --decided-folder (made if missing) with UID MOVE, or UID COPY +
\\Deleted + UID EXPUNGE. A message over the size limit is decided message_too_large from its
header, never downloaded whole. A lost connection is made again (1 s, doubling to 60 s). A crash
between a decision and its move leaves the message in the mailbox: the next pass finds it decided
(a duplicate) and moves it. Several watchers may read one mailbox (with the records in one
PostgreSQL database): each message is decided once. Login: $FANLIC_IMAP_PASSWORD, or
--password-file, or an OAuth2 access token (SASL XOAUTH2, as Microsoft 365 and Gmail require)
from --oauth2-token-file or --oauth2-token-command, read again at every login. Plain imap://
without TLS only with --allow-plaintext, to a server on loopback.

REPLIES: with an SMTP server (--smtp-host or $FANLIC_SMTP_HOST) or --dir, the outbox is flushed
after each batch, so a reply leaves seconds after its mail arrives; a failed delivery stays
queued and is retried with backoff. Without either, replies stay queued for `fanlic outbox flush`.

STATUS: each watch writes what it did to HOME/watch/ after every pass and every error: the
mailbox, its process, when it last looked, how many messages it decided and left, replies sent and
failed, and its last error. `fanlic watch --status` shows them (--json: as JSON).

EXIT STATUS (--once): 0 every message decided, 1 some left for the next pass, 2 the mailbox or
the home cannot be used.

EXAMPLES:
  fanlic watch /var/mail/licenses
  fanlic watch --status
  fanlic watch ~/Maildir/registrations --interval 30 --json
  FANLIC_IMAP_PASSWORD=... fanlic watch imaps://licenses@mail.example.com/INBOX \\
      --smtp-host mail.example.com
  fanlic watch imaps://licenses@example.com@outlook.office365.com/INBOX \\
      --oauth2-token-command 'my-token-helper --print' --smtp-host smtp.office365.com")]
pub(crate) struct WatchArgs {
    /// The Maildir (with cur/, new/ and tmp/) the mail server delivers to, or the mailbox's
    /// imaps:// URL
    #[arg(value_name = "MAILDIR|URL", required_unless_present = "status")]
    source: Option<String>,

    /// Show what each watch of this home last did (counts, last error), then exit
    #[arg(long, conflicts_with = "once")]
    status: bool,

    /// Seconds between two looks at new/, or at a mailbox whose server has no IDLE (1 to 3600)
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,

    /// Decide what is there now, then exit (for cron)
    #[arg(long)]
    once: bool,

    /// IMAP: PEM file of the CA that signed the server's certificate [default: the public web's CAs]
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// IMAP: the password, from this file (mode 0600) [default: $FANLIC_IMAP_PASSWORD]
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,

    /// IMAP: an OAuth2 access token (SASL XOAUTH2), from this file (mode 0600), read at each login
    #[arg(long, value_name = "FILE", conflicts_with = "password_file")]
    oauth2_token_file: Option<PathBuf>,

    /// IMAP: a command (run with sh -c at each login) that prints an OAuth2 access token
    #[arg(long, value_name = "CMD", conflicts_with_all = ["password_file", "oauth2_token_file"])]
    oauth2_token_command: Option<String>,

    /// IMAP: allow imap:// without TLS, to a server on loopback only
    #[arg(long)]
    allow_plaintext: bool,

    /// IMAP: the folder decided messages are moved to [default: fanlic/decided]
    #[arg(long, value_name = "FOLDER")]
    decided_folder: Option<String>,

    #[command(flatten)]
    transport: TransportArgs,

    #[command(flatten)]
    format: LinesOutput,

    /// Messages decided per transaction (1 to 4096); 1 commits each on its own
    #[arg(long, value_name = "N", default_value_t = ingest::BATCH_MESSAGES, value_parser = batch_size)]
    batch: usize,
}

/// `fanlic watch`: never returns but with an error (or after one pass with `--once`).
pub(crate) fn watch(home: &Path, a: &WatchArgs) -> anyhow::Result<u8> {
    let source = match (&a.source, a.status) {
        (_, true) => return show_status(home, a.format.json()),
        (Some(s), false) => s.as_str(),
        (None, false) => anyhow::bail!("give the Maildir or the imaps:// URL to watch"),
    };
    a.transport.check()?;
    if ImapUrl::is_imap(source) {
        return watch_imap(home, source, a);
    }
    let maildir = PathBuf::from(source);
    if source::detect(&maildir)? != source::SourceKind::Maildir {
        anyhow::bail!(
            "{}: not a Maildir (it needs cur/, new/ and tmp/) nor an imaps:// URL; use `fanlic ingest` for other \
             sources",
            maildir.display()
        );
    }
    let mut h = Home::open(home)?;
    let flush = a.transport.given().then(|| a.transport.transport(&h)).transpose()?;
    if !a.once {
        warn(&format!("watching {}/new every {}s; stop with Ctrl-C", maildir.display(), a.interval));
    }
    let mut warned = HashSet::new();
    let mut status = Status::new(home, &format!("maildir {}", maildir.display()));
    loop {
        // Read again each time, so a change made with `fanlic init`/config applies.
        let trusted = h.authserv_ids()?;
        let undecided =
            ingest_path(&mut h, &trusted, &maildir, (a.format.json(), Some(&mut warned)), a.batch, clock::now()?)?;
        status.undecided += u64::from(undecided);
        if let Some(t) = &flush {
            flush_outbox(&mut h, t, a.format.json(), &mut status)?;
        }
        status.save(true);
        if a.once {
            return Ok(u8::from(undecided));
        }
        std::thread::sleep(core::time::Duration::from_secs(a.interval));
    }
}

/// Sends the queued replies; a failure is reported, and they stay queued.
fn flush_outbox(h: &mut Home, transport: &OutboxTransport, json: bool, status: &mut Status) -> anyhow::Result<()> {
    match outbox::flush_with(h, transport, clock::now()?, outbox::FlushOptions::default()) {
        Ok(report) => report_flush(&report, json, status),
        Err(e) => {
            let text = format!("the outbox could not be flushed (its replies stay queued): {e}");
            warn(&format!("error: {text}"));
            status.error(text);
            Ok(())
        }
    }
}

fn report_flush(report: &FlushReport, json: bool, status: &mut Status) -> anyhow::Result<()> {
    status.replies_sent += report.sent.len() as u64;
    status.replies_failed += report.failures.len() as u64;
    for f in &report.failures {
        let text = format!("reply {} not sent (stays queued, retried later): {}", f.id, f.error);
        warn(&format!("warning: {text}"));
        status.error(text);
    }
    if report.sent.is_empty() {
        return Ok(());
    }
    if json {
        print(&format!("{}\n", serde_json::json!({"outbox": report.to_json()})))?;
    } else {
        for (id, to, via) in &report.sent {
            print(&format!("reply {id} sent to {to} via {via}\n"))?;
        }
    }
    Ok(())
}

/// `fanlic watch imaps://…`.
fn watch_imap(home: &Path, source: &str, a: &WatchArgs) -> anyhow::Result<u8> {
    let url = ImapUrl::parse(source, a.allow_plaintext)?;
    let credentials = match (&a.password_file, &a.oauth2_token_file, &a.oauth2_token_command) {
        (Some(f), _, _) => Credentials::Password(imap::read_secret_file(f)?),
        (_, Some(f), _) => Credentials::OAuth2(TokenSource::File(f.clone())),
        (_, _, Some(c)) => Credentials::OAuth2(TokenSource::Command(c.clone())),
        _ => match std::env::var("FANLIC_IMAP_PASSWORD") {
            Ok(p) if !p.is_empty() => Credentials::Password(p),
            _ => return Err(ImapError::NoCredentials.into()),
        },
    };
    let options = ImapOptions { ca_file: a.ca_file.clone(), decided_folder: a.decided_folder.clone() };
    let mut h = Home::open(home)?;
    let flush = a.transport.given().then(|| a.transport.transport(&h)).transpose()?;
    if flush.is_none() {
        warn("note: no SMTP server (--smtp-host or FANLIC_SMTP_HOST): replies stay queued for `fanlic outbox flush`");
    }
    let cfg = WatchConfig {
        url: &url,
        credentials: &credentials,
        options: &options,
        batch: a.batch,
        max_bytes: source::DEFAULT_MAX_MESSAGE_BYTES,
        once: a.once,
        interval: core::time::Duration::from_secs(a.interval),
        flush: flush.as_ref(),
        // $FANLIC_WATCH_SETTLE_SECS: for tests that make a watcher's crash
        // between its commit and its move and look at once.
        settle: std::env::var("FANLIC_WATCH_SETTLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map_or(imap::SETTLE, core::time::Duration::from_secs),
    };
    let json = a.format.json();
    let mut status = Status::new(home, &url.shown());
    let result = imap::watch(&mut h, &cfg, |event| {
        let text = match event {
            WatchEvent::Connected { mailbox, decided_folder, idle } => {
                let how = if idle { "IDLE".to_owned() } else { format!("a look every {}s", a.interval) };
                if !a.once {
                    warn(&format!(
                        "watching {mailbox} ({how}); decided mail goes to {decided_folder}; stop with Ctrl-C"
                    ));
                }
                status.connected = true;
                status.save(false);
                return Ok(());
            }
            WatchEvent::Passed => {
                status.save(true);
                return Ok(());
            }
            WatchEvent::Lost { error, retry_in } => {
                warn(&format!("error: {error}; connecting again in {}s", retry_in.as_secs()));
                status.connected = false;
                status.error(error.to_string());
                return Ok(());
            }
            WatchEvent::Flushed(report) => {
                return report_flush(report, json, &mut status)
                    .map_err(|e| Error::Output(std::io::Error::other(e.to_string())));
            }
            WatchEvent::FlushFailed(e) => {
                let text = format!("the outbox could not be flushed (its replies stay queued): {e}");
                warn(&format!("error: {text}"));
                status.error(text);
                return Ok(());
            }
            WatchEvent::Progress(ingest::Progress::Decided { outcome, acknowledged }) => {
                status.decided += 1;
                if let Err(e) = acknowledged {
                    warn(&format!("error: {e}"));
                    status.error(e.to_string());
                }
                if json { format!("{}\n", outcome.to_json()) } else { outcome.human() }
            }
            WatchEvent::Progress(ingest::Progress::Undecided { source, error }) => {
                status.undecided += 1;
                let text = format!("{source}: not decided (left in the mailbox): {error}");
                warn(&format!("error: {text}"));
                status.error(text);
                return Ok(());
            }
            WatchEvent::Progress(ingest::Progress::Unreadable(e)) => {
                warn(&format!("error: {e}"));
                status.error(e.to_string());
                return Ok(());
            }
        };
        print(&text)
    });
    status.connected = false;
    match &result {
        Err(e) => status.error(e.to_string()),
        Ok(_) => status.save(false),
    }
    Ok(u8::from(result?))
}

/// What one watch did, kept in HOME/watch/ for `fanlic watch --status`.
struct Status {
    path: PathBuf,
    watching: String,
    started: Timestamp,
    connected: bool,
    decided: u64,
    undecided: u64,
    replies_sent: u64,
    replies_failed: u64,
    last_pass: Option<Timestamp>,
    last_error: Option<(Timestamp, String)>,
}

impl Status {
    fn new(home: &Path, watching: &str) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, watching.as_bytes());
        let name: String = digest.as_ref().iter().take(8).map(|b| format!("{b:02x}")).collect();
        Self {
            path: home.join("watch").join(format!("{name}.json")),
            watching: watching.to_owned(),
            started: clock::now().unwrap_or(Timestamp(0)),
            connected: false,
            decided: 0,
            undecided: 0,
            replies_sent: 0,
            replies_failed: 0,
            last_pass: None,
            last_error: None,
        }
    }

    fn error(&mut self, text: String) {
        self.last_error = Some((clock::now().unwrap_or(Timestamp(0)), text));
        self.save(false);
    }

    /// Writes it (a pass just ended when `passed`). A status that cannot be
    /// written is a warning: the watch goes on.
    fn save(&mut self, passed: bool) {
        if passed {
            self.last_pass = clock::now().ok();
        }
        let v = json!({
            "watching": self.watching,
            "pid": std::process::id(),
            "started_at": self.started.to_string(),
            "connected": self.connected,
            "last_pass_at": self.last_pass.map(|t| t.to_string()),
            "decided": self.decided,
            "undecided": self.undecided,
            "replies_sent": self.replies_sent,
            "replies_failed": self.replies_failed,
            "last_error": self.last_error.as_ref().map(|(at, m)| json!({"at": at.to_string(), "message": m})),
        });
        let dir = self.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let written = std::fs::create_dir_all(&dir).map_err(|e| e.to_string()).and_then(|()| {
            fsutil::write_atomic(&self.path, format!("{v}\n").as_bytes(), 0o644, true).map_err(|e| e.to_string())
        });
        if let Err(e) = written {
            warn(&format!("warning: cannot write the watch status {}: {e}", self.path.display()));
        }
    }
}

/// `fanlic watch --status`: every status in HOME/watch/, with whether its
/// process still runs.
fn show_status(home: &Path, json: bool) -> anyhow::Result<u8> {
    let mut all: Vec<Value> = match std::fs::read_dir(home.join("watch")) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter_map(|t| serde_json::from_str::<Value>(&t).ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    for s in &mut all {
        let running = s["pid"].as_u64().is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        s["running"] = Value::Bool(running);
    }
    all.sort_by(|a, b| a["watching"].as_str().cmp(&b["watching"].as_str()));
    if json {
        print(&format!("{}\n", Value::Array(all)))?;
        return Ok(0);
    }
    if all.is_empty() {
        print("no watch has run on this home\n")?;
        return Ok(0);
    }
    for s in &all {
        let text = |k: &str| s[k].as_str().unwrap_or("–").to_owned();
        let n = |k: &str| s[k].as_u64().unwrap_or(0);
        let state = match (s["running"].as_bool() == Some(true), s["connected"].as_bool() == Some(true)) {
            (true, true) => "running, connected",
            (true, false) => "running, not connected",
            (false, _) => "not running",
        };
        let mut out = format!(
            "{}\n  {state} (pid {}), since {}; last pass {}\n  decided {}, left undecided {}, replies sent {}, failed {}\n",
            text("watching"),
            n("pid"),
            text("started_at"),
            text("last_pass_at"),
            n("decided"),
            n("undecided"),
            n("replies_sent"),
            n("replies_failed"),
        );
        if let Some(e) = s["last_error"].as_object() {
            out.push_str(&format!(
                "  last error at {}: {}\n",
                e.get("at").and_then(Value::as_str).unwrap_or("?"),
                e.get("message").and_then(Value::as_str).unwrap_or("?")
            ));
        }
        print(&out)?;
    }
    Ok(0)
}
