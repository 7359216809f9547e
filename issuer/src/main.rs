//! `fanlic`: issue and check licenses for FineReport / FineBI.
//!
//! Parsing and printing only; the logic is in the `fanlic_issuer` library.

use std::{
    fs,
    io::{self, Write as _},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum, value_parser};
use fanlic_formats::LicenseKind;
use fanlic_issuer::{
    Error, Home, InitOptions, IssueInput, IssueRequest, clock, demo,
    home::load_root_public_key,
    input, inspect,
    verify::{self, CheckSpec},
};

const MAIN_AFTER_HELP: &str = "\
THE HOME:
  Every command that needs the vendor home takes it from --home DIR, else $FANLIC_HOME, else
  ./fanlic-home. It holds fanlic.db (SQLite: keys, certificates, every issued license with its
  file, and the settings: authserv ids are in its table `authserv_ids`), issuing-keys/ (private
  keys, mode 0600), public/ (the root public key products embed) and, right after `init`,
  root-key/ (the root PRIVATE key: move that folder offline; only `keys rotate` needs it).

EXIT STATUS:
  0 success (verify: the license is valid), 1 verify: invalid / inspect: does not decode,
  2 usage or I/O error.

EXAMPLES:
  fanlic demo
  fanlic init --home /srv/fanlic --authserv-id mx.example.com
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic inspect Container.lic --json
  fanlic keys rotate --root-key /media/usb/root-key";

/// Issue and check fanlic licenses (Container.lic) for FineReport and FineBI.
#[derive(Debug, Parser)]
#[command(name = "fanlic", version, after_help = MAIN_AFTER_HELP, term_width = 100)]
struct Cli {
    /// The vendor home [default: $FANLIC_HOME, else ./fanlic-home]
    #[arg(long, global = true, value_name = "DIR", env = "FANLIC_HOME", hide_env = true, display_order = 900)]
    home: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(InitArgs),
    Issue(IssueArgs),
    Verify(VerifyArgs),
    Inspect(InspectArgs),
    Keys(KeysArgs),
    Demo(DemoArgs),
}

const INIT_AFTER_HELP: &str = "\
Makes the home (which must not exist, or be empty: init never overwrites a home) with:
  root-key/root-<id>.key.pem   the root PRIVATE key (PKCS#8 PEM, mode 0600).
                               MOVE THE root-key/ FOLDER OFFLINE: only `keys rotate` needs it.
  public/root-<id>.pub.pem     the root public key products embed (also printed in hex)
  issuing-keys/issuing-<id>.*  the first issuing key, certified by the root key to sign all
                               kinds of licenses and revocation lists, from now for 2 years
                               (or --valid-for-days)
  fanlic.db                    the database; --authserv-id values go to its `authserv_ids` table
Public keys are PEM SubjectPublicKeyInfo, private keys PKCS#8 v1: openssl reads both, e.g.
`openssl pkey -pubin -in public/root-<id>.pub.pem -noout -text`.

EXAMPLES:
  fanlic init
  fanlic init --home /srv/fanlic --authserv-id mx1.example.com --authserv-id mx2.example.com
  FANLIC_HOME=/srv/fanlic fanlic init --json";

/// Create a vendor home: root key, first issuing key, database
#[derive(Debug, Args)]
#[command(after_help = INIT_AFTER_HELP)]
struct InitArgs {
    /// Authserv-id of one of your mail servers, as it writes it in Authentication-Results headers
    /// (repeatable); kept in the database's `authserv_ids` table
    #[arg(long = "authserv-id", value_name = "ID")]
    authserv_ids: Vec<String>,

    /// Days the first issuing key may sign licenses [default: 2 years]
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..=36_500))]
    valid_for_days: Option<u32>,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

const ISSUE_AFTER_HELP: &str = "\
The license gets a random 128-bit id (32 hex digits), issued_at = now, and is signed by the
home's newest active issuing key, then checked with the verifier products use and recorded in
the database with all its fields and its file. The file is written atomically; lines starting
with # before BEGIN are unsigned notes for people.

EXAMPLES:
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic issue --company 'Acme Ltd' --project bi --product FineBI --version 6.1 \\
      --expires never --signed 2026-11-20 -o acme-bi/Container.lic --json";

/// Issue a license by hand and write Container.lic
#[derive(Debug, Args)]
#[command(after_help = ISSUE_AFTER_HELP)]
struct IssueArgs {
    /// Customer company, as in the registration mail
    #[arg(long, value_name = "NAME")]
    company: String,

    /// Project name, exactly as the product's registration page shows it
    #[arg(long, value_name = "NAME")]
    project: String,

    /// Application: FineReport or FineBI
    #[arg(long, visible_alias = "product", value_name = "NAME")]
    app: String,

    /// Licensed version, major.minor (11.0 covers 11.0.x)
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: String,

    /// Authentication method the license is for
    #[arg(long, value_enum, default_value_t = KindArg::LocalContainer)]
    kind: KindArg,

    /// Most cluster nodes allowed
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = value_parser!(u32).range(1..))]
    nodes: u32,

    /// Last valid day (UTC), or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: String,

    /// Contract signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: String,

    /// Not valid before this time (RFC 3339) or day [default: now]
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,

    /// Where to write the license
    #[arg(short, long, value_name = "FILE", default_value = "Container.lic")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    /// Print the license as JSON
    #[arg(long)]
    json: bool,
}

const VERIFY_AFTER_HELP: &str = "\
Checks the signatures (root key -> issuing key -> license), then the license against the
environment given, and reports EVERY failing cause at once, like the product's registration page.
Root keys: all the home knows, or --root-key FILE (PEM public key, repeatable; needs no home).
Exit status: 0 valid, 1 invalid, 2 usage or I/O error.
JSON: {\"valid\": bool, \"license\": {...} or null when a signature does not hold,
       \"causes\": [{\"code\", \"message\", ...details}]}

EXAMPLES:
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic verify Container.lic --app FineReport --version 11.0 --project webroot --nodes 3 \\
      --now 2027-06-01T00:00:00Z --json
  fanlic verify Container.lic --root-key root.pub.pem --app FineBI --version 6.1 --project bi";

/// Check a license the way the product does, listing every cause
#[derive(Debug, Args)]
#[command(after_help = VERIFY_AFTER_HELP)]
struct VerifyArgs {
    /// The license: Container.lic (armored) or the raw binary file
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Local application name
    #[arg(long, value_name = "NAME")]
    app: String,

    /// Local application version (matched on major.minor)
    #[arg(long, value_name = "X.Y[.Z]")]
    version: String,

    /// Local project name
    #[arg(long, value_name = "NAME")]
    project: String,

    /// Nodes in the cluster
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = value_parser!(u32).range(1..))]
    nodes: u32,

    /// Authentication method selected [default: the file's own kind]
    #[arg(long, value_enum)]
    method: Option<KindArg>,

    /// The time of the check, RFC 3339 [default: the system clock]
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,

    /// The latest time the product saw before, RFC 3339 (detects a clock rolled back)
    #[arg(long, value_name = "RFC3339")]
    last_seen: Option<String>,

    /// Root public key to trust (PEM or 64 hex digits; repeatable) instead of the home's
    #[arg(long = "root-key", value_name = "FILE")]
    root_keys: Vec<PathBuf>,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

const INSPECT_AFTER_HELP: &str = "\
Needs no key and no home. Signatures are NOT checked: anyone can edit a file, so nothing shown
is trusted (use `fanlic verify`). Comment lines are shown as untrusted. The activation key is
never shown, only whether there is one. Exit status: 0 decoded, 1 does not decode, 2 I/O error.

EXAMPLES:
  fanlic inspect Container.lic
  fanlic inspect license.bin --json";

/// Show what a license file says, without checking it
#[derive(Debug, Args)]
#[command(after_help = INSPECT_AFTER_HELP)]
struct InspectArgs {
    /// The license: Container.lic (armored) or the raw binary file
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// List or rotate keys
#[derive(Debug, Args)]
#[command(after_help = "EXAMPLES:\n  fanlic keys list\n  fanlic keys rotate --root-key /media/usb/root-key")]
struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    List(ListArgs),
    Rotate(RotateArgs),
}

/// List root and issuing keys: ids, windows, purposes, status, files
#[derive(Debug, Args)]
#[command(after_help = "\
Status: active (may sign; the newest signs new licenses), retired (replaced by a newer key; what
it signed stays valid), expired (its window has ended).

EXAMPLES:
  fanlic keys list
  fanlic keys list --json")]
struct ListArgs {
    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Certify a new issuing key with the (offline) root key; it signs from now on
#[derive(Debug, Args)]
#[command(after_help = "\
Bring the root key back only for this command. The new key signs every license issued from now
on; older keys are retired, and the licenses they signed stay valid (a key's window bounds when
it may sign, not how long its licenses last).

EXAMPLES:
  fanlic keys rotate --root-key /media/usb/root-key
  fanlic keys rotate --root-key /media/usb/root-key/root-0123456789abcdef.key.pem \\
      --valid-for-days 365")]
struct RotateArgs {
    /// The root private key: its .key.pem file, or the root-key/ folder
    #[arg(long = "root-key", value_name = "PATH")]
    root_key: PathBuf,

    /// Days the new issuing key may sign licenses [default: 2 years]
    #[arg(long, value_name = "N", value_parser = value_parser!(u32).range(1..=36_500))]
    valid_for_days: Option<u32>,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

/// Try everything on a throw-away home: init, issue, verify (valid, then several causes)
#[derive(Debug, Args)]
#[command(after_help = "\
Needs no setup: works in a temporary folder, deleted at the end, and prints each step with the
command that does it.

EXAMPLES:
  fanlic demo")]
struct DemoArgs {}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KindArg {
    /// Local container authentication (Container.lic)
    LocalContainer,
    /// Container private cloud (authorization server image)
    PrivateCloud,
}

impl From<KindArg> for LicenseKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::LocalContainer => Self::LocalContainer,
            KindArg::PrivateCloud => Self::PrivateCloud,
        }
    }
}

fn home_dir(cli_home: Option<PathBuf>) -> PathBuf {
    cli_home.unwrap_or_else(|| PathBuf::from("fanlic-home"))
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).context("cannot write to standard output")?;
    out.flush().context("cannot write to standard output")
}

fn print_json(v: &serde_json::Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v).context("cannot format JSON")?;
    print(&format!("{text}\n"))
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    let home = home_dir(cli.home);
    match cli.command {
        Command::Init(a) => {
            let authserv_ids = a.authserv_ids.iter().map(|s| input::authserv_id(s)).collect::<Result<Vec<_>, _>>()?;
            let opts = InitOptions { authserv_ids, valid_for_days: a.valid_for_days, now: clock::now()? };
            let (_, report) = Home::init(&home, &opts)?;
            if a.json {
                print_json(&report.to_json())?
            } else {
                print(&report.human())?
            }
            Ok(0)
        }
        Command::Issue(a) => {
            let text = IssueInput {
                company: &a.company,
                project: &a.project,
                app: &a.app,
                version: &a.version,
                expires: &a.expires,
                signed: &a.signed,
                not_before: a.not_before.as_deref(),
            };
            let req = IssueRequest::parse(&text, a.kind.into(), a.nodes, a.output.clone(), a.force)?;
            let mut h = Home::open(&home)?;
            let issued = h.issue(&req, clock::now()?)?;
            if a.json {
                print_json(&issued.license)?
            } else {
                print(&issued.human(h.dir()))?
            }
            Ok(0)
        }
        Command::Verify(a) => {
            let roots = if a.root_keys.is_empty() {
                Home::open(&home)?.root_keys()?
            } else {
                a.root_keys.iter().map(|p| load_root_public_key(p)).collect::<Result<Vec<_>, _>>()?
            };
            if roots.is_empty() {
                return Err(Error::NoRootKeys.into());
            }
            let now = match &a.now {
                Some(s) => clock::parse_rfc3339("--now", s)?,
                None => clock::now()?,
            };
            let last_seen = a.last_seen.as_deref().map(|s| clock::parse_rfc3339("--last-seen", s)).transpose()?;
            let input = fs::read(&a.file).map_err(|source| Error::Io {
                action: "cannot read the license",
                path: a.file.clone(),
                source,
            })?;
            let spec = CheckSpec {
                app_name: a.app,
                version: a.version,
                project: a.project,
                nodes: a.nodes,
                method: a.method.map(Into::into),
                now,
                last_seen,
            };
            let report = verify::verify(&input, &roots, &spec);
            if a.json {
                print_json(&report.to_json())?
            } else {
                print(&report.human())?
            }
            Ok(report.exit_code())
        }
        Command::Inspect(a) => {
            let input = fs::read(&a.file).map_err(|source| Error::Io {
                action: "cannot read the license",
                path: a.file.clone(),
                source,
            })?;
            let found = inspect::inspect(&input);
            if a.json {
                print_json(&found.to_json())?
            } else {
                print(&found.human())?
            }
            Ok(found.exit_code())
        }
        Command::Keys(k) => match k.command {
            KeysCommand::List(a) => {
                let report = Home::open(&home)?.list_keys(clock::now()?)?;
                if a.json {
                    print_json(&report.to_json())?
                } else {
                    print(&report.human())?
                }
                Ok(0)
            }
            KeysCommand::Rotate(a) => {
                let mut h = Home::open(&home)?;
                let report = h.rotate(&a.root_key, a.valid_for_days, clock::now()?)?;
                if a.json {
                    print_json(&report.to_json())?
                } else {
                    print(&report.human())?
                }
                Ok(0)
            }
        },
        Command::Demo(DemoArgs {}) => {
            let mut out = io::stdout().lock();
            demo::run(&mut out)?;
            Ok(0)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // The top-level message only: fanlic's errors already carry their causes.
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
