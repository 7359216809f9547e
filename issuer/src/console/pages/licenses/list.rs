//! `GET /licenses`: one page of licenses, searched and filtered in SQL.

use axum::{extract::Query, response::Response};
use fanlic_formats::Date;
use maud::html;
use serde::Deserialize;

use super::{kind_name, state_class, state_name};
use crate::console::ctx::{Ctx, Failure};
use crate::console::html::encode_component;
use crate::console::html::{PAGE_SIZE, pager, time};
use crate::console::lang::Lang;
use crate::store::{LicenseSearch, LicenseState};

/// The list's query. Every field is read leniently: a value that does not
/// parse is ignored rather than refused.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    q: Option<String>,
    state: Option<String>,
    expiring: Option<String>,
    page: Option<String>,
}

/// The longest window `?expiring=DAYS` takes.
const MAX_EXPIRING_DAYS: u64 = 3660;
/// The last page a list goes to (the offset stays small).
const MAX_PAGE: u32 = 100_000;

const STATES: [LicenseState; 4] =
    [LicenseState::Live, LicenseState::Duplicate, LicenseState::Superseded, LicenseState::Revoked];

pub(super) async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, Failure> {
    let lang = ctx.lang();
    let text = q.q.as_deref().unwrap_or("").trim().to_owned();
    let state = q.state.as_deref().and_then(LicenseState::parse);
    let expiring = q.expiring.as_deref().and_then(|d| d.trim().parse::<u64>().ok()).map(|d| d.min(MAX_EXPIRING_DAYS));
    let page = q.page.as_deref().and_then(|p| p.trim().parse::<u32>().ok()).unwrap_or(1).clamp(1, MAX_PAGE);
    let today_days = ctx.now().0 / 86_400;
    let window = expiring.map(|days| {
        let first = Date::from_days_since_epoch(today_days);
        let last = Date::from_days_since_epoch(today_days + days);
        (first.to_string(), last.to_string())
    });
    let search = LicenseSearch {
        text: text.clone(),
        state,
        expiring: window.clone(),
        offset: u64::from(page - 1) * u64::from(PAGE_SIZE),
        limit: u64::from(PAGE_SIZE) + 1,
    };
    let mut rows = ctx.db(move |home| home.store().read(|tx| tx.search_licenses(&search))).await?;
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);

    let mut query = Vec::new();
    if !text.is_empty() {
        query.push(format!("q={}", encode_component(&text)));
    }
    if let Some(s) = state {
        query.push(format!("state={}", s.as_str()));
    }
    if let Some(d) = expiring {
        query.push(format!("expiring={d}"));
    }
    let query = query.join("&");
    let body = html! {
        form.search method="get" action="/licenses" {
            input type="search" name="q" id="q" value=(text)
                placeholder=(ctx.t("Company, project, license id or contract address", "公司、项目、授权编号或合同邮箱"))
                aria-label=(ctx.t("Search", "搜索"));
            select name="state" aria-label=(ctx.t("State", "状态")) {
                option value="" selected[state.is_none()] { (ctx.t("Any state", "全部状态")) }
                @for s in STATES {
                    option value=(s.as_str()) selected[state == Some(s)] { (state_name(lang, Some(s))) }
                }
            }
            @if let Some(d) = expiring { input type="hidden" name="expiring" value=(d); }
            button type="submit" id="search" { (ctx.t("Search", "搜索")) }
        }
        p.muted {
            (ctx.t("Company and project match from their start (anywhere in them when nothing starts so); a license id from its first digits; an address finds the licenses of its contract's company.",
                   "公司和项目按开头匹配（没有以此开头的则匹配其中任意位置）；授权编号按前几位匹配；邮箱地址查找其合同所属公司的授权。"))
        }
        @if let (Some(d), Some((first, last))) = (expiring, &window) {
            p.notice.ok {
                (match lang {
                    Lang::Zh => format!("{d} 天内到期的生效授权（{first} 至 {last}），最早到期的在前。"),
                    _ => format!("Live licenses expiring within {d} days ({first} to {last}), soonest first."),
                })
                " " a href="/licenses" { (ctx.t("Show all", "显示全部")) }
            }
        }
        @if rows.is_empty() {
            p.muted { (ctx.t("No license matches.", "没有匹配的授权。")) }
        } @else {
            div.table-wrap {
                table id="list" {
                    thead { tr {
                        th { (ctx.t("License id", "授权编号")) }
                        th { (ctx.t("Company", "公司")) }
                        th { (ctx.t("Project", "项目")) }
                        th { (ctx.t("Product", "产品")) }
                        th { (ctx.t("Kind", "类型")) }
                        th { (ctx.t("Nodes", "节点数")) }
                        th { (ctx.t("Expires", "到期")) }
                        th { (ctx.t("State", "状态")) }
                        th { (ctx.t("Issued", "签发时间")) }
                    } }
                    tbody {
                        @for r in &rows {
                            tr {
                                td { a href={ "/licenses/" (r.license_id) } { code { (r.license_id) } } }
                                td { (r.company) }
                                td { (r.project) }
                                td { (r.app_name) " " (r.version) }
                                td { (kind_name(lang, &r.kind)) }
                                td { (r.max_nodes) }
                                td { @if r.expiry == "never" { (ctx.t("never", "永不")) } @else { (r.expiry) } }
                                td { span class=(state_class(r.state)) { (state_name(lang, r.state)) } }
                                td { (time(r.issued_at)) }
                            }
                        }
                    }
                }
            }
        }
        (pager(lang, "/licenses", &query, page, has_more))
    };
    Ok(ctx.page(ctx.t("Licenses", "许可证"), body))
}
