//! Why an activation is refused: each reason's code, HTTP status, plain
//! message (JSON) and texts in the reader's language (pages), in the order
//! the reasons are checked and reported.

use axum::http::StatusCode;
use fanlic_formats::{Expiry, LicenseKind, Timestamp, activation::CHALLENGE_VALID_SECS};
use fanlic_verifier::{Cause, Lang, content_incorrect_title};

use super::license_row::LicenseRow;

/// Why an activation is refused, in the order they are checked and reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Reason {
    Malformed,
    UnknownLicense,
    NoActivationKey,
    ForgedChallenge,
    QrExpired,
    Revoked,
    LicenseExpired,
    WrongKind,
    WrongPolicy,
    InstanceKeyMissing,
    StalePrivateConfig,
    MaxLicensesReached,
    Forked,
    TooManyNodes,
    NoReceiptKey,
}

impl Reason {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnknownLicense => "unknown_license",
            Self::NoActivationKey => "no_activation_key",
            Self::ForgedChallenge => "forged_challenge",
            Self::QrExpired => "qr_expired",
            Self::Revoked => "revoked",
            Self::LicenseExpired => "license_expired",
            Self::WrongKind => "wrong_kind",
            Self::StalePrivateConfig => "stale_private_config",
            Self::MaxLicensesReached => "max_licenses_reached",
            Self::TooManyNodes => "too_many_nodes",
            Self::WrongPolicy => "wrong_policy",
            Self::InstanceKeyMissing => "instance_key_missing",
            Self::Forked => "forked",
            Self::NoReceiptKey => "no_receipt_key",
        }
    }

    pub(crate) fn status(self) -> StatusCode {
        match self {
            Self::Malformed => StatusCode::BAD_REQUEST,
            Self::UnknownLicense => StatusCode::NOT_FOUND,
            Self::NoActivationKey
            | Self::MaxLicensesReached
            | Self::TooManyNodes
            | Self::WrongKind
            | Self::WrongPolicy
            | Self::Forked
            | Self::StalePrivateConfig => StatusCode::CONFLICT,
            Self::InstanceKeyMissing => StatusCode::BAD_REQUEST,
            Self::NoReceiptKey => StatusCode::SERVICE_UNAVAILABLE,
            Self::ForgedChallenge | Self::Revoked | Self::LicenseExpired => StatusCode::FORBIDDEN,
            Self::QrExpired => StatusCode::GONE,
        }
    }

    /// A plain message saying what happened and what to do.
    pub(crate) fn message(self, license: Option<&LicenseRow>, nodes: u32) -> String {
        match self {
            Self::Malformed => "This is not a valid activation QR code. Scan the QR code on the product's \
                                activation page again; if this persists, refresh the QR code there."
                .to_owned(),
            Self::UnknownLicense => "The vendor has no record of this license. Check that the product uses the \
                                     Container.lic the vendor sent you, or contact the vendor."
                .to_owned(),
            Self::NoActivationKey => "This license cannot be activated by this service (it has no activation key \
                                      this service can check). Ask the vendor for a new license."
                .to_owned(),
            Self::ForgedChallenge => "This QR code was not made by the licensed product. Scan the QR code on \
                                      the product's own activation page; if this persists, contact the vendor."
                .to_owned(),
            Self::QrExpired => format!(
                "This QR code has expired (a QR code is valid for {} minutes). Refresh the QR code on the \
                 product and scan it again.",
                CHALLENGE_VALID_SECS / 60
            ),
            Self::Revoked => "The vendor has revoked this license. Contact the vendor for a new license.".to_owned(),
            Self::WrongKind => match license.map(|l| l.kind) {
                Some(LicenseKind::PrivateCloud) => "This license is for a private-cloud authorization server: \
                    activate it from the server's own page (https://SERVER:18081/license/qrcode), not from the \
                    product."
                    .to_owned(),
                _ => "This QR code comes from an authorization server, but the license is not a private-cloud \
                      license. Install the license in the product itself, or ask the vendor for the right one."
                    .to_owned(),
            },
            Self::StalePrivateConfig => "This authorization server's state (privateConfig) is older than the one \
                already activated: it was restored from a copy. Start the server with its current /app/config, \
                or ask the vendor to migrate the license."
                .to_owned(),
            Self::LicenseExpired => match license.map(|l| l.expiry) {
                Some(Expiry::On(d)) => {
                    format!("This license expired at the end of {d}. Contact the vendor to renew it.")
                }
                _ => "This license has expired. Contact the vendor to renew it.".to_owned(),
            },
            Self::MaxLicensesReached => format!(
                "The maximum license number has been reached. This license is already registered to \
                 another project; to move it to this one, ask the vendor to cancel the old registration \
                 (`fanlic unbind {}`).",
                license.map_or_else(String::new, |l| l.id.to_string())
            ),
            Self::TooManyNodes => format!(
                "The cluster has {nodes} nodes but this license allows at most {}. Remove nodes, or ask \
                 the vendor for a license with more nodes.",
                license.map_or(0, |l| l.max_nodes)
            ),
            Self::WrongPolicy => "This license is activated with a 6-digit code, not a receipt: open the QR \
                code's address and type the code shown into the product."
                .to_owned(),
            Self::InstanceKeyMissing => "An authorization server's receipt names its instance key: send it \
                with the token (a second line `instance-key HEX`, or `?instance_key=HEX` on the page's address), \
                the key whose fingerprint the challenge carries."
                .to_owned(),
            Self::Forked => "This authorization server asked with an activation receipt that is not the \
                latest one issued for it: a copy of the server runs somewhere. No receipt was issued; the \
                vendor has been alerted. Contact the vendor's business staff."
                .to_owned(),
            Self::NoReceiptKey => "The activation service has no valid receipt key; the vendor must make one \
                (`fanlic keys receipt-key --root-key PATH`). Try again later."
                .to_owned(),
        }
    }
}

/// A refusal as a person reads it, in their language: the cause's name, what
/// happened, and what to do next.
pub(crate) struct Texts {
    pub(crate) title: &'static str,
    pub(crate) prompt: String,
    pub(crate) advice: String,
}

impl Texts {
    fn new(lang: Lang, [en, zh]: [&'static str; 2], prompt: String, advice: [&str; 2]) -> Self {
        Self { title: lang.pick(en, zh), prompt, advice: pick(lang, advice).to_owned() }
    }

    /// The verifier's texts of a license cause, as the product shows them.
    fn of_cause(c: &Cause<'_>, lang: Lang) -> Self {
        Self { title: c.title(lang), prompt: c.prompt(lang).to_string(), advice: c.advice(lang).to_string() }
    }
}

fn pick(lang: Lang, [en, zh]: [&str; 2]) -> &str {
    match lang {
        Lang::ZhCn => zh,
        _ => en,
    }
}

impl Reason {
    /// [`Reason::message`] for a person reading `lang`: the verifier's texts
    /// where the reason is one of its causes (expired, nodes, license type),
    /// else the service's own.
    pub(crate) fn texts(self, lang: Lang, license: Option<&LicenseRow>, nodes: u32, now: Timestamp) -> Texts {
        let content = [content_incorrect_title(Lang::En), content_incorrect_title(Lang::ZhCn)];
        let id = license.map_or_else(String::new, |l| l.id.to_string());
        let text = |en: String, zh: String| pick(lang, [en.as_str(), zh.as_str()]).to_owned();
        match self {
            Self::Malformed => Texts::new(
                lang,
                ["Not an activation QR code", "不是有效的激活二维码"],
                text(
                    "This address is not a valid activation QR code.".to_owned(),
                    "此地址不是有效的激活二维码。".to_owned(),
                ),
                [
                    "Scan the QR code on the product's activation page again; if this persists, refresh the QR code there.",
                    "请重新扫描产品激活页面上的二维码；如仍出现此提示，请在产品上刷新二维码。",
                ],
            ),
            Self::UnknownLicense => Texts::new(
                lang,
                content,
                text("The vendor has no record of this license.".to_owned(), "厂商没有此许可证的记录。".to_owned()),
                [
                    "Check that the product uses the Container.lic the vendor sent you, or contact the vendor's business staff.",
                    "请检查产品使用的是否为厂商发送的 Container.lic，或联系商务人员。",
                ],
            ),
            Self::NoActivationKey => Texts::new(
                lang,
                content,
                text(
                    "This license has no activation key this service can check, so it cannot be activated here."
                        .to_owned(),
                    "此许可证没有本服务可校验的激活密钥，无法在此激活。".to_owned(),
                ),
                ["Ask the vendor's business staff for a new license.", "请联系商务人员申请新的许可证。"],
            ),
            Self::ForgedChallenge => Texts::new(
                lang,
                ["Invalid QR code", "二维码无效"],
                text(
                    "This QR code was not made by the licensed product.".to_owned(),
                    "此二维码不是由已授权的产品生成的。".to_owned(),
                ),
                [
                    "Scan the QR code on the product's own activation page; if this persists, contact the vendor's business staff.",
                    "请扫描产品自身激活页面上的二维码；如仍出现此提示，请联系商务人员。",
                ],
            ),
            Self::QrExpired => Texts::new(
                lang,
                ["QR code expired", "二维码已过期"],
                text(
                    format!("A QR code is valid for {} minutes, and this one has expired.", CHALLENGE_VALID_SECS / 60),
                    format!("二维码的有效期为 {} 分钟，此二维码已过期。", CHALLENGE_VALID_SECS / 60),
                ),
                ["Refresh the QR code on the product and scan it again.", "请在产品上刷新二维码后重新扫描。"],
            ),
            Self::Revoked => Texts::new(
                lang,
                content,
                text(format!("The vendor revoked this license ({id})."), format!("厂商已吊销此许可证（{id}）。")),
                [
                    "This license can no longer be activated: contact the vendor's business staff for a new one.",
                    "此许可证已无法激活，请联系商务人员申请新的许可证。",
                ],
            ),
            Self::LicenseExpired => match license.map(|l| l.expiry) {
                Some(Expiry::On(expiry)) => Texts::of_cause(&Cause::LicenseExpired { expiry, now }, lang),
                _ => Texts::new(
                    lang,
                    ["License Expired", "许可证已过期"],
                    String::new(),
                    ["Ask the vendor's business staff to renew the license.", "请联系商务人员续期许可证。"],
                ),
            },
            // The product and the license disagree on the authentication
            // method: a QR code from a product for a private-cloud license,
            // or from an authorization server for a local-container one.
            Self::WrongKind => {
                let licensed = license.map_or(LicenseKind::LocalContainer, |l| l.kind);
                let selected = match licensed {
                    LicenseKind::PrivateCloud => LicenseKind::LocalContainer,
                    LicenseKind::LocalContainer => LicenseKind::PrivateCloud,
                };
                let mut t = Texts::of_cause(&Cause::LicenseTypeMismatch { licensed, selected }, lang);
                if licensed == LicenseKind::PrivateCloud {
                    t.advice = pick(
                        lang,
                        [
                            "A private-cloud license is activated from its authorization server's own page \
                             (https://SERVER:18081/license/qrcode), not from the product: scan the QR code there.",
                            "私有云许可证需在授权服务器自己的页面（https://SERVER:18081/license/qrcode）上激活，\
                             而不是在产品上：请扫描该页面上的二维码。",
                        ],
                    )
                    .to_owned();
                }
                t
            }
            Self::StalePrivateConfig => Texts::new(
                lang,
                ["Old authorization server state", "授权服务器状态过旧"],
                text(
                    "This authorization server's state (privateConfig) is older than the one already activated: \
                     it was restored from a copy."
                        .to_owned(),
                    "此授权服务器的状态（privateConfig）比已激活的状态旧：它是从副本恢复的。".to_owned(),
                ),
                [
                    "Start the server with its current /app/config, or ask the vendor's business staff to migrate the license.",
                    "请使用当前的 /app/config 启动授权服务器，或联系商务人员迁移许可证。",
                ],
            ),
            Self::MaxLicensesReached => Texts {
                title: pick(lang, ["The maximum license number has been reached.", "已达到许可证最大注册数。"]),
                prompt: text(
                    "This license is already registered to another project.".to_owned(),
                    "此许可证已注册到另一个项目。".to_owned(),
                ),
                advice: text(
                    format!(
                        "To move it to this project, ask the vendor's business staff to cancel the old \
                         registration (fanlic unbind {id})."
                    ),
                    format!("如需迁移到本项目，请联系商务人员注销原有注册（fanlic unbind {id}）。"),
                ),
            },
            Self::TooManyNodes => {
                Texts::of_cause(&Cause::LicenseExhausted { max_nodes: license.map_or(0, |l| l.max_nodes), nodes }, lang)
            }
            Self::WrongPolicy => Texts::new(
                lang,
                ["Activated by code", "使用激活码激活"],
                text(
                    "This license is activated with a 6-digit code, not with a receipt.".to_owned(),
                    "此许可证使用 6 位激活码激活，而不是激活回执。".to_owned(),
                ),
                [
                    "Open the QR code's address on a phone and type the code shown into the product.",
                    "请用手机打开二维码中的地址，并将显示的激活码输入产品。",
                ],
            ),
            Self::InstanceKeyMissing => Texts::new(
                lang,
                ["Instance key missing", "缺少实例公钥"],
                text(
                    "An authorization server's receipt names its instance key, and none that matches the challenge was sent."
                        .to_owned(),
                    "授权服务器的激活回执须写明其实例公钥，但请求中没有与挑战相符的实例公钥。".to_owned(),
                ),
                [
                    "Use the activation button on the server's own page (https://SERVER:18081/license/qrcode).",
                    "请使用授权服务器自己页面（https://SERVER:18081/license/qrcode）上的激活按钮。",
                ],
            ),
            Self::Forked => Texts::new(
                lang,
                ["Copy of the authorization server", "授权服务器副本"],
                text(
                    "This authorization server asked with an activation receipt that is not the latest one issued \
                     for it: a copy of the server runs somewhere. No receipt was issued."
                        .to_owned(),
                    "此授权服务器提交的激活回执不是为其签发的最新回执：有一份服务器副本在别处运行。未签发回执。".to_owned(),
                ),
                [
                    "The vendor has been alerted: contact the vendor's business staff.",
                    "厂商已收到提醒：请联系商务人员。",
                ],
            ),
            Self::NoReceiptKey => Texts::new(
                lang,
                ["Service not ready", "服务暂不可用"],
                text(
                    "The activation service has no valid receipt key.".to_owned(),
                    "激活服务没有有效的回执密钥。".to_owned(),
                ),
                [
                    "Try again later; the vendor must run `fanlic keys receipt-key --root-key PATH`.",
                    "请稍后重试；厂商须运行 `fanlic keys receipt-key --root-key PATH`。",
                ],
            ),
        }
    }
}
