//! The benchmark's Rust side (to be written).
