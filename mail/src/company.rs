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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_form_variants_are_one_company() {
        for (a, b) in [
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co.,Ltd."),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co., Ltd"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Co. Ltd"),
            ("Northwind Trading Co., Ltd.", "NORTHWIND TRADING CO.,LTD"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Company Limited"),
            ("Northwind Trading Co., Ltd.", "Northwind Trading Ltd."),
            ("Northwind Trading Co., Ltd.", "Northwind  Trading Limited"),
            ("Contoso Manufacturing Company Limited", "Contoso Manufacturing Co., Ltd."),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Services, Inc"),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Services Incorporated"),
            ("Tailspin Corp.", "Tailspin Corporation"),
            ("Gulf Coast Analytics LLC", "Gulf Coast Analytics, L.L.C."),
            ("Gulf Coast Analytics LLC", "Gulf Coast Analytics L.L.C"),
            ("Acme Co.", "Acme Company"),
            ("明远数据科技（上海）有限公司", "明远数据科技(上海)有限公司"),
            ("明远数据科技（上海）有限公司", "明远数据科技 （上海） 有限公司"),
            ("明远数据科技（上海）有限公司", "明远数据科技上海有限公司"),
            ("上海明远数据科技有限公司", "上海明远数据科技有限责任公司"),
            ("上海明远数据科技有限公司", "上海明远数据科技有限公司\u{3000}"),
            ("ＡＣＭＥ　Ｌｔｄ．", "Acme Ltd"),
        ] {
            assert!(same_company_but_legal_form(a, b), "{a:?} vs {b:?}: {} {}", legal_form_key(a), legal_form_key(b));
        }
    }

    #[test]
    fn other_words_are_another_company() {
        for (a, b) in [
            ("Northwind Trading", "Northwind Traders"),
            ("Northwind Trading Co., Ltd.", "Northwind Traders Co., Ltd."),
            ("Acme Ltd", "Acme Holdings Ltd"),
            ("Acme Ltd", "Acme Inc"),
            ("Acme Corp", "Acme LLC"),
            ("Acme Ltd", "Acme"),
            ("Acme Ltd", "Ltd Acme"),
            ("Fabrikam Data Services Inc.", "Fabrikam Data Service Inc."),
            ("上海明远数据科技有限公司", "上海明远数据科技股份有限公司"),
            ("上海明远数据科技有限公司", "上海明远数据技术有限公司"),
            ("上海明远数据科技有限公司", "明远数据科技（上海）有限公司"),
            ("杭州云帆信息技术股份有限公司", "杭州云帆信息技术有限公司"),
        ] {
            assert!(!same_company_but_legal_form(a, b), "{a:?} vs {b:?}: {}", legal_form_key(a));
        }
        // The exact key used to find a contract is not lenient.
        assert_ne!(company_key("Northwind Trading Co., Ltd."), company_key("Northwind Trading Co. Ltd"));
    }

    #[test]
    fn a_name_with_its_translation_in_parentheses_is_that_company() {
        let c = "广州南方物流集团有限公司";
        assert!(same_company_but_legal_form(
            "Guangzhou Nanfang Logistics Group Co., Ltd. (广州南方物流集团有限公司)",
            c
        ));
        assert!(same_company_but_legal_form(
            "广州南方物流集团有限公司 (Guangzhou Nanfang Logistics Group Co., Ltd.)",
            c
        ));
        assert!(same_company_but_legal_form("Mingyuan Data（上海明远数据科技有限公司）", "上海明远数据科技有限公司"));
        // Not a translation: another company, or another name in the same script.
        assert!(!same_company_but_legal_form("Guangzhou Nanfang Logistics (广州北方物流集团有限公司)", c));
        assert!(!same_company_but_legal_form("Acme Ltd (Northwind Trading Co., Ltd.)", "Northwind Trading Co., Ltd."));
        assert!(!same_company_but_legal_form("深圳某某有限公司（广州南方物流集团有限公司）", c));
    }
}
