//! `fanlic config`: show or change the home's settings.

use fanlic_issuer::ImageBuildError;
use std::path::{Path, PathBuf};

use clap::Args;
use fanlic_issuer::ingest::notify;
use fanlic_issuer::util::{clock, input};
use fanlic_issuer::{Error, Home, contracts, home, outbox};
use serde_json::Value;

use crate::cli::args::{ByArg, OutputArgs};
use crate::cli::output::{Report, emit};

/// Show or change the home's settings: the reply sender and the trusted authserv ids
#[derive(Debug, Args)]
#[command(after_help = "\
With no option, shows the settings. Changes are checked first and made only if all are valid.
  reply sender    the From of every reply (licenses, rejections); until set, fanlic@localhost,
                  which receiving servers may refuse: set your licensing mailbox
  authserv ids    the ids in Authentication-Results headers that `fanlic ingest` trusts: those
                  of the mail servers that receive the registration mail (see README)
  own Received    how many Received lines your own servers add above those results on every
  lines           message (a relay or fetcher after the authenticating server); default 0
  staff notify    the staff address told of each new held request (its reasons and a link to
                  its console page); `--staff-notify none` stops these mails
  console URL     the console's public base URL, for those links; default http://127.0.0.1:8390

EXAMPLES:
  fanlic config
  fanlic config --reply-from licenses@vendor.example
  fanlic config --staff-notify team@vendor.example --console-url https://console.vendor.example
  fanlic config --add-authserv-id mx2.vendor.example --remove-authserv-id mx.old.example --json")]
pub(crate) struct ConfigArgs {
    /// The address replies are sent from
    #[arg(long, value_name = "ADDR")]
    reply_from: Option<String>,

    /// Trust one more authserv id (repeatable)
    #[arg(long = "add-authserv-id", value_name = "ID")]
    add_authserv_ids: Vec<String>,

    /// Stop trusting an authserv id (repeatable)
    #[arg(long = "remove-authserv-id", value_name = "ID")]
    remove_authserv_ids: Vec<String>,

    /// Received lines your own servers add above the trusted results (0 to 5)
    #[arg(long, value_name = "N")]
    own_received_lines: Option<usize>,

    /// Where new licenses send phones to get the activation code (`fanlic serve`'s public URL)
    #[arg(long, value_name = "URL")]
    activation_base_url: Option<String>,

    /// Tell this staff address of each new held request (`none`: nobody)
    #[arg(long, value_name = "ADDR")]
    staff_notify: Option<String>,

    /// The console's public base URL, for links in mail to staff
    #[arg(long, value_name = "URL")]
    console_url: Option<String>,

    /// The authorization server binary that goes into private-cloud images
    #[arg(long, value_name = "PATH")]
    license_server_binary: Option<PathBuf>,

    #[command(flatten)]
    by: ByArg,

    #[command(flatten)]
    format: OutputArgs,
}

/// `fanlic config`: every change is checked before any is made.
pub(crate) fn run(home_dir: &Path, a: &ConfigArgs) -> anyhow::Result<u8> {
    let mut h = Home::open(home_dir)?;
    let now = clock::now()?;
    // Check everything before changing anything.
    let trusted = h.authserv_ids()?;
    for id in &a.add_authserv_ids {
        input::authserv_id(id)?;
    }
    for id in &a.remove_authserv_ids {
        if !trusted.iter().any(|t| t == id.trim()) {
            anyhow::bail!(
                "--remove-authserv-id {id}: not a trusted authserv id (trusted: {}); nothing was changed",
                if trusted.is_empty() { "none".to_owned() } else { trusted.join(", ") }
            );
        }
    }
    if let Some(addr) = &a.reply_from {
        contracts::normalize_email("--reply-from", addr)?;
    }
    if let Some(n) = a.own_received_lines
        && n > home::MAX_OWN_RECEIVED_LINES
    {
        anyhow::bail!(
            "--own-received-lines {n}: at most {}: count only the Received lines your own servers add; nothing was changed",
            home::MAX_OWN_RECEIVED_LINES
        );
    }
    if let Some(url) = &a.activation_base_url {
        home::activation::check_base_url(url)?;
    }
    let staff_notify = a.staff_notify.as_deref().map(str::trim).filter(|s| !s.eq_ignore_ascii_case("none"));
    if let Some(addr) = staff_notify {
        contracts::normalize_email("--staff-notify", addr)?;
    }
    if let Some(url) = &a.console_url {
        notify::check_console_url(url)?;
    }
    if let Some(p) = &a.license_server_binary
        && !p.is_file()
    {
        return Err(Error::Image(ImageBuildError::ServerBinaryMissing { path: p.clone() }).into());
    }
    let changes = a.reply_from.is_some()
        || a.license_server_binary.is_some()
        || a.own_received_lines.is_some()
        || a.activation_base_url.is_some()
        || a.staff_notify.is_some()
        || a.console_url.is_some()
        || !a.add_authserv_ids.is_empty()
        || !a.remove_authserv_ids.is_empty();
    if changes {
        let by = a.by.actor()?;
        if let Some(addr) = &a.reply_from {
            h.set_reply_from(addr, now, &by)?;
        }
        for id in &a.add_authserv_ids {
            h.add_authserv_id(id, now)?;
        }
        for id in &a.remove_authserv_ids {
            h.remove_authserv_id(id)?;
        }
        if let Some(n) = a.own_received_lines {
            h.set_own_received_lines(n, now, &by)?;
        }
        if let Some(url) = &a.activation_base_url {
            h.set_activation_base_url(url, now, &by)?;
        }
        if let Some(p) = &a.license_server_binary {
            h.set_license_server_binary(p, now, &by)?;
        }
        if a.staff_notify.is_some() {
            notify::set_staff_notify(&mut h, staff_notify, now, &by)?;
        }
        if let Some(url) = &a.console_url {
            notify::set_console_url(&mut h, url, now, &by)?;
        }
    }
    let settings = Settings {
        license_server_binary: h.license_server_binary()?,
        activation_base_url: h.activation_base_url()?,
        activation_master: h.activation_master_path()?,
        reply_from: h.reply_from()?,
        authserv_ids: h.authserv_ids()?,
        own_received_lines: h.own_received_lines()?,
        staff_notify: notify::staff_notify(&h)?,
        console_url: notify::console_url(&h)?,
    };
    Ok(emit(&a.format, &settings)?)
}

/// The home's settings, as `fanlic config` shows them.
struct Settings {
    license_server_binary: PathBuf,
    activation_base_url: String,
    activation_master: PathBuf,
    reply_from: String,
    authserv_ids: Vec<String>,
    own_received_lines: usize,
    staff_notify: Option<String>,
    console_url: String,
}

impl Settings {
    fn reply_from_is_default(&self) -> bool {
        self.reply_from == outbox::DEFAULT_FROM
    }
}

impl Report for Settings {
    fn json(&self) -> Value {
        serde_json::json!({
            "reply_from": self.reply_from,
            "reply_from_is_default": self.reply_from_is_default(),
            "authserv_ids": self.authserv_ids,
            "own_received_lines": self.own_received_lines,
            "activation_base_url": self.activation_base_url,
            "activation_master_secret": self.activation_master,
            "activation_master_secret_present": self.activation_master.exists(),
            "license_server_binary": self.license_server_binary,
            "license_server_binary_present": self.license_server_binary.is_file(),
            "staff_notify": self.staff_notify,
            "console_url": self.console_url,
        })
    }

    fn human(&self) -> String {
        let Self { license_server_binary, activation_base_url, activation_master, reply_from, .. } = self;
        let own = self.own_received_lines;
        let note = if self.reply_from_is_default() { " (the default: set yours with --reply-from)" } else { "" };
        let ids = if self.authserv_ids.is_empty() {
            "none: every sender is held as unauthenticated (add one with --add-authserv-id)".to_owned()
        } else {
            self.authserv_ids.join(", ")
        };
        let master = if activation_master.exists() {
            activation_master.display().to_string()
        } else {
            format!("{} (missing: licenses get no activation key)", activation_master.display())
        };
        format!(
            "reply sender:  {reply_from}{note}\nauthserv ids:  {ids}\nown Received lines above them: {own}\n\
             activation base URL: {activation_base_url}\nactivation master secret: {master}\n\
             license server binary (for images): {}{}\n\
             staff notified of held requests: {}\nconsole URL (for links): {}\n",
            license_server_binary.display(),
            if license_server_binary.is_file() { "" } else { " (missing: build it, see `fanlic image --help`)" },
            self.staff_notify.as_deref().unwrap_or("nobody (set an address with --staff-notify)"),
            self.console_url,
        )
    }
}
