//! Blocks: the body cut into the newest message, quoted and forwarded
//! earlier ones, and signatures.

use super::Field;
use super::labels::field_line;
use super::text::{fold, squash};

/// What a line is, for cutting the body into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Marker {
    /// Starts an earlier message (the line itself is dropped).
    Earlier,
    /// Starts a signature (dropped until the next earlier message).
    Signature,
}

pub(super) fn is_closing(line: &str) -> bool {
    let s = squash(line);
    let s = s.trim_end_matches([',', '.', '!', ':', '，', '。', '！']);
    matches!(
        s,
        "bestregards"
            | "regards"
            | "kindregards"
            | "warmregards"
            | "bestwishes"
            | "sincerely"
            | "yourssincerely"
            | "cheers"
            | "thanksandregards"
            | "thanks&regards"
            | "thanksandbestregards"
            | "此致"
            | "此致敬礼"
            | "顺祝商祺"
            | "顺颂商祺"
            | "祝好"
    )
}

pub(super) fn header_name(line: &str) -> Option<String> {
    let s = fold(line);
    let s = s.trim().trim_start_matches('*');
    let (name, _) = s.split_once(':')?;
    Some(name.trim().trim_end_matches('*').trim().to_lowercase())
}

pub(super) fn is_header_line(line: &str) -> bool {
    header_name(line).is_some_and(|n| {
        matches!(
            n.as_str(),
            "sent" | "date" | "to" | "cc" | "subject" | "发送时间" | "时间" | "日期" | "收件人" | "抄送" | "主题"
        )
    })
}

pub(super) fn marker(lines: &[&str], i: usize, in_fields: bool) -> Option<Marker> {
    let line = lines.get(i)?;
    let t = line.trim();
    if t == "--" || *line == "-- " || t == "—" {
        return Some(Marker::Signature);
    }
    let lower = fold(t).to_lowercase();
    if lower.ends_with("wrote:")
        || lower.ends_with("schrieb:")
        || lower.ends_with("写道:")
        || (lower.ends_with("写道") && lower.len() < 200)
    {
        return Some(Marker::Earlier);
    }
    // `-------- Forwarded Message --------`, `-----Original Message-----`,
    // `---- 原始邮件 ----`, `---------- 转发的邮件 ---------`.
    let dashed = lower.contains("---") || lower.contains("___") || lower.contains("===");
    // QQ Mail and Foxmail in English: `------------------ Original ------------------`.
    let names_earlier =
        ["forwarded message", "original message", "原始邮件", "转发邮件", "转发的邮件", "原邮件", "- original -"]
            .iter()
            .any(|p| lower.contains(p));
    if (dashed && names_earlier && lower.len() < 120) || lower.starts_with("begin forwarded message") {
        return Some(Marker::Earlier);
    }
    if t.chars().count() >= 8 && t.chars().all(|c| c == '_') {
        return Some(Marker::Earlier);
    }
    match header_name(t).as_deref() {
        Some("发件人") => return Some(Marker::Earlier),
        Some("from") => {
            let next = lines.iter().skip(i + 1).filter(|l| !l.trim().is_empty()).take(3);
            if next.into_iter().any(|l| is_header_line(l)) {
                return Some(Marker::Earlier);
            }
        }
        _ => {}
    }
    if in_fields && is_closing(t) {
        return Some(Marker::Signature);
    }
    None
}

#[derive(Debug, Default)]
pub(super) struct Block<'a> {
    pub(super) lines: Vec<&'a str>,
    /// [`field_line`] of each of `lines`, when `blocks` already worked it
    /// out (unquoted lines); `None` for quoted ones, done when needed.
    pub(super) parsed: Vec<Option<Option<(Field, &'a str)>>>,
    /// A run of `>` lines.
    pub(super) quoted: bool,
    /// Starts at an earlier-message marker (a forwarded or quoted message
    /// without `>`), or is quoted.
    pub(super) earlier: bool,
}

impl Block<'_> {
    /// Newest first: fresh text, then unquoted earlier messages, then `>`.
    pub(super) const fn rank(&self) -> u8 {
        if self.quoted {
            2
        } else if self.earlier {
            1
        } else {
            0
        }
    }
}

/// Cuts a body into blocks, newest first: unquoted text between markers,
/// and runs of `>` lines (with the `>` removed). Signatures are dropped.
pub(super) fn blocks(text: &str) -> Vec<Block<'_>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Block<'_>> = vec![Block::default()];
    let mut in_signature = false;
    let mut seen_field = false;
    for (i, line) in lines.iter().enumerate() {
        let ts = line.trim_start();
        if ts.starts_with('>') {
            let stripped = ts.trim_start_matches(['>', ' ']);
            if !out.last().is_some_and(|b| b.quoted) {
                out.push(Block { lines: Vec::new(), parsed: Vec::new(), quoted: true, earlier: true });
            }
            in_signature = false;
            seen_field = false;
            if let Some(b) = out.last_mut() {
                b.lines.push(stripped);
                b.parsed.push(None);
            }
            continue;
        }
        if out.last().is_some_and(|b| b.quoted) && !ts.is_empty() {
            out.push(Block::default());
            in_signature = false;
            seen_field = false;
        }
        match marker(&lines, i, seen_field) {
            Some(Marker::Earlier) => {
                out.push(Block { lines: Vec::new(), parsed: Vec::new(), quoted: false, earlier: true });
                in_signature = false;
                seen_field = false;
                continue;
            }
            Some(Marker::Signature) => {
                in_signature = true;
                continue;
            }
            None => {}
        }
        if in_signature {
            continue;
        }
        let parsed = field_line(line);
        if parsed.is_some() {
            seen_field = true;
        }
        if let Some(b) = out.last_mut() {
            b.lines.push(line);
            b.parsed.push(Some(parsed));
        }
    }
    out
}
