//! A real PostgreSQL server for tests: Debian's binaries, a cluster of its
//! own in a temporary folder, on loopback, started and stopped by the tests.
//!
//! [`PgCluster::start`] runs `initdb` and `pg_ctl start`; [`PgCluster::shared`]
//! starts one cluster for the whole test process. Clients log in as the role
//! `fanlic` with a random password (SCRAM-SHA-256) over TCP on 127.0.0.1, with
//! or without TLS; the server's certificate is signed by a throw-away CA made
//! with the `openssl` CLI ([`PgCluster::ca_file`]). The superuser `postgres`
//! logs in on the Unix socket only, which lies in the cluster's 0700 folder.
//!
//! `initdb` refuses to run as root, so when the tests run as root (CI does) the
//! folder belongs to the user `postgres` and every server command runs under
//! `runuser -u postgres --`.
//!
//! Every cluster has a watchdog, a small `sh` started with it in a process
//! group of its own (so a Ctrl-C to the tests does not reach it), that reads
//! its standard input from a pipe only this process holds. When the process
//! ends, however it ends, the kernel closes the pipe: the watchdog wakes at
//! once and runs `pg_ctl stop -m immediate` and removes the folder. That is
//! what stops [`PgCluster::shared`], a static that is never dropped; it also
//! cleans up after a panic half-way through [`PgCluster::start`]. A pipe, not
//! a `kill -0 PID` loop: it wakes at the exit, not up to a poll later, and
//! cannot be fooled by a reused pid.
//!
//! The binaries are taken from `FANLIC_PG_BIN_DIR` when set, else from the
//! newest `/usr/lib/postgresql/VERSION/bin` (Debian's layout).
#![allow(clippy::panic, reason = "a test harness: a failed step ends the test, with what failed and how")]

use crate::process::{self, Watchdog, free_port, random_hex};
use core::{
    fmt::Write as _,
    sync::atomic::{AtomicU32, Ordering},
};
use std::ffi::OsStr;
use std::{
    fs,
    io::Write as _,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
};

/// The environment variable that names the folder of `initdb`, `pg_ctl` and
/// `psql` (e.g. `/usr/lib/postgresql/16/bin`), for machines without Debian's
/// layout.
pub const BIN_DIR_ENV: &str = "FANLIC_PG_BIN_DIR";

/// The role the tests log in as.
pub const ROLE: &str = "fanlic";

/// How many times [`PgCluster::start`] picks another port when the one it
/// picked was taken between the pick and the server's bind.
const PORT_ATTEMPTS: u32 = 5;

/// How long `pg_ctl` waits for the server to start or stop, in seconds.
const PG_CTL_TIMEOUT: &str = "60";

/// A PostgreSQL cluster of its own, for tests.
#[derive(Debug)]
pub struct PgCluster {
    bin: PathBuf,
    /// The temporary folder: data, socket, log, TLS files.
    dir: PathBuf,
    data: PathBuf,
    ca: PathBuf,
    log: PathBuf,
    port: u16,
    password: String,
    /// Run the server's commands as the user `postgres` (the tests run as root).
    as_postgres: bool,
    next_db: AtomicU32,
    watchdog: Watchdog,
}

impl PgCluster {
    /// `initdb` + `pg_ctl start` in a new temporary folder; waits until it
    /// accepts connections.
    ///
    /// # Panics
    ///
    /// With a clear message (what to install: `apt-get install postgresql`)
    /// when the binaries are missing, and with the command, its status, its
    /// stderr (and the tail of the server's log) when a step fails.
    pub fn start() -> PgCluster {
        let bin = bin_dir().to_path_buf();
        let as_postgres = running_as_root();
        let owner = as_postgres.then(postgres_user);
        let dir = new_temp_dir();
        // Right after the folder exists: a panic below drops it, which stops
        // whatever was started and removes the folder.
        let watchdog = watchdog(&bin, &dir, as_postgres);
        let cluster = PgCluster {
            data: dir.join("data"),
            ca: dir.join("ca.pem"),
            log: dir.join("postgres.log"),
            password: random_hex(16),
            port: 0,
            bin,
            dir,
            as_postgres,
            next_db: AtomicU32::new(1),
            watchdog,
        };
        if let Some(owner) = owner {
            chown_tree(&cluster.dir, owner);
        }
        cluster.initdb();
        cluster.make_tls_files();
        cluster.write_config();
        if let Some(owner) = owner {
            chown_tree(&cluster.dir, owner);
        }
        let cluster = cluster.start_on_a_free_port(owner);
        cluster
            .superuser_psql("postgres", &format!("CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD '{}'", cluster.password));
        cluster
    }

    /// One cluster shared by the whole test process, started on first use.
    ///
    /// Statics are never dropped: the cluster's watchdog stops it and removes
    /// its folder when the process exits (see the module's documentation).
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(PgCluster::start)
    }

    /// A new empty database (unique name, `db_N`), owned by the role
    /// `fanlic`; returns its URL, e.g.
    /// `postgres://fanlic:PASSWORD@127.0.0.1:PORT/db_3` (password
    /// authentication, SCRAM-SHA-256, over TCP, TLS not required).
    pub fn new_database(&self) -> String {
        let name = format!("db_{}", self.next_db.fetch_add(1, Ordering::Relaxed));
        // template0: empty whatever a test did to template1.
        self.superuser_psql("postgres", &format!("CREATE DATABASE {name} OWNER {ROLE} TEMPLATE template0"));
        format!("postgres://{ROLE}:{}@127.0.0.1:{}/{name}", self.password, self.port)
    }

    /// `url` with `sslmode=require&sslrootcert=<ca file>` appended: libpq then
    /// requires TLS and, having a root certificate, checks the server's
    /// certificate against it (as `verify-ca` does).
    pub fn tls_url(&self, url: &str) -> String {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}sslmode=require&sslrootcert={}", percent_encode(&self.ca.to_string_lossy()))
    }

    /// The CA certificate (PEM) the server's certificate is signed by. The
    /// server's certificate names `127.0.0.1` and `localhost`.
    pub fn ca_file(&self) -> &Path {
        &self.ca
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The folder of the PostgreSQL binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The cluster's temporary folder (data in `data/`, the Unix socket, the
    /// server's log `postgres.log`, the TLS files); removed when the cluster
    /// stops for good.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The password of the role `fanlic`.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// `pg_ctl stop -m fast`: the server closes its connections and stops
    /// (for outage tests; [`PgCluster::start_again`] brings it back).
    pub fn stop(&self) {
        let mut cmd = self.server_command("pg_ctl");
        cmd.args(["stop", "-w", "-t", PG_CTL_TIMEOUT, "-m", "fast", "-D"]).arg(&self.data);
        self.run(cmd, "stopping the server");
    }

    /// Starts the server again after [`PgCluster::stop`], on the same port,
    /// and waits until it accepts connections.
    ///
    /// # Panics
    ///
    /// When the server does not start, e.g. because another process took the
    /// port meanwhile.
    pub fn start_again(&self) {
        if let Err(failure) = self.pg_ctl_start() {
            panic!("{failure}");
        }
    }

    /// Runs `psql -X -At -v ON_ERROR_STOP=1 -c SQL` against `url` (as the
    /// role in the URL, `fanlic` for [`PgCluster::new_database`]'s); returns
    /// its stdout without the final newline.
    ///
    /// # Panics
    ///
    /// When `psql` fails, with its stderr.
    pub fn psql(&self, url: &str, sql: &str) -> String {
        match self.try_psql(url, sql) {
            Ok(out) => out,
            Err(failure) => panic!("{failure}"),
        }
    }

    /// [`PgCluster::psql`] that returns its failure (the command, its status
    /// and stderr) instead of panicking: for tests that expect one.
    pub fn try_psql(&self, url: &str, sql: &str) -> Result<String, String> {
        let mut cmd = clean_command(&self.bin.join("psql"));
        cmd.args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, "-d", url]);
        let out = output_of(cmd, "psql")?;
        Ok(stdout_trimmed(&out))
    }

    /// Runs SQL as the superuser `postgres`, on the Unix socket, in
    /// `database`; returns stdout without the final newline.
    ///
    /// # Panics
    ///
    /// When `psql` fails, with its stderr.
    pub fn superuser_psql(&self, database: &str, sql: &str) -> String {
        let mut cmd = self.server_command("psql");
        cmd.args(["-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", "postgres", "-h"]).arg(&self.dir).args([
            "-p",
            &self.port.to_string(),
            "-d",
            database,
            "-c",
            sql,
        ]);
        stdout_trimmed(&self.run(cmd, "running SQL as the superuser"))
    }

    fn initdb(&self) {
        let mut cmd = self.server_command("initdb");
        cmd.arg("-D").arg(&self.data);
        // --no-sync: a test cluster that a crash loses is simply made again;
        // the running server still syncs (fsync = on below).
        cmd.args(["-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync", "--auth=trust"]);
        let hint = if self.as_postgres {
            format!(
                "\n(running as root: the user postgres must reach {}; if it cannot, set TMPDIR to a folder \
                 every user can traverse, e.g. /tmp)",
                self.dir.display()
            )
        } else {
            String::new()
        };
        if let Err(failure) = output_of(cmd, "initdb") {
            panic!("{failure}{hint}");
        }
    }

    /// A throw-away CA and a server certificate for 127.0.0.1 and localhost
    /// it signs, both ECDSA P-256, with the extensions rustls/webpki require
    /// (a CA:TRUE CA, subjectAltName on the server's).
    fn make_tls_files(&self) {
        let ext = self.dir.join("server.ext");
        write_file(
            &ext,
            "basicConstraints = critical, CA:FALSE\n\
             keyUsage = critical, digitalSignature\n\
             extendedKeyUsage = serverAuth\n\
             subjectAltName = IP:127.0.0.1, DNS:localhost\n",
        );
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let mut ca = clean_command(Path::new("openssl"));
        ca.current_dir(&self.dir).args(["req", "-x509"]).args(ec).args([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/CN=fanlic TEST-ONLY PostgreSQL CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run_openssl(ca);
        let mut csr = clean_command(Path::new("openssl"));
        csr.current_dir(&self.dir).arg("req").args(ec).args([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        run_openssl(csr);
        let mut sign = clean_command(Path::new("openssl"));
        sign.current_dir(&self.dir).args([
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
        run_openssl(sign);
        // The server refuses a key others can read.
        let key = self.dir.join("server.key");
        if let Err(e) = fs::set_permissions(&key, fs::Permissions::from_mode(0o600)) {
            panic!("chmod 600 {}: {e}", key.display());
        }
    }

    fn write_config(&self) {
        let conf = self.data.join("postgresql.conf");
        let mut text = fs::read_to_string(&conf).unwrap_or_else(|e| panic!("reading {}: {e}", conf.display()));
        text.push_str("\n# The test cluster's own settings (fanlic-testkit); the port is in fanlic-port.conf.\n");
        let dir = conf_string(&self.dir);
        let cert = conf_string(&self.dir.join("server.crt"));
        let key = conf_string(&self.dir.join("server.key"));
        let _ = write!(
            text,
            "listen_addresses = '127.0.0.1'\n\
             unix_socket_directories = {dir}\n\
             # PostgreSQL's defaults, said here because the store's benchmarks rely on\n\
             # durable commits: a commit returns once its WAL is on disk.\n\
             fsync = on\n\
             synchronous_commit = on\n\
             max_connections = 200\n\
             shared_buffers = 128MB\n\
             password_encryption = 'scram-sha-256'\n\
             ssl = on\n\
             ssl_cert_file = {cert}\n\
             ssl_key_file = {key}\n\
             include 'fanlic-port.conf'\n"
        );
        write_file(&conf, &text);
        // The superuser on the Unix socket only: trust, because the socket lies
        // in the cluster's 0700 folder (peer would need the OS user to be
        // named postgres, which it is not when the tests are not root). Every
        // role over TCP on loopback with its password, with TLS or without.
        write_file(
            &self.data.join("pg_hba.conf"),
            "# TYPE  DATABASE  USER      ADDRESS       METHOD\n\
             local   all       postgres                trust\n\
             hostssl all       all       127.0.0.1/32  scram-sha-256\n\
             host    all       all       127.0.0.1/32  scram-sha-256\n",
        );
    }

    /// Picks a free port, starts the server on it, and picks another when the
    /// port was taken between the pick and the server's bind.
    fn start_on_a_free_port(mut self, owner: Option<(u32, u32)>) -> Self {
        let mut failures = String::new();
        for _ in 0..PORT_ATTEMPTS {
            self.port = free_port();
            let port_conf = self.data.join("fanlic-port.conf");
            write_file(&port_conf, &format!("port = {}\n", self.port));
            if let Some(owner) = owner {
                chown_tree(&port_conf, owner);
            }
            let log_before = fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0);
            match self.pg_ctl_start() {
                Ok(()) => return self,
                Err(failure) => {
                    let log = fs::read(&self.log).unwrap_or_default();
                    let new = String::from_utf8_lossy(log.get(log_before as usize..).unwrap_or_default());
                    if !new.contains("Address already in use") {
                        panic!("{failure}");
                    }
                    failures.push_str(&failure);
                }
            }
        }
        panic!("no free port after {PORT_ATTEMPTS} attempts:\n{failures}");
    }

    fn pg_ctl_start(&self) -> Result<(), String> {
        let mut cmd = self.server_command("pg_ctl");
        cmd.args(["start", "-w", "-t", PG_CTL_TIMEOUT, "-D"]).arg(&self.data).arg("-l").arg(&self.log);
        output_of(cmd, &format!("starting the server on 127.0.0.1:{}", self.port))
            .map(drop)
            .map_err(|failure| format!("{failure}\nlast lines of {}:\n{}", self.log.display(), self.log_tail(30)))
    }

    fn log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_else(|e| format!("(cannot read it: {e})"));
        let all: Vec<&str> = log.lines().collect();
        all.get(all.len().saturating_sub(lines)..).unwrap_or_default().join("\n")
    }

    /// `bin/NAME`, under `runuser -u postgres --` when the tests are root, in
    /// the cluster's folder (the user postgres may not reach the current one).
    fn server_command(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut cmd = if self.as_postgres {
            let mut cmd = clean_command(Path::new("runuser"));
            cmd.args(["-u", "postgres", "--"]).arg(program);
            cmd
        } else {
            clean_command(&program)
        };
        cmd.current_dir(&self.dir);
        cmd
    }

    fn run(&self, cmd: Command, what: &str) -> Output {
        output_of(cmd, what).unwrap_or_else(|failure| panic!("{failure}"))
    }
}

impl Drop for PgCluster {
    /// `pg_ctl stop -m immediate`, then the folder is removed (by the
    /// watchdog, which this waits for).
    fn drop(&mut self) {
        self.watchdog.finish();
        // Should the watchdog have died early, do its work here.
        if self.dir.exists() {
            let mut cmd = self.server_command("pg_ctl");
            cmd.args(["stop", "-m", "immediate", "-D"]).arg(&self.data).current_dir("/");
            let _ = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// The watchdog's script: `$1` the folder, `$2` pg_ctl, then the command
/// that runs it as the cluster's owner (`runuser -u postgres --` as root).
const WATCHDOG: &str = r#"
        trap '' INT HUP
        dir=$1 pg_ctl=$2
        shift 2
        # EOF when the test process closes the pipe or exits, however it exits.
        read -r _ || :
        "$@" "$pg_ctl" stop -D "$dir/data" -m immediate -s </dev/null >/dev/null 2>&1
        rm -rf "$dir"
    "#;

/// Stops the cluster and removes its folder when the test process lets go.
fn watchdog(bin: &Path, dir: &Path, as_postgres: bool) -> Watchdog {
    let pg_ctl = bin.join("pg_ctl");
    let mut args = vec![pg_ctl.as_os_str()];
    if as_postgres {
        args.extend(["runuser", "-u", "postgres", "--"].map(OsStr::new));
    }
    Watchdog::spawn(clean_command(Path::new("sh")), WATCHDOG, "fanlic-pg-watchdog", dir, &args, "cluster")
}

/// The newest `/usr/lib/postgresql/VERSION/bin` with `initdb`, `pg_ctl` and
/// `psql`, or [`BIN_DIR_ENV`].
pub fn bin_dir() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let has_all = |dir: &Path| ["initdb", "pg_ctl", "psql"].iter().all(|b| dir.join(b).is_file());
        if let Some(dir) = std::env::var_os(BIN_DIR_ENV) {
            let dir = PathBuf::from(dir);
            if !has_all(&dir) {
                panic!(
                    "{BIN_DIR_ENV}={} has no initdb, pg_ctl and psql: set it to the folder of PostgreSQL's \
                     binaries, or unset it and `apt-get install postgresql`",
                    dir.display()
                );
            }
            return dir;
        }
        let root = Path::new("/usr/lib/postgresql");
        let mut newest: Option<(Vec<u32>, PathBuf)> = None;
        for entry in fs::read_dir(root).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(version) = name.split('.').map(str::parse::<u32>).collect::<Result<Vec<_>, _>>() else {
                continue;
            };
            let bin = entry.path().join("bin");
            if has_all(&bin) && newest.as_ref().is_none_or(|(v, _)| version > *v) {
                newest = Some((version, bin));
            }
        }
        newest.map(|(_, bin)| bin).unwrap_or_else(|| {
            panic!(
                "no PostgreSQL server found (initdb, pg_ctl and psql in {}/VERSION/bin): the store's tests run \
                 on a real PostgreSQL; install it with `apt-get install postgresql` (or set {BIN_DIR_ENV} to the \
                 folder of its binaries)",
                root.display()
            )
        })
    })
}

fn running_as_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        let mut cmd = clean_command(Path::new("id"));
        cmd.arg("-u");
        output_of(cmd, "id -u").map(|o| stdout_trimmed(&o) == "0").unwrap_or_else(|failure| panic!("{failure}"))
    })
}

/// The uid and gid of the user `postgres`, which Debian's package creates.
fn postgres_user() -> (u32, u32) {
    let id = |flag: &str| {
        let mut cmd = clean_command(Path::new("id"));
        cmd.args([flag, "postgres"]);
        match output_of(cmd, "looking up the user postgres") {
            Ok(out) => stdout_trimmed(&out).parse::<u32>().unwrap_or_else(|e| panic!("id {flag} postgres: {e}")),
            Err(failure) => panic!(
                "{failure}\nthe tests run as root and initdb refuses root, so the server runs as the user \
                 postgres: install PostgreSQL with `apt-get install postgresql`, which creates that user"
            ),
        }
    };
    (id("-u"), id("-g"))
}

fn chown_tree(path: &Path, (uid, gid): (u32, u32)) {
    if let Err(e) = std::os::unix::fs::chown(path, Some(uid), Some(gid)) {
        panic!("chown postgres {}: {e}", path.display());
    }
    if path.is_dir() && !path.is_symlink() {
        for entry in fs::read_dir(path).into_iter().flatten().flatten() {
            chown_tree(&entry.path(), (uid, gid));
        }
    }
}

/// `$TMPDIR/fanlic-pg-PID-N-RANDOM`, new, mode 0700.
fn new_temp_dir() -> PathBuf {
    process::new_temp_dir("pg", 0o700)
}

/// A command without the caller's `PG*` variables (PGHOST, PGSSLMODE, …),
/// which would change what libpq and the server tools do.
fn clean_command(program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("PG") {
            cmd.env_remove(name);
        }
    }
    cmd
}

fn output_of(cmd: Command, what: &str) -> Result<Output, String> {
    process::output_of(
        cmd,
        what,
        "the PostgreSQL tests need PostgreSQL, openssl and runuser: `apt-get install postgresql openssl util-linux`",
    )
}

fn run_openssl(cmd: Command) {
    output_of(cmd, "making the test cluster's TLS certificates").unwrap_or_else(|failure| panic!("{failure}"));
}

fn stdout_trimmed(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

fn write_file(path: &Path, text: &str) {
    if let Err(e) = fs::File::create(path).and_then(|mut f| f.write_all(text.as_bytes())) {
        panic!("writing {}: {e}", path.display());
    }
}

/// A path as a string literal of postgresql.conf.
fn conf_string(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\\', "\\\\").replace('\'', "''"))
}

/// Percent-encodes all but the unreserved characters and `/`, for a URL's
/// query value.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_for_urls_and_postgresql_conf() {
        assert_eq!(percent_encode("/tmp/a b/ca.pem"), "/tmp/a%20b/ca.pem");
        assert_eq!(percent_encode("/x/&?=%"), "/x/%26%3F%3D%25");
        assert_eq!(conf_string(Path::new("/tmp/it's")), "'/tmp/it''s'");
    }
}
