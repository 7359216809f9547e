//! The texts of the replies to registration mail: they say what fanlic
//! understood, in the mail's language.
//!
//! - A **rejection** lists every reason, then the customer's fields as they
//!   were read ([`fields_as_read`]): a field read wrongly is visible to the
//!   customer, and to staff who see the reply in the outbox.
//! - A **license** reply states what was licensed (company, project, product
//!   and version, registration method, nodes, expiry; [`Licensed`]), taken
//!   from the signed license itself, and the next steps for its method:
//!   upload `Container.lic`, scan the QR code, enter the code (local
//!   container); or deploy the authorization server image on port 18081,
//!   activate it and point the application at it (private cloud).
//!
//! The customer's text is quoted on one line per field, without control
//! characters and cut to [`MAX_QUOTED_CHARS`] characters, so that a reply
//! cannot be made to say more than what the mail held.
//!
//! Every reply goes to the contract's address (never `Reply-To`) and
//! threads under the request ([`rejection_reply`], `license_reply`).

use fanlic_formats::{ActivationPolicy, Envelope, Expiry, License, LicenseKind, MAX_LICENSE_FILE_LEN, Version, armor};

use super::decide::{self, Reason};
use super::files::LICENSE_FILE;
use crate::mail::fields::{FieldValue, RegistrationFields, SubjectInfo};
use crate::mail::message::{Language as MailLanguage, RegistrationMail};
use crate::outbox::{self, Language, Reply};

/// The longest value quoted back to the customer, in characters.
pub const MAX_QUOTED_CHARS: usize = 120;

/// What a license grants, as the reply states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Licensed {
    /// The license id (hex).
    pub license_id: String,
    /// The company, as the contract spells it.
    pub company: String,
    /// The project.
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app: String,
    /// The licensed major.minor.
    pub version: Version,
    /// The registration method.
    pub kind: LicenseKind,
    /// Cluster nodes.
    pub nodes: u32,
    /// The term.
    pub expiry: Expiry,
    /// How it is activated.
    pub policy: ActivationPolicy,
}

impl Licensed {
    /// What a decoded license grants.
    pub fn of(license: &License<'_>) -> Self {
        Self {
            license_id: license.id.to_string(),
            company: license.company.to_owned(),
            project: license.project.to_owned(),
            app: license.app_name.to_owned(),
            version: license.version,
            kind: license.kind,
            nodes: license.max_nodes,
            expiry: license.expiry,
            policy: license.activation_policy,
        }
    }

    /// What an armored license file (`Container.lic` text) grants; `None`
    /// when it does not decode (then the reply says less, never something
    /// wrong).
    pub fn of_armored(armored: &str) -> Option<Self> {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let raw = armor::unarmor(armored.as_bytes(), &mut buf).ok()?;
        let envelope = Envelope::decode(raw).ok()?;
        let license = License::decode(envelope.license.message).ok()?;
        Some(Self::of(&license))
    }
}

/// One line of customer text: control characters and runs of blanks become
/// one blank, cut to [`MAX_QUOTED_CHARS`] characters with `…`.
pub fn quote(text: &str) -> String {
    let mut out = String::new();
    let mut count = 0usize;
    for word in text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= MAX_QUOTED_CHARS {
                out.push('…');
                return out;
            }
            out.push(c);
            count += 1;
        }
    }
    out
}

fn method_name(kind: LicenseKind, lang: Language) -> &'static str {
    match (kind, lang) {
        (LicenseKind::LocalContainer, Language::En) => "Local container",
        (LicenseKind::PrivateCloud, Language::En) => "Private cloud",
        (LicenseKind::LocalContainer, Language::Zh) => "本地容器",
        (LicenseKind::PrivateCloud, Language::Zh) => "私有云",
    }
}

/// A field's value as read: its text, and whether it was understood.
fn value_line<T>(f: Option<&FieldValue<T>>, lang: Language) -> String {
    match f {
        None => not_found(lang).to_owned(),
        Some(v) if v.is_invalid() => match lang {
            Language::En => format!("\"{}\" (not understood)", quote(&v.raw)),
            Language::Zh => format!("“{}”（无法识别）", quote(&v.raw)),
        },
        Some(v) => quote(&v.raw),
    }
}

fn text_line(f: Option<&str>, lang: Language) -> String {
    f.map_or_else(|| not_found(lang).to_owned(), quote)
}

const fn not_found(lang: Language) -> &'static str {
    match lang {
        Language::En => "(not found)",
        Language::Zh => "（未找到）",
    }
}

/// The customer's fields as fanlic read them, one per line, labels padded
/// to one column.
pub fn fields_as_read(fields: &RegistrationFields, subject: &SubjectInfo, lang: Language) -> String {
    let subject_line = match lang {
        Language::En => format!(
            "company {}, product {}",
            subject.company.as_deref().map_or_else(|| not_found(lang).to_owned(), quote),
            subject.product.unwrap_or(not_found(lang))
        ),
        Language::Zh => format!(
            "公司 {}，产品 {}",
            subject.company.as_deref().map_or_else(|| not_found(lang).to_owned(), quote),
            subject.product.unwrap_or(not_found(lang))
        ),
    };
    let nodes = match (&fields.nodes, lang) {
        (None, Language::En) => "not given (1 is assumed)".to_owned(),
        (None, Language::Zh) => "未填写（按 1 处理）".to_owned(),
        (Some(n), _) => value_line(Some(n), lang),
    };
    let rows: [(&str, &str, String); 9] = [
        ("Subject", "邮件主题", subject_line),
        ("Company name", "公司名称", text_line(fields.company_name.as_deref(), lang)),
        ("Project name", "项目名称", text_line(fields.project_name.as_deref(), lang)),
        ("Contract signing date", "合同签订日期", value_line(fields.signing_date.as_ref(), lang)),
        ("Registration method", "注册方式", value_line(fields.method.as_ref(), lang)),
        ("Number of nodes", "集群节点数", nodes),
        ("Project version", "项目版本", value_line(fields.project_version.as_ref(), lang)),
        ("JAR package version", "JAR包版本", value_line(fields.jar_version.as_ref(), lang)),
        (
            "Special requirements",
            "特殊需求",
            fields.special_requirements.as_deref().map_or_else(
                || match lang {
                    Language::En => "none".to_owned(),
                    Language::Zh => "无".to_owned(),
                },
                quote,
            ),
        ),
    ];
    let mut out = String::new();
    for (en, zh, value) in rows {
        match lang {
            Language::En => out.push_str(&format!("  {:<23}{value}\n", format!("{en}:"))),
            Language::Zh => out.push_str(&format!("  {zh}：{value}\n")),
        }
    }
    out
}

/// The body of a rejection: every reason, then the fields as read.
pub fn rejection_body(reasons: &[Reason], read: Option<(&RegistrationFields, &SubjectInfo)>, lang: Language) -> String {
    let mut body = match lang {
        Language::Zh => String::from("您好：\n\n您的授权申请未能处理，原因如下：\n\n"),
        Language::En => String::from("Hello,\n\nYour license request could not be processed:\n\n"),
    };
    for r in reasons {
        let text = if lang == Language::Zh { &r.message_zh } else { &r.message };
        body.push_str(&format!("- [{}] {}\n", r.code, text));
    }
    if let Some((fields, subject)) = read {
        body.push_str(match lang {
            Language::Zh => "\n我们从您的邮件中读到的信息如下，请核对是否与您的本意一致：\n\n",
            Language::En => "\nThis is what we read in your message; check that it is what you meant:\n\n",
        });
        body.push_str(&fields_as_read(fields, subject, lang));
    }
    body.push_str(match lang {
        Language::Zh => "\n请修改后重新发送。本邮件由系统自动发送。\n",
        Language::En => "\nPlease correct the request and send it again. This message was sent automatically.\n",
    });
    body
}

fn expiry_text(expiry: Expiry, lang: Language) -> String {
    match (expiry, lang) {
        (Expiry::Never, Language::En) => "never (perpetual)".to_owned(),
        (Expiry::Never, Language::Zh) => "永久有效".to_owned(),
        (Expiry::On(d), Language::En) => format!("{d} (valid through the end of that day, UTC)"),
        (Expiry::On(d), Language::Zh) => format!("{d}（含当日，UTC）"),
    }
}

/// What a license grants, one line per term.
pub fn licensed_summary(l: &Licensed, lang: Language) -> String {
    let rows: [(&str, &str, String); 8] = [
        ("Company", "公司名称", quote(&l.company)),
        ("Project", "项目名称", quote(&l.project)),
        ("Product and version", "产品及版本", format!("{} {}", l.app, l.version)),
        ("Registration method", "注册方式", method_name(l.kind, lang).to_owned()),
        ("Nodes", "集群节点数", l.nodes.to_string()),
        ("Expires", "有效期至", expiry_text(l.expiry, lang)),
        ("License id", "授权编号", l.license_id.clone()),
        (
            "Activation",
            "激活方式",
            match (l.policy, lang) {
                (ActivationPolicy::Code, Language::En) => "6-digit verification code".to_owned(),
                (ActivationPolicy::Code, Language::Zh) => "6 位验证码".to_owned(),
                (ActivationPolicy::Receipt, Language::En) => "signed activation receipt".to_owned(),
                (ActivationPolicy::Receipt, Language::Zh) => "签名激活回执".to_owned(),
            },
        ),
    ];
    let mut out = String::new();
    for (en, zh, value) in rows {
        match lang {
            Language::En => out.push_str(&format!("  {:<21}{value}\n", format!("{en}:"))),
            Language::Zh => out.push_str(&format!("  {zh}：{value}\n")),
        }
    }
    out
}

/// The next steps for a license's method, numbered.
pub fn next_steps(l: &Licensed, lang: Language) -> &'static str {
    match (l.kind, l.policy, lang) {
        (LicenseKind::LocalContainer, ActivationPolicy::Code, Language::En) => {
            "Next steps:\n\
             1. Log in to the decision-making platform as the admin, choose System Management > Registration \
             Management and click Register Now.\n\
             2. Choose Local Container as the authentication method, click Upload License and upload the attached \
             Container.lic.\n\
             3. Scan the QR code shown with a phone's browser: it gives a 6-digit verification code. Enter it and \
             click Submit. The QR code is valid for 5 minutes (refresh it if needed); after 5 wrong codes, entry is \
             locked for 15 minutes.\n\
             4. After every restart of the project, scan the QR code and enter a new code again.\n\
             This license registers one project. To move it to another server, ask us to cancel the old server's \
             registration first.\n"
        }
        (LicenseKind::LocalContainer, ActivationPolicy::Receipt, Language::En) => {
            "Next steps:\n\
             1. Log in to the decision-making platform as the admin, choose System Management > Registration \
             Management and click Register Now.\n\
             2. Choose Local Container as the authentication method, click Upload License and upload the attached \
             Container.lic.\n\
             3. Scan the QR code shown with a phone's browser, which must reach our activation service: the page \
             gives a signed activation receipt (receipt.fanlic). Give that file to the registration page within 5 \
             minutes.\n\
             4. After every restart of the project, activate it again the same way.\n\
             This license registers one project. To move it to another server, ask us to cancel the old server's \
             registration first.\n"
        }
        (LicenseKind::LocalContainer, ActivationPolicy::Code, Language::Zh) => {
            "后续步骤：\n\
             1. 以管理员身份登录决策平台，进入“管理系统 > 注册管理”，点击“立即注册”。\n\
             2. 认证方式选择“本地容器”，点击“上传授权”，上传附件 Container.lic。\n\
             3. 用手机浏览器扫描页面上的二维码，获取 6 位验证码，填入后点击“提交”。二维码 5 分钟内有效（可手动刷新）；\
             验证码连续输错 5 次将锁定 15 分钟。\n\
             4. 工程每次重启后，需重新扫码并输入验证码。\n\
             本授权仅可注册一个工程。如需更换服务器，请先联系我们注销旧服务器的注册。\n"
        }
        (LicenseKind::LocalContainer, ActivationPolicy::Receipt, Language::Zh) => {
            "后续步骤：\n\
             1. 以管理员身份登录决策平台，进入“管理系统 > 注册管理”，点击“立即注册”。\n\
             2. 认证方式选择“本地容器”，点击“上传授权”，上传附件 Container.lic。\n\
             3. 用手机浏览器扫描页面上的二维码（手机需能访问我们的激活服务），页面会给出签名激活回执（receipt.fanlic），\
             请在 5 分钟内将该文件提交给注册页面。\n\
             4. 工程每次重启后，需按同样方式重新激活。\n\
             本授权仅可注册一个工程。如需更换服务器，请先联系我们注销旧服务器的注册。\n"
        }
        (LicenseKind::PrivateCloud, _, Language::En) => {
            "Next steps:\n\
             1. Prepare a free port for the authorization server (default 18081) on the main application server \
             (single node) or the component server (several nodes).\n\
             2. In FineOps, choose Maintenance > Component Management > Project Registration, upload the attached \
             fanruan_license_server.tar, select the node, set the port and click Deploy. Without FineOps: `docker \
             load -i fanruan_license_server.tar` (or podman load), then run it with port 18081 published and a \
             volume on /app/config.\n\
             3. Open https://<address>:<port>/license/qrcode, scan the QR code with a phone's browser and enter the \
             6-digit verification code within 5 minutes (after 5 wrong codes, entry is locked for 15 minutes).\n\
             4. In the FanRuan application, choose System Management > Registration Management > Register Now, set \
             the authentication method to Private Cloud and enter the server's address, such as \
             https://192.168.1.10:18081/.\n\
             The application checks in with the authorization server every 2 hours; do not keep the server down \
             for more than 24 hours. Keep the privateConfig file of /app/config: you will need it if this server is ever replaced.\n"
        }
        (LicenseKind::PrivateCloud, _, Language::Zh) => {
            "后续步骤：\n\
             1. 在主应用服务器（单节点）或组件服务器（多节点）上准备一个空闲端口（默认 18081）。\n\
             2. 在 FineOps 中进入“运维 > 组件管理 > 项目注册”，上传附件 fanruan_license_server.tar，选择节点、设置端口后点击\
             “部署”。未使用 FineOps 时：`docker load -i fanruan_license_server.tar`（或 podman load），然后映射 18081 端口、\
             挂载 /app/config 目录运行。\n\
             3. 访问 https://<地址>:<端口>/license/qrcode，用手机浏览器扫码，并在 5 分钟内输入 6 位验证码\
             （连续输错 5 次将锁定 15 分钟）。\n\
             4. 在帆软应用中进入“管理系统 > 注册管理 > 立即注册”，认证方式选择“私有云”，填写授权服务器地址，\
             如 https://192.168.1.10:18081/。\n\
             应用每 2 小时与授权服务器通信一次；授权服务器停机请勿超过 24 小时。请保留 /app/config 下的 privateConfig \
             文件，更换服务器时需要它。\n"
        }
    }
}

/// The body of the reply carrying a license: what it grants and what to do
/// next; without [`Licensed`], the short text.
pub fn license_body(licensed: Option<&Licensed>, lang: Language) -> String {
    let Some(l) = licensed else {
        return crate::outbox::license_text(lang).to_owned();
    };
    let mut body = match lang {
        Language::En => String::from("Hello,\n\nYour license is attached as Container.lic. It licenses:\n\n"),
        Language::Zh => String::from("您好：\n\n附件是您的授权文件 Container.lic，授权内容如下：\n\n"),
    };
    body.push_str(&licensed_summary(l, lang));
    body.push('\n');
    body.push_str(next_steps(l, lang));
    body.push_str(match lang {
        Language::En => {
            "\nIf any of the above is not what you asked for, do not register it: reply to this message and say \
             what should change.\nThis message was sent automatically.\n"
        }
        Language::Zh => {
            "\n如以上内容与您的申请不符，请勿注册，直接回复本邮件说明需要修改的内容。\n本邮件由系统自动发送。\n"
        }
    });
    body
}

/// The body of the reply carrying a private-cloud image: what the license
/// grants, what it replaces (a migration), and what to do next.
pub fn image_body(l: &Licensed, old: Option<&str>, image_file: &str, lang: Language) -> String {
    let mut body = match lang {
        Language::En => format!(
            "Hello,\n\nThe image of your authorization server, {image_file}, is attached. Its license grants:\n\n"
        ),
        Language::Zh => format!("您好：\n\n附件 {image_file} 是您的授权服务器镜像，其授权内容如下：\n\n"),
    };
    body.push_str(&licensed_summary(l, lang));
    if let Some(old) = old {
        body.push_str(&match lang {
            Language::En => format!(
                "\nThis server replaces the one of license {old}, which is now revoked: the old server can no \
                 longer be activated, and applications stop accepting it once they receive the next revocation \
                 list. Register your projects with the new server.\n"
            ),
            Language::Zh => format!(
                "\n新服务器取代授权 {old} 的旧服务器，旧授权已吊销：旧服务器无法再激活，应用收到下一份吊销列表后将不再\
                 接受它。请将项目注册到新服务器。\n"
            ),
        });
    }
    body.push('\n');
    body.push_str(next_steps(l, lang));
    body.push_str(match lang {
        Language::En => {
            "\nIf any of the above is not what you asked for, do not deploy it: reply to this message and say what \
             should change.\nThis message was sent automatically.\n"
        }
        Language::Zh => {
            "\n如以上内容与您的申请不符，请勿部署，直接回复本邮件说明需要修改的内容。\n本邮件由系统自动发送。\n"
        }
    });
    body
}

pub(crate) fn language(mail: &RegistrationMail) -> Language {
    match mail.language_hint {
        MailLanguage::Zh => Language::Zh,
        MailLanguage::En => Language::En,
    }
}

pub(crate) fn bracket(id: &str) -> String {
    format!("<{id}>")
}

/// The reply listing why a request was refused (no attachment), then the
/// customer's fields as they were read ([`rejection_body`]).
pub fn rejection_reply(from: &str, to: &str, mail: &RegistrationMail, reasons: &[Reason]) -> Reply {
    let lang = language(mail);
    let parsed = decide::ParsedRequest::of(mail);
    let body = rejection_body(reasons, Some((parsed.fields(), parsed.subject_info())), lang);
    let mut references: Vec<String> = mail.references.iter().map(|r| bracket(r)).collect();
    let in_reply_to = mail.message_id.as_deref().map(bracket);
    if let Some(id) = &in_reply_to {
        references.push(id.clone());
    }
    Reply {
        to: to.to_owned(),
        from: from.to_owned(),
        subject: outbox::re_subject(&mail.subject),
        in_reply_to,
        references,
        language: lang,
        body,
        attachments: Vec::new(),
    }
}

/// The reply carrying a license: what it grants (read from the signed
/// license itself) and the next steps for its method.
pub(crate) fn license_reply(from: &str, to: &str, mail: &RegistrationMail, armored: &str) -> Reply {
    let refs: Vec<String> = mail.references.iter().map(|r| bracket(r)).collect();
    let id = mail.message_id.as_deref().map(bracket);
    let lang = language(mail);
    let mut reply =
        Reply::license(to, from, &mail.subject, id.as_deref(), &refs, lang, LICENSE_FILE, armored.as_bytes().to_vec());
    reply.body = license_body(Licensed::of_armored(armored).as_ref(), lang);
    reply
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use crate::mail::fields;

    #[test]
    fn quote_keeps_one_line_and_cuts_long_text() {
        assert_eq!(quote("  Acme\r\nBcc: x@y\tLtd  "), "Acme Bcc: x@y Ltd");
        let long = "x".repeat(500);
        let q = quote(&long);
        assert_eq!(q.chars().count(), MAX_QUOTED_CHARS + 1);
        assert!(q.ends_with('…'));
    }

    #[test]
    fn fields_as_read_shows_each_field_as_read_and_what_is_missing() {
        let (f, _) = fields::parse_request(
            "Official Authorization Document of Acme Ltd.'s Registration for FineReport",
            "Company name: Acme Ltd.\nContract signing date: 2026/13/40\nRegistration method: cloud-ish\n\
             Project version: 11.0.20\n",
        );
        let s = fields::parse_subject("Official Authorization Document of Acme Ltd.'s Registration for FineReport");
        let en = fields_as_read(&f, &s, Language::En);
        assert!(en.contains("Company name:          Acme Ltd.\n"), "{en}");
        assert!(en.contains("Project name:          (not found)\n"), "{en}");
        assert!(en.contains("Contract signing date: \"2026/13/40\" (not understood)\n"), "{en}");
        assert!(en.contains("Registration method:   \"cloud-ish\" (not understood)\n"), "{en}");
        assert!(en.contains("Number of nodes:       not given (1 is assumed)\n"), "{en}");
        assert!(en.contains("Subject:               company Acme Ltd., product FineReport\n"), "{en}");
        let zh = fields_as_read(&f, &s, Language::Zh);
        assert!(zh.contains("  项目名称：（未找到）\n"), "{zh}");
        assert!(zh.contains("  合同签订日期：“2026/13/40”（无法识别）\n"), "{zh}");
    }

    fn licensed(kind: LicenseKind) -> Licensed {
        Licensed {
            license_id: "ab".repeat(16),
            company: "Northwind Trading Co., Ltd.".to_owned(),
            project: "webroot".to_owned(),
            app: "FineReport".to_owned(),
            version: Version { major: 11, minor: 0 },
            kind,
            nodes: 3,
            expiry: Expiry::Never,
            policy: ActivationPolicy::Code,
        }
    }

    #[test]
    fn license_body_states_the_terms_and_the_next_steps_of_the_method() {
        let l = licensed(LicenseKind::LocalContainer);
        let en = license_body(Some(&l), Language::En);
        for want in [
            "Company:             Northwind Trading Co., Ltd.\n",
            "Project:             webroot\n",
            "Product and version: FineReport 11.0\n",
            "Registration method: Local container\n",
            "Nodes:               3\n",
            "Expires:             never (perpetual)\n",
            "Upload License",
            "6-digit verification code",
        ] {
            assert!(en.contains(want), "{want:?} not in {en}");
        }
        assert!(!en.contains("18081"), "{en}");
        let zh = license_body(Some(&l), Language::Zh);
        assert!(zh.contains("注册方式：本地容器") && zh.contains("上传授权"), "{zh}");
        let cloud = license_body(Some(&licensed(LicenseKind::PrivateCloud)), Language::En);
        assert!(cloud.contains("Private cloud") && cloud.contains("18081") && !cloud.contains("Upload License"));
    }

    #[test]
    fn image_body_says_the_old_server_stops() {
        let l = licensed(LicenseKind::PrivateCloud);
        let t = image_body(&l, Some("bb"), "fanruan_license_server.tar", Language::En);
        assert!(t.contains("bb") && t.contains("can no longer be activated"), "{t}");
        assert!(t.contains("https://<address>:<port>/license/qrcode") && t.contains("Private Cloud"), "{t}");
        assert!(!image_body(&l, None, "x.tar", Language::Zh).contains("吊销"));
    }
}
