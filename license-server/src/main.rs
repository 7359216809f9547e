//! The authorization server (work in progress).
#![forbid(unsafe_code)]

fn main() {}
