//! Runs one benchmark case N times, for instruction counts under callgrind,
//! which do not depend on what else the machine is doing (`icount.sh`).
//!
//! `icount CASE N`; CASE is an id of `fanlic_benches::cases::ALL`.
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let id = args.next().expect("usage: icount CASE N | icount --list");
    if id == "--list" {
        for (id, _) in fanlic_benches::cases::ALL {
            println!("{id}");
        }
        return;
    }
    let n: u32 = args.next().and_then(|n| n.parse().ok()).expect("usage: icount CASE N");
    // `Cases::new` runs every case once, so lazies (jsonwebtoken's provider)
    // are set up in both the N run and the 0 run that is subtracted.
    let cases = fanlic_benches::cases::Cases::new();
    let run = cases.case(&id);
    for _ in 0..n {
        assert!(black_box(run()));
    }
}
