//! How long the PostgreSQL test harness takes on this machine:
//! `cargo run -p fanlic-testkit --example pg_timing` starts 5 clusters, makes
//! 20 databases in each and drops them, and prints the times.

use std::time::Instant;

use fanlic_testkit::postgres::PgCluster;

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let (mut starts, mut dbs, mut drops) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        let t = Instant::now();
        let pg = PgCluster::start();
        starts.push(ms(t));
        for _ in 0..20 {
            let t = Instant::now();
            pg.new_database();
            dbs.push(ms(t));
        }
        let t = Instant::now();
        drop(pg);
        drops.push(ms(t));
    }
    println!("PgCluster::start: {}", summary(&mut starts));
    println!("new_database:     {}", summary(&mut dbs));
    println!("drop:             {}", summary(&mut drops));
}

/// Median, min and max, in ms.
fn summary(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    let at = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
    format!(
        "median {:.0} ms, min {:.0}, max {:.0} ({} runs)",
        at(v.len() / 2),
        at(0),
        at(v.len().saturating_sub(1)),
        v.len()
    )
}
