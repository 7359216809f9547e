//! The serde structs exactly as postcard lays them out (SPEC.md §3).
//!
//! Field order is the wire order; every field is listed in SPEC.md with its
//! postcard type. These structs are not validated: decode them through
//! [`crate::Envelope`], [`crate::IssuingKeyCertificate`] and
//! [`crate::License`], which apply every rule of the spec.

use core::fmt;

use serde::{
    Deserialize, Deserializer, Serialize, Serializer,
    de::{self, SeqAccess, Visitor},
    ser::SerializeTuple,
};

/// An Ed25519 signature: 64 raw bytes, no length prefix (a postcard tuple).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut t = s.serialize_tuple(64)?;
        for b in &self.0 {
            t.serialize_element(b)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("64 signature bytes")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Signature, A::Error> {
                let mut out = [0u8; 64];
                for (i, o) in out.iter_mut().enumerate() {
                    *o = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(out))
            }
        }
        d.deserialize_tuple(64, V)
    }
}

/// A signed message and its signature (SPEC.md §3.1). The message starts with
/// its purpose label, so the bytes signed are exactly `message`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedBody<'a> {
    /// Label || postcard body.
    #[serde(borrow)]
    pub message: &'a [u8],
    /// Ed25519 over `message`.
    pub signature: Signature,
}

/// A license file after its magic (SPEC.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenseFile<'a> {
    /// The issuing key's certificate, signed by a root key.
    #[serde(borrow)]
    pub certificate: SignedBody<'a>,
    /// The license payload, signed by the issuing key.
    #[serde(borrow)]
    pub license: SignedBody<'a>,
}

/// An issuing-key certificate's body, after its label (SPEC.md §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateBody {
    /// Key id of the root key that signs this certificate.
    pub root_key_id: [u8; 8],
    /// Key id of `public_key`.
    pub key_id: [u8; 8],
    /// The issuing key's Ed25519 public key.
    pub public_key: [u8; 32],
    /// First second (Unix) at which the key may sign.
    pub not_before: u64,
    /// Last second (Unix) at which the key may sign.
    pub not_after: u64,
    /// Bit set of what the key may sign; see [`crate::Purposes`].
    pub purposes: u32,
}

/// A calendar date (SPEC.md §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Date {
    /// 1970 to 9999.
    pub year: u16,
    /// 1 to 12.
    pub month: u8,
    /// 1 to the month's last day.
    pub day: u8,
}

/// The license kind: which authentication method it is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// Variant 0: `Container.lic` for local container authentication.
    LocalContainer,
    /// Variant 1: the license inside `fanruan_license_server.tar`.
    PrivateCloud,
}

/// When the license ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiry {
    /// Variant 0: perpetual.
    Never,
    /// Variant 1: valid through the end of this UTC day.
    On(Date),
}

/// How a license is activated (SPEC.md §3.3, `activation_policy`): a
/// trailing optional field of the payload, absent for `Code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationPolicy {
    /// Variant 0: the 6-digit code (never written: absence means it).
    Code,
    /// Variant 1: a vendor-signed receipt (SPEC.md §6.4).
    Receipt,
}

/// A licensed product version, major.minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
}

/// A license payload, after its label (SPEC.md §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensePayload<'a> {
    /// 128 random bits.
    pub license_id: [u8; 16],
    /// Authentication method the license is for.
    pub kind: Kind,
    /// `FineReport`, `FineBI`, ...
    pub app_name: &'a str,
    /// The customer company.
    pub company: &'a str,
    /// The project name (the product's "project content").
    pub project: &'a str,
    /// Contract signing date.
    pub contract_signed: Date,
    /// When the issuer signed (Unix seconds).
    pub issued_at: u64,
    /// Not valid before (Unix seconds).
    pub not_before: u64,
    /// Expiry.
    pub expiry: Expiry,
    /// Licensed version.
    pub version: Version,
    /// Max cluster nodes, at least 1.
    pub max_nodes: u32,
    /// Per-license activation key (activation).
    pub activation_key: Option<[u8; 32]>,
    /// Where the QR code points (activation).
    #[serde(borrow)]
    pub activation_base_url: Option<&'a str>,
    /// Image key of a private-cloud authorization server.
    pub image_public_key: Option<[u8; 32]>,
    /// The license this one replaces.
    pub supersedes: Option<[u8; 16]>,
    /// SHA-256 of the registration mail this license answers.
    pub request_email_sha256: Option<[u8; 32]>,
}
