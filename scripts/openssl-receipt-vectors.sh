#!/usr/bin/env bash
# Recomputes the activation-receipt vectors (formats/SPEC.md §6.4,
# fixtures/vectors/receipts/) with OpenSSL, independently of fanlic's code:
#
# - the receipt key's certificate, by root A, and every accepted receipt, by
#   the receipt key: `openssl pkeyutl -verify -pubin -rawin` over the parts in
#   fixtures/vectors/openssl-receipts/ (a test, testkit/tests/it/receipts.rs, proves
#   they are the bytes the decoder extracts as signed); the public keys are
#   those of fixtures/keys/; the certificate certifies receipt-a (its key id
#   recomputed with SHA-256) for purposes 0x8 alone, for 30 days;
# - each accepted receipt's id: SHA-256 of its signed message;
# - each challenge_sha256: SHA-256 of the challenge token, and in an accepted
#   receipt the message's challenge_sha256 and license_sha256 fields (fixed
#   offsets) are the token's and the raw license file's SHA-256 (the license
#   unarmored with `openssl base64 -d`);
# - the challenge keys (fixtures/activation/challenge-keys.json):
#   HMAC-SHA256(activation_key, "fanlic/1/challenge-key\n"), the activation
#   key by HKDF where the case gives a master secret, the activation keys of
#   fixtures/activation/vectors.json's cases, and each receipt-policy license's
#   signed message carries its challenge key, never its activation key.
#
# Proves it can fail (a tampered receipt is refused). Prints one line per
# failure and a closing `openssl: N passed, M failed` for CI's tally.
set -euo pipefail
cd "$(dirname "$0")/.."
openssl="${OPENSSL:-openssl}"
dir=fixtures/vectors/receipts
parts=fixtures/vectors/openssl-receipts
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # what expected actual
    if [ "$2" = "$3" ]; then ok; else bad "$1: expected $2, OpenSSL says $3"; fi
}
verify() { # pub msg sig
    "$openssl" pkeyutl -verify -pubin -inkey "$1" -rawin -in "$2" -sigfile "$3" >"$tmp/out" 2>&1 &&
        grep -q "Signature Verified Successfully" "$tmp/out"
}
sha() { "$openssl" dgst -sha256 -r "$1" | cut -d' ' -f1; }
hexof() { od -An -v -tx1 | tr -d ' \n'; }
echo "$("$openssl" version)"

# 1. Signatures of every accepted receipt's parts, under the keys of fixtures/keys/.
stems=0
for msg in "$parts"/*.cert.msg; do
    stem="$(basename "$msg" .cert.msg)"
    stems=$((stems + 1))
    cmp -s "$parts/$stem.cert.pub.pem" fixtures/keys/root-a.pub.pem && ok || bad "$stem: the certificate's key is not root-a's"
    cmp -s "$parts/$stem.receipt.pub.pem" fixtures/keys/receipt-a.pub.pem && ok || bad "$stem: the receipt's key is not receipt-a's"
    for part in cert receipt; do
        if verify "$parts/$stem.$part.pub.pem" "$parts/$stem.$part.msg" "$parts/$stem.$part.sig"; then
            ok
        else
            bad "$stem: the $part signature does not verify: $(tr '\n' ' ' <"$tmp/out")"
        fi
    done
done

# 2. The receipt key's certificate: "fanlic/1/issuing-key-certificate\n" (33 bytes),
# root key id (8), key id (8), public key (32), then three varints: not_before,
# not_after, purposes (all below 2^35: at most 5 bytes each).
cert="$parts/valid-local-container.cert.msg"
label_hex=$(printf 'fanlic/1/issuing-key-certificate\n' | hexof)
all=$(hexof <"$cert")
check "certificate label" "$label_hex" "${all:0:66}"
raw_pub=$(hexof <fixtures/keys/receipt-a.pub.raw)
check "certificate public key is receipt-a's" "$raw_pub" "${all:98:64}"
key_id=$( { printf 'fanlic/1/key-id\n'; cat fixtures/keys/receipt-a.pub.raw; } | "$openssl" dgst -sha256 -r | cut -c1-16)
check "certificate key id = SHA-256(label || key)[..8]" "$key_id" "${all:82:16}"
root_id=$( { printf 'fanlic/1/key-id\n'; cat fixtures/keys/root-a.pub.raw; } | "$openssl" dgst -sha256 -r | cut -c1-16)
check "certificate root key id is root-a's" "$root_id" "${all:66:16}"
rest="${all:162}"
varints=()
value=0 shift=0
for ((i = 0; i < ${#rest}; i += 2)); do
    byte=$((16#${rest:i:2}))
    value=$((value | ((byte & 127) << shift)))
    shift=$((shift + 7))
    if ((byte < 128)); then varints+=("$value"); value=0 shift=0; fi
done
check "certificate: three varints after the key" 3 "${#varints[@]}"
check "receipt key window (not_after - not_before)" $((30 * 86400)) $((varints[1] - varints[0]))
check "receipt key purposes" 8 "${varints[2]}"

# 3. Per vector: the token's SHA-256, the receipt id and the fields it signs.
python3 - "$dir" >"$tmp/vectors.tsv" <<'EOF'
import json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if f.endswith(".json"):
        v = json.load(open(os.path.join(d, f)))
        e = v["expected"]
        print("\t".join([f[:-5], v["file"][:-4], "1" if e["accepted"] else "0", e["receipt_id"] or "-",
                         v["challenge_token"] or "-", v["challenge_sha256"] or "-", v["license"], v["license_sha256"]]))
EOF
accepted_files=()
while IFS=$'\t' read -r name stem accepted id token token_sha license license_sha; do
    if [ "$token" != "-" ]; then
        printf '%s' "$token" | xxd -r -p >"$tmp/token"
        check "$name: challenge_sha256 = SHA-256(token)" "$token_sha" "$(sha "$tmp/token")"
    fi
    # The raw license: the armored file's base64 lines, decoded by OpenSSL.
    sed -n '/^-----BEGIN FANLIC LICENSE-----$/,/^-----END FANLIC LICENSE-----$/p' "fixtures/vectors/$license" |
        grep -v -e '^-----' -e '^#' -e '^$' | "$openssl" base64 -d >"$tmp/license.bin"
    check "$name: license_sha256 = SHA-256(raw license)" "$license_sha" "$(sha "$tmp/license.bin")"
    [ "$accepted" = 1 ] || continue
    accepted_files+=("$stem")
    msg="$parts/$stem.receipt.msg"
    check "$name: receipt id = SHA-256(message)" "$id" "$(sha "$msg")"
    m=$(hexof <"$msg")
    # "fanlic/1/activation-receipt\n" (28 bytes), license_id (16), license_sha256 (32), challenge_sha256 (32).
    check "$name: receipt label" "$(printf 'fanlic/1/activation-receipt\n' | hexof)" "${m:0:56}"
    check "$name: signed license_sha256" "$license_sha" "${m:88:64}"
    if [ "$token" != "-" ]; then
        check "$name: signed challenge_sha256" "$token_sha" "${m:152:64}"
    fi
done <"$tmp/vectors.tsv"
distinct=$(printf '%s\n' "${accepted_files[@]}" | sort -u | wc -l)
check "accepted receipt files with OpenSSL parts" "$distinct" "$stems"

# 4. Negative control: a receipt message with one more byte is refused.
{ cat "$parts/valid-local-container.receipt.msg"; printf 'x'; } >"$tmp/longer.msg"
if verify "$parts/valid-local-container.receipt.pub.pem" "$tmp/longer.msg" "$parts/valid-local-container.receipt.sig"; then
    bad "OpenSSL accepted a tampered receipt: the check cannot fail"
else
    ok
fi

# 5. Challenge keys (SPEC.md §3.3).
keys=fixtures/activation/challenge-keys.json
python3 - "$keys" fixtures/activation/vectors.json >"$tmp/keys.tsv" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
act = {c["name"]: c["activation_key"] for c in json.load(open(sys.argv[2]))["cases"]}
assert doc["label"] == "fanlic/1/challenge-key\n", "label"
for c in doc["cases"]:
    print("\t".join([c["name"], c.get("master_secret", "-"), str(c.get("master_version", "-")), c.get("license_id", "-"),
                     c.get("license", "-"), c["activation_key"], c["challenge_key"], act.get(c["name"], "-")]))
EOF
label=$(printf 'fanlic/1/challenge-key\n' | hexof)
salt=$(printf 'fanlic/1/activation-key\n' | hexof)
cases=0
while IFS=$'\t' read -r name master version id license akey ckey from_vectors; do
    cases=$((cases + 1))
    mac=$(printf '%s' "$label" | xxd -r -p | "$openssl" mac -digest SHA256 -macopt "hexkey:$akey" -in /dev/stdin HMAC | tr 'A-F' 'a-f')
    check "$name challenge key (HMAC)" "$ckey" "$mac"
    if [ "$from_vectors" != "-" ]; then
        check "$name activation key is vectors.json's" "$from_vectors" "$akey"
    fi
    if [ "$master" != "-" ]; then
        derived=$("$openssl" kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "hexkey:$master" -kdfopt "hexsalt:$salt" \
            -kdfopt "hexinfo:$(printf '%08x' "$version")$id" HKDF | tr -d ':' | tr 'A-F' 'a-f')
        check "$name activation key (HKDF)" "$akey" "$derived"
    fi
    if [ "$license" != "-" ]; then
        signed=$(hexof <"fixtures/vectors/openssl/${license%.lic}.license.msg")
        [[ "$signed" == *"$ckey"* ]] && ok || bad "$name: the signed license does not carry its challenge key"
        [[ "$signed" != *"$akey"* ]] && ok || bad "$name: the signed license carries its activation key"
    fi
done <"$tmp/keys.tsv"
((cases >= 6)) && ok || bad "only $cases challenge-key cases"

echo "(receipts: $stems accepted receipt files, 2 signatures each; $cases challenge keys)"
echo "openssl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
