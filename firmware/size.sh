#!/usr/bin/env bash
# Builds the firmware (release: opt-level "z", fat LTO, panic abort) and prints
# its section sizes; fails if .text is over 64 KiB.
#   ./size.sh                      the verifier alone
#   ./size.sh --features messages  plus core::fmt messages for every cause
# Needs the thumbv7em-none-eabihf target (rustup target add thumbv7em-none-eabihf)
# and a size tool: llvm-size (rustup component add llvm-tools, or Debian's llvm),
# arm-none-eabi-size (apt-get install binutils-arm-none-eabi), or else GNU
# readelf (binutils).
set -euo pipefail
cd "$(dirname "$0")"
LIMIT=$((64 * 1024))

cargo build --release --locked "$@"
ELF=target/thumbv7em-none-eabihf/release/fanlic-firmware

SIZE=""
sysroot_tool=$(ls "$(rustc --print sysroot)"/lib/rustlib/*/bin/llvm-size 2>/dev/null | head -n1 || true)
for t in "$sysroot_tool" llvm-size rust-size arm-none-eabi-size $(compgen -c llvm-size- 2>/dev/null | sort -r); do
  if [ -n "$t" ] && command -v "$t" >/dev/null 2>&1; then SIZE=$t; break; fi
done

if [ -n "$SIZE" ]; then
  echo "$SIZE -A $ELF"
  "$SIZE" -A "$ELF" | grep -vE '^\.debug|^\.comment|^\.ARM\.attributes|^\.symtab|^\.strtab|^\.shstrtab'
  section() { "$SIZE" -A "$ELF" | awk -v s="$1" '$1 == s { print $2 }'; }
elif command -v readelf >/dev/null 2>&1; then
  # GNU readelf (binutils, there with gcc) reads ARM ELF section headers too.
  echo "readelf -SW $ELF (no llvm-size / arm-none-eabi-size found)"
  section() {
    local hex
    hex=$(readelf -SW "$ELF" | sed -n 's/^ *\[ *[0-9]*\] *//p' | awk -v s="$1" '$1 == s { print $5 }')
    [ -n "$hex" ] && echo $((16#$hex))
  }
  for s in .vector_table .text .rodata .data .bss; do printf '%-14s %8s\n' "$s" "$(section "$s")"; done
else
  echo "size.sh: no size tool (llvm-size, arm-none-eabi-size, readelf) found" >&2
  exit 2
fi
text=$(section .text); rodata=$(section .rodata); vt=$(section .vector_table); data=$(section .data)
flash=$(( ${vt:-0} + ${text:-0} + ${rodata:-0} + ${data:-0} ))
kib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
echo ".text   = $text bytes ($(kib "$text") KiB), limit $LIMIT bytes (64 KiB)"
echo "flash   = $flash bytes ($(kib "$flash") KiB): .vector_table + .text + .rodata + .data"
if [ "$text" -gt "$LIMIT" ]; then
  echo "FAIL: .text is $text bytes, over the $LIMIT-byte goal" >&2
  exit 1
fi
echo "OK: .text <= 64 KiB"
