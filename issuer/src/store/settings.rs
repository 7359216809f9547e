//! The home's settings (`fanlic config`) and the trusted authserv ids.

use super::sql::{OptionalExtension as _, params};
use fanlic_formats::Timestamp;

use super::{Tx, err, int};
use crate::Error;

/// The setting holding the staff address told of each new held request
/// (`fanlic config --staff-notify`); unset or empty: nobody is told.
const STAFF_NOTIFY: &str = "staff_notify";
/// The setting holding the console's public base URL, for links in mail
/// to staff (`fanlic config --console-url`).
const CONSOLE_URL: &str = "console_url";

impl Tx<'_> {
    /// A setting's value, if set.
    pub fn setting(&self, name: &str) -> Result<Option<String>, Error> {
        let conn = self.conn;
        let path = self.path;
        conn.query_row("SELECT value FROM settings WHERE name = ?1", params![name], |r| r.get(0))
            .optional()
            .map_err(err(path, "cannot read the settings"))
    }

    /// Sets a setting, recording who and when.
    pub fn set_setting(&self, name: &str, value: &str, now: Timestamp, by: &str) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
        conn.execute(
            "INSERT INTO settings (name, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
             updated_by = excluded.updated_by",
            params![name, value, int(now.0), by],
        )
        .map(|_| ())
        .map_err(err(path, "cannot change the settings"))
    }

    /// The staff address told of each new held request, if one is set.
    pub fn staff_notify(&self) -> Result<Option<String>, Error> {
        Ok(self.setting(STAFF_NOTIFY)?.filter(|a| !a.trim().is_empty()))
    }

    /// Sets (or with `None` clears) the staff address told of held requests.
    pub fn set_staff_notify(&self, addr: Option<&str>, now: Timestamp, by: &str) -> Result<(), Error> {
        self.set_setting(STAFF_NOTIFY, addr.unwrap_or_default(), now, by)
    }

    /// The console's public base URL, if one is set.
    pub fn console_url(&self) -> Result<Option<String>, Error> {
        Ok(self.setting(CONSOLE_URL)?.filter(|u| !u.trim().is_empty()))
    }

    /// Sets the console's public base URL.
    pub fn set_console_url(&self, url: &str, now: Timestamp, by: &str) -> Result<(), Error> {
        self.set_setting(CONSOLE_URL, url, now, by)
    }

    /// The trusted authserv ids, oldest first.
    pub fn authserv_ids(&self) -> Result<Vec<String>, Error> {
        let conn = self.conn;
        let path = self.path;
        let mut stmt = conn
            .prepare("SELECT authserv_id FROM authserv_ids ORDER BY added_at, rowid")
            .map_err(err(path, "cannot read the authserv ids"))?;
        let rows =
            stmt.query_map(params![], |r| r.get::<_, String>(0)).map_err(err(path, "cannot read the authserv ids"))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err(path, "cannot read the authserv ids"))
    }

    /// Trusts these authserv ids (one already trusted stays as it was).
    pub fn insert_authserv_ids(&self, ids: &[String], now: Timestamp) -> Result<(), Error> {
        let conn = self.conn;
        let path = self.path;
        for id in ids {
            conn.execute(
                "INSERT INTO authserv_ids (authserv_id, added_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![id, int(now.0)],
            )
            .map_err(err(path, "cannot record the authserv ids"))?;
        }
        Ok(())
    }

    /// Stops trusting an authserv id; false when it was not trusted.
    pub fn remove_authserv_id(&self, id: &str) -> Result<bool, Error> {
        let conn = self.conn;
        let path = self.path;
        conn.execute("DELETE FROM authserv_ids WHERE authserv_id = ?1", params![id])
            .map(|n| n > 0)
            .map_err(err(path, "cannot change the authserv ids"))
    }
}
