//! The page shell (navigation, language switch, who is logged in, log
//! out), the stylesheet, and small pieces pages share: times, pagination,
//! notices. maud escapes every value written into a page.

use fanlic_formats::Timestamp;
use maud::{DOCTYPE, Markup, html};

use super::lang::Lang;
use crate::store::Role;

/// Where the stylesheet is served (by the binary; nothing from elsewhere).
pub(crate) const CSS_PATH: &str = "/static/console.css";
/// The stylesheet.
pub(crate) const CSS: &str = include_str!("console.css");

/// The navigation: path, English, Chinese, the role that sees it.
const NAV: &[(&str, &str, &str, Role)] = &[
    ("/", "Dashboard", "概览", Role::Viewer),
    ("/review", "Review queue", "待审核", Role::Viewer),
    ("/contracts", "Contracts", "合同", Role::Viewer),
    ("/licenses", "Licenses", "许可证", Role::Viewer),
    ("/audit", "Audit", "审计", Role::Viewer),
    ("/outbox", "Outbox", "发件箱", Role::Viewer),
    ("/staff", "Staff", "员工", Role::Admin),
];

/// What the shell around every page of a logged-in account shows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chrome<'a> {
    pub(crate) lang: Lang,
    pub(crate) role: Role,
    /// The account's name.
    pub(crate) name: &'a str,
    /// The session's CSRF token (the logout form).
    pub(crate) csrf: &'a str,
    /// The path and query shown (the navigation marks it; the language
    /// switch comes back to it).
    pub(crate) target: &'a str,
}

/// The hidden CSRF field of a form.
pub(crate) fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// Percent-encodes a query component.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A whole page: head, navigation, `body` under an `h1` of `title`.
pub(crate) fn shell(c: &Chrome<'_>, title: &str, body: Markup) -> Markup {
    let lang = c.lang;
    let path = c.target.split('?').next().unwrap_or("/");
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · fanlic" }
                link rel="stylesheet" href=(CSS_PATH);
            }
            body {
                header.top {
                    a.brand href="/" { "fanlic" }
                    nav {
                        @for (href, en, zh, role) in NAV {
                            @if c.role.allows(*role) {
                                @let here = if *href == "/" { path == "/" } else { path.starts_with(href) };
                                a href=(href) class=[here.then_some("here")] { (lang.t(en, zh)) }
                            }
                        }
                    }
                    div.who {
                        (lang_switch(lang, c.target))
                        span.user title=(c.role.as_str()) { (c.name) " (" (role_name(lang, c.role)) ")" }
                        form.inline method="post" action="/logout" {
                            (csrf_input(c.csrf))
                            button.link type="submit" id="logout" { (lang.t("Log out", "退出")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The link that switches language and comes back to `back`.
pub(crate) fn lang_switch(lang: Lang, back: &str) -> Markup {
    let other = lang.other();
    html! {
        a.lang id="lang-switch" hreflang=(other.code())
            href={ "/lang/" (other.code()) "?back=" (encode_component(back)) } { (other.name()) }
    }
}

/// A role's name for people.
pub(crate) fn role_name(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Viewer => lang.t("viewer", "只读"),
        Role::Issuer => lang.t("issuer", "签发员"),
        _ => lang.t("admin", "管理员"),
    }
}

/// A time as people read it (UTC).
pub(crate) fn time(t: Timestamp) -> Markup {
    let s = t.to_string();
    let shown = s.replacen('T', " ", 1).replace('Z', " UTC");
    html! { time datetime=(s) { (shown) } }
}

/// A notice above a page's content: `ok` green, else red.
pub(crate) fn notice(ok: bool, text: &str) -> Markup {
    html! { p class=(if ok { "notice ok" } else { "notice error" }) role="status" { (text) } }
}

/// "Previous / Next" links for page `page` (from 1) of a list; `query` is
/// the list's other query parameters, already encoded (`q=acme&kind=held`).
pub(crate) fn pager(lang: Lang, path: &str, query: &str, page: u32, has_more: bool) -> Markup {
    let link = |p: u32| {
        if query.is_empty() { format!("{path}?page={p}") } else { format!("{path}?{query}&page={p}") }
    };
    html! {
        nav.pager {
            @if page > 1 { a rel="prev" href=(link(page - 1)) { "← " (lang.t("Previous", "上一页")) } }
            span { (lang.t("Page", "第")) " " (page) (lang.t("", " 页")) }
            @if has_more { a rel="next" href=(link(page + 1)) { (lang.t("Next", "下一页")) " →" } }
        }
    }
}

/// Rows per page of every list.
pub(crate) const PAGE_SIZE: u32 = 50;
