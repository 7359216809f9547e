//! What a request brings to a handler: who is logged in ([`Ctx`], from the
//! session cookie; anyone else is sent to the login page), the form of a
//! POST with its CSRF token checked ([`Posted`]), the language, the client
//! address, and how a handler fails ([`Failure`]).

use core::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use fanlic_formats::Timestamp;
use maud::{Markup, html};
use serde::de::DeserializeOwned;

use super::App;
use super::html::encode_component;
use super::lang::{self, Lang};
use crate::store::{Role, StaffSession};
use crate::util::clock;
use crate::{Error, Home};

/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "fanlic_session";
/// The login form's own CSRF cookie (there is no session yet).
pub(crate) const LOGIN_COOKIE: &str = "fanlic_login";
/// The form field every POST carries.
pub(crate) const CSRF_FIELD: &str = "csrf";
/// Largest form body accepted (a CSV import is the largest).
pub(crate) const MAX_FORM_BYTES: usize = 8 * 1024 * 1024;

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('='))
}

/// Compares two secrets in time that depends only on their lengths.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Marks a request that came over the console's own TLS (the accept loop
/// inserts it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct OverTls;

/// Whoever sent a request, logged in or not: its language, its address,
/// whether it came over TLS.
#[derive(Clone, Debug)]
pub(crate) struct Visitor {
    pub(crate) app: Arc<App>,
    pub(crate) lang: Lang,
    /// The client's address (a trusted proxy's `X-Forwarded-For` resolved).
    pub(crate) client: IpAddr,
    /// Over TLS (ours, or a trusted proxy's `X-Forwarded-Proto: https`).
    pub(crate) https: bool,
    /// The path and query asked for (where to come back after logging in).
    pub(crate) target: String,
    /// When the request is answered.
    pub(crate) now: Timestamp,
}

impl FromRequestParts<Arc<App>> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let peer = peer.unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let from_proxy = app.opts.trusted_proxies.contains(&peer);
        let client = if from_proxy {
            crate::util::proxy::forwarded_for(&parts.headers, &app.opts.trusted_proxies).unwrap_or(peer)
        } else {
            peer
        };
        let tls = parts.extensions.get::<OverTls>().is_some();
        let proxied_https = from_proxy
            && parts
                .headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
        let lang = Lang::choose(
            cookie(&parts.headers, lang::COOKIE),
            parts.headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
        );
        let target = parts.uri.path_and_query().map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let now = clock::now().map_err(|e| Failure::internal(lang, &e).into_response())?;
        Ok(Self { app: Arc::clone(app), lang, client, https: tls || proxied_https, target, now })
    }
}

/// A logged-in request: the session, its account and role. Anyone without
/// a session is sent to `/login` and back here after logging in.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) v: Visitor,
    pub(crate) session: StaffSession,
    /// The cookie's token (to log out).
    pub(crate) token: String,
}

impl FromRequestParts<Arc<App>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let v = Visitor::from_request_parts(parts, app).await?;
        let token = cookie(&parts.headers, SESSION_COOKIE).map(str::to_owned);
        let limits = (app.opts.idle_minutes.max(1) * 60, super::SESSION_MAX_HOURS * 3600);
        let session = match token.clone() {
            // A token is 64 hex digits; anything else is not looked up.
            Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let now = v.now;
                v.db(move |home| crate::staff::session(home.store_mut(), &t, now, limits))
                    .await
                    .map_err(IntoResponse::into_response)?
            }
            _ => None,
        };
        match (session, token) {
            (Some(session), Some(token)) => Ok(Self { v, session, token }),
            _ => Err(see_other(&format!("/login?next={}", encode_component(&v.target)))),
        }
    }
}

/// A 303 to `location` (a path of the console). Bytes a header cannot hold
/// are percent-encoded, so no path makes this fail.
pub(crate) fn see_other(location: &str) -> Response {
    let mut safe = String::with_capacity(location.len());
    for b in location.bytes() {
        if (0x21..0x7f).contains(&b) {
            safe.push(char::from(b));
        } else {
            safe.push_str(&format!("%{b:02X}"));
        }
    }
    let value = axum::http::HeaderValue::from_str(&safe).unwrap_or(axum::http::HeaderValue::from_static("/"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response()
}

impl Visitor {
    /// Runs `f` on the home, on a blocking thread.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Home) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Failure> {
        let app = Arc::clone(&self.app);
        let lang = self.lang;
        match tokio::task::spawn_blocking(move || {
            let mut home = app.home.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut home)
        })
        .await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(Failure::of(lang, &e)),
            Err(_) => Err(Failure::new(StatusCode::INTERNAL_SERVER_ERROR, lang.t("Internal error", "内部错误"), "")),
        }
    }
}

impl Ctx {
    /// The language.
    pub(crate) fn lang(&self) -> Lang {
        self.v.lang
    }

    /// The text in the reader's language.
    pub(crate) fn t(&self, en: &'static str, zh: &'static str) -> &'static str {
        self.v.lang.t(en, zh)
    }

    /// Who acts: the audit trail's `by`.
    pub(crate) fn by(&self) -> &str {
        &self.session.name
    }

    /// The role of the logged-in account.
    pub(crate) fn role(&self) -> Role {
        self.session.role
    }

    /// When the request is answered.
    pub(crate) fn now(&self) -> Timestamp {
        self.v.now
    }

    /// Refused (403) unless the account's role allows `needed`.
    pub(crate) fn require(&self, needed: Role) -> Result<(), Failure> {
        if self.session.role.allows(needed) {
            return Ok(());
        }
        let detail = match self.lang() {
            Lang::Zh => format!("此操作需要 {needed} 角色；您的账号 {} 是 {}。请联系管理员。", self.by(), self.role()),
            _ => format!("This needs the {needed} role; your account {} is {}. Ask an admin.", self.by(), self.role()),
        };
        Err(Failure::new(StatusCode::FORBIDDEN, self.t("Not allowed", "无权操作"), detail))
    }

    /// Runs `f` on the home, on a blocking thread.
    pub(crate) async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Home) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Failure> {
        self.v.db(f).await
    }

    /// The hidden CSRF field every form of this session carries.
    pub(crate) fn csrf_input(&self) -> Markup {
        super::html::csrf_input(&self.session.csrf)
    }

    /// Refused (403) unless `token` is this session's CSRF token.
    pub(crate) fn check_csrf(&self, token: Option<&str>) -> Result<(), Failure> {
        match token {
            Some(t) if same_secret(t, &self.session.csrf) => Ok(()),
            _ => Err(Failure::csrf(self.lang())),
        }
    }

    /// A page in the console's shell.
    pub(crate) fn page(&self, title: &str, body: Markup) -> Response {
        let chrome = super::html::Chrome {
            lang: self.lang(),
            role: self.role(),
            name: self.by(),
            csrf: &self.session.csrf,
            target: &self.v.target,
        };
        super::html::shell(&chrome, title, body).into_response()
    }
}

/// A POST from a logged-in account whose CSRF token matched: the form,
/// typed. The role is checked by the handler ([`Ctx::require`]), before it
/// acts.
#[derive(Debug)]
pub(crate) struct Posted<T> {
    pub(crate) ctx: Ctx,
    pub(crate) form: T,
}

impl<T: DeserializeOwned> FromRequest<Arc<App>> for Posted<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, app).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|_| {
            Failure::new(StatusCode::PAYLOAD_TOO_LARGE, ctx.t("Too large", "内容过大"), "").into_response()
        })?;
        let token = form_field(&bytes, CSRF_FIELD);
        ctx.check_csrf(token.as_deref()).map_err(IntoResponse::into_response)?;
        let form = serde_urlencoded::from_bytes::<T>(&bytes).map_err(|e| {
            Failure::new(StatusCode::BAD_REQUEST, ctx.t("The form is not valid", "表单无效"), e.to_string())
                .into_response()
        })?;
        Ok(Self { ctx, form })
    }
}

/// One field of an `application/x-www-form-urlencoded` body.
pub(crate) fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Why a request failed, as a page in the reader's language.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: StatusCode,
    pub(crate) title: String,
    pub(crate) detail: String,
}

impl Failure {
    /// A failure with a title and a detail.
    pub(crate) fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> Self {
        Self { status, title: title.to_owned(), detail: detail.into() }
    }

    /// Not found (404).
    pub(crate) fn not_found(lang: Lang) -> Self {
        Self::new(StatusCode::NOT_FOUND, lang.t("Not found", "未找到"), "")
    }

    /// A POST without this session's CSRF token (403).
    pub(crate) fn csrf(lang: Lang) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            lang.t("The form has expired", "表单已失效"),
            lang.t(
                "This form did not come from your open console page (missing or old security token). Go back, reload the page and try again.",
                "此表单不是来自您当前打开的控制台页面（安全令牌缺失或已过期）。请返回并刷新页面后重试。",
            ),
        )
    }

    /// An error of the issuer: what the user can fix is a 400 with its
    /// message (our messages say what to do and hold no secret), the rest a 500.
    pub(crate) fn of(lang: Lang, e: &Error) -> Self {
        let status = match e {
            Error::InvalidInput { .. }
            | Error::Contract(_)
            | Error::Revoke(_)
            | Error::Staff(_)
            | Error::OutputExists { .. } => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let title = if status == StatusCode::BAD_REQUEST {
            lang.t("Not done", "未完成")
        } else {
            lang.t("Internal error", "内部错误")
        };
        Self::new(status, title, crate::util::text::error_chain(e))
    }

    /// An internal error (500).
    pub(crate) fn internal(lang: Lang, e: &Error) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, lang.t("Internal error", "内部错误"), e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let page = html! {
            (maud::DOCTYPE)
            html {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (self.title) }
                    link rel="stylesheet" href=(super::html::CSS_PATH);
                }
                body {
                    main.narrow {
                        h1 { (self.title) }
                        @if !self.detail.is_empty() { p.error { (self.detail) } }
                        p { a href="/" { "← fanlic" } }
                    }
                }
            }
        };
        (self.status, page).into_response()
    }
}
