//! Prints the medians of the last `cargo bench` run as a Markdown table, with
//! the ratios BENCHMARKS.md reports, and the sizes of each format.
//!
//! `cargo run --release --bin report [-- GROUP]` from `benches/`; GROUP is
//! `verify` (default) or `verify-no-fast`.
use std::{
    fs,
    path::{Path, PathBuf},
};

use fanlic_benches::Fixture;

/// (median, lower, upper) in ns.
fn median(dir: &Path, id: &str) -> Option<(f64, f64, f64)> {
    let text = fs::read_to_string(dir.join(id).join("new/estimates.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let m = &v["median"];
    Some((
        m["point_estimate"].as_f64()?,
        m["confidence_interval"]["lower_bound"].as_f64()?,
        m["confidence_interval"]["upper_bound"].as_f64()?,
    ))
}

fn main() {
    let group = std::env::args().nth(1).unwrap_or_else(|| "verify".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/criterion").join(&group);
    let get = |id: &str| median(&dir, id).map(|m| m.0);

    println!("| case | median | 95% CI of the median |");
    println!("| --- | ---: | --- |");
    for (id, label) in fanlic_benches::cases::ALL {
        if let Some((m, lo, hi)) = median(&dir, id) {
            println!("| {label} | {:.2} µs | {:.2} – {:.2} µs |", m / 1e3, lo / 1e3, hi / 1e3);
        }
    }
    println!();
    println!("| ratio | value | goal |");
    println!("| --- | ---: | --- |");
    let ratio = |num: &str, den: &str, label: &str, goal: &str| {
        if let (Some(n), Some(d)) = (get(num), get(den)) {
            println!("| {label} | {:.3}× | {goal} |", n / d);
        }
    };
    ratio("c_fanlic_armored", "b_bare_strict_chain", "fanlic armored / (b) bare chain", "≤ 1.10×");
    ratio(
        "c_fanlic_armored",
        "b2_bare_strict_chain_keyparse",
        "fanlic armored / (b2) bare chain + key parse",
        "≤ 1.10×",
    );
    ratio("d_fanlic_raw", "b_bare_strict_chain", "fanlic raw / (b) bare chain", "≤ 1.10×");
    ratio("c_fanlic_armored", "a_bare_strict_license", "fanlic armored / (a) bare single", "≤ 1.10× (as worded)");
    ratio("c_fanlic_armored", "g_jwt_chain", "fanlic armored / JWT chain", "< 1");
    ratio("c_fanlic_armored", "h_paseto_chain", "fanlic armored / PASETO chain", "< 1");
    ratio("c_fanlic_armored", "e_jwt_single", "fanlic armored / JWT single", "< 1 (as worded)");
    ratio("c_fanlic_armored", "f_paseto_single", "fanlic armored / PASETO single", "< 1 (as worded)");
    ratio("g_jwt_chain", "b_bare_strict_chain", "JWT chain / (b) bare chain", "(reference)");
    ratio("h_paseto_chain", "b_bare_strict_chain", "PASETO chain / (b) bare chain", "(reference)");
    ratio("x_bare_dalek_verify_license", "a_bare_strict_license", "dalek `verify` / `verify_strict`", "(reference)");
    ratio(
        "y_bare_compact_verify_license",
        "a_bare_strict_license",
        "ed25519-compact / dalek `verify_strict`",
        "(reference)",
    );
    if let (Some(c), Some(d2), Some(b)) =
        (get("c_fanlic_armored"), get("d2_fanlic_decode_only"), get("b_bare_strict_chain"))
    {
        println!();
        println!(
            "fanlic overhead over (b): {:.2} µs, of which decoding (armor + 3 decodes) {:.2} µs",
            (c - b) / 1e3,
            d2 / 1e3
        );
    }

    let s = Fixture::new().sizes();
    println!();
    println!("| format | bytes |");
    println!("| --- | ---: |");
    println!("| fanlic raw binary file | {} |", s.fanlic_raw);
    println!("| fanlic armored Container.lic (no comment lines) | {} |", s.fanlic_armored);
    #[cfg(feature = "compare")]
    {
        println!("| JWT license token only | {} |", s.jwt_single);
        println!("| JWT chain (cert token + LF + license token) | {} |", s.jwt_chain);
        println!("| PASETO v4.public license token only | {} |", s.paseto_single);
        println!("| PASETO chain (cert token + LF + license token) | {} |", s.paseto_chain);
    }
}
