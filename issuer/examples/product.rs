//! Plays the product (FineReport) through local container activation (upload
//! `Container.lic`, QR code, 6-digit code: SPEC.md §3.4, §6), with the crate products embed
//! (`fanlic-verifier`):
//!
//! 1. checks the uploaded `Container.lic` against the embedded root key and
//!    the product's environment (every failing cause at once);
//! 2. makes an activation challenge, shows its QR code in the terminal and
//!    writes it as PNG;
//! 3. reads the 6-digit code the phone got from the vendor's service
//!    (`fanlic serve`) and checks it: 5 minutes per QR code, the sixth wrong
//!    code locks input for 15 minutes;
//! 4. simulates a restart of all nodes, and asks again.
//!
//! Under a receipt-policy license (SPEC.md §6.4) step 3 takes a receipt
//! instead of a code: the vendor's confirmation page offers
//! `receipt.fanlic` for download, and `receipt PATH` at the prompt checks it
//! for the QR code shown (once) and activates. Codes are refused.
//!
//! ```text
//! cargo run -p fanlic-issuer --example product -- \
//!     --license Container.lic --root-key HOME/public/root-<id>.pub.pem \
//!     --project webroot [--app FineReport] [--version 11.0.20] [--nodes 1] [--png qr.png]
//! ```
//!
//! Commands at the prompt: a 6-digit code (code policy) or `receipt PATH`
//! (receipt policy), `refresh` (new QR code), `restart` (all nodes
//! restarted), `quit`. Standard input may be a pipe.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    io::{self, BufRead as _, Write as _},
    path::PathBuf,
};

use anyhow::{Context as _, bail};
use fanlic_formats::{ActivationPolicy, LicenseKind, MAX_LICENSE_FILE_LEN, armor, receipt::MAX_RECEIPT_FILE_LEN};
use fanlic_issuer::home::load_root_public_key;
use fanlic_issuer::qr::Qr;
use fanlic_issuer::util::clock;
use fanlic_verifier::{
    Environment,
    activation::{Activation, ActivationKey, ChallengeInput, CodeError, Status, make_challenge, project_fingerprint},
    receipt::{Expect, sha256, verify_receipt},
    verify,
};
use ring::rand::{SecureRandom as _, SystemRandom};

struct Args {
    license: PathBuf,
    root_key: PathBuf,
    project: String,
    app: String,
    version: String,
    nodes: u32,
    png: PathBuf,
    base_url: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        license: PathBuf::new(),
        root_key: PathBuf::new(),
        project: String::new(),
        app: "FineReport".into(),
        version: "11.0.20".into(),
        nodes: 1,
        png: "activation-qr.png".into(),
        base_url: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--license" => a.license = value()?.into(),
            "--root-key" => a.root_key = value()?.into(),
            "--project" => a.project = value()?,
            "--app" => a.app = value()?,
            "--version" => a.version = value()?,
            "--nodes" => a.nodes = value()?.parse().context("--nodes: a number")?,
            "--png" => a.png = value()?.into(),
            // The product's own configuration may point at another service.
            "--activation-base-url" => a.base_url = Some(value()?),
            other => bail!("unknown option {other}; see the comment at the top of examples/product.rs"),
        }
    }
    if a.license.as_os_str().is_empty() || a.root_key.as_os_str().is_empty() || a.project.is_empty() {
        bail!("usage: product --license Container.lic --root-key root.pub.pem --project NAME [--nodes N] [--png FILE]");
    }
    Ok(a)
}

fn main() -> anyhow::Result<()> {
    let a = args()?;
    let root = load_root_public_key(&a.root_key)?;
    let file = std::fs::read(&a.license).with_context(|| format!("cannot read {}", a.license.display()))?;
    let now = clock::now()?;
    let env = Environment {
        app_name: &a.app,
        version: &a.version,
        project: &a.project,
        nodes: a.nodes,
        method: LicenseKind::LocalContainer,
        now,
        last_seen: None,
    };
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let (license, issuing_key_id) = match verify(&file, &mut buf, &[root], &env) {
        Ok(v) => {
            let signed = v.into_inner();
            (signed.license, signed.certificate.key_id)
        }
        Err(rejection) => {
            println!("Registration failed:");
            for cause in rejection.causes() {
                println!("  {}: {cause}", cause.code());
            }
            std::process::exit(1);
        }
    };
    println!("License {} for {} / {} checked.", license.id, license.company, license.project);
    let (Some(key), Some(licensed_url)) = (license.activation_key, license.activation_base_url) else {
        bail!("this license has no activation key: it was issued by a home without an activation master secret");
    };
    // Under receipt policy the key is the challenge key: it makes QR codes
    // the vendor accepts, and nothing the product accepts.
    let key = ActivationKey::from_bytes(key);
    let by_receipt = license.activation_policy == ActivationPolicy::Receipt;
    let mut raw = [0u8; MAX_LICENSE_FILE_LEN];
    let license_sha256 = sha256(armor::unarmor(&file, &mut raw)?);
    let base_url = a.base_url.clone().unwrap_or_else(|| licensed_url.to_owned());

    // A node id the product would persist; one per run is enough here.
    let rng = SystemRandom::new();
    let mut node_id = [0u8; 16];
    rng.fill(&mut node_id).map_err(|_| anyhow::anyhow!("no system RNG"))?;
    let fingerprint = project_fingerprint(&a.app, &a.project, b"example-deployment")
        .map_err(|e| anyhow::anyhow!("project fingerprint: {e}"))?;

    let mut state = Activation::new();
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    let mut show = true;
    loop {
        let now = clock::now()?;
        if show {
            let mut nonce = [0u8; 16];
            rng.fill(&mut nonce).map_err(|_| anyhow::anyhow!("no system RNG"))?;
            let input = ChallengeInput {
                nonce,
                node_id,
                project_fingerprint: fingerprint,
                nodes: a.nodes,
                app_version: &a.version,
                now,
                server: None,
            };
            let challenge = make_challenge(license.id, &key, &input)
                .map_err(|e| anyhow::anyhow!("cannot make the challenge: {e}"))?;
            if by_receipt {
                state.set_receipt_challenge(&challenge);
            } else {
                state.set_challenge(&challenge);
            }
            let mut url = String::new();
            challenge.write_url(&base_url, &mut url)?;
            let qr = Qr::new(&url)?;
            println!("\n{}", qr.to_terminal());
            std::fs::write(&a.png, qr.to_png(8)?).with_context(|| format!("cannot write {}", a.png.display()))?;
            println!("Scan the QR code (also in {}), or open:\n  {url}", a.png.display());
            println!("It is valid for 5 minutes.");
            if by_receipt {
                println!("Confirm there, download receipt.fanlic and type `receipt PATH` here.");
            }
            show = false;
        }
        print!("{} (or refresh / restart / quit)> ", if by_receipt { "receipt PATH" } else { "code" });
        io::stdout().flush()?;
        let Some(line) = lines.next() else { break };
        let line = line?;
        match line.trim() {
            "quit" | "q" => break,
            "refresh" => show = true,
            "restart" => {
                state.restart();
                println!("All nodes restarted: activation is needed again.");
                show = true;
            }
            typed if typed.starts_with("receipt ") => {
                let path = typed["receipt ".len()..].trim();
                match receipt(&mut state, path, &license, license_sha256, issuing_key_id, &root) {
                    Ok(message) => println!("{message}"),
                    Err(e) => println!("{e:#}"),
                }
            }
            typed => match state.enter(typed, clock::now()?) {
                Ok(at) => {
                    println!("Activated at {at}. (Type `restart` to simulate restarting all nodes.)");
                }
                Err(e @ (CodeError::ChallengeExpired { .. } | CodeError::NoChallenge)) => {
                    println!("{e}");
                    show = true;
                }
                Err(e) => println!("{e}"),
            },
        }
        if let Status::Locked { until } = state.status(clock::now()?) {
            println!("Input is locked until {until}.");
        }
    }
    Ok(())
}

/// Checks the receipt file at `path` for the QR code shown (SPEC.md §6.4)
/// and activates with it; what to print, or why not.
fn receipt(
    state: &mut Activation,
    path: &str,
    license: &fanlic_formats::License<'_>,
    license_sha256: [u8; 32],
    issuing_key_id: fanlic_formats::KeyId,
    root: &fanlic_verifier::RootKey,
) -> anyhow::Result<String> {
    let now = clock::now()?;
    let Some(challenge_sha256) = state.pending_challenge_sha256(now) else {
        bail!("no QR code is shown (it expired, or a receipt used it): type `refresh` for a new one");
    };
    let input = std::fs::read(path).with_context(|| format!("cannot read {path}"))?;
    let expect = Expect {
        license,
        license_sha256,
        issuing_key_id,
        challenge_sha256: Some(challenge_sha256),
        instance_public_key: None,
        previous_receipt: None,
        now,
    };
    let mut buf = vec![0u8; MAX_RECEIPT_FILE_LEN];
    let accepted = match verify_receipt(&input, &mut buf, core::slice::from_ref(root), &expect) {
        Ok(accepted) => accepted,
        Err(rejection) => {
            let causes: Vec<String> = rejection.causes().map(|c| format!("  {}: {c}", c.code())).collect();
            bail!("The receipt is refused:\n{}", causes.join("\n"));
        }
    };
    let at = state.accept_receipt(&accepted, now).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(format!("Activated at {at} by receipt. (Type `restart` to simulate restarting all nodes.)"))
}
