//! Who makes a change, as recorded in the audit trail.

use crate::Error;
use crate::error::ContractError;
use crate::util::input;

/// Who makes a change: `by`, else `$USER`, else `$LOGNAME`.
pub fn actor(by: Option<&str>) -> Result<String, Error> {
    let found = match by {
        Some(b) => Some(b.to_owned()),
        None => std::env::var("USER").ok().or_else(|| std::env::var("LOGNAME").ok()),
    };
    match found {
        Some(a) if a.trim().is_empty() => Err(Error::Contract(ContractError::NoActor)),
        Some(a) => input::name("--by", &a),
        None => Err(Error::Contract(ContractError::NoActor)),
    }
}
