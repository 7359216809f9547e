//! The image generation benchmark: `fanruan_license_server.tar` written for
//! N customers with the bottom layer (the server binary) built once and
//! cached, against copying a file of the same size, interleaved round by
//! round on the same file system.
//!
//! ```text
//! cargo run --release --no-default-features --features ingest --bin image_gen -- N [SERVER_BINARY] [--fsync]
//! ```
//!
//! Without SERVER_BINARY the server is 5 MiB of pseudo-random bytes (the
//! size of the release musl build, give or take). Each round writes one
//! image (`write_image` into a `BufWriter` on a new file, which includes the
//! sha256 of the whole tar it reports) and copies a same-size file twice:
//! `std::fs::copy` and a spawned `cp`. Neither side fsyncs by default (cp
//! does not), so both measure writing into the page cache; `--fsync` adds
//! `sync_all` to the image and the `fs::copy` copy (not to `cp`). Files are
//! deleted after each round, outside the timings. Figures are medians over
//! the rounds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::{
    collections::BTreeMap,
    fs,
    io::{BufWriter, Write as _},
    process::Command,
    time::{Duration, Instant},
};

use fanlic_issuer::image::oci::{BaseLayer, ImageFile, ImageSpec, read_image, write_image};

/// Deterministic filler (xorshift64*), so runs compare without a RNG crate.
fn pseudo_random(len: usize, mut state: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let fsync = args.iter().any(|a| a == "--fsync");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let n: usize = positional.next().map_or(200, |s| s.parse().expect("N must be a number"));
    let server = match positional.next() {
        Some(path) => fs::read(path).unwrap(),
        None => pseudo_random(5 * 1024 * 1024, 0x9E37_79B9_7F4A_7C15),
    };
    let dir = tempfile::tempdir_in(std::env::var_os("TMPDIR").unwrap_or_else(|| "/tmp".into())).unwrap();

    let started = Instant::now();
    let base = BaseLayer::new(&server).unwrap();
    let base_time = started.elapsed();

    let labels: BTreeMap<String, String> =
        [("org.opencontainers.image.title", "FanRuan license server"), ("org.opencontainers.image.vendor", "FanRuan")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let key = pseudo_random(64, 7);

    // A same-size source file for the copies, warm in the page cache.
    let probe_id = format!("{:032x}", 0);
    let probe_files = files(&probe_id, &key);
    let mut probe = Vec::new();
    write_image(&base, &spec(&probe_id, &probe_files, &labels), &mut probe).unwrap();
    let source = dir.path().join("source.bin");
    fs::write(&source, pseudo_random(probe.len(), 11)).unwrap();
    let _ = fs::read(&source).unwrap();

    let (mut gen_t, mut copy_t, mut cp_t) = (Vec::new(), Vec::new(), Vec::new());
    let mut last = None;
    for i in 0..n {
        let id = format!("{:032x}", 0x1000_0000_u64 + i as u64);
        let files = files(&id, &key);
        let spec = spec(&id, &files, &labels);
        let image = dir.path().join(format!("image-{i}.tar"));
        let copy = dir.path().join(format!("copy-{i}.bin"));
        let cp = dir.path().join(format!("cp-{i}.bin"));

        let t = Instant::now();
        let mut out = BufWriter::with_capacity(64 * 1024, fs::File::create(&image).unwrap());
        let digest = write_image(&base, &spec, &mut out).unwrap();
        let file = out.into_inner().unwrap();
        if fsync {
            file.sync_all().unwrap();
        }
        drop(file);
        gen_t.push(t.elapsed());

        let t = Instant::now();
        fs::copy(&source, &copy).unwrap();
        if fsync {
            fs::File::open(&copy).unwrap().sync_all().unwrap();
        }
        copy_t.push(t.elapsed());

        let t = Instant::now();
        let status = Command::new("cp").arg(&source).arg(&cp).status().unwrap();
        cp_t.push(t.elapsed());
        assert!(status.success());

        assert_eq!(digest.tar_len, fs::metadata(&image).unwrap().len());
        if i + 1 == n {
            last = Some(image.clone());
        } else {
            fs::remove_file(&image).unwrap();
        }
        fs::remove_file(&copy).unwrap();
        fs::remove_file(&cp).unwrap();
    }

    // Check one result and time the checker (what `fanlic verify` will run on a tar).
    let tar = fs::read(last.unwrap()).unwrap();
    let t = Instant::now();
    let read = read_image(&tar).unwrap();
    let read_time = t.elapsed();
    assert_eq!(read.files.len(), 2);

    let total: Duration = gen_t.iter().sum();
    let (g, c, p) = (median(&mut gen_t), median(&mut copy_t), median(&mut cp_t));
    println!("images: {n}, tar {} bytes, server binary {} bytes, fsync: {fsync}", probe.len(), server.len());
    println!("base layer built once: {:.2} ms", ms(base_time));
    println!("write_image (median):  {:.3} ms per image, {:.1} images/s", ms(g), 1.0 / g.as_secs_f64());
    println!("write_image (overall): {:.1} images/s", n as f64 / total.as_secs_f64());
    println!("fs::copy same size:    {:.3} ms  (image / fs::copy = {:.2})", ms(c), g.as_secs_f64() / c.as_secs_f64());
    println!("cp process same size:  {:.3} ms  (image / cp = {:.2})", ms(p), g.as_secs_f64() / p.as_secs_f64());
    println!("read_image (one tar):  {:.3} ms", ms(read_time));
    let _ = std::io::stdout().flush();
}

/// The per-customer files: a ~1 KiB license and a key.
fn files(id: &str, key: &[u8]) -> Vec<ImageFile> {
    let mut lic = format!("-----BEGIN FANLIC LICENSE-----\n{id}\n");
    while lic.len() < 1000 {
        lic.push_str("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODkr\n");
    }
    lic.push_str("-----END FANLIC LICENSE-----\n");
    vec![
        ImageFile { path: "app/license/server.lic".to_owned(), data: lic.into_bytes(), mode: 0o644 },
        ImageFile { path: "app/license/image.key".to_owned(), data: key.to_vec(), mode: 0o600 },
    ]
}

fn spec<'a>(id: &'a str, files: &'a [ImageFile], labels: &BTreeMap<String, String>) -> ImageSpec<'a> {
    ImageSpec { license_id: id, files, labels: labels.clone(), env: vec!["TZ=Asia/Shanghai".to_owned()] }
}
