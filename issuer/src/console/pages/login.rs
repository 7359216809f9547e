//! Logging in and out, and the language switch.
//!
//! The login form has no session to tie its CSRF token to, so it is tied
//! to a cookie of its own (double submit): a page on another site can
//! neither read that cookie nor set the field to match it.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Form, Router,
    extract::{Path, Query},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use maud::{DOCTYPE, Markup, html};
use ring::rand::{SecureRandom as _, SystemRandom};
use serde::Deserialize;

use crate::console::App;
use crate::console::ctx::{
    Ctx, Failure, LOGIN_COOKIE, Posted, SESSION_COOKIE, Visitor, cookie, same_secret, see_other,
};
use crate::console::html::{CSS_PATH, lang_switch};
use crate::console::lang::{self, Lang};
use crate::staff::{self, LoginRefused};

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/lang/{code}", get(switch_lang))
}

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Where to go after logging in: a path of this console only (never
/// `//other.site` or `https://…`: no open redirect).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.starts_with("/login") => n,
        _ => "/",
    }
}

fn cookie_header(name: &str, value: &str, https: bool, extra: &str) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{extra}"))
        .unwrap_or_else(|_| HeaderValue::from_static("x=; Path=/"))
}

fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

fn form(v: &Visitor, csrf: &str, next: &str, name: &str, error: Option<&str>, status: StatusCode) -> Response {
    let l = v.lang;
    let page: Markup = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l.t("Log in", "登录")) " · fanlic" }
                link rel="stylesheet" href=(CSS_PATH);
            }
            body {
                main.narrow {
                    p.muted { (lang_switch(l, &v.target)) }
                    h1 { (l.t("fanlic staff console", "fanlic 员工控制台")) }
                    @if let Some(e) = error { p.error role="alert" id="login-error" { (e) } }
                    form.stack method="post" action="/login" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="next" value=(next);
                        label { (l.t("Name", "用户名"))
                            input type="text" name="username" id="username" value=(name) autocomplete="username" required autofocus; }
                        label { (l.t("Password", "密码"))
                            input type="password" name="password" id="password" autocomplete="current-password" required; }
                        button type="submit" id="login" { (l.t("Log in", "登录")) }
                    }
                }
            }
        }
    };
    let mut r = (status, page).into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie_header(LOGIN_COOKIE, csrf, v.https, ""));
    r
}

async fn login_page(v: Visitor, headers: axum::http::HeaderMap, Query(q): Query<Next>) -> Response {
    let csrf = match cookie(&headers, LOGIN_COOKIE) {
        Some(c) if c.len() == 64 => c.to_owned(),
        _ => random_token().unwrap_or_default(),
    };
    form(&v, &csrf, safe_next(q.next.as_deref()), "", None, StatusCode::OK)
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

impl core::fmt::Debug for LoginForm {
    // Never the password, should a form ever be logged.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LoginForm").field("username", &self.username).finish_non_exhaustive()
    }
}

async fn login(v: Visitor, headers: axum::http::HeaderMap, Form(f): Form<LoginForm>) -> Response {
    let l = v.lang;
    let next = safe_next(f.next.as_deref()).to_owned();
    match cookie(&headers, LOGIN_COOKIE) {
        Some(c) if !f.csrf.is_empty() && same_secret(c, &f.csrf) => {}
        _ => return Failure::csrf(l).into_response(),
    }
    let (name, client, now) = (f.username.clone(), v.client.to_string(), v.now);
    let password = zeroize::Zeroizing::new(f.password);
    let result = v.db(move |home| staff::login(home.store_mut(), &name, &password, &client, now)).await;
    match result {
        Ok(Ok(session)) => {
            let mut r = see_other(&next).into_response();
            let h = r.headers_mut();
            h.append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, &session.token, v.https, ""));
            h.append(header::SET_COOKIE, cookie_header(LOGIN_COOKIE, "", v.https, "; Max-Age=0"));
            r
        }
        Ok(Err(refused)) => {
            let msg = match (refused, l) {
                (LoginRefused::Locked { until }, Lang::Zh) => {
                    format!("登录失败次数过多，已暂时锁定，请在 {until} 之后再试，或请管理员解锁。")
                }
                (LoginRefused::Locked { until }, _) => {
                    format!("Too many failed logins: locked until {until}. Try again then, or ask an admin to unlock.")
                }
                (_, _) => l.t("Wrong name or password.", "用户名或密码错误。").to_owned(),
            };
            form(&v, &f.csrf, &next, &f.username, Some(&msg), StatusCode::UNAUTHORIZED)
        }
        Err(failure) => failure.into_response(),
    }
}

async fn logout(p: Posted<HashMap<String, String>>) -> Response {
    let ctx: Ctx = p.ctx;
    let (token, name, now) = (ctx.token.clone(), ctx.by().to_owned(), ctx.now());
    if let Err(f) = ctx.db(move |home| staff::logout(home.store_mut(), &token, &name, now)).await {
        return f.into_response();
    }
    let mut r = see_other("/login").into_response();
    r.headers_mut().append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, "", ctx.v.https, "; Max-Age=0"));
    r
}

#[derive(Debug, Deserialize)]
struct Back {
    back: Option<String>,
}

/// Sets the language cookie (a preference, not a change of any record)
/// and goes back.
async fn switch_lang(v: Visitor, Path(code): Path<String>, Query(q): Query<Back>) -> Response {
    let Some(chosen) = Lang::parse(&code) else { return Failure::not_found(v.lang).into_response() };
    let back = match q.back.as_deref() {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b,
        _ => "/",
    };
    let mut r = see_other(back).into_response();
    let secure = if v.https { "; Secure" } else { "" };
    if let Ok(c) = HeaderValue::from_str(&format!(
        "{}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
        lang::COOKIE,
        chosen.code()
    )) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}
