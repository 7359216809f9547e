//! One instance among several on one PostgreSQL database: the secrets it
//! must hold alike with the others, compared at start (and again while a
//! comparison is pending or failed). An instance whose secrets differ
//! keeps running, so that an operator sees why (`/readyz` and one clear
//! line on stderr), but refuses confirmations with 503: it would answer
//! codes and receipts the other instances cannot reproduce.

use std::sync::Mutex;

/// The name of the master secret's row in `instance_secrets`.
pub(crate) const MASTER_SECRET: &str = "activation-master";

/// The outcome of comparing one secret with the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Check {
    /// Not compared yet (the database was out of reach).
    Unknown,
    /// The same as the database records (or nothing to compare).
    Same,
    /// Different: what differs and what to do.
    Differs { problem: String, fix: String },
}

/// What this instance knows of its secrets.
#[derive(Debug)]
pub(crate) struct Instance {
    /// Whether other instances may share the database (PostgreSQL); on
    /// SQLite there is nothing to compare.
    pub(crate) shared: bool,
    master: Mutex<Check>,
    receipt: Mutex<Check>,
}

impl Instance {
    pub(crate) fn new(shared: bool) -> Self {
        let first = if shared { Check::Unknown } else { Check::Same };
        Self { shared, master: Mutex::new(first.clone()), receipt: Mutex::new(first) }
    }

    /// The master secret's comparison.
    pub(crate) fn master(&self) -> Check {
        self.master.lock().map_or(Check::Unknown, |c| c.clone())
    }

    /// The receipt key's comparison.
    pub(crate) fn receipt(&self) -> Check {
        self.receipt.lock().map_or(Check::Unknown, |c| c.clone())
    }

    pub(crate) fn set_master(&self, c: Check) {
        set(&self.master, "the activation master secret", c);
    }

    pub(crate) fn set_receipt(&self, c: Check) {
        set(&self.receipt, "the receipt key", c);
    }

    /// Whether the master secret differs: no token can be checked.
    pub(crate) fn master_differs(&self) -> bool {
        matches!(self.master(), Check::Differs { .. })
    }

    /// Whether confirmations are refused (a secret differs).
    pub(crate) fn refuses_confirmations(&self) -> bool {
        self.master_differs() || matches!(self.receipt(), Check::Differs { .. })
    }
}

/// Records a comparison; a new difference is said once on stderr, and so
/// is its end.
fn set(slot: &Mutex<Check>, what: &str, c: Check) {
    let Ok(mut old) = slot.lock() else { return };
    if *old == c {
        return;
    }
    match &c {
        Check::Differs { problem, fix } => eprintln!(
            "error: this instance of fanlic serve does not hold the same secret as the database records: {problem}. \
             {fix}. Until then /readyz answers 503 and activation confirmations are refused (503)."
        ),
        Check::Same if matches!(*old, Check::Differs { .. }) => {
            eprintln!("fanlic serve: {what} now matches the database: confirmations are accepted again");
        }
        _ => {}
    }
    *old = c;
}

/// Who recorded a secret: this host's name and the home's folder.
pub(crate) fn recorded_by(home: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    let host = if host.is_empty() { "an unnamed host".to_owned() } else { host };
    format!("{host}:{}", home.display())
}
