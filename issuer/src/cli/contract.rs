//! `fanlic contract`: the contract registry (add, list, show, update,
//! disable, import).

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use fanlic_formats::Timestamp;
use fanlic_issuer::contracts::{self, AuditEntry, Contract, ContractChanges, ImportReport, OPTION_NAMES, TermsText};
use fanlic_issuer::util::clock;
use fanlic_issuer::{Error, Home};
use serde_json::Value;

use crate::cli::args::{ByArg, ContractOutput, OutputArgs, ResultOutput};
use crate::cli::output::{Report, emit};

const CONTRACT_AFTER_HELP: &str = "\
The registry of what each customer bought, in the home's database. Companies are unique,
compared ignoring case, runs of white space and full-width forms. Addresses are stored trimmed
and lowercase, and an address may belong to ONE enabled contract only (so a sender names one
contract); disabled contracts keep theirs. Every change records who (--by, else $USER) and when,
in the contract and in the audit trail (`fanlic audit --contract ID`).

EXAMPLES:
  fanlic contract add --company 'Acme Ltd' --email it@acme.example --signed 2026/11/20 \\
      --product FineReport --methods local-container --max-nodes 2 --version 11.0 --expires never
  fanlic contract import contracts.csv
  fanlic contract list --all
  fanlic contract show 'Acme Ltd' --json
  fanlic contract update 1 --max-nodes 4 --expires 2028-12-31
  fanlic contract disable 'Acme Ltd'";

/// The contract registry: add, list, show, update, disable, import
#[derive(Debug, Args)]
#[command(after_help = CONTRACT_AFTER_HELP)]
pub(crate) struct ContractArgs {
    #[command(subcommand)]
    command: ContractCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ContractCommand {
    Add(ContractAddArgs),
    List(ContractListArgs),
    Show(ContractShowArgs),
    Update(ContractUpdateArgs),
    Disable(ContractDisableArgs),
    Import(ContractImportArgs),
}

/// Record a new contract (enabled)
#[derive(Debug, Args)]
#[command(after_help = "\
Fails if the company already has a contract (use `fanlic contract update`), or if an address
already belongs to another enabled contract.

EXAMPLES:
  fanlic contract add --company 'Acme Ltd' --email it@acme.example --signed 2026/11/20 \\
      --product FineReport --methods local-container --max-nodes 2 --version 11.0 --expires never
  fanlic contract add --company 'Beta Co' --email 'ops@beta.example;cto@beta.example' \\
      --signed 2026/01/05 --product FineBI --methods local-container,private-cloud --max-nodes 4 \\
      --version 6.1 --expires 2027-12-31 --by alice --json")]
pub(crate) struct ContractAddArgs {
    /// Customer company, as in the registration mail
    #[arg(long, value_name = "NAME")]
    company: String,

    /// Address allowed to request licenses (repeatable, or several separated by ;)
    #[arg(long = "email", value_name = "ADDR", required = true)]
    emails: Vec<String>,

    /// Contract signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: String,

    /// Product: FineReport or FineBI
    #[arg(long, visible_alias = "app", value_name = "NAME")]
    product: String,

    /// Registration methods allowed: local-container, private-cloud, or both (comma list)
    #[arg(long, value_name = "LIST")]
    methods: String,

    /// Most cluster nodes purchased
    #[arg(long, value_name = "N")]
    max_nodes: String,

    /// How many projects may hold a license at once (one Container.lic per project)
    #[arg(long, value_name = "N", default_value = "1")]
    max_licenses: String,

    /// How licenses are activated: code (the admin types a 6-digit code) or receipt (the
    /// vendor's service signs a receipt; the license cannot make codes)
    #[arg(long, value_name = "POLICY", default_value = "code")]
    activation_policy: String,

    /// Days a private-cloud server runs on one receipt before it must be activated again
    /// (needs --activation-policy receipt and the private-cloud method) [default: no lease]
    #[arg(long, value_name = "DAYS")]
    lease_days: Option<String>,

    /// Licensed version, major.minor
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: String,

    /// Last day of the term (UTC), or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: String,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: ContractOutput,
}

/// List contracts (disabled ones only with --all)
#[derive(Debug, Args)]
#[command(after_help = "\
Status: active, expired (enabled, but its term has ended), disabled (shown only with --all).

EXAMPLES:
  fanlic contract list
  fanlic contract list --all --json")]
pub(crate) struct ContractListArgs {
    /// Include disabled contracts
    #[arg(long)]
    all: bool,

    #[command(flatten)]
    format: OutputArgs,
}

/// Show one contract, by id or company
#[derive(Debug, Args)]
#[command(after_help = "\
A number is taken as a contract id first; otherwise the company is matched ignoring case, runs of
white space and full-width forms.

EXAMPLES:
  fanlic contract show 1 --history
  fanlic contract show 'acme ltd' --json")]
pub(crate) struct ContractShowArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    /// Also list every change: when, what (add, import, update, disable, enable), by whom
    #[arg(long)]
    history: bool,

    #[command(flatten)]
    format: OutputArgs,
}

/// Change a contract's fields (those given; the others stay)
#[derive(Debug, Args)]
#[command(after_help = "\
--email replaces ALL the contract's addresses. --enable enables a disabled contract again (its
addresses must not belong to another enabled contract).

EXAMPLES:
  fanlic contract update 1 --max-nodes 4 --expires 2028-12-31
  fanlic contract update 'Acme Ltd' --email 'it@acme.example;ops@acme.example' --by alice
  fanlic contract update 'Acme Ltd' --enable --json")]
pub(crate) struct ContractUpdateArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    /// New company name
    #[arg(long, value_name = "NAME")]
    company: Option<String>,

    /// New addresses, replacing all (repeatable, or several separated by ;)
    #[arg(long = "email", value_name = "ADDR")]
    emails: Vec<String>,

    /// New signing date
    #[arg(long, value_name = "YYYY/MM/DD")]
    signed: Option<String>,

    /// New product: FineReport or FineBI
    #[arg(long, visible_alias = "app", value_name = "NAME")]
    product: Option<String>,

    /// New registration methods (comma list)
    #[arg(long, value_name = "LIST")]
    methods: Option<String>,

    /// New most cluster nodes
    #[arg(long, value_name = "N")]
    max_nodes: Option<String>,

    /// New number of projects that may hold a license at once
    #[arg(long, value_name = "N")]
    max_licenses: Option<String>,

    /// New activation policy: code or receipt (for licenses issued from now on)
    #[arg(long, value_name = "POLICY")]
    activation_policy: Option<String>,

    /// New private-cloud lease in days, or `none` to remove it
    #[arg(long, value_name = "DAYS|none")]
    lease_days: Option<String>,

    /// New licensed version, major.minor
    #[arg(long, value_name = "MAJOR.MINOR")]
    version: Option<String>,

    /// New last day of the term, or `never`
    #[arg(long, value_name = "YYYY-MM-DD|never")]
    expires: Option<String>,

    /// Enable a disabled contract again
    #[arg(long)]
    enable: bool,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: ContractOutput,
}

/// Disable a contract: no new licenses under it (it stays in the registry)
#[derive(Debug, Args)]
#[command(after_help = "\
Disabling frees its addresses for other contracts; `fanlic contract update ID --enable` undoes it.

EXAMPLES:
  fanlic contract disable 1
  fanlic contract disable 'Acme Ltd' --by alice --json")]
pub(crate) struct ContractDisableArgs {
    /// Contract id or company
    #[arg(value_name = "ID|COMPANY")]
    which: String,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: ContractOutput,
}

/// Import contracts from a CSV file, all or nothing
#[derive(Debug, Args)]
#[command(after_help = "\
The first line must be exactly:
  company,email,signed,product,methods,max_nodes,version,expires
optionally followed by a ninth column, max_licenses, then activation_policy, then lease_days.
email: one address or several separated by ; . methods: local-container, private-cloud, or both
as a quoted comma list (\"local-container,private-cloud\"). signed: YYYY/MM/DD. expires:
YYYY-MM-DD or never. max_nodes: 1 or more. version: major.minor. max_licenses: how many projects
may hold a license at once, 1 or more (1 when the column is absent or empty). activation_policy:
code or receipt (code when absent or empty). lease_days: days a private-cloud server runs on one
receipt (receipt policy and private-cloud method only; no lease when absent or empty).

Every row is checked first; if any is bad, NOTHING is imported and every problem is listed with
its line number (exit status 2). A company already in the registry is a problem unless --update,
which replaces that contract's terms (keeping it enabled or disabled). One row per company, and an
address on one row only. New contracts are enabled.

EXAMPLES:
  fanlic contract import contracts.csv
  fanlic contract import contracts.csv --update --by alice --json")]
pub(crate) struct ContractImportArgs {
    /// The CSV file
    #[arg(value_name = "FILE.csv")]
    file: PathBuf,

    /// Replace the terms of companies already in the registry
    #[arg(long)]
    update: bool,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: ResultOutput,
}

fn emails_arg(given: &[String]) -> Result<Vec<String>, Error> {
    contracts::parse_emails("--email", &given.join(";"))
}

/// `fanlic contract ...`.
pub(crate) fn run(home: &Path, a: ContractArgs) -> anyhow::Result<u8> {
    let now = clock::now()?;
    Ok(match a.command {
        ContractCommand::Add(a) => {
            let email = a.emails.join(";");
            let text = TermsText {
                company: &a.company,
                email: &email,
                signed: &a.signed,
                product: &a.product,
                methods: &a.methods,
                max_nodes: &a.max_nodes,
                version: &a.version,
                expires: &a.expires,
                max_licenses: Some(&a.max_licenses),
                activation_policy: Some(&a.activation_policy),
                lease_days: a.lease_days.as_deref(),
            };
            // Every problem, one `error:` line each.
            let terms = text.parse(&OPTION_NAMES).map_err(|errors| {
                anyhow::anyhow!(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\nerror: "))
            })?;
            let by = a.by.actor()?;
            let c = contracts::add(&mut Home::open(home)?, &terms, &by, now)?;
            emit(&a.format, &Shown { contract: c, history: None, now })?
        }
        ContractCommand::List(a) => {
            let contracts = contracts::list(&mut Home::open(home)?, a.all)?;
            emit(&a.format, &Listed { contracts, all: a.all, now })?
        }
        ContractCommand::Show(a) => {
            let mut h = Home::open(home)?;
            let contract = contracts::resolve(&mut h, &a.which)?;
            let history = if a.history { Some(contracts::history(&mut h, contract.id)?) } else { None };
            emit(&a.format, &Shown { contract, history, now })?
        }
        ContractCommand::Update(a) => {
            let n = OPTION_NAMES;
            let changes = ContractChanges {
                company: a.company.as_deref().map(|s| contracts::parse_company(n.company, s)).transpose()?,
                emails: if a.emails.is_empty() { None } else { Some(emails_arg(&a.emails)?) },
                signed: a.signed.as_deref().map(|s| contracts::parse_signed(n.signed, s)).transpose()?,
                product: a.product.as_deref().map(|s| contracts::parse_product(n.product, s)).transpose()?,
                methods: a.methods.as_deref().map(|s| contracts::parse_methods(n.methods, s)).transpose()?,
                max_nodes: a.max_nodes.as_deref().map(|s| contracts::parse_max_nodes(n.max_nodes, s)).transpose()?,
                max_licenses: a
                    .max_licenses
                    .as_deref()
                    .map(|s| contracts::parse_max_licenses(n.max_licenses, s))
                    .transpose()?,
                activation_policy: a
                    .activation_policy
                    .as_deref()
                    .map(|s| contracts::parse_activation_policy(n.activation_policy, s))
                    .transpose()?,
                lease_days: match a.lease_days.as_deref().map(str::trim) {
                    None => None,
                    Some("none") => Some(None),
                    Some(s) => Some(Some(contracts::parse_lease_days(n.lease_days, s)?)),
                },
                version: a.version.as_deref().map(|s| contracts::parse_version(n.version, s)).transpose()?,
                expires: a.expires.as_deref().map(|s| contracts::parse_expires(n.expires, s)).transpose()?,
                enable: a.enable,
            };
            if changes == ContractChanges::default() {
                return Err(Error::InvalidInput {
                    option: "contract update",
                    given: a.which,
                    fix: "nothing to change: give at least one of --company, --email, --signed, --product, \
                          --methods, --max-nodes, --max-licenses, --activation-policy, --lease-days, --version, --expires, \
                          --enable"
                        .to_owned(),
                }
                .into());
            }
            let by = a.by.actor()?;
            let c = contracts::update(&mut Home::open(home)?, &a.which, &changes, &by, now)?;
            emit(&a.format, &Shown { contract: c, history: None, now })?
        }
        ContractCommand::Disable(a) => {
            let by = a.by.actor()?;
            let c = contracts::disable(&mut Home::open(home)?, &a.which, &by, now)?;
            emit(&a.format, &Shown { contract: c, history: None, now })?
        }
        ContractCommand::Import(a) => {
            let by = a.by.actor()?;
            let report = contracts::import(&mut Home::open(home)?, &a.file, a.update, &by, now)?;
            emit(&a.format, &Imported { report, now })?
        }
    })
}

/// One contract, with its changes when asked for them.
struct Shown {
    contract: Contract,
    history: Option<Vec<AuditEntry>>,
    now: Timestamp,
}

impl Report for Shown {
    fn human(&self) -> String {
        let history = self.history.as_deref().map(contracts::history_human).unwrap_or_default();
        format!("{}{history}", self.contract.human(self.now))
    }

    fn json(&self) -> Value {
        let mut v = self.contract.to_json(self.now);
        if let (Some(history), Some(o)) = (&self.history, v.as_object_mut()) {
            o.insert("history".to_owned(), history.iter().map(AuditEntry::to_json).collect());
        }
        v
    }
}

/// The contracts `contract list` shows (`all`: disabled ones too).
struct Listed {
    contracts: Vec<Contract>,
    all: bool,
    now: Timestamp,
}

impl Report for Listed {
    fn human(&self) -> String {
        contracts::list_human(&self.contracts, self.now, self.all)
    }

    fn json(&self) -> Value {
        self.contracts.iter().map(|c| c.to_json(self.now)).collect()
    }
}

/// What `contract import` did.
struct Imported {
    report: ImportReport,
    now: Timestamp,
}

impl Report for Imported {
    fn human(&self) -> String {
        self.report.human(self.now)
    }

    fn json(&self) -> Value {
        self.report.to_json(self.now)
    }
}
