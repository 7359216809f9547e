//! The add and edit forms (the checks of `fanlic contract add`: every
//! problem shown next to its field, the form given back as typed), and
//! disable / enable. Admin only.

use std::collections::HashMap;

use axum::{
    extract::Path,
    http::StatusCode,
    response::{IntoResponse as _, Response},
};
use maud::{Markup, html};
use serde::Deserialize;

use super::contract_id;
use crate::Error;
use crate::console::ctx::{Ctx, Failure, Posted, see_other};
use crate::contracts::{self, CSV_NAMES, Contract, ContractChanges, ContractTerms, TermsText};
use crate::error::ContractError;
use crate::store::Role;

/// The form's fields, as typed (named like the CSV columns).
#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct TermsForm {
    #[serde(default)]
    company: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    signed: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    methods: String,
    #[serde(default)]
    max_nodes: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    expires: String,
    #[serde(default)]
    max_licenses: String,
    #[serde(default)]
    activation_policy: String,
    #[serde(default)]
    lease_days: String,
}

impl TermsForm {
    /// A contract's terms in the form.
    fn of(t: &ContractTerms) -> Self {
        Self {
            company: t.company.clone(),
            email: t.emails.join("; "),
            signed: t.signed.to_string(),
            product: t.product.to_owned(),
            methods: t.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(","),
            max_nodes: t.max_nodes.to_string(),
            version: t.version.to_string(),
            expires: t.expires.to_string(),
            max_licenses: t.max_licenses.to_string(),
            activation_policy: t.activation_policy.as_str().to_owned(),
            lease_days: t.lease_days.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    /// A new contract's defaults.
    fn blank() -> Self {
        Self {
            product: "FineReport".to_owned(),
            methods: "local-container".to_owned(),
            max_nodes: "1".to_owned(),
            expires: "never".to_owned(),
            max_licenses: "1".to_owned(),
            activation_policy: "code".to_owned(),
            ..Self::default()
        }
    }

    /// The terms, or every problem by field (as the CSV columns name them).
    /// Browsers send what was typed: white space around a value is dropped,
    /// as the CSV import drops it.
    fn parse(&self) -> Result<ContractTerms, Errors> {
        let text = TermsText {
            company: self.company.trim(),
            email: self.email.trim(),
            signed: self.signed.trim(),
            product: self.product.trim(),
            methods: self.methods.trim(),
            max_nodes: self.max_nodes.trim(),
            version: self.version.trim(),
            expires: self.expires.trim(),
            max_licenses: Some(self.max_licenses.trim()),
            activation_policy: Some(self.activation_policy.trim()),
            lease_days: Some(self.lease_days.trim()),
        };
        text.parse(&CSV_NAMES).map_err(|errors| {
            let mut out = Errors::default();
            for e in &errors {
                out.add(e);
            }
            out
        })
    }
}

/// Problems by field; `""` holds those of no one field.
#[derive(Debug, Default)]
pub(super) struct Errors(HashMap<&'static str, Vec<String>>);

impl Errors {
    fn add(&mut self, e: &Error) {
        let (field, text) = match e {
            Error::InvalidInput { option, given, fix } => {
                (*option, if given.is_empty() { fix.clone() } else { format!("{given:?}: {fix}") })
            }
            Error::Contract(ContractError::Exists { .. }) => (CSV_NAMES.company, e.to_string()),
            Error::Contract(ContractError::EmailTaken { .. }) => (CSV_NAMES.email, e.to_string()),
            other => ("", other.to_string()),
        };
        self.0.entry(field).or_default().push(text);
    }

    fn of(&self, field: &str) -> &[String] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }
}

/// Whether an error is one the form can show by its field (else it is a
/// failure of the page).
fn is_field_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidInput { .. } | Error::Contract(ContractError::Exists { .. } | ContractError::EmailTaken { .. })
    )
}

/// The form: `action` is where it posts; `errors` are shown by their fields.
fn form(ctx: &Ctx, action: &str, f: &TermsForm, errors: &Errors) -> Markup {
    let field_errors = |name: &str| {
        let list = errors.of(name);
        html! {
            @for e in list { span.field-error id={ (name) "-error" } role="alert" { (e) } }
        }
    };
    let text = |name: &'static str, label: &'static str, value: &str, hint: &'static str| {
        html! {
            label class=[(!errors.of(name).is_empty()).then_some("invalid")] {
                (label)
                input type="text" name=(name) id=(name) value=(value)
                    aria-invalid=[(!errors.of(name).is_empty()).then_some("true")];
                @if !hint.is_empty() { span.muted { (hint) } }
                (field_errors(name))
            }
        }
    };
    let select = |name: &'static str, label: &'static str, value: &str, options: &[(&str, &'static str)]| {
        let known = options.iter().any(|(v, _)| v.eq_ignore_ascii_case(value.trim()));
        html! {
            label class=[(!errors.of(name).is_empty()).then_some("invalid")] {
                (label)
                select name=(name) id=(name) {
                    @if !known { option value=(value) selected { (value) } }
                    @for (v, shown) in options {
                        option value=(v) selected[v.eq_ignore_ascii_case(value.trim())] { (shown) }
                    }
                }
                (field_errors(name))
            }
        }
    };
    html! {
        @if !errors.0.is_empty() {
            p.notice.error role="status" id="form-errors" {
                (ctx.t("Nothing was saved: correct the fields marked below.", "未保存：请更正下方标出的字段。"))
            }
            @for e in errors.of("") { p.error { (e) } }
        }
        form.stack method="post" action=(action) {
            (ctx.csrf_input())
            (text("company", ctx.t("Company", "公司"), &f.company, ""))
            (text("email", ctx.t("Addresses allowed to request licenses", "允许申请许可证的邮箱"), &f.email,
                ctx.t("Separate several with ;", "多个地址用 ; 分隔")))
            (select("product", ctx.t("Product", "产品"), &f.product, &[("FineReport", "FineReport"), ("FineBI", "FineBI")]))
            (text("version", ctx.t("Version (major.minor)", "版本（主版本.次版本）"), &f.version, ctx.t("Such as 11.0", "例如 11.0")))
            (select("methods", ctx.t("Registration methods", "注册方式"), &f.methods, &[
                ("local-container", ctx.t("local container", "本地容器")),
                ("private-cloud", ctx.t("private cloud", "私有云")),
                ("local-container,private-cloud", ctx.t("local container and private cloud", "本地容器和私有云")),
            ]))
            (text("max_nodes", ctx.t("Max cluster nodes", "最大集群节点数"), &f.max_nodes, ""))
            (text("max_licenses", ctx.t("Projects (licenses) covered", "可用许可证（项目）数"), &f.max_licenses, ""))
            (select("activation_policy", ctx.t("Activation", "激活方式"), &f.activation_policy, &[
                ("code", ctx.t("code (the customer's admin types a 6-digit code)", "code（客户管理员输入 6 位激活码）")),
                ("receipt", ctx.t("receipt (the vendor's service signs a receipt)", "receipt（由厂商服务签发回执）")),
            ]))
            (text("lease_days", ctx.t("Private-cloud lease in days (receipt only; empty: none)", "私有云租期天数（仅 receipt；留空表示无）"), &f.lease_days, ""))
            (text("signed", ctx.t("Signed on", "签订日期"), &f.signed, ctx.t("YYYY-MM-DD", "YYYY-MM-DD")))
            (text("expires", ctx.t("Expires on", "到期日期"), &f.expires, ctx.t("YYYY-MM-DD, or never", "YYYY-MM-DD，或 never（永久）")))
            div.actions {
                button type="submit" id="save" { (ctx.t("Save", "保存")) }
            }
        }
    }
}

fn form_page(ctx: &Ctx, title: &str, action: &str, f: &TermsForm, errors: &Errors) -> Response {
    let status = if errors.0.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, ctx.page(title, form(ctx, action, f, errors))).into_response()
}

pub(super) async fn new_form(ctx: Ctx) -> Result<Response, Failure> {
    ctx.require(Role::Admin)?;
    Ok(form_page(&ctx, ctx.t("Add a contract", "新增合同"), "/contracts", &TermsForm::blank(), &Errors::default()))
}

pub(super) async fn add(p: Posted<TermsForm>) -> Result<Response, Failure> {
    let Posted { ctx, form } = p;
    ctx.require(Role::Admin)?;
    let title = ctx.t("Add a contract", "新增合同");
    let terms = match form.parse() {
        Ok(t) => t,
        Err(errors) => return Ok(form_page(&ctx, title, "/contracts", &form, &errors)),
    };
    let (by, now) = (ctx.by().to_owned(), ctx.now());
    let added = ctx
        .db(move |home| match contracts::add(home, &terms, &by, now) {
            Ok(c) => Ok(Ok(c)),
            Err(e) if is_field_error(&e) => Ok(Err(e)),
            Err(e) => Err(e),
        })
        .await?;
    match added {
        Ok(c) => Ok(see_other(&format!("/contracts/{}?done=added", c.id))),
        Err(e) => {
            let mut errors = Errors::default();
            errors.add(&e);
            Ok(form_page(&ctx, title, "/contracts", &form, &errors))
        }
    }
}

/// The contract, else not found.
async fn load(ctx: &Ctx, id: i64) -> Result<Contract, Failure> {
    ctx.db(move |home| home.store().read(|tx| tx.contract(id))).await?.ok_or_else(|| Failure::not_found(ctx.lang()))
}

fn edit_title(ctx: &Ctx, c: &Contract) -> String {
    format!("{} {} · {}", ctx.t("Edit contract", "编辑合同"), c.id, c.terms.company)
}

pub(super) async fn edit_form(ctx: Ctx, Path(id): Path<String>) -> Result<Response, Failure> {
    ctx.require(Role::Admin)?;
    let c = load(&ctx, contract_id(ctx.lang(), &id)?).await?;
    let action = format!("/contracts/{}/edit", c.id);
    Ok(form_page(&ctx, &edit_title(&ctx, &c), &action, &TermsForm::of(&c.terms), &Errors::default()))
}

pub(super) async fn edit(Path(id): Path<String>, p: Posted<TermsForm>) -> Result<Response, Failure> {
    let Posted { ctx, form } = p;
    ctx.require(Role::Admin)?;
    let c = load(&ctx, contract_id(ctx.lang(), &id)?).await?;
    let (title, action) = (edit_title(&ctx, &c), format!("/contracts/{}/edit", c.id));
    let terms = match form.parse() {
        Ok(t) => t,
        Err(errors) => return Ok(form_page(&ctx, &title, &action, &form, &errors)),
    };
    if terms == c.terms {
        return Ok(see_other(&format!("/contracts/{}?done=unchanged", c.id)));
    }
    let changes = ContractChanges {
        company: Some(terms.company),
        emails: Some(terms.emails),
        signed: Some(terms.signed),
        product: Some(terms.product),
        methods: Some(terms.methods),
        max_nodes: Some(terms.max_nodes),
        max_licenses: Some(terms.max_licenses),
        activation_policy: Some(terms.activation_policy),
        lease_days: Some(terms.lease_days),
        version: Some(terms.version),
        expires: Some(terms.expires),
        enable: false,
    };
    let (by, now, id) = (ctx.by().to_owned(), ctx.now(), c.id);
    let updated = ctx
        .db(move |home| match contracts::update(home, &id.to_string(), &changes, &by, now) {
            Ok(c) => Ok(Ok(c)),
            Err(e) if is_field_error(&e) => Ok(Err(e)),
            Err(e) => Err(e),
        })
        .await?;
    match updated {
        Ok(c) => Ok(see_other(&format!("/contracts/{}?done=updated", c.id))),
        Err(e) => {
            let mut errors = Errors::default();
            errors.add(&e);
            Ok(form_page(&ctx, &title, &action, &form, &errors))
        }
    }
}

/// Only the CSRF token: disable and enable take nothing else.
#[derive(Debug, Deserialize)]
pub(super) struct Nothing {}

pub(super) async fn disable(Path(id): Path<String>, p: Posted<Nothing>) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Admin)?;
    let id = load(&ctx, contract_id(ctx.lang(), &id)?).await?.id;
    let (by, now) = (ctx.by().to_owned(), ctx.now());
    ctx.db(move |home| contracts::disable(home, &id.to_string(), &by, now)).await?;
    Ok(see_other(&format!("/contracts/{id}?done=disabled")))
}

pub(super) async fn enable(Path(id): Path<String>, p: Posted<Nothing>) -> Result<Response, Failure> {
    let ctx = p.ctx;
    ctx.require(Role::Admin)?;
    let c = load(&ctx, contract_id(ctx.lang(), &id)?).await?;
    if c.enabled {
        return Ok(see_other(&format!("/contracts/{}", c.id)));
    }
    let (by, now, id) = (ctx.by().to_owned(), ctx.now(), c.id);
    let changes = ContractChanges { enable: true, ..ContractChanges::default() };
    ctx.db(move |home| contracts::update(home, &id.to_string(), &changes, &by, now)).await?;
    Ok(see_other(&format!("/contracts/{id}?done=enabled")))
}
