//! How company names are compared.
//!
//! - [`company_key`]: exactly, as contracts are found: full-width forms
//!   folded, white space trimmed and collapsed, lowercase.
//! - [`same_company_but_legal_form`]: leniently, only ever against the
//!   contract of a mail's own authenticated sender: legal-form spelling,
//!   punctuation, spacing, width and a translation in parentheses set aside
//!   ([`legal_form_key`]).

/// Full-width ASCII forms and the ideographic space to their ASCII forms.
pub fn fold_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The key companies are compared by: full-width forms folded, white space
/// trimmed and collapsed, lowercase.
pub fn company_key(name: &str) -> String {
    let folded: String = name.chars().map(fold_width).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Legal-form endings, as token sequences (lower case, punctuation removed),
/// and the one form each stands for. Longest first: `co ltd` before `ltd`.
const LEGAL_FORMS: &[(&[&str], &str)] = &[
    (&["company", "limited"], "ltd"),
    (&["company", "ltd"], "ltd"),
    (&["co", "limited"], "ltd"),
    (&["co", "ltd"], "ltd"),
    (&["limited"], "ltd"),
    (&["ltd"], "ltd"),
    (&["incorporated"], "inc"),
    (&["inc"], "inc"),
    (&["corporation"], "corp"),
    (&["corp"], "corp"),
    (&["l", "l", "c"], "llc"),
    (&["llc"], "llc"),
    (&["company"], "co"),
    (&["co"], "co"),
];

/// The key a company name is compared by **leniently**, only ever against
/// the contract of the mail's own authenticated sender (never to find a
/// contract: that is [`company_key`], exact): what is left when legal-form
/// spelling, punctuation, spacing and width are set aside.
///
/// - Full-width forms are folded and letters lower-cased; every character
///   that is not a letter or a digit (spaces, `.,;:&'"-/`, parentheses of
///   either width) separates words and is then dropped, so `（深圳）` is
///   `(深圳)` is `深圳`, and `Co.,Ltd.` is `Co. Ltd` is `co ltd`.
/// - One legal-form ending is replaced by the form it spells:
///   `Co., Ltd.` = `Company Limited` = `Ltd.` = `Limited`; `Inc` =
///   `Incorporated`; `Corp.` = `Corporation`; `LLC` = `L.L.C.`; `Co.` =
///   `Company`; Chinese `有限责任公司` = `有限公司` (the Company Law allows
///   either for one form; `股份有限公司` is another form and stays itself).
/// - Every other word must be the same, in the same order: `Northwind
///   Trading` is not `Northwind Traders`, `Acme Ltd` is not `Acme Holdings
///   Ltd`.
pub fn legal_form_key(name: &str) -> String {
    let folded: String = name.chars().map(fold_width).collect::<String>().to_lowercase();
    let mut words: Vec<&str> = folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut form = "";
    for (tail, canonical) in LEGAL_FORMS {
        if words.len() >= tail.len() && words.ends_with(tail) {
            words.truncate(words.len() - tail.len());
            form = canonical;
            break;
        }
    }
    let mut key: String = words.concat();
    if form.is_empty()
        && let Some(stem) = key.strip_suffix("有限责任公司")
    {
        key = format!("{stem}有限公司");
    }
    format!("{key}|{form}")
}

/// Whether two company names differ only in legal-form spelling,
/// punctuation, spacing or width ([`legal_form_key`]).
pub fn same_company_but_legal_form(a: &str, b: &str) -> bool {
    legal_form_key(a) == legal_form_key(b) || translated_names(a).iter().any(|n| legal_form_key(n) == legal_form_key(b))
}

/// The two names of `Name (名称)` or `名称（Name）`: a company name written
/// with its translation in parentheses, one part in Chinese characters and
/// the other without any. Nothing for other parentheses (`Acme Ltd (a
/// subsidiary of …)`, `（深圳）`), which are part of one name.
fn translated_names(name: &str) -> Vec<String> {
    let t = name.trim();
    let Some(open) = t.find(['(', '（']) else { return Vec::new() };
    let Some(inner) = t.get(open..).and_then(|r| r.strip_suffix([')', '）'])) else { return Vec::new() };
    let inner = inner.trim_start_matches(['(', '（']).trim();
    let outer = t.get(..open).unwrap_or("").trim();
    let han = |s: &str| s.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    let latin = |s: &str| s.chars().any(|c| c.is_ascii_alphabetic());
    let translation = (han(outer) && !latin(outer) && latin(inner) && !han(inner))
        || (han(inner) && !latin(inner) && latin(outer) && !han(outer));
    if translation && !inner.contains(['(', '（']) && !outer.is_empty() {
        vec![outer.to_owned(), inner.to_owned()]
    } else {
        Vec::new()
    }
}
