//! The benchmark's Rust side (`bindings/java/bench/`): the same
//! verification `Verifier.verify` makes, in a Rust loop called once through
//! JNI, so that one JVM run times both side by side. The loop is
//! `fanlic_verifier::verify` on roots and environment read once, as a Rust
//! product would call it; the Java side pays, per call, for the JNI
//! transition, reading the `Environment`, copying the license and encoding
//! the answer.

use core::hint::black_box;
use std::time::Instant;

use jni::{
    EnvUnowned,
    objects::{JByteArray, JClass, JObject, JObjectArray},
    sys::{jint, jlong},
};

use fanlic_formats::MAX_LICENSE_FILE_LEN;

use crate::jvm::{self, entry, illegal_argument};

/// `Bench.rustLoop(byte[][] roots, byte[] license, Environment env, int
/// iterations)`: nanoseconds for `iterations` verifications in Rust.
#[unsafe(no_mangle)]
pub extern "system" fn Java_com_fanruan_fanlic_verifier_bench_Bench_rustLoop<'local>(
    env: EnvUnowned<'local>,
    _class: JClass<'local>,
    roots: JObjectArray<'local, JByteArray<'local>>,
    license: JByteArray<'local>,
    record: JObject<'local>,
    iterations: jint,
) -> jlong {
    entry(env, |env| {
        let roots = jvm::roots(env, &roots)?;
        let license = jvm::bytes(env, &license, "license")?;
        let owned = jvm::environment(env, &record)?;
        let n = u32::try_from(iterations).map_err(|_| illegal_argument("iterations must not be negative"))?;
        let environment = owned.as_env();
        let start = Instant::now();
        for _ in 0..n {
            let mut buf = [0u8; MAX_LICENSE_FILE_LEN];
            let outcome = fanlic_verifier::verify(black_box(&license), &mut buf, &roots, black_box(&environment));
            black_box(outcome.is_ok());
        }
        Ok(i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX))
    })
}
