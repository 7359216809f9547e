#!/usr/bin/env bash
# Seeds corpus/activation_revocation: every revocation-list vector, every
# receipt vector (raw and armored), and the raw token and the URL's token
# text of every activation vector.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/activation_revocation
cp ../fixtures/vectors/revocations/*.bin corpus/activation_revocation/
for f in ../fixtures/vectors/receipts/*.bin ../fixtures/vectors/receipts/*.fanlic; do
    cp "$f" "corpus/activation_revocation/receipt-$(basename "$f")"
done
python3 - <<'PY'
import json
d = json.load(open('../fixtures/activation/vectors.json'))
for i, c in enumerate(d['cases']):
    open(f'corpus/activation_revocation/token-{i}', 'wb').write(bytes.fromhex(c['token']))
    open(f'corpus/activation_revocation/url-{i}', 'w').write(c['url'].rsplit('/', 1)[1])
PY
ls corpus/activation_revocation | wc -l
