//! Golden tests of the `fanlic` command line (trycmd): one folder per
//! command, `tests/cmd/<command>/*.toml` and `*.trycmd`; `tests/cmd/fanlic/`
//! holds the cases of `fanlic` itself (no command, an unknown one, `--help`).
//!
//! The fixtures in `tests/cmd/fixtures/` are a license issued once by
//! `fanlic issue` and the root public keys; see its README.md. Checks run with
//! a fixed `--now`, so the output never depends on the day.
//! Update the expected output with `TRYCMD=overwrite cargo test -p fanlic-issuer --test it cli`.

#[test]
fn cli() {
    trycmd::TestCases::new()
        .register_bin("fanlic", std::path::Path::new(crate::common::BIN))
        .env("COLUMNS", "100")
        .case("tests/cmd/*/*.toml")
        .case("tests/cmd/*/*.trycmd");
}
