//! QR codes for the activation flow: the activation URL rendered as SVG (web
//! page), PNG (mail attachment, download) or Unicode half blocks (terminal).
//!
//! The code is always error correction level M and a single byte-mode
//! segment, in the smallest version that holds the text. Every rendering
//! carries the standard quiet zone of [`QUIET_ZONE`] light modules.
//!
//! Its own crate because both sides draw the same QR codes: the vendor's
//! `fanlic serve` and the customer's authorization server (which must not
//! link the issuer).
//!
//! ```
//! let qr = fanlic_qr::Qr::new("http://127.0.0.1:8080/a/AbC-_")?;
//! let svg = qr.to_svg();
//! let png = qr.to_png(8)?;
//! let text = qr.to_terminal();
//! # assert!(svg.contains("viewBox") && !png.is_empty() && !text.is_empty());
//! # Ok::<(), fanlic_qr::QrError>(())
//! ```

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use qrcode::bits::Bits;
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode, Version};

/// Light modules around the code on every side, as the standard requires.
pub const QUIET_ZONE: usize = 4;

/// The longest text accepted, in bytes: byte mode, level M, version 40.
pub const MAX_LEN: usize = 2331;

/// The largest module size [`Qr::to_png`] accepts, in pixels; bounds the
/// image (at most 5920 pixels a side) so a bad argument cannot exhaust memory.
pub const MAX_MODULE_PX: u32 = 32;

/// SVG pixels per module: only the default size, since the viewBox lets
/// the image scale to any width.
const SVG_MODULE_PX: u32 = 8;

/// Why a QR code could not be built or rendered.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// The text is empty: there is nothing to activate.
    #[error("the text for the QR code is empty")]
    Empty,
    /// The text is longer than a QR code (level M, byte mode) holds.
    #[error("the text is {len} bytes, longer than a QR code holds ({limit} bytes at error correction level M)")]
    TooLong {
        /// The text's length in bytes.
        len: usize,
        /// The most a QR code holds: [`MAX_LEN`].
        limit: usize,
    },
    /// The text has a character outside printable ASCII (space to `~`).
    #[error("the text has {found:?} at character {position}; only printable ASCII (space to '~') is accepted")]
    NotPrintableAscii {
        /// Zero-based character index of the first offending character.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The PNG module size is 0 or above [`MAX_MODULE_PX`].
    #[error("a module of {module_px} pixels is not accepted; use 1 to {max}")]
    ModuleSize {
        /// The requested size.
        module_px: u32,
        /// The largest size accepted: [`MAX_MODULE_PX`].
        max: u32,
    },
    /// The QR encoder refused the data (not expected after the checks above).
    #[error("QR encoding failed: {0}")]
    Encode(String),
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

/// A QR code's module matrix, ready to render.
#[derive(Clone)]
pub struct Qr {
    /// The code, kept for the SVG renderer.
    code: QrCode,
    /// Row-major, `true` for a dark module; `width * width` entries.
    dark: Vec<bool>,
    /// Modules a side, without the quiet zone.
    width: usize,
}

impl Qr {
    /// Encodes `url` (printable ASCII, 1 to [`MAX_LEN`] bytes) at error
    /// correction level M in byte mode, in the smallest version that fits.
    ///
    /// # Errors
    ///
    /// [`QrError::Empty`], [`QrError::NotPrintableAscii`] or
    /// [`QrError::TooLong`] for such text.
    pub fn new(url: &str) -> Result<Self, QrError> {
        if url.is_empty() {
            return Err(QrError::Empty);
        }
        if let Some((position, found)) = url.chars().enumerate().find(|(_, c)| !(' '..='~').contains(c)) {
            return Err(QrError::NotPrintableAscii { position, found });
        }
        if url.len() > MAX_LEN {
            return Err(QrError::TooLong { len: url.len(), limit: MAX_LEN });
        }
        // One byte-mode segment, not the crate's mixed-mode optimiser: every
        // reader handles byte mode, and URL text gains little from the others.
        let code = (1..=40)
            .find_map(|v| byte_mode(url.as_bytes(), Version::Normal(v)).ok())
            .ok_or(QrError::TooLong { len: url.len(), limit: MAX_LEN })?;
        let width = code.width();
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Self { code, dark, width })
    }

    /// Modules a side, without the quiet zone (21 for version 1, up to 177).
    #[must_use]
    pub fn width(&self) -> usize {
        self.width
    }

    /// A standalone SVG document (`<?xml ...?><svg ...>`), black on white,
    /// with the quiet zone and a `viewBox` so that it scales to any size;
    /// `shape-rendering="crispEdges"` keeps the modules sharp.
    #[must_use]
    pub fn to_svg(&self) -> String {
        self.code
            .render::<svg::Color<'_>>()
            .quiet_zone(true)
            .module_dimensions(SVG_MODULE_PX, SVG_MODULE_PX)
            .dark_color(svg::Color("#000000"))
            .light_color(svg::Color("#ffffff"))
            .build()
    }

    /// An 8-bit grayscale PNG, black on white, `module_px` pixels a module,
    /// with the quiet zone: `(width + 8) * module_px` pixels a side.
    ///
    /// # Errors
    ///
    /// [`QrError::ModuleSize`] when `module_px` is 0 or above
    /// [`MAX_MODULE_PX`]; [`QrError::Png`] if the encoder fails.
    pub fn to_png(&self, module_px: u32) -> Result<Vec<u8>, QrError> {
        if module_px == 0 || module_px > MAX_MODULE_PX {
            return Err(QrError::ModuleSize { module_px, max: MAX_MODULE_PX });
        }
        let px = module_px as usize;
        let side_modules = self.padded_width();
        let side_px = side_modules * px;
        let side = u32::try_from(side_px).map_err(|_| QrError::ModuleSize { module_px, max: MAX_MODULE_PX })?;
        let mut pixels = Vec::with_capacity(side_px * side_px);
        for y in 0..side_modules {
            let row: Vec<u8> = (0..side_modules)
                .flat_map(|x| core::iter::repeat_n(if self.padded_dark(x, y) { 0 } else { 255 }, px))
                .collect();
            for _ in 0..px {
                pixels.extend_from_slice(&row);
            }
        }
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&pixels)?;
        writer.finish()?;
        Ok(out)
    }

    /// The code as Unicode half blocks for a terminal, quiet zone included:
    /// each line holds two module rows, `(width + 8 + 1) / 2` lines of
    /// `width + 8` characters, each line ending in `\n`.
    ///
    /// Light modules are drawn (`█`, `▀`, `▄`) and dark modules left blank,
    /// so the code reads right on the usual dark-background terminal, where
    /// drawn cells are light. On a light-background terminal it shows
    /// inverted, which many phone readers also accept. The row below the
    /// last one of an odd-height code is left blank.
    #[must_use]
    pub fn to_terminal(&self) -> String {
        let side = self.padded_width();
        let mut out = String::with_capacity(side.div_ceil(2) * (side * 3 + 1));
        for y in (0..side).step_by(2) {
            for x in 0..side {
                let top = !self.padded_dark(x, y);
                let bottom = y + 1 < side && !self.padded_dark(x, y + 1);
                out.push(match (top, bottom) {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    (false, false) => ' ',
                });
            }
            out.push('\n');
        }
        out
    }

    /// Modules a side with the quiet zone.
    fn padded_width(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// Whether the module at `(x, y)` of the quiet-zone-padded grid is dark;
    /// anything outside the code (the quiet zone) is light.
    fn padded_dark(&self, x: usize, y: usize) -> bool {
        let (Some(x), Some(y)) = (x.checked_sub(QUIET_ZONE), y.checked_sub(QUIET_ZONE)) else {
            return false;
        };
        x < self.width && y < self.width && self.dark.get(y * self.width + x).copied().unwrap_or(false)
    }
}

// By hand: `QrCode` has no `Debug`, and the matrix is noise in a log.
impl core::fmt::Debug for Qr {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Qr").field("version", &self.code.version()).field("width", &self.width).finish_non_exhaustive()
    }
}

/// `data` as one byte-mode segment in `version` at level M.
fn byte_mode(data: &[u8], version: Version) -> Result<QrCode, QrError> {
    let encode = |e: qrcode::types::QrError| QrError::Encode(e.to_string());
    let mut bits = Bits::new(version);
    bits.push_byte_data(data).map_err(encode)?;
    bits.push_terminator(EcLevel::M).map_err(encode)?;
    QrCode::with_bits(bits, EcLevel::M).map_err(encode)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

    use super::*;

    /// Width and height from a PNG's IHDR chunk (always first).
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        (w, h)
    }

    /// Decodes a PNG back to grayscale pixels with the png crate.
    fn png_pixels(png: &[u8]) -> (png::OutputInfo, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info, buf)
    }

    #[test]
    fn qr_smallest_version_for_short_text() {
        // 14 bytes fit version 1-M in byte mode (capacity 14).
        assert_eq!(Qr::new("http://a.b/c/d").unwrap().width(), 21);
        assert_eq!(Qr::new("http://a.b/c/de").unwrap().width(), 25);
    }

    #[test]
    fn qr_limit_is_exact() {
        let max = "A".repeat(MAX_LEN);
        assert_eq!(Qr::new(&max).unwrap().width(), 177);
        let over = "A".repeat(MAX_LEN + 1);
        let err = Qr::new(&over).unwrap_err();
        assert!(matches!(err, QrError::TooLong { len: 2332, limit: 2331 }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("2332") && msg.contains("2331"), "{msg}");
    }

    #[test]
    fn qr_refuses_non_printable_and_empty() {
        for (text, position, found) in [("ab\ncd", 2, '\n'), ("http://é", 7, 'é'), ("\u{7f}", 0, '\u{7f}')] {
            let err = Qr::new(text).unwrap_err();
            assert!(
                matches!(err, QrError::NotPrintableAscii { position: p, found: f } if p == position && f == found),
                "{err:?}"
            );
            assert!(err.to_string().contains("printable ASCII"));
        }
        assert!(matches!(Qr::new(""), Err(QrError::Empty)));
        // The whole printable range is accepted.
        let all: String = (' '..='~').collect();
        Qr::new(&all).unwrap();
    }

    #[test]
    fn qr_png_dimensions_and_modules_round_trip() {
        let qr = Qr::new("http://127.0.0.1:8080/a/AbC-_").unwrap();
        for module_px in [1, 3, 8] {
            let png = qr.to_png(module_px).unwrap();
            let side = (qr.width() + 2 * QUIET_ZONE) as u32 * module_px;
            assert_eq!(png_size(&png), (side, side));
            let (info, pixels) = png_pixels(&png);
            assert_eq!(info.color_type, png::ColorType::Grayscale);
            assert_eq!(info.bit_depth, png::BitDepth::Eight);
            let side = side as usize;
            let px = module_px as usize;
            // Every pixel matches its module, quiet zone light.
            for y in 0..side {
                for x in 0..side {
                    let dark = qr.padded_dark(x / px, y / px);
                    assert_eq!(pixels[y * side + x], if dark { 0 } else { 255 }, "({x}, {y})");
                }
            }
            for i in 0..QUIET_ZONE * px {
                assert_eq!(pixels[i * side + side / 2], 255);
            }
        }
        // The finder pattern's corner is the first dark module.
        assert!(qr.padded_dark(QUIET_ZONE, QUIET_ZONE));
        assert!(!qr.padded_dark(QUIET_ZONE - 1, QUIET_ZONE));
    }

    #[test]
    fn qr_png_module_size_bounds() {
        let qr = Qr::new("x").unwrap();
        assert!(matches!(qr.to_png(0), Err(QrError::ModuleSize { module_px: 0, .. })));
        assert!(matches!(qr.to_png(MAX_MODULE_PX + 1), Err(QrError::ModuleSize { .. })));
        qr.to_png(MAX_MODULE_PX).unwrap();
    }

    #[test]
    fn qr_terminal_shape_and_inverse_scheme() {
        let qr = Qr::new("http://127.0.0.1:8080/a/xyz").unwrap();
        let side = qr.width() + 2 * QUIET_ZONE;
        let text = qr.to_terminal();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), side.div_ceil(2));
        assert!(lines.iter().all(|l| l.chars().count() == side));
        // Quiet zone is light, so drawn: the top two lines are full blocks.
        assert!(lines[0].chars().all(|c| c == '█'));
        assert!(lines[1].chars().all(|c| c == '█'));
        // Row 4 (line 2, top half) starts the finder: column 4 is dark.
        let c: Vec<char> = lines[2].chars().collect();
        assert_eq!(c[3], '█');
        assert!(c[4] == ' ' || c[4] == '▄');
    }

    #[test]
    fn qr_svg_has_viewbox_and_quiet_zone() {
        let qr = Qr::new("http://127.0.0.1:8080/a/xyz").unwrap();
        let svg = qr.to_svg();
        let side = (qr.width() + 2 * QUIET_ZONE) as u32 * SVG_MODULE_PX;
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains(&format!(r#"viewBox="0 0 {side} {side}""#)), "{svg}");
        assert!(svg.contains(r##"fill="#000000""##) && svg.contains(r##"fill="#ffffff""##));
        // The first dark module sits at the quiet zone's inner corner.
        let origin = QUIET_ZONE as u32 * SVG_MODULE_PX;
        assert!(svg.contains(&format!("M{origin} {origin}")), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
