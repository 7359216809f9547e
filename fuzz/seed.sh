#!/usr/bin/env bash
# Seeds the (git-ignored) corpus from ../fixtures/vectors: every vector as a
# file for decode_license and verify_license, plus, for decode_license, the
# raw file and the two signed messages of each vector that decodes; and the
# fixture mails for registration_mail (seed_registration_mail.sh).
set -euo pipefail
cd "$(dirname "$0")"
for t in decode_license verify_license; do
  mkdir -p "corpus/$t"
  cp ../fixtures/vectors/*.lic ../fixtures/vectors/*.bin "corpus/$t/"
done
python3 - <<'PY'
import base64, glob, os

def varint(b, i):
    n = s = 0
    while True:
        c = b[i]; i += 1
        n |= (c & 0x7f) << s; s += 7
        if c < 0x80:
            return n, i

out = "corpus/decode_license"
for path in glob.glob("../fixtures/vectors/*.lic"):
    text = open(path, "rb").read().replace(b"\r", b"").split(b"\n")
    try:
        a = text.index(b"-----BEGIN FANLIC LICENSE-----"); z = text.index(b"-----END FANLIC LICENSE-----")
        raw = base64.b64decode(b"".join(text[a + 1:z]))
    except Exception:
        continue
    name = os.path.basename(path)[:-4]
    open(f"{out}/{name}.raw", "wb").write(raw)
    try:
        i = 17
        for part in ("cert", "license"):
            n, i = varint(raw, i)
            open(f"{out}/{name}.{part}-message", "wb").write(raw[i:i + n])
            i += n + 64
    except Exception:
        pass
PY
./seed_registration_mail.sh
ls corpus/* | head -3; for t in corpus/*; do echo "$t: $(ls "$t" | wc -l) files"; done
