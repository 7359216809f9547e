//! The dashboard: what waits for staff. Each card is one indexed count and
//! links to the list it counts.

use std::sync::Arc;

use axum::{Router, response::Response, routing::get};
use maud::html;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure};
use crate::console::lang::Lang;
use crate::outbox::OutboxFilter;
use crate::store::dashboard::NearLimit;
use crate::util::clock;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/", get(dashboard))
}

/// Days ahead that "expiring soon" looks.
const EXPIRING_DAYS: u32 = 30;
/// Contracts near their limit shown on the dashboard itself.
const NEAR_SHOWN: u32 = 20;

#[derive(Debug)]
struct Counts {
    held: u64,
    issued_today: u64,
    outbox_failed: u64,
    expiring: u64,
    near_rows: Vec<NearLimit>,
}

async fn dashboard(ctx: Ctx) -> Result<Response, Failure> {
    let now = ctx.now();
    let c = ctx
        .db(move |home| {
            let today = now.date();
            let horizon = clock::add_days(today.start(), EXPIRING_DAYS).date();
            home.store().read(|tx| {
                Ok(Counts {
                    held: tx.held_count()?,
                    issued_today: tx.licenses_issued_since(today.start())?,
                    outbox_failed: tx.outbox_count(OutboxFilter::Failed)?,
                    expiring: tx.live_expiring_between(today, horizon)?,
                    near_rows: tx.contracts_near_limit(NEAR_SHOWN as usize)?,
                })
            })
        })
        .await?;
    let issued_link = "/licenses?issued=today";
    let near = c.near_rows.len() as u64;
    let warn = |n: u64| if n > 0 { "card warn" } else { "card" };
    let body = html! {
        div.cards {
            a class=(warn(c.held)) href="/review" id="held-count" {
                span.n { (c.held) }
                span.what { (ctx.t("held requests waiting", "待审核的申请")) }
            }
            a.card href=(issued_link) id="issued-today" {
                span.n { (c.issued_today) }
                span.what { (ctx.t("licenses issued today (UTC)", "今日签发的许可证（UTC）")) }
            }
            a class=(warn(c.outbox_failed)) href="/outbox?status=failed" id="outbox-failed" {
                span.n { (c.outbox_failed) }
                span.what { (ctx.t("outbox failures", "发件箱发送失败")) }
            }
            a class=(warn(c.expiring)) href={ "/licenses?expiring=" (EXPIRING_DAYS) } id="expiring-soon" {
                span.n { (c.expiring) }
                span.what { (ctx.t("live licenses expiring within 30 days", "30 天内到期的有效许可证")) }
            }
            a class=(warn(near)) href="#near-limit" id="contracts-near-limit" {
                span.n { (near) }
                span.what { (ctx.t("contracts near their license count", "接近许可证数量上限的合同")) }
            }
        }
        @if !c.near_rows.is_empty() {
            h2 id="near-limit" { (ctx.t("Contracts near their license count", "接近许可证数量上限的合同")) }
            p.muted {
                (ctx.t(
                    "Enabled contracts whose live licenses reach 80 % of their maximum, or are one short of it; fewest left first.",
                    "已启用且有效许可证达到上限 80 % 或只差一个的合同；剩余最少的在前。",
                ))
            }
            div.table-wrap {
                table id="near" {
                    thead { tr {
                        th { (ctx.t("Contract", "合同")) }
                        th { (ctx.t("Company", "公司")) }
                        th { (ctx.t("Live licenses", "有效许可证")) }
                    } }
                    tbody {
                        @for n in c.near_rows.iter().take(NEAR_SHOWN as usize) {
                            tr {
                                td { a href={ "/contracts/" (n.id) } { (n.id) } }
                                td { a href={ "/contracts/" (n.id) } { (n.company) } }
                                td { (n.live) " / " (n.max_licenses) }
                            }
                        }
                    }
                }
            }
            @if near > u64::from(NEAR_SHOWN) {
                p.muted { (match ctx.lang() {
                    Lang::Zh => format!("另有 {} 个未列出。", near - u64::from(NEAR_SHOWN)),
                    _ => format!("{} more not shown.", near - u64::from(NEAR_SHOWN)),
                }) }
            }
        }
    };
    Ok(ctx.page(ctx.t("Dashboard", "概览"), body))
}
