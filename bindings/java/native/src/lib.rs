//! The native side of the fanlic verifier's Java binding
//! (`com.fanruan.fanlic.verifier`): JNI functions over the verifier crate,
//! built as `libfanlic_verifier_jni.so` and packed into the jar under
//! `native/linux-x86_64/`, from where the Java side loads it.
//!
//! No panic crosses into the JVM: every entry point catches it and throws a
//! `java.lang.IllegalStateException` instead.
#![deny(missing_docs)]

pub mod activation;
pub mod bench;
mod jvm;
pub mod private_cloud;
pub mod verify;
