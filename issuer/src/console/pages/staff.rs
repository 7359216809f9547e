//! Staff accounts (admin only): add, disable or enable, change a role, set
//! a password, lift login lockouts. Every change goes through the staff
//! library, which checks it (password rules, the last admin) and audits it
//! under the admin who made it.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Path, Query},
    response::Response,
    routing::{get, post},
};
use maud::html;
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure, Posted, see_other};
use crate::console::html::{self, role_name};
use crate::console::lang::Lang;
use crate::staff;
use crate::store::Role;
use crate::store::staff::LoginKey;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/staff", get(page).post(add))
        .route("/staff/{name}/disable", post(disable))
        .route("/staff/{name}/enable", post(enable))
        .route("/staff/{name}/role", post(set_role))
        .route("/staff/{name}/password", post(set_password))
        .route("/staff/{name}/unlock", post(unlock))
}

/// A name as one path segment (every byte but letters, digits and `-_.~`
/// percent-encoded, `/` included).
fn seg(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
struct Done {
    done: Option<String>,
    name: Option<String>,
}

fn done_text(lang: Lang, done: &str, name: &str) -> Option<String> {
    let (en, zh) = match done {
        "added" => ("Account {} added.", "已添加账号 {}。"),
        "disabled" => ("Account {} disabled; its sessions ended.", "已停用账号 {}，其会话已结束。"),
        "enabled" => ("Account {} enabled.", "已启用账号 {}。"),
        "role" => ("The role of {} changed.", "已更改 {} 的角色。"),
        "password" => ("The password of {} changed; its sessions ended.", "已更改 {} 的密码，其会话已结束。"),
        "unlocked" => ("Lockouts of {} lifted.", "已解除 {} 的锁定。"),
        _ => return None,
    };
    Some(lang.t(en, zh).replace("{}", name))
}

async fn page(ctx: Ctx, Query(d): Query<Done>) -> Result<Response, Failure> {
    ctx.require(Role::Admin)?;
    let now = ctx.now();
    let (accounts, lockouts) = ctx
        .db(move |home| {
            let s = home.store();
            Ok((staff::list(s)?, staff::lockouts(s, now)?))
        })
        .await?;
    let notice = d.done.as_deref().and_then(|x| done_text(ctx.lang(), x, d.name.as_deref().unwrap_or_default()));
    let role_select = |name: &str, current: Option<Role>| {
        html! {
            select name=(name) {
                @for r in Role::ALL {
                    option value=(r.as_str()) selected[Some(r) == current] { (role_name(ctx.lang(), r)) }
                }
            }
        }
    };
    let body = html! {
        @if let Some(n) = notice { (html::notice(true, &n)) }
        h2 { (ctx.t("Accounts", "账号")) }
        div.table-wrap {
            table id="list" {
                thead { tr {
                    th { (ctx.t("Name", "用户名")) }
                    th { (ctx.t("Role", "角色")) }
                    th { (ctx.t("State", "状态")) }
                    th { (ctx.t("Created", "创建时间")) }
                    th { (ctx.t("Change", "修改")) }
                } }
                tbody {
                    @for a in &accounts {
                        @let base = format!("/staff/{}", seg(&a.name));
                        tr id={ "staff-" (a.name) } {
                            td { (a.name) }
                            td { (role_name(ctx.lang(), a.role)) }
                            td {
                                @if a.enabled { span.tag.ok { (ctx.t("enabled", "已启用")) } }
                                @else { span.tag.bad { (ctx.t("disabled", "已停用")) } }
                            }
                            td { (html::time(a.created_at)) }
                            td { div.actions {
                                @if a.enabled {
                                    form.inline method="post" action={ (base) "/disable" } {
                                        (ctx.csrf_input())
                                        button.danger type="submit" id={ "disable-" (a.name) } { (ctx.t("Disable", "停用")) }
                                    }
                                } @else {
                                    form.inline method="post" action={ (base) "/enable" } {
                                        (ctx.csrf_input())
                                        button type="submit" id={ "enable-" (a.name) } { (ctx.t("Enable", "启用")) }
                                    }
                                }
                                form.inline method="post" action={ (base) "/role" } {
                                    (ctx.csrf_input())
                                    (role_select("role", Some(a.role)))
                                    button.secondary type="submit" id={ "role-" (a.name) } { (ctx.t("Set role", "设置角色")) }
                                }
                                form.inline method="post" action={ (base) "/password" } {
                                    (ctx.csrf_input())
                                    input type="password" name="password" autocomplete="new-password" minlength="10"
                                        required aria-label=(ctx.t("New password", "新密码"))
                                        placeholder=(ctx.t("new password", "新密码"));
                                    button.secondary type="submit" id={ "password-" (a.name) } { (ctx.t("Set password", "设置密码")) }
                                }
                            } }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("Lockouts in force", "生效中的登录锁定")) }
        @if lockouts.is_empty() {
            p.muted { (ctx.t("None.", "无。")) }
        } @else {
            div.table-wrap {
                table id="lockouts" {
                    thead { tr {
                        th { (ctx.t("Locked", "被锁定")) }
                        th { (ctx.t("Failed logins", "失败次数")) }
                        th { (ctx.t("Until", "直到")) }
                        th {}
                    } }
                    tbody {
                        @for (i, l) in lockouts.iter().enumerate() {
                            tr {
                                @if l.kind == LoginKey::Client {
                                    td { (ctx.t("address", "地址")) " " (l.key) }
                                    td { (l.failures) }
                                    td { (html::time(l.until)) }
                                    td {
                                        form.inline method="post" action="/staff/-/unlock" {
                                            (ctx.csrf_input())
                                            input type="hidden" name="client" value=(l.key);
                                            button type="submit" id={ "unlock-client-" (i) } { (ctx.t("Unlock", "解锁")) }
                                        }
                                    }
                                } @else {
                                    td { (ctx.t("name", "用户名")) " " (l.key) }
                                    td { (l.failures) }
                                    td { (html::time(l.until)) }
                                    td {
                                        form.inline method="post" action={ "/staff/" (seg(&l.key)) "/unlock" } {
                                            (ctx.csrf_input())
                                            button type="submit" id={ "unlock-" (l.key) } { (ctx.t("Unlock", "解锁")) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t("Add an account", "添加账号")) }
        form.stack method="post" action="/staff" {
            (ctx.csrf_input())
            label { (ctx.t("Name", "用户名")) input type="text" name="name" required autocomplete="off"; }
            label { (ctx.t("Role", "角色")) (role_select("role", Some(Role::Viewer))) }
            label { (ctx.t("Password (at least 10 characters)", "密码（至少 10 个字符）"))
                input type="password" name="password" minlength="10" required autocomplete="new-password"; }
            button type="submit" id="add" { (ctx.t("Add", "添加")) }
        }
    };
    Ok(ctx.page(ctx.t("Staff", "员工"), body))
}

#[derive(Deserialize)]
struct AddForm {
    name: String,
    role: String,
    password: String,
}

impl core::fmt::Debug for AddForm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AddForm").field("name", &self.name).field("role", &self.role).finish_non_exhaustive()
    }
}

fn role_of(ctx: &Ctx, s: &str) -> Result<Role, Failure> {
    Role::parse(s.trim()).ok_or_else(|| {
        Failure::new(
            axum::http::StatusCode::BAD_REQUEST,
            ctx.t("Not done", "未完成"),
            ctx.t("Unknown role.", "未知角色。"),
        )
    })
}

fn done(what: &str, name: &str) -> Response {
    see_other(&format!("/staff?done={what}&name={}", seg(name)))
}

async fn add(p: Posted<AddForm>) -> Result<Response, Failure> {
    p.ctx.require(Role::Admin)?;
    let role = role_of(&p.ctx, &p.form.role)?;
    let (by, now) = (p.ctx.by().to_owned(), p.ctx.now());
    let AddForm { name, password, .. } = p.form;
    let password = Zeroizing::new(password);
    let a = p.ctx.db(move |home| staff::add(home.store_mut(), &name, role, &password, &by, now)).await?;
    Ok(done("added", &a.name))
}

/// A form with nothing but the CSRF token.
#[derive(Debug, Deserialize)]
struct Empty {}

async fn disable(Path(name): Path<String>, p: Posted<Empty>) -> Result<Response, Failure> {
    enabled(name, p, false).await
}

async fn enable(Path(name): Path<String>, p: Posted<Empty>) -> Result<Response, Failure> {
    enabled(name, p, true).await
}

async fn enabled(name: String, p: Posted<Empty>, on: bool) -> Result<Response, Failure> {
    p.ctx.require(Role::Admin)?;
    let (by, now) = (p.ctx.by().to_owned(), p.ctx.now());
    let n = name.clone();
    p.ctx.db(move |home| staff::set_enabled(home.store_mut(), &n, on, &by, now)).await?;
    Ok(done(if on { "enabled" } else { "disabled" }, &name))
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
}

async fn set_role(Path(name): Path<String>, p: Posted<RoleForm>) -> Result<Response, Failure> {
    p.ctx.require(Role::Admin)?;
    let role = role_of(&p.ctx, &p.form.role)?;
    let (by, now) = (p.ctx.by().to_owned(), p.ctx.now());
    let n = name.clone();
    p.ctx.db(move |home| staff::set_role(home.store_mut(), &n, role, &by, now)).await?;
    Ok(done("role", &name))
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
}

impl core::fmt::Debug for PasswordForm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PasswordForm").finish_non_exhaustive()
    }
}

async fn set_password(Path(name): Path<String>, p: Posted<PasswordForm>) -> Result<Response, Failure> {
    p.ctx.require(Role::Admin)?;
    let (by, now) = (p.ctx.by().to_owned(), p.ctx.now());
    let n = name.clone();
    let password = Zeroizing::new(p.form.password);
    p.ctx.db(move |home| staff::set_password(home.store_mut(), &n, &password, &by, now)).await?;
    Ok(done("password", &name))
}

#[derive(Debug, Deserialize)]
struct UnlockForm {
    /// A client address to unlock as well.
    client: Option<String>,
}

async fn unlock(Path(name): Path<String>, p: Posted<UnlockForm>) -> Result<Response, Failure> {
    p.ctx.require(Role::Admin)?;
    let (by, now) = (p.ctx.by().to_owned(), p.ctx.now());
    let client = p.form.client.filter(|c| !c.trim().is_empty());
    let n = name.clone();
    let shown = client.clone().unwrap_or_else(|| name.clone());
    p.ctx.db(move |home| staff::unlock(home.store_mut(), &n, client.as_deref(), &by, now).map(drop)).await?;
    Ok(done("unlocked", &shown))
}
