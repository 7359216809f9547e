//! The audit trail: filter, pages, CSV export.

use std::sync::Arc;

use axum::Router;

use crate::console::App;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r
}
