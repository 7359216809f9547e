//! What a mail asks for ([`Intent`]: a registration, a migration, the
//! destruction of an old server), and the check of its attached
//! `privateConfig` against the license it names ([`ConfigCheck`]).

#[allow(clippy::wildcard_imports)]
use super::*;

/// The start of the reason recorded when a destroy request revokes a license.
pub const DESTROYED_REASON: &str = "destroyed at the customer's request";

/// Words of a migration request (compared lowercased, full-width folded).
pub const MIGRATION_WORDS: [&str; 9] = [
    "migrat",
    "move server",
    "move the server",
    "move our server",
    "move the authori",
    "moving the server",
    "relocate the server",
    "迁移",
    "搬迁",
];

/// Words of a request to destroy the old authorization component.
pub const DESTROY_WORDS: [&str; 4] = ["destroy", "decommission", "销毁", "作废"];

/// What a mail asks for among the private-cloud requests (a registration,
/// moving the server, destroying the old one), by [`intent_of`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// A registration, a cancellation or an unknown request, as
    /// [`ParsedRequest`] classifies it.
    Registration,
    /// Move the authorization server: its license is revoked and a new
    /// image, with a new license that supersedes it, is sent.
    Migration,
    /// Destroy the old authorization component: its license is revoked.
    Destroy,
}

/// Whether an attachment name is the server's state file: `privateConfig`
/// (any case), also with an extension a mail program may add.
pub fn is_private_config_name(name: &str) -> bool {
    let base = name.trim().rsplit(['/', '\\']).next().unwrap_or_default().to_ascii_lowercase();
    base == "privateconfig"
        || base.strip_prefix("privateconfig.").is_some_and(|ext| ["txt", "bin", "dat"].contains(&ext))
}

/// Whether `mail` carries a `privateConfig` attachment.
pub fn has_private_config(mail: &RegistrationMail) -> bool {
    mail.attachments
        .iter()
        .any(|a| is_private_config_name(&a.name) || a.original_name.as_deref().is_some_and(is_private_config_name))
}

/// What `mail` asks for:
///
/// - [`Intent::Migration`]: it speaks of migrating (`migrate`, `migration`,
///   `move the server`, `迁移`, ...) and either attaches a `privateConfig`
///   or does not speak of destroying (unless its registration method is
///   local container, which has no server to move, and nothing is
///   attached: then a registration); or it is a registration (or names no
///   destroying) and attaches a `privateConfig` (a migration is the
///   registration of the new server with the old one's `privateConfig`).
/// - [`Intent::Destroy`]: it asks to destroy (`destroy`, `销毁`, ...) or
///   cancel (`cancel the registration`, `注销`, ...) without migrating
///   words, or with them but without a `privateConfig` (destroying "the
///   server to be migrated" is the first step of a migration).
/// - [`Intent::Registration`] otherwise.
///
/// The words are looked for in the subject and the customer's own words
/// ([`RegistrationFields::own_words`]): never in a quoted message, a
/// signature or a confidentiality notice ("destroy all copies").
pub fn intent_of(mail: &RegistrationMail, parsed: &ParsedRequest) -> Intent {
    // The subject and the customer's own words: not quoted messages, not a
    // signature or a confidentiality notice ("destroy all copies").
    let text = contracts::company_key(&format!("{}\n{}", mail.subject, parsed.body.own_words()));
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let migrate = MIGRATION_WORDS.iter().any(|w| text.contains(w));
    let destroy = DESTROY_WORDS.iter().any(|w| text.contains(w)) || parsed.kind == RequestKind::CancelRegistration;
    let config = has_private_config(mail);
    // A local container has no authorization server to move: a local
    // container registration that speaks of migrating (its servers, from
    // another tool) without a privateConfig is a registration.
    let local = parsed.body.method.as_ref().and_then(|m| m.value) == Some(LicenseKind::LocalContainer);
    match (migrate, destroy, config) {
        (true, false, false) if local => Intent::Registration,
        (true, false, _) | (true, true, true) => Intent::Migration,
        (_, true, _) => Intent::Destroy,
        (false, false, true) => Intent::Migration,
        (false, false, false) => Intent::Registration,
    }
}

/// The license a `privateConfig` names, as this home recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedLicense {
    /// Its id.
    pub license_id: LicenseId,
    /// The company it was issued to.
    pub company: String,
    /// Its project.
    pub project: String,
    /// `FineReport` or `FineBI`.
    pub app: &'static str,
    /// Its major.minor.
    pub version: Version,
    /// Its node count.
    pub nodes: u32,
    /// Its expiry.
    pub expiry: Expiry,
    /// Its contract signing date.
    pub signed: Date,
    /// `(when, reason)` if it is revoked.
    pub revoked: Option<(Timestamp, String)>,
    /// A license that supersedes it (a migration done), if any.
    pub superseded_by: Option<String>,
}

/// What checking a mail's `privateConfig` found (`crate::ingest::private_cloud`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigCheck {
    /// No `privateConfig` attached.
    Missing,
    /// It does not decode, or a signature does not hold.
    Invalid {
        /// What failed.
        why: String,
    },
    /// It names a license this home never issued.
    UnknownLicense {
        /// The id it names.
        license_id: LicenseId,
    },
    /// It names a license that is not a private-cloud one.
    NotPrivateCloud {
        /// The id it names.
        license_id: LicenseId,
    },
    /// It verifies with the image key of this license.
    Verified(NamedLicense),
}

/// The reasons and plans of a migration or destroy mail whose sender and
/// contract were checked (`reasons` so far), from its `privateConfig`.
pub(super) fn assess_private_config(
    (mail, ctx): (&RegistrationMail, &Context<'_>),
    mut reasons: Vec<Reason>,
    contract: Option<&Contract>,
    sender: Option<&String>,
    now: Timestamp,
) -> Assessment {
    let single_sender = sender.is_some();
    let done = |reasons| Assessment { reasons, plan: None, single_sender, revoke: None };
    let old = match ctx.config {
        ConfigCheck::Missing => {
            reasons.push(Reason::new(
                ReasonCode::PrivateConfigMissing,
                "To move the authorization server, attach its privateConfig file (in /app/config of the \
                 container's mounted folder, taken after stopping the old component) to the mail, and send it \
                 again.",
                "迁移授权服务器需附上 privateConfig 文件（停止旧组件后，从容器挂载目录的 /app/config 获取），请补充后重新发送。",
            ));
            return done(reasons);
        }
        ConfigCheck::Invalid { why } => {
            reasons.push(Reason::new(
                ReasonCode::PrivateConfigInvalid,
                format!(
                    "The attached privateConfig could not be verified ({why}). Attach the file exactly as the \
                     authorization server wrote it in /app/config, unchanged (not opened in an editor, not \
                     zipped), and send the mail again."
                ),
                "所附 privateConfig 文件校验失败，请附上授权服务器 /app/config 中未经修改的原文件后重新发送。",
            ));
            return done(reasons);
        }
        ConfigCheck::UnknownLicense { license_id } => {
            reasons.push(Reason::new(
                ReasonCode::PrivateConfigUnknownLicense,
                format!(
                    "The attached privateConfig names license {license_id}, which we did not issue. Attach the \
                     privateConfig of the authorization server we sent you, or contact your sales representative."
                ),
                format!("所附 privateConfig 对应的授权 {license_id} 不是我方签发的，请附上正确的文件或联系销售。"),
            ));
            return done(reasons);
        }
        ConfigCheck::NotPrivateCloud { license_id } => {
            reasons.push(Reason::new(
                ReasonCode::PrivateConfigNotPrivateCloud,
                format!(
                    "License {license_id} is a local container license (Container.lic), which has no \
                     authorization server to move. To register a new project with it, re-register in the \
                     product (Registration Management), or ask us to unbind it."
                ),
                format!("授权 {license_id} 为本地容器授权，没有可迁移的授权服务器；如需更换项目，请在产品中重新注册或联系我们解绑。"),
            ));
            return done(reasons);
        }
        ConfigCheck::Verified(old) => old,
    };
    let Some(c) = contract else {
        // contract_not_found (or no sender) is already among the reasons.
        return done(reasons);
    };
    if contracts::company_key(&old.company) != contracts::company_key(&c.terms.company) {
        reasons.push(Reason::new(
            ReasonCode::PrivateConfigForeign,
            format!(
                "The attached privateConfig belongs to license {}, which was not issued under the contract of \
                 \"{}\"; staff will check the request with you. Only the company that holds a license can move \
                 or destroy its server.",
                old.license_id, c.terms.company
            ),
            "所附 privateConfig 不属于贵公司合同下的授权，将由工作人员核实。",
        ));
        return done(reasons);
    }
    let destroyed = old.revoked.as_ref().is_some_and(|(_, r)| r.starts_with(DESTROYED_REASON));
    let revoke_old = match (&old.revoked, &old.superseded_by) {
        (None, None) => true,
        // Destroyed on request, then asked for the new image: a migration's first and last steps.
        (Some(_), None) if ctx.intent == Intent::Migration && destroyed => false,
        (revoked, superseded) => {
            let (en, zh) = match (superseded, revoked) {
                (Some(new), _) => (format!("it was migrated to license {new}"), format!("已迁移至授权 {new}")),
                (None, Some((at, _))) => (format!("it was revoked at {at}"), format!("已于 {at} 吊销")),
                (None, None) => (String::new(), String::new()),
            };
            reasons.push(Reason::new(
                ReasonCode::LicenseAlreadyRevoked,
                format!(
                    "License {} of the attached privateConfig cannot be moved or destroyed again: {en}. If you \
                     need another authorization server, send a new registration; reply to this message if you did \
                     not ask for this.",
                    old.license_id
                ),
                format!(
                    "所附 privateConfig 对应的授权 {} {zh}，无法再次迁移或销毁。如需新的授权服务器，请重新申请注册。",
                    old.license_id
                ),
            ));
            return done(reasons);
        }
    };
    if ctx.intent == Intent::Destroy {
        let revoke = RevokePlan {
            license_id: old.license_id,
            reason: format!(
                "{} (mail {})",
                DESTROYED_REASON,
                mail.message_id.as_deref().unwrap_or(mail.dedup_key.as_str())
            ),
        };
        return Assessment { reasons, plan: None, single_sender, revoke: Some(revoke) };
    }
    // A migration issues a new license under the contract: it must allow it.
    contract_reasons(c, now, ("new authorization server", "新的授权服务器"), &mut reasons);
    if !c.allows(LicenseKind::PrivateCloud) {
        reasons.push(Reason::new(
            ReasonCode::MethodNotInContract,
            "Your contract no longer allows private cloud registration, so the authorization server cannot be \
             moved. Please contact your sales representative.",
            "合同已不包含私有云注册方式，无法迁移授权服务器，请联系销售。",
        ));
    }
    if let Expiry::On(d) = old.expiry
        && d.end() <= now
    {
        reasons.push(Reason::new(
            ReasonCode::LicenseExpired,
            format!(
                "License {} expired on {d}, so it cannot be moved. Renew the contract and send a new \
                 registration instead.",
                old.license_id
            ),
            format!("授权 {} 已于 {d} 到期，无法迁移，请续约后重新申请注册。", old.license_id),
        ));
    }
    if let Some(why) = ctx.images_unavailable {
        reasons.push(image_unavailable_reason(why));
    }
    let plan = sender.map(|sender| IssuePlan {
        contract_id: c.id,
        company: old.company.clone(),
        project: old.project.clone(),
        app: old.app,
        version: old.version,
        kind: LicenseKind::PrivateCloud,
        nodes: old.nodes,
        expiry: old.expiry,
        signed: old.signed,
        jar_date: None,
        sender: sender.clone(),
        request_sha256: mail.raw_sha256_hex(),
        dedup_key: mail.dedup_key.clone(),
        message_id: mail.message_id.clone(),
        migration: Some(Migration { old: old.license_id, revoke: revoke_old }),
        max_licenses: c.terms.max_licenses,
        activation_policy: c.terms.activation_policy,
    });
    Assessment { reasons, plan, single_sender, revoke: None }
}
