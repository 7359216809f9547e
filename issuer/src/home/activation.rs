//! The vendor's side of activation: the master secret and the per-license
//! activation keys derived from it (SPEC.md §6.1).
//!
//! `activation_key = HKDF-SHA256(salt = "fanlic/1/activation-key\n",
//! IKM = master secret, info = version (u32, big-endian) || license id, L = 32)`.
//! The key goes into the signed license (products compute the 6-digit code
//! with it); the vendor derives it again in `fanlic serve`, so nothing per
//! license needs storing. The master secret is its own file of mode 0600,
//! by default `HOME/activation/master.secret`, a folder apart from the
//! issuing keys; only the issuing of licenses and `fanlic serve` read it.

use crate::error::HomeError;
use std::{
    fs,
    os::unix::fs::PermissionsExt as _,
    path::{Path, PathBuf},
};

use fanlic_formats::LicenseId;
use fanlic_verifier::activation::ActivationKey;
use ring::{
    hkdf,
    rand::{SecureRandom as _, SystemRandom},
};
use zeroize::Zeroizing;

use crate::Error;
use crate::util::fsutil;
use crate::util::hex;

/// The home's folder for the master secret (0700).
pub const MASTER_DIR: &str = "activation";
/// The master secret's file name in [`MASTER_DIR`].
pub const MASTER_FILE: &str = "master.secret";
/// HKDF salt: SPEC.md §6.1.
pub const ACTIVATION_KEY_SALT: &[u8] = b"fanlic/1/activation-key\n";
/// Where licenses send phones when no base URL is configured: `fanlic serve`'s
/// default address on this machine (`fanlic config --activation-base-url`).
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:8380/a";
/// HKDF salt of the image key: SPEC.md §7.1.
pub use fanlic_formats::private_cloud::IMAGE_KEY_SALT;
/// PKCS#8 v1 (RFC 8410) DER of an Ed25519 private key, before the 32-byte
/// seed: what OpenSSL writes and reads for `-----BEGIN PRIVATE KEY-----`.
pub(crate) const PKCS8_ED25519_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A private-cloud image key (SPEC.md §7.1): the Ed25519 seed the image
/// carries as `/app/license/image.key`. Wiped from memory when dropped;
/// never printed.
pub struct ImageKey {
    seed: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for ImageKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("ImageKey(..)")
    }
}

impl ImageKey {
    /// The public key, as the server license's `image_public_key` names it.
    pub fn public_key(&self) -> Result<[u8; 32], Error> {
        use ring::signature::KeyPair as _;
        let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(self.seed.as_ref()).map_err(|_| {
            Error::Home(HomeError::KeyDerivation { what: "image key", reason: "ring refused the seed" })
        })?;
        let mut out = [0u8; 32];
        out.copy_from_slice(pair.public_key().as_ref());
        Ok(out)
    }

    /// The key file the image carries: PKCS#8 v1 in PEM (SPEC.md §3.5,
    /// §7.1), which OpenSSL and the authorization server read.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let mut der = Zeroizing::new(Vec::with_capacity(48));
        der.extend_from_slice(&PKCS8_ED25519_PREFIX);
        der.extend_from_slice(self.seed.as_ref());
        crate::util::pem::encode("PRIVATE KEY", &der)
    }
}

/// The label the master secret's check value MACs ([`MasterSecret::check_value`]).
pub const CHECK_LABEL: &[u8] = b"fanlic/1/instance-check\n";

/// The first line of a master secret file.
const MAGIC: &str = "fanlic-activation-master/1";

/// The versioned master secret from which activation keys are derived.
pub struct MasterSecret {
    version: u32,
    secret: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasterSecret").field("version", &self.version).finish_non_exhaustive()
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl MasterSecret {
    /// A fresh secret from the system RNG.
    pub fn generate(version: u32) -> Result<Self, Error> {
        let mut secret = Zeroizing::new([0u8; 32]);
        SystemRandom::new().fill(secret.as_mut()).map_err(|_| Error::Random)?;
        Ok(Self { version, secret })
    }

    /// A secret from known bytes (test vectors).
    pub fn from_bytes(version: u32, secret: [u8; 32]) -> Self {
        Self { version, secret: Zeroizing::new(secret) }
    }

    /// Its version (recorded with every license whose key it derived).
    pub fn version(&self) -> u32 {
        self.version
    }

    /// A check value of the secret: HMAC-SHA256 under the secret of a fixed
    /// label ([`CHECK_LABEL`]) and the version. Instances of `fanlic serve`
    /// on one database compare it to know they hold the same secret; it
    /// reveals nothing of the secret (never the secret, nor a plain hash of it).
    pub fn check_value(&self) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.secret.as_ref());
        let mut ctx = ring::hmac::Context::with_key(&key);
        ctx.update(CHECK_LABEL);
        ctx.update(&self.version.to_be_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// The activation key of a license (SPEC.md §6.1).
    pub fn derive(&self, license_id: &LicenseId) -> ActivationKey {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, ACTIVATION_KEY_SALT).extract(self.secret.as_ref());
        let version = self.version.to_be_bytes();
        let info = [version.as_slice(), license_id.0.as_slice()];
        let mut out = Zeroizing::new([0u8; 32]);
        // Expanding to 32 bytes (well under 255 x 32) cannot fail.
        if let Ok(okm) = prk.expand(&info, Len32) {
            let _ = okm.fill(out.as_mut());
        }
        ActivationKey::from_bytes(*out)
    }

    /// The image key of a private-cloud server license (SPEC.md §7.1):
    /// `image_seed = HKDF-SHA256(salt = "fanlic/1/image-key\n", IKM = master
    /// secret, info = version || license id, L = 32)`. Derived, so that a
    /// rebuilt image is byte-identical and nothing per license is stored.
    pub fn derive_image_key(&self, license_id: &LicenseId) -> ImageKey {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, IMAGE_KEY_SALT).extract(self.secret.as_ref());
        let version = self.version.to_be_bytes();
        let info = [version.as_slice(), license_id.0.as_slice()];
        let mut seed = Zeroizing::new([0u8; 32]);
        // Expanding to 32 bytes (well under 255 x 32) cannot fail.
        if let Ok(okm) = prk.expand(&info, Len32) {
            let _ = okm.fill(seed.as_mut());
        }
        ImageKey { seed }
    }

    /// Writes the secret to a new file of mode 0600 (never replaces one).
    pub fn write_new(&self, path: &Path) -> Result<(), Error> {
        let text = Zeroizing::new(format!(
            "{MAGIC}\n# The fanlic activation master secret. Keep it only where `fanlic issue`/`ingest` and\n\
             # `fanlic serve` run, mode 0600, never next to the issuing keys. Losing it means\n\
             # activation codes cannot be made for the licenses it derived keys for.\n\
             version {}\nsecret {}\n",
            self.version,
            hex::encode(self.secret.as_ref())
        ));
        fsutil::write_atomic(path, text.as_bytes(), 0o600, false)
    }

    /// Loads a master secret file; refuses one that others can read.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let bad =
            |why: &str| Error::Home(HomeError::ActivationSecret { path: path.to_owned(), reason: why.to_owned() });
        let meta = fs::metadata(path).map_err(Error::io("cannot read the activation master secret", path))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(bad(&format!(
                "its mode is {:o}: others can read it; run `chmod 600 {}`",
                meta.permissions().mode() & 0o777,
                path.display()
            )));
        }
        let text = Zeroizing::new(
            fs::read_to_string(path).map_err(Error::io("cannot read the activation master secret", path))?,
        );
        let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty());
        if lines.next() != Some(MAGIC) {
            return Err(bad(&format!("it does not start with `{MAGIC}`")));
        }
        let version = lines
            .next()
            .and_then(|l| l.strip_prefix("version "))
            .map(str::trim)
            // ASCII digits only (SPEC.md §6.1): `parse` alone would take a `+`.
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| bad("no `version N` line"))?;
        let hex_text = lines.next().and_then(|l| l.strip_prefix("secret ")).ok_or_else(|| bad("no `secret` line"))?;
        let secret: [u8; 32] =
            hex::decode_array(hex_text.trim()).ok_or_else(|| bad("the secret is not 64 hex digits"))?;
        Ok(Self { version, secret: Zeroizing::new(secret) })
    }
}

/// Checks an activation base URL for `fanlic config --activation-base-url`:
/// `http://` or `https://`, printable ASCII without spaces, query or
/// fragment, at most 400 bytes (the token follows it in the QR code). A
/// trailing `/` is dropped.
pub fn check_base_url(url: &str) -> Result<String, Error> {
    let url = url.trim().trim_end_matches('/');
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && url.len() <= 400
        && url.bytes().all(|b| b.is_ascii_graphic())
        && !url.contains(['?', '#']);
    if ok {
        Ok(url.to_owned())
    } else {
        Err(Error::input(
            "--activation-base-url",
            url,
            "give an http:// or https:// URL without spaces, query or fragment, at most 400 characters, \
             e.g. https://activate.vendor.example/a",
        ))
    }
}

/// The challenge key of a receipt-policy license (SPEC.md §3.3):
/// `HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n")`. The license
/// carries it instead of the activation key, so its holder can authenticate
/// challenges but can make neither a code nor a receipt.
pub fn challenge_key(key: &ActivationKey) -> ActivationKey {
    // The verifier's, which products use: one definition of the derivation.
    ActivationKey::from_bytes(fanlic_verifier::receipt::challenge_key(&key.to_bytes()))
}

/// The default master secret path of a home.
pub fn default_master_path(home: &Path) -> PathBuf {
    home.join(MASTER_DIR).join(MASTER_FILE)
}

/// Creates the home's master secret folder (0700) and a fresh secret, version 1.
pub fn create_master(home: &Path) -> Result<PathBuf, Error> {
    let dir = home.join(MASTER_DIR);
    fsutil::create_dir(&dir, 0o700)?;
    let path = dir.join(MASTER_FILE);
    MasterSecret::generate(1)?.write_new(&path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn derivation_depends_on_version_secret_and_id() {
        let a = MasterSecret::from_bytes(1, [1; 32]);
        let id = LicenseId([7; 16]);
        let k = a.derive(&id);
        assert_eq!(k, MasterSecret::from_bytes(1, [1; 32]).derive(&id));
        assert_ne!(k, MasterSecret::from_bytes(2, [1; 32]).derive(&id));
        assert_ne!(k, MasterSecret::from_bytes(1, [2; 32]).derive(&id));
        assert_ne!(k, a.derive(&LicenseId([8; 16])));
    }

    #[test]
    fn file_round_trip_and_mode_check() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.secret");
        let m = MasterSecret::from_bytes(3, [9; 32]);
        m.write_new(&path).unwrap();
        let back = MasterSecret::load(&path).unwrap();
        assert_eq!(back.version(), 3);
        assert_eq!(back.derive(&LicenseId([1; 16])), m.derive(&LicenseId([1; 16])));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let e = MasterSecret::load(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        assert!(!format!("{m:?}").contains("09"), "Debug shows no secret");
        // SPEC.md §6.1's file format: comments and blank lines anywhere,
        // either hex case; the version in ASCII digits only.
        let secret = "ab".repeat(32);
        let ok = format!("# c\nfanlic-activation-master/1\r\n\n# c\nversion 007\nsecret {}\n", secret.to_uppercase());
        let plus = format!("fanlic-activation-master/1\nversion +7\nsecret {secret}\n");
        for (text, version) in [(ok, Some(7)), (plus, None)] {
            fs::remove_file(&path).unwrap();
            fsutil::write_atomic(&path, text.as_bytes(), 0o600, false).unwrap();
            assert_eq!(MasterSecret::load(&path).ok().map(|m| m.version()), version, "{text}");
        }
    }
}
