//! The console's pages, one file per area. Each file's `routes` adds its
//! paths; every GET takes a [`Ctx`] (logged in, else sent to `/login`),
//! every POST a [`Posted`] form (CSRF token checked) and checks the role
//! before it acts.
//!
//! - `login`: `/login`, `/logout`, `/lang/{code}`.
//! - `dashboard`: `/`.
//! - `review`: `/review` (held requests), approve, reject, reissue.
//! - `contracts`: `/contracts`: search, view, add, edit, disable, CSV import.
//! - `licenses`: `/licenses`: search, view, download, resend, revoke, unbind.
//! - `audit`: `/audit`, `/audit.csv`.
//! - `outbox`: `/outbox`: status, retry.
//! - `staff`: `/staff` (admin): accounts, roles, passwords, lockouts.
//!
//! [`Ctx`]: super::ctx::Ctx
//! [`Posted`]: super::ctx::Posted

mod audit;
mod contracts;
mod dashboard;
mod licenses;
mod login;
mod outbox;
mod review;
mod staff;

use std::sync::Arc;

use axum::{
    Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::App;
use super::ctx::{Failure, Visitor};
use super::html::{CSS, CSS_PATH};

/// Every path of the console.
pub(crate) fn router(app: Arc<App>) -> Router {
    let r = Router::new().route(CSS_PATH, get(stylesheet));
    let r = login::routes(r);
    let r = dashboard::routes(r);
    let r = review::routes(r);
    let r = contracts::routes(r);
    let r = licenses::routes(r);
    let r = audit::routes(r);
    let r = outbox::routes(r);
    let r = staff::routes(r);
    r.fallback(not_found).with_state(app)
}

async fn stylesheet() -> Response {
    let mut r = CSS.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    r
}

async fn not_found(v: Visitor) -> Failure {
    Failure::not_found(v.lang)
}
