//! Revocation and unbinding, the vendor side:
//! `fanlic revoke`, `fanlic unbind` and `fanlic revocations`.
//!
//! - [`revoke_license`] records a license in `revoked_licenses`, audits it
//!   in `audit` and queues a confirmation mail, in one transaction.
//! - [`revoke_issuing_key`] records an issuing key in `revoked_issuing_keys`;
//!   the key that signs new licenses only with `force` (rotate first).
//! - [`unbind`] deletes a license's row of `activation_bindings` (so the
//!   same `Container.lic` can register a new project), audited with the old
//!   project fingerprint and confirmed by mail.
//! - [`export`] signs the revocation list of SPEC.md §5 (every revoked
//!   license and issuing key, the next sequence number) with the signing key
//!   if it is certified for revocation lists, checks it with the verifier
//!   products embed, records it in `revocation_lists` and writes the file.
//!
//! Confirmation mails go only to the addresses of the license's company's
//! enabled contract, else to the authenticated sender of the registration
//! mail that got the license if that is an enabled contract's address; never
//! to anyone else. With none, the change is still made and the outcome says
//! why no mail was queued.

use crate::error::{HomeError, LicenseError, Refusal, RevocationListError};
use std::path::{Path, PathBuf};

use fanlic_formats::{
    IssuingKeyCertificate, KeyId, LicenseId, Purposes, RevocationEnvelope, RevocationList, Timestamp,
    encode_revocation_file, encode_revocation_list_body,
};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::contracts;
use crate::home::keys;
use crate::outbox::{self, Language, Reply};
use crate::store;
use crate::store::audit::{Action, Entry};
pub use crate::store::{LicenseInfo, RevokedEntry};
use crate::store::{StoredRevocationList, Tx};
use crate::util::fsutil;
use crate::util::hex;

/// The confirmation mail of a revocation or an unbinding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mail {
    /// Queued in the outbox: `(address, outbox id)`, one per address.
    Queued(Vec<(String, i64)>),
    /// Nothing queued, and why.
    NotQueued(String),
}

impl Mail {
    /// `{"to": [...], "outbox_ids": [...]}`, or `null` when nothing was queued.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Queued(q) => json!({
                "to": q.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
                "outbox_ids": q.iter().map(|(_, id)| *id).collect::<Vec<_>>(),
            }),
            Self::NotQueued(_) => Value::Null,
        }
    }

    /// Why nothing was queued, if so.
    pub fn note(&self) -> Option<&str> {
        match self {
            Self::Queued(_) => None,
            Self::NotQueued(why) => Some(why),
        }
    }

    fn human(&self) -> String {
        match self {
            Self::Queued(q) => format!(
                "  confirmation mail queued to {} (outbox {}); send it with `fanlic outbox flush`\n",
                q.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", "),
                q.iter().map(|(_, id)| id.to_string()).collect::<Vec<_>>().join(", "),
            ),
            Self::NotQueued(why) => format!("  NO confirmation mail was queued: {why}\n"),
        }
    }
}

/// A license just revoked.
#[derive(Clone, Debug)]
pub struct Revoked {
    /// The license.
    pub license: LicenseInfo,
    /// Why (recorded; not mailed).
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// The confirmation mail.
    pub mail: Mail,
}

impl Revoked {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "action": "revoke",
            "license_id": self.license.license_id,
            "company": self.license.company,
            "project": self.license.project,
            "reason": self.reason,
            "at": self.at.to_string(),
            "by": self.by,
            "mail": self.mail.to_json(),
            "mail_note": self.mail.note(),
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        format!(
            "Revoked license {id} ({company} / {project}) at {at} by {by}\n  reason: {reason}\n{mail}\
             Products refuse it once they have a revocation list that names it: publish one with\n\
             `fanlic revocations export -o FILE`.\n",
            id = self.license.license_id,
            company = self.license.company,
            project = self.license.project,
            at = self.at,
            by = self.by,
            reason = self.reason,
            mail = self.mail.human(),
        )
    }
}

/// An issuing key just revoked.
#[derive(Clone, Debug)]
pub struct KeyRevoked {
    /// The key.
    pub key_id: KeyId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// Whether it was the key that signs new licenses (`--force`).
    pub was_signing: bool,
    /// How many licenses of this home it signed.
    pub licenses_signed: u64,
}

impl KeyRevoked {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "action": "revoke-issuing-key",
            "key_id": self.key_id.to_string(),
            "reason": self.reason,
            "at": self.at.to_string(),
            "by": self.by,
            "was_signing": self.was_signing,
            "licenses_signed": self.licenses_signed,
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let signing = if self.was_signing {
            "  It was the signing key: rotate now (`fanlic keys rotate --root-key PATH`); until then no revocation\n  \
             list can be exported, and products with the list refuse every license it still signs.\n"
        } else {
            ""
        };
        format!(
            "Revoked issuing key {id} at {at} by {by}\n  reason: {reason}\n  \
             {n} license(s) of this home were signed by it; products refuse them all once they have a\n  \
             revocation list that names the key: publish one with `fanlic revocations export -o FILE`.\n{signing}",
            id = self.key_id,
            at = self.at,
            by = self.by,
            reason = self.reason,
            n = self.licenses_signed,
        )
    }
}

/// A license just unbound.
#[derive(Clone, Debug)]
pub struct Unbound {
    /// The license.
    pub license: LicenseInfo,
    /// The fingerprint of the project it was bound to (hex).
    pub project_fingerprint: String,
    /// When it had been bound.
    pub bound_at: Timestamp,
    /// When it was unbound.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
    /// The confirmation mail.
    pub mail: Mail,
}

impl Unbound {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "action": "unbind",
            "license_id": self.license.license_id,
            "company": self.license.company,
            "project": self.license.project,
            "project_fingerprint": self.project_fingerprint,
            "bound_at": self.bound_at.to_string(),
            "at": self.at.to_string(),
            "by": self.by,
            "mail": self.mail.to_json(),
            "mail_note": self.mail.note(),
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        format!(
            "Unbound license {id} ({company} / {project}) at {at} by {by}\n  \
             it was bound since {bound} to project fingerprint {fp}\n{mail}\
             The same Container.lic can now register a new project.\n",
            id = self.license.license_id,
            company = self.license.company,
            project = self.license.project,
            at = self.at,
            by = self.by,
            bound = self.bound_at,
            fp = self.project_fingerprint,
            mail = self.mail.human(),
        )
    }
}

/// The license id typed, checked and in its one text form (lowercase).
fn parse_license_id(given: &str) -> Result<String, Error> {
    given
        .trim()
        .parse::<LicenseId>()
        .map(|id| id.to_string())
        .map_err(|e| Error::input("LICENSE_ID", given, format!("a license id is 32 hex digits ({e})")))
}

/// `(revoked_at, revoked_by, reason)` if the license is revoked.
pub(crate) fn revocation_of(tx: &Tx<'_>, id: &str) -> Result<Option<(Timestamp, String, String)>, Error> {
    tx.revocation_of(id)
}

fn audit(tx: &Tx<'_>, license_id: &str, action: Action, detail: &str, now: Timestamp, by: &str) -> Result<(), Error> {
    tx.audit(&Entry { license_id: Some(license_id), why: detail, ..Entry::new(action, by, now) })
}

/// Who gets the confirmation mail of a change to `license`: the addresses of
/// its company's enabled contract; else the authenticated sender of the
/// registration mail that got it, if that is an enabled contract's address.
/// `Err(why)` when nobody may.
fn recipients(home: &mut Home, license: &LicenseInfo) -> Result<Result<Vec<String>, String>, Error> {
    let contract = contracts::find_by_company(home, &license.company)?;
    if let Some(c) = &contract
        && c.enabled
        && !c.terms.emails.is_empty()
    {
        return Ok(Ok(c.terms.emails.clone()));
    }
    // Never an unauthenticated sender: its From may be forged.
    let sender = home.store().read(|tx| tx.authenticated_requester(&license.license_id))?;
    if let Some(addr) = sender
        && contracts::find_by_email(home, &addr)?.is_some_and(|c| c.enabled)
    {
        return Ok(Ok(vec![addr]));
    }
    Ok(Err(match contract {
        Some(c) if !c.enabled => format!(
            "contract {} of {:?} is disabled, and confirmations go only to an enabled contract's addresses; \
             tell the customer yourself",
            c.id, c.terms.company
        ),
        _ => format!(
            "no enabled contract for company {:?} (`fanlic contract list`), and the license was not issued \
             from an authenticated registration mail; tell the customer yourself",
            license.company
        ),
    }))
}

fn confirmation(from: &str, to: &str, subject: &str, body: String) -> Reply {
    Reply {
        to: to.to_owned(),
        from: from.to_owned(),
        subject: subject.to_owned(),
        in_reply_to: None,
        references: Vec::new(),
        // The body carries both languages.
        language: Language::En,
        body,
        attachments: Vec::new(),
    }
}

fn revoke_text(l: &LicenseInfo, at: Timestamp) -> String {
    format!(
        "Hello,\n\n\
         License {id} of {company}, for project \"{project}\" ({app} {version}), was revoked at {at} (UTC).\n\
         Products stop accepting it once they receive the next revocation list.\n\
         If you did not expect this, reply to this message.\n\n\
         您好：\n\n\
         {company} 的授权 {id}（项目“{project}”，{app} {version}）已于 {at}（UTC）被吊销。\n\
         产品收到下一份吊销列表后将不再接受该授权。如有疑问，请直接回复本邮件。\n",
        id = l.license_id,
        company = l.company,
        project = l.project,
        app = l.app_name,
        version = l.version,
    )
}

fn unbind_text(l: &LicenseInfo, at: Timestamp) -> String {
    format!(
        "Hello,\n\n\
         License {id} of {company} ({app} {version}, issued for project \"{project}\") was unbound from its \
         project at {at} (UTC).\n\
         The same Container.lic can now register a new project.\n\
         If you did not ask for this, reply to this message.\n\n\
         您好：\n\n\
         {company} 的授权 {id}（{app} {version}，项目“{project}”）已于 {at}（UTC）解除与原项目的绑定。\n\
         同一个 Container.lic 现在可以注册新的项目。如非您本人申请，请直接回复本邮件。\n",
        id = l.license_id,
        company = l.company,
        project = l.project,
        app = l.app_name,
        version = l.version,
    )
}

/// Confirmation mails to queue, or why there are none.
type PlannedMail = Result<Vec<Reply>, String>;

/// The mails to queue: `Err(why)` when none.
fn plan_mail(
    home: &mut Home,
    license: &LicenseInfo,
    send: bool,
    subject: &str,
    body: &str,
) -> Result<Result<Vec<Reply>, String>, Error> {
    if !send {
        return Ok(Err("--no-mail was given".to_owned()));
    }
    let from = home.reply_from()?;
    Ok(recipients(home, license)?
        .map(|to| to.iter().map(|a| confirmation(&from, a, subject, body.to_owned())).collect()))
}

/// What revoking or unbinding needs before its transaction: the license's
/// id (checked), what is recorded of it, and the confirmation mails (`send`:
/// whether any) with `subject` and the body `text` makes.
fn license_and_mails(
    home: &mut Home,
    license_id: &str,
    send: bool,
    subject: impl FnOnce(&str) -> String,
    text: impl FnOnce(&LicenseInfo) -> String,
) -> Result<(String, LicenseInfo, PlannedMail), Error> {
    let id = parse_license_id(license_id)?;
    let license = home.store().read(|tx| tx.license_info(&id))?;
    let planned = plan_mail(home, &license, send, &subject(&id), &text(&license))?;
    Ok((id, license, planned))
}

fn revoked_subject(id: &str) -> String {
    format!("License {id} revoked / 授权已吊销")
}

fn queue(tx: &Tx<'_>, planned: Result<Vec<Reply>, String>, now: Timestamp) -> Result<Mail, Error> {
    match planned {
        Ok(replies) => {
            let mut queued = Vec::new();
            for r in &replies {
                queued.push((r.to.clone(), outbox::enqueue(tx, r, now)?));
            }
            Ok(Mail::Queued(queued))
        }
        Err(why) => Ok(Mail::NotQueued(why)),
    }
}

/// Revokes the license `license_id` for `reason`, by `by` at `now`: recorded
/// in `revoked_licenses` and `audit` (action `revoke`, the reason as
/// detail), with a confirmation mail queued when `mail` is set and a
/// contract address is known, all in one transaction. Refuses an unknown
/// license and one already revoked (saying when and by whom).
pub fn revoke_license(
    home: &mut Home,
    license_id: &str,
    reason: &str,
    by: &str,
    mail: bool,
    now: Timestamp,
) -> Result<Revoked, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::input("--reason", reason, "say why the license is revoked (it is recorded)"));
    }
    let (id, license, planned) = license_and_mails(home, license_id, mail, revoked_subject, |l| revoke_text(l, now))?;
    let mail = home.store_mut().write(|tx| {
        revoke_in(tx, &id, reason, by, now)?;
        queue(tx, planned, now)
    })?;
    Ok(Revoked { license, reason: reason.to_owned(), at: now, by: by.to_owned(), mail })
}

/// The revocation of [`revoke_license`] in the caller's transaction (`fanlic
/// ingest` revokes a migrated or destroyed license together with its
/// decision): recorded in `revoked_licenses` and audited in `audit`
/// (action `revoke`, `reason` as detail). `id` is the license id in its
/// text form. Refuses a license already revoked.
pub(crate) fn revoke_in(tx: &Tx<'_>, id: &str, reason: &str, by: &str, now: Timestamp) -> Result<(), Error> {
    // Checked inside the transaction: two staff revoking at once get one each.
    if let Some((at, by, reason)) = tx.revocation_of(id)? {
        return Err(Error::Revoke(Refusal::LicenseAlreadyRevoked { license_id: id.to_owned(), at, by, reason }));
    }
    tx.insert_license_revocation(id, reason, by, now)?;
    audit(tx, id, Action::Revoke, reason, now, by)
}

/// The confirmation mails [`revoke_license`] queues for revoking
/// `license_id` at `now` (to the addresses of the license's company's enabled
/// contract): `Ok(Err(why))` when nobody may get one.
pub(crate) fn revoke_confirmations(
    home: &mut Home,
    license_id: &str,
    now: Timestamp,
) -> Result<Result<Vec<Reply>, String>, Error> {
    Ok(license_and_mails(home, license_id, true, revoked_subject, |l| revoke_text(l, now))?.2)
}

/// Revokes the issuing key `key_id` for `reason`: recorded in
/// `revoked_issuing_keys`, so that the next revocation list names it and
/// products refuse every license it signed. Refuses an unknown key, one
/// already revoked, and the key that signs new licenses unless `force`.
pub fn revoke_issuing_key(
    home: &mut Home,
    key_id: &str,
    reason: &str,
    by: &str,
    force: bool,
    now: Timestamp,
) -> Result<KeyRevoked, Error> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(Error::input("--reason", reason, "say why the key is revoked (it is recorded)"));
    }
    let keys = home.issuing_keys()?;
    let known = || keys.iter().map(|k| k.key_id.to_string()).collect::<Vec<_>>().join(", ");
    let key = match key_id.trim().parse::<KeyId>() {
        Ok(id) => keys.iter().find(|k| k.key_id == id),
        Err(_) => None,
    };
    let Some(key) = key else {
        return Err(Error::Revoke(Refusal::IssuingKeyNotFound { key_id: key_id.trim().to_owned(), known: known() }));
    };
    let signing = home.signing_key().ok().map(|k| k.key_id);
    let was_signing = signing == Some(key.key_id);
    let kid = key.key_id;
    let licenses_signed = home.store_mut().write(|tx| {
        if let Some((at, by)) = tx.issuing_key_revocation(kid)? {
            return Err(Error::Revoke(Refusal::IssuingKeyAlreadyRevoked { key_id: kid, at, by }));
        }
        if was_signing && !force {
            return Err(Error::Revoke(Refusal::RevokingSigningKey { key_id: kid }));
        }
        tx.insert_issuing_key_revocation(kid, reason, by, now)?;
        let why = format!("issuing key {kid}: {reason}");
        tx.audit(&Entry { why: &why, ..Entry::new(Action::KeyRevoke, by, now) })?;
        tx.licenses_signed_by(kid)
    })?;
    Ok(KeyRevoked { key_id: kid, reason: reason.to_owned(), at: now, by: by.to_owned(), was_signing, licenses_signed })
}

/// Unbinds the license `license_id` from its project: its row of
/// `activation_bindings` is deleted, audited (action `unbind`, the old
/// project fingerprint in hex as detail) and confirmed by mail when `mail`
/// is set and a contract address is known, in one transaction. Refuses an
/// unknown license, a revoked one and one that is not bound.
pub fn unbind(home: &mut Home, license_id: &str, by: &str, mail: bool, now: Timestamp) -> Result<Unbound, Error> {
    let (id, license, planned) = license_and_mails(
        home,
        license_id,
        mail,
        |id| format!("License {id} unbound from its project / 授权已解除项目绑定"),
        |l| unbind_text(l, now),
    )?;
    let (fingerprint, bound_at, mail) = home.store_mut().write(|tx| {
        if let Some((at, by, _)) = tx.revocation_of(&id)? {
            return Err(Error::Revoke(Refusal::UnbindRevoked { license_id: id.clone(), at, by }));
        }
        let Some((fingerprint, bound_at)) = tx.binding_of(&id)? else {
            return Err(Error::Revoke(Refusal::NotBound { license_id: id.clone() }));
        };
        let fingerprint = hex::encode(&fingerprint);
        tx.delete_binding(&id)?;
        audit(tx, &id, Action::Unbind, &fingerprint, now, by)?;
        Ok((fingerprint, bound_at, queue(tx, planned, now)?))
    })?;
    Ok(Unbound { license, project_fingerprint: fingerprint, bound_at, at: now, by: by.to_owned(), mail })
}

// ---------------------------------------------------------------------------
// Revocation lists.

/// A revocation list just exported.
#[derive(Clone, Debug)]
pub struct Exported {
    /// Its sequence number.
    pub sequence: u64,
    /// When it was signed.
    pub issued_at: Timestamp,
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: usize,
    /// The revoked license ids it names, ascending.
    pub licenses: Vec<LicenseId>,
    /// The revoked issuing-key ids it names, ascending.
    pub issuing_keys: Vec<KeyId>,
    /// The issuing key that signed it.
    pub signed_by: KeyId,
}

impl Exported {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "sequence": self.sequence,
            "issued_at": self.issued_at.to_string(),
            "file": self.path.display().to_string(),
            "bytes": self.bytes,
            "licenses": self.licenses.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "issuing_keys": self.issuing_keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "signed_by": self.signed_by.to_string(),
            "verified": true,
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        format!(
            "Revocation list {seq} signed at {at} by issuing key {key}, checked with the verifier\n  \
             revokes {nl} license(s) and {nk} issuing key(s)\n  written to {path} ({bytes} bytes)\n\
             Publish it where products fetch their revocation list; it is not secret.\n",
            seq = self.sequence,
            at = self.issued_at,
            key = self.signed_by,
            nl = self.licenses.len(),
            nk = self.issuing_keys.len(),
            path = self.path.display(),
            bytes = self.bytes,
        )
    }
}

/// The key that signs revocation lists: the signing key, if it is certified
/// for them (purpose bit 2) and may sign at `now` ([`export`] checks it is
/// not revoked, in its transaction).
fn revocation_signer(home: &Home, now: Timestamp) -> Result<(store::IssuingKeyRow, keys::SigningKey), Error> {
    let no = |why: String| Error::Home(HomeError::NoRevocationSigner { why });
    let row = home.signing_key().map_err(|_| no("this home has no active issuing key".to_owned()))?;
    let cert = IssuingKeyCertificate::decode(&row.certificate_message).map_err(|e| {
        store::corrupt(home.db_path(), format!("certificate of issuing key {} does not decode: {e}", row.key_id))
    })?;
    if cert.purposes.0 & Purposes::REVOCATION_LIST == 0 {
        return Err(no(format!(
            "the signing key {} is not certified to sign revocation lists (purposes: {})",
            row.key_id,
            keys::purpose_names(cert.purposes.0).join(", ")
        )));
    }
    if !cert.may_sign_at(now) {
        return Err(no(format!(
            "the signing key {} may sign from {} to {}, not at {now}",
            row.key_id, cert.not_before, cert.not_after
        )));
    }
    let key_file = home.dir().join(&row.private_key_path);
    if !key_file.exists() {
        // A host that only serves (`fanlic serve` on the shared database)
        // has no issuing key, by design: lists are signed in one place.
        return Err(Error::input(
            "revocations export",
            &key_file.display().to_string(),
            format!(
                "the private key of issuing key {} is not on this host: revocation lists are signed on the host \
                 that holds the issuing key (run `fanlic revocations export` there); every `fanlic serve` on the \
                 same database then serves the newest list",
                row.key_id
            ),
        ));
    }
    let key = keys::SigningKey::load(&key_file)?;
    if key.public_key() != row.public_key {
        return Err(store::corrupt(
            home.db_path(),
            format!("the private key file of issuing key {} holds another key", row.key_id),
        ));
    }
    Ok((row, key))
}

/// Signs the revocation list of everything revoked, with the next sequence
/// number (one more than the last exported; 1 for the first), at `now`;
/// checks it with the verifier products embed, records it in
/// `revocation_lists` and writes it to `output` atomically, mode 0644 (it is
/// public). Without `replace`, an existing `output` is refused first.
pub fn export(home: &mut Home, output: &Path, replace: bool, now: Timestamp) -> Result<Exported, Error> {
    if !replace && std::fs::symlink_metadata(output).is_ok() {
        return Err(Error::OutputExists { path: output.to_owned() });
    }
    let roots = home.root_keys()?;
    // The key is read before the transaction (it needs the home's files);
    // whether it is revoked is checked inside, against what is signed.
    let (row, key) = revocation_signer(home, now)?;
    let db_path = home.db_path().to_owned();
    // One write transaction reads the last sequence and what is revoked,
    // signs, and records the list: writers of every process (and every
    // host, on PostgreSQL) take the store's write lock, so a second export
    // at once waits and takes the next sequence, over the list just
    // recorded. The primary key on `sequence` refuses a duplicate all the same.
    let (sequence, file, licenses, issuing_keys) = home.store_mut().write(|tx| {
        let last = tx.last_revocation_sequence()?;
        let sequence = last
            .checked_add(1)
            .ok_or_else(|| store::corrupt(&db_path, "the revocation list sequence is at its maximum"))?;
        let (licenses, issuing_keys) = (tx.revoked_license_ids()?, tx.revoked_key_ids()?);
        if issuing_keys.contains(&row.key_id) {
            return Err(Error::Home(HomeError::NoRevocationSigner {
                why: format!("the signing key {} is revoked", row.key_id),
            }));
        }
        let encode = |what, reason| Error::License(LicenseError::Encode { what, reason });
        let message = encode_revocation_list_body(sequence, now, &licenses, &issuing_keys)
            .map_err(|e| encode("revocation list", e))?;
        let signature = key.sign(&message);
        let file = encode_revocation_file(&row.certificate_message, &row.certificate_signature, &message, &signature)
            .map_err(|e| encode("revocation list file", e))?;
        self_check(&file, &roots, sequence, &licenses, &issuing_keys)?;
        // Recorded before it is written: a sequence number is never reused for
        // other contents, even if the write fails (the next export takes the next one).
        if !tx.insert_revocation_list(sequence, now, &file)? {
            return Err(Error::input(
                "revocations export",
                &sequence.to_string(),
                "another export recorded a list with this sequence meanwhile; run `fanlic revocations export` again",
            ));
        }
        Ok((sequence, file, licenses, issuing_keys))
    })?;
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io("cannot create the folder", parent))?;
    }
    fsutil::write_atomic(output, &file, fsutil::PUBLIC_MODE, replace)?;
    Ok(Exported {
        sequence,
        issued_at: now,
        path: output.to_owned(),
        bytes: file.len(),
        licenses,
        issuing_keys,
        signed_by: row.key_id,
    })
}

/// Checks a list just signed as a product would, and that it says what was meant.
fn self_check(
    file: &[u8],
    roots: &[fanlic_verifier::RootKey],
    sequence: u64,
    licenses: &[LicenseId],
    issuing_keys: &[KeyId],
) -> Result<(), Error> {
    let fail = |reason: String| Error::RevocationList(RevocationListError::SelfCheck { reason });
    let list = fanlic_verifier::verify_revocations(file, roots, None).map_err(|e| fail(e.to_string()))?;
    let mut want_l = licenses.to_vec();
    want_l.sort_unstable();
    want_l.dedup();
    let mut want_k = issuing_keys.to_vec();
    want_k.sort_unstable();
    want_k.dedup();
    if list.sequence() != sequence
        || !list.licenses().eq(want_l.iter().copied())
        || !list.issuing_keys().eq(want_k.iter().copied())
    {
        return Err(fail("it does not say what was signed".to_owned()));
    }
    Ok(())
}

/// One revocation list exported before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedList {
    /// Its sequence number.
    pub sequence: u64,
    /// When it was signed.
    pub issued_at: Timestamp,
    /// Its size in bytes.
    pub bytes: usize,
    /// How many licenses it revokes.
    pub licenses: usize,
    /// How many issuing keys it revokes.
    pub issuing_keys: usize,
}

/// `revocations list`: what is revoked, and the lists exported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocations {
    /// Revoked licenses, by time.
    pub licenses: Vec<RevokedEntry>,
    /// Revoked issuing keys, by time.
    pub issuing_keys: Vec<RevokedEntry>,
    /// Exported lists, oldest first.
    pub lists: Vec<ListedList>,
}

impl Revocations {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        let entry = |e: &RevokedEntry| json!({"id": e.id, "reason": e.reason, "at": e.at.to_string(), "by": e.by, "published": e.published});
        json!({
            "licenses": self.licenses.iter().map(entry).collect::<Vec<_>>(),
            "issuing_keys": self.issuing_keys.iter().map(entry).collect::<Vec<_>>(),
            "lists": self.lists.iter().map(|l| json!({
                "sequence": l.sequence,
                "issued_at": l.issued_at.to_string(),
                "bytes": l.bytes,
                "licenses": l.licenses,
                "issuing_keys": l.issuing_keys,
            })).collect::<Vec<_>>(),
        })
    }

    /// For people.
    pub fn human(&self) -> String {
        let mut out = String::new();
        let section = |out: &mut String, title: &str, entries: &[RevokedEntry]| {
            out.push_str(title);
            if entries.is_empty() {
                out.push_str("  none\n");
            }
            for e in entries {
                let p = if e.published { "" } else { "  (not in any exported list yet)" };
                out.push_str(&format!("  {}  {}  by {}  {:?}{p}\n", e.id, e.at, e.by, e.reason));
            }
        };
        section(&mut out, "Revoked licenses:\n", &self.licenses);
        section(&mut out, "Revoked issuing keys:\n", &self.issuing_keys);
        out.push_str("Revocation lists exported:\n");
        if self.lists.is_empty() {
            out.push_str("  none (`fanlic revocations export -o FILE` makes the first)\n");
        }
        for l in &self.lists {
            out.push_str(&format!(
                "  {:>4}  {}  {} license(s), {} key(s), {} bytes\n",
                l.sequence, l.issued_at, l.licenses, l.issuing_keys, l.bytes
            ));
        }
        if self.licenses.iter().chain(&self.issuing_keys).any(|e| !e.published) {
            out.push_str("Some revocations are in no exported list yet: run `fanlic revocations export -o FILE`.\n");
        }
        out
    }
}

/// Everything revoked, and every revocation list exported.
pub fn list(home: &mut Home) -> Result<Revocations, Error> {
    let path = home.db_path().to_owned();
    let (mut licenses, mut issuing_keys, stored) =
        home.store().read(|tx| Ok((tx.revoked_licenses()?, tx.revoked_issuing_keys()?, tx.revocation_lists()?)))?;
    let mut lists = Vec::new();
    let mut newest: Option<Vec<u8>> = None;
    for StoredRevocationList { sequence, issued_at, file_bytes: bytes } in stored {
        let bad = |e: fanlic_formats::DecodeError| store::corrupt(&path, format!("revocation list {sequence}: {e}"));
        let envelope = RevocationEnvelope::decode(&bytes).map_err(bad)?;
        let decoded = RevocationList::decode(envelope.list.message).map_err(bad)?;
        lists.push(ListedList {
            sequence,
            issued_at,
            bytes: bytes.len(),
            licenses: decoded.licenses().len(),
            issuing_keys: decoded.issuing_keys().len(),
        });
        newest = Some(bytes);
    }
    if let Some(bytes) = &newest
        && let Ok(envelope) = RevocationEnvelope::decode(bytes)
        && let Ok(decoded) = RevocationList::decode(envelope.list.message)
    {
        for e in &mut licenses {
            e.published = e.id.parse::<LicenseId>().is_ok_and(|id| decoded.revokes_license(&id));
        }
        for e in &mut issuing_keys {
            e.published = e.id.parse::<KeyId>().is_ok_and(|id| decoded.revokes_key(&id));
        }
    }
    Ok(Revocations { licenses, issuing_keys, lists })
}
