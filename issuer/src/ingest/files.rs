//! The issued license files: `HOME/issued/<license_id>-Container.lic`,
//! written after the decision commits (their bytes are in the database, so
//! a file lost in a crash is written again from there).

use std::path::{Path, PathBuf};

use crate::Error;
use crate::Home;
use crate::util::fsutil;

/// The folder of licenses issued from mail, inside the home.
pub const ISSUED_DIR: &str = "issued";

/// The file name of an issued license.
pub const LICENSE_FILE: &str = "Container.lic";

/// `HOME/issued/<license_id>-Container.lic`: one flat folder, one file per
/// license (a folder per license would cost a second inode for each, the
/// largest part of `fanlic ingest`'s time on ext4).
pub fn license_path(home: &Path, license_id: &str) -> PathBuf {
    home.join(ISSUED_DIR).join(format!("{license_id}-{LICENSE_FILE}"))
}

pub(crate) fn issued_dir(home: &Path) -> Result<PathBuf, Error> {
    let issued = home.join(ISSUED_DIR);
    // Another run may create it meanwhile: that is as good.
    if !issued.is_dir() && fsutil::create_dir(&issued, 0o700).is_err() && !issued.is_dir() {
        fsutil::create_dir(&issued, 0o700)?;
    }
    static SWEPT: std::sync::Once = std::sync::Once::new();
    SWEPT.call_once(|| remove_stale_temporaries(&issued));
    Ok(issued)
}

/// Removes what a run killed while rewriting a license file left: a
/// `.<id>-Container.lic.<pid>.tmp` whose process is gone (a live one may
/// be writing it). Once per process; a file it cannot remove stays, as
/// before, harmless.
fn remove_stale_temporaries(issued: &Path) {
    let Ok(entries) = std::fs::read_dir(issued) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .filter(|(stem, _)| stem.ends_with(LICENSE_FILE))
            .map(|(_, pid)| pid)
        else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Writes (again) an issued license's file, 0600 in a 0700 folder,
/// atomically, replacing a file already there (idempotent), and flushes it.
pub fn write_license_file(home: &Path, license_id: &str, armored: &str) -> Result<PathBuf, Error> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    let issued = issued_dir(home)?;
    let path = license_path(home, license_id);
    // A name per license and process: a run killed here leaves at most this
    // file, which the next rewrite by the same process id replaces; two runs
    // rewriting the same license at once (both found it a duplicate) each
    // rename a whole file with the same bytes, never one the other is
    // still writing.
    let tmp = issued.join(format!(".{license_id}-{LICENSE_FILE}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(fsutil::PRIVATE_MODE)
            .open(&tmp)?;
        f.write_all(armored.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&issued)?.sync_all()
    };
    write().map_err(Error::io("cannot write", &path))?;
    Ok(path)
}

/// Writes a license just issued (a fresh id), 0600 in a 0700 folder, not
/// flushed: [`ingest_batch`] flushes a batch of them at once. The file may
/// be there already: another run that read the same message once this
/// decision committed found it a duplicate and wrote the file from the
/// database ([`repair_license_file`]) first. That file is whole (it was
/// renamed into place) and, holding these very bytes, is kept; any other
/// file under the name is an error.
pub(crate) fn write_new_license_file(home: &Path, license_id: &str, armored: &str) -> Result<PathBuf, Error> {
    issued_dir(home)?;
    let path = license_path(home, license_id);
    match fsutil::write_new(&path, armored.as_bytes(), fsutil::PRIVATE_MODE) {
        Err(Error::OutputExists { .. }) if std::fs::read(&path).ok().as_deref() == Some(armored.as_bytes()) => {}
        other => other?,
    }
    Ok(path)
}

/// For a duplicate of an issued message: writes its license file again if
/// it is missing or does not hold the recorded license (a crash between
/// the commit and the flush of the file).
pub(crate) fn repair_license_file(home: &Home, home_dir: &Path, license_id: &str) -> Result<(), Error> {
    let path = license_path(home_dir, license_id);
    let Some(stored) = home.stored_license(license_id)? else {
        return Ok(());
    };
    if std::fs::read(&path).ok().as_deref() != Some(stored.armored.as_bytes()) {
        write_license_file(home_dir, license_id, &stored.armored)?;
    }
    Ok(())
}
