//! The ustar format, both ways: one entry written with the fixed
//! headers reproducibility needs, and a tar read back with every length
//! checked against the input.

use super::*;

pub(super) const BLOCK: usize = 512;

/// The largest size 11 octal digits hold (8 GiB - 1).
pub(super) const MAX_ENTRY_SIZE: u64 = 0o77_777_777_777;

/// Tar entry types: the only two this format uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    File,
    Dir,
}

/// One ustar entry (header, data, zero padding to 512 bytes) to `w`.
pub(super) fn write_entry(
    w: &mut impl Write,
    name: &str,
    kind: Kind,
    mode: u32,
    data: &[u8],
) -> Result<(), ImageError> {
    let size = data.len() as u64;
    if size > MAX_ENTRY_SIZE {
        return Err(ImageError::TooLarge { path: name.to_owned(), size });
    }
    let (prefix, short) = split_name(name).ok_or_else(|| ImageError::PathTooLong { path: name.to_owned() })?;
    let mut h = [0u8; BLOCK];
    put(&mut h, 0, short.as_bytes());
    put(&mut h, 100, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, b"0000000\0"); // uid
    put(&mut h, 116, b"0000000\0"); // gid
    put(&mut h, 124, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, b"00000000000\0"); // mtime
    put(&mut h, 148, b"        "); // checksum, counted as spaces
    put(&mut h, 156, if kind == Kind::Dir { b"5" } else { b"0" });
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    put(&mut h, 329, b"0000000\0"); // devmajor
    put(&mut h, 337, b"0000000\0"); // devminor
    put(&mut h, 345, prefix.as_bytes());
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    w.write_all(&h)?;
    w.write_all(data)?;
    w.write_all([0; BLOCK].get(..padding(data.len())).unwrap_or_default())?;
    Ok(())
}

pub(super) fn padding(len: usize) -> usize {
    (BLOCK - len % BLOCK) % BLOCK
}

pub(super) fn put(h: &mut [u8; BLOCK], at: usize, bytes: &[u8]) {
    if let Some(field) = h.get_mut(at..at + bytes.len()) {
        field.copy_from_slice(bytes);
    }
}

/// ustar's (prefix, name) for `name`: the name field holds 100 bytes, the
/// prefix 155, split at a `/` (never the trailing one of a directory).
pub(super) fn split_name(name: &str) -> Option<(&str, &str)> {
    if name.len() <= 100 {
        return Some(("", name));
    }
    let body = name.strip_suffix('/').unwrap_or(name);
    body.match_indices('/').map(|(i, _)| i).find_map(|i| {
        let (prefix, rest) = (name.get(..i)?, name.get(i + 1..)?);
        (prefix.len() <= 155 && rest.len() <= 100).then_some((prefix, rest))
    })
}

/// Checks a top-layer path (without a directory's trailing `/`).
pub(super) fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("it is empty");
    }
    if path.starts_with('/') {
        return Err("it is absolute");
    }
    if path.contains('\0') {
        return Err("it has a NUL byte");
    }
    for part in path.split('/') {
        match part {
            "" => return Err("it has an empty component (// or a trailing /)"),
            "." | ".." => return Err("it has a . or .. component"),
            p if p.starts_with(".wh.") => return Err("a .wh. name is a layer whiteout (it deletes files)"),
            _ => {}
        }
    }
    Ok(())
}

/// One parsed tar entry; `data` borrows the input.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) mode: u32,
    pub(super) data: &'a [u8],
}

/// Parses a ustar archive as this module writes it: ustar magic, valid
/// checksums, only regular files and directories, names strictly sorted,
/// two zero blocks at the end and only zeros after them.
pub(super) fn parse_tar<'a>(bytes: &'a [u8], archive: &'static str) -> Result<Vec<Entry<'a>>, ImageError> {
    let mut entries: Vec<Entry<'a>> = Vec::new();
    let mut at = 0usize;
    let truncated = |offset: usize, what: String| ImageError::Truncated { archive, offset, what };
    loop {
        let Some(h) = at.checked_add(BLOCK).and_then(|end| bytes.get(at..end)) else {
            if at == 0 && archive == "image" {
                return Err(ImageError::NotTar);
            }
            return Err(truncated(at, "the end-of-archive blocks are missing".to_owned()));
        };
        if h.iter().all(|&b| b == 0) {
            let rest = bytes.get(at + BLOCK..).unwrap_or_default();
            if rest.len() < BLOCK {
                return Err(truncated(at, "the second end-of-archive block is missing".to_owned()));
            }
            if rest.iter().any(|&b| b != 0) {
                return Err(ImageError::BadHeader {
                    archive,
                    offset: at,
                    reason: "data after the end-of-archive blocks",
                });
            }
            return Ok(entries);
        }
        let bad = |reason: &'static str| {
            if at == 0 && archive == "image" {
                ImageError::NotTar
            } else {
                ImageError::BadHeader { archive, offset: at, reason }
            }
        };
        let field = |from: usize, len: usize| h.get(from..from + len).unwrap_or_default();
        let stored = octal(field(148, 8)).ok_or_else(|| bad("the checksum field is not octal"))?;
        let sum: u64 = h
            .iter()
            .enumerate()
            .map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) })
            .sum();
        if stored != sum {
            return Err(bad("header checksum mismatch"));
        }
        if field(257, 6) != b"ustar\0" || field(263, 2) != b"00" {
            return Err(bad("not a POSIX ustar header"));
        }
        let text = |from: usize, len: usize| {
            let raw = field(from, len);
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            core::str::from_utf8(raw.get(..end).unwrap_or_default()).map_err(|_| bad("a name is not UTF-8"))
        };
        let (prefix, short) = (text(345, 155)?, text(0, 100)?);
        let name = if prefix.is_empty() { short.to_owned() } else { format!("{prefix}/{short}") };
        let unexpected = |reason: String| ImageError::UnexpectedEntry { archive, name: name.clone(), reason };
        let kind = match field(156, 1) {
            b"0" | b"\0" => Kind::File,
            b"5" => Kind::Dir,
            other => {
                return Err(unexpected(format!(
                    "type {:?}: only regular files and directories are allowed (no links, devices or PAX headers)",
                    String::from_utf8_lossy(other)
                )));
            }
        };
        let mode = octal(field(100, 8)).ok_or_else(|| bad("the mode field is not octal"))?;
        let size = octal(field(124, 12)).ok_or_else(|| bad("the size field is not octal"))?;
        if kind == Kind::Dir && size != 0 {
            return Err(bad("a directory with a size"));
        }
        let start = at + BLOCK;
        let data = usize::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| truncated(at, format!("{name:?} says {size} bytes, {} are left", bytes.len() - start)))?;
        if let Some(prev) = entries.last() {
            if prev.name == name {
                return Err(unexpected("the name appears twice".to_owned()));
            }
            if prev.name > name {
                return Err(unexpected(format!("not in sorted order (after {:?})", prev.name)));
            }
        }
        at = start + data.len() + padding(data.len());
        entries.push(Entry { name, kind, mode: u32::try_from(mode).unwrap_or(u32::MAX), data });
    }
}

/// A ustar number: octal digits, optionally led by spaces and ended by NUL
/// or space. Base-256 (GNU) numbers are refused: this writer never uses them.
pub(super) fn octal(field: &[u8]) -> Option<u64> {
    let digits = field.iter().skip_while(|&&b| b == b' ');
    let mut value: u64 = 0;
    let mut seen = false;
    let mut ended = false;
    for &b in digits {
        match b {
            b'0'..=b'7' if !ended => {
                value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
                seen = true;
            }
            b'\0' | b' ' => ended = true,
            _ => return None,
        }
    }
    seen.then_some(value)
}
