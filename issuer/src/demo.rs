//! `fanlic demo`: the whole loop on a throw-away home, step by step.

use crate::error::LicenseError;
use std::{
    fs,
    io::{self, Write},
    path::Path,
};

use fanlic_formats::{LicenseKind, Timestamp};

use crate::Error;
use crate::contracts;
use crate::home::{Home, InitOptions};
use crate::ingest::source;
use crate::ingest::{self, IngestOutcome};
use crate::license::issue::{IssueInput, IssueRequest};
use crate::license::verify::{CheckSpec, verify};
use crate::outbox::{self, OutboxTransport};
use crate::store::DecisionKind;
use crate::util::clock;
use fanlic_verifier::RootKey;

/// The mail server whose `Authentication-Results` the demo home trusts: the
/// one that received the demo mails.
const AUTHSERV_ID: &str = "mx.vendor.example";

/// What the customer bought (the README's demo contract registry).
const CONTRACTS_CSV: &str = include_str!("../../fixtures/emails/demo-contracts.csv");

/// The three registration mails of the demo Maildir, under their own names,
/// with what each one shows.
const MAILS: [(&str, &[u8], &str); 3] = [
    (
        "1795000001.1001_0.mx.vendor.example",
        include_bytes!("../../fixtures/emails/demo-maildir/new/1795000001.1001_0.mx.vendor.example"),
        "a correct request for project webroot, DKIM pass recorded by mx.vendor.example",
    ),
    (
        "1795000002.1002_0.mx.vendor.example",
        include_bytes!("../../fixtures/emails/demo-maildir/new/1795000002.1002_0.mx.vendor.example"),
        "the same sender asking for project \"stolen\", its DKIM pass written by mail.attacker.example",
    ),
    (
        "1795000003.1003_0.mx.vendor.example",
        include_bytes!("../../fixtures/emails/demo-maildir/new/1795000003.1003_0.mx.vendor.example"),
        "an authenticated request with a wrong signing date, 9 nodes and version 10.0",
    ),
];

/// The mails of step 13, as customers write them.
const AS_WRITTEN: [(&str, &[u8], &str); 2] = [
    (
        "1795000006.1006_0.mx.vendor.example",
        include_bytes!("../../fixtures/emails/demo-real/reply-with-a-change.eml"),
        "Alice: \"please make it 2 nodes instead of 3\" above her quoted request",
    ),
    (
        "1795000007.1007_0.mx.vendor.example",
        include_bytes!("../../fixtures/emails/demo-real/legal-form-variant.eml"),
        "Li Ming of Contoso, from the contract's address: \"Contoso Manufacturing Co.,Ltd.\"",
    ),
];

macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(Error::Output)?
    };
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Runs the demo, writing what it does to `out`. Needs no setup: the home
/// and the Maildir live in a temporary folder that is deleted at the end;
/// replies are written as `.eml` files, so no mail server is needed either.
/// With `keep`, the home is made there instead and left for the staff
/// console (its held requests wait under Review); `keep` must be a new or
/// empty folder, never a home or anything else.
pub fn run(out: &mut dyn Write, keep: Option<&Path>) -> Result<(), Error> {
    let now = clock::now()?;
    if let Some(dir) = keep {
        // Refused before anything is printed or made.
        let used = fs::symlink_metadata(dir).is_ok() && fs::read_dir(dir).map_or(true, |mut d| d.next().is_some());
        if used {
            let fix = "the demo keeps its home only in a new or empty folder (it never writes over files): \
                       choose another --keep DIR";
            return Err(Error::input("--keep", &dir.display().to_string(), fix));
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix("fanlic-demo-")
        .tempdir()
        .map_err(Error::io("cannot create", "a temporary folder"))?;
    let home_dir = match keep {
        Some(dir) => std::path::absolute(dir).map_err(Error::io("cannot resolve", dir))?,
        None => tmp.path().join("fanlic-home"),
    };

    say!(out, "fanlic demo: issue a Container.lic by hand and check it the way FineReport's registration page does,");
    say!(out, "then turn a Maildir of registration mails into licenses and replies, with no server to set up.");
    match keep {
        None => say!(out, "Everything happens in {} and is deleted at the end.\n", tmp.path().display()),
        Some(_) => say!(
            out,
            "Everything happens in {} and is deleted at the end, except the home, kept in {}.\n",
            tmp.path().display(),
            home_dir.display()
        ),
    }

    say!(out, "Step 1. Create a vendor home: a root key, an issuing key it certifies, a database. It trusts the");
    say!(out, "        sender checks (DKIM/DMARC) that the vendor's mail server {AUTHSERV_ID} records.");
    say!(out, "  $ export FANLIC_HOME={}", home_dir.display());
    say!(out, "  $ fanlic init --authserv-id {AUTHSERV_ID}");
    let opts = InitOptions { authserv_ids: vec![AUTHSERV_ID.to_owned()], valid_for_days: None, now };
    let (mut home, init) = Home::init(&home_dir, &opts)?;
    say!(out, "  root key id {}: products embed its public key", init.root_key_id);
    say!(out, "  issuing key {} may sign until {}\n", init.issuing_key.key_id, init.issuing_key.not_after);

    let roots = by_hand(out, tmp.path(), &mut home, now)?;
    from_mail(out, tmp.path(), &mut home, &roots, now)?;

    say!(out, "Done. In real use, keep the home, move its root-key/ folder offline, point `fanlic ingest` at the");
    say!(out, "Maildir your mail server delivers to, and send replies with `fanlic outbox flush --smtp-host HOST`.");
    if keep.is_some() {
        next_steps(out, &mut home, &home_dir)?;
    }
    Ok(())
}

/// What to do with the kept home: the staff console, where the held
/// requests wait.
fn next_steps(out: &mut dyn Write, home: &mut Home, dir: &Path) -> Result<(), Error> {
    let held = ingest::review(home)?;
    let d = dir.display();
    say!(out, "");
    say!(out, "The demo's home is kept in {d}. {} request(s) wait for staff there:", held.len());
    for row in &held {
        let codes: Vec<&str> = row.reasons.iter().map(|(c, _)| c.as_str()).collect();
        say!(out, "  #{}  {}  {}", row.id, row.from, codes.join(", "));
    }
    say!(out, "Answer them in the staff console:");
    say!(out, "  1. Create the first admin (the password is read from standard input, 10 characters or more):");
    say!(out, "     $ printf '%s' \"$PW\" | fanlic --home {d} staff add admin --role admin --password-stdin");
    say!(out, "  2. Start the console (on loopback only; Ctrl-C stops it):");
    say!(out, "     $ fanlic --home {d} console");
    say!(out, "  3. Open http://127.0.0.1:8390 and log in as admin: the held requests are under Review. Approve");
    say!(out, "     Alice's reply with a change (its reply is shown before it is sent); reject the spoof, which");
    say!(out, "     cannot be issued: it asks for a project the contract has no room for.");
    Ok(())
}

/// Steps 2 to 5: a license issued by hand, verified on a server it fits, on
/// one it does not, and tampered with. Returns the home's root keys.
fn by_hand(out: &mut dyn Write, dir: &Path, home: &mut Home, now: Timestamp) -> Result<Vec<RootKey>, Error> {
    let lic_path = dir.join("Container.lic");
    let expires = clock::add_days(now, 365).date().to_string();
    let signed = now.date().to_string();
    say!(out, "Step 2. Issue a license by hand for Demo Company's project \"webroot\" (FineReport 11.0, 2 nodes).");
    say!(
        out,
        "  $ fanlic issue --company 'Demo Company' --project webroot --app FineReport --version 11.0 \\\n      --kind local-container --nodes 2 --expires {expires} --signed {signed} -o {}",
        lic_path.display()
    );
    let req = IssueRequest::parse(
        &IssueInput {
            company: "Demo Company",
            project: "webroot",
            app: "FineReport",
            version: "11.0",
            expires: &expires,
            signed: &signed,
            not_before: None,
        },
        LicenseKind::LocalContainer,
        2,
        lic_path.clone(),
        false,
    )?;
    let issued = home.issue(&req, now)?;
    say!(
        out,
        "  issued license {} ({} bytes signed); {} reads:",
        issued.license_id,
        issued.raw.len(),
        lic_path.display()
    );
    say!(out, "{}", indent(&shorten_armor(&issued.armored)));

    let roots = home.root_keys()?;
    let input = fs::read(&lic_path).map_err(Error::io("cannot read", &lic_path))?;
    say!(out, "Step 3. Verify it as a FineReport 11.0.20 server with project webroot and 1 node would.");
    say!(out, "  $ fanlic verify {} --app FineReport --version 11.0.20 --project webroot", lic_path.display());
    let ok = CheckSpec {
        app_name: "FineReport".into(),
        version: "11.0.20".into(),
        project: "webroot".into(),
        nodes: 1,
        method: None,
        now,
        last_seen: None,
    };
    let report = verify(&input, &roots, &ok);
    say!(out, "{}", indent(&report.human()));

    let later = clock::add_days(now, 400);
    say!(out, "Step 4. Verify it on a server it does not fit: FineBI 10.0, project \"sales\", 5 nodes,");
    say!(out, "        private-cloud authentication selected, 400 days from now. Every cause is reported at once:");
    say!(
        out,
        "  $ fanlic verify {} --app FineBI --version 10.0 --project sales --nodes 5 --method private-cloud --now {later}",
        lic_path.display()
    );
    let bad = CheckSpec {
        app_name: "FineBI".into(),
        version: "10.0".into(),
        project: "sales".into(),
        nodes: 5,
        method: Some(LicenseKind::PrivateCloud),
        now: later,
        last_seen: None,
    };
    let report = verify(&input, &roots, &bad);
    say!(out, "{}", indent(&report.human()));

    say!(out, "Step 5. Change one signed character (the project name) and verify again: the signature breaks.");
    let tampered = tamper(&issued.raw);
    let armored = fanlic_formats::armor::encode(&tampered, &[])
        .map_err(|reason| Error::License(LicenseError::Encode { what: "tampered demo license", reason }))?;
    let report = verify(armored.as_bytes(), &roots, &ok);
    say!(out, "{}", indent(&report.human()));
    Ok(roots)
}

/// Steps 6 to 11: the contract registry, a Maildir of three registration
/// mails ingested, the issued license verified, the replies written as
/// `.eml` files, and the request held for staff.
fn from_mail(out: &mut dyn Write, dir: &Path, home: &mut Home, roots: &[RootKey], now: Timestamp) -> Result<(), Error> {
    let csv = dir.join("contracts.csv");
    fs::write(&csv, CONTRACTS_CSV).map_err(Error::io("cannot write", &csv))?;
    say!(out, "Step 6. Record what the customer bought: import the contract registry (one row per contract).");
    say!(out, "  $ cat {}", csv.display());
    say!(out, "{}", indent(CONTRACTS_CSV).trim_end());
    say!(out, "  $ fanlic contract import {} --by demo", csv.display());
    let imported = contracts::import(home, &csv, false, "demo", now)?;
    say!(out, "{}", indent(&imported.human(now)));

    let maildir = dir.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        let d = maildir.join(sub);
        fs::create_dir_all(&d).map_err(Error::io("cannot create", &d))?;
    }
    say!(out, "Step 7. Three registration mails arrive in the Maildir {}/new/:", maildir.display());
    for (name, bytes, what) in MAILS {
        let path = maildir.join("new").join(name);
        fs::write(&path, bytes).map_err(Error::io("cannot write", &path))?;
        say!(out, "    {name}  {what}");
    }
    say!(
        out,
        "  All three are from alice@northwind.example, Northwind's contract address, with a Reply-To elsewhere.\n"
    );

    say!(out, "Step 8. Ingest them: each mail is checked (sender, contract, fields) and decided exactly once.");
    say!(out, "  $ fanlic ingest {}", maildir.display());
    let outcomes = ingest_maildir(home, &maildir, now)?;
    let width = outcomes.iter().map(|o| o.decision.as_str().len()).max().unwrap_or(0);
    for o in &outcomes {
        let name = Path::new(&o.source).file_name().map_or(o.source.clone(), |n| n.to_string_lossy().into_owned());
        let codes: Vec<&str> = o.reasons.iter().map(|(c, _)| c.as_str()).collect();
        let detail = match &o.license_id {
            Some(id) => format!("license {id}"),
            None => codes.join(", "),
        };
        let reply = if o.outbox_id.is_some() { "; reply queued" } else { "" };
        say!(out, "    {name}: {:<width$}  {detail}{reply}", o.decision);
        if o.decision.is(DecisionKind::Held) {
            say!(out, "        - for staff: see step 11");
        } else {
            for (_, message) in &o.reasons {
                say!(out, "        - {message}");
            }
        }
    }
    say!(out, "  Each decided mail moved from new/ to cur/ and is flagged seen (S): it is never decided twice.");
    let cur = maildir.join("cur");
    let mut seen: Vec<String> = fs::read_dir(&cur)
        .map_err(Error::io("cannot list", &cur))?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(Error::io("cannot list", &cur))?;
    seen.sort();
    say!(out, "  $ ls {}", cur.display());
    for name in &seen {
        say!(out, "    {name}");
    }
    say!(out, "");

    if let Some(issued) = outcomes.iter().find(|o| o.decision.is(DecisionKind::Issued))
        && let Some(lic) = issued.files.first()
    {
        say!(out, "Step 9. The license issued from the mail verifies on Northwind's FineReport 11.0.20 with 3 nodes.");
        say!(out, "  $ fanlic verify {} --app FineReport --version 11.0.20 --project webroot --nodes 3", lic.display());
        let input = fs::read(lic).map_err(Error::io("cannot read", lic))?;
        let spec = CheckSpec {
            app_name: "FineReport".into(),
            version: "11.0.20".into(),
            project: "webroot".into(),
            nodes: 3,
            method: None,
            now,
            last_seen: None,
        };
        say!(out, "{}", indent(&verify(&input, roots, &spec).human()));
    }

    say!(out, "Step 10. Send the replies. With no SMTP server given, each is written as an .eml file instead.");
    say!(out, "  $ fanlic outbox flush");
    let transport = OutboxTransport::default_files(home);
    let report = outbox::flush(home, &transport, now)?;
    let entries = outbox::list(home, true)?;
    say!(out, "    {} sent, {} failed", report.sent.len(), report.failures.len());
    for (id, to, via) in &report.sent {
        let subject = entries.iter().find(|e| e.id == *id).map_or("", |e| e.subject.as_str());
        let what = match outcomes.iter().find(|o| o.outbox_id == Some(*id)).map(|o| o.decision) {
            Some(d) if d.is(DecisionKind::Issued) => "with Container.lic attached",
            Some(d) if d.is(DecisionKind::Rejected) => "listing the reasons",
            _ => "",
        };
        say!(out, "    {via}  ({what})");
        say!(out, "      To: {to}");
        say!(out, "      Subject: {subject}");
    }
    for f in &report.failures {
        say!(out, "    failed {} to {}: {}", f.id, f.to, f.error);
    }
    say!(out, "  Replies go to the contract's address, never to Reply-To; the held mail gets none.\n");

    say!(out, "Step 11. The held mail waits for staff; `fanlic review` shows it, with its text (cut here).");
    say!(out, "  $ fanlic review");
    let held = ingest::review(home)?;
    for row in &held {
        let text = row.human();
        for line in text.lines().filter(|l| !l.starts_with("  | ")) {
            say!(out, "    {line}");
        }
    }
    if let Some(row) = held.first() {
        say!(
            out,
            "  Staff then run `fanlic approve {id} --by NAME` or `fanlic reject {id} --reason TEXT --by NAME`.",
            id = row.id
        );
    }
    say!(out, "");
    one_per_project(out, home, &maildir, now)
}

/// Step 12: one `Container.lic` per project. The customer's "send again"
/// gets the same license back; a second project is refused while the
/// contract covers one.
fn one_per_project(out: &mut dyn Write, home: &mut Home, maildir: &Path, now: Timestamp) -> Result<(), Error> {
    let first = String::from_utf8_lossy(MAILS[0].1).into_owned();
    let resent = first.replace("Message-ID: <demo-clean-1@", "Message-ID: <demo-resent-1@");
    let other = resent
        .replace("Message-ID: <demo-resent-1@", "Message-ID: <demo-reports-1@")
        .replace("Project name: webroot", "Project name: reports");
    say!(out, "Step 12. One Container.lic per project. Alice sends her request again (a new Message-ID), then");
    say!(out, "         asks for a second project, \"reports\"; Northwind's contract covers one project.");
    for (name, text) in
        [("1795000004.1004_0.mx.vendor.example", &resent), ("1795000005.1005_0.mx.vendor.example", &other)]
    {
        let path = maildir.join("new").join(name);
        fs::write(&path, text).map_err(Error::io("cannot write", &path))?;
    }
    say!(out, "  $ fanlic ingest {}", maildir.display());
    for o in ingest_maildir(home, maildir, now)? {
        let name = Path::new(&o.source).file_name().map_or(o.source.clone(), |n| n.to_string_lossy().into_owned());
        let detail = match (o.decision, &o.license_id) {
            (d, Some(id)) if d.is(DecisionKind::Resent) => format!("license {id} again: no new license"),
            _ => o.reasons.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>().join(", "),
        };
        say!(out, "    {name}: {:<8}  {detail}", o.decision);
        if !o.decision.is(DecisionKind::Resent) {
            for (_, message) in &o.reasons {
                say!(out, "        - {message}");
            }
        }
    }
    say!(out, "  Every change is in the audit trail: `fanlic audit --contract 1` (who, when, what and why).\n");
    as_written(out, home, maildir, now)
}

/// Step 13: mail as customers write it. A reply that asks for a change
/// above the quoted request is held with the new text for staff (the quoted
/// fields are never issued as a guess); a company name written with another
/// legal-form spelling is accepted from the contract's own address, and the
/// license carries the contract's spelling.
fn as_written(out: &mut dyn Write, home: &mut Home, maildir: &Path, now: Timestamp) -> Result<(), Error> {
    say!(out, "Step 13. Mail as customers write it. Alice replies to her own request and asks for a change above");
    say!(out, "         the quoted text; Contoso writes \"Contoso Manufacturing Co.,Ltd.\" where its contract says");
    say!(out, "         \"Contoso Manufacturing Company Limited\".");
    for (name, text, what) in AS_WRITTEN {
        let path = maildir.join("new").join(name);
        fs::write(&path, text).map_err(Error::io("cannot write", &path))?;
        say!(out, "    {name}  {what}");
    }
    say!(out, "  $ fanlic ingest {}", maildir.display());
    for o in ingest_maildir(home, maildir, now)? {
        let name = Path::new(&o.source).file_name().map_or(o.source.clone(), |n| n.to_string_lossy().into_owned());
        let codes: Vec<&str> = o.reasons.iter().map(|(c, _)| c.as_str()).collect();
        let detail = match &o.license_id {
            Some(id) => format!("license {id}"),
            None => codes.join(", "),
        };
        say!(out, "    {name}: {:<8}  {detail}", o.decision);
        for (_, message) in &o.reasons {
            say!(out, "        - {message}");
        }
        let armored = o.files.first().and_then(|f| fs::read_to_string(f).ok());
        if let Some(l) = armored.as_deref().and_then(crate::ingest::replies::Licensed::of_armored) {
            say!(out, "        - the license names the company as the contract spells it: {}", l.company);
        }
    }
    say!(out, "");
    Ok(())
}

/// What `fanlic ingest MAILDIR` does: decide each message in `new/`, then
/// move it to `cur/`.
fn ingest_maildir(home: &mut Home, maildir: &Path, now: Timestamp) -> Result<Vec<IngestOutcome>, Error> {
    let unreadable_ref = |e: &source::SourceError| Error::Io {
        action: "cannot read the Maildir",
        path: maildir.to_owned(),
        source: io::Error::other(e.to_string()),
    };
    let unreadable = |e: source::SourceError| unreadable_ref(&e);
    let trusted = home.authserv_ids()?;
    let mut outcomes = Vec::new();
    let messages = source::open(maildir).map_err(unreadable)?;
    ingest::ingest_messages(home, messages, &trusted, now, ingest::BATCH_MESSAGES, |progress| match progress {
        ingest::Progress::Decided { outcome, acknowledged: Ok(()) } => {
            outcomes.push(outcome.clone());
            Ok(())
        }
        ingest::Progress::Decided { acknowledged: Err(e), .. } | ingest::Progress::Unreadable(e) => {
            Err(unreadable_ref(e))
        }
        ingest::Progress::Undecided { source, error } => {
            Err(Error::Io { action: "cannot decide", path: source.into(), source: io::Error::other(error.to_string()) })
        }
    })?;
    Ok(outcomes)
}

/// The armored license with its base64 lines replaced by one line saying
/// how many there are.
fn shorten_armor(armored: &str) -> String {
    let mut out = String::new();
    let mut base64 = 0;
    for line in armored.lines() {
        if line.starts_with('#') || line.starts_with("-----") {
            if base64 > 0 {
                out.push_str(&format!("({base64} lines of base64: the signed license)\n"));
                base64 = 0;
            }
            out.push_str(line);
            out.push('\n');
        } else {
            base64 += 1;
        }
    }
    out
}

/// The raw file with `webroot` replaced by `webrooT`: same length, still
/// decodes, but no longer what was signed.
fn tamper(raw: &[u8]) -> Vec<u8> {
    let mut out = raw.to_vec();
    if let Some(pos) = out.windows(7).position(|w| w == b"webroot")
        && let Some(b) = out.get_mut(pos + 6)
    {
        *b = b'T';
    }
    out
}
