//! The dashboard: what waits for staff.

use std::sync::Arc;

use axum::{Router, response::Response, routing::get};
use maud::html;

use crate::console::App;
use crate::console::ctx::{Ctx, Failure};

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r.route("/", get(dashboard))
}

async fn dashboard(ctx: Ctx) -> Result<Response, Failure> {
    let held = ctx.db(|home| Ok(home.store().read(|tx| tx.held_decisions())?.len())).await?;
    let body = html! {
        div.cards {
            a.card href="/review" id="held-count" {
                span.n { (held) }
                span.what { (ctx.t("held requests waiting", "待审核的申请")) }
            }
        }
    };
    Ok(ctx.page(ctx.t("Dashboard", "概览"), body))
}
