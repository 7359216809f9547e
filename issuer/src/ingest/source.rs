//! Where registration mail comes from: `.eml` files, folders of them,
//! Maildirs, mbox files and standard input, read one message at a time.
//!
//! [`detect`] tells what a path names, [`open`] (or [`open_with`]) streams
//! its messages as [`IncomingMessage`]s, and [`acknowledge`] commits a
//! message once its decision is recorded.
//!
//! - **Kinds.** `-` is standard input (one message, as an MTA pipes it); a
//!   folder holding `cur/`, `new/` and `tmp/` is a Maildir; any other folder
//!   is a folder of messages (not recursive); a file starting with
//!   `From ` (or an empty file named `*.mbox`) is an mbox; any other file is
//!   one message. The path given is followed if it is a symbolic link.
//! - **Folders.** In a plain folder, `*.eml` files are messages; any other
//!   file (a `*.txt` export, a file without extension) is read if it starts
//!   with a mail header block, and otherwise reported as
//!   [`SkipReason::NotMail`], never dropped silently.
//! - **Order.** Files are read sorted by name (as bytes), so runs are
//!   deterministic. Names starting with `.` (such as the `.keep` files that
//!   let git keep empty folders) are ignored.
//! - **Only regular files.** Inside a folder or a Maildir's `new/`, symbolic
//!   links, FIFOs, sockets, devices and folders are never followed, opened
//!   or read: each is reported as [`SourceError::Skipped`] and left in
//!   place. Files are opened with `O_NOFOLLOW | O_NONBLOCK` and checked to be
//!   regular once open, so an entry swapped for a link or a FIFO after the
//!   listing is neither followed nor waited on.
//! - **Maildir.** Only `new/` is read; `tmp/` (messages still being
//!   delivered) and `cur/` (messages already handled) are not. A message
//!   stays in `new/` until [`acknowledge`] renames it to `cur/NAME:2,S`,
//!   which the caller does only *after* its decision is committed: a crash at
//!   any point leaves each message either in `new/` (read again next run) or
//!   in `cur/`, never lost. A message that vanishes from `new/` between the
//!   listing and the read (another run took it) is skipped. File names are
//!   handled as bytes: a name that is not UTF-8 moves to `cur/` like any
//!   other.
//! - **Size.** A message over [`SourceOptions::max_bytes`] (default
//!   [`DEFAULT_MAX_MESSAGE_BYTES`], 25 MiB) is an item-level
//!   [`SourceError::TooLarge`]; of a file only the first [`HEAD_BYTES`] are
//!   read, an mbox message or standard input is skipped through with only
//!   its head kept. Iteration then
//!   continues with the next message, so memory holds one message at most.
//! - **mbox.** mboxrd and mboxo: every line starting with `From ` separates
//!   messages; one `>` is removed from lines matching `>+From `; the blank
//!   line that ends each message in the file is dropped; LF and CRLF line
//!   ends are kept as they are. The file is read through a buffer, never
//!   whole.
//! - **Bytes only.** Sources do not parse: empty or garbage content is
//!   yielded as it is, and [`crate::mail::message::parse`] refuses it.

use core::fmt;
use std::{
    ffi::{OsStr, OsString},
    fs::{self, File},
    io::{self, BufRead, BufReader, Read},
    os::unix::{
        ffi::OsStrExt as _,
        fs::{FileTypeExt as _, OpenOptionsExt as _},
    },
    path::{Path, PathBuf},
};

pub use crate::mail::message::DEFAULT_MAX_MESSAGE_BYTES;

/// Bytes of a line always kept to recognise `From ` and `>From ` lines, even
/// past the size limit.
const LINE_HEAD: usize = 256;

/// How many bytes of a message too large to read are kept as a record of it
/// ([`SourceError::TooLarge`]'s `head`), and how many bytes of a file that
/// is not named `*.eml` are looked at to tell whether it is mail.
pub const HEAD_BYTES: usize = 64 << 10;
const SNIFF_BYTES: usize = HEAD_BYTES;

/// Header fields of which at least one must be in a header block for a file
/// not named `*.eml` to be read as mail.
const MAIL_FIELDS: &[&[u8]] = &[
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"received",
    b"return-path",
    b"delivered-to",
    b"mime-version",
    b"authentication-results",
    b"dkim-signature",
];

/// Why an entry of a folder or of a Maildir's `new/` was not read; see
/// [`SourceError::Skipped`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// A symbolic link: never followed.
    Symlink,
    /// A FIFO (named pipe): opening or reading it could block.
    Fifo,
    /// A socket.
    Socket,
    /// A block or character device.
    Device,
    /// A folder: sources are not read recursively.
    Folder,
    /// A file not named `*.eml` that does not start with a mail header block.
    NotMail,
}

impl SkipReason {
    /// A stable code for reports: `symlink`, `fifo`, `socket`, `device`,
    /// `folder`, `not_mail`.
    pub fn code(self) -> &'static str {
        match self {
            SkipReason::Symlink => "symlink",
            SkipReason::Fifo => "fifo",
            SkipReason::Socket => "socket",
            SkipReason::Device => "device",
            SkipReason::Folder => "folder",
            SkipReason::NotMail => "not_mail",
        }
    }

    fn text(self) -> &'static str {
        match self {
            SkipReason::Symlink => "a symbolic link, not followed",
            SkipReason::Fifo => "a FIFO, not a regular file",
            SkipReason::Socket => "a socket, not a regular file",
            SkipReason::Device => "a device, not a regular file",
            SkipReason::Folder => "a folder (folders are not read recursively)",
            SkipReason::NotMail => "not named *.eml and does not start with a mail header block",
        }
    }

    /// The reason for a file type other than a regular file.
    fn of(kind: fs::FileType) -> SkipReason {
        if kind.is_symlink() {
            SkipReason::Symlink
        } else if kind.is_dir() {
            SkipReason::Folder
        } else if kind.is_fifo() {
            SkipReason::Fifo
        } else if kind.is_socket() {
            SkipReason::Socket
        } else {
            SkipReason::Device
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// What kind of mail source a path names; see [`detect`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// One message in a file (`.eml` or any other name).
    EmlFile,
    /// A folder of messages (`*.eml`, and other files that are mail), read
    /// non-recursively.
    Folder,
    /// A Maildir: a folder with `cur/`, `new/` and `tmp/`; `new/` is read.
    Maildir,
    /// An mbox file (mboxrd or mboxo).
    Mbox,
    /// Standard input, named `-`: one message.
    Stdin,
}

impl SourceKind {
    /// A stable name for reports: `eml`, `folder`, `maildir`, `mbox`, `stdin`.
    pub fn code(self) -> &'static str {
        match self {
            SourceKind::EmlFile => "eml",
            SourceKind::Folder => "folder",
            SourceKind::Maildir => "maildir",
            SourceKind::Mbox => "mbox",
            SourceKind::Stdin => "stdin",
        }
    }
}

/// What to do once a message's decision is committed; see [`acknowledge`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Receipt {
    /// Nothing: files, folders, mbox and standard input are left as they are.
    None,
    /// A Maildir message, to be moved from `new/` to `cur/` with the `S` flag.
    Maildir {
        /// The path of the message in `new/` when it was read.
        new_path: PathBuf,
    },
    /// A message of an IMAP mailbox, to be moved to the decided folder by
    /// the session that read it (`ingest::imap::Mailbox::acknowledge_all`;
    /// [`acknowledge`] leaves it).
    Imap {
        /// The mailbox's UIDVALIDITY when it was read.
        uid_validity: u32,
        /// Its UID.
        uid: u32,
    },
}

/// One raw message read from a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMessage {
    /// Where it came from, for reports: the path of the message file (for a
    /// Maildir, its path in `new/` when read), `PATH#n` for the `n`th message
    /// (from 1) of an mbox, or `-` for standard input.
    pub source: String,
    /// The raw bytes, at most [`SourceOptions::max_bytes`].
    pub raw: Vec<u8>,
    /// What [`acknowledge`] needs once the decision is committed.
    pub receipt: Receipt,
}

/// Why a source, or one message of it, could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The path does not exist.
    #[error("{path}: no such file or folder")]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// Reading (or, for [`acknowledge`], renaming) failed.
    #[error("{path}: {action}: {error}")]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The file or folder (`-` for standard input).
        path: PathBuf,
        /// The operating system's error.
        #[source]
        error: io::Error,
    },
    /// The path exists but is neither a file nor a folder of mail.
    #[error("{path}: not a mail source: {reason}")]
    NotAMailSource {
        /// The path given.
        path: PathBuf,
        /// Why, for people.
        reason: &'static str,
    },
    /// One message is over the size limit; it was not read into memory.
    /// Iteration continues with the next message.
    #[error("{origin}: message too large: {size} bytes, over the limit of {max} bytes; not read")]
    TooLarge {
        /// The message's `source` (path, `PATH#n` or `-`).
        origin: String,
        /// Its size in bytes (for a file that grows while read, at least this).
        size: u64,
        /// The limit, in bytes.
        max: usize,
        /// Its receipt, so that a refusal can be committed and the message
        /// moved out of a Maildir's `new/` like any other.
        receipt: Receipt,
        /// Its first [`HEAD_BYTES`] bytes (fewer for an mbox message, whose
        /// head is what was read before it was known to be too large): a
        /// record of what it was, never parsed.
        head: Vec<u8>,
    },
    /// [`acknowledge`] found the message neither in `new/` nor in `cur/`.
    #[error("{path}: the message is no longer in its Maildir's new/ or cur/ folder")]
    Vanished {
        /// The path the message had in `new/`.
        path: PathBuf,
    },
    /// An entry that is not read: not a regular file, or not mail. It is
    /// left in place; this is a warning, not a failure. Iteration continues.
    #[error("{path}: skipped, left in place: {reason}")]
    Skipped {
        /// The entry.
        path: PathBuf,
        /// Why.
        reason: SkipReason,
    },
    /// A decided IMAP message could not be moved to the decided folder. Its
    /// decision stands; the next pass finds it a duplicate and moves it.
    #[error("{origin}: decided, but not moved to {folder}: {reason}")]
    NotMoved {
        /// The message (its mailbox URL, UIDVALIDITY and UID).
        origin: String,
        /// The decided folder.
        folder: String,
        /// Why.
        reason: String,
    },
    /// [`acknowledge`] was given a path that is not in a Maildir's `new/`.
    #[error("{path}: not a message in the new/ folder of a Maildir")]
    NotInMaildir {
        /// The path given.
        path: PathBuf,
    },
}

impl SourceError {
    /// A stable code for reports.
    pub fn code(&self) -> &'static str {
        match self {
            SourceError::Missing { .. } => "source_missing",
            SourceError::Io { .. } => "source_unreadable",
            SourceError::NotAMailSource { .. } => "not_a_mail_source",
            SourceError::TooLarge { .. } => "message_too_large",
            SourceError::Vanished { .. } => "message_vanished",
            SourceError::NotInMaildir { .. } => "not_in_maildir",
            SourceError::NotMoved { .. } => "message_not_moved",
            SourceError::Skipped { .. } => "skipped",
        }
    }

    /// Why the entry was skipped, for [`SourceError::Skipped`]: a warning,
    /// not a failure to read.
    pub fn skipped(&self) -> Option<(&Path, SkipReason)> {
        match self {
            SourceError::Skipped { path, reason } => Some((path, *reason)),
            _ => None,
        }
    }

    fn io(action: &'static str, path: &Path, error: io::Error) -> SourceError {
        SourceError::Io { action, path: path.to_path_buf(), error }
    }
}

/// Options of [`open_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceOptions {
    /// Messages with more bytes than this are refused with
    /// [`SourceError::TooLarge`] without being kept in memory.
    pub max_bytes: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions { max_bytes: DEFAULT_MAX_MESSAGE_BYTES }
    }
}

/// Tells what kind of mail source `path` is (see the module documentation).
/// Symbolic links are followed.
pub fn detect(path: &Path) -> Result<SourceKind, SourceError> {
    if path.as_os_str() == "-" {
        return Ok(SourceKind::Stdin);
    }
    let meta = match fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(SourceError::Missing { path: path.to_path_buf() });
        }
        Err(e) => return Err(SourceError::io("cannot read", path, e)),
    };
    if meta.is_dir() {
        let is_maildir = ["cur", "new", "tmp"].iter().all(|sub| path.join(sub).is_dir());
        return Ok(if is_maildir { SourceKind::Maildir } else { SourceKind::Folder });
    }
    if !meta.is_file() {
        return Err(SourceError::NotAMailSource {
            path: path.to_path_buf(),
            reason: "neither a regular file nor a folder (use `-` to read standard input)",
        });
    }
    let mut file = File::open(path).map_err(|e| SourceError::io("cannot read", path, e))?;
    let mut head = [0_u8; 5];
    let mut got = 0;
    while got < head.len() {
        let rest = head.get_mut(got..).unwrap_or_default();
        match file.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(SourceError::io("cannot read", path, e)),
        }
    }
    if &head == b"From " {
        return Ok(SourceKind::Mbox);
    }
    let mbox_name = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("mbox"));
    if got == 0 && mbox_name {
        return Ok(SourceKind::Mbox);
    }
    Ok(SourceKind::EmlFile)
}

/// Opens `path` with the default options; see [`open_with`].
pub fn open(path: &Path) -> Result<Messages, SourceError> {
    open_with(path, &SourceOptions::default())
}

/// Opens `path` ([`detect`]ed) and returns its messages as a stream. Errors
/// about the source itself (missing, unreadable, not mail) come here; errors
/// about one message come as items, and the stream goes on after them
/// (except after a read error inside an mbox, which ends it).
pub fn open_with(path: &Path, options: &SourceOptions) -> Result<Messages, SourceError> {
    let kind = detect(path)?;
    let max_bytes = options.max_bytes;
    let inner = match kind {
        SourceKind::Stdin => Inner::Stdin { done: false },
        // The path given: followed if it is a link, as the operator named it.
        SourceKind::EmlFile => Inner::Files {
            files: vec![Listed { path: path.to_path_buf(), skip: None, sniff: false, follow: true }].into_iter(),
            maildir: false,
        },
        SourceKind::Folder => Inner::Files { files: list_entries(path, true)?.into_iter(), maildir: false },
        SourceKind::Maildir => {
            Inner::Files { files: list_entries(&path.join("new"), false)?.into_iter(), maildir: true }
        }
        SourceKind::Mbox => {
            let file = File::open(path).map_err(|e| SourceError::io("cannot read", path, e))?;
            let label = path.display().to_string();
            Inner::Mbox(MboxReader::new(BufReader::new(file), label, max_bytes))
        }
    };
    Ok(Messages { kind, max_bytes, inner })
}

/// The messages of a source, one at a time; see [`open_with`].
#[derive(Debug)]
pub struct Messages {
    kind: SourceKind,
    max_bytes: usize,
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Files { files: std::vec::IntoIter<Listed>, maildir: bool },
    Mbox(MboxReader<BufReader<File>>),
    Stdin { done: bool },
}

impl Messages {
    /// The kind of the source.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }
}

impl Iterator for Messages {
    type Item = Result<IncomingMessage, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Stdin { done } => {
                if *done {
                    return None;
                }
                *done = true;
                Some(read_stream(io::stdin().lock(), "-", self.max_bytes))
            }
            Inner::Mbox(reader) => reader.next(),
            Inner::Files { files, maildir } => {
                for entry in files.by_ref() {
                    if let Some(reason) = entry.skip {
                        return Some(Err(SourceError::Skipped { path: entry.path, reason }));
                    }
                    let path = &entry.path;
                    let receipt = if *maildir { Receipt::Maildir { new_path: path.clone() } } else { Receipt::None };
                    match read_file(&entry, self.max_bytes, receipt) {
                        // Another run took it from new/ meanwhile: not ours.
                        Err(SourceError::Io { error, .. }) if *maildir && error.kind() == io::ErrorKind::NotFound => {}
                        item => return Some(item),
                    }
                }
                None
            }
        }
    }
}

/// Reads one whole message from `reader` (standard input for `-`), labelled
/// `source`. Past `max_bytes`, the rest is read and counted but not kept
/// (so that a piping MTA is not cut off), and the result is
/// [`SourceError::TooLarge`].
pub fn read_stream<R: Read>(mut reader: R, source: &str, max_bytes: usize) -> Result<IncomingMessage, SourceError> {
    let io_err = |e| SourceError::io("cannot read", Path::new(source), e);
    let mut raw = Vec::new();
    let limit = u64::try_from(max_bytes).unwrap_or(u64::MAX).saturating_add(1);
    (&mut reader).take(limit).read_to_end(&mut raw).map_err(io_err)?;
    if raw.len() > max_bytes {
        let rest = io::copy(&mut reader, &mut io::sink()).map_err(io_err)?;
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX).saturating_add(rest);
        raw.truncate(HEAD_BYTES);
        raw.shrink_to_fit();
        return Err(SourceError::TooLarge {
            origin: source.to_owned(),
            size,
            max: max_bytes,
            receipt: Receipt::None,
            head: raw,
        });
    }
    Ok(IncomingMessage { source: source.to_owned(), raw, receipt: Receipt::None })
}

/// Reads one message file, refusing it from its size before reading when it
/// is over `max_bytes`. A listed entry (not `follow`) is opened without
/// following a link and without waiting on a FIFO, and read only if it is a
/// regular file once open. With `sniff`, a file that does not start with a
/// mail header block is [`SkipReason::NotMail`].
fn read_file(entry: &Listed, max_bytes: usize, receipt: Receipt) -> Result<IncomingMessage, SourceError> {
    let path = entry.path.as_path();
    let source = path.display().to_string();
    let cannot_read = |e| SourceError::io("cannot read", path, e);
    let skipped = |reason| SourceError::Skipped { path: path.to_path_buf(), reason };
    let mut options = fs::OpenOptions::new();
    options.read(true);
    if !entry.follow {
        let flags = rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK;
        options.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
    }
    let mut file = match options.open(path) {
        Ok(file) => file,
        // O_NOFOLLOW on a link: ELOOP. A socket cannot be opened: ENXIO.
        Err(e) if !entry.follow && e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) => {
            return Err(skipped(SkipReason::Symlink));
        }
        Err(e) if !entry.follow && e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) => {
            return Err(skipped(SkipReason::Socket));
        }
        Err(e) => return Err(cannot_read(e)),
    };
    let meta = file.metadata().map_err(cannot_read)?;
    if !meta.is_file() {
        return Err(skipped(SkipReason::of(meta.file_type())));
    }
    let len = meta.len();
    let max = u64::try_from(max_bytes).unwrap_or(u64::MAX);
    let too_large = |size: u64, receipt, head| SourceError::TooLarge {
        origin: source.clone(),
        size,
        max: max_bytes,
        receipt,
        head,
    };
    if len > max {
        let mut head = Vec::new();
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head).map_err(cannot_read)?;
        if entry.sniff && !looks_like_mail(&head, true) {
            return Err(skipped(SkipReason::NotMail));
        }
        return Err(too_large(len, receipt, head));
    }
    let mut raw = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut raw).map_err(cannot_read)?;
    if entry.sniff && !looks_like_mail(&raw, raw.len() > SNIFF_BYTES) {
        return Err(skipped(SkipReason::NotMail));
    }
    if raw.len() > max_bytes {
        // It grew while being read.
        let size = u64::try_from(raw.len()).unwrap_or(u64::MAX);
        raw.truncate(HEAD_BYTES);
        raw.shrink_to_fit();
        return Err(too_large(size, receipt, raw));
    }
    Ok(IncomingMessage { source, raw, receipt })
}

/// Whether `raw` starts with a mail header block: lines of `Name: value`
/// fields (or their continuation lines) up to a blank line or the end, with
/// at least one field every mail has (`MAIL_FIELDS`). Only the first
/// `SNIFF_BYTES` are looked at; `cut` tells that `raw` goes on past them,
/// so its last (partial) line is not judged.
pub fn looks_like_mail(raw: &[u8], cut: bool) -> bool {
    let head = raw.get(..SNIFF_BYTES).unwrap_or(raw);
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if cut || head.len() < raw.len() {
        lines.pop();
    }
    let mut fields = 0usize;
    let mut known = false;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None => break,
            Some(b' ' | b'\t') if fields > 0 => continue,
            Some(_) => {}
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else { return false };
        let name = line.get(..colon).unwrap_or_default();
        if name.is_empty() || !name.iter().all(|b| (33..=126).contains(b)) {
            return false;
        }
        known |= MAIL_FIELDS.iter().any(|f| name.eq_ignore_ascii_case(f));
        fields += 1;
    }
    fields > 0 && known
}

/// One entry of a folder as listed: to read, or to report as skipped.
#[derive(Debug, Clone)]
struct Listed {
    path: PathBuf,
    /// Not a regular file (or not mail): reported, never opened.
    skip: Option<SkipReason>,
    /// Read only if it looks like mail ([`looks_like_mail`]).
    sniff: bool,
    /// Follow a symbolic link (only for the path the operator gave).
    follow: bool,
}

/// The entries of `dir` whose names do not start with `.`, sorted by name.
/// Symbolic links are not followed: any entry that is not a regular file is
/// listed to be reported as skipped. In a plain folder (`folder`), files
/// not named `*.eml` are read only if they look like mail.
fn list_entries(dir: &Path, folder: bool) -> Result<Vec<Listed>, SourceError> {
    let entries = fs::read_dir(dir).map_err(|e| SourceError::io("cannot list", dir, e))?;
    let mut listed: Vec<(OsString, Listed)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| SourceError::io("cannot list", dir, e))?;
        let name = entry.file_name();
        if name.as_bytes().starts_with(b".") {
            continue;
        }
        // The entry itself (lstat), never what a link points to; an entry
        // that vanishes meanwhile is left out.
        let Ok(kind) = entry.file_type() else { continue };
        let skip = (!kind.is_file()).then(|| SkipReason::of(kind));
        let eml = Path::new(&name).extension().is_some_and(|ext| ext.eq_ignore_ascii_case("eml"));
        let path = entry.path();
        listed.push((name, Listed { path, skip, sniff: folder && !eml, follow: false }));
    }
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(listed.into_iter().map(|(_, l)| l).collect())
}

/// The messages now in `maildir/new/`, sorted by name, without dotfiles
/// and without entries that are not regular files (not followed): what a
/// polling `fanlic watch` checks for arrivals.
pub fn poll_new(maildir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    Ok(list_entries(&maildir.join("new"), false)?.into_iter().filter(|l| l.skip.is_none()).map(|l| l.path).collect())
}

/// Commits a message: for a Maildir, renames `new/NAME` to `cur/NAME:2,S`
/// atomically (a name that already carries `:2,FLAGS` gets `S` added, flags
/// kept in ASCII order) and flushes both folders to disk; returns the new
/// path. Idempotent: a message already in `cur/` (under that name, or under
/// the same unique name with other flags) is left there and its path
/// returned. For any other source, does nothing and returns `None`.
pub fn acknowledge(receipt: &Receipt) -> Result<Option<PathBuf>, SourceError> {
    acknowledge_all(&[receipt]).pop().unwrap_or(Ok(None))
}

/// [`acknowledge`] for many messages at once, with one flush per folder
/// instead of two per message (a `fanlic ingest` batch): every message is
/// renamed, then each `cur/` and `new/` concerned is flushed once. Results
/// are in the order of `receipts`; a failed flush fails every message of
/// that folder (they are renamed, but may come back after a power loss,
/// and are then decided as duplicates).
pub fn acknowledge_all(receipts: &[&Receipt]) -> Vec<Result<Option<PathBuf>, SourceError>> {
    let mut results: Vec<Result<Option<PathBuf>, SourceError>> = Vec::with_capacity(receipts.len());
    // (folder, indices of the messages it holds)
    let mut dirs: Vec<(PathBuf, Vec<usize>)> = Vec::new();
    for (i, receipt) in receipts.iter().enumerate() {
        match move_seen(receipt) {
            Ok(Some((target, moved_dirs))) => {
                for dir in moved_dirs {
                    match dirs.iter_mut().find(|(d, _)| *d == dir) {
                        Some((_, members)) => members.push(i),
                        None => dirs.push((dir, vec![i])),
                    }
                }
                results.push(Ok(Some(target)));
            }
            other => results.push(other.map(|m| m.map(|(target, _)| target))),
        }
    }
    for (dir, members) in dirs {
        // Flush the folder's entries to disk, so the renames survive a power loss.
        if let Err(e) = File::open(&dir).and_then(|d| d.sync_all()) {
            for i in members {
                if let Some(r) = results.get_mut(i)
                    && r.is_ok()
                {
                    *r = Err(SourceError::io("cannot flush", &dir, io::Error::new(e.kind(), e.to_string())));
                }
            }
        }
    }
    results
}

/// Renames a Maildir message to `cur/`; returns where it went and the
/// folders to flush (none when it was already there).
fn move_seen(receipt: &Receipt) -> Result<Option<(PathBuf, Vec<PathBuf>)>, SourceError> {
    let Receipt::Maildir { new_path } = receipt else {
        return Ok(None);
    };
    let not_in_maildir = || SourceError::NotInMaildir { path: new_path.clone() };
    let name = new_path.file_name().ok_or_else(not_in_maildir)?;
    let new_dir = new_path.parent().ok_or_else(not_in_maildir)?;
    if new_dir.file_name().is_none_or(|n| n != "new") {
        return Err(not_in_maildir());
    }
    let maildir = new_dir.parent().ok_or_else(not_in_maildir)?;
    let cur_dir = maildir.join("cur");
    // Bytes, not text: a name need not be UTF-8.
    let name = name.as_bytes();
    let target = cur_dir.join(OsStr::from_bytes(&seen_name(name)));
    match fs::rename(new_path, &target) {
        Ok(()) => Ok(Some((target, vec![cur_dir, new_dir.to_path_buf()]))),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !cur_dir.is_dir() => {
            Err(SourceError::io("cannot move to cur/", &cur_dir, e))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            already_moved(&cur_dir, name, &target, new_path).map(|t| t.map(|t| (t, Vec::new())))
        }
        Err(e) => Err(SourceError::io("cannot move to cur/", new_path, e)),
    }
}

/// After a rename found nothing to move: where the message went, if it is in
/// `cur/` under its unique name.
fn already_moved(cur_dir: &Path, name: &[u8], target: &Path, new_path: &Path) -> Result<Option<PathBuf>, SourceError> {
    if target.is_file() {
        return Ok(Some(target.to_path_buf()));
    }
    let unique = unique_part(name);
    let entries = fs::read_dir(cur_dir).map_err(|e| SourceError::io("cannot list", cur_dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| SourceError::io("cannot list", cur_dir, e))?;
        if unique_part(entry.file_name().as_bytes()) == unique {
            return Ok(Some(entry.path()));
        }
    }
    Err(SourceError::Vanished { path: new_path.to_path_buf() })
}

/// A Maildir name without its `:info` part.
fn unique_part(name: &[u8]) -> &[u8] {
    name.iter().position(|&b| b == b':').and_then(|i| name.get(..i)).unwrap_or(name)
}

/// The name a message gets in `cur/` once seen: `UNIQUE:2,FLAGS` with `S`
/// among the flags, flags in ASCII order without repeats. Info that is not
/// of the `2,` kind is replaced.
fn seen_name(name: &[u8]) -> Vec<u8> {
    let unique = unique_part(name);
    let info = name.get(unique.len().saturating_add(1)..).unwrap_or_default();
    let flags = info.strip_prefix(b"2,").unwrap_or_default();
    let mut flags: Vec<u8> = flags.iter().copied().chain([b'S']).collect();
    flags.sort_unstable();
    flags.dedup();
    let mut out = Vec::with_capacity(unique.len().saturating_add(3).saturating_add(flags.len()));
    out.extend_from_slice(unique);
    out.extend_from_slice(b":2,");
    out.extend_from_slice(&flags);
    out
}

/// The messages of an mbox (mboxrd or mboxo) read from any buffered reader,
/// one at a time; `label` is the mbox's path, messages are `label#n`.
pub struct MboxReader<R> {
    reader: R,
    label: String,
    max_bytes: usize,
    /// The number (from 1) of the message being read; 0 before the first.
    number: usize,
    /// Whether the separator of message `number` has been consumed.
    in_message: bool,
    done: bool,
}

impl<R> fmt::Debug for MboxReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MboxReader")
            .field("label", &self.label)
            .field("max_bytes", &self.max_bytes)
            .field("number", &self.number)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> MboxReader<R> {
    /// Reads the mbox in `reader`, keeping messages of at most `max_bytes`.
    pub fn new(reader: R, label: String, max_bytes: usize) -> Self {
        MboxReader { reader, label, max_bytes, number: 0, in_message: false, done: false }
    }

    fn finish(&self, mut msg: Vec<u8>, size: u64, oversized: bool) -> Result<IncomingMessage, SourceError> {
        let source = format!("{}#{}", self.label, self.number);
        if oversized {
            msg.shrink_to_fit();
            let max = self.max_bytes;
            return Err(SourceError::TooLarge { origin: source, size, max, receipt: Receipt::None, head: msg });
        }
        // The blank line the mbox adds after each message is not part of it.
        if msg.ends_with(b"\r\n\r\n") {
            msg.truncate(msg.len().saturating_sub(2));
        } else if msg.ends_with(b"\n\n") {
            msg.truncate(msg.len().saturating_sub(1));
        }
        Ok(IncomingMessage { source, raw: msg, receipt: Receipt::None })
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = Result<IncomingMessage, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut msg = Vec::new();
        let mut size: u64 = 0;
        let mut oversized = false;
        loop {
            let start = msg.len();
            let keep =
                if oversized { LINE_HEAD } else { self.max_bytes.saturating_sub(start).saturating_add(LINE_HEAD) };
            let len = match read_line_bounded(&mut self.reader, &mut msg, keep) {
                Ok(len) => len,
                Err(e) => {
                    self.done = true;
                    let path = format!("{}#{}", self.label, self.number.max(1));
                    return Some(Err(SourceError::io("cannot read", Path::new(&path), e)));
                }
            };
            if len == 0 {
                self.done = true;
                if !self.in_message {
                    return None;
                }
                return Some(self.finish(msg, size, oversized));
            }
            let line = msg.get(start..).unwrap_or_default();
            if line.starts_with(b"From ") {
                msg.truncate(start);
                let finished = self.in_message.then(|| self.finish(msg, size, oversized));
                self.number = self.number.saturating_add(1);
                self.in_message = true;
                match finished {
                    Some(item) => return Some(item),
                    None => {
                        msg = Vec::new();
                        continue;
                    }
                }
            }
            if !self.in_message {
                // Content before any `From ` line: kept as a message rather
                // than dropped.
                self.number = self.number.saturating_add(1);
                self.in_message = true;
            }
            let mut len = len;
            if is_escaped_from(line) {
                if start < msg.len() {
                    msg.remove(start);
                }
                len = len.saturating_sub(1);
            }
            size = size.saturating_add(len);
            if oversized {
                msg.truncate(start);
            } else if size > u64::try_from(self.max_bytes).unwrap_or(u64::MAX) {
                // Only the head is kept from here on.
                oversized = true;
                msg.truncate(HEAD_BYTES);
            }
        }
    }
}

/// `>From `, `>>From `, ...: a body line escaped by the mbox writer.
fn is_escaped_from(line: &[u8]) -> bool {
    let unquoted = line.iter().position(|&b| b != b'>').and_then(|i| line.get(i..));
    line.first() == Some(&b'>') && unquoted.is_some_and(|rest| rest.starts_with(b"From "))
}

/// Reads one line (through its `\n`, or to the end of input) from `reader`,
/// appends at most `keep` bytes of it to `out` and skips the rest; returns
/// the line's whole length, 0 at the end of input.
fn read_line_bounded<R: BufRead>(reader: &mut R, out: &mut Vec<u8>, keep: usize) -> io::Result<u64> {
    let mut total: u64 = 0;
    let mut kept: usize = 0;
    loop {
        let (used, complete) = {
            let buf = match reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(total);
            }
            let (used, complete) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i.saturating_add(1), true),
                None => (buf.len(), false),
            };
            let take = keep.saturating_sub(kept).min(used);
            out.extend_from_slice(buf.get(..take).unwrap_or_default());
            kept = kept.saturating_add(take);
            (used, complete)
        };
        reader.consume(used);
        total = total.saturating_add(u64::try_from(used).unwrap_or(u64::MAX));
        if complete {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;
    use std::io::Cursor;

    fn mbox(data: &[u8], max: usize) -> Vec<Result<IncomingMessage, SourceError>> {
        MboxReader::new(Cursor::new(data.to_vec()), "m".to_owned(), max).collect()
    }

    fn raws(items: Vec<Result<IncomingMessage, SourceError>>) -> Vec<(String, Vec<u8>)> {
        items.into_iter().map(|i| i.map(|m| (m.source, m.raw)).unwrap()).collect()
    }

    #[test]
    fn seen_names() {
        assert_eq!(seen_name(b"1.2.host"), b"1.2.host:2,S");
        assert_eq!(seen_name(b"1.2.host:2,"), b"1.2.host:2,S");
        assert_eq!(seen_name(b"1.2.host:2,RF"), b"1.2.host:2,FRS");
        assert_eq!(seen_name(b"1.2.host:2,ST"), b"1.2.host:2,ST");
        assert_eq!(seen_name(b"1.2.host:1,xyz"), b"1.2.host:2,S");
        assert_eq!(seen_name(b"1.\xff\xfe.host"), b"1.\xff\xfe.host:2,S");
        assert_eq!(unique_part(b"1.2.host:2,S"), b"1.2.host");
    }

    #[test]
    fn header_blocks() {
        assert!(looks_like_mail(b"From: a@b.example\r\nSubject: x\r\n\r\nbody\n", false));
        assert!(looks_like_mail(b"Received: from x\n\tby y\nSubject: x\n", false));
        assert!(!looks_like_mail(b"", false));
        assert!(!looks_like_mail(b"Note: buy milk\n\nand bread\n", false));
        assert!(!looks_like_mail(b"hello world\nFrom: a@b\n", false));
        assert!(!looks_like_mail(b" Subject: indented\n", false));
        assert!(!looks_like_mail(b"\x00\x01binary: x\nFrom: y\n", false));
        // A header line cut by the sniff limit is not judged.
        assert!(looks_like_mail(b"From: a@b.example\nX-Long: aaaa", true));
    }

    #[test]
    fn escaped_from_lines() {
        assert!(is_escaped_from(b">From x\n"));
        assert!(is_escaped_from(b">>>From x\n"));
        assert!(!is_escaped_from(b"From x\n"));
        assert!(!is_escaped_from(b"> From x\n"));
        assert!(!is_escaped_from(b">>>\n"));
    }

    #[test]
    fn bounded_lines() {
        let mut r = Cursor::new(b"abcdef\nxy".to_vec());
        let mut out = Vec::new();
        assert_eq!(read_line_bounded(&mut r, &mut out, 3).unwrap(), 7);
        assert_eq!(out, b"abc");
        assert_eq!(read_line_bounded(&mut r, &mut out, 10).unwrap(), 2);
        assert_eq!(out, b"abcxy");
        assert_eq!(read_line_bounded(&mut r, &mut out, 10).unwrap(), 0);
    }

    #[test]
    fn mbox_basics() {
        assert!(mbox(b"", 100).is_empty());
        let got = raws(mbox(b"From a\nA: 1\n\n>From x\n>>From y\n\nFrom b\nB: 2\n", 100));
        assert_eq!(
            got,
            vec![("m#1".to_owned(), b"A: 1\n\nFrom x\n>From y\n".to_vec()), ("m#2".to_owned(), b"B: 2\n".to_vec()),]
        );
        let got = raws(mbox(b"From a\r\nA: 1\r\n\r\n>From x\r\n\r\n", 100));
        assert_eq!(got, vec![("m#1".to_owned(), b"A: 1\r\n\r\nFrom x\r\n".to_vec())]);
        // Content before any separator is kept, not lost.
        let got = raws(mbox(b"junk\nFrom a\nA: 1\n", 100));
        assert_eq!(got.len(), 2);
        assert_eq!(got.first().unwrap().1, b"junk\n");
    }

    #[test]
    fn mbox_oversized_is_skipped() {
        let mut data = b"From a\nA: 1\n".to_vec();
        data.extend(core::iter::repeat_n(b'x', 1000));
        data.extend(b"\nFrom b\nB: 2\n");
        let items = mbox(&data, 100);
        assert_eq!(items.len(), 2);
        match items.first().unwrap() {
            Err(SourceError::TooLarge { origin, size, .. }) => {
                assert_eq!(origin, "m#1");
                assert_eq!(*size, 5 + 1001);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(items.get(1).unwrap().as_ref().unwrap().raw, b"B: 2\n");
    }

    #[test]
    fn stream_cap() {
        let m = read_stream(Cursor::new(b"A: 1\n\nhi\n".to_vec()), "-", 100).unwrap();
        assert_eq!((m.source.as_str(), m.raw.as_slice()), ("-", &b"A: 1\n\nhi\n"[..]));
        match read_stream(Cursor::new(vec![b'a'; 500]), "-", 100) {
            Err(SourceError::TooLarge { size: 500, max: 100, .. }) => {}
            other => panic!("{other:?}"),
        }
    }
}
