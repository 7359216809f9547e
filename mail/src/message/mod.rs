//! A raw message, parsed with mail-parser: addresses, subject, ids, the text body.
//!
//! [`parse`] turns the raw bytes of one received message into a
//! [`RegistrationMail`]: everything later steps need, owned, decoded to UTF-8.
//!
//! - **Size first.** A message over [`ParseOptions::max_bytes`] (default
//!   [`DEFAULT_MAX_MESSAGE_BYTES`], 25 MiB) is refused with
//!   [`MailError::TooLarge`] before any parsing, so memory stays bounded.
//! - **Never panics.** Garbage, empty input, binary data, broken MIME and
//!   truncated boundaries give either a best-effort [`RegistrationMail`] or
//!   [`MailError::Unparseable`] (code `unparseable_message`): input without a
//!   single header field is unparseable.
//! - **Senders.** [`RegistrationMail::from`] holds *every* address of *every*
//!   `From` field (trimmed, lowercased), so a message with several senders is
//!   visible ([`RegistrationMail::single_from`] is `None` then).
//!   [`RegistrationMail::reply_to`] is kept for the record only and must never
//!   be used to reply: it is not authenticated.
//! - **Body.** [`RegistrationMail::text`] is the text/plain part when there is
//!   one (as in multipart/alternative), else the HTML part converted to text
//!   by [`html_to_text`], which keeps one line per block element and the
//!   cells of a table row apart (a tab); in multipart/alternative the HTML
//!   part is read instead when it holds a table and more registration fields
//!   are read from it (a plain rendition of a table, as Outlook writes it,
//!   may lose the cells). Table rows are then paired into label/value lines
//!   ([`crate::fields::pair_table_cells`]). A `format=flowed` text part
//!   (RFC 3676: Thunderbird, Apple Mail) has its soft line breaks joined
//!   (`delsp=yes` honoured) and its space-stuffing removed ([`unflow`]).
//!   Transfer encodings (quoted-printable, base64) and charsets (GBK,
//!   GB18030, Big5, ... through mail-parser's `full_encoding`) are decoded,
//!   line ends are `\n`. Several body text parts (multipart/mixed) are joined
//!   by a blank line. Subjects in RFC 2047 encoded words are decoded the same
//!   way.
//! - **Messages attached** (`message/rfc822`, or an `*.eml` attachment, as
//!   "forward as attachment" in Outlook, Foxmail or Thunderbird sends them;
//!   up to three levels deep) are read after the body as forwarded-message
//!   blocks (`-------- Forwarded Message --------`, then their subject, date
//!   and sender, then their text), so their fields count as an earlier
//!   message's; their subjects are in [`RegistrationMail::attached_subjects`].
//!   Their senders are never the mail's sender: that is the outer,
//!   authenticated `From` only.
//! - **Trace headers.** [`RegistrationMail::trace_headers`] are the
//!   `Authentication-Results` and `Received` fields of the top-level header,
//!   in order from the top, with their raw values unfolded, as
//!   [`crate::auth::evaluate`] needs them.
//! - **Attachments** carry a sanitized file name (no directory part: a name
//!   like `../../etc/passwd` becomes `passwd`) and their decoded size; their
//!   contents are not kept.
//!
//! This file reads the message and its header fields; the body's text is
//! put together in `body` (parts, attached messages, `format=flowed`) and
//! HTML is turned into text in `html`.

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders};
use sha2::{Digest as _, Sha256};

pub use crate::Language;

mod body;
mod html;

use body::body_text;
pub use body::unflow;
pub use html::html_to_text;
use html::is_cjk;

/// The default size limit of a raw message: 25 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 25 * 1024 * 1024;

/// The longest attachment file name kept, in bytes (longer names are cut at a
/// character boundary).
pub const MAX_ATTACHMENT_NAME_BYTES: usize = 200;

/// Why a raw message could not be turned into a [`RegistrationMail`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MailError {
    /// The message is larger than the configured limit; it was not parsed.
    #[error("message too large: {size} bytes, over the limit of {max} bytes; refused before parsing")]
    TooLarge {
        /// The size of the raw message, in bytes.
        size: usize,
        /// The configured limit, in bytes.
        max: usize,
    },
    /// The bytes are not an internet message (empty, or no header field).
    #[error("unparseable message: {reason}")]
    Unparseable {
        /// What was wrong, for people.
        reason: &'static str,
    },
}

impl MailError {
    /// A stable code for reports: `message_too_large` or `unparseable_message`.
    pub fn code(&self) -> &'static str {
        match self {
            MailError::TooLarge { .. } => "message_too_large",
            MailError::Unparseable { .. } => "unparseable_message",
        }
    }
}

/// Options of [`parse_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Messages with more raw bytes than this are refused before parsing.
    pub max_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions { max_bytes: DEFAULT_MAX_MESSAGE_BYTES }
    }
}

/// An attachment: its sanitized name and decoded size. The contents are not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// A plain file name: no directory components, no control characters, no
    /// characters reserved on Windows; `attachment` when nothing usable is left.
    pub name: String,
    /// The name as the message gave it, if any (untrusted; for the record).
    pub original_name: Option<String>,
    /// `type/subtype`, lowercased, when the part declares one.
    pub content_type: Option<String>,
    /// The decoded size in bytes.
    pub size: usize,
}

/// A header field kept for [`crate::auth::evaluate`]: `Authentication-Results`
/// or `Received`, with its raw value unfolded and trimmed.
pub type TraceHeader = (String, String);

/// A received registration mail, parsed. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationMail {
    /// The `Message-ID`, without angle brackets, if the message has one.
    pub message_id: Option<String>,
    /// The key under which the message is recorded once: the `Message-ID`
    /// when there is one, else the lowercase hex SHA-256 of the raw bytes.
    pub dedup_key: String,
    /// SHA-256 of the raw bytes.
    pub raw_sha256: [u8; 32],
    /// Every address of every `From` field, trimmed and lowercased, in order.
    /// More than one means the sender is ambiguous.
    pub from: Vec<String>,
    /// The number of `From` header fields (more than one is malformed).
    pub from_fields: usize,
    /// `Reply-To` addresses, normalized like [`Self::from`]. For the record
    /// only: replies go to the authenticated sender, **never** here.
    pub reply_to: Vec<String>,
    /// The decoded subject, empty when there is none.
    pub subject: String,
    /// The body as text (see the module docs), `\n` line ends.
    pub text: String,
    /// Chinese when the subject and body are mostly CJK, else English.
    pub language_hint: Language,
    /// `In-Reply-To` message ids, without angle brackets.
    pub in_reply_to: Vec<String>,
    /// `References` message ids, without angle brackets, in order.
    pub references: Vec<String>,
    /// The `Date` field, when present and valid.
    pub date: Option<time::OffsetDateTime>,
    /// The attachments, in order.
    pub attachments: Vec<Attachment>,
    /// The subjects of the messages attached to this one (forwarded as
    /// attachments), in order, decoded; their text is in [`Self::text`] as
    /// forwarded-message blocks. Their senders are never this mail's sender.
    pub attached_subjects: Vec<String>,
    /// `Authentication-Results` and `Received` fields of the top-level
    /// header, in order from the top (names in their canonical spelling).
    pub trace_headers: Vec<TraceHeader>,
    /// Set when a program, not a person, sent the message: it is recorded
    /// and never answered, so that two auto-responders cannot loop.
    pub automatic: Option<Automatic>,
}

/// Why a message is taken for one a program sent (RFC 3834 §2, RFC 3464,
/// RFC 2076): such mail is recorded and never answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Automatic {
    /// `Auto-Submitted` with a value other than `no` (the value, lowercase).
    AutoSubmitted(String),
    /// `X-Autoreply` / `X-Autorespond`, which common providers' vacation
    /// replies carry instead of `Auto-Submitted`.
    AutoReplyHeader,
    /// `Precedence: bulk`, `junk` or `list` (the value).
    Precedence(String),
    /// A null return path (`Return-Path: <>`) or a mailer daemon's: a bounce.
    Bounce,
    /// A delivery status report (`multipart/report` or a
    /// `message/delivery-status` part).
    DeliveryReport,
}

impl Automatic {
    /// The reason code recorded with the decision.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::AutoSubmitted(_) | Self::AutoReplyHeader => "auto_submitted",
            Self::Precedence(_) => "bulk_mail",
            Self::Bounce | Self::DeliveryReport => "bounce",
        }
    }

    /// For staff: why no reply was sent.
    pub fn message(&self) -> String {
        let what = match self {
            Self::AutoSubmitted(v) => format!("it says Auto-Submitted: {v}"),
            Self::AutoReplyHeader => "it carries an auto-reply header".to_owned(),
            Self::Precedence(v) => format!("it says Precedence: {v}"),
            Self::Bounce => "its return path is null or a mailer daemon's (a bounce)".to_owned(),
            Self::DeliveryReport => "it is a delivery status report".to_owned(),
        };
        format!("A program sent this message ({what}); it is recorded and never answered.")
    }
}

/// What the top-level header fields say of a program as the sender.
fn automatic_of(
    raw: &[u8],
    root: &mail_parser::MessagePart<'_>,
    message: &mail_parser::Message<'_>,
) -> Option<Automatic> {
    let mut found = None;
    for header in &root.headers {
        let name = header.name.as_str().to_ascii_lowercase();
        let value = raw_value(raw, header.offset_start, header.offset_end);
        let first = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        let this = match name.as_str() {
            "auto-submitted" if !first.is_empty() && first != "no" => Some(Automatic::AutoSubmitted(first)),
            "x-autoreply" | "x-autorespond" => Some(Automatic::AutoReplyHeader),
            "precedence" if matches!(first.as_str(), "bulk" | "junk" | "list") => Some(Automatic::Precedence(first)),
            "return-path" => {
                let addr = first.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace());
                let local = addr.split('@').next().unwrap_or("");
                (addr.is_empty() || local.eq_ignore_ascii_case("mailer-daemon")).then_some(Automatic::Bounce)
            }
            _ => None,
        };
        found = found.or(this);
    }
    let report = message.parts.iter().any(|part| {
        part.content_type().is_some_and(|ct| {
            let sub = ct.c_subtype.as_deref().unwrap_or("");
            (ct.c_type.eq_ignore_ascii_case("multipart") && sub.eq_ignore_ascii_case("report"))
                || (ct.c_type.eq_ignore_ascii_case("message") && sub.eq_ignore_ascii_case("delivery-status"))
        })
    });
    found.or(report.then_some(Automatic::DeliveryReport))
}

impl RegistrationMail {
    /// The one sender address, when the message has exactly one `From` field
    /// with exactly one address; `None` for zero or several.
    pub fn single_from(&self) -> Option<&str> {
        match (self.from_fields, self.from.as_slice()) {
            (1, [one]) => Some(one.as_str()),
            _ => None,
        }
    }

    /// The domain of [`Self::single_from`] (after the last `@`), if any.
    pub fn from_domain(&self) -> Option<&str> {
        let addr = self.single_from()?;
        let (_, domain) = addr.rsplit_once('@')?;
        let domain = domain.trim_end_matches('.');
        (!domain.is_empty()).then_some(domain)
    }

    /// Lowercase hex of [`Self::raw_sha256`].
    pub fn raw_sha256_hex(&self) -> String {
        hex(&self.raw_sha256)
    }
}

/// Parses `raw` with the default options (25 MiB limit). See [`parse_with`].
pub fn parse(raw: &[u8]) -> Result<RegistrationMail, MailError> {
    parse_with(raw, &ParseOptions::default())
}

/// Parses one raw message (RFC 5322 bytes, CRLF or LF line ends).
///
/// # Errors
///
/// [`MailError::TooLarge`] before parsing when `raw` is over
/// `options.max_bytes`; [`MailError::Unparseable`] for empty input or input
/// without any header field.
pub fn parse_with(raw: &[u8], options: &ParseOptions) -> Result<RegistrationMail, MailError> {
    if raw.len() > options.max_bytes {
        return Err(MailError::TooLarge { size: raw.len(), max: options.max_bytes });
    }
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(MailError::Unparseable { reason: "the message is empty" });
    }
    // mail-parser is fuzzed and should not panic; this is defence in depth so
    // that one hostile message cannot take the whole run down.
    match std::panic::catch_unwind(|| parse_inner(raw)) {
        Ok(result) => result,
        Err(_) => Err(MailError::Unparseable { reason: "the MIME parser failed on this message" }),
    }
}

fn parse_inner(raw: &[u8]) -> Result<RegistrationMail, MailError> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or(MailError::Unparseable { reason: "no internet message found in the bytes" })?;
    let root = message.parts.first().ok_or(MailError::Unparseable { reason: "the message has no parts" })?;
    if root.headers.is_empty() {
        return Err(MailError::Unparseable { reason: "the message has no header fields" });
    }

    let raw_sha256 = sha256(raw);
    let message_id = message.message_id().and_then(clean_id);
    let dedup_key = message_id.clone().unwrap_or_else(|| hex(&raw_sha256));

    let mut from = Vec::new();
    let mut from_fields = 0;
    let mut reply_to = Vec::new();
    let mut in_reply_to = Vec::new();
    let mut references = Vec::new();
    let mut trace_headers = Vec::new();
    for header in &root.headers {
        match &header.name {
            HeaderName::From => {
                from_fields += 1;
                push_addresses(&mut from, &header.value);
            }
            HeaderName::ReplyTo => push_addresses(&mut reply_to, &header.value),
            HeaderName::InReplyTo => push_ids(&mut in_reply_to, &header.value),
            HeaderName::References => push_ids(&mut references, &header.value),
            HeaderName::AuthenticationResults | HeaderName::Received => {
                let value = raw_value(raw, header.offset_start, header.offset_end);
                trace_headers.push((header.name.as_str().to_owned(), value));
            }
            _ => {}
        }
    }

    let subject = message.subject().map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut attached_subjects = Vec::new();
    let text = body_text(&message, 0, &mut attached_subjects);
    let language_hint = language_of(&subject, &text);
    let date = message
        .date()
        .filter(|d| d.is_valid())
        .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.to_timestamp()).ok());
    let attachments = message
        .attachments()
        .map(|part| {
            let original_name = part.attachment_name().map(str::to_owned);
            let content_type = part.content_type().map(|ct| match &ct.c_subtype {
                Some(sub) => format!("{}/{}", ct.c_type, sub).to_ascii_lowercase(),
                None => ct.c_type.to_ascii_lowercase(),
            });
            Attachment {
                name: sanitize_file_name(original_name.as_deref().unwrap_or("")),
                original_name,
                content_type,
                size: part.contents().len(),
            }
        })
        .collect();

    Ok(RegistrationMail {
        message_id,
        dedup_key,
        raw_sha256,
        from,
        from_fields,
        reply_to,
        subject,
        text,
        language_hint,
        in_reply_to,
        references,
        date,
        attachments,
        attached_subjects,
        trace_headers,
        automatic: automatic_of(raw, root, &message),
    })
}

/// SHA-256 of a raw message: its dedup key when it has no Message-ID, and
/// the digest a license issued for it carries.
pub fn sha256(raw: &[u8]) -> [u8; 32] {
    Sha256::digest(raw).into()
}

/// Lowercase hex of `bytes` (the issuer's text form of digests).
fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// A message id without surrounding blanks and angle brackets; `None` if empty.
fn clean_id(id: &str) -> Option<String> {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!id.is_empty()).then(|| id.to_owned())
}

fn normalize_address(addr: &str) -> Option<String> {
    let addr = addr.trim().trim_start_matches('<').trim_end_matches('>').trim().to_lowercase();
    (!addr.is_empty()).then_some(addr)
}

fn push_addresses(out: &mut Vec<String>, value: &HeaderValue<'_>) {
    match value {
        HeaderValue::Address(Address::List(list)) => {
            out.extend(list.iter().filter_map(|a| a.address.as_deref()).filter_map(normalize_address));
        }
        HeaderValue::Address(Address::Group(groups)) => {
            out.extend(
                groups
                    .iter()
                    .flat_map(|g| g.addresses.iter())
                    .filter_map(|a| a.address.as_deref())
                    .filter_map(normalize_address),
            );
        }
        // A field mail-parser could not read as addresses: keep its text so
        // that the sender is not silently lost (it will not authenticate).
        HeaderValue::Text(text) => out.extend(normalize_address(text)),
        _ => {}
    }
}

fn push_ids(out: &mut Vec<String>, value: &HeaderValue<'_>) {
    match value {
        HeaderValue::Text(id) => out.extend(clean_id(id)),
        HeaderValue::TextList(ids) => out.extend(ids.iter().filter_map(|id| clean_id(id))),
        _ => {}
    }
}

/// The raw value of a header field, unfolded (CRLF + blank → blank) and trimmed.
fn raw_value(raw: &[u8], start: u32, end: u32) -> String {
    let bytes =
        usize::try_from(start).ok().zip(usize::try_from(end).ok()).and_then(|(s, e)| raw.get(s..e)).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' | '\n' => {}
            '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.trim().to_owned()
}

/// Chinese when CJK characters are at least a third of the Latin letters
/// (one ideograph carries about as much as a short word); else English.
fn language_of(subject: &str, text: &str) -> Language {
    let (mut cjk, mut latin) = (0usize, 0usize);
    for c in subject.chars().chain(text.chars()) {
        if is_cjk(c) {
            cjk += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        }
    }
    if cjk > 0 && cjk.saturating_mul(3) >= latin { Language::Zh } else { Language::En }
}

/// A plain file name from an untrusted one: the last path component (either
/// slash), without control characters or characters reserved on Windows, no
/// leading dots or trailing dots/blanks, at most [`MAX_ATTACHMENT_NAME_BYTES`]
/// bytes; `attachment` when nothing is left.
pub fn sanitize_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mut out = String::with_capacity(last.len());
    for c in last.chars() {
        if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    // Trailing dots and blanks of any kind, in any mix, and again after the
    // cut to the length limit (which may leave one at the end).
    let trim_end = |s: &str| s.trim_end_matches(|c: char| c == '.' || c.is_whitespace()).len();
    let trimmed = out.trim_start_matches(|c: char| c == '.' || c.is_whitespace());
    let trimmed = trimmed.get(..trim_end(trimmed)).unwrap_or("");
    let mut name = String::new();
    for c in trimmed.chars() {
        if name.len() + c.len_utf8() > MAX_ATTACHMENT_NAME_BYTES {
            break;
        }
        name.push(c);
    }
    name.truncate(trim_end(&name));
    if name.is_empty() { "attachment".to_owned() } else { name }
}

#[cfg(test)]
mod tests;
