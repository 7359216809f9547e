#!/usr/bin/env bash
# Runs the firmware once under QEMU (machine netduinoplus2, a Cortex-M4F
# STM32F405): it verifies the embedded license, prints the outcome and the
# stack it used over semihosting, and exits 0 only if the license verified.
# Needs qemu-system-arm (apt-get install qemu-system-arm).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --locked --features qemu "$@"
timeout 120 qemu-system-arm -M netduinoplus2 -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native \
  -kernel target/thumbv7em-none-eabihf/release/fanlic-firmware
