//! Manual issuance: `fanlic issue`.

use crate::error::{HomeError, LicenseError};
use std::path::{Path, PathBuf};

use fanlic_formats::{
    Date, Expiry, IssuingKeyCertificate, LicenseId, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, Version, armor,
    encode_license_file, wire,
};
use fanlic_verifier::authenticate;
use ring::rand::SystemRandom;
use serde_json::Value;

use crate::Error;
use crate::home::Home;
use crate::home::keys;
use crate::license::report;
use crate::store;
use crate::store::audit::{Action, Entry};
use crate::store::{LicenseState, NewLicense, Tx};
use crate::util::fsutil;
use crate::util::input;

/// What to issue; build it with [`IssueRequest::parse`] from what was typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueRequest {
    /// Customer company.
    pub company: String,
    /// Project name ("project content").
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app_name: &'static str,
    /// Licensed major.minor.
    pub version: Version,
    /// Authentication method.
    pub kind: LicenseKind,
    /// Max cluster nodes.
    pub max_nodes: u32,
    /// Expiry.
    pub expiry: Expiry,
    /// Contract signing date.
    pub contract_signed: Date,
    /// Not valid before; `None`: the time of issuance.
    pub not_before: Option<Timestamp>,
    /// Where to write `Container.lic`.
    pub output: PathBuf,
    /// Replace an existing output file.
    pub force: bool,
    /// SHA-256 of the registration mail this license answers, if any.
    pub request_email_sha256: Option<[u8; 32]>,
    /// The license this one replaces: the project's live license, revoked
    /// when this one is recorded (a reissue), or a migrated server's.
    pub supersedes: Option<LicenseId>,
    /// Who issues, for the audit trail (`None`: `fanlic issue`).
    pub by: Option<String>,
    /// How the license is activated: under the receipt policy it carries
    /// the challenge key instead of the activation key (SPEC.md §6.1).
    pub activation_policy: crate::contracts::ActivationPolicy,
}

/// The text of `fanlic issue`'s options.
#[derive(Clone, Debug, Default)]
pub struct IssueInput<'a> {
    /// `--company`.
    pub company: &'a str,
    /// `--project`.
    pub project: &'a str,
    /// `--app` / `--product`.
    pub app: &'a str,
    /// `--version`.
    pub version: &'a str,
    /// `--expires`.
    pub expires: &'a str,
    /// `--signed`.
    pub signed: &'a str,
    /// `--not-before`.
    pub not_before: Option<&'a str>,
}

impl IssueRequest {
    /// Checks every typed value; the error names the option and how to fix it.
    pub fn parse(
        text: &IssueInput<'_>,
        kind: LicenseKind,
        max_nodes: u32,
        output: PathBuf,
        force: bool,
    ) -> Result<Self, Error> {
        if max_nodes == 0 {
            return Err(Error::input("--nodes", "0", "a license allows at least 1 node"));
        }
        Ok(Self {
            company: input::name("--company", text.company)?,
            project: input::name("--project", text.project)?,
            app_name: input::app(text.app)?,
            version: input::version(text.version)?,
            kind,
            max_nodes,
            expiry: input::expiry(text.expires)?,
            contract_signed: input::date("--signed", text.signed)?,
            not_before: text
                .not_before
                .map(|s| crate::util::clock::parse_time_or_date("--not-before", s))
                .transpose()?,
            output,
            force,
            request_email_sha256: None,
            supersedes: None,
            by: None,
            activation_policy: crate::contracts::ActivationPolicy::Code,
        })
    }
}

/// A license signed and self-checked, not yet recorded nor written; see
/// [`Home::sign_license`] and [`Signer::sign`].
#[derive(Clone, Debug)]
pub struct SignedLicense {
    /// Its id.
    pub license_id: LicenseId,
    /// The raw license file.
    pub raw: Vec<u8>,
    /// The armored `Container.lic` text.
    pub armored: String,
    /// One line for people.
    pub summary: String,
    /// The issuing key that signed it.
    pub issuing_key_id: fanlic_formats::KeyId,
    /// The version of the activation master secret its activation key was
    /// derived from (`None`: it has none).
    pub activation_master_version: Option<u32>,
}

impl SignedLicense {
    /// [`report::license_json`] of it.
    pub fn license_json(&self) -> Result<Value, Error> {
        let bad = |e: fanlic_formats::DecodeError| Error::License(LicenseError::SelfCheck { reason: e.to_string() });
        let envelope = fanlic_formats::Envelope::decode(&self.raw).map_err(bad)?;
        let license = fanlic_formats::License::decode(envelope.license.message).map_err(bad)?;
        let cert = IssuingKeyCertificate::decode(envelope.certificate.message).map_err(bad)?;
        Ok(report::license_json(&license, Some(&cert)))
    }
}

/// A license just issued.
#[derive(Clone, Debug)]
pub struct Issued {
    /// Its id.
    pub license_id: LicenseId,
    /// The file written.
    pub path: PathBuf,
    /// The `Container.lic` text written.
    pub armored: String,
    /// The raw license file inside the armor.
    pub raw: Vec<u8>,
    /// [`report::license_json`] of it.
    pub license: Value,
    /// One line for people.
    pub summary: String,
    /// The issuing key that signed it.
    pub issuing_key_id: fanlic_formats::KeyId,
}

impl Issued {
    /// For people.
    pub fn human(&self, home: &Path) -> String {
        format!(
            "Issued license {id}\n  {summary}\n  written to {path}\n  signed by issuing key {key}; recorded in {db}\n",
            id = self.license_id,
            summary = self.summary,
            path = self.path.display(),
            key = self.issuing_key_id,
            db = crate::home::database_shown(home),
        )
    }
}

fn random_license_id(rng: &SystemRandom) -> Result<LicenseId, Error> {
    loop {
        let id: [u8; 16] = keys::random(rng)?;
        // All-zero is reserved by the format; 2^-128 odds, but never write it.
        if id != [0; 16] {
            return Ok(LicenseId(id));
        }
    }
}

impl Home {
    /// Signs a license with the signing key, checks it verifies against this
    /// home's root keys, writes it atomically and records it. The database
    /// row and the file are written together: if either fails, neither stays.
    pub fn issue(&mut self, req: &IssueRequest, now: Timestamp) -> Result<Issued, Error> {
        self.issue_writing(req, now, |signed| Ok(signed.armored.as_bytes().to_vec()))
    }

    /// Issues a license as [`Home::issue`] does, but writes at `req.output`
    /// the bytes `contents` makes of it (an image tar), recorded in the same
    /// transaction: a failure leaves neither file nor record.
    pub(crate) fn issue_writing(
        &mut self,
        req: &IssueRequest,
        now: Timestamp,
        contents: impl FnOnce(&SignedLicense) -> Result<Vec<u8>, Error>,
    ) -> Result<Issued, Error> {
        if !req.force && std::fs::symlink_metadata(&req.output).is_ok() {
            return Err(Error::OutputExists { path: req.output.clone() });
        }
        let signed = self.sign_license(req, now)?;
        let bytes = contents(&signed)?;
        if let Some(parent) = req.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(Error::io("cannot create the folder", parent))?;
        }
        let output = std::path::absolute(&req.output).unwrap_or_else(|_| req.output.clone());
        let by = req.by.as_deref().unwrap_or(ISSUE_ACTOR);
        let mut written = false;
        let recorded = self.store_mut().write(|tx| {
            supersede_live(tx, req, &signed.license_id.to_string(), (by, now))?;
            record_license(tx, &signed, &output)?;
            tx.audit(&Entry {
                license_id: Some(&signed.license_id.to_string()),
                why: &signed.summary,
                ..Entry::new(Action::Issue, by, now)
            })?;
            // 0600: a license is a bearer credential (whoever holds it runs the
            // product for that project), as in HOME/issued/ and the outbox; an
            // image also holds its image key.
            fsutil::write_atomic(&req.output, &bytes, fsutil::PRIVATE_MODE, req.force)?;
            written = true;
            Ok(())
        });
        if let Err(e) = recorded {
            if written {
                // An unrecorded license must not stay behind.
                let _ = std::fs::remove_file(&req.output);
            }
            return Err(e);
        }
        Ok(Issued {
            license_id: signed.license_id,
            path: req.output.clone(),
            license: signed.license_json()?,
            armored: signed.armored,
            raw: signed.raw,
            summary: signed.summary,
            issuing_key_id: signed.issuing_key_id,
        })
    }

    /// Signs a license for `req` with the signing key and checks it verifies
    /// against this home's root keys; records and writes nothing
    /// (`req.output` and `req.force` are not used).
    pub fn sign_license(&self, req: &IssueRequest, now: Timestamp) -> Result<SignedLicense, Error> {
        self.signer(now)?.sign(req, now)
    }

    /// Loads the signing key once for many licenses (a `fanlic ingest`
    /// batch): the key file is read and parsed, and the certificate checked
    /// for `now`, here and not for every license.
    pub fn signer(&self, now: Timestamp) -> Result<Signer, Error> {
        let row = self.signing_key()?;
        if self.issuing_key_revoked(row.key_id)? {
            return Err(Error::License(LicenseError::SigningKeyRevoked { key_id: row.key_id }));
        }
        let key = keys::SigningKey::load(&self.dir().join(&row.private_key_path))?;
        if key.public_key() != row.public_key {
            return Err(store::corrupt(
                self.db_path(),
                format!("the private key file of issuing key {} holds another key", row.key_id),
            ));
        }
        let cert = IssuingKeyCertificate::decode(&row.certificate_message).map_err(|e| {
            store::corrupt(self.db_path(), format!("certificate of issuing key {} does not decode: {e}", row.key_id))
        })?;
        if !cert.may_sign_at(now) {
            return Err(Error::Home(HomeError::IssuingKeyOutsideWindow {
                key_id: row.key_id,
                not_before: cert.not_before,
                not_after: cert.not_after,
                now,
            }));
        }
        Ok(Signer {
            key_id: row.key_id,
            purposes: cert.purposes,
            certificate_message: row.certificate_message,
            certificate_signature: row.certificate_signature,
            key,
            roots: self.root_keys()?,
            rng: SystemRandom::new(),
            chain_checked: false,
            not_before: cert.not_before,
            not_after: cert.not_after,
            activation: match self.activation_master()? {
                Some(m) => Some((m, self.activation_base_url()?)),
                None => None,
            },
            master_path: self.activation_master_path()?,
        })
    }
}

/// The signing key of a home, loaded and checked once; see [`Home::signer`].
pub struct Signer {
    key_id: fanlic_formats::KeyId,
    purposes: fanlic_formats::Purposes,
    certificate_message: Vec<u8>,
    certificate_signature: [u8; 64],
    key: keys::SigningKey,
    roots: Vec<fanlic_verifier::RootKey>,
    rng: SystemRandom,
    /// Whether a license of this signer passed the whole verifier.
    chain_checked: bool,
    /// The certificate's window.
    not_before: Timestamp,
    not_after: Timestamp,
    /// The activation master secret and base URL: every license gets an
    /// activation key derived for its id (SPEC.md §6.1).
    activation: Option<(crate::home::activation::MasterSecret, String)>,
    /// Where the master secret was looked for (for errors).
    master_path: std::path::PathBuf,
}

impl core::fmt::Debug for Signer {
    // Never the private key.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Signer").field("key_id", &self.key_id).finish_non_exhaustive()
    }
}

impl Signer {
    /// Signs a license for `req` at `now` and checks it with the verifier
    /// products use.
    pub fn sign(&mut self, req: &IssueRequest, now: Timestamp) -> Result<SignedLicense, Error> {
        if !(self.not_before <= now && now <= self.not_after) {
            return Err(Error::Home(HomeError::IssuingKeyOutsideWindow {
                key_id: self.key_id,
                not_before: self.not_before,
                not_after: self.not_after,
                now,
            }));
        }
        let not_before = req.not_before.unwrap_or(now);
        if let Expiry::On(d) = req.expiry
            && d.end() <= not_before.max(now)
        {
            return Err(Error::input(
                "--expires",
                &d.to_string(),
                format!(
                    "the license would be expired from the start ({}); give a later date or `never`",
                    not_before.max(now)
                ),
            ));
        }
        if !self.purposes.allows(req.kind) {
            return Err(Error::Home(HomeError::KindNotCertified { key_id: self.key_id, kind: req.kind }));
        }

        let license_id = random_license_id(&self.rng)?;
        // A server license names its image key (SPEC.md §7.1), derived from
        // the master secret like the activation key.
        let image_public_key = match (req.kind, &self.activation) {
            (LicenseKind::PrivateCloud, Some((m, _))) => Some(m.derive_image_key(&license_id).public_key()?),
            (LicenseKind::PrivateCloud, None) => {
                return Err(Error::License(LicenseError::PrivateCloudNeedsMaster { path: self.master_path.clone() }));
            }
            (LicenseKind::LocalContainer, _) => None,
        };
        // Under the receipt policy the license carries the challenge key
        // (SPEC.md §3.3): it authenticates challenges, makes no code.
        let receipt_policy = req.activation_policy == fanlic_formats::ActivationPolicy::Receipt;
        if receipt_policy && self.activation.is_none() {
            return Err(Error::License(LicenseError::ReceiptPolicyNeedsMaster { path: self.master_path.clone() }));
        }
        let activation_key = self.activation.as_ref().map(|(m, _)| {
            let key = m.derive(&license_id);
            if receipt_policy { crate::home::activation::challenge_key(&key).to_bytes() } else { key.to_bytes() }
        });
        let d = |d: Date| wire::Date { year: d.year(), month: d.month(), day: d.day() };
        let payload = wire::LicensePayload {
            license_id: license_id.0,
            kind: match req.kind {
                LicenseKind::LocalContainer => wire::Kind::LocalContainer,
                LicenseKind::PrivateCloud => wire::Kind::PrivateCloud,
            },
            app_name: req.app_name,
            company: &req.company,
            project: &req.project,
            contract_signed: d(req.contract_signed),
            issued_at: now.0,
            not_before: not_before.0,
            expiry: match req.expiry {
                Expiry::Never => wire::Expiry::Never,
                Expiry::On(x) => wire::Expiry::On(d(x)),
            },
            version: wire::Version { major: req.version.major, minor: req.version.minor },
            max_nodes: req.max_nodes,
            activation_key,
            activation_base_url: self.activation.as_ref().map(|(_, url)| url.as_str()),
            image_public_key,
            supersedes: req.supersedes.map(|id| id.0),
            request_email_sha256: req.request_email_sha256,
        };
        let message = fanlic_formats::encode_license_payload_with_policy(&payload, req.activation_policy)
            .map_err(|reason| Error::License(LicenseError::Encode { what: "license", reason }))?;
        let signature = self.key.sign(&message);
        let raw = encode_license_file(&self.certificate_message, &self.certificate_signature, &message, &signature)
            .map_err(|reason| Error::License(LicenseError::Encode { what: "license file", reason }))?;
        if raw.len() > MAX_LICENSE_FILE_LEN {
            return Err(Error::License(LicenseError::Encode {
                what: "license file",
                reason: fanlic_formats::DecodeError::TooLong { len: raw.len(), max: MAX_LICENSE_FILE_LEN },
            }));
        }

        // Check what was signed. The first license of this signer goes
        // through the verifier products use, whole: it catches a key file
        // that does not match its certificate, a certificate that does not
        // chain to a root key of this home, and an encoding the verifier
        // refuses. The chain and the key are the same for every later
        // license, so those are signed a second time instead: Ed25519 is
        // deterministic, and a fault in either signing (the way faults leak
        // Ed25519 keys) makes the two differ, at a third of a verification's
        // cost. Their encoding is decoded as the verifier decodes it.
        let self_check = |reason: String| Error::License(LicenseError::SelfCheck { reason });
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let license = if self.chain_checked {
            if self.key.sign(&message) != signature {
                return Err(self_check("signing the license twice gave two signatures".to_owned()));
            }
            let envelope = fanlic_formats::Envelope::decode(&raw).map_err(|e| self_check(e.to_string()))?;
            IssuingKeyCertificate::decode(envelope.certificate.message).map_err(|e| self_check(e.to_string()))?;
            fanlic_formats::License::decode(envelope.license.message).map_err(|e| self_check(e.to_string()))?
        } else {
            let signed = authenticate(&raw, &mut buf, &self.roots).map_err(|e| self_check(e.to_string()))?;
            self.chain_checked = true;
            signed.license
        };
        let summary = report::license_summary(&license);

        let comments = [
            format!("# fanlic license {license_id} for {} / {}", req.company, req.project),
            format!("# {}", report::license_terms(&license)),
            "# These # lines are NOT signed, for people only: `fanlic verify` checks the signed license below."
                .to_owned(),
        ];
        let comment_refs: Vec<&str> = comments.iter().map(String::as_str).collect();
        let armored = armor::encode(&raw, &comment_refs)
            .map_err(|reason| Error::License(LicenseError::Encode { what: "armor", reason }))?;

        Ok(SignedLicense {
            license_id,
            raw,
            armored,
            summary,
            issuing_key_id: self.key_id,
            activation_master_version: self.activation.as_ref().map(|(m, _)| m.version()),
        })
    }
}

/// Who the audit trail names for `fanlic issue` without `--by`.
pub const ISSUE_ACTOR: &str = "fanlic issue";

/// Keeps one live license per project for a license issued by hand: the
/// project's live license may only be replaced by naming it
/// (`req.supersedes`), and is then revoked and marked superseded by `new`,
/// in the caller's transaction.
pub(crate) fn supersede_live(
    tx: &Tx<'_>,
    req: &IssueRequest,
    new: &str,
    (by, now): (&str, Timestamp),
) -> Result<(), Error> {
    let terms =
        crate::license::live::Terms { kind: req.kind, version: req.version, nodes: req.max_nodes, expiry: req.expiry };
    let standing =
        crate::license::live::standing(tx, (&req.company, req.app_name, &req.project), &terms, (None, true))?;
    let live = match standing {
        crate::license::live::Standing::Same(l) | crate::license::live::Standing::Differs(l, _) => Some(l),
        _ => None,
    };
    match (live, req.supersedes) {
        (None, None) => Ok(()),
        (Some(l), None) => Err(Error::License(LicenseError::LiveLicenseExists {
            project: req.project.clone(),
            license_id: Some(l.license_id),
        })),
        (Some(l), Some(old)) if l.license_id == old.to_string() => {
            let reason = format!("superseded by {new}");
            crate::revoke::revoke_in(tx, &l.license_id, &reason, by, now)?;
            tx.set_license_state(&l.license_id, LicenseState::Superseded)?;
            tx.audit(&Entry { license_id: Some(&l.license_id), why: &reason, ..Entry::new(Action::Supersede, by, now) })
        }
        (Some(l), Some(old)) => Err(Error::License(LicenseError::SupersedeMismatch {
            given: old.to_string(),
            why: format!("the live license of project {:?} is {}", req.project, l.license_id),
        })),
        (None, Some(old)) => Err(Error::License(LicenseError::SupersedeMismatch {
            given: old.to_string(),
            why: format!("project {:?} of {} has no live license to replace", req.project, req.company),
        })),
    }
}

/// Records a license signed (and checked) by [`Signer::sign`] in the
/// caller's unit of work, as written to `output`. The
/// signatures were verified when it was signed: here it is only decoded.
pub(crate) fn record_license(tx: &Tx<'_>, signed: &SignedLicense, output: &Path) -> Result<(), Error> {
    let bad = |e: fanlic_formats::DecodeError| Error::License(LicenseError::SelfCheck { reason: e.to_string() });
    let envelope = fanlic_formats::Envelope::decode(&signed.raw).map_err(bad)?;
    let license = fanlic_formats::License::decode(envelope.license.message).map_err(bad)?;
    tx.insert_license(&NewLicense {
        license: &license,
        issuing_key_id: signed.issuing_key_id,
        file_bytes: &signed.raw,
        armored: &signed.armored,
        output_path: output,
        activation_master_version: signed.activation_master_version,
    })
}
