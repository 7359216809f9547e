//! Interleaved timing, for ratios that hold on a shared, noisy machine.
//!
//! Criterion measures one case after the other, so a compile that starts on
//! the other core halfway through skews the ratios between cases. Here every
//! round times one batch of every case, back to back in a rotating order, and
//! each ratio is taken within a round, then the median over rounds is kept.
//!
//! `cargo bench --bench interleaved [-- ROUNDS]` (default 400 rounds).
use std::{hint::black_box, time::Instant};

use fanlic_benches::cases::{ALL, Cases};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quartiles(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 4], v[v.len() * 3 / 4])
}

fn main() {
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(400);
    let cases = Cases::new();
    let runs: Vec<_> = ALL.iter().map(|(id, _)| (*id, cases.case(id))).collect();
    // Batch size: about 2 ms per batch.
    let batch: Vec<u32> = runs
        .iter()
        .map(|(_, run)| {
            let t = Instant::now();
            for _ in 0..50 {
                black_box(run());
            }
            let per = t.elapsed().as_secs_f64() / 50.0;
            ((2e-3 / per).ceil() as u32).max(1)
        })
        .collect();
    let mut ns: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); runs.len()];
    for r in 0..rounds {
        for k in 0..runs.len() {
            let i = (k + r) % runs.len();
            let (_, run) = &runs[i];
            let t = Instant::now();
            for _ in 0..batch[i] {
                black_box(run());
            }
            ns[i].push(t.elapsed().as_nanos() as f64 / f64::from(batch[i]));
        }
    }
    let idx = |id: &str| runs.iter().position(|(i, _)| *i == id);
    println!("interleaved: {rounds} rounds, ~2 ms batches, medians over rounds");
    println!("| case | median | IQR |");
    println!("| --- | ---: | --- |");
    for (i, (id, _)) in runs.iter().enumerate() {
        let mut v = ns[i].clone();
        let (q1, q3) = quartiles(&mut v);
        println!("| {id} | {:.2} µs | {:.2} – {:.2} µs |", median(&mut v) / 1e3, q1 / 1e3, q3 / 1e3);
    }
    println!();
    println!("| ratio (per round, then median) | median | IQR |");
    println!("| --- | ---: | --- |");
    let pairs = [
        ("c_fanlic_armored", "b_bare_strict_chain"),
        ("c_fanlic_armored", "b2_bare_strict_chain_keyparse"),
        ("d_fanlic_raw", "b_bare_strict_chain"),
        ("c_fanlic_armored", "a_bare_strict_license"),
        ("c_fanlic_armored", "g_jwt_chain"),
        ("c_fanlic_armored", "h_paseto_chain"),
        ("c_fanlic_armored", "e_jwt_single"),
        ("c_fanlic_armored", "f_paseto_single"),
        ("g_jwt_chain", "b_bare_strict_chain"),
        ("h_paseto_chain", "b_bare_strict_chain"),
        ("x_bare_dalek_verify_license", "a_bare_strict_license"),
        ("y_bare_compact_verify_license", "a_bare_strict_license"),
    ];
    for (num, den) in pairs {
        let (Some(n), Some(d)) = (idx(num), idx(den)) else { continue };
        let mut r: Vec<f64> = ns[n].iter().zip(&ns[d]).map(|(a, b)| a / b).collect();
        let (q1, q3) = quartiles(&mut r);
        println!("| {num} / {den} | {:.3}× | {q1:.3} – {q3:.3} |", median(&mut r));
    }
}
