//! The database thread: it owns the home's store; requests reach it
//! through a channel. It takes everything queued, runs it in one
//! transaction and commits once (group commit), then answers each request
//! through its oneshot, only after the commit: a code is never shown for an
//! activation that was not durably recorded. Revocations and bindings are
//! always read fresh, inside the transaction that records.

use crate::error::{HomeError, LicenseError, ServiceError, StoreError};
use core::net::IpAddr;
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex, mpsc},
    thread,
};

use fanlic_formats::{
    LicenseId, SignedBody, Timestamp,
    activation::ServerInstance,
    receipt::{Receipt, receipt_id},
};
use tokio::sync::oneshot;

use super::instance::{Check, Instance, MASTER_SECRET, recorded_by};
use super::license_row::{LicenseCache, LicenseRow, cached_license};
use super::reason::Reason;
use super::receipts;
use crate::Error;
use crate::Home;
use crate::home::activation::MasterSecret;
use crate::home::keys::SigningKey;
use crate::store::bindings::{Confirmation, NewBinding, PublishedList};
use crate::store::instances::{RateCount, RecordedSecret};
use crate::store::receipts::{AlertKind, NewReceipt, ReceiptChain};
use crate::store::{IssuingKeyRow, Tx};
use crate::util::hex;

/// Most requests the database thread commits in one transaction.
const MAX_BATCH: usize = 1024;
/// Who the service writes into the audit trail.
const AUDIT_BY: &str = "fanlic serve";

/// Work for the database thread.
pub(crate) enum Job {
    /// A license row (cached) with its revocation and binding read fresh.
    Lookup { id: LicenseId, reply: oneshot::Sender<Result<Lookup, Failed>> },
    /// A confirmation: check what needs the database, bind, record, and
    /// under the receipt policy sign and record the receipt.
    Record { rec: Box<Attempt>, reply: oneshot::Sender<Result<Recorded, Failed>> },
    /// A confirmation whose license id could not be authenticated: counted
    /// per client and day, nothing else.
    Unverified { client: IpAddr, outcome: &'static str, at: Timestamp, reply: oneshot::Sender<Result<(), Failed>> },
    /// The newest exported revocation list, if any.
    RevocationList { reply: oneshot::Sender<Result<Option<PublishedList>, Failed>> },
    /// `/readyz`: the database answers, its schema version, and the
    /// receipt key compared again.
    Ready { reply: oneshot::Sender<Result<Readiness, Failed>> },
    /// The rate limits' counts since the last sync (PostgreSQL): added to
    /// the shared table, whose totals are answered; old windows removed
    /// now and then.
    Sync { counts: Vec<RateCount>, prune_before: Option<u64>, reply: oneshot::Sender<Result<Vec<u64>, Failed>> },
}

/// Why a job failed: what to log, and whether the database was out of
/// reach (answered 503 with `Retry-After`) or not (500).
#[derive(Clone, Debug)]
pub(crate) struct Failed {
    pub(crate) message: String,
    pub(crate) unavailable: bool,
}

/// What `/readyz` learns from the database.
#[derive(Debug)]
pub(crate) struct Readiness {
    /// The database's schema version.
    pub(crate) schema_version: i64,
    /// The version this build writes.
    pub(crate) schema_latest: i64,
}

/// A license with its revocation and binding, read fresh.
#[derive(Debug)]
pub(crate) struct Lookup {
    pub(crate) license: Option<Arc<LicenseRow>>,
    pub(crate) revoked: bool,
    pub(crate) bound_to: Option<[u8; 32]>,
}

/// One POST whose challenge verified, recorded whatever its outcome.
pub(crate) struct Attempt {
    pub(crate) license_id: LicenseId,
    pub(crate) project_fingerprint: [u8; 32],
    pub(crate) node_id: [u8; 16],
    pub(crate) nodes: u32,
    /// An authorization server's instance and privateConfig generation.
    pub(crate) server: Option<ServerInstance>,
    pub(crate) at: Timestamp,
    pub(crate) client: IpAddr,
    /// Reasons found without the database.
    pub(crate) reasons: Vec<Reason>,
    /// Under the receipt policy: what the receipt needs from the request.
    pub(crate) receipt: Option<ReceiptAsk>,
}

/// What a receipt takes from its request.
pub(crate) struct ReceiptAsk {
    /// SHA-256 of the raw token.
    pub(crate) challenge_sha256: [u8; 32],
    /// An authorization server's instance key (checked against the
    /// challenge's fingerprint); `None` for a product.
    pub(crate) instance_public_key: Option<[u8; 32]>,
    /// The receipt the server holds, as its challenge names it.
    pub(crate) previous_receipt: Option<[u8; 32]>,
}

/// What recording a confirmation gave.
pub(crate) struct Recorded {
    /// Every reason it is refused (none: activated).
    pub(crate) reasons: Vec<Reason>,
    /// The receipt, when one was issued.
    pub(crate) receipt: Option<IssuedReceipt>,
}

/// A receipt signed and recorded.
pub(crate) struct IssuedReceipt {
    /// `receipt.fanlic`, armored.
    pub(crate) armored: String,
    /// Its id.
    pub(crate) id: [u8; 32],
    /// End of its lease, if any.
    pub(crate) lease_until: Option<u64>,
}

/// What the database thread keeps besides the store.
struct DbCtx {
    master: MasterSecret,
    cache: LicenseCache,
    home_dir: PathBuf,
    /// Receipt keys loaded from their files, by key id.
    receipt_keys: HashMap<String, Arc<SigningKey>>,
    /// The secrets compared with the other instances'.
    instance: Arc<Instance>,
    /// The master secret's file (for messages).
    master_path: PathBuf,
}

type DbStart = (mpsc::Sender<Job>, thread::JoinHandle<()>);

/// Starts the database thread, which owns `home` until the last sender of
/// its queue is dropped.
pub(crate) fn start(
    mut home: Home,
    (master, master_path): (MasterSecret, PathBuf),
    cache: LicenseCache,
    instance: Arc<Instance>,
) -> Result<DbStart, Error> {
    home.store_mut().configure_for_service()?;
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    // SQLite has one writer at a time: one thread. On PostgreSQL each
    // thread's batch locks only its licenses, so several commit at once and
    // the round trips of one do not hold up the others.
    let threads = if home.store().is_postgres() { POSTGRES_THREADS } else { 1 };
    let dir = home.dir().to_owned();
    let mut homes = vec![(home, master)];
    for _ in 1..threads {
        homes.push((Home::open(&dir)?, MasterSecret::load(&master_path)?));
    }
    let mut handles = Vec::with_capacity(threads);
    for (i, (mut home, master)) in homes.into_iter().enumerate() {
        let (rx, cache, instance, master_path) =
            (Arc::clone(&rx), Arc::clone(&cache), Arc::clone(&instance), master_path.clone());
        let handle = thread::Builder::new()
            .name(format!("fanlic-db-{i}"))
            .spawn(move || {
                let mut ctx = DbCtx {
                    master,
                    cache,
                    home_dir: home.dir().to_owned(),
                    receipt_keys: HashMap::new(),
                    instance,
                    master_path,
                };
                // At start: the secrets compared before the first request.
                compare_secrets(&mut home, &mut ctx);
                db_loop(&mut home, &mut ctx, &rx);
            })
            .map_err(|e| {
                Error::Service(ServiceError::Failed { reason: format!("cannot start the database thread: {e}") })
            })?;
        handles.push(handle);
    }
    let first = handles.swap_remove(0);
    // The others end with the queue, as the first does.
    drop(handles);
    Ok((tx, first))
}

/// Database threads of one instance on PostgreSQL.
const POSTGRES_THREADS: usize = 4;

/// An answer waiting for its batch's commit.
enum Pending {
    Lookup(oneshot::Sender<Result<Lookup, Failed>>, Result<Lookup, Failed>),
    Record(oneshot::Sender<Result<Recorded, Failed>>, Result<Recorded, Failed>),
    Unverified(oneshot::Sender<Result<(), Failed>>, Result<(), Failed>),
    RevocationList(oneshot::Sender<Result<Option<PublishedList>, Failed>>, Result<Option<PublishedList>, Failed>),
    Ready(oneshot::Sender<Result<Readiness, Failed>>, Result<Readiness, Failed>),
    Sync(oneshot::Sender<Result<Vec<u64>, Failed>>, Result<Vec<u64>, Failed>),
}

impl Pending {
    /// Its failure, if it failed.
    fn failure(&mut self) -> Option<&mut Failed> {
        match self {
            Self::Lookup(_, Err(f))
            | Self::Record(_, Err(f))
            | Self::Unverified(_, Err(f))
            | Self::RevocationList(_, Err(f))
            | Self::Ready(_, Err(f))
            | Self::Sync(_, Err(f)) => Some(f),
            _ => None,
        }
    }

    /// Fails it when it wrote (the commit failed: nothing written is kept).
    fn fail_write(&mut self, why: &Failed) {
        match self {
            Self::Record(_, r) => *r = Err(why.clone()),
            Self::Unverified(_, r) => *r = Err(why.clone()),
            Self::Sync(_, r) => *r = Err(why.clone()),
            Self::Lookup(..) | Self::RevocationList(..) | Self::Ready(..) => {}
        }
    }

    /// A job that never ran, failed.
    fn failed(job: Job, why: Failed) -> Self {
        match job {
            Job::Lookup { reply, .. } => Self::Lookup(reply, Err(why)),
            Job::Record { reply, .. } => Self::Record(reply, Err(why)),
            Job::Unverified { reply, .. } => Self::Unverified(reply, Err(why)),
            Job::RevocationList { reply } => Self::RevocationList(reply, Err(why)),
            Job::Ready { reply } => Self::Ready(reply, Err(why)),
            Job::Sync { reply, .. } => Self::Sync(reply, Err(why)),
        }
    }

    fn answer(self) {
        match self {
            Self::Lookup(reply, r) => drop(reply.send(r)),
            Self::Record(reply, r) => drop(reply.send(r)),
            Self::Unverified(reply, r) => drop(reply.send(r)),
            Self::RevocationList(reply, r) => drop(reply.send(r)),
            Self::Ready(reply, r) => drop(reply.send(r)),
            Self::Sync(reply, r) => drop(reply.send(r)),
        }
    }
}

fn db_loop(home: &mut Home, ctx: &mut DbCtx, rx: &Mutex<mpsc::Receiver<Job>>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut pending: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    loop {
        {
            // One thread takes what is queued; the others wait their turn.
            let rx = rx.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let Ok(first) = rx.recv() else { break };
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
        }
        // A comparison the database could not make at start is made
        // before anything is recorded.
        if ctx.instance.master() == Check::Unknown {
            compare_secrets(home, ctx);
        }
        let writes = batch.iter().any(|j| matches!(j, Job::Record { .. } | Job::Unverified { .. } | Job::Sync { .. }));
        // The counters of unverified requests are rows every instance
        // adds to: written in one order, two batches at once wait for each
        // other instead of deadlocking (a stable sort keeps the rest).
        batch.sort_by(|a, b| unverified_key(a).cmp(&unverified_key(b)));
        let licenses: Vec<LicenseId> = batch
            .iter()
            .filter_map(|j| if let Job::Record { rec, .. } = j { Some(rec.license_id) } else { None })
            .collect();
        let mut began = false;
        let mut run = |tx: &Tx<'_>| {
            began = true;
            for job in batch.drain(..) {
                pending.push(run_job(tx, ctx, job));
            }
            Ok(())
        };
        // A write takes the write lock first, so that a concurrent `fanlic
        // unbind` cannot invalidate what was read.
        // Only the batch's licenses are locked whole: instances serving
        // other licenses record at once (PostgreSQL).
        let done =
            if writes { home.store_mut().write_for_licenses(&licenses, &mut run) } else { home.store().read(&mut run) };
        if let Err(e) = done {
            let action = if began { "cannot commit" } else { "cannot begin a transaction" };
            // On PostgreSQL a transaction that cannot begin is a database
            // out of reach, whatever the error (a server starting up or
            // shutting down refuses the connection with an error of its own).
            let unavailable = is_unavailable(&e) || (!began && home.store().is_postgres());
            let message = match e {
                Error::Store(StoreError::Database { path, source, .. }) => {
                    format!("database {}: {action}: {source}", path.display())
                }
                e => e.to_string(),
            };
            let why = Failed { message, unavailable };
            if began {
                for p in &mut pending {
                    p.fail_write(&why);
                }
            } else {
                for job in batch.drain(..) {
                    pending.push(Pending::failed(job, why.clone()));
                }
            }
        }
        // On PostgreSQL any failure may come from the database going away
        // (a statement cut off, "the transaction is aborted" after it): when
        // the database does not answer now, each is an outage (503), never 500.
        if home.store().is_postgres() && pending.iter_mut().any(|p| p.failure().is_some_and(|f| !f.unavailable)) {
            let down = home.store().read(|tx| tx.schema_versions()).is_err();
            if down {
                for p in &mut pending {
                    if let Some(f) = p.failure() {
                        f.unavailable = true;
                    }
                }
            }
        }
        // Answers only after the commit: a code is never shown for an
        // activation that was not durably recorded.
        for p in pending.drain(..) {
            p.answer();
        }
    }
}

fn is_unavailable(e: &Error) -> bool {
    matches!(e, Error::Store(StoreError::Unavailable { .. }))
}

/// Compares this instance's master secret (its version and check value)
/// with the one the database records, recording it when none is (the
/// first instance), and the receipt key that signs now with its file here.
/// On SQLite (one instance) there is nothing to compare. The database out
/// of reach: compared again before the next batch.
fn compare_secrets(home: &mut Home, ctx: &mut DbCtx) {
    if !ctx.instance.shared {
        return;
    }
    let now = crate::util::clock::now().unwrap_or(Timestamp(0));
    let mine = RecordedSecret {
        version: ctx.master.version(),
        check_value: ctx.master.check_value().to_vec(),
        recorded_at: now.0,
        recorded_by: recorded_by(&ctx.home_dir),
    };
    if let Ok(theirs) = home.store_mut().write(|tx| tx.record_instance_secret(MASTER_SECRET, &mine)) {
        ctx.instance.set_master(master_check(ctx, &mine, &theirs));
    }
    if let Ok(c) = home.store().read(|tx| receipt_check(tx, ctx, now)) {
        ctx.instance.set_receipt(c);
    }
}

fn master_check(ctx: &DbCtx, mine: &RecordedSecret, theirs: &RecordedSecret) -> Check {
    if mine.version == theirs.version && mine.check_value == theirs.check_value {
        return Check::Same;
    }
    let recorded = format!("recorded by {} at {}", theirs.recorded_by, Timestamp(theirs.recorded_at));
    let problem = if mine.version == theirs.version {
        format!(
            "the activation master secret {} (version {}) is not the one the database records (version {}, {recorded})",
            ctx.master_path.display(),
            mine.version,
            theirs.version
        )
    } else {
        format!(
            "the activation master secret {} is version {}, the database records version {} ({recorded})",
            ctx.master_path.display(),
            mine.version,
            theirs.version
        )
    };
    let fix = format!(
        "Copy activation/master.secret (mode 0600) from the home of the instance that recorded it ({}) to {}, then restart this instance",
        theirs.recorded_by,
        ctx.master_path.display()
    );
    Check::Differs { problem, fix }
}

/// Whether this instance holds the private key of the receipt key the
/// database lists as signing now (loaded once, kept for signing).
fn receipt_check(tx: &Tx<'_>, ctx: &mut DbCtx, now: Timestamp) -> Result<Check, Error> {
    let rows = tx.receipt_keys()?;
    let Some(row) = crate::home::newest_valid(&rows, now) else { return Ok(Check::Same) };
    let id = row.key_id.to_string();
    if ctx.receipt_keys.contains_key(&id) {
        return Ok(Check::Same);
    }
    let path = ctx.home_dir.join(&row.private_key_path);
    let fix = format!(
        "Copy {} (mode 0600) from the vendor's home (where `fanlic keys receipt-key` made it) to {}",
        row.private_key_path.display(),
        path.display()
    );
    Ok(match SigningKey::load(&path) {
        Ok(key) if key.public_key() == row.public_key => {
            ctx.receipt_keys.insert(id, Arc::new(key));
            Check::Same
        }
        Ok(_) => Check::Differs {
            problem: format!("{} holds another key than receipt key {id}, which signs now", path.display()),
            fix,
        },
        Err(e) => Check::Differs { problem: format!("receipt key {id}, which signs now, is not here: {e}"), fix },
    })
}

/// What a failed job answers (logged; `/revocations.bin` shows it): the
/// database's own message for a database error, which names no file of
/// the home, else the whole error.
fn s(e: Error) -> Failed {
    let unavailable = is_unavailable(&e);
    let message = match e {
        Error::Store(StoreError::Database { source, .. }) => source.to_string(),
        e => e.to_string(),
    };
    Failed { message, unavailable }
}

fn run_job(tx: &Tx<'_>, ctx: &mut DbCtx, job: Job) -> Pending {
    match job {
        Job::Lookup { id, reply } => Pending::Lookup(reply, lookup(tx, &ctx.master, &ctx.cache, id).map_err(s)),
        Job::Record { rec, reply } => Pending::Record(reply, record_atomically(tx, ctx, &rec)),
        Job::Unverified { client, outcome, at, reply } => {
            Pending::Unverified(reply, tx.count_unverified(client, outcome, at).map_err(s))
        }
        Job::RevocationList { reply } => Pending::RevocationList(reply, tx.published_revocation_list().map_err(s)),
        Job::Ready { reply } => Pending::Ready(reply, ready(tx, ctx).map_err(s)),
        Job::Sync { counts, prune_before, reply } => Pending::Sync(reply, sync(tx, ctx, &counts, prune_before)),
    }
}

fn ready(tx: &Tx<'_>, ctx: &mut DbCtx) -> Result<Readiness, Error> {
    let (schema_version, schema_latest) = tx.schema_versions()?;
    if ctx.instance.shared {
        let now = crate::util::clock::now()?;
        let c = receipt_check(tx, ctx, now)?;
        ctx.instance.set_receipt(c);
    }
    Ok(Readiness { schema_version, schema_latest })
}

/// The rate limits' counts, in a savepoint: a sync that fails never
/// takes the batch's confirmations with it. A receipt key found missing
/// is looked for again.
fn sync(tx: &Tx<'_>, ctx: &mut DbCtx, counts: &[RateCount], prune_before: Option<u64>) -> Result<Vec<u64>, Failed> {
    if matches!(ctx.instance.receipt(), Check::Differs { .. })
        && let Ok(now) = crate::util::clock::now()
        && let Ok(c) = receipt_check(tx, ctx, now)
    {
        ctx.instance.set_receipt(c);
    }
    tx.savepoint(|tx| {
        if let Some(before) = prune_before {
            tx.prune_rate_counts(before)?;
        }
        tx.add_rate_counts(counts)
    })
    .map_err(s)
}

fn lookup(tx: &Tx<'_>, master: &MasterSecret, cache: &LicenseCache, id: LicenseId) -> Result<Lookup, Error> {
    let Some(license) = cached_license(tx, master, cache, id)? else {
        return Ok(Lookup { license: None, revoked: false, bound_to: None });
    };
    let revoked = tx.activation_revoked(id, &license.issuing_key_id)?;
    let bound_to = tx.activation_binding(id)?.map(|b| b.project_fingerprint);
    Ok(Lookup { license: Some(license), revoked, bound_to })
}

/// [`record`] in a savepoint of the batch's transaction: a confirmation
/// that fails half-way (a receipt that cannot be signed after the binding
/// was written) leaves nothing behind, and the others of the batch commit.
/// Where a job goes in a batch: unverified requests last, by their row.
fn unverified_key(j: &Job) -> Option<(IpAddr, &'static str)> {
    match j {
        Job::Unverified { client, outcome, .. } => Some((*client, *outcome)),
        _ => None,
    }
}

fn record_atomically(tx: &Tx<'_>, ctx: &mut DbCtx, a: &Attempt) -> Result<Recorded, Failed> {
    tx.savepoint(|tx| record(tx, ctx, a)).map_err(s)
}

fn record(tx: &Tx<'_>, ctx: &mut DbCtx, a: &Attempt) -> Result<Recorded, Error> {
    let mut reasons = a.reasons.clone();
    let mut issued = None;
    if let Some(license) = cached_license(tx, &ctx.master, &ctx.cache, a.license_id)? {
        if tx.activation_revoked(a.license_id, &license.issuing_key_id)? {
            reasons.push(Reason::Revoked);
        }
        let bound = tx.activation_binding(a.license_id)?;
        if bound.is_some_and(|b| b.project_fingerprint != a.project_fingerprint) {
            reasons.push(Reason::MaxLicensesReached);
        }
        // SPEC.md §7.1: a server's generation never goes back.
        if let Some(server) = &a.server
            && tx.server_generation(a.license_id, &server.instance_fingerprint)?.is_some_and(|g| server.generation < g)
        {
            reasons.push(Reason::StalePrivateConfig);
        }
        // The receipt key, before anything is bound: a receipt that cannot
        // be signed binds nothing.
        let signer = match &a.receipt {
            Some(_) if reasons.is_empty() => {
                let key = receipt_signer(tx, ctx, a.at)?;
                if key.is_none() {
                    reasons.push(Reason::NoReceiptKey);
                }
                key
            }
            _ => None,
        };
        // SPEC.md §6.4, freshness: an authorization server names the
        // latest receipt of its binding as its predecessor, or none when
        // none was issued since the binding.
        if let (Some(ask), Some(b)) = (&a.receipt, bound)
            && reasons.is_empty()
            && ask.instance_public_key.is_some()
            && b.project_fingerprint == a.project_fingerprint
        {
            let chain = ReceiptChain {
                license_id: a.license_id,
                project_fingerprint: b.project_fingerprint,
                bound_at: b.bound_at,
            };
            let latest = tx.latest_receipt(&chain)?;
            if latest != ask.previous_receipt {
                reasons.push(Reason::Forked);
                let name = |r: Option<[u8; 32]>| r.map_or_else(|| "none".to_owned(), |r| hex::encode(&r));
                let detail = format!(
                    "authorization server {} (instance fingerprint) asked from {} with previous receipt {}; the \
                     latest receipt of its binding is {}",
                    a.server.map_or_else(String::new, |sv| hex::encode(&sv.instance_fingerprint)),
                    a.client,
                    name(ask.previous_receipt),
                    name(latest),
                );
                tx.raise_alert(AlertKind::Forked, a.license_id, &detail, a.at, AUDIT_BY)?;
            }
        }
        reasons.sort_unstable();
        if reasons.is_empty()
            && let Some(server) = &a.server
        {
            tx.record_server_instance(a.license_id, &server.instance_fingerprint, server.generation, a.at)?;
        }
        if reasons.is_empty() && bound.is_none() {
            let why = format!(
                "bound to project fingerprint {} by node {} ({} nodes) from {}",
                hex::encode(&a.project_fingerprint),
                hex::encode(&a.node_id),
                a.nodes,
                a.client
            );
            tx.bind(&NewBinding {
                license_id: a.license_id,
                project_fingerprint: a.project_fingerprint,
                at: a.at,
                why: &why,
                by: AUDIT_BY,
            })?;
        }
        if reasons.is_empty()
            && let (Some(ask), Some((key_row, key))) = (&a.receipt, signer)
        {
            let bound_at = bound.map_or(a.at.0, |b| b.bound_at);
            issued = Some(issue_receipt(tx, &license, a, ask, (&key_row, &key), bound_at)?);
        }
    }
    let outcome = reasons.first().map_or("activated", |r| r.code());
    tx.record_confirmation(&Confirmation {
        license_id: a.license_id,
        project_fingerprint: a.project_fingerprint,
        node_id: a.node_id,
        nodes: a.nodes,
        at: a.at,
        client: a.client,
        outcome,
    })?;
    Ok(Recorded { reasons, receipt: issued })
}

/// The receipt key that signs at `now` (SPEC.md §3.2: receipts only, its
/// window holding `now`), loaded from its file once; `None` when no key is
/// valid now. Keys made while the service runs are found at once.
fn receipt_signer(
    tx: &Tx<'_>,
    ctx: &mut DbCtx,
    now: Timestamp,
) -> Result<Option<(IssuingKeyRow, Arc<SigningKey>)>, Error> {
    let rows = tx.receipt_keys()?;
    let Some(row) = crate::home::newest_valid(&rows, now).cloned() else { return Ok(None) };
    let id = row.key_id.to_string();
    if let Some(k) = ctx.receipt_keys.get(&id) {
        return Ok(Some((row, Arc::clone(k))));
    }
    let path = ctx.home_dir.join(&row.private_key_path);
    let key = SigningKey::load(&path)?;
    if key.public_key() != row.public_key {
        return Err(Error::Home(HomeError::BadKeyFile {
            path,
            reason: format!("it holds another key than receipt key {id}"),
        }));
    }
    let key = Arc::new(key);
    ctx.receipt_keys.insert(id, Arc::clone(&key));
    Ok(Some((row, key)))
}

/// Signs, records and returns the receipt of an activation that passed
/// every check, in the recording transaction: with the newest exported
/// revocation list, the contract's lease for a server, its reminder mail,
/// and, for a product, the alert when its binding gets too many receipts.
fn issue_receipt(
    tx: &Tx<'_>,
    license: &LicenseRow,
    a: &Attempt,
    ask: &ReceiptAsk,
    (key_row, key): (&IssuingKeyRow, &SigningKey),
    bound_at: u64,
) -> Result<IssuedReceipt, Error> {
    let encode = |reason| Error::License(LicenseError::Encode { what: "receipt", reason });
    let id_text = license.id.to_string();
    let server = ask.instance_public_key.is_some();
    let lease_until = if server {
        tx.contract_lease_days(&license.company_key)?
            .map(|d| a.at.0.saturating_add(u64::from(d).saturating_mul(86_400)))
    } else {
        None
    };
    let list = tx.published_revocation_list()?;
    let body = Receipt::new(
        license.id,
        license.file_sha256,
        ask.challenge_sha256,
        ask.instance_public_key,
        if server { ask.previous_receipt } else { None },
        a.at,
        lease_until.map(Timestamp),
        license.max_nodes,
        list.as_ref().map_or(0, |l| l.sequence),
    )
    .map_err(encode)?;
    let message = fanlic_formats::encode_receipt_body(&body).map_err(encode)?;
    let signature = key.sign(&message);
    // Signed twice: Ed25519 is deterministic, and a fault in either signing
    // (the way faults leak Ed25519 keys) makes the two differ.
    if key.sign(&message) != signature {
        return Err(Error::Service(ServiceError::Failed {
            reason: "signing the receipt twice gave two signatures".to_owned(),
        }));
    }
    let file = fanlic_formats::encode_receipt_file(
        SignedBody { message: &key_row.certificate_message, signature: key_row.certificate_signature },
        SignedBody { message: &message, signature },
        list.as_ref().map(|l| l.file.as_slice()),
    )
    .map_err(encode)?;
    let rid = receipt_id(&message);
    let comments = [
        format!("# fanlic activation receipt {} for license {id_text}", hex::encode(&rid)),
        format!("# {} / {} / {}", license.company, license.project, license.app_name),
        "# These # lines are NOT signed, for people only.".to_owned(),
    ];
    let refs: Vec<&str> = comments.iter().map(String::as_str).collect();
    let armored = fanlic_formats::armor::encode_receipt(&file, &refs).map_err(encode)?;
    let chain = ReceiptChain { license_id: license.id, project_fingerprint: a.project_fingerprint, bound_at };
    let key_id = key_row.key_id.to_string();
    let client = a.client.to_string();
    tx.insert_receipt(&NewReceipt {
        receipt_id: rid,
        chain,
        challenge_sha256: ask.challenge_sha256,
        previous_receipt: ask.previous_receipt,
        receipt_key_id: &key_id,
        vendor_time: a.at.0,
        lease_until,
        client: &client,
    })?;
    if let Some(until) = lease_until {
        // A reminder that cannot be queued (no contract address) never
        // stops the activation.
        let _ = receipts::queue_reminder(tx, license.id, &rid, Timestamp(until), a.at);
    }
    if !server {
        let since = a.at.0.saturating_sub(receipts::BURST_WINDOW_SECS);
        let n = tx.receipts_since(&chain, since)?;
        if n > u64::from(receipts::BURST_THRESHOLD) {
            let detail = format!(
                "{n} receipts in 24 hours for project fingerprint {} (threshold {}), the last to node {} from {}",
                hex::encode(&a.project_fingerprint),
                receipts::BURST_THRESHOLD,
                hex::encode(&a.node_id),
                a.client
            );
            tx.raise_alert(AlertKind::ReceiptBurst, license.id, &detail, a.at, AUDIT_BY)?;
        }
    }
    Ok(IssuedReceipt { armored, id: rid, lease_until })
}

/// Sends a job and waits for its answer without blocking a worker thread.
pub(crate) async fn ask<T>(
    db: &mpsc::Sender<Job>,
    make: impl FnOnce(oneshot::Sender<Result<T, Failed>>) -> Job,
) -> Result<T, Failed> {
    let stopped = || Failed { message: "the database thread has stopped".to_owned(), unavailable: false };
    let (tx, rx) = oneshot::channel();
    db.send(make(tx)).map_err(|_| stopped())?;
    rx.await.map_err(|_| stopped())?
}
