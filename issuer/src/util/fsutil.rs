//! Files written whole or not at all, with their mode set when created.

use std::{
    fs::{self, DirBuilder, Permissions},
    io::{self, Write as _},
    os::unix::fs::{DirBuilderExt as _, PermissionsExt as _},
    path::Path,
};

use crate::Error;

/// Mode of private key files and licenses (bearer credentials): owner
/// read/write only.
pub const PRIVATE_MODE: u32 = 0o600;
/// Mode of public files (public keys, READMEs).
pub const PUBLIC_MODE: u32 = 0o644;

/// Writes `bytes` to `path` atomically: a temporary file in the same folder,
/// created with `mode` (never wider, never chmod-ed afterwards), flushed to
/// disk, then renamed into place. Without `replace`, an existing `path` is
/// never touched ([`Error::OutputExists`]), even if it appears meanwhile.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<(), Error> {
    if !replace && fs::symlink_metadata(path).is_ok() {
        return Err(Error::OutputExists { path: path.to_owned() });
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".fanlic-")
        .suffix(".tmp")
        .permissions(Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(Error::io("cannot create a temporary file in", dir))?;
    tmp.write_all(bytes).map_err(Error::io("cannot write", tmp.path()))?;
    tmp.as_file().sync_all().map_err(Error::io("cannot flush", tmp.path()))?;
    let persisted = if replace { tmp.persist(path) } else { tmp.persist_noclobber(path) };
    persisted.map_err(|e| {
        if e.error.kind() == io::ErrorKind::AlreadyExists {
            Error::OutputExists { path: path.to_owned() }
        } else {
            Error::Io { action: "cannot write", path: path.to_owned(), source: e.error }
        }
    })?;
    // Make the rename itself durable; not all file systems allow this.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates the folder `path` (not its parents) with `mode`.
pub fn create_dir(path: &Path, mode: u32) -> Result<(), Error> {
    DirBuilder::new().mode(mode).create(path).map_err(Error::io("cannot create the folder", path))
}

/// Writes `bytes` to `path`, a file that must not exist yet, created with
/// `mode`; not flushed: the caller flushes a batch of such files at once
/// with [`sync_file_system`]. For files whose content is also in the
/// database (an issued license), so a crash before the flush loses nothing:
/// the file is written again from there.
pub fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file =
        fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| match e.kind() {
            io::ErrorKind::AlreadyExists => Error::OutputExists { path: path.to_owned() },
            _ => Error::Io { action: "cannot create", path: path.to_owned(), source: e },
        })?;
    file.write_all(bytes).map_err(Error::io("cannot write", path))
}

/// Flushes everything written to the file system holding `path` (one
/// `syncfs`), so files written with [`write_new`] and folders made since
/// survive a power loss.
pub fn sync_file_system(path: &Path) -> Result<(), Error> {
    let dir = fs::File::open(path).map_err(Error::io("cannot open", path))?;
    rustix::fs::syncfs(&dir).map_err(|e| Error::Io { action: "cannot flush", path: path.to_owned(), source: e.into() })
}
