//! `fanruan-license-server`: the authorization server of the container
//! private cloud. See the library's documentation for the layout.
#![forbid(unsafe_code)]

use core::net::IpAddr;
use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use fanlic_license_server::{DEFAULT_PORT, Options, run};

const AFTER_HELP: &str = "\
Files:
  LICENSE_DIR/server.lic      the server license (armored, kind private-cloud)
  LICENSE_DIR/image.key       the image key (PKCS#8 PEM, mode 0600)
  LICENSE_DIR/root-keys.pem   the vendor root public keys (PEM PUBLIC KEY blocks)
  CONFIG_DIR/instance.key     made at first start (PKCS#8 PEM, mode 0600); never copy it elsewhere
  CONFIG_DIR/privateConfig    the state; send it to the vendor for a migration
  CONFIG_DIR/join-secret      made at first start (mode 0600): configure it in every application
  CONFIG_DIR/code-entry-locks wrong-code counts and locks (mode 0600), kept across restarts
  CONFIG_DIR/tls/cert.pem     made at first start for localhost, 127.0.0.1 and --addresses,
  CONFIG_DIR/tls/key.pem        or mount your own pair there (then used as is)

Pages (HTTPS):
  /license/qrcode             scan the QR code, enter the 6-digit code
  /license/status             JSON status for scripts (a page for a browser, listing the nodes)
  /api/v1/register|heartbeat|deregister   for the FanRuan applications

Examples:
  # In the container (the defaults), reachable by the applications at 192.168.220.122:
  FANLIC_ADDRESSES=192.168.220.122 fanruan-license-server
  # Outside a container:
  fanruan-license-server --license-dir ./license --config-dir ./config \\
      --port 18081 --addresses 192.168.220.122,license.example.internal
  # Then open https://192.168.220.122:18081/license/qrcode
";

/// The authorization server of the container private cloud: activated once
/// by QR code and 6-digit code, it answers the FanRuan applications'
/// registrations and heartbeats (every 2 hours).
#[derive(Debug, Parser)]
#[command(name = "fanruan-license-server", version, after_help = AFTER_HELP)]
struct Cli {
    /// Folder of server.lic, image.key and root-keys.pem.
    #[arg(long, env = "FANLIC_LICENSE_DIR", default_value = "/app/license")]
    license_dir: PathBuf,
    /// Folder of instance.key, privateConfig and tls/ (keep it on a volume).
    #[arg(long, env = "FANLIC_CONFIG_DIR", default_value = "/app/config")]
    config_dir: PathBuf,
    /// HTTPS port (0: any free port).
    #[arg(long, env = "FANLIC_PORT", default_value_t = DEFAULT_PORT)]
    port: u16,
    /// Address to listen on.
    #[arg(long, env = "FANLIC_LISTEN_ADDRESS", default_value = "0.0.0.0")]
    listen_address: IpAddr,
    /// Comma-separated IP addresses and DNS names the applications use to
    /// reach this server; they go into the TLS certificate.
    #[arg(long, env = "FANLIC_ADDRESSES", value_delimiter = ',')]
    addresses: Vec<String>,
    /// The vendor's activation service, instead of the license's.
    #[arg(long, env = "FANLIC_ACTIVATION_BASE_URL")]
    activation_base_url: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let opts = Options {
        license_dir: cli.license_dir,
        config_dir: cli.config_dir,
        listen_address: cli.listen_address,
        port: cli.port,
        addresses: cli.addresses.into_iter().map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect(),
        activation_base_url: cli.activation_base_url,
    };
    match run(&opts).map_err(anyhow::Error::from) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
