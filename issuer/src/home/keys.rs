//! Ed25519 keys on the vendor side, with *ring*: generation (PKCS#8 v2),
//! loading from PEM, signing, and certifying issuing keys.

use crate::error::{HomeError, LicenseError};
use std::{fs, os::unix::fs::PermissionsExt as _, path::Path};

use fanlic_formats::{KeyId, Purposes, Timestamp, encode_certificate_body, wire};
use ring::{
    rand::{SecureRandom, SystemRandom},
    signature::{Ed25519KeyPair, KeyPair as _},
};
use zeroize::Zeroizing;

use crate::Error;
use crate::util::pem;

/// PKCS#8 v1 (RFC 8410) of an Ed25519 key, up to the 32-byte seed.
const PKCS8_V1_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
/// ring's PKCS#8 v2 document up to the seed (the public key follows it).
const RING_PKCS8_V2_PREFIX: [u8; 16] =
    [0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// An Ed25519 private key, kept as its PKCS#8 document (wiped on drop) and
/// ring's key pair. Its `Debug` shows only the key id.
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
    public: [u8; 32],
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey({})", self.key_id())
    }
}

impl SigningKey {
    /// A fresh key from the system's random number generator. It is kept
    /// (and written) as PKCS#8 v1, the form `openssl genpkey` writes and every
    /// OpenSSL reads; ring's v2 document (with the public key) is not read by
    /// OpenSSL 3.0.
    pub fn generate(rng: &SystemRandom) -> Result<Self, Error> {
        let doc = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| Error::Random)?;
        let seed = doc.as_ref().strip_prefix(RING_PKCS8_V2_PREFIX.as_slice()).and_then(|rest| rest.get(..32));
        let Some(seed) = seed else {
            // ring changed its document layout: keep its v2 document as it is.
            return Self::from_pkcs8(doc.as_ref()).map_err(|_| Error::Random);
        };
        let mut v1 = Zeroizing::new(PKCS8_V1_PREFIX.to_vec());
        v1.extend_from_slice(seed);
        let key = Self::from_pkcs8(&v1).map_err(|_| Error::Random)?;
        let v2 = Ed25519KeyPair::from_pkcs8(doc.as_ref()).map_err(|_| Error::Random)?;
        if v2.public_key().as_ref() != key.public.as_slice() {
            return Err(Error::Random);
        }
        Ok(key)
    }

    /// A key from PKCS#8 DER, v2 (ring, OpenSSL 3) or v1 (`openssl genpkey`).
    /// A v2 document's public key must match its private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| format!("not an Ed25519 PKCS#8 private key ({e})"))?;
        let public = <[u8; 32]>::try_from(pair.public_key().as_ref())
            .map_err(|_| "the public key is not 32 bytes".to_owned())?;
        Ok(Self { pkcs8: Zeroizing::new(der.to_vec()), pair, public })
    }

    /// Loads a PEM `PRIVATE KEY` file. Warns on standard error when the file
    /// can be read by others than its owner.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let meta = fs::metadata(path).map_err(Error::io("cannot read the private key", path))?;
        if meta.is_dir() {
            return Err(Error::Home(HomeError::BadKeyFile {
                path: path.to_owned(),
                reason: "is a folder; pass the `.key.pem` file inside it".to_owned(),
            }));
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(Error::io("cannot read the private key", path))?);
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} can be read by other users (mode {:o}); run `chmod 600` on it",
                path.display(),
                meta.permissions().mode() & 0o777
            );
        }
        let der = pem::decode(pem::PRIVATE_KEY_LABEL, &text)
            .map_err(|reason| Error::Home(HomeError::BadKeyFile { path: path.to_owned(), reason }))?;
        Self::from_pkcs8(&der).map_err(|reason| Error::Home(HomeError::BadKeyFile { path: path.to_owned(), reason }))
    }

    /// The Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The key id of the public key.
    pub fn key_id(&self) -> KeyId {
        KeyId::of(&self.public)
    }

    /// The Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let sig = self.pair.sign(message);
        let mut out = [0u8; 64];
        out.copy_from_slice(sig.as_ref().get(..64).unwrap_or(&[0; 64]));
        out
    }

    /// The private key as PEM PKCS#8 text (wiped on drop). Write it only to a
    /// file of mode 0600.
    pub fn private_key_pem(&self) -> Zeroizing<String> {
        pem::encode(pem::PRIVATE_KEY_LABEL, &self.pkcs8)
    }

    /// The public key as PEM SubjectPublicKeyInfo.
    pub fn public_key_pem(&self) -> String {
        pem::public_key_pem(&self.public)
    }
}

/// A signed issuing-key certificate: the signed message and its signature,
/// exactly as they go into every license the key signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCertificate {
    /// Label || postcard body.
    pub message: Vec<u8>,
    /// The root key's signature over `message`.
    pub signature: [u8; 64],
}

/// The root key certifies `issuing` to sign `purposes` from `not_before` to
/// `not_after` (inclusive, checked against a license's `issued_at`).
pub fn certify(
    root: &SigningKey,
    issuing: &[u8; 32],
    not_before: Timestamp,
    not_after: Timestamp,
    purposes: u32,
) -> Result<SignedCertificate, Error> {
    let body = wire::CertificateBody {
        root_key_id: root.key_id().0,
        key_id: KeyId::of(issuing).0,
        public_key: *issuing,
        not_before: not_before.0,
        not_after: not_after.0,
        purposes,
    };
    let message = encode_certificate_body(&body)
        .map_err(|reason| Error::License(LicenseError::Encode { what: "issuing-key certificate", reason }))?;
    let signature = root.sign(&message);
    Ok(SignedCertificate { message, signature })
}

/// Every purpose of an issuing key: both license kinds and revocation lists.
/// Never receipts: a receipt key is certified for receipts alone.
pub const ALL_PURPOSES: u32 = Purposes::LOCAL_CONTAINER | Purposes::PRIVATE_CLOUD | Purposes::REVOCATION_LIST;

pub use crate::store::RECEIPT_PURPOSE;

/// The window of a receipt key: it may sign receipts for 30 days (the
/// format allows at most 31), so a stolen one stops working soon.
pub const RECEIPT_KEY_WINDOW_SECS: u64 = 30 * 86_400;

/// The names of the purposes in a bit set, unknown bits as `bit N`.
pub fn purpose_names(bits: u32) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..32u32 {
        let bit = 1u32 << i;
        if bits & bit == 0 {
            continue;
        }
        out.push(match bit {
            Purposes::LOCAL_CONTAINER => "local-container".to_owned(),
            Purposes::PRIVATE_CLOUD => "private-cloud".to_owned(),
            Purposes::REVOCATION_LIST => "revocation-list".to_owned(),
            RECEIPT_PURPOSE => "receipt".to_owned(),
            _ => format!("bit {i}"),
        });
    }
    out
}

/// Random bytes from the system generator.
pub fn random<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], Error> {
    let mut out = [0u8; N];
    rng.fill(&mut out).map_err(|_| Error::Random)?;
    Ok(out)
}
