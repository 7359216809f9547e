//! The assessment of one request: the sender, the request kind, the
//! contract, the subject and every field compared with the contract, in
//! the documented order of reasons; then the outcome.

#[allow(clippy::wildcard_imports)]
use super::*;

/// The earliest JAR package build that supports local container
/// authentication: 2021-10-30.
pub const MIN_JAR_DATE: Option<Date> = Date::new(2021, 10, 30);

/// What [`assess`] found.
pub(super) struct Assessment {
    pub(super) reasons: Vec<Reason>,
    pub(super) plan: Option<IssuePlan>,
    pub(super) single_sender: bool,
    pub(super) revoke: Option<RevokePlan>,
}

/// Every reason, and the license to issue if nothing stands in the way.
pub(super) fn assess(
    (mail, parsed): (&RegistrationMail, &ParsedRequest),
    auth: &SenderAuth,
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    now: Timestamp,
    ctx: &Context<'_>,
) -> Assessment {
    let mut reasons: Vec<Reason> = Vec::new();
    let ParsedRequest { subject, body, kind } = parsed;
    // A destroy request without a privateConfig is a cancellation, held for
    // staff as before; with one, and a migration, it is neither a
    // registration nor an unknown request.
    let kind = match (ctx.intent, ctx.config) {
        (Intent::Destroy, ConfigCheck::Missing) => RequestKind::CancelRegistration,
        (Intent::Destroy | Intent::Migration, _) => RequestKind::Registration,
        (Intent::Registration, _) => *kind,
    };
    let private_config_request = ctx.intent == Intent::Migration
        || (ctx.intent == Intent::Destroy && !matches!(ctx.config, ConfigCheck::Missing));
    let named = parse_body_company(body, subject);
    let sender = mail.single_from().map(norm_addr);

    // Sender.
    match auth {
        SenderAuth::Pass { .. } => {}
        SenderAuth::Fail { detail, .. } => reasons.push(Reason::new(
            ReasonCode::SenderAuthFailed,
            format!(
                "Our mail server could not verify that this message comes from your domain ({detail}). Send it \
                 again from your company mailbox, through your company's own mail server."
            ),
            "发件人域名验证失败，请通过贵公司邮箱服务器重新发送。",
        )),
        SenderAuth::None { why } => reasons.push(Reason::new(
            ReasonCode::SenderUnauthenticated,
            format!("The sender could not be authenticated ({why}); staff will check the request by hand."),
            "无法验证发件人身份，将由工作人员人工核实。",
        )),
    }
    if sender.is_none() {
        reasons.push(Reason::new(
            ReasonCode::SenderNotSingle,
            format!(
                "The message has {} From addresses; exactly one is required. Send it from one of the addresses \
                 in your contract only.",
                mail.from.len()
            ),
            "发件人地址必须且只能有一个，请仅用合同登记的邮箱发送。",
        ));
    }

    // Request kind.
    match kind {
        RequestKind::Unknown => {
            reasons.push(Reason::new(
                ReasonCode::UnknownRequest,
                "This message is neither a license registration nor a cancellation; staff will read it. To \
                 register, send the registration fields (Company name, Project name, Contract signing date, ...).",
                "无法识别的请求，将由工作人员处理。如需注册，请按模板填写注册信息。",
            ));
            return Assessment { reasons, plan: None, single_sender: sender.is_some(), revoke: None };
        }
        RequestKind::CancelRegistration => reasons.push(Reason::new(
            ReasonCode::CancelRequest,
            "This is a request to cancel a registration; staff will confirm it with you before anything changes.",
            "此邮件为注销注册请求，工作人员确认后处理。",
        )),
        RequestKind::Registration => {}
    }

    // Contract. A name that differs from the sender's own contract's only
    // in legal-form spelling is that contract's, for an authenticated
    // sender; never another one's (that lookup is exact).
    let own = |c: &Contract| {
        auth.is_pass() && sender.as_ref().is_some_and(|s| c.terms.emails.iter().any(|e| norm_addr(e) == *s))
    };
    let variant_of_own = |company: &str| {
        by_sender.filter(|c| own(c) && contracts::same_company_but_legal_form(company, &c.terms.company))
    };
    let contract = match (by_company, &named) {
        (Some(c), _) => Some(c),
        (None, None) => by_sender,
        (None, Some(company)) if variant_of_own(company).is_some() => variant_of_own(company),
        (None, Some(company)) => {
            let hint = by_sender
                .filter(|c| contracts::company_key(&c.terms.company) != contracts::company_key(company))
                .map(|c| format!(" Your address is registered for \"{}\"; write that name exactly.", c.terms.company))
                .unwrap_or_default();
            reasons.push(Reason::new(
                ReasonCode::ContractNotFound,
                format!(
                    "We have no contract for the company \"{company}\". Write the company name exactly as in \
                     your contract.{hint}"
                ),
                format!("未找到公司“{company}”的合同，请按合同填写公司全称。"),
            ));
            None
        }
    };
    if let (Some(c), Some(s)) = (contract, &sender)
        && !c.terms.emails.iter().any(|e| norm_addr(e) == *s)
    {
        reasons.push(Reason::new(
            ReasonCode::SenderNotInContract,
            format!(
                "The address {s} is not registered for the contract of \"{}\". Send the request from an address \
                 named in the contract, or ask your sales contact to add this one.",
                c.terms.company
            ),
            format!("发件邮箱 {s} 未登记在该公司合同中，请使用合同登记的邮箱发送，或联系销售添加。"),
        ));
    }
    if kind == RequestKind::CancelRegistration {
        return Assessment { reasons, plan: None, single_sender: sender.is_some(), revoke: None };
    }
    if private_config_request {
        return assess_private_config((mail, ctx), reasons, contract, sender.as_ref(), now);
    }
    if let Some(c) = contract {
        contract_reasons(c, now, ("license", "授权"), &mut reasons);
    }

    // Subject.
    for p in subject.problems() {
        reasons.push(problem_reason(&p));
    }

    // Body, field by field.
    let contract_method = contract.and_then(|c| match c.terms.methods.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    let mut problems = body.problems(contract_method);
    // No field read, in a mail that attaches something or speaks of the
    // fields: not "every field is missing" in the customer's face.
    if !body.has_request_fields() && (!mail.attachments.is_empty() || fields::field_words_in(&body.fresh_text) >= 3) {
        problems.retain(|p| !matches!(p, Problem::MissingField(_)));
        let attached: Vec<&str> = mail.attachments.iter().map(|a| a.name.as_str()).collect();
        let (en, zh) = if attached.is_empty() {
            ("written in the mail's own words".to_owned(), "以正文叙述的方式书写".to_owned())
        } else {
            (
                format!("perhaps in the attachment ({})", attached.join(", ")),
                format!("可能在附件中（{}）", attached.join("、")),
            )
        };
        reasons.push(Reason::new(
            ReasonCode::FieldsNotRead,
            format!(
                "No registration field could be read in this mail ({en}); staff will read it. To be quicker, write \
                 the fields in the mail as \"Company name: ...\", \"Project name: ...\", one per line."
            ),
            format!("未能从邮件中读取注册信息（{zh}），将由工作人员阅读处理。如需更快处理，请在正文中按“公司名称：……”逐行填写。"),
        ));
    }
    let method = body.effective_method(contract_method);
    for field in [
        Field::CompanyName,
        Field::ProjectName,
        Field::SigningDate,
        Field::Method,
        Field::Nodes,
        Field::Version,
        Field::JarVersion,
    ] {
        for p in problems.iter().filter(|p| field_of(p) == Some(field)) {
            reasons.push(problem_reason(p));
        }
        let legal_form_ok = contract.is_some_and(own);
        if let Some(r) = compare(field, (body, subject), contract, method, legal_form_ok) {
            reasons.push(r);
        }
    }
    // A forward (`Fwd:`, or the request attached as a message) comes with a
    // cover note: it holds the request only when it asks for a change. A
    // reply's new text holds it whenever it says anything.
    let forward = fields::is_forward_subject(&mail.subject) || !mail.attached_subjects.is_empty();
    if body.from_earlier_message
        && let Some(text) = body.fresh_request()
        && (!forward || body.fresh_asks_for_change())
    {
        let text = shown(&text.replace('\n', " / "));
        reasons.push(Reason::new(
            ReasonCode::FieldsFromQuotedMessage,
            format!(
                "The registration fields were read from the earlier message quoted or forwarded in this mail, \
                 and the new text above it may change them: \"{text}\". Staff will read it and reply; to be \
                 quicker, send the request again with every field written out as it should now be."
            ),
            format!(
                "注册信息取自邮件中引用或转发的原邮件，而您新写的内容可能有所修改：“{text}”。工作人员将阅读后回复；\
                 如需更快处理，请将各项注册信息按最新内容完整填写后重新发送。"
            ),
        ));
    }
    let asked: Vec<&str> = body
        .special_requirements
        .iter()
        .map(String::as_str)
        .chain(body.exception_requests.iter().map(String::as_str))
        .collect();
    if !asked.is_empty() {
        let text = shown(&asked.join(" / "));
        reasons.push(Reason::new(
            ReasonCode::SpecialRequirements,
            format!(
                "The request has a special requirements note or asks for something outside the registration \
                 fields; staff will read it and reply: \"{text}\". Nothing is issued automatically; if you need \
                 nothing special, send the request again without it."
            ),
            format!(
                "邮件包含特殊需求或例外申请：“{text}”，将由工作人员阅读后回复，不会自动签发。如无特殊需求，请删除该内容后重新发送。"
            ),
        ));
    }
    if !body.requests.is_empty() {
        let n = body.requests.len();
        // Each request with its fields: `1) Project name "a", ...` in English,
        // `1）项目名称“a”，...` in Chinese.
        let listed = |zh: bool| -> Vec<String> {
            let (open, close, sep, num) = if zh { ("“", "”", "，", "）") } else { (" \"", "\"", ", ", ") ") };
            body.requests
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let fields: Vec<String> = r
                        .fields
                        .iter()
                        .map(|(f, v)| {
                            let (en, cn) = field_label(*f);
                            format!("{}{open}{}{close}", if zh { cn } else { en }, shown(v))
                        })
                        .collect();
                    format!("{}{num}{}", k + 1, fields.join(sep))
                })
                .collect()
        };
        let (en, zh) = (listed(false), listed(true));
        reasons.push(Reason::new(
            ReasonCode::MultipleRequests,
            format!(
                "This mail holds {n} requests: {}. Each project gets its own license: staff will handle them and \
                 reply; to be quicker, send one request per mail, each with all its fields.",
                en.join("; ")
            ),
            format!(
                "邮件包含 {n} 个注册请求：{}。每个项目单独授权，工作人员将分别处理并回复；如需更快处理，请每封邮件只发一个请求并填写完整信息。",
                zh.join("；")
            ),
        ));
    } else if !body.repeated.is_empty() {
        let en: Vec<&str> = body.repeated.iter().map(|f| field_label(*f).0).collect();
        let zh: Vec<&str> = body.repeated.iter().map(|f| field_label(*f).1).collect();
        reasons.push(Reason::new(
            ReasonCode::RepeatedField,
            format!(
                "These fields are given more than once with different values: {}. Staff will check; to be \
                 quicker, send one request per mail with each field once.",
                en.join(", ")
            ),
            format!("以下字段重复且取值不同：{}，将由工作人员核实。", zh.join("、")),
        ));
    }
    if method == Some(LicenseKind::PrivateCloud)
        && let Some(why) = ctx.images_unavailable
    {
        reasons.push(image_unavailable_reason(why));
    }

    let plan = match (contract, method, body.node_count(), &body.project_name, &sender) {
        (Some(c), Some(kind), Some(nodes), Some(project), Some(sender)) => Some(IssuePlan {
            contract_id: c.id,
            company: c.terms.company.clone(),
            project: project.clone(),
            app: c.terms.product,
            version: c.terms.version,
            kind,
            nodes,
            expiry: c.terms.expires,
            signed: c.terms.signed,
            jar_date: body.jar_version.as_ref().and_then(|f| f.value),
            sender: sender.clone(),
            request_sha256: mail.raw_sha256_hex(),
            dedup_key: mail.dedup_key.clone(),
            message_id: mail.message_id.clone(),
            migration: None,
            max_licenses: c.terms.max_licenses,
            activation_policy: c.terms.activation_policy,
        }),
        _ => None,
    };
    Assessment { reasons, plan, single_sender: sender.is_some(), revoke: None }
}

/// A customer's text as shown in a reason: at most 600 characters.
pub(super) fn shown(text: &str) -> String {
    const MAX: usize = 600;
    if text.chars().count() <= MAX {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(MAX).collect();
    s.push('…');
    s
}

/// The comparison of one field with the contract, if it disagrees.
/// `legal_form_ok`: the contract is the authenticated sender's own, so a
/// company name that differs only in legal-form spelling agrees
/// ([`contracts::same_company_but_legal_form`]).
pub(super) fn compare(
    field: Field,
    (body, subject): (&RegistrationFields, &SubjectInfo),
    contract: Option<&Contract>,
    method: Option<LicenseKind>,
    legal_form_ok: bool,
) -> Option<Reason> {
    match field {
        Field::CompanyName => {
            let c = contract?;
            let key = contracts::company_key(&c.terms.company);
            let wrong: Vec<&str> = [body.company_name.as_deref(), subject.company.as_deref()]
                .into_iter()
                .flatten()
                .filter(|n| contracts::company_key(n) != key)
                .filter(|n| !(legal_form_ok && contracts::same_company_but_legal_form(n, &c.terms.company)))
                .collect();
            let first = wrong.first()?;
            Some(Reason::new(
                ReasonCode::CompanyMismatch,
                format!(
                    "The company \"{first}\" is not the one in the contract, \"{}\". Write the company name exactly \
                     as in the contract, in the subject and the body.",
                    c.terms.company
                ),
                format!("公司名称“{first}”与合同不一致，应为“{}”。", c.terms.company),
            ))
        }
        Field::ProjectName => {
            let p = body.project_name.as_deref()?;
            let e = crate::util::input::name("project_name", p).err()?;
            Some(Reason::new(
                ReasonCode::InvalidProjectName,
                format!("The project name cannot be used: {e}."),
                "项目名称无效，请修改后重新发送。",
            ))
        }
        Field::SigningDate => {
            let c = contract?;
            let d = *body.signing_date.as_ref()?.valid()?;
            (d != c.terms.signed).then(|| {
                Reason::new(
                    ReasonCode::SigningDateMismatch,
                    format!(
                        "The contract signing date {d} is not the contract's, {}. Write the date shown on the \
                         contract.",
                        c.terms.signed
                    ),
                    format!("合同签订日期 {d} 与合同不符（应为 {}）。", c.terms.signed),
                )
            })
        }
        Field::Method => {
            let c = contract?;
            let m = method?;
            (!c.allows(m)).then(|| {
                let allowed: Vec<&str> = c.terms.methods.iter().map(|m| m.as_str()).collect();
                Reason::new(
                    ReasonCode::MethodNotInContract,
                    format!(
                        "The registration method {m} is not in your contract, which allows {}. Ask for an allowed \
                         method, or contact your sales representative.",
                        allowed.join(", ")
                    ),
                    format!("注册方式 {m} 不在合同范围内（合同允许：{}）。", allowed.join("、")),
                )
            })
        }
        Field::Nodes => {
            let c = contract?;
            let n = body.node_count()?;
            (n > c.terms.max_nodes).then(|| {
                Reason::new(
                    ReasonCode::NodesExceedContract,
                    format!(
                        "{n} nodes were asked for, but the contract allows at most {}. Ask for {} or fewer, or \
                         contact your sales representative.",
                        c.terms.max_nodes, c.terms.max_nodes
                    ),
                    format!("申请节点数 {n} 超过合同上限 {}。", c.terms.max_nodes),
                )
            })
        }
        Field::Version => {
            let c = contract?;
            let mut wrong: Vec<String> = Vec::new();
            if let Some(p) = subject.product
                && p != c.terms.product
            {
                wrong.push(format!("the subject names {p}"));
            }
            if let Some(f) = &body.project_version {
                if let Some(p) = products_named(&f.raw).into_iter().find(|p| *p != c.terms.product) {
                    wrong.push(format!("the project version names {p}"));
                }
                if let Some(v) = f.valid()
                    && *v != c.terms.version
                {
                    wrong.push(format!("the project version is {v}"));
                }
            }
            (!wrong.is_empty()).then(|| {
                Reason::new(
                    ReasonCode::VersionMismatch,
                    format!(
                        "The contract is for {} {}, but {}. Ask for the contracted product and version, or contact \
                         your sales representative.",
                        c.terms.product,
                        c.terms.version,
                        wrong.join(" and ")
                    ),
                    format!("产品或版本与合同不符，合同为 {} {}。", c.terms.product, c.terms.version),
                )
            })
        }
        Field::JarVersion => {
            if method != Some(LicenseKind::LocalContainer) {
                return None;
            }
            let d = *body.jar_version.as_ref()?.valid()?;
            let min = MIN_JAR_DATE?;
            (d < min).then(|| {
                Reason::new(
                    ReasonCode::JarTooOld,
                    format!(
                        "The JAR package is from {d}; local container registration needs a JAR package dated \
                         {min} or later. Update the JAR package, then send the request again with its new version."
                    ),
                    format!("JAR包版本（{d}）过旧，本地容器注册需要 {min} 及以后的JAR包，请升级后重新申请。"),
                )
            })
        }
        Field::SpecialRequirements => None,
    }
}

/// The outcome from the reasons (see the module documentation).
pub(super) fn decide(
    reasons: Vec<Reason>,
    auth: &SenderAuth,
    single_sender: bool,
    plan: Option<IssuePlan>,
) -> Decision {
    let reply_allowed = auth.is_pass() && single_sender;
    // New text above a quoted request may correct what the quoted fields
    // get wrong: staff read it before anything is answered.
    let new_text = auth.is_pass() && reasons.iter().any(|r| r.code == ReasonCode::FieldsFromQuotedMessage);
    let outcome = if matches!(auth, SenderAuth::None { .. }) || new_text {
        Outcome::Hold(reasons)
    } else if reasons.iter().any(|r| !is_hold_code(r.code)) {
        Outcome::Reject(reasons)
    } else if !reasons.is_empty() {
        Outcome::Hold(reasons)
    } else {
        match plan {
            Some(plan) => Outcome::Issue(plan),
            // Unreachable in practice: a missing piece always has a reason.
            None => Outcome::Hold(vec![Reason::new(
                ReasonCode::IncompleteRequest,
                "The request is incomplete; staff will check it.",
                "请求信息不完整，将由工作人员核实。",
            )]),
        }
    };
    Decision { outcome, reply_allowed }
}

pub(super) fn parse_body_company(body: &RegistrationFields, subject: &SubjectInfo) -> Option<String> {
    body.company_name.clone().or_else(|| subject.company.clone())
}

/// Normalized address for comparison: trimmed, full-width folded, lowercase.
pub(super) fn norm_addr(a: &str) -> String {
    contracts::normalize_email("from", a).unwrap_or_else(|_| a.trim().to_lowercase())
}

/// Which product a text names, if exactly one: `finereport` or `finebi`
/// (any case, spaces and full-width letters ignored).
pub(super) fn products_named(text: &str) -> Vec<&'static str> {
    let squashed: String = contracts::company_key(text).chars().filter(|c| !c.is_whitespace()).collect();
    fields::PRODUCTS.iter().copied().filter(|p| squashed.contains(&p.to_lowercase())).collect()
}
