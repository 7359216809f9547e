//! Registration mail: parsing a message, who sent it and whether that is
//! proven, and the registration fields in its body.

pub mod auth;
pub mod fields;
pub mod message;
