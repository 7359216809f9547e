//! Text helpers: the folded and squashed forms labels and words are
//! compared in, and a value's clean text.

/// Full-width ASCII forms and ideographic/no-break spaces to ASCII, for
/// matching (never for the values kept).
pub(super) fn fold(s: &str) -> String {
    // Most lines are ASCII, which folding leaves as it is (called for every
    // line of every mail: `fanlic ingest`'s time).
    if s.is_ascii() {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    out.extend(s.chars().map(|c| match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' | '\u{2002}'..='\u{200D}' | '\u{FEFF}' => ' ',
        '\u{2018}' | '\u{2019}' => '\'',
        _ => c,
    }));
    out
}

/// Folded, lower case, white space removed: the form labels are compared in.
pub(super) fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    out.extend(fold(s).chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase));
    out
}

/// The value's trimmed text, without trailing `;`, `,` or `。`, and without
/// surrounding quotes.
pub(super) fn clean_value(s: &str) -> &str {
    let invisible = |c: char| c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{FEFF}');
    let mut v = s.trim_matches(invisible).trim_end_matches([';', '；', ',', '，', '。']).trim_matches(invisible);
    // Markdown emphasis left by an HTML conversion: `**Example Co.**`.
    v = v.trim_matches(|c: char| c == '*' || invisible(c));
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('『', '』'), ('【', '】'), ('《', '》')] {
        if let Some(inner) = v.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
            v = inner.trim();
        }
    }
    v
}
