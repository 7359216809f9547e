//! The vendor home: a folder with the database, the issuing keys, the root
//! public keys, and (until it is moved offline) the root private key.
//!
//! ```text
//! fanlic-home/                 mode 0700
//!   fanlic.db                  SQLite: keys, certificates, issued licenses, authserv ids
//!   root-key/                  THE ROOT PRIVATE KEY: move this folder offline
//!     root-<id>.key.pem        PKCS#8, mode 0600
//!     root-<id>.pub.pem        SubjectPublicKeyInfo
//!     README.txt
//!   public/
//!     root-<id>.pub.pem        the root public key products embed (stays here)
//!   issuing-keys/
//!     issuing-<id>.key.pem     PKCS#8, mode 0600
//!     issuing-<id>.pub.pem
//!   receipt-keys/              keys `fanlic serve` signs activation receipts with
//!     receipt-<id>.key.pem     PKCS#8, mode 0600 (certified for receipts only, 30 days)
//!     receipt-<id>.pub.pem
//! ```

pub mod activation;
mod database;
pub use database::{copy_home, home_database};
pub mod keys;
mod report;

pub use report::{InitReport, KeysReport, ReceiptKeysReport, RotateReport};

use crate::error::HomeError;
use std::{
    fs, io,
    path::{Path, PathBuf},
};

use fanlic_formats::{KeyId, Timestamp};
use fanlic_verifier::RootKey;
use ring::rand::SystemRandom;

use crate::Error;
use crate::home::keys::{ALL_PURPOSES, SigningKey};
use crate::store::audit::{Action, Entry};
use crate::store::{self, Database, IssuingKeyRow, RootKeyRow, Store, StoredLicense};
use crate::util::clock;
use crate::util::fsutil::{self, PRIVATE_MODE, PUBLIC_MODE};
use crate::util::hex;
use crate::util::pem;

/// The folder of the root private key, inside the home.
pub const ROOT_KEY_DIR: &str = "root-key";
/// The folder of the public root keys.
pub const PUBLIC_DIR: &str = "public";
/// The folder of the issuing keys.
pub const ISSUING_DIR: &str = "issuing-keys";
/// The folder of the receipt keys.
pub const RECEIPT_DIR: &str = "receipt-keys";
/// Most receipt keys `keys receipt-key --count` makes at once (a year of windows).
pub const MAX_RECEIPT_KEYS_AT_ONCE: u32 = 13;
/// How long an issuing key may sign unless told otherwise: two calendar years.
pub const DEFAULT_VALIDITY_YEARS: u16 = 2;

/// The file in a home whose records are in PostgreSQL: the database's URL
/// without its password, so that a command run without `--database` says
/// where the records are instead of finding none.
pub const DATABASE_FILE: &str = "database.url";

static DATABASE: std::sync::OnceLock<store::PostgresUrl> = std::sync::OnceLock::new();

/// Puts this process's homes' records in the PostgreSQL database `url`
/// (`--database`, `FANLIC_DATABASE_URL`); without it they are in each home's
/// `fanlic.db`. Set once, before any home is opened; a second call is ignored.
pub fn use_database(url: store::PostgresUrl) {
    let _ = DATABASE.set(url);
}

/// The PostgreSQL database set with [`use_database`], if any.
pub fn database() -> Option<&'static store::PostgresUrl> {
    DATABASE.get()
}

/// Where the records of the home at `dir` are, for messages: the PostgreSQL
/// database (no password) or the home's fanlic.db.
pub fn database_shown(dir: &Path) -> String {
    match database() {
        Some(url) => url.to_string(),
        None => dir.join(store::FILE_NAME).display().to_string(),
    }
}

/// An open vendor home.
#[derive(Debug)]
pub struct Home {
    dir: PathBuf,
    db_path: PathBuf,
    store: Store,
}

/// What `init` is asked to do.
#[derive(Clone, Debug)]
pub struct InitOptions {
    /// Authserv ids of the vendor's mail servers, already checked.
    pub authserv_ids: Vec<String>,
    /// How many days the first issuing key may sign; `None`: two years.
    pub valid_for_days: Option<u32>,
    /// The time of creation.
    pub now: Timestamp,
}

/// The receipt key that signs at `now`: the one with the latest start
/// among those whose window holds `now`.
pub fn newest_valid(keys: &[IssuingKeyRow], now: Timestamp) -> Option<&IssuingKeyRow> {
    keys.iter().filter(|k| k.not_before <= now && now <= k.not_after).max_by_key(|k| (k.not_before, k.created_at))
}

/// Makes, writes and certifies a receipt key for the window starting at
/// `not_before` (the database is the caller's).
fn new_receipt_key(
    dir: &Path,
    root: &SigningKey,
    rng: &SystemRandom,
    not_before: Timestamp,
    now: Timestamp,
) -> Result<IssuingKeyRow, Error> {
    let key = SigningKey::generate(rng)?;
    let not_after = Timestamp(not_before.0.saturating_add(keys::RECEIPT_KEY_WINDOW_SECS));
    let cert = keys::certify(root, &key.public_key(), not_before, not_after, keys::RECEIPT_PURPOSE)?;
    let (private_key_path, public_key_path) =
        write_key_pair(dir, RECEIPT_DIR, &format!("receipt-{}", key.key_id()), &key)?;
    Ok(IssuingKeyRow {
        key_id: key.key_id(),
        root_key_id: root.key_id(),
        public_key: key.public_key(),
        not_before,
        not_after,
        purposes: keys::RECEIPT_PURPOSE,
        certificate_message: cert.message,
        certificate_signature: cert.signature,
        private_key_path,
        public_key_path,
        created_at: now,
        retired_at: None,
    })
}

fn write_key_pair(dir: &Path, rel_dir: &str, stem: &str, key: &SigningKey) -> Result<(PathBuf, PathBuf), Error> {
    let private_rel = Path::new(rel_dir).join(format!("{stem}.key.pem"));
    let public_rel = Path::new(rel_dir).join(format!("{stem}.pub.pem"));
    fsutil::write_atomic(&dir.join(&private_rel), key.private_key_pem().as_bytes(), PRIVATE_MODE, false)?;
    fsutil::write_atomic(&dir.join(&public_rel), key.public_key_pem().as_bytes(), PUBLIC_MODE, false)?;
    Ok((private_rel, public_rel))
}

/// Makes, writes and certifies a new issuing key (the database is the caller's).
fn new_issuing_key(
    dir: &Path,
    root: &SigningKey,
    rng: &SystemRandom,
    now: Timestamp,
    valid_for_days: Option<u32>,
) -> Result<IssuingKeyRow, Error> {
    let key = SigningKey::generate(rng)?;
    let not_after = match valid_for_days {
        Some(days) => clock::add_days(now, days),
        None => clock::add_years(now, DEFAULT_VALIDITY_YEARS),
    };
    let cert = keys::certify(root, &key.public_key(), now, not_after, ALL_PURPOSES)?;
    let (private_key_path, public_key_path) =
        write_key_pair(dir, ISSUING_DIR, &format!("issuing-{}", key.key_id()), &key)?;
    Ok(IssuingKeyRow {
        key_id: key.key_id(),
        root_key_id: root.key_id(),
        public_key: key.public_key(),
        not_before: now,
        not_after,
        purposes: ALL_PURPOSES,
        certificate_message: cert.message,
        certificate_signature: cert.signature,
        private_key_path,
        public_key_path,
        created_at: now,
        retired_at: None,
    })
}

fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).map(|mut d| d.next().is_none()).unwrap_or(false)
}

/// The most `Received` lines [`Home::set_own_received_lines`] accepts.
pub const MAX_OWN_RECEIVED_LINES: usize = 5;

/// The address replies are sent from when `fanlic config --reply-from` was
/// never set.
pub const DEFAULT_FROM: &str = "fanlic@localhost";

impl AsRef<Store> for Home {
    fn as_ref(&self) -> &Store {
        &self.store
    }
}

impl Home {
    /// Creates a home at `dir` (which must not exist, or be an empty folder):
    /// a root key in its own folder, a first issuing key certified by it, and
    /// the database. Everything is built in a temporary folder next to `dir`
    /// and renamed into place, so a failed `init` leaves nothing behind.
    pub fn init(dir: &Path, opts: &InitOptions) -> Result<(Self, InitReport), Error> {
        let dir = std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?;
        if fs::symlink_metadata(&dir).is_ok() && !is_empty_dir(&dir) {
            return Err(Error::Home(HomeError::Exists { path: dir }));
        }
        let parent = dir.parent().unwrap_or(Path::new("/")).to_owned();
        fs::create_dir_all(&parent).map_err(Error::io("cannot create the folder", &parent))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".fanlic-init-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&parent)
            .map_err(Error::io("cannot create a temporary folder in", &parent))?;
        let t = tmp.path().to_owned();
        fsutil::create_dir(&t.join(ROOT_KEY_DIR), 0o700)?;
        fsutil::create_dir(&t.join(PUBLIC_DIR), 0o755)?;
        fsutil::create_dir(&t.join(ISSUING_DIR), 0o700)?;
        fsutil::create_dir(&t.join(RECEIPT_DIR), 0o700)?;

        let rng = SystemRandom::new();
        let root = SigningKey::generate(&rng)?;
        let rid = root.key_id();
        let (root_private, _) = write_key_pair(&t, ROOT_KEY_DIR, &format!("root-{rid}"), &root)?;
        let root_public = Path::new(PUBLIC_DIR).join(format!("root-{rid}.pub.pem"));
        fsutil::write_atomic(&t.join(&root_public), root.public_key_pem().as_bytes(), PUBLIC_MODE, false)?;
        let readme = format!(
            "This folder holds the fanlic ROOT PRIVATE KEY of root key {rid} (root-{rid}.key.pem).\n\
             \n\
             Move this whole folder offline (for example to an encrypted USB stick kept in a safe)\n\
             and delete it from the issuing machine. It is needed only to certify a new issuing key:\n\
             \n\
             \x20   fanlic keys rotate --root-key /path/to/{ROOT_KEY_DIR}\n\
             \x20   fanlic keys receipt-key --root-key /path/to/{ROOT_KEY_DIR}   (every 30 days)\n\
             \n\
             Products embed the root PUBLIC key, which is not secret:\n\
             \x20   {hex}\n\
             \x20   (also in the home's {PUBLIC_DIR}/root-{rid}.pub.pem)\n",
            hex = hex::encode(&root.public_key()),
        );
        fsutil::write_atomic(&t.join(ROOT_KEY_DIR).join("README.txt"), readme.as_bytes(), PUBLIC_MODE, false)?;

        let issuing = new_issuing_key(&t, &root, &rng, opts.now, opts.valid_for_days)?;
        let receipt_key = new_receipt_key(&t, &root, &rng, opts.now, opts.now)?;
        // The activation master secret, in its own folder (SPEC.md §6.1).
        crate::home::activation::create_master(&t)?;
        {
            let db: Database = match database() {
                Some(url) => {
                    // The home remembers where its records are, never the password.
                    fsutil::write_atomic(&t.join(DATABASE_FILE), format!("{url}\n").as_bytes(), PUBLIC_MODE, false)?;
                    Database::Postgres(url.clone())
                }
                None => Database::Sqlite(t.join(store::FILE_NAME)),
            };
            let mut store = Store::open_database(&db, true)?;
            if store.is_postgres() && !store.read(|tx| tx.root_keys())?.is_empty() {
                return Err(Error::Home(HomeError::DatabaseInUse { database: store.path().display().to_string() }));
            }
            store.write(|tx| {
                tx.insert_root_key(&RootKeyRow {
                    key_id: rid,
                    public_key: root.public_key(),
                    public_key_path: root_public.clone(),
                    private_key_path: root_private,
                    created_at: opts.now,
                })?;
                tx.insert_issuing_key(&issuing)?;
                tx.insert_receipt_key(&receipt_key)?;
                tx.insert_authserv_ids(&opts.authserv_ids, opts.now)
            })?;
        }
        // rename(2) replaces an empty folder and refuses a non-empty one.
        match fs::rename(&t, &dir) {
            Ok(()) => tmp.disable_cleanup(true),
            Err(e) if matches!(e.kind(), io::ErrorKind::AlreadyExists | io::ErrorKind::DirectoryNotEmpty) => {
                return Err(Error::Home(HomeError::Exists { path: dir }));
            }
            Err(e) => return Err(Error::Io { action: "cannot create the home", path: dir, source: e }),
        }
        let home = Self::open(&dir)?;
        let report = InitReport {
            root_key_id: rid,
            root_public_key: root.public_key(),
            root_public_key_path: dir.join(&root_public),
            root_key_dir: dir.join(ROOT_KEY_DIR),
            issuing_key: issuing,
            receipt_key,
            authserv_ids: opts.authserv_ids.clone(),
            home: dir,
        };
        Ok((home, report))
    }

    /// Opens an existing home, migrating its database to this build's schema.
    ///
    /// The records are in the home's `fanlic.db`, or in the PostgreSQL
    /// database given with [`use_database`] (`--database`,
    /// `FANLIC_DATABASE_URL`); the folder then holds only the keys and
    /// secrets this host's job needs.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        let dir = std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?;
        if let Some(url) = database() {
            if !dir.is_dir() {
                return Err(Error::Home(HomeError::Missing { path: dir }));
            }
            let store = Store::open_database(&Database::Postgres(url.clone()), false)?;
            let db_path = store.path().to_owned();
            return Ok(Self { dir, db_path, store });
        }
        let db_path = dir.join(store::FILE_NAME);
        if !db_path.is_file() {
            if let Ok(url) = fs::read_to_string(dir.join(DATABASE_FILE)) {
                return Err(Error::Home(HomeError::DatabaseNotGiven { path: dir, database: url.trim().to_owned() }));
            }
            return Err(Error::Home(HomeError::Missing { path: dir }));
        }
        let store = Store::open(&db_path, false)?;
        Ok(Self { dir, db_path, store })
    }

    /// The home folder (absolute).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Whether `fanlic revoke --issuing-key` revoked this issuing key.
    pub fn issuing_key_revoked(&self, key_id: fanlic_formats::KeyId) -> Result<bool, Error> {
        self.store.read(|tx| tx.issuing_key_revoked(key_id))
    }

    /// The home's records.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The home's records, to change them.
    pub fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The root keys this home knows.
    pub fn root_key_rows(&self) -> Result<Vec<RootKeyRow>, Error> {
        self.store.read(|tx| tx.root_keys())
    }

    /// The root keys this home knows, ready for the verifier.
    pub fn root_keys(&self) -> Result<Vec<RootKey>, Error> {
        self.root_key_rows()?
            .iter()
            .map(|r| {
                RootKey::from_bytes(&r.public_key)
                    .map_err(|_| store::corrupt(&self.db_path, format!("root key {} is not a valid key", r.key_id)))
            })
            .collect()
    }

    /// Issuing keys, oldest first.
    pub fn issuing_keys(&self) -> Result<Vec<IssuingKeyRow>, Error> {
        self.store.read(|tx| tx.issuing_keys())
    }

    /// The key that signs new licenses: the newest that is not retired.
    pub fn signing_key(&self) -> Result<IssuingKeyRow, Error> {
        self.issuing_keys()?
            .into_iter()
            .rev()
            .find(|k| k.retired_at.is_none())
            .ok_or_else(|| Error::Home(HomeError::NoIssuingKey { home: self.dir.clone() }))
    }

    /// Authserv ids of the vendor's mail servers.
    pub fn authserv_ids(&self) -> Result<Vec<String>, Error> {
        self.store.read(|tx| tx.authserv_ids())
    }

    /// Trusts one more authserv id (`fanlic config --add-authserv-id`);
    /// `id` is checked with [`crate::util::input::authserv_id`].
    pub fn add_authserv_id(&mut self, id: &str, now: Timestamp) -> Result<(), Error> {
        let id = crate::util::input::authserv_id(id)?;
        self.store.write(|tx| tx.insert_authserv_ids(&[id], now))
    }

    /// Stops trusting an authserv id; false when it was not trusted.
    pub fn remove_authserv_id(&mut self, id: &str) -> Result<bool, Error> {
        self.store.write(|tx| tx.remove_authserv_id(id.trim()))
    }

    /// The address replies are sent from: `fanlic config --reply-from`,
    /// else [`DEFAULT_FROM`].
    pub fn reply_from(&self) -> Result<String, Error> {
        Ok(self.store.read(|tx| tx.setting("reply_from"))?.unwrap_or_else(|| DEFAULT_FROM.to_owned()))
    }

    /// How many `Received` lines the vendor's own servers put above the
    /// trusted `Authentication-Results` of every message (`fanlic config
    /// --own-received-lines`, default 0); see [`crate::mail::auth::evaluate_with`].
    pub fn own_received_lines(&self) -> Result<usize, Error> {
        let v = self.store.read(|tx| tx.setting("own_received_lines"))?;
        v.map_or(Ok(0), |v| {
            v.parse().map_err(|_| store::corrupt(&self.db_path, format!("setting own_received_lines is {v:?}")))
        })
    }

    /// Sets [`Home::own_received_lines`] (0 to 5).
    pub fn set_own_received_lines(&mut self, n: usize, now: Timestamp, by: &str) -> Result<(), Error> {
        if n > MAX_OWN_RECEIVED_LINES {
            return Err(Error::input(
                "--own-received-lines",
                &n.to_string(),
                format!("at most {MAX_OWN_RECEIVED_LINES}: count only the Received lines your own servers add"),
            ));
        }
        self.store.write(|tx| tx.set_setting("own_received_lines", &n.to_string(), now, by))
    }

    /// Sets the address replies are sent from (checked as an address).
    pub fn set_reply_from(&mut self, addr: &str, now: Timestamp, by: &str) -> Result<String, Error> {
        let addr = crate::util::text::normalize_email("--reply-from", addr)?;
        self.store.write(|tx| tx.set_setting("reply_from", &addr, now, by))?;
        Ok(addr)
    }

    /// The activation master secret's file: `fanlic config
    /// --activation-master PATH`, else `HOME/activation/master.secret`.
    pub fn activation_master_path(&self) -> Result<PathBuf, Error> {
        Ok(self
            .store
            .read(|tx| tx.setting("activation_master"))?
            .map_or_else(|| crate::home::activation::default_master_path(&self.dir), PathBuf::from))
    }

    /// The activation master secret, if the home has one (homes made before
    /// activation existed have none, and issue licenses without an activation key).
    pub fn activation_master(&self) -> Result<Option<crate::home::activation::MasterSecret>, Error> {
        let path = self.activation_master_path()?;
        if !path.exists() {
            return Ok(None);
        }
        crate::home::activation::MasterSecret::load(&path).map(Some)
    }

    /// The activation base URL written into licenses (`fanlic config
    /// --activation-base-url`), else [`crate::home::activation::DEFAULT_BASE_URL`].
    pub fn activation_base_url(&self) -> Result<String, Error> {
        Ok(self
            .store
            .read(|tx| tx.setting("activation_base_url"))?
            .unwrap_or_else(|| crate::home::activation::DEFAULT_BASE_URL.to_owned()))
    }

    /// Sets [`Home::activation_base_url`]: an `http://` or `https://` URL of
    /// printable ASCII, at most 400 bytes (the token follows it in the QR code).
    pub fn set_activation_base_url(&mut self, url: &str, now: Timestamp, by: &str) -> Result<String, Error> {
        let url = crate::home::activation::check_base_url(url)?;
        let url = url.as_str();
        self.store.write(|tx| tx.set_setting("activation_base_url", url, now, by))?;
        Ok(url.to_owned())
    }

    /// A setting of the home (`fanlic config`), if set.
    pub(crate) fn setting(&self, key: &str) -> Result<Option<String>, Error> {
        self.store.read(|tx| tx.setting(key))
    }

    /// Sets a setting of the home, recording who and when.
    pub(crate) fn set_setting(&mut self, key: &str, value: &str, now: Timestamp, by: &str) -> Result<(), Error> {
        self.store.write(|tx| tx.set_setting(key, value, now, by))
    }

    /// A license as recorded, by its 32-hex-digit id.
    pub fn stored_license(&self, license_id: &str) -> Result<Option<StoredLicense>, Error> {
        self.store.read(|tx| tx.stored_license(license_id))
    }

    /// How many licenses were issued.
    pub fn license_count(&self) -> Result<u64, Error> {
        self.store.read(|tx| tx.license_count())
    }

    /// Every key, with its status at `now`.
    pub fn list_keys(&self, now: Timestamp) -> Result<KeysReport, Error> {
        Ok(KeysReport {
            home: self.dir.clone(),
            root_keys: self.root_key_rows()?,
            issuing_keys: self.issuing_keys()?,
            signing: self.signing_key().ok().map(|k| k.key_id),
            now,
            receipt_keys: self.receipt_keys()?,
        })
    }

    /// Receipt keys, oldest window first.
    pub fn receipt_keys(&self) -> Result<Vec<IssuingKeyRow>, Error> {
        self.store.read(|tx| tx.receipt_keys())
    }

    /// Certifies `count` new receipt keys with the root private key at
    /// `root_key`: the first may sign from `now`, each next one from the end
    /// of the previous window, so that one session with the offline root key
    /// covers `count` windows. Older keys stay until their windows end.
    pub fn make_receipt_keys(
        &mut self,
        root_key: &Path,
        count: u32,
        now: Timestamp,
    ) -> Result<ReceiptKeysReport, Error> {
        if !(1..=MAX_RECEIPT_KEYS_AT_ONCE).contains(&count) {
            return Err(Error::input(
                "--count",
                &count.to_string(),
                format!("from 1 to {MAX_RECEIPT_KEYS_AT_ONCE} keys of 30 days each"),
            ));
        }
        let root = self.load_known_root(root_key)?;
        // Homes made before receipts have no folder for them yet.
        let folder = self.dir.join(RECEIPT_DIR);
        if !folder.is_dir() {
            fsutil::create_dir(&folder, 0o700)?;
        }
        let rng = SystemRandom::new();
        let mut made: Vec<IssuingKeyRow> = Vec::new();
        let result = (|| {
            let mut start = now;
            for _ in 0..count {
                let row = new_receipt_key(&self.dir, &root, &rng, start, now)?;
                start = Timestamp(row.not_after.0.saturating_add(1));
                made.push(row);
            }
            self.store.write(|tx| {
                for row in &made {
                    tx.insert_receipt_key(row)?;
                }
                let by = crate::util::actor::actor(None).unwrap_or_else(|_| "fanlic keys receipt-key".to_owned());
                let why = format!(
                    "receipt key(s) {} certified by root key {} for receipts only, from {} to {}",
                    made.iter().map(|k| k.key_id.to_string()).collect::<Vec<_>>().join(", "),
                    root.key_id(),
                    made.first().map_or(now, |k| k.not_before),
                    made.last().map_or(now, |k| k.not_after),
                );
                tx.audit(&Entry { why: &why, ..Entry::new(Action::ReceiptKey, &by, now) })
            })
        })();
        if let Err(e) = result {
            // Do not leave unrecorded keys behind.
            for row in &made {
                let _ = fs::remove_file(self.dir.join(&row.private_key_path));
                let _ = fs::remove_file(self.dir.join(&row.public_key_path));
            }
            return Err(e);
        }
        Ok(ReceiptKeysReport { new_keys: made, home: self.dir.clone() })
    }

    /// The root private key at `root_key`, which must be one this home knows.
    fn load_known_root(&self, root_key: &Path) -> Result<SigningKey, Error> {
        let root_file = find_private_key(root_key)?;
        let root = SigningKey::load(&root_file)?;
        let known = self.root_key_rows()?;
        if !known.iter().any(|r| r.key_id == root.key_id() && r.public_key == root.public_key()) {
            return Err(Error::Home(HomeError::UnknownRootKey {
                key_id: root.key_id(),
                path: root_file,
                known: known.iter().map(|r| r.key_id.to_string()).collect::<Vec<_>>().join(", "),
            }));
        }
        Ok(root)
    }

    /// Certifies a new issuing key with the root private key at `root_key`
    /// (its `.key.pem` file, or the folder holding it) and makes it the
    /// signing key, for `valid_for_days` (`None`: two years). Older keys are
    /// retired; what they signed stays valid.
    pub fn rotate(
        &mut self,
        root_key: &Path,
        valid_for_days: Option<u32>,
        now: Timestamp,
    ) -> Result<RotateReport, Error> {
        let root_file = find_private_key(root_key)?;
        let root = SigningKey::load(&root_file)?;
        let known = self.root_key_rows()?;
        if !known.iter().any(|r| r.key_id == root.key_id() && r.public_key == root.public_key()) {
            return Err(Error::Home(HomeError::UnknownRootKey {
                key_id: root.key_id(),
                path: root_file,
                known: known.iter().map(|r| r.key_id.to_string()).collect::<Vec<_>>().join(", "),
            }));
        }
        let rng = SystemRandom::new();
        let row = new_issuing_key(&self.dir, &root, &rng, now, valid_for_days)?;
        let before: Vec<KeyId> =
            self.issuing_keys()?.iter().filter(|k| k.retired_at.is_none()).map(|k| k.key_id).collect();
        let result = self.store.write(|tx| {
            tx.insert_issuing_key(&row)?;
            tx.retire_others(row.key_id, now)?;
            let by = crate::util::actor::actor(None).unwrap_or_else(|_| "fanlic keys rotate".to_owned());
            let why = format!(
                "issuing key {} certified by root key {}; retired: {}",
                row.key_id,
                root.key_id(),
                if before.is_empty() {
                    "none".to_owned()
                } else {
                    before.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                }
            );
            tx.audit(&Entry { why: &why, ..Entry::new(Action::KeyRotate, &by, now) })
        });
        if let Err(e) = result {
            // Do not leave an unrecorded key behind.
            let _ = fs::remove_file(self.dir.join(&row.private_key_path));
            let _ = fs::remove_file(self.dir.join(&row.public_key_path));
            return Err(e);
        }
        Ok(RotateReport { new_key: row, retired: before, home: self.dir.clone() })
    }
}

/// The private key file at `path`, or the one `*.key.pem` / `*.pk8.pem` in the folder `path`.
fn find_private_key(path: &Path) -> Result<PathBuf, Error> {
    if !path.is_dir() {
        return Ok(path.to_owned());
    }
    let entries = fs::read_dir(path).map_err(Error::io("cannot read the folder", path))?;
    let found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".key.pem") || n.ends_with(".pk8.pem"))
        })
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::Home(HomeError::BadKeyFile {
            path: path.to_owned(),
            reason: "holds no `*.key.pem` (or `*.pk8.pem`) private key file".to_owned(),
        })),
        _ => Err(Error::Home(HomeError::BadKeyFile {
            path: path.to_owned(),
            reason: "holds several private key files; pass the one to use".to_owned(),
        })),
    }
}

/// The forms [`load_root_public_key`] accepts, for its errors.
pub const ROOT_KEY_FORMS: &str = "give a PEM public key (SubjectPublicKeyInfo, as public/root-<id>.pub.pem in the \
     home), a raw 32-byte key file, or the key as 64 hex digits (on the command line or in a file)";

/// A root public key for `verify --root-key` and the product example, in
/// any of [`ROOT_KEY_FORMS`]: `arg` is a file (PEM SubjectPublicKeyInfo, the
/// raw 32 bytes, or 64 hex digits, white space around ignored), or, when no
/// such file exists, the 64 hex digits themselves.
pub fn load_root_public_key(arg: &Path) -> Result<RootKey, Error> {
    let bad = |reason: String| Error::Home(HomeError::BadKeyFile { path: arg.to_owned(), reason });
    let given_hex = arg.to_str().map(str::trim).filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
    let key = match given_hex {
        Some(hex) if !arg.exists() => {
            crate::util::hex::decode_array::<32>(hex).ok_or_else(|| bad("bad hex".to_owned()))?
        }
        _ => {
            let bytes = fs::read(arg).map_err(|source| match source.kind() {
                io::ErrorKind::NotFound => bad(format!("no such file, nor 64 hex digits: {ROOT_KEY_FORMS}")),
                _ => Error::Io { action: "cannot read the root public key", path: arg.to_owned(), source },
            })?;
            root_key_bytes(&bytes).map_err(bad)?
        }
    };
    RootKey::from_bytes(&key).map_err(|e| bad(e.to_string()))
}

/// The 32 key bytes of a root public key file's contents.
fn root_key_bytes(bytes: &[u8]) -> Result<[u8; 32], String> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return Ok(raw);
    }
    let Ok(text) = core::str::from_utf8(bytes) else {
        return Err(format!("is neither text nor 32 bytes ({} bytes): {ROOT_KEY_FORMS}", bytes.len()));
    };
    if text.contains("PRIVATE KEY") {
        return Err("is a PRIVATE key; pass the root PUBLIC key (public/root-<id>.pub.pem in the home)".to_owned());
    }
    let trimmed = text.trim();
    let hex = trimmed.len() == 64 && trimmed.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex && !trimmed.contains("-----BEGIN") {
        return Err(format!("is not a root public key: {ROOT_KEY_FORMS}"));
    }
    pem::parse_public_key(text).map_err(|reason| format!("{reason}; {ROOT_KEY_FORMS}"))
}
