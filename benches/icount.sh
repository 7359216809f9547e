#!/usr/bin/env bash
# Instructions per verification under callgrind: (count(N) - count(0)) / N.
# Deterministic for a given binary, unlike wall time on a shared machine.
# Usage: ./icount.sh [N] [cargo options, e.g. --no-default-features]
# (needs valgrind: apt-get install valgrind)
set -euo pipefail
cd "$(dirname "$0")"
N=${1:-200}
shift || true
cargo build --release --bin icount -q "$@"
bin=target/release/icount
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
printf '| case | instructions per verify |\n| --- | ---: |\n'
for c in $("$bin" --list); do
  z=$(count "$c" 0); n=$(count "$c" "$N")
  printf '| %s | %d |\n' "$c" $(( (n - z) / N ))
done
