//! The bottom layer: helpers that know nothing of the vendor's records —
//! files written whole, hex, PEM, the clock, the stop signal of the servers,
//! and checks of what people type.

pub mod actor;
pub mod clock;
pub mod fsutil;
pub mod hex;
pub mod input;
pub mod pem;
pub mod signal;
pub mod text;
