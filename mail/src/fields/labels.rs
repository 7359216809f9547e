//! Field labels in English and Chinese, and the lines that hold a field:
//! bullets and numbering, brackets, bold, hints in parentheses, the colon.

use super::Field;
use super::text::{fold, squash};

/// Labels, squashed (lower case, no white space, folded), per field.
pub(super) const LABELS: &[(Field, &[&str])] = &[
    (
        Field::CompanyName,
        &[
            "companyname",
            "company",
            "nameofcompany",
            "customername",
            "companyfullname",
            "公司名称",
            "公司名",
            "公司全称",
            "客户名称",
            "单位名称",
        ],
    ),
    (Field::ProjectName, &["projectname", "project", "nameofproject", "项目名称", "项目名", "工程名称"]),
    (
        Field::SigningDate,
        &[
            "contractsigningdate",
            "contractsignaturedate",
            "signaturedate",
            "contractsigneddate",
            "contractsigndate",
            "contractdate",
            "signingdate",
            "signeddate",
            "signed",
            "signedon",
            "contractsigned",
            "dateofcontractsigning",
            "dateofsigning",
            "合同签订日期",
            "合同签署日期",
            "合同签约日期",
            "签订日期",
            "签署日期",
            "签约日期",
            "合同日期",
        ],
    ),
    (
        Field::Method,
        &[
            "registrationmethod",
            "method",
            "authmethod",
            "registrationmode",
            "registrationtype",
            "authenticationmethod",
            "authorizationmethod",
            "authorisationmethod",
            "licensetype",
            "注册方式",
            "认证方式",
            "授权方式",
            "注册类型",
        ],
    ),
    (
        Field::Nodes,
        &[
            "maximumnumberofregistration",
            "maximumnumberofregistrations",
            "maxnumberofregistration",
            "maxnumberofregistrations",
            "maximumregistrations",
            "numberofnodesintheclusterproject",
            "numberofnodesinclusterproject",
            "numberofnodesinthecluster",
            "numberofclusternodes",
            "numberofnodes",
            "noofnodes",
            "nodecount",
            "maxnodes",
            "maximumnodes",
            "nodesmax",
            "clusternodes",
            "nodes",
            "最大注册数量",
            "最大注册数",
            "集群节点数",
            "集群节点数量",
            "集群项目节点数",
            "节点数",
            "节点数量",
            "节点",
            "最大节点数",
            "授权节点数",
        ],
    ),
    (
        Field::Version,
        &[
            "projectversion",
            "finereportversion",
            "finebiversion",
            "productversion",
            "version",
            "项目版本",
            "项目版本号",
            "产品版本",
            "产品版本号",
            "版本",
            "版本号",
        ],
    ),
    (
        Field::JarVersion,
        &[
            "jarpackageversion",
            "jarbuilddate",
            "builddate",
            "jar包日期",
            "jar包构建日期",
            "jar版本号",
            "jarversion",
            "jar",
            "jarpackage",
            "jar包版本",
            "jar包版本号",
            "jar版本",
        ],
    ),
    (
        Field::SpecialRequirements,
        &[
            "specialrequirements",
            "specialrequirement",
            "specialrequests",
            "specialrequest",
            "specialcircumstances",
            "specialcircumstance",
            "specialnotes",
            "remarks",
            "remark",
            "特殊需求",
            "特殊要求",
            "特殊情况",
            "特殊说明",
            "备注",
            "特殊情况说明",
            "特殊需求说明",
            "特别说明",
            "其他说明",
            "其他要求",
            "其他需求",
            "补充说明",
            "备注说明",
            "附注",
            "note",
            "notes",
            "specialnote",
            "specialinstructions",
            "otherrequirements",
            "additionalrequirements",
            "additionalnotes",
            "comment",
            "comments",
        ],
    ),
];

pub(super) fn field_of_piece(piece: &str) -> Option<Field> {
    // `Max. number of registrations`, `No. of nodes`.
    let piece: String = piece.chars().filter(|c| *c != '.').collect();
    LABELS.iter().find(|(_, labels)| labels.contains(&piece.as_str())).map(|(f, _)| *f)
}

/// Ideographs and CJK punctuation: where a Chinese label meets an English one.
pub(super) fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// A squashed piece that is one label, or a Chinese and an English label of
/// the same field written one after the other (`公司名称 Company name`,
/// `Company name 公司名称`, `JAR包版本 JAR package version`): the piece is
/// cut where the script changes and every way of grouping the runs is tried
/// (a handful of runs at most), each group having to be a whole label.
pub(super) fn field_of_mixed(piece: &str) -> Option<Field> {
    if let Some(f) = field_of_piece(piece) {
        return Some(f);
    }
    let mut runs: Vec<&str> = Vec::new();
    let mut start = 0;
    let mut last: Option<bool> = None;
    for (i, c) in piece.char_indices() {
        let cjk = is_cjk(c);
        if last.is_some_and(|l| l != cjk) {
            runs.push(piece.get(start..i)?);
            start = i;
        }
        last = Some(cjk);
    }
    runs.push(piece.get(start..)?);
    if runs.len() < 2 || runs.len() > 6 {
        return None;
    }
    // Bit k of `cuts` set: a group ends after run k.
    'cuts: for cuts in 0u32..(1 << (runs.len() - 1)) {
        let mut found: Option<Field> = None;
        let mut group = String::new();
        for (k, run) in runs.iter().enumerate() {
            group.push_str(run);
            if k + 1 == runs.len() || cuts & (1 << k) != 0 {
                match field_of_piece(&group) {
                    Some(f) if found.is_none_or(|g| g == f) => found = Some(f),
                    _ => continue 'cuts,
                }
                group.clear();
            }
        }
        if found.is_some() && cuts != 0 {
            return found;
        }
    }
    None
}

/// Strips a leading bullet or numbering: `- `, `• `, `* `, `1. `, `1)`,
/// `(1)`, `1、`, `a. `, `①`.
pub(super) fn strip_bullet(s: &str) -> &str {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix(['-', '•', '*', '·', '●', '▪', '◦', '○', '■', '□', '–', '—', '+', '>'])
    {
        return rest.trim_start();
    }
    if let Some(c) = s.chars().next()
        && ('\u{2460}'..='\u{2473}').contains(&c)
    {
        return s.get(c.len_utf8()..).unwrap_or("").trim_start();
    }
    if let Some(rest) = chinese_numbering(s) {
        return rest;
    }
    let open = s.strip_prefix(['(', '（'].as_slice());
    let body = open.unwrap_or(s);
    let digits = body.find(|c: char| !c.is_ascii_digit()).unwrap_or(body.len());
    let after = if digits > 0 {
        body.get(digits..).unwrap_or("")
    } else {
        // A single letter enumerator: `a.` / `a)`.
        let mut cs = body.chars();
        match (cs.next(), cs.next()) {
            (Some(c), Some('.' | ')')) if c.is_ascii_alphabetic() && open.is_none() => body.get(1..).unwrap_or(""),
            _ => return s,
        }
    };
    if let Some(rest) = after.strip_prefix(['.', ')', '）', '、', '．']) {
        // `1.5` is not a numbering.
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return rest.trim_start();
        }
    }
    s
}

/// The text after a Chinese numbering: `一、`, `二．`, `三.`, `（四）`, `(五)`,
/// `六）`; `None` when `s` does not start with one.
pub(super) fn chinese_numbering(s: &str) -> Option<&str> {
    const NUMERALS: &[char] = &['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];
    let open = s.strip_prefix(['(', '（']);
    let body = open.unwrap_or(s);
    let end = body.find(|c: char| !NUMERALS.contains(&c))?;
    if end == 0 || end > 3 * '十'.len_utf8() {
        return None;
    }
    let after = body.get(end..)?;
    let rest = if open.is_some() {
        after.strip_prefix([')', '）'])?
    } else {
        after.strip_prefix(['、', '.', '．', ')', '）'])?
    };
    Some(rest.trim_start())
}

/// The field a label (the text before the colon) names: one or more labels
/// of the same field, separated by `/`, `or`, `或` (`Company name/公司名称`),
/// plus parenthesised parts that are either labels of that field
/// (`Project name（项目名称）`) or hints, which are ignored
/// (`Contract signing date (YYYY/MM/DD)`, `Number of nodes (optional)`).
pub(super) fn field_of_label(label: &str) -> Option<Field> {
    let folded = fold(label);
    let label = strip_bullet(&folded).to_lowercase();
    let label = label.trim().trim_matches(['*', '_']).trim();
    // `【公司名称】`, `[Company name]`.
    let label = match label.strip_prefix(['【', '[']).and_then(|l| l.strip_suffix(['】', ']'])) {
        Some(inner) => inner.trim(),
        None => label,
    };
    if label.is_empty() || label.chars().count() > 100 {
        return None;
    }
    // Split into the top level and the parenthesised groups.
    let mut top = String::new();
    let mut groups: Vec<String> = Vec::new();
    let mut depth = 0usize;
    for c in label.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                if depth == 1 {
                    groups.push(String::new());
                    top.push('/');
                }
            }
            ')' | ']' if depth > 0 => depth -= 1,
            _ if depth > 0 => {
                if let Some(g) = groups.last_mut() {
                    g.push(c);
                }
            }
            _ => top.push(c),
        }
    }
    let pieces = |text: &str| -> Option<Option<Field>> {
        // `Some(Some(f))`: all pieces name f; `Some(None)`: no pieces;
        // `None`: an unknown piece or two fields.
        let mut found: Option<Field> = None;
        for piece in text.split(['/', '|', '\\', ',', '、', '*', ':']) {
            for piece in piece.split(" or ").flat_map(|p| p.split('或')) {
                let sq: String = piece.chars().filter(|c| !c.is_whitespace()).collect();
                if sq.is_empty() {
                    continue;
                }
                let f = field_of_mixed(&sq)?;
                if found.is_some_and(|g| g != f) {
                    return None;
                }
                found = Some(f);
            }
        }
        Some(found)
    };
    let field = pieces(&top)??;
    for g in &groups {
        if let Some(Some(other)) = pieces(g)
            && other != field
        {
            return None;
        }
    }
    Some(field)
}

/// The first `:` or `：` outside parentheses, and its length.
pub(super) fn label_colon(line: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (i, c) in line.char_indices() {
        match c {
            '(' | '（' | '[' => depth += 1,
            ')' | '）' | ']' => depth = depth.saturating_sub(1),
            // `∶` and `︰` come from some Chinese input methods.
            ':' | '：' | '∶' | '︰' if depth == 0 => return Some((i, c.len_utf8())),
            _ => {}
        }
    }
    None
}

/// Whether a label may stand alone on its line with the value on the next
/// one: only specific labels (`Company name`, not `Company`).
pub(super) fn may_stand_alone(line: &str) -> bool {
    squash(strip_bullet(&fold(line))).len() >= 8
}

/// A field line: the field and the text after the label. The label ends at
/// a colon; without one, at a tab, a `|` or two spaces (tables converted
/// from HTML). A line that is only a specific label counts too, with an
/// empty value (the value is then on the next line).
pub(super) fn field_line(line: &str) -> Option<(Field, &str)> {
    if let Some((i, n)) = label_colon(line)
        && let Some(f) = field_of_label(line.get(..i)?)
    {
        return Some((f, line.get(i + n..).unwrap_or("")));
    }
    let t = line.trim().trim_matches('|').trim();
    for sep in ["\t", "|", "  ", "\u{3000}", " - ", " – ", " — "] {
        let Some((label, value)) = t.split_once(sep) else { continue };
        // A table row: the value is the next cell that is not empty (a
        // spacer cell may come first), and a row of labels is no field.
        let value = match sep {
            "\t" | "|" => value.split(sep).map(str::trim).find(|c| !c.is_empty()).unwrap_or(""),
            _ => value.trim(),
        };
        if !value.is_empty()
            && (matches!(sep, "\t" | "|" | "\u{3000}") || may_stand_alone(label))
            && let Some(f) = field_of_label(label)
        {
            if matches!(sep, "\t" | "|") && cell_label(value).is_some() {
                return None;
            }
            return Some((f, value));
        }
    }
    // `【公司名称】上海…`: the bracket closes the label.
    if let Some(rest) = t.strip_prefix('【')
        && let Some((label, value)) = rest.split_once('】')
        && let Some(f) = field_of_label(label)
    {
        return Some((f, value.trim_start_matches([':', '：', ' ', '\u{3000}'])));
    }
    if label_colon(line).is_none()
        && may_stand_alone(t)
        && let Some(f) = field_of_label(t)
    {
        return Some((f, ""));
    }
    // `最大注册数 2`: a Chinese label of four characters or more, one blank,
    // then the value (a Chinese label cannot run into its value unseen).
    if label_colon(line).is_none()
        && let Some((label, value)) = strip_bullet(t).split_once([' ', '\u{3000}'])
        && label.chars().count() >= 4
        && label.chars().all(is_cjk)
        && !value.trim().is_empty()
        && let Some(f) = field_of_label(label)
    {
        return Some((f, value.trim()));
    }
    None
}

/// The field a table cell names when the cell is a label and nothing else
/// (`Company name`, `公司名称：`, `公司名称 Company name`); `None` for a cell
/// holding a value, or a label and its value.
pub(crate) fn cell_label(cell: &str) -> Option<Field> {
    let cell = cell.trim();
    let bare = cell.trim_end_matches([':', '：', ' ', '\t', '*']);
    if label_colon(bare).is_some() {
        return None;
    }
    field_of_label(bare)
}
