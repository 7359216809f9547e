//! A recorded license delivered again, by staff: its image built in memory
//! ([`image_tar`]) and its mail queued again to its contract's address
//! ([`resend`]), audited under the account that asked.
//!
//! The mail goes only to the first address of the enabled contract of the
//! license's company (the address lease reminders use): never to whoever
//! asked last, whose From may be forged. Only a license in force (live, or
//! a duplicate, which keeps working) is sent again.

use fanlic_formats::{Envelope, License, LicenseKind, Timestamp};
use serde_json::{Value, json};

use crate::Error;
use crate::Home;
use crate::contracts;
use crate::license::report;
use crate::outbox::{self, Language, Reply, ReplyAttachment};
use crate::store::audit::{Action, Entry};
use crate::store::{self, LicenseState};

/// The name a license mail gives its attachment.
pub const LICENSE_FILE_NAME: &str = "Container.lic";
/// The name of a private cloud's image (`image::IMAGE_FILE_NAME`; the
/// image module builds on this one, so it is not imported from there).
pub const IMAGE_FILE_NAME: &str = "fanruan_license_server.tar";

/// A license mail queued again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resent {
    /// The license.
    pub license_id: String,
    /// Where the mail goes.
    pub to: String,
    /// Its outbox entry.
    pub outbox_id: i64,
    /// The file attached.
    pub attachment: String,
}

impl Resent {
    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "license_id": self.license_id,
            "to": self.to,
            "outbox_id": self.outbox_id,
            "attachment": self.attachment,
        })
    }
}

/// The decoded license of a stored license file.
fn decoded<'a>(home: &Home, id: &str, file: &'a [u8]) -> Result<License<'a>, Error> {
    let corrupt =
        |e: fanlic_formats::DecodeError| store::corrupt(home.db_path(), format!("license {id} does not decode: {e}"));
    let envelope = Envelope::decode(file).map_err(corrupt)?;
    License::decode(envelope.license.message).map_err(corrupt)
}

/// `fanruan_license_server.tar` of the recorded private-cloud license
/// `license_id`, as `fanlic image` builds it (the same bytes every time),
/// in memory. The tar passes through a temporary folder (mode 0700) in the
/// home, removed before this returns: the tar holds the image key.
pub fn image_tar(home: &Home, license_id: &str) -> Result<Vec<u8>, Error> {
    let base = home.base_layer()?;
    let tmp = tempfile::Builder::new()
        .prefix(".image-")
        .tempdir_in(home.dir())
        .map_err(Error::io("cannot make a temporary folder in", home.dir()))?;
    let path = tmp.path().join(IMAGE_FILE_NAME);
    home.build_image(license_id, &path, true, &base)?;
    std::fs::read(&path).map_err(Error::io("cannot read", &path))
}

/// Whether `s` is mostly Chinese: the language of the mail to its company.
fn language_of(s: &str) -> Language {
    let cjk = s.chars().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c)).count();
    if cjk * 2 >= s.chars().filter(|c| !c.is_whitespace()).count().max(1) { Language::Zh } else { Language::En }
}

/// The text of the mail.
fn body(l: &License<'_>, file: &str, lang: Language) -> String {
    let terms = report::license_terms(l);
    match lang {
        Language::Zh => format!(
            "您好：\n\n应您的要求，再次发送 {company}（项目“{project}”）的授权，附件为 {file}。\n\
             授权内容：{terms}\n授权编号：{id}\n\n本邮件由系统发送；如有问题，请直接回复本邮件。\n",
            company = l.company,
            project = l.project,
            id = l.id,
        ),
        _ => format!(
            "Hello,\n\nAs asked, the license of {company} for project \"{project}\" is sent again, attached as \
             {file}.\nIt grants: {terms}\nLicense id: {id}\n\nThis message was sent by the license desk; reply to \
             it if something is wrong.\n",
            company = l.company,
            project = l.project,
            id = l.id,
        ),
    }
}

/// Queues the mail of license `license_id` again to the first address of
/// its company's enabled contract: `Container.lic` attached, or for a
/// private cloud its image (built again, the same bytes). Audited as
/// `resent` by `by`, in the same transaction as the queued mail. Refuses
/// an unknown license, one no longer in force (revoked or superseded), and
/// a company without an enabled contract with an address.
pub fn resend(home: &mut Home, license_id: &str, by: &str, now: Timestamp) -> Result<Resent, Error> {
    let id = license_id
        .trim()
        .parse::<fanlic_formats::LicenseId>()
        .map(|id| id.to_string())
        .map_err(|e| Error::input("license", license_id, format!("a license id is 32 hex digits ({e})")))?;
    let rec = home.store().read(|tx| tx.license_record(&id))?;
    let rec = rec.ok_or_else(|| Error::Revoke(crate::error::Refusal::LicenseNotFound { license_id: id.clone() }))?;
    if !matches!(rec.row.state, Some(LicenseState::Live | LicenseState::Duplicate)) {
        let state = rec.row.state.map_or("unknown", LicenseState::as_str);
        return Err(Error::input(
            "license",
            &id,
            format!("license {id} is {state}: only a license in force is sent again"),
        ));
    }
    let contract = contracts::find_by_company(home, &rec.row.company)?;
    let to = match &contract {
        Some(c) if c.enabled => c.terms.emails.first().cloned(),
        _ => None,
    };
    let Some(to) = to else {
        let why = match contract {
            Some(c) if !c.enabled => format!(
                "contract {} of {:?} is disabled; license mail goes only to an enabled contract's address",
                c.id, c.terms.company
            ),
            Some(c) => format!("contract {} of {:?} has no address; add one first", c.id, c.terms.company),
            None => format!(
                "no contract for company {:?}: license mail goes only to a contract's address; add the contract \
                 (with its address) first",
                rec.row.company
            ),
        };
        return Err(Error::input("license", &id, why));
    };
    let license = decoded(home, &id, &rec.file_bytes)?;
    let lang = language_of(license.company);
    let (file_name, content_type, bytes) = if license.kind == LicenseKind::PrivateCloud {
        (IMAGE_FILE_NAME, "application/x-tar", image_tar(home, &id)?)
    } else {
        let armored = home.store().read(|tx| tx.stored_license(&id))?.map(|s| s.armored).unwrap_or_default();
        (LICENSE_FILE_NAME, "application/octet-stream", armored.into_bytes())
    };
    let subject = match lang {
        Language::Zh => format!("授权文件：{} / {}", license.company, license.project),
        _ => format!("Your license: {} / {}", license.company, license.project),
    };
    let reply = Reply {
        to: to.clone(),
        from: home.reply_from()?,
        subject,
        in_reply_to: None,
        references: Vec::new(),
        language: lang,
        body: body(&license, file_name, lang),
        attachments: vec![ReplyAttachment {
            file_name: file_name.to_owned(),
            content_type: content_type.to_owned(),
            bytes,
        }],
    };
    let checked = outbox::CheckedReply::new(reply, now)?;
    let outbox_id = home.store_mut().write(|tx| {
        let outbox_id = outbox::enqueue_checked(tx, checked, now)?;
        let why = format!("sent again to {to} (outbox {outbox_id})");
        tx.audit(&Entry { license_id: Some(&id), why: &why, ..Entry::new(Action::Resent, by, now) })?;
        Ok(outbox_id)
    })?;
    Ok(Resent { license_id: id, to, outbox_id, attachment: file_name.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_image_is_named_as_the_image_module_names_it() {
        assert_eq!(IMAGE_FILE_NAME, crate::image::DEFAULT_IMAGE_NAME);
    }

    #[test]
    fn chinese_company_names_get_chinese_mail() {
        assert_eq!(language_of("北京帆软软件有限公司"), Language::Zh);
        assert_eq!(language_of("Customer Trading Co., Ltd."), Language::En);
        assert_eq!(language_of("帆软 Software Co., Ltd."), Language::En);
    }
}
