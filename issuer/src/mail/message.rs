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
//!   ([`super::fields::pair_table_cells`]). A `format=flowed` text part
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
//!   [`super::auth::evaluate`] needs them.
//! - **Attachments** carry a sanitized file name (no directory part: a name
//!   like `../../etc/passwd` becomes `passwd`) and their decoded size; their
//!   contents are not kept.

use core::fmt;
use std::borrow::Cow;

use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};

use super::fields;
use ring::digest;

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

/// The language a reply should be written in, guessed from the subject and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Mostly CJK text.
    Chinese,
    /// Anything else.
    English,
}

impl Language {
    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Chinese => "zh",
            Language::English => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
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

/// A header field kept for [`super::auth::evaluate`]: `Authentication-Results`
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
        crate::util::hex::encode(&self.raw_sha256)
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
    let dedup_key = message_id.clone().unwrap_or_else(|| crate::util::hex::encode(&raw_sha256));

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
pub(crate) fn sha256(raw: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, raw);
    let mut out = [0u8; 32];
    for (o, b) in out.iter_mut().zip(d.as_ref()) {
        *o = *b;
    }
    out
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

/// How deep messages attached to messages are read.
const MAX_ATTACHED_DEPTH: usize = 3;

/// The text of a body part: line ends `\n`, RFC 3676 `format=flowed`
/// undone, HTML converted.
fn part_text(part: &mail_parser::MessagePart<'_>) -> Option<String> {
    let text = match &part.body {
        PartType::Text(text) => {
            let text = text.replace("\r\n", "\n").replace('\r', "\n");
            let ct = part.content_type();
            let flowed = ct.and_then(|ct| ct.attribute("format")).is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
            if flowed {
                let delsp = ct.and_then(|ct| ct.attribute("delsp")).is_some_and(|d| d.eq_ignore_ascii_case("yes"));
                unflow(&text, delsp)
            } else {
                text
            }
        }
        PartType::Html(html) => html_to_text(html),
        _ => return None,
    };
    let text = fields::pair_table_cells(&text);
    let text = text.trim_start_matches('\u{feff}').trim_end();
    (!text.is_empty()).then(|| text.to_owned())
}

/// How many registration fields a text gives, to choose between the plain
/// and the HTML rendition of one body.
fn fields_read(text: &str) -> usize {
    let f = fields::parse_body(text);
    [
        f.company_name.is_some(),
        f.project_name.is_some(),
        f.signing_date.is_some(),
        f.method.is_some(),
        f.nodes.is_some(),
        f.project_version.is_some(),
        f.jar_version.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count()
}

/// The body text of a message and of the messages attached to it (see the
/// module docs), and the subjects of those attached messages.
fn body_text(message: &mail_parser::Message<'_>, depth: usize, subjects: &mut Vec<String>) -> String {
    let mut parts: Vec<String> = Vec::new();
    // Alternatives line up in `text_body` and `html_body` when both have
    // one entry per body.
    let paired = message.text_body.len() == message.html_body.len();
    for (i, &id) in message.text_body.iter().enumerate() {
        let Some(part) = message.parts.get(id as usize) else { continue };
        let mut text = part_text(part);
        // A plain rendition of a table (Outlook's, for one) loses its cells:
        // the HTML one is read when it holds a table and gives more fields.
        let html = paired.then(|| message.html_body.get(i)).flatten().filter(|&&h| h != id);
        if let Some(html) = html.and_then(|&h| message.parts.get(h as usize))
            && let PartType::Html(source) = &html.body
            && (source.contains("<td") || source.contains("<TD") || source.contains("<th") || source.contains("<TH"))
            && let Some(rendered) = part_text(html)
            && fields_read(&rendered) > text.as_deref().map_or(0, fields_read)
        {
            text = Some(rendered);
        }
        parts.extend(text);
    }
    if parts.is_empty() {
        // No text/plain or text/html body (e.g. only an inline part mail-parser
        // classed otherwise): fall back to the root part if it is text.
        if let Some(PartType::Text(text)) = message.parts.first().map(|p| &p.body) {
            let text = text.replace("\r\n", "\n");
            let text = text.trim_end();
            if !text.is_empty() {
                parts.push(text.to_owned());
            }
        }
    }
    if depth < MAX_ATTACHED_DEPTH {
        for &id in &message.attachments {
            let Some(part) = message.parts.get(id as usize) else { continue };
            let parsed;
            let inner = match &part.body {
                PartType::Message(inner) => inner,
                // Foxmail and some webmail attach a message as
                // application/octet-stream named `*.eml`.
                PartType::Binary(bytes)
                    if part.attachment_name().is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml")) =>
                {
                    match MessageParser::default().parse(bytes.as_ref()) {
                        Some(m) if m.parts.first().is_some_and(|p| !p.headers.is_empty()) => {
                            parsed = m;
                            &parsed
                        }
                        _ => continue,
                    }
                }
                _ => continue,
            };
            parts.push(attached_message_text(inner, depth, subjects));
        }
    }
    parts.join("\n\n")
}

/// A message attached to the mail (forwarded as an attachment), as a
/// forwarded-message block: the marker line, its subject and sender (for
/// staff to read; never the mail's sender), then its text.
fn attached_message_text(inner: &mail_parser::Message<'_>, depth: usize, subjects: &mut Vec<String>) -> String {
    let subject = inner.subject().map(str::trim).unwrap_or("").to_owned();
    let mut out = String::from("-------- Forwarded Message --------\n");
    out.push_str("Subject: ");
    out.push_str(&subject);
    out.push('\n');
    if let Some(date) = inner.date() {
        out.push_str("Date: ");
        out.push_str(&date.to_rfc822());
        out.push('\n');
    }
    if let Some(from) = inner.from().and_then(|a| a.first()).and_then(|a| a.address.as_deref()) {
        out.push_str("From: ");
        out.push_str(from);
        out.push('\n');
    }
    subjects.push(subject);
    out.push('\n');
    out.push_str(&body_text(inner, depth + 1, subjects));
    out
}

/// Undoes RFC 3676 `format=flowed`: a line ending in a blank is joined with
/// the next one of the same quote depth (without that blank when `delsp`
/// is set), space-stuffing is removed, and quoted lines come out as `> `
/// lines of their depth. The signature separator `-- ` is never joined.
pub fn unflow(text: &str, delsp: bool) -> String {
    fn emit(out: &mut String, depth: usize, line: &str) {
        for _ in 0..depth {
            out.push('>');
        }
        if depth > 0 && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    }
    let mut out = String::with_capacity(text.len());
    let mut pending: Option<(usize, String)> = None;
    for raw in text.split('\n') {
        let depth = raw.bytes().take_while(|b| *b == b'>').count();
        let line = raw.get(depth..).unwrap_or("");
        let line = line.strip_prefix(' ').unwrap_or(line);
        let mut joined = match pending.take() {
            Some((d, acc)) if d == depth => acc,
            Some((d, acc)) => {
                emit(&mut out, d, &acc);
                String::new()
            }
            None => String::new(),
        };
        let flowed = line.ends_with(' ') && line != "-- ";
        let piece = if flowed && delsp { line.get(..line.len() - 1).unwrap_or(line) } else { line };
        joined.push_str(piece);
        if flowed {
            pending = Some((depth, joined));
        } else {
            emit(&mut out, depth, &joined);
        }
    }
    if let Some((d, acc)) = pending {
        emit(&mut out, d, &acc);
    }
    out.pop();
    out
}

/// Nested tables deeper than this are read as plain text.
const MAX_TABLE_DEPTH: usize = 16;

/// A table being read: text before its first cell, and its rows of cells.
#[derive(Default)]
struct Table {
    before: String,
    rows: Vec<Vec<String>>,
}

/// Where HTML text goes: the innermost open table's current cell, else the
/// output.
fn sink<'a>(out: &'a mut String, tables: &'a mut [Table]) -> &'a mut String {
    match tables.last_mut() {
        Some(t) => match t.rows.last_mut().and_then(|r| r.last_mut()) {
            Some(cell) => cell,
            None => &mut t.before,
        },
        None => out,
    }
}

/// A table as lines: a row with one cell that holds anything gives that
/// cell's lines; a row of several short cells gives one line, cells
/// separated by a tab (`Company: Acme` with a blank when there are two and
/// the first ends in a colon), each cell's lines joined by a blank (`公司名称
/// Company name`); other rows (layout tables) give each cell's lines in turn.
fn render_table(t: &Table) -> String {
    let mut s = String::new();
    if !t.before.trim().is_empty() {
        s.push_str(t.before.trim());
        s.push('\n');
    }
    for row in &t.rows {
        let cells: Vec<Vec<&str>> = row
            .iter()
            .map(|c| c.split('\n').map(|l| l.trim_matches(' ')).filter(|l| !l.is_empty()).collect())
            .collect();
        let filled: Vec<&Vec<&str>> = cells.iter().filter(|c| !c.is_empty()).collect();
        let short = cells.iter().all(|c| c.len() <= 4) && cells.iter().flatten().map(|l| l.len()).sum::<usize>() <= 600;
        match filled.as_slice() {
            [] => {}
            [first, second] if short && first.last().is_some_and(|l| l.ends_with([':', '：'])) => {
                s.push_str(&first.join(" "));
                s.push(' ');
                s.push_str(&second.join(" "));
                s.push('\n');
            }
            [_, _, ..] if short => {
                let joined: Vec<String> = cells.iter().map(|c| c.join(" ")).collect();
                s.push_str(joined.join("\t").trim_end_matches('\t'));
                s.push('\n');
            }
            _ => {
                for line in filled.iter().copied().flatten() {
                    s.push_str(line);
                    s.push('\n');
                }
            }
        }
    }
    s
}

/// Appends a table's lines on lines of their own.
fn push_table(to: &mut String, t: &Table) {
    if !to.is_empty() && !to.ends_with('\n') {
        to.push('\n');
    }
    to.push_str(&render_table(t));
}

/// HTML to text, keeping the line structure that field parsing needs: block
/// elements (`p`, `div`, `br`, `tr`, `li`, headings, ...) end lines; a row
/// of short cells is one line with the cells separated by a tab (`Company:
/// Acme` with a blank for two cells, the first ending in a colon), each
/// cell's paragraphs (as Outlook writes them) joined by a blank; a row with
/// one cell, or with long cells (a layout table), keeps its lines;
/// `script`/`style`/`title` contents and comments are dropped, runs of white
/// space collapse to one blank, and character references are decoded.
/// (mail-parser's own conversion puts a whole table on one line.)
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut tables: Vec<Table> = Vec::new();
    let mut rest = html;
    let mut skipping: Option<&'static str> = None;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if skipping.is_none() {
                push_html_text(sink(&mut out, &mut tables), rest);
            }
            break;
        };
        if skipping.is_none() {
            push_html_text(sink(&mut out, &mut tables), rest.get(..lt).unwrap_or(""));
        }
        let after = rest.get(lt..).unwrap_or("");
        if let Some(comment) = after.strip_prefix("<!--") {
            rest = comment.find("-->").and_then(|e| comment.get(e + 3..)).unwrap_or("");
            continue;
        }
        let Some(gt) = after.find('>') else { break };
        let tag = after.get(1..gt).unwrap_or("");
        rest = after.get(gt + 1..).unwrap_or("");
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if let Some(until) = skipping {
            if closing && name == until {
                skipping = None;
            }
            continue;
        }
        let in_table = !tables.is_empty();
        match name.as_str() {
            "script" if !closing => skipping = Some("script"),
            "style" if !closing => skipping = Some("style"),
            "title" if !closing => skipping = Some("title"),
            "table" if !closing && tables.len() < MAX_TABLE_DEPTH => tables.push(Table::default()),
            "table" if closing && in_table => {
                if let Some(t) = tables.pop() {
                    push_table(sink(&mut out, &mut tables), &t);
                }
            }
            "tr" if !closing && in_table => {
                if let Some(t) = tables.last_mut() {
                    t.rows.push(Vec::new());
                }
            }
            "td" | "th" if !closing && in_table => {
                if let Some(t) = tables.last_mut() {
                    if t.rows.is_empty() {
                        t.rows.push(Vec::new());
                    }
                    if let Some(r) = t.rows.last_mut() {
                        r.push(String::new());
                    }
                }
            }
            "br" => sink(&mut out, &mut tables).push('\n'),
            "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol" | "dl"
            | "dt" | "dd" | "blockquote" | "pre" | "hr" | "section" | "article" | "header" | "footer" | "address"
            | "center" | "body" => {
                let to = sink(&mut out, &mut tables);
                if !to.ends_with('\n') {
                    to.push('\n');
                }
            }
            "td" | "th" => {
                let to = sink(&mut out, &mut tables);
                if to.ends_with(CJK_BREAK) {
                    to.pop();
                }
                if !to.ends_with([' ', '\n']) && !to.is_empty() {
                    to.push(' ');
                }
            }
            _ => {}
        }
    }
    // Tables left open at the end.
    while let Some(t) = tables.pop() {
        push_table(sink(&mut out, &mut tables), &t);
    }
    let out = out.replace(CJK_BREAK, " ");
    let mut text = String::with_capacity(out.len());
    let mut blank = true;
    for line in out.split('\n').map(|l| l.trim_matches(' ')) {
        if line.trim().is_empty() {
            if !blank {
                text.push('\n');
            }
            blank = true;
        } else {
            text.push_str(line);
            text.push('\n');
            blank = false;
        }
    }
    text.trim_end().to_owned()
}

/// Appends HTML character data: entities decoded, white space collapsed.
///
/// A line break in the source between two CJK characters is dropped, not
/// made a blank (CSS Text 3 "segment break transformation"): HTML written
/// with wrapped source lines must not put a blank inside a Chinese company
/// name. Until the next character is known the break is [`CJK_BREAK`].
fn push_html_text(out: &mut String, text: &str) {
    for c in decode_entities(text).chars() {
        if c.is_whitespace() {
            match out.chars().next_back() {
                None | Some(' ' | '\n' | CJK_BREAK) => {}
                Some(last) if matches!(c, '\n' | '\r') && is_cjk(last) => out.push(CJK_BREAK),
                Some(_) => out.push(' '),
            }
        } else {
            if out.ends_with(CJK_BREAK) {
                out.pop();
                if !is_cjk(c) {
                    out.push(' ');
                }
            }
            out.push(c);
        }
    }
}

/// A line break after a CJK character, in [`push_html_text`]'s output until
/// the next character decides (a private-use character; a blank at the end).
const CJK_BREAK: char = '\u{E000}';

fn decode_entities(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or(""));
        let after = rest.get(amp + 1..).unwrap_or("");
        let decoded = after.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = after.get(..semi)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
                "middot" => '·',
                "ldquo" => '“',
                "rdquo" => '”',
                "lsquo" => '‘',
                "rsquo" => '’',
                "mdash" => '—',
                "ndash" => '–',
                "hellip" => '…',
                "copy" => '©',
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code).filter(|c| *c != '\0')?
                }
            };
            Some((c, semi))
        });
        match decoded {
            Some((c, semi)) => {
                out.push(if c == '\u{a0}' { ' ' } else { c });
                rest = after.get(semi + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F   // CJK symbols and punctuation
        | 0x3400..=0x4DBF // extension A
        | 0x4E00..=0x9FFF // unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF00..=0xFFEF // full-width forms
        | 0x20000..=0x2FA1F)
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
    if cjk > 0 && cjk.saturating_mul(3) >= latin { Language::Chinese } else { Language::English }
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn file_names_never_end_in_a_dot_or_a_blank() {
        // Regression (found by reading the code while writing the fuzz
        // target): an ideographic space between trailing dots, and the cut
        // to the length limit, could leave a trailing dot.
        assert_eq!(sanitize_file_name("a.exe.\u{3000}."), "a.exe");
        let long = format!("{}. y", "x".repeat(199));
        let cut = sanitize_file_name(&long);
        assert_eq!(cut, "x".repeat(199));
        assert_eq!(sanitize_file_name(" .. . "), "attachment");
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..hidden. "), "hidden");
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails/raw").join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    #[test]
    fn sanitize_names() {
        assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_file_name("..\\..\\windows\\system.ini"), "system.ini");
        assert_eq!(sanitize_file_name(".."), "attachment");
        assert_eq!(sanitize_file_name(""), "attachment");
        assert_eq!(sanitize_file_name("/"), "attachment");
        assert_eq!(sanitize_file_name(".hidden"), "hidden");
        assert_eq!(sanitize_file_name("C:evil.txt"), "C_evil.txt");
        assert_eq!(sanitize_file_name("a\u{0}b\nc.txt"), "a_b_c.txt");
        assert_eq!(sanitize_file_name("营业执照.pdf"), "营业执照.pdf");
        assert!(sanitize_file_name(&"x".repeat(1000)).len() <= MAX_ATTACHMENT_NAME_BYTES);
    }

    #[test]
    fn html_conversion_keeps_lines() {
        let html = "<html><head><title>T</title><style>p{}</style></head><body><!-- c --><div>公司名称：示例</div>\
            <div>项目名称：webroot<br>节点数：2</div><table><tr><td>Company:</td><td>A &amp; B&nbsp;Co.</td></tr>\
            <tr><th>Nodes:</th><td>&#50;&#x33;</td></tr></table><script>alert(1)</script><p>a\n   b &bogus; &</p>";
        assert_eq!(
            html_to_text(html),
            "公司名称：示例\n项目名称：webroot\n节点数：2\nCompany: A & B Co.\nNodes: 23\na b &bogus; &"
        );
        for odd in ["<", "<!--", "<scr", "<script>", "&#xFFFFFFFF;", "&#0;", "<<>>", "&&&;", "<td></td>"] {
            let _ = html_to_text(odd);
        }
    }

    #[test]
    fn too_large_is_refused_before_parsing() {
        let raw = b"From: a@b.example\r\n\r\nhello";
        let err = parse_with(raw, &ParseOptions { max_bytes: 10 }).unwrap_err();
        assert_eq!(err, MailError::TooLarge { size: raw.len(), max: 10 });
        assert_eq!(err.code(), "message_too_large");
        assert!(err.to_string().contains("limit of 10 bytes"));
        assert!(parse_with(raw, &ParseOptions { max_bytes: raw.len() }).is_ok());
    }

    #[test]
    fn empty_and_garbage_are_unparseable() {
        for raw in [&b""[..], b"   \r\n\r\n", b"\r\n\r\nonly a body"] {
            let err = parse(raw).unwrap_err();
            assert_eq!(err.code(), "unparseable_message", "{raw:?}");
        }
    }

    #[test]
    fn minimal_message_and_hash_dedup_key() {
        let raw = b"From: \"Zhang San\" <Zhang.San@Customer.Example>\nSubject: hi\n\nline 1\r\nline 2\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.from, ["zhang.san@customer.example"]);
        assert_eq!(m.single_from(), Some("zhang.san@customer.example"));
        assert_eq!(m.from_domain(), Some("customer.example"));
        assert_eq!(m.message_id, None);
        assert_eq!(m.dedup_key, m.raw_sha256_hex());
        assert_eq!(m.dedup_key.len(), 64);
        assert_eq!(m.text, "line 1\nline 2");
        assert_eq!(m.language_hint, Language::English);
    }

    #[test]
    fn several_from_addresses_are_visible() {
        let raw = b"From: a@one.example, b@two.example\r\nSubject: x\r\n\r\nbody\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.from, ["a@one.example", "b@two.example"]);
        assert_eq!(m.single_from(), None);
        assert_eq!(m.from_domain(), None);

        let raw = b"From: a@one.example\r\nFrom: b@two.example\r\nSubject: x\r\n\r\nbody\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.from_fields, 2);
        assert_eq!(m.from, ["a@one.example", "b@two.example"]);
        assert_eq!(m.single_from(), None);

        let m = parse(&fixture("multiple-from.eml")).unwrap();
        assert_eq!(m.from.len(), 2);
        assert_eq!(m.single_from(), None);
    }

    #[test]
    fn english_plain() {
        let m = parse(&fixture("english-plain.eml")).unwrap();
        assert_eq!(m.message_id.as_deref(), Some("20261120093000.1234@customer.example"));
        assert_eq!(m.dedup_key, "20261120093000.1234@customer.example");
        assert_eq!(m.from, ["li.wei@customer.example"]);
        assert_eq!(m.reply_to, ["someone@elsewhere.example"]);
        assert_eq!(m.subject, "License registration: FineReport 11.0");
        assert!(m.text.contains("Company: Example Co."), "{}", m.text);
        assert!(m.text.contains("Project: webroot"));
        assert_eq!(m.language_hint, Language::English);
        let date = m.date.unwrap();
        assert_eq!(date.unix_timestamp(), 1_795_138_200);
        assert!(m.attachments.is_empty());
        let names: Vec<&str> = m.trace_headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Authentication-Results", "Received", "Received"]);
        assert_eq!(
            m.trace_headers[0].1,
            "mx.vendor.example; spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example header.s=sel1"
        );
    }

    #[test]
    fn chinese_gbk_base64() {
        let m = parse(&fixture("chinese-gbk.eml")).unwrap();
        assert_eq!(m.subject, "申请FineReport正式授权");
        assert!(m.text.contains("公司名称：帆软示例有限公司"), "{}", m.text);
        assert!(m.text.contains("项目名称：webroot"));
        assert_eq!(m.language_hint, Language::Chinese);
        assert_eq!(m.from, ["wang@kehu.example.cn"]);
    }

    #[test]
    fn big5_subject_and_body() {
        let m = parse(&fixture("chinese-big5.eml")).unwrap();
        assert_eq!(m.subject, "申請授權");
        assert!(m.text.contains("公司名稱：範例股份有限公司"), "{}", m.text);
        assert_eq!(m.language_hint, Language::Chinese);
    }

    #[test]
    fn html_only() {
        let m = parse(&fixture("html-only.eml")).unwrap();
        assert!(m.text.contains("Company: Example Co."), "{}", m.text);
        assert!(m.text.contains("\nProject: webroot\nNodes: 2\n"), "{}", m.text);
        assert!(m.text.contains("Café regards,\nOps"), "{}", m.text);
        assert!(!m.text.contains("color"), "{}", m.text);
        assert!(!m.text.contains("<td>"), "{}", m.text);
        assert!(!m.text.contains("<b>"));
    }

    #[test]
    fn multipart_alternative_prefers_plain_and_threads() {
        let m = parse(&fixture("alternative-reply.eml")).unwrap();
        assert!(m.text.contains("Company: Example Co."), "{}", m.text);
        assert!(m.text.contains("> Please send the registration"), "{}", m.text);
        assert!(m.text.contains("-- \nLi Wei"), "{}", m.text);
        assert!(!m.text.contains("HTML VERSION"), "{}", m.text);
        assert_eq!(m.in_reply_to, ["reply-1@vendor.example"]);
        assert_eq!(m.references, ["req-0@customer.example", "reply-1@vendor.example"]);
        assert_eq!(m.subject, "Re: Your license request");
    }

    #[test]
    fn attachment_name_is_sanitized() {
        let m = parse(&fixture("attachment-traversal.eml")).unwrap();
        assert_eq!(m.attachments.len(), 2);
        assert_eq!(m.attachments[0].name, "passwd");
        assert_eq!(m.attachments[0].original_name.as_deref(), Some("../../etc/passwd"));
        assert_eq!(m.attachments[0].size, 11);
        assert_eq!(m.attachments[0].content_type.as_deref(), Some("application/octet-stream"));
        assert_eq!(m.attachments[1].name, "evil.bat");
        assert!(m.text.contains("Company: Example Co."));
    }

    #[test]
    fn spoofed_auth_keeps_header_order() {
        let m = parse(&fixture("spoofed-auth.eml")).unwrap();
        let names: Vec<&str> = m.trace_headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["Authentication-Results", "Received", "Authentication-Results", "Received"]);
        assert!(m.trace_headers[2].1.contains("dkim=pass header.d=customer.example"));
    }

    #[test]
    fn table_cells_become_label_value_lines() {
        // Outlook: paragraphs inside cells, `<o:p>`, `&nbsp;`, spans.
        let html = "<table class=MsoTableGrid><tr><td width=189><p class=MsoNormal><span style='x'>公司名称<span \
            lang=EN-US><o:p></o:p></span></span></p></td><td><p class=MsoNormal><span lang=EN-US>Acme&nbsp;Co.<o:p></o:p>\
            </span></p></td></tr><tr><td><p class=MsoNormal>项目名称</p><p class=MsoNormal>Project name</p></td>\
            <td><p>webroot</p></td></tr><tr><td>节点数：</td><td>2</td></tr></table>";
        assert_eq!(html_to_text(html), "公司名称\tAcme Co.\n项目名称 Project name\twebroot\n节点数： 2");
        let f = fields::parse_body(&html_to_text(html));
        assert_eq!(f.company_name.as_deref(), Some("Acme Co."));
        assert_eq!(f.project_name.as_deref(), Some("webroot"));
        assert_eq!(f.node_count(), Some(2));
        // A label with its colon, then the value on the next line of the same cell.
        let html = "<table><tr><td>公司名称：<br>示例科技有限公司</td></tr></table>";
        assert_eq!(fields::parse_body(&html_to_text(html)).company_name.as_deref(), Some("示例科技有限公司"));
        // A layout table around the whole mail keeps its lines.
        let html = "<table><tr><td><div>Hello</div><div>Company name: A</div><div>Project name: b</div>\
            <div>x</div><div>y</div></td><td><img src=logo.png></td></tr></table>";
        assert_eq!(html_to_text(html), "Hello\nCompany name: A\nProject name: b\nx\ny");
        // Columns: an empty corner cell keeps the values under their labels.
        let html = "<table><tr><th></th><th>公司名称</th><th>项目名称</th></tr><tr><td>1</td><td>甲公司</td><td>p1</td></tr></table>";
        let text = fields::pair_table_cells(&html_to_text(html)).into_owned();
        assert_eq!(text, "公司名称\t甲公司\n项目名称\tp1");
        // Nested tables, and tables left open.
        let html = "<table><tr><td><table><tr><td>Company name</td><td>Nested</td></tr></table></td></tr>";
        assert_eq!(html_to_text(html), "Company name\tNested");
        let deep = "<table><tr><td>".repeat(100) + "Company name</td><td>Deep";
        assert!(html_to_text(&deep).contains("Company name"));
    }

    #[test]
    fn a_source_line_break_between_chinese_characters_is_no_blank() {
        assert_eq!(html_to_text("<p>北京华信恒通科技\r\n发展有限公司</p>"), "北京华信恒通科技发展有限公司");
        assert_eq!(
            html_to_text("<p><span>上海明远数据科\n  </span>技有限公司（北京）\n</p>"),
            "上海明远数据科技有限公司（北京）"
        );
        assert_eq!(html_to_text("<p>Northwind\nTrading</p>"), "Northwind Trading");
        assert_eq!(html_to_text("<p>公司\nCo.</p><p>Co.\n公司</p><p>公司 \n名称</p>"), "公司 Co.\nCo. 公司\n公司 名称");
        assert_eq!(html_to_text("<td>公司\n</td><td>x</td>"), "公司 x");
    }

    #[test]
    fn flowed_text_is_joined() {
        // RFC 3676: soft breaks, space-stuffing, quotes, the signature line.
        let text = "Company name: Contoso \nManufacturing \nLimited\n  stuffed\n> Project \n> name: q\n>> deep \n> \
                    other\n-- \nsig";
        assert_eq!(
            unflow(text, false),
            "Company name: Contoso Manufacturing Limited\n stuffed\n> Project name: q\n>> deep \n> other\n-- \nsig"
        );
        // delsp=yes: the blank before the break is not part of the text.
        assert_eq!(unflow("公司名称：上海明远数据科 \n技有限公司\n", true), "公司名称：上海明远数据科技有限公司\n");
        // Without format=flowed nothing is joined.
        let raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCompany name: A \r\nB\r\n";
        assert_eq!(parse(raw).unwrap().text, "Company name: A \nB");
        let raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8; format=Flowed; DelSp=Yes\r\n\r\n\
            Company name: A \r\nB\r\n";
        assert_eq!(parse(raw).unwrap().text, "Company name: AB");
    }

    #[test]
    fn html_alternative_read_when_its_table_gives_more_fields() {
        let mail = |plain: &str| {
            format!(
                "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n--b\r\nContent-Type: text/html; charset=utf-8\
                 \r\n\r\n<table><tr><td>版本</td><td>11.0</td></tr><tr><td>公司</td><td>甲</td></tr></table>\r\n--b--\r\n"
            )
        };
        // The plain rendition lost the cells: the HTML one is read.
        let m = parse(mail("版本\r\n11.0\r\n公司\r\n甲").as_bytes()).unwrap();
        assert_eq!(m.text, "版本\t11.0\n公司\t甲");
        // As many fields in the plain rendition: it is read, as always.
        let m = parse(mail("版本：11.0\r\n公司：甲").as_bytes()).unwrap();
        assert_eq!(m.text, "版本：11.0\n公司：甲");
    }

    #[test]
    fn attached_messages_are_forwarded_blocks() {
        let inner =
            "From: Inner <inner@elsewhere.example>\r\nSubject: =?utf-8?B?5rWL6K+V?=\r\n\r\nCompany name: Inner Co.\r\n";
        let outer = |ct: &str| {
            format!(
                "From: outer@customer.example\r\nSubject: Fw\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\
                 Content-Type: text/plain\r\n\r\nSee attached.\r\n--m\r\n{ct}\r\n\r\n{inner}\r\n--m--\r\n"
            )
        };
        for ct in [
            "Content-Type: message/rfc822",
            "Content-Type: application/octet-stream; name=\"req.EML\"\r\nContent-Disposition: attachment; filename=\"req.EML\"",
        ] {
            let m = parse(outer(ct).as_bytes()).unwrap();
            assert_eq!(m.from, ["outer@customer.example"], "{ct}");
            assert_eq!(m.attached_subjects, ["测试"], "{ct}");
            assert_eq!(
                m.text,
                "See attached.\n\n-------- Forwarded Message --------\nSubject: 测试\nFrom: inner@elsewhere.example\n\n\
                 Company name: Inner Co.",
                "{ct}"
            );
            let f = fields::parse_body(&m.text);
            assert_eq!(f.company_name.as_deref(), Some("Inner Co."));
            assert!(f.from_earlier_message);
        }
        // Another binary attachment is not read as a message.
        let m = parse(outer("Content-Type: application/octet-stream; name=\"req.txt\"").as_bytes()).unwrap();
        assert_eq!(m.text, "See attached.");
        assert!(m.attached_subjects.is_empty());
        // Messages attached to attached messages: read to a bounded depth.
        let mut nested = inner.to_owned();
        for _ in 0..10 {
            nested = format!(
                "From: x@y.example\r\nSubject: level\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\
                 Content-Type: message/rfc822\r\n\r\n{nested}\r\n--q--\r\n"
            );
        }
        let m = parse(nested.as_bytes()).unwrap();
        assert_eq!(m.attached_subjects.len(), MAX_ATTACHED_DEPTH);
    }

    /// A small xorshift generator: deterministic garbage without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0; 100],
            vec![0xff; 100],
            b"From:".to_vec(),
            b"From: <\r\n".to_vec(),
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x".to_vec(),
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n".to_vec(),
            b"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n".to_vec(),
            b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain; charset=gbk\r\n\r\n!!!!====".to_vec(),
            b"Subject: =?gbk?B?####?= =?big5?Q?=ZZ?=\r\n\r\n".to_vec(),
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n".to_vec(),
        ];
        let nested = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".repeat(200);
        inputs.push(nested.into_bytes());
        for name in ["english-plain.eml", "chinese-gbk.eml", "html-only.eml", "alternative-reply.eml"] {
            let raw = fixture(name);
            let mut cut = 0;
            while cut < raw.len() {
                inputs.push(raw.get(..cut).unwrap_or_default().to_vec());
                cut += 7;
            }
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            for _ in 0..200 {
                let mut m = raw.clone();
                for _ in 0..(rng.next() % 8 + 1) {
                    let i = (rng.next() as usize) % m.len();
                    m[i] = rng.next() as u8;
                }
                inputs.push(m);
            }
        }
        let mut rng = Rng(42);
        for len in 0..300 {
            inputs.push((0..len).map(|_| rng.next() as u8).collect());
        }
        for raw in &inputs {
            let _ = html_to_text(&String::from_utf8_lossy(raw));
            match parse(raw) {
                Ok(m) => {
                    assert_eq!(m.raw_sha256, sha256(raw));
                    for a in &m.attachments {
                        assert!(!a.name.contains(['/', '\\']) && !a.name.is_empty());
                    }
                }
                Err(e) => assert_eq!(e.code(), "unparseable_message"),
            }
        }
    }
}
