//! Mail sources on real files: Maildir, folders of `.eml`, mbox, single
//! files, and the reader behind `-`.

use std::{
    fs,
    io::Cursor,
    path::{Path, PathBuf},
};

use fanlic_issuer::ingest::source::{
    self, IncomingMessage, Receipt, SkipReason, SourceError, SourceKind, SourceOptions,
};
use fanlic_issuer::mail::message;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails")
}

fn msg(subject: &str) -> Vec<u8> {
    format!("From: a@customer.example\r\nTo: license@vendor.example\r\nSubject: {subject}\r\n\r\nCompany: X\r\n")
        .into_bytes()
}

/// Builds an empty Maildir in `dir`.
fn maildir(dir: &Path) -> PathBuf {
    let md = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        fs::create_dir_all(md.join(sub)).unwrap();
    }
    md
}

/// Delivers like an MTA: written in tmp/, then renamed into new/.
fn deliver(md: &Path, name: &str, raw: &[u8]) -> PathBuf {
    let tmp = md.join("tmp").join(name);
    fs::write(&tmp, raw).unwrap();
    let new = md.join("new").join(name);
    fs::rename(&tmp, &new).unwrap();
    new
}

fn all_ok(path: &Path) -> Vec<IncomingMessage> {
    source::open(path).unwrap().map(Result::unwrap).collect()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    v.sort();
    v
}

#[test]
fn maildir_read_acknowledge_and_leave_undecided() {
    let dir = tempfile::tempdir().unwrap();
    let md = maildir(dir.path());
    let first = deliver(&md, "1763631005.M1P4242.mx.vendor.example", &msg("one"));
    let second = deliver(&md, "1763631100.M2P4243.mx.vendor.example", &msg("two"));
    // Still being delivered, hidden, or already handled: none of these is read.
    fs::write(md.join("tmp/1763631200.M3P4244.mx.vendor.example"), msg("partial")).unwrap();
    fs::write(md.join("new/.keep"), b"").unwrap();
    fs::write(md.join("cur/1763630000.M0P4000.mx.vendor.example:2,S"), msg("old")).unwrap();

    assert_eq!(source::detect(&md).unwrap(), SourceKind::Maildir);
    let mut messages = source::open(&md).unwrap();
    assert_eq!(messages.kind(), SourceKind::Maildir);
    let a = messages.next().unwrap().unwrap();
    let b = messages.next().unwrap().unwrap();
    assert!(messages.next().is_none());
    assert_eq!(a.source, first.display().to_string());
    assert_eq!(a.raw, msg("one"));
    assert_eq!(a.receipt, Receipt::Maildir { new_path: first.clone() });
    assert_eq!(b.source, second.display().to_string());

    // The first is decided and committed; the second is not (database locked).
    let moved = source::acknowledge(&a.receipt).unwrap().unwrap();
    assert_eq!(moved, md.join("cur/1763631005.M1P4242.mx.vendor.example:2,S"));
    assert_eq!(fs::read(&moved).unwrap(), msg("one"));
    assert!(!first.exists());
    // Twice is fine: same answer, nothing changes.
    assert_eq!(source::acknowledge(&a.receipt).unwrap(), Some(moved.clone()));
    assert_eq!(
        names(&md.join("cur")),
        ["1763630000.M0P4000.mx.vendor.example:2,S", "1763631005.M1P4242.mx.vendor.example:2,S"]
    );

    // The next run sees only the undecided one, under the same path.
    let again = all_ok(&md);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].source, second.display().to_string());
    assert_eq!(again[0].receipt, b.receipt);
    assert_eq!(source::poll_new(&md).unwrap(), vec![second.clone()]);

    // A mail client moved it to cur/ with its own flags meanwhile: found there.
    let by_client = md.join("cur/1763631100.M2P4243.mx.vendor.example:2,RS");
    fs::rename(&second, &by_client).unwrap();
    assert_eq!(source::acknowledge(&b.receipt).unwrap(), Some(by_client.clone()));
    fs::remove_file(&by_client).unwrap();
    let err = source::acknowledge(&b.receipt).unwrap_err();
    assert!(matches!(err, SourceError::Vanished { .. }), "{err}");
    assert!(all_ok(&md).is_empty());
    assert_eq!(source::acknowledge(&Receipt::None).unwrap(), None);
}

#[test]
fn maildir_keeps_existing_flags() {
    let dir = tempfile::tempdir().unwrap();
    let md = maildir(dir.path());
    let new = deliver(&md, "1763631005.M1P1.host:2,F", &msg("flagged"));
    let moved = source::acknowledge(&Receipt::Maildir { new_path: new }).unwrap().unwrap();
    assert_eq!(moved.file_name().unwrap(), "1763631005.M1P1.host:2,FS");

    let err = source::acknowledge(&Receipt::Maildir { new_path: dir.path().join("x.eml") }).unwrap_err();
    assert!(matches!(err, SourceError::NotInMaildir { .. }), "{err}");
}

#[test]
fn folder_of_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("b.eml"), msg("b")).unwrap();
    fs::write(d.join("a.EML"), msg("a")).unwrap();
    fs::write(d.join("notes.txt"), b"not mail").unwrap();
    fs::write(d.join(".hidden.eml"), msg("hidden")).unwrap();
    fs::create_dir(d.join("sub.eml")).unwrap();
    fs::write(d.join("sub.eml/c.eml"), msg("c")).unwrap();

    assert_eq!(source::detect(d).unwrap(), SourceKind::Folder);
    let (got, skipped) = read_all(d);
    let sources: Vec<&str> = got.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(sources, [d.join("a.EML").display().to_string(), d.join("b.eml").display().to_string()]);
    assert_eq!(got[0].raw, msg("a"));
    assert!(got.iter().all(|m| m.receipt == Receipt::None));
    // Not read, but reported: the text file is not mail, the folder is not entered.
    assert_eq!(skipped, [(d.join("notes.txt"), SkipReason::NotMail), (d.join("sub.eml"), SkipReason::Folder)]);
}

/// The messages of a source and the entries it skipped, in order; any
/// other error fails the test.
fn read_all(path: &Path) -> (Vec<IncomingMessage>, Vec<(PathBuf, SkipReason)>) {
    let (mut got, mut skipped) = (Vec::new(), Vec::new());
    for item in source::open(path).unwrap() {
        match item {
            Ok(m) => got.push(m),
            Err(SourceError::Skipped { path, reason }) => skipped.push((path, reason)),
            Err(e) => panic!("{e}"),
        }
    }
    (got, skipped)
}

/// `read_all` on another thread: an entry that blocks (a FIFO opened
/// without O_NONBLOCK) fails the test instead of hanging it.
fn read_all_within(path: &Path, secs: u64) -> (Vec<IncomingMessage>, Vec<(PathBuf, SkipReason)>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || tx.send(read_all(&path)).unwrap());
    rx.recv_timeout(core::time::Duration::from_secs(secs)).expect("reading the source blocked")
}

fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success());
}

#[test]
fn maildir_name_that_is_not_utf8_moves_to_cur() {
    use std::os::unix::ffi::{OsStrExt as _, OsStringExt as _};
    let dir = tempfile::tempdir().unwrap();
    let md = maildir(dir.path());
    let name = std::ffi::OsString::from_vec(b"1763631005.M1P1.h\xf6st\xff:2,F".to_vec());
    let new = md.join("new").join(&name);
    fs::write(&new, msg("latin-1 host name")).unwrap();

    let got = all_ok(&md);
    assert_eq!(got.len(), 1);
    let moved = source::acknowledge(&got[0].receipt).unwrap().unwrap();
    assert_eq!(moved.file_name().unwrap().as_bytes(), b"1763631005.M1P1.h\xf6st\xff:2,FS");
    assert_eq!(fs::read(&moved).unwrap(), msg("latin-1 host name"));
    assert!(source::poll_new(&md).unwrap().is_empty());
    // Again (another run acknowledged it first): found in cur/, not an error.
    assert_eq!(source::acknowledge(&got[0].receipt).unwrap(), Some(moved));
}

#[test]
fn links_fifos_and_folders_in_new_are_skipped_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let md = maildir(dir.path());
    // A secret outside the Maildir, shaped like mail: a link to it must not be read.
    let secret = dir.path().join("secret.eml");
    fs::write(&secret, msg("secret")).unwrap();
    symlink(&secret, md.join("new/1.M1P1.link")).unwrap();
    symlink(dir.path().join("nowhere"), md.join("new/2.M2P2.dangling")).unwrap();
    mkfifo(&md.join("new/3.M3P3.fifo"));
    fs::create_dir(md.join("new/4.M4P4.dir")).unwrap();
    let real = deliver(&md, "5.M5P5.real", &msg("real"));

    let (got, skipped) = read_all_within(&md, 10);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].source, real.display().to_string());
    let new = md.join("new");
    assert_eq!(
        skipped,
        [
            (new.join("1.M1P1.link"), SkipReason::Symlink),
            (new.join("2.M2P2.dangling"), SkipReason::Symlink),
            (new.join("3.M3P3.fifo"), SkipReason::Fifo),
            (new.join("4.M4P4.dir"), SkipReason::Folder),
        ]
    );
    let err = SourceError::Skipped { path: new.join("3.M3P3.fifo"), reason: SkipReason::Fifo };
    assert_eq!(err.code(), "skipped");
    assert_eq!(err.skipped().map(|(_, r)| r.code()), Some("fifo"));
    // Left in place; poll_new lists only the message.
    assert_eq!(source::poll_new(&md).unwrap(), vec![real]);
    assert!(fs::symlink_metadata(new.join("1.M1P1.link")).unwrap().file_type().is_symlink());
    assert_eq!(fs::read(&secret).unwrap(), msg("secret"));

    // The same in a plain folder.
    let folder = dir.path().join("folder");
    fs::create_dir(&folder).unwrap();
    symlink(&secret, folder.join("a.eml")).unwrap();
    mkfifo(&folder.join("b.eml"));
    fs::write(folder.join("c.eml"), msg("c")).unwrap();
    let (got, skipped) = read_all_within(&folder, 10);
    assert_eq!(got.iter().map(|m| m.raw.clone()).collect::<Vec<_>>(), [msg("c")]);
    assert_eq!(skipped.iter().map(|(_, r)| *r).collect::<Vec<_>>(), [SkipReason::Symlink, SkipReason::Fifo]);
}

#[test]
fn an_entry_swapped_after_the_listing_is_neither_followed_nor_waited_on() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let md = maildir(dir.path());
    let secret = dir.path().join("secret.eml");
    fs::write(&secret, msg("secret")).unwrap();
    let a = deliver(&md, "1.M1P1.a", &msg("a"));
    let b = deliver(&md, "2.M2P2.b", &msg("b"));
    let c = deliver(&md, "3.M3P3.c", &msg("c"));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut messages = source::open(&md).unwrap();
    // Listed as regular files; now swapped for a link and a FIFO.
    fs::remove_file(&a).unwrap();
    symlink(&secret, &a).unwrap();
    fs::remove_file(&b).unwrap();
    mkfifo(&b);
    std::thread::spawn(move || {
        let items: Vec<_> = messages.by_ref().collect();
        tx.send(items).unwrap();
    });
    let items = rx.recv_timeout(core::time::Duration::from_secs(10)).expect("reading a swapped FIFO blocked");
    assert_eq!(items.len(), 3);
    assert!(matches!(&items[0], Err(SourceError::Skipped { reason: SkipReason::Symlink, path }) if *path == a));
    assert!(matches!(&items[1], Err(SourceError::Skipped { reason: SkipReason::Fifo, path }) if *path == b));
    assert_eq!(items[2].as_ref().unwrap().source, c.display().to_string());
}

#[test]
fn folder_files_not_named_eml_are_read_when_they_are_mail() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::write(d.join("export.txt"), msg("exported as text")).unwrap();
    fs::write(d.join("1763631005"), msg("no extension")).unwrap();
    fs::write(d.join("readme.txt"), b"Note: these are the requests of November\n\nnothing else\n").unwrap();
    fs::write(d.join("empty"), b"").unwrap();
    fs::write(d.join(".DS_Store"), msg("dotfile")).unwrap();
    let (got, skipped) = read_all(d);
    let raws: Vec<Vec<u8>> = got.iter().map(|m| m.raw.clone()).collect();
    assert_eq!(raws, [msg("no extension"), msg("exported as text")]);
    assert_eq!(skipped, [(d.join("empty"), SkipReason::NotMail), (d.join("readme.txt"), SkipReason::NotMail)]);
    // A Maildir's new/ holds only mail: every file there is read, as it is.
    assert!(source::looks_like_mail(&msg("x"), false));
}

#[test]
fn mbox_with_escapes_and_crlf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inbox");
    let data = b"From a@customer.example Fri Nov 20 01:30:00 2026\n\
From: a@customer.example\nSubject: one\n\n>From the team\n>>From quoted\n\n\
From b@customer.example Fri Nov 20 01:31:00 2026\r\n\
From: b@customer.example\r\nSubject: two\r\n\r\nbody\r\n\r\n\
From c@customer.example Fri Nov 20 01:32:00 2026\n\
From: c@customer.example\nSubject: three\n\nlast line without newline";
    fs::write(&path, data).unwrap();

    assert_eq!(source::detect(&path).unwrap(), SourceKind::Mbox);
    let got = all_ok(&path);
    let p = path.display();
    let sources: Vec<&str> = got.iter().map(|m| m.source.as_str()).collect();
    assert_eq!(sources, [format!("{p}#1"), format!("{p}#2"), format!("{p}#3")]);
    assert_eq!(got[0].raw, b"From: a@customer.example\nSubject: one\n\nFrom the team\n>From quoted\n");
    assert_eq!(got[1].raw, b"From: b@customer.example\r\nSubject: two\r\n\r\nbody\r\n");
    assert_eq!(got[2].raw, b"From: c@customer.example\nSubject: three\n\nlast line without newline");
    for m in &got {
        message::parse(&m.raw).unwrap();
    }
}

#[test]
fn empty_mbox_and_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let mbox = dir.path().join("empty.mbox");
    fs::write(&mbox, b"").unwrap();
    assert_eq!(source::detect(&mbox).unwrap(), SourceKind::Mbox);
    assert!(all_ok(&mbox).is_empty());

    // An empty file is one empty message: the parser gives the reason.
    let eml = dir.path().join("empty.eml");
    fs::write(&eml, b"").unwrap();
    assert_eq!(source::detect(&eml).unwrap(), SourceKind::EmlFile);
    let got = all_ok(&eml);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].source, eml.display().to_string());
    assert!(got[0].raw.is_empty());
    assert!(message::parse(&got[0].raw).is_err());
}

#[test]
fn binary_garbage_is_yielded_as_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("garbage.bin");
    let garbage: Vec<u8> = (0..4096_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    fs::write(&path, &garbage).unwrap();
    let got = all_ok(&path);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].raw, garbage);
    // Never a panic, whatever the parser makes of it.
    let _ = message::parse(&got[0].raw);
}

#[test]
fn oversized_messages_are_item_errors_and_iteration_continues() {
    let dir = tempfile::tempdir().unwrap();
    let options = SourceOptions { max_bytes: 1024 };

    // Folder: the middle file is 50 MB (sparse: never read, never in memory).
    let folder = dir.path().join("folder");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("1.eml"), msg("one")).unwrap();
    fs::File::create(folder.join("2.eml")).unwrap().set_len(50 * 1024 * 1024).unwrap();
    fs::write(folder.join("3.eml"), msg("three")).unwrap();
    let items: Vec<_> = source::open_with(&folder, &options).unwrap().collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().raw, msg("one"));
    match &items[1] {
        Err(e @ SourceError::TooLarge { origin, size, max, receipt, .. }) => {
            assert_eq!(origin, &folder.join("2.eml").display().to_string());
            assert_eq!((*size, *max), (50 * 1024 * 1024, 1024));
            assert_eq!(receipt, &Receipt::None);
            assert_eq!(e.code(), "message_too_large");
            assert!(e.to_string().contains("too large"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(items[2].as_ref().unwrap().raw, msg("three"));

    // The default limit is 25 MiB: the 50 MB file is refused by default too.
    let items: Vec<_> = source::open(&folder.join("2.eml")).unwrap().collect();
    assert!(matches!(items.as_slice(), [Err(SourceError::TooLarge { .. })]));

    // Maildir: the refusal carries the receipt, so it can be moved to cur/.
    let md = maildir(dir.path());
    let big = deliver(&md, "1.M1P1.host", &vec![b'x'; 2000]);
    deliver(&md, "2.M2P2.host", &msg("small"));
    let items: Vec<_> = source::open_with(&md, &options).unwrap().collect();
    assert_eq!(items.len(), 2);
    match &items[0] {
        Err(SourceError::TooLarge { receipt, size: 2000, .. }) => {
            assert_eq!(receipt, &Receipt::Maildir { new_path: big.clone() });
            source::acknowledge(receipt).unwrap();
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(items[1].as_ref().unwrap().raw, msg("small"));
    assert_eq!(source::poll_new(&md).unwrap().len(), 1);

    // mbox: the big message is skipped through, the next one is read.
    let mbox = dir.path().join("big.mbox");
    let mut data = b"From x\nSubject: big\n\n".to_vec();
    for _ in 0..100 {
        data.extend_from_slice(&[b'y'; 99]);
        data.push(b'\n');
    }
    data.extend_from_slice(b"\nFrom x\nSubject: small\n\nok\n");
    fs::write(&mbox, &data).unwrap();
    let items: Vec<_> = source::open_with(&mbox, &options).unwrap().collect();
    assert_eq!(items.len(), 2);
    assert!(
        matches!(&items[0], Err(SourceError::TooLarge { origin, .. }) if *origin == format!("{}#1", mbox.display()))
    );
    let small = items[1].as_ref().unwrap();
    assert_eq!(small.source, format!("{}#2", mbox.display()));
    assert_eq!(small.raw, b"Subject: small\n\nok\n");
}

#[test]
fn too_large_messages_keep_their_head_only() {
    let dir = tempfile::tempdir().unwrap();
    let options = SourceOptions { max_bytes: 100 * 1024 };
    let big: Vec<u8> = msg("big").into_iter().chain(core::iter::repeat_n(b'z', 300 * 1024)).collect();
    let head = |item: &Result<IncomingMessage, SourceError>| match item {
        Err(SourceError::TooLarge { head, size, .. }) => (head.clone(), *size),
        other => panic!("{other:?}"),
    };
    // A file: only its head is read.
    let file = dir.path().join("big.eml");
    fs::write(&file, &big).unwrap();
    let items: Vec<_> = source::open_with(&file, &options).unwrap().collect();
    assert_eq!(head(&items[0]), (big[..source::HEAD_BYTES].to_vec(), big.len() as u64));
    // Standard input: read through, its head kept.
    let item = source::read_stream(Cursor::new(big.clone()), "-", 100 * 1024);
    assert_eq!(head(&item), (big[..source::HEAD_BYTES].to_vec(), big.len() as u64));
    // An mbox message: what was read before it was known to be too large, at most the head.
    let mut data = b"From x\n".to_vec();
    data.extend_from_slice(&big);
    data.extend_from_slice(b"\nFrom y\nSubject: next\n\nok\n");
    let mbox = dir.path().join("big.mbox");
    fs::write(&mbox, &data).unwrap();
    let items: Vec<_> = source::open_with(&mbox, &options).unwrap().collect();
    let (h, _) = head(&items[0]);
    assert!(!h.is_empty() && h.len() <= source::HEAD_BYTES && big.starts_with(&h), "{}", h.len());
    assert_eq!(items[1].as_ref().unwrap().raw, b"Subject: next\n\nok\n");
}

#[test]
fn stdin_reader() {
    let m = source::read_stream(Cursor::new(msg("piped")), "-", 1024).unwrap();
    assert_eq!(m.source, "-");
    assert_eq!(m.raw, msg("piped"));
    assert_eq!(m.receipt, Receipt::None);
    match source::read_stream(Cursor::new(vec![b'z'; 5000]), "-", 1024) {
        Err(SourceError::TooLarge { origin, size: 5000, .. }) => assert_eq!(origin, "-"),
        other => panic!("{other:?}"),
    }
    assert_eq!(source::detect(Path::new("-")).unwrap(), SourceKind::Stdin);
}

#[test]
fn source_level_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = source::open(&missing).unwrap_err();
    assert!(matches!(err, SourceError::Missing { .. }), "{err}");
    assert_eq!(err.code(), "source_missing");
    assert!(err.to_string().contains("no such file or folder"), "{err}");
    // A character device is not a mail source.
    let err = source::open(Path::new("/dev/null")).unwrap_err();
    assert!(matches!(err, SourceError::NotAMailSource { .. }), "{err}");
}

#[test]
fn fixtures_read() {
    let fx = fixtures();
    // Read in place (nothing is acknowledged, so nothing moves).
    let md = fx.join("maildir");
    assert_eq!(source::detect(&md).unwrap(), SourceKind::Maildir);
    let got = all_ok(&md);
    assert_eq!(got.len(), 2);
    for m in &got {
        assert!(matches!(m.receipt, Receipt::Maildir { .. }));
        message::parse(&m.raw).unwrap();
    }

    let mbox = fx.join("mbox/sample.mbox");
    assert_eq!(source::detect(&mbox).unwrap(), SourceKind::Mbox);
    let got = all_ok(&mbox);
    assert_eq!(got.len(), 2);
    assert!(got[0].raw.windows(14).any(|w| w == b"\nFrom the sale"));
    for m in &got {
        message::parse(&m.raw).unwrap();
    }

    // Acknowledging works on a copy of the fixture Maildir.
    let dir = tempfile::tempdir().unwrap();
    let copy = maildir(dir.path());
    for m in &got_maildir_names(&md) {
        fs::copy(md.join("new").join(m), copy.join("new").join(m)).unwrap();
    }
    for m in all_ok(&copy) {
        source::acknowledge(&m.receipt).unwrap().unwrap();
    }
    assert!(source::poll_new(&copy).unwrap().is_empty());
    assert!(names(&copy.join("cur")).iter().all(|n| n.ends_with(":2,S")));
}

fn got_maildir_names(md: &Path) -> Vec<String> {
    names(&md.join("new")).into_iter().filter(|n| !n.starts_with('.')).collect()
}
