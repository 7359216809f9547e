//! The texts people read about each cause, in every language: the product's
//! title, a prompt with the values that failed (dates as YYYY/MM/DD), and
//! advice. The causes come from the real verifier on the TEST-ONLY vectors
//! (`fixtures/vectors/`), every one of the ten, and every reason of
//! `content_incorrect` the vectors have.

use core::fmt::{self, Write as _};

use fanlic_formats::{Expiry, LicenseKind, MAX_LICENSE_FILE_LEN, Timestamp};
use fanlic_verifier::{
    Cause, ContentError, Environment, Lang, RootKey, ShownDate, ShownTime, content_incorrect_title, verify,
    verify_revocations, verify_with_revocations,
};

const ROOT_A: &[u8; 32] = include_bytes!("../../../fixtures/keys/root-a.pub.raw");
const ROOT_B: &[u8; 32] = include_bytes!("../../../fixtures/keys/root-b.pub.raw");
const REVOCATIONS: &[u8] = include_bytes!("../../../fixtures/vectors/revocations/valid.bin");

const JUNE_2026: Timestamp = Timestamp(1_780_272_000); // 2026-06-01T00:00:00Z

fn env() -> Environment<'static> {
    Environment {
        app_name: "FineReport",
        version: "11.0",
        project: "webroot",
        nodes: 1,
        method: LicenseKind::LocalContainer,
        now: JUNE_2026,
        last_seen: None,
    }
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../fixtures/vectors/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every cause of `file` under `env`, with the license's expiry if it holds.
fn causes_of(file: &str, env: &Environment<'_>, roots: &[RootKey]) -> Vec<(Cause<'static>, Option<Expiry>)> {
    let input: &'static [u8] = Box::leak(vector(file).into_boxed_slice());
    let buf: &'static mut [u8; MAX_LICENSE_FILE_LEN] = Box::leak(Box::new([0u8; MAX_LICENSE_FILE_LEN]));
    let env: Environment<'static> = Environment {
        app_name: Box::leak(env.app_name.to_owned().into_boxed_str()),
        version: Box::leak(env.version.to_owned().into_boxed_str()),
        project: Box::leak(env.project.to_owned().into_boxed_str()),
        ..*env
    };
    let rejection = verify(input, buf, roots, &env).expect_err(file);
    let expiry = rejection.license().map(|l| l.expiry);
    rejection.causes().map(|c| (*c, expiry)).collect()
}

/// One of each of the ten causes, and several `content_incorrect` reasons.
fn every_cause() -> Vec<(Cause<'static>, Option<Expiry>)> {
    let root_a = [RootKey::from_bytes(ROOT_A).unwrap()];
    let mut all = causes_of(
        "all-causes.lic",
        &Environment {
            app_name: "FineBI",
            version: "10.0.7",
            project: "other",
            nodes: 3,
            method: LicenseKind::PrivateCloud,
            now: JUNE_2026,
            last_seen: Some(Timestamp(1_782_864_000)), // 2026-07-01
        },
        &root_a,
    );
    for file in [
        "bad-license-signature.lic",
        "root-b.lic",
        "issuing-key-outside-window.lic",
        "kind-not-certified.lic",
        "unknown-magic.lic",
        "truncated.lic",
        "signed-trailing-byte-in-payload.lic",
    ] {
        all.extend(causes_of(file, &env(), &root_a));
    }
    // Revoked: the list revokes the license (root-a) and the issuing key of
    // root-b.lic.
    let both = [RootKey::from_bytes(ROOT_A).unwrap(), RootKey::from_bytes(ROOT_B).unwrap()];
    let list = verify_revocations(REVOCATIONS, &both, None).unwrap();
    for file in ["valid-local-container.lic", "root-b.lic"] {
        let input: &'static [u8] = Box::leak(vector(file).into_boxed_slice());
        let buf: &'static mut [u8; MAX_LICENSE_FILE_LEN] = Box::leak(Box::new([0u8; MAX_LICENSE_FILE_LEN]));
        let rejection = verify_with_revocations(input, buf, &both, &env(), Some(&list)).expect_err(file);
        all.extend(rejection.causes().map(|c| (*c, None)));
    }
    all
}

fn text(d: impl fmt::Display) -> String {
    d.to_string()
}

#[test]
fn every_cause_has_a_title_prompt_and_advice_in_every_language() {
    let all = every_cause();
    let codes: Vec<&str> = all.iter().map(|(c, _)| c.code()).collect();
    for code in [
        "license_expired",
        "version_mismatch",
        "app_name_mismatch",
        "license_exhausted",
        "project_content_mismatch",
        "license_type_mismatch",
        "not_yet_valid",
        "clock_rollback",
        "revoked",
        "content_incorrect",
    ] {
        assert!(codes.contains(&code), "no {code} among {codes:?}");
    }
    for lang in Lang::ALL {
        for (cause, _) in &all {
            let (title, prompt, advice) = (cause.title(lang), text(cause.prompt(lang)), text(cause.advice(lang)));
            for t in [title, &prompt, &advice] {
                assert!(!t.trim().is_empty(), "{} {lang}: empty text", cause.code());
            }
            let message = text(cause.message(lang));
            assert!(message.starts_with(title) && message.ends_with(&prompt), "{message}");
            // Chinese texts are Chinese; English ones are ASCII (values too, here).
            let han = |s: &str| s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
            match lang {
                Lang::ZhCn => {
                    assert!(han(title) && han(&prompt) && han(&advice), "{}: {prompt} {advice}", cause.code())
                }
                _ => assert!(!han(title) && !han(&prompt) && !han(&advice), "{}: {prompt}", cause.code()),
            }
        }
    }
}

#[test]
fn titles_are_the_products_cause_names() {
    let all = every_cause();
    let title = |code: &str, lang: Lang| all.iter().find(|(c, _)| c.code() == code).unwrap().0.title(lang);
    let expected = [
        ("license_expired", "License Expired", "许可证已过期"),
        ("version_mismatch", "Version Mismatch", "版本不匹配"),
        ("app_name_mismatch", "App Name Mismatch", "应用名称不匹配"),
        ("license_exhausted", "License Exhausted", "许可证节点数已用尽"),
        ("project_content_mismatch", "Project Content Mismatch", "项目内容不匹配"),
        ("license_type_mismatch", "License Type/Version Mismatch", "许可证类型/版本不匹配"),
        ("not_yet_valid", "License content is incorrect", "许可证内容不正确"),
        ("clock_rollback", "License content is incorrect", "许可证内容不正确"),
        ("revoked", "License content is incorrect", "许可证内容不正确"),
        ("content_incorrect", "License content is incorrect", "许可证内容不正确"),
    ];
    for (code, en, zh) in expected {
        assert_eq!(title(code, Lang::En), en);
        assert_eq!(title(code, Lang::ZhCn), zh);
    }
    assert_eq!(content_incorrect_title(Lang::ZhCn), "许可证内容不正确");
}

#[test]
fn prompts_carry_the_values_and_dates_as_year_month_day() {
    for lang in Lang::ALL {
        for (cause, expiry) in every_cause() {
            let prompt = text(cause.prompt(lang));
            let advice = text(cause.advice(lang));
            let has = |v: &str| assert!(prompt.contains(v), "{} {lang}: {v:?} not in {prompt:?}", cause.code());
            // No RFC 3339 dates: the product writes YYYY/MM/DD.
            assert!(!prompt.contains("T00:") && !prompt.contains("Z"), "{prompt}");
            match cause {
                Cause::LicenseExpired { expiry: d, .. } => {
                    assert_eq!(expiry, Some(Expiry::On(d)));
                    let ymd = format!("{:04}/{:02}/{:02}", d.year(), d.month(), d.day());
                    has(&ymd);
                    assert_eq!(text(ShownDate(d)), ymd);
                }
                Cause::VersionMismatch { licensed, local } => {
                    has(&licensed.to_string());
                    has(local);
                    // Advice: ask for a license of the local major.minor.
                    assert!(advice.contains("10.0") && !advice.contains("10.0.7"), "{advice}");
                }
                Cause::AppNameMismatch { licensed, local } | Cause::ProjectContentMismatch { licensed, local } => {
                    has(licensed);
                    has(local);
                }
                Cause::LicenseExhausted { max_nodes, nodes } => {
                    has(&nodes.to_string());
                    has(&max_nodes.to_string());
                    assert!(advice.contains(&max_nodes.to_string()), "{advice}");
                }
                Cause::LicenseTypeMismatch { licensed, selected } => {
                    has(fanlic_verifier::kind_name(licensed, lang));
                    has(fanlic_verifier::kind_name(selected, lang));
                }
                Cause::NotYetValid { not_before, .. } => has(&text(ShownTime(not_before))),
                Cause::ClockRollback { now, last_seen, .. } => {
                    has("2026/06/01 00:00:00 UTC");
                    has("2026/07/01 00:00:00 UTC");
                    has(&text(ShownTime(now)));
                    has(&text(ShownTime(last_seen)));
                }
                Cause::Revoked { sequence, .. } => {
                    has(&sequence.to_string());
                    has(lang.pick("revoked", "吊销"));
                }
                Cause::ContentIncorrect(e) => {
                    match e {
                        ContentError::BadSignature => has(lang.pick("signature", "签名")),
                        ContentError::UnknownRootKey { root_key_id } => has(&root_key_id.to_string()),
                        ContentError::IssuingKeyOutsideWindow { key_id, issued_at, .. } => {
                            has(&key_id.to_string());
                            has(&text(ShownTime(issued_at)));
                        }
                        ContentError::KindNotCertified { key_id, kind } => {
                            has(&key_id.to_string());
                            has(fanlic_verifier::kind_name(kind, lang));
                        }
                        _ => {}
                    }
                    assert!(advice.contains(lang.pick("license file", "许可证文件")), "{advice}");
                }
                other => panic!("a cause this test does not know: {other:?}"),
            }
        }
    }
}

#[test]
fn revoked_says_what_was_revoked() {
    let revoked: Vec<String> =
        every_cause().iter().filter(|(c, _)| c.code() == "revoked").map(|(c, _)| text(c.message(Lang::En))).collect();
    assert_eq!(revoked.len(), 2, "{revoked:?}");
    assert!(revoked[0].contains("revoked this license (a64444792e16ca284d36031929128036)"), "{revoked:?}");
    assert!(revoked[1].contains("revoked the issuing key that signed this license (2d5100415848fa09)"), "{revoked:?}");
    assert!(revoked.iter().all(|m| m.starts_with("License content is incorrect. ") && m.contains("list 7")));
}

#[test]
fn the_english_display_is_the_english_message() {
    for (cause, _) in every_cause() {
        assert_eq!(cause.to_string(), text(cause.message(Lang::En)));
    }
    let (version, _) = every_cause().into_iter().find(|(c, _)| c.code() == "version_mismatch").unwrap();
    assert_eq!(
        version.to_string(),
        "Version Mismatch. Certified application version: 11.0; local application version: 10.0.7"
    );
}

/// A fixed buffer: what a product without an allocator writes the texts into.
struct Fixed {
    buf: [u8; 512],
    len: usize,
}

impl fmt::Write for Fixed {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).filter(|&e| e <= self.buf.len()).ok_or(fmt::Error)?;
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[test]
fn texts_write_into_a_fixed_buffer() {
    for lang in Lang::ALL {
        for (cause, _) in every_cause() {
            let mut out = Fixed { buf: [0; 512], len: 0 };
            write!(out, "{}\n{}\n{}", cause.title(lang), cause.prompt(lang), cause.advice(lang)).unwrap();
            let written = core::str::from_utf8(&out.buf[..out.len]).unwrap();
            assert_eq!(written.lines().count(), 3, "{written}");
        }
    }
}

#[test]
fn languages_from_tags_and_accept_language() {
    for (tag, lang) in [
        ("en", Some(Lang::En)),
        ("en-US", Some(Lang::En)),
        ("EN-gb", Some(Lang::En)),
        ("zh", Some(Lang::ZhCn)),
        ("zh-CN", Some(Lang::ZhCn)),
        ("zh-Hans", Some(Lang::ZhCn)),
        ("zh-Hans-CN", Some(Lang::ZhCn)),
        ("zh_CN", Some(Lang::ZhCn)),
        (" zh-cn ", Some(Lang::ZhCn)),
        ("fr", None),
        ("", None),
        ("english", None),
    ] {
        assert_eq!(Lang::from_tag(tag), lang, "{tag:?}");
        assert_eq!(tag.parse::<Lang>().ok(), lang, "{tag:?}");
    }
    assert_eq!(Lang::ZhCn.tag(), "zh-CN");
    assert_eq!(Lang::En.to_string(), "en");
    for (header, lang) in [
        ("zh-CN,zh;q=0.9,en;q=0.8", Lang::ZhCn),
        ("en-US,en;q=0.9,zh-CN;q=0.8", Lang::En),
        ("fr-FR, zh;q=0.5, en;q=0.4", Lang::ZhCn),
        ("en;q=0.5, zh-Hans;q=0.7", Lang::ZhCn),
        ("zh;q=0, en;q=0.1", Lang::En),
        ("fr, de", Lang::En),
        ("*", Lang::En),
        ("", Lang::En),
        ("zh;q=abc", Lang::En),
        ("zh;q=1.5", Lang::En),
        ("en;q=0.5,zh;q=0.5", Lang::En),
    ] {
        assert_eq!(Lang::from_accept_language(header), lang, "{header:?}");
    }
}
