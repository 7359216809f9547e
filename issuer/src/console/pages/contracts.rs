//! Contracts: search, view with history, add, edit, disable, CSV import.

use std::sync::Arc;

use axum::Router;

use crate::console::App;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r
}
