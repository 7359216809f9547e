#!/usr/bin/env bash
# Builds the fanlic verifier's Java binding into a jar with javac and jar
# (Java 17, no Maven: its plugins cannot be fetched on the build machines),
# the native library packed in it under native/linux-x86_64/.
#
#   build.sh [--native PATH/TO/libfanlic_verifier_jni.so] [--out DIR] [--test]
#
#   --native FILE  pack this library (default: `cargo build --release -p
#                  fanlic-verifier-jni`, then target/release's)
#   --out DIR      where the jar and the classes go (default: bindings/java/build)
#   --test         also compile the tests and examples/ against JUnit 5
#                  (Debian junit5) and run them with the console launcher,
#                  failing on any failure
#   --java-opt OPT an option for the test JVM (repeatable), e.g.
#                  -Dfanlic.expected.texts=FILE (the texts Rust wrote)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
native=""
out="$here/build"
test=0
java_opts=()
while [ $# -gt 0 ]; do
    case "$1" in
        --native) native="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        --test) test=1; shift ;;
        --java-opt) java_opts+=("$2"); shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
done
junit=/usr/share/java/junit-platform-console-standalone.jar
step() { printf '==> %s\n' "$*"; }

for tool in javac jar; do
    command -v "$tool" >/dev/null || { echo "build.sh: $tool not found: install openjdk-17-jdk-headless" >&2; exit 1; }
done
if [ "$test" = 1 ]; then
    command -v java >/dev/null || { echo "build.sh: java not found: install openjdk-17-jdk-headless" >&2; exit 1; }
    [ -e "$junit" ] || { echo "build.sh: $junit not found: install junit5" >&2; exit 1; }
fi

if [ -z "$native" ]; then
    step "cargo build --release -p fanlic-verifier-jni"
    (cd "$root" && cargo build --release -p fanlic-verifier-jni)
    native="${CARGO_TARGET_DIR:-$root/target}/release/libfanlic_verifier_jni.so"
fi
[ -f "$native" ] || { echo "build.sh: no native library at $native" >&2; exit 1; }
native="$(cd "$(dirname "$native")" && pwd)/$(basename "$native")"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
classes="$out/classes"
rm -rf "$classes" && mkdir -p "$classes/native/linux-x86_64"

step "javac --release 17: src/main/java -> $classes"
find "$here/src/main/java" -name '*.java' > "$out/main-sources.txt"
javac --release 17 -Xlint:all -Werror -encoding UTF-8 -d "$classes" @"$out/main-sources.txt"

step "pack $native as native/linux-x86_64/libfanlic_verifier_jni.so"
cp "$native" "$classes/native/linux-x86_64/libfanlic_verifier_jni.so"

jarfile="$out/fanlic-verifier.jar"
step "jar: $jarfile"
rm -f "$jarfile"
jar --create --file "$jarfile" -C "$classes" .
ls -l "$jarfile"

if [ "$test" = 1 ]; then
    tests="$out/test-classes"
    rm -rf "$tests" && mkdir -p "$tests"
    step "javac --release 17: src/test/java and examples/ -> $tests"
    { find "$here/src/test/java" -name '*.java'; find "$here/examples" -name '*.java' 2>/dev/null || true; } \
        > "$out/test-sources.txt"
    javac --release 17 -Xlint:all,-processing -Werror -encoding UTF-8 -d "$tests" \
        -cp "$jarfile:$junit" @"$out/test-sources.txt"

    step "JUnit 5 (console launcher) on the jar, fixtures in $root/fixtures"
    # The jar's own loader is tested: no fanlic.native.path here.
    java -Dfanlic.fixtures="$root/fixtures" -Dfanlic.test.classpath="$jarfile:$tests" ${java_opts[@]+"${java_opts[@]}"} -jar "$junit" \
        --class-path "$jarfile:$tests" --scan-class-path "$tests" \
        --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests
fi
step "done"
