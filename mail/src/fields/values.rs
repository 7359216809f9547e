//! Values: dates, build dates, registration methods, node counts,
//! versions, and notes that say "none".

use fanlic_formats::{Date, LicenseKind, Version};

use super::text::{fold, squash};

/// Reads `n` (1..=max) ASCII digits at `*i`, not followed by another digit.
pub(super) fn digits(cs: &[char], i: &mut usize, min: usize, max: usize) -> Option<u32> {
    let start = *i;
    let mut v: u32 = 0;
    while let Some(d) = cs.get(*i).and_then(|c| c.to_digit(10)) {
        if *i - start >= max {
            return None;
        }
        v = v * 10 + d;
        *i += 1;
    }
    if *i - start < min {
        return None;
    }
    Some(v)
}

pub(super) fn skip_spaces(cs: &[char], i: &mut usize) {
    while cs.get(*i).is_some_and(|c| *c == ' ') {
        *i += 1;
    }
}

/// A date pattern at `start`: `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD`
/// (one or two digit month and day) or `YYYY年MM月DD日`. `Some(None)` when
/// it has the shape of a date but is not a real one.
pub(super) fn date_at(cs: &[char], start: usize) -> Option<Option<Date>> {
    let mut i = start;
    let year = digits(cs, &mut i, 4, 4)?;
    skip_spaces(cs, &mut i);
    let sep = *cs.get(i).filter(|c| matches!(c, '-' | '/' | '.' | '年'))?;
    i += 1;
    skip_spaces(cs, &mut i);
    let month = digits(cs, &mut i, 1, 2)?;
    skip_spaces(cs, &mut i);
    let sep2 = *cs.get(i)?;
    if sep2 != if sep == '年' { '月' } else { sep } {
        return None;
    }
    i += 1;
    skip_spaces(cs, &mut i);
    let day = digits(cs, &mut i, 1, 2)?;
    let date = Date::new(u16::try_from(year).ok()?, u8::try_from(month).ok()?, u8::try_from(day).ok()?);
    Some(date)
}

/// Every date pattern in `s` (folded), in order.
pub(super) fn dates_in(s: &str) -> Vec<Option<Date>> {
    let cs: Vec<char> = fold(s).chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let boundary = i == 0 || !cs.get(i - 1).is_some_and(char::is_ascii_digit);
        if boundary && cs.get(i).is_some_and(char::is_ascii_digit) {
            if let Some(d) = date_at(&cs, i) {
                out.push(d);
            }
            // Skip the rest of this run of digits.
            while cs.get(i).is_some_and(char::is_ascii_digit) {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

/// A contract signing date: the first date in the value; without one in
/// the year-first forms, a day and month before the year (`20/11/2026`,
/// `11/20/2026`, `20.11.2026`) when only one reading is a real date
/// (`05/08/2026` could be May or August: no date).
pub(super) fn parse_date(raw: &str) -> Option<Date> {
    let dates = dates_in(raw);
    match dates.first() {
        Some(d) => *d,
        None => year_last_date(&fold(raw)).or_else(|| month_name_date(&fold(raw))),
    }
}

/// `20 November 2026`, `20 Nov. 2026`, `November 20, 2026`, `Nov 20th 2026`:
/// an English month name, a day and a four-digit year, and nothing else
/// (apart from a trailing note in parentheses).
pub(super) fn month_name_date(s: &str) -> Option<Date> {
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let s = s.split(['(', '（']).next().unwrap_or(s).to_lowercase();
    let words: Vec<&str> = s.split([' ', ',', '\t']).filter(|w| !w.is_empty()).collect();
    let [a, b, y] = words.as_slice() else { return None };
    let month = |w: &str| {
        let w = w.trim_end_matches('.');
        let m = MONTHS.iter().position(|m| w.len() >= 3 && (*m == w || (m.starts_with(w) && w.len() <= 4)))?;
        u8::try_from(m + 1).ok()
    };
    let day = |w: &str| {
        let w = ["st", "nd", "rd", "th"].iter().find_map(|x| w.strip_suffix(x)).unwrap_or(w);
        (w.len() <= 2 && w.bytes().all(|c| c.is_ascii_digit())).then(|| w.parse::<u8>().ok()).flatten()
    };
    let (m, d) = match (month(a), month(b)) {
        (Some(m), None) => (m, day(b)?),
        (None, Some(m)) => (m, day(a)?),
        _ => return None,
    };
    if y.len() != 4 || !y.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Date::new(y.parse().ok()?, m, d)
}

/// `D/M/YYYY` or `M/D/YYYY` (`/`, `-` or `.`, the same twice) alone in the
/// value (apart from blanks and a trailing note in parentheses), when
/// exactly one reading is a real date, or both readings are the same date.
pub(super) fn year_last_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let s = s.split(['(', '（']).next().unwrap_or(s).trim();
    let sep = s.chars().find(|c| matches!(c, '/' | '-' | '.'))?;
    let parts: Vec<&str> = s.split(sep).map(str::trim).collect();
    let [a, b, y] = parts.as_slice() else { return None };
    let ok =
        |p: &str, n: core::ops::RangeInclusive<usize>| n.contains(&p.len()) && p.bytes().all(|c| c.is_ascii_digit());
    if !(ok(a, 1..=2) && ok(b, 1..=2) && ok(y, 4..=4)) {
        return None;
    }
    let (a, b, y): (u8, u8, u16) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    match (Date::new(y, b, a), Date::new(y, a, b)) {
        (Some(d), None) | (None, Some(d)) => Some(d),
        (Some(d), Some(e)) if d == e => Some(d),
        _ => None,
    }
}

/// A JAR build date: the first valid date in the value (`2023.12.14`,
/// `persist-2023.12.14.10.22.33.88`), else a run of exactly 8 digits that
/// is a valid `YYYYMMDD`.
pub(super) fn parse_build_date(raw: &str) -> Option<Date> {
    if let Some(d) = dates_in(raw).into_iter().flatten().next() {
        return Some(d);
    }
    let folded = fold(raw);
    folded.split(|c: char| !c.is_ascii_digit()).filter(|r| r.len() == 8).find_map(|r| {
        let y = r.get(..4)?.parse().ok()?;
        let m = r.get(4..6)?.parse().ok()?;
        let d = r.get(6..)?.parse().ok()?;
        Date::new(y, m, d)
    })
}

/// A registration method in any case and spacing.
pub(super) fn parse_method(raw: &str) -> Option<LicenseKind> {
    let s: String = squash(raw).chars().filter(|c| c.is_alphanumeric()).collect();
    let local = s.contains("localcontainer") || s.contains("本地容器") || s == "local" || s == "本地";
    let cloud = s.contains("privatecloud") || s.contains("私有云");
    match (local, cloud) {
        (true, false) => Some(LicenseKind::LocalContainer),
        (false, true) => Some(LicenseKind::PrivateCloud),
        _ => None,
    }
}

/// A node count: a whole number of at least 1, optionally followed by a
/// unit (`3 nodes`, `3个`, `3台`).
pub(super) fn parse_nodes(raw: &str) -> Option<u32> {
    let s = fold(raw);
    let s = s.trim();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    // One Chinese numeral from one to ten (`两个节点`, `三台`).
    const NUMERALS: [char; 11] = ['一', '二', '两', '三', '四', '五', '六', '七', '八', '九', '十'];
    const VALUES: [u32; 11] = [1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let (n, rest) = match s.chars().next() {
        Some(c) if end == 0 && NUMERALS.contains(&c) => {
            let k = NUMERALS.iter().position(|n| *n == c)?;
            let rest = s.get(c.len_utf8()..)?;
            if rest.starts_with(|c: char| NUMERALS.contains(&c)) {
                return None;
            }
            (*VALUES.get(k)?, rest.trim())
        }
        _ => (s.get(..end)?.parse().ok()?, s.get(end..)?.trim()),
    };
    // A remark in parentheses without a number: `1 (single node)`,
    // `2（主备）`, `3 (three)`.
    let rest = match rest.find(['(', '（']) {
        Some(open)
            if rest.ends_with([')', '）']) && !rest.get(open..).unwrap_or("").chars().any(|c| c.is_ascii_digit()) =>
        {
            rest.get(..open).unwrap_or("").trim()
        }
        _ => rest,
    };
    if n == 0 || rest.starts_with(['.', ',', '-', '/']) || rest.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let unit = rest.trim_end_matches(['.', ')', '）']).trim().to_lowercase();
    let units = [
        "",
        "node",
        "nodes",
        "server",
        "servers",
        "instance",
        "instances",
        "个",
        "台",
        "个节点",
        "节点",
        "台服务器",
        "台机器",
        "(nodes)",
        "(node)",
    ];
    if units.contains(&unit.as_str()) { Some(n) } else { None }
}

/// A product version's major.minor: `11.0.20`, `V11.0`, `FineReport 11.0`.
pub(super) fn parse_version(raw: &str) -> Option<Version> {
    let s = fold(raw);
    let start = s.find(|c: char| c.is_ascii_digit())?;
    Version::of_local(s.get(start..)?)
}

/// Whether a note says nothing: empty, or every piece of it (split at line
/// breaks and `,;.!` of either width) is a "none" word (`none`, `N/A`,
/// `no special requirements`, `无`, `暂无`, `无特殊要求`, `没有`, `-`, ...)
/// or thanks (`thanks`, `谢谢`), with at least one "none" word or nothing
/// at all. `无，谢谢` says nothing; `无。另需延长一年` says something.
pub(super) fn is_none_note(s: &str) -> bool {
    let folded = fold(s);
    // `n/a` is one piece: `/` does not split.
    let pieces = folded.split([',', ';', '.', '!', '。', '、', '\n']).map(squash).filter(|p| !p.is_empty());
    let mut none = 0usize;
    for p in pieces {
        if NONE_NOTES.contains(&p.as_str()) {
            none += 1;
        } else if !THANKS.contains(&p.as_str()) {
            return false;
        }
    }
    none > 0 || folded.trim_matches(|c: char| !c.is_alphanumeric()).is_empty()
}

/// What a note says when it says nothing, squashed.
pub(super) const NONE_NOTES: &[&str] = &[
    "none",
    "no",
    "nil",
    "null",
    "n/a",
    "na",
    "-",
    "--",
    "—",
    "——",
    "/",
    "nothing",
    "notapplicable",
    "nothingspecial",
    "nospecialrequirements",
    "nospecialrequirement",
    "nospecialrequests",
    "nospecialrequest",
    "nospecialcircumstances",
    "noremarks",
    "nonotes",
    "无",
    "没有",
    "暂无",
    "无无",
    "否",
    "不涉及",
    "无特殊需求",
    "无特殊要求",
    "无特殊情况",
    "无特殊说明",
    "无其他要求",
    "无其他需求",
    "没有特殊需求",
    "没有特殊要求",
    "没有特殊情况",
    "暂无特殊需求",
    "暂无特殊要求",
    "无备注",
];

/// Thanks, squashed: words that change nothing.
pub(super) const THANKS: &[&str] = &[
    "thanks",
    "thankyou",
    "thx",
    "tks",
    "ty",
    "manythanks",
    "thanksalot",
    "thanksinadvance",
    "thankyouverymuch",
    "谢谢",
    "多谢",
    "感谢",
    "谢谢您",
    "非常感谢",
    "辛苦了",
];
