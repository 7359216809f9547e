//! Tests of the registration fields: labels, values, blocks, several
//! requests, free text, subjects, and the sample bodies.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
use super::values::*;
use super::*;

fn d(y: u16, m: u8, day: u8) -> Date {
    Date::new(y, m, day).unwrap()
}

fn codes(f: &RegistrationFields, contract: Option<LicenseKind>) -> Vec<&'static str> {
    f.problems(contract).iter().map(Problem::code).collect()
}

const SEED: &str = "Dear team,\n\nCompany name: Example Co.\nProject name: webroot\n\
        Contract signing date: 2026/11/20\nMaximum number of registration: 3\n\
        Project version: 11.0.20\nJAR package version: 2023.12.14 (Build#persist-2023.12.14.10.22.33.88)\n\nThanks\n";

#[test]
fn english_seed() {
    let f = parse_body(SEED);
    assert_eq!(f.company_name.as_deref(), Some("Example Co."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 20)));
    assert_eq!(f.nodes.as_ref().unwrap().value, Some(3));
    assert_eq!(f.node_count(), Some(3));
    let v = f.project_version.as_ref().unwrap();
    assert_eq!(v.raw, "11.0.20");
    assert_eq!(v.value, Some(Version { major: 11, minor: 0 }));
    let j = f.jar_version.as_ref().unwrap();
    assert_eq!(j.value, Some(d(2023, 12, 14)));
    assert!(j.raw.starts_with("2023.12.14 (Build#"));
    assert!(f.method.is_none());
    assert!(f.special_requirements.is_none());
    assert!(!f.from_earlier_message);
    // No method line: the contract's method stands in, else it is missing.
    assert!(codes(&f, Some(LicenseKind::LocalContainer)).is_empty());
    assert!(codes(&f, Some(LicenseKind::PrivateCloud)).is_empty());
    assert_eq!(codes(&f, None), ["missing_field_method"]);
    assert_eq!(f.effective_method(Some(LicenseKind::PrivateCloud)), Some(LicenseKind::PrivateCloud));
}

#[test]
fn chinese_full_width_colons_and_spacing() {
    let body = "公司名称：帆软软件有限公司\n项目名称 ： decision\n合同签订日期：2026年1月5日\n\
            注册方式：本地容器认证\n集群节点数：３\n项目版本：11.0\nJAR包版本：2024-03-08\n特殊需求：无\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("帆软软件有限公司"));
    assert_eq!(f.project_name.as_deref(), Some("decision"));
    assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 1, 5)));
    assert_eq!(f.method.unwrap().value, Some(LicenseKind::LocalContainer));
    assert_eq!(f.nodes.unwrap().value, Some(3));
    assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
    assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 3, 8)));
    assert!(f.special_requirements.is_none());
}

#[test]
fn labels_any_case_bullets_bilingual_and_alternatives() {
    let body = "  1.  COMPANY NAME   :   Acme (Beijing) Ltd.  \n\
            - project NAME: webroot\n\
            • Contract Signing Date/合同签订日期: 2026-02-01\n\
            (4) 认证方式: LOCAL container AUTHENTICATION\n\
            5) Maximum number of registration or Number of nodes in the cluster project: 2 nodes\n\
            a. Project Version（项目版本）: V11.0\n\
            * JAR包版本: persist-20240105\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("Acme (Beijing) Ltd."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 2, 1)));
    assert_eq!(f.method.unwrap().value, Some(LicenseKind::LocalContainer));
    assert_eq!(f.nodes.unwrap().value, Some(2));
    assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
    assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 1, 5)));
}

#[test]
fn full_width_company_kept_verbatim() {
    let f = parse_body("公司名称：示例（北京）科技有限公司；\n");
    assert_eq!(f.company_name.as_deref(), Some("示例（北京）科技有限公司"));
}

#[test]
fn value_on_the_next_line() {
    let body = "Company name:\n\n   Example Co.\nProject name:\nProject version: 11.0\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("Example Co."));
    // The next line is a label: no project name.
    assert!(f.project_name.is_none());
    assert_eq!(f.project_version.unwrap().raw, "11.0");
}

#[test]
fn methods() {
    for (raw, kind) in [
        ("Local Container Authentication", LicenseKind::LocalContainer),
        ("local-container", LicenseKind::LocalContainer),
        ("本地容器认证", LicenseKind::LocalContainer),
        ("(Container) Private Cloud", LicenseKind::PrivateCloud),
        ("container private cloud", LicenseKind::PrivateCloud),
        ("PRIVATE CLOUD", LicenseKind::PrivateCloud),
        ("私有云认证", LicenseKind::PrivateCloud),
        ("容器私有云认证", LicenseKind::PrivateCloud),
    ] {
        assert_eq!(parse_method(raw), Some(kind), "{raw}");
    }
    for raw in ["container", "cloud", "public cloud", "Local container or private cloud", "USB dongle"] {
        assert_eq!(parse_method(raw), None, "{raw}");
    }
    let f = parse_body("Registration method: USB dongle\n");
    assert_eq!(f.method.as_ref().unwrap().raw, "USB dongle");
    assert!(codes(&f, Some(LicenseKind::LocalContainer)).contains(&"unknown_method"));
    assert_eq!(f.effective_method(Some(LicenseKind::LocalContainer)), None);
}

#[test]
fn dates() {
    for (raw, want) in [
        ("2026/11/20", d(2026, 11, 20)),
        ("2026-11-20", d(2026, 11, 20)),
        ("2026年11月20日", d(2026, 11, 20)),
        ("2026 年 1 月 2 日", d(2026, 1, 2)),
        ("２０２６／１１／２０", d(2026, 11, 20)),
        ("2026.11.20", d(2026, 11, 20)),
        ("2026-1-2 (Friday)", d(2026, 1, 2)),
    ] {
        assert_eq!(parse_date(raw), Some(want), "{raw}");
    }
    for raw in ["2026/02/30", "2026-13-01", "05/08/2026", "2026-11/20", "yesterday", "12026/11/20", "1969/12/31"] {
        assert_eq!(parse_date(raw), None, "{raw}");
    }
}

#[test]
fn invalid_date_keeps_raw() {
    let f = parse_body("Contract signing date: 2026/02/30\nJAR package version: latest\n");
    assert_eq!(f.signing_date.as_ref().unwrap().raw, "2026/02/30");
    assert!(f.signing_date.as_ref().unwrap().is_invalid());
    let p = f.problems(Some(LicenseKind::LocalContainer));
    assert!(p.contains(&Problem::InvalidDate { field: Field::SigningDate, raw: "2026/02/30".into() }));
    assert!(p.contains(&Problem::InvalidDate { field: Field::JarVersion, raw: "latest".into() }));
}

#[test]
fn jar_build_strings() {
    for (raw, want) in [
        ("2023.12.14 (Build#persist-2023.12.14.10.22.33.88)", d(2023, 12, 14)),
        ("Build#persist-2023.12.14.10.22.33.88", d(2023, 12, 14)),
        ("fine-report-engine-11.0-RELEASE-2024.03.08", d(2024, 3, 8)),
        ("2024-03-08", d(2024, 3, 8)),
        ("2024年3月8日", d(2024, 3, 8)),
        ("persist-20240105-1022", d(2024, 1, 5)),
    ] {
        assert_eq!(parse_build_date(raw), Some(want), "{raw}");
    }
    for raw in ["11.0.20", "latest", "Build#12345678", "2023.12.34"] {
        assert_eq!(parse_build_date(raw), None, "{raw}");
    }
}

#[test]
fn nodes() {
    for (raw, n) in [("3", 3), ("３", 3), ("3 nodes", 3), ("2个", 2), ("4台", 4), (" 10 ", 10)] {
        assert_eq!(parse_nodes(raw), Some(n), "{raw}");
    }
    for raw in ["three", "0", "-1", "1.5", "3 or 4", "99999999999", "many", "3-4"] {
        assert_eq!(parse_nodes(raw), None, "{raw}");
    }
    let f = parse_body("Number of nodes in the cluster project: three\n");
    assert_eq!(f.node_count(), None);
    assert!(f.problems(None).contains(&Problem::InvalidNodes { raw: "three".into() }));
    for raw in ["0", "-1"] {
        let f = parse_body(&format!("集群节点数：{raw}\n"));
        assert_eq!(f.nodes.as_ref().unwrap().raw, raw);
        assert!(codes(&f, None).contains(&"invalid_nodes"));
    }
    // Absent: 1.
    assert_eq!(parse_body("Company name: X\n").node_count(), Some(1));
}

#[test]
fn versions() {
    for (raw, v) in
        [("11.0.20", (11, 0)), ("V11.0", (11, 0)), ("v6.1", (6, 1)), ("FineBI 6.1.2", (6, 1)), ("１１.０", (11, 0))]
    {
        assert_eq!(parse_version(raw), Some(Version { major: v.0, minor: v.1 }), "{raw}");
    }
    for raw in ["latest", "11", "V11"] {
        assert_eq!(parse_version(raw), None, "{raw}");
    }
    let f = parse_body("Project version: eleven\n");
    assert!(codes(&f, None).contains(&"invalid_version"));
}

#[test]
fn missing_fields() {
    let f = parse_body("Hello, please register us.\n");
    assert!(f.is_empty());
    assert_eq!(
        codes(&f, None),
        [
            "missing_field_company_name",
            "missing_field_project_name",
            "missing_field_signing_date",
            "missing_field_method",
            "missing_field_version"
        ]
    );
    // The JAR version is required for local container only.
    let f = parse_body("Registration method: local container authentication\n");
    assert!(codes(&f, None).contains(&"missing_field_jar_version"));
    let f = parse_body("Registration method: private cloud\n");
    assert!(!codes(&f, None).contains(&"missing_field_jar_version"));
    let f = parse_body("Company name: X\n");
    assert!(codes(&f, Some(LicenseKind::LocalContainer)).contains(&"missing_field_jar_version"));
    assert!(!codes(&f, Some(LicenseKind::PrivateCloud)).contains(&"missing_field_jar_version"));
    // An empty value is a missing field.
    let f = parse_body("Company name:   \n\nProject name: webroot\n");
    assert!(f.company_name.is_none());
}

#[test]
fn quoted_reply_newest_wins() {
    let body = "Company name: New Co.\nProject name: new-project\n\n\
            On Mon, 12 Feb 2024 at 10:22, Bob <bob@example.com> wrote:\n\
            > Company name: Old Co.\n> Project name: old-project\n> Special requirements: old note\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("New Co."));
    assert_eq!(f.project_name.as_deref(), Some("new-project"));
    assert!(f.special_requirements.is_none());
    assert!(!f.from_earlier_message);
    // Bottom posting: the unquoted text wins over the quoted one.
    let body = "On Mon, 12 Feb 2024, Bob wrote:\n> Project name: old\n\nProject name: new\n";
    assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
    // The "On ..." line wrapped before "wrote:".
    let body =
        "Project name: new\n\nOn Mon, 12 Feb 2024 at 10:22, Bob Smith\n<bob@example.com> wrote:\n\nProject name: old\n";
    assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
}

#[test]
fn forwarded_and_header_blocks_ignored_below_fields() {
    for sep in [
        "-------- Forwarded Message --------",
        "---------- Forwarded message ---------",
        "-----Original Message-----",
        "---- 原始邮件 ----",
        "------------------ 原始邮件 ------------------",
        "发件人: 张三 <zs@example.com>",
        "发件人：张三",
        "________________________________",
    ] {
        let body = format!("公司名称：新公司\n项目名称：新项目\n\n{sep}\n项目名称：旧项目\n公司名称：旧公司\n");
        let f = parse_body(&body);
        assert_eq!(f.project_name.as_deref(), Some("新项目"), "{sep}");
        assert_eq!(f.company_name.as_deref(), Some("新公司"), "{sep}");
        assert!(!f.from_earlier_message, "{sep}");
    }
    let body =
        "Project name: new\n\nFrom: Bob <bob@example.com>\nSent: Monday\nTo: us\nSubject: x\n\nProject name: old\n";
    assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
    // `From:` that is not a header block does not cut.
    let body = "From: our IT team\nProject name: webroot\n";
    assert_eq!(parse_body(body).project_name.as_deref(), Some("webroot"));
}

#[test]
fn fields_only_in_the_forwarded_message() {
    let body = "Please handle the request below.\n\n-------- Forwarded Message --------\n\
            Subject: x\nDate: y\nFrom: z\n\nCompany name: Customer Co.\nProject name: webroot\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("Customer Co."));
    assert!(f.from_earlier_message);
    let body = "See below.\n\n> Project name: quoted\n";
    let f = parse_body(body);
    assert_eq!(f.project_name.as_deref(), Some("quoted"));
    assert!(f.from_earlier_message);
}

#[test]
fn signatures_ignored() {
    let body = "Project name: webroot\n-- \nJohn\nCompany name: Signature Co.\n";
    let f = parse_body(body);
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert!(f.company_name.is_none());
    let body = "Project name: webroot\n\nBest regards,\nJohn\nCompany: Signature Co.\n";
    assert!(parse_body(body).company_name.is_none());
    let body = "项目名称：webroot\n\n此致\n敬礼\n公司：签名公司\n";
    assert!(parse_body(body).company_name.is_none());
    // A closing before any field does not end the block.
    let body = "Thanks!\nCompany name: Real Co.\n";
    assert_eq!(parse_body(body).company_name.as_deref(), Some("Real Co."));
}

#[test]
fn special_requirements() {
    let f = parse_body("Special requirements: please make it perpetual\n");
    assert_eq!(f.special_requirements.as_deref(), Some("please make it perpetual"));
    let f = parse_body("Special circumstances:\nWe run two data centres.\nOnly one is active.\n\nProject name: x\n");
    assert_eq!(f.special_requirements.as_deref(), Some("We run two data centres.\nOnly one is active."));
    assert_eq!(f.project_name.as_deref(), Some("x"));
    let f = parse_body("特殊需求：需要支持双机热备\n");
    assert_eq!(f.special_requirements.as_deref(), Some("需要支持双机热备"));
    let f = parse_body("Special requirements\nExtra nodes for testing\n");
    assert_eq!(f.special_requirements.as_deref(), Some("Extra nodes for testing"));
    for none in ["none", "None.", "N/A", "无", "无。", "-", ""] {
        let f = parse_body(&format!("Special requirements: {none}\nProject name: x\n"));
        assert!(f.special_requirements.is_none(), "{none:?}");
    }
    // Special requirements alone count as fields (the mail is held).
    assert!(!parse_body("Remarks: call me\n").is_empty());
}

#[test]
fn not_labels() {
    let body = "The project name is webroot.\nOur company: we are a bank\nNote: version 11\n10:30 meeting\n";
    let f = parse_body(body);
    assert!(f.project_name.is_none());
    assert!(f.project_version.is_none());
    // `Our company` is not a label.
    assert!(f.company_name.is_none());
}

#[test]
fn first_occurrence_in_a_block_wins() {
    let f = parse_body("Project name: first\nProject name: second\n");
    assert_eq!(f.project_name.as_deref(), Some("first"));
    assert_eq!(f.repeated, [Field::ProjectName]);
    // The same value twice is not a repetition.
    let f = parse_body("Project name: same\n项目名称：same\n");
    assert!(f.repeated.is_empty());
    assert!(parse_body(SEED).repeated.is_empty());
}

#[test]
fn crlf_bodies() {
    let f = parse_body("Company name: A\r\nProject name: b\r\n");
    assert_eq!(f.company_name.as_deref(), Some("A"));
    assert_eq!(f.project_name.as_deref(), Some("b"));
}

#[test]
fn subjects_english() {
    let s = parse_subject("Official Authorization Document of Example Co., Ltd.'s Registration for FineReport");
    assert_eq!(s.company.as_deref(), Some("Example Co., Ltd."));
    assert_eq!(s.product, Some("FineReport"));
    assert!(!s.is_reply_or_forward);
    assert!(s.problems().is_empty());
    let s = parse_subject("RE: Fwd: official authorization document of Acme’s registration for finebi");
    assert_eq!(s.company.as_deref(), Some("Acme"));
    assert_eq!(s.product, Some("FineBI"));
    assert!(s.is_reply_or_forward);
    let s = parse_subject("[External] Re[2]: Acme's Registration for FineReport");
    assert_eq!(s.company.as_deref(), Some("Acme"));
    assert!(s.is_reply_or_forward);
    let s = parse_subject("Official Authorization Document of 's Registration for FineReport");
    assert_eq!(s.company, None);
    assert_eq!(s.problems().iter().map(Problem::code).collect::<Vec<_>>(), ["subject_missing_company"]);
    let s = parse_subject("Official Authorization Document of Acme's Registration");
    assert_eq!(s.product, None);
    assert_eq!(s.problems().iter().map(Problem::code).collect::<Vec<_>>(), ["subject_missing_product"]);
    let s = parse_subject("Hello");
    assert_eq!(s, SubjectInfo::default());
}

#[test]
fn subjects_chinese() {
    let s = parse_subject("关于上海示例信息技术有限公司注册FineReport的正式授权文件");
    assert_eq!(s.company.as_deref(), Some("上海示例信息技术有限公司"));
    assert_eq!(s.product, Some("FineReport"));
    let s = parse_subject("回复：关于北京某某科技有限公司的注册FineBI的正式授权文件");
    assert_eq!(s.company.as_deref(), Some("北京某某科技有限公司"));
    assert_eq!(s.product, Some("FineBI"));
    assert!(s.is_reply_or_forward);
    let s = parse_subject("转发: 深圳某公司FineBI注册授权申请");
    assert_eq!(s.company.as_deref(), Some("深圳某公司"));
    assert_eq!(s.product, Some("FineBI"));
    assert!(s.is_reply_or_forward);
    let s = parse_subject("关于注册FineReport的正式授权文件");
    assert_eq!(s.company, None);
    assert_eq!(s.product, Some("FineReport"));
}

#[test]
fn chinese_cancellation_subjects_name_the_company_before_the_verb() {
    // Regression: the company ran on to the next 注册/授权, so the contract
    // of "上海示例信息技术有限公司注销旧服务器" was not found and a genuine
    // cancellation from a contract address was rejected.
    for subject in [
        "关于上海示例信息技术有限公司注销旧服务器FineBI注册的申请",
        "关于上海示例信息技术有限公司的注销FineReport授权申请",
        "关于上海示例信息技术有限公司取消原注册的申请",
        "关于上海示例信息技术有限公司撤销授权的申请",
        "回复：关于上海示例信息技术有限公司解除注册的申请",
    ] {
        assert_eq!(parse_subject(subject).company.as_deref(), Some("上海示例信息技术有限公司"), "{subject}");
        assert_eq!(classify(subject, ""), RequestKind::CancelRegistration, "{subject}");
    }
    // The verb first: the company follows it.
    for subject in ["申请注销上海示例信息技术有限公司FineBI注册", "注销上海示例信息技术有限公司的FineReport授权"]
    {
        assert_eq!(parse_subject(subject).company.as_deref(), Some("上海示例信息技术有限公司"), "{subject}");
    }
}

#[test]
fn classification() {
    let reg = "Official Authorization Document of Acme's Registration for FineReport";
    assert_eq!(classify(reg, SEED), RequestKind::Registration);
    assert_eq!(classify("Hello", SEED), RequestKind::Registration);
    assert_eq!(classify(reg, "see attachment"), RequestKind::Registration);
    assert_eq!(classify("Invoice", "Please pay."), RequestKind::Unknown);
    assert_eq!(RequestKind::Unknown.code(), "unknown_request");
    assert_eq!(
        classify("Re: server move", "Please cancel the registration of the old server.\nThanks"),
        RequestKind::CancelRegistration
    );
    assert_eq!(classify("Cancel registration of old project", ""), RequestKind::CancelRegistration);
    assert_eq!(classify("注销旧服务器的注册", ""), RequestKind::CancelRegistration);
    assert_eq!(classify("申请", "请帮忙取消注册旧项目，谢谢"), RequestKind::CancelRegistration);
    assert_eq!(
        classify("Move", "We would like to cancel\nthe license of the old project."),
        RequestKind::CancelRegistration
    );
    assert_eq!(classify("Move", "Please deregister our old server."), RequestKind::CancelRegistration);
    // A registration whose note mentions a cancelled contract is not a cancellation.
    let note = format!("{SEED}Special requirements: if the contract is cancelled the license should end\n");
    assert_eq!(classify(reg, &note), RequestKind::Registration);
    assert_eq!(classify("Cancel the meeting", "See you."), RequestKind::Unknown);
    // A cancellation only in a quoted earlier message does not count.
    let body = format!("{SEED}\nOn Mon, Bob wrote:\n> Please cancel the registration of the old server.\n");
    assert_eq!(classify(reg, &body), RequestKind::Registration);
}

#[test]
fn fixtures() {
    let seed = parse_body(include_str!("../../../fixtures/emails/bodies/english-seed.txt"));
    assert_eq!(seed.company_name.as_deref(), Some("Northwind Trading Co., Ltd."));
    assert_eq!(seed.project_name.as_deref(), Some("webroot"));
    assert_eq!(seed.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 20)));
    assert_eq!(seed.node_count(), Some(3));
    assert_eq!(seed.project_version.as_ref().unwrap().value, Some(Version { major: 11, minor: 0 }));
    assert_eq!(seed.jar_version.as_ref().unwrap().value, Some(d(2023, 12, 14)));
    assert!(seed.special_requirements.is_none());
    assert!(codes(&seed, Some(LicenseKind::LocalContainer)).is_empty());

    let zh = parse_body(include_str!("../../../fixtures/emails/bodies/chinese-fullwidth.txt"));
    assert_eq!(zh.company_name.as_deref(), Some("上海示例信息技术有限公司"));
    assert_eq!(zh.project_name.as_deref(), Some("decision"));
    assert_eq!(zh.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 3)));
    assert_eq!(zh.method.as_ref().unwrap().value, Some(LicenseKind::LocalContainer));
    assert_eq!(zh.node_count(), Some(2));
    assert_eq!(zh.project_version.as_ref().unwrap().value, Some(Version { major: 11, minor: 0 }));
    assert_eq!(zh.jar_version.as_ref().unwrap().value, Some(d(2024, 3, 8)));
    assert!(zh.special_requirements.is_none());
    assert!(codes(&zh, None).is_empty());

    let pc = parse_body(include_str!("../../../fixtures/emails/bodies/english-private-cloud-reply.txt"));
    assert_eq!(pc.company_name.as_deref(), Some("Contoso Analytics GmbH"));
    assert_eq!(pc.project_name.as_deref(), Some("bi-prod"));
    assert_eq!(pc.method.as_ref().unwrap().value, Some(LicenseKind::PrivateCloud));
    assert_eq!(pc.node_count(), Some(4));
    assert_eq!(pc.project_version.as_ref().unwrap().value, Some(Version { major: 6, minor: 1 }));
    assert_eq!(
        pc.special_requirements.as_deref(),
        Some("We need the license to also cover a disaster-recovery site\nthat is normally switched off.")
    );
    assert!(codes(&pc, None).is_empty());

    let fwd = parse_body(include_str!("../../../fixtures/emails/bodies/chinese-forwarded.txt"));
    assert!(fwd.from_earlier_message);
    assert_eq!(fwd.company_name.as_deref(), Some("北京某某科技有限公司"));
    assert_eq!(fwd.project_name.as_deref(), Some("webroot"));
    assert_eq!(fwd.signing_date.as_ref().unwrap().value, Some(d(2026, 11, 15)));
    assert_eq!(fwd.method.as_ref().unwrap().value, Some(LicenseKind::PrivateCloud));
    assert_eq!(fwd.node_count(), Some(1));
    assert_eq!(fwd.project_version.as_ref().unwrap().value, Some(Version { major: 6, minor: 0 }));
    assert!(fwd.special_requirements.is_none());
    assert!(codes(&fwd, None).is_empty());

    let cancel = include_str!("../../../fixtures/emails/bodies/english-cancel.txt");
    assert_eq!(classify("Re: new server", cancel), RequestKind::CancelRegistration);
    assert!(parse_body(cancel).is_empty());

    let bad = parse_body(include_str!("../../../fixtures/emails/bodies/english-bad-values.txt"));
    assert_eq!(bad.company_name.as_deref(), Some("Litware Ltd."));
    assert_eq!(
        codes(&bad, None),
        ["invalid_date", "unknown_method", "invalid_nodes", "invalid_version", "invalid_date"]
    );
    assert_eq!(bad.nodes.as_ref().unwrap().raw, "three");
    assert_eq!(bad.method.as_ref().unwrap().raw, "Cloud on premises");
}

#[test]
fn label_hints_and_table_layouts() {
    let body = "Contract signing date (YYYY/MM/DD): 2026/11/20\n\
            合同签订日期（格式：YYYY年MM月DD日）：2026年11月21日\n\
            Maximum number of registration(s): 2\n\
            Registration method (Local Container Authentication / Private Cloud): Private Cloud\n\
            | Company name | Table Co. |\n\
            Project name\twebroot\n\
            Project version   11.0.3\n";
    let f = parse_body(body);
    assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 11, 20)));
    assert_eq!(f.nodes.unwrap().value, Some(2));
    assert_eq!(f.method.unwrap().value, Some(LicenseKind::PrivateCloud));
    assert_eq!(f.company_name.as_deref(), Some("Table Co."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
    // Two fields in one label are not a label.
    assert!(parse_body("Company name / Project name: x\n").is_empty());
    // A generic word followed by two spaces is not a label.
    assert!(parse_body("Project  was delayed\n").is_empty());
}

#[test]
fn label_alone_then_value() {
    let f = parse_body("Company name\nAlone Co.\n\nJAR package version\n2024.01.02\nProject\nnot-a-label\n");
    assert_eq!(f.company_name.as_deref(), Some("Alone Co."));
    assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 1, 2)));
    // `Project` alone is too generic to stand alone.
    assert!(f.project_name.is_none());
}

#[test]
fn invisible_characters_and_emphasis() {
    let f = parse_body("\u{FEFF}**Company name:** **Bold Co.**\n\u{200B}Project name:\u{3000}webroot\u{200B}\n");
    assert_eq!(f.company_name.as_deref(), Some("Bold Co."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
}

#[test]
fn thanks_mid_body_does_not_hide_special_requirements() {
    let body = "Project name: webroot\nThanks!\nSpecial requirements: two sites\n\nBest regards,\nAnn\nRemarks: sig\n";
    let f = parse_body(body);
    assert_eq!(f.special_requirements.as_deref(), Some("two sites"));
}

#[test]
fn bottom_posted_reply_is_not_earlier() {
    let body = "On Mon, 12 Feb 2024, Bob wrote:\n> Project name: old\n\nProject name: new\n";
    let f = parse_body(body);
    assert_eq!(f.project_name.as_deref(), Some("new"));
    assert!(!f.from_earlier_message);
    let body = "在 2024年2月12日 10:22，张三 <zs@example.com> 写道：\n项目名称：旧\n";
    let f = parse_body(&format!("项目名称：新\n\n{body}"));
    assert_eq!(f.project_name.as_deref(), Some("新"));
    let body = "---------- 转发的邮件 ---------\n项目名称：转发\n";
    let f = parse_body(body);
    assert_eq!(f.project_name.as_deref(), Some("转发"));
    assert!(f.from_earlier_message);
}

#[test]
fn subjects_are_not_guessed() {
    // No `of` and no possessive: no company.
    assert_eq!(parse_subject("Application for FineReport registration - Acme").company, None);
    assert_eq!(parse_subject("FineReport注册申请").company, None);
    let s = parse_subject("Fwd: FineReport: Acme's Registration");
    assert_eq!(s.company.as_deref(), Some("Acme"));
    assert_eq!(s.product, Some("FineReport"));
    // Full-width product letters.
    let s = parse_subject("关于（测试）公司注册ＦｉｎｅＢＩ的正式授权文件");
    assert_eq!(s.company.as_deref(), Some("（测试）公司"));
    assert_eq!(s.product, Some("FineBI"));
    let s = parse_subject("某公司ＦｉｎｅＲｅｐｏｒｔ注册");
    assert_eq!(s.company.as_deref(), Some("某公司"));
    assert_eq!(s.product, Some("FineReport"));
}

#[test]
fn a_note_on_a_forwarded_request_is_kept() {
    let body = "Remarks: the customer wants a perpetual license\n\n\
            -------- Forwarded Message --------\nCompany name: Customer Co.\nSpecial requirements: two sites\n";
    let f = parse_body(body);
    assert_eq!(f.company_name.as_deref(), Some("Customer Co."));
    assert!(f.from_earlier_message);
    assert_eq!(f.special_requirements.as_deref(), Some("the customer wants a perpetual license\n\ntwo sites"));
    // A note alone is still a field.
    let f = parse_body("特殊需求：加急\n");
    assert!(!f.is_empty());
    assert_eq!(f.special_requirements.as_deref(), Some("加急"));
    // A sentence naming the original mail is not a marker.
    let f = parse_body("请见原邮件中的信息。\n项目名称：webroot\n");
    assert!(!f.from_earlier_message);
}

#[test]
fn never_panics_on_arbitrary_text() {
    let pieces = [
        "Company name",
        "项目名称",
        ":",
        "：",
        "\n",
        " ",
        "  ",
        "\t",
        "|",
        "(",
        "）",
        "（",
        ")",
        ">",
        "-- \n",
        "2026",
        "/",
        "-",
        ".",
        "年",
        "月",
        "日",
        "1",
        "99",
        "０",
        "ＦｉｎｅＢＩ",
        "FineReport",
        "'s Registration",
        "关于",
        "注册",
        "的",
        "wrote:",
        "发件人：",
        "---- 原始邮件 ----",
        "Special requirements",
        "无",
        "•",
        "1、",
        "①",
        "\u{FEFF}",
        "\u{200B}",
        "*",
        "cancel ",
        "Re:",
        "[",
        "]",
        "【",
        "】",
        "é",
        "𝔘",
        "\r\n",
    ];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut lengths = 0;
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..(next() % 40) {
            text.push_str(pieces[(next() % pieces.len() as u64) as usize]);
            lengths += 1;
        }
        let f = parse_body(&text);
        let _ = f.problems(None);
        let _ = parse_body(&pair_table_cells(&text));
        let _ = parse_date(&text);
        let _ = parse_subject(&text);
        let _ = classify(&text, &text);
    }
    assert!(lengths > 3000 * 10);
}

#[test]
fn label_variants() {
    let body = "Contract Signature Date: 2026-03-04\nMax. number of registrations: 5\nFineBI version: 6.1\n\
            Build date: 2025/12/01\n";
    let f = parse_body(body);
    assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 3, 4)));
    assert_eq!(f.nodes.unwrap().value, Some(5));
    assert_eq!(f.project_version.unwrap().value, Some(Version { major: 6, minor: 1 }));
    assert_eq!(f.jar_version.unwrap().value, Some(d(2025, 12, 1)));
    let f = parse_body("１．公司名称：全角编号\n");
    assert_eq!(f.company_name.as_deref(), Some("全角编号"));
    let f = parse_body("No. of nodes: 2\n最大注册数量：4\n");
    assert_eq!(f.nodes.as_ref().unwrap().value, Some(2));
    assert_eq!(f.repeated, [Field::Nodes]);
}

fn fresh(text: &str) -> Option<String> {
    RegistrationFields { fresh_text: text.to_owned(), ..RegistrationFields::default() }.fresh_request()
}

#[test]
fn courtesy_above_a_quote_says_nothing() {
    for text in [
        "",
        "Hi,",
        "Dear FanRuan license team,\n\nPlease see below.\n\nBest regards,\nAlice Chen\nIT Department\nTel: +86 21 5555 0188",
        "Hi Lily, please find below our registration request. Thanks!",
        "Resending our request from last week, as we have not received the license yet.\n\nThanks,\nAlice",
        "FYI",
        "Hello all,\nForwarding the request below. Thank you in advance.\n\nSent from my iPhone",
        "您好，\n\n请查收，谢谢！\n\n张伟\n上海明远数据科技有限公司\n手机：138 0000 0000",
        "王经理，您好：\n见下，麻烦处理一下，谢谢。",
        "您好！之前的邮件没有回复，重新发送一下，请帮忙注册，谢谢。",
        "见下\n\n发自我的iPhone",
        "Please process the request below.\n[cid:image001.png@01DB3D4E.6A7B8C90]\nThis e-mail and any attachments are confidential. Please make sure you are the intended recipient.",
        "FYI - forwarding the request below from our plant IT team.",
        "Please see below.\n\nAlice Chen\nIT Department\nNorthwind Trading Co., Ltd.\nTel: +86 21 5555 0188",
        "张工：\n您好！\n烦请尽快处理，谢谢！",
        "Hi team,\n\nAny update on this? Sorry for the late reply.\n\nAlice",
        "Hello, just following up on the request below. Could you please issue the license? Thank you!",
        "Dear Sir/Madam,\n\nPlease find the request below.",
        "请问这个申请进度如何？",
        "Hi,\n\nForwarding as requested.\n\nBR,\nTom",
        "Hello FanRuan,\n\nPlease refer to the email below for our license registration. Appreciate your help!\n\n\
             Best Regards,\nTom Baker | BI Platform Lead\nM: +1 555 0100",
        "Hi team, resending since I didn't get a reply. Thanks",
        "Gentle reminder on the below.",
        "Kindly assist.",
        "您好：\n\n烦请查收下方的注册申请，谢谢！\n\n--\n赵磊",
        "您好，附件是我们的注册信息，请查收。",
        "麻烦帮忙尽快处理一下哈，我们这边比较急，谢谢！",
        "您好，上周发的申请还没有回复，麻烦看一下。",
        "转发一下，谢谢。",
    ] {
        assert_eq!(fresh(text), None, "{text:?}");
    }
}

#[test]
fn new_text_that_asks_for_anything_counts() {
    for (text, line) in [
        ("Hi,\n\nPlease make it 2 nodes.\n\nThanks,\nAlice", "Please make it 2 nodes."),
        ("Hi, please make it 2 nodes", "Hi, please make it 2 nodes"),
        ("Use project webroot-bi instead.\nRegards", "Use project webroot-bi instead."),
        ("Not this project", "Not this project"),
        ("Thanks!\nPlease make it 2 nodes.", "Please make it 2 nodes."),
        ("您好，节点数改成2个，其他不变。\n谢谢", "您好，节点数改成2个，其他不变。"),
        ("项目名称换成 finance_bi，谢谢！", "项目名称换成 finance_bi，谢谢！"),
        ("Please see below. The server moved to the DR room.", "Please see below. The server moved to the DR room."),
        ("Please see below.\n\nfinance_bi", "finance_bi"),
        ("见下\n\n财务分析平台二期", "财务分析平台二期"),
        ("Please change the project name to finance_bi.", "Please change the project name to finance_bi."),
        ("The JAR version is 2024.06.18 now.", "The JAR version is 2024.06.18 now."),
        ("Sorry, wrong project. It should be bi-prod.", "Sorry, wrong project. It should be bi-prod."),
        ("Same as below but for our test server.", "Same as below but for our test server."),
        ("请把节点数改为3。", "请把节点数改为3。"),
        ("同上", "同上"),
        (
            "Please ignore the previous mail and use the info below.",
            "Please ignore the previous mail and use the info below.",
        ),
        ("Hi, see below. Note the project name changed.", "Hi, see below. Note the project name changed."),
        ("Please issue for 2 nodes only.", "Please issue for 2 nodes only."),
        ("上次的申请作废，以这封为准。", "上次的申请作废，以这封为准。"),
        ("Please register the license below for 2 years.", "Please register the license below for 2 years."),
    ] {
        assert_eq!(fresh(text).as_deref(), Some(line), "{text:?}");
    }
}

#[test]
fn exceptions_in_sentences() {
    for s in [
        "Could we get 5 nodes, more than the contract, for the migration?",
        "Is it possible to extend the license to the end of next year?",
        "We would like a temporary license while the contract is signed.",
        "Please issue a trial license for FineBI as well.",
        "Urgent: if the contract is not ready, send one for a month first.",
        "能否先发一个临时授权？",
        "希望授权期限延长到明年底。",
        "麻烦把授权延长三个月",
        "合同还没盖章，先给一个授权，特批一下。",
        "加急，如果合同没到先处理。",
    ] {
        assert!(asks_for_exception(s), "{s}");
    }
    for s in [
        "Please issue the license, thanks.",
        "Please register the license for our reporting server.",
        "请帮忙注册，谢谢",
        "请尽快处理，谢谢！",
        "No special requirements.",
        "无特殊要求。",
        "Dear FanRuan license team,",
        "IT Department, Northwind Trading Co., Ltd.",
        "Please treat this urgently.",
        "If possible, please issue it today.",
        "我们今天上线，如果可以请尽快处理。",
    ] {
        assert!(!asks_for_exception(s), "{s}");
    }
}

#[test]
fn an_exception_outside_the_fields_is_kept_and_politeness_is_not() {
    let f = parse_body(&format!("Hello,\n\nIs it possible to extend the license until 2028?\n\n{SEED}"));
    assert_eq!(f.exception_requests, ["Is it possible to extend the license until 2028?"]);
    let f = parse_body(&format!("您好，请帮忙注册，谢谢！\n\n{SEED}"));
    assert!(f.exception_requests.is_empty(), "{f:?}");
    // A field value is not free text: a project called "trial" asks nothing.
    let f = parse_body("Project name: trial\nCompany name: X\n");
    assert!(f.exception_requests.is_empty(), "{f:?}");
    // In the forwarded request the fields come from, too.
    let body =
        "FYI\n\n-------- Forwarded Message --------\n能否先给一个临时授权？\n公司名称：某公司\n项目名称：webroot\n";
    let f = parse_body(body);
    assert!(f.from_earlier_message);
    assert_eq!(f.exception_requests, ["能否先给一个临时授权？"]);
    assert_eq!(f.fresh_text, "FYI");
    // The subject.
    let (f, _) = parse_request("关于某公司注册FineReport的临时授权申请", "公司名称：某公司\n");
    assert_eq!(f.exception_requests, ["关于某公司注册FineReport的临时授权申请"]);
    // A disclaimer is not the customer's words.
    let f = parse_body(
        "Company name: X\nProject name: y\n\nCONFIDENTIAL: this message is not a temporary license request.\n",
    );
    assert!(f.exception_requests.is_empty(), "{f:?}");
}

#[test]
fn notes_under_more_labels_and_none_notes() {
    for label in ["Note", "Notes", "Remarks", "特殊情况说明", "特殊情况", "备注", "Special circumstances", "其他说明"]
    {
        let f = parse_body(&format!("Project name: x\n{label}: two sites\n"));
        assert_eq!(f.special_requirements.as_deref(), Some("two sites"), "{label}");
    }
    for none in ["无", "暂无", "无，谢谢", "无\n谢谢！", "N/A", "none, thanks", "没有特殊要求", "不涉及", "--"]
    {
        let f = parse_body(&format!("Project name: x\n备注：{none}\n"));
        assert!(f.special_requirements.is_none(), "{none:?}: {f:?}");
    }
    let f = parse_body("Project name: x\n备注：无。另需延长一年\n");
    assert_eq!(f.special_requirements.as_deref(), Some("无。另需延长一年"));
}

#[test]
fn fresh_text_is_the_text_outside_earlier_messages() {
    let body =
        "Please make it 2 nodes.\n\nOn Mon, 23 Nov 2026, Alice wrote:\n> Company name: X\n> Project name: webroot\n";
    let f = parse_body(body);
    assert!(f.from_earlier_message);
    assert_eq!(f.fresh_text, "Please make it 2 nodes.");
    assert_eq!(f.fresh_request().as_deref(), Some("Please make it 2 nodes."));
    // Fields in the fresh text: it holds them too, and nothing is from earlier.
    assert!(!parse_body(SEED).from_earlier_message);
    assert!(parse_body(SEED).fresh_text.contains("Project name: webroot"));
}

#[test]
fn a_partial_correction_above_a_quoted_request_reads_the_quoted_one() {
    let body = "Project name: finance_bi\n\nOn Mon, 23 Nov 2026, Alice wrote:\n> Company name: X\n> Project name: webroot\n\
            > Maximum number of registration: 2\n";
    let f = parse_body(body);
    assert!(f.from_earlier_message);
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.fresh_request().as_deref(), Some("Project name: finance_bi"));
    // A whole request in the fresh text is read as it stands.
    let f = parse_body(&format!("{SEED}\nOn Mon, Alice wrote:\n> Company name: X\n> Project name: old\n"));
    assert!(!f.from_earlier_message);
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
}

#[test]
fn two_requests_in_one_mail() {
    let body = "公司名称：某公司\n合同签订日期：2026/11/20\n\n项目一：\n项目名称：webroot\n集群节点数：2\n\n\
            项目二：\n项目名称：finance\n集群节点数：1\n";
    let f = parse_body(body);
    assert_eq!(f.requests.len(), 2, "{f:?}");
    assert_eq!(f.requests[0].get(Field::ProjectName), Some("webroot"));
    assert_eq!(f.requests[1].get(Field::ProjectName), Some("finance"));
    assert_eq!(f.requests[1].get(Field::Nodes), Some("1"));
    assert_eq!(f.project_name.as_deref(), Some("webroot"), "the first value is kept");
    // Two full field sets in English.
    let second = SEED.replace("webroot", "webroot-dr").replace("registration: 3", "registration: 1");
    let f = parse_body(&format!("{SEED}\n{second}"));
    assert_eq!(f.requests.len(), 2, "{f:?}");
    // One project name listing two projects.
    let f = parse_body("Company name: X\nProject name: webroot、webroot_dr\nNumber of nodes: 2\n");
    let projects: Vec<_> = f.requests.iter().map(|r| r.get(Field::ProjectName).unwrap()).collect();
    assert_eq!(projects, ["webroot", "webroot_dr"]);
    let f = parse_body("Company name: X\nProject name: webroot and webroot-dr\n");
    assert_eq!(f.requests.len(), 2, "{f:?}");
    for one in ["Sales and Marketing Dashboard", "webroot, webroot", "R&D"] {
        let f = parse_body(&format!("Company name: X\nProject name: {one}\n"));
        assert!(f.requests.is_empty(), "{one}: {f:?}");
    }
    // A correction of one field is not a second request.
    let f = parse_body(&format!("{SEED}Project name: webroot-2\n"));
    assert!(f.requests.is_empty());
    assert_eq!(f.repeated, [Field::ProjectName]);
    // The same request written twice (English, then Chinese) is one.
    let body = "Company name: Northwind Trading Co., Ltd.\nProject name: webroot\nMaximum number of registration: 3\n\
            公司名称：Northwind Trading Co.,Ltd\n项目名称：webroot\n集群节点数：3个\n";
    let f = parse_body(body);
    assert!(f.requests.is_empty() && f.repeated.is_empty(), "{f:?}");
}

#[test]
fn bilingual_labels_in_every_order() {
    for label in [
        "公司名称 Company name",
        "Company name 公司名称",
        "Company name / 公司名称",
        "公司名称/Company Name",
        "公司名称（Company name）",
        "Company name (公司名称)",
        "公司名称Company name",
        "1. 公司名称",
        "一、公司名称",
        "（一）公司名称",
        "(二) Company name",
        "三．公司名称 Company Name",
        "**Company name**",
        "*Company name",
    ] {
        for colon in [":", "：", " :", ""] {
            let body = if colon.is_empty() {
                format!("{label}\tAcme 有限公司\n")
            } else {
                format!("{label}{colon} Acme 有限公司\n")
            };
            assert_eq!(parse_body(&body).company_name.as_deref(), Some("Acme 有限公司"), "{body:?}");
        }
    }
    let f = parse_body("JAR包版本 JAR package version：2024.03.08\n节点数 Nodes: 2\n");
    assert_eq!(f.jar_version.unwrap().value, Some(d(2024, 3, 8)));
    assert_eq!(f.nodes.unwrap().value, Some(2));
    // Gmail's plain text of bold: `*Company name:* Acme`.
    let f = parse_body("*Company name:* Gmail Co.\n*Project name:*  webroot\n");
    assert_eq!(f.company_name.as_deref(), Some("Gmail Co."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    // Two fields' labels, or a label and an unknown word, are no label.
    assert!(parse_body("公司名称 Project name: x\n").is_empty());
    assert!(parse_body("公司 Company name: x\n").is_empty());
    assert!(parse_body("一些公司名称: x\n").is_empty());
}

#[test]
fn a_dash_after_a_specific_label() {
    let f = parse_body("Company Name - Acme Ltd.\nProject name – webroot\n");
    assert_eq!(f.company_name.as_deref(), Some("Acme Ltd."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    // `Project - ...` is too generic to be a label.
    assert!(parse_body("Project - we moved the server\n").is_empty());
}

#[test]
fn table_rows_become_pairs() {
    // Two pairs side by side, a label in two cells, a colon cell.
    let text = "Company name\tAcme\tProject name\twebroot\n公司名称\tCompany name\tAcme\n\
            合同签订日期\t:\t2026/11/20\nSomething\telse\n";
    let paired = pair_table_cells(text);
    assert_eq!(
        paired,
        "Company name\tAcme\nProject name\twebroot\n公司名称 Company name\tAcme\n\
             合同签订日期\t:\t2026/11/20\nSomething\telse\n"
    );
    let f = parse_body(&paired);
    assert_eq!(f.company_name.as_deref(), Some("Acme"));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.signing_date.unwrap().value, Some(d(2026, 11, 20)));
    // A table laid out in columns: labels in the header row, values below.
    let text = "序号\t公司名称\t项目名称\t节点数\n1\t上海明远数据科技有限公司\twebroot\t2\n";
    let paired = pair_table_cells(text);
    assert_eq!(paired, "公司名称\t上海明远数据科技有限公司\n项目名称\twebroot\n节点数\t2\n");
    // Two rows of values: two requests, set apart, the fields repeated.
    let text = "Company name\tProject name\nA Co.\tone\nA Co.\ttwo\n";
    let f = parse_body(&pair_table_cells(text));
    assert_eq!(f.project_name.as_deref(), Some("one"));
    assert_eq!(f.repeated, [Field::ProjectName]);
    // A label with two values side by side: both are kept, so that the
    // second shows as a repeated field (two requests are never one).
    let f = parse_body(&pair_table_cells("Project name\tone\ttwo\nCompany name\tA\n"));
    assert_eq!(f.project_name.as_deref(), Some("one"));
    assert_eq!(f.repeated, [Field::ProjectName]);
    // A header row alone is read as no field at all (not as a value).
    let f = parse_body(&pair_table_cells("Company name\tProject name\n"));
    assert!(f.company_name.is_none() && f.project_name.is_none(), "{f:?}");
    // The next cell after a spacer is the value.
    assert_eq!(parse_body("Company name\t\tSpacer Co.\n").company_name.as_deref(), Some("Spacer Co."));
    // Text without tabs is not touched.
    assert!(matches!(pair_table_cells("Company name: A\n"), std::borrow::Cow::Borrowed(_)));
}

#[test]
fn day_first_dates_only_when_unambiguous() {
    for (raw, want) in [
        ("20/11/2026", d(2026, 11, 20)),
        ("11/20/2026", d(2026, 11, 20)),
        ("20.11.2026", d(2026, 11, 20)),
        ("1-20-2026", d(2026, 1, 20)),
        ("05/05/2026", d(2026, 5, 5)),
        ("２０/１１/２０２６ (DD/MM/YYYY)", d(2026, 11, 20)),
    ] {
        assert_eq!(parse_date(raw), Some(want), "{raw}");
    }
    for raw in ["05/08/2026", "13/13/2026", "31/02/2026", "20/11/26", "20/11-2026", "on 20/11/2026 or so"] {
        assert_eq!(parse_date(raw), None, "{raw}");
    }
    // Build dates are never read this way.
    assert_eq!(parse_build_date("20/11/2026"), None);
}

#[test]
fn other_colons_and_qq_original_marker() {
    let f = parse_body(
        "公司名称∶甲公司
项目名称︰p
",
    );
    assert_eq!(f.company_name.as_deref(), Some("甲公司"));
    assert_eq!(f.project_name.as_deref(), Some("p"));
    let body = "Project name: new

------------------ Original ------------------
Project name: old
";
    assert_eq!(parse_body(body).project_name.as_deref(), Some("new"));
    let f = parse_body(
        "Please see below.
------------------ Original ------------------
Project name: old
",
    );
    assert!(f.from_earlier_message);
}

#[test]
fn bracketed_labels_numeral_nodes_and_month_names() {
    let f = parse_body(
        "【公司名称】示例科技有限公司\n【项目名称】：webroot\n[Project version]: 11.0\n【节点数】两个节点\n",
    );
    assert_eq!(f.company_name.as_deref(), Some("示例科技有限公司"));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.project_version.unwrap().value, Some(Version { major: 11, minor: 0 }));
    assert_eq!(f.nodes.unwrap().value, Some(2));
    assert!(parse_body("【通知】明天停机\n").is_empty());
    for (raw, n) in [("三", 3), ("两台", 2), ("十个节点", 10), ("一", 1)] {
        assert_eq!(parse_nodes(raw), Some(n), "{raw}");
    }
    for raw in ["十二", "三四", "三或四", "零"] {
        assert_eq!(parse_nodes(raw), None, "{raw}");
    }
    for raw in ["20 November 2026", "20 Nov. 2026", "November 20, 2026", "Nov 20th 2026", "Sept 20, 2026 (signed)"] {
        let want = if raw.starts_with("Sept") { d(2026, 9, 20) } else { d(2026, 11, 20) };
        assert_eq!(parse_date(raw), Some(want), "{raw}");
    }
    for raw in ["November 2026", "20 Nov 26", "Nov 31, 2026", "May be 2026", "20 11 2026", "Mayo 20 2026"] {
        assert_eq!(parse_date(raw), None, "{raw}");
    }
}

#[test]
fn codes_and_names() {
    assert_eq!(Problem::MissingField(Field::JarVersion).code(), "missing_field_jar_version");
    assert_eq!(Problem::MissingField(Field::CompanyName).code(), "missing_field_company_name");
    assert_eq!(Problem::SubjectMissingCompany.code(), "subject_missing_company");
    assert_eq!(Field::SigningDate.name(), "signing_date");
    assert_eq!(RequestKind::CancelRegistration.code(), "cancel_registration");
}

#[test]
fn short_labels_a_chinese_label_and_its_value_and_node_remarks() {
    let f = parse_body("公司名称:北京华信\n项目名称: 移动报表\n最大注册数 2\n节点：两台\n");
    assert_eq!(f.nodes.as_ref().and_then(|n| n.value), Some(2), "{f:?}");
    let f = parse_body("Signed: 2026/02/02\nJAR: 2024.05.09\nMethod: Local container\nMax nodes: 3\n");
    assert_eq!(f.signing_date.and_then(|d| d.value), Date::new(2026, 2, 2));
    assert_eq!(f.jar_version.and_then(|d| d.value), Date::new(2024, 5, 9));
    assert_eq!(f.method.and_then(|m| m.value), Some(LicenseKind::LocalContainer));
    assert_eq!(f.nodes.and_then(|n| n.value), Some(3));
    for (raw, n) in
        [("1 (single node)", Some(1)), ("2（主备）", Some(2)), ("3 (three)", Some(3)), ("2 (plus 1 standby)", None)]
    {
        assert_eq!(parse_nodes(raw), n, "{raw}");
    }
}

#[test]
fn a_cover_note_asks_for_a_change_only_with_words_of_change() {
    assert!(!asks_for_change("Forwarding the request of our BI team (Alice is on leave).\nHotline +65 6123 4500"));
    assert!(!asks_for_change("Please find our registration request attached."));
    assert!(asks_for_change("Please make it 3 nodes."));
    assert!(asks_for_change("3 nodes please"));
    assert!(asks_for_change("项目名称应为 finance_bi"));
    assert!(is_forward_subject("FW: Official Authorization Document"));
    assert!(is_forward_subject("[External] 转发：关于注册"));
    assert!(!is_forward_subject("RE: Official Authorization Document"));
}

#[test]
fn negations_and_the_upgraded_jar_ask_for_no_exception() {
    assert!(!asks_for_exception("No special circumstances on our side."));
    assert!(!asks_for_exception("您好，JAR包已升级，重新提交注册信息如下："));
    assert!(!asks_for_exception("我司项目希望使用私有云认证，注册信息如下："));
    assert!(asks_for_exception("能否先给一个临时授权？"));
    assert!(asks_for_exception("Could we upgrade to FineReport 12 under this contract?"));
}

#[test]
fn a_disclaimer_never_makes_a_cancellation() {
    let body = "Company name: Fabrikam Data Services Inc.\nProject name: ops\n\nThis message may contain \
                    privileged information. If you are not the intended recipient, delete it. To cancel Fabrikam \
                    service notices or your registration reply UNSUBSCRIBE.\n";
    assert_eq!(
        classify("Official Authorization Document of Fabrikam's Registration for FineBI", body),
        RequestKind::Registration
    );
    assert_eq!(
        classify("Registration", "Please cancel the registration of our old server."),
        RequestKind::CancelRegistration
    );
}

/// The mail fields know the same products as the command line and the
/// product (SPEC.md §3.3).
#[test]
fn one_list_of_applications() {
    assert_eq!(PRODUCTS, fanlic_formats::APP_NAMES);
}
