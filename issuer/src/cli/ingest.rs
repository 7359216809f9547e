//! The mail commands: `ingest` and `watch` decide registration mail,
//! `review`, `approve` and `reject` are staff's part of it, `prune` empties
//! the stored copies of old mail.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::Args;
use fanlic_formats::Timestamp;
use fanlic_issuer::ingest::{self, DecisionRow, IngestOutcome, prune::PruneReport, source};
use fanlic_issuer::util::clock;
use fanlic_issuer::{Error, Home};
use serde_json::Value;

use crate::cli::args::{ByArg, DecisionTime, LinesOutput, Now as _, Output, OutputArgs};
use crate::cli::output::{Report, emit, library_report, print, warn};

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
pub(crate) struct IngestArgs {
    /// A .eml file, a folder of mail (*.eml, and other files that are mail), a Maildir, an mbox, or -
    /// (standard input)
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    #[command(flatten)]
    now: DecisionTime,

    #[command(flatten)]
    format: LinesOutput,

    /// Messages decided per transaction (1 to 4096); 1 commits each on its own
    #[arg(long, value_name = "N", default_value_t = ingest::BATCH_MESSAGES, value_parser = batch_size)]
    batch: usize,
}

pub(crate) fn batch_size(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=4096).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a number from 1 to 4096")),
    }
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
pub(crate) struct PruneArgs {
    /// Prune decisions made before this date (YYYY-MM-DD, UTC midnight) or time (RFC 3339)
    #[arg(long, value_name = "DATE", required = true)]
    before: String,

    /// Count what would be removed; change nothing
    #[arg(long)]
    dry_run: bool,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: OutputArgs,
}

/// List the requests held for staff, with their fields and reasons
#[derive(Debug, Args)]
#[command(after_help = "\
EXAMPLES:
  fanlic review
  fanlic review --json")]
pub(crate) struct ReviewArgs {
    #[command(flatten)]
    format: OutputArgs,
}

/// Issue a held request now (staff checked it)
#[derive(Debug, Args)]
#[command(after_help = "\
The mail is validated again as if its sender were authenticated; the license is issued only if
nothing else is wrong (the contract must still exist and allow it). A reply is queued only when the
sender was authenticated.

EXAMPLES:
  fanlic approve 3 --by alice")]
pub(crate) struct ApproveArgs {
    /// The decision's id, as `fanlic review` shows it
    #[arg(value_name = "ID")]
    id: i64,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: OutputArgs,
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
pub(crate) struct RejectArgs {
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

    #[command(flatten)]
    format: OutputArgs,
}

/// `fanlic ingest`.
pub(crate) fn ingest(home: &Path, a: &IngestArgs) -> anyhow::Result<u8> {
    let now = a.now.resolve()?;
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
        undecided |= ingest_path(&mut h, &trusted, path, (a.format.json(), None), a.batch, now)?;
    }
    Ok(u8::from(undecided))
}

/// Reports an entry skipped (not a regular file, not mail): a warning on
/// stderr and, with `json`, a line of its own. `warned`: the entries already
/// reported by this `watch`, not reported again at each look.
fn report_skipped(
    path: &Path,
    reason: source::SkipReason,
    json: bool,
    warned: Option<&mut HashSet<PathBuf>>,
) -> Result<(), Error> {
    if let Some(warned) = warned
        && !warned.insert(path.to_path_buf())
    {
        return Ok(());
    }
    warn(&format!("warning: {}: skipped, left in place: {reason}", path.display()));
    if json {
        let line = serde_json::json!({
            "source": path.display().to_string(),
            "decision": "skipped",
            "reason": reason.code(),
            "message": reason.to_string(),
        });
        print(&format!("{line}\n"))?;
    }
    Ok(())
}

/// Decides every message of one source, printing each decision as it is
/// made (one JSON object per line with `json`); true when some could not be.
pub(crate) fn ingest_path(
    h: &mut Home,
    trusted: &[String],
    path: &Path,
    (json, mut warned): (bool, Option<&mut HashSet<PathBuf>>),
    batch: usize,
    now: Timestamp,
) -> anyhow::Result<bool> {
    let messages = match source::open(path) {
        Ok(m) => m,
        Err(e) => {
            warn(&format!("error: {e}"));
            return Ok(true);
        }
    };
    let outcome = ingest::ingest_messages(h, messages, trusted, now, batch, |progress| {
        let text = match progress {
            ingest::Progress::Decided { outcome, acknowledged } => {
                if let Err(e) = acknowledged {
                    warn(&format!("error: {}: decided, but not marked as read: {e}", outcome.source));
                }
                if json { format!("{}\n", outcome.to_json()) } else { outcome.human() }
            }
            ingest::Progress::Undecided { source, error } => {
                warn(&format!("error: {source}: not decided (left in place): {error}"));
                return Ok(());
            }
            ingest::Progress::Unreadable(e) => {
                match e.skipped() {
                    Some((path, reason)) => report_skipped(path, reason, json, warned.as_deref_mut())?,
                    None => warn(&format!("error: {e}")),
                }
                return Ok(());
            }
        };
        print(&text)
    })?;
    Ok(outcome)
}

library_report!(PruneReport, IngestOutcome);

/// `fanlic prune`.
pub(crate) fn prune(home: &Path, a: &PruneArgs) -> anyhow::Result<u8> {
    let before = clock::parse_time_or_date("--before", &a.before)?;
    let by = a.by.actor()?;
    let report = ingest::prune::prune(&mut Home::open(home)?, before, a.dry_run, &by, clock::now()?)?;
    Ok(emit(&a.format, &report)?)
}

/// The requests held for staff, as `fanlic review` shows them.
struct Held(Vec<DecisionRow>);

impl Report for Held {
    fn human(&self) -> String {
        if self.0.is_empty() {
            "No request is held.\n".to_owned()
        } else {
            self.0.iter().map(DecisionRow::human).collect::<Vec<_>>().join("\n")
        }
    }

    fn json(&self) -> Value {
        self.0.iter().map(DecisionRow::to_json).collect()
    }
}

/// `fanlic review`.
pub(crate) fn review(home: &Path, a: &ReviewArgs) -> anyhow::Result<u8> {
    let mut h = Home::open(home)?;
    let code = emit(&a.format, &Held(ingest::review(&mut h)?))?;
    // Alerts are about licenses in use, not mail; staff who read
    // this list are told when some wait (`fanlic alerts`).
    let open = fanlic_issuer::service::receipts::list(&mut h, false)?.len();
    if !a.format.json() && open > 0 {
        warn(&format!("note: {open} open alert(s) about licenses in use: `fanlic alerts`"));
    }
    Ok(code)
}

/// `fanlic approve`.
pub(crate) fn approve(home: &Path, a: &ApproveArgs) -> anyhow::Result<u8> {
    let by = a.by.actor()?;
    let out = ingest::approve(&mut Home::open(home)?, a.id, &by, clock::now()?)?;
    Ok(emit(&a.format, &out)?)
}

/// `fanlic reject`.
pub(crate) fn reject(home: &Path, a: &RejectArgs) -> anyhow::Result<u8> {
    let by = a.by.actor()?;
    let out = ingest::reject(&mut Home::open(home)?, a.id, &a.reason, !a.no_reply, &by, clock::now()?)?;
    Ok(emit(&a.format, &out)?)
}
