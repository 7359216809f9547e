//! Contracts: search, view with history, add, edit, disable and enable
//! (admin), CSV import with a preview of every row and every problem.
//!
//! - `mod` (here): the list (`/contracts`) and a contract's page.
//! - `edit`: the add and edit forms, disable, enable.
//! - `import`: the CSV import, its preview and its confirmation.

mod edit;
mod import;

use std::sync::Arc;

use axum::{
    Router,
    extract::{DefaultBodyLimit, Path, Query},
    response::Response,
    routing::{get, post},
};
use fanlic_formats::LicenseKind;
use maud::{Markup, html};
use serde::Deserialize;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure};
use crate::console::html::{self, PAGE_SIZE};
use crate::console::lang::Lang;
use crate::contracts::{self, Contract};
use crate::store::{ContractFilter, Role};

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/contracts", get(list).post(edit::add))
        .route("/contracts/new", get(edit::new_form))
        .route(
            "/contracts/import",
            get(import::form).post(import::submit).layer(DefaultBodyLimit::max(import::BODY_LIMIT)),
        )
        .route("/contracts/{id}", get(detail))
        .route("/contracts/{id}/edit", get(edit::edit_form).post(edit::edit))
        .route("/contracts/{id}/disable", post(edit::disable))
        .route("/contracts/{id}/enable", post(edit::enable))
}

/// Percent-encodes a query value.
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A contract's number from a path; anything else is not found.
fn contract_id(lang: Lang, s: &str) -> Result<i64, Failure> {
    s.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| Failure::not_found(lang))
}

/// A contract's state for people.
fn status_name(lang: Lang, status: &str) -> &'static str {
    match status {
        "disabled" => lang.t("disabled", "已停用"),
        "expired" => lang.t("expired", "已过期"),
        _ => lang.t("active", "有效"),
    }
}

/// A state as a tag.
fn status_tag(lang: Lang, status: &str) -> Markup {
    let class = match status {
        "active" => "tag ok",
        _ => "tag bad",
    };
    html! { span class=(class) { (status_name(lang, status)) } }
}

/// A filter's name for people.
fn filter_name(lang: Lang, f: ContractFilter) -> &'static str {
    match f {
        ContractFilter::Active => lang.t("Active", "有效"),
        ContractFilter::Disabled => lang.t("Disabled", "已停用"),
        ContractFilter::Expired => lang.t("Expired", "已过期"),
        _ => lang.t("At their license count", "许可证数已满"),
    }
}

/// A registration method for people.
fn method_name(lang: Lang, m: LicenseKind) -> &'static str {
    match m {
        LicenseKind::LocalContainer => lang.t("local container", "本地容器"),
        _ => lang.t("private cloud", "私有云"),
    }
}

fn methods_text(lang: Lang, c: &Contract) -> String {
    c.terms.methods.iter().map(|m| method_name(lang, *m)).collect::<Vec<_>>().join(", ")
}

/// The term's end: a date, or "perpetual".
fn expires_text(lang: Lang, c: &Contract) -> String {
    match c.terms.expires {
        fanlic_formats::Expiry::Never => lang.t("perpetual", "永久").to_owned(),
        e => e.to_string(),
    }
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    done: String,
    #[serde(default)]
    n: String,
}

async fn list(ctx: Ctx, Query(q): Query<ListQuery>) -> Result<Response, Failure> {
    let lang = ctx.lang();
    let page = q.page.trim().parse::<u32>().unwrap_or(1).max(1);
    let filter = ContractFilter::parse(&q.status);
    let (text, today) = (q.q.trim().to_owned(), ctx.now().date());
    let offset = u64::from(page - 1) * u64::from(PAGE_SIZE);
    let mut found = ctx
        .db(move |home| home.store().read(|tx| tx.search_contracts(&text, filter, today, PAGE_SIZE + 1, offset)))
        .await?;
    let has_more = found.len() > PAGE_SIZE as usize;
    found.truncate(PAGE_SIZE as usize);
    let mut query = Vec::new();
    if !q.q.trim().is_empty() {
        query.push(format!("q={}", encode_component(q.q.trim())));
    }
    if let Some(f) = filter {
        query.push(format!("status={}", f.as_str()));
    }
    let now = ctx.now();
    let admin = ctx.role().allows(Role::Admin);
    let body = html! {
        @if q.done == "imported" {
            @let n = q.n.parse::<u64>().unwrap_or(0);
            (html::notice(true, &match lang {
                Lang::Zh => format!("已导入 {n} 份合同。"),
                _ => format!("Imported {n} contract(s)."),
            }))
        }
        form.search method="get" action="/contracts" {
            input type="search" name="q" id="q" value=(q.q)
                placeholder=(ctx.t("Company, contract number, address or product", "公司、合同编号、邮箱或产品"))
                aria-label=(ctx.t("Search", "搜索"));
            select name="status" id="status" aria-label=(ctx.t("State", "状态")) {
                option value="" selected[filter.is_none()] { (ctx.t("All states", "全部状态")) }
                @for f in ContractFilter::ALL {
                    option value=(f.as_str()) selected[filter == Some(f)] { (filter_name(lang, f)) }
                }
            }
            button type="submit" id="search" { (ctx.t("Search", "搜索")) }
        }
        @if admin {
            p.actions {
                a.button href="/contracts/new" id="new-contract" { (ctx.t("Add a contract", "新增合同")) }
                a.button href="/contracts/import" id="import-csv" { (ctx.t("Import CSV", "导入 CSV")) }
            }
        }
        @if found.is_empty() {
            p.muted { (ctx.t("No contract matches.", "没有匹配的合同。")) }
        } @else {
            div.table-wrap {
                table id="list" {
                    thead { tr {
                        th { "#" }
                        th { (ctx.t("Company", "公司")) }
                        th { (ctx.t("Product", "产品")) }
                        th { (ctx.t("Methods", "注册方式")) }
                        th { (ctx.t("Max nodes", "最大节点数")) }
                        th { (ctx.t("Licenses used / covered", "已用 / 可用许可证")) }
                        th { (ctx.t("Expires", "到期")) }
                        th { (ctx.t("State", "状态")) }
                    } }
                    tbody {
                        @for row in &found {
                            @let c = &row.contract;
                            @let url = format!("/contracts/{}", c.id);
                            tr {
                                td { a href=(url) { (c.id) } }
                                td {
                                    a href=(url) { (c.terms.company) }
                                    br;
                                    span.muted { (c.terms.emails.join(", ")) }
                                }
                                td { (c.terms.product) " " (c.terms.version) }
                                td { (methods_text(lang, c)) }
                                td { (c.terms.max_nodes) }
                                td class=[(row.live >= u64::from(c.terms.max_licenses)).then_some("full")] {
                                    (row.live) " / " (c.terms.max_licenses)
                                }
                                td { (expires_text(lang, c)) }
                                td { (status_tag(lang, c.status(now))) }
                            }
                        }
                    }
                }
            }
        }
        (html::pager(lang, "/contracts", &query.join("&"), page, has_more))
    };
    Ok(ctx.page(ctx.t("Contracts", "合同"), body))
}

#[derive(Debug, Default, Deserialize)]
struct DetailQuery {
    #[serde(default)]
    done: String,
}

/// The notice after an action on a contract.
fn done_notice(lang: Lang, done: &str) -> Option<Markup> {
    let text = match done {
        "added" => lang.t("The contract is recorded.", "合同已记录。"),
        "updated" => lang.t("The contract is changed.", "合同已修改。"),
        "unchanged" => lang.t("Nothing changed: the form had the contract's terms.", "没有修改：表单内容与合同相同。"),
        "disabled" => {
            lang.t("The contract is disabled: no new license is issued under it.", "合同已停用：不再据此签发新许可证。")
        }
        "enabled" => lang.t("The contract is enabled again.", "合同已重新启用。"),
        _ => return None,
    };
    Some(html::notice(true, text))
}

/// An action in the history for people.
fn action_name(lang: Lang, action: &str) -> &str {
    match action {
        "add" => lang.t("added", "新增"),
        "import" => lang.t("imported", "导入"),
        "update" => lang.t("changed", "修改"),
        "disable" => lang.t("disabled", "停用"),
        "enable" => lang.t("enabled", "启用"),
        other => other,
    }
}

async fn detail(ctx: Ctx, Path(id): Path<String>, Query(q): Query<DetailQuery>) -> Result<Response, Failure> {
    let lang = ctx.lang();
    let id = contract_id(lang, &id)?;
    let found = ctx
        .db(move |home| {
            home.store().read(|tx| {
                let Some(c) = tx.contract(id)? else { return Ok(None) };
                let live = tx.contract_live_licenses(&c.terms.company)?;
                let history = tx.contract_history(id)?;
                Ok(Some((c, live, history)))
            })
        })
        .await?;
    let Some((c, live, history)) = found else { return Err(Failure::not_found(lang)) };
    let changes = contracts::history_changes(&history);
    let t = &c.terms;
    let now = ctx.now();
    let admin = ctx.role().allows(Role::Admin);
    let body = html! {
        @if let Some(n) = done_notice(lang, &q.done) { (n) }
        dl.fields id="terms" {
            dt { (ctx.t("Contract number", "合同编号")) } dd { (c.id) }
            dt { (ctx.t("Company", "公司")) } dd id="company" { (t.company) }
            dt { (ctx.t("State", "状态")) } dd { (status_tag(lang, c.status(now))) }
            dt { (ctx.t("Addresses", "申请邮箱")) } dd id="emails" { (t.emails.join(", ")) }
            dt { (ctx.t("Product", "产品")) } dd { (t.product) }
            dt { (ctx.t("Version", "版本")) } dd { (t.version) }
            dt { (ctx.t("Methods", "注册方式")) } dd { (methods_text(lang, &c)) }
            dt { (ctx.t("Max nodes", "最大节点数")) } dd { (t.max_nodes) }
            dt { (ctx.t("Licenses used / covered", "已用 / 可用许可证")) } dd { (live.len()) " / " (t.max_licenses) }
            dt { (ctx.t("Activation", "激活方式")) } dd {
                (t.activation_policy.as_str())
                @if let Some(d) = t.lease_days {
                    ", " (match lang { Lang::Zh => format!("私有云租期 {d} 天"), _ => format!("private-cloud lease {d} day(s)") })
                }
            }
            dt { (ctx.t("Signed", "签订日期")) } dd { (t.signed) }
            dt { (ctx.t("Expires", "到期")) } dd { (expires_text(lang, &c)) }
            dt { (ctx.t("Recorded", "记录于")) } dd { (html::time(c.created_at)) " · " (c.created_by) }
            dt { (ctx.t("Last changed", "最后修改")) } dd { (html::time(c.updated_at)) " · " (c.updated_by) }
        }
        @if admin {
            div.actions {
                a.button href={ "/contracts/" (c.id) "/edit" } id="edit" { (ctx.t("Edit", "编辑")) }
                @if c.enabled {
                    form.inline method="post" action={ "/contracts/" (c.id) "/disable" } {
                        (ctx.csrf_input())
                        button.danger type="submit" id="disable" { (ctx.t("Disable", "停用")) }
                    }
                    span.muted { (ctx.t(
                        "Disabling stops new licenses under this contract; licenses already issued keep working. It can be enabled again.",
                        "停用后不再据此合同签发新许可证；已签发的许可证继续有效。可以重新启用。",
                    )) }
                } @else {
                    form.inline method="post" action={ "/contracts/" (c.id) "/enable" } {
                        (ctx.csrf_input())
                        button type="submit" id="enable" { (ctx.t("Enable again", "重新启用")) }
                    }
                }
            }
        }
        h2 { (ctx.t("Live licenses", "有效许可证")) }
        @if live.is_empty() {
            p.muted { (ctx.t("None.", "无。")) }
        } @else {
            div.table-wrap { table id="licenses" {
                thead { tr {
                    th { (ctx.t("License", "许可证")) }
                    th { (ctx.t("Project", "项目")) }
                    th { (ctx.t("Method", "注册方式")) }
                    th { (ctx.t("Version", "版本")) }
                    th { (ctx.t("Nodes", "节点数")) }
                    th { (ctx.t("Expires", "到期")) }
                    th { (ctx.t("Issued", "签发时间")) }
                } }
                tbody { @for l in &live { tr {
                    td { a href={ "/licenses/" (l.license_id) } { code { (l.license_id) } } }
                    td { (l.project) }
                    td { (l.kind) }
                    td { (l.version) }
                    td { (l.max_nodes) }
                    td { (l.expiry) }
                    td { (html::time(l.issued_at)) }
                } } }
            } }
        }
        h2 { (ctx.t("History", "变更记录")) }
        div.table-wrap { table id="history" {
            thead { tr {
                th { (ctx.t("When", "时间")) }
                th { (ctx.t("Who", "操作人")) }
                th { (ctx.t("What", "操作")) }
                th { (ctx.t("Changes", "变更内容")) }
            } }
            tbody { @for (e, fields) in history.iter().zip(&changes) { tr {
                td { (html::time(e.at)) }
                td { (e.by) }
                td { (action_name(lang, &e.action)) }
                td {
                    @if !fields.is_empty() {
                        ul.changes { @for f in fields {
                            li { code { (f.field) } ": " (f.before) " → " (f.after) }
                        } }
                    }
                }
            } } }
        } }
        p { a href="/contracts" { "← " (ctx.t("All contracts", "全部合同")) } }
    };
    Ok(ctx.page(&format!("{} {}", ctx.t("Contract", "合同"), c.id), body))
}
