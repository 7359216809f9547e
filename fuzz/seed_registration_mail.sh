#!/usr/bin/env bash
# Seeds corpus/registration_mail from ../fixtures/emails: every file under
# raw/, reasons/ and the maildirs' cur/new/tmp (the .keep files aside), and
# every message of mbox/*.mbox split as the issuer reads it (mboxrd: a line
# starting with `From ` separates messages, one `>` comes off `>+From `
# lines, the blank line before a separator goes), plus the regressions.
set -euo pipefail
cd "$(dirname "$0")"
out=corpus/registration_mail
mkdir -p "$out"
E=../fixtures/emails
for f in "$E"/raw/* "$E"/reasons/* "$E"/maildir/*/* "$E"/demo-maildir/*/* "$E"/fuzz-regressions/*; do
  [ -f "$f" ] || continue
  case "$(basename "$f")" in .keep) continue ;; esac
  d="$(basename "$(dirname "$f")")"
  cp "$f" "$out/$(basename "$(dirname "$(dirname "$f")")")-$d-$(basename "$f")"
done
python3 - "$out" "$E"/mbox/*.mbox <<'PY'
import os, re, sys
out, boxes = sys.argv[1], sys.argv[2:]
escaped = re.compile(rb"^>+From ")
for box in boxes:
    msgs, cur = [], None
    for line in open(box, "rb").read().splitlines(keepends=True):
        if line.startswith(b"From "):
            if cur is not None:
                msgs.append(cur)
            cur = []
            continue
        if cur is None:
            cur = []
        cur.append(line[1:] if escaped.match(line) else line)
    if cur is not None:
        msgs.append(cur)
    for i, m in enumerate(msgs, 1):
        if m and m[-1].strip(b"\r\n") == b"":
            m = m[:-1]
        name = f"mbox-{os.path.basename(box)}-{i}.eml"
        open(os.path.join(out, name), "wb").write(b"".join(m))
PY
echo "$out: $(ls "$out" | wc -l) files"
