//! The registration-mail path of `fanlic-issuer` on arbitrary bytes taken as
//! one raw received message: `mail::message::parse`, then (when it parses)
//! `mail::auth::evaluate_mail[_with]`, `decide::ParsedRequest::of` (so
//! `mail::fields`), `decide::validate_parsed` and
//! `decide::validate_for_approval` against a fixed in-memory registry of
//! three contracts; and `mail::auth::parse_authentication_results` on the
//! raw input's lines and on the parsed trace headers.
//!
//! Besides "never panics", the security properties (a failure is a real bug):
//!
//! 1. An unauthenticated sender (`SenderAuth::None` / `Fail`, evaluated or
//!    forced) never gives `Outcome::Issue`; `None` always holds, `Fail`
//!    always rejects (module docs of `validate`).
//! 2. `Outcome::Issue` only for a single From address that is (normalized)
//!    an address of the contract the plan names, that contract was passed in,
//!    is enabled and current, and the plan keeps to its terms. With the
//!    contracts looked up as `ingest` does (by company, by sender address),
//!    that contract is the one passed as `by_sender`; with arbitrary
//!    combinations, it is `by_company` when given, else `by_sender`.
//! 3. Reject / Hold always carry at least one reason, each with a non-empty
//!    code, message and Chinese message.
//! 4. `reply_allowed` implies an authenticated, single sender.
//! 5. `validate_for_approval` issues exactly when the same request with a
//!    passing sender issues or is held only for `APPROVABLE_HOLDS`, with the
//!    same plan.
//! 6. Sender evaluation: `Pass` / `Fail` only for a trusted authserv-id and a
//!    From domain, backed by a trusted `Authentication-Results` field above
//!    the first (`own_received_lines` + 1) `Received` field that says so for
//!    that domain; no trusted id configured gives `None`; a forged
//!    `Authentication-Results` (trusted id, `dkim=pass` for the From domain)
//!    inserted below the counted `Received` lines changes nothing.
//! 7. Parsed mail: sanitized attachment names (no path separator, no leading
//!    dot, no trailing dot or blank, no control character, at most 200
//!    bytes, non-empty), trace
//!    headers only `Authentication-Results` / `Received`.
#![no_main]

use fanlic_formats::{ActivationPolicy, Date, Expiry, LicenseKind, Timestamp, Version};
use fanlic_issuer::contracts::{self, Contract, ContractTerms};
use fanlic_issuer::mail::{
        auth::{self, AuthMethod, SenderAuth},
        message::{self, MAX_ATTACHMENT_NAME_BYTES, RegistrationMail},
    };
use fanlic_issuer::ingest::decide::{self, APPROVABLE_HOLDS, Decision, Outcome, ParsedRequest};
use libfuzzer_sys::fuzz_target;

const TRUSTED_ID: &str = "mx.vendor.example";

fn date(y: u16, m: u8, d: u8) -> Date {
    Date::new(y, m, d).expect("a real date")
}

fn contract(id: i64, company: &str, emails: &[&str], enabled: bool, updated: u64) -> Contract {
    Contract {
        id,
        terms: ContractTerms {
            company: company.to_owned(),
            emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            signed: date(2026, 11, 20),
            product: "FineReport",
            methods: vec![LicenseKind::LocalContainer],
            max_nodes: 3,
            version: Version { major: 11, minor: 0 },
            expires: Expiry::Never,
            max_licenses: 1,
            activation_policy: ActivationPolicy::Code,
            lease_days: None,
        },
        enabled,
        created_at: Timestamp(0),
        created_by: "fuzz".to_owned(),
        updated_at: Timestamp(updated),
        updated_by: "fuzz".to_owned(),
    }
}

/// The registry: alice@customer.example's contract (enabled), a disabled one
/// that lists the same address, and the Northwind contract of
/// `fixtures/emails/reasons/contracts.csv` (enabled; most seeds are its mails).
fn registry() -> Vec<Contract> {
    vec![
        contract(1, "Customer Example Co., Ltd.", &["alice@customer.example"], true, 10),
        contract(2, "Old Customer Co., Ltd.", &["alice@customer.example", "old@customer.example"], false, 20),
        contract(3, "Northwind Trading Co., Ltd.", &["alice@northwind.example", "it@northwind.example"], true, 5),
    ]
}

/// `contracts::find_by_company` on the registry.
fn find_by_company<'a>(reg: &'a [Contract], name: &str) -> Option<&'a Contract> {
    let key = contracts::company_key(name);
    reg.iter().find(|c| contracts::company_key(&c.terms.company) == key)
}

/// `contracts::find_by_email` on the registry: enabled first, then the most
/// recently changed, then the highest id.
fn find_by_email<'a>(reg: &'a [Contract], addr: &str) -> Option<&'a Contract> {
    let email = contracts::normalize_email("email", addr).ok()?;
    reg.iter().filter(|c| c.terms.emails.contains(&email)).max_by_key(|c| (c.enabled, c.updated_at.0, c.id))
}

/// Address normalization, as `validate` compares them.
fn norm_addr(a: &str) -> String {
    contracts::normalize_email("from", a).unwrap_or_else(|_| a.trim().to_lowercase())
}

/// A domain for comparison, as `auth` documents it: after the last `@`,
/// ASCII lowercase, one trailing dot ignored.
fn norm_domain(d: &str) -> String {
    let d = d.trim();
    let d = d.rsplit_once('@').map_or(d, |(_, dom)| dom);
    let d = d.trim().trim_start_matches('<').trim_end_matches('>');
    d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase()
}

fn now() -> Timestamp {
    date(2026, 11, 22).start()
}

/// Property 6: an independent restatement of the rule for `Pass` / `Fail`.
fn check_auth(mail: &RegistrationMail, trusted: &[String], own: usize, got: &SenderAuth) {
    let _ = format!("{got:?} {:?}", got.code());
    let ids: Vec<String> = trusted.iter().map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()).collect();
    let (method, authserv_id, want) = match got {
        SenderAuth::None { why } => {
            assert!(!why.is_empty());
            assert_eq!(got.code(), Some(auth::CODE_UNAUTHENTICATED));
            return;
        }
        SenderAuth::Pass { method, authserv_id } => (*method, authserv_id, "pass"),
        SenderAuth::Fail { method, authserv_id, .. } => (*method, authserv_id, "fail"),
    };
    assert!(!ids.is_empty(), "{got:?} with no trusted id");
    assert!(ids.contains(&authserv_id.to_ascii_lowercase()), "{got:?}: untrusted authserv-id");
    let from = mail.from_domain().expect("Pass/Fail needs a single From domain");
    let from = norm_domain(from);
    assert!(!from.is_empty());
    let mut received = 0usize;
    let mut backed = false;
    for (name, value) in &mail.trace_headers {
        if name.eq_ignore_ascii_case("received") {
            received += 1;
            if received > own {
                break;
            }
            continue;
        }
        if !name.eq_ignore_ascii_case("authentication-results") {
            continue;
        }
        let Ok(ar) = auth::parse_authentication_results(value) else { continue };
        if !ar.authserv_id.eq_ignore_ascii_case(authserv_id) {
            continue;
        }
        for r in &ar.results {
            if r.method != method.as_str() || r.result != want {
                continue;
            }
            let subject = match method {
                AuthMethod::Dkim => r.prop("header", "d"),
                AuthMethod::Dmarc => r.prop("header", "from"),
            };
            match subject {
                Some(s) if norm_domain(s) == from => backed = true,
                None if want == "fail" && method == AuthMethod::Dmarc => backed = true,
                _ => {}
            }
        }
    }
    assert!(backed, "{got:?} not backed by a trusted Authentication-Results above Received #{}", own + 1);
}

/// Property 6, forged results: a trusted `dkim=pass` for the From domain
/// inserted right below the last counted `Received` field changes nothing.
fn check_forgery(mail: &RegistrationMail, trusted: &[String], own: usize, got: &SenderAuth) {
    let Some(domain) = mail.from_domain() else { return };
    let mut seen = 0usize;
    let Some(at) = mail.trace_headers.iter().position(|(n, _)| {
        if n.eq_ignore_ascii_case("received") {
            seen += 1;
        }
        seen > own
    }) else {
        return;
    };
    let mut forged = mail.trace_headers.clone();
    let value = format!("{TRUSTED_ID}; dkim=pass header.d={domain}; dmarc=pass header.from={domain}");
    forged.insert(at + 1, ("Authentication-Results".to_owned(), value));
    let again = auth::evaluate_with(&forged, domain, trusted, own);
    assert_eq!(&again, got, "a forged Authentication-Results below Received #{} counted", own + 1);
}

/// Properties 1-4 for one decision.
fn check_decision(
    (mail, d): (&RegistrationMail, &Decision),
    sender_auth: &SenderAuth,
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    (realistic, approval): (bool, bool),
) {
    let _ = (d.kind(), d.codes(), format!("{d:?}"));
    let ctx = || {
        format!(
            "auth={sender_auth:?} by_company={:?} by_sender={:?} realistic={realistic} approval={approval}",
            by_company.map(|c| c.id),
            by_sender.map(|c| c.id)
        )
    };
    if !approval {
        match sender_auth {
            SenderAuth::None { .. } => {
                assert!(matches!(d.outcome, Outcome::Hold(_)), "unauthenticated not held: {d:?} {}", ctx())
            }
            SenderAuth::Fail { .. } => {
                assert!(matches!(d.outcome, Outcome::Reject(_)), "failed auth not rejected: {d:?} {}", ctx())
            }
            SenderAuth::Pass { .. } => {}
        }
    }
    // (4) reply only to an authenticated single sender.
    if d.reply_allowed {
        assert!(approval || sender_auth.is_pass(), "reply allowed for {sender_auth:?}");
        assert!(mail.single_from().is_some(), "reply allowed without a single From");
    }
    match &d.outcome {
        Outcome::Issue(plan) => {
            // (1)
            assert!(approval || sender_auth.is_pass(), "Issue for {sender_auth:?}: {}", ctx());
            // (2)
            let sender = mail.single_from().unwrap_or_else(|| panic!("Issue without a single From: {}", ctx()));
            let sender = norm_addr(sender);
            assert_eq!(plan.sender, sender);
            let c =
                [by_company, by_sender].into_iter().flatten().find(|c| c.id == plan.contract_id).unwrap_or_else(|| {
                    panic!("Issue under contract {} that was not passed: {}", plan.contract_id, ctx())
                });
            assert!(c.enabled, "Issue under a disabled contract: {}", ctx());
            assert!(!c.is_expired_at(now()), "Issue under an expired contract");
            assert!(
                c.terms.emails.iter().any(|e| norm_addr(e) == sender),
                "Issue for {sender}, not an address of contract {}: {}",
                c.id,
                ctx()
            );
            match by_company {
                Some(bc) => assert_eq!(bc.id, c.id, "Issue not under the named company's contract: {}", ctx()),
                None => assert_eq!(by_sender.map(|b| b.id), Some(c.id), "{}", ctx()),
            }
            if realistic {
                let bs = by_sender.unwrap_or_else(|| panic!("Issue with no contract for the sender: {}", ctx()));
                assert_eq!(bs.id, c.id, "Issue under another contract than the sender's: {}", ctx());
                assert!(bs.enabled);
            }
            assert!(c.allows(plan.kind) && plan.kind == LicenseKind::LocalContainer, "{plan:?}");
            assert!(plan.nodes >= 1 && plan.nodes <= c.terms.max_nodes, "{plan:?}");
            assert_eq!(plan.company, c.terms.company);
            assert_eq!(plan.app, c.terms.product);
            assert_eq!(plan.version, c.terms.version);
            assert_eq!(plan.expiry, c.terms.expires);
            assert_eq!(plan.signed, c.terms.signed);
            assert!(!plan.project.is_empty());
            assert_eq!(plan.request_sha256, mail.raw_sha256_hex());
            assert_eq!(plan.dedup_key, mail.dedup_key);
        }
        // (3)
        Outcome::Reject(reasons) | Outcome::Hold(reasons) => {
            assert!(!reasons.is_empty(), "{} without a reason: {}", d.kind(), ctx());
            for r in reasons {
                assert!(!r.code.as_str().is_empty(), "empty code: {r:?}");
                assert!(!r.message.trim().is_empty(), "empty message: {r:?}");
                assert!(!r.message_zh.trim().is_empty(), "empty Chinese message: {r:?}");
            }
        }
    }
}

/// One combination of contracts, with the evaluated and forced sender
/// authentications, and the approval path (property 5).
fn run_combo(
    mail: &RegistrationMail,
    parsed: &ParsedRequest,
    auths: &[SenderAuth],
    (by_company, by_sender): (Option<&Contract>, Option<&Contract>),
    realistic: bool,
) {
    let mut passing: Option<Decision> = None;
    for a in auths {
        let d = decide::validate_parsed(mail, parsed, a, by_company, by_sender, now());
        check_decision((mail, &d), a, (by_company, by_sender), (realistic, false));
        if a.is_pass() && passing.is_none() {
            passing = Some(d);
        }
    }
    let approved = decide::validate_for_approval(mail, parsed, (by_company, by_sender), now(), "staff", None);
    let staff_checked = SenderAuth::None { why: String::new() };
    check_decision((mail, &approved), &staff_checked, (by_company, by_sender), (realistic, true));
    if let Some(p) = passing {
        let should_issue = match &p.outcome {
            Outcome::Issue(_) => true,
            Outcome::Hold(r) => r.iter().all(|r| APPROVABLE_HOLDS.contains(&r.code)),
            Outcome::Reject(_) => false,
        };
        match (&approved.outcome, &p.outcome) {
            (Outcome::Issue(a), Outcome::Issue(b)) => assert_eq!(a, b),
            (Outcome::Issue(_), _) => assert!(should_issue, "approval issues what a passing sender cannot: {p:?}"),
            (_, Outcome::Issue(_)) => panic!("approval refuses what a passing sender gets: {approved:?}"),
            _ => {}
        }
    }
}

fn fuzz_auth_results(value: &str) {
    match auth::parse_authentication_results(value) {
        Ok(ar) => {
            assert!(!ar.authserv_id.is_empty());
            for r in &ar.results {
                assert!(!r.method.is_empty() && !r.result.is_empty());
                assert_eq!(r.method, r.method.to_ascii_lowercase());
                assert_eq!(r.result, r.result.to_ascii_lowercase());
                for p in &r.props {
                    assert!(!p.ptype.is_empty() && !p.property.is_empty());
                }
            }
            let _ = format!("{ar:?}");
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // parse_authentication_results on the raw input: each line (a header
    // name before a colon stripped), and the whole input.
    let text = String::from_utf8_lossy(data);
    if text.len() <= 4096 {
        fuzz_auth_results(&text);
    }
    for line in text.lines().take(64) {
        let value = line
            .split_once(':')
            .filter(|(n, _)| n.eq_ignore_ascii_case("authentication-results"))
            .map_or(line, |(_, v)| v);
        fuzz_auth_results(value);
    }

    let mail = match message::parse(data) {
        Ok(m) => m,
        Err(e) => {
            let _ = (e.code(), format!("{e}"));
            check_decision_unparseable(&e);
            return;
        }
    };

    // Property 7.
    assert!(!mail.dedup_key.is_empty());
    for a in &mail.attachments {
        let n = &a.name;
        assert!(!n.is_empty() && n.len() <= MAX_ATTACHMENT_NAME_BYTES, "{a:?}");
        assert!(!n.contains(['/', '\\']) && !n.starts_with('.') && !n.chars().any(char::is_control), "{a:?}");
        assert!(!n.ends_with(|c: char| c == '.' || c.is_whitespace()), "{a:?}");
    }
    for (name, value) in &mail.trace_headers {
        assert!(name == "Authentication-Results" || name == "Received", "trace header {name:?}");
        if name == "Authentication-Results" {
            fuzz_auth_results(value);
        }
    }
    let _ = (mail.single_from(), mail.from_domain(), mail.language_hint.as_str());

    // Sender evaluation.
    let trusted = vec![TRUSTED_ID.to_owned()];
    let evaluated = auth::evaluate_mail(&mail, &trusted);
    check_auth(&mail, &trusted, 0, &evaluated);
    check_forgery(&mail, &trusted, 0, &evaluated);
    let variants: [(Vec<String>, usize); 4] = [
        (trusted.clone(), 1),
        (vec!["  MX.Vendor.EXAMPLE ".to_owned(), "relay.vendor.example".to_owned()], 0),
        (trusted.clone(), 2),
        (vec![String::new(), "  ".to_owned()], 0),
    ];
    let (t, own) = &variants[usize::from(mail.raw_sha256[0]) % variants.len()];
    let other = auth::evaluate_mail_with(&mail, t, *own);
    check_auth(&mail, t, *own, &other);
    check_forgery(&mail, t, *own, &other);
    if t.iter().all(|s| s.trim().is_empty()) {
        assert!(matches!(other, SenderAuth::None { .. }));
    }
    assert_eq!(auth::evaluate_mail(&mail, &[]), auth::evaluate_mail_with(&mail, &[], 0));

    // Validation.
    let parsed = ParsedRequest::of(&mail);
    let named = parsed.company_named();
    let reg = registry();
    let domain = mail.from_domain().unwrap_or("customer.example").to_owned();
    let auths = [
        evaluated,
        other,
        SenderAuth::Pass { method: AuthMethod::Dkim, authserv_id: TRUSTED_ID.to_owned() },
        SenderAuth::None { why: "fuzz".to_owned() },
        SenderAuth::Fail {
            method: AuthMethod::Dmarc,
            authserv_id: TRUSTED_ID.to_owned(),
            detail: format!("dmarc=fail header.from={domain}"),
        },
    ];
    // As ingest looks them up.
    let by_company = named.as_deref().and_then(|n| find_by_company(&reg, n));
    let by_sender = mail.single_from().and_then(|a| find_by_email(&reg, a));
    run_combo(&mail, &parsed, &auths, (by_company, by_sender), true);
    // Two arbitrary combinations (None, each contract), picked by the hash.
    let pick = |b: u8| -> Option<&Contract> { reg.get(usize::from(b) % (reg.len() + 1)) };
    for i in [1usize, 3] {
        let combo = (pick(mail.raw_sha256[i]), pick(mail.raw_sha256[i + 1]));
        run_combo(&mail, &parsed, &auths[2..], combo, false);
    }
});

fn check_decision_unparseable(e: &message::MailError) {
    let d = decide::unparseable(e);
    assert!(!d.reply_allowed);
    assert!(
        matches!(&d.outcome, Outcome::Reject(r) if r.len() == 1 && !r[0].code.as_str().is_empty() && !r[0].message.is_empty())
    );
}
