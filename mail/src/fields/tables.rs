//! Table rows converted from HTML or written as plain text: label cells,
//! header rows over value rows, label/value pairs side by side, turned into
//! one `label<TAB>value` line per field.

use super::Field;
use super::labels::cell_label;

/// Whether a table cell is only a colon (`Rate | : | 85`, as Word lays out
/// forms).
pub(super) fn is_colon_cell(cell: &str) -> bool {
    matches!(cell.trim(), ":" | "：")
}

/// Table rows (cells separated by tabs, as an HTML table is converted, or as
/// Outlook and Word write a table as plain text) turned into one
/// `label<TAB>value` line per field, so that [`parse_body`](super::parse_body) reads them:
///
/// - a header row of labels (at least two, and more labels than other
///   cells) with one or more rows of values below: each value under its
///   label, column by column; each row of values after the first is set off
///   by a blank line (a second request, which the block then shows as
///   repeated fields);
/// - a row of several label/value pairs side by side (`Company name | Acme |
///   Project name | webroot`), a label given in two cells (`公司名称 |
///   Company name | Acme`), or a colon cell between label and value.
///
/// Every other line is kept as it is.
pub fn pair_table_cells(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut i = 0;
    while let Some(line) = lines.get(i) {
        i += 1;
        if !line.contains('\t') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
        if let Some(header) = header_row(&cells) {
            let mut rows = 0;
            while let Some(next) = lines.get(i).filter(|l| l.contains('\t')) {
                let values: Vec<&str> = next.split('\t').map(str::trim).collect();
                if header_row(&values).is_some() {
                    break;
                }
                if rows > 0 {
                    out.push('\n');
                }
                for (k, label) in header.iter().enumerate() {
                    let value = values.get(k).copied().unwrap_or("");
                    if label.is_some() && !value.is_empty() && !is_colon_cell(value) {
                        out.push_str(cells.get(k).copied().unwrap_or(""));
                        out.push('\t');
                        out.push_str(value);
                        out.push('\n');
                    }
                }
                rows += 1;
                i += 1;
            }
            if rows > 0 {
                continue;
            }
        }
        match row_pairs(&cells) {
            Some(pairs) => {
                for (label, value) in pairs {
                    out.push_str(&label);
                    out.push('\t');
                    out.push_str(value);
                    out.push('\n');
                }
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    std::borrow::Cow::Owned(out)
}

/// The label of each cell when `cells` is a header row: at least two labels
/// of different fields, and more labels than other cells.
pub(super) fn header_row(cells: &[&str]) -> Option<Vec<Option<Field>>> {
    let labels: Vec<Option<Field>> =
        cells.iter().map(|c| if c.is_empty() || is_colon_cell(c) { None } else { cell_label(c) }).collect();
    let found: Vec<Field> = labels.iter().flatten().copied().collect();
    let others = cells.iter().zip(&labels).filter(|(c, l)| !c.is_empty() && l.is_none()).count();
    let distinct = found.iter().any(|f| Some(f) != found.first());
    (found.len() >= 2 && distinct && found.len() > others).then_some(labels)
}

/// The label/value pairs of a row that holds several side by side, or a
/// label in two cells; `None` for any other row (kept as it is).
pub(super) fn row_pairs<'a>(cells: &[&'a str]) -> Option<Vec<(String, &'a str)>> {
    let cells: Vec<&str> = cells.iter().copied().filter(|c| !c.is_empty() && !is_colon_cell(c)).collect();
    let mut pairs = Vec::new();
    let mut merged = false;
    let mut k = 0;
    while let Some(first) = cells.get(k) {
        let bare = |c: &str| c.trim_end_matches([':', '：', ' ']).to_owned();
        let field = cell_label(first)?;
        let mut label = bare(first);
        k += 1;
        // The same field's label again, in the other language.
        while let Some(more) = cells.get(k).filter(|c| cell_label(c) == Some(field)) {
            label.push(' ');
            label.push_str(&bare(more));
            merged = true;
            k += 1;
        }
        let value = cells.get(k).filter(|c| cell_label(c).is_none())?;
        pairs.push((label.clone(), *value));
        k += 1;
        // More values after the first (requests side by side, or a note
        // column): each is given as the field again, so that different
        // values show as a repeated field rather than one being dropped.
        while let Some(more) = cells.get(k).filter(|c| cell_label(c).is_none()) {
            pairs.push((label.clone(), *more));
            k += 1;
        }
    }
    (pairs.len() >= 2 || merged).then_some(pairs)
}
