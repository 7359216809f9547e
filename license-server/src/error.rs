//! Why the authorization server cannot start or keep its state. Each error
//! names the file concerned and says what to do, because the reader is the
//! customer's admin looking at a container log.

use std::{io, path::PathBuf};

/// An error of the authorization server (start-up, key files, `privateConfig`,
/// TLS). Requests refused for licensing reasons are not errors: they are
/// [`crate::license::Cause`]s.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The system's reason.
        source: io::Error,
    },
    /// A required file is not there.
    #[error("{path} is missing: {hint}")]
    Missing {
        /// The file.
        path: PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// A private key file can be read by others than its owner.
    #[error("{path} has mode {mode:o}; a private key file must be readable by its owner only: chmod 600 {path}")]
    KeyFileMode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file's content is not what it should be.
    #[error("{path}: {reason}")]
    BadKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The server license does not verify, or is not a usable private-cloud
    /// license. `reasons` lists every failing check.
    #[error(
        "{path}: the server license is not valid: {}. The image may be damaged or for another deployment: ask the vendor for a new fanruan_license_server.tar",
        reasons.join("; ")
    )]
    License {
        /// `server.lic`.
        path: PathBuf,
        /// Every failing check, with its cause code.
        reasons: Vec<String>,
    },
    /// `privateConfig` failed a check at start (SPEC.md §7.4: "MUST refuse to
    /// start on a file that fails (saying which check failed)").
    #[error(
        "{path}: {check}. The server does not start rather than make a new instance silently: restore the privateConfig and instance.key that belong together, or move both away to start a new instance (which needs a new QR activation)"
    )]
    PrivateConfig {
        /// `privateConfig`.
        path: PathBuf,
        /// Which check failed.
        check: String,
    },
    /// An encoder refused a value (a bug or an impossible state).
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The encoder's reason.
        source: fanlic_formats::DecodeError,
    },
    /// The TLS certificate or key is unusable.
    #[error("{path}: {reason}")]
    Tls {
        /// The certificate or key file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// `activation-receipt` failed its check at start.
    #[error(
        "{path}: {reason}. The server does not start on a receipt it cannot vouch for: restore the activation-receipt that belongs to this instance, or move it away and activate again"
    )]
    Receipt {
        /// `activation-receipt`.
        path: PathBuf,
        /// Which check failed.
        reason: String,
    },
    /// A configuration value (environment or flag) is wrong.
    #[error("{0}")]
    Config(String),
    /// The network listener or the runtime failed.
    #[error("{0}")]
    Serve(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, action: &'static str) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, action, source }
    }
}
