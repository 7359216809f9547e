//! The license server image, `fanruan_license_server.tar`: a reproducible
//! OCI/Docker image archive, written and checked without Docker.
//!
//! The archive has the dual layout `docker save` writes since Docker 25, so
//! that `docker load`, `podman load`, skopeo (`docker-archive:` and
//! `oci-archive:`) and umoci all accept it:
//!
//! ```text
//! blobs/                      directory
//! blobs/sha256/               directory
//! blobs/sha256/<hex>          config, manifest and the two layers
//! index.json                  OCI index; the manifest descriptor is tagged with
//!                             io.containerd.image.name / org.opencontainers.image.ref.name
//! manifest.json               Docker's: Config, Layers, RepoTags
//! oci-layout                  {"imageLayoutVersion": "1.0.0"}
//! repositories                Docker's legacy tag file
//! ```
//!
//! The image has two uncompressed layers. The **bottom** one holds only the
//! server binary and its directories, so it is the same for every customer:
//! build a [`BaseLayer`] once per server binary and reuse it for every image.
//! The **top** one holds the customer's files ([`ImageFile`]).
//!
//! Same inputs give the same bytes (hence the same sha256 of the whole tar):
//! ustar headers with mtime 0, uid/gid 0 and no user or group names, entries
//! sorted by name, JSON with sorted keys and no whitespace, `created` at the
//! Unix epoch. [`read_image`] checks all of it on a tar it is given, and never
//! panics on hostile input: every length comes from the input slice.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use ring::digest::{Context, SHA256};
use serde_json::{Map, Value, json};

mod read;
mod tar;
mod write;

pub use read::read_image;
use tar::{BLOCK, Kind, write_entry};
use write::sha256_hex;
pub use write::write_image;

/// The image's repository; the tag is the license id.
pub const REPOSITORY: &str = "fanruan/license-server";
/// The server binary inside the image, the entrypoint.
pub const SERVER_PATH: &str = "/app/fanruan-license-server";
/// The configuration directory, declared as a volume (mode 0700).
pub const CONFIG_DIR: &str = "/app/config";
/// The port the server listens on, declared as exposed (TCP).
pub const PORT: u16 = 18081;
/// The working directory of the server process.
pub const WORKING_DIR: &str = "/app";

const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const MT_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Uncompressed: the layer's digest is its diff id, and the tar stays
/// reproducible without depending on a compressor's output.
const MT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// containerd's annotation with the full reference, as Docker 25 writes it.
const ANN_IMAGE_NAME: &str = "io.containerd.image.name";
/// The OCI annotation with the tag only, as Docker 25 writes it (umoci's
/// `--image DIR:TAG` looks it up).
const ANN_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Byte for byte what Docker 25 writes (with the space).
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion": "1.0.0"}"#;
const EPOCH: &str = "1970-01-01T00:00:00Z";
/// The registry Docker expands a short name to.
const DEFAULT_REGISTRY: &str = "docker.io/";

const DIR_MODE: u32 = 0o755;
const OUTER_FILE_MODE: u32 = 0o644;
const BLOBS: &str = "blobs/sha256/";

/// The bottom layer's entries (tar names), in order.
const BASE_APP: &str = "app/";
const BASE_CONFIG: &str = "app/config/";
const BASE_SERVER: &str = "app/fanruan-license-server";
const CONFIG_DIR_MODE: u32 = 0o700;
const SERVER_MODE: u32 = 0o755;

/// Why an image could not be written or was refused by [`read_image`]. The
/// reading variants name the entry and, where useful, the byte offset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The license id is not 32 lowercase hex digits.
    #[error("license id {id:?} is not 32 lowercase hex digits; pass the id of an issued license")]
    LicenseId {
        /// The id given.
        id: String,
    },
    /// A top-layer file path is absolute, has `..`, `.` or an empty component, etc.
    #[error("image file path {path:?} is refused: {reason}; use a relative path such as app/license/server.lic")]
    BadPath {
        /// The path given.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two top-layer files have the same path, or one is another's directory.
    #[error("image file path {path:?} is given twice, or is both a file and a directory; give each path once")]
    DuplicatePath {
        /// The path given.
        path: String,
    },
    /// A top-layer file would replace an entry of the bottom layer.
    #[error(
        "image file {path:?} would replace the server's own {path:?} from the bottom layer; \
         put license files elsewhere, e.g. under app/license/"
    )]
    ReservedPath {
        /// The path given.
        path: String,
    },
    /// A mode with more than permission bits.
    #[error(
        "image file {path:?} has mode {mode:#o}; only permission bits 0 to 0o777 are allowed (no setuid, setgid or sticky)"
    )]
    BadMode {
        /// The path given.
        path: String,
        /// The mode given.
        mode: u32,
    },
    /// The path does not fit a ustar header's name and prefix fields.
    #[error("path {path:?} does not fit a ustar header (at most 100 bytes after a '/' and 155 before it); shorten it")]
    PathTooLong {
        /// The path given.
        path: String,
    },
    /// A file larger than a ustar entry holds.
    #[error("{path:?} is {size} bytes, more than a ustar entry holds (8 GiB - 1)")]
    TooLarge {
        /// The entry.
        path: String,
        /// Its size.
        size: u64,
    },
    /// An environment entry that is not `NAME=value`.
    #[error("environment entry {entry:?} is refused: write NAME=value with a non-empty NAME and no NUL byte")]
    BadEnv {
        /// The entry given.
        entry: String,
    },
    /// A label with an empty key or a NUL byte.
    #[error("label {key:?} is refused: keys must be non-empty and keys and values must have no NUL byte")]
    BadLabel {
        /// The key given.
        key: String,
    },
    /// Encoding JSON failed (not expected: the values are plain strings and maps).
    #[error("encoding {what} failed: {reason}")]
    Encode {
        /// Which document.
        what: &'static str,
        /// serde_json's message.
        reason: String,
    },
    /// Writing the tar to the output failed.
    #[error("writing the image failed: {0}")]
    Io(#[from] io::Error),

    /// The input does not start with a ustar header.
    #[error("this is not a tar file (no valid ustar header at the start); check that it is fanruan_license_server.tar")]
    NotTar,
    /// An entry or the end of the archive lies past the end of the input.
    #[error("the {archive} is truncated at byte {offset} ({what}); it was cut short in transfer, copy it again")]
    Truncated {
        /// "image" or which layer.
        archive: &'static str,
        /// Offset of the header whose data is missing.
        offset: usize,
        /// What is missing.
        what: String,
    },
    /// A header's checksum, magic or number field is wrong.
    #[error("bad tar header in the {archive} at byte {offset}: {reason}; the file is damaged, copy it again")]
    BadHeader {
        /// "image" or which layer.
        archive: &'static str,
        /// Offset of the header.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An entry that this image format does not have (type, name, order).
    #[error(
        "unexpected entry {name:?} in the {archive}: {reason}; this is not an image fanlic wrote, or it was edited"
    )]
    UnexpectedEntry {
        /// "image" or which layer.
        archive: &'static str,
        /// The entry's name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A required entry or blob is absent.
    #[error("{name} is missing from the image; it is damaged or not an image fanlic wrote, ask for a new one")]
    Missing {
        /// The entry's name.
        name: String,
    },
    /// A JSON document does not parse.
    #[error("{name} is not valid JSON ({reason}); the image is damaged, ask for a new one")]
    BadJson {
        /// The entry's name.
        name: String,
        /// serde_json's message.
        reason: String,
    },
    /// A blob's content does not hash to its name.
    #[error("blob {name} has sha256 {actual}, not its name: the content was changed or damaged, ask for a new image")]
    BlobDigest {
        /// The blob's entry name.
        name: String,
        /// The sha256 of its content, hex.
        actual: String,
    },
    /// A blob's length differs from the size in its descriptor.
    #[error("{name} is {actual} bytes but its descriptor says {expected}; the image was edited, ask for a new one")]
    BlobSize {
        /// The blob's entry name.
        name: String,
        /// The descriptor's size.
        expected: u64,
        /// The blob's length.
        actual: u64,
    },
    /// The index, the manifests and the config disagree, or a field is wrong.
    #[error("{what}; the image's index, manifests and config disagree: it was edited, ask for a new one")]
    Inconsistent {
        /// What disagrees.
        what: String,
    },
    /// A layer's digest is not the diff id the config lists for it.
    #[error(
        "layer {index} is sha256:{actual} but the config's rootfs.diff_ids says {expected}; the image was edited, ask for a new one"
    )]
    DiffId {
        /// Zero-based layer index.
        index: usize,
        /// The config's diff id.
        expected: String,
        /// The layer's sha256, hex.
        actual: String,
    },
    /// No valid `fanruan/license-server:<license id>` tag.
    #[error("the image has no valid tag {REPOSITORY}:<license id>: {reason}; ask for a new image")]
    Tag {
        /// What is wrong.
        reason: String,
    },
    /// The image is well formed but not the layout fanlic writes.
    #[error("unexpected image layout: {reason}; this is not an image fanlic wrote")]
    Layout {
        /// What differs.
        reason: String,
    },
}

/// One file of the top layer: a relative path such as
/// `app/license/server.lic`, its bytes and its permission bits (e.g. 0o644).
#[derive(Clone, PartialEq, Eq)]
pub struct ImageFile {
    /// Relative path with `/` separators, no `.`/`..`/empty components.
    pub path: String,
    /// The file's content.
    pub data: Vec<u8>,
    /// Permission bits, 0 to 0o777.
    pub mode: u32,
}

/// Path, mode and length only: the data may be a key.
impl fmt::Debug for ImageFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageFile")
            .field("path", &self.path)
            .field("mode", &format_args!("{:#o}", self.mode))
            .field("len", &self.data.len())
            .finish()
    }
}

/// The bottom layer (server binary and its directories) as finished tar
/// bytes: the same for every customer, so built once and shared by every
/// [`write_image`] call.
#[derive(Clone)]
pub struct BaseLayer {
    tar: Vec<u8>,
    hex: String,
}

/// Digest and length only, not megabytes of tar.
impl fmt::Debug for BaseLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseLayer").field("digest", &self.digest()).field("len", &self.tar.len()).finish()
    }
}

impl BaseLayer {
    /// The layer holding `app/` (0755), `app/config/` (0700, the volume) and
    /// `app/fanruan-license-server` (0755) with `server_binary`. Fails only
    /// for a binary of 8 GiB or more.
    pub fn new(server_binary: &[u8]) -> Result<Self, ImageError> {
        let mut tar = Vec::with_capacity(server_binary.len() + 5 * BLOCK);
        write_entry(&mut tar, BASE_APP, Kind::Dir, DIR_MODE, &[])?;
        write_entry(&mut tar, BASE_CONFIG, Kind::Dir, CONFIG_DIR_MODE, &[])?;
        write_entry(&mut tar, BASE_SERVER, Kind::File, SERVER_MODE, server_binary)?;
        tar.extend_from_slice(&[0; 2 * BLOCK]);
        let hex = sha256_hex(&tar);
        Ok(Self { tar, hex })
    }

    /// `sha256:<hex>` of the layer tar: its OCI digest and diff id.
    pub fn digest(&self) -> String {
        format!("sha256:{}", self.hex)
    }

    /// The layer tar's length in bytes.
    pub fn len(&self) -> u64 {
        self.tar.len() as u64
    }

    /// Always false: a layer has at least its headers. (For clippy's `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        self.tar.is_empty()
    }
}

/// What varies between images: the license id (the tag), the top layer's
/// files, and the config's labels and environment.
#[derive(Debug, Clone)]
pub struct ImageSpec<'a> {
    /// 32 lowercase hex digits; the tag is `fanruan/license-server:<id>`.
    pub license_id: &'a str,
    /// The top layer's files, in any order (they are sorted).
    pub files: &'a [ImageFile],
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// `config.Env`, `NAME=value` entries, kept in the given order.
    pub env: Vec<String>,
}

/// The identities of a written image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageDigest {
    /// `fanruan/license-server:<license id>`.
    pub tag: String,
    /// `sha256:<hex>` of the whole tar as written: equal for equal inputs.
    pub tar_sha256: String,
    /// The tar's length in bytes.
    pub tar_len: u64,
    /// `sha256:<hex>` of the OCI manifest (what a registry would call the image digest).
    pub manifest: String,
    /// `sha256:<hex>` of the config (Docker's image id).
    pub config: String,
    /// `sha256:<hex>` of the bottom layer (the [`BaseLayer::digest`]).
    pub base_layer: String,
    /// `sha256:<hex>` of the top layer.
    pub top_layer: String,
}

/// The config fields [`read_image`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// `config.Entrypoint`.
    pub entrypoint: Vec<String>,
    /// `config.Env`.
    pub env: Vec<String>,
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// The keys of `config.ExposedPorts`, e.g. `18081/tcp`.
    pub exposed_ports: Vec<String>,
    /// The keys of `config.Volumes`.
    pub volumes: Vec<String>,
    /// `config.WorkingDir`.
    pub working_dir: String,
}

/// A checked image archive, as [`read_image`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTar {
    /// manifest.json's `RepoTags` (exactly one).
    pub repo_tags: Vec<String>,
    /// The license id from the tag.
    pub license_id: String,
    /// `sha256:<hex>` of the OCI manifest.
    pub manifest_digest: String,
    /// `sha256:<hex>` of the config (Docker's image id).
    pub config_digest: String,
    /// The config's fields.
    pub config: ImageConfig,
    /// `sha256:<hex>` of the bottom layer; compare with [`BaseLayer::digest`].
    pub base_layer_digest: String,
    /// Length of the server binary in the bottom layer.
    pub server_binary_len: u64,
    /// `sha256:<hex>` of the top layer.
    pub top_layer_digest: String,
    /// The top layer's regular files, sorted by path.
    pub files: Vec<ImageFile>,
}

// ---------------------------------------------------------------- writing

fn check_license_id(id: &str) -> Result<(), ImageError> {
    if is_hex(id, 32) { Ok(()) } else { Err(ImageError::LicenseId { id: id.to_owned() }) }
}

/// Exactly `len` lowercase hex digits.
fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ---------------------------------------------------------------- reading

/// Lowercase hex of `bytes`, as digests are written.
fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::tar::{octal, padding};
    use super::write::{descriptor, dir_mode, to_json};
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";
    const ID2: &str = "fedcba9876543210fedcba9876543210";

    /// A license file that differs per license id, and a key.
    fn files(id: &str) -> Vec<ImageFile> {
        vec![
            ImageFile {
                path: "app/license/server.lic".to_owned(),
                data: format!("LICENSE {id}\n").repeat(30).into(),
                mode: 0o644,
            },
            ImageFile { path: "app/license/image.key".to_owned(), data: vec![7; 32], mode: 0o600 },
        ]
    }

    fn spec<'a>(id: &'a str, files: &'a [ImageFile]) -> ImageSpec<'a> {
        ImageSpec {
            license_id: id,
            files,
            labels: [("org.opencontainers.image.title", "FanRuan license server"), ("com.fanruan.customer", "ACME")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            env: vec!["PATH=/app".to_owned(), "TZ=Asia/Shanghai".to_owned()],
        }
    }

    fn base() -> BaseLayer {
        BaseLayer::new(&(0..3000u32).map(|i| (i % 251) as u8).collect::<Vec<_>>()).unwrap()
    }

    fn image(id: &str) -> (Vec<u8>, ImageDigest) {
        let files = files(id);
        let mut out = Vec::new();
        let digest = write_image(&base(), &spec(id, &files), &mut out).unwrap();
        (out, digest)
    }

    /// (offset of header, name, data range) of every entry.
    fn layout(tar: &[u8]) -> Vec<(usize, String, core::ops::Range<usize>)> {
        let mut at = 0;
        let mut out = Vec::new();
        while tar[at] != 0 {
            let name = String::from_utf8(tar[at..at + 100].iter().take_while(|&&b| b != 0).copied().collect()).unwrap();
            let size = octal(&tar[at + 124..at + 136]).unwrap() as usize;
            out.push((at, name, at + BLOCK..at + BLOCK + size));
            at += BLOCK + size + padding(size);
        }
        out
    }

    fn find(tar: &[u8], name: &str) -> (usize, core::ops::Range<usize>) {
        layout(tar).into_iter().find(|(_, n, _)| n == name).map(|(at, _, r)| (at, r)).unwrap()
    }

    /// Rewrites the checksum of the header at `at` after an edit.
    fn fix_checksum(tar: &mut [u8], at: usize) {
        tar[at + 148..at + 156].copy_from_slice(b"        ");
        let sum: u32 = tar[at..at + BLOCK].iter().map(|&b| u32::from(b)).sum();
        tar[at + 148..at + 156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    #[test]
    fn reproducible_and_base_shared() {
        let (a, da) = image(ID);
        let (b, db) = image(ID);
        assert_eq!(a, b);
        assert_eq!(da, db);
        assert_eq!(da.tar_sha256, format!("sha256:{}", sha256_hex(&a)));
        assert_eq!(da.tar_len, a.len() as u64);
        let (c, dc) = image(ID2);
        assert_ne!(a, c);
        assert_eq!(da.base_layer, dc.base_layer);
        assert_ne!(da.top_layer, dc.top_layer);
        // The bottom layer blob is byte for byte the same in both tars.
        let hex = da.base_layer.strip_prefix("sha256:").unwrap();
        let name = format!("{BLOBS}{hex}");
        let (_, ra) = find(&a, &name);
        let (_, rc) = find(&c, &name);
        assert_eq!(a[ra], c[rc]);
    }

    #[test]
    fn headers_sorted_zeroed_ustar() {
        let (tar, d) = image(ID);
        let entries = layout(&tar);
        let names: Vec<&str> = entries.iter().map(|(_, n, _)| n.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(names[..2], ["blobs/", "blobs/sha256/"]);
        assert_eq!(names[names.len() - 4..], ["index.json", "manifest.json", "oci-layout", "repositories"]);
        assert_eq!(names.len(), 2 + 4 + 4);
        let top = &tar[find(&tar, &format!("{BLOBS}{}", d.top_layer.strip_prefix("sha256:").unwrap())).1];
        let bottom = &tar[find(&tar, &format!("{BLOBS}{}", d.base_layer.strip_prefix("sha256:").unwrap())).1];
        for archive in [&tar[..], top, bottom] {
            for (at, name, _) in layout(archive) {
                let h = &archive[at..at + BLOCK];
                assert_eq!(&h[108..124], b"0000000\x000000000\x00", "uid/gid of {name}");
                assert_eq!(&h[136..148], b"00000000000\0", "mtime of {name}");
                assert_eq!(&h[257..265], b"ustar\x0000", "magic of {name}");
                assert!(h[265..329].iter().all(|&b| b == 0), "uname/gname of {name}");
            }
        }
        let top_names: Vec<String> = layout(top).into_iter().map(|e| e.1).collect();
        assert_eq!(top_names, ["app/", "app/license/", "app/license/image.key", "app/license/server.lic"]);
        let bottom_names: Vec<String> = layout(bottom).into_iter().map(|e| e.1).collect();
        assert_eq!(bottom_names, [BASE_APP, BASE_CONFIG, BASE_SERVER]);
        assert_eq!(&tar[find(&tar, "oci-layout").1], OCI_LAYOUT);
    }

    #[test]
    fn json_is_compact_with_sorted_keys() {
        let (tar, d) = image(ID);
        let index = &tar[find(&tar, "index.json").1];
        let text = core::str::from_utf8(index).unwrap();
        assert!(text.starts_with(r#"{"manifests":[{"annotations":{"io.containerd.image.name":"docker.io/fanruan/license-server:0123456789abcdef0123456789abcdef","org.opencontainers.image.ref.name":"0123456789abcdef0123456789abcdef"},"digest":"sha256:"#), "{text}");
        assert!(
            text.ends_with(r#""mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2}"#),
            "{text}"
        );
        let config = &tar[find(&tar, &format!("{BLOBS}{}", d.config.strip_prefix("sha256:").unwrap())).1];
        let text = core::str::from_utf8(config).unwrap();
        assert!(text.starts_with(r#"{"architecture":"amd64","config":{"Entrypoint":["/app/fanruan-license-server"],"Env":["PATH=/app","TZ=Asia/Shanghai"],"ExposedPorts":{"18081/tcp":{}},"Labels":{"com.fanruan.customer":"ACME","#), "{text}");
        assert!(!text.contains(' ') || text.contains("FanRuan license server"));
        let docker = &tar[find(&tar, "manifest.json").1];
        assert!(docker.starts_with(br#"[{"Config":"blobs/sha256/"#));
        assert!(docker.ends_with(b"\"]}]\n"));
    }

    #[test]
    fn round_trip() {
        let (tar, d) = image(ID);
        let got = read_image(&tar).unwrap();
        assert_eq!(got.repo_tags, [format!("{REPOSITORY}:{ID}")]);
        assert_eq!(got.license_id, ID);
        assert_eq!(got.manifest_digest, d.manifest);
        assert_eq!(got.config_digest, d.config);
        assert_eq!(got.base_layer_digest, base().digest());
        assert_eq!(got.top_layer_digest, d.top_layer);
        assert_eq!(got.server_binary_len, 3000);
        let mut want = files(ID);
        want.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(got.files, want);
        let s = spec(ID, &want);
        assert_eq!(got.config.entrypoint, [SERVER_PATH]);
        assert_eq!(got.config.env, s.env);
        assert_eq!(got.config.labels, s.labels);
        assert_eq!(got.config.exposed_ports, ["18081/tcp"]);
        assert_eq!(got.config.volumes, [CONFIG_DIR]);
        assert_eq!(got.config.working_dir, WORKING_DIR);
    }

    #[test]
    fn long_paths_deep_dirs_and_volume_mode() {
        let long = format!("app/{}/{}/{}", "d".repeat(60), "e".repeat(60), "f".repeat(90));
        let files = vec![
            ImageFile { path: long.clone(), data: vec![1; 600], mode: 0o640 },
            ImageFile { path: "app/config/server.properties".to_owned(), data: b"port=18081\n".to_vec(), mode: 0o600 },
            ImageFile { path: "empty".to_owned(), data: Vec::new(), mode: 0 },
        ];
        let mut out = Vec::new();
        write_image(&base(), &spec(ID, &files), &mut out).unwrap();
        let got = read_image(&out).unwrap();
        let paths: Vec<&str> = got.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["app/config/server.properties", long.as_str(), "empty"]);
        assert_eq!(got.files[1].data, vec![1; 600]);
        assert_eq!(dir_mode("app/config/"), 0o700);
        let too_long = ImageFile { path: format!("app/{}", "x".repeat(101)), data: Vec::new(), mode: 0o644 };
        let err = write_image(&base(), &spec(ID, &[too_long]), &mut Vec::new()).unwrap_err();
        assert!(matches!(err, ImageError::PathTooLong { .. }), "{err}");
    }

    #[test]
    fn refused_specs_write_nothing() {
        let file = |path: &str, mode| ImageFile { path: path.to_owned(), data: vec![1], mode };
        let cases: Vec<(Vec<ImageFile>, &str)> = vec![
            (vec![file("/etc/passwd", 0o644)], "BadPath"),
            (vec![file("app/../etc/passwd", 0o644)], "BadPath"),
            (vec![file("app//x", 0o644)], "BadPath"),
            (vec![file("app/x/", 0o644)], "BadPath"),
            (vec![file("./x", 0o644)], "BadPath"),
            (vec![file("", 0o644)], "BadPath"),
            (vec![file("app/.wh.fanruan-license-server", 0o644)], "BadPath"),
            (vec![file("a", 0o644), file("a", 0o600)], "DuplicatePath"),
            (vec![file("a", 0o644), file("a/b", 0o600)], "DuplicatePath"),
            (vec![file("a/b", 0o644), file("a", 0o600)], "DuplicatePath"),
            (vec![file("app/fanruan-license-server", 0o755)], "ReservedPath"),
            (vec![file("app/config", 0o755)], "ReservedPath"),
            (vec![file("x", 0o4755)], "BadMode"),
        ];
        for (files, want) in cases {
            let mut out = Vec::new();
            let err = write_image(&base(), &spec(ID, &files), &mut out).unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "{files:?}: {err:?}");
            assert!(out.is_empty());
        }
        for id in [
            "",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcde",
            "g123456789abcdef0123456789abcdef",
        ] {
            let err = write_image(&base(), &spec(id, &[]), &mut Vec::new()).unwrap_err();
            assert!(matches!(err, ImageError::LicenseId { .. }), "{err}");
        }
        let mut s = spec(ID, &[]);
        s.env.push("=x".to_owned());
        assert!(matches!(write_image(&base(), &s, &mut Vec::new()), Err(ImageError::BadEnv { .. })));
        let mut s = spec(ID, &[]);
        s.labels.insert(String::new(), "x".to_owned());
        assert!(matches!(write_image(&base(), &s, &mut Vec::new()), Err(ImageError::BadLabel { .. })));
    }

    #[test]
    fn flipped_byte_in_each_blob() {
        let (tar, d) = image(ID);
        for (what, digest) in
            [("bottom", &d.base_layer), ("top", &d.top_layer), ("config", &d.config), ("manifest", &d.manifest)]
        {
            let hex = digest.strip_prefix("sha256:").unwrap();
            let (_, range) = find(&tar, &format!("{BLOBS}{hex}"));
            for pos in [range.start, range.start + range.len() / 2, range.end - 1] {
                let mut bad = tar.clone();
                bad[pos] ^= 0x01;
                match read_image(&bad) {
                    Err(ImageError::BlobDigest { name, actual }) => {
                        assert_eq!(name, format!("{BLOBS}{hex}"), "{what}");
                        assert_eq!(actual, sha256_hex(&bad[range.clone()]));
                    }
                    other => panic!("{what} at {pos}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn truncated_and_not_tar() {
        let (tar, _) = image(ID);
        assert!(matches!(read_image(&[]), Err(ImageError::NotTar)));
        assert!(matches!(read_image(b"PK\x03\x04 not a tar"), Err(ImageError::NotTar)));
        assert!(matches!(read_image(&[0x42; 2048]), Err(ImageError::NotTar)));
        for cut in [1, 511, 512, 1000, tar.len() / 2, tar.len() - 1024, tar.len() - 512] {
            let err = read_image(&tar[..tar.len() - cut]).unwrap_err();
            assert!(matches!(err, ImageError::Truncated { .. }), "cut {cut}: {err:?}");
        }
        let mut more = tar.clone();
        more.extend_from_slice(&[0; 10240]);
        read_image(&more).unwrap(); // zero padding (tar's record size) is fine
        more.push(1);
        assert!(matches!(read_image(&more), Err(ImageError::BadHeader { .. })));
    }

    /// Rebuilds a tar from `entries` (name, data) with the module's writer.
    fn retar(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data) in entries {
            let kind = if name.ends_with('/') { Kind::Dir } else { Kind::File };
            write_entry(&mut out, name, kind, if kind == Kind::Dir { 0o755 } else { 0o644 }, data).unwrap();
        }
        out.extend_from_slice(&[0; 1024]);
        out
    }

    fn entries(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
        layout(tar).into_iter().map(|(_, n, r)| (n, tar[r].to_vec())).collect()
    }

    #[test]
    fn missing_entries() {
        let (tar, d) = image(ID);
        for name in ["index.json", "manifest.json", "oci-layout", "repositories", "blobs/"] {
            let kept: Vec<_> = entries(&tar).into_iter().filter(|(n, _)| n != name).collect();
            match read_image(&retar(&kept)) {
                Err(ImageError::Missing { name: got }) => assert!(got.contains(name), "{got}"),
                other => panic!("without {name}: {other:?}"),
            }
        }
        let config = format!("{BLOBS}{}", d.config.strip_prefix("sha256:").unwrap());
        let kept: Vec<_> = entries(&tar).into_iter().filter(|(n, _)| *n != config).collect();
        match read_image(&retar(&kept)) {
            Err(ImageError::Missing { name }) => assert_eq!(name, config),
            other => panic!("{other:?}"),
        }
    }

    /// Replaces `name`'s content with `edit(content)`; blobs are renamed to
    /// their new digest only if `rename`.
    fn edited(tar: &[u8], name: &str, edit: impl Fn(&str) -> String) -> Vec<u8> {
        let mut es = entries(tar);
        for (n, data) in &mut es {
            if n == name {
                *data = edit(core::str::from_utf8(data).unwrap()).into_bytes();
            }
        }
        retar(&es)
    }

    #[test]
    fn bad_tags_and_inconsistencies() {
        let (tar, d) = image(ID);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (edited(&tar, "manifest.json", |s| s.replace(ID, ID2)), "Tag"),
            (edited(&tar, "manifest.json", |s| s.replace("fanruan/license-server", "evil/server")), "Tag"),
            (
                edited(&tar, "manifest.json", |s| {
                    s.replace(&format!(r#""RepoTags":["fanruan/license-server:{ID}"]"#), r#""RepoTags":[]"#)
                }),
                "Tag",
            ),
            (
                edited(&tar, "index.json", |s| {
                    s.replace(&format!("docker.io/fanruan/license-server:{ID}"), "docker.io/x:y")
                }),
                "Tag",
            ),
            (
                edited(&tar, "index.json", |s| {
                    s.replace(
                        &format!(r#""org.opencontainers.image.ref.name":"{ID}""#),
                        r#""org.opencontainers.image.ref.name":"latest""#,
                    )
                }),
                "Tag",
            ),
            (edited(&tar, "index.json", |s| s.replace(r#","size":"#, r#","size":1"#)), "BlobSize"),
            (edited(&tar, "index.json", |s| s.replace("{", "[")), "BadJson"),
            (edited(&tar, "oci-layout", |s| s.replace("1.0.0", "2.0.0")), "Layout"),
            (edited(&tar, "repositories", |s| s.replace(ID, ID2)), "Inconsistent"),
            (
                edited(&tar, "manifest.json", |s| {
                    s.replace(d.config.strip_prefix("sha256:").unwrap(), d.manifest.strip_prefix("sha256:").unwrap())
                }),
                "Inconsistent",
            ),
        ];
        for (bad, want) in cases {
            let err = read_image(&bad).unwrap_err();
            assert!(format!("{err:?}").starts_with(want), "want {want}: {err:?}");
        }
    }

    /// A re-signed image (every digest recomputed) whose config lies about
    /// its diff ids, or whose top layer escapes: caught by the content checks.
    #[test]
    fn forged_consistent_images() {
        let base = base();
        let forge = |top: Vec<u8>, diff_top: Option<String>| -> Vec<u8> {
            // Build like write_image, with a hand-made top layer.
            let top_hex = sha256_hex(&top);
            let diff = diff_top.unwrap_or_else(|| format!("sha256:{top_hex}"));
            let config = to_json("c", &json!({"architecture":"amd64","os":"linux","config":{"Entrypoint":[SERVER_PATH],"ExposedPorts":{"18081/tcp":{}},"Volumes":{CONFIG_DIR:{}},"WorkingDir":WORKING_DIR},"rootfs":{"type":"layers","diff_ids":[base.digest(), diff]}})).unwrap();
            let ch = sha256_hex(&config);
            let manifest = to_json("m", &json!({"schemaVersion":2,"mediaType":MT_MANIFEST,"config":descriptor(MT_CONFIG,&ch,&config),"layers":[descriptor(MT_LAYER,&base.hex,&base.tar),descriptor(MT_LAYER,&top_hex,&top)]})).unwrap();
            let mh = sha256_hex(&manifest);
            let mut md = descriptor(MT_MANIFEST, &mh, &manifest);
            md["annotations"] = json!({ANN_IMAGE_NAME: format!("docker.io/{REPOSITORY}:{ID}"), ANN_REF_NAME: ID});
            let index = to_json("i", &json!({"schemaVersion":2,"mediaType":MT_INDEX,"manifests":[md]})).unwrap();
            let dm = to_json("d", &json!([{"Config":format!("{BLOBS}{ch}"),"RepoTags":[format!("{REPOSITORY}:{ID}")],"Layers":[format!("{BLOBS}{}", base.hex),format!("{BLOBS}{top_hex}")]}])).unwrap();
            let repos = to_json("r", &json!({REPOSITORY:{ID:top_hex}})).unwrap();
            let mut es: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            es.insert("blobs/".into(), vec![]);
            es.insert(BLOBS.into(), vec![]);
            for blob in [base.tar.clone(), top, config, manifest] {
                es.insert(format!("{BLOBS}{}", sha256_hex(&blob)), blob);
            }
            es.insert("index.json".into(), index);
            es.insert("manifest.json".into(), dm);
            es.insert("oci-layout".into(), OCI_LAYOUT.to_vec());
            es.insert("repositories".into(), repos);
            retar(&es.into_iter().collect::<Vec<_>>())
        };
        let layer = |names: &[&str]| {
            retar(
                &names
                    .iter()
                    .map(|n| ((*n).to_owned(), b"x".to_vec()))
                    .map(|(n, d)| if n.ends_with('/') { (n, vec![]) } else { (n, d) })
                    .collect::<Vec<_>>(),
            )
        };
        // The forger itself is right: a plain top layer passes.
        read_image(&forge(layer(&["app/", "app/x"]), None)).unwrap();
        let err =
            read_image(&forge(layer(&["app/", "app/x"]), Some(format!("sha256:{}", "0".repeat(64))))).unwrap_err();
        assert!(matches!(err, ImageError::DiffId { index: 1, .. }), "{err:?}");
        for names in [
            &["../etc/passwd"][..],
            &["app/", "app/../../etc/passwd"],
            &["/etc/", "/etc/passwd"],
            &["app/", "app/fanruan-license-server"],
            &["app/", "app/.wh.fanruan-license-server"],
            &["app/license/x"],
            &["app/", "app//x"],
        ] {
            let err = read_image(&forge(layer(names), None)).unwrap_err();
            assert!(matches!(err, ImageError::UnexpectedEntry { archive: "top layer", .. }), "{names:?}: {err:?}");
        }
        // A symlink in the top layer.
        let mut sym = layer(&["app/", "app/x"]);
        let at = layout(&sym)[1].0;
        sym[at + 156] = b'2';
        fix_checksum(&mut sym, at);
        let err = read_image(&forge(sym, None)).unwrap_err();
        assert!(matches!(err, ImageError::UnexpectedEntry { archive: "top layer", .. }), "{err:?}");
    }

    #[test]
    fn hostile_headers() {
        let (tar, _) = image(ID);
        let index_at = find(&tar, "index.json").0;
        // A size far past the end, in octal and in GNU base-256.
        let mut huge = tar.clone();
        huge[index_at + 124..index_at + 136].copy_from_slice(b"77777777777\0");
        fix_checksum(&mut huge, index_at);
        assert!(matches!(read_image(&huge), Err(ImageError::Truncated { .. })), "{:?}", read_image(&huge));
        let mut b256 = tar.clone();
        b256[index_at + 124..index_at + 136].copy_from_slice(&[0x80, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff]);
        fix_checksum(&mut b256, index_at);
        assert!(matches!(read_image(&b256), Err(ImageError::BadHeader { .. })));
        // A bad checksum, a GNU magic, a hard link, an unexpected file.
        let mut sum = tar.clone();
        sum[index_at + 5] ^= 1;
        assert!(matches!(read_image(&sum), Err(ImageError::BadHeader { reason: "header checksum mismatch", .. })));
        let mut gnu = tar.clone();
        gnu[index_at + 257..index_at + 265].copy_from_slice(b"ustar  \0");
        fix_checksum(&mut gnu, index_at);
        assert!(matches!(read_image(&gnu), Err(ImageError::BadHeader { .. })));
        let mut link = tar.clone();
        link[index_at + 156] = b'1';
        fix_checksum(&mut link, index_at);
        assert!(matches!(read_image(&link), Err(ImageError::UnexpectedEntry { .. })));
        let mut es = entries(&tar);
        es.push(("zzz".to_owned(), b"x".to_vec()));
        assert!(matches!(read_image(&retar(&es)), Err(ImageError::UnexpectedEntry { .. })));
        // Out of order and duplicated entries.
        let mut es = entries(&tar);
        es.swap(0, 1);
        assert!(matches!(read_image(&retar(&es)), Err(ImageError::UnexpectedEntry { .. })));
        let mut es = entries(&tar);
        let last = es.last().unwrap().clone();
        es.push(last);
        assert!(matches!(read_image(&retar(&es)), Err(ImageError::UnexpectedEntry { .. })));
    }

    #[test]
    fn base_paths_match_constants() {
        assert_eq!(format!("/{BASE_SERVER}"), SERVER_PATH);
        assert_eq!(format!("/{BASE_CONFIG}"), format!("{CONFIG_DIR}/"));
        assert_eq!(format!("/{BASE_APP}"), format!("{WORKING_DIR}/"));
        assert!(format!("{:?}", files(ID)[1]).contains("len: 32"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// Arbitrary byte edits, cuts and extensions never panic.
        #[test]
        fn read_image_never_panics(
            edits in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()), 0..8),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
            do_cut in proptest::prelude::any::<bool>(),
        ) {
            let (mut tar, _) = image(ID);
            for (i, b) in edits {
                let i = i.index(tar.len());
                tar[i] = b;
            }
            if do_cut {
                tar.truncate(cut.index(tar.len()));
            }
            let _ = read_image(&tar);
        }

        /// Header fields in particular (where lengths live).
        #[test]
        fn header_edits_never_panic(field in 0usize..512, value in proptest::prelude::any::<u8>(), entry in 0usize..10) {
            let (mut tar, _) = image(ID);
            let at = layout(&tar)[entry].0;
            tar[at + field] = value;
            if !(148..156).contains(&field) {
                fix_checksum(&mut tar, at);
            }
            let _ = read_image(&tar);
        }
    }
}
