//! HTML to text: block elements to lines, table rows to tab-separated
//! cells (nested tables flattened), entities decoded, scripts and styles
//! dropped.

use std::borrow::Cow;

/// Nested tables deeper than this are read as plain text.
pub(super) const MAX_TABLE_DEPTH: usize = 16;

/// A table being read: text before its first cell, and its rows of cells.
#[derive(Default)]
pub(super) struct Table {
    before: String,
    rows: Vec<Vec<String>>,
}

/// Where HTML text goes: the innermost open table's current cell, else the
/// output.
pub(super) fn sink<'a>(out: &'a mut String, tables: &'a mut [Table]) -> &'a mut String {
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
pub(super) fn render_table(t: &Table) -> String {
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
pub(super) fn push_table(to: &mut String, t: &Table) {
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
pub(super) fn push_html_text(out: &mut String, text: &str) {
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
pub(super) const CJK_BREAK: char = '\u{E000}';

pub(super) fn decode_entities(text: &str) -> Cow<'_, str> {
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

pub(super) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F   // CJK symbols and punctuation
        | 0x3400..=0x4DBF // extension A
        | 0x4E00..=0x9FFF // unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF00..=0xFFEF // full-width forms
        | 0x20000..=0x2FA1F)
}
