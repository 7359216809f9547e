//! One application node (FineReport by default) against a running
//! authorization server, as the product does it (SPEC.md §7.3, §7.5, §7.7):
//! it registers, sends a heartbeat every `--interval` seconds (7200 in
//! production), and checks every answer along root key → issuing key →
//! server license → image key → instance key with the verifier's `Client`
//! (nonce echo, instance key pinned). Before it sends anything on a TLS
//! connection it checks the server's TLS binding: the instance key's
//! signature over the TLS key the handshake proved. The instance key is
//! pinned on first use (the first binding accepted along the vendor's
//! chain), kept in `--pin-file` when given.
//!
//! ```sh
//! cargo run -p fanlic-license-server --example application -- \
//!     --server https://127.0.0.1:18081 --root-key license/root-keys.pem \
//!     --join-secret config/join-secret \
//!     --app FineReport --version 11.0.20 --project webroot \
//!     --interval 5 --count 3 --deregister
//! ```
//!
//! Exit status: 0 when done (`--count`), 1 when the server refuses a request
//! or an answer is refused, 2 when the first registration cannot reach the
//! server. Later outages are retried every `min(300 s, --interval)`, as a
//! product does, until the registration fails 24 hours after the last answer.
//! A TLS key without a valid binding (`tls_binding_refused`: a machine in the
//! middle, another copy of the server) ends with exit status 1, having sent
//! nothing on that connection.
#![forbid(unsafe_code)]

use core::time::Duration;
use std::{
    collections::BTreeSet,
    io::{BufReader, Write as _},
    net::{TcpStream, ToSocketAddrs as _},
    path::PathBuf,
    process::ExitCode,
    sync::{Arc, Mutex, PoisonError},
};

use anyhow::{Context as _, bail};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use clap::Parser;
use fanlic_formats::{
    LicenseKind, Timestamp,
    private_cloud::{AnswerKind, instance_fingerprint},
};
use fanlic_license_server::{
    hex,
    keys::{load_root_keys, random},
    now, parse_hex16,
    tls::spki_sha256,
};
use fanlic_verifier::{
    Environment, RootKey,
    private_cloud::{Client, JoinSecret, Next, RETRY_SECS, Request, RequestKey, Status},
};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned,
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime},
};
use serde_json::{Value, json};

/// "a product SHOULD wait at most 300 seconds" for an answer (SPEC.md §7.5).
const ANSWER_TIMEOUT: Duration = Duration::from_secs(RETRY_SECS);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Plays one FanRuan application node against an authorization server.
#[derive(Debug, Parser)]
struct Cli {
    /// The authorization server.
    #[arg(long, default_value = "https://127.0.0.1:18081")]
    server: String,
    /// The vendor root public key (PEM), repeatable.
    #[arg(long = "root-key", required = true)]
    root_keys: Vec<PathBuf>,
    /// The cluster's join secret (a file of 64 hex digits): shown on the
    /// server's page once activation succeeds, and in its config folder as
    /// `join-secret`. Every request carries a MAC under it (SPEC.md §7.3).
    #[arg(long = "join-secret", required = true)]
    join_secret: PathBuf,
    #[arg(long, default_value = "FineReport")]
    app: String,
    #[arg(long, default_value = "11.0.20")]
    version: String,
    #[arg(long)]
    project: String,
    /// 32 lowercase hex digits; random by default.
    #[arg(long)]
    node_id: Option<String>,
    /// Seconds between heartbeats (7200 in production; smaller for demos).
    #[arg(long, default_value_t = 7200)]
    interval: u64,
    /// Heartbeats to send, then exit; forever by default.
    #[arg(long)]
    count: Option<u64>,
    /// Deregister at the end.
    #[arg(long)]
    deregister: bool,
    /// One JSON object a line per event.
    #[arg(long)]
    json: bool,
    /// Keeps the pinned instance key (64 hex digits) across runs: read at
    /// start when it exists, written once a first binding pins one.
    #[arg(long)]
    pin_file: Option<PathBuf>,
}

/// Accepts any certificate at the handshake, and still checks the
/// handshake signature with the certificate's key, so the peer proves it
/// holds that key. Trust comes after the handshake and before any request:
/// the TLS binding (SPEC.md §7.7) must name this key under the pinned
/// instance key, along the vendor's chain. A certificate authority or a
/// browser warning would say nothing here: the certificate is self-signed.
#[derive(Debug)]
struct BindingChecked {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for BindingChecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// SHA-256 of the SubjectPublicKeyInfo of a certificate.
fn certificate_spki_sha256(der: &[u8]) -> Option<[u8; 32]> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(spki_sha256(cert.public_key().raw))
}

/// Why a request got no answer to check.
enum Failure {
    /// No TCP connection.
    Unreachable(String),
    /// The connection's TLS key has no valid binding: nothing was sent.
    Unbound { code: &'static str, message: String },
    /// TLS or HTTP went wrong after connecting.
    Protocol(String),
    /// The server said no (403 with every cause, or 400).
    Refused { status: u16, causes: Vec<Value> },
}

struct Connector {
    url: String,
    host_port: String,
    name: ServerName<'static>,
    config: Arc<ClientConfig>,
    /// TLS keys (SPKI SHA-256) whose binding the pinned instance key signed.
    bound: Mutex<BTreeSet<[u8; 32]>>,
}

impl Connector {
    fn new(url: &str) -> anyhow::Result<Self> {
        let host_port = url
            .strip_prefix("https://")
            .context("--server must be https://HOST:PORT (the authorization server speaks HTTPS only)")?
            .trim_end_matches('/')
            .to_owned();
        let host = match host_port.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => h,
            _ => bail!("--server must name the port: https://HOST:PORT (18081 by default on the server)"),
        };
        let name = ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_owned())
            .with_context(|| format!("{host} is not a host name or IP address"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = Arc::new(BindingChecked { provider: Arc::clone(&provider) });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier as Arc<dyn ServerCertVerifier>)
            .with_no_client_auth();
        Ok(Self { url: url.to_owned(), host_port, name, config: Arc::new(config), bound: Mutex::default() })
    }

    /// One request on a new connection: a node talks every 2 hours, so
    /// nothing is kept open. A connection whose TLS key is not yet known to
    /// be bound first fetches the binding on that same connection and has
    /// `client` check it (pinning the instance key on first use); refused,
    /// the request is never sent.
    fn post(
        &self,
        (request, key, body): (&Request, &RequestKey, &Value),
        client: &mut Client,
        roots: &[RootKey],
    ) -> Result<Vec<u8>, Failure> {
        let path = request.path();
        let unreachable = |e: String| {
            Failure::Unreachable(format!(
                "cannot reach the authorization server at {}: {e} — check that it runs, the port is published, and no \
                 firewall blocks it",
                self.url
            ))
        };
        let addrs = self.host_port.to_socket_addrs().map_err(|e| unreachable(e.to_string()))?;
        let mut last = String::from("the host name resolves to no address");
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let mut tcp = tcp.ok_or_else(|| unreachable(last))?;
        let protocol = |e: &dyn core::fmt::Display| Failure::Protocol(format!("{}: {e}", self.url));
        tcp.set_read_timeout(Some(ANSWER_TIMEOUT))
            .and_then(|()| tcp.set_write_timeout(Some(ANSWER_TIMEOUT)))
            .map_err(|e| protocol(&e))?;
        let mut conn = ClientConnection::new(Arc::clone(&self.config), self.name.clone()).map_err(|e| protocol(&e))?;
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return Err(protocol(&format!("TLS handshake failed ({e}): is this the authorization server's port?")));
            }
        }
        let spki = conn
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(|leaf| certificate_spki_sha256(leaf))
            .ok_or_else(|| protocol(&"the server's TLS certificate does not parse"))?;
        let mut tls = BufReader::new(StreamOwned::new(conn, tcp));
        if !self.bound.lock().unwrap_or_else(PoisonError::into_inner).contains(&spki) {
            let get = format!("GET /api/v1/tls-binding HTTP/1.1\r\nHost: {}\r\n\r\n", self.host_port);
            let w = tls.get_mut();
            w.write_all(get.as_bytes()).and_then(|()| w.flush()).map_err(|e| protocol(&e))?;
            let (status, body) = read_response(&mut tls).map_err(|e| protocol(&e))?;
            let file = serde_json::from_slice::<Value>(&body)
                .ok()
                .filter(|_| status == 200)
                .and_then(|v| v.get("tls_binding").and_then(Value::as_str).and_then(|b| STANDARD.decode(b).ok()))
                .ok_or_else(|| Failure::Unbound {
                    code: "no_tls_binding",
                    message: format!(
                        "{} serves no TLS binding (HTTP {status} for /api/v1/tls-binding): not an authorization \
                         server of this version, or something in between",
                        self.url
                    ),
                })?;
            client
                .on_tls_binding(&file, roots, &spki)
                .map_err(|e| Failure::Unbound { code: e.code(), message: e.to_string() })?;
            self.bound.lock().unwrap_or_else(PoisonError::into_inner).insert(spki);
        }
        let text = body.to_string();
        // The MAC covers the exact bytes sent, made at the moment of sending.
        let auth = request.authorization(key, text.as_bytes(), Timestamp(now()));
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Authorization: {}\r\nConnection: close\r\n\r\n{text}",
            self.host_port,
            text.len(),
            auth.as_str(),
        );
        let w = tls.get_mut();
        w.write_all(request.as_bytes()).and_then(|()| w.flush()).map_err(|e| protocol(&e))?;
        let (status, body) = read_response(&mut tls).map_err(|e| protocol(&e))?;
        let v: Value = serde_json::from_slice(&body)
            .map_err(|e| protocol(&format!("HTTP {status}, the body is not JSON ({e})")))?;
        match (status, v.get("answer").and_then(Value::as_str)) {
            (200, Some(answer)) => STANDARD.decode(answer).map_err(|e| protocol(&format!("the answer's base64: {e}"))),
            _ => {
                let causes = match v.get("causes").and_then(Value::as_array) {
                    Some(c) => c.clone(),
                    None => vec![
                        json!({"code": "http_error", "message": v.get("error").and_then(Value::as_str).unwrap_or("no answer")}),
                    ],
                };
                Err(Failure::Refused { status, causes })
            }
        }
    }
}

/// One HTTP/1.1 response with a Content-Length body (what the server sends).
fn read_response(r: &mut impl std::io::BufRead) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad("no HTTP status"))?;
    let mut len = None;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("the connection closed in the headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; len.ok_or_else(|| bad("no Content-Length"))?];
    r.read_exact(&mut body)?;
    Ok((status, body))
}

struct Out {
    json: bool,
}

impl Out {
    fn event(&self, v: &Value, human: &str) {
        if self.json {
            println!("{v}");
        } else {
            println!("{human}");
        }
    }
}

fn causes_text(causes: &[Value]) -> String {
    causes
        .iter()
        .map(|c| {
            let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
            format!("\n  - {}: {}", field("code"), field("message"))
        })
        .collect()
}

const fn kind_name(kind: AnswerKind) -> &'static str {
    match kind {
        AnswerKind::Registered => "register",
        AnswerKind::Heartbeat => "heartbeat",
        AnswerKind::Deregistered => "deregister",
    }
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    let roots: Vec<RootKey> = cli
        .root_keys
        .iter()
        .map(|p| load_root_keys(p).with_context(|| format!("--root-key {}", p.display())))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let node_id = match &cli.node_id {
        Some(s) => parse_hex16(s).context("--node-id must be 32 lowercase hex digits")?,
        None => random::<16>()?,
    };
    let secret_text = std::fs::read_to_string(&cli.join_secret)
        .with_context(|| format!("--join-secret {}", cli.join_secret.display()))?;
    let key = JoinSecret::parse(&secret_text)
        .with_context(|| format!("--join-secret {}", cli.join_secret.display()))?
        .request_key();
    let connector = Connector::new(&cli.server)?;
    let interval = cli.interval.max(1);
    let pinned_before = match &cli.pin_file {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(p).with_context(|| format!("--pin-file {}", p.display()))?;
            let key: [u8; 32] = (0..32)
                .map(|i| text.trim().get(2 * i..2 * i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
                .collect::<Option<Vec<u8>>>()
                .and_then(|v| v.try_into().ok())
                .with_context(|| format!("--pin-file {}: expected 64 hex digits", p.display()))?;
            Some(key)
        }
        _ => None,
    };
    let mut client = match pinned_before {
        Some(key) => Client::with_pinned_instance_key(node_id, key),
        None => Client::new(node_id),
    };
    let mut heartbeats = 0u64;
    let mut registered_once = false;
    let mut next_at = now();
    out.event(
        &json!({"event": "start", "server": cli.server, "node_id": hex(&node_id), "app": cli.app, "version": cli.version, "project": cli.project}),
        &format!("node {} ({} {}, project {}) → {}", hex(&node_id), cli.app, cli.version, cli.project, cli.server),
    );

    loop {
        // `--count 0`: register, then stop (or deregister).
        let last = registered_once && cli.count.is_some_and(|n| heartbeats >= n);
        if last && !cli.deregister {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(Duration::from_secs(next_at.saturating_sub(now())));
        let t = now();
        let kind = if last {
            AnswerKind::Deregistered
        } else {
            match client.next(Timestamp(t)) {
                Next::RegistrationFailed { since } => {
                    out.event(
                        &json!({"event": "registration_failed", "since": since.to_string()}),
                        &format!("registration FAILED: no feedback from the authorization server within 24 hours (since {since})"),
                    );
                    continue;
                }
                Next::Heartbeat => AnswerKind::Heartbeat,
                // Sooner than the product's schedule (7200 s, retry 300 s): the demo's --interval.
                _ if matches!(client.status(Timestamp(t)), Status::Registered { .. }) => AnswerKind::Heartbeat,
                _ => AnswerKind::Registered,
            }
        };
        let request: Request = client.request(kind, random::<16>()?, Timestamp(t));
        let body = match kind {
            AnswerKind::Registered => json!({
                "app_name": cli.app, "version": cli.version, "project": cli.project,
                "node_id": hex(&node_id), "nonce": hex(&request.nonce),
            }),
            _ => json!({"node_id": hex(&node_id), "nonce": hex(&request.nonce)}),
        };
        if kind == AnswerKind::Heartbeat {
            heartbeats += 1;
        }
        let file = match connector.post((&request, &key, &body), &mut client, &roots) {
            Ok(file) => file,
            Err(failure) => {
                client.on_failure(Timestamp(t));
                let op = kind_name(kind);
                match failure {
                    Failure::Refused { status, causes } => {
                        out.event(
                            &json!({"event": "refused", "request": op, "http_status": status, "causes": causes}),
                            &format!(
                                "{op} REFUSED by the authorization server (HTTP {status}):{}",
                                causes_text(&causes)
                            ),
                        );
                        return Ok(ExitCode::from(1));
                    }
                    Failure::Unbound { code, message } => {
                        out.event(
                            &json!({"event": "tls_binding_refused", "request": op, "code": code, "message": message}),
                            &format!("{op} NOT SENT: the server's TLS key is refused ({code}): {message}"),
                        );
                        return Ok(ExitCode::from(1));
                    }
                    Failure::Unreachable(message) | Failure::Protocol(message) => {
                        out.event(&json!({"event": "unreachable", "request": op, "message": message}), &message);
                        if !registered_once {
                            return Ok(ExitCode::from(2));
                        }
                        let mut retry = t.saturating_add(RETRY_SECS.min(interval));
                        if let Status::Registered { valid_until, .. } = client.status(Timestamp(t)) {
                            retry = retry.min(valid_until.0);
                        }
                        next_at = retry;
                        continue;
                    }
                }
            }
        };
        let env = Environment {
            app_name: &cli.app,
            version: &cli.version,
            project: &cli.project,
            nodes: 1,
            method: LicenseKind::PrivateCloud,
            now: Timestamp(now()),
            last_seen: None,
        };
        let status = match client.on_answer(&file, &roots, &env) {
            Ok(s) => s,
            Err(rejection) => {
                let causes: Vec<Value> =
                    rejection.causes().map(|c| json!({"code": c.code(), "message": c.to_string()})).collect();
                out.event(
                    &json!({"event": "answer_rejected", "request": kind_name(kind), "causes": causes}),
                    &format!("the answer to {} is REFUSED by this node:{}", kind_name(kind), causes_text(&causes)),
                );
                return Ok(ExitCode::from(1));
            }
        };
        let Some(&instance) = client.pinned_instance_key() else {
            bail!("an accepted answer pins the instance key");
        };
        if pinned_before.is_none()
            && !registered_once
            && let Some(p) = &cli.pin_file
        {
            std::fs::write(p, format!("{}\n", hex(&instance)))
                .with_context(|| format!("--pin-file {}", p.display()))?;
        }
        registered_once = true;
        let fingerprint = hex(&instance_fingerprint(&instance));
        match status {
            Status::Registered { valid_until, nodes } => {
                let (event, text) = if kind == AnswerKind::Registered {
                    ("registered", "registered:")
                } else {
                    ("heartbeat", "heartbeat ok:")
                };
                out.event(
                    &json!({"event": event, "valid_until": valid_until.to_string(), "nodes": nodes, "instance_fingerprint": fingerprint, "heartbeats": heartbeats}),
                    &format!("{text} valid until {valid_until} ({nodes} nodes; instance {})", fingerprint.get(..16).unwrap_or("")),
                );
                next_at = t.saturating_add(interval).min(valid_until.0.saturating_sub(RETRY_SECS)).max(t);
            }
            Status::Deregistered => {
                out.event(&json!({"event": "deregistered", "instance_fingerprint": fingerprint}), "deregistered");
                return Ok(ExitCode::SUCCESS);
            }
            other => bail!("unexpected status after an accepted answer: {other:?}"),
        }
    }
}
