//! One SQL interface over both backends, so that each statement of the
//! store is written once. Its shape follows rusqlite's (`prepare_cached`,
//! `query_row`, `query_map`, `params!`, `optional()`), which the store was
//! written against; the PostgreSQL side rewrites `?N` placeholders to `$N`
//! and binds each value as the type the server infers for it.
//!
//! What the two dialects do not share is chosen with [`Connection::dialect`]
//! in the store's files, or evened out in the PostgreSQL schema (a `rowid`
//! column where the store orders by insertion, an `instr` function).

pub(crate) mod pg;

use core::fmt;
use std::borrow as alloc_cow;
use std::sync::{Mutex, MutexGuard};

/// A value bound to a statement or read from a row.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed [`Value`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl ValueRef<'_> {
    pub(crate) fn to_owned(self) -> Value {
        match self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }

    fn kind(self) -> &'static str {
        match self {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an integer",
            ValueRef::Real(_) => "a real",
            ValueRef::Text(_) => "text",
            ValueRef::Blob(_) => "a blob",
        }
    }
}

/// What the SQL layer failed at.
#[derive(Debug)]
pub(crate) enum Error {
    Sqlite(rusqlite::Error),
    Postgres(tokio_postgres::Error),
    /// A write sent without waiting for its answer failed (`what` it
    /// recorded); it is reported by the next statement waited for.
    Deferred {
        what: &'static str,
        source: tokio_postgres::Error,
    },
    /// A connection to PostgreSQL could not be made or taken from the pool.
    Unavailable(String),
    /// A connection to PostgreSQL was refused: its certificate, the login.
    Setup(String),
    /// `query_row` found no row.
    NoRows,
    /// A column held something else than the type read.
    Type {
        column: usize,
        expected: &'static str,
        found: &'static str,
    },
    /// A column's value did not convert (e.g. an unknown code).
    Conversion {
        column: usize,
        source: Box<dyn core::error::Error + Send + Sync>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => e.fmt(f),
            Error::Postgres(e) => pg_error(f, e),
            Error::Deferred { what, source } => {
                write!(f, "{what}: ")?;
                pg_error(f, source)
            }
            Error::Unavailable(why) | Error::Setup(why) => f.write_str(why),
            Error::NoRows => f.write_str("no row"),
            Error::Type { column, expected, found } => write!(f, "column {column}: {found} where {expected} was read"),
            Error::Conversion { column, source } => write!(f, "column {column}: {source}"),
        }
    }
}

fn pg_error(f: &mut fmt::Formatter<'_>, e: &tokio_postgres::Error) -> fmt::Result {
    match e.as_db_error() {
        Some(db) => write!(f, "{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code()),
        None => fmt::Display::fmt(e, f),
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Sqlite(e) => Some(e),
            Error::Postgres(e) | Error::Deferred { source: e, .. } => Some(e),
            Error::Conversion { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

impl Error {
    /// Whether the database could not be reached (down, restarting, the
    /// connection lost): the request may succeed when retried later.
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            Error::Unavailable(_) => true,
            Error::Postgres(e) | Error::Deferred { source: e, .. } => pg::is_unavailable(e),
            _ => false,
        }
    }

    /// Whether a unique constraint or index named `name` refused the write.
    pub(crate) fn is_unique_violation(&self, name: &str) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, Some(msg))) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation && msg.contains(name)
            }
            Error::Postgres(e) | Error::Deferred { source: e, .. } => e.as_db_error().is_some_and(|db| {
                *db.code() == tokio_postgres::error::SqlState::UNIQUE_VIOLATION
                    && (db.constraint().is_some_and(|c| c.contains(name)) || db.message().contains(name))
            }),
            _ => false,
        }
    }
}

/// `Result` of the SQL layer.
pub(crate) type Result<T, E = Error> = core::result::Result<T, E>;

/// A value that binds to a statement parameter.
pub(crate) trait ToValue {
    fn to_value(&self) -> ValueRef<'_>;
}

macro_rules! int_to_value {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> ValueRef<'_> {
                ValueRef::Integer(i64::from(*self))
            }
        }
    )*};
}
int_to_value!(i64, i32, u32, u16, u8, bool);

impl ToValue for u64 {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for usize {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}
impl ToValue for str {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}
impl ToValue for String {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}
impl ToValue for alloc_cow::Cow<'_, str> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}
impl ToValue for [u8] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl ToValue for Vec<u8> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl<const N: usize> ToValue for [u8; N] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_value(),
            None => ValueRef::Null,
        }
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> ValueRef<'_> {
        (**self).to_value()
    }
}
impl<T: ToValue + ?Sized> ToValue for Box<T> {
    fn to_value(&self) -> ValueRef<'_> {
        (**self).to_value()
    }
}
impl ToValue for Value {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}
impl ToValue for ValueRef<'_> {
    fn to_value(&self) -> ValueRef<'_> {
        *self
    }
}

/// A statement's parameters: `params![…]`, `[]`, or values collected at run
/// time ([`params_from_iter`]).
pub(crate) trait Params {
    fn values(&self) -> Vec<ValueRef<'_>>;
}

impl Params for &[&dyn ToValue] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_value()).collect()
    }
}
impl<T: ToValue, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(|v| v.to_value()).collect()
    }
}
impl Params for Vec<Value> {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToValue::to_value).collect()
    }
}
impl Params for &Vec<Value> {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToValue::to_value).collect()
    }
}
impl Params for &[Value] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToValue::to_value).collect()
    }
}

/// Parameters collected at run time.
pub(crate) fn params_from_iter<I>(iter: I) -> Vec<Value>
where
    I: IntoIterator,
    I::Item: ToValue,
{
    iter.into_iter().map(|v| v.to_value().to_owned()).collect()
}

/// `params![a, b]`: a statement's parameters, bound by reference.
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::sql::ToValue]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::sql::ToValue),+] as &[&dyn $crate::store::sql::ToValue]
    };
}
pub(crate) use params;

/// A value read from a column.
pub(crate) trait FromValue: Sized {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self>;
}

fn wrong<T>(v: ValueRef<'_>, column: usize, expected: &'static str) -> Result<T> {
    Err(Error::Type { column, expected, found: v.kind() })
}

impl FromValue for i64 {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Integer(i) => Ok(i),
            v => wrong(v, column, "an integer"),
        }
    }
}
macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
                let i = i64::from_value(v, column)?;
                <$t>::try_from(i).map_err(|e| Error::Conversion { column, source: Box::new(e) })
            }
        }
    )*};
}
int_from_value!(i32, u32, u64, u16, u8, usize);

impl FromValue for bool {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        Ok(i64::from_value(v, column)? != 0)
    }
}
impl FromValue for f64 {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Real(f) => Ok(f),
            #[allow(clippy::cast_precision_loss, reason = "as SQLite converts")]
            ValueRef::Integer(i) => Ok(i as f64),
            v => wrong(v, column, "a real"),
        }
    }
}
impl FromValue for String {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Text(s) => Ok(s.to_owned()),
            v => wrong(v, column, "text"),
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            v => wrong(v, column, "a blob"),
        }
    }
}
impl<const N: usize> FromValue for [u8; N] {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => <[u8; N]>::try_from(b).map_err(|e| Error::Conversion { column, source: Box::new(e) }),
            v => wrong(v, column, "a blob"),
        }
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: ValueRef<'_>, column: usize) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_value(v, column).map(Some),
        }
    }
}
impl FromValue for Value {
    fn from_value(v: ValueRef<'_>, _: usize) -> Result<Self> {
        Ok(v.to_owned())
    }
}

/// `.optional()`: no row is `None`, not an error.
pub(crate) trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Which SQL a statement must be written in where the two differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// A database connection of either backend. The store's transactions are
/// begun and ended by `Store`; a [`Connection`] runs statements inside them.
#[derive(Debug)]
pub(crate) enum Connection {
    Sqlite(rusqlite::Connection),
    Postgres(Mutex<pg::PgConn>),
}

/// Column index: by position only.
pub(crate) trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

/// One row of a result.
#[derive(Clone, Copy)]
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `idx` as `T`.
    pub(crate) fn get<I: RowIndex, T: FromValue>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        match self {
            Row::Sqlite(r) => {
                let v = r.get_ref(idx)?;
                T::from_value(lite_ref(v), idx)
            }
            Row::Postgres(r) => {
                let v: pg::Any<'_> = r.try_get(idx)?;
                T::from_value(v.0, idx)
            }
        }
    }
}

fn lite_ref(v: rusqlite::types::ValueRef<'_>) -> ValueRef<'_> {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => ValueRef::Null,
        V::Integer(i) => ValueRef::Integer(i),
        V::Real(f) => ValueRef::Real(f),
        // SQLite text is UTF-8 as the store writes it; a byte sequence that
        // is not reads as a blob and fails the type check.
        V::Text(t) => core::str::from_utf8(t).map_or(ValueRef::Blob(t), ValueRef::Text),
        V::Blob(b) => ValueRef::Blob(b),
    }
}

fn lite_params<'a>(ps: &'a [ValueRef<'a>]) -> Vec<rusqlite::types::ToSqlOutput<'a>> {
    use rusqlite::types::{ToSqlOutput, ValueRef as V};
    ps.iter()
        .map(|p| {
            ToSqlOutput::Borrowed(match *p {
                ValueRef::Null => V::Null,
                ValueRef::Integer(i) => V::Integer(i),
                ValueRef::Real(f) => V::Real(f),
                ValueRef::Text(s) => V::Text(s.as_bytes()),
                ValueRef::Blob(b) => V::Blob(b),
            })
        })
        .collect()
}

/// A prepared statement.
pub(crate) enum Statement<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    SqliteOnce(rusqlite::Statement<'c>),
    Postgres { conn: &'c Mutex<pg::PgConn>, sql: String },
}

/// The rows of a query, read one at a time.
pub(crate) enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres { rows: Vec<tokio_postgres::Row>, next: usize },
}

impl Rows<'_> {
    /// The next row, if any.
    pub(crate) fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, next } => {
                let row = rows.get(*next).map(Row::Postgres);
                *next += 1;
                Ok(row)
            }
        }
    }
}

impl Statement<'_> {
    /// Runs the statement; the number of rows changed.
    pub(crate) fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(lite_params(&values)))?),
            Statement::SqliteOnce(s) => Ok(s.execute(rusqlite::params_from_iter(lite_params(&values)))?),
            Statement::Postgres { conn, sql } => {
                let n = pg::lock(conn).execute(sql, &values)?;
                Ok(usize::try_from(n).unwrap_or(usize::MAX))
            }
        }
    }

    /// [`Statement::execute`] for a write whose row count nobody reads:
    /// while the connection defers writes ([`Connection::deferring`],
    /// PostgreSQL only) it is sent without waiting for its answer, and a
    /// failure comes with the next statement waited for, as
    /// [`Error::Deferred`] saying `what` failed.
    pub(crate) fn execute_deferred<P: Params>(&mut self, params: P, what: &'static str) -> Result<()> {
        match self {
            Statement::Postgres { conn, sql } => pg::lock(conn).execute_deferred(sql, &params.values(), what),
            _ => self.execute(params).map(drop),
        }
    }

    /// Runs the query.
    pub(crate) fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        match self {
            Statement::Sqlite(s) => Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(lite_params(&values)))?)),
            Statement::SqliteOnce(s) => Ok(Rows::Sqlite(s.query(rusqlite::params_from_iter(lite_params(&values)))?)),
            Statement::Postgres { conn, sql } => {
                let rows = pg::lock(conn).query(sql, &values)?;
                Ok(Rows::Postgres { rows, next: 0 })
            }
        }
    }

    /// The first row mapped by `f`; no row is [`Error::NoRows`].
    pub(crate) fn query_row<P: Params, T>(&mut self, params: P, f: impl FnOnce(&Row<'_>) -> Result<T>) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// Every row mapped by `f`.
    pub(crate) fn query_map<P: Params, T>(
        &mut self,
        params: P,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let mut rows = self.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(f(&r));
        }
        Ok(out.into_iter())
    }
}

impl Connection {
    /// Which dialect to write.
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// A statement, kept prepared for the next call with the same SQL.
    pub(crate) fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        match self {
            Connection::Sqlite(c) => Ok(Statement::Sqlite(c.prepare_cached(sql)?)),
            Connection::Postgres(c) => Ok(Statement::Postgres { conn: c, sql: sql.to_owned() }),
        }
    }

    /// A statement run once (PostgreSQL keeps it prepared all the same).
    pub(crate) fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        match self {
            Connection::Sqlite(c) => Ok(Statement::SqliteOnce(c.prepare(sql)?)),
            Connection::Postgres(c) => Ok(Statement::Postgres { conn: c, sql: sql.to_owned() }),
        }
    }

    /// Runs one statement; the number of rows changed.
    pub(crate) fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row of a query mapped by `f`.
    pub(crate) fn query_row<P: Params, T>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs statements separated by `;`, without parameters.
    pub(crate) fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(c) => pg::lock(c).batch(sql),
        }
    }

    /// [`Connection::execute_batch`], deferred as
    /// [`Statement::execute_deferred`] is.
    pub(crate) fn execute_batch_deferred(&self, sql: &str, what: &'static str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(c) => pg::lock(c).batch_deferred(sql, what),
        }
    }

    /// Whether writes are deferred: on PostgreSQL, from `on` until `off`
    /// (which waits for the answers of the writes sent, and is the first
    /// failure among them), [`Statement::execute_deferred`] sends without
    /// waiting. SQLite has no round trips to save: nothing changes.
    pub(crate) fn deferring(&self, on: bool) -> Result<()> {
        match self {
            Connection::Sqlite(_) => Ok(()),
            Connection::Postgres(c) => pg::lock(c).set_deferring(on),
        }
    }

    /// An id for a new row of `table` taken ahead from the sequence of its
    /// identity column `column`, while writes are deferred (PostgreSQL):
    /// the insert then needs no answer. `None`: the insert returns it.
    pub(crate) fn reserved_id(&self, table: &'static str, column: &'static str) -> Result<Option<i64>> {
        match self {
            Connection::Sqlite(_) => Ok(None),
            Connection::Postgres(c) => pg::lock(c).reserved_id(table, column),
        }
    }

    /// Waits for the answers of the deferred writes sent and forgets
    /// their failures: for a savepoint about to be rolled back.
    pub(crate) fn settle_deferred(&self) {
        if let Connection::Postgres(c) = self {
            pg::lock(c).settle();
        }
    }

    /// The SQLite connection, for what only SQLite has (pragmas).
    pub(crate) fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Some(c),
            Connection::Postgres(_) => None,
        }
    }

    /// The PostgreSQL connection.
    pub(crate) fn postgres(&self) -> Option<MutexGuard<'_, pg::PgConn>> {
        match self {
            Connection::Sqlite(_) => None,
            Connection::Postgres(c) => Some(pg::lock(c)),
        }
    }
}
