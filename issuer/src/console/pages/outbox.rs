//! The outbox: what was queued, sent, or failed, and retrying a failure.
//! Delivery itself stays `fanlic outbox flush` (cron, or by hand): a retry
//! here only makes an entry due again.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, Query},
    response::Response,
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure, Posted, see_other};
use crate::console::html::{self, PAGE_SIZE};
use crate::console::lang::Lang;
use crate::outbox::{self, OutboxFilter, OutboxRow, OutboxStatus};
use crate::store::Role;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/outbox", get(list)).route("/outbox/{id}/retry", post(retry))
}

#[derive(Debug, Default, Deserialize)]
struct Q {
    status: Option<String>,
    page: Option<String>,
    /// The entry just made due again.
    retried: Option<String>,
}

const FILTERS: &[(OutboxFilter, &str, &str)] = &[
    (OutboxFilter::All, "all", "全部"),
    (OutboxFilter::Queued, "queued", "排队中"),
    (OutboxFilter::Failed, "failed (given up, or retrying)", "失败（已放弃或等待重试）"),
    (OutboxFilter::Sent, "sent", "已发送"),
];

/// Where an entry stands, for people.
fn state(lang: Lang, e: &OutboxRow) -> (&'static str, &'static str) {
    match e.status {
        OutboxStatus::Sent => (lang.t("sent", "已发送"), "tag ok"),
        OutboxStatus::Failed => (lang.t("failed", "失败"), "tag bad"),
        _ if e.attempts > 0 => (lang.t("retrying", "等待重试"), "tag bad"),
        _ => (lang.t("queued", "排队中"), "tag"),
    }
}

fn retryable(e: &OutboxRow) -> bool {
    e.status == OutboxStatus::Failed || (e.status == OutboxStatus::Pending && e.attempts > 0)
}

async fn list(ctx: Ctx, Query(q): Query<Q>) -> Result<Response, Failure> {
    let filter = OutboxFilter::parse(q.status.as_deref().unwrap_or_default());
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<u32>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let offset = u64::from(page - 1) * u64::from(PAGE_SIZE);
    let mut rows = ctx.db(move |home| home.store().read(|tx| tx.outbox_page(filter, offset, PAGE_SIZE + 1))).await?;
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let can_retry = ctx.role().allows(Role::Issuer);
    let query = if filter == OutboxFilter::All { String::new() } else { format!("status={}", filter.as_str()) };
    let retried = q.retried.as_deref().and_then(|r| r.parse::<i64>().ok());
    let body = html! {
        @if let Some(id) = retried {
            (html::notice(true, &match ctx.lang() {
                Lang::Zh => format!("发件箱 {id} 已重新排队：下一次 fanlic outbox flush 会发送它。"),
                _ => format!("Outbox entry {id} is due again: the next fanlic outbox flush sends it."),
            }))
        }
        p.muted {
            (ctx.t("Replies are delivered by ", "回复邮件由 "))
            code { "fanlic outbox flush" }
            (ctx.t(
                " (run it from cron, or by hand). Retry makes an entry due again now; its attempts and last error are kept.",
                " 发送（由 cron 定时运行，或手动运行）。“重试”让该条目立即重新到期；已尝试次数和最后的错误保留。",
            ))
        }
        form.search method="get" action="/outbox" {
            label { (ctx.t("Status", "状态"))
                select name="status" {
                    @for (f, en, zh) in FILTERS {
                        option value=(f.as_str()) selected[*f == filter] { (ctx.t(en, zh)) }
                    }
                }
            }
            button type="submit" id="search" { (ctx.t("Show", "显示")) }
        }
        @if rows.is_empty() {
            p.muted { (ctx.t("Nothing here.", "没有条目。")) }
        } @else {
            div.table-wrap {
                table id="list" {
                    thead { tr {
                        th { "#" }
                        th { (ctx.t("Status", "状态")) }
                        th { (ctx.t("To", "收件人")) }
                        th { (ctx.t("Subject", "主题")) }
                        th { (ctx.t("Attempts", "失败次数")) }
                        th { (ctx.t("Last error", "最后的错误")) }
                        th { (ctx.t("Next attempt", "下次尝试")) }
                        th { (ctx.t("Sent", "发送时间")) }
                        @if can_retry { th {} }
                    } }
                    tbody {
                        @for e in &rows {
                            @let (label, class) = state(ctx.lang(), e);
                            tr id={ "outbox-" (e.id) } {
                                td { (e.id) }
                                td { span class=(class) { (label) } }
                                td { (e.to) }
                                td { (e.subject) }
                                td { (e.attempts) }
                                td { @if let Some(err) = &e.last_error { (err) } }
                                td { @if e.status == OutboxStatus::Pending { (html::time(e.next_attempt_at)) } }
                                td { @if let Some(t) = e.sent_at { (html::time(t)) } }
                                @if can_retry {
                                    td {
                                        @if retryable(e) {
                                            form.inline method="post" action={ "/outbox/" (e.id) "/retry" } {
                                                (ctx.csrf_input())
                                                button type="submit" id={ "retry-" (e.id) } { (ctx.t("Retry", "重试")) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (html::pager(ctx.lang(), "/outbox", &query, page, has_more))
    };
    Ok(ctx.page(ctx.t("Outbox", "发件箱"), body))
}

/// The retry form carries only the CSRF token.
#[derive(Debug, Deserialize)]
struct RetryForm {}

async fn retry(Path(id): Path<i64>, p: Posted<RetryForm>) -> Result<Response, Failure> {
    p.ctx.require(Role::Issuer)?;
    let by = p.ctx.by().to_owned();
    let now = p.ctx.now();
    let exists = p.ctx.db(move |home| home.store().read(|tx| tx.outbox_row(id))).await?;
    if exists.is_none() {
        return Err(Failure::not_found(p.ctx.lang()));
    }
    p.ctx.db(move |home| outbox::retry(home, id, &by, now)).await?;
    Ok(see_other(&format!("/outbox?retried={id}")))
}
