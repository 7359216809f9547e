//! Test helpers for fanlic end-to-end tests.
