//! The mail to staff about a new held request (`fanlic config
//! --staff-notify ADDR`): one per request held, queued in the transaction
//! that holds it, with the reasons in English and Chinese and the link to
//! its page in the console (`fanlic config --console-url URL`). A resend
//! joined to a held request is no new request: no mail.
//!
//! The mail carries nothing secret (no license, no token): the reasons,
//! the sender, and the company and project the customer named, quoted on
//! one line each as plain text.

use fanlic_formats::Timestamp;
use ring::rand::{SecureRandom as _, SystemRandom};

use super::decide::{ParsedRequest, Reason};
use super::replies::quote;
use crate::mail::message::RegistrationMail;
use crate::outbox::{Language, Reply};
use crate::store::Tx;
use crate::util::text::normalize_email;
use crate::{Error, Home};

/// The console's base URL in links until `fanlic config --console-url` sets
/// one: `fanlic console`'s default listener.
pub const DEFAULT_CONSOLE_URL: &str = "http://127.0.0.1:8390";

/// The longest console URL accepted.
const MAX_URL_BYTES: usize = 400;

/// The staff address told of new held requests, if one is set.
pub fn staff_notify(home: &Home) -> Result<Option<String>, Error> {
    home.store().read(|tx| tx.staff_notify())
}

/// Sets the staff address (checked as an address), or with `None` stops
/// the mails; returns the address as stored.
pub fn set_staff_notify(
    home: &mut Home,
    addr: Option<&str>,
    now: Timestamp,
    by: &str,
) -> Result<Option<String>, Error> {
    let addr = addr.map(|a| normalize_email("--staff-notify", a)).transpose()?;
    home.store_mut().write(|tx| tx.set_staff_notify(addr.as_deref(), now, by))?;
    Ok(addr)
}

/// The console's public base URL, without a trailing `/`.
pub fn console_url(home: &Home) -> Result<String, Error> {
    Ok(home.store().read(|tx| tx.console_url())?.unwrap_or_else(|| DEFAULT_CONSOLE_URL.to_owned()))
}

/// Checks a console base URL: `http://` or `https://`, printable ASCII
/// without blanks, at most 400 bytes; returned without its trailing `/`.
pub fn check_console_url(url: &str) -> Result<String, Error> {
    let u = url.trim();
    let bad = |fix: &str| Err(Error::input("--console-url", url, fix.to_owned()));
    let rest = u.strip_prefix("https://").or_else(|| u.strip_prefix("http://"));
    match rest {
        None => bad("give an http:// or https:// URL, such as https://console.vendor.example"),
        Some(r) if r.is_empty() || r.starts_with('/') => bad("the URL names no host"),
        Some(_) if u.len() > MAX_URL_BYTES => bad("at most 400 bytes"),
        Some(_) if !u.bytes().all(|b| b.is_ascii_graphic()) => {
            bad("printable ASCII only, no blanks (percent-encode the rest)")
        }
        Some(_) if u.contains(['?', '#']) => bad("a base URL, without a query or fragment"),
        Some(_) => Ok(u.trim_end_matches('/').to_owned()),
    }
}

/// Sets the console's public base URL (checked); returns it as stored.
pub fn set_console_url(home: &mut Home, url: &str, now: Timestamp, by: &str) -> Result<String, Error> {
    let url = check_console_url(url)?;
    home.store_mut().write(|tx| tx.set_console_url(&url, now, by))?;
    Ok(url)
}

/// The mail telling `to` that decision `id` is held for `reasons`.
pub fn held_notice(
    (from, to): (&str, &str),
    (id, console_url): (i64, &str),
    mail: Option<&RegistrationMail>,
    sender: Option<&str>,
    reasons: &[Reason],
) -> Reply {
    let parsed = mail.map(ParsedRequest::of);
    let company = parsed.as_ref().and_then(ParsedRequest::company_named).map(|c| quote(&c));
    let project = parsed.as_ref().and_then(|p| p.project_named().map(quote));
    let company = company.as_deref().unwrap_or("(no company)");
    let project = project.as_deref().unwrap_or("(no project)");
    let link = format!("{}/review/{id}", console_url.trim_end_matches('/'));
    let mut body = format!(
        "A registration request is held for review (decision #{id}).\n\
         一份授权申请等待审核（决定 #{id}）。\n\n\
         Company / 公司:  {company}\n\
         Project / 项目:  {project}\n\
         Sender / 发件人: {sender}\n\
         Subject / 主题:  {subject}\n\n\
         Reasons / 原因:\n",
        sender = sender.map_or_else(|| "(none)".to_owned(), quote),
        subject = mail.map_or_else(String::new, |m| quote(&m.subject)),
    );
    for r in reasons {
        body.push_str(&format!("- [{}] {}\n", r.code, quote_long(&r.message)));
        if r.message_zh != r.message && !r.message_zh.is_empty() {
            body.push_str(&format!("  {}\n", quote_long(&r.message_zh)));
        }
    }
    body.push_str(&format!(
        "\nReview it in the console / 在控制台中审核:\n{link}\n\n\
         This message was sent automatically by fanlic. / 本邮件由 fanlic 自动发送。\n"
    ));
    Reply {
        to: to.to_owned(),
        from: from.to_owned(),
        subject: format!("[fanlic] Held for review: {company} — {project} (#{id})"),
        in_reply_to: None,
        references: Vec::new(),
        language: Language::En,
        body,
        attachments: Vec::new(),
    }
}

/// A reason's text on one line, without control characters (it may quote
/// the customer).
fn quote_long(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ")
}

/// Queues the mail about the new held decision `id` to the staff address,
/// if one is set, in the caller's transaction; its outbox id. The address
/// is staff's own (set with `fanlic config`), not a contract's: it is
/// queued as it stands.
pub(crate) fn queue_held_notice(
    tx: &Tx<'_>,
    (id, reply_from): (i64, &str),
    mail: Option<&RegistrationMail>,
    sender: Option<&str>,
    reasons: &[Reason],
    now: Timestamp,
) -> Result<Option<i64>, Error> {
    let Some(to) = tx.staff_notify()? else { return Ok(None) };
    let url = tx.console_url()?.unwrap_or_else(|| DEFAULT_CONSOLE_URL.to_owned());
    let reply = held_notice((reply_from, &to), (id, &url), mail, sender, reasons);
    let mut random = [0u8; 16];
    SystemRandom::new().fill(&mut random).map_err(|_| Error::Random)?;
    let domain = reply_from.rsplit_once('@').map_or("localhost", |(_, d)| d);
    let message_id = format!("<fanlic.staff.{}.{}@{domain}>", now.0, crate::util::hex::encode(&random));
    tx.insert_reply(&reply, &message_id, now).map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code
    use super::*;
    use crate::store::decisions::ReasonCode;

    #[test]
    fn console_urls_are_checked() {
        assert_eq!(check_console_url("https://console.example/").unwrap(), "https://console.example");
        assert_eq!(check_console_url(" http://10.0.0.1:8390/fanlic ").unwrap(), "http://10.0.0.1:8390/fanlic");
        for bad in ["ftp://x", "https://", "https:///x", "http://a b", "http://x/?q=1", "javascript:alert(1)"] {
            assert!(check_console_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_notice_has_both_languages_one_line_per_field_and_the_link() {
        let r = Reason {
            code: ReasonCode::SenderUnauthenticated,
            message: "No trusted\nsignature.".to_owned(),
            message_zh: "发件人未认证。".to_owned(),
        };
        let n = held_notice(("f@v.example", "staff@v.example"), (7, "https://c.example/"), None, Some("a@b"), &[r]);
        assert_eq!(n.subject, "[fanlic] Held for review: (no company) — (no project) (#7)");
        assert!(n.body.contains("- [sender_unauthenticated] No trusted signature.\n  发件人未认证。\n"), "{}", n.body);
        assert!(n.body.contains("https://c.example/review/7\n"), "{}", n.body);
        assert_eq!(n.to, "staff@v.example");
    }
}
