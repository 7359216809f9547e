//! The sample mails of `fixtures/emails/clients/grammar/`, written the way
//! real clients write them (Outlook and WeCom HTML tables, QQ Mail and 163
//! HTML, Foxmail and Outlook forwards as attachments, Thunderbird and iPhone
//! `format=flowed`, Gmail bold labels): each is parsed as `fanlic ingest`
//! parses it, and every field read is checked, with the subject, the
//! sender's authentication and the contract terms of `contracts.csv` (the
//! staff decision of the folder's README.md: issue, or the one deliberate
//! mistake). Every `.eml` of the folder must be in the table below and in
//! the README.

use std::{collections::BTreeSet, fs, path::PathBuf};

use crate::common::{Env, fanlic, ok};

use fanlic_formats::{Date, LicenseKind, Version};
use fanlic_issuer::contracts;
use fanlic_issuer::ingest::decide::ParsedRequest;
use fanlic_issuer::mail::{auth, fields, message};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails/clients/grammar")
}

/// What a careful reader finds in one sample.
struct Expect {
    file: &'static str,
    company: &'static str,
    project: &'static str,
    signed: (u16, u8, u8),
    method: Option<LicenseKind>,
    nodes: u32,
    version: (u16, u16),
    jar: Option<(u16, u8, u8)>,
    /// The fields come from a forwarded (attached) message.
    forwarded: bool,
    /// The product the subject names (the attached message's when the
    /// mail's own subject names none).
    product: &'static str,
}

const LC: Option<LicenseKind> = Some(LicenseKind::LocalContainer);

const EXPECT: &[Expect] = &[
    Expect {
        file: "outlook-table-zh.eml",
        company: "北京华信恒通科技发展有限公司",
        project: "webroot",
        signed: (2026, 6, 6),
        method: LC,
        nodes: 3,
        version: (11, 0),
        jar: Some((2024, 5, 20)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "wecom-columns-zh.eml",
        company: "杭州云帆信息技术股份有限公司",
        project: "yunfan-report",
        signed: (2026, 7, 1),
        method: LC,
        nodes: 6,
        version: (11, 0),
        jar: Some((2023, 12, 14)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "qqmail-bilingual-zh.eml",
        company: "成都蓉城数智科技有限公司",
        project: "rongcheng-bi",
        signed: (2026, 8, 8),
        method: LC,
        nodes: 2,
        version: (11, 0),
        jar: Some((2024, 3, 8)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "netease163-numbered-table-zh.eml",
        company: "广州南方物流集团有限公司",
        project: "nanfang-report",
        signed: (2026, 4, 18),
        method: LC,
        nodes: 4,
        version: (11, 0),
        jar: Some((2024, 1, 5)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "foxmail-forward-as-attachment-zh.eml",
        company: "深圳市前海星河软件有限公司",
        project: "xinghe-bi",
        signed: (2026, 10, 10),
        method: LC,
        nodes: 1,
        version: (6, 1),
        jar: Some((2024, 6, 18)),
        forwarded: true,
        product: "FineBI",
    },
    Expect {
        file: "outlook-forward-as-attachment-en.eml",
        company: "Fabrikam Data Services Inc.",
        project: "fabrikam-bi",
        signed: (2026, 1, 20),
        method: LC,
        nodes: 4,
        version: (6, 0),
        jar: Some((2024, 2, 27)),
        forwarded: true,
        product: "FineBI",
    },
    Expect {
        file: "thunderbird-flowed-en.eml",
        company: "Contoso Manufacturing Company Limited",
        project: "contoso-mes-reports",
        signed: (2026, 3, 15),
        method: LC,
        nodes: 2,
        version: (11, 0),
        jar: Some((2024, 9, 30)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "iphone-flowed-delsp-zh.eml",
        company: "上海明远数据科技有限公司",
        project: "mingyuan-bi",
        signed: (2026, 9, 1),
        method: LC,
        nodes: 3,
        version: (6, 0),
        jar: Some((2024, 11, 11)),
        forwarded: false,
        product: "FineBI",
    },
    Expect {
        file: "gmail-bold-labels-en.eml",
        company: "Gulf Coast Analytics LLC",
        project: "gca-reporting",
        signed: (2026, 2, 2),
        method: LC,
        nodes: 3,
        version: (11, 0),
        jar: Some((2024, 4, 15)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "outlook-pairs-side-by-side-en.eml",
        company: "Northwind Trading Co., Ltd.",
        project: "webroot",
        signed: (2026, 11, 20),
        method: LC,
        nodes: 2,
        version: (11, 0),
        jar: Some((2023, 12, 14)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "foxmail-table-plain-runs-together-zh.eml",
        company: "杭州云帆信息技术股份有限公司",
        project: "yunfan-report",
        signed: (2026, 7, 1),
        method: LC,
        nodes: 6,
        version: (11, 0),
        jar: Some((2024, 3, 8)),
        forwarded: false,
        product: "FineReport",
    },
    Expect {
        file: "wecom-columns-too-many-nodes-zh.eml",
        company: "深圳市前海星河软件有限公司",
        project: "xinghe-bi",
        signed: (2026, 10, 10),
        method: LC,
        nodes: 2,
        version: (6, 1),
        jar: Some((2024, 6, 18)),
        forwarded: false,
        product: "FineBI",
    },
];

/// One contract of `contracts.csv`: company, addresses, signing date,
/// product, maximum nodes, version.
struct Terms {
    company: String,
    emails: Vec<String>,
    signed: Date,
    product: String,
    max_nodes: u32,
    version: Version,
}

/// The cells of one CSV line (double quotes around a cell that holds commas).
fn csv_cells(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

fn contracts_csv() -> Vec<Terms> {
    let text = fs::read_to_string(dir().join("../contracts.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let c = csv_cells(l);
            Terms {
                company: c[0].clone(),
                emails: c[1].split(';').map(str::to_owned).collect(),
                signed: contracts::parse_signed("signed", &c[2]).unwrap(),
                product: c[3].clone(),
                max_nodes: c[5].parse().unwrap(),
                version: contracts::parse_version("version", &c[6]).unwrap(),
            }
        })
        .collect()
}

fn date((y, m, d): (u16, u8, u8)) -> Date {
    Date::new(y, m, d).unwrap()
}

#[test]
fn client_samples_read_as_staff_read_them() {
    let contracts = contracts_csv();
    let readme = fs::read_to_string(dir().join("README.md")).unwrap();
    for e in EXPECT {
        let raw = fs::read(dir().join(e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
        let mail = message::parse(&raw).unwrap();
        let (f, kind) = fields::parse_request(&mail.subject, &mail.text);
        let ctx = format!("{}:\n{}", e.file, mail.text);
        assert_eq!(kind, fields::RequestKind::Registration, "{ctx}");
        assert_eq!(f.company_name.as_deref(), Some(e.company), "{ctx}");
        assert_eq!(f.project_name.as_deref(), Some(e.project), "{ctx}");
        assert_eq!(f.signing_date.as_ref().and_then(|d| d.value), Some(date(e.signed)), "{ctx}");
        assert_eq!(f.method.as_ref().and_then(|m| m.value), e.method, "{ctx}");
        assert_eq!(f.node_count(), Some(e.nodes), "{ctx}");
        let v = Version { major: e.version.0, minor: e.version.1 };
        assert_eq!(f.project_version.as_ref().and_then(|v| v.value), Some(v), "{ctx}");
        assert_eq!(f.jar_version.as_ref().and_then(|j| j.value), e.jar.map(date), "{ctx}");
        assert_eq!(f.from_earlier_message, e.forwarded, "{ctx}");
        assert!(f.special_requirements.is_none() && f.repeated.is_empty(), "{ctx}");

        // The subject names the company and product (a forwarded request's
        // subject stands in when the mail's own names neither).
        let subject = fields::parse_subject(&mail.subject);
        let inner = mail.attached_subjects.first().map(|s| fields::parse_subject(s)).unwrap_or_default();
        assert_eq!(subject.product.or(inner.product), Some(e.product), "{ctx}");
        assert!(subject.company.is_some() || inner.company.is_some(), "{ctx}");
        assert_eq!(ParsedRequest::of(&mail).company_named().as_deref(), Some(e.company), "{ctx}");

        // The sender is the mail's own, authenticated, and in the contract.
        let sender = mail.single_from().unwrap().to_owned();
        assert!(auth::evaluate_mail(&mail, &["mx.vendor.example".to_owned()]).is_pass(), "{ctx}");
        let c = contracts
            .iter()
            .find(|c| contracts::company_key(&c.company) == contracts::company_key(e.company))
            .unwrap_or_else(|| panic!("{}: no contract", e.file));
        assert!(c.emails.contains(&sender), "{}: {sender}", e.file);
        assert_eq!(c.signed, date(e.signed), "{}", e.file);
        assert_eq!(c.product, e.product, "{}", e.file);
        assert_eq!(c.version, v, "{}", e.file);

        // The README's decision: issue unless the sample asks for more nodes
        // than the contract allows.
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", e.file)))
            .unwrap_or_else(|| panic!("{} is not in the README table", e.file));
        let cells: Vec<&str> = row.trim_matches('|').split('|').map(str::trim).collect();
        let within = e.nodes <= c.max_nodes;
        let (decision, codes) = (cells[3], cells[4]);
        if within {
            assert_eq!((decision, codes), ("issue", ""), "{}", e.file);
        } else {
            assert_eq!((decision, codes), ("reject", "nodes_exceed_contract"), "{}", e.file);
        }
    }
    let files: BTreeSet<String> = fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    let listed: BTreeSet<String> = EXPECT.iter().map(|e| e.file.to_owned()).collect();
    assert_eq!(files, listed);
}

#[test]
fn an_attached_message_never_becomes_the_sender() {
    let raw = fs::read(dir().join("foxmail-forward-as-attachment-zh.eml")).unwrap();
    let mail = message::parse(&raw).unwrap();
    assert_eq!(mail.from, ["wang.fang@xinghe-soft.example"]);
    assert_eq!(mail.attached_subjects, ["关于深圳市前海星河软件有限公司注册FineBI的正式授权文件"]);
    // The inner sender is shown to staff inside the forwarded block only.
    assert!(mail.text.contains("-------- Forwarded Message --------\nSubject: 关于深圳市"), "{}", mail.text);
    assert!(mail.text.contains("From: chen.jie@xinghe-soft.example"), "{}", mail.text);
    // The mail's own subject names neither company nor product.
    let own = fields::parse_subject(&mail.subject);
    assert!(own.company.is_none() && own.product.is_none());
}

#[test]
fn an_attached_message_from_a_contract_address_does_not_make_its_forwarder_one() {
    // The Foxmail sample turned round: an outsider (authenticated for their
    // own domain) forwards, as an attachment, a request that a contract
    // address wrote. The sender checked is the outsider.
    let sample = fs::read_to_string(dir().join("foxmail-forward-as-attachment-zh.eml")).unwrap();
    let (head, rest) = sample.split_once("\r\n\r\n").unwrap();
    let head = head
        .replace("header.d=xinghe-soft.example", "header.d=other.example")
        .replace("header.from=xinghe-soft.example", "header.from=other.example")
        .replace("<wang.fang@xinghe-soft.example>", "<outsider@other.example>");
    let rest = rest.replace("<chen.jie@xinghe-soft.example>", "<wang.fang@xinghe-soft.example>");
    let raw = format!("{head}\r\n\r\n{rest}");
    let mail = message::parse(raw.as_bytes()).unwrap();
    assert_eq!(mail.from, ["outsider@other.example"]);
    assert!(mail.text.contains("From: wang.fang@xinghe-soft.example"), "{}", mail.text);

    let env = Env::temp();
    ok(&env, &["init", "--authserv-id", "mx.vendor.example", "--valid-for-days", "36500"]);
    ok(&env, &["contract", "import", dir().join("../contracts.csv").to_str().unwrap()]);
    let path = env.dir.join("forwarded-by-outsider.eml");
    fs::write(&path, &raw).unwrap();
    let out = fanlic(&env, &["ingest", "--json", "--now", "2026-12-03T08:00:00Z", path.to_str().unwrap()], None);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let codes: Vec<&str> = line["reasons"].as_array().unwrap().iter().map(|r| r["code"].as_str().unwrap()).collect();
    assert_eq!(line["decision"], "rejected", "{line}");
    assert!(codes.contains(&"sender_not_in_contract"), "{line}");
}

#[test]
fn the_html_table_is_read_when_the_plain_alternative_loses_it() {
    let raw = fs::read(dir().join("foxmail-table-plain-runs-together-zh.eml")).unwrap();
    let mail = message::parse(&raw).unwrap();
    // The HTML rendition: one label and its value per line, the company
    // name whole although the HTML source wraps it.
    assert!(mail.text.contains("公司名称\t杭州云帆信息技术股份有限公司\n项目名称\tyunfan-report\n"), "{}", mail.text);
    // A plain alternative that runs the cells together gives no field.
    let plain = "公司名称杭州云帆信息技术股份有限公司项目名称yunfan-report合同签订日期2026.07.01\n";
    assert!(fields::parse_body(plain).is_empty());
}
