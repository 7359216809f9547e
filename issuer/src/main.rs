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
use fanlic_issuer::Error;
use fanlic_issuer::Home;
use fanlic_issuer::InitOptions;
use fanlic_issuer::IssueInput;
use fanlic_issuer::IssueRequest;
use fanlic_issuer::contracts::{self, ContractChanges, OPTION_NAMES, TermsText};
use fanlic_issuer::demo;
use fanlic_issuer::home::load_root_public_key;
use fanlic_issuer::image;
use fanlic_issuer::ingest;
use fanlic_issuer::ingest::source;
use fanlic_issuer::license::inspect;
use fanlic_issuer::license::verify::{self, CheckSpec};
use fanlic_issuer::outbox::{self, OutboxTransport, SmtpConfig, SmtpTls};
use fanlic_issuer::util::clock;
use fanlic_issuer::util::input;

const MAIN_AFTER_HELP: &str = "\
THE HOME:
  Every command that needs the vendor home takes it from --home DIR, else $FANLIC_HOME, else
  ./fanlic-home. It holds fanlic.db (SQLite: keys, certificates, every issued license with its
  file, and the settings: authserv ids are in its table `authserv_ids`), issuing-keys/ (private
  keys, mode 0600), public/ (the root public key products embed) and, right after `init`,
  root-key/ (the root PRIVATE key: move that folder offline; only `keys rotate` needs it).

EXIT STATUS:
  0 success (verify: the license is valid), 1 verify: invalid / inspect: does not decode /
  revoke, unbind: refused (nothing changed), 2 usage or I/O error.

EXAMPLES:
  fanlic demo
  fanlic init --home /srv/fanlic --authserv-id mx.example.com
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic inspect Container.lic --json
  fanlic keys rotate --root-key /media/usb/root-key
  fanlic contract import contracts.csv";

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
    Image(ImageArgs),
    Verify(VerifyArgs),
    Inspect(InspectArgs),
    Keys(KeysArgs),
    Contract(ContractArgs),
    Outbox(OutboxArgs),
    Ingest(IngestArgs),
    Watch(WatchArgs),
    Prune(PruneArgs),
    Review(ReviewArgs),
    Alerts(AlertsArgs),
    Approve(ApproveArgs),
    Reject(RejectArgs),
    Audit(AuditArgs),
    Revoke(RevokeArgs),
    Unbind(UnbindArgs),
    Revocations(RevocationsArgs),
    Serve(ServeArgs),
    Config(ConfigArgs),
    Demo(DemoArgs),
}

const INGEST_AFTER_HELP: &str = "\
Each message is parsed, its sender checked against the home's trusted authserv ids
(Authentication-Results: DKIM/DMARC pass for the From domain), its company's contract looked up,
and validated. One decision per message, recorded once:
  issued     a Container.lic is signed (with the mail's SHA-256) and written to
             HOME/issued/<license_id>-Container.lic; a reply with it is queued for the sender
             (a contract address; never Reply-To). Send it with `fanlic outbox flush`.
  rejected   every reason is recorded; a reply listing them is queued when the sender is
             authenticated and a contract address
  held       for staff (unauthenticated sender, special requirements, private cloud...): see
             `fanlic review`, then `fanlic approve` or `fanlic reject`; never answered
  duplicate  the message (same Message-ID, else same bytes) was already decided
The decision, the license and the reply are committed together; Maildir messages then move from
new/ to cur/ (flag S). A message that could not be decided stays where it is. Messages are
decided in batches (--batch, default 256): one transaction and one flush to disk for each.
Several runs may read one Maildir at once: each message is decided once, and a run that finds
it decided by another reports it as a duplicate.

SOURCES:
  In a folder, *.eml files are messages; other files (a *.txt export, no extension) are read
  when they start with a mail header block, else reported as skipped (not_mail). Names starting
  with `.` are ignored. In a folder or a Maildir's new/, symbolic links, FIFOs, sockets, devices
  and folders are never followed or read: each is reported as skipped (a warning on stderr and,
  with --json, a line {\"source\", \"decision\": \"skipped\", \"reason\", \"message\"}) and left
  in place. Skipped entries are warnings: they do not change the exit status.

EXIT STATUS:
  0 every message was decided (whatever the decisions; skipped entries are warnings),
  1 some message could not be read or decided (it stays where it is for the next run),
  2 usage error: a PATH that does not exist, cannot be read or is not a mail source
    (nothing is decided then), or the home cannot be opened.

EXAMPLES:
  fanlic ingest /var/mail/licenses
  fanlic ingest request.eml --json
  fanlic ingest - < request.eml";

/// Decide registration mails: issue, reject or hold each, exactly once
#[derive(Debug, Args)]
#[command(after_help = INGEST_AFTER_HELP)]
struct IngestArgs {
    /// A .eml file, a folder of mail (*.eml, and other files that are mail), a Maildir, an mbox, or -
    /// (standard input)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// The time of the decisions (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    now: Option<String>,

    /// Print one JSON object per message, one per line
    #[arg(long)]
    json: bool,

    /// Messages decided per transaction (1 to 4096); 1 commits each on its own
    #[arg(long, value_name = "N", default_value_t = ingest::BATCH_MESSAGES, value_parser = batch_size)]
    batch: usize,
}

fn batch_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=4096).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a number from 1 to 4096")),
    }
}

/// Keep ingesting a Maildir as registration mail arrives
#[derive(Debug, Args)]
#[command(after_help = "\
Looks in MAILDIR/new/ every --interval seconds and decides each new message as `fanlic ingest`
does, printing one line (or JSON object) per message. A message that cannot be decided now (for
example, the database is locked) stays in new/ and is tried again at the next look. An entry of
new/ that is not a regular file (a symbolic link, FIFO, device or folder) is never followed or
read: it is reported as skipped once per run of watch and left in place.

Stop it with Ctrl-C or SIGTERM at any moment: each message is committed on its own before it
moves to cur/, so stopping loses nothing and decides nothing twice.

EXAMPLES:
  fanlic watch /var/mail/licenses
  fanlic watch ~/Maildir/registrations --interval 30 --json")]
struct WatchArgs {
    /// The Maildir (with cur/, new/ and tmp/) the mail server delivers to
    #[arg(value_name = "MAILDIR")]
    maildir: PathBuf,

    /// Seconds between two looks at new/ (1 to 3600)
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    interval: u64,

    /// Print one JSON object per message, one per line
    #[arg(long)]
    json: bool,

    /// Messages decided per transaction (1 to 4096); 1 commits each on its own
    #[arg(long, value_name = "N", default_value_t = ingest::BATCH_MESSAGES, value_parser = batch_size)]
    batch: usize,
}

/// Remove the stored copies of decided mail before a date, keeping the decisions
#[derive(Debug, Args)]
#[command(after_help = "\
Each decision keeps the message it decided, for review and approval: whole for held, issued,
resent, joined and revoked mail; the first 64 KiB (with the SHA-256 and size of the whole) for
rejected and ignored mail. prune empties that copy for decisions made before DATE, and keeps:
the decision rows (who, when, what, why, the message's SHA-256 and size), the audit rows,
decisions still held for staff (all that `fanlic review` lists and `fanlic approve` needs), and
private-cloud decisions whose reply is still owed. One audit entry (`prune`) records what was
removed. A decision whose copy was cut or pruned says so where it is shown (review's --json has
`raw`: kept whole, truncated or pruned, with the size and SHA-256 of the whole message).

The freed pages are reused by the database; the file shrinks only with `sqlite3 fanlic.db
VACUUM`. Removed mail is overwritten (the database uses secure_delete).

EXIT STATUS:
  0 done (also when nothing was old enough), 2 usage error (DATE) or the home cannot be opened.

EXAMPLES:
  fanlic prune --before 2026-01-01 --dry-run
  fanlic prune --before 2026-01-01
  fanlic prune --before 2026-06-30T00:00:00Z --json --by alice")]
struct PruneArgs {
    /// Prune decisions made before this date (YYYY-MM-DD, UTC midnight) or time (RFC 3339)
    #[arg(long, value_name = "DATE", required = true)]
    before: String,

    /// Count what would be removed; change nothing
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    by: ByArg,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// List the requests held for staff, with their fields and reasons
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  fanlic review
  fanlic review --json")]
struct ReviewArgs {
    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// List the alerts `fanlic serve` raised for staff (forked servers, activation bursts), or close one
#[derive(Debug, Args)]
#[command(after_help = "\
Alerts are about licenses in use, not about mail (that is `fanlic review`):
  forked         an authorization server asked for a receipt with one that is not the latest
                 issued for its binding: a copy of the server (same instance key and state) runs
                 somewhere. No receipt was issued to it; the license keeps working where the
                 latest receipt is. Find out which server is the customer's, then revoke or
                 migrate the license, or `fanlic unbind` it.
  receipt_burst  one local container's binding got more than 10 receipts in 24 hours: the same
                 Container.lic is probably started in many places.
One alert per license and kind stays open until closed; each is also in `fanlic audit`.

EXAMPLES:
  fanlic alerts
  fanlic alerts --all --json
  fanlic alerts --close 3 --by alice")]
struct AlertsArgs {
    /// Include closed alerts
    #[arg(long)]
    all: bool,

    /// Close this alert (handled)
    #[arg(long, value_name = "ID")]
    close: Option<i64>,

    #[command(flatten)]
    by: ByArg,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Issue a held request now (staff checked it)
#[derive(Debug, Args)]
#[command(after_help = "\
The mail is validated again as if its sender were authenticated; the license is issued only if
nothing else is wrong (the contract must still exist and allow it). A reply is queued only when the
sender was authenticated.

EXAMPLES:
  fanlic approve 3 --by alice")]
struct ApproveArgs {
    /// The decision's id, as `fanlic review` shows it
    #[arg(value_name = "ID")]
    id: i64,

    #[command(flatten)]
    by: ByArg,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Reject a held request, saying why
#[derive(Debug, Args)]
#[command(after_help = "\
The reason is recorded. It is also sent to the sender in a reply (queued in the outbox) when the
sender was authenticated and is an address of an enabled contract; an unauthenticated sender never
gets one (its From may be forged). --no-reply records the rejection without any reply.

EXAMPLES:
  fanlic reject 3 --reason 'Please send one request per project.' --by alice
  fanlic reject 4 --reason 'spam' --no-reply")]
struct RejectArgs {
    /// The decision's id, as `fanlic review` shows it
    #[arg(value_name = "ID")]
    id: i64,

    /// Why: recorded, and the text of the reply
    #[arg(long, value_name = "TEXT")]
    reason: String,

    /// Send no reply, only record the rejection
    #[arg(long)]
    no_reply: bool,

    #[command(flatten)]
    by: ByArg,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Show the audit trail: every state change, with who, when, what and why
#[derive(Debug, Args)]
#[command(after_help = "\
One row per change, oldest first: decisions on registration mails (issued, resent, joined,
ignored, held, rejected, approved, staff-rejected, duplicate, revoked), license changes (issue,
revoke, unbind, bind, supersede, marked-duplicate), contract changes (contract-add, -import,
-update, -disable, -enable) and key changes (key-rotate, key-revoke). Filters combine.

EXAMPLES:
  fanlic audit
  fanlic audit --license 0123456789abcdef0123456789abcdef
  fanlic audit --contract 'Acme Ltd' --since 2026-11-01
  fanlic audit --action revoke --action supersede --json")]
struct AuditArgs {
    /// Only this license's entries (and its mails' decisions)
    #[arg(long, value_name = "LICENSE_ID")]
    license: Option<String>,

    /// Only this contract's entries, its licenses' and their decisions' (id or company)
    #[arg(long, value_name = "ID|COMPANY")]
    contract: Option<String>,

    /// Only entries at or after this time (RFC 3339) or day
    #[arg(long, value_name = "TIME")]
    since: Option<String>,

    /// Only this action (repeatable): issued, resent, held, approved, revoke, unbind, contract-update, ...
    #[arg(long, value_name = "ACTION")]
    action: Vec<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
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

One Container.lic per project: a second live license for the same company, application and
project is refused. To replace one (new terms), name it with --supersede; it is revoked and the
new license records that it supersedes it.

EXAMPLES:
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic issue --company 'Acme Ltd' --project bi --product FineBI --version 6.1 \\
      --expires never --signed 2026-11-20 -o acme-bi/Container.lic --json
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --nodes 4 --expires 2028-12-31 --signed 2026/11/20 --supersede 0123456789abcdef0123456789abcdef";

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

    /// Replace this live license of the same project (it is revoked): one Container.lic per project
    #[arg(long, value_name = "LICENSE_ID")]
    supersede: Option<String>,

    /// How the license is activated: code (a 6-digit code) or receipt (a receipt signed by
    /// `fanlic serve`) [default: the company's contract's policy, else code]
    #[arg(long, value_name = "POLICY")]
    activation_policy: Option<String>,

    /// Who issues, for the audit trail [default: $USER]
    #[arg(long, value_name = "NAME")]
    by: Option<String>,

    /// Print the license as JSON
    #[arg(long)]
    json: bool,
}

const IMAGE_AFTER_HELP: &str = "\
Writes the authorization server image of a recorded private-cloud license: a tar that
`docker load` / `podman load` accept, tagged fanruan/license-server:<license id>. The bottom
layer is the server binary (the same for every customer); the top layer holds the signed
license, its image key (derived from the activation master secret, so rebuilding gives the
same bytes) and the root public keys. The tar is written atomically with mode 0600.
Server binary: FANLIC_LICENSE_SERVER_BINARY, else `fanlic config --license-server-binary`,
else the musl build of this tree (cargo build --release -p fanlic-license-server
--target x86_64-unknown-linux-musl).

EXAMPLES:
  fanlic image 0123456789abcdef0123456789abcdef -o fanruan_license_server.tar
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind private-cloud --nodes 4 --expires never --signed 2026/11/20 -o fanruan_license_server.tar
  podman load -i fanruan_license_server.tar";

/// Build fanruan_license_server.tar for a private-cloud license
#[derive(Debug, Args)]
#[command(after_help = IMAGE_AFTER_HELP)]
struct ImageArgs {
    /// The license id (32 hex digits)
    #[arg(value_name = "LICENSE_ID")]
    license_id: String,

    /// Where to write the image
    #[arg(short, long, value_name = "FILE", default_value = "fanruan_license_server.tar")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

const VERIFY_AFTER_HELP: &str = "\
Checks the signatures (root key -> issuing key -> license), then the license against the
environment given, and reports EVERY failing cause at once, like the product's registration page:
the product's name of the cause, its details and what to do next, in English or Chinese (--lang).
Root keys: all the home knows, or --root-key (repeatable; needs no home): a PEM public key file
(public/root-<id>.pub.pem), a raw 32-byte key file, or 64 hex digits (given here or in a file).
--revocations FILE: a signed revocation list (`fanlic revocations export`); a license it revokes,
or whose issuing key it revokes, is invalid (cause `revoked`). A list that does not verify is an
error (exit status 2).
Exit status: 0 valid, 1 invalid, 2 usage or I/O error.
JSON: {\"valid\": bool, \"lang\": \"en\"|\"zh-CN\",
       \"license\": {...} or null when a signature does not hold,
       \"causes\": [{\"code\", \"message\", \"title\", \"prompt\", \"advice\", ...details}]}

EXAMPLES:
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic verify Container.lic --app FineReport --version 11.0 --project webroot --nodes 3 \\
      --now 2027-06-01T00:00:00Z --json
  fanlic verify Container.lic --root-key root.pub.pem --app FineBI --version 6.1 --project bi
  fanlic verify Container.lic --app FineReport --version 11.0 --project webroot --lang zh-CN \\
      --revocations revocations.bin";

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

    /// Root public key to trust instead of the home's (repeatable): a PEM file, a raw 32-byte file,
    /// or 64 hex digits
    #[arg(long = "root-key", value_name = "FILE|HEX")]
    root_keys: Vec<PathBuf>,

    /// A signed revocation list to check the license against
    #[arg(long, value_name = "FILE")]
    revocations: Option<PathBuf>,

    /// The language of the causes: en or zh-CN (简体中文)
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = verify::parse_lang)]
    lang: fanlic_verifier::Lang,

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
#[command(
    after_help = "EXAMPLES:\n  fanlic keys list\n  fanlic keys rotate --root-key /media/usb/root-key\n  fanlic keys receipt-key --root-key /media/usb/root-key --count 3"
)]
struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    List(ListArgs),
    Rotate(RotateArgs),
    ReceiptKey(ReceiptKeyArgs),
}

/// Certify new receipt keys (30 days each) with the (offline) root key for `fanlic serve`
#[derive(Debug, Args)]
#[command(after_help = "\
A receipt key signs the activation receipts `fanlic serve` gives for receipt-policy licenses. The
root key certifies it for receipts only (purposes 0x8), for a window of 30 days; products refuse a
receipt signed outside its key's window. `fanlic init` makes the first one. Make the next before
the current window ends: `fanlic serve` refuses receipt requests when no key is valid. With
--count N, the keys' windows follow each other, so one session with the offline root key covers
N x 30 days. Older keys keep signing until a newer key's window starts; the files are kept like
issuing keys (HOME/receipt-keys/, PKCS#8, mode 0600).

EXAMPLES:
  fanlic keys receipt-key --root-key /media/usb/root-key
  fanlic keys receipt-key --root-key /media/usb/root-key --count 6 --json")]
struct ReceiptKeyArgs {
    /// The root private key: its .key.pem file, or the root-key/ folder
    #[arg(long = "root-key", value_name = "PATH")]
    root_key: PathBuf,

    /// How many keys to make, each window starting where the previous one ends (1 to 13)
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = value_parser!(u32).range(1..=i64::from(fanlic_issuer::home::MAX_RECEIPT_KEYS_AT_ONCE)))]
    count: u32,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
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

const CONTRACT_AFTER_HELP: &str = "\
The registry of what each customer bought, in the home's database. Companies are unique,
compared ignoring case, runs of white space and full-width forms. Addresses are stored trimmed
and lowercase, and an address may belong to ONE enabled contract only (so a sender names one
contract); disabled contracts keep theirs. Every change records who (--by, else $USER) and when,
in the contract and in the audit trail (`fanlic audit --contract ID`).

EXAMPLES:
  fanlic contract add --company 'Acme Ltd' --email it@acme.example --signed 2026/11/20 \\
      --product FineReport --methods local-container --max-nodes 2 --version 11.0 --expires never
  fanlic contract import contracts.csv
  fanlic contract list --all
  fanlic contract show 'Acme Ltd' --json
  fanlic contract update 1 --max-nodes 4 --expires 2028-12-31
  fanlic contract disable 'Acme Ltd'";

/// The contract registry: add, list, show, update, disable, import
#[derive(Debug, Args)]
#[command(after_help = CONTRACT_AFTER_HELP)]
struct ContractArgs {
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Debug, Subcommand)]
enum ContractCommand {
    Add(ContractAddArgs),
    List(ContractListArgs),
    Show(ContractShowArgs),
    Update(ContractUpdateArgs),
    Disable(ContractDisableArgs),
    Import(ContractImportArgs),
}

/// Show or change the home's settings: the reply sender and the trusted authserv ids
#[derive(Debug, Args)]
#[command(after_help = "\
With no option, shows the settings. Changes are checked first and made only if all are valid.
  reply sender    the From of every reply (licenses, rejections); until set, fanlic@localhost,
                  which receiving servers may refuse: set your licensing mailbox
  authserv ids    the ids in Authentication-Results headers that `fanlic ingest` trusts: those
                  of the mail servers that receive the registration mail (see README)
  own Received    how many Received lines your own servers add above those results on every
  lines           message (a relay or fetcher after the authenticating server); default 0

EXAMPLES:
  fanlic config
  fanlic config --reply-from licenses@vendor.example
  fanlic config --add-authserv-id mx2.vendor.example --remove-authserv-id mx.old.example --json")]
struct ConfigArgs {
    /// The address replies are sent from
    #[arg(long, value_name = "ADDR")]
    reply_from: Option<String>,

    /// Trust one more authserv id (repeatable)
    #[arg(long = "add-authserv-id", value_name = "ID")]
    add_authserv_ids: Vec<String>,

    /// Stop trusting an authserv id (repeatable)
    #[arg(long = "remove-authserv-id", value_name = "ID")]
    remove_authserv_ids: Vec<String>,

    /// Received lines your own servers add above the trusted results (0 to 5)
    #[arg(long, value_name = "N")]
    own_received_lines: Option<usize>,

    /// Where new licenses send phones to get the activation code (`fanlic serve`'s public URL)
    #[arg(long, value_name = "URL")]
    activation_base_url: Option<String>,

    /// The authorization server binary that goes into private-cloud images
    #[arg(long, value_name = "PATH")]
    license_server_binary: Option<PathBuf>,

    #[command(flatten)]
    by: ByArg,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

fn run_config(home: &std::path::Path, a: &ConfigArgs) -> anyhow::Result<u8> {
    let mut h = Home::open(home)?;
    let now = clock::now()?;
    // Check everything before changing anything.
    let trusted = h.authserv_ids()?;
    for id in &a.add_authserv_ids {
        input::authserv_id(id)?;
    }
    for id in &a.remove_authserv_ids {
        if !trusted.iter().any(|t| t == id.trim()) {
            anyhow::bail!(
                "--remove-authserv-id {id}: not a trusted authserv id (trusted: {}); nothing was changed",
                if trusted.is_empty() { "none".to_owned() } else { trusted.join(", ") }
            );
        }
    }
    if let Some(addr) = &a.reply_from {
        contracts::normalize_email("--reply-from", addr)?;
    }
    if let Some(n) = a.own_received_lines
        && n > fanlic_issuer::home::MAX_OWN_RECEIVED_LINES
    {
        anyhow::bail!(
            "--own-received-lines {n}: at most {}: count only the Received lines your own servers add; nothing was changed",
            fanlic_issuer::home::MAX_OWN_RECEIVED_LINES
        );
    }
    if let Some(url) = &a.activation_base_url {
        fanlic_issuer::home::activation::check_base_url(url)?;
    }
    if let Some(p) = &a.license_server_binary
        && !p.is_file()
    {
        return Err(fanlic_issuer::Error::ServerBinaryMissing { path: p.clone() }.into());
    }
    let changes = a.reply_from.is_some()
        || a.license_server_binary.is_some()
        || a.own_received_lines.is_some()
        || a.activation_base_url.is_some()
        || !a.add_authserv_ids.is_empty()
        || !a.remove_authserv_ids.is_empty();
    if changes {
        let by = contracts::actor(a.by.by.as_deref())?;
        if let Some(addr) = &a.reply_from {
            h.set_reply_from(addr, now, &by)?;
        }
        for id in &a.add_authserv_ids {
            h.add_authserv_id(id, now)?;
        }
        for id in &a.remove_authserv_ids {
            h.remove_authserv_id(id)?;
        }
        if let Some(n) = a.own_received_lines {
            h.set_own_received_lines(n, now, &by)?;
        }
        if let Some(url) = &a.activation_base_url {
            h.set_activation_base_url(url, now, &by)?;
        }
        if let Some(p) = &a.license_server_binary {
            h.set_license_server_binary(p, now, &by)?;
        }
    }
    let license_server_binary = h.license_server_binary()?;
    let activation_base_url = h.activation_base_url()?;
    let activation_master = h.activation_master_path()?;
    let reply_from = h.reply_from()?;
    let is_default = reply_from == outbox::DEFAULT_FROM;
    let ids = h.authserv_ids()?;
    let own = h.own_received_lines()?;
    if a.json {
        print_json(&serde_json::json!({
            "reply_from": reply_from,
            "reply_from_is_default": is_default,
            "authserv_ids": ids,
            "own_received_lines": own,
            "activation_base_url": activation_base_url,
            "activation_master_secret": activation_master,
            "activation_master_secret_present": activation_master.exists(),
            "license_server_binary": license_server_binary,
            "license_server_binary_present": license_server_binary.is_file(),
        }))?;
    } else {
        let note = if is_default { " (the default: set yours with --reply-from)" } else { "" };
        let ids = if ids.is_empty() {
            "none: every sender is held as unauthenticated (add one with --add-authserv-id)".to_owned()
        } else {
            ids.join(", ")
        };
        let master = if activation_master.exists() {
            activation_master.display().to_string()
        } else {
            format!("{} (missing: licenses get no activation key)", activation_master.display())
        };
        print(&format!(
            "reply sender:  {reply_from}{note}\nauthserv ids:  {ids}\nown Received lines above them: {own}\n\
             activation base URL: {activation_base_url}\nactivation master secret: {master}\n\
             license server binary (for images): {}{}\n",
            license_server_binary.display(),
            if license_server_binary.is_file() { "" } else { " (missing: build it, see `fanlic image --help`)" }
        ))?;
    }
    Ok(0)
}

/// Who makes a change (audit)
#[derive(Debug, Args)]
struct ByArg {
    /// Who makes this change, for the audit record [default: $USER]
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
}

/// Record a new contract (enabled)
#[derive(Debug, Args)]
#[command(after_help = "\
Fails if the company already has a contract (use `fanlic contract update`), or if an address
already belongs to another enabled contract.

EXAMPLES:
  fanlic contract add --company 'Acme Ltd' --email it@acme.example --signed 2026/11/20 \\
      --product FineReport --methods local-container --max-nodes 2 --version 11.0 --expires never
  fanlic contract add --company 'Beta Co' --email 'ops@beta.example;cto@beta.example' \\
      --signed 2026/01/05 --product FineBI --methods local-container,private-cloud --max-nodes 4 \\
      --version 6.1 --expires 2027-12-31 --by alice --json")]
struct ContractAddArgs {
    /// Customer company, as in the registration mail
    #[arg(long, value_name = "NAME")]
    company: String,

    /// Address allowed to request licenses (repeatable, or several separated by ;)
    #[arg(long = "email", value_name = "ADDR", required = true)]
    emails: Vec<String>,

    /// Contract signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: String,

    /// Product: FineReport or FineBI
    #[arg(long, visible_alias = "app", value_name = "NAME")]
    product: String,

    /// Registration methods allowed: local-container, private-cloud, or both (comma list)
    #[arg(long, value_name = "LIST")]
    methods: String,

    /// Most cluster nodes purchased
    #[arg(long, value_name = "N")]
    max_nodes: String,

    /// How many projects may hold a license at once (one Container.lic per project)
    #[arg(long, value_name = "N", default_value = "1")]
    max_licenses: String,

    /// How licenses are activated: code (the admin types a 6-digit code) or receipt (the
    /// vendor's service signs a receipt; the license cannot make codes)
    #[arg(long, value_name = "POLICY", default_value = "code")]
    activation_policy: String,

    /// Days a private-cloud server runs on one receipt before it must be activated again
    /// (needs --activation-policy receipt and the private-cloud method) [default: no lease]
    #[arg(long, value_name = "DAYS")]
    lease_days: Option<String>,

    /// Licensed version, major.minor
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: String,

    /// Last day of the term (UTC), or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: String,

    #[command(flatten)]
    by: ByArg,

    /// Print the contract as JSON
    #[arg(long)]
    json: bool,
}

/// List contracts (disabled ones only with --all)
#[derive(Debug, Args)]
#[command(after_help = "\
Status: active, expired (enabled, but its term has ended), disabled (shown only with --all).

EXAMPLES:
  fanlic contract list
  fanlic contract list --all --json")]
struct ContractListArgs {
    /// Include disabled contracts
    #[arg(long)]
    all: bool,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Show one contract, by id or company
#[derive(Debug, Args)]
#[command(after_help = "\
A number is taken as a contract id first; otherwise the company is matched ignoring case, runs of
white space and full-width forms.

EXAMPLES:
  fanlic contract show 1 --history
  fanlic contract show 'acme ltd' --json")]
struct ContractShowArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    /// Also list every change: when, what (add, import, update, disable, enable), by whom
    #[arg(long)]
    history: bool,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Change a contract's fields (those given; the others stay)
#[derive(Debug, Args)]
#[command(after_help = "\
--email replaces ALL the contract's addresses. --enable enables a disabled contract again (its
addresses must not belong to another enabled contract).

EXAMPLES:
  fanlic contract update 1 --max-nodes 4 --expires 2028-12-31
  fanlic contract update 'Acme Ltd' --email 'it@acme.example;ops@acme.example' --by alice
  fanlic contract update 'Acme Ltd' --enable --json")]
struct ContractUpdateArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    /// New company name
    #[arg(long, value_name = "NAME")]
    company: Option<String>,

    /// New addresses, replacing all (repeatable, or several separated by ;)
    #[arg(long = "email", value_name = "ADDR")]
    emails: Vec<String>,

    /// New signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: Option<String>,

    /// New product: FineReport or FineBI
    #[arg(long, visible_alias = "app", value_name = "NAME")]
    product: Option<String>,

    /// New registration methods (comma list)
    #[arg(long, value_name = "LIST")]
    methods: Option<String>,

    /// New most cluster nodes
    #[arg(long, value_name = "N")]
    max_nodes: Option<String>,

    /// New number of projects that may hold a license at once
    #[arg(long, value_name = "N")]
    max_licenses: Option<String>,

    /// New activation policy: code or receipt (for licenses issued from now on)
    #[arg(long, value_name = "POLICY")]
    activation_policy: Option<String>,

    /// New private-cloud lease in days, or `none` to remove it
    #[arg(long, value_name = "DAYS|none")]
    lease_days: Option<String>,

    /// New licensed version, major.minor
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: Option<String>,

    /// New last day of the term, or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: Option<String>,

    /// Enable a disabled contract again
    #[arg(long)]
    enable: bool,

    #[command(flatten)]
    by: ByArg,

    /// Print the contract as JSON
    #[arg(long)]
    json: bool,
}

/// Disable a contract: no new licenses under it (it stays in the registry)
#[derive(Debug, Args)]
#[command(after_help = "\
Disabling frees its addresses for other contracts; `fanlic contract update ID --enable` undoes it.

EXAMPLES:
  fanlic contract disable 1
  fanlic contract disable 'Acme Ltd' --by alice --json")]
struct ContractDisableArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    #[command(flatten)]
    by: ByArg,

    /// Print the contract as JSON
    #[arg(long)]
    json: bool,
}

/// Import contracts from a CSV file, all or nothing
#[derive(Debug, Args)]
#[command(after_help = "\
The first line must be exactly:
  company,email,signed,product,methods,max_nodes,version,expires
optionally followed by a ninth column, max_licenses, then activation_policy, then lease_days.
email: one address or several separated by ; . methods: local-container, private-cloud, or both
as a quoted comma list (\"local-container,private-cloud\"). signed: YYYY/MM/DD. expires:
YYYY-MM-DD or never. max_nodes: 1 or more. version: major.minor. max_licenses: how many projects
may hold a license at once, 1 or more (1 when the column is absent or empty). activation_policy:
code or receipt (code when absent or empty). lease_days: days a private-cloud server runs on one
receipt (receipt policy and private-cloud method only; no lease when absent or empty).

Every row is checked first; if any is bad, NOTHING is imported and every problem is listed with
its line number (exit status 2). A company already in the registry is a problem unless --update,
which replaces that contract's terms (keeping it enabled or disabled). One row per company, and an
address on one row only. New contracts are enabled.

EXAMPLES:
  fanlic contract import contracts.csv
  fanlic contract import contracts.csv --update --by alice --json")]
struct ContractImportArgs {
    /// The CSV file
    #[arg(value_name = "FILE.csv")]
    file: PathBuf,

    /// Replace the terms of companies already in the registry
    #[arg(long)]
    update: bool,

    #[command(flatten)]
    by: ByArg,

    /// Print the result as JSON
    #[arg(long)]
    json: bool,
}

/// Run the activation service the product's QR codes point at
#[derive(Debug, Args)]
#[command(after_help = "\
The product shows a QR code for BASE_URL/TOKEN (the license's activation base URL, by default
http://127.0.0.1:8380/a). The admin's phone opens it:
  GET  /.../TOKEN   shows the company, project, product and node count, and a button; it
                    records nothing (link previewers change nothing)
  POST /.../TOKEN   confirms: checks again, binds the license to the project on its first
                    activation, records the attempt, and shows the 6-digit code to type into the
                    product within 5 minutes
  POST /.../receipt  the token as the body (text/plain; an authorization server adds a line
                    `instance-key HEX`): checks and records as the confirmation does, and answers
                    JSON with a receipt signed by the newest valid receipt key (receipt-policy
                    licenses only); the one endpoint with CORS (Access-Control-Allow-Origin: *,
                    no credentials; OPTIONS answers the preflight)
  GET  /healthz     ok
  GET  /revocations.bin   the newest list `fanlic revocations export` recorded (404 before one)
A receipt-policy license's confirmation shows its receipt (download receipt.fanlic), not a code.
A request with `Accept: application/json` gets JSON. Refusals list every reason, each with a code
(malformed, unknown_license, no_activation_key, forged_challenge, qr_expired, revoked,
license_expired, wrong_kind, wrong_policy, instance_key_missing, stale_private_config,
max_licenses_reached, forked, too_many_nodes, no_receipt_key, rate_limited, internal_error) and what to do; formats/SPEC.md §6.4 describes each.
A license bound to another project needs `fanlic unbind` first.
A server asking with a receipt that is not the latest of its binding is refused `forked` and
flagged (`fanlic alerts`), as is a local container's binding with more than 10 receipts a day
(issued). With no valid receipt key, receipts are refused (no_receipt_key) until
`fanlic keys receipt-key` makes one.

Only a challenge whose tag verifies counts against its license (--rate-license) and is recorded
under it; a forged one, or one for an unknown license, counts against its client address
(--rate-forged) and only a per-client daily count is kept. Every answer carries
X-Frame-Options: DENY, a Content-Security-Policy (no script, no framing, forms post only here),
nosniff, Referrer-Policy: no-referrer and Cache-Control: no-store. A client has --header-timeout
seconds to send a request's headers (also the idle timeout), a connection lasts at most 300 s,
and connections over --max-connections (or --max-connections-per-client from one address) get
a 503.

Keys are derived from the activation master secret (mode 0600), never stored. Prints `listening
on http://ADDR` first, one log line per request on stderr (never a token or code), and stops
gracefully on Ctrl-C or SIGTERM.

EXAMPLES:
  fanlic serve
  fanlic serve --listen 0.0.0.0:8380 --log text
  fanlic serve --master-secret /etc/fanlic/master.secret --rate-license 10 --rate-window 60")]
struct ServeArgs {
    /// The address and port to listen on (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = fanlic_issuer::service::DEFAULT_LISTEN)]
    listen: String,

    /// The activation master secret [default: the home's, HOME/activation/master.secret]
    #[arg(long, value_name = "FILE")]
    master_secret: Option<PathBuf>,

    /// Requests allowed per window for one license
    #[arg(long, value_name = "N", default_value_t = fanlic_issuer::service::DEFAULT_RATE_LICENSE,
          value_parser = value_parser!(u32).range(1..))]
    rate_license: u32,

    /// Requests allowed per window from one client address
    #[arg(long, value_name = "N", default_value_t = fanlic_issuer::service::DEFAULT_RATE_CLIENT,
          value_parser = value_parser!(u32).range(1..))]
    rate_client: u32,

    /// The rate limits' window in seconds (1 to 86400)
    #[arg(long, value_name = "SECS", default_value_t = fanlic_issuer::service::DEFAULT_RATE_WINDOW_SECS,
          value_parser = value_parser!(u64).range(1..=86400))]
    rate_window: u64,

    /// Challenges that do not verify (or name an unknown license) allowed per window from one
    /// client address
    #[arg(long, value_name = "N", default_value_t = fanlic_issuer::service::DEFAULT_RATE_FORGED,
          value_parser = value_parser!(u32).range(1..))]
    rate_forged: u32,

    /// Seconds a client has to send a request's headers; also the idle timeout (1 to 300)
    #[arg(long, value_name = "SECS", default_value_t = fanlic_issuer::service::DEFAULT_HEADER_TIMEOUT_SECS,
          value_parser = value_parser!(u64).range(1..=300))]
    header_timeout: u64,

    /// Open connections at once
    #[arg(long, value_name = "N", default_value_t = fanlic_issuer::service::DEFAULT_MAX_CONNECTIONS,
          value_parser = value_parser!(u32).range(1..))]
    max_connections: u32,

    /// Open connections at once from one client address
    #[arg(long, value_name = "N", default_value_t = fanlic_issuer::service::DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
          value_parser = value_parser!(u32).range(1..))]
    max_connections_per_client: u32,

    /// Request log format on stderr
    #[arg(long, value_name = "FORMAT", default_value = "json", value_parser = ["json", "text"])]
    log: String,
}

fn run_serve(home: &std::path::Path, a: &ServeArgs) -> anyhow::Result<u8> {
    use fanlic_issuer::service::{LogFormat, ServeOptions};
    let opts = ServeOptions {
        listen: a.listen.clone(),
        master_secret: a.master_secret.clone(),
        rate_license: a.rate_license,
        rate_client: a.rate_client,
        rate_window_secs: a.rate_window,
        rate_forged: a.rate_forged,
        header_timeout_secs: a.header_timeout,
        max_connections: a.max_connections,
        max_connections_per_client: a.max_connections_per_client,
        log: if a.log == "text" { LogFormat::Text } else { LogFormat::Json },
    };
    fanlic_issuer::service::run(home, &opts)?;
    Ok(0)
}

/// Try it all on a throw-away home: issue, verify, ingest sample registration mails
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

/// List or deliver queued replies (the outbox)
#[derive(Debug, Args)]
#[command(after_help = "\
Replies (licenses) are queued in the database and delivered by `fanlic outbox flush`: as .eml files
in HOME/outbox/ (the default; folder 0700, files 0600), or over SMTP with --smtp-host or
$FANLIC_SMTP_HOST. A failed delivery is retried after 1 minute, doubling up to 1 hour; nothing is
lost while the server is down. A permanent refusal (SMTP 5xx) marks the reply failed.

EXAMPLES:
  fanlic outbox list
  fanlic outbox flush
  FANLIC_SMTP_USER=fanlic FANLIC_SMTP_PASSWORD=... fanlic outbox flush --smtp-host mail.example.com")]
struct OutboxArgs {
    #[command(subcommand)]
    command: OutboxCommand,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    List(OutboxListArgs),
    Flush(OutboxFlushArgs),
}

/// List queued replies: status, attempts, next try, last error
#[derive(Debug, Args)]
#[command(after_help = "\
Status: pending (waiting for its next attempt), failed (refused for good; not retried), sent (shown
only with --all).

EXAMPLES:
  fanlic outbox list
  fanlic outbox list --all --json")]
struct OutboxListArgs {
    /// Include replies already sent
    #[arg(long)]
    all: bool,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Deliver every reply that is due
#[derive(Debug, Args)]
#[command(after_help = "\
Without an SMTP host the replies are written as HOME/outbox/ID.eml (or into --dir). With one, they
are sent over SMTP; the user and password come from $FANLIC_SMTP_USER and $FANLIC_SMTP_PASSWORD
only (the password is never printed). Exit status 0 even if some replies failed: they stay queued
(see `fanlic outbox list`).

EXAMPLES:
  fanlic outbox flush
  fanlic outbox flush --dir /srv/mail-drop
  fanlic outbox flush --smtp-host mail.example.com --smtp-tls starttls --json")]
struct OutboxFlushArgs {
    /// SMTP server [default: $FANLIC_SMTP_HOST; none: write .eml files]
    #[arg(long, value_name = "HOST", env = "FANLIC_SMTP_HOST", hide_env = true)]
    smtp_host: Option<String>,

    /// SMTP port [default: $FANLIC_SMTP_PORT, else 587 / 465 / 25 by --smtp-tls]
    #[arg(long, value_name = "PORT", env = "FANLIC_SMTP_PORT", hide_env = true)]
    smtp_port: Option<u16>,

    /// SMTP encryption: none, starttls or tls [default: $FANLIC_SMTP_TLS, else starttls]
    #[arg(long, value_name = "MODE", env = "FANLIC_SMTP_TLS", hide_env = true)]
    smtp_tls: Option<String>,

    /// Folder for the .eml files, when not sending over SMTP [default: HOME/outbox]
    #[arg(long, value_name = "DIR", conflicts_with = "smtp_host")]
    dir: Option<PathBuf>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
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
            let mut req = IssueRequest::parse(&text, a.kind.into(), a.nodes, a.output.clone(), a.force)?;
            req.supersedes = match a.supersede.as_deref() {
                Some(id) => Some(id.trim().parse().map_err(|e| Error::InvalidInput {
                    option: "--supersede",
                    given: id.to_owned(),
                    fix: format!("a license id is 32 hex digits ({e})"),
                })?),
                None => None,
            };
            req.by = Some(
                a.by.clone()
                    .map_or_else(|| contracts::actor(None), |b| contracts::actor(Some(&b)))
                    .unwrap_or_else(|_| fanlic_issuer::license::issue::ISSUE_ACTOR.to_owned()),
            );
            let is_tar = a.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar"));
            if is_tar && req.kind != LicenseKind::PrivateCloud {
                anyhow::bail!(
                    "-o {}: only private-cloud licenses come as an image tar; add --kind private-cloud, \
                     or write a Container.lic",
                    a.output.display()
                );
            }
            let mut h = Home::open(&home)?;
            req.activation_policy = match a.activation_policy.as_deref() {
                Some(p) => contracts::parse_activation_policy("--activation-policy", p)?,
                None => contracts::find_by_company(&mut h, &req.company)?
                    .map(|c| c.terms.activation_policy)
                    .unwrap_or_default(),
            };
            if is_tar && req.kind == LicenseKind::PrivateCloud {
                // Read the server binary first: nothing is signed if it is missing.
                let base = h.base_layer()?;
                let (issued, built) = h.issue_image(&req, &base, clock::now()?)?;
                if a.json {
                    print_json(&serde_json::json!({ "license": issued.license, "image": image_json(&built) }))?
                } else {
                    print(&format!("{}{}", issued.human(h.dir()), image_human(&built)))?
                }
                return Ok(0);
            }
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
            // An image tar: check it, then verify the license inside.
            let image =
                if image::looks_like_tar(&input) { Some(image::read_image_contents(&input, &a.file)?) } else { None };
            let license = image.as_ref().map_or(input.as_slice(), |i| i.license_file.as_slice());
            let revocations = a.revocations.as_deref().map(|p| verify::read_revocations(p, &roots)).transpose()?;
            let report = verify::verify_with(license, &roots, &spec, a.lang, revocations.as_deref());
            let image_ok = image.as_ref().is_none_or(|i| i.problems.is_empty());
            if a.json {
                let mut v = report.to_json();
                if let Some(i) = &image {
                    set_field(&mut v, "image", i.to_json());
                    if !image_ok {
                        set_field(&mut v, "valid", serde_json::Value::Bool(false));
                    }
                }
                print_json(&v)?
            } else {
                let head = image.as_ref().map(|i| i.human()).unwrap_or_default();
                print(&format!("{head}{}", report.human()))?
            }
            Ok(if image_ok { report.exit_code() } else { report.exit_code().max(1) })
        }
        Command::Inspect(a) => {
            let input = fs::read(&a.file).map_err(|source| Error::Io {
                action: "cannot read the license",
                path: a.file.clone(),
                source,
            })?;
            let image =
                if image::looks_like_tar(&input) { Some(image::read_image_contents(&input, &a.file)?) } else { None };
            let found = inspect::inspect(image.as_ref().map_or(input.as_slice(), |i| i.license_file.as_slice()));
            if a.json {
                let mut v = found.to_json();
                if let Some(i) = &image {
                    set_field(&mut v, "image", i.to_json());
                }
                print_json(&v)?
            } else {
                let head = image.as_ref().map(|i| i.human()).unwrap_or_default();
                print(&format!("{head}{}", found.human()))?
            }
            let image_ok = image.as_ref().is_none_or(|i| i.problems.is_empty());
            Ok(if image_ok { found.exit_code() } else { found.exit_code().max(1) })
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
            KeysCommand::ReceiptKey(a) => {
                let mut h = Home::open(&home)?;
                let report = h.make_receipt_keys(&a.root_key, a.count, clock::now()?)?;
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
        Command::Contract(c) => run_contract(&home, c.command),
        Command::Outbox(o) => run_outbox(&home, o.command),
        Command::Ingest(a) => run_ingest(&home, &a),
        Command::Watch(a) => run_watch(&home, &a),
        Command::Prune(a) => {
            let before = clock::parse_time_or_date("--before", &a.before)?;
            let by = contracts::actor(a.by.by.as_deref())?;
            let report =
                fanlic_issuer::ingest::prune::prune(&mut Home::open(&home)?, before, a.dry_run, &by, clock::now()?)?;
            if a.json {
                print_json(&report.to_json())?
            } else {
                print(&report.human())?
            }
            Ok(0)
        }
        Command::Review(a) => {
            let mut h = Home::open(&home)?;
            let rows = ingest::review(&mut h)?;
            if a.json {
                print_json(&serde_json::Value::Array(rows.iter().map(|r| r.to_json()).collect()))?
            } else if rows.is_empty() {
                print("No request is held.\n")?
            } else {
                print(&rows.iter().map(|r| r.human()).collect::<Vec<_>>().join("\n"))?
            }
            // Alerts are about licenses in use, not mail; staff who read
            // this list are told when some wait (`fanlic alerts`).
            let open = fanlic_issuer::service::receipts::list(&mut h, false)?.len();
            if !a.json && open > 0 {
                eprintln!("note: {open} open alert(s) about licenses in use: `fanlic alerts`");
            }
            Ok(0)
        }
        Command::Alerts(a) => {
            let mut h = Home::open(&home)?;
            let rows = match a.close {
                Some(id) => {
                    let by = contracts::actor(a.by.by.as_deref())?;
                    vec![fanlic_issuer::service::receipts::close(&mut h, id, &by, clock::now()?)?]
                }
                None => fanlic_issuer::service::receipts::list(&mut h, a.all)?,
            };
            if a.json {
                print_json(&serde_json::Value::Array(rows.iter().map(|r| r.to_json()).collect()))?
            } else if rows.is_empty() {
                print("No open alert.\n")?
            } else {
                print(&rows.iter().map(|r| r.human()).collect::<Vec<_>>().join("\n"))?
            }
            Ok(0)
        }
        Command::Approve(a) => {
            let by = contracts::actor(a.by.by.as_deref())?;
            let out = ingest::approve(&mut Home::open(&home)?, a.id, &by, clock::now()?)?;
            if a.json {
                print_json(&out.to_json())?
            } else {
                print(&out.human())?
            }
            Ok(0)
        }
        Command::Reject(a) => {
            let by = contracts::actor(a.by.by.as_deref())?;
            let out = ingest::reject(&mut Home::open(&home)?, a.id, &a.reason, !a.no_reply, &by, clock::now()?)?;
            if a.json {
                print_json(&out.to_json())?
            } else {
                print(&out.human())?
            }
            Ok(0)
        }
        Command::Audit(a) => {
            let mut actions = Vec::new();
            for name in &a.action {
                actions.push(fanlic_issuer::store::audit::Action::parse(name.trim()).ok_or_else(|| {
                    Error::InvalidInput {
                        option: "--action",
                        given: name.clone(),
                        fix: format!("one of {}", fanlic_issuer::store::audit::Action::names().join(", ")),
                    }
                })?);
            }
            let filter = fanlic_issuer::store::audit::Filter {
                license: a.license.clone(),
                contract: a.contract.clone(),
                since: a.since.as_deref().map(|s| clock::parse_time_or_date("--since", s)).transpose()?,
                actions,
            };
            let entries = fanlic_issuer::store::audit::trail(&mut Home::open(&home)?, &filter)?;
            if a.json {
                print_json(&serde_json::Value::Array(entries.iter().map(|e| e.to_json()).collect()))?
            } else {
                print(&entries.iter().map(|e| e.human()).collect::<String>())?
            }
            Ok(0)
        }
        Command::Config(a) => run_config(&home, &a),
        Command::Revoke(a) => run_revoke(&home, &a),
        Command::Unbind(a) => run_unbind(&home, &a),
        Command::Revocations(a) => run_revocations(&home, a.command),
        Command::Serve(a) => run_serve(&home, &a),
        Command::Image(a) => {
            let h = Home::open(&home)?;
            let id = a.license_id.trim().to_ascii_lowercase();
            let base = h.base_layer()?;
            let built = h.build_image(&id, &a.output, a.force, &base)?;
            if a.json {
                print_json(&image_json(&built))?
            } else {
                print(&image_human(&built))?
            }
            Ok(0)
        }
        Command::Demo(DemoArgs {}) => {
            let mut out = io::stdout().lock();
            demo::run(&mut out)?;
            Ok(0)
        }
    }
}

fn emails_arg(given: &[String]) -> Result<Vec<String>, Error> {
    contracts::parse_emails("--email", &given.join(";"))
}

fn run_contract(home: &std::path::Path, command: ContractCommand) -> anyhow::Result<u8> {
    let now = clock::now()?;
    let (contract, json) = match command {
        ContractCommand::Add(a) => {
            let email = a.emails.join(";");
            let text = TermsText {
                company: &a.company,
                email: &email,
                signed: &a.signed,
                product: &a.product,
                methods: &a.methods,
                max_nodes: &a.max_nodes,
                version: &a.version,
                expires: &a.expires,
                max_licenses: Some(&a.max_licenses),
                activation_policy: Some(&a.activation_policy),
                lease_days: a.lease_days.as_deref(),
            };
            // Every problem, one `error:` line each.
            let terms = text.parse(&OPTION_NAMES).map_err(|errors| {
                anyhow::anyhow!(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\nerror: "))
            })?;
            let by = contracts::actor(a.by.by.as_deref())?;
            let mut h = Home::open(home)?;
            (contracts::add(&mut h, &terms, &by, now)?, a.json)
        }
        ContractCommand::List(a) => {
            let all = contracts::list(&mut Home::open(home)?, a.all)?;
            if a.json {
                print_json(&serde_json::Value::Array(all.iter().map(|c| c.to_json(now)).collect()))?
            } else {
                print(&contracts::list_human(&all, now, a.all))?
            }
            return Ok(0);
        }
        ContractCommand::Show(a) => {
            let mut h = Home::open(home)?;
            let c = contracts::resolve(&mut h, &a.which)?;
            if !a.history {
                (c, a.json)
            } else {
                let history = contracts::history(&mut h, c.id)?;
                if a.json {
                    let mut v = c.to_json(now);
                    if let Some(o) = v.as_object_mut() {
                        o.insert("history".to_owned(), history.iter().map(|e| e.to_json()).collect());
                    }
                    print_json(&v)?
                } else {
                    print(&format!("{}{}", c.human(now), contracts::history_human(&history)))?
                }
                return Ok(0);
            }
        }
        ContractCommand::Update(a) => {
            let n = OPTION_NAMES;
            let changes = ContractChanges {
                company: a.company.as_deref().map(|s| contracts::parse_company(n.company, s)).transpose()?,
                emails: if a.emails.is_empty() { None } else { Some(emails_arg(&a.emails)?) },
                signed: a.signed.as_deref().map(|s| contracts::parse_signed(n.signed, s)).transpose()?,
                product: a.product.as_deref().map(|s| contracts::parse_product(n.product, s)).transpose()?,
                methods: a.methods.as_deref().map(|s| contracts::parse_methods(n.methods, s)).transpose()?,
                max_nodes: a.max_nodes.as_deref().map(|s| contracts::parse_max_nodes(n.max_nodes, s)).transpose()?,
                max_licenses: a
                    .max_licenses
                    .as_deref()
                    .map(|s| contracts::parse_max_licenses(n.max_licenses, s))
                    .transpose()?,
                activation_policy: a
                    .activation_policy
                    .as_deref()
                    .map(|s| contracts::parse_activation_policy(n.activation_policy, s))
                    .transpose()?,
                lease_days: match a.lease_days.as_deref().map(str::trim) {
                    None => None,
                    Some("none") => Some(None),
                    Some(s) => Some(Some(contracts::parse_lease_days(n.lease_days, s)?)),
                },
                version: a.version.as_deref().map(|s| contracts::parse_version(n.version, s)).transpose()?,
                expires: a.expires.as_deref().map(|s| contracts::parse_expires(n.expires, s)).transpose()?,
                enable: a.enable,
            };
            if changes == ContractChanges::default() {
                return Err(Error::InvalidInput {
                    option: "contract update",
                    given: a.which,
                    fix: "nothing to change: give at least one of --company, --email, --signed, --product, \
                          --methods, --max-nodes, --max-licenses, --activation-policy, --lease-days, --version, --expires, \
                          --enable"
                        .to_owned(),
                }
                .into());
            }
            let by = contracts::actor(a.by.by.as_deref())?;
            (contracts::update(&mut Home::open(home)?, &a.which, &changes, &by, now)?, a.json)
        }
        ContractCommand::Disable(a) => {
            let by = contracts::actor(a.by.by.as_deref())?;
            (contracts::disable(&mut Home::open(home)?, &a.which, &by, now)?, a.json)
        }
        ContractCommand::Import(a) => {
            let by = contracts::actor(a.by.by.as_deref())?;
            let report = contracts::import(&mut Home::open(home)?, &a.file, a.update, &by, now)?;
            if a.json {
                print_json(&report.to_json(now))?
            } else {
                print(&report.human(now))?
            }
            return Ok(0);
        }
    };
    if json {
        print_json(&contract.to_json(now))?
    } else {
        print(&contract.human(now))?
    }
    Ok(0)
}

fn run_ingest(home: &std::path::Path, a: &IngestArgs) -> anyhow::Result<u8> {
    let now = match &a.now {
        Some(s) => clock::parse_rfc3339("--now", s)?,
        None => clock::now()?,
    };
    // Every PATH checked before anything is decided: a mistyped one is a
    // usage error (exit 2), not a run that did half its work.
    for path in &a.paths {
        if let Err(e) = source::detect(path) {
            anyhow::bail!(
                "{e}; give a .eml file, a folder of mail, a Maildir (with cur/, new/ and tmp/), an mbox file, \
                 or - for standard input"
            );
        }
    }
    let mut h = Home::open(home)?;
    let trusted = h.authserv_ids()?;
    let mut undecided = false;
    for path in &a.paths {
        undecided |= ingest_path(&mut h, &trusted, path, (a.json, None), a.batch, now)?;
    }
    Ok(u8::from(undecided))
}

/// Reports an entry skipped (not a regular file, not mail): a warning on
/// stderr and, with `json`, a line of its own. `warned`: the entries already
/// reported by this `watch`, not reported again at each look.
fn report_skipped(
    path: &std::path::Path,
    reason: source::SkipReason,
    json: bool,
    warned: Option<&mut std::collections::HashSet<PathBuf>>,
) -> Result<(), Error> {
    if let Some(warned) = warned
        && !warned.insert(path.to_path_buf())
    {
        return Ok(());
    }
    eprintln!("warning: {}: skipped, left in place: {reason}", path.display());
    if json {
        let line = serde_json::json!({
            "source": path.display().to_string(),
            "decision": "skipped",
            "reason": reason.code(),
            "message": reason.to_string(),
        });
        print(&format!("{line}\n")).map_err(|e| Error::Io {
            action: "cannot write",
            path: "standard output".into(),
            source: io::Error::other(format!("{e:#}")),
        })?;
    }
    Ok(())
}

/// Decides every message of one source; true when some could not be.
fn ingest_path(
    h: &mut Home,
    trusted: &[String],
    path: &std::path::Path,
    (json, mut warned): (bool, Option<&mut std::collections::HashSet<PathBuf>>),
    batch: usize,
    now: fanlic_formats::Timestamp,
) -> anyhow::Result<bool> {
    let messages = match source::open(path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(true);
        }
    };
    let outcome = ingest::ingest_messages(h, messages, trusted, now, batch, |progress| {
        let text = match progress {
            ingest::Progress::Decided { outcome, acknowledged } => {
                if let Err(e) = acknowledged {
                    eprintln!("error: {}: decided, but not marked as read: {e}", outcome.source);
                }
                if json { format!("{}\n", outcome.to_json()) } else { outcome.human() }
            }
            ingest::Progress::Undecided { source, error } => {
                eprintln!("error: {source}: not decided (left in place): {error}");
                return Ok(());
            }
            ingest::Progress::Unreadable(e) => {
                match e.skipped() {
                    Some((path, reason)) => report_skipped(path, reason, json, warned.as_deref_mut())?,
                    None => eprintln!("error: {e}"),
                }
                return Ok(());
            }
        };
        print(&text).map_err(|e| fanlic_issuer::Error::Io {
            action: "cannot write",
            path: "standard output".into(),
            source: io::Error::other(format!("{e:#}")),
        })
    })?;
    Ok(outcome)
}

fn run_watch(home: &std::path::Path, a: &WatchArgs) -> anyhow::Result<u8> {
    if source::detect(&a.maildir)? != source::SourceKind::Maildir {
        anyhow::bail!(
            "{}: not a Maildir (it needs cur/, new/ and tmp/); use `fanlic ingest` for other sources",
            a.maildir.display()
        );
    }
    let mut h = Home::open(home)?;
    eprintln!("watching {}/new every {}s; stop with Ctrl-C", a.maildir.display(), a.interval);
    let mut warned = std::collections::HashSet::new();
    loop {
        // Read again each time, so a change made with `fanlic init`/config applies.
        let trusted = h.authserv_ids()?;
        ingest_path(&mut h, &trusted, &a.maildir, (a.json, Some(&mut warned)), a.batch, clock::now()?)?;
        std::thread::sleep(core::time::Duration::from_secs(a.interval));
    }
}

fn run_outbox(home: &std::path::Path, command: OutboxCommand) -> anyhow::Result<u8> {
    match command {
        OutboxCommand::List(a) => {
            let entries = outbox::list(&mut Home::open(home)?, a.all)?;
            if a.json {
                print_json(&serde_json::Value::Array(entries.iter().map(|e| e.to_json()).collect()))?
            } else {
                print(&outbox::list_human(&entries))?
            }
        }
        OutboxCommand::Flush(a) => {
            let tls = a.smtp_tls.as_deref().map(|t| SmtpTls::parse("--smtp-tls", t)).transpose()?;
            let mut h = Home::open(home)?;
            let transport = match a.smtp_host.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(host) => {
                    let mut cfg = SmtpConfig::new(host);
                    cfg.port = a.smtp_port;
                    if let Some(t) = tls {
                        cfg.tls = t;
                    }
                    if let Some(user) = std::env::var("FANLIC_SMTP_USER").ok().filter(|u| !u.is_empty()) {
                        cfg.credentials = Some((user, std::env::var("FANLIC_SMTP_PASSWORD").unwrap_or_default()));
                    }
                    OutboxTransport::Smtp(cfg)
                }
                None => match a.dir {
                    Some(dir) => OutboxTransport::Files(dir),
                    None => OutboxTransport::default_files(&h),
                },
            };
            let report = outbox::flush(&mut h, &transport, clock::now()?)?;
            if a.json { print_json(&report.to_json())? } else { print(&report.human())? }
        }
    }
    Ok(0)
}

// ---------------------------------------------------------------------------
// Revocation and unbinding (the logic is in `fanlic_issuer::revoke`).

/// Revoke a license (or an issuing key), and confirm it to the customer by mail
#[derive(Debug, Args)]
#[command(
    group = clap::ArgGroup::new("what").required(true).args(["license_id", "issuing_key"]),
    after_help = "\
A license is recorded as revoked (with the reason, when and --by) in the database and its audit
trail, and a confirmation mail (English and Chinese: license, company, project, what and when;
not the reason) is queued to the addresses of the company's enabled contract; send it with
`fanlic outbox flush`. With no contract address known, nothing is queued and the output says why.
Products refuse the license once they have a revocation list naming it: publish one with
`fanlic revocations export -o FILE`.

--issuing-key revokes an issuing key instead: every license it signed is refused by products with
the next revocation list. The key that signs new licenses is refused unless --force: rotate first
(`fanlic keys rotate --root-key PATH`). No mail is sent for a key.

EXIT STATUS:
  0 revoked, 1 refused (unknown license or key, already revoked, the signing key): nothing changed,
  2 usage or I/O error.

EXAMPLES:
  fanlic revoke 0123456789abcdef0123456789abcdef --reason 'contract terminated' --by alice
  fanlic revoke 0123456789abcdef0123456789abcdef --reason 'duplicate' --no-mail --json
  fanlic revoke --issuing-key 0123456789abcdef --reason 'key file leaked' --by alice"
)]
struct RevokeArgs {
    /// The license id (32 hex digits), as `fanlic inspect` shows it
    #[arg(value_name = "LICENSE_ID")]
    license_id: Option<String>,

    /// Revoke this issuing key (16 hex digits, as `fanlic keys list` shows it) instead of a license
    #[arg(long, value_name = "KEY_ID")]
    issuing_key: Option<String>,

    /// Why: recorded in the database and the audit trail (not mailed)
    #[arg(long, value_name = "TEXT")]
    reason: String,

    /// With --issuing-key: revoke even the key that signs new licenses
    #[arg(long, requires = "issuing_key")]
    force: bool,

    /// Queue no confirmation mail
    #[arg(long, conflicts_with = "issuing_key")]
    no_mail: bool,

    #[command(flatten)]
    by: ByArg,

    /// The time of the revocation (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    now: Option<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Unbind a license from its project, so that it can register a new one
#[derive(Debug, Args)]
#[command(after_help = "\
For a project change: the license's binding (set by its first activation) is removed, so the same
Container.lic can register a new project. The old project's fingerprint is kept in the audit
trail, and a confirmation mail (English and Chinese) is queued to the addresses of the company's
enabled contract; send it with `fanlic outbox flush`. A revoked license is not unbound.

EXIT STATUS:
  0 unbound, 1 refused (unknown license, revoked, not bound): nothing changed, 2 usage or I/O error.

EXAMPLES:
  fanlic unbind 0123456789abcdef0123456789abcdef --by alice
  fanlic unbind 0123456789abcdef0123456789abcdef --no-mail --json")]
struct UnbindArgs {
    /// The license id (32 hex digits), as `fanlic inspect` shows it
    #[arg(value_name = "LICENSE_ID")]
    license_id: String,

    /// Queue no confirmation mail
    #[arg(long)]
    no_mail: bool,

    #[command(flatten)]
    by: ByArg,

    /// The time of the change (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    now: Option<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// Signed revocation lists: export one, list what is revoked
#[derive(Debug, Args)]
#[command(after_help = "\
A revocation list names every revoked license and issuing key, with a sequence number that grows
with each export; products refuse a list older than one they have accepted. It is signed by the
issuing key (certified for revocation lists) and is public.

EXAMPLES:
  fanlic revocations export -o revocations.bin
  fanlic revocations list")]
struct RevocationsArgs {
    #[command(subcommand)]
    command: RevocationsCommand,
}

#[derive(Debug, Subcommand)]
enum RevocationsCommand {
    Export(RevocationsExportArgs),
    List(RevocationsListArgs),
}

/// Sign and write the revocation list, with the next sequence number
#[derive(Debug, Args)]
#[command(after_help = "\
The list (SPEC.md §6.1: sequence, issued at, every revoked license id and issuing key id) is
signed by the home's signing key, which must be certified for revocation lists, checked with the
verifier products embed, recorded in the database, then written to FILE atomically with mode 0644.
Each export takes the next sequence number (the first is 1).

EXAMPLES:
  fanlic revocations export -o revocations.bin
  fanlic revocations export -o /srv/www/fanlic/revocations.bin --force --json")]
struct RevocationsExportArgs {
    /// Where to write the list (raw bytes)
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    /// The time of signing (RFC 3339) [default: now]
    #[arg(long, value_name = "TIME")]
    now: Option<String>,

    /// Print as JSON
    #[arg(long)]
    json: bool,
}

/// List revoked licenses and issuing keys, and the lists exported
#[derive(Debug, Args)]
#[command(after_help = "\
A revocation that no exported list names yet is marked: run `fanlic revocations export`.

EXAMPLES:
  fanlic revocations list
  fanlic revocations list --json")]
struct RevocationsListArgs {
    /// Print as JSON
    #[arg(long)]
    json: bool,
}

fn now_or(option: &'static str, given: Option<&str>) -> anyhow::Result<fanlic_formats::Timestamp> {
    Ok(match given {
        Some(s) => clock::parse_rfc3339(option, s)?,
        None => clock::now()?,
    })
}

/// A refusal (nothing changed) exits 1; other errors go up (exit 2).
fn refused(result: Result<u8, Error>) -> anyhow::Result<u8> {
    match result {
        Err(e) if fanlic_issuer::revoke::is_refusal(&e) => {
            eprintln!("error: {e}");
            Ok(1)
        }
        other => Ok(other?),
    }
}

fn run_revoke(home: &std::path::Path, a: &RevokeArgs) -> anyhow::Result<u8> {
    use fanlic_issuer::revoke;
    let now = now_or("--now", a.now.as_deref())?;
    let by = contracts::actor(a.by.by.as_deref())?;
    let mut h = Home::open(home)?;
    let (json, text) = match (&a.issuing_key, &a.license_id) {
        (Some(key), _) => match revoke::revoke_issuing_key(&mut h, key, &a.reason, &by, a.force, now) {
            Ok(r) => (r.to_json(), r.human()),
            Err(e) => return refused(Err(e)),
        },
        (None, Some(id)) => match revoke::revoke_license(&mut h, id, &a.reason, &by, !a.no_mail, now) {
            Ok(r) => (r.to_json(), r.human()),
            Err(e) => return refused(Err(e)),
        },
        // clap's group requires one of them.
        (None, None) => anyhow::bail!("give a LICENSE_ID or --issuing-key KEY_ID"),
    };
    if a.json {
        print_json(&json)?
    } else {
        print(&text)?
    }
    Ok(0)
}

fn run_unbind(home: &std::path::Path, a: &UnbindArgs) -> anyhow::Result<u8> {
    let now = now_or("--now", a.now.as_deref())?;
    let by = contracts::actor(a.by.by.as_deref())?;
    let mut h = Home::open(home)?;
    let out = match fanlic_issuer::revoke::unbind(&mut h, &a.license_id, &by, !a.no_mail, now) {
        Ok(out) => out,
        Err(e) => return refused(Err(e)),
    };
    if a.json {
        print_json(&out.to_json())?
    } else {
        print(&out.human())?
    }
    Ok(0)
}

fn run_revocations(home: &std::path::Path, command: RevocationsCommand) -> anyhow::Result<u8> {
    use fanlic_issuer::revoke;
    match command {
        RevocationsCommand::Export(a) => {
            let now = now_or("--now", a.now.as_deref())?;
            let out = revoke::export(&mut Home::open(home)?, &a.output, a.force, now)?;
            if a.json { print_json(&out.to_json())? } else { print(&out.human())? }
        }
        RevocationsCommand::List(a) => {
            let out = revoke::list(&mut Home::open(home)?)?;
            if a.json { print_json(&out.to_json())? } else { print(&out.human())? }
        }
    }
    Ok(0)
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

/// `fanlic image --json` and the `image` of `fanlic issue --json`.
fn image_json(b: &fanlic_issuer::image::BuiltImage) -> serde_json::Value {
    serde_json::json!({
        "license_id": b.license_id,
        "path": b.path,
        "tag": b.digest.tag,
        "sha256": b.digest.tar_sha256,
        "bytes": b.digest.tar_len,
        "image_id": b.digest.config,
        "manifest": b.digest.manifest,
        "base_layer": b.digest.base_layer,
        "server_binary": b.server_binary,
    })
}

/// What `fanlic image` prints for people.
fn image_human(b: &fanlic_issuer::image::BuiltImage) -> String {
    format!(
        "  image {} written to {} ({} bytes, mode 0600: it holds the image key)\n  {}\n  \
         load it with `podman load -i {}` (or docker load), run it with port 18081 published and a \
         volume on /app/config\n",
        b.digest.tag,
        b.path.display(),
        b.digest.tar_len,
        b.digest.tar_sha256,
        b.path.display()
    )
}

/// Sets `key` of a JSON object (a report's `to_json`); nothing for another value.
fn set_field(v: &mut serde_json::Value, key: &str, value: serde_json::Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
}
