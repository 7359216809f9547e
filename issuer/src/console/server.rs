//! The console's accept loop: HTTP/1.1 (over TLS when a certificate is
//! given), a header-read timeout, the security headers on every answer,
//! and a graceful stop on SIGINT or SIGTERM.

use core::{convert::Infallible, time::Duration};
use std::{io::Write as _, path::Path, sync::Arc, time::Instant};

use axum::{
    extract::ConnectInfo,
    http::{HeaderMap, HeaderValue},
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject as _};
use tokio_rustls::TlsAcceptor;

use super::App;
use super::ctx::OverTls;
use crate::Error;
use crate::error::ConsoleError;

/// How long a stop waits for open requests.
const DRAIN_SECS: u64 = 10;
/// Seconds a client has to send a request's headers (also the keep-alive idle time).
const HEADER_TIMEOUT_SECS: u64 = 30;
/// Seconds a connection may last in all.
const CONNECTION_MAX_SECS: u64 = 600;

/// What every answer carries: no framing (clickjacking), only the
/// console's own stylesheet and forms (no script at all), no sniffing, no
/// referrer leaving the console, nothing cached (pages show license terms
/// and customers' mail).
pub(crate) const SECURITY_HEADERS: [(&str, &str); 6] = [
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
];

fn secure_headers(headers: &mut HeaderMap, tls: bool) {
    for (name, value) in SECURITY_HEADERS {
        // A handler that set its own (a cached stylesheet) keeps it.
        if name != "Cache-Control" || !headers.contains_key(name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if tls {
        headers.insert("Strict-Transport-Security", HeaderValue::from_static("max-age=31536000"));
    }
}

/// Loads the certificate chain and private key (PEM) for HTTPS.
pub(crate) fn tls_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, Error> {
    let bad = |path: &Path, why: String| Error::Console(ConsoleError::Tls { path: path.to_owned(), why });
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, format!("cannot read the certificate chain: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, format!("not a PEM certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(bad(cert, "holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)".to_owned()));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        bad(key, format!("not a PEM private key (PKCS#8, PKCS#1 or SEC1 `BEGIN ... PRIVATE KEY`): {e}"))
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, format!("TLS setup failed: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, private)
        .map_err(|e| bad(key, format!("the key does not go with the certificate, or is not supported: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Accepts connections until SIGINT or SIGTERM, then lets open requests
/// finish (at most [`DRAIN_SECS`]).
pub(crate) async fn serve(app: Arc<App>, tls: Option<Arc<rustls::ServerConfig>>) -> Result<(), Error> {
    let listen = app.opts.listen.clone();
    let listen_err = |source| Error::Console(ConsoleError::Listen { addr: listen.clone(), source });
    let listener = tokio::net::TcpListener::bind(&listen).await.map_err(listen_err)?;
    let addr = listener.local_addr().map_err(listen_err)?;
    {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let mut out = std::io::stdout().lock();
        match writeln!(out, "listening on {scheme}://{addr}").and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.map_err(Error::Output)?,
        }
    }
    let router = super::pages::router(Arc::clone(&app));
    let acceptor = tls.map(TlsAcceptor::from);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(Duration::from_secs(HEADER_TIMEOUT_SECS))
        .keep_alive(true)
        .max_buf_size(64 * 1024);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let open = Arc::new(core::sync::atomic::AtomicUsize::new(0));
    let shutdown = crate::util::signal::shutdown_signal();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Answers are written whole: no waiting for the client's delayed
        // acknowledgement before the last small piece (a streamed CSV's end).
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let http = http.clone();
        let acceptor = acceptor.clone();
        let mut stop = stop_rx.clone();
        let open = Arc::clone(&open);
        open.fetch_add(1, core::sync::atomic::Ordering::SeqCst);
        tokio::spawn(async move {
            let over_tls = acceptor.is_some();
            let svc = hyper::service::service_fn(move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                if over_tls {
                    req.extensions_mut().insert(OverTls);
                }
                let router = router.clone();
                async move {
                    use tower::ServiceExt as _;
                    let mut r = router.oneshot(req).await.unwrap_or_else(|never: Infallible| match never {});
                    secure_headers(r.headers_mut(), over_tls);
                    Ok::<_, Infallible>(r)
                }
            });
            match acceptor {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(HEADER_TIMEOUT_SECS), acceptor.accept(stream));
                    if let Ok(Ok(tls)) = handshake.await {
                        let conn = http.serve_connection(hyper_util::rt::TokioIo::new(tls), svc);
                        drive(conn, &mut stop).await;
                    }
                }
                None => {
                    let conn = http.serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    drive(conn, &mut stop).await;
                }
            }
            open.fetch_sub(1, core::sync::atomic::Ordering::SeqCst);
        });
    }
    let _ = stop_tx.send(true);
    drop(listener);
    let until = Instant::now() + Duration::from_secs(DRAIN_SECS + 1);
    while open.load(core::sync::atomic::Ordering::SeqCst) > 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// Serves one connection until it ends, the console stops, or it has lasted
/// [`CONNECTION_MAX_SECS`].
async fn drive<I, S>(conn: hyper::server::conn::http1::Connection<I, S>, stop: &mut tokio::sync::watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::HttpService<hyper::body::Incoming, ResBody = axum::body::Body> + Send,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    tokio::pin!(conn);
    let deadline = tokio::time::sleep(Duration::from_secs(CONNECTION_MAX_SECS));
    tokio::pin!(deadline);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = stop.changed() => conn.as_mut().graceful_shutdown(),
        () = &mut deadline => conn.as_mut().graceful_shutdown(),
    }
    let _ = tokio::time::timeout(Duration::from_secs(DRAIN_SECS), conn).await;
}
