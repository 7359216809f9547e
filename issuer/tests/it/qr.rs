//! QR renderings checked with a real decoder: every PNG is read back by
//! `zbarimg` (Debian `zbar-tools`, which CI installs; without it these tests
//! FAIL) and must give the URL exactly.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use fanlic_issuer::qr::{QUIET_ZONE, Qr};

/// Every URL-safe base64 character, in a URL shaped like an activation link.
fn all_b64_url() -> String {
    let alphabet: String = ('A'..='Z').chain('a'..='z').chain('0'..='9').chain(['-', '_']).collect();
    assert_eq!(alphabet.len(), 64);
    format!("http://127.0.0.1:8080/a/{alphabet}")
}

/// An activation URL of about 250 characters with a varied token.
fn long_url() -> String {
    let alphabet = all_b64_url();
    let token: String = alphabet.chars().skip(24).cycle().step_by(7).take(226).collect();
    let url = format!("http://127.0.0.1:8080/a/{token}");
    assert_eq!(url.len(), 250);
    url
}

fn urls() -> Vec<String> {
    vec!["http://127.0.0.1:8080/a/AbC".to_owned(), long_url(), all_b64_url()]
}

/// `zbarimg`, or a failure that says how to install it.
fn zbarimg() -> PathBuf {
    let path = Path::new("/usr/bin/zbarimg");
    if path.exists() {
        return path.to_owned();
    }
    match Command::new("zbarimg").arg("--version").output() {
        Ok(o) if o.status.success() => PathBuf::from("zbarimg"),
        _ => panic!("zbarimg not found: these tests need the real QR decoder; run `apt-get install zbar-tools`"),
    }
}

/// What zbarimg reads from `file`, with only the trailing newline removed.
fn decode(zbarimg: &Path, file: &Path) -> String {
    let out = Command::new(zbarimg).args(["--raw", "-q"]).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "zbarimg failed on {}: {:?} {}",
        file.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.strip_suffix('\n').unwrap_or(&text).to_owned()
}

#[test]
fn qr_png_decodes_with_zbarimg() {
    let zbarimg = zbarimg();
    let dir = tempfile::tempdir().unwrap();
    for (i, url) in urls().iter().enumerate() {
        let qr = Qr::new(url).unwrap();
        for module_px in [4, 8] {
            let file = dir.path().join(format!("qr-{i}-{module_px}.png"));
            fs::write(&file, qr.to_png(module_px).unwrap()).unwrap();
            assert_eq!(decode(&zbarimg, &file), *url, "{} (width {})", file.display(), qr.width());
        }
    }
}

/// The terminal text back to pixels (a drawn half block is light), as a PNG
/// of 4 pixels a module, so that the half-block scheme is checked by zbarimg.
fn terminal_to_png(text: &str) -> Vec<u8> {
    let mut rows: Vec<Vec<bool>> = Vec::new();
    for line in text.lines() {
        let (top, bottom): (Vec<bool>, Vec<bool>) =
            line.chars().map(|c| (matches!(c, '█' | '▀'), matches!(c, '█' | '▄'))).unzip();
        rows.push(top);
        rows.push(bottom);
    }
    let side = rows[0].len();
    rows.truncate(side); // the blank half row under an odd height
    let scale = 4;
    let mut pixels = Vec::new();
    for row in &rows {
        let line: Vec<u8> = row.iter().flat_map(|&light| [if light { 255 } else { 0 }; 4]).collect();
        for _ in 0..scale {
            pixels.extend_from_slice(&line);
        }
    }
    let mut out = Vec::new();
    let px = u32::try_from(side * scale).unwrap();
    let mut encoder = png::Encoder::new(&mut out, px, px);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

#[test]
fn qr_terminal_decodes_with_zbarimg() {
    let zbarimg = zbarimg();
    let dir = tempfile::tempdir().unwrap();
    for (i, url) in urls().iter().enumerate() {
        let file = dir.path().join(format!("term-{i}.png"));
        fs::write(&file, terminal_to_png(&Qr::new(url).unwrap().to_terminal())).unwrap();
        assert_eq!(decode(&zbarimg, &file), *url, "{}", file.display());
    }
}

#[test]
fn qr_svg_is_scalable_xml() {
    for url in urls() {
        let qr = Qr::new(&url).unwrap();
        let svg = qr.to_svg();
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<svg") && svg.contains("viewBox=\"0 0 "), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
    }
}

#[test]
fn qr_terminal_has_half_block_lines() {
    for url in urls() {
        let qr = Qr::new(&url).unwrap();
        let side = qr.width() + 2 * QUIET_ZONE;
        let text = qr.to_terminal();
        let lines: Vec<&str> = text.lines().collect();
        // (width + 8 + 1) / 2: two module rows a line, quiet zone included.
        assert_eq!(lines.len(), (qr.width() + 8).div_ceil(2), "{url}");
        for line in &lines {
            assert_eq!(line.chars().count(), side, "{line:?}");
            assert!(line.chars().all(|c| matches!(c, ' ' | '█' | '▀' | '▄')), "{line:?}");
        }
    }
}

#[test]
fn qr_errors_name_the_problem() {
    let err = Qr::new(&"A".repeat(3000)).unwrap_err().to_string();
    assert!(err.contains("3000") && err.contains("2331"), "{err}");
    let err = Qr::new("http://x/\u{1b}[31m").unwrap_err().to_string();
    assert!(err.contains("printable ASCII"), "{err}");
}
