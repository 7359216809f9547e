//! Tests of message parsing: headers, addresses, bodies (plain, HTML,
//! flowed, attached messages), attachments, limits, and the sample mails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
use super::body::MAX_ATTACHED_DEPTH;
use super::*;
use crate::fields;

#[test]
fn file_names_never_end_in_a_dot_or_a_blank() {
    // Regression (found by reading the code while writing the fuzz
    // target): an ideographic space between trailing dots, and the cut
    // to the length limit, could leave a trailing dot.
    assert_eq!(sanitize_file_name("a.exe.\u{3000}."), "a.exe");
    let long = format!("{}. y", "x".repeat(199));
    let cut = sanitize_file_name(&long);
    assert_eq!(cut, "x".repeat(199));
    assert_eq!(sanitize_file_name(" .. . "), "attachment");
    assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
    assert_eq!(sanitize_file_name("..hidden. "), "hidden");
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails/raw").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn sanitize_names() {
    assert_eq!(sanitize_file_name("../../etc/passwd"), "passwd");
    assert_eq!(sanitize_file_name("..\\..\\windows\\system.ini"), "system.ini");
    assert_eq!(sanitize_file_name(".."), "attachment");
    assert_eq!(sanitize_file_name(""), "attachment");
    assert_eq!(sanitize_file_name("/"), "attachment");
    assert_eq!(sanitize_file_name(".hidden"), "hidden");
    assert_eq!(sanitize_file_name("C:evil.txt"), "C_evil.txt");
    assert_eq!(sanitize_file_name("a\u{0}b\nc.txt"), "a_b_c.txt");
    assert_eq!(sanitize_file_name("营业执照.pdf"), "营业执照.pdf");
    assert!(sanitize_file_name(&"x".repeat(1000)).len() <= MAX_ATTACHMENT_NAME_BYTES);
}

#[test]
fn html_conversion_keeps_lines() {
    let html = "<html><head><title>T</title><style>p{}</style></head><body><!-- c --><div>公司名称：示例</div>\
            <div>项目名称：webroot<br>节点数：2</div><table><tr><td>Company:</td><td>A &amp; B&nbsp;Co.</td></tr>\
            <tr><th>Nodes:</th><td>&#50;&#x33;</td></tr></table><script>alert(1)</script><p>a\n   b &bogus; &</p>";
    assert_eq!(
        html_to_text(html),
        "公司名称：示例\n项目名称：webroot\n节点数：2\nCompany: A & B Co.\nNodes: 23\na b &bogus; &"
    );
    for odd in ["<", "<!--", "<scr", "<script>", "&#xFFFFFFFF;", "&#0;", "<<>>", "&&&;", "<td></td>"] {
        let _ = html_to_text(odd);
    }
}

#[test]
fn too_large_is_refused_before_parsing() {
    let raw = b"From: a@b.example\r\n\r\nhello";
    let err = parse_with(raw, &ParseOptions { max_bytes: 10 }).unwrap_err();
    assert_eq!(err, MailError::TooLarge { size: raw.len(), max: 10 });
    assert_eq!(err.code(), "message_too_large");
    assert!(err.to_string().contains("limit of 10 bytes"));
    assert!(parse_with(raw, &ParseOptions { max_bytes: raw.len() }).is_ok());
}

#[test]
fn empty_and_garbage_are_unparseable() {
    for raw in [&b""[..], b"   \r\n\r\n", b"\r\n\r\nonly a body"] {
        let err = parse(raw).unwrap_err();
        assert_eq!(err.code(), "unparseable_message", "{raw:?}");
    }
}

#[test]
fn minimal_message_and_hash_dedup_key() {
    let raw = b"From: \"Zhang San\" <Zhang.San@Customer.Example>\nSubject: hi\n\nline 1\r\nline 2\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.from, ["zhang.san@customer.example"]);
    assert_eq!(m.single_from(), Some("zhang.san@customer.example"));
    assert_eq!(m.from_domain(), Some("customer.example"));
    assert_eq!(m.message_id, None);
    assert_eq!(m.dedup_key, m.raw_sha256_hex());
    assert_eq!(m.dedup_key.len(), 64);
    assert_eq!(m.text, "line 1\nline 2");
    assert_eq!(m.language_hint, Language::En);
}

#[test]
fn several_from_addresses_are_visible() {
    let raw = b"From: a@one.example, b@two.example\r\nSubject: x\r\n\r\nbody\r\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.from, ["a@one.example", "b@two.example"]);
    assert_eq!(m.single_from(), None);
    assert_eq!(m.from_domain(), None);

    let raw = b"From: a@one.example\r\nFrom: b@two.example\r\nSubject: x\r\n\r\nbody\r\n";
    let m = parse(raw).unwrap();
    assert_eq!(m.from_fields, 2);
    assert_eq!(m.from, ["a@one.example", "b@two.example"]);
    assert_eq!(m.single_from(), None);

    let m = parse(&fixture("multiple-from.eml")).unwrap();
    assert_eq!(m.from.len(), 2);
    assert_eq!(m.single_from(), None);
}

#[test]
fn english_plain() {
    let m = parse(&fixture("english-plain.eml")).unwrap();
    assert_eq!(m.message_id.as_deref(), Some("20261120093000.1234@customer.example"));
    assert_eq!(m.dedup_key, "20261120093000.1234@customer.example");
    assert_eq!(m.from, ["li.wei@customer.example"]);
    assert_eq!(m.reply_to, ["someone@elsewhere.example"]);
    assert_eq!(m.subject, "License registration: FineReport 11.0");
    assert!(m.text.contains("Company: Example Co."), "{}", m.text);
    assert!(m.text.contains("Project: webroot"));
    assert_eq!(m.language_hint, Language::En);
    let date = m.date.unwrap();
    assert_eq!(date.unix_timestamp(), 1_795_138_200);
    assert!(m.attachments.is_empty());
    let names: Vec<&str> = m.trace_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Authentication-Results", "Received", "Received"]);
    assert_eq!(
        m.trace_headers[0].1,
        "mx.vendor.example; spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example header.s=sel1"
    );
}

#[test]
fn chinese_gbk_base64() {
    let m = parse(&fixture("chinese-gbk.eml")).unwrap();
    assert_eq!(m.subject, "申请FineReport正式授权");
    assert!(m.text.contains("公司名称：帆软示例有限公司"), "{}", m.text);
    assert!(m.text.contains("项目名称：webroot"));
    assert_eq!(m.language_hint, Language::Zh);
    assert_eq!(m.from, ["wang@kehu.example.cn"]);
}

#[test]
fn big5_subject_and_body() {
    let m = parse(&fixture("chinese-big5.eml")).unwrap();
    assert_eq!(m.subject, "申請授權");
    assert!(m.text.contains("公司名稱：範例股份有限公司"), "{}", m.text);
    assert_eq!(m.language_hint, Language::Zh);
}

#[test]
fn html_only() {
    let m = parse(&fixture("html-only.eml")).unwrap();
    assert!(m.text.contains("Company: Example Co."), "{}", m.text);
    assert!(m.text.contains("\nProject: webroot\nNodes: 2\n"), "{}", m.text);
    assert!(m.text.contains("Café regards,\nOps"), "{}", m.text);
    assert!(!m.text.contains("color"), "{}", m.text);
    assert!(!m.text.contains("<td>"), "{}", m.text);
    assert!(!m.text.contains("<b>"));
}

#[test]
fn multipart_alternative_prefers_plain_and_threads() {
    let m = parse(&fixture("alternative-reply.eml")).unwrap();
    assert!(m.text.contains("Company: Example Co."), "{}", m.text);
    assert!(m.text.contains("> Please send the registration"), "{}", m.text);
    assert!(m.text.contains("-- \nLi Wei"), "{}", m.text);
    assert!(!m.text.contains("HTML VERSION"), "{}", m.text);
    assert_eq!(m.in_reply_to, ["reply-1@vendor.example"]);
    assert_eq!(m.references, ["req-0@customer.example", "reply-1@vendor.example"]);
    assert_eq!(m.subject, "Re: Your license request");
}

#[test]
fn attachment_name_is_sanitized() {
    let m = parse(&fixture("attachment-traversal.eml")).unwrap();
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(m.attachments[0].name, "passwd");
    assert_eq!(m.attachments[0].original_name.as_deref(), Some("../../etc/passwd"));
    assert_eq!(m.attachments[0].size, 11);
    assert_eq!(m.attachments[0].content_type.as_deref(), Some("application/octet-stream"));
    assert_eq!(m.attachments[1].name, "evil.bat");
    assert!(m.text.contains("Company: Example Co."));
}

#[test]
fn spoofed_auth_keeps_header_order() {
    let m = parse(&fixture("spoofed-auth.eml")).unwrap();
    let names: Vec<&str> = m.trace_headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Authentication-Results", "Received", "Authentication-Results", "Received"]);
    assert!(m.trace_headers[2].1.contains("dkim=pass header.d=customer.example"));
}

#[test]
fn table_cells_become_label_value_lines() {
    // Outlook: paragraphs inside cells, `<o:p>`, `&nbsp;`, spans.
    let html = "<table class=MsoTableGrid><tr><td width=189><p class=MsoNormal><span style='x'>公司名称<span \
            lang=EN-US><o:p></o:p></span></span></p></td><td><p class=MsoNormal><span lang=EN-US>Acme&nbsp;Co.<o:p></o:p>\
            </span></p></td></tr><tr><td><p class=MsoNormal>项目名称</p><p class=MsoNormal>Project name</p></td>\
            <td><p>webroot</p></td></tr><tr><td>节点数：</td><td>2</td></tr></table>";
    assert_eq!(html_to_text(html), "公司名称\tAcme Co.\n项目名称 Project name\twebroot\n节点数： 2");
    let f = fields::parse_body(&html_to_text(html));
    assert_eq!(f.company_name.as_deref(), Some("Acme Co."));
    assert_eq!(f.project_name.as_deref(), Some("webroot"));
    assert_eq!(f.node_count(), Some(2));
    // A label with its colon, then the value on the next line of the same cell.
    let html = "<table><tr><td>公司名称：<br>示例科技有限公司</td></tr></table>";
    assert_eq!(fields::parse_body(&html_to_text(html)).company_name.as_deref(), Some("示例科技有限公司"));
    // A layout table around the whole mail keeps its lines.
    let html = "<table><tr><td><div>Hello</div><div>Company name: A</div><div>Project name: b</div>\
            <div>x</div><div>y</div></td><td><img src=logo.png></td></tr></table>";
    assert_eq!(html_to_text(html), "Hello\nCompany name: A\nProject name: b\nx\ny");
    // Columns: an empty corner cell keeps the values under their labels.
    let html = "<table><tr><th></th><th>公司名称</th><th>项目名称</th></tr><tr><td>1</td><td>甲公司</td><td>p1</td></tr></table>";
    let text = fields::pair_table_cells(&html_to_text(html)).into_owned();
    assert_eq!(text, "公司名称\t甲公司\n项目名称\tp1");
    // Nested tables, and tables left open.
    let html = "<table><tr><td><table><tr><td>Company name</td><td>Nested</td></tr></table></td></tr>";
    assert_eq!(html_to_text(html), "Company name\tNested");
    let deep = "<table><tr><td>".repeat(100) + "Company name</td><td>Deep";
    assert!(html_to_text(&deep).contains("Company name"));
}

#[test]
fn a_source_line_break_between_chinese_characters_is_no_blank() {
    assert_eq!(html_to_text("<p>北京华信恒通科技\r\n发展有限公司</p>"), "北京华信恒通科技发展有限公司");
    assert_eq!(
        html_to_text("<p><span>上海明远数据科\n  </span>技有限公司（北京）\n</p>"),
        "上海明远数据科技有限公司（北京）"
    );
    assert_eq!(html_to_text("<p>Northwind\nTrading</p>"), "Northwind Trading");
    assert_eq!(html_to_text("<p>公司\nCo.</p><p>Co.\n公司</p><p>公司 \n名称</p>"), "公司 Co.\nCo. 公司\n公司 名称");
    assert_eq!(html_to_text("<td>公司\n</td><td>x</td>"), "公司 x");
}

#[test]
fn flowed_text_is_joined() {
    // RFC 3676: soft breaks, space-stuffing, quotes, the signature line.
    let text = "Company name: Contoso \nManufacturing \nLimited\n  stuffed\n> Project \n> name: q\n>> deep \n> \
                    other\n-- \nsig";
    assert_eq!(
        unflow(text, false),
        "Company name: Contoso Manufacturing Limited\n stuffed\n> Project name: q\n>> deep \n> other\n-- \nsig"
    );
    // delsp=yes: the blank before the break is not part of the text.
    assert_eq!(unflow("公司名称：上海明远数据科 \n技有限公司\n", true), "公司名称：上海明远数据科技有限公司\n");
    // Without format=flowed nothing is joined.
    let raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCompany name: A \r\nB\r\n";
    assert_eq!(parse(raw).unwrap().text, "Company name: A \nB");
    let raw = b"From: a@b.example\r\nContent-Type: text/plain; charset=utf-8; format=Flowed; DelSp=Yes\r\n\r\n\
            Company name: A \r\nB\r\n";
    assert_eq!(parse(raw).unwrap().text, "Company name: AB");
}

#[test]
fn html_alternative_read_when_its_table_gives_more_fields() {
    let mail = |plain: &str| {
        format!(
            "From: a@b.example\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\n\
                 Content-Type: text/plain; charset=utf-8\r\n\r\n{plain}\r\n--b\r\nContent-Type: text/html; charset=utf-8\
                 \r\n\r\n<table><tr><td>版本</td><td>11.0</td></tr><tr><td>公司</td><td>甲</td></tr></table>\r\n--b--\r\n"
        )
    };
    // The plain rendition lost the cells: the HTML one is read.
    let m = parse(mail("版本\r\n11.0\r\n公司\r\n甲").as_bytes()).unwrap();
    assert_eq!(m.text, "版本\t11.0\n公司\t甲");
    // As many fields in the plain rendition: it is read, as always.
    let m = parse(mail("版本：11.0\r\n公司：甲").as_bytes()).unwrap();
    assert_eq!(m.text, "版本：11.0\n公司：甲");
}

#[test]
fn attached_messages_are_forwarded_blocks() {
    let inner =
        "From: Inner <inner@elsewhere.example>\r\nSubject: =?utf-8?B?5rWL6K+V?=\r\n\r\nCompany name: Inner Co.\r\n";
    let outer = |ct: &str| {
        format!(
            "From: outer@customer.example\r\nSubject: Fw\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\
                 Content-Type: text/plain\r\n\r\nSee attached.\r\n--m\r\n{ct}\r\n\r\n{inner}\r\n--m--\r\n"
        )
    };
    for ct in [
        "Content-Type: message/rfc822",
        "Content-Type: application/octet-stream; name=\"req.EML\"\r\nContent-Disposition: attachment; filename=\"req.EML\"",
    ] {
        let m = parse(outer(ct).as_bytes()).unwrap();
        assert_eq!(m.from, ["outer@customer.example"], "{ct}");
        assert_eq!(m.attached_subjects, ["测试"], "{ct}");
        assert_eq!(
            m.text,
            "See attached.\n\n-------- Forwarded Message --------\nSubject: 测试\nFrom: inner@elsewhere.example\n\n\
                 Company name: Inner Co.",
            "{ct}"
        );
        let f = fields::parse_body(&m.text);
        assert_eq!(f.company_name.as_deref(), Some("Inner Co."));
        assert!(f.from_earlier_message);
    }
    // Another binary attachment is not read as a message.
    let m = parse(outer("Content-Type: application/octet-stream; name=\"req.txt\"").as_bytes()).unwrap();
    assert_eq!(m.text, "See attached.");
    assert!(m.attached_subjects.is_empty());
    // Messages attached to attached messages: read to a bounded depth.
    let mut nested = inner.to_owned();
    for _ in 0..10 {
        nested = format!(
            "From: x@y.example\r\nSubject: level\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\
                 Content-Type: message/rfc822\r\n\r\n{nested}\r\n--q--\r\n"
        );
    }
    let m = parse(nested.as_bytes()).unwrap();
    assert_eq!(m.attached_subjects.len(), MAX_ATTACHED_DEPTH);
}

/// A small xorshift generator: deterministic garbage without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn never_panics_on_garbage() {
    let mut inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0; 100],
            vec![0xff; 100],
            b"From:".to_vec(),
            b"From: <\r\n".to_vec(),
            b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x".to_vec(),
            b"Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n--\r\n".to_vec(),
            b"Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n".to_vec(),
            b"Content-Transfer-Encoding: base64\r\nContent-Type: text/plain; charset=gbk\r\n\r\n!!!!====".to_vec(),
            b"Subject: =?gbk?B?####?= =?big5?Q?=ZZ?=\r\n\r\n".to_vec(),
            b"Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n".to_vec(),
        ];
    let nested = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n".repeat(200);
    inputs.push(nested.into_bytes());
    for name in ["english-plain.eml", "chinese-gbk.eml", "html-only.eml", "alternative-reply.eml"] {
        let raw = fixture(name);
        let mut cut = 0;
        while cut < raw.len() {
            inputs.push(raw.get(..cut).unwrap_or_default().to_vec());
            cut += 7;
        }
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut m = raw.clone();
            for _ in 0..(rng.next() % 8 + 1) {
                let i = (rng.next() as usize) % m.len();
                m[i] = rng.next() as u8;
            }
            inputs.push(m);
        }
    }
    let mut rng = Rng(42);
    for len in 0..300 {
        inputs.push((0..len).map(|_| rng.next() as u8).collect());
    }
    for raw in &inputs {
        let _ = html_to_text(&String::from_utf8_lossy(raw));
        match parse(raw) {
            Ok(m) => {
                assert_eq!(m.raw_sha256, sha256(raw));
                for a in &m.attachments {
                    assert!(!a.name.contains(['/', '\\']) && !a.name.is_empty());
                }
            }
            Err(e) => assert_eq!(e.code(), "unparseable_message"),
        }
    }
}
