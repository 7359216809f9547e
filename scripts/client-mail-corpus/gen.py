"""Writes fixtures/emails/clients/corpus/: the sample mails of specs.py, each as its client
writes it (clients.py), and README.md with the staff decisions.

    python3 scripts/client-mail-corpus/gen.py [OUT_DIR]

The output is deterministic (ids and boundaries are hashes of the file name), so a change to
one mail changes only that file. Edit specs.py to add or change a mail, then run this and
`cargo test -p fanlic-issuer --test it client_mail -- --nocapture`.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository

from render import build  # noqa: E402
from specs import MAILS  # noqa: E402

CLIENT = {"outlook": "Outlook 16 (desktop)", "foxmail": "Foxmail 7.2", "qq": "QQ Mail (web)",
          "163": "NetEase 163 (web)", "wecom": "WeCom mail (企业微信)", "gmail": "Gmail (web)",
          "thunderbird": "Thunderbird 128", "iphone": "iPhone Mail"}
LANG = {"en": "English", "zh": "Chinese"}
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../fixtures/emails/clients/corpus")
os.makedirs(out, exist_ok=True)
order = list(CLIENT)
rows = []
names = set()
for m in sorted(MAILS, key=lambda m: (order.index(m["client"]), m["lang"] != "zh", m["file"])):
    assert m["file"] not in names, m["file"]
    names.add(m["file"])
    with open(os.path.join(out, m["file"]), "wb") as f:
        f.write(build(m))
    codes = ", ".join(f"`{c}`" for c in m["codes"])
    rows.append(f"| `{m['file']}` | {CLIENT[m['client']]} | {LANG[m['lang']]} | {m['decision']} | {codes} "
                f"| {m['shows']} |")
with open(os.path.join(here, "README.head.md"), encoding="utf-8") as f:
    readme = f.read()
with open(os.path.join(out, "README.md"), "w", encoding="utf-8") as f:
    f.write(readme + "\n".join(rows) + "\n")
print(len(rows), "mails written to", out)
