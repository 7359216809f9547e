//! Sending a flush's replies over SMTP: one connection for the whole flush
//! (EHLO, STARTTLS and AUTH once), and each message's content, dot-stuffed
//! and with its final `.`, in **one** write. lettre's own `send` writes the
//! final `\r\n.\r\n` apart from the content; with Nagle's algorithm on
//! (lettre does not set TCP_NODELAY) that small write waits for the
//! server's delayed ACK of the content: ~40 ms a reply on loopback, which
//! made a flush of 10,000 replies take minutes.

use lettre::Message;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::{SmtpConfig, SmtpTls};

/// Why a send failed.
pub(super) enum SendError {
    /// What the SMTP server or the connection said (permanent or not).
    Smtp(lettre::transport::smtp::Error),
    /// The message cannot go to this server as it is (it would be refused
    /// again): e.g. 8-bit content and no 8BITMIME.
    Refused(String),
}

impl From<lettre::transport::smtp::Error> for SendError {
    fn from(e: lettre::transport::smtp::Error) -> Self {
        SendError::Smtp(e)
    }
}

/// One open SMTP connection, logged in.
pub(super) struct Session {
    conn: SmtpConnection,
}

impl Session {
    /// Connects, says EHLO, upgrades with STARTTLS (required when asked
    /// for) and logs in, as `SmtpConfig` says.
    pub(super) fn open(cfg: &SmtpConfig) -> Result<Self, SendError> {
        let hello = ClientId::default();
        let params = match cfg.tls {
            SmtpTls::None => None,
            SmtpTls::StartTls | SmtpTls::Tls => Some(TlsParameters::new_rustls(cfg.host.clone())?),
        };
        let wrapper = params.as_ref().filter(|_| cfg.tls == SmtpTls::Tls);
        let mut conn =
            SmtpConnection::connect((cfg.host.as_str(), cfg.port()), Some(cfg.timeout), &hello, wrapper, None)?;
        if let (SmtpTls::StartTls, Some(params)) = (cfg.tls, &params) {
            if !conn.can_starttls() {
                conn.abort();
                return Err(SendError::Refused(format!(
                    "{} does not offer STARTTLS, which --smtp-tls starttls requires",
                    cfg.url()
                )));
            }
            conn.starttls(params, &hello)?;
        }
        if let Some((user, password)) = &cfg.credentials {
            let credentials = Credentials::new(user.clone(), password.clone());
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)?;
        }
        Ok(Self { conn })
    }

    /// Sends one message: MAIL, RCPT, DATA, then its content in one write.
    /// After an error the session is not to be used again.
    pub(super) fn send(&mut self, msg: &Message) -> Result<(), SendError> {
        let envelope: &Envelope = msg.envelope();
        let email = msg.formatted();
        let mut options = Vec::new();
        if envelope.to().iter().chain(envelope.from()).any(|a| !AsRef::<str>::as_ref(a).is_ascii()) {
            if !self.conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(SendError::Refused("non-ASCII addresses, and the server has no SMTPUTF8".into()));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !email.is_ascii() {
            if !self.conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(SendError::Refused("8-bit content, and the server has no 8BITMIME".into()));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.conn.command(Mail::new(envelope.from().cloned(), options))?;
        for to in envelope.to() {
            self.conn.command(Rcpt::new(to.clone(), vec![]))?;
        }
        self.conn.command(Data)?;
        match String::from_utf8(dot_stuffed(&email)) {
            Ok(content) => self.conn.command(content)?,
            // Not UTF-8 (never built here, but possible): lettre's own two writes.
            Err(_) => self.conn.message(&email)?,
        };
        Ok(())
    }

    /// Says goodbye (best effort).
    pub(super) fn quit(mut self) {
        drop(self.conn.quit());
    }
}

/// `content` with every line that starts with `.` given one more (RFC 5321
/// §4.5.2), a line break at its end if it has none, then `.` and CRLF.
fn dot_stuffed(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 8);
    let mut line_start = true;
    for &b in content {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuffed;

    #[test]
    fn lines_starting_with_a_dot_get_another_and_the_end_is_marked() {
        assert_eq!(dot_stuffed(b".a\r\nb\r\n..c\r\n"), b"..a\r\nb\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuffed(b"x"), b"x\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a.b\r\n"), b"a.b\r\n.\r\n");
    }
}
