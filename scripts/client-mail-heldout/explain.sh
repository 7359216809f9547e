#!/bin/bash
# What fanlic read in sample mails, as the client_mail test decides them: each FILE is ingested
# with `fanlic ingest --json --now 2090-01-01T00:00:00Z` in a fresh copy of one home made by
# `fanlic init` with fixtures/emails/clients/contracts.csv imported. Prints the decision and
# reasons, the queued reply (a rejection lists the fields as fanlic read them), the held request
# (`fanlic review --json`) and the license issued (`fanlic inspect`).
#
#   FANLIC_BIN=target/debug/fanlic scripts/client-mail-heldout/explain.sh FILE...
# Needs sqlite3 (the reply is read from the home's outbox table).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
B=$(realpath "${FANLIC_BIN:-$here/../../target/debug/fanlic}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
T=$work/template
mkdir -p "$T"
(cd "$T" && FANLIC_HOME=$T/home USER=tester "$B" init --authserv-id mx.vendor.example --valid-for-days 36500 >/dev/null &&
  FANLIC_HOME=$T/home USER=tester "$B" contract import "$here/../../fixtures/emails/clients/contracts.csv" --by explain >/dev/null)
# A static x86-64 ELF header, as the test gives for the private-cloud image.
python3 - "$T/server" <<'PY'
import sys
b = bytearray(65536); b[:4] = b"\x7fELF"; b[4] = 2; b[5] = 1; b[6] = 1; b[16] = 2
b[18:20] = (62).to_bytes(2, "little"); b[20:24] = (1).to_bytes(4, "little")
b[32:40] = (64).to_bytes(8, "little"); b[52:54] = (64).to_bytes(2, "little"); b[54:56] = (56).to_bytes(2, "little")
open(sys.argv[1], "wb").write(b)
PY
for f in "$@"; do
  D=$(mktemp -d "$work/run.XXXX")
  cp -a "$T/home" "$D/home"
  cp "$f" "$D/"
  echo "=== $(basename "$f")"
  (cd "$D" && FANLIC_HOME=$D/home USER=tester FANLIC_LICENSE_SERVER_BINARY=$T/server \
    "$B" ingest --json --now 2090-01-01T00:00:00Z "$D/$(basename "$f")" 2>&1) |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        v = json.loads(line)
    except ValueError:
        print("  " + line.rstrip())
        continue
    print("  decision:", v["decision"], [r["code"] for r in v["reasons"]])'
  sqlite3 "$D/home/fanlic.db" "select body from outbox" | sed 's/^/  | /'
  FANLIC_HOME=$D/home "$B" review --json 2>/dev/null | sed 's/^/  held: /' | cut -c1-2000
  for lic in "$D"/home/issued/*.lic; do
    [ -e "$lic" ] && FANLIC_HOME=$D/home "$B" inspect "$lic" | sed -n '/^license/,$p' | grep -E "kind|app_name|company |project|contract_signed|version|max_nodes" | sed 's/^/  licensed: /'
  done
done
