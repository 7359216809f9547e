//! The license commands: `issue` signs one by hand, `verify` checks one as
//! the product does, `inspect` shows what a file says without trusting it.
//! Each also takes an image tar of a private-cloud license.

use fanlic_issuer::HomeError;
use std::fs;
use std::path::{Path, PathBuf};

use clap::{Args, value_parser};
use fanlic_formats::LicenseKind;
use fanlic_issuer::contracts;
use fanlic_issuer::home::load_root_public_key;
use fanlic_issuer::image::{self, BuiltImage, ImageContents};
use fanlic_issuer::license::inspect::{self, Inspection};
use fanlic_issuer::license::verify::{self, CheckSpec, VerifyReport};
use fanlic_issuer::util::clock;
use fanlic_issuer::{Error, Home, IssueInput, IssueRequest, Issued};
use serde_json::Value;

use crate::cli::args::{CheckTime, KindArg, LicenseOutput, Now as _, OutputArgs, ResultOutput};
use crate::cli::output::{Report, emit};

const ISSUE_AFTER_HELP: &str = "\
The license gets a random 128-bit id (32 hex digits), issued_at = now, and is signed by the
home's newest active issuing key, then checked with the verifier products use and recorded in
the database with all its fields and its file. The file is written atomically; lines starting
with # before BEGIN are unsigned notes for people.

One Container.lic per project: a second live license for the same company, application and
project is refused. To replace one (new terms), name it with --supersede; it is revoked and the
new license records that it supersedes it.

EXAMPLES:
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --kind local-container --nodes 2 --expires 2027-12-31 --signed 2026/11/20 -o Container.lic
  fanlic issue --company 'Acme Ltd' --project bi --product FineBI --version 6.1 \\
      --expires never --signed 2026-11-20 -o acme-bi/Container.lic --json
  fanlic issue --company 'Acme Ltd' --project webroot --app FineReport --version 11.0 \\
      --nodes 4 --expires 2028-12-31 --signed 2026/11/20 --supersede 0123456789abcdef0123456789abcdef";

/// Issue a license by hand and write Container.lic
#[derive(Debug, Args)]
#[command(after_help = ISSUE_AFTER_HELP)]
pub(crate) struct IssueArgs {
    /// Customer company, as in the registration mail
    #[arg(long, value_name = "NAME")]
    company: String,

    /// Project name, exactly as the product's registration page shows it
    #[arg(long, value_name = "NAME")]
    project: String,

    /// Application: FineReport or FineBI
    #[arg(long, visible_alias = "product", value_name = "NAME")]
    app: String,

    /// Licensed version, major.minor (11.0 covers 11.0.x)
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: String,

    /// Authentication method the license is for
    #[arg(long, value_enum, default_value_t = KindArg::LocalContainer)]
    kind: KindArg,

    /// Most cluster nodes allowed
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = value_parser!(u32).range(1..))]
    nodes: u32,

    /// Last valid day (UTC), or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: String,

    /// Contract signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: String,

    /// Not valid before this time (RFC 3339) or day [default: now]
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,

    /// Where to write the license
    #[arg(short, long, value_name = "FILE", default_value = "Container.lic")]
    output: PathBuf,

    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,

    /// Replace this live license of the same project (it is revoked): one Container.lic per project
    #[arg(long, value_name = "LICENSE_ID")]
    supersede: Option<String>,

    /// How the license is activated: code (a 6-digit code) or receipt (a receipt signed by
    /// `fanlic serve`) [default: the company's contract's policy, else code]
    #[arg(long, value_name = "POLICY")]
    activation_policy: Option<String>,

    /// Who issues, for the audit trail [default: $USER]
    #[arg(long, value_name = "NAME")]
    by: Option<String>,

    #[command(flatten)]
    format: LicenseOutput,
}

const VERIFY_AFTER_HELP: &str = "\
Checks the signatures (root key -> issuing key -> license), then the license against the
environment given, and reports EVERY failing cause at once, like the product's registration page:
the product's name of the cause, its details and what to do next, in English or Chinese (--lang).
Root keys: all the home knows, or --root-key (repeatable; needs no home): a PEM public key file
(public/root-<id>.pub.pem), a raw 32-byte key file, or 64 hex digits (given here or in a file).
--revocations FILE: a signed revocation list (`fanlic revocations export`); a license it revokes,
or whose issuing key it revokes, is invalid (cause `revoked`). A list that does not verify is an
error (exit status 2).
Exit status: 0 valid, 1 invalid, 2 usage or I/O error.
JSON: {\"valid\": bool, \"lang\": \"en\"|\"zh-CN\",
       \"license\": {...} or null when a signature does not hold,
       \"causes\": [{\"code\", \"message\", \"title\", \"prompt\", \"advice\", ...details}]}

EXAMPLES:
  fanlic verify Container.lic --app FineReport --version 11.0.20 --project webroot
  fanlic verify Container.lic --app FineReport --version 11.0 --project webroot --nodes 3 \\
      --now 2027-06-01T00:00:00Z --json
  fanlic verify Container.lic --root-key root.pub.pem --app FineBI --version 6.1 --project bi
  fanlic verify Container.lic --app FineReport --version 11.0 --project webroot --lang zh-CN \\
      --revocations revocations.bin";

/// Check a license the way the product does, listing every cause
#[derive(Debug, Args)]
#[command(after_help = VERIFY_AFTER_HELP)]
pub(crate) struct VerifyArgs {
    /// The license: Container.lic (armored) or the raw binary file
    #[arg(value_name = "FILE")]
    file: PathBuf,

    /// Local application name
    #[arg(long, value_name = "NAME")]
    app: String,

    /// Local application version (matched on major.minor)
    #[arg(long, value_name = "X.Y[.Z]")]
    version: String,

    /// Local project name
    #[arg(long, value_name = "NAME")]
    project: String,

    /// Nodes in the cluster
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = value_parser!(u32).range(1..))]
    nodes: u32,

    /// Authentication method selected [default: the file's own kind]
    #[arg(long, value_enum)]
    method: Option<KindArg>,

    #[command(flatten)]
    now: CheckTime,

    /// The latest time the product saw before, RFC 3339 (detects a clock rolled back)
    #[arg(long, value_name = "RFC3339")]
    last_seen: Option<String>,

    /// Root public key to trust instead of the home's (repeatable): a PEM file, a raw 32-byte file,
    /// or 64 hex digits
    #[arg(long = "root-key", value_name = "FILE|HEX")]
    root_keys: Vec<PathBuf>,

    /// A signed revocation list to check the license against
    #[arg(long, value_name = "FILE")]
    revocations: Option<PathBuf>,

    /// The language of the causes: en or zh-CN (简体中文)
    #[arg(long, value_name = "LANG", default_value = "en", value_parser = verify::parse_lang)]
    lang: fanlic_verifier::Lang,

    #[command(flatten)]
    format: ResultOutput,
}

const INSPECT_AFTER_HELP: &str = "\
Needs no key and no home. Signatures are NOT checked: anyone can edit a file, so nothing shown
is trusted (use `fanlic verify`). Comment lines are shown as untrusted. The activation key is
never shown, only whether there is one. Exit status: 0 decoded, 1 does not decode, 2 I/O error.

EXAMPLES:
  fanlic inspect Container.lic
  fanlic inspect license.bin --json";

/// Show what a license file says, without checking it
#[derive(Debug, Args)]
#[command(after_help = INSPECT_AFTER_HELP)]
pub(crate) struct InspectArgs {
    /// The license: Container.lic (armored) or the raw binary file
    #[arg(value_name = "FILE")]
    file: PathBuf,

    #[command(flatten)]
    format: OutputArgs,
}

/// A license just issued, and the image tar it was written in, if it was.
struct IssuedIn<'a> {
    issued: &'a Issued,
    home: &'a Path,
    image: Option<&'a BuiltImage>,
}

impl Report for IssuedIn<'_> {
    fn human(&self) -> String {
        let image = self.image.map(Report::human).unwrap_or_default();
        format!("{}{image}", self.issued.human(self.home))
    }

    fn json(&self) -> Value {
        match self.image {
            Some(image) => serde_json::json!({ "license": self.issued.license, "image": image.json() }),
            None => self.issued.license.clone(),
        }
    }
}

/// `fanlic issue`.
pub(crate) fn issue(home: &Path, a: &IssueArgs) -> anyhow::Result<u8> {
    let text = IssueInput {
        company: &a.company,
        project: &a.project,
        app: &a.app,
        version: &a.version,
        expires: &a.expires,
        signed: &a.signed,
        not_before: a.not_before.as_deref(),
    };
    let mut req = IssueRequest::parse(&text, a.kind.into(), a.nodes, a.output.clone(), a.force)?;
    req.supersedes = match a.supersede.as_deref() {
        Some(id) => Some(id.trim().parse().map_err(|e| Error::InvalidInput {
            option: "--supersede",
            given: id.to_owned(),
            fix: format!("a license id is 32 hex digits ({e})"),
        })?),
        None => None,
    };
    req.by = Some(
        contracts::actor(a.by.as_deref()).unwrap_or_else(|_| fanlic_issuer::license::issue::ISSUE_ACTOR.to_owned()),
    );
    let is_tar = a.output.extension().is_some_and(|e| e.eq_ignore_ascii_case("tar"));
    if is_tar && req.kind != LicenseKind::PrivateCloud {
        anyhow::bail!(
            "-o {}: only private-cloud licenses come as an image tar; add --kind private-cloud, \
             or write a Container.lic",
            a.output.display()
        );
    }
    let mut h = Home::open(home)?;
    req.activation_policy = match a.activation_policy.as_deref() {
        Some(p) => contracts::parse_activation_policy("--activation-policy", p)?,
        None => {
            contracts::find_by_company(&mut h, &req.company)?.map(|c| c.terms.activation_policy).unwrap_or_default()
        }
    };
    if is_tar {
        // Read the server binary first: nothing is signed if it is missing.
        let base = h.base_layer()?;
        let (issued, built) = h.issue_image(&req, &base, clock::now()?)?;
        return Ok(emit(&a.format, &IssuedIn { issued: &issued, home: h.dir(), image: Some(&built) })?);
    }
    let issued = h.issue(&req, clock::now()?)?;
    Ok(emit(&a.format, &IssuedIn { issued: &issued, home: h.dir(), image: None })?)
}

/// Reads a license file, or the image tar that holds one.
fn read_license(file: &Path) -> Result<(Vec<u8>, Option<ImageContents>), Error> {
    let input = fs::read(file).map_err(|source| Error::Io {
        action: "cannot read the license",
        path: file.to_path_buf(),
        source,
    })?;
    let image = if image::looks_like_tar(&input) { Some(image::read_image_contents(&input, file)?) } else { None };
    Ok((input, image))
}

/// The license file inside `image`, else `input` itself.
fn license_bytes<'a>(input: &'a [u8], image: Option<&'a ImageContents>) -> &'a [u8] {
    image.map_or(input, |i| i.license_file.as_slice())
}

/// An image's problems make a "no" of a "yes".
fn with_image(code: u8, image: Option<&ImageContents>) -> u8 {
    if image.is_none_or(|i| i.problems.is_empty()) { code } else { code.max(1) }
}

/// What `verify` found: the license's report, and the image's when the file is one.
struct Checked {
    report: VerifyReport,
    image: Option<ImageContents>,
}

impl Report for Checked {
    fn human(&self) -> String {
        let head = self.image.as_ref().map(ImageContents::human).unwrap_or_default();
        format!("{head}{}", self.report.human())
    }

    fn json(&self) -> Value {
        let mut v = self.report.to_json();
        if let Some(i) = &self.image {
            set_field(&mut v, "image", i.to_json());
            if !i.problems.is_empty() {
                set_field(&mut v, "valid", Value::Bool(false));
            }
        }
        v
    }

    fn exit_code(&self) -> u8 {
        with_image(self.report.exit_code(), self.image.as_ref())
    }
}

/// `fanlic verify`.
pub(crate) fn verify(home: &Path, a: VerifyArgs) -> anyhow::Result<u8> {
    let roots = if a.root_keys.is_empty() {
        Home::open(home)?.root_keys()?
    } else {
        a.root_keys.iter().map(|p| load_root_public_key(p)).collect::<Result<Vec<_>, _>>()?
    };
    if roots.is_empty() {
        return Err(Error::Home(HomeError::NoRootKeys).into());
    }
    let now = a.now.resolve()?;
    let last_seen = a.last_seen.as_deref().map(|s| clock::parse_rfc3339("--last-seen", s)).transpose()?;
    let (input, image) = read_license(&a.file)?;
    let spec = CheckSpec {
        app_name: a.app,
        version: a.version,
        project: a.project,
        nodes: a.nodes,
        method: a.method.map(Into::into),
        now,
        last_seen,
    };
    let revocations = a.revocations.as_deref().map(|p| verify::read_revocations(p, &roots)).transpose()?;
    let report =
        verify::verify_with(license_bytes(&input, image.as_ref()), &roots, &spec, a.lang, revocations.as_deref());
    Ok(emit(&a.format, &Checked { report, image })?)
}

/// What `inspect` found: the license's contents, and the image's when the file is one.
struct Inspected {
    found: Inspection,
    image: Option<ImageContents>,
}

impl Report for Inspected {
    fn human(&self) -> String {
        let head = self.image.as_ref().map(ImageContents::human).unwrap_or_default();
        format!("{head}{}", self.found.human())
    }

    fn json(&self) -> Value {
        let mut v = self.found.to_json();
        if let Some(i) = &self.image {
            set_field(&mut v, "image", i.to_json());
        }
        v
    }

    fn exit_code(&self) -> u8 {
        with_image(self.found.exit_code(), self.image.as_ref())
    }
}

/// `fanlic inspect`.
pub(crate) fn inspect(a: &InspectArgs) -> anyhow::Result<u8> {
    let (input, image) = read_license(&a.file)?;
    let found = inspect::inspect(license_bytes(&input, image.as_ref()));
    Ok(emit(&a.format, &Inspected { found, image })?)
}

/// Sets `key` of a JSON object (a report's `to_json`); nothing for another value.
fn set_field(v: &mut Value, key: &str, value: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_owned(), value);
    }
}
