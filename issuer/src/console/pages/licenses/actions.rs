//! What staff do with a license: download its bearer files (issuer and
//! admin), send its mail again (issuer), revoke it (admin, after a
//! preview) and unbind it (admin). Every POST checks the role before it
//! acts, acts through the library function the CLI uses (which audits it
//! under the logged-in account), then sends the reader to the license's
//! page with a notice.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use maud::html;
use serde::Deserialize;

use super::{license_id, state_name};
use crate::Error;
use crate::console::ctx::{Ctx, Failure, Posted, see_other};
use crate::console::lang::Lang;
use crate::contracts;
use crate::error::ImageBuildError;
use crate::license::deliver;
use crate::revoke;
use crate::store::Role;

/// A file to save, never shown in the browser nor kept in a cache.
fn attachment(bytes: Vec<u8>, content_type: &'static str, file_name: &'static str) -> Response {
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET /licenses/{id}/Container.lic`: the stored file, byte for byte.
pub(super) async fn download(ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    ctx.require(Role::Issuer)?;
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(ctx.lang())) };
    let stored = ctx.db(move |home| home.stored_license(&id)).await?;
    let Some(stored) = stored else { return Err(Failure::not_found(ctx.lang())) };
    Ok(attachment(stored.armored.into_bytes(), "application/octet-stream", "Container.lic"))
}

/// Why no image could be built, in words that say how to fix it.
fn image_failure(lang: Lang, e: &Error) -> Failure {
    let build = "cargo build --release -p fanlic-license-server --target x86_64-unknown-linux-musl";
    let missing = |path: &std::path::Path, why: &str| {
        let detail = match lang {
            Lang::Zh => format!(
                "镜像需要静态（musl）授权服务器程序，但 {} {why}。请在源码目录中运行 `{build}` 构建它，\
                 或用 `fanlic config --license-server-binary PATH` 指定它（也可设置环境变量 FANLIC_LICENSE_SERVER_BINARY）。",
                path.display()
            ),
            _ => format!(
                "The image needs the static (musl) authorization server binary, but {} {why}. Build it in the source \
                 tree with `{build}`, or name it with `fanlic config --license-server-binary PATH` (or the \
                 FANLIC_LICENSE_SERVER_BINARY environment variable).",
                path.display()
            ),
        };
        Failure::new(StatusCode::SERVICE_UNAVAILABLE, lang.t("The image cannot be built", "无法构建镜像"), detail)
    };
    match e {
        Error::Image(ImageBuildError::ServerBinaryMissing { path }) => {
            missing(path, lang.t("does not exist", "不存在"))
        }
        Error::Image(ImageBuildError::ServerBinaryNotStatic { path, why }) => missing(path, why),
        _ => Failure::of(lang, e),
    }
}

/// `GET /licenses/{id}/image`: `fanruan_license_server.tar` of a private
/// cloud license, built as `fanlic image` builds it.
pub(super) async fn image(ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    ctx.require(Role::Issuer)?;
    let lang = ctx.lang();
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(lang)) };
    let key = id.clone();
    let rec = ctx.db(move |home| home.store().read(|tx| tx.license_record(&key))).await?;
    let Some(rec) = rec else { return Err(Failure::not_found(lang)) };
    if rec.row.kind != "private-cloud" {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            ctx.t("Not a private-cloud license", "不是私有云授权"),
            ctx.t(
                "Only a private-cloud license has an authorization server image; download its Container.lic instead.",
                "只有私有云授权才有授权服务器镜像；请下载它的 Container.lic。",
            ),
        ));
    }
    let built = ctx.db(move |home| Ok(deliver::image_tar(home, &id))).await?;
    match built {
        Ok(tar) => Ok(attachment(tar, "application/x-tar", "fanruan_license_server.tar")),
        Err(e) => Err(image_failure(lang, &e)),
    }
}

/// The form of a POST without fields of its own.
#[derive(Debug, Deserialize)]
pub(super) struct Empty {}

/// `POST /licenses/{id}/resend`: the license's mail queued again to its
/// contract's address, audited as `resent`.
pub(super) async fn resend(Path(id): Path<String>, p: Posted<Empty>) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Issuer)?;
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(ctx.lang())) };
    let (by, now, key) = (ctx.by().to_owned(), ctx.now(), id.clone());
    let resent = ctx.db(move |home| deliver::resend(home, &key, &by, now)).await?;
    Ok(see_other(&format!("/licenses/{id}?done=resent&outbox={}", resent.outbox_id)))
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub(super) struct RevokeForm {
    #[serde(default)]
    reason: String,
    confirm: Option<String>,
}

/// `POST /licenses/{id}/revoke`: without `confirm=yes`, a page saying what
/// revoking will do, with the form that does it; with it, revoked (and
/// audited), its confirmation mail queued to the contract's addresses.
pub(super) async fn revoke(Path(id): Path<String>, p: Posted<RevokeForm>) -> Result<Response, Failure> {
    let (ctx, form) = (p.ctx, p.form);
    ctx.require(Role::Admin)?;
    let lang = ctx.lang();
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(lang)) };
    let reason = form.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Failure::new(
            StatusCode::BAD_REQUEST,
            ctx.t("Not done", "未完成"),
            ctx.t("Say why the license is revoked: the reason is recorded.", "请填写吊销原因：原因会被记录。"),
        ));
    }
    let (by, now, key) = (ctx.by().to_owned(), ctx.now(), id.clone());
    if form.confirm.as_deref() == Some("yes") {
        let why = reason.clone();
        ctx.db(move |home| revoke::revoke_license(home, &key, &why, &by, true, now)).await?;
        return Ok(see_other(&format!("/licenses/{id}?done=revoked")));
    }
    let found = ctx
        .db(move |home| {
            let Some(rec) = home.store().read(|tx| tx.license_record(&key))? else { return Ok(None) };
            let revoked = home.store().read(|tx| tx.revocation_of(&key))?;
            let contract = contracts::find_by_company(home, &rec.row.company)?;
            let to = contract.filter(|c| c.enabled).map(|c| c.terms.emails).unwrap_or_default();
            Ok(Some((rec, revoked, to)))
        })
        .await?;
    let Some((rec, revoked, to)) = found else { return Err(Failure::not_found(lang)) };
    let row = &rec.row;
    let url = format!("/licenses/{id}");
    let body = html! {
        @if let Some((at, by, why)) = &revoked {
            p.notice.error role="status" {
                (match lang {
                    Lang::Zh => format!("该授权已于 {at} 被 {by} 吊销（{why}）。"),
                    _ => format!("This license was already revoked at {at} by {by} ({why})."),
                })
            }
        }
        p { (ctx.t("You are about to revoke this license:", "您将要吊销以下授权：")) }
        dl.fields {
            dt { (ctx.t("License id", "授权编号")) } dd { code { (row.license_id) } }
            dt { (ctx.t("Company", "公司")) } dd { (row.company) }
            dt { (ctx.t("Project", "项目")) } dd { (row.project) }
            dt { (ctx.t("Product", "产品")) } dd { (row.app_name) " " (row.version) }
            dt { (ctx.t("State", "状态")) } dd { (state_name(lang, row.state)) }
            dt { (ctx.t("Reason", "原因")) } dd { (reason) }
        }
        ul {
            li { (ctx.t("It is recorded as revoked, under your name, and cannot be undone.", "它将以您的名义被记录为已吊销，且无法撤销。")) }
            li { (ctx.t("Products stop accepting it once they get the next revocation list (fanlic revocations export).", "产品收到下一份吊销列表（fanlic revocations export）后将不再接受它。")) }
            li {
                @if to.is_empty() {
                    (ctx.t("No confirmation mail: the company has no enabled contract with an address. Tell the customer yourself.", "不会发送确认邮件：该公司没有带邮箱的有效合同。请自行通知客户。"))
                } @else {
                    (ctx.t("A confirmation mail is queued to:", "确认邮件将发送至：")) " " (to.join(", "))
                }
            }
        }
        @if revoked.is_none() {
            div.actions {
                form.inline method="post" action={ (url) "/revoke" } {
                    (ctx.csrf_input())
                    input type="hidden" name="reason" value=(reason);
                    input type="hidden" name="confirm" value="yes";
                    button.danger type="submit" id="confirm" { (ctx.t("Revoke now", "确认吊销")) }
                }
                a.button href=(url) id="cancel" { (ctx.t("Cancel", "取消")) }
            }
        }
    };
    Ok(ctx.page(ctx.t("Revoke a license", "吊销授权"), body))
}

/// `POST /licenses/{id}/unbind`: the license's binding to its project
/// removed (audited), confirmed by mail to the contract's addresses.
pub(super) async fn unbind(Path(id): Path<String>, p: Posted<Empty>) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Admin)?;
    let Some(id) = license_id(&id) else { return Err(Failure::not_found(ctx.lang())) };
    let (by, now, key) = (ctx.by().to_owned(), ctx.now(), id.clone());
    ctx.db(move |home| revoke::unbind(home, &key, &by, true, now)).await?;
    Ok(see_other(&format!("/licenses/{id}?done=unbound")))
}
