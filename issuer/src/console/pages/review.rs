//! The review queue: held requests, approve, reject, reissue.

use std::sync::Arc;

use axum::Router;

use crate::console::App;

pub(super) fn routes(r: Router<Arc<App>>) -> Router<Arc<App>> {
    r
}
