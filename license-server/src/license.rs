//! The server license, `/app/license/server.lic` (SPEC.md §7.1): "a license
//! (§3.3) of kind `private-cloud` whose `image_public_key` MUST be present".

use std::path::Path;

use ed25519_dalek::SigningKey;
pub use fanlic_formats::ActivationPolicy;
use fanlic_formats::{Expiry, LicenseId, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp, Version, armor};
use fanlic_verifier::{Environment, Lang, RootKey, authenticate, check};

use crate::Error;

/// One reason a request is refused: a stable code and a message for people
/// (SPEC.md §7.3: `{"code", "message"}`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Cause {
    /// The verifier's cause code (§4.2), or `not_activated`, `clock_behind`,
    /// `not_registered`.
    pub code: &'static str,
    /// What it means and what to do.
    pub message: String,
}

/// What the server needs of its verified license. Holds the raw file too:
/// every answer carries it (SPEC.md §7.2, `license: bytes // raw`).
#[derive(Clone)]
pub struct ServerLicense {
    /// The raw license file (§3.1), unarmored.
    pub raw: Vec<u8>,
    /// The vendor root keys it verifies with.
    pub roots: Vec<RootKey>,
    /// Its id.
    pub id: LicenseId,
    /// `FineReport`, `FineBI`.
    pub app_name: String,
    /// The project ("project content").
    pub project: String,
    /// Licensed version.
    pub version: Version,
    /// Nodes allowed.
    pub max_nodes: u32,
    /// Expiry.
    pub expiry: Expiry,
    /// The key the QR challenge is MACed under (§6.1): under receipt policy
    /// the license's field holds the challenge key, which makes no code.
    pub activation_key: [u8; 32],
    /// Where the QR code points, if the license says.
    pub activation_base_url: Option<String>,
    /// The image key's public key.
    pub image_public_key: [u8; 32],
    /// How the server is activated: 6-digit code, or the vendor's receipt.
    pub activation_policy: ActivationPolicy,
}

/// A cause of the server license as the admin's pages show it (SPEC.md §4.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownCause {
    /// The stable code.
    pub code: &'static str,
    /// The product's name of the cause.
    pub title: &'static str,
    /// Its details.
    pub prompt: String,
    /// What to do next.
    pub advice: String,
}

impl core::fmt::Debug for ServerLicense {
    // By hand: the activation key never reaches a log.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ServerLicense")
            .field("id", &self.id)
            .field("app_name", &self.app_name)
            .field("project", &self.project)
            .field("version", &self.version)
            .field("max_nodes", &self.max_nodes)
            .field("activation_policy", &self.activation_policy)
            .finish_non_exhaustive()
    }
}

impl ServerLicense {
    /// Reads `server.lic` and checks it against the root keys at `now`: its
    /// signatures, kind private-cloud, not expired nor not yet valid, with an
    /// activation key and an image public key equal to `image_key`'s.
    /// Every failing check is reported at once.
    pub fn load(path: &Path, roots: Vec<RootKey>, image_key: &SigningKey, now: Timestamp) -> Result<Self, Error> {
        let text = std::fs::read(path).map_err(Error::io(path, "cannot read"))?;
        let fail = |reasons: Vec<String>| Error::License { path: path.to_owned(), reasons };
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let raw = armor::unarmor(&text, &mut buf).map_err(|e| fail(vec![format!("content_incorrect: {e}")]))?.to_vec();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let signed = authenticate(&raw, &mut buf, &roots)
            .map_err(|e| fail(vec![format!("content_incorrect: {e} (is root-keys.pem the vendor's?)")]))?;
        let l = signed.license;
        let version = l.version.to_string();
        // The license against itself: only its kind and its dates can fail.
        let env = Environment {
            app_name: l.app_name,
            version: &version,
            project: l.project,
            nodes: 1,
            method: LicenseKind::PrivateCloud,
            now,
            last_seen: None,
        };
        let mut reasons: Vec<String> = match check(signed, &env) {
            Ok(_) => Vec::new(),
            Err(r) => r.causes().map(|c| format!("{}: {c}", c.code())).collect(),
        };
        let image_public = *image_key.verifying_key().as_bytes();
        match l.image_public_key {
            None => reasons.push("no image_public_key: this is not an authorization server's license".into()),
            Some(k) if k != image_public => {
                reasons.push("image.key is not the key the license names (image_public_key)".into());
            }
            Some(_) => {}
        }
        if l.activation_key.is_none() {
            reasons.push("no activation key: the license was issued without QR activation".into());
        }
        if !reasons.is_empty() {
            return Err(fail(reasons));
        }
        Ok(Self {
            id: l.id,
            app_name: l.app_name.to_owned(),
            project: l.project.to_owned(),
            version: l.version,
            max_nodes: l.max_nodes,
            expiry: l.expiry,
            activation_key: l.activation_key.unwrap_or_default(),
            activation_base_url: l.activation_base_url.map(str::to_owned),
            image_public_key: image_public,
            activation_policy: l.activation_policy,
            raw,
            roots,
        })
    }

    /// The verifier's check of this license for an application (SPEC.md
    /// §7.3: "the verifier's causes (§4.2) for the request's application
    /// name, version and project against the server license, with the
    /// registered nodes plus this one as `nodes`").
    pub fn check_for(&self, app_name: &str, version: &str, project: &str, nodes: u32, now: u64) -> Vec<Cause> {
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let env = Environment {
            app_name,
            version,
            project,
            nodes,
            method: LicenseKind::PrivateCloud,
            now: Timestamp(now),
            last_seen: None,
        };
        match fanlic_verifier::verify(&self.raw, &mut buf, &self.roots, &env) {
            Ok(_) => Vec::new(),
            Err(r) => r.causes().map(|c| Cause { code: c.code(), message: c.to_string() }).collect(),
        }
    }

    /// [`Self::check_time`] as the product shows its causes, for the admin's
    /// pages: each cause's code, title, prompt and advice in `lang`.
    pub fn shown_time_causes(&self, nodes: u32, now: u64, lang: Lang) -> Vec<ShownCause> {
        let version = self.version.to_string();
        let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
        let env = Environment {
            app_name: &self.app_name,
            version: &version,
            project: &self.project,
            nodes: nodes.max(1),
            method: LicenseKind::PrivateCloud,
            now: Timestamp(now),
            last_seen: None,
        };
        match fanlic_verifier::verify(&self.raw, &mut buf, &self.roots, &env) {
            Ok(_) => Vec::new(),
            Err(r) => r
                .causes()
                .map(|c| ShownCause {
                    code: c.code(),
                    title: c.title(lang),
                    prompt: c.prompt(lang).to_string(),
                    advice: c.advice(lang).to_string(),
                })
                .collect(),
        }
    }

    /// [`Self::check_for`] with the license's own names: what can fail for a
    /// node already registered (a heartbeat carries no names) is time.
    pub fn check_time(&self, nodes: u32, now: u64) -> Vec<Cause> {
        let version = self.version.to_string();
        self.check_for(&self.app_name, &version, &self.project, nodes.max(1), now)
    }
}
