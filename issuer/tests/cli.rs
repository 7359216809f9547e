//! Golden tests of the `fanlic` command line: `tests/cmd/*.toml` (trycmd).
//!
//! The fixtures in `tests/cmd/fixtures/` are a license issued once by
//! `fanlic issue` and the root public keys; see its README.md. Checks run with
//! a fixed `--now`, so the output never depends on the day.
//! Update the expected output with `TRYCMD=overwrite cargo test -p fanlic-issuer --test cli`.

#[test]
fn cli() {
    trycmd::TestCases::new()
        .register_bin("fanlic", std::path::Path::new(env!("CARGO_BIN_EXE_fanlic")))
        .env("COLUMNS", "100")
        .case("tests/cmd/*.toml")
        .case("tests/cmd/*.trycmd");
}
