//! The activation code check (SPEC.md §6.1, §6.2) next to bare HMAC-SHA256,
//! interleaved like `interleaved.rs`: every round times one batch of every
//! case back to back, ratios are taken within a round, and the median over
//! rounds is kept, so a noisy neighbour skews all cases alike.
//!
//! `cargo bench --bench activation [-- ROUNDS]` (default 400 rounds).
//!
//! Cases, for one challenge of a 1-node local-container license:
//! - `hmac_sha256`: bare HMAC-SHA256 (hmac 0.12 + sha2 0.10, what the verifier
//!   uses) over a message as long as the labelled challenge body;
//! - `activation_code`: the 6-digit code (one HMAC + truncation);
//! - `make_challenge`: what the product does per QR code (encode the body,
//!   the tag, the expected code);
//! - `enter_right_code`: the product's check of a typed code (state machine:
//!   parse, expiry, lock, compare) after `set_challenge`;
//! - `open_challenge`: what the service does per scan (tag check in constant
//!   time, decode, expiry, code).
use std::{hint::black_box, time::Instant};

use fanlic_formats::{LicenseId, Timestamp};
use fanlic_verifier::activation::{
    Activation, ActivationKey, ChallengeInput, activation_code, make_challenge, open_challenge, project_fingerprint,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(400);
    let key = ActivationKey::from_bytes([0x42; 32]);
    let id = LicenseId([7; 16]);
    let now = Timestamp(1_790_000_000);
    let input = ChallengeInput {
        nonce: [1; 16],
        node_id: [2; 16],
        project_fingerprint: project_fingerprint("FineReport", "webroot", b"dep").unwrap(),
        nodes: 1,
        app_version: "11.0.20",
        now,
        server: None,
    };
    let prepared = make_challenge(id, &key, &input).unwrap();
    let token = prepared.token().to_vec();
    let body = token[1..token.len() - 32].to_vec();
    let mut labelled = b"fanlic/1/activation-code\n".to_vec();
    labelled.extend_from_slice(&body);
    let right = prepared.code().to_string();

    type Case<'a> = (&'static str, Box<dyn Fn() -> u64 + 'a>);
    let cases: Vec<Case> = vec![
        (
            "hmac_sha256",
            Box::new(|| {
                let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&[0x42; 32]).unwrap();
                m.update(black_box(&labelled));
                u64::from(m.finalize().into_bytes()[0])
            }),
        ),
        ("activation_code", Box::new(|| u64::from(activation_code(black_box(&key), black_box(&body)).value()))),
        ("make_challenge", Box::new(|| u64::from(make_challenge(id, &key, black_box(&input)).unwrap().code().value()))),
        (
            "enter_right_code",
            Box::new(|| {
                let mut a = Activation::new();
                a.set_challenge(black_box(&prepared));
                a.enter(black_box(&right), Timestamp(now.0 + 5)).unwrap().0
            }),
        ),
        (
            "open_challenge",
            Box::new(|| u64::from(open_challenge(black_box(&token), &key, Timestamp(now.0 + 5)).unwrap().1.value())),
        ),
    ];
    let batch: Vec<u32> = cases
        .iter()
        .map(|(_, run)| {
            let t = Instant::now();
            for _ in 0..200 {
                black_box(run());
            }
            let per = t.elapsed().as_secs_f64() / 200.0;
            ((1e-3 / per).ceil() as u32).max(1)
        })
        .collect();
    let mut ns: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    let mut ratio: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); cases.len()];
    for r in 0..rounds {
        let mut this = vec![0.0; cases.len()];
        for k in 0..cases.len() {
            let i = (k + r) % cases.len();
            let t = Instant::now();
            for _ in 0..batch[i] {
                black_box(cases[i].1());
            }
            this[i] = t.elapsed().as_secs_f64() * 1e9 / f64::from(batch[i]);
        }
        for i in 0..cases.len() {
            ns[i].push(this[i]);
            ratio[i].push(this[i] / this[0]);
        }
    }
    println!(
        "activation code check, {rounds} interleaved rounds (median ns per call; ratio to bare HMAC-SHA256 within each round)"
    );
    println!("{:<18} {:>10} {:>8}", "case", "ns", "ratio");
    for (i, (name, _)) in cases.iter().enumerate() {
        println!("{:<18} {:>10.0} {:>7.2}x", name, median(&mut ns[i]), median(&mut ratio[i]));
    }
}
