//! A real SMTP server for the tests that send mail: aiosmtpd from PyPI,
//! delivering into a Maildir.

use core::time::Duration;
use std::{
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    thread,
    time::Instant,
};

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// aiosmtpd on 127.0.0.1:`port`, delivering into the Maildir `dir`; killed on drop.
pub struct SmtpServer(Child);

impl SmtpServer {
    /// Starts it and waits until it accepts connections.
    pub fn start(port: u16, dir: &Path) -> Self {
        let check = Command::new("python3").args(["-c", "import aiosmtpd"]).status();
        assert!(
            matches!(check, Ok(s) if s.success()),
            "these tests need a real SMTP server: python3 with aiosmtpd. Install it with \
             `python3 -m pip install aiosmtpd` (CI's .ci/run does)"
        );
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start python3 -m aiosmtpd");
        let server = Self(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "aiosmtpd did not listen on port {port}");
            thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
