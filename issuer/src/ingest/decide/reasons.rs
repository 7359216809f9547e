//! The reasons a request gets, with their English and Chinese messages:
//! the parser's problems, the contract's state, a project's live license,
//! an unreadable message, a missing image builder.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Why a request for a project that already has a live license is not
/// issued as it stands; `None` for [`live::Standing::Free`] and
/// [`live::Standing::Same`] (the license goes out again).
pub fn standing_reason(standing: &live::Standing, project: &str) -> Option<Reason> {
    Some(match standing {
        live::Standing::Free | live::Standing::Same(_) => return None,
        live::Standing::Differs(l, diff) => Reason::new(
            ReasonCode::LicenseExists,
            format!(
                "Project {project:?} already has license {} with other terms ({}). One Container.lic serves one \
                 project: staff will reissue it with the new terms (the old one then stops) or reply.",
                l.license_id,
                diff.join("; ")
            ),
            format!(
                "项目 {project:?} 已有授权 {}，条款不同（{}）。每个项目只有一个 Container.lic：业务人员将按新条款重新签发（旧授权随之失效）或回复您。",
                l.license_id,
                diff.join("；")
            ),
        ),
        live::Standing::Similar(l) => Reason::new(
            ReasonCode::SimilarProject,
            format!(
                "Project {project:?} differs from the licensed project {:?} (license {}) only in case, width or \
                 spacing; products compare project names exactly. Staff will check whether it is a new project; \
                 if not, use the licensed name exactly.",
                l.project, l.license_id
            ),
            format!(
                "项目 {project:?} 与已授权项目 {:?}（授权 {}）仅在大小写、全角/半角或空格上不同；产品按原样比较项目名称。业务人员将确认是否为新项目；如不是，请使用已授权的项目名称。",
                l.project, l.license_id
            ),
        ),
        live::Standing::Full { max, projects } => Reason::new(
            ReasonCode::MaxLicensesReached,
            format!(
                "The contract covers {max} project(s), and every one holds a license: {}. To license project \
                 {project:?}, ask us to cancel one of them (it stops working) or to extend the contract.",
                projects.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join(", ")
            ),
            format!(
                "合同可授权 {max} 个项目，均已有授权：{}。如需为项目 {project:?} 授权，请联系我们注销其中一个（注销后该项目停止使用）或扩充合同。",
                projects.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join("、")
            ),
        ),
    })
}

/// The decision for a message that could not be parsed (`unparseable_message`
/// or `message_too_large`): rejected, no reply (nobody is authenticated).
pub fn unparseable(err: &MailError) -> Decision {
    let reason = Reason::new(
        ReasonCode::parse(err.code()).unwrap_or(ReasonCode::UnparseableMessage),
        format!("The message could not be read ({err}). Send the registration again as a plain e-mail."),
        "邮件无法解析，请以普通邮件重新发送注册信息。",
    );
    Decision { outcome: Outcome::Reject(vec![reason]), reply_allowed: false }
}

pub(super) fn field_of(p: &Problem) -> Option<Field> {
    match p {
        Problem::MissingField(f) => Some(*f),
        Problem::InvalidDate { field, .. } => Some(*field),
        Problem::UnknownMethod { .. } => Some(Field::Method),
        Problem::InvalidNodes { .. } => Some(Field::Nodes),
        Problem::InvalidVersion { .. } => Some(Field::Version),
        Problem::SubjectMissingCompany | Problem::SubjectMissingProduct => None,
    }
}

pub(super) fn field_label(f: Field) -> (&'static str, &'static str) {
    match f {
        Field::CompanyName => ("Company name", "公司名称"),
        Field::ProjectName => ("Project name", "项目名称"),
        Field::SigningDate => ("Contract signing date", "合同签订日期"),
        Field::Method => ("Registration method", "注册方式"),
        Field::Nodes => ("Number of nodes", "集群节点数"),
        Field::Version => ("Project version", "项目版本"),
        Field::JarVersion => ("JAR package version", "JAR包版本"),
        Field::SpecialRequirements => ("Special requirements", "特殊需求"),
    }
}

/// The code of a parser's problem.
pub(super) fn problem_code(p: &Problem) -> ReasonCode {
    match p {
        Problem::MissingField(f) => match f {
            Field::CompanyName => ReasonCode::MissingFieldCompanyName,
            Field::ProjectName => ReasonCode::MissingFieldProjectName,
            Field::SigningDate => ReasonCode::MissingFieldSigningDate,
            Field::Method => ReasonCode::MissingFieldMethod,
            Field::Nodes => ReasonCode::MissingFieldNodes,
            Field::Version => ReasonCode::MissingFieldVersion,
            Field::JarVersion => ReasonCode::MissingFieldJarVersion,
            Field::SpecialRequirements => ReasonCode::MissingFieldSpecialRequirements,
        },
        Problem::InvalidDate { .. } => ReasonCode::InvalidDate,
        Problem::UnknownMethod { .. } => ReasonCode::UnknownMethod,
        Problem::InvalidNodes { .. } => ReasonCode::InvalidNodes,
        Problem::InvalidVersion { .. } => ReasonCode::InvalidVersion,
        Problem::SubjectMissingCompany => ReasonCode::SubjectMissingCompany,
        Problem::SubjectMissingProduct => ReasonCode::SubjectMissingProduct,
    }
}

pub(super) fn problem_reason(p: &Problem) -> Reason {
    let code = problem_code(p);
    match p {
        Problem::MissingField(f) => {
            let (en, zh) = field_label(*f);
            let extra = match f {
                Field::Method => " (Local container or Private cloud)",
                Field::JarVersion => " (the JAR build date, such as 2023.12.14)",
                Field::SigningDate => " (YYYY/MM/DD)",
                _ => "",
            };
            Reason::new(
                code,
                format!("The line \"{en}:\" is missing. Add it with its value{extra}."),
                format!("缺少“{zh}”，请补充。"),
            )
        }
        Problem::InvalidDate { field, raw } => {
            let (en, zh) = field_label(*field);
            Reason::new(
                code,
                format!("\"{en}\" is \"{raw}\", which is not a real date. Write it as YYYY/MM/DD, such as 2026/11/20."),
                format!("“{zh}”不是有效日期（{raw}），请按 YYYY/MM/DD 填写。"),
            )
        }
        Problem::UnknownMethod { raw } => Reason::new(
            code,
            format!("The registration method \"{raw}\" is not known. Write \"Local container\" or \"Private cloud\"."),
            format!("注册方式“{raw}”无法识别，请填写“本地容器”或“私有云”。"),
        ),
        Problem::InvalidNodes { raw } => Reason::new(
            code,
            format!("The number of nodes \"{raw}\" is not a whole number of at least 1. Write a number such as 2."),
            format!("节点数“{raw}”无效，请填写不小于 1 的整数。"),
        ),
        Problem::InvalidVersion { raw } => Reason::new(
            code,
            format!("The project version \"{raw}\" has no major.minor. Write it such as 11.0 or 11.0.20."),
            format!("项目版本“{raw}”无法识别，请填写如 11.0 的版本号。"),
        ),
        Problem::SubjectMissingCompany => Reason::new(
            code,
            "The subject does not name your company. Use a subject such as \"Official Authorization Document of \
             <Company>'s Registration for FineReport\".",
            "邮件主题未写明公司名称，请使用如“关于<公司>注册FineReport的正式授权文件”的主题。",
        ),
        Problem::SubjectMissingProduct => Reason::new(
            code,
            "The subject does not name the product. Write FineReport or FineBI in the subject.",
            "邮件主题未写明产品，请在主题中注明 FineReport 或 FineBI。",
        ),
    }
}

/// `contract_disabled` and `contract_expired` of `c` at `now`; `what` is
/// what could not be issued under it (English, Chinese).
pub(super) fn contract_reasons(c: &Contract, now: Timestamp, (what, what_zh): (&str, &str), reasons: &mut Vec<Reason>) {
    if !c.enabled {
        reasons.push(Reason::new(
            ReasonCode::ContractDisabled,
            format!(
                "The contract of \"{}\" is disabled, so no {what} can be issued under it. Please contact your \
                 sales representative.",
                c.terms.company
            ),
            format!("该合同已停用，无法签发{what_zh}，请联系销售。"),
        ));
    }
    if c.is_expired_at(now) {
        reasons.push(Reason::new(
            ReasonCode::ContractExpired,
            format!(
                "The contract of \"{}\" ended on {}. Please renew it with your sales representative first.",
                c.terms.company, c.terms.expires
            ),
            format!("合同已于 {} 到期，请先联系销售续约。", c.terms.expires),
        ));
    }
}

pub(super) fn image_unavailable_reason(why: &str) -> Reason {
    Reason::new(
        ReasonCode::ImageBuilderUnavailable,
        format!(
            "The authorization server image (fanruan_license_server.tar) cannot be built on the vendor's side \
             right now; staff will send it. Staff: {why}; then approve or ingest the mail again."
        ),
        "授权服务器镜像暂时无法生成，工作人员处理后将发送给您。",
    )
}
