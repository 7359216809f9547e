//! The text body of a message: its text or HTML parts in order, messages
//! attached to it (forwarded as attachments) with their subjects, and
//! `format=flowed` text joined back into lines.

use mail_parser::{MessageParser, MimeHeaders, PartType};

use super::html::html_to_text;
use crate::fields;

/// How deep messages attached to messages are read.
pub(super) const MAX_ATTACHED_DEPTH: usize = 3;

/// The text of a body part: line ends `\n`, RFC 3676 `format=flowed`
/// undone, HTML converted.
pub(super) fn part_text(part: &mail_parser::MessagePart<'_>) -> Option<String> {
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
pub(super) fn fields_read(text: &str) -> usize {
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
pub(super) fn body_text(message: &mail_parser::Message<'_>, depth: usize, subjects: &mut Vec<String>) -> String {
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
pub(super) fn attached_message_text(
    inner: &mail_parser::Message<'_>,
    depth: usize,
    subjects: &mut Vec<String>,
) -> String {
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
