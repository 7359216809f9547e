//! `fanlic_license_verify`, `fanlic_revocations_verify` and the code-name
//! functions through their `extern "C"` entry points: every license vector of
//! fixtures/vectors/manifest.json and every revocation-list vector gets the
//! manifest's outcome (the same causes, in order, with the verifier's own
//! texts), and bad input is refused with its status, never dereferenced,
//! never a panic.

use core::ptr;

use fanlic_formats::{LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp};
use fanlic_testkit::{Manifest, RevocationManifest, Vector, parse_rfc3339, read_public_key};
use fanlic_verifier::{Environment, Lang, RootKey, verify_revocations, verify_with_revocations};
use fanlic_verifier_ffi::license::*;
use fanlic_verifier_ffi::revocation::*;
use fanlic_verifier_ffi::{
    FANLIC_LANG_EN, FANLIC_LANG_ZH_CN, FANLIC_METHOD_LOCAL_CONTAINER, FANLIC_METHOD_PRIVATE_CLOUD, FanlicEnvironment,
    FanlicStatus,
};
use proptest::prelude::*;

/// A product's environment as owned strings, lent to C as pointers.
#[derive(Clone, Debug)]
pub(crate) struct Env {
    pub(crate) app_name: String,
    pub(crate) version: String,
    pub(crate) project: String,
    pub(crate) nodes: u32,
    pub(crate) method: u32,
    pub(crate) now: u64,
    pub(crate) last_seen: Option<u64>,
}

impl Env {
    /// FineReport 11.0.20, project webroot, 1 node, local container, 2026-06-01.
    pub(crate) fn webroot() -> Self {
        Self {
            app_name: "FineReport".into(),
            version: "11.0.20".into(),
            project: "webroot".into(),
            nodes: 1,
            method: FANLIC_METHOD_LOCAL_CONTAINER,
            now: 1_780_272_000,
            last_seen: None,
        }
    }

    fn of(v: &Vector) -> Self {
        let e = &v.env;
        Self {
            app_name: e.app_name.clone(),
            version: e.version.clone(),
            project: e.project.clone(),
            nodes: e.nodes,
            method: match e.method.as_str() {
                "local-container" => FANLIC_METHOD_LOCAL_CONTAINER,
                _ => FANLIC_METHOD_PRIVATE_CLOUD,
            },
            now: parse_rfc3339(&e.now).unwrap().0,
            last_seen: e.last_seen.as_deref().map(|t| parse_rfc3339(t).unwrap().0),
        }
    }

    pub(crate) fn c(&self) -> FanlicEnvironment {
        FanlicEnvironment {
            app_name: self.app_name.as_ptr(),
            app_name_len: self.app_name.len(),
            version: self.version.as_ptr(),
            version_len: self.version.len(),
            project: self.project.as_ptr(),
            project_len: self.project.len(),
            nodes: self.nodes,
            method: self.method,
            now: self.now,
            last_seen: self.last_seen.unwrap_or(0),
            has_last_seen: u8::from(self.last_seen.is_some()),
        }
    }

    fn rust(&self) -> Environment<'_> {
        Environment {
            app_name: &self.app_name,
            version: &self.version,
            project: &self.project,
            nodes: self.nodes,
            method: if self.method == FANLIC_METHOD_LOCAL_CONTAINER {
                LicenseKind::LocalContainer
            } else {
                LicenseKind::PrivateCloud
            },
            now: Timestamp(self.now),
            last_seen: self.last_seen.map(Timestamp),
        }
    }
}

pub(crate) fn root(name: &str) -> [u8; 32] {
    read_public_key(name).unwrap()
}

pub(crate) fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(fanlic_testkit::fixtures_dir().join(path)).unwrap()
}

/// One call's outcome, its texts in a buffer of the size asked for.
pub(crate) struct Call {
    pub(crate) status: FanlicStatus,
    pub(crate) result: FanlicLicenseResult,
    pub(crate) text: Vec<u8>,
}

impl Call {
    pub(crate) fn text(&self, t: FanlicText) -> &str {
        let bytes = &self.text[t.offset..t.offset + t.len];
        assert_eq!(self.text[t.offset + t.len], 0, "a NUL follows each text");
        core::str::from_utf8(bytes).unwrap()
    }

    fn causes(&self) -> &[FanlicCause] {
        &self.result.causes[..self.result.cause_count as usize]
    }

    fn codes(&self) -> Vec<String> {
        self.causes().iter().map(|c| code_name(c.code)).collect()
    }
}

pub(crate) fn code_name(code: u32) -> String {
    let mut buf = [0u8; 64];
    let mut len = 0;
    // SAFETY: a 64-byte buffer and a usize on the stack.
    let s = unsafe { fanlic_cause_name(code, buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(s, FanlicStatus::Ok, "code {code}");
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

/// `fanlic_license_verify` with a text buffer of `cap` bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn call_with(
    license: &[u8],
    roots: &[[u8; 32]],
    env: &Env,
    list: Option<&[u8]>,
    highest_seen: Option<u64>,
    lang: u32,
    cap: usize,
) -> Call {
    let c_env = env.c();
    let mut result = FanlicLicenseResult::default();
    let mut text = vec![0u8; cap];
    let highest = highest_seen.unwrap_or(0);
    // SAFETY: every pointer is to live memory of the length given.
    let status = unsafe {
        fanlic_license_verify(
            license.as_ptr(),
            license.len(),
            roots.as_ptr(),
            roots.len(),
            &c_env,
            list.map_or(ptr::null(), <[u8]>::as_ptr),
            list.map_or(0, <[u8]>::len),
            if highest_seen.is_some() { &highest } else { ptr::null() },
            lang,
            &mut result,
            text.as_mut_ptr(),
            text.len(),
        )
    };
    Call { status, result, text }
}

/// [`call_with`] with a buffer as big as the call asks for.
pub(crate) fn call(
    license: &[u8],
    roots: &[[u8; 32]],
    env: &Env,
    list: Option<&[u8]>,
    highest_seen: Option<u64>,
    lang: u32,
) -> Call {
    let first = call_with(license, roots, env, list, highest_seen, lang, 4096);
    if first.status != FanlicStatus::BufferTooSmall {
        return first;
    }
    call_with(license, roots, env, list, highest_seen, lang, first.result.text_len)
}

fn lang_of(c: u32) -> Lang {
    if c == FANLIC_LANG_ZH_CN { Lang::ZhCn } else { Lang::En }
}

/// Under Miri every signature check is interpreted (seconds each): a
/// sample of the vectors, in one language.
fn sample<T>(all: Vec<T>) -> Vec<T> {
    if cfg!(miri) { all.into_iter().step_by(9).collect() } else { all }
}

/// Both languages; English alone under Miri.
pub(crate) fn langs() -> &'static [u32] {
    if cfg!(miri) { &[FANLIC_LANG_EN] } else { &[FANLIC_LANG_EN, FANLIC_LANG_ZH_CN] }
}

/// The C ABI's answer is the verifier's: the same causes in the same order,
/// with the same title, prompt and advice, and the license's fields.
fn assert_same_as_the_verifier(name: &str, c: &Call, license: &[u8], roots: &[[u8; 32]], env: &Env, lang: u32) {
    let keys: Vec<RootKey> = roots.iter().map(|r| RootKey::from_bytes(r).unwrap()).collect();
    let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
    let lang_r = lang_of(lang);
    match verify_with_revocations(license, &mut buf, &keys, &env.rust(), None) {
        Ok(v) => {
            assert_eq!((c.status, c.result.valid, c.result.cause_count), (FanlicStatus::Ok, 1, 0), "{name}");
            let l = &v.license;
            let info = &c.result.license;
            assert_eq!(c.text(info.license_id), l.id.to_string(), "{name}");
            assert_eq!(c.text(info.company), l.company, "{name}");
            assert_eq!(c.text(info.project), l.project, "{name}");
            assert_eq!(c.text(info.app_name), l.app_name, "{name}");
            assert_eq!(c.text(info.version), l.version.to_string(), "{name}");
            assert_eq!(c.text(info.expiry), l.expiry.to_string(), "{name}");
            assert_eq!(c.text(info.kind_name), l.kind.as_str(), "{name}");
            assert_eq!(c.text(info.issuing_key_id), v.certificate.key_id.to_string(), "{name}");
            assert_eq!(c.text(info.root_key_id), v.certificate.root_key_id.to_string(), "{name}");
            assert_eq!(c.text(info.activation_base_url), l.activation_base_url.unwrap_or(""), "{name}");
            assert_eq!(c.text(info.supersedes), l.supersedes.map(|s| s.to_string()).unwrap_or_default(), "{name}");
            assert_eq!(
                (info.max_nodes, info.not_before, info.issued_at, info.version_major, info.version_minor),
                (l.max_nodes, l.not_before.0, l.issued_at.0, l.version.major, l.version.minor),
                "{name}"
            );
            assert_eq!(info.activation_key_present, u8::from(l.activation_key.is_some()), "{name}");
            assert_eq!(c.result.has_license, 1, "{name}");
            assert!(c.text(c.result.valid_line).contains(&l.id.to_string()), "{name}");
        }
        Err(rejection) => {
            assert_eq!((c.status, c.result.valid), (FanlicStatus::Invalid, 0), "{name}");
            assert_eq!(c.result.has_license, u8::from(rejection.license().is_some()), "{name}");
            assert_eq!(c.result.cause_count as usize, rejection.causes().count(), "{name}");
            assert_eq!(c.text(c.result.valid_line), "", "{name}: no valid line when invalid");
            for (cc, rc) in c.causes().iter().zip(rejection.causes()) {
                assert_eq!(code_name(cc.code), rc.code(), "{name}");
                assert_eq!(c.text(cc.title), rc.title(lang_r), "{name}");
                assert_eq!(c.text(cc.prompt), rc.prompt(lang_r).to_string(), "{name}");
                assert_eq!(c.text(cc.advice), rc.advice(lang_r).to_string(), "{name}");
            }
        }
    }
}

#[test]
fn every_license_vector_through_the_c_abi() {
    let manifest = Manifest::load().unwrap();
    assert!(manifest.vectors.len() >= 40, "the manifest lost vectors");
    for v in sample(manifest.vectors) {
        let license = v.read_file().unwrap();
        let roots: Vec<[u8; 32]> = v.roots.iter().map(|r| root(r)).collect();
        let env = Env::of(&v);
        for &lang in langs() {
            let c = call(&license, &roots, &env, None, None, lang);
            let expected_status = if v.expected.valid { FanlicStatus::Ok } else { FanlicStatus::Invalid };
            assert_eq!(c.status, expected_status, "{}", v.name);
            assert_eq!(c.codes(), v.expected.causes, "{}: the causes, in order", v.name);
            if let Some(reason) = &v.expected.content_error {
                assert_eq!(c.text(c.result.causes[0].reason), reason, "{}", v.name);
                assert_eq!(c.result.has_license, 0, "{}: no claim of an unsigned file", v.name);
            }
            assert_eq!(c.result.revocations.state, FANLIC_REVOCATIONS_NONE);
            assert_same_as_the_verifier(&v.name, &c, &license, &roots, &env, lang);
        }
    }
}

fn hexes(ids: impl Iterator<Item = String>) -> Vec<String> {
    ids.collect()
}

#[test]
fn every_revocation_vector_through_the_c_abi() {
    let manifest = RevocationManifest::load().unwrap();
    assert!(manifest.vectors.len() >= 10, "the manifest lost vectors");
    let license = fixture("vectors/valid-local-container.lic");
    let env = Env::webroot();
    for v in sample(manifest.vectors) {
        let list = v.read_file().unwrap();
        let roots: Vec<[u8; 32]> = v.roots.iter().map(|r| root(r)).collect();
        let e = &v.expected;
        let mut r = FanlicRevocationsResult::default();
        let highest = v.highest_seen.unwrap_or(0);
        let highest_ptr = if v.highest_seen.is_some() { &highest as *const u64 } else { ptr::null() };
        // SAFETY: live memory of the lengths given.
        let s = unsafe {
            fanlic_revocations_verify(list.as_ptr(), list.len(), roots.as_ptr(), roots.len(), highest_ptr, &mut r)
        };
        assert_eq!((s == FanlicStatus::Ok, r.accepted == 1), (e.valid, e.valid), "{}", v.name);
        if e.valid {
            assert_eq!(Some(r.sequence), e.sequence, "{}", v.name);
            assert_eq!((r.license_count, r.issuing_key_count), (e.licenses.len(), e.issuing_keys.len()), "{}", v.name);
            // The Rust verifier, for the ids themselves.
            let keys: Vec<RootKey> = roots.iter().map(|k| RootKey::from_bytes(k).unwrap()).collect();
            let l = verify_revocations(&list, &keys, v.highest_seen).unwrap();
            assert_eq!(hexes(l.licenses().map(|i| i.to_string())), e.licenses, "{}", v.name);
        } else {
            assert_eq!(s, FanlicStatus::Invalid, "{}", v.name);
            assert_eq!(Some(error_name(r.error)), e.error, "{}", v.name);
        }

        // The same list given with a license: revoked when it names it, and
        // a refused list is its own answer (nothing is checked).
        let c = call(&license, &roots, &env, Some(&list), v.highest_seen, FANLIC_LANG_EN);
        if e.valid {
            assert_eq!(c.result.revocations.state, FANLIC_REVOCATIONS_ACCEPTED, "{}", v.name);
            assert_eq!(Some(c.result.revocations.sequence), e.sequence, "{}", v.name);
            let revoked = e.licenses.iter().any(|id| id == "a64444792e16ca284d36031929128036");
            let expected: Vec<String> = if revoked { vec!["revoked".into()] } else { vec![] };
            assert_eq!(c.codes(), expected, "{}", v.name);
            assert_eq!(c.status, if revoked { FanlicStatus::Invalid } else { FanlicStatus::Ok }, "{}", v.name);
        } else {
            assert_eq!(c.status, FanlicStatus::BadArgument, "{}", v.name);
            assert_eq!(c.result.revocations.state, FANLIC_REVOCATIONS_REFUSED, "{}", v.name);
            assert_eq!(Some(c.text(c.result.revocations.reason).to_owned()), e.error, "{}", v.name);
            assert_eq!(error_name(c.result.revocations.error), c.text(c.result.revocations.reason));
            assert!(c.text(c.result.revocations.detail).starts_with("revocation list refused: "), "{}", v.name);
            assert_eq!((c.result.valid, c.result.cause_count, c.result.has_license), (0, 0, 0), "{}", v.name);
        }
    }
}

fn error_name(code: u32) -> String {
    let mut buf = [0u8; 64];
    let mut len = 0;
    // SAFETY: a 64-byte buffer and a usize on the stack.
    let s = unsafe { fanlic_revocation_error_name(code, buf.as_mut_ptr(), buf.len(), &mut len) };
    assert_eq!(s, FanlicStatus::Ok, "code {code}");
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

/// The arguments of one raw call, each replaceable.
#[derive(Clone, Copy)]
struct Raw {
    license: *const u8,
    license_len: usize,
    roots: *const [u8; 32],
    root_count: usize,
    env: *const FanlicEnvironment,
    list: *const u8,
    list_len: usize,
    highest: *const u64,
    lang: u32,
    result: *mut FanlicLicenseResult,
    text: *mut u8,
    cap: usize,
}

impl Raw {
    /// # Safety
    /// As `fanlic_license_verify`.
    unsafe fn run(self) -> FanlicStatus {
        // SAFETY: passed on.
        unsafe {
            fanlic_license_verify(
                self.license,
                self.license_len,
                self.roots,
                self.root_count,
                self.env,
                self.list,
                self.list_len,
                self.highest,
                self.lang,
                self.result,
                self.text,
                self.cap,
            )
        }
    }
}

#[test]
#[allow(clippy::multiple_unsafe_ops_per_block)]
fn bad_arguments_are_refused_with_their_status() {
    let license = fixture("vectors/valid-local-container.lic");
    let list = fixture("vectors/revocations/valid-empty.bin");
    let roots = [root("root-a")];
    let env = Env::webroot();
    let c_env = env.c();
    let highest = 0u64;
    let mut result = FanlicLicenseResult::default();
    let mut text = vec![0u8; 4096];
    let ok = Raw {
        license: license.as_ptr(),
        license_len: license.len(),
        roots: roots.as_ptr(),
        root_count: 1,
        env: &c_env,
        list: list.as_ptr(),
        list_len: list.len(),
        highest: &highest,
        lang: FANLIC_LANG_EN,
        result: &mut result,
        text: text.as_mut_ptr(),
        cap: text.len(),
    };
    // A pointer that must never be read: dangling, not null.
    let dangling = ptr::NonNull::<u8>::dangling().as_ptr();
    let weak = {
        // The identity point: a small-order key, refused by the verifier.
        let mut k = [0u8; 32];
        k[0] = 1;
        [k]
    };
    let nine = [root("root-a"); 9];
    let mut bad_utf8 = env.c();
    bad_utf8.project = b"\xffweb".as_ptr();
    bad_utf8.project_len = 4;
    let mut null_app = env.c();
    null_app.app_name = ptr::null();
    let mut huge_version = env.c();
    huge_version.version = dangling;
    huge_version.version_len = usize::MAX;
    let mut bad_method = env.c();
    bad_method.method = 3;
    let huge = isize::MAX as usize + 1;
    let cases: Vec<(&str, Raw, FanlicStatus)> = vec![
        ("valid", ok, FanlicStatus::Ok),
        ("null license", Raw { license: ptr::null(), ..ok }, FanlicStatus::NullPointer),
        ("null roots", Raw { roots: ptr::null(), ..ok }, FanlicStatus::NullPointer),
        ("null env", Raw { env: ptr::null(), ..ok }, FanlicStatus::NullPointer),
        ("null env text", Raw { env: &null_app, ..ok }, FanlicStatus::NullPointer),
        ("null list, length 5", Raw { list: ptr::null(), list_len: 5, ..ok }, FanlicStatus::NullPointer),
        ("null result", Raw { result: ptr::null_mut(), ..ok }, FanlicStatus::NullPointer),
        ("null text, cap 9", Raw { text: ptr::null_mut(), cap: 9, ..ok }, FanlicStatus::NullPointer),
        ("license len > isize::MAX", Raw { license: dangling, license_len: huge, ..ok }, FanlicStatus::BadLength),
        ("list len > isize::MAX", Raw { list: dangling, list_len: huge, ..ok }, FanlicStatus::BadLength),
        ("text cap > isize::MAX", Raw { text: dangling, cap: usize::MAX, ..ok }, FanlicStatus::BadLength),
        ("env text len > isize::MAX", Raw { env: &huge_version, ..ok }, FanlicStatus::BadLength),
        ("env text not UTF-8", Raw { env: &bad_utf8, ..ok }, FanlicStatus::NotUtf8),
        ("unknown method", Raw { env: &bad_method, ..ok }, FanlicStatus::BadArgument),
        ("unknown lang", Raw { lang: 2, ..ok }, FanlicStatus::BadArgument),
        ("zero roots", Raw { root_count: 0, ..ok }, FanlicStatus::BadArgument),
        ("nine roots", Raw { roots: nine.as_ptr(), root_count: 9, ..ok }, FanlicStatus::BadArgument),
        ("a weak root key", Raw { roots: weak.as_ptr(), ..ok }, FanlicStatus::BadArgument),
        // A non-null list of length 0 is an empty file, refused as one.
        ("empty list", Raw { list_len: 0, ..ok }, FanlicStatus::BadArgument),
        ("no list", Raw { list: ptr::null(), list_len: 0, highest: ptr::null(), ..ok }, FanlicStatus::Ok),
        // Null and length 0 is the empty file: content incorrect.
        ("empty license", Raw { license: ptr::null(), license_len: 0, ..ok }, FanlicStatus::Invalid),
        ("no text buffer", Raw { text: ptr::null_mut(), cap: 0, ..ok }, FanlicStatus::BufferTooSmall),
    ];
    for (name, raw, expected) in cases {
        // SAFETY: every pointer is null, dangling with a length refused
        // before any read, or live memory of the length given.
        let status = unsafe { raw.run() };
        assert_eq!(status, expected, "{name}");
    }
    // The empty list is refused as a file, with its reason.
    // SAFETY: live memory.
    let s = unsafe { Raw { list_len: 0, ..ok }.run() };
    assert_eq!(s, FanlicStatus::BadArgument);
    assert_eq!(
        (result.revocations.state, result.revocations.error),
        (FANLIC_REVOCATIONS_REFUSED, FANLIC_REVOCATION_ERROR_UNKNOWN_FORMAT)
    );
    // Unknown codes have no name.
    let mut len = 7;
    let mut buf = [0u8; 8];
    // SAFETY: an 8-byte buffer and a usize.
    unsafe {
        assert_eq!(fanlic_cause_name(11, buf.as_mut_ptr(), 8, &mut len), FanlicStatus::BadArgument);
        assert_eq!(fanlic_cause_name(1, buf.as_mut_ptr(), 8, ptr::null_mut()), FanlicStatus::NullPointer);
        assert_eq!(fanlic_cause_name(1, buf.as_mut_ptr(), 8, &mut len), FanlicStatus::BufferTooSmall);
        assert_eq!(len, "license_expired".len());
        assert_eq!(fanlic_revocation_error_name(0, buf.as_mut_ptr(), 8, &mut len), FanlicStatus::BadArgument);
        let mut r = FanlicRevocationsResult::default();
        assert_eq!(
            fanlic_revocations_verify(ptr::null(), 3, roots.as_ptr(), 1, ptr::null(), &mut r),
            FanlicStatus::NullPointer
        );
        assert_eq!(
            fanlic_revocations_verify(list.as_ptr(), list.len(), roots.as_ptr(), 1, ptr::null(), ptr::null_mut()),
            FanlicStatus::NullPointer
        );
        assert_eq!(
            fanlic_revocations_verify(list.as_ptr(), list.len(), roots.as_ptr(), 0, ptr::null(), &mut r),
            FanlicStatus::BadArgument
        );
        assert_eq!(
            fanlic_revocations_verify(dangling, huge, roots.as_ptr(), 1, ptr::null(), &mut r),
            FanlicStatus::BadLength
        );
    }
}

#[test]
fn a_text_buffer_too_small_says_how_big_and_the_second_call_succeeds() {
    let license = fixture("vectors/all-causes.lic");
    let roots = [root("root-a")];
    let env = Env {
        app_name: "FineBI".into(),
        version: "10.0".into(),
        project: "other".into(),
        nodes: 3,
        method: FANLIC_METHOD_PRIVATE_CLOUD,
        now: 1_780_272_000,
        last_seen: Some(1_782_864_000),
    };
    for &lang in langs() {
        let probe = call_with(&license, &roots, &env, None, None, lang, 0);
        assert_eq!(probe.status, FanlicStatus::BufferTooSmall);
        let needed = probe.result.text_len;
        assert!(needed > 1000, "eight causes' texts: {needed}");
        // The numbers are there already; only the texts are missing.
        assert_eq!((probe.result.cause_count, probe.result.has_license), (8, 1));
        let short = call_with(&license, &roots, &env, None, None, lang, needed - 1);
        assert_eq!((short.status, short.result.text_len), (FanlicStatus::BufferTooSmall, needed));
        let exact = call_with(&license, &roots, &env, None, None, lang, needed);
        assert_eq!((exact.status, exact.result.text_len), (FanlicStatus::Invalid, needed));
        let roomy = call_with(&license, &roots, &env, None, None, lang, needed + 100);
        assert_eq!(roomy.result, exact.result, "the same result whatever the room");
        assert_eq!(roomy.text[..needed], exact.text[..], "the same texts");
        assert_eq!(
            exact.codes(),
            [
                "license_expired",
                "version_mismatch",
                "app_name_mismatch",
                "license_exhausted",
                "project_content_mismatch",
                "license_type_mismatch",
                "not_yet_valid",
                "clock_rollback"
            ]
        );
        assert_same_as_the_verifier("all-causes", &exact, &license, &roots, &env, lang);
    }
}

#[test]
fn a_list_older_than_the_highest_seen_is_refused_as_a_rollback() {
    let license = fixture("vectors/valid-local-container.lic");
    let list = fixture("vectors/revocations/valid.bin");
    let roots = [root("root-a")];
    let c = call(&license, &roots, &Env::webroot(), Some(&list), Some(8), FANLIC_LANG_EN);
    assert_eq!(c.status, FanlicStatus::BadArgument);
    assert_eq!(
        (c.result.revocations.state, c.result.revocations.error, c.result.revocations.sequence),
        (FANLIC_REVOCATIONS_REFUSED, FANLIC_REVOCATION_ERROR_ROLLBACK, 7)
    );
    assert_eq!(c.text(c.result.revocations.reason), "rollback");
    let c = call(&license, &roots, &Env::webroot(), Some(&list), Some(7), FANLIC_LANG_ZH_CN);
    assert_eq!((c.status, c.result.revocations.sequence), (FanlicStatus::Invalid, 7));
    assert_eq!(c.text(c.result.causes[0].title), "许可证内容不正确");
}

fn cases() -> u32 {
    if cfg!(miri) { 3 } else { 256 }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Truncated and mutated licenses, random text capacities, methods and
    /// languages: always an answer or a defined error, never a panic.
    #[test]
    fn mutated_licenses_never_panic(
        cut in 0usize..2200,
        flips in proptest::collection::vec((0usize..2200, any::<u8>()), 0..4),
        cap in 0usize..3000,
        method in 0u32..4,
        lang in 0u32..3,
        raw in any::<bool>(),
        nodes in any::<u32>(),
    ) {
        let mut license = fixture(if raw { "vectors/valid-raw.bin" } else { "vectors/valid-all-optional-fields.lic" });
        for (at, x) in flips {
            let n = license.len();
            license[at % n] ^= x;
        }
        license.truncate(cut);
        let env = Env { method, nodes, ..Env::webroot() };
        let c = call_with(&license, &[root("root-a")], &env, None, None, lang, cap);
        let defined = match c.status {
            FanlicStatus::Ok | FanlicStatus::Invalid => lang < 2 && (1..=2).contains(&method) && c.result.text_len <= cap,
            FanlicStatus::BufferTooSmall => c.result.text_len > cap,
            FanlicStatus::BadArgument => lang >= 2 || !(1..=2).contains(&method),
            _ => false,
        };
        prop_assert!(defined, "status {:?}, text_len {}, cap {cap}", c.status, c.result.text_len);
        prop_assert!(c.result.cause_count as usize <= FANLIC_MAX_CAUSES);
        prop_assert_eq!(c.result.valid == 1, c.status == FanlicStatus::Ok || (c.status == FanlicStatus::BufferTooSmall && c.result.cause_count == 0));
    }

    /// Random bytes as a revocation list, with and without a license.
    #[test]
    fn random_revocation_lists_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..600),
        cut in 0usize..2000,
        highest in proptest::option::of(any::<u64>()),
    ) {
        let mut list = fixture("vectors/revocations/valid.bin");
        list.truncate(cut);
        for (i, b) in bytes.iter().enumerate().take(8) {
            if !list.is_empty() {
                let n = list.len();
                list[(i * 97 + usize::from(*b)) % n] ^= b;
            }
        }
        let mut r = FanlicRevocationsResult::default();
        let h = highest.unwrap_or(0);
        let roots = [root("root-a")];
        for l in [&list, &bytes] {
            // SAFETY: live memory of the lengths given.
            let s = unsafe {
                fanlic_revocations_verify(l.as_ptr(), l.len(), roots.as_ptr(), 1,
                    if highest.is_some() { &h } else { ptr::null() }, &mut r)
            };
            prop_assert!(matches!(s, FanlicStatus::Ok | FanlicStatus::Invalid), "{s:?}");
            prop_assert_eq!(s == FanlicStatus::Ok, r.accepted == 1);
            let c = call(&fixture("vectors/valid-local-container.lic"), &roots, &Env::webroot(), Some(l), highest, FANLIC_LANG_EN);
            prop_assert!(matches!(c.status, FanlicStatus::Ok | FanlicStatus::Invalid | FanlicStatus::BadArgument), "{:?}", c.status);
        }
    }
}
