"""Writes fixtures/emails/clients/heldout/: the held-out sample mails of specs_heldout.py, each as
its client writes it, and README.md with the staff decisions.

    python3 scripts/client-mail-heldout/gen.py [OUT_DIR]

Written independently of the corpus/ samples (another writer, other people, other habits) to
measure how well the parser generalises; only the client renderers of ../client-mail-corpus
(clients.py, mime.py) are shared. Deterministic: ids and boundaries are hashes of the file name.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the repository

from render2 import build  # noqa: E402
from specs_heldout import MAILS  # noqa: E402

CLIENT = {"outlook": "Outlook 16 (desktop)", "foxmail": "Foxmail 7.2", "qq": "QQ Mail (web)",
          "163": "NetEase 163 (web)", "wecom": "WeCom mail (企业微信)", "gmail": "Gmail (web)",
          "thunderbird": "Thunderbird 128", "iphone": "iPhone Mail"}
LANG = {"en": "English", "zh": "Chinese"}
here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "../../fixtures/emails/clients/heldout")
os.makedirs(out, exist_ok=True)
order = list(CLIENT)
rows, names = [], set()
for m in sorted(MAILS, key=lambda m: (order.index(m["client"]), m["file"])):
    assert m["file"] not in names, m["file"]
    assert m["decision"] in ("issue", "hold", "reject"), m["file"]
    assert m["decision"] != "issue" or not m["codes"], m["file"]
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
