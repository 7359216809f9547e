//! The bottom layer: helpers that know nothing of the vendor's records —
//! files written whole, hex, PEM, the clock, the stop signal of the servers,
//! the client behind a trusted reverse proxy, the TLS client configuration,
//! and checks of what people type.

pub mod actor;
pub mod clock;
pub mod fsutil;
pub mod hex;
pub mod input;
pub mod pem;
pub(crate) mod proxy;
pub mod signal;
pub mod text;
pub(crate) mod tls;
