//! One criterion group, so the medians are taken in the same run and their
//! ratios are comparable. From `benches/`: `cargo bench --bench verify`, then
//! `cargo run --release --bin report` prints the table and ratios. The cases
//! are listed in `fanlic_benches::cases::ALL`.
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fanlic_benches::cases::{ALL, Cases};

fn bench(c: &mut Criterion) {
    let cases = Cases::new();
    eprintln!("sizes (bytes): {:?}", cases.f.sizes());
    let group = if cfg!(feature = "compare") { "verify" } else { "verify-no-fast" };
    let mut g = c.benchmark_group(group);
    g.warm_up_time(Duration::from_secs(2)).measurement_time(Duration::from_secs(6)).sample_size(100);
    for (id, _) in ALL {
        let run = cases.case(id);
        g.bench_function(*id, |b| b.iter(&run));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
