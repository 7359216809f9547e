//! The audit trail: filter, pages, CSV export.
//!
//! Every filter is one query parameter (`by`, `action`, `q`, `since`,
//! `until`, `license`, `contract`), shared by the page and the export, and
//! each is read by an indexed query paginated in SQL. The export writes
//! every matching row as CSV (RFC 4180), with a value that a spreadsheet
//! would run as a formula prefixed with `'`.

use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use axum::{
    Router,
    body::Bytes,
    extract::Query,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use fanlic_formats::Date;
use maud::html;
use serde::Deserialize;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure};
use crate::console::html::encode_component;
use crate::console::html::{self, PAGE_SIZE};
use crate::console::lang::Lang;
use crate::store::audit::{Action, AuditEntry, AuditQuery};
use crate::util::clock;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/audit", get(audit)).route("/audit.csv", get(audit_csv))
}

/// The query string, as typed (every field a text: a bad one is a message,
/// never a bare 400).
#[derive(Debug, Default, Deserialize)]
struct Q {
    by: Option<String>,
    action: Option<String>,
    q: Option<String>,
    since: Option<String>,
    until: Option<String>,
    license: Option<String>,
    contract: Option<String>,
    page: Option<String>,
}

fn given(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim()).filter(|s| !s.is_empty()).map(str::to_owned)
}

impl Q {
    /// The store's query, or why a field is not valid.
    fn query(&self, lang: Lang) -> Result<AuditQuery, Failure> {
        let bad = |field: &str, value: &str, en: &str, zh: &str| {
            let detail = match lang {
                Lang::Zh => format!("{field} = {value:?}：{zh}"),
                _ => format!("{field} = {value:?}: {en}"),
            };
            Failure::new(axum::http::StatusCode::BAD_REQUEST, lang.t("The filter is not valid", "筛选条件无效"), detail)
        };
        let date = |field: &str, v: Option<&String>| match given(v) {
            None => Ok(None),
            Some(s) => Date::parse(&s)
                .map(Some)
                .ok_or_else(|| bad(field, &s, "expected a date YYYY-MM-DD", "应为日期 YYYY-MM-DD")),
        };
        let since = date("since", self.since.as_ref())?.map(Date::start);
        // `until` is the last day shown, whole.
        let until = date("until", self.until.as_ref())?.map(|d| clock::add_days(d.start(), 1));
        let contract = match given(self.contract.as_ref()) {
            None => None,
            Some(s) => {
                Some(s.parse::<i64>().map_err(|_| bad("contract", &s, "expected a contract number", "应为合同编号"))?)
            }
        };
        Ok(AuditQuery {
            by: given(self.by.as_ref()),
            action: given(self.action.as_ref()),
            q: given(self.q.as_ref()),
            since,
            until,
            license: given(self.license.as_ref()),
            contract,
        })
    }

    /// The filters as a query string (without `page`), for links.
    fn encoded(&self) -> String {
        let fields = [
            ("by", &self.by),
            ("action", &self.action),
            ("q", &self.q),
            ("since", &self.since),
            ("until", &self.until),
            ("license", &self.license),
            ("contract", &self.contract),
        ];
        fields
            .iter()
            .filter_map(|(k, v)| given(v.as_ref()).map(|v| format!("{k}={}", encode_component(&v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    fn page(&self) -> u32 {
        self.page.as_deref().and_then(|p| p.trim().parse().ok()).filter(|p| *p >= 1).unwrap_or(1)
    }
}

async fn audit(ctx: Ctx, Query(q): Query<Q>) -> Result<Response, Failure> {
    let query = q.query(ctx.lang())?;
    let page = q.page();
    let offset = u64::from(page - 1) * u64::from(PAGE_SIZE);
    let mut rows = ctx.db(move |home| home.store().read(|tx| tx.audit_page(&query, offset, PAGE_SIZE + 1))).await?;
    let has_more = rows.len() > PAGE_SIZE as usize;
    rows.truncate(PAGE_SIZE as usize);
    let encoded = q.encoded();
    let csv = if encoded.is_empty() { "/audit.csv".to_owned() } else { format!("/audit.csv?{encoded}") };
    let value = |v: &Option<String>| v.clone().unwrap_or_default();
    let chosen = value(&q.action);
    let body = html! {
        form.search method="get" action="/audit" {
            label { (ctx.t("Who", "操作人")) input type="search" name="by" value=(value(&q.by)); }
            label { (ctx.t("Action", "操作"))
                select name="action" {
                    option value="" { (ctx.t("any", "全部")) }
                    @for a in Action::names() {
                        option value=(a) selected[a == chosen] { (a) }
                    }
                }
            }
            label { (ctx.t("Text", "文本")) input type="search" name="q" value=(value(&q.q)); }
            label { (ctx.t("From", "起始日期")) input type="date" name="since" value=(value(&q.since)); }
            label { (ctx.t("To", "截止日期")) input type="date" name="until" value=(value(&q.until)); }
            label { (ctx.t("License", "许可证")) input type="search" name="license" value=(value(&q.license)); }
            label { (ctx.t("Contract", "合同")) input type="search" name="contract" value=(value(&q.contract)); }
            button type="submit" id="search" { (ctx.t("Filter", "筛选")) }
            a.button.secondary href=(csv) id="export" download { (ctx.t("Export CSV", "导出 CSV")) }
        }
        p.muted { (ctx.t("Newest first. Times are UTC.", "最新的在前。时间为 UTC。")) }
        @if rows.is_empty() {
            p.muted { (ctx.t("No entries match.", "没有符合条件的记录。")) }
        } @else {
            div.table-wrap {
                table id="list" {
                    thead { tr {
                        th { (ctx.t("When", "时间")) }
                        th { (ctx.t("Who", "操作人")) }
                        th { (ctx.t("Action", "操作")) }
                        th { (ctx.t("About", "对象")) }
                        th { (ctx.t("Why", "说明")) }
                    } }
                    tbody {
                        @for r in &rows {
                            tr id={ "audit-" (r.id) } {
                                td { (html::time(r.at)) }
                                td { (r.by) }
                                td { span.tag { (r.action) } }
                                td {
                                    @if let Some(d) = r.decision_id {
                                        a href={ "/review/" (d) } { (ctx.t("request", "申请")) " " (d) } " "
                                    }
                                    @if let Some(l) = &r.license_id {
                                        a href={ "/licenses/" (l) } title=(l) { (ctx.t("license", "许可证")) " " (short(l)) } " "
                                    }
                                    @if let Some(c) = r.contract_id {
                                        a href={ "/contracts/" (c) } { (ctx.t("contract", "合同")) " " (c) }
                                    }
                                }
                                td { (r.why) }
                            }
                        }
                    }
                }
            }
        }
        (html::pager(ctx.lang(), "/audit", &encoded, page, has_more))
    };
    Ok(ctx.page(ctx.t("Audit", "审计"), body))
}

/// The first 8 hex digits of a license id (the link's title has it whole).
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// Rows read per turn on the database: the export lets other requests in
/// between.
const CSV_CHUNK: u32 = 2000;

/// The CSV header.
const CSV_HEADER: &str = "id,at,by,action,license_id,contract_id,decision_id,why\r\n";

/// The export's body: parts of the CSV as the database yields them.
struct CsvBody {
    rx: tokio::sync::mpsc::Receiver<Result<Bytes, String>>,
}

impl hyper::body::Body for CsvBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        // A failure half way ends the answer with an error, so that the
        // download is seen to be incomplete (never a quietly short file).
        self.rx.poll_recv(cx).map(|part| part.map(|p| p.map(hyper::body::Frame::data).map_err(std::io::Error::other)))
    }
}

async fn audit_csv(ctx: Ctx, Query(q): Query<Q>) -> Result<Response, Failure> {
    let query = q.query(ctx.lang())?;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let _reader = tokio::spawn(async move {
        if tx.send(Ok(Bytes::from_static(CSV_HEADER.as_bytes()))).await.is_err() {
            return;
        }
        let mut after = None;
        loop {
            let query = query.clone();
            let part = ctx.db(move |home| home.store().read(|t| t.audit_after(&query, after, CSV_CHUNK))).await;
            let rows = match part {
                Ok(rows) => rows,
                Err(e) => {
                    let _ = tx.send(Err(e.detail)).await;
                    return;
                }
            };
            let mut out = String::new();
            for r in &rows {
                csv_row(&mut out, r);
            }
            let done = rows.len() < CSV_CHUNK as usize;
            after = rows.last().map(|r| (r.at, r.id));
            if (!out.is_empty() && tx.send(Ok(Bytes::from(out))).await.is_err()) || done {
                return;
            }
        }
    });
    let mut r = axum::body::Body::new(CsvBody { rx }).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"fanlic-audit.csv\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// One CSV record (RFC 4180, CRLF) of an audit row.
fn csv_row(out: &mut String, r: &AuditEntry) {
    let fields = [
        r.id.to_string(),
        r.at.to_string(),
        r.by.clone(),
        r.action.clone(),
        r.license_id.clone().unwrap_or_default(),
        r.contract_id.map(|c| c.to_string()).unwrap_or_default(),
        r.decision_id.map(|d| d.to_string()).unwrap_or_default(),
        r.why.clone(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_field(f));
    }
    out.push_str("\r\n");
}

/// A CSV field: a value a spreadsheet would read as a formula (starting
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`;
/// a value with a comma, a quote or a line break is quoted, its quotes
/// doubled.
fn csv_field(v: &str) -> String {
    let v = if v.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{v}") } else { v.to_owned() };
    if v.contains([',', '"', '\r', '\n']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=1+1"), "'=1+1");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("\tx"), "'\tx");
        assert_eq!(csv_field("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
        assert_eq!(csv_field(""), "");
    }
}
