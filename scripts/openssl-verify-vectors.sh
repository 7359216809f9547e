#!/usr/bin/env bash
# Checks both Ed25519 signatures of every valid test vector with OpenSSL, an
# implementation independent of the verifier (SPEC.md §8):
#
#   openssl pkeyutl -verify -pubin -inkey X.pub.pem -rawin -in X.msg -sigfile X.sig
#
# for X = NAME.cert (the certificate, under the root key) and X = NAME.license
# (the license payload, under the certified issuing key), from the parts in
# fixtures/vectors/openssl/. A test (fanlic-testkit, testkit/tests/it/fixtures.rs) proves
# those parts are exactly the bytes the decoder extracts as signed.
#
# Then the TLS binding of the private cloud (SPEC.md §7.7), from the parts in
# fixtures/vectors/openssl-private-cloud/: the instance certificate under the
# image key, the binding under the instance key, and the binding message's
# last 32 bytes are the SHA-256 OpenSSL computes of the P-256
# SubjectPublicKeyInfo in fixtures/vectors/private-cloud/tls-binding-spki.der
# (re-encoded by `openssl pkey`, so a non-canonical file would show).
#
# It also proves that it can fail: a tampered message and a tampered signature
# must both be refused by OpenSSL. Exits non-zero on any failure, if no vector
# was checked, or if the number of vectors checked is not the number of valid
# vectors in manifest.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/fixtures/vectors/openssl"
manifest="$root/fixtures/vectors/manifest.json"
openssl="${OPENSSL:-openssl}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
vectors=0
refused=0

# verify PUB MSG SIG: succeeds when OpenSSL says the signature holds.
verify() {
  "$openssl" pkeyutl -verify -pubin -inkey "$1" -rawin -in "$2" -sigfile "$3" >"$tmp/out" 2>&1 &&
    grep -q "Signature Verified Successfully" "$tmp/out"
}

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

echo "$("$openssl" version)"
shopt -s nullglob
for cert_msg in "$dir"/*.cert.msg; do
  name="$(basename "$cert_msg" .cert.msg)"
  vectors=$((vectors + 1))
  for part in cert license; do
    base="$dir/$name.$part"
    for f in "$base.msg" "$base.sig" "$base.pub.pem"; do
      [[ -f "$f" ]] || { fail "$name: missing $(basename "$f")"; continue 2; }
    done
    if verify "$base.pub.pem" "$base.msg" "$base.sig"; then
      pass
    else
      fail "$name: $part signature does not verify: $(tr '\n' ' ' <"$tmp/out")"
    fi
  done
done

# Negative controls on the first vector: each must be REFUSED by OpenSSL.
first=("$dir"/*.license.msg)
if ((${#first[@]} > 0)); then
  base="${first[0]%.msg}"
  # 1. The message with one more byte.
  { cat "$base.msg"; printf 'x'; } >"$tmp/longer.msg"
  # 2. The message with its last byte changed.
  head -c -1 "$base.msg" >"$tmp/changed.msg"
  last="$(tail -c 1 "$base.msg" | od -An -tu1 | tr -d ' ')"
  printf "\\$(printf '%03o' $(((last + 1) % 256)))" >>"$tmp/changed.msg"
  # 3. The signature with its first byte changed.
  first_sig="$(head -c 1 "$base.sig" | od -An -tu1 | tr -d ' ')"
  printf "\\$(printf '%03o' $(((first_sig + 1) % 256)))" >"$tmp/changed.sig"
  tail -c +2 "$base.sig" >>"$tmp/changed.sig"
  for tampered in "longer.msg:$base.sig" "changed.msg:$base.sig" "$base.msg:changed.sig"; do
    msg="${tampered%%:*}"
    sig="${tampered#*:}"
    [[ "$msg" == /* ]] || msg="$tmp/$msg"
    [[ "$sig" == /* ]] || sig="$tmp/$sig"
    if cmp -s "$msg" "$base.msg" && cmp -s "$sig" "$base.sig"; then
      fail "negative control $tampered is not tampered"
    elif verify "$base.pub.pem" "$msg" "$sig"; then
      fail "OpenSSL accepted a tampered input ($(basename "$msg"), $(basename "$sig")): the check cannot fail"
    else
      pass
      refused=$((refused + 1))
    fi
  done
fi

# The TLS binding (SPEC.md §7.7).
pc="$root/fixtures/vectors/openssl-private-cloud"
binding_checks=0
for part in instance-certificate binding; do
  base="$pc/tls-binding-valid.$part"
  if verify "$base.pub.pem" "$base.msg" "$base.sig"; then
    pass
    binding_checks=$((binding_checks + 1))
  else
    fail "tls-binding-valid: $part signature does not verify: $(tr '\n' ' ' <"$tmp/out")"
  fi
done
spki="$root/fixtures/vectors/private-cloud/tls-binding-spki.der"
if "$openssl" pkey -pubin -inform DER -in "$spki" -noout -text 2>/dev/null | grep -q prime256v1 &&
  "$openssl" pkey -pubin -inform DER -in "$spki" -outform DER -out "$tmp/spki.der" 2>"$tmp/out" &&
  cmp -s "$tmp/spki.der" "$spki"; then
  hash="$("$openssl" dgst -sha256 -binary "$tmp/spki.der" | od -An -tx1 | tr -d ' \n')"
  named="$(tail -c 32 "$pc/tls-binding-valid.binding.msg" | od -An -tx1 | tr -d ' \n')"
  if [[ "$hash" == "$named" ]]; then
    pass
    binding_checks=$((binding_checks + 1))
  else
    fail "tls-binding-valid: the binding names $named, OpenSSL hashes the SPKI to $hash"
  fi
else
  fail "tls-binding-spki.der is not a canonical P-256 SubjectPublicKeyInfo for OpenSSL"
fi

expected="$(grep -c '"valid": true' "$manifest" || true)"
if ((vectors == 0)); then
  fail "no vector was checked (is $dir empty?)"
elif ((vectors != expected)); then
  fail "checked $vectors vectors, but manifest.json has $expected valid vectors"
fi

echo "($vectors valid vectors, 2 signatures each; $refused of 3 tampered inputs refused)"
echo "(TLS binding: $binding_checks of 3 checks: 2 signatures, the SPKI hash)"
echo "openssl: $passed passed, $failed failed"
((failed == 0))
