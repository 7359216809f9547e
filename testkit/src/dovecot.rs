//! A real Dovecot IMAP server for tests: Debian's `dovecot-imapd`, a
//! configuration, mail folder and TLS files of its own in a temporary
//! folder, on loopback, started and stopped by the tests.
//!
//! [`Dovecot::start`] writes `dovecot.conf` (nothing is read from
//! `/etc/dovecot`) and runs `dovecot -F -c CONF` as a child process; it
//! listens on 127.0.0.1 only, on two free ports: implicit TLS
//! ([`Dovecot::imaps_port`], [`Dovecot::url`]) and plain IMAP that offers
//! STARTTLS ([`Dovecot::starttls_port`], [`Dovecot::starttls_url`]). The
//! certificate, for `localhost` and 127.0.0.1, is signed by a throw-away CA
//! made with the `openssl` CLI ([`Dovecot::ca_file`]). One user,
//! [`USER`], logs in with a random password (PLAIN, LOGIN, or the IMAP
//! `LOGIN` command, also on the plain port: plaintext authentication is
//! allowed there, as the client only uses it when told to).
//!
//! [`Dovecot::start_with_oauth2`] also configures Dovecot's `oauth2` passdb
//! (XOAUTH2 and OAUTHBEARER) against a token-introspection endpoint
//! (RFC 7662, `introspection_mode = post`) that this process serves on
//! 127.0.0.1 from a thread: it answers `{"active": true, "username": USER}`
//! for [`Dovecot::oauth2_token`] and `{"active": false}` for anything else.
//!
//! The helpers ([`Dovecot::append`], [`Dovecot::uids`], [`Dovecot::create`],
//! …) speak real IMAP to the server, with Python's `imaplib` over TLS (a
//! `python3` child process per call), as another client would: an MTA's
//! delivery is an APPEND. [`Dovecot::kick`] drops every connection of the
//! user (`doveadm kick`); [`Dovecot::stop`] and [`Dovecot::start_again`]
//! stop the server and bring it back on the same ports.
//!
//! As root (CI), Dovecot's own processes run as the users `dovecot` and
//! `dovenull` that Debian's package creates, and the mail belongs to the user
//! `nobody`; the folder is mode 0711 so they can reach what they need, and
//! only what they need is readable by them. As another user, everything runs
//! as that user.
//!
//! Tuned for tests: IDLE reports new mail at once (inotify; the fallback poll
//! and `* OK Still here` come every second), failed logins are not
//! penalised with growing delays (a refusal still takes up to half a second:
//! Dovecot answers failures on a timer), and one user may hold 100
//! connections. IDLE, MOVE (RFC 6851) and UIDPLUS are announced, as Dovecot
//! always does. Mail is kept in Maildir; mailbox levels are separated by `/`
//! (`Archive/2026`).
//!
//! The master runs in a process group of its own, which its processes join;
//! [`Dovecot::stop`] and drop send SIGTERM to the whole group, which ends it
//! at once (a SIGTERM to the master alone takes a second). Cleanup as in
//! [`crate::postgres`]: a watchdog `sh`, in a process group of its own,
//! reads a pipe only this process holds; when the process ends, however it
//! ends, it sends that SIGTERM to the group of the pid in `run/master.pid`
//! and removes the folder. Dropping a [`Dovecot`] does the same and waits
//! for it.
#![allow(clippy::panic, reason = "a test harness: a failed step ends the test, with what failed and how")]

use crate::process::{self, Watchdog, free_port, random_hex};
use core::{
    fmt::Write as _,
    net::Ipv4Addr,
    sync::atomic::{AtomicBool, AtomicU32, Ordering},
    time::Duration,
};
use std::{
    fs,
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::{TcpListener, TcpStream},
    os::unix::{
        fs::{DirBuilderExt as _, PermissionsExt as _},
        process::CommandExt as _,
    },
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{Arc, Mutex},
    thread,
    time::Instant,
};

/// The user the tests log in as.
pub const USER: &str = "registrations";

/// Dovecot's master, which Debian's `dovecot-core` installs.
const DOVECOT: &str = "/usr/sbin/dovecot";

/// Dovecot's IMAP server process, which Debian's `dovecot-imapd` installs.
const IMAP: &str = "/usr/lib/dovecot/imap";

/// What to install when Dovecot is missing.
const INSTALL: &str = "apt-get install --no-install-recommends dovecot-imapd";

/// How many times [`Dovecot::start`] picks other ports when one it picked was
/// taken between the pick and the server's bind.
const PORT_ATTEMPTS: u32 = 5;

/// How long the server may take to start or stop.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The IMAP client the helpers run (`python3 imap.py COMMAND …`).
const IMAP_SCRIPT: &str = include_str!("dovecot_imap.py");

/// A Dovecot IMAP server of its own, for tests.
#[derive(Debug)]
pub struct Dovecot {
    /// The temporary folder: configuration, TLS files, mail, sockets, log.
    dir: PathBuf,
    conf: PathBuf,
    ca: PathBuf,
    log: PathBuf,
    imaps_port: u16,
    starttls_port: u16,
    password: String,
    oauth2: Option<Introspection>,
    /// The running master (`dovecot -F`), none while stopped.
    master: Mutex<Option<Child>>,
    watchdog: Watchdog,
}

impl Dovecot {
    /// A server whose one user, [`USER`], logs in with [`Dovecot::password`];
    /// returns once it accepts connections on both ports.
    ///
    /// # Panics
    ///
    /// With what to install (`apt-get install dovecot-imapd`) when Dovecot is
    /// missing, and with the command, its output and the tail of the server's
    /// log when a step fails.
    pub fn start() -> Dovecot {
        Self::start_with(false)
    }

    /// [`Dovecot::start`], and Dovecot's `oauth2` passdb: XOAUTH2 and
    /// OAUTHBEARER logins with [`Dovecot::oauth2_token`] succeed as [`USER`],
    /// checked by a token-introspection endpoint this process serves.
    ///
    /// # Panics
    ///
    /// As [`Dovecot::start`].
    pub fn start_with_oauth2() -> Dovecot {
        Self::start_with(true)
    }

    fn start_with(oauth2: bool) -> Dovecot {
        if let Some(missing) = [DOVECOT, IMAP].into_iter().find(|p| !Path::new(p).is_file()) {
            panic!(
                "{missing} is missing: the IMAP tests run on a real Dovecot; install it with `{INSTALL}` \
                 (and `python3` and `openssl`, which the harness also runs)"
            );
        }
        let users = Users::get();
        let dir = new_temp_dir();
        // Right after the folder exists: a panic below drops it, which stops
        // whatever was started and removes the folder.
        let watchdog = watchdog(&dir);
        let oauth2 = oauth2.then(|| Introspection::start(random_hex(32)));
        let mut server = Dovecot {
            conf: dir.join("dovecot.conf"),
            ca: dir.join("ca.pem"),
            log: dir.join("dovecot.log"),
            imaps_port: 0,
            starttls_port: 0,
            password: random_hex(16),
            oauth2,
            master: Mutex::new(None),
            dir,
            watchdog,
        };
        make_tls_files(&server.dir);
        server.write_files(&users);
        write_file(&server.dir.join("imap.py"), IMAP_SCRIPT, 0o600, None);
        let mut failures = String::new();
        for _ in 0..PORT_ATTEMPTS {
            server.imaps_port = free_port();
            server.starttls_port = free_port();
            if server.imaps_port == server.starttls_port {
                continue;
            }
            write_file(&server.conf, &server.config(&users), 0o600, None);
            match server.launch() {
                Ok(()) => return server,
                Err(failure) if failure.contains("Address already in use") => failures.push_str(&failure),
                Err(failure) => panic!("{failure}"),
            }
        }
        panic!("no free ports after {PORT_ATTEMPTS} attempts:\n{failures}");
    }

    /// The user's password.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The user, [`USER`].
    pub fn user(&self) -> &str {
        USER
    }

    /// The one OAuth 2.0 access token the introspection endpoint calls active
    /// (for [`USER`]).
    ///
    /// # Panics
    ///
    /// When the server was not started with [`Dovecot::start_with_oauth2`].
    pub fn oauth2_token(&self) -> &str {
        &self.introspection().token
    }

    /// How many introspection requests the endpoint has answered (Dovecot
    /// asks once per XOAUTH2 or OAUTHBEARER login; it caches nothing).
    ///
    /// # Panics
    ///
    /// When the server was not started with [`Dovecot::start_with_oauth2`].
    pub fn introspections(&self) -> u32 {
        self.introspection().requests.load(Ordering::SeqCst)
    }

    fn introspection(&self) -> &Introspection {
        self.oauth2.as_ref().unwrap_or_else(|| panic!("this Dovecot was not started with start_with_oauth2()"))
    }

    /// The CA certificate (PEM) the server's certificate is signed by. The
    /// server's certificate names `localhost` and `127.0.0.1`.
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The implicit-TLS (imaps) port on 127.0.0.1.
    pub fn imaps_port(&self) -> u16 {
        self.imaps_port
    }

    /// The plain IMAP port on 127.0.0.1, which offers STARTTLS.
    pub fn starttls_port(&self) -> u16 {
        self.starttls_port
    }

    /// `imaps://registrations@127.0.0.1:PORT/MAILBOX`, the mailbox
    /// percent-encoded (but its `/`).
    pub fn url(&self, mailbox: &str) -> String {
        format!("imaps://{USER}@127.0.0.1:{}/{}", self.imaps_port, percent_encode(mailbox))
    }

    /// `imap://registrations@127.0.0.1:PORT/MAILBOX` on the STARTTLS port.
    pub fn starttls_url(&self, mailbox: &str) -> String {
        format!("imap://{USER}@127.0.0.1:{}/{}", self.starttls_port, percent_encode(mailbox))
    }

    /// The server's temporary folder (`dovecot.conf`, `mail/`, `run/`, the
    /// TLS files); removed when the server is dropped or its process exits.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's log (logins, refusals with their reason, disconnects).
    pub fn log_file(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the server's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(cannot read it: {e})"));
        let all: Vec<&str> = log.lines().collect();
        all.get(all.len().saturating_sub(lines)..).unwrap_or_default().join("\n")
    }

    /// The value of Dovecot's setting `name` in this server's configuration
    /// (`doveconf -c CONF -h NAME`).
    ///
    /// # Panics
    ///
    /// When `doveconf` fails (e.g. no such setting).
    pub fn setting(&self, name: &str) -> String {
        let mut cmd = Command::new("doveconf");
        cmd.arg("-c").arg(&self.conf).args(["-h", name]);
        match output_of(cmd, "doveconf") {
            Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
            Err(failure) => panic!("{failure}"),
        }
    }

    /// IMAP APPEND of `message` to `mailbox`, as an MTA delivers; returns its
    /// UID (from APPENDUID). Bare LF line ends become CRLF (Python's
    /// `imaplib` sends them so).
    ///
    /// # Panics
    ///
    /// When the server refuses it (e.g. no such mailbox).
    pub fn append(&self, mailbox: &str, message: &[u8]) -> u32 {
        let uids = self.append_all(mailbox, &[message]);
        uids.first().copied().unwrap_or_else(|| panic!("APPEND to {mailbox}: no UID"))
    }

    /// [`Dovecot::append`] of each message in turn, on one connection (one
    /// `python3` run instead of one per message); their UIDs, in order.
    ///
    /// # Panics
    ///
    /// As [`Dovecot::append`]; the messages before the refused one stay
    /// appended.
    pub fn append_all(&self, mailbox: &str, messages: &[&[u8]]) -> Vec<u32> {
        let mut stdin = Vec::new();
        for message in messages {
            stdin.extend_from_slice(format!("{}\n", message.len()).as_bytes());
            stdin.extend_from_slice(message);
        }
        let out = self.imap_text(&["append", mailbox], Some(&stdin));
        let uids: Vec<u32> = out
            .lines()
            .map(|l| parse_uid(l).unwrap_or_else(|| panic!("APPEND to {mailbox}: not a UID: {l:?}")))
            .collect();
        if uids.len() != messages.len() {
            panic!("APPEND to {mailbox}: {} UIDs for {} messages: {out:?}", uids.len(), messages.len());
        }
        uids
    }

    /// The UIDs of the messages in `mailbox`, ascending (EXAMINE, UID SEARCH
    /// ALL).
    ///
    /// # Panics
    ///
    /// When the server refuses it (e.g. no such mailbox).
    pub fn uids(&self, mailbox: &str) -> Vec<u32> {
        let out = self.imap_text(&["uids", mailbox], None);
        let mut uids: Vec<u32> = out
            .lines()
            .map(|l| parse_uid(l).unwrap_or_else(|| panic!("UID SEARCH in {mailbox}: not a UID: {l:?}")))
            .collect();
        uids.sort_unstable();
        uids
    }

    /// How many messages `mailbox` holds.
    ///
    /// # Panics
    ///
    /// As [`Dovecot::uids`].
    pub fn count(&self, mailbox: &str) -> usize {
        self.uids(mailbox).len()
    }

    /// The bytes of the message `uid` of `mailbox` (`BODY.PEEK[]`: its
    /// `\Seen` flag is left alone).
    ///
    /// # Panics
    ///
    /// When there is no such message or mailbox.
    pub fn message(&self, mailbox: &str, uid: u32) -> Vec<u8> {
        self.imap_or_panic(&["fetch", mailbox, &uid.to_string()], None)
    }

    /// IMAP CREATE.
    ///
    /// # Panics
    ///
    /// When the server refuses it (e.g. it exists).
    pub fn create(&self, mailbox: &str) {
        self.imap_or_panic(&["create", mailbox], None);
    }

    /// The user's mailboxes (IMAP LIST), in the server's order.
    pub fn mailboxes(&self) -> Vec<String> {
        self.imap_text(&["list"], None).lines().map(str::to_owned).collect()
    }

    /// UID MOVE (RFC 6851) of message `uid` from `mailbox` to `to`, as another
    /// client (a person's mail program) would.
    ///
    /// # Panics
    ///
    /// When the server refuses it.
    pub fn move_message(&self, mailbox: &str, uid: u32, to: &str) {
        self.imap_or_panic(&["move", mailbox, &uid.to_string(), to], None);
    }

    /// Logs in as [`USER`] with `password` over implicit TLS; the
    /// capabilities the server announces after login, or the refusal.
    pub fn login_with_password(&self, password: &str) -> Result<Vec<String>, String> {
        self.login("password", password, false)
    }

    /// [`Dovecot::login_with_password`] on the plain port after STARTTLS.
    pub fn login_with_password_after_starttls(&self, password: &str) -> Result<Vec<String>, String> {
        self.login("password", password, true)
    }

    /// Logs in as [`USER`] with SASL XOAUTH2 and the access token `token`
    /// over implicit TLS; the capabilities after login, or the refusal.
    pub fn login_with_xoauth2(&self, token: &str) -> Result<Vec<String>, String> {
        self.login("xoauth2", token, false)
    }

    /// [`Dovecot::login_with_xoauth2`] with SASL OAUTHBEARER (RFC 7628).
    pub fn login_with_oauthbearer(&self, token: &str) -> Result<Vec<String>, String> {
        self.login("oauthbearer", token, false)
    }

    fn login(&self, method: &str, secret: &str, starttls: bool) -> Result<Vec<String>, String> {
        let mut args = vec!["login", method, secret];
        if starttls {
            args.push("starttls");
        }
        let out = self.imap(&args, None)?;
        Ok(String::from_utf8_lossy(&out).split_whitespace().map(str::to_owned).collect())
    }

    /// Drops every IMAP connection of [`USER`] (`doveadm kick`): the server
    /// says `* BYE` and closes them, as when it restarts. The server keeps
    /// running and takes new logins at once.
    ///
    /// # Panics
    ///
    /// When `doveadm` fails.
    pub fn kick(&self) {
        let mut cmd = Command::new("doveadm");
        cmd.arg("-c").arg(&self.conf).args(["kick", USER]);
        output_of(cmd, "doveadm kick").unwrap_or_else(|failure| panic!("{failure}"));
    }

    /// Stops the server (SIGTERM to its master, which closes every
    /// connection) and waits until it is gone; [`Dovecot::start_again`] brings
    /// it back.
    ///
    /// # Panics
    ///
    /// When it does not stop within 30 seconds.
    pub fn stop(&self) {
        let mut master = self.master.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(child) = master.take() {
            stop_master(child, &self.dir);
        }
    }

    /// Starts the server again after [`Dovecot::stop`], on the same ports, and
    /// waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// When it does not start, e.g. because another process took a port
    /// meanwhile.
    pub fn start_again(&self) {
        if let Err(failure) = self.launch() {
            panic!("{failure}");
        }
    }

    /// `dovecot -F -c CONF`, then waits until both ports accept connections
    /// (or the master exits: its stderr and the log's tail say why).
    fn launch(&self) -> Result<(), String> {
        let mut master = self.master.lock().unwrap_or_else(|e| e.into_inner());
        if master.is_some() {
            return Err("start_again(): the server is running; stop() it first".to_owned());
        }
        let stderr_path = self.dir.join("dovecot.stderr");
        let stderr = fs::File::create(&stderr_path).map_err(|e| format!("creating {}: {e}", stderr_path.display()))?;
        let mut cmd = Command::new(DOVECOT);
        cmd.arg("-F").arg("-c").arg(&self.conf).current_dir(&self.dir);
        // Not a pipe: the master must never hold one of cargo's.
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(stderr);
        // A process group of its own, which its processes join: a SIGTERM to
        // the group ends them all at once (one to the master alone takes a
        // second), and a Ctrl-C to the tests leaves it to the watchdog.
        cmd.process_group(0);
        let log_before = fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
        let mut child = cmd.spawn().map_err(|e| format!("starting {cmd:?}: {e} (install Dovecot: `{INSTALL}`)"))?;
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "{cmd:?} exited ({status}) instead of serving on 127.0.0.1:{} and :{}\nstderr:\n{}\nlast lines \
                     of {}:\n{}",
                    self.imaps_port,
                    self.starttls_port,
                    fs::read_to_string(&stderr_path).unwrap_or_default().trim_end(),
                    self.log.display(),
                    self.log_tail(20)
                ));
            }
            // The master logs that it starts up once its listeners are bound
            // (to its log, or to stderr if that comes first): a port that
            // accepts before that may be another process's.
            let started = |text: String| text.contains(" starting up for ");
            if (started(self.log_since(log_before)) || started(fs::read_to_string(&stderr_path).unwrap_or_default()))
                && accepts(self.imaps_port)
                && greets(self.starttls_port)
            {
                *master = Some(child);
                return Ok(());
            }
            if start.elapsed() > TIMEOUT {
                stop_master(child, &self.dir);
                return Err(format!(
                    "{cmd:?} did not listen on 127.0.0.1:{} and :{} within {TIMEOUT:?}\nstderr:\n{}\nlast lines of \
                     {}:\n{}",
                    self.imaps_port,
                    self.starttls_port,
                    fs::read_to_string(&stderr_path).unwrap_or_default().trim_end(),
                    self.log.display(),
                    self.log_tail(20)
                ));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's log from byte `offset` on.
    fn log_since(&self, offset: u64) -> String {
        let log = fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(log.get(offset as usize..).unwrap_or_default()).into_owned()
    }

    /// The passwd-file, the oauth2 passdb's settings and the mail folder.
    fn write_files(&self, users: &Users) {
        // Read by the auth process, which runs as `dovecot` when we are root.
        let auth_group = users.internal_gid;
        write_file(&self.dir.join("passwd"), &format!("{USER}:{{PLAIN}}{}\n", self.password), 0o640, auth_group);
        if let Some(oauth2) = &self.oauth2 {
            write_file(
                &self.dir.join("oauth2.conf"),
                &format!(
                    "# RFC 7662 token introspection, served by the test process.\n\
                     introspection_mode = post\n\
                     introspection_url = http://127.0.0.1:{}/introspect\n\
                     force_introspection = yes\n\
                     username_attribute = username\n\
                     active_attribute = active\n\
                     active_value = true\n",
                    oauth2.port
                ),
                0o640,
                auth_group,
            );
        }
        let mail = self.dir.join("mail");
        if let Err(e) = fs::DirBuilder::new().mode(0o700).create(&mail) {
            panic!("creating {}: {e}", mail.display());
        }
        if let Err(e) = std::os::unix::fs::chown(&mail, Some(users.mail_uid), Some(users.mail_gid)) {
            panic!("chown {} to the mail user: {e}", mail.display());
        }
    }

    fn config(&self, users: &Users) -> String {
        let dir = self.dir.display();
        let mut mechanisms = "plain login".to_owned();
        let mut oauth2_passdb = String::new();
        if self.oauth2.is_some() {
            mechanisms.push_str(" xoauth2 oauthbearer");
            oauth2_passdb = format!(
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {dir}/oauth2.conf\n}}\n"
            );
        }
        let mut text = String::new();
        let _ = write!(
            text,
            "# fanlic-testkit's Dovecot (testkit/src/dovecot.rs); nothing from /etc/dovecot.\n\
             base_dir = {dir}/run\n\
             state_dir = {dir}/state\n\
             instance_name = {instance}\n\
             protocols = imap\n\
             listen = 127.0.0.1\n\
             log_path = {dir}/dovecot.log\n\
             auth_verbose = yes\n\
             default_internal_user = {internal}\n\
             default_internal_group = {internal_group}\n\
             default_login_user = {login}\n\
             first_valid_uid = {mail_uid}\n\
             last_valid_uid = {mail_uid}\n\
             ssl = yes\n\
             ssl_cert = <{dir}/server.crt\n\
             ssl_key = <{dir}/server.key\n\
             ssl_min_protocol = TLSv1.2\n\
             # The plain port takes passwords too: the client sends one there only\n\
             # when told to (its own flag), and this is loopback.\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = {mechanisms}\n\
             # Refusals at once: tests check them, and a delay only slows them.\n\
             auth_failure_delay = 0\n\
             mail_location = maildir:~/Maildir\n\
             # `/` separates levels (`Archive/2026`), as on most servers; Maildir++\n\
             # alone would use `.`.\n\
             namespace inbox {{\n\
             \x20 inbox = yes\n\
             \x20 separator = /\n\
             }}\n\
             # IDLE: new mail is seen at once (inotify); the interval is the fallback\n\
             # poll, and `* OK Still here` comes every second.\n\
             mailbox_idle_check_interval = 1 secs\n\
             imap_idle_notify_interval = 1 secs\n\
             service imap-login {{\n\
             {chroot}\
             \x20 inet_listener imap {{\n\
             \x20   address = 127.0.0.1\n\
             \x20   port = {starttls_port}\n\
             \x20 }}\n\
             \x20 inet_listener imaps {{\n\
             \x20   address = 127.0.0.1\n\
             \x20   port = {imaps_port}\n\
             \x20   ssl = yes\n\
             \x20 }}\n\
             }}\n\
             # No penalty for failed logins (anvil's delays of up to 15 s per IP,\n\
             # all 127.0.0.1 here): tests fail logins on purpose.\n\
             service anvil {{\n\
             {chroot}\
             \x20 unix_listener anvil-auth-penalty {{\n\
             \x20   mode = 0\n\
             \x20 }}\n\
             }}\n\
             protocol imap {{\n\
             \x20 mail_max_userip_connections = 100\n\
             }}\n\
             passdb {{\n\
             \x20 driver = passwd-file\n\
             \x20 mechanisms = plain login\n\
             \x20 args = scheme=PLAIN username_format=%u {dir}/passwd\n\
             }}\n\
             {oauth2_passdb}\
             userdb {{\n\
             \x20 driver = static\n\
             \x20 args = uid={mail_uid} gid={mail_gid} home={dir}/mail/%u allow_all_users=yes\n\
             }}\n",
            instance = self.dir.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
            internal = users.internal,
            internal_group = users.internal_group,
            // Only root may chroot.
            chroot = if users.root { "" } else { "  chroot =\n" },
            login = users.login,
            mail_uid = users.mail_uid,
            mail_gid = users.mail_gid,
            starttls_port = self.starttls_port,
            imaps_port = self.imaps_port,
        );
        text
    }

    /// `python3 imap.py ARGS…` against this server; its stdout, or what
    /// failed.
    fn imap(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let mut cmd = Command::new("python3");
        cmd.arg(self.dir.join("imap.py"))
            .args(args)
            .env("FANLIC_IMAP_USER", USER)
            .env("FANLIC_IMAP_PASSWORD", &self.password)
            .env("FANLIC_IMAP_CA", &self.ca)
            .env("FANLIC_IMAP_PORT", self.imaps_port.to_string())
            .env("FANLIC_IMAP_STARTTLS_PORT", self.starttls_port.to_string())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let what = format!("IMAP {}", args.first().copied().unwrap_or_default());
        let mut child = cmd.spawn().map_err(|e| {
            format!("{what}: {cmd:?} cannot run: {e} (the IMAP helpers need python3: `apt-get install python3`)")
        })?;
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A thread: the script may answer before it has read it all.
            let bytes = bytes.to_vec();
            thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let out = child.wait_with_output().map_err(|e| format!("{what}: waiting for {cmd:?}: {e}"))?;
        if out.status.success() {
            return Ok(out.stdout);
        }
        Err(format!(
            "{what} {:?} failed ({}): {}",
            args.get(1..).unwrap_or_default(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }

    /// [`Dovecot::imap`]; on failure, a panic with the log's tail.
    fn imap_or_panic(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        match self.imap(args, stdin) {
            Ok(out) => out,
            Err(failure) => panic!("{failure}\nlast lines of {}:\n{}", self.log.display(), self.log_tail(10)),
        }
    }

    fn imap_text(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        String::from_utf8_lossy(&self.imap_or_panic(args, stdin)).into_owned()
    }
}

impl Drop for Dovecot {
    /// Stops the server and removes its folder (the watchdog's work, waited
    /// for); ends the introspection endpoint.
    fn drop(&mut self) {
        if let Some(child) = self.master.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            stop_master(child, &self.dir);
        }
        self.watchdog.finish();
        if self.dir.exists() {
            let _ = fs::remove_dir_all(&self.dir);
        }
        if let Some(oauth2) = &self.oauth2 {
            oauth2.stop();
        }
    }
}

/// SIGTERM to the master, which ends its processes and exits; waits for it.
fn stop_master(mut child: Child, dir: &Path) {
    let mut cmd = Command::new("kill");
    cmd.args(["-TERM", "--", &format!("-{}", child.id())]);
    let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => break,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("Dovecot's master (pid {}) did not stop within {TIMEOUT:?} of a SIGTERM", child.id());
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
        }
    }
    // Stale, it would point the watchdog at whatever process gets the pid next.
    let _ = fs::remove_file(dir.join("run").join("master.pid"));
}

/// Whether 127.0.0.1:`port` accepts a TCP connection.
fn accepts(port: u16) -> bool {
    TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1)).is_ok()
}

/// Whether 127.0.0.1:`port` greets with `* OK`, as Dovecot's IMAP does.
fn greets(port: u16) -> bool {
    let Ok(stream) = TcpStream::connect_timeout(&(Ipv4Addr::LOCALHOST, port).into(), Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut greeting = String::new();
    BufReader::new(stream).read_line(&mut greeting).is_ok() && greeting.starts_with("* OK")
}

/// Who Dovecot's processes run as, and who owns the mail.
#[derive(Debug)]
struct Users {
    root: bool,
    internal: String,
    internal_group: String,
    internal_gid: Option<u32>,
    login: String,
    mail_uid: u32,
    mail_gid: u32,
}

impl Users {
    fn get() -> Users {
        if id(&["-u"]) == "0" {
            let gid = |user: &str| parse_id(&id(&["-g", user]));
            Users {
                root: true,
                internal: "dovecot".to_owned(),
                internal_group: "dovecot".to_owned(),
                internal_gid: Some(gid("dovecot")),
                login: "dovenull".to_owned(),
                mail_uid: parse_id(&id(&["-u", "nobody"])),
                mail_gid: gid("nobody"),
            }
        } else {
            let me = id(&["-un"]);
            Users {
                root: false,
                internal: me.clone(),
                internal_group: id(&["-gn"]),
                internal_gid: None,
                login: me,
                mail_uid: parse_id(&id(&["-u"])),
                mail_gid: parse_id(&id(&["-g"])),
            }
        }
    }
}

/// `id ARGS`, trimmed.
fn id(args: &[&str]) -> String {
    let mut cmd = Command::new("id");
    cmd.args(args);
    match output_of(cmd, "looking up a user") {
        Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Err(failure) => panic!(
            "{failure}\nas root, Dovecot's processes run as the users dovecot and dovenull, which Debian's \
             package creates (`{INSTALL}`), and the mail belongs to nobody"
        ),
    }
}

fn parse_id(s: &str) -> u32 {
    s.parse().unwrap_or_else(|e| panic!("`{s}` is not a user or group id: {e}"))
}

fn parse_uid(s: &str) -> Option<u32> {
    s.parse().ok().filter(|uid| *uid > 0)
}

/// The RFC 7662 token-introspection endpoint Dovecot's oauth2 passdb asks: a
/// thread of this process on 127.0.0.1, one request per connection.
#[derive(Debug)]
struct Introspection {
    token: String,
    port: u16,
    requests: Arc<AtomicU32>,
    done: Arc<AtomicBool>,
}

impl Introspection {
    fn start(token: String) -> Introspection {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|e| panic!("binding 127.0.0.1:0 for the token-introspection endpoint: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_else(|e| panic!("its port: {e}"));
        let requests = Arc::new(AtomicU32::new(0));
        let done = Arc::new(AtomicBool::new(false));
        let (valid, count, stop) = (token.clone(), Arc::clone(&requests), Arc::clone(&done));
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream
                    && answer_introspection(stream, &valid)
                {
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
        Introspection { token, port, requests, done }
    }

    /// Ends the thread: the flag, then a connection to wake its `accept`.
    fn stop(&self) {
        self.done.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
    }
}

/// Reads one `POST` with `token=…` (form-encoded) and answers whether it is
/// `valid`; whether a request was answered.
fn answer_introspection(stream: TcpStream, valid: &str) -> bool {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut length = 0usize;
    let mut line = String::new();
    let mut first = true;
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if first {
            first = false;
            if !header.starts_with("POST ") {
                return respond(&stream, "405 Method Not Allowed", "{\"error\":\"POST only\"}");
            }
        } else if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length.min(64 * 1024)];
    if reader.read_exact(&mut body).is_err() {
        return false;
    }
    let body = String::from_utf8_lossy(&body);
    let token = body.split('&').find_map(|pair| pair.strip_prefix("token=")).map(percent_decode);
    let answer = if token.as_deref() == Some(valid) {
        format!("{{\"active\": true, \"username\": \"{USER}\", \"scope\": \"imap\", \"token_type\": \"Bearer\"}}")
    } else {
        "{\"active\": false}".to_owned()
    };
    respond(&stream, "200 OK", &answer)
}

fn respond(mut stream: &TcpStream, status: &str, json: &str) -> bool {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    );
    stream.write_all(response.as_bytes()).is_ok()
}

/// application/x-www-form-urlencoded value decoding.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(core::str::from_utf8(h).ok()?, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes all but the unreserved characters and `/`, for a URL's
/// path.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The watchdog's script (`$1` the folder).
/// The master's pid (its process group's id too) is read at the end, as
/// it changes with `start_again`; only a live Dovecot is signalled (a
/// stale pid may be another process's by then), and a zombie counts as
/// gone (an orphan's reaper may be slow, or absent in a container).
const WATCHDOG: &str = r#"
        trap '' INT HUP
        dir=$1
        # EOF when the test process closes the pipe or exits, however it exits.
        read -r _ || :
        pid=$(cat "$dir/run/master.pid" 2>/dev/null) || pid=
        if [ -n "$pid" ] && grep -q dovecot "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "-$pid" 2>/dev/null; then
            i=0
            while [ $i -lt 600 ] && [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
                sleep 0.05
                i=$((i + 1))
            done
        fi
        rm -rf "$dir"
    "#;

/// Stops the server and removes its folder when the test process lets go.
fn watchdog(dir: &Path) -> Watchdog {
    Watchdog::spawn(Command::new("sh"), WATCHDOG, "fanlic-dovecot-watchdog", dir, &[], "server")
}

/// A throw-away CA and a server certificate for `localhost` and 127.0.0.1
/// that it signs, both ECDSA P-256, with the extensions rustls/webpki require
/// (a CA:TRUE CA, subjectAltName on the server's).
fn make_tls_files(dir: &Path) {
    write_file(
        &dir.join("server.ext"),
        "basicConstraints = critical, CA:FALSE\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\n\
         subjectAltName = DNS:localhost, IP:127.0.0.1\n",
        0o600,
        None,
    );
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let openssl = |args: &[&str]| {
        let mut cmd = Command::new("openssl");
        cmd.current_dir(dir).args(args);
        output_of(cmd, "making the test server's TLS certificates").unwrap_or_else(|failure| panic!("{failure}"));
    };
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "30",
        "-subj",
        "/CN=fanlic TEST-ONLY Dovecot CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(&ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    openssl(&csr);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        "server.ext",
        "-out",
        "server.crt",
    ]);
    // Read by the master as root (ssl_key = <FILE); nobody else.
    for key in ["server.key", "ca.key"] {
        let key = dir.join(key);
        if let Err(e) = fs::set_permissions(&key, fs::Permissions::from_mode(0o600)) {
            panic!("chmod 600 {}: {e}", key.display());
        }
    }
}

/// `$TMPDIR/fanlic-dovecot-PID-N-RANDOM`, new, mode 0711: Dovecot's users
/// must reach the files in it that are theirs, and list none of it.
fn new_temp_dir() -> PathBuf {
    process::new_temp_dir("dovecot", 0o711)
}

/// Writes `text` to `path` with `mode`, group `group` when given.
fn write_file(path: &Path, text: &str, mode: u32, group: Option<u32>) {
    let written = fs::File::create(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|()| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .and_then(|()| match group {
            Some(gid) => std::os::unix::fs::chown(path, None, Some(gid)),
            None => Ok(()),
        });
    if let Err(e) = written {
        panic!("writing {}: {e}", path.display());
    }
}

fn output_of(cmd: Command, what: &str) -> Result<Output, String> {
    process::output_of(
        cmd,
        what,
        &format!("the IMAP tests need Dovecot, openssl and python3: `{INSTALL} openssl python3`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_form_values_are_encoded_and_decoded() {
        assert_eq!(percent_encode("INBOX"), "INBOX");
        assert_eq!(percent_encode("Archive/2026 Q1"), "Archive/2026%20Q1");
        assert_eq!(percent_decode("a%2Bb+c%3d"), "a+b c=");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
