//! The accept loop: HTTP/1.1 with a header-read timeout (also the idle
//! timeout of a kept-alive connection), a cap on open connections in all
//! and per client, a time limit per connection, the security headers on
//! every answer, and a graceful stop on SIGINT or SIGTERM.

use crate::error::ServiceError;
use core::{convert::Infallible, fmt::Write as _, net::SocketAddr, time::Duration};
use std::{io::Write as _, sync::Arc, time::Instant};

use axum::{Router, extract::ConnectInfo, http::StatusCode, routing::get};

use super::handlers::{App, healthz, readyz, revocation_list, token_request};
use super::limits::Conns;
use super::log::{Outcome, log_request};
use super::pages::{secure_headers, security_header_list};
use super::{CONNECTION_MAX_SECS, REVOCATIONS_PATH, ServeOptions};
use crate::Error;

/// How long a stop waits for open requests.
const DRAIN_SECS: u64 = 10;

/// Accepts connections until SIGINT or SIGTERM, then lets open requests
/// finish (at most [`DRAIN_SECS`]).
pub(crate) async fn serve(opts: &ServeOptions, app: Arc<App>) -> Result<(), Error> {
    let listen_err = |source| Error::Service(ServiceError::Listen { addr: opts.listen.clone(), source });
    let listener = tokio::net::TcpListener::bind(&opts.listen).await.map_err(listen_err)?;
    let addr = listener.local_addr().map_err(listen_err)?;
    {
        let mut out = std::io::stdout().lock();
        match writeln!(out, "listening on http://{addr}").and_then(|()| out.flush()) {
            // Nobody reads the address (`fanlic serve | head -1` took it, or
            // never wanted it): the service serves all the same.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(Error::Output)?,
        }
    }
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(REVOCATIONS_PATH, get(revocation_list))
        .fallback(token_request)
        .with_state(Arc::clone(&app));
    // Our own accept loop (axum::serve has no header-read timeout and no
    // connection cap): hyper's HTTP/1.1 with a header-read timeout, which
    // runs from a connection's start and again after each response, so it is
    // also the idle timeout of a kept-alive connection.
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(opts.header_timeout_secs.max(1)))
        .keep_alive(true)
        .max_buf_size(16 * 1024);
    let conns = Arc::new(Conns::new(opts.max_connections, opts.max_connections_per_client));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = crate::util::signal::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors, or a connection reset before it
                // was accepted: wait a little rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // A trusted proxy carries many customers' connections: it meets
        // the total cap, and each customer is counted by its address below.
        let from_proxy = opts.trusted_proxies.contains(&peer.ip());
        let Some(slot) = Conns::enter(&conns, peer.ip(), !from_proxy) else {
            let out = Outcome {
                license_id: None,
                status: StatusCode::SERVICE_UNAVAILABLE,
                outcome: "too_many_connections",
                error: None,
            };
            // Refused before any request was read: no method, no path.
            log_request(&app.log, "-", "", peer.ip(), &out, Instant::now());
            tokio::spawn(refuse_connection(stream));
            continue;
        };
        let router = router.clone();
        let http = http.clone();
        let proxies = opts.trusted_proxies.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let svc = hyper::service::service_fn(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                // Behind a trusted proxy the client is the one it names.
                let client = if from_proxy {
                    crate::util::proxy::forwarded_for(req.headers(), &proxies).map_or(peer, |ip| SocketAddr::new(ip, 0))
                } else {
                    peer
                };
                req.extensions_mut().insert(ConnectInfo(client));
                let router = router.clone();
                async move {
                    use tower::ServiceExt as _;
                    let mut r = router.oneshot(req).await.unwrap_or_else(|never: Infallible| match never {});
                    secure_headers(r.headers_mut());
                    Ok::<_, Infallible>(r)
                }
            });
            let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let deadline = tokio::time::sleep(Duration::from_secs(CONNECTION_MAX_SECS));
            tokio::pin!(deadline);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.changed() => conn.as_mut().graceful_shutdown(),
                () = &mut deadline => conn.as_mut().graceful_shutdown(),
            }
            // A request in progress finishes; a connection that does not
            // end soon after is dropped.
            let _ = tokio::time::timeout(Duration::from_secs(DRAIN_SECS), conn).await;
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    let until = Instant::now() + Duration::from_secs(DRAIN_SECS + 1);
    while conns.open() > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Answers a connection over the cap with a 503 and closes it, giving the
/// client at most a second to take the answer.
async fn refuse_connection(stream: tokio::net::TcpStream) {
    let body = "Too many connections. Try again in a few seconds.\n";
    let mut head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in security_header_list() {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    head.push_str(body);
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let mut rest = head.as_bytes();
        while !rest.is_empty() && stream.writable().await.is_ok() {
            match stream.try_write(rest) {
                Ok(n) => rest = rest.get(n..).unwrap_or_default(),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
        }
    })
    .await;
}
