#!/usr/bin/env bash
# The Java-vs-Rust verification benchmark: builds the jar around a release
# build of the native library (build.sh), compiles bench/Bench.java against
# it and runs it in one JVM.
#
#   bindings/java/bench/run.sh [VERIFICATIONS_PER_ROUND] [ROUNDS]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
java_dir="$(cd "$here/.." && pwd)"
root="$(cd "$java_dir/../.." && pwd)"
out="${CARGO_TARGET_DIR:-$root/target}/fanlic-java-bench"
printf '==> machine: %s CPUs, %s\n' "$(nproc)" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
bash "$java_dir/build.sh" --out "$out"
printf '==> javac bench/Bench.java\n'
mkdir -p "$out/bench-classes"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -cp "$out/fanlic-verifier.jar" -d "$out/bench-classes" "$here/Bench.java"
printf '==> java Bench\n'
java -cp "$out/fanlic-verifier.jar:$out/bench-classes" com.fanruan.fanlic.verifier.bench.Bench "$root/fixtures" "$@"
