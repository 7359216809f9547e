//! Registration mail: parsing a message, who sent it and whether that is
//! proven, and the registration fields in its body (issue 3, items 2 to 4).

pub mod auth;
pub mod fields;
pub mod message;
pub mod source;
