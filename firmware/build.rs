//! Puts memory.x where cortex-m-rt's link.x finds it (the linker also finds it
//! in this folder, from where cargo runs it).
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("memory.x"), include_bytes!("memory.x")).expect("memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    if env::var_os("CARGO_FEATURE_QEMU").is_some() {
        // QEMU's netduinoplus2 (STM32F405) has 128 KiB of SRAM at 0x20000000:
        // start the stack there rather than at memory.x's 256 KiB.
        println!("cargo:rustc-link-arg=--defsym=_stack_start=0x20020000");
    }
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=../fixtures/vectors/valid-local-container.lic");
    println!("cargo:rerun-if-changed=../fixtures/keys/root-a.pub.raw");
}
