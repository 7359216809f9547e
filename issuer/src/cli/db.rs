//! `fanlic db`: the database behind the home: its state, its schema, and
//! moving a home's records from SQLite into PostgreSQL.

use std::path::Path;

use clap::{Args, Subcommand};
use fanlic_formats::Timestamp;
use fanlic_issuer::store::{self, CopyReport, DbStatus, MigrateReport, MigrationStep, PostgresUrl};
use serde_json::{Value, json};

use crate::cli::args::{OutputArgs, ResultOutput};
use crate::cli::output::{Report, emit, warn};

/// The database: its state, its schema, moving a home into PostgreSQL
#[derive(Debug, Args)]
#[command(after_help = "\
The records are in the home's fanlic.db (SQLite) unless --database URL or $FANLIC_DATABASE_URL
names a PostgreSQL database. Every other command brings the schema up to date when it opens the
database; `db status` never changes it, `db migrate` brings it up to date on its own (e.g. before
starting several `fanlic serve` instances on one database).

EXAMPLES:
  fanlic db status
  fanlic db status --database postgres://fanlic@db.example/fanlic --json
  fanlic db migrate --database postgres://fanlic@db.example/fanlic
  fanlic db copy --to 'postgres://fanlic:PASSWORD@db.example/fanlic?sslmode=require'")]
pub(crate) struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "one value, parsed once per run")]
enum DbCommand {
    Status(StatusArgs),
    Migrate(MigrateArgs),
    Copy(CopyArgs),
}

/// Show the backend, the schema version, pending migrations, instance secrets, row counts
#[derive(Debug, Args)]
#[command(after_help = "\
Reads only: a database whose schema is behind this fanlic is shown as it is, with the migrations
`fanlic db migrate` would apply. The instance secrets are what instances of `fanlic serve`
recorded (a version and a check value, never the secret); a new database has none.

EXAMPLES:
  fanlic db status
  fanlic db status --database postgres://fanlic@db.example/fanlic --json")]
struct StatusArgs {
    #[command(flatten)]
    format: OutputArgs,
}

/// Bring the database's schema up to date
#[derive(Debug, Args)]
#[command(after_help = "\
Applies each pending migration in its own transaction; on PostgreSQL under a lock, so that
instances starting at once migrate one after the other. Nothing to do is not an error.

EXAMPLES:
  fanlic db migrate
  fanlic db migrate --database postgres://fanlic@db.example/fanlic --json")]
struct MigrateArgs {
    #[command(flatten)]
    format: ResultOutput,
}

/// Copy the home's fanlic.db into an empty PostgreSQL database, verified
#[derive(Debug, Args)]
#[command(after_help = "\
Copies every record of the home's fanlic.db (brought up to date first) into the database --to
names, which must be empty: a database holding any table of fanlic's is refused and left as it
was. The schema, every row and the verification run in one PostgreSQL transaction: ids and
insertion order are kept, and each table's row count and SHA-256 over its rows (in key order)
must be the same on both sides before anything is committed; any difference, and nothing is
kept. Stop the home's services first (`fanlic serve`, `fanlic watch`): what they write after
the copy started is not copied. Progress goes to standard error.

Afterwards, run every command with --database (or $FANLIC_DATABASE_URL) set to the same URL; the
home's folder keeps the keys and secrets, and its fanlic.db stays as it was (keep it until you
are satisfied, then move it away).

EXAMPLES:
  createdb -O fanlic fanlic
  fanlic db copy --to 'postgres://fanlic:PASSWORD@db.example/fanlic?sslmode=require'
  fanlic db copy --to 'postgres://fanlic@127.0.0.1/fanlic?sslmode=disable' --json
  FANLIC_DATABASE_URL='postgres://fanlic:PASSWORD@db.example/fanlic' fanlic review")]
struct CopyArgs {
    /// The PostgreSQL database to copy into (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=...)
    #[arg(long, value_name = "URL")]
    to: PostgresUrl,

    #[command(flatten)]
    format: ResultOutput,
}

/// `fanlic db ...`.
pub(crate) fn run(home: &Path, a: &DbArgs) -> anyhow::Result<u8> {
    Ok(match &a.command {
        DbCommand::Status(a) => {
            emit(&a.format, &Status(store::db_status(&fanlic_issuer::home::home_database(home)?)?))?
        }
        DbCommand::Migrate(a) => {
            emit(&a.format, &Migrated(store::db_migrate(&fanlic_issuer::home::home_database(home)?)?))?
        }
        DbCommand::Copy(a) => {
            let report =
                fanlic_issuer::home::copy_home(home, &a.to, &mut |line| warn(&format!("fanlic db copy: {line}")))?;
            emit(&a.format, &Copied(report))?
        }
    })
}

fn time(t: i64) -> String {
    u64::try_from(t).map_or_else(|_| t.to_string(), |t| Timestamp(t).to_string())
}

fn steps_json(steps: &[MigrationStep]) -> Value {
    steps.iter().map(|s| json!({"version": s.version, "title": s.title})).collect()
}

fn steps_human(steps: &[MigrationStep]) -> String {
    steps.iter().map(|s| format!("  {:>3}  {}\n", s.version, s.title)).collect()
}

struct Status(DbStatus);

impl Report for Status {
    fn human(&self) -> String {
        let s = &self.0;
        let mut out = format!("backend:  {}\ndatabase: {}\n", s.backend, s.database);
        if s.version > s.latest {
            out.push_str(&format!(
                "schema:   version {}, newer than this fanlic knows (up to {}); use a newer fanlic\n",
                s.version, s.latest
            ));
        } else if s.pending.is_empty() {
            out.push_str(&format!("schema:   version {} (up to date)\n", s.version));
        } else {
            out.push_str(&format!(
                "schema:   version {} of {}: {} migration{} pending; run `fanlic db migrate`\n",
                s.version,
                s.latest,
                s.pending.len(),
                if s.pending.len() == 1 { "" } else { "s" }
            ));
            out.push_str(&steps_human(&s.pending));
        }
        if s.secrets.is_empty() {
            out.push_str("instance secrets: none recorded\n");
        } else {
            out.push_str("instance secrets:\n");
            for x in &s.secrets {
                out.push_str(&format!(
                    "  {}  version {}  recorded {} by {}\n",
                    x.name,
                    x.version,
                    time(x.recorded_at),
                    x.recorded_by
                ));
            }
        }
        out.push_str("keys (every instance's key files must match these):\n");
        for k in &s.keys {
            let until = k.not_after.map(|t| format!("  until {}", time(t))).unwrap_or_default();
            let retired = if k.retired { "  (retired)" } else { "" };
            out.push_str(&format!("  {:<8} {}{until}{retired}\n", k.kind, k.key_id));
        }
        out.push_str("tables:\n");
        let width = s.tables.iter().map(|t| t.table.len()).max().unwrap_or(0);
        for t in &s.tables {
            out.push_str(&format!("  {:<width$}  {:>9} rows\n", t.table, t.rows));
        }
        out
    }

    fn json(&self) -> Value {
        let s = &self.0;
        json!({
            "backend": s.backend,
            "database": s.database,
            "schema_version": s.version,
            "latest": s.latest,
            "pending": steps_json(&s.pending),
            "instance_secrets": s.secrets.iter().map(|x| json!({
                "name": x.name,
                "version": x.version,
                "recorded_at": time(x.recorded_at),
                "recorded_by": x.recorded_by,
            })).collect::<Value>(),
            "keys": s.keys.iter().map(|k| json!({
                "kind": k.kind,
                "key_id": k.key_id,
                "not_after": k.not_after.map(time),
                "retired": k.retired,
            })).collect::<Value>(),
            "tables": s.tables.iter().map(|t| json!({"table": t.table, "rows": t.rows})).collect::<Value>(),
        })
    }
}

struct Migrated(MigrateReport);

impl Report for Migrated {
    fn human(&self) -> String {
        let m = &self.0;
        if m.applied.is_empty() {
            return format!("{} ({}): schema version {}, up to date; nothing to do\n", m.database, m.backend, m.to);
        }
        format!(
            "{} ({}): schema version {} -> {}; applied:\n{}",
            m.database,
            m.backend,
            m.from,
            m.to,
            steps_human(&m.applied)
        )
    }

    fn json(&self) -> Value {
        let m = &self.0;
        json!({
            "backend": m.backend,
            "database": m.database,
            "from": m.from,
            "to": m.to,
            "applied": steps_json(&m.applied),
        })
    }
}

struct Copied(CopyReport);

impl Report for Copied {
    fn human(&self) -> String {
        let c = &self.0;
        let mut out = format!(
            "copied {} ({} rows, schema version {}) into {} in {} s; every table verified:\n",
            c.from.display(),
            c.rows(),
            c.version,
            c.to,
            Duration(c.millis)
        );
        let width = c.tables.iter().map(|t| t.table.len()).max().unwrap_or(0);
        for t in &c.tables {
            let note = if t.derived { "  (kept by PostgreSQL's trigger, checked)" } else { "" };
            out.push_str(&format!("  {:<width$}  {:>9} rows  sha256 {}{note}\n", t.table, t.rows, t.sha256));
        }
        out.push_str(&format!("Run fanlic with --database (or FANLIC_DATABASE_URL) set to {} from now on.\n", c.to));
        out
    }

    fn json(&self) -> Value {
        let c = &self.0;
        json!({
            "from": c.from.display().to_string(),
            "to": c.to,
            "schema_version": c.version,
            "rows": c.rows(),
            "millis": c.millis,
            "tables": c.tables.iter().map(|t| json!({
                "table": t.table,
                "rows": t.rows,
                "sha256": t.sha256,
                "copied": !t.derived,
            })).collect::<Value>(),
        })
    }
}

/// Milliseconds shown as seconds with one decimal.
struct Duration(u64);

impl core::fmt::Display for Duration {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.0 / 1000, (self.0 % 1000) / 100)
    }
}
