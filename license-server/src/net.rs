//! The connection loop: HTTP/1.1 over the TLS listener, with the limits a
//! server on a customer's network needs against slow or greedy clients.
//!
//! - A request's headers must arrive within [`HEADER_READ_TIMEOUT`] of the
//!   connection being ready for them, which also bounds how long an idle
//!   keep-alive connection stays open (hyper starts that timer whenever it
//!   waits for a request head): a slowloris client is cut off.
//! - A request (body included) is handled within [`REQUEST_TIMEOUT`], and a
//!   body is at most [`MAX_BODY_BYTES`] (`crate::http`).
//! - At most [`MAX_CONNECTIONS`] connections, at most
//!   [`MAX_CONNECTIONS_PER_CLIENT`] from one address: an extra connection
//!   is closed at once, so one stranger cannot take every slot and the
//!   admin (another address) is still served.

use core::{
    future::Future,
    net::{IpAddr, SocketAddr},
    time::Duration,
};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{Extension, Router, extract::ConnectInfo, serve::Listener as _};
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    service::TowerToHyperService,
};
use serde_json::json;

pub use crate::limits::{
    HEADER_READ_TIMEOUT, MAX_BODY_BYTES, MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT, REQUEST_TIMEOUT,
};
use crate::{
    log::log_line,
    tls::{ClientAddr, TlsListener},
};

/// How long a graceful stop waits for open requests.
const DRAIN: Duration = Duration::from_secs(5);

/// Counts open connections, in total and per address.
#[derive(Debug, Default)]
struct Slots {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// A connection's slot, given back when dropped.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    client: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.per_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.per_client.remove(&self.client);
            }
        }
    }
}

fn take_slot(slots: &Arc<Mutex<Slots>>, client: IpAddr) -> Option<Slot> {
    let mut s = slots.lock().unwrap_or_else(PoisonError::into_inner);
    let mine = s.per_client.get(&client).copied().unwrap_or(0);
    if s.total >= MAX_CONNECTIONS || mine >= MAX_CONNECTIONS_PER_CLIENT {
        return None;
    }
    s.total += 1;
    *s.per_client.entry(client).or_insert(0) += 1;
    Some(Slot { slots: Arc::clone(slots), client })
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// requests finish (at most a few seconds).
pub async fn serve(mut listener: TlsListener, app: Router, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Mutex::new(Slots::default()));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut shutdown = core::pin::pin!(shutdown);
    loop {
        let (io, addr): (_, SocketAddr) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut shutdown => break,
        };
        // Reap finished connections so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let Some(slot) = take_slot(&slots, addr.ip()) else {
            log_line(
                &json!({"event": "connection_refused", "client": addr.to_string(), "reason": "too many connections"}),
            );
            drop(io);
            continue;
        };
        let app = app.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let _slot = slot;
            let service = TowerToHyperService::new(app.layer(Extension(ConnectInfo(ClientAddr(addr)))));
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(io), service);
            let mut conn = core::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(DRAIN, conn).await;
                }
            }
        });
    }
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(DRAIN, async { while tasks.join_next().await.is_some() {} }).await;
}
