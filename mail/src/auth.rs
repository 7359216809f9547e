//! Sender authentication: `Authentication-Results` (RFC 8601) from trusted authserv-ids.
//!
//! # The rule
//!
//! The sender of a registration mail must be authenticated by the vendor's
//! own receiving mail server, which records what it checked in an
//! `Authentication-Results` header field (RFC 8601). [`evaluate`] applies the
//! rule exactly:
//!
//! 1. **Only the topmost block counts.** The header fields are walked from the
//!    top; the `Authentication-Results` fields that come *before the first
//!    `Received` field* are the ones the vendor's receiving MTA prepended (it
//!    must strip copies arriving from outside). Everything at or below the
//!    first `Received` line comes from earlier hops and is ignored: anyone can
//!    write those, e.g. an attacker adding a forged
//!    `Authentication-Results: mx.vendor.example; dkim=pass header.d=customer.example`
//!    below the vendor's `Received` line. Other header fields (DKIM-Signature,
//!    Received-SPF, ARC-*, ...) neither count nor end the block.
//! 2. **Only trusted authserv-ids count.** Within that block a field counts
//!    only when its authserv-id is in the trusted list
//!    (`fanlic init --authserv-id ID`, or the configuration); the comparison
//!    ignores ASCII case. Fields from other authserv-ids, and fields that do
//!    not parse as RFC 8601, are ignored.
//! 3. **Fail wins.** Any `dmarc=fail` whose `header.from` is the From domain
//!    (or that names no `header.from`), or any `dkim=fail` whose `header.d` is
//!    the From domain, gives [`SenderAuth::Fail`] (validation code
//!    `sender_auth_failed`: rejected), even when another result passes: a
//!    trusted server saying the From domain's own check failed is taken at
//!    its word, and a rejected request can be sent again. (RFC 6376 would
//!    let a verifier ignore a broken DKIM signature next to a good one; we
//!    deliberately do not.)
//! 4. **Pass.** Otherwise `dmarc=pass` with `header.from` equal to the From
//!    domain, or `dkim=pass` with `header.d` equal to the From domain, gives
//!    [`SenderAuth::Pass`] (DMARC reported first when both are present).
//! 5. **Otherwise** [`SenderAuth::None`] (validation code
//!    `sender_unauthenticated`): the request is **held**, never issued.
//!
//! Domains are compared **strictly**: ASCII case and one trailing dot are
//! ignored, but a signature by a parent domain (`header.d=example.com` for
//! `From: a@sales.example.com`) or a subdomain does *not* count; there is no
//! organisational-domain (relaxed) alignment, which would need the Public
//! Suffix List. A DKIM result without `header.d` (only `header.i`) does not
//! count either. Internationalized domains are compared as written (no
//! IDNA conversion).
//!
//! **DKIM proves the domain, not the mailbox**: `dkim=pass header.d=customer.example`
//! means a server of `customer.example` sent (or relayed) the message, not that
//! the person in `From` wrote it. Anyone with a mailbox at the domain can
//! send as any other mailbox there. The same holds for DMARC.
//!
//! When the vendor's own chain adds `Received` lines above the authenticating
//! MTA's results (a fetcher, an internal relay), [`evaluate_with`] skips a
//! configured number of them; [`evaluate`] is the rule above (none skipped).
//!
//! Several `From` addresses are the caller's business: [`evaluate_mail`]
//! refuses them (no single From domain → [`SenderAuth::None`]).

use core::fmt;

use crate::message::RegistrationMail;

/// The validation code for [`SenderAuth::None`].
pub const CODE_UNAUTHENTICATED: &str = "sender_unauthenticated";
/// The validation code for [`SenderAuth::Fail`].
pub const CODE_AUTH_FAILED: &str = "sender_auth_failed";

/// One parsed `Authentication-Results` field (RFC 8601 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    /// The authserv-id, as written (compare ignoring ASCII case).
    pub authserv_id: String,
    /// The optional version after the authserv-id.
    pub version: Option<u32>,
    /// The results, in order; empty for `none`.
    pub results: Vec<ResInfo>,
}

/// One `method=result` of an `Authentication-Results` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResInfo {
    /// The method, lowercased (`dkim`, `dmarc`, `spf`, ...).
    pub method: String,
    /// The optional method version (`dkim/1=pass`).
    pub method_version: Option<u32>,
    /// The result, lowercased (`pass`, `fail`, `none`, ...).
    pub result: String,
    /// The `reason=` value, if any.
    pub reason: Option<String>,
    /// The property specifications (`header.d=example.com`), in order.
    pub props: Vec<Prop>,
}

impl ResInfo {
    /// The value of the first property `ptype.property` (names ignore ASCII case).
    pub fn prop(&self, ptype: &str, property: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|p| p.ptype.eq_ignore_ascii_case(ptype) && p.property.eq_ignore_ascii_case(property))
            .map(|p| p.value.as_str())
    }
}

/// A property specification: `ptype.property=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prop {
    /// `smtp`, `header`, `body` or `policy`, lowercased.
    pub ptype: String,
    /// The property (`d`, `i`, `from`, `mailfrom`, ...), lowercased.
    pub property: String,
    /// The value, unquoted, as written.
    pub value: String,
}

/// Why an `Authentication-Results` value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthResError {
    /// The field has no authserv-id.
    #[error("Authentication-Results: missing authserv-id")]
    MissingAuthservId,
    /// A comment was not closed.
    #[error("Authentication-Results: unterminated comment")]
    UnterminatedComment,
    /// A quoted string was not closed.
    #[error("Authentication-Results: unterminated quoted string")]
    UnterminatedQuote,
    /// Something else was found where the syntax expects `expected`.
    #[error("Authentication-Results: expected {expected} at byte {at}")]
    Syntax {
        /// What the syntax expects.
        expected: &'static str,
        /// The byte offset in the value.
        at: usize,
    },
    /// `none` appeared together with results.
    #[error("Authentication-Results: `none` together with results")]
    NoneWithResults,
}

/// Parses the value of an `Authentication-Results` field (after the colon;
/// folding may be present). Comments are skipped, quoted strings unquoted,
/// method, result and property names lowercased. A trailing `;` is accepted.
///
/// # Errors
///
/// [`AuthResError`] when the value does not follow RFC 8601's syntax.
pub fn parse_authentication_results(value: &str) -> Result<AuthResults, AuthResError> {
    let mut p = Parser { s: value, i: 0 };
    p.skip_cfws()?;
    let authserv_id = if p.peek() == Some(b'"') { p.quoted()? } else { p.token().to_owned() };
    if authserv_id.is_empty() {
        return Err(AuthResError::MissingAuthservId);
    }
    p.skip_cfws()?;
    let mut version = None;
    if p.peek().is_some_and(|b| b.is_ascii_digit()) {
        version = Some(p.number()?);
    }
    let mut results = Vec::new();
    let mut none = false;
    loop {
        p.skip_cfws()?;
        match p.peek() {
            None => break,
            Some(b';') => p.i += 1,
            Some(_) => return Err(p.expected("`;`")),
        }
        p.skip_cfws()?;
        if p.peek().is_none() {
            break;
        }
        let method = p.keyword().ok_or_else(|| p.expected("a method"))?.to_ascii_lowercase();
        p.skip_cfws()?;
        if method == "none" && !matches!(p.peek(), Some(b'=' | b'/')) {
            if !results.is_empty() {
                return Err(AuthResError::NoneWithResults);
            }
            none = true;
            continue;
        }
        if none {
            return Err(AuthResError::NoneWithResults);
        }
        let mut method_version = None;
        if p.peek() == Some(b'/') {
            p.i += 1;
            p.skip_cfws()?;
            method_version = Some(p.number()?);
            p.skip_cfws()?;
        }
        p.eat(b'=', "`=` after the method")?;
        p.skip_cfws()?;
        let result = p.keyword().ok_or_else(|| p.expected("a result"))?.to_ascii_lowercase();
        let mut info = ResInfo { method, method_version, result, reason: None, props: Vec::new() };
        loop {
            p.skip_cfws()?;
            if matches!(p.peek(), None | Some(b';')) {
                break;
            }
            let ptype = p.keyword().ok_or_else(|| p.expected("a property type"))?.to_ascii_lowercase();
            p.skip_cfws()?;
            if ptype == "reason" && p.peek() == Some(b'=') {
                p.i += 1;
                p.skip_cfws()?;
                info.reason = Some(p.value()?);
                continue;
            }
            p.eat(b'.', "`.` in a property")?;
            p.skip_cfws()?;
            let property = p.keyword().ok_or_else(|| p.expected("a property name"))?.to_ascii_lowercase();
            p.skip_cfws()?;
            p.eat(b'=', "`=` after the property")?;
            p.skip_cfws()?;
            let value = p.pvalue()?;
            info.props.push(Prop { ptype, property, value });
        }
        results.push(info);
    }
    Ok(AuthResults { authserv_id, version, results })
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn expected(&self, expected: &'static str) -> AuthResError {
        AuthResError::Syntax { expected, at: self.i }
    }

    fn eat(&mut self, b: u8, expected: &'static str) -> Result<(), AuthResError> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.expected(expected))
        }
    }

    /// Skips blanks, line breaks and (nested) comments.
    fn skip_cfws(&mut self) -> Result<(), AuthResError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.i += 1,
                Some(b'(') => self.comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn comment(&mut self) -> Result<(), AuthResError> {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                None => return Err(AuthResError::UnterminatedComment),
                Some(b'\\') => self.i += 2,
                Some(b'(') => {
                    depth += 1;
                    self.i += 1;
                }
                Some(b')') => {
                    self.i += 1;
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Some(_) => self.i += 1,
            }
        }
    }

    /// Bytes from the current position while `keep` holds.
    fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let start = self.i;
        while self.peek().is_some_and(&keep) {
            self.i += 1;
        }
        // `keep` stops only at ASCII bytes or the end, so this is a char boundary.
        self.s.get(start..self.i).unwrap_or("")
    }

    /// RFC 8601 Keyword (letters, digits, `-`; `_` accepted too).
    fn keyword(&mut self) -> Option<&'a str> {
        let k = self.take_while(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        (!k.is_empty()).then_some(k)
    }

    /// A MIME token (RFC 2045): no blanks, controls or tspecials.
    fn token(&mut self) -> &'a str {
        self.take_while(|b| !(b <= b' ' || b == 0x7f || b"()<>@,;:\\\"/[]?=".contains(&b)))
    }

    fn number(&mut self) -> Result<u32, AuthResError> {
        let digits = self.take_while(|b| b.is_ascii_digit());
        digits.parse().map_err(|_| self.expected("a number"))
    }

    fn quoted(&mut self) -> Result<String, AuthResError> {
        self.i += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(AuthResError::UnterminatedQuote),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.i += 1;
                    let escaped = self.peek().ok_or(AuthResError::UnterminatedQuote)?;
                    out.push(escaped);
                    self.i += 1;
                }
                Some(b) => {
                    out.push(b);
                    self.i += 1;
                }
            }
        }
    }

    /// `value` (RFC 2045): a token or a quoted string.
    fn value(&mut self) -> Result<String, AuthResError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let t = self.token();
        if t.is_empty() { Err(self.expected("a value")) } else { Ok(t.to_owned()) }
    }

    /// `pvalue`: a quoted string, or a value / address / domain running to the
    /// next blank, `;` or comment (lenient: base64 signatures contain `=`, `/`).
    fn pvalue(&mut self) -> Result<String, AuthResError> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let v = self.take_while(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b';' | b'(' | b')' | b'"'));
        Ok(v.to_owned())
    }
}

/// The method of an authentication result that [`evaluate`] acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// DKIM (RFC 6376), matched on `header.d`.
    Dkim,
    /// DMARC (RFC 7489), matched on `header.from`.
    Dmarc,
}

impl AuthMethod {
    /// `dkim` or `dmarc`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Dkim => "dkim",
            AuthMethod::Dmarc => "dmarc",
        }
    }
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the trusted `Authentication-Results` say about the From domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SenderAuth {
    /// A trusted server checked the From domain and it passed.
    Pass {
        /// Which check passed.
        method: AuthMethod,
        /// The trusted authserv-id that said so.
        authserv_id: String,
    },
    /// A trusted server checked the From domain and it failed: reject.
    Fail {
        /// Which check failed.
        method: AuthMethod,
        /// The trusted authserv-id that said so.
        authserv_id: String,
        /// The failing result, for people (e.g. `dmarc=fail header.from=x.example`).
        detail: String,
    },
    /// No usable evidence: hold, never issue.
    None {
        /// Why, for people.
        why: String,
    },
}

impl SenderAuth {
    /// `None` for a pass, else the validation code: `sender_auth_failed` or
    /// `sender_unauthenticated`.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            SenderAuth::Pass { .. } => None,
            SenderAuth::Fail { .. } => Some(CODE_AUTH_FAILED),
            SenderAuth::None { .. } => Some(CODE_UNAUTHENTICATED),
        }
    }

    /// Whether the sender's domain is authenticated.
    pub fn is_pass(&self) -> bool {
        matches!(self, SenderAuth::Pass { .. })
    }
}

/// A domain for comparison: trimmed, after the last `@` if any, lowercased,
/// without one trailing dot.
fn norm_domain(d: &str) -> String {
    let d = d.trim();
    let d = d.rsplit_once('@').map_or(d, |(_, dom)| dom);
    let d = d.trim().trim_start_matches('<').trim_end_matches('>');
    d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase()
}

/// Applies the rule of the [module docs](self) to the header fields of one
/// message, in order from the top, as `(name, raw value)` pairs (names ignore
/// ASCII case; fields other than `Authentication-Results` and `Received` are
/// skipped, so the whole header or [`RegistrationMail::trace_headers`] both
/// work). `from_domain` is the domain of the single From address (an address
/// is accepted too); `trusted` the trusted authserv-ids.
pub fn evaluate<N: AsRef<str>, V: AsRef<str>>(headers: &[(N, V)], from_domain: &str, trusted: &[String]) -> SenderAuth {
    evaluate_with(headers, from_domain, trusted, 0)
}

/// [`evaluate`] for a receiving chain that puts its own `Received` lines above
/// its `Authentication-Results` (e.g. a mail fetcher or an internal relay
/// adding a `Received` line after the authenticating MTA): the block that
/// counts ends at `Received` line number `own_received_lines + 1` instead of
/// the first. Every `Received` line skipped this way must be one the vendor's
/// own servers add to *every* message, or forged results below it would
/// count; `0` is [`evaluate`].
pub fn evaluate_with<N: AsRef<str>, V: AsRef<str>>(
    headers: &[(N, V)],
    from_domain: &str,
    trusted: &[String],
    own_received_lines: usize,
) -> SenderAuth {
    let from = norm_domain(from_domain);
    if from.is_empty() {
        return SenderAuth::None { why: "the message has no From domain to authenticate".to_owned() };
    }
    let trusted: Vec<String> =
        trusted.iter().map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()).collect();
    if trusted.is_empty() {
        return SenderAuth::None {
            why: "no trusted authserv-id is configured (fanlic init --authserv-id ID)".to_owned(),
        };
    }

    let mut seen_untrusted: Vec<String> = Vec::new();
    let mut unreadable = 0usize;
    let mut trusted_blocks: Vec<AuthResults> = Vec::new();
    let mut received = 0usize;
    for (name, value) in headers {
        let name = name.as_ref().trim();
        if name.eq_ignore_ascii_case("received") {
            received += 1;
            if received > own_received_lines {
                break;
            }
            continue;
        }
        if !name.eq_ignore_ascii_case("authentication-results") {
            continue;
        }
        match parse_authentication_results(value.as_ref()) {
            Ok(ar) if trusted.contains(&ar.authserv_id.to_ascii_lowercase()) => trusted_blocks.push(ar),
            Ok(ar) => seen_untrusted.push(ar.authserv_id),
            Err(_) => unreadable += 1,
        }
    }

    let mut pass: Option<(AuthMethod, &str)> = None;
    let mut other = Vec::new();
    for ar in &trusted_blocks {
        for r in &ar.results {
            let method = match r.method.as_str() {
                "dkim" => AuthMethod::Dkim,
                "dmarc" => AuthMethod::Dmarc,
                _ => continue,
            };
            let subject = match method {
                AuthMethod::Dkim => r.prop("header", "d"),
                AuthMethod::Dmarc => r.prop("header", "from"),
            };
            let for_from = subject.map(norm_domain);
            let matches = for_from.as_deref() == Some(from.as_str());
            let detail = match subject {
                Some(s) => format!(
                    "{}={} {}={}",
                    r.method,
                    r.result,
                    if method == AuthMethod::Dkim { "header.d" } else { "header.from" },
                    s
                ),
                None => format!("{}={}", r.method, r.result),
            };
            let fails = r.result == "fail" && (matches || (method == AuthMethod::Dmarc && subject.is_none()));
            if fails {
                return SenderAuth::Fail { method, authserv_id: ar.authserv_id.clone(), detail };
            }
            if r.result == "pass" && matches {
                let better = match pass {
                    None => true,
                    Some((AuthMethod::Dkim, _)) => method == AuthMethod::Dmarc,
                    Some((AuthMethod::Dmarc, _)) => false,
                };
                if better {
                    pass = Some((method, ar.authserv_id.as_str()));
                }
            } else {
                other.push(detail);
            }
        }
    }
    if let Some((method, authserv_id)) = pass {
        return SenderAuth::Pass { method, authserv_id: authserv_id.to_owned() };
    }

    let mut why = if !trusted_blocks.is_empty() {
        let ids: Vec<&str> = trusted_blocks.iter().map(|a| a.authserv_id.as_str()).collect();
        let mut w = format!(
            "the trusted Authentication-Results ({}) show no dkim=pass with header.d={from} and no dmarc=pass with header.from={from}",
            ids.join(", ")
        );
        if !other.is_empty() {
            w.push_str(&format!(" (they say: {})", other.join("; ")));
        }
        w
    } else if !seen_untrusted.is_empty() {
        format!(
            "no Authentication-Results above the first Received line from a trusted authserv-id (seen: {})",
            seen_untrusted.join(", ")
        )
    } else {
        "no Authentication-Results header above the first Received line".to_owned()
    };
    if unreadable > 0 {
        why.push_str(&format!("; {unreadable} unreadable Authentication-Results ignored"));
    }
    SenderAuth::None { why }
}

/// [`evaluate`] for a parsed message: its [`RegistrationMail::trace_headers`]
/// against its single From domain. A message without exactly one From
/// address gives [`SenderAuth::None`].
pub fn evaluate_mail(mail: &RegistrationMail, trusted: &[String]) -> SenderAuth {
    evaluate_mail_with(mail, trusted, 0)
}

/// [`evaluate_mail`] with [`evaluate_with`]'s `own_received_lines` (`fanlic
/// config --own-received-lines`).
pub fn evaluate_mail_with(mail: &RegistrationMail, trusted: &[String], own_received_lines: usize) -> SenderAuth {
    match mail.from_domain() {
        Some(domain) => evaluate_with(&mail.trace_headers, domain, trusted, own_received_lines),
        None => SenderAuth::None {
            why: format!("the message has {} From addresses; exactly one is required", mail.from.len()),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
    use super::*;

    fn parse(v: &str) -> AuthResults {
        parse_authentication_results(v).unwrap_or_else(|e| panic!("{v}: {e}"))
    }

    fn trusted() -> Vec<String> {
        vec!["mx.vendor.example".to_owned()]
    }

    const AR: &str = "Authentication-Results";
    const RCVD: &str = "Received";
    const OUR_RCVD: &str = "from mail.customer.example by mx.vendor.example; Fri, 20 Nov 2026 09:30:05 +0800";

    #[test]
    fn rfc8601_b2_none_with_version() {
        let ar = parse("example.org 1; none");
        assert_eq!(ar.authserv_id, "example.org");
        assert_eq!(ar.version, Some(1));
        assert!(ar.results.is_empty());
        let ar = parse("example.org; none");
        assert_eq!(ar.version, None);
        assert!(ar.results.is_empty());
    }

    #[test]
    fn rfc8601_b3_spf() {
        let ar = parse("example.com; spf=pass smtp.mailfrom=example.net");
        assert_eq!(ar.results.len(), 1);
        let r = &ar.results[0];
        assert_eq!((r.method.as_str(), r.result.as_str()), ("spf", "pass"));
        assert_eq!(r.prop("smtp", "mailfrom"), Some("example.net"));
    }

    #[test]
    fn rfc8601_b4_auth_and_iprev() {
        let ar = parse(
            "example.com;\r\n          auth=pass (cram-md5) smtp.auth=sender@example.net;\r\n          spf=pass smtp.mailfrom=example.net",
        );
        assert_eq!(ar.results.len(), 2);
        assert_eq!(ar.results[0].method, "auth");
        assert_eq!(ar.results[0].prop("smtp", "auth"), Some("sender@example.net"));
        assert_eq!(ar.results[1].prop("smtp", "mailfrom"), Some("example.net"));
        let ar = parse("example.com; iprev=pass\r\n          policy.iprev=192.0.2.200");
        assert_eq!(ar.results[0].prop("policy", "iprev"), Some("192.0.2.200"));
    }

    #[test]
    fn rfc8601_b5_sender_id_and_dkim() {
        let ar = parse(
            "example.com;\n          sender-id=fail header.from=example.com;\n          dkim=pass (good signature) header.d=example.com",
        );
        assert_eq!(ar.results[0].method, "sender-id");
        assert_eq!(ar.results[0].result, "fail");
        assert_eq!(ar.results[1].method, "dkim");
        assert_eq!(ar.results[1].prop("header", "d"), Some("example.com"));
    }

    #[test]
    fn rfc8601_b6_reasons_and_header_i() {
        let ar = parse(
            "example.com;\n          dkim=pass reason=\"good signature\"\n            header.i=@mail-router.example.net;\n          dkim=fail reason=\"bad signature\"\n            header.i=@newyork.example.com",
        );
        assert_eq!(ar.results.len(), 2);
        assert_eq!(ar.results[0].reason.as_deref(), Some("good signature"));
        assert_eq!(ar.results[0].prop("header", "i"), Some("@mail-router.example.net"));
        assert_eq!(ar.results[1].result, "fail");
        assert_eq!(ar.results[1].reason.as_deref(), Some("bad signature"));
        assert_eq!(ar.results[1].prop("header", "i"), Some("@newyork.example.com"));
    }

    #[test]
    fn comments_quoting_case_and_versions() {
        let ar = parse(
            "(leading) \"mx.vendor.example\" (c1 (nested) \\) ) ; DKIM/1 (v) = (x) Pass (good) Header . D = \"Customer.Example\" header.b=\"Ab+/cd==\" header.s=sel1 ; DMARC=Fail (p=reject dis=none) header.from=customer.example;",
        );
        assert_eq!(ar.authserv_id, "mx.vendor.example");
        assert_eq!(ar.results.len(), 2);
        let r = &ar.results[0];
        assert_eq!((r.method.as_str(), r.method_version, r.result.as_str()), ("dkim", Some(1), "pass"));
        assert_eq!(r.prop("header", "d"), Some("Customer.Example"));
        assert_eq!(r.prop("header", "b"), Some("Ab+/cd=="));
        assert_eq!(r.prop("header", "s"), Some("sel1"));
        assert_eq!(ar.results[1].method, "dmarc");
        assert_eq!(ar.results[1].result, "fail");
        // An unquoted base64 value with `=` and `/`.
        let ar = parse("mx.google.com; dkim=pass header.i=@example.com header.s=20230601 header.b=Xy/z+9=;");
        assert_eq!(ar.results[0].prop("header", "b"), Some("Xy/z+9="));
    }

    #[test]
    fn malformed_values_are_errors() {
        assert_eq!(parse_authentication_results(""), Err(AuthResError::MissingAuthservId));
        assert_eq!(parse_authentication_results("; dkim=pass"), Err(AuthResError::MissingAuthservId));
        assert_eq!(parse_authentication_results("x (open; dkim=pass"), Err(AuthResError::UnterminatedComment));
        assert_eq!(parse_authentication_results("x; dkim=pass reason=\"open"), Err(AuthResError::UnterminatedQuote));
        assert_eq!(parse_authentication_results("x; none; dkim=pass"), Err(AuthResError::NoneWithResults));
        assert!(matches!(parse_authentication_results("x dkim=pass"), Err(AuthResError::Syntax { .. })));
        assert!(matches!(parse_authentication_results("x; dkim pass"), Err(AuthResError::Syntax { .. })));
        assert!(matches!(parse_authentication_results("x; dkim=pass header=d"), Err(AuthResError::Syntax { .. })));
        // Never panics on odd bytes.
        for v in [
            "\u{0}",
            "(",
            "\"",
            "x;\\",
            "x; a=b c.d=\"\\",
            "多字节; dkim=pass header.d=例子.cn",
            "x;;;;",
            "x 99999999999;",
        ] {
            let _ = parse_authentication_results(v);
        }
    }

    #[test]
    fn trusted_pass() {
        let h = [
            (AR, "mx.vendor.example; spf=pass smtp.mailfrom=customer.example; dkim=pass header.d=customer.example"),
            (RCVD, OUR_RCVD),
        ];
        assert_eq!(
            evaluate(&h, "customer.example", &trusted()),
            SenderAuth::Pass { method: AuthMethod::Dkim, authserv_id: "mx.vendor.example".to_owned() }
        );
        // Case-insensitive authserv-id and domain; an address as from_domain.
        let h = [(AR, "MX.Vendor.Example; dmarc=pass header.from=Customer.Example.")];
        let got = evaluate(&h, "li.wei@customer.example", &trusted());
        assert_eq!(got, SenderAuth::Pass { method: AuthMethod::Dmarc, authserv_id: "MX.Vendor.Example".to_owned() });
        assert!(got.is_pass());
        assert_eq!(got.code(), None);
    }

    #[test]
    fn dmarc_is_reported_before_dkim() {
        let h =
            [(AR, "mx.vendor.example; dkim=pass header.d=customer.example; dmarc=pass header.from=customer.example")];
        assert!(matches!(
            evaluate(&h, "customer.example", &trusted()),
            SenderAuth::Pass { method: AuthMethod::Dmarc, .. }
        ));
    }

    #[test]
    fn untrusted_authserv_id_is_ignored() {
        let h = [(AR, "mx.attacker.example; dkim=pass header.d=customer.example"), (RCVD, OUR_RCVD)];
        let got = evaluate(&h, "customer.example", &trusted());
        let SenderAuth::None { why } = &got else { panic!("{got:?}") };
        assert!(why.contains("mx.attacker.example"), "{why}");
        assert_eq!(got.code(), Some("sender_unauthenticated"));
    }

    #[test]
    fn header_below_received_is_ignored() {
        let h = [(RCVD, OUR_RCVD), (AR, "mx.vendor.example; dkim=pass header.d=customer.example")];
        let got = evaluate(&h, "customer.example", &trusted());
        assert!(matches!(&got, SenderAuth::None { why } if why.contains("above the first Received")), "{got:?}");
    }

    #[test]
    fn spoof_below_vendor_received_is_ignored() {
        let h = [
            (AR, "mx.vendor.example; spf=softfail smtp.mailfrom=attacker.example; dkim=none"),
            (RCVD, "from evil.attacker.example by mx.vendor.example; Fri, 20 Nov 2026 12:00:00 +0800"),
            (AR, "mx.vendor.example; dkim=pass header.d=customer.example; dmarc=pass header.from=customer.example"),
            (RCVD, "from localhost by evil.attacker.example; Fri, 20 Nov 2026 11:59:59 +0800"),
        ];
        let got = evaluate(&h, "customer.example", &trusted());
        assert!(matches!(got, SenderAuth::None { .. }), "{got:?}");
    }

    #[test]
    fn own_received_lines_can_be_skipped() {
        let h = [
            (RCVD, "from mx.vendor.example by fetch.vendor.example; Fri, 20 Nov 2026 12:00:01 +0800"),
            (AR, "mx.vendor.example; dkim=pass header.d=customer.example"),
            (RCVD, OUR_RCVD),
            (AR, "mx.vendor.example; dmarc=pass header.from=customer.example"),
        ];
        assert!(matches!(evaluate(&h, "customer.example", &trusted()), SenderAuth::None { .. }));
        assert_eq!(
            evaluate_with(&h, "customer.example", &trusted(), 1),
            SenderAuth::Pass { method: AuthMethod::Dkim, authserv_id: "mx.vendor.example".to_owned() }
        );
    }

    #[test]
    fn other_header_fields_do_not_end_the_block() {
        let h = [
            ("ARC-Seal", "i=1; a=rsa-sha256; ..."),
            (AR, "mx.vendor.example; dkim=pass header.d=customer.example"),
            ("Received-SPF", "pass"),
            ("received", OUR_RCVD),
        ];
        assert!(evaluate(&h, "customer.example", &trusted()).is_pass());
    }

    #[test]
    fn pass_for_another_domain_is_none() {
        for v in [
            "mx.vendor.example; dkim=pass header.d=other.example",
            "mx.vendor.example; dkim=pass header.d=example",
            "mx.vendor.example; dkim=pass header.d=sub.customer.example",
            "mx.vendor.example; dkim=pass header.i=@customer.example",
            "mx.vendor.example; dmarc=pass header.from=other.example",
            "mx.vendor.example; spf=pass smtp.mailfrom=customer.example",
            "mx.vendor.example; dkim=none; dmarc=none header.from=customer.example",
            "mx.vendor.example; dkim=temperror header.d=customer.example",
            "mx.vendor.example; none",
        ] {
            let got = evaluate(&[(AR, v)], "customer.example", &trusted());
            assert!(matches!(got, SenderAuth::None { .. }), "{v}: {got:?}");
        }
        // Strict: a parent-domain signature does not cover a subdomain sender.
        let got = evaluate(
            &[(AR, "mx.vendor.example; dkim=pass header.d=customer.example")],
            "sales.customer.example",
            &trusted(),
        );
        assert!(matches!(got, SenderAuth::None { .. }), "{got:?}");
    }

    #[test]
    fn failures_are_rejected_and_win() {
        let got = evaluate(
            &[(AR, "mx.vendor.example; dmarc=fail (p=reject) header.from=customer.example")],
            "customer.example",
            &trusted(),
        );
        assert_eq!(
            got,
            SenderAuth::Fail {
                method: AuthMethod::Dmarc,
                authserv_id: "mx.vendor.example".to_owned(),
                detail: "dmarc=fail header.from=customer.example".to_owned(),
            }
        );
        assert_eq!(got.code(), Some("sender_auth_failed"));
        // dmarc=fail without header.from still counts.
        let got = evaluate(&[(AR, "mx.vendor.example; dmarc=fail")], "customer.example", &trusted());
        assert!(matches!(got, SenderAuth::Fail { method: AuthMethod::Dmarc, .. }), "{got:?}");
        // Fail wins over pass, in either order and across fields.
        let h = [
            (AR, "mx.vendor.example; dkim=pass header.d=customer.example"),
            (AR, "mx.vendor.example; dkim=fail header.d=customer.example"),
        ];
        assert!(matches!(
            evaluate(&h, "customer.example", &trusted()),
            SenderAuth::Fail { method: AuthMethod::Dkim, .. }
        ));
        // A failing signature by another domain (a mailing list, say) is not ours.
        let h = [(AR, "mx.vendor.example; dkim=fail header.d=list.example; dkim=pass header.d=customer.example")];
        assert!(evaluate(&h, "customer.example", &trusted()).is_pass());
        // A fail from an untrusted server, or below Received, does not count.
        let h = [(AR, "other.example; dmarc=fail header.from=customer.example")];
        assert!(matches!(evaluate(&h, "customer.example", &trusted()), SenderAuth::None { .. }));
        let h = [(RCVD, OUR_RCVD), (AR, "mx.vendor.example; dmarc=fail header.from=customer.example")];
        assert!(matches!(evaluate(&h, "customer.example", &trusted()), SenderAuth::None { .. }));
    }

    #[test]
    fn no_trust_or_no_domain_is_none() {
        let h = [(AR, "mx.vendor.example; dkim=pass header.d=customer.example")];
        assert!(matches!(evaluate(&h, "customer.example", &[]), SenderAuth::None { .. }));
        assert!(matches!(evaluate(&h, "", &trusted()), SenderAuth::None { .. }));
        let empty: [(&str, &str); 0] = [];
        assert!(matches!(evaluate(&empty, "customer.example", &trusted()), SenderAuth::None { .. }));
        // Unreadable trusted-looking fields are ignored, and said so.
        let got = evaluate(&[(AR, "mx.vendor.example; dkim=pass (broken")], "customer.example", &trusted());
        assert!(matches!(&got, SenderAuth::None { why } if why.contains("unreadable")), "{got:?}");
    }

    fn fixture(name: &str) -> RegistrationMail {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/emails/raw").join(name);
        let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        crate::message::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn fixtures_end_to_end() {
        let t = trusted();
        assert!(matches!(
            evaluate_mail(&fixture("english-plain.eml"), &t),
            SenderAuth::Pass { method: AuthMethod::Dkim, .. }
        ));
        assert!(matches!(
            evaluate_mail(&fixture("chinese-gbk.eml"), &t),
            SenderAuth::Pass { method: AuthMethod::Dmarc, .. }
        ));
        assert!(matches!(
            evaluate_mail(&fixture("alternative-reply.eml"), &t),
            SenderAuth::Pass { method: AuthMethod::Dmarc, .. }
        ));
        assert!(matches!(evaluate_mail(&fixture("spoofed-auth.eml"), &t), SenderAuth::None { .. }));
        assert!(matches!(evaluate_mail(&fixture("html-only.eml"), &t), SenderAuth::None { .. }));
        let got = evaluate_mail(&fixture("multiple-from.eml"), &t);
        assert!(matches!(&got, SenderAuth::None { why } if why.contains("2 From")), "{got:?}");
        // The spoofed message under a different trusted id is still not a pass.
        assert!(matches!(
            evaluate_mail(&fixture("spoofed-auth.eml"), &["evil.attacker.example".to_owned()]),
            SenderAuth::None { .. }
        ));
    }
}
