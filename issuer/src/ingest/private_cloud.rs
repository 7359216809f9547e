//! Private-cloud requests by mail: the authorization server image
//! sent with a private-cloud license, the **migration** of a server to a
//! new one, and the **destruction** of an old one, for `fanlic ingest`.
//!
//! # Recognition
//!
//! [`decide::intent_of`] reads the subject and text: migrating words
//! (`migrate`, `migration`, `move the server`, `迁移`, ...) or a registration
//! with a `privateConfig` attachment ask for a migration; destroying or
//! cancelling words (`destroy`, `销毁`, `cancel the registration`, `注销`)
//! without migrating ones ask to destroy the old component. The attached
//! `privateConfig` (file name `privateConfig`) is taken from the raw mail
//! ([`private_config_of`]) and checked here ([`check_private_config`]): its
//! instance certificate names the license; the license must be recorded, be
//! a private-cloud one, and the file must verify with the license's image
//! key (`fanlic_verifier::private_cloud::verify_private_config`). The mail
//! alone never decides: the sender is authenticated and checked against the
//! contract as for a registration, and the license must belong to that
//! contract's company ([`decide::validate_request`]).
//!
//! # Crash safety
//!
//! A migration's decision, the revocation of the old license (reason
//! `migrated to <new id>`, audited as `fanlic revoke` does) and the new
//! license (with `supersedes` = the old id) commit in **one** transaction
//! with the decision of the mail, so either all of them happened or none.
//! The image and the reply that carries it come after
//! ([`deliver_image`]): the image is built again from the recorded license
//! (the same bytes every time), and the reply is queued in a second
//! transaction that also sets the decision's `outbox_id`, once. Until both
//! are done the mail is not acknowledged; run again, it is a duplicate of
//! its decision (same `Message-ID`), and [`deliver_image`] finishes what is
//! missing. Another mail with the same `privateConfig` finds the license
//! revoked and superseded: `license_already_revoked`.

use crate::error::ImageBuildError;
use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

use fanlic_formats::{
    Envelope, License, LicenseId, LicenseKind, Timestamp,
    private_cloud::{InstanceCertificate, PrivateConfigEnvelope},
};
use mail_parser::MimeHeaders as _;

use super::decide::{self, ConfigCheck, NamedLicense};
use super::files::ISSUED_DIR;
use super::replies;
use crate::Error;
use crate::Home;
use crate::image;
use crate::image::oci::BaseLayer;
use crate::mail::message::{self, Language as MailLanguage};
use crate::outbox::{self, Language, Reply, ReplyAttachment};
use crate::revoke;
use crate::store;
use crate::util::input;

/// The file name of the authorization server's state, as the customer
/// attaches to a migration request (SPEC.md §7.4).
pub const PRIVATE_CONFIG_FILE: &str = "privateConfig";

pub use super::decide::{DESTROY_WORDS, DESTROYED_REASON, MIGRATION_WORDS};

/// The name of the image file attached to the reply.
pub const IMAGE_FILE: &str = image::DEFAULT_IMAGE_NAME;

/// The authorization server's bottom layer, read at most once per run (the
/// server binary is megabytes): `Err` says why no image can be built.
#[derive(Debug, Default)]
pub struct Images {
    base: OnceLock<Result<(BaseLayer, PathBuf), String>>,
}

impl Images {
    /// The base layer ([`Home::base_layer`]), loaded at the first call.
    pub fn get(&self, home: &Home) -> Result<&(BaseLayer, PathBuf), &str> {
        self.base.get_or_init(|| home.base_layer().map_err(|e| e.to_string())).as_ref().map_err(String::as_str)
    }
}

/// `HOME/issued/<license_id>-fanruan_license_server.tar`.
pub fn image_path(home: &Path, license_id: &str) -> PathBuf {
    home.join(ISSUED_DIR).join(format!("{license_id}-{IMAGE_FILE}"))
}

/// The contents of the first attachment of the raw mail named
/// `privateConfig` ([`decide::is_private_config_name`]), if any.
pub fn private_config_of(raw: &[u8]) -> Option<Vec<u8>> {
    // mail-parser is fuzzed; as in `mail::message`, one hostile message
    // must not take the run down.
    std::panic::catch_unwind(|| {
        let msg = mail_parser::MessageParser::default().parse(raw)?;
        msg.attachments()
            .find(|p| p.attachment_name().is_some_and(decide::is_private_config_name))
            .map(|p| p.contents().to_vec())
    })
    .ok()
    .flatten()
}

/// Checks a `privateConfig` file against this home: see the module
/// documentation. `None`: none was attached.
pub fn check_private_config(home: &mut Home, file: Option<&[u8]>) -> Result<ConfigCheck, Error> {
    let Some(file) = file else {
        return Ok(ConfigCheck::Missing);
    };
    let invalid = |why: String| Ok(ConfigCheck::Invalid { why });
    // Decoded without trust, only to learn which license to check it with.
    let envelope = match PrivateConfigEnvelope::decode(file) {
        Ok(e) => e,
        Err(e) => return invalid(format!("it is not a privateConfig file: {e}")),
    };
    let certificate = match InstanceCertificate::decode(envelope.instance_certificate.message) {
        Ok(c) => c,
        Err(e) => return invalid(format!("its instance certificate does not decode: {e}")),
    };
    let license_id = certificate.license_id;
    let Some(stored) = home.stored_license(&license_id.to_string())? else {
        return Ok(ConfigCheck::UnknownLicense { license_id });
    };
    let corrupt =
        |e: fanlic_formats::DecodeError| store::corrupt(home.db_path(), format!("a license does not decode: {e}"));
    let envelope = Envelope::decode(&stored.file_bytes).map_err(corrupt)?;
    let license = License::decode(envelope.license.message).map_err(corrupt)?;
    let image_public_key = match (license.kind, license.image_public_key) {
        (LicenseKind::PrivateCloud, Some(k)) => k,
        _ => return Ok(ConfigCheck::NotPrivateCloud { license_id }),
    };
    if let Err(e) = fanlic_verifier::private_cloud::verify_private_config(file, &image_public_key, &license_id) {
        return invalid(format!("{e} ({})", e.reason()));
    }
    let id = license_id.to_string();
    let (revoked, superseded_by) = home.store().read(|tx| {
        let revoked = revoke::revocation_of(tx, &id)?.map(|(at, _, reason)| (at, reason));
        Ok((revoked, tx.superseded_by(&id)?))
    })?;
    Ok(ConfigCheck::Verified(NamedLicense {
        license_id,
        company: license.company.to_owned(),
        project: license.project.to_owned(),
        app: input::app(license.app_name)?,
        version: license.version,
        nodes: license.max_nodes,
        expiry: license.expiry,
        signed: license.contract_signed,
        revoked,
        superseded_by,
    }))
}

/// The reason recorded for the license a migration replaces.
pub fn migrated_reason(new: &LicenseId) -> String {
    format!("migrated to {new}")
}

/// Finishes the delivery of the private-cloud license of the issued
/// decision `decision_id`, idempotently: writes its image at [`image_path`]
/// (again, if missing: the same bytes) and, if the reply is still owed (an
/// authenticated sender, no reply queued yet), queues the reply with the
/// image attached and records it on the decision, in one transaction.
/// `Ok(None)`: the decision has no private-cloud license; nothing to do.
pub fn deliver_image(
    home: &mut Home,
    decision_id: i64,
    images: &Images,
    now: Timestamp,
) -> Result<Option<PathBuf>, Error> {
    let row = home.store().read(|tx| tx.delivery(decision_id))?;
    let Some(row) = row else { return Ok(None) };
    let Some(lid) = row.license_id.clone() else { return Ok(None) };
    let Some(stored) = home.stored_license(&lid)? else { return Ok(None) };
    let corrupt =
        |e: fanlic_formats::DecodeError| store::corrupt(home.db_path(), format!("a license does not decode: {e}"));
    let envelope = Envelope::decode(&stored.file_bytes).map_err(corrupt)?;
    let license = License::decode(envelope.license.message).map_err(corrupt)?;
    if license.kind != LicenseKind::PrivateCloud {
        return Ok(None);
    }
    let supersedes = license.supersedes.map(|id| id.to_string());
    let home_dir = home.dir().to_owned();
    let path = image_path(&home_dir, &lid);
    let owed = row.outbox_id.is_none() && row.authenticated && !row.from.is_empty();
    // write_atomic: the file is whole or absent, never half written.
    if !owed && path.is_file() {
        return Ok(Some(path));
    }
    let not_delivered =
        |reason: String| Error::Image(ImageBuildError::ImageNotDelivered { license_id: lid.clone(), reason });
    let base = images.get(home).map_err(|why| not_delivered(why.to_owned()))?;
    let issued = home_dir.join(ISSUED_DIR);
    if !issued.is_dir() {
        crate::util::fsutil::create_dir(&issued, 0o700)?;
    }
    home.build_image(&lid, &path, true, base)?;
    if !owed {
        return Ok(Some(path));
    }
    let bytes = std::fs::read(&path).map_err(Error::io("cannot read", &path))?;
    let mail = message::parse(&row.raw).map_err(|e| not_delivered(format!("the request no longer parses: {e}")))?;
    let language = match mail.language_hint {
        MailLanguage::Zh => Language::Zh,
        MailLanguage::En => Language::En,
    };
    let bracket = |id: &str| format!("<{id}>");
    let in_reply_to = mail.message_id.as_deref().map(bracket);
    let mut references: Vec<String> = mail.references.iter().map(|r| bracket(r)).collect();
    references.extend(in_reply_to.clone());
    let reply = Reply {
        to: row.from.clone(),
        from: home.reply_from()?,
        subject: outbox::re_subject(&mail.subject),
        in_reply_to,
        references,
        language,
        body: replies::image_body(&replies::Licensed::of(&license), supersedes.as_deref(), IMAGE_FILE, language),
        attachments: vec![ReplyAttachment {
            file_name: IMAGE_FILE.to_owned(),
            content_type: "application/x-tar".to_owned(),
            bytes,
        }],
    };
    let checked = outbox::CheckedReply::new(reply, now)?;
    home.store_mut().write(|tx| {
        // Checked again inside the transaction: two runs queue one reply.
        if tx.reply_owed(decision_id)? {
            let outbox_id = outbox::enqueue_checked(tx, checked, now)?;
            tx.set_decision_outbox(decision_id, outbox_id)?;
        }
        Ok(())
    })?;
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code
    use super::*;

    #[test]
    fn private_config_attachment_is_found_by_name() {
        let raw = b"From: a@b.example\r\nSubject: migrate\r\nMIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
            --x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"privateConfig\"\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--x--\r\n";
        assert_eq!(private_config_of(raw), Some(vec![0, 1, 2, 3]));
        let other = String::from_utf8_lossy(raw).replace("privateConfig", "notes.txt");
        assert_eq!(private_config_of(other.as_bytes()), None);
    }
}
