//! Free text: greetings, courtesy, sign-offs, signatures, footers and
//! disclaimers set aside; what the customer's own words ask for (a change,
//! an exception).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::RegistrationFields;
use super::blocks::is_closing;
use super::labels::field_line;
use super::text::{fold, squash};
use super::values::{THANKS, is_none_note};

/// A line's sentences: split after `.`, `!`, `?`, `;` (either width) and
/// `。`, trimmed, non-empty.
pub(super) fn sentences(line: &str) -> impl Iterator<Item = &str> {
    line.split_inclusive(['.', '!', '?', ';', '。', '！', '？', '；'])
        .map(str::trim)
        .filter(|s| s.chars().any(char::is_alphanumeric))
}

/// A list of words and phrases, for matching a line in one pass (every
/// line of every mail is checked: `fanlic ingest`'s time): English phrases
/// by their first word, Chinese ones by their first character.
pub(super) struct Lexicon {
    /// First word of an ASCII phrase → the phrases' words.
    en: HashMap<&'static str, Vec<Vec<&'static str>>>,
    /// First character of another phrase → the phrases.
    zh: HashMap<char, Vec<&'static str>>,
}

impl Lexicon {
    fn new(lists: &[&[&'static str]]) -> Self {
        let mut lex = Self { en: HashMap::new(), zh: HashMap::new() };
        for p in lists.iter().flat_map(|l| l.iter()) {
            if p.is_ascii() {
                let ws: Vec<&'static str> = p.split(' ').collect();
                if let Some(first) = ws.first() {
                    lex.en.entry(*first).or_default().push(ws);
                }
            } else if let Some(c) = p.chars().next() {
                lex.zh.entry(c).or_default().push(p);
            }
        }
        lex
    }

    /// Whether a line, as its lower-case folded text and that text's ASCII
    /// words, holds one of the phrases (English ones as whole words).
    fn matches(&self, folded: &str, words: &[&str]) -> bool {
        let en = words.iter().enumerate().any(|(i, w)| {
            self.en.get(w).is_some_and(|ps| ps.iter().any(|p| words.get(i..i + p.len()) == Some(p.as_slice())))
        });
        en || (!folded.is_ascii()
            && folded.char_indices().any(|(i, c)| {
                self.zh.get(&c).is_some_and(|ps| ps.iter().any(|p| folded.get(i..).is_some_and(|t| t.starts_with(p))))
            }))
    }
}

/// The ASCII words (letters, digits, `'`) of a lower-case folded text.
pub(super) fn ascii_words(folded: &str) -> Vec<&str> {
    folded.split(|c: char| !(c.is_ascii_alphanumeric() || c == '\'')).filter(|w| !w.is_empty()).collect()
}

pub(super) fn exception_lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::new(&[EXCEPTION_PHRASES_EN, EXCEPTION_WORDS_ZH]))
}

pub(super) fn urgency_lexicons() -> &'static (Lexicon, Lexicon) {
    static LEX: OnceLock<(Lexicon, Lexicon)> = OnceLock::new();
    LEX.get_or_init(|| (Lexicon::new(&[URGENCY]), Lexicon::new(&[URGENCY_CONDITIONS])))
}

pub(super) fn disclaimer_lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::new(&[DISCLAIMER]))
}

/// English words and phrases that ask for an exception: more than the
/// contract, another term, product or version, a trial or temporary
/// license, another site.
pub const EXCEPTION_PHRASES_EN: &[&str] = &[
    "extend",
    "extends",
    "extended",
    "extension",
    "prolong",
    "trial",
    "temporary",
    "temporarily",
    "provisional",
    "provisionally",
    "interim",
    "proof of concept",
    "evaluation license",
    "evaluation licence",
    "demo license",
    "more nodes",
    "additional nodes",
    "extra nodes",
    "more than",
    "additional license",
    "additional licence",
    "extra license",
    "extra licence",
    "another license",
    "another licence",
    "second license",
    "more licenses",
    "exceed",
    "exceeds",
    "exceeding",
    "beyond",
    "exception",
    "special",
    "waive",
    "waiver",
    "perpetual",
    "permanent",
    "permanently",
    "unlimited",
    "never expire",
    "never expires",
    "no expiry",
    "no expiration",
    "upgrade",
    "downgrade",
    "different version",
    "another version",
    "other version",
    "older version",
    "newer version",
    "different product",
    "another product",
    "other product",
    "switch to",
    "disaster recovery",
    "dr site",
    "standby",
    "failover",
    "backup server",
    "is it possible",
    "would it be possible",
    "possible to",
    "not yet signed",
    "not signed yet",
    "before the contract",
    "in the meantime",
    "meanwhile",
    "free of charge",
    "discount",
    "transfer",
];

/// Chinese words that ask for an exception (`能否`, `特批`, `延长`,
/// `试用`, `临时`, `超过`, ...).
pub const EXCEPTION_WORDS_ZH: &[&str] = &[
    "能否",
    "能不能",
    "可否",
    "是否可以",
    "是否能",
    "可不可以",
    "特批",
    "特殊",
    "例外",
    "破例",
    "通融",
    "延长",
    "延期",
    "续期",
    "展期",
    "推迟",
    "试用",
    "临时",
    "测试授权",
    "永久",
    "不限",
    "无限",
    "超过",
    "超出",
    "额外",
    "多加",
    "增加",
    "加节点",
    "多给",
    "多开",
    "升级",
    "降级",
    "其他版本",
    "其它版本",
    "别的版本",
    "灾备",
    "容灾",
    "备机",
    "双机",
    "热备",
    "冷备",
    "先发",
    "先给",
    "先开",
    "先出",
    "先提供",
    "合同还没",
    "合同未",
    "合同尚未",
    "后补",
    "补签",
    "免费",
    "优惠",
];

/// Urgency, which asks for an exception only with a condition
/// ([`URGENCY_CONDITIONS`]): "urgent, if the contract is not ready send a
/// temporary one" does; "please handle it soon" does not.
pub(super) const URGENCY: &[&str] = &[
    "urgent",
    "urgently",
    "asap",
    "as soon as possible",
    "immediately",
    "today",
    "tonight",
    "tomorrow",
    "加急",
    "紧急",
    "急用",
    "尽快",
    "马上",
    "立即",
    "今天",
    "明天",
];

/// Conditions that make urgency an exception.
pub(super) const URGENCY_CONDITIONS: &[&str] =
    &["unless", "until", "otherwise", "before", "first", "先", "之前", "否则", "待", "以后", "之后"];

/// Whether a sentence outside the fields asks for an exception: an English
/// phrase of [`EXCEPTION_PHRASES_EN`] (whole words), a Chinese word of
/// [`EXCEPTION_WORDS_ZH`], or urgency with a condition. A "none" sentence
/// (`No special requirements.`, `无特殊要求`) does not; nor does ordinary
/// politeness (`Please issue the license, thanks`, `请帮忙注册，谢谢`).
pub fn asks_for_exception(sentence: &str) -> bool {
    let mut folded = fold(sentence).to_lowercase();
    for p in NOT_EXCEPTIONS {
        if folded.contains(p) {
            folded = folded.replace(p, " ");
        }
    }
    let w = ascii_words(&folded);
    let (urgent, condition) = urgency_lexicons();
    let asks =
        exception_lexicon().matches(&folded, &w) || (urgent.matches(&folded, &w) && condition.matches(&folded, &w));
    asks && !is_none_note(sentence)
}

/// Phrases with an exception word that ask for none: a negation (`No
/// special circumstances`, `无特殊情况`) and the upgraded JAR package a
/// rejection asked for (`JAR包已升级，重新提交如下`).
pub(super) const NOT_EXCEPTIONS: &[&str] = &[
    "no special",
    "nothing special",
    "not special",
    "without special",
    "no exception",
    "无特殊",
    "没有特殊",
    "无特别",
    "没有特别",
    "jar包已升级",
    "jar包已经升级",
    "jar包升级",
    "升级了jar包",
    "已升级jar包",
    "jar包已更新",
    "upgraded the jar",
    "upgraded jar",
    "jar package has been upgraded",
    "jar package was upgraded",
    "jar has been upgraded",
];

/// Whether a line starts a confidentiality notice or disclaimer (the rest
/// of its block is not the customer's words).
pub(super) fn is_disclaimer(line: &str) -> bool {
    let l = fold(line).to_lowercase();
    disclaimer_lexicon().matches(&l, &ascii_words(&l))
}

/// What starts a disclaimer.
pub(super) const DISCLAIMER: &[&str] = &[
    "confidential",
    "confidentiality",
    "intended recipient",
    "intended only for",
    "disclaimer",
    "this e mail and any",
    "this email and any",
    "this message and any",
    "保密",
    "机密",
    "免责声明",
    "本邮件及其附件",
    "本邮件包含",
    "如果您不是本邮件",
    "若您不是",
    "如非指定收件人",
];

/// Whether a line is a mail program's footer or an inline-image
/// placeholder: `Sent from my iPhone`, `Get Outlook for iOS`, `发自我的
/// iPhone`, `[cid:image001.png@...]`, `[image: logo.png]`.
pub(super) fn is_footer(line: &str) -> bool {
    let l = fold(line.trim()).to_lowercase();
    let starts = ["sent from my", "sent from mail for", "get outlook for", "sent with", "发自我的", "发自网易", "来自"];
    starts.iter().any(|p| l.starts_with(p))
        || (l.starts_with("[cid:") || l.starts_with("[image:") || l.starts_with("[图片")) && l.ends_with(']')
}

/// Courtesy phrases (several words, English, or Chinese), removed from a
/// piece of text before its words are checked against [`COURTESY_WORDS`].
pub(super) const COURTESY_PHRASES: &[&str] = &[
    "have not received",
    "haven't received",
    "has not been issued",
    "have not heard back",
    "haven't heard back",
    "not yet received",
    "not received",
    "no reply yet",
    "thank you",
    "any update",
    "any updates",
    "any news",
    "follow up",
    "following up",
    "for your information",
    "in advance",
    "last week",
    "earlier this week",
    "yesterday",
    "a few days ago",
    "some days ago",
    "still waiting",
    "as soon as possible",
    "late reply",
    "as requested",
    "烦请",
    "上周",
    "这边",
    "比较",
    "请查收",
    "请见",
    "尽快",
    "这个",
    "这封",
    "如何",
    "怎么样",
    "见下",
    "详见",
    "如下",
    "下方",
    "下面",
    "下文",
    "以下",
    "附件",
    "原邮件",
    "原始邮件",
    "之前",
    "上次",
    "邮件",
    "申请",
    "注册",
    "授权",
    "项目",
    "信息",
    "资料",
    "谢谢",
    "多谢",
    "感谢",
    "非常",
    "麻烦",
    "辛苦",
    "帮忙",
    "协助",
    "处理",
    "一下",
    "重新",
    "再次",
    "发送",
    "重发",
    "转发",
    "查收",
    "我们",
    "我司",
    "贵司",
    "您好",
    "你好",
    "没有",
    "尚未",
    "收到",
    "回复",
    "进度",
    "请问",
    "已经",
    "提交",
    "一次",
    "审核",
    "确认",
    "烦请",
];

/// Words that, alone or with one another, change nothing: a piece made of
/// them only (and [`COURTESY_PHRASES`]) is courtesy. `not`, `new`,
/// `other`, `instead`, `use`, `make`, `change` and any number are not among
/// them.
pub(super) const COURTESY_WORDS: &[&str] = &[
    "please",
    "pls",
    "plz",
    "kindly",
    "see",
    "find",
    "below",
    "attached",
    "enclosed",
    "following",
    "the",
    "our",
    "my",
    "a",
    "an",
    "this",
    "that",
    "these",
    "is",
    "are",
    "was",
    "it",
    "its",
    "here",
    "as",
    "for",
    "to",
    "of",
    "on",
    "in",
    "from",
    "with",
    "and",
    "we",
    "us",
    "you",
    "your",
    "i",
    "me",
    "thanks",
    "thank",
    "thx",
    "many",
    "much",
    "very",
    "lot",
    "hi",
    "hello",
    "dear",
    "all",
    "team",
    "process",
    "handle",
    "help",
    "register",
    "issue",
    "request",
    "requests",
    "registration",
    "license",
    "licence",
    "mail",
    "email",
    "e",
    "message",
    "original",
    "previous",
    "earlier",
    "again",
    "resend",
    "resending",
    "resent",
    "re",
    "send",
    "sending",
    "sent",
    "forward",
    "forwarding",
    "forwarded",
    "fwd",
    "fw",
    "fyi",
    "have",
    "has",
    "been",
    "yet",
    "received",
    "any",
    "regarding",
    "info",
    "information",
    "details",
    "just",
    "quick",
    "reminder",
    "kind",
    "regards",
    "best",
    "cheers",
    "appreciate",
    "appreciated",
    "would",
    "be",
    "grateful",
    "could",
    "can",
    "project",
    "server",
    "same",
    "sorry",
    "ok",
    "okay",
    "refer",
    "check",
    "assist",
    "assistance",
    "gentle",
    "on",
    "reply",
    "replied",
    "response",
    "heard",
    "back",
    "didn't",
    "get",
    "got",
    "since",
    "requested",
    "mentioned",
    "attention",
    "asap",
    "soon",
    "sir",
    "madam",
    "late",
    "delay",
];

/// Chinese characters left after [`COURTESY_PHRASES`] are removed that
/// change nothing (particles, `请`, `再`, `好`).
pub(super) const COURTESY_CHARS: &str = "的了呢吧啊哈呀哦嗯请再好您你发给还未已过帮中下烦是看急";

/// Who a forwarded request comes from, which changes nothing: `from our
/// (plant IT) team`, `from my colleague`: `from our`/`from my`, at most
/// three words, then one of these.
pub(super) const FORWARDED_FROM: &[&str] =
    &["team", "department", "dept", "colleague", "colleagues", "office", "group"];

/// `s` without `from our|my <up to three words> <FORWARDED_FROM>`.
pub(super) fn without_forwarded_from(s: &str) -> String {
    let w: Vec<&str> = s.split_whitespace().collect();
    let mut out: Vec<&str> = Vec::with_capacity(w.len());
    let mut i = 0;
    while i < w.len() {
        let starts = w.get(i) == Some(&"from") && matches!(w.get(i + 1), Some(&"our" | &"my"));
        let end = (i + 2..(i + 6).min(w.len()))
            .find(|&k| w.get(k).is_some_and(|x| FORWARDED_FROM.contains(&x.trim_end_matches(['.', ',', '!']))));
        match (starts, end) {
            (true, Some(k)) => i = k + 1,
            _ => {
                out.extend(w.get(i));
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// Whether a piece of text (a sentence or part of one) is courtesy only.
pub(super) fn is_courtesy(piece: &str) -> bool {
    let mut s = without_forwarded_from(&fold(piece).to_lowercase());
    for p in COURTESY_PHRASES {
        if s.contains(p) {
            s = s.replace(p, " ");
        }
    }
    s.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|t| !t.is_empty())
        .all(|t| if t.is_ascii() { COURTESY_WORDS.contains(&t) } else { t.chars().all(|c| COURTESY_CHARS.contains(c)) })
}

/// Whether a piece is a greeting: `Hi`, `Hello all`, `Dear FanRuan license
/// team`, `Good morning`, `您好`, `王经理您好`, `尊敬的帆软授权团队`.
pub(super) fn is_greeting(piece: &str) -> bool {
    let l = fold(piece.trim()).to_lowercase();
    if l.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let w = ascii_words(&l);
    let en = ["hi", "hello", "hey", "dear", "greetings", "morning", "afternoon", "evening", "good"];
    if w.first().is_some_and(|f| en.contains(f)) && w.len() <= 6 && l.is_ascii() {
        return true;
    }
    let zh_in = ["您好", "你好", "大家好", "早上好", "上午好", "下午好", "晚上好"];
    let zh_start = ["尊敬的", "亲爱的", "各位", "dear", "hi"];
    l.chars().count() <= 30 && (zh_in.iter().any(|p| l.contains(p)) || zh_start.iter().any(|p| l.starts_with(p)))
}

/// Whether a line closes the mail (what follows is a signature): a
/// closing (`Best regards`, `此致`), or thanks alone, perhaps with a name
/// (`Thanks,`, `Thank you!`, `Thanks, Alice`, `谢谢！`).
pub(super) fn is_sign_off(line: &str) -> bool {
    let short = ["best", "br", "brs", "rgds", "--", "-"];
    if is_closing(line) || short.contains(&squash(line).trim_end_matches([',', '.', '!', '，', '。', '！'])) {
        return true;
    }
    let mut pieces = line.split([',', '，', '!', '！', '.', '。']).map(str::trim).filter(|p| !p.is_empty());
    let Some(first) = pieces.next() else { return false };
    let rest: Vec<&str> = pieces.collect();
    THANKS.contains(&squash(first).as_str())
        && rest.len() <= 1
        && rest.iter().all(|r| r.chars().count() <= 20 && !r.chars().any(|c| c.is_ascii_digit()))
}

/// Whether a line of a signature still asks for something (a signature
/// does not say `make`, `change`, `nodes`, `改成`, `节点`, ...).
pub(super) fn signature_line_asks(line: &str) -> bool {
    let folded = fold(line).to_lowercase();
    let w = ascii_words(&folded);
    let en = ["make", "change", "use", "instead", "correct", "update", "add", "need", "want", "node", "nodes"];
    let zh = ["改", "换", "节点", "延长", "希望", "能否", "需要", "麻烦"];
    w.iter().any(|x| en.contains(x)) || zh.iter().any(|p| folded.contains(p)) || asks_for_exception(line)
}

impl RegistrationFields {
    /// The customer's own words in the fresh text: its lines up to the
    /// first line of a disclaimer. What intent words (`destroy`, `migrate`)
    /// are looked for in: a confidentiality notice's "destroy all copies"
    /// or a quoted reply's text is not the customer asking.
    pub fn own_words(&self) -> String {
        let mut out = String::new();
        for line in self.fresh_text.lines() {
            if is_disclaimer(line) {
                break;
            }
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// Whether the fresh text asks to change something
    /// ([`asks_for_change`]): what a forwarder's cover note must do to hold
    /// the forwarded request.
    pub fn fresh_asks_for_change(&self) -> bool {
        self.fresh_request().is_some_and(|t| asks_for_change(&t))
    }
}

/// How many of the registration's subjects a free text speaks of: the
/// company, the project, the contract or its signing, nodes, the version,
/// the JAR package, the registration method (English or Chinese words).
/// A mail whose fields could not be read but that speaks of several was
/// written as prose, not left empty.
pub fn field_words_in(text: &str) -> usize {
    let folded = fold(text).to_lowercase();
    let groups: [&[&str]; 7] = [
        &["company", "公司"],
        &["project", "项目", "工程"],
        &["contract", "signed", "signing", "合同", "签订", "签署"],
        &["node", "cluster", "节点", "集群"],
        &["version", "版本"],
        &["jar"],
        &["container", "private cloud", "容器", "私有云"],
    ];
    groups.iter().filter(|g| g.iter().any(|w| folded.contains(w))).count()
}

/// Whether a text asks to change something: a number, a field label, a
/// verb of change (`make`, `change`, `use`, `instead`, `should`, `not`,
/// `改`, `换`, `应为`, `不是`, ...) or an exception ([`asks_for_exception`]).
/// A forwarder's cover note (`Please find our request attached`, `Alice is
/// on leave, so I am forwarding it`) asks for none of these.
pub fn asks_for_change(text: &str) -> bool {
    text.lines().any(|line| {
        let folded = fold(line).to_lowercase();
        let w = ascii_words(&folded);
        let en = [
            "should",
            "not",
            "wrong",
            "rather",
            "modify",
            "replace",
            "correct",
            "correction",
            "instead",
            "change",
            "changed",
            "update",
            "updated",
            "make",
            "use",
            "add",
            "remove",
            "only",
            "but",
        ];
        let zh = ["应为", "应该", "修改", "更正", "改", "换", "不是", "而非", "错", "只", "但"];
        // A number alone is no change (a hotline or ticket number in the
        // forwarder's signature); next to a field's word it is.
        let field_word = ["node", "nodes", "version", "project", "date", "节点", "台", "版本", "项目", "日期"];
        (line.chars().any(|c| c.is_ascii_digit())
            && (w.iter().any(|x| field_word.contains(x)) || field_word.iter().skip(5).any(|p| folded.contains(p))))
            || field_line(line).is_some()
            || w.iter().any(|x| en.contains(x))
            || zh.iter().any(|p| folded.contains(p))
            || signature_line_asks(line)
    })
}

impl RegistrationFields {
    /// What the fresh text asks for, if anything: its lines that are not a
    /// greeting, courtesy, a sign-off, a signature, a mail program's footer
    /// or a disclaimer (see the module documentation for the words).
    /// `None` when the customer wrote nothing that could change the request
    /// (a resend or forward with `see below`, `FYI`, `请查收`, `谢谢`).
    pub fn fresh_request(&self) -> Option<String> {
        let said = substantive_lines(&self.fresh_text);
        if said.is_empty() { None } else { Some(said.join("\n")) }
    }
}

/// Whether a line is a short addressee: `张工：`, `Alice,`, `王经理，` (at
/// most ten characters, ending with a colon or comma, no digit, asking
/// nothing).
pub(super) fn is_addressee(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() <= 10
        && t.ends_with([':', '：', ',', '，'])
        && !t.chars().any(|c| c.is_ascii_digit())
        && !signature_line_asks(t)
}

/// Whether a line is a person's name, as a signature starts: one to three
/// capitalised words of letters (`Alice Chen`), or two or three Chinese
/// characters (`张伟`, `陈晓东`).
pub(super) fn is_name(line: &str) -> bool {
    let t = line.trim();
    let words: Vec<&str> = t.split_whitespace().collect();
    let latin = (1..=3).contains(&words.len())
        && words.iter().all(|w| {
            let mut cs = w.chars();
            cs.next().is_some_and(|c| c.is_ascii_uppercase())
                && cs.all(|c| c.is_ascii_lowercase() || c == '-' || c == '\'')
        });
    let n = t.chars().count();
    let han = (2..=3).contains(&n) && t.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c));
    latin || han
}

/// The lines of a fresh text that say something (see
/// [`RegistrationFields::fresh_request`]). The last paragraph is a
/// signature when it starts with a name ([`is_name`]) and no line of it
/// asks for anything.
pub(super) fn substantive_lines(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    // Where the last paragraph starts.
    let last_para = lines.iter().rposition(|l| l.trim().is_empty()).map_or(0, |i| i + 1);
    // Only after some text: a name alone may as well be a project's.
    let trailing_signature = lines.iter().take(last_para).any(|l| !l.trim().is_empty())
        && lines.get(last_para).is_some_and(|l| is_name(l))
        && lines.iter().skip(last_para).all(|l| !signature_line_asks(l));
    let lines = if trailing_signature { lines.get(..last_para).unwrap_or_default() } else { &lines[..] };
    let mut out = Vec::new();
    let mut signature = false;
    for line in lines {
        let t = line.trim();
        if t.is_empty() || is_footer(t) {
            continue;
        }
        if is_disclaimer(t) {
            break;
        }
        if signature {
            if signature_line_asks(t) {
                out.push(t);
            }
            continue;
        }
        if is_sign_off(t) {
            signature = true;
            continue;
        }
        if is_addressee(t) {
            continue;
        }
        let pieces: Vec<&str> = t
            .split([',', ';', ':', '!', '?', '.', '，', '；', '：', '！', '？', '。', '、'])
            .map(str::trim)
            .filter(|p| p.chars().any(char::is_alphanumeric))
            .collect();
        let said = pieces.iter().enumerate().any(|(k, p)| {
            let addressee =
                k == 0 && p.chars().count() <= 12 && pieces.get(1).is_some_and(|n| is_greeting(n)) && !p.contains(' ');
            !(is_greeting(p) || is_courtesy(p) || addressee)
        });
        if said {
            out.push(t);
        } else if pieces.last().is_some_and(|p| THANKS.contains(&squash(p).trim_end_matches(['.', '!']))) {
            // `请查收，谢谢！`, `Please see below. Thanks!`: a sign-off.
            signature = true;
        }
    }
    out
}
