//! The PostgreSQL side: connecting (rustls with the *ring* provider), the
//! connection pool, statements prepared once per connection, placeholders
//! rewritten, and values bound as the types the server infers.

use core::error::Error as StdError;
use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use postgres::types::{FromSql, IsNull, ToSql, Type, private::BytesMut};
use rustls::pki_types::pem::PemObject as _;

use super::{Error, Result, ValueRef};

/// How long a statement may run unless the URL says otherwise
/// (`options=-c statement_timeout=…`).
pub(crate) const STATEMENT_TIMEOUT_MS: u32 = 10_000;
/// Connections one process keeps open at most.
pub(crate) const POOL_MAX: usize = 16;
/// How long a caller waits for a free connection.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Statements kept prepared per connection (the store's SQL is a fixed set,
/// but pages build a few at run time).
const CACHE_MAX: usize = 512;

/// A database URL: where to connect, and the same without its password
/// for messages.
#[derive(Clone)]
pub(crate) struct Target {
    config: postgres::Config,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// `postgres://user@host:port/db`: no password, safe to print.
    pub(crate) shown: String,
    /// The URL as given (with its password: never shown), which names a
    /// pool: two URLs that differ in anything (a CA file) share none.
    url: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

/// Whether `url` names a PostgreSQL database (`postgres://` or `postgresql://`).
pub(crate) fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Target {
    /// Parses a `postgres://` URL. Besides what libpq's URLs take (user,
    /// password, host, port, dbname, `sslmode`, `options`,
    /// `connect_timeout`, `application_name`), `sslrootcert=FILE` trusts
    /// the CA certificates in FILE (PEM) instead of the public web's roots.
    /// `sslmode=verify-full` and `verify-ca` are taken as `require`: with
    /// rustls the server's certificate is always verified.
    pub(crate) fn parse(url: &str) -> core::result::Result<Self, String> {
        if !is_postgres_url(url) {
            return Err("a database URL starts with postgres:// (e.g. postgres://fanlic@db.example/fanlic)".into());
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut kept = Vec::new();
        let mut root_cert = None;
        let mut mode = "prefer".to_owned();
        let mut has_options = false;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sslrootcert" => root_cert = Some(percent_decode(v)),
                "sslmode" => {
                    mode = v.to_owned();
                    let v = if matches!(v, "verify-full" | "verify-ca") { "require" } else { v };
                    kept.push(format!("sslmode={v}"));
                }
                _ => {
                    has_options |= k == "options";
                    kept.push(pair.to_owned());
                }
            }
        }
        if !has_options {
            kept.push(format!("options=-c%20statement_timeout%3D{STATEMENT_TIMEOUT_MS}"));
        }
        let rebuilt = format!("{base}?{}", kept.join("&"));
        let mut config: postgres::Config = rebuilt.parse().map_err(|e| format!("cannot read the database URL: {e}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("fanlic");
        }
        let tls = if mode == "disable" { None } else { Some(Arc::new(tls_config(root_cert.as_deref())?)) };
        let shown = shown(&config);
        Ok(Self { config, tls, shown, url: url.to_owned() })
    }

    /// A new connection.
    fn connect(&self) -> Result<PgConn> {
        let client = match &self.tls {
            Some(tls) => {
                self.config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(rustls::ClientConfig::clone(tls)))
            }
            None => self.config.connect(postgres::NoTls),
        }
        .map_err(|e| {
            // A refused certificate or login is the URL's or the server's
            // setup to fix, not an outage to wait out.
            let setup = (e.as_db_error().is_some() && !is_unavailable(&e)) || e.to_string().contains("TLS");
            let mut why = format!("cannot connect to {}: {}", self.shown, describe(&e));
            if why.contains("UnknownIssuer") || why.contains("certificate") {
                why.push_str(
                    " (name the CA that signed the server's certificate with sslrootcert=FILE in the URL, \
                     or sslmode=disable on a network you trust)",
                );
            }
            if setup { Error::Setup(why) } else { Error::Unavailable(why) }
        })?;
        Ok(PgConn { client, cache: HashMap::new(), broken: false })
    }
}

/// What a connection error says, with its cause (the bare error of the
/// client is only "error connecting to server").
fn describe(e: &postgres::Error) -> String {
    let mut s = e.to_string();
    if let Some(db) = e.as_db_error() {
        s = format!("{}: {}", db.severity(), db.message());
    } else if let Some(src) = e.source() {
        s = format!("{s}: {src}");
    }
    s
}

fn percent_decode(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| core::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                rest = tail.get(2..).unwrap_or_default();
            }
            _ => {
                out.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn shown(c: &postgres::Config) -> String {
    let user = c.get_user().unwrap_or("");
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            postgres::config::Host::Tcp(s) => s.clone(),
            postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
    let db = c.get_dbname().unwrap_or("");
    let at = if user.is_empty() { String::new() } else { format!("{user}@") };
    format!("postgres://{at}{host}{port}/{db}")
}

fn tls_config(root_cert: Option<&str>) -> core::result::Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    match root_cert {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("cannot read sslrootcert {path}: {e}"))?;
            let mut n = 0;
            for der in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
                let der = der.map_err(|e| format!("sslrootcert {path}: {e}"))?;
                roots.add(der).map_err(|e| format!("sslrootcert {path}: {e}"))?;
                n += 1;
            }
            if n == 0 {
                return Err(format!("sslrootcert {path} holds no PEM certificate"));
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set TLS up: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Whether a PostgreSQL error means the database could not be reached.
pub(crate) fn is_unavailable(e: &postgres::Error) -> bool {
    use postgres::error::SqlState as S;
    if e.is_closed() {
        return true;
    }
    match e.code() {
        Some(c) => [
            S::ADMIN_SHUTDOWN,
            S::CRASH_SHUTDOWN,
            S::CANNOT_CONNECT_NOW,
            S::CONNECTION_EXCEPTION,
            S::CONNECTION_FAILURE,
            S::CONNECTION_DOES_NOT_EXIST,
            S::TOO_MANY_CONNECTIONS,
            S::QUERY_CANCELED,
        ]
        .contains(c),
        // Not from the server: the socket (I/O) or the protocol.
        None => e.as_db_error().is_none(),
    }
}

/// One connection with its prepared statements.
pub(crate) struct PgConn {
    client: postgres::Client,
    cache: HashMap<String, postgres::Statement>,
    /// A statement failed because the connection did: it is not reused.
    broken: bool,
}

impl fmt::Debug for PgConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PgConn")
    }
}

pub(crate) fn lock(c: &Mutex<PgConn>) -> MutexGuard<'_, PgConn> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PgConn {
    fn note(&mut self, e: postgres::Error) -> Error {
        if is_unavailable(&e) {
            self.broken = true;
        }
        Error::Postgres(e)
    }

    fn statement(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let text = without_sqlite_hints(&placeholders(sql));
        // A parameter the statement does not use (SQLite allows it, and
        // the store binds the same list to variants of one statement):
        // PostgreSQL must be told its type; any will do. The others are
        // left to the server (type OID 0: unspecified).
        let used = used_parameters(&text);
        let s = if (1..=values.len()).all(|n| used.contains(&n)) {
            self.client.prepare(&text)
        } else {
            let unspecified = Type::new("unspecified".into(), 0, postgres::types::Kind::Pseudo, "pg_catalog".into());
            let types: Vec<Type> = values
                .iter()
                .enumerate()
                .map(|(i, v)| if used.contains(&(i + 1)) { unspecified.clone() } else { type_of(*v) })
                .collect();
            self.client.prepare_typed(&text, &types)
        }
        .map_err(|e| self.note(e))?;
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(crate) fn execute(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<u64> {
        let s = self.statement(sql, values)?;
        let binds: Vec<Bind<'_>> = values.iter().map(|v| Bind(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        self.client.execute(&s, &refs).map_err(|e| self.note(e))
    }

    pub(crate) fn query(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<Vec<postgres::Row>> {
        let s = self.statement(sql, values)?;
        let binds: Vec<Bind<'_>> = values.iter().map(|v| Bind(*v)).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
        self.client.query(&s, &refs).map_err(|e| self.note(e))
    }

    /// Statements without parameters, sent as one (simple query protocol).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.client.batch_execute(sql).map_err(|e| self.note(e))
    }

    /// The client, for what the store does beyond statements (COPY).
    pub(crate) fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }
}

/// `?N` → `$N`, and a bare `?` → one more than the highest number so far
/// (SQLite's rule), outside string literals, quoted names and comments.
pub(crate) fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut highest = 0u32;
    scan(sql, |piece| match piece {
        Piece::Text(t) => out.push_str(t),
        Piece::Parameter('$', digits) => {
            out.push('$');
            out.push_str(digits);
        }
        Piece::Parameter(_, digits) => {
            let n = if digits.is_empty() { highest + 1 } else { digits.parse().unwrap_or(u32::MAX) };
            highest = highest.max(n);
            out.push('$');
            out.push_str(&n.to_string());
        }
    });
    out
}

/// A piece of SQL text: as it is, or a parameter (`?` or `$` and its digits).
enum Piece<'a> {
    Text(&'a str),
    Parameter(char, &'a str),
}

/// Splits `sql` at its parameters (`?N`, `?`, `$N`), leaving string
/// literals, quoted names and `--` comments whole.
fn scan<'a>(sql: &'a str, mut f: impl FnMut(Piece<'a>)) {
    let mut chars = sql.char_indices().peekable();
    let mut start = 0;
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                for (_, d) in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek().is_some_and(|&(_, d)| d == '-') => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '?' | '$' => {
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = j + 1;
                    chars.next();
                }
                f(Piece::Text(sql.get(start..i).unwrap_or_default()));
                f(Piece::Parameter(c, sql.get(i + 1..end).unwrap_or_default()));
                start = end;
            }
            _ => {}
        }
    }
    f(Piece::Text(sql.get(start..).unwrap_or_default()));
}

/// SQLite's planner hints dropped: `CROSS JOIN … ON` (which only fixes
/// SQLite's join order; PostgreSQL takes no ON after CROSS JOIN and plans
/// the order itself) becomes `JOIN … ON`, and `INDEXED BY name` goes.
fn without_sqlite_hints(sql: &str) -> String {
    let mut out = sql.replace("CROSS JOIN", "JOIN");
    while let Some(i) = out.find("INDEXED BY ") {
        let rest = &out[i + "INDEXED BY ".len()..];
        let name = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        out.replace_range(i..i + "INDEXED BY ".len() + name, "");
    }
    out
}

/// The numbers of the `$N` in `sql` (already rewritten), outside literals.
fn used_parameters(sql: &str) -> std::collections::BTreeSet<usize> {
    let mut used = std::collections::BTreeSet::new();
    scan(sql, |piece| {
        if let Piece::Parameter('$', digits) = piece
            && let Ok(n) = digits.parse()
        {
            used.insert(n);
        }
    });
    used
}

/// The type to declare for a parameter PostgreSQL cannot infer.
fn type_of(v: ValueRef<'_>) -> Type {
    match v {
        ValueRef::Integer(_) => Type::INT8,
        ValueRef::Real(_) => Type::FLOAT8,
        ValueRef::Blob(_) => Type::BYTEA,
        ValueRef::Null | ValueRef::Text(_) => Type::TEXT,
    }
}

/// A value bound as whatever type the server inferred for its parameter.
#[derive(Debug)]
struct Bind<'a>(ValueRef<'a>);

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Bind<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> core::result::Result<IsNull, BoxError> {
        match self.0 {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                Type::FLOAT8 =>
                {
                    #[allow(clippy::cast_precision_loss, reason = "as SQLite compares")]
                    (i as f64).to_sql(ty, out)
                }
                Type::TEXT | Type::VARCHAR | Type::UNKNOWN => i.to_string().as_str().to_sql(&Type::TEXT, out),
                _ => Err(format!("an integer cannot be bound as {ty}").into()),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                _ => Err(format!("a real cannot be bound as {ty}").into()),
            },
            ValueRef::Text(s) => match *ty {
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => s.to_sql(&Type::TEXT, out),
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => Err(format!("text cannot be bound as {ty}").into()),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => b.to_sql(ty, out),
                _ => Err(format!("a blob cannot be bound as {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// A column read as whichever of integer, real, text or blob its type is.
pub(crate) struct Any<'a>(pub(crate) ValueRef<'a>);

impl<'a> FromSql<'a> for Any<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> core::result::Result<Self, BoxError> {
        Ok(Any(match *ty {
            Type::INT8 => ValueRef::Integer(i64::from_sql(ty, raw)?),
            Type::INT4 => ValueRef::Integer(i64::from(i32::from_sql(ty, raw)?)),
            Type::INT2 => ValueRef::Integer(i64::from(i16::from_sql(ty, raw)?)),
            Type::OID => ValueRef::Integer(i64::from(u32::from_sql(ty, raw)?)),
            Type::BOOL => ValueRef::Integer(i64::from(bool::from_sql(ty, raw)?)),
            Type::FLOAT8 => ValueRef::Real(f64::from_sql(ty, raw)?),
            Type::FLOAT4 => ValueRef::Real(f64::from(f32::from_sql(ty, raw)?)),
            Type::BYTEA => ValueRef::Blob(<&[u8]>::from_sql(ty, raw)?),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                ValueRef::Text(<&str>::from_sql(ty, raw)?)
            }
            _ => return Err(format!("a column of type {ty} cannot be read; cast it in the query").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> core::result::Result<Self, BoxError> {
        Ok(Any(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// The connections of one database, shared by a process's stores.
#[derive(Debug)]
pub(crate) struct Pool {
    target: Target,
    state: Mutex<PoolState>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
}

impl Pool {
    /// The pool of `target`, shared by every store of this process that
    /// names the same database.
    pub(crate) fn shared(target: &Target) -> Arc<Pool> {
        static POOLS: Mutex<Vec<Arc<Pool>>> = Mutex::new(Vec::new());
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = pools.iter().find(|p| p.target.url == target.url) {
            return Arc::clone(p);
        }
        let p = Arc::new(Pool { target: target.clone(), state: Mutex::default(), freed: Condvar::new() });
        pools.push(Arc::clone(&p));
        p
    }

    /// What to show of the database (no password).
    pub(crate) fn shown(&self) -> &str {
        &self.target.shown
    }

    /// An idle connection, or a new one while fewer than [`POOL_MAX`] are open;
    /// else waits for one.
    pub(crate) fn get(&self) -> Result<PgConn> {
        let deadline = Instant::now() + POOL_WAIT;
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            while let Some(c) = st.idle.pop() {
                if c.client.is_closed() {
                    st.open -= 1;
                    continue;
                }
                return Ok(c);
            }
            if st.open < POOL_MAX {
                st.open += 1;
                drop(st);
                return self.target.connect().inspect_err(|_| {
                    self.state.lock().unwrap_or_else(PoisonError::into_inner).open -= 1;
                    self.freed.notify_one();
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Unavailable(format!(
                    "all {POOL_MAX} connections to {} are busy",
                    self.target.shown
                )));
            }
            st = self.freed.wait_timeout(st, left).unwrap_or_else(PoisonError::into_inner).0;
        }
    }

    /// Gives a connection back: kept when it still works, closed when not.
    pub(crate) fn put(&self, c: PgConn) {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if c.broken || c.client.is_closed() {
            st.open -= 1;
        } else {
            st.idle.push(c);
        }
        drop(st);
        self.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;

    #[test]
    fn placeholders_are_numbered_as_sqlite_numbers_them() {
        assert_eq!(placeholders("SELECT ?1, ?2, ?1"), "SELECT $1, $2, $1");
        assert_eq!(placeholders("a = ? AND b = ? OR c = ?5 AND d = ?"), "a = $1 AND b = $2 OR c = $5 AND d = $6");
        assert_eq!(
            placeholders("x LIKE '%?%' AND y = ?1 -- what?\n AND z = ?"),
            "x LIKE '%?%' AND y = $1 -- what?\n AND z = $2"
        );
        assert_eq!(placeholders("\"odd?\" = ?"), "\"odd?\" = $1");
        assert_eq!(used_parameters("a = $1 AND b = '$2' AND c = $3"), [1, 3].into());
    }

    #[test]
    fn sqlite_planner_hints_are_dropped() {
        assert_eq!(
            without_sqlite_hints("SELECT 1 FROM licenses INDEXED BY licenses_by_state WHERE x"),
            "SELECT 1 FROM licenses  WHERE x"
        );
        assert_eq!(without_sqlite_hints("a CROSS JOIN b ON b.id = a.id"), "a JOIN b ON b.id = a.id");
    }

    #[test]
    fn a_server_certificate_no_trusted_ca_signed_is_refused_saying_how_to_trust_it() {
        use crate::store::{Database, Store};
        let pg = fanlic_testkit::postgres::PgCluster::shared();
        let url = pg.new_database();
        // The cluster's certificate is signed by its own CA, which the
        // public web's roots do not hold: no fallback to plain text.
        let e = Store::open_database(&Database::Postgres(format!("{url}?sslmode=require").parse().unwrap()), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("UnknownIssuer") && e.contains("sslrootcert=FILE"), "{e}");
        assert!(!e.contains(pg.password()), "{e}");
        // Named with sslrootcert, the same server is trusted.
        Store::open_database(&Database::Postgres(pg.tls_url(&url).parse().unwrap()), true).unwrap();
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        let t = Target::parse("postgres://fanlic:s3cret@db.example:6543/records?sslmode=disable").unwrap();
        assert_eq!(t.shown, "postgres://fanlic@db.example:6543/records");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert!(Target::parse("mysql://x").is_err());
        assert!(Target::parse("postgres://x@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem").is_err());
    }
}
