//! The CSV import: a form (a file, or text pasted), a preview of every row
//! and every problem by line that writes nothing (the checks of `fanlic
//! contract import`, shared with it), then the import itself from a confirm
//! form that carries the same CSV. Admin only.
//!
//! The upload form is multipart, which the `Posted` extractor does not
//! read: this page reads both kinds of body itself, at most [`BODY_LIMIT`],
//! and checks the session's CSRF token before anything else is done with
//! them. The CSV itself may be [`MAX_FORM_BYTES`].

use std::collections::BTreeMap;

use axum::{
    extract::{FromRequest as _, Multipart, Request},
    http::{StatusCode, header},
    response::{IntoResponse as _, Response},
};
use maud::{Markup, html};

use crate::console::ctx::{CSRF_FIELD, Ctx, Failure, MAX_FORM_BYTES, see_other};
use crate::console::html;
use crate::console::lang::Lang;
use crate::contracts::{self, CSV_HEADER, CSV_OPTIONAL, ImportPlan, RowAction};
use crate::store::Role;

/// The most a body carrying a CSV of [`MAX_FORM_BYTES`] may take: a form
/// encodes it (percent-encoding triples a byte at worst; browsers send
/// line breaks as CRLF).
pub(super) const BODY_LIMIT: usize = 3 * MAX_FORM_BYTES;

/// The CSV's size as the limit counts it: line breaks as one byte, so
/// that the CRLF a browser sends back does not push a file over.
fn csv_size(csv: &[u8]) -> usize {
    csv.iter().filter(|b| **b != b'\r').count()
}

/// What the import form sent.
#[derive(Debug, Default)]
struct ImportForm {
    csrf: Option<String>,
    /// The file chosen (empty: none).
    file: Vec<u8>,
    /// The text pasted, or the previewed CSV from the confirm form.
    text: String,
    update: bool,
    confirm: bool,
}

impl ImportForm {
    /// The CSV: the file if one was chosen, else the text.
    fn csv(&self) -> &[u8] {
        if self.file.is_empty() { self.text.as_bytes() } else { &self.file }
    }

    fn set(&mut self, name: &str, value: Vec<u8>) {
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name {
            CSRF_FIELD => self.csrf = Some(text()),
            "csv" => self.file = value,
            "csv_text" => self.text = text(),
            "update" => self.update = matches!(text().as_str(), "yes" | "on" | "true" | "1"),
            "confirm" => self.confirm = text() == "yes",
            _ => {}
        }
    }
}

fn too_large(lang: Lang) -> Failure {
    Failure::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        lang.t("The CSV is too large", "CSV 文件过大"),
        match lang {
            Lang::Zh => format!("最多可上传 {} MiB。请把文件拆成几个较小的文件，逐个导入。", MAX_FORM_BYTES >> 20),
            _ => format!(
                "At most {} MiB can be uploaded. Split the file into smaller files and import each.",
                MAX_FORM_BYTES >> 20
            ),
        },
    )
}

fn bad_form(lang: Lang, detail: String) -> Failure {
    Failure::new(StatusCode::BAD_REQUEST, lang.t("The form is not valid", "表单无效"), detail)
}

/// Reads a multipart or urlencoded body, at most [`MAX_FORM_BYTES`].
async fn read_form(lang: Lang, req: Request) -> Result<ImportForm, Failure> {
    let mut form = ImportForm::default();
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"));
    if multipart {
        // The route's body limit bounds what the fields may hold.
        let mut parts = Multipart::from_request(req, &()).await.map_err(|e| bad_form(lang, e.body_text()))?;
        let failed = |e: axum::extract::multipart::MultipartError| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE { too_large(lang) } else { bad_form(lang, e.body_text()) }
        };
        while let Some(field) = parts.next_field().await.map_err(failed)? {
            let name = field.name().unwrap_or_default().to_owned();
            let value = field.bytes().await.map_err(failed)?;
            form.set(&name, value.to_vec());
        }
    } else {
        let body = axum::body::to_bytes(req.into_body(), BODY_LIMIT).await.map_err(|_| too_large(lang))?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_bytes(&body).map_err(|e| bad_form(lang, e.to_string()))?;
        for (k, v) in pairs {
            form.set(&k, v.into_bytes());
        }
    }
    Ok(form)
}

/// The header line a file must start with.
fn header_line() -> String {
    format!("{},{}", CSV_HEADER.join(","), CSV_OPTIONAL.join(","))
}

/// The upload form. `again`: the CSV to edit (a preview's), with the button
/// named so that it is not the preview table's id.
fn upload_form(ctx: &Ctx, text: &str, update: bool, again: bool) -> Markup {
    html! {
        form.stack method="post" action="/contracts/import" enctype="multipart/form-data" {
            (ctx.csrf_input())
            label {
                (ctx.t("CSV file", "CSV 文件"))
                input type="file" name="csv" id="csv" accept=".csv,text/csv";
            }
            label {
                (ctx.t("or paste the CSV here", "或在此粘贴 CSV 内容"))
                textarea name="csv_text" id="csv_text" rows="10" spellcheck="false" { (text) }
            }
            label.check {
                input type="checkbox" name="update" id="update" value="yes" checked[update];
                (ctx.t(
                    " Update the contracts of companies already recorded (their terms are replaced)",
                    " 更新已有公司的合同（替换其条款）",
                ))
            }
            div.actions {
                @if again {
                    button type="submit" id="preview-again" { (ctx.t("Preview again", "重新预览")) }
                } @else {
                    button type="submit" id="preview" { (ctx.t("Preview", "预览")) }
                }
            }
        }
    }
}

pub(super) async fn form(ctx: Ctx) -> Result<Response, Failure> {
    ctx.require(Role::Admin)?;
    let body = html! {
        p { (ctx.t(
            "Nothing is written until you have seen the preview of every row and confirmed it. If any row has a problem, nothing is imported.",
            "确认预览中的每一行之前不会写入任何内容。任何一行有问题，都不会导入。",
        )) }
        p {
            (ctx.t("The first line must be the header (the last three columns are optional, in this order):", "第一行必须是表头（最后三列可省略，顺序不变）："))
            br;
            code.csv-header { (header_line()) }
        }
        p.muted { (match ctx.lang() {
            Lang::Zh => format!("UTF-8 编码（Excel：另存为“CSV UTF-8”），最大 {} MiB。", MAX_FORM_BYTES >> 20),
            _ => format!("UTF-8 text (Excel: save as \"CSV UTF-8\"), at most {} MiB.", MAX_FORM_BYTES >> 20),
        }) }
        (upload_form(&ctx, "", false, false))
    };
    Ok(ctx.page(ctx.t("Import contracts", "导入合同"), body))
}

pub(super) async fn submit(ctx: Ctx, req: Request) -> Result<Response, Failure> {
    let lang = ctx.lang();
    let form = read_form(lang, req).await?;
    ctx.check_csrf(form.csrf.as_deref())?;
    ctx.require(Role::Admin)?;
    let csv = form.csv().to_vec();
    if csv_size(&csv) > MAX_FORM_BYTES {
        return Err(too_large(lang));
    }
    if csv.iter().all(u8::is_ascii_whitespace) {
        let body = html! {
            (html::notice(false, ctx.t("Choose a CSV file or paste the CSV text.", "请选择 CSV 文件或粘贴 CSV 内容。")))
            (upload_form(&ctx, "", form.update, false))
        };
        return Ok(
            (StatusCode::UNPROCESSABLE_ENTITY, ctx.page(ctx.t("Import contracts", "导入合同"), body)).into_response()
        );
    }
    let update = form.update;
    if form.confirm {
        let (by, now) = (ctx.by().to_owned(), ctx.now());
        let bytes = csv.clone();
        let done = ctx.db(move |home| contracts::import_bytes(home, &bytes, update, &by, now)).await?;
        return match done {
            Ok(report) => {
                let n = report.added.len() + report.updated.len();
                Ok(see_other(&format!("/contracts?done=imported&n={n}")))
            }
            // The registry changed since the preview: show why, write nothing.
            Err(plan) => Ok(preview(&ctx, &plan, &csv, StatusCode::CONFLICT)),
        };
    }
    let bytes = csv.clone();
    let plan = ctx.db(move |home| contracts::preview_bytes(home, &bytes, update)).await?;
    let status = if plan.is_clean() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok(preview(&ctx, &plan, &csv, status))
}

fn action_tag(lang: Lang, a: RowAction) -> Markup {
    let (class, text) = match a {
        RowAction::New => ("tag ok", lang.t("new", "新增")),
        RowAction::Update => ("tag", lang.t("update", "更新")),
        RowAction::Unchanged => ("tag", lang.t("unchanged", "不变")),
        RowAction::Exists => ("tag bad", lang.t("exists", "已存在")),
        _ => ("tag bad", lang.t("invalid", "有误")),
    };
    html! { span class=(class) { (text) } }
}

fn line_text(lang: Lang, line: u64, problem: &str) -> String {
    match lang {
        Lang::Zh => format!("第 {line} 行：{problem}"),
        _ => format!("line {line}: {problem}"),
    }
}

/// A line's problems, under its row, the table's whole width.
fn problem_row(line: u64, problems: &[&str]) -> Markup {
    html! {
        tr.bad.problems data-problems-of=(line) {
            td colspan="11" { ul { @for p in problems { li { (p) } } } }
        }
    }
}

/// The preview: every row, every problem by line; the confirm form only
/// when there is none.
fn preview(ctx: &Ctx, plan: &ImportPlan, csv: &[u8], status: StatusCode) -> Response {
    let lang = ctx.lang();
    let text = String::from_utf8_lossy(csv);
    let mut by_line: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for (line, p) in &plan.problems {
        by_line.entry(*line).or_default().push(p);
    }
    let row_lines: Vec<u64> = plan.rows.iter().map(|r| r.line).collect();
    // Problems on lines that are not rows (the header, unreadable lines).
    let other_lines: Vec<(u64, &Vec<&str>)> =
        by_line.iter().filter(|(l, _)| !row_lines.contains(l)).map(|(l, p)| (*l, p)).collect();
    let count = |a: RowAction| plan.rows.iter().filter(|r| r.action == a).count();
    let (new, updated, same) = (count(RowAction::New), count(RowAction::Update), count(RowAction::Unchanged));
    let n = new + updated + same;
    let none: Vec<&str> = Vec::new();
    let dash = "-";
    let body = html! {
        @if plan.is_clean() && n > 0 {
            (html::notice(true, &match lang {
                Lang::Zh => format!("没有问题：{new} 份新增，{updated} 份更新，{same} 份不变。尚未写入任何内容：确认后才导入。"),
                _ => format!("No problem: {new} new, {updated} updated, {same} unchanged. Nothing is written yet: import to confirm."),
            }))
        } @else if plan.is_clean() {
            (html::notice(false, ctx.t("The file has no contract rows.", "文件中没有合同行。")))
        } @else {
            (html::notice(false, &match lang {
                Lang::Zh => format!("{} 个问题；没有导入任何内容。请更正下列每一行后重新预览。", plan.problems.len()),
                _ => format!("{} problem(s); nothing was imported. Fix every line listed, then preview again.", plan.problems.len()),
            }))
            ul.errors id="errors" {
                @for (line, p) in &plan.problems { li data-line=(line) { (line_text(lang, *line, p)) } }
            }
        }
        div.table-wrap { table id="preview" {
            thead { tr {
                th { (ctx.t("Line", "行")) }
                th { (ctx.t("Result", "结果")) }
                th { (ctx.t("Company", "公司")) }
                th { (ctx.t("Addresses", "邮箱")) }
                th { (ctx.t("Product", "产品")) }
                th { (ctx.t("Methods", "注册方式")) }
                th { (ctx.t("Max nodes", "最大节点数")) }
                th { (ctx.t("Licenses", "许可证数")) }
                th { (ctx.t("Activation", "激活方式")) }
                th { (ctx.t("Signed", "签订日期")) }
                th { (ctx.t("Expires", "到期")) }
            } }
            tbody {
                @for (line, problems) in &other_lines {
                    tr.bad data-line=(line) data-action="invalid" {
                        td { (line) }
                        td { (action_tag(lang, RowAction::Invalid)) }
                        td colspan="9" { (dash) }
                    }
                    (problem_row(*line, problems))
                }
                @for row in &plan.rows {
                    @let problems = by_line.get(&row.line).unwrap_or(&none);
                    tr class=[(!problems.is_empty()).then_some("bad")] data-line=(row.line) data-action=(row.action.as_str()) {
                        td { (row.line) }
                        td {
                            (action_tag(lang, row.action))
                            @if let Some(c) = &row.existing {
                                " " a href={ "/contracts/" (c.id) } { "#" (c.id) }
                            }
                        }
                        td { (row.company.as_deref().unwrap_or(dash)) }
                        td { (row.emails.join(", ")) }
                        @if let Some(t) = &row.terms {
                            td { (t.product) " " (t.version) }
                            td { (t.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (t.max_nodes) }
                            td { (t.max_licenses) }
                            td {
                                (t.activation_policy.as_str())
                                @if let Some(d) = t.lease_days { " / " (d) (ctx.t(" days", " 天")) }
                            }
                            td { (t.signed) }
                            td { (t.expires) }
                        } @else {
                            td colspan="7" { (dash) }
                        }
                    }
                    @if !problems.is_empty() { (problem_row(row.line, problems)) }
                }
            }
        } }
        @if plan.is_clean() && n > 0 {
            // Multipart: the CSV travels as it is, not percent-encoded.
            form.stack method="post" action="/contracts/import" enctype="multipart/form-data" {
                (ctx.csrf_input())
                input type="hidden" name="csv_text" value=(text);
                @if plan.update { input type="hidden" name="update" value="yes"; }
                input type="hidden" name="confirm" value="yes";
                div.actions {
                    button type="submit" id="import" { (match lang {
                        Lang::Zh => format!("导入 {n} 份合同"),
                        _ => format!("Import {n} contract(s)"),
                    }) }
                }
            }
        }
        h2 { (ctx.t("Edit and preview again", "修改后重新预览")) }
        (upload_form(ctx, &text, plan.update, true))
    };
    (status, ctx.page(ctx.t("Import preview", "导入预览"), body)).into_response()
}
