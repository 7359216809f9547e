//! `fanlic image`: the authorization server image of a private-cloud
//! license; also how `fanlic issue -o FILE.tar` reports the image it wrote.

use std::path::{Path, PathBuf};

use clap::Args;
use fanlic_issuer::Home;
use fanlic_issuer::image::BuiltImage;
use serde_json::Value;

use crate::cli::args::ResultOutput;
use crate::cli::output::{Report, emit};

const IMAGE_AFTER_HELP: &str = "\
Writes the authorization server image of a recorded private-cloud license: a tar that
`docker load` / `podman load` accept, tagged fanruan/license-server:<license id>. The bottom
layer is the server binary (the same for every customer); the top layer holds the signed
license, its image key (derived from the activation master secret, so rebuilding gives the
same bytes) and the root public keys. The tar is written atomically with mode 0600.
Server binary: FANLIC_LICENSE_SERVER_BINARY, else `fanlic config --license-server-binary`,
else the musl build of this tree (cargo build --release -p fanlic-license-server
--target x86_64-unknown-linux-musl).

EXAMPLES:
  fanlic image 0123456789abcdef0123456789abcdef -o fanruan_license_server.tar
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind private-cloud --nodes 4 --expires never --signed 2026/11/20 -o fanruan_license_server.tar
  podman load -i fanruan_license_server.tar";

/// Build fanruan_license_server.tar for a private-cloud license
#[derive(Debug, Args)]
#[command(after_help = IMAGE_AFTER_HELP)]
pub(crate) struct ImageArgs {
    /// The license id (32 hex digits)
    #[arg(value_name = "LICENSE_ID")]
    license_id: String,

    /// Where to write the image
    #[arg(short, long, value_name = "FILE", default_value = "fanruan_license_server.tar")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    #[command(flatten)]
    format: ResultOutput,
}

/// `fanlic image`.
pub(crate) fn run(home: &Path, a: &ImageArgs) -> anyhow::Result<u8> {
    let h = Home::open(home)?;
    let id = a.license_id.trim().to_ascii_lowercase();
    let base = h.base_layer()?;
    let built = h.build_image(&id, &a.output, a.force, &base)?;
    Ok(emit(&a.format, &built)?)
}

/// `fanlic image --json` and the `image` of `fanlic issue --json`.
impl Report for BuiltImage {
    fn json(&self) -> Value {
        serde_json::json!({
            "license_id": self.license_id,
            "path": self.path,
            "tag": self.digest.tag,
            "sha256": self.digest.tar_sha256,
            "bytes": self.digest.tar_len,
            "image_id": self.digest.config,
            "manifest": self.digest.manifest,
            "base_layer": self.digest.base_layer,
            "server_binary": self.server_binary,
        })
    }

    fn human(&self) -> String {
        format!(
            "  image {} written to {} ({} bytes, mode 0600: it holds the image key)\n  {}\n  \
             load it with `podman load -i {}` (or docker load), run it with port 18081 published and a \
             volume on /app/config\n",
            self.digest.tag,
            self.path.display(),
            self.digest.tar_len,
            self.digest.tar_sha256,
            self.path.display()
        )
    }
}
