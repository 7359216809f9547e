//! The C examples, compiled with the system's `cc` (C11, `-Wall -Wextra
//! -Werror -pedantic`) against the header and the static library this test
//! build made, and run (under Valgrind memcheck for one case of each kind:
//! zero errors, no definite leak): `examples/product.c` prints exactly the
//! golden output of each
//! case of `tests/expected/cases.txt` (which `fanlic verify` prints too:
//! issuer/tests/it/ffi_golden.rs). `FANLIC_BLESS=1` writes the golden files
//! from the C example's output instead.

// cc and Valgrind are processes: nothing for Miri to check.
#![cfg(not(miri))]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn repo() -> PathBuf {
    crate_dir().join("..")
}

/// A tool on PATH, or a failure that says which Debian package brings it.
fn require(tool: &str, package: &str) {
    let found = Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "`{tool}` is not installed: the C example test needs it (Debian: apt-get install {package})");
}

/// The static library cargo built for this test run: in the test binary's
/// own folder (target/debug/deps).
fn staticlib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let lib = exe.parent().unwrap().join("libfanlic_verifier_ffi.a");
    assert!(lib.exists(), "{} is missing: cargo builds it with the tests (crate-type staticlib)", lib.display());
    lib
}

/// `examples/NAME.c` compiled once per test run; the executable's path.
fn compiled(name: &'static str) -> PathBuf {
    static PRODUCT: OnceLock<PathBuf> = OnceLock::new();
    static MINIMAL: OnceLock<PathBuf> = OnceLock::new();
    let cell = if name == "product" { &PRODUCT } else { &MINIMAL };
    cell.get_or_init(|| {
        require("cc", "gcc (or build-essential)");
        let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-examples");
        std::fs::create_dir_all(&out_dir).unwrap();
        let exe = out_dir.join(name);
        let out = Command::new("cc")
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1", "-I"])
            .arg(crate_dir().join("include"))
            .arg(crate_dir().join("examples").join(format!("{name}.c")))
            .arg(staticlib())
            .args(["-lpthread", "-ldl", "-lm", "-o"])
            .arg(&exe)
            .output()
            .unwrap();
        assert!(out.status.success(), "cc failed on examples/{name}.c:\n{}", String::from_utf8_lossy(&out.stderr));
        exe
    })
    .clone()
}

/// `exe args` from the repository root, under Valgrind memcheck when
/// `memcheck`; fails on any memcheck error or definite leak (exit 99).
fn run(exe: &Path, args: &[&str], memcheck: bool) -> Output {
    let mut cmd = if memcheck {
        require("valgrind", "valgrind");
        let mut c = Command::new("valgrind");
        c.args(["-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    let out = cmd.args(args).current_dir(repo()).output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(99),
        "Valgrind memcheck found errors running {} {}:\n{}",
        exe.display(),
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The cases run under Valgrind: each kind of output once (valid, every
/// cause, content incorrect, revoked, a refused list; English and Chinese).
/// A signature check of this debug build takes seconds under memcheck, so
/// the other cases run natively, against the same golden files.
const UNDER_VALGRIND: [&str; 7] = [
    "valid-en",
    "valid-zh-CN",
    "all-causes-en",
    "all-causes-zh-CN",
    "content-incorrect-truncated-zh-CN",
    "revoked-license-en",
    "revocations-refused",
];

/// One line of `tests/expected/cases.txt`.
pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) exit: i32,
    pub(crate) args: Vec<String>,
}

pub(crate) fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(crate_dir().join("tests/expected/cases.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_owned);
            let name = words.next().unwrap();
            let exit = words.next().unwrap().parse().unwrap();
            Case { name, exit, args: words.collect() }
        })
        .collect()
}

#[test]
fn product_c_prints_what_fanlic_verify_prints_under_valgrind() {
    let exe = compiled("product");
    let cases = cases();
    assert!(cases.len() >= 10, "the cases lost lines");
    let bless = std::env::var_os("FANLIC_BLESS").is_some();
    for name in UNDER_VALGRIND {
        assert!(cases.iter().any(|c| c.name == name), "cases.txt lost {name}");
    }
    // In parallel: each run is a process of its own, mostly waiting on
    // Valgrind's CPU.
    let outputs: Vec<Output> = std::thread::scope(|s| {
        let runs: Vec<_> = cases
            .iter()
            .map(|case| {
                let exe = &exe;
                s.spawn(move || {
                    let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
                    run(exe, &args, UNDER_VALGRIND.contains(&case.name.as_str()))
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (case, out) in cases.iter().zip(outputs) {
        let golden = crate_dir().join("tests/expected").join(format!("{}.txt", case.name));
        if bless {
            std::fs::write(&golden, &out.stdout).unwrap();
        }
        let expected = std::fs::read(&golden).unwrap_or_default();
        if out.stdout != expected || out.status.code() != Some(case.exit) {
            failures.push(format!(
                "{}: exit {:?} (expected {}), stdout:\n{}\nexpected ({}):\n{}\nstderr:\n{}",
                case.name,
                out.status.code(),
                case.exit,
                String::from_utf8_lossy(&out.stdout),
                golden.display(),
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&out.stderr),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn product_c_refuses_bad_usage_with_exit_2() {
    let exe = compiled("product");
    let lic = "fixtures/vectors/valid-local-container.lic";
    let root = "fixtures/keys/root-a.pub.raw";
    let base = [lic, "--root-key", root, "--app", "FineReport", "--version", "11.0", "--project", "webroot"];
    for extra in [
        &["--lang", "fr"][..],
        &["--method", "cloud"],
        &["--now", "2026-02-30T00:00:00Z"],
        &["--nodes", "0"],
        &["--root-key", "fixtures/keys/root-a.pub.pem"],
        &["--unknown", "x"],
    ] {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        // The first under Valgrind: a usage error frees what it read too.
        let out = run(&exe, &args, extra[0] == "--lang");
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty(), "{extra:?} printed on stdout");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "), "{extra:?}: says why");
    }
}

#[test]
fn minimal_c_prints_each_cause_code_and_title_under_valgrind() {
    let root = "fixtures/keys/root-a.pub.raw";
    let minimal = compiled("minimal");
    let out = run(&minimal, &["fixtures/vectors/bad-license-signature.lic", root], true);
    assert_eq!(
        (out.status.code(), out.stdout.as_slice()),
        (Some(1), &b"content_incorrect: License content is incorrect\n"[..])
    );
    // all-causes.lic expired on 2026-03-31 and its not_before has passed;
    // the rest of it matches minimal.c's environment.
    let out = run(&minimal, &["fixtures/vectors/all-causes.lic", root], false);
    assert_eq!((out.status.code(), out.stdout.as_slice()), (Some(1), &b"license_expired: License Expired\n"[..]));
    let out = run(&minimal, &[], false);
    assert_eq!(out.status.code(), Some(2));
}

/// The size and alignment of every `#[repr(C)]` struct of the crate, by its
/// C name.
fn rust_layouts() -> Vec<(&'static str, usize, usize)> {
    use core::mem::{align_of, size_of};
    use fanlic_verifier_ffi::{activation::*, license::*, private_cloud::*, receipt::*, revocation::*, *};
    macro_rules! layouts {
        ($($c:literal => $t:ty),* $(,)?) => { vec![$(($c, size_of::<$t>(), align_of::<$t>())),*] };
    }
    layouts![
        "fanlic_environment" => FanlicEnvironment,
        "fanlic_text" => FanlicText,
        "fanlic_cause" => FanlicCause,
        "fanlic_license_info" => FanlicLicenseInfo,
        "fanlic_revocations_used" => FanlicRevocationsUsed,
        "fanlic_license_result" => FanlicLicenseResult,
        "fanlic_revocations_result" => FanlicRevocationsResult,
        "fanlic_challenge_input" => FanlicChallengeInput,
        "fanlic_challenge_info" => FanlicChallengeInfo,
        "fanlic_enter_result" => FanlicEnterResult,
        "fanlic_activation_status" => FanlicActivationStatus,
        "fanlic_receipt_expect" => FanlicReceiptExpect,
        "fanlic_receipt_result" => FanlicReceiptResult,
        "fanlic_next_action" => FanlicNextAction,
        "fanlic_client_status" => FanlicClientStatus,
        "fanlic_request" => FanlicRequest,
        "fanlic_answer_cause" => FanlicAnswerCause,
        "fanlic_answer_result" => FanlicAnswerResult,
        "fanlic_tls_binding_result" => FanlicTlsBindingResult,
        "fanlic_private_config_info" => FanlicPrivateConfigInfo,
        "fanlic_node_record" => FanlicNodeRecord,
        "fanlic_event" => FanlicEvent,
    ]
}

/// C sees every struct as Rust lays it out: for each `typedef struct {…}
/// name;` of the header, the size and alignment a C compiler computes are
/// Rust's, and a few offsets of the license result too. A struct added to
/// the crate without a line in [`rust_layouts`] fails here.
#[test]
fn the_headers_structs_have_rusts_layout() {
    use core::mem::{offset_of, size_of};
    use fanlic_verifier_ffi::FanlicEnvironment;
    use fanlic_verifier_ffi::license::{FanlicLicenseInfo, FanlicLicenseResult};
    require("cc", "gcc (or build-essential)");
    let header = std::fs::read_to_string(crate_dir().join("include").join("fanlic_verifier.h")).unwrap();
    let structs: Vec<&str> = header
        .lines()
        .filter_map(|l| l.strip_prefix("} ")?.strip_suffix(';'))
        .filter(|n| n.starts_with("fanlic_"))
        .collect();
    let rust = rust_layouts();
    let mut c_lines = String::new();
    let mut expected = String::new();
    for name in &structs {
        let (_, size, align) = rust.iter().find(|(c, ..)| c == name).unwrap_or_else(|| {
            panic!("the header's struct {name} has no line in rust_layouts(): add its Rust type there")
        });
        c_lines.push_str(&format!("    printf(\"{name} %zu %zu\\n\", sizeof({name}), _Alignof({name}));\n"));
        expected.push_str(&format!("{name} {size} {align}\n"));
    }
    assert!(structs.len() >= rust.len(), "rust_layouts() names a struct the header lacks: {structs:?}");
    c_lines.push_str(
        "    printf(\"offsets %zu %zu %zu %zu %zu\\n\", offsetof(fanlic_environment, has_last_seen),\n           \
         offsetof(fanlic_license_info, summary), offsetof(fanlic_license_result, license),\n           \
         offsetof(fanlic_license_result, text_len), sizeof(fanlic_status));\n",
    );
    expected.push_str(&format!(
        "offsets {} {} {} {} {}\n",
        offset_of!(FanlicEnvironment, has_last_seen),
        offset_of!(FanlicLicenseInfo, summary),
        offset_of!(FanlicLicenseResult, license),
        offset_of!(FanlicLicenseResult, text_len),
        size_of::<fanlic_verifier_ffi::FanlicStatus>(),
    ));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-layout");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("layout.c");
    std::fs::write(
        &src,
        format!(
            "#include <stddef.h>\n#include <stdio.h>\n#include \"fanlic_verifier.h\"\nint main(void) {{\n{c_lines}    return 0;\n}}\n"
        ),
    )
    .unwrap();
    let exe = dir.join("layout");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-I"])
        .arg(crate_dir().join("include"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(out.status.success(), "cc: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&exe).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
}
