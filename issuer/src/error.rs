//! The errors a user of `fanlic` can see: one variant per cause, each with
//! the context needed to act on it (which file, which option, how to fix).

use std::{io, path::PathBuf};

use fanlic_formats::{DecodeError, KeyId, LicenseKind, Timestamp};

/// Everything that can go wrong in the issuer. Every message says what failed
/// and, where there is one, how to fix it. None contains secret material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{path}: {action}: {source}")]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// Writing to standard output failed.
    #[error("cannot write the output: {0}")]
    Output(#[source] io::Error),

    /// A command-line value is not acceptable.
    #[error("{option} {given:?}: {fix}")]
    InvalidInput {
        /// The option, e.g. `--app`.
        option: &'static str,
        /// What was given.
        given: String,
        /// What is wrong and how to fix it.
        fix: String,
    },

    /// The output file exists and `--force` was not given.
    #[error("{path} already exists; pass --force to replace it, or choose another -o")]
    OutputExists {
        /// The output file.
        path: PathBuf,
    },

    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,

    /// The system clock is before 1970.
    #[error("the system clock reads a time before 1970; set the clock, or pass --now")]
    Clock,

    /// The vendor home: its folder, its keys, its activation master secret.
    #[error(transparent)]
    Home(#[from] HomeError),

    /// The home's database.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// Issuing a license: the one-live-license rule, the signing key, the self-check, the file.
    #[error(transparent)]
    License(#[from] LicenseError),

    /// The contract registry.
    #[error(transparent)]
    Contract(#[from] ContractError),

    /// `revoke` and `unbind` refused: nothing was changed (exit status 1).
    #[error(transparent)]
    Revoke(#[from] Refusal),

    /// Signing or reading a revocation list.
    #[error(transparent)]
    RevocationList(#[from] RevocationListError),

    /// Reply mail: building it and sending it.
    #[error(transparent)]
    Outbox(#[from] OutboxError),

    /// `fanlic serve`, the activation service.
    #[error(transparent)]
    Service(#[from] ServiceError),

    /// Staff accounts (`fanlic staff`, the console's logins).
    #[error(transparent)]
    Staff(#[from] StaffError),

    /// `fanlic console`, the staff console.
    #[error(transparent)]
    Console(#[from] ConsoleError),

    /// The private-cloud image: building it and delivering it.
    #[error(transparent)]
    Image(#[from] ImageBuildError),

    /// The registration mailbox over IMAP (`fanlic watch imaps://…`).
    #[error(transparent)]
    Imap(#[from] ImapError),
}

/// Reading the registration mailbox over IMAP (`fanlic watch imaps://…`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImapError {
    /// The mailbox URL cannot be used.
    #[error("{url:?}: {reason} (expected imaps://USER@HOST[:PORT]/MAILBOX, or imap://… with STARTTLS)")]
    Url {
        /// The URL given (it holds no password).
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server could not be reached, or the connection was lost.
    #[error("{server}: {reason}")]
    Connection {
        /// `HOST:PORT`.
        server: String,
        /// What happened.
        reason: String,
    },
    /// The TLS handshake failed (most often: a certificate no trusted CA signed).
    #[error("{server}: TLS: {reason} (a private CA is trusted with --ca-file FILE)")]
    Tls {
        /// `HOST:PORT`.
        server: String,
        /// What the TLS library said.
        reason: String,
    },
    /// `imap://` and the server offers no STARTTLS: the password would go in clear.
    #[error(
        "{server}: the server does not offer STARTTLS, so the login would travel unencrypted; use \
         imaps:// (implicit TLS), or --allow-plaintext for a server on this machine"
    )]
    NoStartTls {
        /// `HOST:PORT`.
        server: String,
    },
    /// `--allow-plaintext` for a server that is not on loopback.
    #[error("{server}: --allow-plaintext is accepted only for a server on loopback (127.0.0.1, ::1, localhost)")]
    PlaintextNotLocal {
        /// `HOST:PORT`.
        server: String,
    },
    /// No credentials were given.
    #[error(
        "no IMAP credentials: set FANLIC_IMAP_PASSWORD, or give --password-file FILE (mode 0600), or an OAuth2 \
         token with --oauth2-token-file FILE or --oauth2-token-command CMD"
    )]
    NoCredentials,
    /// A credentials file or token command could not be used.
    #[error("{what}: {reason}")]
    Credentials {
        /// The file or command.
        what: String,
        /// What is wrong, and what to do.
        reason: String,
    },
    /// The server refused the login.
    #[error("{server}: login as {user:?} refused: {reason}")]
    Login {
        /// `HOST:PORT`.
        server: String,
        /// The user.
        user: String,
        /// What the server said.
        reason: String,
    },
    /// A mailbox could not be opened or made.
    #[error("{server}: mailbox {mailbox:?}: {reason}")]
    Mailbox {
        /// `HOST:PORT`.
        server: String,
        /// The mailbox.
        mailbox: String,
        /// What the server said.
        reason: String,
    },
    /// A command failed.
    #[error("{server}: {action}: {reason}")]
    Command {
        /// `HOST:PORT`.
        server: String,
        /// What was being done.
        action: &'static str,
        /// What the server said.
        reason: String,
    },
}

impl ImapError {
    /// Whether waiting and connecting again may help (the server is down or
    /// restarting, the connection was lost): `fanlic watch` retries these
    /// with backoff and stops on the others.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connection { .. } | Self::Command { .. })
    }
}

/// The vendor home: its folder, its keys, its activation master secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HomeError {
    /// `init` was pointed at a folder that already holds something.
    #[error(
        "{path} already exists and is not empty; `fanlic init` never overwrites a home \
         (it holds keys). Choose another --home, or move the old one away first"
    )]
    Exists {
        /// The home folder.
        path: PathBuf,
    },

    /// A command needs a home that does not exist.
    #[error(
        "no fanlic home at {path} (no fanlic.db there); run `fanlic init --home {path}` first, \
         or point --home / $FANLIC_HOME at an existing home"
    )]
    Missing {
        /// The home folder.
        path: PathBuf,
    },

    /// The home's records are in PostgreSQL, and no database was given.
    #[error(
        "the records of the fanlic home at {path} are in PostgreSQL ({database}); give --database URL \
         or set FANLIC_DATABASE_URL"
    )]
    DatabaseNotGiven {
        /// The home folder.
        path: PathBuf,
        /// The database, without its password.
        database: String,
    },

    /// `init` was pointed at a PostgreSQL database that holds a home's records.
    #[error(
        "the database {database} already holds a fanlic home's records; give `fanlic init` an empty \
         database (CREATE DATABASE …), or open the existing home with --database"
    )]
    DatabaseInUse {
        /// The database, without its password.
        database: String,
    },

    /// A key file could not be used.
    #[error("{path}: {reason}")]
    BadKeyFile {
        /// The key file.
        path: PathBuf,
        /// Why.
        reason: String,
    },

    /// `keys rotate` was given a root key this home does not know.
    #[error(
        "{path} holds root key {key_id}, which is not a root key of this home (its roots: {known}); \
         products would not trust what it certifies. Pass this home's root private key"
    )]
    UnknownRootKey {
        /// The key's id.
        key_id: KeyId,
        /// The file it came from.
        path: PathBuf,
        /// The ids this home knows, comma separated.
        known: String,
    },

    /// There is no issuing key to sign with.
    #[error(
        "the home {home} has no active issuing key; run `fanlic keys rotate --root-key PATH` \
         to certify one"
    )]
    NoIssuingKey {
        /// The home folder.
        home: PathBuf,
    },

    /// The signing key's certified window does not cover now.
    #[error(
        "issuing key {key_id} is certified to sign from {not_before} to {not_after}, not at {now}; \
         run `fanlic keys rotate --root-key PATH` to certify a new issuing key"
    )]
    IssuingKeyOutsideWindow {
        /// The key.
        key_id: KeyId,
        /// Window start.
        not_before: Timestamp,
        /// Window end.
        not_after: Timestamp,
        /// The time of issuance.
        now: Timestamp,
    },

    /// The signing key is not certified for this kind of license.
    #[error(
        "issuing key {key_id} is not certified to sign {kind} licenses; \
         run `fanlic keys rotate --root-key PATH` to certify a key for all kinds"
    )]
    KindNotCertified {
        /// The key.
        key_id: KeyId,
        /// The kind asked for.
        kind: LicenseKind,
    },

    /// `verify` has no root key to check against.
    #[error(
        "no root public key to verify against: pass --root-key FILE (a PEM public key), \
         or --home DIR of a home that has one"
    )]
    NoRootKeys,

    /// The activation master secret file is unusable.
    #[error("activation master secret {path}: {reason}")]
    ActivationSecret {
        /// The file.
        path: PathBuf,
        /// What is wrong and how to fix it.
        reason: String,
    },

    /// No issuing key may sign a revocation list now.
    #[error(
        "cannot sign a revocation list: {why}; run `fanlic keys rotate --root-key PATH` to certify a new issuing key"
    )]
    NoRevocationSigner {
        /// Why the signing key cannot.
        why: String,
    },

    /// A key could not be derived from the master secret.
    #[error("cannot derive the {what}: {reason}")]
    KeyDerivation {
        /// Which key.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// The home's database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached (PostgreSQL down or restarting,
    /// the connection lost, every pooled connection busy); trying again
    /// later may succeed.
    #[error("database {path} is out of reach: {action}: {source}; try again when it is back")]
    Unavailable {
        /// What was being done.
        action: &'static str,
        /// The database (its URL without the password).
        path: PathBuf,
        /// What the client said.
        #[source]
        source: Box<dyn core::error::Error + Send + Sync>,
    },

    /// The database failed.
    #[error("database {path}: {action}: {source}")]
    Database {
        /// What was being done.
        action: &'static str,
        /// The database file.
        path: PathBuf,
        /// What the database said.
        #[source]
        source: Box<dyn core::error::Error + Send + Sync>,
    },

    /// The database was written by a newer `fanlic`.
    #[error(
        "database {path} has schema version {found}, but this fanlic knows only up to {supported}; \
         use a newer fanlic"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// Its `PRAGMA user_version`.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },

    /// The database holds something this build cannot make sense of.
    #[error("database {path} is inconsistent: {what}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
}

/// Issuing a license: the one-live-license rule, the signing key, the self-check, the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LicenseError {
    /// A project already has its one live license.
    #[error(
        "project {project:?} already has a live license{}: one Container.lic per project. \
         To replace it, issue with `--supersede LICENSE_ID` (the old one is revoked); \
         to license another project, choose its exact name",
        license_id.as_deref().map(|l| format!(" ({l})")).unwrap_or_default()
    )]
    LiveLicenseExists {
        /// The project.
        project: String,
        /// The live license, when known.
        license_id: Option<String>,
    },

    /// `--supersede` names a license that is not the project's live one.
    #[error("--supersede {given}: {why}. `fanlic audit --license {given}` shows its history")]
    SupersedeMismatch {
        /// The license given.
        given: String,
        /// Why it cannot be superseded by this license.
        why: String,
    },

    /// The signing key was revoked (`fanlic revoke --issuing-key`): products
    /// holding the revocation list would refuse what it signs.
    #[error(
        "the signing key {key_id} is revoked; nothing was signed. Certify a new one with \
         `fanlic keys rotate --root-key PATH`"
    )]
    SigningKeyRevoked {
        /// The revoked key.
        key_id: KeyId,
    },

    /// The wire format refused a value the issuer built. Input validation
    /// should have caught it first; the message names the rule.
    #[error("cannot encode the {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// The rule it broke.
        reason: DecodeError,
    },

    /// The license just signed did not verify (a key in the home is not the
    /// one its database says). Nothing was written.
    #[error("the freshly signed license does not verify against this home's root keys: {reason}; nothing was written")]
    SelfCheck {
        /// The verifier's reason.
        reason: String,
    },
    /// A decision was recorded with its license, but the license file under
    /// `HOME/issued/` could not be written or flushed. The message is left
    /// in place; the next `fanlic ingest` finds it decided and writes the
    /// file again.
    #[error(
        "decided and recorded, but the license file could not be written ({reason}); the message is left in place and the next `fanlic ingest` writes the file"
    )]
    LicenseFileNotWritten {
        /// What failed.
        reason: String,
    },

    /// A private-cloud license needs the activation master secret, from
    /// which its image key is derived (SPEC.md §7.1).
    #[error(
        "no activation master secret at {path}: a private-cloud license's image key is derived from it. \
         Copy the home's master secret there (mode 0600), or issue on the machine that has it"
    )]
    PrivateCloudNeedsMaster {
        /// Where it was looked for.
        path: PathBuf,
    },

    /// A receipt-policy license needs the master secret: it carries the
    /// challenge key derived from the activation key.
    #[error(
        "no activation master secret at {path}: a receipt-policy license carries a challenge key derived \
         from it. Copy the home's master secret there (mode 0600), or issue on the machine that has it"
    )]
    ReceiptPolicyNeedsMaster {
        /// Where it was looked for.
        path: PathBuf,
    },
}

/// The contract registry.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// No contract has this id or company.
    #[error(
        "no contract with id or company {given:?}; `fanlic contract list --all` shows every contract, \
         `fanlic contract add` records one"
    )]
    NotFound {
        /// What was asked for.
        given: String,
    },

    /// A contract for this company is already in the registry.
    #[error(
        "company {company:?} already has contract {id}; companies are unique (ignoring case and \
         white space): change it with `fanlic contract update {id} ...`"
    )]
    Exists {
        /// The company as recorded.
        company: String,
        /// Its contract.
        id: i64,
    },

    /// An address already belongs to another enabled contract.
    #[error(
        "{email} already belongs to enabled contract {id} ({company}); an address may belong to one \
         enabled contract only: remove it there (`fanlic contract update {id} --email ...`) or \
         disable that contract first"
    )]
    EmailTaken {
        /// The address, normalized.
        email: String,
        /// The contract holding it.
        id: i64,
        /// That contract's company.
        company: String,
    },

    /// `contract import` found bad rows; nothing was imported.
    #[error(
        "{path}: {} problem(s); nothing was imported. Fix every line listed and import again:\n  {}",
        problems.len(),
        problems.join("\n  ")
    )]
    ImportRejected {
        /// The CSV file.
        path: PathBuf,
        /// One per problem: `line N: ...`.
        problems: Vec<String>,
    },

    /// Nobody to record as the author of a change.
    #[error("cannot tell who makes this change: pass --by NAME (or set $USER)")]
    NoActor,
}

/// `revoke` and `unbind` refused: nothing was changed (exit status 1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// `revoke` / `unbind` named a license this home never issued.
    #[error(
        "no license {license_id} in this home; check the id (32 hex digits): `fanlic inspect Container.lic` \
         shows a file's id, `fanlic audit` lists the licenses issued from registration mail"
    )]
    LicenseNotFound {
        /// The id given (normalized).
        license_id: String,
    },

    /// `revoke` of a license revoked before; nothing was changed.
    #[error("license {license_id} was already revoked at {at} by {by} ({reason:?}); nothing was changed")]
    LicenseAlreadyRevoked {
        /// The license.
        license_id: String,
        /// When it was revoked.
        at: Timestamp,
        /// Who revoked it.
        by: String,
        /// Why.
        reason: String,
    },

    /// `unbind` of a revoked license: it registers no project any more.
    #[error(
        "license {license_id} was revoked at {at} by {by}; a revoked license registers no project, \
         so it is not unbound (issue a new license instead)"
    )]
    UnbindRevoked {
        /// The license.
        license_id: String,
        /// When it was revoked.
        at: Timestamp,
        /// Who revoked it.
        by: String,
    },

    /// `unbind` of a license no activation bound.
    #[error("license {license_id} is not bound to any project; nothing to do")]
    NotBound {
        /// The license.
        license_id: String,
    },

    /// `revoke --issuing-key` named a key this home does not have.
    #[error("no issuing key {key_id} in this home (its issuing keys: {known}); `fanlic keys list` shows them")]
    IssuingKeyNotFound {
        /// The id given.
        key_id: String,
        /// The ids this home knows, comma separated.
        known: String,
    },

    /// `revoke --issuing-key` of a key revoked before; nothing was changed.
    #[error("issuing key {key_id} was already revoked at {at} by {by}; nothing was changed")]
    IssuingKeyAlreadyRevoked {
        /// The key.
        key_id: KeyId,
        /// When it was revoked.
        at: Timestamp,
        /// Who revoked it.
        by: String,
    },

    /// `revoke --issuing-key` of the key that signs new licenses, without `--force`.
    #[error(
        "issuing key {key_id} signs new licenses and revocation lists; rotate first with \
         `fanlic keys rotate --root-key PATH`, then revoke it (or pass --force to revoke it anyway: \
         no revocation list can be exported until you rotate)"
    )]
    RevokingSigningKey {
        /// The key.
        key_id: KeyId,
    },
}

/// Signing or reading a revocation list.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevocationListError {
    /// The revocation list just signed did not verify; nothing was written.
    #[error(
        "the freshly signed revocation list does not verify against this home's root keys: {reason}; \
         nothing was written"
    )]
    SelfCheck {
        /// The verifier's reason.
        reason: String,
    },

    /// `verify --revocations` was given a list that does not verify against
    /// the root keys: it revokes nothing, so no license is checked with it.
    #[error(
        "{path}: {reason}. Pass the list `fanlic revocations export` wrote (raw, signed under a root key \
         trusted here)"
    )]
    Refused {
        /// The list file.
        path: PathBuf,
        /// The verifier's reason.
        reason: String,
    },
}

/// Reply mail: building it and sending it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutboxError {
    /// A reply may go only to an address of an enabled contract (never to
    /// `Reply-To`, never to an unproven sender: no backscatter).
    #[error(
        "refusing to queue a reply to {to:?}: it is not an address of an enabled contract; replies go \
         only to a contract's address (`fanlic contract show` lists them)"
    )]
    ReplyNotToContract {
        /// The address asked for.
        to: String,
    },

    /// A queued reply could not be made into a message (bad address, header
    /// or attachment type).
    #[error("cannot build reply {id}: {reason}")]
    ReplyInvalid {
        /// Its outbox id (0 before it is queued).
        id: i64,
        /// What is wrong.
        reason: String,
    },

    /// The SMTP settings cannot be used.
    #[error("SMTP server {host:?}: {reason}")]
    SmtpConfig {
        /// The host given.
        host: String,
        /// What is wrong.
        reason: String,
    },
}

/// `fanlic serve`, the activation service.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// `fanlic serve` has no activation master secret to derive keys with.
    #[error(
        "no activation master secret at {path}: `fanlic serve` needs the one that derived the licenses' \
         activation keys. Pass --master-secret FILE, or copy it there (mode 0600)"
    )]
    NoMasterSecret {
        /// Where it was looked for.
        path: PathBuf,
    },

    /// `fanlic serve` could not listen on its address.
    #[error("cannot listen on {addr}: {source}; choose another --listen address, or stop what uses it")]
    Listen {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The activation service failed while running.
    #[error("the activation service stopped: {reason}")]
    Failed {
        /// What failed.
        reason: String,
    },
}

/// Staff accounts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StaffError {
    /// No account has that name.
    #[error("no staff account is named {name:?}: `fanlic staff list` shows them")]
    NoSuchAccount {
        /// The name given.
        name: String,
    },

    /// The name is taken.
    #[error("a staff account named {name:?} exists already: choose another name, or `fanlic staff passwd {name}`")]
    NameTaken {
        /// The name given.
        name: String,
    },

    /// The password is too weak to protect a console that issues licenses.
    #[error("the password is not acceptable: {why}")]
    WeakPassword {
        /// What is wrong with it.
        why: &'static str,
    },

    /// `--password-stdin` read nothing.
    #[error(
        "no password on standard input: pipe it in, e.g. `printf '%s' \"$PW\" | fanlic staff add NAME --role admin --password-stdin`"
    )]
    NoPassword,

    /// Hashing a password failed (Argon2id).
    #[error("cannot hash the password: {reason}")]
    Hash {
        /// Argon2's error.
        reason: String,
    },

    /// The last enabled admin would be disabled or demoted: nobody could manage staff any more.
    #[error(
        "{name:?} is the last enabled admin: add another admin first (`fanlic staff add NAME --role admin --password-stdin`)"
    )]
    LastAdmin {
        /// The account.
        name: String,
    },
}

/// `fanlic console`, the staff console.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConsoleError {
    /// The console could not listen on its address.
    #[error("cannot listen on {addr}: {source}; choose another --listen address, or stop what uses it")]
    Listen {
        /// The address asked for.
        addr: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The TLS certificate or key cannot be used.
    #[error("{path}: {why}")]
    Tls {
        /// The certificate or key file.
        path: PathBuf,
        /// What is wrong, and how to fix it.
        why: String,
    },

    /// The console failed while running.
    #[error("the staff console stopped: {reason}")]
    Failed {
        /// What failed.
        reason: String,
    },
}

/// The private-cloud image: building it and delivering it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageBuildError {
    /// The authorization server binary that goes into every image is missing.
    #[error(
        "the authorization server binary {path} is missing: build it with \
         `cargo build --release -p fanlic-license-server --target x86_64-unknown-linux-musl` \
         (needs `rustup target add x86_64-unknown-linux-musl` and Debian's musl-tools), or point \
         `fanlic config --license-server-binary PATH` (or FANLIC_LICENSE_SERVER_BINARY) at one"
    )]
    ServerBinaryMissing {
        /// Where it was looked for.
        path: PathBuf,
    },

    /// The server binary would not run in the image.
    #[error(
        "the authorization server binary {path} cannot go into an image: {why}. Build the static one with \
         `cargo build --release -p fanlic-license-server --target x86_64-unknown-linux-musl`"
    )]
    ServerBinaryNotStatic {
        /// The binary.
        path: PathBuf,
        /// What is wrong with it.
        why: &'static str,
    },

    /// An image is asked for a license that is not a private-cloud one.
    #[error(
        "license {license_id} is a {kind} license; only private-cloud licenses come as an image \
         (issue one with --kind private-cloud)"
    )]
    NotPrivateCloud {
        /// The license.
        license_id: String,
        /// Its kind.
        kind: &'static str,
    },

    /// A license was issued before private-cloud images existed: it names no
    /// image key, so no image can be built for it.
    #[error(
        "license {license_id} names no image key (issued before images existed); issue a new \
         private-cloud license for the customer and revoke this one"
    )]
    NoImageKey {
        /// The license.
        license_id: String,
    },

    /// An image tar could not be written or read.
    #[error("image {path}: {source}")]
    Oci {
        /// The tar file.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: fanlic_oci::ImageError,
    },

    /// A private-cloud license was issued (recorded) but its image or the
    /// reply carrying it could not be made yet; the message stays unread and
    /// the next `fanlic ingest` of it finishes the delivery.
    #[error(
        "license {license_id} was issued, but its image or its reply could not be made: {reason}. The mail \
         stays unread; run `fanlic ingest` again on it (nothing is issued twice) once the cause is fixed"
    )]
    ImageNotDelivered {
        /// The license.
        license_id: String,
        /// What failed.
        reason: String,
    },
}

impl Error {
    /// The exit status of a command that failed with this error: 1 for a
    /// refusal (nothing was changed: the license or key is unknown, already
    /// revoked, not bound...), 2 for everything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Revoke(_) => 1,
            _ => 2,
        }
    }

    /// A helper for [`Error::Io`].
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { action, path, source }
    }

    /// A helper for [`Error::InvalidInput`].
    pub(crate) fn input(option: &'static str, given: &str, fix: impl Into<String>) -> Self {
        Self::InvalidInput { option, given: given.to_owned(), fix: fix.into() }
    }
}
