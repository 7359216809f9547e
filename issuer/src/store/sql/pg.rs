//! The PostgreSQL side: connecting (rustls with the *ring* provider), the
//! connection pool, statements prepared once per connection, placeholders
//! rewritten, and values bound as the types the server infers.
//!
//! Each connection runs tokio-postgres on a runtime of its own (one
//! thread: the caller's), as the synchronous `postgres` crate does, so
//! that writes whose answer nobody waits for can be *deferred*: sent at
//! once and answered together with the next statement that is waited for
//! (pipelining). A round trip on loopback costs ~80 µs on the benchmark
//! machine; `fanlic ingest` makes two per mail this way instead of
//! fourteen.

use core::error::Error as StdError;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, private::BytesMut};

use super::{Error, Result, ToValue as _, Value, ValueRef};

/// How long a statement may run unless the URL says otherwise
/// (`options=-c statement_timeout=…`).
pub(crate) const STATEMENT_TIMEOUT_MS: u32 = 10_000;
/// Connections one process keeps open at most.
pub(crate) const POOL_MAX: usize = 16;
/// How long a caller waits for a free connection.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Ids [`PgConn::reserved_id`] takes from a sequence at once.
const IDS_AHEAD: u32 = 32;
/// Statements kept prepared per connection (the store's SQL is a fixed set,
/// but pages build a few at run time).
const CACHE_MAX: usize = 512;

/// A database URL: where to connect, and the same without its password
/// for messages.
#[derive(Clone)]
pub(crate) struct Target {
    config: tokio_postgres::Config,
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
        let mut config: tokio_postgres::Config =
            rebuilt.parse().map_err(|e| format!("cannot read the database URL: {e}"))?;
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
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Unavailable(format!("cannot start the database client: {e}")))?;
        let connected = match &self.tls {
            Some(tls) => rt
                .block_on(
                    self.config
                        .connect(tokio_postgres_rustls::MakeRustlsConnect::new(rustls::ClientConfig::clone(tls))),
                )
                .map(|(client, connection)| {
                    // Driven whenever the caller waits on the runtime; ends
                    // with the connection (the client then says closed).
                    (client, rt.spawn(async move { drop(connection.await) }))
                }),
            None => rt
                .block_on(self.config.connect(tokio_postgres::NoTls))
                .map(|(client, connection)| (client, rt.spawn(async move { drop(connection.await) }))),
        };
        let (client, connection) = connected.map_err(|e| {
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
        Ok(PgConn {
            rt,
            client: Some(Arc::new(client)),
            connection,
            cache: HashMap::new(),
            broken: false,
            pending: VecDeque::new(),
            deferring: false,
            ids: HashMap::new(),
        })
    }
}

/// What a connection error says, with its cause (the bare error of the
/// client is only "error connecting to server").
fn describe(e: &tokio_postgres::Error) -> String {
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

fn shown(c: &tokio_postgres::Config) -> String {
    let user = c.get_user().unwrap_or("");
    let host = c
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(s) => s.clone(),
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        })
        .unwrap_or_default();
    let port = c.get_ports().first().map(|p| format!(":{p}")).unwrap_or_default();
    let db = c.get_dbname().unwrap_or("");
    let at = if user.is_empty() { String::new() } else { format!("{user}@") };
    format!("postgres://{at}{host}{port}/{db}")
}

fn tls_config(root_cert: Option<&str>) -> core::result::Result<rustls::ClientConfig, String> {
    crate::util::tls::client_config(root_cert.map(std::path::Path::new)).map_err(|e| format!("sslrootcert {e}"))
}

/// Whether a PostgreSQL error means the database could not be reached.
pub(crate) fn is_unavailable(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState as S;
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

/// A write sent and not yet answered: what it recorded (for the error),
/// and its answer to come.
struct Pending {
    what: &'static str,
    answer: Answer,
}

type Answer = Pin<Box<dyn Future<Output = core::result::Result<u64, tokio_postgres::Error>> + Send>>;

/// One connection with its prepared statements.
pub(crate) struct PgConn {
    /// Its own runtime: the connection makes progress while the caller
    /// waits on it (in [`PgConn::wait`]).
    rt: tokio::runtime::Runtime,
    /// `None` only while the connection is dropped.
    client: Option<Arc<tokio_postgres::Client>>,
    /// The task that drives the connection: waited for on drop, so that
    /// the server is told goodbye (Terminate, TLS close) and logs no
    /// broken connection.
    connection: tokio::task::JoinHandle<()>,
    cache: HashMap<String, tokio_postgres::Statement>,
    /// A statement failed because the connection did: it is not reused.
    broken: bool,
    /// Deferred writes sent and not yet answered, oldest first.
    pending: VecDeque<Pending>,
    /// Whether [`PgConn::execute_deferred`] defers (for one unit of work
    /// of the store, see [`super::Connection::deferring`]).
    deferring: bool,
    /// Ids taken ahead from each table's sequence while deferring, so that
    /// an insert needs no answer ([`PgConn::reserved_id`]).
    ids: HashMap<&'static str, VecDeque<i64>>,
}

impl fmt::Debug for PgConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PgConn")
    }
}

pub(crate) fn lock(c: &Mutex<PgConn>) -> MutexGuard<'_, PgConn> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

fn closed() -> Error {
    Error::Unavailable("the connection to the database is closed".into())
}

impl Drop for PgConn {
    fn drop(&mut self) {
        self.pending.clear();
        drop(self.client.take());
        // The client gone, the connection says goodbye and ends.
        let connection = &mut self.connection;
        drop(self.rt.block_on(async { tokio::time::timeout(Duration::from_secs(1), connection).await }));
    }
}

impl PgConn {
    fn handle(&self) -> Result<Arc<tokio_postgres::Client>> {
        self.client.clone().ok_or_else(closed)
    }

    fn is_closed(&self) -> bool {
        self.client.as_ref().is_none_or(|c| c.is_closed())
    }

    fn note(&mut self, e: tokio_postgres::Error) -> Error {
        if is_unavailable(&e) {
            self.broken = true;
        }
        Error::Postgres(e)
    }

    /// Sends what `f` sends (behind every deferred write), then waits for
    /// the deferred writes' answers and for `f`'s: one round trip for all.
    /// The first deferred write that failed is the error (the statements
    /// after it, `f`'s included, failed because it did).
    fn wait<T>(&mut self, f: impl Future<Output = core::result::Result<T, tokio_postgres::Error>>) -> Result<T> {
        let pending = core::mem::take(&mut self.pending);
        let (failed, out) = self.rt.block_on(async move {
            let mut f = core::pin::pin!(f);
            // Polled once now: its request goes out with the deferred ones.
            let mut early = None;
            core::future::poll_fn(|cx| {
                if let Poll::Ready(v) = f.as_mut().poll(cx) {
                    early = Some(v);
                }
                Poll::Ready(())
            })
            .await;
            let mut failed = None;
            for p in pending {
                if let Err(e) = p.answer.await
                    && failed.is_none()
                {
                    failed = Some((p.what, e));
                }
            }
            let out = match early {
                Some(v) => v,
                None => f.await,
            };
            (failed, out)
        });
        if let Some((what, e)) = failed {
            if is_unavailable(&e) {
                self.broken = true;
            }
            return Err(Error::Deferred { what, source: e });
        }
        out.map_err(|e| self.note(e))
    }

    /// Queues a request on the connection now and keeps its answer for
    /// the next [`PgConn::wait`].
    fn send(&mut self, what: &'static str, mut answer: Answer) {
        let now = self.rt.block_on(core::future::poll_fn(|cx| Poll::Ready(answer.as_mut().poll(cx))));
        if let Poll::Ready(r) = now {
            // Refused before it was sent (a value that does not encode).
            answer = Box::pin(async move { r });
        }
        self.pending.push_back(Pending { what, answer });
    }

    fn statement(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<tokio_postgres::Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let text = without_sqlite_hints(&placeholders(sql));
        // A parameter the statement does not use (SQLite allows it, and
        // the store binds the same list to variants of one statement):
        // PostgreSQL must be told its type; any will do. The others are
        // left to the server (type OID 0: unspecified).
        let used = used_parameters(&text);
        let types: Vec<Type> = if (1..=values.len()).all(|n| used.contains(&n)) {
            Vec::new()
        } else {
            let unspecified =
                Type::new("unspecified".into(), 0, tokio_postgres::types::Kind::Pseudo, "pg_catalog".into());
            values
                .iter()
                .enumerate()
                .map(|(i, v)| if used.contains(&(i + 1)) { unspecified.clone() } else { type_of(*v) })
                .collect()
        };
        let client = self.handle()?;
        let s = self.wait(async move { client.prepare_typed(&text, &types).await })?;
        if self.cache.len() >= CACHE_MAX {
            self.cache.clear();
        }
        self.cache.insert(sql.to_owned(), s.clone());
        Ok(s)
    }

    pub(crate) fn execute(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<u64> {
        let s = self.statement(sql, values)?;
        let client = self.handle()?;
        let binds: Vec<Bind<'_>> = values.iter().map(|v| Bind(*v)).collect();
        self.wait(async move {
            let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
            client.execute(&s, &refs).await
        })
    }

    /// [`PgConn::execute`] without waiting for the answer while the store
    /// defers writes: it comes with the next statement waited for, and a
    /// failure is that statement's error ([`Error::Deferred`], saying
    /// `what` failed). For writes whose row count nobody reads.
    pub(crate) fn execute_deferred(&mut self, sql: &str, values: &[ValueRef<'_>], what: &'static str) -> Result<()> {
        if !self.deferring {
            return self.execute(sql, values).map(drop);
        }
        let s = self.statement(sql, values)?;
        let client = self.handle()?;
        let owned: Vec<Value> = values.iter().map(|v| ValueRef::to_owned(*v)).collect();
        self.send(
            what,
            Box::pin(async move {
                let binds: Vec<Bind<'_>> = owned.iter().map(|v| Bind(v.to_value())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
                client.execute(&s, &refs).await
            }),
        );
        Ok(())
    }

    pub(crate) fn query(&mut self, sql: &str, values: &[ValueRef<'_>]) -> Result<Vec<tokio_postgres::Row>> {
        let s = self.statement(sql, values)?;
        let client = self.handle()?;
        let binds: Vec<Bind<'_>> = values.iter().map(|v| Bind(*v)).collect();
        self.wait(async move {
            let refs: Vec<&(dyn ToSql + Sync)> = binds.iter().map(|b| b as &(dyn ToSql + Sync)).collect();
            client.query(&s, &refs).await
        })
    }

    /// Statements without parameters, sent as one (simple query protocol).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        let client = self.handle()?;
        let sql = sql.to_owned();
        self.wait(async move { client.batch_execute(&sql).await })
    }

    /// [`PgConn::batch`], deferred as [`PgConn::execute_deferred`] is.
    pub(crate) fn batch_deferred(&mut self, sql: &str, what: &'static str) -> Result<()> {
        if !self.deferring {
            return self.batch(sql);
        }
        let client = self.handle()?;
        let sql = sql.to_owned();
        self.send(what, Box::pin(async move { client.batch_execute(&sql).await.map(|()| 0) }));
        Ok(())
    }

    /// Starts or stops deferring writes; stopping waits for the answers
    /// of those sent (the first failure is the error).
    pub(crate) fn set_deferring(&mut self, on: bool) -> Result<()> {
        self.deferring = on;
        // Ids are taken for one unit of work, under its write lock: rows
        // keep the order they were written in.
        self.ids.clear();
        if on || self.pending.is_empty() {
            return Ok(());
        }
        self.wait(async { Ok(()) })
    }

    /// While deferring: an id for a new row of `table`, from its identity
    /// column `column`'s sequence, taken ahead [`IDS_AHEAD`] at a time.
    /// `None` when not deferring (the insert returns its id).
    pub(crate) fn reserved_id(&mut self, table: &'static str, column: &'static str) -> Result<Option<i64>> {
        if !self.deferring {
            return Ok(None);
        }
        if let Some(id) = self.ids.get_mut(table).and_then(VecDeque::pop_front) {
            return Ok(Some(id));
        }
        // `table` and `column` are the store's own names.
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', '{column}')) FROM generate_series(1, {IDS_AHEAD})"
        );
        let mut ids: Vec<i64> =
            self.query(&sql, &[])?.iter().map(|r| r.try_get::<_, i64>(0)).collect::<core::result::Result<_, _>>()?;
        ids.sort_unstable();
        let mut ids: VecDeque<i64> = ids.into();
        let first = ids.pop_front();
        self.ids.insert(table, ids);
        Ok(first)
    }

    /// Waits for the deferred writes' answers and forgets their failures.
    pub(crate) fn settle(&mut self) {
        let pending = core::mem::take(&mut self.pending);
        self.rt.block_on(async move {
            for p in pending {
                drop(p.answer.await);
            }
        });
    }

    /// The client and the runtime it runs on, for what the store does
    /// beyond statements (COPY). Deferred writes are answered first.
    pub(crate) fn client(&mut self) -> Result<(&tokio_postgres::Client, &tokio::runtime::Runtime)> {
        if !self.pending.is_empty() {
            self.wait(async { Ok(()) })?;
        }
        match &self.client {
            Some(c) => Ok((c, &self.rt)),
            None => Err(closed()),
        }
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

    tokio_postgres::types::to_sql_checked!();
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
                if c.is_closed() {
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
    pub(crate) fn put(&self, mut c: PgConn) {
        // Writes still unanswered belong to a unit of work that did not
        // end: the connection is not reused.
        let unfinished = !c.pending.is_empty();
        c.deferring = false;
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if c.broken || unfinished || c.is_closed() {
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
