#!/usr/bin/env bash
# Recomputes the activation vectors (formats/SPEC.md §6.1,
# fixtures/activation/vectors.json) with OpenSSL, independently of fanlic's
# code: the activation key (HKDF-SHA256), the project fingerprint (SHA-256),
# the challenge tag and the 6-digit code (HMAC-SHA256, then RFC 4226's
# dynamic truncation, done here in bash), and the applications' request
# MACs of the authorization server (fixtures/vectors/private-cloud/node-auth/). Prints one line per check and a
# closing `openssl: N passed, M failed` for CI's tally.
set -euo pipefail
cd "$(dirname "$0")/.."
vectors=fixtures/activation/vectors.json
pass=0 fail=0
check() { # name expected actual
    if [ "$2" = "$3" ]; then pass=$((pass + 1)); echo "ok   $1"; else fail=$((fail + 1)); echo "FAIL $1: expected $2, OpenSSL says $3"; fi
}
hexof() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["cases"][int(sys.argv[2])]; print(eval("v"+sys.argv[3]))' "$vectors" "$1" "$2"; }
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' "$vectors")
salt=$(hexof $'fanlic/1/activation-key\n')
tag_label=$(hexof $'fanlic/1/activation-challenge\n')
code_label=$(hexof $'fanlic/1/activation-code\n')
fp_label=$(hexof $'fanlic/1/project-fingerprint\n')
for i in $(seq 0 $((n - 1))); do
    name=$(field "$i" '["name"]')
    master=$(field "$i" '["master_secret"]')
    version=$(printf '%08x' "$(field "$i" '["master_version"]')")
    id=$(field "$i" '["license_id"]')
    key=$(openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt "hexkey:$master" -kdfopt "hexsalt:$salt" \
        -kdfopt "hexinfo:$version$id" HKDF | tr -d ':' | tr 'A-F' 'a-f')
    check "$name activation key (HKDF)" "$(field "$i" '["activation_key"]')" "$key"

    # Fingerprint input: label || postcard((str, str, bytes)); each length fits one varint byte here.
    app=$(hexof "$(field "$i" '["project_fingerprint_input"]["app_name"]')")
    project=$(hexof "$(field "$i" '["project_fingerprint_input"]["project"]')")
    dep=$(field "$i" '["project_fingerprint_input"]["deployment_id"]')
    msg="$fp_label$(printf '%02x' $((${#app} / 2)))$app$(printf '%02x' $((${#project} / 2)))$project$(printf '%02x' $((${#dep} / 2)))$dep"
    fp=$(printf '%s' "$msg" | xxd -r -p | openssl dgst -sha256 -r | cut -d' ' -f1)
    check "$name project fingerprint (SHA-256)" "$(field "$i" '["project_fingerprint"]')" "$fp"

    body=$(field "$i" '["body"]')
    tag=$(printf '%s' "$tag_label$body" | xxd -r -p | openssl mac -digest SHA256 -macopt "hexkey:$key" -in /dev/stdin HMAC | tr 'A-F' 'a-f')
    check "$name challenge tag (HMAC)" "$(field "$i" '["tag"]')" "$tag"
    check "$name token = 01 || body || tag" "$(field "$i" '["token"]')" "01$body$tag"

    m=$(printf '%s' "$code_label$body" | xxd -r -p | openssl mac -digest SHA256 -macopt "hexkey:$key" -in /dev/stdin HMAC | tr 'A-F' 'a-f')
    offset=$(( 16#${m:62:2} & 15 ))
    word=$(( 16#${m:$((offset * 2)):8} & 0x7fffffff ))
    check "$name code (HMAC + RFC 4226 truncation)" "$(field "$i" '["code"]')" "$(printf '%06d' $((word % 1000000)))"
done

# Applications' request MACs (SPEC.md §7.3 "Authentication"):
# request_key = HMAC(join_secret, label), mac = HMAC(request_key, label || path || "\n" || at || "\n" || body).
auth=fixtures/vectors/private-cloud/node-auth/requests.json
afield() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[int(sys.argv[2])][sys.argv[3]])' "$auth" "$1" "$2"; }
key_label=$(hexof $'fanlic/1/node-request-key\n')
req_label=$(hexof $'fanlic/1/node-request\n')
m=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$auth")
for i in $(seq 0 $((m - 1))); do
    name=node-auth-$(afield "$i" name)
    key=$(printf '%s' "$key_label" | xxd -r -p | openssl mac -digest SHA256 -macopt "hexkey:$(afield "$i" join_secret)" -in /dev/stdin HMAC | tr 'A-F' 'a-f')
    check "$name request key (HMAC)" "$(afield "$i" request_key)" "$key"
    mac=$( { printf '%s' "$req_label" | xxd -r -p; printf '%s\n%s\n%s' "$(afield "$i" path)" "$(afield "$i" at)" "$(afield "$i" body)"; } \
        | openssl mac -digest SHA256 -macopt "hexkey:$key" -in /dev/stdin HMAC | tr 'A-F' 'a-f')
    check "$name request MAC (HMAC)" "$(afield "$i" mac)" "$mac"
    check "$name Authorization header" "$(afield "$i" authorization)" "FANLIC-HMAC-SHA256 $(afield "$i" at):$mac"
done
echo "openssl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
