//! The body: the fields of each block, several requests, the block the
//! fields are read from, and what kind of request a mail is.

use super::blocks::{Block, blocks};
use super::free_text::{asks_for_exception, is_disclaimer, sentences};
use super::labels::field_line;
use super::subject::strip_subject_prefixes;
use super::text::{clean_value, fold};
use super::values::{is_none_note, parse_build_date, parse_date, parse_method, parse_nodes, parse_version};
use super::{Field, FieldSet, FieldValue, RegistrationFields, RequestKind};

/// Whether two values given for one field say the same: the same value when
/// both parse (`3` and `3 nodes`, `2026/11/20` and `2026年11月20日`), the
/// same company but for legal-form spelling, else the same text.
pub(super) fn same_value(field: Field, a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match field {
        Field::CompanyName => crate::company::same_company_but_legal_form(a, b),
        Field::ProjectName | Field::SpecialRequirements => false,
        Field::SigningDate => parse_date(a).is_some_and(|d| parse_date(b) == Some(d)),
        Field::Method => parse_method(a).is_some_and(|m| parse_method(b) == Some(m)),
        Field::Nodes => parse_nodes(a).is_some_and(|n| parse_nodes(b) == Some(n)),
        Field::Version => parse_version(a).is_some_and(|v| parse_version(b) == Some(v)),
        Field::JarVersion => parse_build_date(a).is_some_and(|d| parse_build_date(b) == Some(d)),
    }
}

/// A project name that lists several projects: `webroot、webroot_dr`,
/// `webroot, test`, `a; b`, and between single words `a and b`, `a & b`
/// (two to four different parts of at most 40 characters each).
pub(super) fn listed_projects(value: &str) -> Vec<String> {
    let folded = fold(value);
    let mut parts: Vec<String> = folded.split([',', ';', '、', '，', '；']).map(|p| p.trim().to_owned()).collect();
    if parts.len() == 1 {
        // `a and b` between single words only: `Sales and Marketing
        // Dashboard` is one name.
        let words: Vec<String> =
            folded.split(" and ").flat_map(|p| p.split(" & ")).map(|p| p.trim().to_owned()).collect();
        if words.iter().all(|w| !w.contains(char::is_whitespace)) {
            parts = words;
        }
    }
    // A description with commas (`…平台，覆盖总部及华东、华南…`) is not a list,
    // nor is one name written twice.
    let short = |p: &String| !p.is_empty() && p.chars().count() <= 40;
    let distinct = parts.iter().any(|p| Some(p) != parts.first());
    if (2..=4).contains(&parts.len()) && parts.iter().all(short) && distinct { parts } else { Vec::new() }
}

/// The fields of one block, and which of its lines are field lines or
/// their values (the others are free text).
pub(super) fn fields_of_block(block: &Block<'_>) -> (RegistrationFields, Vec<bool>) {
    let lines = &block.lines;
    // Each line's field, worked out once (most already by `blocks`).
    let parsed: Vec<Option<(Field, &str)>> = lines
        .iter()
        .zip(block.parsed.iter().chain(core::iter::repeat(&None)))
        .map(|(l, p)| p.unwrap_or_else(|| field_line(l)))
        .collect();
    let field_line = |i: usize| parsed.get(i).copied().flatten();
    let mut consumed = vec![false; lines.len()];
    let mut f = RegistrationFields::default();
    // Field sets: a field seen again starts the next set.
    let mut sets: Vec<FieldSet> = vec![FieldSet::default()];
    let mut i = 0;
    while i < lines.len() {
        let Some((field, after)) = field_line(i) else {
            i += 1;
            continue;
        };
        let mut value = clean_value(after).to_owned();
        let mut next = i + 1;
        if field == Field::SpecialRequirements {
            // A line or a paragraph: continuation lines up to a blank line or
            // another field.
            let mut parts: Vec<&str> = if value.is_empty() { Vec::new() } else { vec![value.as_str()] };
            // The paragraph may start on the next line.
            if parts.is_empty() {
                while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
                    next += 1;
                }
            }
            while let Some(l) = lines.get(next) {
                if l.trim().is_empty() || field_line(next).is_some() {
                    break;
                }
                parts.push(l.trim());
                next += 1;
            }
            let note = parts.join("\n");
            if f.special_requirements.is_none() && !is_none_note(&note) {
                f.special_requirements = Some(note);
            }
            consumed.iter_mut().take(next).skip(i).for_each(|c| *c = true);
            i = next;
            continue;
        }
        if value.is_empty() && after.trim().is_empty() {
            // The value on the next non-blank line, unless that is a label.
            while lines.get(next).is_some_and(|l| l.trim().is_empty()) {
                next += 1;
            }
            if let Some(l) = lines.get(next)
                && field_line(next).is_none()
            {
                value = clean_value(l).to_owned();
                next += 1;
            }
        }
        consumed.iter_mut().take(next).skip(i).for_each(|c| *c = true);
        i = next;
        if value.is_empty() {
            continue;
        }
        let raw = value.as_str();
        let kept = match field {
            Field::CompanyName => f.company_name.get_or_insert_with(|| raw.to_owned()).clone(),
            Field::ProjectName => f.project_name.get_or_insert_with(|| raw.to_owned()).clone(),
            Field::SigningDate => {
                f.signing_date.get_or_insert_with(|| FieldValue::new(raw, parse_date(raw))).raw.clone()
            }
            Field::Method => f.method.get_or_insert_with(|| FieldValue::new(raw, parse_method(raw))).raw.clone(),
            Field::Nodes => f.nodes.get_or_insert_with(|| FieldValue::new(raw, parse_nodes(raw))).raw.clone(),
            Field::Version => {
                f.project_version.get_or_insert_with(|| FieldValue::new(raw, parse_version(raw))).raw.clone()
            }
            Field::JarVersion => {
                f.jar_version.get_or_insert_with(|| FieldValue::new(raw, parse_build_date(raw))).raw.clone()
            }
            Field::SpecialRequirements => continue,
        };
        if !same_value(field, &kept, raw) && !f.repeated.contains(&field) {
            f.repeated.push(field);
        }
        if sets.last().is_some_and(|s| s.get(field).is_some()) {
            sets.push(FieldSet::default());
        }
        if let Some(s) = sets.last_mut() {
            s.fields.push((field, raw.to_owned()));
        }
    }
    f.requests = several_requests(sets);
    (f, consumed)
}

/// The requests of a block's field sets, when there are several: two or
/// more sets of at least two fields each that differ in a value; or one
/// project name that lists several projects. Empty otherwise (one request,
/// perhaps with one field corrected further down).
pub(super) fn several_requests(sets: Vec<FieldSet>) -> Vec<FieldSet> {
    let full: Vec<&FieldSet> = sets.iter().filter(|s| s.fields.len() >= 2).collect();
    let differ = full.iter().enumerate().any(|(k, a)| {
        full.iter()
            .skip(k + 1)
            .any(|b| a.fields.iter().any(|(field, v)| b.get(*field).is_some_and(|w| !same_value(*field, v, w))))
    });
    if full.len() >= 2 && differ {
        return sets.into_iter().filter(|s| !s.fields.is_empty()).collect();
    }
    // `Project name: webroot、webroot_dr`: one set, several projects.
    if let [only] = sets.as_slice()
        && let Some(p) = only.get(Field::ProjectName)
    {
        let projects = listed_projects(p);
        if !projects.is_empty() {
            return projects
                .into_iter()
                .map(|name| FieldSet {
                    fields: only
                        .fields
                        .iter()
                        .map(|(f, v)| (*f, if *f == Field::ProjectName { name.clone() } else { v.clone() }))
                        .collect(),
                })
                .collect();
        }
    }
    Vec::new()
}

/// The registration fields of a text body: those of the newest block that
/// has any (see the module documentation). Never fails: absent fields are
/// `None`, invalid ones keep their raw text.
pub fn parse_body(text: &str) -> RegistrationFields {
    fields_of_blocks(&blocks(text))
}

/// [`parse_body`] and [`classify`] of one mail, cutting its body into
/// blocks once. A subject that asks for an exception
/// ([`asks_for_exception`]) adds to [`RegistrationFields::exception_requests`].
pub fn parse_request(subject: &str, body: &str) -> (RegistrationFields, RequestKind) {
    let blocks = blocks(body);
    let mut fields = fields_of_blocks(&blocks);
    let kind = classify_blocks(subject, &blocks, &fields);
    let (subj, _) = strip_subject_prefixes(subject);
    if asks_for_exception(subj) && !fields.exception_requests.iter().any(|s| s == subj) {
        fields.exception_requests.insert(0, subj.to_owned());
    }
    (fields, kind)
}

pub(super) fn fields_of_blocks(blocks: &[Block<'_>]) -> RegistrationFields {
    let mut order: Vec<(usize, &Block<'_>)> = blocks.iter().enumerate().collect();
    order.sort_by_key(|(_, b)| b.rank());
    // A block with only a special requirements note (a comment on a
    // forwarded request) does not hide the request below it: its note is
    // kept with the request's fields.
    let mut notes: Vec<String> = Vec::new();
    let mut chosen: Option<(usize, RegistrationFields, Vec<bool>)> = None;
    // A correction of a field or two in the fresh text (`Project name:
    // finance_bi` above the quoted request) is not a request of its own:
    // the quoted request is read, and the fresh text says what changes.
    let whole = |f: &RegistrationFields| f.company_name.is_some() && f.project_name.is_some();
    for (k, b) in order {
        let (mut f, consumed) = fields_of_block(b);
        if f.has_request_fields() {
            f.from_earlier_message = b.earlier;
            notes.extend(f.special_requirements.take());
            let partial_fresh = b.rank() == 0 && !whole(&f);
            let earlier_whole = || {
                blocks.iter().enumerate().filter(|(_, e)| e.rank() > 0).find_map(|(j, e)| {
                    let (mut g, c) = fields_of_block(e);
                    whole(&g).then(|| {
                        g.from_earlier_message = true;
                        notes.extend(g.special_requirements.take());
                        (j, g, c)
                    })
                })
            };
            chosen = match partial_fresh.then(earlier_whole).flatten() {
                Some(earlier) => Some(earlier),
                None => Some((k, f, consumed)),
            };
            break;
        }
        notes.extend(f.special_requirements.take());
    }
    let (chosen_at, mut f, chosen_consumed) = match chosen {
        Some((k, f, c)) => (Some(k), f, c),
        None => (None, RegistrationFields::default(), Vec::new()),
    };
    if !notes.is_empty() {
        f.special_requirements = Some(notes.join("\n\n"));
    }
    // The fresh text, and the free lines that may ask for an exception: of
    // the fresh blocks and of the block the fields were read from.
    let mut fresh: Vec<&str> = Vec::new();
    let mut asks: Vec<String> = Vec::new();
    for (k, b) in blocks.iter().enumerate() {
        let fresh_block = b.rank() == 0;
        if !fresh_block && chosen_at != Some(k) {
            continue;
        }
        if fresh_block {
            fresh.extend(b.lines.iter().copied());
        }
        let consumed = if chosen_at == Some(k) { chosen_consumed.clone() } else { fields_of_block(b).1 };
        let free = b.lines.iter().zip(consumed.iter().chain(core::iter::repeat(&false))).filter(|(_, c)| !**c);
        for (line, _) in free {
            if is_disclaimer(line) {
                break;
            }
            for sentence in sentences(line) {
                if asks_for_exception(sentence) && !asks.iter().any(|a| a == sentence) {
                    asks.push(sentence.to_owned());
                }
            }
        }
    }
    f.fresh_text = fresh.join("\n").trim().to_owned();
    f.exception_requests = asks;
    f
}

/// Whether a text asks to cancel a registration: `注销`, `取消注册`, ...;
/// `deregister`, `unregister`; or the verb `cancel`/`revoke` (not
/// `cancelled`) or `cancellation of`, followed within a few words by
/// registration, license, authorization or an old server/project.
pub(super) fn mentions_cancellation(text: &str) -> bool {
    let lower = fold(text).to_lowercase();
    let lower = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    let zh = ["注销", "取消注册", "取消授权", "取消认证", "取消原注册", "解除注册", "撤销注册", "撤销授权"];
    if zh.iter().any(|p| lower.contains(p)) {
        return true;
    }
    if ["deregist", "de-regist", "unregister", "un-register"].iter().any(|p| lower.contains(p)) {
        return true;
    }
    let objects =
        ["registration", "register", "license", "licence", "authoriz", "authoris", "old server", "old project"];
    ["cancel ", "revoke ", "cancellation of "].iter().any(|verb| {
        lower.match_indices(verb).any(|(i, _)| {
            // A whole word: `cancel`, not `precancel`.
            let word_start = lower.get(..i).is_none_or(|h| !h.ends_with(|c: char| c.is_alphanumeric()));
            let after: String = lower.get(i + verb.len()..).unwrap_or("").chars().take(50).collect();
            word_start && objects.iter().any(|o| after.contains(o))
        })
    })
}

/// What a mail asks for. A cancellation (`cancel the registration of the old
/// server`, `注销`, `取消注册`) in the subject or the newest text wins; a
/// registration is a subject about registration/authorization or a body with
/// registration fields; anything else is [`RequestKind::Unknown`]. Quoted
/// earlier messages are not read for cancellation.
pub fn classify(subject: &str, body: &str) -> RequestKind {
    parse_request(subject, body).1
}

pub(super) fn classify_blocks(subject: &str, blocks: &[Block<'_>], fields: &RegistrationFields) -> RequestKind {
    // The fresh text: every block that is not an earlier message.
    // A confidentiality notice ("…to cancel these notices reply
    // UNSUBSCRIBE") is not the customer asking.
    let newest = blocks
        .iter()
        .filter(|b| b.rank() == 0)
        .flat_map(|b| b.lines.iter().copied().take_while(|l| !is_disclaimer(l)))
        .collect::<Vec<_>>();
    let newest = newest.join("\n");
    let (subj, _) = strip_subject_prefixes(subject);
    if mentions_cancellation(subj) || mentions_cancellation(&newest) {
        return RequestKind::CancelRegistration;
    }
    let ls = fold(subj).to_lowercase();
    let subject_says = ["registration", "register", "authorization", "authorisation", "注册", "授权", "认证"]
        .iter()
        .any(|w| ls.contains(w));
    if subject_says || fields.company_name.is_some() || fields.project_name.is_some() {
        RequestKind::Registration
    } else {
        RequestKind::Unknown
    }
}
