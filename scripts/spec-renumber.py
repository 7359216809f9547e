#!/usr/bin/env python3
"""Rewrites references to the sections of formats/SPEC.md after SPEC.md was
ordered by topic.

Old order: 1 Conventions, 2 Encoding, 3 Messages, 4 Verification, 5 Test
vectors, 6 Later messages (6.1 Revocation list, 6.2 Activation challenge and
code, 6.3 Code entry, 6.4 HTTP interface, 6.5 Activation receipts), 7 Private
cloud, 8 Security considerations.

New order: 1 Conventions, 2 Encoding, 3 Licenses and keys, 4 Verification,
5 Revocation, 6 Activation (6.1 to 6.4), 7 Private cloud, 8 Test vectors,
9 Security considerations.

So §5 -> §8, §6.1 -> §5, §6.2 -> §6.1, §6.3 -> §6.2, §6.4 -> §6.3,
§6.5 -> §6.4, §8 -> §9 (and their subsections alike); §1 to §4 and §7 keep
their numbers. A bare §6 ("Later messages") has no counterpart: it is left
as it is and printed as unclassified, for a person to decide.

A § that follows `RFC <digits>` (with or without a space, also across a line
break and a comment marker) is a section of that RFC and is never touched.

Usage, from the repository's root:

    python3 scripts/spec-renumber.py --dry-run   # print what would change
    python3 scripts/spec-renumber.py             # change the files

It runs once: it refuses unless formats/SPEC.md already has the new headings,
and after changing files it marks itself as applied (the APPLIED line
below) and refuses to run again. Files already written against the new
numbering (SPEC.md itself, the top-level docs, this script) are skipped:
see ALREADY_NEW.
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

# Set to True by the script itself once it has changed files.
APPLIED = False

# Files whose references already follow the new numbering, or that are not
# about SPEC.md's sections (BENCHMARKS.md numbers its own sections with §).
ALREADY_NEW = {
    "formats/SPEC.md",
    "BENCHMARKS.md",
    "README.md",
    "SECURITY.md",
    "ARCHITECTURE.md",
    "fuzz/README.md",
    "scripts/spec-renumber.py",
}

# Old section number -> new one. A reference to a subsection of a mapped
# section maps with it (e.g. §5.2 -> §8.2).
MAPPING = {
    "5": "8",
    "6.1": "5",
    "6.2": "6.1",
    "6.3": "6.2",
    "6.4": "6.3",
    "6.5": "6.4",
    "8": "9",
}
UNCHANGED_TOP = {"1", "2", "3", "4", "7"}

# The headings SPEC.md must have before references are rewritten.
NEW_HEADINGS = [
    "## 1. Conventions",
    "## 2. Encoding",
    "## 3. Licenses and keys",
    "## 4. Verification",
    "## 5. Revocation",
    "## 6. Activation",
    "### 6.1 Activation challenge and code",
    "### 6.2 Code entry on the product",
    "### 6.3 The activation service's HTTP interface",
    "### 6.4 Activation receipts",
    "## 7. Private cloud: the authorization server",
    "## 8. Test vectors",
    "## 9. Security considerations",
]

# `RFC 8410 §7`, `RFC8410 §7`, and `RFC 8410\n//! §7` (a reference broken
# over two comment lines) are RFC sections.
REFERENCE = re.compile(
    r"(?P<rfc>RFC[ \t]?\d+[ \t]*(?:\r?\n[ \t]*(?:///?!?|#+|\*|--|;+)?[ \t]*)?)?"
    r"§(?P<num>\d+(?:\.\d+)*)"
)


def classify(num):
    """Returns ("same", num), ("map", new) or ("unclassified", num)."""
    parts = num.split(".")
    for length in range(len(parts), 0, -1):
        head = ".".join(parts[:length])
        if head in MAPPING:
            return "map", ".".join([MAPPING[head]] + parts[length:])
    if parts[0] in UNCHANGED_TOP:
        return "same", num
    return "unclassified", num


def rewrite(text):
    """Returns the new text, the changes and the unclassified references,
    each as (line number, old, new or context)."""
    changes, unclassified = [], []
    out, last = [], 0
    for m in REFERENCE.finditer(text):
        if m.group("rfc"):
            continue
        start = m.start("num") - 1  # the §
        line = text.count("\n", 0, start) + 1
        kind, new = classify(m.group("num"))
        if kind == "unclassified":
            lo = text.rfind("\n", 0, start) + 1
            hi = text.find("\n", start)
            hi = len(text) if hi < 0 else hi
            unclassified.append((line, "§" + m.group("num"), text[lo:hi].strip()))
            continue
        if kind == "same":
            continue
        out.append(text[last:start])
        out.append("§" + new)
        last = m.end()
        changes.append((line, "§" + m.group("num"), "§" + new))
    out.append(text[last:])
    return "".join(out), changes, unclassified


def tracked_text_files(root):
    names = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z"],
        check=True, capture_output=True,
    ).stdout.split(b"\0")
    for raw in names:
        if not raw:
            continue
        name = raw.decode()
        path = root / name
        if name in ALREADY_NEW or not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data:
            continue  # binary
        try:
            yield name, path, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def check_spec(root):
    spec = (root / "formats/SPEC.md").read_text(encoding="utf-8")
    headings = [l for l in spec.splitlines() if re.match(r"#{2,3} \d", l)]
    missing = [h for h in NEW_HEADINGS if h not in headings]
    if missing or "## 6. Later messages" in headings:
        sys.exit(
            "formats/SPEC.md does not have the new headings yet (missing: "
            + "; ".join(missing or ["-"])
            + "): refusing to rewrite references to them"
        )


def mark_applied():
    me = Path(__file__).resolve()
    text = me.read_text(encoding="utf-8")
    marked = text.replace("\nAPPLIED = False\n", "\nAPPLIED = True\n", 1)
    if marked == text:
        sys.exit("could not mark " + str(me) + " as applied: edit its APPLIED line by hand")
    me.write_text(marked, encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    args = parser.parse_args()

    if APPLIED:
        sys.exit("spec-renumber.py has already been applied (APPLIED = True): refusing to run twice")
    root = Path(
        subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    check_spec(root)

    total_changes, total_files, all_unclassified = 0, 0, []
    for name, path, text in tracked_text_files(root):
        new, changes, unclassified = rewrite(text)
        all_unclassified += [(name,) + u for u in unclassified]
        if not changes:
            continue
        total_files += 1
        total_changes += len(changes)
        print(f"{name}: {len(changes)} reference(s)")
        for line, old, to in changes:
            print(f"  {name}:{line}: {old} -> {to}")
        if not args.dry_run:
            path.write_bytes(new.encode("utf-8"))

    verb = "would change" if args.dry_run else "changed"
    print(f"\n{verb} {total_changes} reference(s) in {total_files} file(s)")
    if all_unclassified:
        print(f"\n{len(all_unclassified)} reference(s) left as they are, unclassified (decide by hand):")
        for name, line, old, context in all_unclassified:
            print(f"  {name}:{line}: {old}: {context}")
    if not args.dry_run and total_changes:
        mark_applied()
        print("\nmarked scripts/spec-renumber.py as applied")


if __name__ == "__main__":
    main()
