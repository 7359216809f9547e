//! `GET /licenses/{id}`: everything recorded of one license, and the
//! actions the reader's role allows.

use axum::{
    extract::{Path, Query},
    response::Response,
};
use fanlic_formats::Timestamp;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{kind_name, license_id, state_class, state_name};
use crate::console::ctx::{Ctx, Failure};
use crate::console::html::{notice, time};
use crate::console::lang::Lang;
use crate::license::inspect;
use crate::store::audit::{AuditEntry, Filter};
use crate::store::bindings::{ActivationRecord, ReceiptRecord};
use crate::store::{LicenseDecision, LicenseRecord, LicenseState, Role};
use crate::util::hex;

/// How many activations and receipts the page shows (the newest).
const RECENT: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub(super) struct Done {
    done: Option<String>,
    outbox: Option<String>,
}

/// What the page shows, read in one transaction.
struct Shown {
    rec: LicenseRecord,
    superseded_by: Option<String>,
    binding: Option<(Vec<u8>, Timestamp)>,
    revocation: Option<(Timestamp, String, String)>,
    activations: Vec<ActivationRecord>,
    receipts: Vec<ReceiptRecord>,
    decisions: Vec<LicenseDecision>,
    audit: Vec<AuditEntry>,
}

/// The decoded terms' fields, in order, with their labels.
const TERMS: &[(&str, &str, &str)] = &[
    ("license_id", "License id", "授权编号"),
    ("company", "Company", "公司"),
    ("project", "Project", "项目"),
    ("app_name", "Product", "产品"),
    ("version", "Version", "版本"),
    ("kind", "Kind", "类型"),
    ("max_nodes", "Nodes", "节点数"),
    ("contract_signed", "Contract signed", "合同签订日期"),
    ("issued_at", "Issued at", "签发时间"),
    ("not_before", "Valid from", "生效时间"),
    ("expiry", "Expires", "到期"),
    ("activation_policy", "Activation policy", "激活策略"),
    ("activation_base_url", "Activation service", "激活服务"),
    ("activation_key_present", "Activation key", "激活密钥"),
    ("image_public_key", "Image key", "镜像公钥"),
    ("supersedes", "Supersedes", "取代"),
    ("request_email_sha256", "Request mail SHA-256", "申请邮件 SHA-256"),
    ("issuing_key_id", "Issuing key", "签发密钥"),
    ("root_key_id", "Root key", "根密钥"),
];

fn value_text(lang: Lang, v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => lang.t("yes", "有").to_owned(),
        Value::Bool(false) => lang.t("no", "无").to_owned(),
        other => other.to_string(),
    }
}

/// The first bytes of a fingerprint or id, in hex, with the whole as its title.
fn short_hex(bytes: &[u8]) -> Markup {
    let all = hex::encode(bytes);
    let short: String = all.chars().take(16).collect();
    html! { code title=(all) { (short) "…" } }
}

fn done_notice(ctx: &Ctx, d: &Done) -> Option<Markup> {
    let text = match d.done.as_deref()? {
        "resent" => {
            let outbox = d.outbox.as_deref().and_then(|o| o.parse::<i64>().ok());
            match (ctx.lang(), outbox) {
                (Lang::Zh, Some(n)) => format!("已重新排队发送授权邮件（发件箱 #{n}）。"),
                (_, Some(n)) => format!("The license mail is queued again (outbox #{n})."),
                (Lang::Zh, None) => "已重新排队发送授权邮件。".to_owned(),
                (_, None) => "The license mail is queued again.".to_owned(),
            }
        }
        "revoked" => ctx
            .t(
                "The license is revoked. Products stop accepting it once they get the next revocation list (fanlic revocations export).",
                "授权已吊销。产品收到下一份吊销列表（fanlic revocations export）后将不再接受它。",
            )
            .to_owned(),
        "unbound" => ctx
            .t(
                "The license is unbound: the same Container.lic can register a new project.",
                "已解除绑定：同一个 Container.lic 可以注册新的项目。",
            )
            .to_owned(),
        _ => return None,
    };
    Some(notice(true, &text))
}

pub(super) async fn page(ctx: Ctx, Path(id): Path<String>, Query(d): Query<Done>) -> Result<Response, Failure> {
    let lang = ctx.lang();
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(lang)) };
    let key = id.clone();
    let shown = ctx
        .db(move |home| {
            home.store().read(|tx| {
                let Some(rec) = tx.license_record(&key)? else { return Ok(None) };
                let filter = Filter { license: Some(key.clone()), ..Filter::default() };
                Ok(Some(Shown {
                    superseded_by: tx.superseded_by(&key)?,
                    binding: tx.binding_of(&key)?,
                    revocation: tx.revocation_of(&key)?,
                    activations: tx.activations_of(&key, RECENT)?,
                    receipts: tx.receipts_of(&key, RECENT)?,
                    decisions: tx.license_decisions(&key)?,
                    audit: tx.audit_trail(&filter)?,
                    rec,
                }))
            })
        })
        .await?;
    let Some(s) = shown else { return Err(Failure::not_found(lang)) };
    let row = &s.rec.row;
    let terms = inspect::inspect(&s.rec.file_bytes);
    let in_force = matches!(row.state, Some(LicenseState::Live | LicenseState::Duplicate));
    let private_cloud = row.kind == "private-cloud";
    let receipt_policy = terms
        .license
        .as_ref()
        .and_then(|l| l.get("activation_policy"))
        .and_then(Value::as_str)
        .is_some_and(|p| p == "receipt");
    let url = format!("/licenses/{id}");
    let body = html! {
        @if let Some(n) = done_notice(&ctx, &d) { (n) }
        dl.fields {
            dt { (ctx.t("License id", "授权编号")) } dd { code { (row.license_id) } }
            dt { (ctx.t("Company", "公司")) } dd { (row.company) }
            dt { (ctx.t("Project", "项目")) } dd { (row.project) }
            dt { (ctx.t("Product", "产品")) } dd { (row.app_name) " " (row.version) }
            dt { (ctx.t("Kind", "类型")) } dd { (kind_name(lang, &row.kind)) }
            dt { (ctx.t("Nodes", "节点数")) } dd { (row.max_nodes) }
            dt { (ctx.t("Expires", "到期")) } dd { @if row.expiry == "never" { (ctx.t("never", "永不")) } @else { (row.expiry) } }
            dt { (ctx.t("State", "状态")) } dd { span class=(state_class(row.state)) id="state" { (state_name(lang, row.state)) } }
            dt { (ctx.t("Issued at", "签发时间")) } dd { (time(row.issued_at)) }
            dt { (ctx.t("Supersedes", "取代了")) } dd {
                @if let Some(old) = &s.rec.supersedes { a href={ "/licenses/" (old) } { code { (old) } } } @else { "—" }
            }
            dt { (ctx.t("Superseded by", "被取代于")) } dd {
                @if let Some(new) = &s.superseded_by { a href={ "/licenses/" (new) } { code { (new) } } } @else { "—" }
            }
        }

        div.actions {
            @if ctx.role().allows(Role::Issuer) {
                a.button id="download" href={ (url) "/Container.lic" } download="Container.lic" {
                    (ctx.t("Download Container.lic", "下载 Container.lic"))
                }
                @if private_cloud {
                    a.button id="image" href={ (url) "/image" } download="fanruan_license_server.tar" {
                        (ctx.t("Download the image", "下载镜像")) " (fanruan_license_server.tar)"
                    }
                }
                @if in_force {
                    form.inline method="post" action={ (url) "/resend" } {
                        (ctx.csrf_input())
                        button.secondary type="submit" id="resend" {
                            (ctx.t("Send again to the contract's address", "重新发送到合同邮箱"))
                        }
                    }
                }
            }
            @if ctx.role().allows(Role::Admin) {
                @if s.binding.is_some() && s.revocation.is_none() {
                    form.inline method="post" action={ (url) "/unbind" } {
                        (ctx.csrf_input())
                        button.secondary type="submit" id="unbind" { (ctx.t("Unbind from its project", "解除项目绑定")) }
                    }
                }
                @if s.revocation.is_none() {
                    form.stack method="post" action={ (url) "/revoke" } {
                        (ctx.csrf_input())
                        label {
                            (ctx.t("Reason for revoking (recorded)", "吊销原因（将被记录）"))
                            input type="text" name="reason" required;
                        }
                        div { button.danger type="submit" id="revoke" { (ctx.t("Revoke…", "吊销…")) } }
                    }
                }
            }
        }

        h2 { (ctx.t("Terms", "授权条款")) }
        p.muted { (ctx.t("Decoded from the stored license file.", "从存档的授权文件解码。")) }
        @match &terms.license {
            Some(l) => {
                dl.fields id="terms" {
                    @for (k, en, zh) in TERMS {
                        @if let Some(v) = l.get(*k) {
                            dt { (lang.t(en, zh)) } dd { (value_text(lang, v)) }
                        }
                    }
                }
            }
            None => {
                p.error { (ctx.t("The stored file does not decode:", "存档的文件无法解码：")) " "
                    (terms.file_error.clone().or(terms.license_error.clone()).unwrap_or_default()) }
            }
        }

        h2 { (ctx.t("Binding", "项目绑定")) }
        @match &s.binding {
            Some((fp, at)) => {
                dl.fields id="binding" {
                    dt { (ctx.t("Project fingerprint", "项目指纹")) } dd { code { (hex::encode(fp)) } }
                    dt { (ctx.t("Bound at", "绑定时间")) } dd { (time(*at)) }
                }
            }
            None => { p.muted id="binding" { (ctx.t("Not bound to a project: its next confirmed activation binds it.", "未绑定项目：下一次确认的激活将绑定它。")) } }
        }
        @let unbinds: Vec<&AuditEntry> = s.audit.iter().filter(|e| e.action == "unbind").collect();
        @if !unbinds.is_empty() {
            ul {
                @for e in unbinds {
                    li {
                        (ctx.t("Unbound at", "解除绑定于")) " " (time(e.at)) " " (ctx.t("by", "操作人")) " " (e.by)
                        " (" (ctx.t("was", "原指纹")) " " code { (e.why) } ")"
                    }
                }
            }
        }

        h2 { (ctx.t("Revocation", "吊销")) }
        @match &s.revocation {
            Some((at, by, reason)) => {
                dl.fields id="revocation" {
                    dt { (ctx.t("Revoked at", "吊销时间")) } dd { (time(*at)) }
                    dt { (ctx.t("By", "操作人")) } dd { (by) }
                    dt { (ctx.t("Reason", "原因")) } dd { (reason) }
                }
            }
            None => { p.muted id="revocation" { (ctx.t("Not revoked.", "未吊销。")) } }
        }

        h2 { (ctx.t("Activations", "激活记录")) }
        @if s.activations.is_empty() {
            p.muted { (ctx.t("No activation recorded.", "没有激活记录。")) }
        } @else {
            div.table-wrap { table.activations {
                thead { tr {
                    th { (ctx.t("At", "时间")) } th { (ctx.t("Outcome", "结果")) } th { (ctx.t("Nodes", "节点数")) }
                    th { (ctx.t("Project", "项目指纹")) } th { (ctx.t("Node", "节点")) } th { (ctx.t("Client", "客户端")) }
                } }
                tbody { @for a in &s.activations { tr {
                    td { (time(a.at)) }
                    td { span class=(if a.outcome == "activated" { "tag ok" } else { "tag bad" }) { (a.outcome) } }
                    td { (a.nodes) } td { (short_hex(&a.project_fingerprint)) } td { (short_hex(&a.node_id)) } td { (a.client) }
                } } }
            } }
            @if s.activations.len() == RECENT as usize { p.muted { (ctx.t("The newest 50 are shown.", "仅显示最近 50 条。")) } }
        }
        @if receipt_policy || !s.receipts.is_empty() {
            h2 { (ctx.t("Activation receipts", "激活回执")) }
            @if s.receipts.is_empty() {
                p.muted { (ctx.t("No receipt issued.", "尚未签发回执。")) }
            } @else {
                div.table-wrap { table.receipts {
                    thead { tr {
                        th { (ctx.t("Signed at", "签发时间")) } th { (ctx.t("Receipt", "回执")) } th { (ctx.t("Lease until", "租期至")) }
                        th { (ctx.t("Project", "项目指纹")) } th { (ctx.t("Binding of", "绑定时间")) } th { (ctx.t("Client", "客户端")) }
                    } }
                    tbody { @for r in &s.receipts { tr {
                        td { (time(r.at)) } td { (short_hex(&r.receipt_id)) }
                        td { @if let Some(t) = r.lease_until { (time(t)) } @else { "—" } }
                        td { (short_hex(&r.project_fingerprint)) } td { (time(r.bound_at)) } td { (r.client) }
                    } } }
                } }
            }
        }

        h2 { (ctx.t("Registration mail", "注册邮件")) }
        @if s.decisions.is_empty() {
            p.muted { (ctx.t("Not issued from mail (fanlic issue).", "不是通过邮件签发的（fanlic issue）。")) }
        } @else {
            div.table-wrap { table.decisions {
                thead { tr {
                    th { "#" } th { (ctx.t("Decided", "处理时间")) } th { (ctx.t("Decision", "处理结果")) } th { (ctx.t("From", "发件人")) }
                    th { (ctx.t("Subject", "主题")) } th { (ctx.t("Outbox", "发件箱")) } th { (ctx.t("By", "操作人")) }
                } }
                tbody { @for m in &s.decisions { tr {
                    td { (m.decision_id) } td { (time(m.at)) } td { (m.decision) }
                    td { (m.from) @if !m.authenticated { " " span.tag.bad { (ctx.t("unauthenticated", "未认证")) } } }
                    td { (m.subject) } td { @if let Some(o) = m.outbox_id { "#" (o) } @else { "—" } } td { (m.by) }
                } } }
            } }
        }

        h2 { (ctx.t("Audit trail", "审计记录")) }
        @if s.audit.is_empty() {
            p.muted { (ctx.t("Nothing recorded.", "没有记录。")) }
        } @else {
            div.table-wrap { table.audit {
                thead { tr { th { (ctx.t("At", "时间")) } th { (ctx.t("By", "操作人")) } th { (ctx.t("Action", "操作")) } th { (ctx.t("Detail", "详情")) } } }
                tbody { @for e in s.audit.iter().rev() { tr {
                    td { (time(e.at)) } td { (e.by) } td { (e.action) } td { (e.why) }
                } } }
            } }
        }
        p { a href={ "/audit?license=" (id) } { (ctx.t("This license in the audit log", "在审计日志中查看此授权")) } }
    };
    let title = match lang {
        Lang::Zh => format!("授权 {}", &id[..8]),
        _ => format!("License {}", &id[..8]),
    };
    Ok(ctx.page(&title, body))
}
