//! The subject: reply and forward prefixes, the product and the company it
//! names.

use super::SubjectInfo;
use super::text::{clean_value, fold};

/// Whether a subject says the mail forwards another (`Fwd:`, `FW:`, `转发:`,
/// `WG:`), after any bracketed tags or `Re:`; a reply alone is not a forward.
pub fn is_forward_subject(subject: &str) -> bool {
    subject_prefixes(subject).2
}

/// Strips `Re:`, `Fwd:`, `回复：`, `[External]`, ... from the front.
pub(super) fn strip_subject_prefixes(subject: &str) -> (&str, bool) {
    let (s, stripped, _) = subject_prefixes(subject);
    (s, stripped)
}

/// The subject without its tags and `Re:`/`Fwd:` prefixes, whether any
/// prefix was stripped, and whether one of them was a forward's.
pub(super) fn subject_prefixes(subject: &str) -> (&str, bool, bool) {
    let mut s = subject.trim();
    let mut stripped = false;
    let mut forward = false;
    loop {
        let before = s;
        // Bracketed tags: `[External]`, `【外部邮件】`.
        for (open, close) in [('[', ']'), ('【', '】')] {
            if let Some(rest) = s.strip_prefix(open)
                && let Some(end) = rest.find(close)
            {
                s = rest.get(end + close.len_utf8()..).unwrap_or("").trim_start();
            }
        }
        if let Some((i, c)) = s.char_indices().take(8).find(|&(_, c)| c == ':' || c == '：') {
            let tag = s.get(..i).unwrap_or("").trim().to_lowercase();
            let tag = tag.trim_end_matches(|c: char| c.is_ascii_digit() || matches!(c, '[' | ']' | '(' | ')')).trim();
            let fwd = matches!(tag, "fw" | "fwd" | "wg" | "转发" | "转" | "轉寄");
            if fwd || matches!(tag, "re" | "aw" | "sv" | "回复" | "答复" | "回覆") {
                s = s.get(i + c.len_utf8()..).unwrap_or("").trim_start();
                stripped = true;
                forward |= fwd;
            }
        }
        if s == before {
            return (s, stripped, forward);
        }
    }
}

/// The product a text names, by token: `FineReport` or `FineBI`, any case,
/// full-width letters too, also with a space (`Fine Report`). The first one
/// named wins; the offset is a byte offset into `s`.
pub(super) fn product_in(s: &str) -> Option<(usize, &'static str)> {
    // Folded lower-case characters with their byte offsets in `s`.
    let chars: Vec<(usize, char)> = s
        .char_indices()
        .map(|(i, c)| (i, fold(&c.to_string()).chars().next().unwrap_or(c).to_ascii_lowercase()))
        .collect();
    let needles =
        [("finereport", "FineReport"), ("fine report", "FineReport"), ("finebi", "FineBI"), ("fine bi", "FineBI")];
    for start in 0..chars.len() {
        for (needle, product) in needles {
            let matched = needle.chars().enumerate().all(|(k, n)| chars.get(start + k).is_some_and(|&(_, c)| c == n));
            if matched {
                return chars.get(start).map(|&(i, _)| (i, product));
            }
        }
    }
    None
}

pub(super) fn trim_company(s: &str) -> Option<String> {
    let t =
        clean_value(s.trim_matches(|c: char| c.is_whitespace() || matches!(c, '-' | ':' | '：' | ',' | '，' | '|')));
    let t = t.strip_suffix("的").unwrap_or(t).trim();
    if t.is_empty() { None } else { Some(t.to_owned()) }
}

/// `... Document of <Company>'s Registration ...`, `... of <Company>
/// Registration ...` or `<Company>'s Registration ...`; nothing is guessed
/// without `of` or a possessive.
pub(super) fn english_company(s: &str) -> Option<String> {
    // ASCII lower-casing keeps byte offsets.
    let lower = s.to_ascii_lowercase();
    let reg = lower.find("registration")?;
    let head = s.get(..reg)?.trim_end();
    let lhead = lower.get(..head.len())?;
    let possessive = head.strip_suffix("'s").or_else(|| head.strip_suffix("’s")).or_else(|| head.strip_suffix("＇s"));
    let anchor =
        lhead.rfind("document of ").map(|p| p + "document of ".len()).or_else(|| lhead.rfind(" of ").map(|p| p + 4));
    let start = match (anchor, possessive) {
        (Some(a), _) => a,
        // `Acme's Registration`: the company starts after any `...:`.
        (None, Some(_)) => head.rfind([':', '：', '|']).map_or(0, |p| p + 1),
        (None, None) => return None,
    };
    let company = possessive.unwrap_or(head);
    trim_company(company.get(start..)?)
}

/// `关于<公司>注册...`, `关于<公司>的注册...`, `<公司>FineBI注册...`; for a
/// cancellation also `关于<公司>注销...` and `(申请)注销<公司>FineBI注册...`.
pub(super) fn chinese_company(s: &str) -> Option<String> {
    const CANCEL: [&str; 4] = ["注销", "取消", "撤销", "解除"];
    let start = s.find("关于").map_or(0, |p| p + "关于".len());
    let mut tail = s.get(start..)?.trim_start();
    // `申请注销<公司>...`: the company follows the verb.
    let verb_first = tail.strip_prefix("申请").unwrap_or(tail);
    if let Some(rest) = CANCEL.iter().find_map(|v| verb_first.strip_prefix(v)) {
        tail = rest;
    }
    let mut end = tail.len();
    for pat in ["的注册", "注册", "的授权", "授权"].iter().chain(&CANCEL) {
        if let Some(p) = tail.find(pat) {
            end = end.min(p);
        }
    }
    if let Some((p, _)) = product_in(tail) {
        end = end.min(p);
    }
    trim_company(tail.get(..end)?)
}

/// What a registration mail's subject says: `Official Authorization Document
/// of <Company>'s Registration for FineReport`, `关于<公司>注册FineReport的正式
/// 授权文件`, `<公司>FineBI注册授权申请`, with or without `Re:`/`Fwd:`.
pub fn parse_subject(subject: &str) -> SubjectInfo {
    let (s, is_reply_or_forward) = strip_subject_prefixes(subject);
    let product = product_in(s).map(|(_, p)| p);
    let has_cjk = s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let company = if has_cjk && (s.contains("注册") || s.contains("授权")) {
        chinese_company(s).or_else(|| english_company(s))
    } else {
        english_company(s)
    };
    SubjectInfo { company, product, is_reply_or_forward }
}
