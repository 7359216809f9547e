//! `fanruan_license_server.tar` for a private-cloud license: the server
//! binary (the bottom layer, the same for every customer) and the customer's
//! files (the top layer): the signed server license, its image key and the
//! vendor's root public keys (SPEC.md §7.1). Built with [`crate::image::oci`].
//!
//! Nothing is stored per image: the image key is derived again from the
//! master secret, so building twice gives the same bytes.

pub use fanlic_oci as oci;

use crate::error::{HomeError, ImageBuildError, LicenseError, Refusal};
use std::{
    collections::BTreeMap,
    env,
    path::{Path, PathBuf},
};

use fanlic_formats::{Envelope, License, LicenseKind, armor};

use self::oci::{BaseLayer, ImageDigest, ImageFile, ImageSpec};
use crate::Error;
use crate::IssueRequest;
use crate::Issued;
use crate::home::Home;
use crate::home::activation::MasterSecret;
use crate::store;
use crate::util::fsutil;
use crate::util::pem;

/// The server binary's name, as `cargo build -p fanlic-license-server` makes it.
pub const SERVER_BINARY_NAME: &str = "fanruan-license-server";
/// Environment variable naming the server binary (over the home's setting).
pub const SERVER_BINARY_ENV: &str = "FANLIC_LICENSE_SERVER_BINARY";
/// The file name the vendor's documents use.
pub const DEFAULT_IMAGE_NAME: &str = "fanruan_license_server.tar";

/// Where the customer's files go in the image (the server's
/// `FANLIC_LICENSE_DIR`).
pub const LICENSE_DIR: &str = "/app/license";

/// The environment the server reads, documented in the image's labels
/// (`com.fanruan.license-server.env.*`) and in the README.
const ENV_DOCS: &[(&str, &str)] = &[
    ("FANLIC_PORT", "HTTPS port to listen on (default 18081)"),
    (
        "FANLIC_ADDRESSES",
        "comma-separated IP addresses or DNS names the applications use to reach the server; they go into \
         its TLS certificate and onto the QR page",
    ),
    ("FANLIC_ACTIVATION_BASE_URL", "the vendor activation service's URL, over the one in the license"),
    ("FANLIC_CONFIG_DIR", "state folder (default /app/config, a volume): instance key, privateConfig, TLS"),
    ("FANLIC_LICENSE_DIR", "the license folder (default /app/license): server.lic, image.key, root-keys.pem"),
];

/// An image written by [`Home::build_image`].
#[derive(Clone, Debug)]
pub struct BuiltImage {
    /// The license in it.
    pub license_id: String,
    /// Where the tar was written.
    pub path: PathBuf,
    /// Its digests.
    pub digest: ImageDigest,
    /// The server binary used.
    pub server_binary: PathBuf,
}

impl Home {
    /// The authorization server binary that goes into images: the
    /// `FANLIC_LICENSE_SERVER_BINARY` environment variable, else the home's
    /// setting (`fanlic config --license-server-binary`), else the musl
    /// release build of this source tree
    /// (`target/x86_64-unknown-linux-musl/release/`, found from this
    /// program's path or the current folder). Only a static binary runs in
    /// the image, which has no C library: [`Home::base_layer`] checks.
    pub fn license_server_binary(&self) -> Result<PathBuf, Error> {
        if let Some(p) = env::var_os(SERVER_BINARY_ENV).filter(|p| !p.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        if let Some(p) = self.setting("license_server_binary")? {
            return Ok(PathBuf::from(p));
        }
        let exe = env::current_exe().ok();
        let exe_dir = exe.as_deref().and_then(Path::parent);
        let mut candidates = Vec::new();
        if let Some(dir) = exe_dir {
            // target/{debug,release}/fanlic (also deps/ for tests) → target/x86_64-unknown-linux-musl/release
            for up in [dir.parent(), dir.parent().and_then(Path::parent)].into_iter().flatten() {
                candidates.push(up.join("x86_64-unknown-linux-musl/release").join(SERVER_BINARY_NAME));
            }
        }
        candidates.push(PathBuf::from("target/x86_64-unknown-linux-musl/release").join(SERVER_BINARY_NAME));
        let musl = candidates.iter().find(|p| p.is_file()).cloned();
        Ok(musl.unwrap_or_else(|| candidates.pop().unwrap_or_default()))
    }

    /// Sets the server binary for [`Home::license_server_binary`]; it must exist.
    pub fn set_license_server_binary(
        &mut self,
        path: &Path,
        now: fanlic_formats::Timestamp,
        by: &str,
    ) -> Result<PathBuf, Error> {
        let abs = std::fs::canonicalize(path)
            .map_err(|_| Error::Image(ImageBuildError::ServerBinaryMissing { path: path.to_owned() }))?;
        if !abs.is_file() {
            return Err(Error::Image(ImageBuildError::ServerBinaryMissing { path: abs }));
        }
        let text = abs.to_string_lossy().into_owned();
        self.set_setting("license_server_binary", &text, now, by)?;
        Ok(abs)
    }

    /// Reads the server binary into the image's bottom layer: once per
    /// batch of images (see [`Home::build_image`]).
    pub fn base_layer(&self) -> Result<(BaseLayer, PathBuf), Error> {
        let path = self.license_server_binary()?;
        let bytes = std::fs::read(&path)
            .map_err(|_| Error::Image(ImageBuildError::ServerBinaryMissing { path: path.clone() }))?;
        if let Some(why) = not_static_elf(&bytes) {
            return Err(Error::Image(ImageBuildError::ServerBinaryNotStatic { path, why }));
        }
        let base = BaseLayer::new(&bytes)
            .map_err(|source| Error::Image(ImageBuildError::Oci { path: path.clone(), source }))?;
        Ok((base, path))
    }

    /// Builds `fanruan_license_server.tar` for the recorded private-cloud
    /// license `license_id` at `output` (mode 0600: it holds the image key),
    /// on `base` (from [`Home::base_layer`]). Refuses an existing file
    /// unless `force`. The same license gives the same bytes every time.
    pub fn build_image(
        &self,
        license_id: &str,
        output: &Path,
        force: bool,
        base: &(BaseLayer, PathBuf),
    ) -> Result<BuiltImage, Error> {
        let stored = self
            .stored_license(license_id)?
            .ok_or_else(|| Error::Revoke(Refusal::LicenseNotFound { license_id: license_id.to_owned() }))?;
        if !force && std::fs::symlink_metadata(output).is_ok() {
            return Err(Error::OutputExists { path: output.to_owned() });
        }
        let (tar, digest) = image_bytes(&self.image_inputs()?, &stored.file_bytes, output, base)?;
        fsutil::write_atomic(output, &tar, fsutil::PRIVATE_MODE, force)?;
        Ok(BuiltImage {
            license_id: license_id.to_owned(),
            path: output.to_owned(),
            digest,
            server_binary: base.1.clone(),
        })
    }

    /// Issues a private-cloud license for `req` and writes its image at
    /// `req.output` in one step (`fanlic issue --kind private-cloud -o
    /// fanruan_license_server.tar`): recorded only if the image is written.
    pub fn issue_image(
        &mut self,
        req: &IssueRequest,
        base: &(BaseLayer, PathBuf),
        now: fanlic_formats::Timestamp,
    ) -> Result<(Issued, BuiltImage), Error> {
        if req.kind != LicenseKind::PrivateCloud {
            return Err(Error::Image(ImageBuildError::NotPrivateCloud {
                license_id: "(new)".to_owned(),
                kind: req.kind.as_str(),
            }));
        }
        let inputs = self.image_inputs()?;
        let mut digest = None;
        let issued = self.issue_writing(req, now, |signed| {
            let (tar, d) = image_bytes(&inputs, &signed.raw, &req.output, base)?;
            digest = Some(d);
            Ok(tar)
        })?;
        let digest =
            digest.ok_or(Error::Home(HomeError::KeyDerivation { what: "image", reason: "no image was built" }))?;
        let built = BuiltImage {
            license_id: issued.license_id.to_string(),
            path: req.output.clone(),
            digest,
            server_binary: base.1.clone(),
        };
        Ok((issued, built))
    }

    /// What every image of this home needs besides its license.
    fn image_inputs(&self) -> Result<ImageInputs, Error> {
        Ok(ImageInputs {
            master: self.image_master()?,
            roots_pem: self.root_key_rows()?.iter().map(|r| pem::public_key_pem(&r.public_key)).collect(),
            db_path: self.db_path().to_owned(),
        })
    }

    /// The master secret the image key is derived from (SPEC.md §7.1).
    fn image_master(&self) -> Result<MasterSecret, Error> {
        self.activation_master()?.ok_or_else(|| {
            Error::License(LicenseError::PrivateCloudNeedsMaster {
                path: self.activation_master_path().unwrap_or_default(),
            })
        })
    }
}

/// What every image of a home needs besides its license.
struct ImageInputs {
    master: MasterSecret,
    roots_pem: String,
    db_path: PathBuf,
}

/// The image tar of a private-cloud license file (raw), in memory.
fn image_bytes(
    inputs: &ImageInputs,
    license_file: &[u8],
    output: &Path,
    base: &(BaseLayer, PathBuf),
) -> Result<(Vec<u8>, ImageDigest), Error> {
    let corrupt =
        |e: fanlic_formats::DecodeError| store::corrupt(&inputs.db_path, format!("a license does not decode: {e}"));
    let envelope = Envelope::decode(license_file).map_err(corrupt)?;
    let license = License::decode(envelope.license.message).map_err(corrupt)?;
    let license_id = license.id.to_string();
    if license.kind != LicenseKind::PrivateCloud {
        return Err(Error::Image(ImageBuildError::NotPrivateCloud { license_id, kind: license.kind.as_str() }));
    }
    let image_public_key = license
        .image_public_key
        .ok_or_else(|| Error::Image(ImageBuildError::NoImageKey { license_id: license_id.clone() }))?;
    let image_key = inputs.master.derive_image_key(&license.id);
    if image_key.public_key()? != image_public_key {
        return Err(Error::Home(HomeError::KeyDerivation {
            what: "image key",
            reason: "the master secret here is not the one the license's image key was derived from",
        }));
    }
    let armored = armor::encode(license_file, &[])
        .map_err(|reason| Error::License(LicenseError::Encode { what: "license armor", reason }))?;
    let files = [
        ImageFile { path: "app/license/server.lic".into(), data: armored.into_bytes(), mode: 0o644 },
        ImageFile {
            path: "app/license/image.key".into(),
            data: image_key.to_pkcs8_pem().as_bytes().to_vec(),
            mode: 0o600,
        },
        ImageFile {
            path: "app/license/root-keys.pem".into(),
            data: inputs.roots_pem.clone().into_bytes(),
            mode: 0o644,
        },
    ];
    let mut labels = BTreeMap::from([
        ("org.opencontainers.image.title".to_owned(), "FanRuan authorization server".to_owned()),
        (
            "org.opencontainers.image.description".to_owned(),
            format!("Authorization server (private cloud) for {} / {}", license.company, license.project),
        ),
        ("com.fanruan.license.id".to_owned(), license_id.clone()),
        ("com.fanruan.license.app".to_owned(), license.app_name.to_owned()),
        ("com.fanruan.license.port".to_owned(), oci::PORT.to_string()),
    ]);
    for (name, doc) in ENV_DOCS {
        labels.insert(format!("com.fanruan.license-server.env.{name}"), (*doc).to_owned());
    }
    let env = vec![
        format!("FANLIC_LICENSE_DIR={LICENSE_DIR}"),
        format!("FANLIC_CONFIG_DIR={}", oci::CONFIG_DIR),
        format!("FANLIC_PORT={}", oci::PORT),
    ];
    let spec = ImageSpec { license_id: &license_id, files: &files, labels, env };
    let mut tar = Vec::with_capacity(usize::try_from(base.0.len()).unwrap_or(0).saturating_add(16 * 1024));
    let digest = oci::write_image(&base.0, &spec, &mut tar)
        .map_err(|source| Error::Image(ImageBuildError::Oci { path: output.to_owned(), source }))?;
    Ok((tar, digest))
}

/// Whether `bytes` start like a tar archive (a ustar header), so `inspect`
/// and `verify` read them as an image rather than as a license.
pub fn looks_like_tar(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && bytes.get(257..262) == Some(b"ustar".as_slice())
}

/// What `fanlic inspect` and `fanlic verify` found in an image tar.
#[derive(Clone, Debug)]
pub struct ImageContents {
    /// The checked image (digests, layout, tag).
    pub image: oci::ImageTar,
    /// The raw license file of `app/license/server.lic`.
    pub license_file: Vec<u8>,
    /// What is wrong between the image and its license (empty: nothing).
    pub problems: Vec<String>,
}

impl ImageContents {
    /// The image part of `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "tag": self.image.repo_tags.first(),
            "license_id": self.image.license_id,
            "image_id": self.image.config_digest,
            "manifest": self.image.manifest_digest,
            "base_layer": self.image.base_layer_digest,
            "server_binary_bytes": self.image.server_binary_len,
            "files": self.image.files.iter().map(|f| serde_json::json!({
                "path": f.path, "mode": format!("{:o}", f.mode), "bytes": f.data.len(),
            })).collect::<Vec<_>>(),
            "problems": self.problems,
        })
    }

    /// For people, before the license's own report.
    pub fn human(&self) -> String {
        let mut out = format!(
            "image {} (layout, digests and layers checked)\n  image id {}\n  server binary {} bytes, base layer {}\n",
            self.image.repo_tags.first().map(String::as_str).unwrap_or("(untagged)"),
            self.image.config_digest,
            self.image.server_binary_len,
            self.image.base_layer_digest,
        );
        for p in &self.problems {
            out.push_str(&format!("  problem: {p}\n"));
        }
        out.push_str("embedded license app/license/server.lic:\n");
        out
    }
}

/// Reads an image tar: checks it ([`oci::read_image`]), takes its license,
/// and checks that the tag names that license and that `image.key` is the
/// key the license names. Problems between the parts are listed, not fatal,
/// so the license itself can still be reported.
pub fn read_image_contents(bytes: &[u8], path: &Path) -> Result<ImageContents, Error> {
    let image = oci::read_image(bytes)
        .map_err(|source| Error::Image(ImageBuildError::Oci { path: path.to_owned(), source }))?;
    let file = |name: &str| image.files.iter().find(|f| f.path == name);
    let lic = file("app/license/server.lic").ok_or_else(|| {
        Error::Image(ImageBuildError::Oci {
            path: path.to_owned(),
            source: oci::ImageError::Layout { reason: "no app/license/server.lic in the top layer".to_owned() },
        })
    })?;
    let mut problems = Vec::new();
    let mut buf = [0u8; fanlic_formats::MAX_LICENSE_FILE_LEN];
    let license_file = match armor::unarmor(&lic.data, &mut buf) {
        Ok(raw) => raw.to_vec(),
        Err(e) => {
            problems.push(format!("app/license/server.lic is not an armored license: {e}"));
            lic.data.clone()
        }
    };
    let license = Envelope::decode(&license_file).ok().and_then(|e| License::decode(e.license.message).ok());
    if let Some(l) = &license {
        if l.id.to_string() != image.license_id {
            problems.push(format!("the tag names license {} but the image holds license {}", image.license_id, l.id));
        }
        match (l.image_public_key, file("app/license/image.key")) {
            (None, _) => problems.push("the license names no image key".to_owned()),
            (Some(_), None) => problems.push("no app/license/image.key in the image".to_owned()),
            (Some(named), Some(k)) => {
                let ok = core::str::from_utf8(&k.data)
                    .ok()
                    .and_then(|t| pem::decode("PRIVATE KEY", t).ok())
                    .and_then(|der| image_public_key_of_pkcs8(&der))
                    .is_some_and(|public| public == named);
                if !ok {
                    problems.push("app/license/image.key is not the image key the license names".to_owned());
                }
            }
        }
    }
    Ok(ImageContents { image, license_file, problems })
}

/// The public key of a PKCS#8 v1 Ed25519 key (SPEC.md §3.5, §7.1).
fn image_public_key_of_pkcs8(der: &[u8]) -> Option<[u8; 32]> {
    use ring::signature::KeyPair as _;
    let seed = der.strip_prefix(&crate::home::activation::PKCS8_ED25519_PREFIX[..])?;
    let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed).ok()?;
    pair.public_key().as_ref().try_into().ok()
}

/// Why `bytes` is not a static x86-64 ELF executable (`None`: it is one).
/// The image has no C library and no dynamic loader, so a binary that asks
/// for one (a `PT_INTERP` program header) could not start.
fn not_static_elf(bytes: &[u8]) -> Option<&'static str> {
    let u16_at = |o: usize| bytes.get(o..o + 2).and_then(|b| b.try_into().ok()).map(u16::from_le_bytes);
    let u32_at = |o: usize| bytes.get(o..o + 4).and_then(|b| b.try_into().ok()).map(u32::from_le_bytes);
    let u64_at = |o: usize| bytes.get(o..o + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
    if bytes.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Some("it is not an ELF executable");
    }
    // 64-bit, little-endian, x86-64.
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) || u16_at(18) != Some(62) {
        return Some("it is not an x86-64 (64-bit, little-endian) executable");
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(32), u16_at(54), u16_at(56)) else {
        return Some("its ELF header is truncated");
    };
    let phoff = usize::try_from(phoff).ok()?;
    for i in 0..usize::from(phnum) {
        let at = phoff.checked_add(i.checked_mul(usize::from(phentsize))?)?;
        match u32_at(at) {
            // PT_INTERP: it needs a dynamic loader.
            Some(3) => return Some("it is dynamically linked (build it for x86_64-unknown-linux-musl)"),
            None => return Some("its program headers are truncated"),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // test code
mod tests {
    use super::*;
    use crate::InitOptions;
    use crate::IssueInput;
    use crate::util::clock;

    /// An image whose tag names another license, and whose image key is not
    /// the one its license names: both reported, the license still read.
    #[test]
    fn a_tag_or_image_key_that_does_not_match_the_license_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let now = clock::now().unwrap();
        let opts = InitOptions { authserv_ids: vec![], valid_for_days: None, now };
        let (mut home, _) = Home::init(&dir.path().join("home"), &opts).unwrap();
        let input = IssueInput {
            company: "Acme Ltd",
            project: "cloud",
            app: "FineReport",
            version: "11.0",
            expires: "never",
            signed: "2026/11/20",
            not_before: None,
        };
        let req = IssueRequest::parse(&input, LicenseKind::PrivateCloud, 2, dir.path().join("a.lic"), false).unwrap();
        let issued = home.issue(&req, now).unwrap();
        let base = (BaseLayer::new(b"\x7fELF not run here").unwrap(), PathBuf::from("server"));
        let inputs = home.image_inputs().unwrap();

        // The image as built: no problem.
        let (good, _) = image_bytes(&inputs, &issued.raw, Path::new("good.tar"), &base).unwrap();
        let read = read_image_contents(&good, Path::new("good.tar")).unwrap();
        assert!(read.problems.is_empty(), "{:?}", read.problems);
        assert_eq!(read.license_file, issued.raw);

        // Tagged for another license, with another license's image key.
        let other = fanlic_formats::LicenseId([9; 16]);
        let mut files = oci::read_image(&good).unwrap().files;
        let key = files.iter_mut().find(|f| f.path == "app/license/image.key").unwrap();
        key.data = inputs.master.derive_image_key(&other).to_pkcs8_pem().as_bytes().to_vec();
        let spec = ImageSpec { license_id: &other.to_string(), files: &files, labels: BTreeMap::new(), env: vec![] };
        let mut bad = Vec::new();
        oci::write_image(&base.0, &spec, &mut bad).unwrap();
        let read = read_image_contents(&bad, Path::new("bad.tar")).unwrap();
        assert_eq!(read.license_file, issued.raw, "the license is still read");
        assert_eq!(
            read.problems,
            [
                format!("the tag names license {other} but the image holds license {}", issued.license_id),
                "app/license/image.key is not the image key the license names".to_owned(),
            ]
        );
    }

    #[test]
    fn a_dynamic_binary_is_refused_a_static_one_taken() {
        // This test binary is linked against glibc: it has an interpreter.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert_eq!(not_static_elf(&me), Some("it is dynamically linked (build it for x86_64-unknown-linux-musl)"));
        assert_eq!(not_static_elf(b"#!/bin/sh\n"), Some("it is not an ELF executable"));
        assert_eq!(not_static_elf(&me[..40]), Some("its ELF header is truncated"));
        // The same headers without their PT_INTERP entry read as static.
        let mut stat = me.clone();
        let phoff = u64::from_le_bytes(stat[32..40].try_into().unwrap()) as usize;
        let (size, n) = (u16::from_le_bytes([stat[54], stat[55]]) as usize, u16::from_le_bytes([stat[56], stat[57]]));
        for i in 0..usize::from(n) {
            let at = phoff + i * size;
            if stat[at..at + 4] == 3u32.to_le_bytes() {
                stat[at..at + 4].copy_from_slice(&0u32.to_le_bytes()); // PT_NULL
            }
        }
        assert_eq!(not_static_elf(&stat), None);
    }
}
