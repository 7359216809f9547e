//! The stop of a server: `fanlic serve` and `fanlic console` both end their
//! accept loop on SIGINT (Ctrl-C) or SIGTERM and let answers in flight finish.

/// Resolves on the first SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            // No SIGTERM handler: Ctrl-C still stops it.
            Err(_) => core::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}
