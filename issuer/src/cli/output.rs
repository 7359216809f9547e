//! The one way `fanlic` writes: standard output through [`Stdout`] (a
//! report through [`emit`], text through [`print`]), standard error through
//! [`warn`], and the exit status through [`finish`].
//!
//! A write to standard output that fails stops the command with
//! [`Error::Output`], which says why (`cannot write the output: No space left
//! on device`), and exit status 2. A closed pipe is not a failure: the reader
//! has read all it wanted (`fanlic audit | head -1`), so the rest of the
//! output is dropped, the command finishes its work as if it had printed it,
//! and exits with its own status and nothing on standard error.

use core::sync::atomic::{AtomicBool, Ordering};
use std::io::{self, Write};
use std::process::ExitCode;

use fanlic_issuer::Error;
use serde_json::Value;

use crate::cli::args::Output;

/// A command's result, in both of the forms it can be printed in.
pub(crate) trait Report {
    /// The text for people, newline-terminated.
    fn human(&self) -> String;

    /// The value `--json` prints.
    fn json(&self) -> Value;

    /// The exit status this result means: 0 unless the result is a "no"
    /// (`verify`: invalid, `inspect`: does not decode).
    fn exit_code(&self) -> u8 {
        0
    }
}

/// Prints `report` as `output` asks (pretty JSON, or the text for people)
/// and returns its exit status.
pub(crate) fn emit(output: &impl Output, report: &impl Report) -> Result<u8, Error> {
    if output.json() {
        print_json(&report.json())?
    } else {
        print(&report.human())?
    }
    Ok(report.exit_code())
}

/// Prints `v` as pretty JSON, then a newline.
pub(crate) fn print_json(v: &Value) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(v).map_err(|e| Error::Output(io::Error::other(e)))?;
    print(&format!("{text}\n"))
}

/// Prints `text` on standard output, as it is.
pub(crate) fn print(text: &str) -> Result<(), Error> {
    let mut out = Stdout;
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Error::Output)
}

/// Prints `line` and a newline on standard error. Nothing is left to tell
/// when that fails, so a failure is ignored.
pub(crate) fn warn(line: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Set once a write finds standard output's reader gone.
static READER_GONE: AtomicBool = AtomicBool::new(false);

/// Standard output, where a closed pipe swallows what is written instead
/// of failing.
#[derive(Debug)]
pub(crate) struct Stdout;

impl Stdout {
    fn closed<T>(result: io::Result<T>, all: T) -> io::Result<T> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                READER_GONE.store(true, Ordering::Relaxed);
                Ok(all)
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if READER_GONE.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        Self::closed(io::stdout().lock().write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if READER_GONE.load(Ordering::Relaxed) {
            return Ok(());
        }
        Self::closed(io::stdout().lock().flush(), ())
    }
}

/// The exit status of a command's result; an error is printed first.
pub(crate) fn finish(result: anyhow::Result<u8>) -> ExitCode {
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            warn(&format!("error: {}", chain(&e)));
            ExitCode::from(e.downcast_ref::<Error>().map_or(2, Error::exit_code))
        }
    }
}

/// The error and every cause under it, `: `-separated; a cause whose text
/// the message already quotes (most of fanlic's messages say their cause)
/// is not said twice.
fn chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let said = cause.to_string();
        if text.is_empty() {
            text = said;
        } else if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
    }
    text
}

/// What clap has to say when it does not parse a command line (`--help`,
/// `--version`, a usage error), printed as clap prints it, with clap's exit
/// status; a failure to write `--help` is an output error like any other.
pub(crate) fn clap_exit(e: &clap::Error) -> ExitCode {
    match Stdout::closed(e.print(), ()) {
        Ok(()) => ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2)),
        Err(io) => finish(Err(Error::Output(io).into())),
    }
}

/// [`Report`] for library results that already have `human()` and
/// `to_json()` (and exit 0).
macro_rules! library_report {
    ($($t:ty),* $(,)?) => {
        $(
            impl $crate::cli::output::Report for $t {
                fn human(&self) -> String {
                    <$t>::human(self)
                }

                fn json(&self) -> serde_json::Value {
                    self.to_json()
                }
            }
        )*
    };
}
pub(crate) use library_report;
