//! `Verifier`, `Result` and `RevocationList` natives (to be written).
