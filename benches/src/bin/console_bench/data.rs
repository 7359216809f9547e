//! The vendor home the console benchmark reads: 10,000 contracts, 50,000
//! licenses, 100,000 decisions (~200 of them held), ~50,000 bindings, a few
//! thousand outbox entries and ~250,000 audit rows, written through the
//! issuer's public store API in a handful of transactions.
//!
//! Every row is realistic (distinct ids, companies, projects; expiries spread
//! over three years; some revoked, some superseded; raw registration mails of
//! 3–8 KB), but all licenses share two real signed bodies: signing 50,000
//! would cost minutes and the console never verifies what it lists.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    time::Instant,
};

use fanlic_formats::{Date, Envelope, Expiry, KeyId, License, LicenseId, LicenseKind, Timestamp, Version};
use fanlic_issuer::{
    Home, InitOptions, IssueInput, IssueRequest, contracts,
    store::{
        DecisionKind, Language, LicenseState, NewLicense, Reply, ReplyAttachment,
        audit::Action,
        bindings::NewBinding,
        decisions::{DecisionEvent, NewDecision},
    },
};

/// The sizes of the home.
pub const CONTRACTS: usize = 10_000;
/// Licenses (each with its issue decision or hand issue).
pub const LICENSES: usize = 50_000;
/// Decisions in all.
pub const DECISIONS: usize = 100_000;
/// Held decisions among them.
pub const HELD: usize = 200;
/// Outbox entries.
pub const OUTBOX: usize = 3_000;
/// Console logins (and as many logouts) in the audit trail.
pub const LOGINS: usize = 42_000;

/// "Now" of the generated history: the day the figures were first taken.
/// Fixed so that a cached home is the same home; the console reads the real
/// clock, so "expiring in 30 days" counts against the days after it.
pub const NOW: u64 = 1_796_256_000; // 2026-12-03T00:00:00Z
const DAY: u64 = 86_400;
/// Three years of history.
const SPAN: u64 = 3 * 365 * DAY;

/// Staff who act in the history (the benchmark logs in as `bench-admin`).
pub const STAFF: [&str; 8] =
    ["wang.fang", "li.na", "zhang.wei", "liu.yang", "chen.jing", "alice.smith", "zhao.lei", "sun.li"];

/// splitmix64: fixed seeds, the same home every time.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const CITIES: [&str; 24] = [
    "Shanghai",
    "Beijing",
    "Shenzhen",
    "Guangzhou",
    "Hangzhou",
    "Suzhou",
    "Nanjing",
    "Chengdu",
    "Wuhan",
    "Xiamen",
    "Ningbo",
    "Qingdao",
    "Tianjin",
    "Chongqing",
    "Dalian",
    "Hefei",
    "Changsha",
    "Zhengzhou",
    "Jinan",
    "Fuzhou",
    "Kunming",
    "Xi'an",
    "Shenyang",
    "Wuxi",
];
const NAMES: [&str; 40] = [
    "Huaxin",
    "Zhongke",
    "Tianrui",
    "Hengtong",
    "Jinfeng",
    "Longsheng",
    "Xinda",
    "Baohua",
    "Ruifeng",
    "Dongfang",
    "Kaiyuan",
    "Minsheng",
    "Yuanda",
    "Guotai",
    "Hongxing",
    "Changjiang",
    "Lianhe",
    "Fuyuan",
    "Shengshi",
    "Boyuan",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Woodgrove",
    "Proseware",
    "Wingtip",
    "Lucerne",
    "Margie",
    "Alpine",
    "Blue Yonder",
    "Coho",
    "Humongous",
    "Trey",
    "Fourth Coffee",
    "Wide World",
    "Graphic",
    "Southridge",
];
const TRADES: [&str; 20] = [
    "Electronics",
    "Manufacturing",
    "Logistics",
    "Pharmaceutical",
    "Trading",
    "Software",
    "Steel",
    "Textile",
    "Energy",
    "Foods",
    "Chemical",
    "Auto Parts",
    "Retail",
    "Securities",
    "Insurance",
    "Construction",
    "Medical",
    "Semiconductor",
    "Shipping",
    "Bank",
];
const FORMS: [&str; 4] = ["Co., Ltd.", "Group Co., Ltd.", "Technology Co., Ltd.", "Holdings Limited"];
const PROJECTS: [&str; 16] = [
    "webroot",
    "mes-reports",
    "finance-bi",
    "hr-portal",
    "erp-dashboard",
    "sales-analysis",
    "warehouse",
    "quality",
    "supply-chain",
    "crm-reports",
    "bi-platform",
    "ops-monitor",
    "audit-reports",
    "budget",
    "decision",
    "datacenter",
];
const PEOPLE: [&str; 16] = [
    "li.ming",
    "wang.lei",
    "zhang.min",
    "liu.hui",
    "chen.tao",
    "yang.xue",
    "huang.bo",
    "zhou.jie",
    "wu.qiang",
    "xu.lin",
    "sun.hao",
    "ma.li",
    "alice",
    "bob",
    "carol",
    "david",
];

/// One contract as generated.
struct GenContract {
    company: String,
    email: String,
    product: &'static str,
    signed: Date,
    max_licenses: u32,
}

/// One license as generated.
struct GenLicense {
    id: LicenseId,
    contract: usize,
    project: String,
    kind: LicenseKind,
    issued_at: u64,
    expiry: Expiry,
    state: LicenseState,
    /// Hand-issued (`fanlic issue`) rather than from a mail.
    by_hand: bool,
}

fn slug(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

fn date_of(ts: u64) -> Date {
    Timestamp(ts).date()
}

/// An RFC 5322 date of `ts` in +0800.
fn mail_date(ts: u64) -> String {
    let local = ts + 8 * 3600;
    let d = date_of(local);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const WEEK: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let s = local % DAY;
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0800",
        WEEK[((local / DAY) % 7) as usize],
        d.day(),
        MONTHS[usize::from(d.month()) - 1],
        d.year(),
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// A registration mail as customers' mail systems send them: relays,
/// DKIM, the form in the body, often a signature image or a scanned form
/// as an attachment; 3–8 KB.
#[allow(clippy::too_many_arguments)]
fn registration_mail(
    rng: &mut Rng,
    n: usize,
    c: &GenContract,
    project: &str,
    nodes: u32,
    at: u64,
    message_id: &str,
) -> String {
    let domain = c.email.split('@').nth(1).unwrap_or("customer.example");
    let person = c.email.split('@').next().unwrap_or("it");
    let mut m = String::with_capacity(8 << 10);
    let _ = write!(
        m,
        "Return-Path: <{email}>\r\nDelivered-To: license@vendor.example\r\nReceived: from mx1.{domain} \
         (mx1.{domain} [203.0.113.{a}])\r\n\tby mx.vendor.example (Postfix) with ESMTPS id 4R{n:08X}\r\n\tfor \
         <license@vendor.example>; {date}\r\nReceived: from mail.{domain} (mail.{domain} [10.1.{a}.{b}])\r\n\tby \
         mx1.{domain} with ESMTP id {n:x}; {date}\r\nAuthentication-Results: mx.vendor.example; dkim=pass \
         header.d={domain} header.s=s1 header.b=Zx{b}; dmarc=pass (p=quarantine) header.from={domain}; spf=pass \
         smtp.mailfrom={domain}\r\nDKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=s1; \
         t={at};\r\n\th=from:to:subject:date:message-id:mime-version:content-type;\r\n\tbh=",
        email = c.email,
        a = 1 + rng.below(250),
        b = 1 + rng.below(250),
        date = mail_date(at),
    );
    b64(rng, 44, &mut m);
    m.push_str(";\r\n\tb=");
    for _ in 0..5 {
        b64(rng, 68, &mut m);
        m.push_str("\r\n\t ");
    }
    let _ = write!(
        m,
        "\r\nFrom: \"{person}\" <{email}>\r\nTo: license@vendor.example\r\nSubject: Official Authorization \
         Document of {company}'s Registration for {product}\r\nDate: {date}\r\nMessage-ID: <{message_id}>\r\n\
         MIME-Version: 1.0\r\nX-Mailer: Foxmail 7.2.25.375[cn]\r\nContent-Type: multipart/mixed; \
         boundary=\"----=_NextPart_{n:016X}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n\
         ------=_NextPart_{n:016X}\r\nContent-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: \
         8bit\r\n\r\nDear FanRuan team,\r\n\r\nPlease register our project.\r\n\r\nCompany name: {company}\r\n\
         Project name: {project}\r\nContract signing date: {signed}\r\nRegistration method: Local container\r\n\
         Maximum number of registration: {nodes}\r\nProject Version: 11.0.{minor}\r\nJAR package version: \
         2024.05.09 (Build#persist-2024.05.09.10.22.33.88)\r\n\r\nThank you.\r\n\r\n{person}\r\nIT Department, \
         {company}\r\nTel: +86 21 5555 {tel:04}\r\n\r\n",
        email = c.email,
        company = c.company,
        product = c.product,
        date = mail_date(at),
        signed = c.signed,
        minor = 10 + rng.below(20),
        tel = rng.below(10_000),
    );
    // The signature image most clients attach: 1–5 KB of base64.
    let _ = write!(
        m,
        "------=_NextPart_{n:016X}\r\nContent-Type: image/png; name=\"signature.png\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: inline; filename=\"signature.png\"\r\n\r\n"
    );
    let lines = 16 + rng.below(64);
    for _ in 0..lines {
        b64(rng, 76, &mut m);
        m.push_str("\r\n");
    }
    let _ = write!(m, "\r\n------=_NextPart_{n:016X}--\r\n");
    m
}

fn b64(rng: &mut Rng, len: usize, out: &mut String) {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for _ in 0..len {
        out.push(char::from(A[rng.below(64) as usize]));
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Builds the home in `dir` (which must not exist).
#[allow(clippy::too_many_lines)]
pub fn build(dir: &Path) {
    let t = Instant::now();
    let now = Timestamp(NOW);
    let start = NOW - SPAN;
    let (mut home, _) = Home::init(dir, &InitOptions { authserv_ids: vec![], valid_for_days: None, now }).unwrap();
    let mut rng = Rng::new(15);

    // Contracts: one CSV import (audited as `contract-import`, one row each).
    let mut cs = Vec::with_capacity(CONTRACTS);
    let mut seen = std::collections::HashSet::new();
    while cs.len() < CONTRACTS {
        let (city, name, trade, form) = (rng.pick(&CITIES), rng.pick(&NAMES), rng.pick(&TRADES), rng.pick(&FORMS));
        let company = if rng.below(3) == 0 {
            format!("{name} {trade} ({city}) {form}")
        } else {
            format!("{city} {name} {trade} {form}")
        };
        // More companies than the lists make: a branch number, as groups have.
        let company = if seen.contains(&company) { format!("{company} Branch No. {}", cs.len()) } else { company };
        if !seen.insert(company.clone()) {
            continue;
        }
        let email = format!("{}@{}-{}{}.example.com", rng.pick(&PEOPLE), slug(name), slug(trade), cs.len());
        let signed = date_of(start + rng.below(SPAN));
        let product = if rng.below(4) == 0 { "FineBI" } else { "FineReport" };
        cs.push(GenContract { company, email, product, signed, max_licenses: 1 });
    }
    // Which contract each license is drawn under, first: a contract allows
    // at least as many projects as it holds live licenses (the issuer
    // enforces it), often one to two more.
    let mut draw = Rng::new(16);
    let owners: Vec<usize> = (0..LICENSES).map(|_| draw.below(CONTRACTS as u64) as usize).collect();
    for &o in &owners {
        cs[o].max_licenses += 1;
    }
    for c in &mut cs {
        c.max_licenses = (c.max_licenses - 1).max(1) + draw.below(3) as u32;
    }
    let mut csv = String::from("company,email,signed,product,methods,max_nodes,version,expires,max_licenses\n");
    for (i, c) in cs.iter().enumerate() {
        let expires = if i % 5 == 0 { "2099-12-31".to_owned() } else { date_of(NOW + rng.below(SPAN)).to_string() };
        let methods = if i % 10 == 0 { "\"local-container,private-cloud\"" } else { "local-container" };
        let version = if c.product == "FineBI" { "6.1" } else { "11.0" };
        let _ = writeln!(
            csv,
            "\"{}\",{},{},{},{methods},{},{version},{expires},{}",
            c.company,
            c.email,
            c.signed.to_string().replace('-', "/"),
            c.product,
            2 + i % 7,
            c.max_licenses
        );
    }
    let csv_path = dir.join("bench-contracts.csv");
    std::fs::write(&csv_path, csv).unwrap();
    contracts::import(&mut home, &csv_path, false, "wang.fang", Timestamp(start)).unwrap();
    std::fs::remove_file(&csv_path).unwrap();
    eprintln!("  {CONTRACTS} contracts imported in {:.1} s", t.elapsed().as_secs_f64());

    // Two real signed bodies, one per kind of row.
    let body = |home: &mut Home, project: &str| {
        let req = IssueRequest::parse(
            &IssueInput {
                company: "Bench Template Co., Ltd.",
                project,
                app: "FineReport",
                version: "11.0",
                expires: "never",
                signed: "2026/11/20",
                not_before: None,
            },
            LicenseKind::LocalContainer,
            2,
            dir.join(format!("{project}.lic")),
            false,
        )
        .unwrap();
        let issued = home.issue(&req, now).unwrap();
        let stored = home.stored_license(&issued.license_id.to_string()).unwrap().unwrap();
        (stored.file_bytes, stored.armored, stored.issuing_key_id)
    };
    let (file_a, armored_a, key_id) = body(&mut home, "template-a");
    let (file_b, armored_b, _) = body(&mut home, "template-b");
    let mut key = [0u8; 8];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&key_id[2 * i..2 * i + 2], 16).unwrap();
    }
    let key_id = KeyId(key);
    // The row's fields are the generated ones; the template gives the rest.
    let envelope = Envelope::decode(&file_a).unwrap();
    let template = License::decode(envelope.license.message).unwrap();

    // Licenses: ~5 per contract, issued over three years, each for its own
    // project; ~2% revoked, ~4% superseded by a later one of the same project.
    let mut ls: Vec<GenLicense> = Vec::with_capacity(LICENSES);
    let mut per_contract = vec![0u32; CONTRACTS];
    let mut owners = owners.into_iter();
    while ls.len() < LICENSES {
        let Some(contract) = owners.next() else { break };
        per_contract[contract] += 1;
        let k = per_contract[contract];
        let project = format!("{}-{k}", rng.pick(&PROJECTS));
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&rng.next().to_le_bytes());
        id[8..].copy_from_slice(&rng.next().to_le_bytes());
        let issued_at = start + rng.below(SPAN - DAY);
        let expiry =
            if rng.below(5) == 0 { Expiry::Never } else { Expiry::On(date_of(NOW - 180 * DAY + rng.below(SPAN))) };
        let kind = if rng.below(10) == 0 { LicenseKind::PrivateCloud } else { LicenseKind::LocalContainer };
        let state = match rng.below(100) {
            0 | 1 => LicenseState::Revoked,
            2..=5 => LicenseState::Superseded,
            _ => LicenseState::Live,
        };
        ls.push(GenLicense {
            id: LicenseId(id),
            contract,
            project,
            kind,
            issued_at,
            expiry,
            state,
            by_hand: rng.below(20) == 0,
        });
        if state == LicenseState::Superseded {
            // Its successor: same project, later, live.
            let mut id2 = [0u8; 16];
            id2[..8].copy_from_slice(&rng.next().to_le_bytes());
            id2[8..].copy_from_slice(&rng.next().to_le_bytes());
            let later = issued_at + rng.below(NOW - issued_at);
            let project = ls.last().unwrap().project.clone();
            ls.push(GenLicense {
                id: LicenseId(id2),
                contract,
                project,
                kind,
                issued_at: later,
                expiry,
                state: LicenseState::Live,
                by_hand: true,
            });
        }
    }
    ls.truncate(LICENSES);
    // A superseded license whose successor was cut: live after all.
    let succ: std::collections::HashSet<(usize, &str)> = ls
        .iter()
        .filter(|l| l.state == LicenseState::Live && l.by_hand)
        .map(|l| (l.contract, l.project.as_str()))
        .collect();
    let cut: Vec<usize> = ls
        .iter()
        .enumerate()
        .filter(|(_, l)| l.state == LicenseState::Superseded && !succ.contains(&(l.contract, l.project.as_str())))
        .map(|(i, _)| i)
        .collect();
    for i in cut {
        ls[i].state = LicenseState::Live;
    }

    // The timeline: every event in time order, as the store would have
    // recorded it.
    enum Ev {
        License(usize),
        Decision(usize),
        Login(usize),
    }
    let mut evs: Vec<(u64, Ev)> = Vec::with_capacity(LICENSES + DECISIONS + LOGINS);
    let mut mail_issued = 0;
    for (i, l) in ls.iter().enumerate() {
        evs.push((l.issued_at, Ev::License(i)));
        if !l.by_hand {
            mail_issued += 1;
        }
    }
    // The other decisions: rejected mostly, some resent, ignored; held last.
    let others = DECISIONS - mail_issued;
    for j in 0..others {
        let at = if j >= others - HELD { NOW - rng.below(14 * DAY) } else { start + rng.below(SPAN) };
        evs.push((at, Ev::Decision(j)));
    }
    for k in 0..LOGINS {
        evs.push((start + rng.below(SPAN), Ev::Login(k)));
    }
    evs.sort_by_key(|(at, _)| *at);

    let reasons_rejected: [(&str, &str); 5] = [
        ("sender-not-in-contract", "the sender is not an address of the company's contract"),
        ("contract-not-found", "no contract of the company named"),
        ("nodes-exceed-contract", "more nodes than the contract allows"),
        ("version-mismatch", "the version differs from the contract's"),
        ("signing-date-mismatch", "the signing date differs from the contract's"),
    ];
    let reasons_held: [(&str, &str); 4] = [
        ("special-requirements", "a special requirements note"),
        ("sender-unauthenticated", "no trusted DKIM/DMARC pass for the From domain"),
        ("fields-from-quoted-message", "fields read from a quoted message under new text"),
        ("unknown-request", "not a request the issuer knows"),
    ];
    let none: Vec<(String, String)> = Vec::new();
    let bench_dir: PathBuf = dir.join("licenses");
    home.store_mut()
        .write(|tx| {
            for (n, (at, ev)) in evs.iter().enumerate() {
                let at = *at;
                match *ev {
                    Ev::License(i) => {
                        let l = &ls[i];
                        let c = &cs[l.contract];
                        let mail_id = format!("{:x}.{n}@{}", at, c.email.split('@').nth(1).unwrap_or("x"));
                        let id_text = l.id.to_string();
                        let mut license = template;
                        license.id = l.id;
                        license.kind = l.kind;
                        license.app_name = c.product;
                        license.company = &c.company;
                        license.project = &l.project;
                        license.contract_signed = c.signed;
                        license.issued_at = Timestamp(at);
                        license.not_before = Timestamp(at);
                        license.expiry = l.expiry;
                        license.version = if c.product == "FineBI" {
                            Version { major: 6, minor: 1 }
                        } else {
                            Version { major: 11, minor: 0 }
                        };
                        license.max_nodes = 2 + (i % 7) as u32;
                        license.image_public_key = (l.kind == LicenseKind::PrivateCloud).then_some([7; 32]);
                        // A successor: the predecessor becomes superseded first.
                        if l.by_hand
                            && l.state == LicenseState::Live
                            && let Some(prev) = ls[..i].iter().rev().find(|p| {
                                p.contract == l.contract
                                    && p.project == l.project
                                    && p.state == LicenseState::Superseded
                            })
                        {
                            let prev_id = prev.id.to_string();
                            tx.set_license_state(&prev_id, LicenseState::Superseded)?;
                            tx.decision_event(&DecisionEvent {
                                decision_id: None,
                                dedup_key: "",
                                action: Action::Supersede,
                                reasons: &none,
                                license_id: Some(&prev_id),
                                at: Timestamp(at),
                                by: STAFF[n % STAFF.len()],
                            })?;
                        }
                        let (file, armored) = if i % 2 == 0 { (&file_a, &armored_a) } else { (&file_b, &armored_b) };
                        tx.insert_license(&NewLicense {
                            license: &license,
                            issuing_key_id: key_id,
                            file_bytes: file,
                            armored,
                            output_path: &bench_dir.join(format!("{id_text}.lic")),
                            activation_master_version: Some(1),
                        })?;
                        if l.by_hand {
                            tx.decision_event(&DecisionEvent {
                                decision_id: None,
                                dedup_key: "",
                                action: Action::Issue,
                                reasons: &none,
                                license_id: Some(&id_text),
                                at: Timestamp(at),
                                by: STAFF[n % STAFF.len()],
                            })?;
                        } else {
                            let raw = registration_mail(&mut rng, n, c, &l.project, 2, at, &mail_id);
                            let approved = rng.below(10) == 0;
                            tx.insert_decision(&NewDecision {
                                dedup_key: &format!("msgid:{mail_id}"),
                                message_id: Some(&mail_id),
                                source: "maildir:/var/mail/license/new",
                                from: &c.email,
                                subject: &format!(
                                    "Official Authorization Document of {}'s Registration for {}",
                                    c.company, c.product
                                ),
                                decision: DecisionKind::Issued,
                                action: if approved { Action::Approved } else { Action::Issued },
                                reasons: &none,
                                license_id: Some(&id_text),
                                authenticated: true,
                                raw: raw.as_bytes(),
                                raw_size: raw.len() as u64,
                                raw_sha256: &hex(&l.id.0).repeat(2),
                                outbox_id: None,
                                at: Timestamp(at),
                                by: if approved { STAFF[n % STAFF.len()] } else { "fanlic ingest" },
                                request_key: None,
                                joined_to: None,
                            })?;
                        }
                        // Bound at its first activation, a day or so later.
                        let mut fp = [0u8; 32];
                        fp[..16].copy_from_slice(&l.id.0);
                        tx.bind(&NewBinding {
                            license_id: l.id,
                            project_fingerprint: fp,
                            at: Timestamp(at + 3600 + rng.below(2 * DAY)),
                            why: "first confirmed activation",
                            by: "fanlic serve",
                        })?;
                        if l.state == LicenseState::Revoked {
                            let by = STAFF[n % STAFF.len()];
                            let when = Timestamp(at + rng.below(NOW - at));
                            tx.insert_license_revocation(&id_text, "customer asked to destroy", by, when)?;
                            tx.decision_event(&DecisionEvent {
                                decision_id: None,
                                dedup_key: "",
                                action: Action::Revoke,
                                reasons: &none,
                                license_id: Some(&id_text),
                                at: when,
                                by,
                            })?;
                        }
                    }
                    Ev::Decision(j) => {
                        let c = &cs[rng.below(CONTRACTS as u64) as usize];
                        let mail_id = format!("{:x}.{n}@{}", at, c.email.split('@').nth(1).unwrap_or("x"));
                        let project = format!("{}-{}", rng.pick(&PROJECTS), rng.below(9));
                        let nodes = 2 + rng.below(20) as u32;
                        let raw = registration_mail(&mut rng, n, c, &project, nodes, at, &mail_id);
                        let held = j >= others - HELD;
                        let (decision, action, reasons) = if held {
                            let (code, msg) = *rng.pick(&reasons_held);
                            (DecisionKind::Held, Action::Held, vec![(code.to_owned(), msg.to_owned())])
                        } else {
                            match rng.below(100) {
                                0..=84 => {
                                    let (code, msg) = *rng.pick(&reasons_rejected);
                                    let staff = rng.below(8) == 0;
                                    (
                                        DecisionKind::Rejected,
                                        if staff { Action::StaffRejected } else { Action::Rejected },
                                        vec![(code.to_owned(), msg.to_owned())],
                                    )
                                }
                                85..=94 => (DecisionKind::Resent, Action::Resent, Vec::new()),
                                _ => (
                                    DecisionKind::Ignored,
                                    Action::Ignored,
                                    vec![("auto-reply".to_owned(), "an automatic reply".to_owned())],
                                ),
                            }
                        };
                        let request_key = format!("{}|{}|{}|{project}", c.email, c.company, c.product);
                        tx.insert_decision(&NewDecision {
                            dedup_key: &format!("msgid:{mail_id}"),
                            message_id: Some(&mail_id),
                            source: "maildir:/var/mail/license/new",
                            from: &c.email,
                            subject: &format!(
                                "Official Authorization Document of {}'s Registration for {}",
                                c.company, c.product
                            ),
                            decision,
                            action,
                            reasons: &reasons,
                            license_id: None,
                            authenticated: !held,
                            raw: raw.as_bytes(),
                            raw_size: raw.len() as u64,
                            raw_sha256: &format!("{:064x}", n),
                            outbox_id: None,
                            at: Timestamp(at),
                            by: if action == Action::StaffRejected { STAFF[n % STAFF.len()] } else { "fanlic ingest" },
                            request_key: held.then_some(request_key.as_str()),
                            joined_to: None,
                        })?;
                    }
                    Ev::Login(k) => {
                        let by = STAFF[k % STAFF.len()];
                        for (action, when) in [(Action::Login, at), (Action::Logout, at + 600 + rng.below(4 * 3600))] {
                            tx.decision_event(&DecisionEvent {
                                decision_id: None,
                                dedup_key: "",
                                action,
                                reasons: &none,
                                license_id: None,
                                at: Timestamp(when),
                                by,
                            })?;
                        }
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("  licenses, decisions, bindings, audit written in {:.1} s", t.elapsed().as_secs_f64());

    // The outbox: the latest replies, mostly sent, some failed, some waiting.
    const HOLDER: &str = "console-bench";
    home.store_mut()
        .write(|tx| {
            let mut ids = Vec::with_capacity(OUTBOX);
            for i in 0..OUTBOX {
                let l = &ls[LICENSES - 1 - i * 7 % LICENSES];
                let c = &cs[l.contract];
                let at = NOW - (OUTBOX - i) as u64 * 600;
                let reply = Reply {
                    to: c.email.clone(),
                    from: "license@vendor.example".to_owned(),
                    subject: format!(
                        "Re: Official Authorization Document of {}'s Registration for {}",
                        c.company, c.product
                    ),
                    in_reply_to: Some(format!("<{at:x}.{i}@customer.example>")),
                    references: vec![format!("<{at:x}.{i}@customer.example>")],
                    language: if i % 3 == 0 { Language::En } else { Language::Zh },
                    body: format!(
                        "Dear customer,\n\nattached is the license of project {} ({}).\n\nFanRuan licensing\n",
                        l.project, l.id
                    ),
                    attachments: vec![ReplyAttachment {
                        file_name: "Container.lic".to_owned(),
                        content_type: "application/octet-stream".to_owned(),
                        bytes: armored_a.as_bytes().to_vec(),
                    }],
                };
                ids.push((
                    i,
                    at,
                    tx.insert_reply(&reply, &format!("<reply.{i}.{at:x}@vendor.example>"), Timestamp(at))?,
                ));
            }
            // A reply is marked by the flush that leases it: all leased at
            // once, the lease ending at NOW (so none is leased when the
            // console looks), then each marked; the waiting ones keep the
            // lease that ran out, as after a flush that stopped.
            let due = Timestamp(NOW + 3600);
            tx.claim_replies(due, Timestamp(NOW), Timestamp(NOW), HOLDER, u32::MAX)?;
            for (i, at, id) in ids {
                let marked = match i % 50 {
                    0..=2 => tx.mark_reply_failed(id, 8, "smtp: 550 5.1.1 mailbox unavailable", HOLDER)?,
                    3..=4 => tx.mark_reply_retry(id, 2, Timestamp(NOW + 3600), "smtp: connection refused", HOLDER)?,
                    5 => true,
                    _ => tx.mark_reply_sent(id, Timestamp(at + 5), "smtp://smtp.vendor.example:587", HOLDER)?,
                };
                assert!(marked, "reply {id} was leased to {HOLDER}");
            }
            Ok(())
        })
        .unwrap();
    eprintln!("  home built in {:.1} s", t.elapsed().as_secs_f64());
}
