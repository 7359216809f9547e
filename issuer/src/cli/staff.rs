//! `fanlic staff`: the accounts that log in to the staff console.

use std::{io::Read as _, path::Path};

use clap::{Args, Subcommand, ValueEnum};
use fanlic_issuer::store::{Role, StaffAccount, staff::Lockout};
use fanlic_issuer::{ContractError, Error, Home, staff};
use serde_json::{Value, json};

use crate::cli::args::{ByArg, OutputArgs, ResultOutput};
use crate::cli::output::{Report, emit};

/// Staff accounts of the console: add, list, disable, passwd, role, unlock
#[derive(Debug, Args)]
#[command(after_help = "\
Roles: viewer reads everything (licenses, contracts, the review queue, the audit trail);
issuer also approves, rejects and reissues held requests, resends licenses, downloads
Container.lic and images and retries the outbox; admin also edits contracts, revokes, unbinds and
manages staff. Passwords are read from standard input only (never an argument: it would show in
`ps` and shell history), hashed with Argon2id and never printed. Five failed logins in 15
minutes lock the name (and the client address) for 15 minutes; `fanlic staff unlock` lifts it.
Every change is in `fanlic audit`.

EXAMPLES:
  printf '%s' \"$PW\" | fanlic staff add alice --role admin --password-stdin
  fanlic staff list --json
  fanlic staff disable bob
  printf '%s' \"$NEW\" | fanlic staff passwd alice --password-stdin
  fanlic staff unlock alice")]
pub(crate) struct StaffArgs {
    #[command(subcommand)]
    command: StaffCommand,
}

#[derive(Debug, Subcommand)]
enum StaffCommand {
    /// Create an account
    Add(AddArgs),
    /// List the accounts and the lockouts in force
    List(ListArgs),
    /// Disable an account: it cannot log in, its sessions end
    Disable(NameArgs),
    /// Enable a disabled account again
    Enable(NameArgs),
    /// Set an account's password (its sessions end)
    Passwd(PasswdArgs),
    /// Change an account's role
    Role(RoleArgs),
    /// Lift the lockout of an account name (and of a client address)
    Unlock(UnlockArgs),
}

/// `--role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RoleArg {
    /// Reads everything, changes nothing
    Viewer,
    /// Also approves, rejects, reissues, resends, downloads, retries
    Issuer,
    /// Also contracts, revoke, unbind, staff accounts
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => Self::Viewer,
            RoleArg::Issuer => Self::Issuer,
            RoleArg::Admin => Self::Admin,
        }
    }
}

#[derive(Debug, Args)]
struct AddArgs {
    /// The login name (no spaces; it is the `by` of every audit row the account makes)
    name: String,
    /// What the account may do
    #[arg(long, value_enum)]
    role: RoleArg,
    /// Read the password from standard input (its first line; at least 10 characters)
    #[arg(long, required = true)]
    password_stdin: bool,
    #[command(flatten)]
    by: ByArg,
    #[command(flatten)]
    format: ResultOutput,
}

#[derive(Debug, Args)]
struct ListArgs {
    #[command(flatten)]
    format: OutputArgs,
}

#[derive(Debug, Args)]
struct NameArgs {
    /// The account
    name: String,
    #[command(flatten)]
    by: ByArg,
    #[command(flatten)]
    format: ResultOutput,
}

#[derive(Debug, Args)]
struct PasswdArgs {
    /// The account
    name: String,
    /// Read the new password from standard input (its first line; at least 10 characters)
    #[arg(long, required = true)]
    password_stdin: bool,
    #[command(flatten)]
    by: ByArg,
    #[command(flatten)]
    format: ResultOutput,
}

#[derive(Debug, Args)]
struct RoleArgs {
    /// The account
    name: String,
    /// The new role
    #[arg(long, value_enum)]
    role: RoleArg,
    #[command(flatten)]
    by: ByArg,
    #[command(flatten)]
    format: ResultOutput,
}

#[derive(Debug, Args)]
struct UnlockArgs {
    /// The account name locked out
    name: String,
    /// Also lift the lockout of this client address
    #[arg(long, value_name = "ADDR")]
    client: Option<String>,
    #[command(flatten)]
    by: ByArg,
    #[command(flatten)]
    format: ResultOutput,
}

struct Accounts(Vec<StaffAccount>, Vec<Lockout>);

impl Report for Accounts {
    fn human(&self) -> String {
        if self.0.is_empty() {
            return "No staff account yet. Create the first admin:\n  \
                    printf '%s' \"$PW\" | fanlic staff add NAME --role admin --password-stdin\n"
                .to_owned();
        }
        let mut s = String::new();
        for a in &self.0 {
            let state = if a.enabled { "" } else { "  (disabled)" };
            s.push_str(&format!("{:<24} {:<7} since {}{state}\n", a.name, a.role.as_str(), a.created_at.date()));
        }
        for l in &self.1 {
            s.push_str(&format!("locked: {} until {} ({} failed logins)\n", l.key, l.until, l.failures));
        }
        s
    }

    fn json(&self) -> Value {
        json!({
            "accounts": self.0.iter().map(staff::account_json).collect::<Vec<_>>(),
            "lockouts": self.1.iter().map(|l| json!({"key": l.key, "failures": l.failures, "until": l.until.to_string()})).collect::<Vec<_>>(),
        })
    }
}

struct Done(String, Value);

impl Report for Done {
    fn human(&self) -> String {
        format!("{}\n", self.0)
    }

    fn json(&self) -> Value {
        self.1.clone()
    }
}

fn read_password() -> Result<zeroize::Zeroizing<String>, Error> {
    let mut input = zeroize::Zeroizing::new(String::new());
    std::io::stdin().take(64 * 1024).read_to_string(&mut input).map_err(|e| Error::Io {
        action: "cannot read the password",
        path: "standard input".into(),
        source: e,
    })?;
    staff::password_from(&input)
}

/// Who changes a staff account: `--by`, else `$USER`, else "fanlic staff"
/// (the first admin is often made in a bare container shell, where no
/// `$USER` is set; the audit row still says it came from this command).
/// A `--by` that is given but not a name is still an error.
fn actor(by: &ByArg) -> Result<String, Error> {
    match by.actor() {
        Err(Error::Contract(ContractError::NoActor)) => Ok("fanlic staff".to_owned()),
        other => other,
    }
}

/// `fanlic staff …`.
pub(crate) fn run(home_dir: &Path, a: StaffArgs) -> anyhow::Result<u8> {
    let mut home = Home::open(home_dir)?;
    let now = fanlic_issuer::util::clock::now()?;
    let store = home.store_mut();
    Ok(match a.command {
        StaffCommand::Add(a) => {
            let password = read_password()?;
            let acct = staff::add(store, &a.name, a.role.into(), &password, &actor(&a.by)?, now)?;
            let msg = format!(
                "Added {} ({}). Open the console with `fanlic --home {} console` and log in.",
                acct.name,
                acct.role,
                home_dir.display()
            );
            emit(&a.format, &Done(msg, staff::account_json(&acct)))?
        }
        StaffCommand::List(a) => {
            let accounts = staff::list(store)?;
            let lockouts = staff::lockouts(store, now)?;
            emit(&a.format, &Accounts(accounts, lockouts))?
        }
        StaffCommand::Disable(a) => {
            let acct = staff::set_enabled(store, &a.name, false, &actor(&a.by)?, now)?;
            emit(&a.format, &Done(format!("Disabled {}; its sessions ended.", acct.name), staff::account_json(&acct)))?
        }
        StaffCommand::Enable(a) => {
            let acct = staff::set_enabled(store, &a.name, true, &actor(&a.by)?, now)?;
            emit(&a.format, &Done(format!("Enabled {}.", acct.name), staff::account_json(&acct)))?
        }
        StaffCommand::Passwd(a) => {
            let password = read_password()?;
            staff::set_password(store, &a.name, &password, &actor(&a.by)?, now)?;
            emit(
                &a.format,
                &Done(format!("Changed the password of {}; its sessions ended.", a.name), json!({"name": a.name})),
            )?
        }
        StaffCommand::Role(a) => {
            let acct = staff::set_role(store, &a.name, a.role.into(), &actor(&a.by)?, now)?;
            emit(&a.format, &Done(format!("{} is now {}.", acct.name, acct.role), staff::account_json(&acct)))?
        }
        StaffCommand::Unlock(a) => {
            let n = staff::unlock(store, &a.name, a.client.as_deref(), &actor(&a.by)?, now)?;
            let msg =
                if n == 0 { format!("{} was not locked out.", a.name) } else { format!("Lifted {n} lockout(s).") };
            emit(&a.format, &Done(msg, json!({"name": a.name, "lifted": n})))?
        }
    })
}
