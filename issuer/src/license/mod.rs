//! Licenses on the vendor side: issuing one ([`issue`]), the product's
//! check as a report ([`verify`]), a look inside without keys ([`inspect`]),
//! the one-live-license-per-project rule ([`live`]) and the one JSON shape
//! of a license ([`report`]), and a license delivered again by staff
//! ([`deliver`]).

pub mod deliver;
pub mod inspect;
pub mod issue;
pub mod live;
pub mod report;
pub mod verify;
