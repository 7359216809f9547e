//! Licenses: the list (search by company, project, license id, contract
//! address; by state; live ones expiring soon), a license's page (terms,
//! binding, activations, revocation, supersession, the mail it came from,
//! its audit trail) and what staff do with one: download `Container.lic`
//! or the private cloud's image (issuer and admin: bearer files), send its
//! mail again (issuer), revoke or unbind it (admin).

mod actions;
mod detail;
mod list;

use std::sync::Arc;

use axum::{
    Router,
    routing::{get, post},
};

use crate::console::App;
use crate::console::lang::Lang;
use crate::store::LicenseState;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/licenses", get(list::list))
        .route("/licenses/{id}", get(detail::page))
        .route("/licenses/{id}/Container.lic", get(actions::download))
        .route("/licenses/{id}/image", get(actions::image))
        .route("/licenses/{id}/resend", post(actions::resend))
        .route("/licenses/{id}/revoke", post(actions::revoke))
        .route("/licenses/{id}/unbind", post(actions::unbind))
}

/// A license id from a path: 32 hex digits, lowercased; anything else is
/// no license (a 404, never a query).
fn license_id(given: &str) -> Option<String> {
    (given.len() == 32 && given.bytes().all(|b| b.is_ascii_hexdigit())).then(|| given.to_ascii_lowercase())
}

/// A state's name for people.
fn state_name(lang: Lang, state: Option<LicenseState>) -> &'static str {
    match state {
        Some(LicenseState::Live) => lang.t("live", "生效"),
        Some(LicenseState::Revoked) => lang.t("revoked", "已吊销"),
        Some(LicenseState::Superseded) => lang.t("superseded", "已被取代"),
        Some(LicenseState::Duplicate) => lang.t("duplicate", "重复"),
        _ => lang.t("unknown", "未知"),
    }
}

/// The tag class of a state: green when in force, red when not.
fn state_class(state: Option<LicenseState>) -> &'static str {
    match state {
        Some(LicenseState::Live) => "tag ok",
        Some(LicenseState::Duplicate) => "tag",
        _ => "tag bad",
    }
}

/// A license kind's name for people.
fn kind_name(lang: Lang, kind: &str) -> &'static str {
    match kind {
        "local-container" => lang.t("local container", "本地容器"),
        "private-cloud" => lang.t("private cloud", "私有云"),
        _ => lang.t("other", "其他"),
    }
}
