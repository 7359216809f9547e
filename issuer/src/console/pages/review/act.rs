//! The actions on a held request: approve, reissue, reject. Each POST
//! without `confirm=yes` shows what will happen (the license, and the
//! exact reply: To, Subject, body, attachments) with a form to confirm;
//! with it, the action is done under the logged-in account and the browser
//! is sent to the request's page (`?done=…`), so a refresh does not repeat
//! it. The role is checked before anything is read.

use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::Error;
use crate::console::ctx::{Ctx, Failure, Posted, see_other};
use crate::console::lang::Lang;
use crate::ingest::decide::Reason;
use crate::ingest::replies::Licensed;
use crate::ingest::review::{
    self, ApprovalAction, ApprovalPreview, NoRejectionReply, NoReply, RejectionPreview, staff_reason,
};
use crate::outbox::Reply;
use crate::store::Role;
use crate::util::text::error_chain;

#[derive(Debug, Deserialize)]
pub(super) struct ConfirmForm {
    confirm: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RejectForm {
    reason: String,
    #[serde(default)]
    text: String,
    no_reply: Option<String>,
    confirm: Option<String>,
}

fn confirmed(c: Option<&str>) -> bool {
    c == Some("yes")
}

/// `POST /review/{id}/approve`.
pub(super) async fn approve(Path(id): Path<i64>, p: Posted<ConfirmForm>) -> Result<Response, Failure> {
    approve_or_reissue(id, p, false).await
}

/// `POST /review/{id}/reissue`: an approval that must supersede the
/// project's live license (refused otherwise).
pub(super) async fn reissue(Path(id): Path<i64>, p: Posted<ConfirmForm>) -> Result<Response, Failure> {
    approve_or_reissue(id, p, true).await
}

async fn approve_or_reissue(id: i64, p: Posted<ConfirmForm>, reissue: bool) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Issuer)?;
    let (by, now) = (ctx.by().to_owned(), ctx.now());
    let who = by.clone();
    let preview = ctx.db(move |home| Ok(review::preview_approve(home, id, &who, now))).await?;
    let preview = match preview {
        Ok(p) => p,
        Err(e) => return Ok(refused(&ctx, id, ctx.t("This request cannot be approved", "此申请无法批准"), &e)),
    };
    let reissues = matches!(preview.action, ApprovalAction::Reissue { .. });
    if reissue && !reissues {
        let detail = ctx
            .t("This request does not replace a live license: use Approve.", "此申请不会取代现有授权：请使用“批准”。");
        return Err(Failure::new(StatusCode::BAD_REQUEST, ctx.t("Not a reissue", "不是重新签发"), detail));
    }
    if !confirmed(p.form.confirm.as_deref()) {
        let action = if reissue { "reissue" } else { "approve" };
        return Ok(approval_page(&ctx, id, action, &preview));
    }
    ctx.db(move |home| review::approve(home, id, &by, now)).await?;
    let done = if reissues { "reissued" } else { "approved" };
    Ok(see_other(&format!("/review/{id}?done={done}")))
}

/// `POST /review/{id}/reject`.
pub(super) async fn reject(Path(id): Path<i64>, p: Posted<RejectForm>) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Issuer)?;
    let form = p.form;
    let why = staff_reason(&form.reason, &form.text).map_err(|e| Failure::of(ctx.lang(), &e))?;
    let reply = form.no_reply.as_deref() != Some("yes");
    let (by, now) = (ctx.by().to_owned(), ctx.now());
    if !confirmed(form.confirm.as_deref()) {
        let w = why.clone();
        let preview = ctx.db(move |home| Ok(review::preview_reject(home, id, &w, reply))).await?;
        return Ok(match preview {
            Ok(p) => rejection_page(&ctx, id, &form, &why, &p),
            Err(e) => refused(&ctx, id, ctx.t("This request cannot be rejected", "此申请无法拒绝"), &e),
        });
    }
    ctx.db(move |home| review::reject_with(home, id, &why, reply, &by, now)).await?;
    Ok(see_other(&format!("/review/{id}?done=rejected")))
}

/// Why an action is refused, before any confirmation (400).
fn refused(ctx: &Ctx, id: i64, title: &str, e: &Error) -> Response {
    let body = html! {
        p.error role="alert" id="refused" { (error_chain(e)) }
        p { a href={ "/review/" (id) } { "← " (ctx.t("Back to the request", "返回申请")) } }
    };
    (StatusCode::BAD_REQUEST, ctx.page(title, body)).into_response()
}

/// The preview of an approval: what is issued (or sent again), the reply,
/// and the confirm form.
fn approval_page(ctx: &Ctx, id: i64, action: &str, p: &ApprovalPreview) -> Response {
    let lang = ctx.lang();
    let what = match (&p.action, lang) {
        (ApprovalAction::Resend { license_id }, Lang::Zh) => {
            format!("该项目已有相同条款的有效授权 {license_id}：不会签发新授权，将重新发送该授权。")
        }
        (ApprovalAction::Resend { license_id }, _) => format!(
            "The project already has live license {license_id} with these terms: no new license; it is sent again."
        ),
        (ApprovalAction::Reissue { supersedes }, Lang::Zh) => {
            format!("将签发新授权并取代该项目的现有授权 {supersedes}（旧授权将被吊销）。")
        }
        (ApprovalAction::Reissue { supersedes }, _) => format!(
            "A new license is issued and supersedes the project's live license {supersedes} (which is revoked)."
        ),
        (_, Lang::Zh) => "将签发以下新授权。".to_owned(),
        (_, _) => "This new license is issued.".to_owned(),
    };
    let body = html! {
        p id="what" { (what) }
        h2 { (ctx.t("License", "授权")) }
        (license_terms(lang, &p.licensed))
        h2 { (ctx.t("The reply that will be sent", "将发送的回复")) }
        @match (&p.reply, p.no_reply) {
            (Some(r), _) => { (reply_view(lang, r)) },
            (None, why) => { p id="no-reply" { (no_reply_text(lang, why)) } },
        }
        (confirm_form(ctx, &format!("/review/{id}/{action}"), &[], (ctx.t("Confirm", "确认"), false)))
    };
    let title = match (action, lang) {
        ("reissue", Lang::Zh) => format!("重新签发申请 #{id}？"),
        ("reissue", _) => format!("Reissue for request #{id}?"),
        (_, Lang::Zh) => format!("批准申请 #{id}？"),
        _ => format!("Approve request #{id}?"),
    };
    ctx.page(&title, body)
}

/// The preview of a rejection: the reasons recorded, the reply, the confirm form.
fn rejection_page(ctx: &Ctx, id: i64, form: &RejectForm, why: &Reason, p: &RejectionPreview) -> Response {
    let lang = ctx.lang();
    let mut keep: Vec<(&str, &str)> = vec![("reason", &form.reason), ("text", &form.text)];
    if form.no_reply.as_deref() == Some("yes") {
        keep.push(("no_reply", "yes"));
    }
    let body = html! {
        h2 { (ctx.t("Reason recorded", "记录的原因")) }
        p id="reason-text" { span.tag { (why.code) } " " (if lang == Lang::Zh { &why.message_zh } else { &why.message }) }
        h2 { (ctx.t("The reply that will be sent", "将发送的回复")) }
        @match (&p.reply, p.no_reply) {
            (Some(r), _) => { (reply_view(lang, r)) },
            (None, why) => { p id="no-reply" { (no_rejection_reply_text(lang, why)) } },
        }
        (confirm_form(ctx, &format!("/review/{id}/reject"), &keep, (ctx.t("Confirm the rejection", "确认拒绝"), true)))
    };
    let title = match lang {
        Lang::Zh => format!("拒绝申请 #{id}？"),
        _ => format!("Reject request #{id}?"),
    };
    ctx.page(&title, body)
}

fn confirm_form(ctx: &Ctx, action: &str, keep: &[(&str, &str)], (label, danger): (&str, bool)) -> Markup {
    html! {
        div.actions {
            form method="post" action=(action) {
                (ctx.csrf_input())
                @for (k, v) in keep { input type="hidden" name=(k) value=(v); }
                input type="hidden" name="confirm" value="yes";
                button type="submit" id="confirm" class=[danger.then_some("danger")] { (label) }
            }
            a.button.secondary href={ (action.rsplit_once('/').map_or(action, |(p, _)| p)) } id="cancel" {
                (ctx.t("Cancel", "取消"))
            }
        }
    }
}

fn license_terms(lang: Lang, l: &Licensed) -> Markup {
    html! {
        dl.fields id="license" {
            @if !l.license_id.is_empty() { dt { (lang.t("License id", "授权编号")) } dd { (l.license_id) } }
            dt { (lang.t("Company", "公司")) } dd id="license-company" { (l.company) }
            dt { (lang.t("Project", "项目")) } dd id="license-project" { (l.project) }
            dt { (lang.t("Product", "产品")) } dd { (l.app) " " (l.version) }
            dt { (lang.t("Kind", "注册方式")) } dd id="license-kind" { (l.kind) }
            dt { (lang.t("Nodes", "节点数")) } dd id="license-nodes" { (l.nodes) }
            dt { (lang.t("Expires", "有效期至")) } dd id="license-expiry" { (l.expiry) }
        }
    }
}

/// A reply as it will be queued: From, To, Subject, attachments, body.
fn reply_view(lang: Lang, r: &Reply) -> Markup {
    html! {
        dl.fields id="reply" {
            dt { (lang.t("From", "发件人")) } dd id="reply-from" { (r.from) }
            dt { (lang.t("To", "收件人")) } dd id="reply-to" { (r.to) }
            dt { (lang.t("Subject", "主题")) } dd id="reply-subject" { (r.subject) }
            dt { (lang.t("Language", "语言")) } dd { (r.language.as_str()) }
            dt { (lang.t("Attachments", "附件")) }
            dd id="reply-attachments" {
                @if r.attachments.is_empty() { (lang.t("none", "无")) }
                @for a in &r.attachments { span.tag { (a.file_name) } }
            }
        }
        pre.reply id="reply-body" { (r.body) }
    }
}

fn no_reply_text(lang: Lang, why: Option<NoReply>) -> &'static str {
    match why {
        Some(NoReply::Unauthenticated) => lang.t(
            "No reply: the sender was not authenticated (its From may be forged). Send the license yourself once you have checked who asked.",
            "不回复：发件人未通过认证（发件人地址可能是伪造的）。确认申请人后请自行发送授权。",
        ),
        Some(NoReply::ImageFollows) => lang.t(
            "The private-cloud image is built after approval and sent in its own mail.",
            "私有云镜像在批准后生成，并单独发送。",
        ),
        _ => lang.t("No reply: this request allows no automatic reply.", "不回复：此申请不允许自动回复。"),
    }
}

fn no_rejection_reply_text(lang: Lang, why: Option<NoRejectionReply>) -> &'static str {
    match why {
        Some(NoRejectionReply::NotAsked) => lang.t("No reply: you chose not to reply.", "不回复：您选择了不回复。"),
        Some(NoRejectionReply::Unauthenticated) => lang.t(
            "No reply: the sender was not authenticated; a reply could go to someone who never wrote.",
            "不回复：发件人未通过认证，回复可能发给并未申请的人。",
        ),
        Some(NoRejectionReply::NotToContract) => lang.t(
            "No reply: the sender is not an address of an enabled contract.",
            "不回复：发件人不是有效合同中登记的地址。",
        ),
        _ => lang.t("No reply: the message is not kept whole.", "不回复：邮件未完整保存。"),
    }
}
