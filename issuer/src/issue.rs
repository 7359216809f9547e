//! Manual issuance: `fanlic issue`.

use std::path::{Path, PathBuf};

use fanlic_formats::{
    Date, Expiry, IssuingKeyCertificate, LicenseId, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, Version, armor,
    encode_license_file, encode_license_payload, wire,
};
use fanlic_verifier::authenticate;
use ring::rand::SystemRandom;
use serde_json::Value;

use crate::{Error, db, fsutil, home::Home, input, keys, report};

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
            not_before: text.not_before.map(|s| crate::clock::parse_time_or_date("--not-before", s)).transpose()?,
            output,
            force,
            request_email_sha256: None,
        })
    }
}

/// A license signed and self-checked, not yet recorded nor written; see
/// [`Home::sign_license`] and [`Home::record_license`].
#[derive(Clone, Debug)]
pub struct SignedLicense {
    /// Its id.
    pub license_id: LicenseId,
    /// The raw license file.
    pub raw: Vec<u8>,
    /// The armored `Container.lic` text.
    pub armored: String,
    /// [`report::license_json`] of it.
    pub license: Value,
    /// One line for people.
    pub summary: String,
    /// The issuing key that signed it.
    pub issuing_key_id: fanlic_formats::KeyId,
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
            db = home.join(db::FILE_NAME).display(),
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
        if !req.force && std::fs::symlink_metadata(&req.output).is_ok() {
            return Err(Error::OutputExists { path: req.output.clone() });
        }
        let signed = self.sign_license(req, now)?;
        if let Some(parent) = req.output.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(Error::io("cannot create the folder", parent))?;
        }
        let output = std::path::absolute(&req.output).unwrap_or_else(|_| req.output.clone());
        let roots = self.root_keys()?;
        let (conn, db_path) = self.conn_mut();
        let tx = conn.transaction().map_err(db::err(db_path, "cannot start a transaction"))?;
        record_license(&tx, db_path, &roots, &signed, &output)?;
        fsutil::write_atomic(&req.output, signed.armored.as_bytes(), fsutil::PUBLIC_MODE, req.force)?;
        if let Err(e) = tx.commit() {
            // An unrecorded license must not stay behind.
            let _ = std::fs::remove_file(&req.output);
            return Err(db::err(db_path, "cannot commit")(e));
        }
        Ok(Issued {
            license_id: signed.license_id,
            path: req.output.clone(),
            armored: signed.armored,
            raw: signed.raw,
            license: signed.license,
            summary: signed.summary,
            issuing_key_id: signed.issuing_key_id,
        })
    }

    /// Signs a license for `req` with the signing key and checks it verifies
    /// against this home's root keys; records and writes nothing
    /// (`req.output` and `req.force` are not used).
    pub fn sign_license(&self, req: &IssueRequest, now: Timestamp) -> Result<SignedLicense, Error> {
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
        let row = self.signing_key()?;
        let key = keys::SigningKey::load(&self.dir().join(&row.private_key_path))?;
        if key.public_key() != row.public_key {
            return Err(db::corrupt(
                self.db_path(),
                format!("the private key file of issuing key {} holds another key", row.key_id),
            ));
        }
        let cert = IssuingKeyCertificate::decode(&row.certificate_message).map_err(|e| {
            db::corrupt(self.db_path(), format!("certificate of issuing key {} does not decode: {e}", row.key_id))
        })?;
        if !cert.may_sign_at(now) {
            return Err(Error::IssuingKeyOutsideWindow {
                key_id: row.key_id,
                not_before: cert.not_before,
                not_after: cert.not_after,
                now,
            });
        }
        if !cert.purposes.allows(req.kind) {
            return Err(Error::KindNotCertified { key_id: row.key_id, kind: req.kind });
        }

        let rng = SystemRandom::new();
        let license_id = random_license_id(&rng)?;
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
            activation_key: None,
            activation_base_url: None,
            image_public_key: None,
            supersedes: None,
            request_email_sha256: req.request_email_sha256,
        };
        let message = encode_license_payload(&payload).map_err(|reason| Error::Encode { what: "license", reason })?;
        let signature = key.sign(&message);
        let raw = encode_license_file(&row.certificate_message, &row.certificate_signature, &message, &signature)
            .map_err(|reason| Error::Encode { what: "license file", reason })?;
        if raw.len() > MAX_LICENSE_FILE_LEN {
            return Err(Error::Encode {
                what: "license file",
                reason: fanlic_formats::DecodeError::TooLong { len: raw.len(), max: MAX_LICENSE_FILE_LEN },
            });
        }

        // Verify what was signed, with the verifier products use.
        let roots = self.root_keys()?;
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let signed = authenticate(&raw, &mut buf, &roots).map_err(|e| Error::SelfCheck { reason: e.to_string() })?;
        let summary = report::license_summary(&signed.license);
        let license_json = report::license_json(&signed.license, Some(&signed.certificate));

        let comments = [
            format!("# fanlic license {license_id} for {} / {}", req.company, req.project),
            format!("# {}", report::license_terms(&signed.license)),
            "# These # lines are NOT signed, for people only: `fanlic verify` checks the signed license below."
                .to_owned(),
        ];
        let comment_refs: Vec<&str> = comments.iter().map(String::as_str).collect();
        let armored = armor::encode(&raw, &comment_refs).map_err(|reason| Error::Encode { what: "armor", reason })?;

        Ok(SignedLicense { license_id, raw, armored, license: license_json, summary, issuing_key_id: row.key_id })
    }
}

/// Records a license signed by [`Home::sign_license`] in the caller's
/// transaction (or connection), as written to `output`.
pub(crate) fn record_license(
    conn: &rusqlite::Connection,
    db_path: &Path,
    roots: &[fanlic_verifier::RootKey],
    signed: &SignedLicense,
    output: &Path,
) -> Result<(), Error> {
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let checked = authenticate(&signed.raw, &mut buf, roots).map_err(|e| Error::SelfCheck { reason: e.to_string() })?;
    db::insert_license(conn, db_path, &checked.license, signed.issuing_key_id, &signed.raw, &signed.armored, output)
}
