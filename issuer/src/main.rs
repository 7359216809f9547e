//! `fanlic`: issue and check licenses for FineReport / FineBI.
//!
//! Parsing and dispatch only: each command is in `cli/`, the logic in the
//! `fanlic_issuer` library.
#![forbid(unsafe_code)]

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use cli::{
    alerts, audit, config, console, contract, db, demo, image, ingest, init, keys, license, outbox, output, revoke,
    serve, staff, watch,
};

/// Issue and check fanlic licenses (Container.lic) for FineReport and FineBI.
#[derive(Debug, Parser)]
#[command(name = "fanlic", version, after_help = cli::MAIN_AFTER_HELP, term_width = 100)]
struct Cli {
    /// The vendor home [default: $FANLIC_HOME, else ./fanlic-home]
    #[arg(long, global = true, value_name = "DIR", env = "FANLIC_HOME", hide_env = true, display_order = 900)]
    home: Option<PathBuf>,

    /// Keep the records in this PostgreSQL database instead of the home's fanlic.db
    /// (postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=require&sslrootcert=CA.pem)
    /// [env: FANLIC_DATABASE_URL]
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "FANLIC_DATABASE_URL",
        hide_env = true,
        hide_env_values = true,
        display_order = 901
    )]
    database: Option<fanlic_issuer::store::PostgresUrl>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::InitArgs),
    Issue(license::IssueArgs),
    Image(image::ImageArgs),
    Verify(license::VerifyArgs),
    Inspect(license::InspectArgs),
    Keys(keys::KeysArgs),
    Contract(contract::ContractArgs),
    Outbox(outbox::OutboxArgs),
    Ingest(ingest::IngestArgs),
    Watch(watch::WatchArgs),
    Prune(ingest::PruneArgs),
    Review(ingest::ReviewArgs),
    Alerts(alerts::AlertsArgs),
    Approve(ingest::ApproveArgs),
    Reject(ingest::RejectArgs),
    Audit(audit::AuditArgs),
    Revoke(revoke::RevokeArgs),
    Unbind(revoke::UnbindArgs),
    Revocations(revoke::RevocationsArgs),
    Serve(serve::ServeArgs),
    Console(console::ConsoleArgs),
    Staff(staff::StaffArgs),
    Config(config::ConfigArgs),
    Db(db::DbArgs),
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return output::clap_exit(&e),
    };
    if let Some(url) = cli.database {
        fanlic_issuer::home::use_database(url);
    }
    let home = cli.home.unwrap_or_else(|| PathBuf::from("fanlic-home"));
    let home = home.as_path();
    output::finish(match cli.command {
        Command::Init(a) => init::run(home, &a),
        Command::Issue(a) => license::issue(home, &a),
        Command::Image(a) => image::run(home, &a),
        Command::Verify(a) => license::verify(home, a),
        Command::Inspect(a) => license::inspect(&a),
        Command::Keys(a) => keys::run(home, a),
        Command::Contract(a) => contract::run(home, a),
        Command::Outbox(a) => outbox::run(home, a),
        Command::Ingest(a) => ingest::ingest(home, &a),
        Command::Watch(a) => watch::watch(home, &a),
        Command::Prune(a) => ingest::prune(home, &a),
        Command::Review(a) => ingest::review(home, &a),
        Command::Alerts(a) => alerts::run(home, &a),
        Command::Approve(a) => ingest::approve(home, &a),
        Command::Reject(a) => ingest::reject(home, &a),
        Command::Audit(a) => audit::run(home, &a),
        Command::Revoke(a) => revoke::revoke(home, &a),
        Command::Unbind(a) => revoke::unbind(home, &a),
        Command::Revocations(a) => revoke::revocations(home, a),
        Command::Serve(a) => serve::run(home, &a),
        Command::Console(a) => console::run(home, &a),
        Command::Staff(a) => staff::run(home, a),
        Command::Config(a) => config::run(home, &a),
        Command::Db(a) => db::run(home, &a),
        Command::Demo(a) => demo::run(&a),
    })
}
