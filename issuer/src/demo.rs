//! `fanlic demo`: the whole loop on a throw-away home, step by step.

use std::{fs, io::Write};

use fanlic_formats::LicenseKind;

use crate::{
    Error, clock,
    home::{Home, InitOptions},
    issue::{IssueInput, IssueRequest},
    verify::{CheckSpec, verify},
};

macro_rules! say {
    ($out:expr, $($arg:tt)*) => {
        writeln!($out, $($arg)*).map_err(Error::Output)?
    };
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Runs the demo, writing what it does to `out`. Needs no setup: the home
/// lives in a temporary folder that is deleted at the end.
pub fn run(out: &mut dyn Write) -> Result<(), Error> {
    let now = clock::now()?;
    let tmp = tempfile::Builder::new()
        .prefix("fanlic-demo-")
        .tempdir()
        .map_err(Error::io("cannot create", "a temporary folder"))?;
    let home_dir = tmp.path().join("fanlic-home");
    let lic_path = tmp.path().join("Container.lic");

    say!(out, "fanlic demo: issue a Container.lic and check it the way FineReport's registration page does.");
    say!(out, "Everything happens in {} and is deleted at the end.\n", tmp.path().display());

    say!(out, "Step 1. Create a vendor home: a root key, an issuing key it certifies, a database.");
    say!(out, "  $ export FANLIC_HOME={}", home_dir.display());
    say!(out, "  $ fanlic init");
    let opts = InitOptions { authserv_ids: vec![], valid_for_days: None, now };
    let (mut home, init) = Home::init(&home_dir, &opts)?;
    say!(out, "  root key id {}: products embed its public key", init.root_key_id);
    say!(out, "  issuing key {} may sign until {}\n", init.issuing_key.key_id, init.issuing_key.not_after);

    let expires = clock::add_days(now, 365).date().to_string();
    let signed = now.date().to_string();
    say!(out, "Step 2. Issue a license for Demo Company's project \"webroot\" (FineReport 11.0, 2 nodes).");
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
        "  issued license {} (raw file: {} bytes); {} reads:",
        issued.license_id,
        issued.raw.len(),
        lic_path.display()
    );
    say!(out, "{}", indent(&issued.armored));

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
        .map_err(|reason| Error::Encode { what: "tampered demo license", reason })?;
    let report = verify(armored.as_bytes(), &roots, &ok);
    say!(out, "{}", indent(&report.human()));

    say!(out, "Done. In real use, keep the home, and move its root-key/ folder offline.");
    Ok(())
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
