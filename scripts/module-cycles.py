#!/usr/bin/env python3
"""Fails when the modules of a crate import each other in a cycle.

For every crate under the given source roots, each `.rs` file is a module
(`a/b.rs` and `a/b/mod.rs` are `crate::a::b`). Every path a file names —
`use crate::…`, `use super::…`, `use self::…`, an inline `crate::x::y` — is an
edge between the two *siblings* under their closest common ancestor: a file in
`crate::ingest::decide` naming `crate::store::licenses` is the edge
`ingest -> store` in the crate root. A child naming its parent (or a parent
its child) is not an edge: a folder owns its files. Each parent's sibling
graph must be acyclic; every cycle found is printed with the lines that make
it.

usage: scripts/module-cycles.py CRATE_SRC_DIR...   (default: every crate's src/)
"""
import os
import re
import sys
from collections import defaultdict

# Comments, strings and char literals, in one pass so that a `//` inside a
# string (a URL) does not start a comment, nor a quote in a comment a string.
NOISE = re.compile(
    r"//[^\n]*|/\*.*?\*/|\br(#*)\".*?\"\1|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\\n])'",
    re.S,
)


# A unit-test module: `#[cfg(test)]`, maybe more attributes, `mod name {`
# at the start of a line, to its closing `}` at the start of a line.
TEST_MOD = re.compile(r"^#\[cfg\(test\)\]\n(?:#\[[^\n]*\]\n)*(?:pub(?:\([a-z]+\))? )?mod (\w+) \{\n.*?^\}$", re.S | re.M)
# A unit-test module in a file of its own: `#[cfg(test)] mod name;`.
TEST_MOD_FILE = re.compile(r"^#\[cfg\(test\)\]\n(?:#\[[^\n]*\]\n)*mod (\w+);", re.M)


def strip(text):
    """The code of a file with comments, strings and chars blanked, and its
    unit tests left out (lines kept). A unit test may drive its module
    through a module above it (a receipt accepted by an activation): that is
    a test's view, not an import of the module's code."""
    text = NOISE.sub(lambda m: "\n" * m.group(0).count("\n") + '""', text)
    return TEST_MOD.sub(lambda m: "\n" * m.group(0).count("\n"), text)
USE = re.compile(r"\buse\s+([^;]+);")
INLINE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")


def module_path(root, file):
    rel = os.path.relpath(file, root)[: -len(".rs")].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def expand(tree):
    """`a::{b, c::{d, e}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = tree.strip()
    depth = 0
    for i, ch in enumerate(tree):
        if ch == "{":
            if depth == 0:
                if "}" not in tree:
                    return []
                prefix = tree[:i]
                inner = tree[i + 1 : tree.rindex("}")]
                parts, depth2, start = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        depth2 += 1
                    elif c == "}":
                        depth2 -= 1
                    elif c == "," and depth2 == 0:
                        parts.append(inner[start:j])
                        start = j + 1
                parts.append(inner[start:])
                out = []
                for p in parts:
                    if p.strip():
                        out += [prefix + q for q in expand(p)]
                return out
            depth += 1
    return [re.sub(r"\s+as\s+\w+$", "", tree)]


def check(src):
    files = []
    for dirpath, dirs, names in os.walk(src):
        dirs[:] = [d for d in dirs if d not in ("bin",)]
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".rs")]
    roots = {"lib.rs", "main.rs"}
    modules = {module_path(src, f): f for f in files}
    # Modules that are unit tests in files of their own are left out too.
    for mod, file in list(modules.items()):
        for m in TEST_MOD_FILE.finditer(NOISE.sub('""', open(file).read())):
            modules.pop(mod + (m.group(1),), None)
    # Names the crate root re-exports (`pub use error::Error;`) resolve to their module.
    root_names = {}
    for rootfile in roots:
        p = os.path.join(src, rootfile)
        if os.path.exists(p):
            text = strip(open(p).read())
            for m in USE.finditer(text):
                for path in expand(m.group(1)):
                    segs = [s for s in path.split("::") if s]
                    if segs and segs[0] == "crate":
                        segs = segs[1:]
                    if len(segs) >= 2 and (segs[0],) in modules:
                        root_names[segs[-1]] = segs[0]
    edges = defaultdict(list)  # parent -> [(a, b, where)]
    for mod, file in modules.items():
        if os.path.basename(file) == "main.rs" and mod == ():
            continue  # the binary root is its own crate
        text = strip(open(file).read())
        paths = []
        for m in USE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            paths += [(p, line) for p in expand(m.group(1))]
        for m in INLINE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            paths.append((m.group(1) + m.group(2), line))
        for path, line in paths:
            segs = [s.strip() for s in path.split("::") if s.strip()]
            if not segs:
                continue
            # A file's own items and its children: `mod.rs` is the folder's module.
            here = list(mod)
            if segs[0] == "crate":
                target = segs[1:]
            elif segs[0] in ("super", "self"):
                target = list(here)
                while segs and segs[0] in ("super", "self"):
                    if segs[0] == "super":
                        target = target[:-1]
                    segs = segs[1:]
                target += segs
            elif tuple(here + [segs[0]]) in modules:
                target = here + segs
            else:
                continue  # another crate, std, or a local item
            if target and (target[0],) not in modules and target[0] in root_names:
                target = [root_names[target[0]]] + target[1:]
            # Cut the target to a module that exists.
            while target and tuple(target) not in modules:
                target = target[:-1]
            if not target:
                continue
            k = 0
            while k < len(here) and k < len(target) and here[k] == target[k]:
                k += 1
            if k == len(here) or k == len(target):
                continue  # ancestor or descendant
            parent = tuple(here[:k])
            edges[parent].append((here[k], target[k], f"{os.path.relpath(file)}:{line} {path}"))
    failed = False
    for parent, es in sorted(edges.items()):
        graph = defaultdict(set)
        why = {}
        for a, b, where in es:
            graph[a].add(b)
            why.setdefault((a, b), where)
        for cycle, comp in cycles(graph):
            failed = True
            name = "::".join(("crate",) + parent)
            print(f"{src}: import cycle in {name}: {' -> '.join(cycle + [cycle[0]])}")
            if len(comp) > len(cycle):
                print(f"    (and more: {', '.join(comp)} all reach each other)")
            for a, b in zip(cycle, cycle[1:] + cycle[:1]):
                print(f"    {a} -> {b}: {why[(a, b)]}")
    return failed


def cycles(graph):
    """One cycle per strongly connected component with more than one node."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append((path_in(graph, set(comp)), sorted(comp)))

    for v in sorted(list(graph)):
        if v not in index:
            strong(v)
    return out


def path_in(graph, comp):
    start = min(comp)
    # Shortest way back to start, within the component.
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w == start:
                    path = [v]
                    while prev[path[-1]] is not None:
                        path.append(prev[path[-1]])
                    return list(reversed(path))
                if w in comp and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return sorted(comp)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(here)
    srcs = sys.argv[1:] or sorted(
        os.path.join(top, d, "src")
        for d in os.listdir(top)
        if os.path.isfile(os.path.join(top, d, "Cargo.toml")) and os.path.isdir(os.path.join(top, d, "src"))
    )
    bad = [s for s in srcs if check(s)]
    if bad:
        sys.exit(1)
    print(f"no import cycles in {len(srcs)} crates")
