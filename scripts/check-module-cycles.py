#!/usr/bin/env python3
"""Finds circles of imports between the files of a Rust crate.

Usage: check-module-cycles.py [CRATE_DIR ...]   (default: every crates/*)

A file "imports" another when it names an item of the other's module: `use crate::a::X`,
`super::X`, `self::child::X`, a child module's name (`child::f()`), or an inline path
`crate::a::f()`. A name that a module re-exports (`pub use inner::X`) is followed to the
module that defines it, so `use crate::X` through lib.rs is an edge to the defining file,
not to lib.rs. Declaring a child (`mod child;`) is not an import. Comments, strings and
`#[cfg(test)]` items are left out: tests may reach anywhere.

Prints each circle (a strongly connected set of two or more files) with one line per edge
and the line number that makes it; exits 1 if any crate has one, 0 otherwise.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(src: str) -> str:
    """Blanks comments, string and char literals, keeping newlines so line numbers hold."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            i = j
            continue
        if src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("".join("\n" if ch == "\n" else " " for ch in src[i:j]))
            i = j
            continue
        m = re.match(r'b?r(#*)"', src[i:i + 20])
        if m and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            close = '"' + m.group(1)
            j = src.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append("".join("\n" if ch == "\n" else " " for ch in src[i:j]))
            i = j
            continue
        if c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j = min(j + 1, n)
            out.append("".join("\n" if ch == "\n" else " " for ch in src[i:j]))
            i = j
            continue
        if c == "'":
            # char literal ('a', '\n', '\u{..}') but not a lifetime ('a)
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:i + 12])
            if m:
                out.append(" " * m.end())
                i += m.end()
                continue
        out.append(c)
        i += 1
    return "".join(out)


def strip_cfg_test(src: str) -> str:
    """Blanks every item marked `#[cfg(test)]` (a block item up to its closing brace, or a
    `mod x;`/`use ...;` up to its semicolon)."""
    chars = list(src)
    for m in re.finditer(r"#\[cfg\(test\)\]", src):
        j = m.end()
        # find the first '{' or ';' that ends/starts the item
        while j < len(src) and src[j] not in "{;":
            j += 1
        if j >= len(src):
            continue
        if src[j] == ";":
            end = j + 1
        else:
            depth, k = 0, j
            while k < len(src):
                if src[k] == "{":
                    depth += 1
                elif src[k] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            end = k + 1
        for k in range(m.start(), min(end, len(chars))):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


def expand_use_tree(tree: str) -> list[tuple[str, str]]:
    """`a::{b, c::{d, e as f}, self}` -> [('a::b', 'b'), ('a::c::d', 'd'), ('a::c::e', 'f'), ('a', 'a')]:
    each imported path with the name it is known by."""
    tree = re.sub(r"\s+as\s+(" + IDENT + r")", r"@\1", tree)
    tree = re.sub(r"\s+", "", tree)

    def split_top(s: str) -> list[str]:
        parts, depth, cur = [], 0, ""
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            parts.append(cur)
        return parts

    def expand(prefix: str, s: str) -> list[tuple[str, str]]:
        brace = s.find("{")
        if brace < 0:
            path, _, alias = s.partition("@")
            full = prefix + path
            if full.endswith("::self"):
                full = full[: -len("::self")]
            return [(full, alias or full.split("::")[-1])]
        head, body = s[:brace], s[brace + 1 : s.rfind("}")]
        out = []
        for part in split_top(body):
            out.extend(expand(prefix + head, part))
        return out

    return [(p, n) for p, n in expand("", tree) if p]


class Crate:
    def __init__(self, root: Path):
        self.dir = root
        self.files: dict[tuple[str, ...], Path] = {}  # module path -> file
        self.children: dict[tuple[str, ...], set[str]] = {}
        self.text: dict[tuple[str, ...], str] = {}
        self.reexports: dict[tuple[str, ...], dict[str, list[str]]] = {}
        for name in ("lib.rs", "main.rs"):
            f = root / "src" / name
            if f.exists() and () not in self.files:
                self.load((), f, f.parent, is_root=True)

    def load(self, module: tuple[str, ...], path: Path, child_dir: Path, is_root: bool = False) -> None:
        self.files[module] = path
        text = strip_cfg_test(strip_comments_and_strings(path.read_text(encoding="utf-8")))
        self.text[module] = text
        self.children[module] = set()
        for m in re.finditer(r"(?m)^\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", text):
            name = m.group(1)
            attr = re.search(r'#\[path\s*=\s*"([^"]+)"\]', m.group(0))
            candidates = [child_dir / f"{name}.rs", child_dir / name / "mod.rs"]
            if attr:
                candidates = [child_dir / attr.group(1)]
            for cand in candidates:
                if cand.exists():
                    sub = module + (name,)
                    self.children[module].add(name)
                    next_dir = cand.parent if cand.name == "mod.rs" else child_dir / name
                    self.load(sub, cand, next_dir)
                    break
        # inline modules (`mod x { ... }`) count as part of this file
        exports: dict[str, list[str]] = {}
        for m in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
            for p, name in expand_use_tree(m.group(1)):
                exports.setdefault(name, []).append(p)
        self.reexports[module] = exports

    def absolute(self, module: tuple[str, ...], segs: list[str]) -> list[str] | None:
        """Turns a path as written in `module` into segments from the crate root, or None if it
        is not a path into this crate."""
        if not segs:
            return None
        if segs[0] == "crate":
            return segs[1:]
        if segs[0] in ("self", "super"):
            base = list(module)
            while segs and segs[0] in ("self", "super"):
                if segs[0] == "super":
                    if not base:
                        return None
                    base.pop()
                segs = segs[1:]
            return base + segs
        if segs[0] in self.children.get(module, ()):
            return list(module) + segs
        return None

    def resolve(self, segs: list[str], seen: int = 0) -> tuple[str, ...] | None:
        """The module whose file defines what the absolute path names."""
        cur: tuple[str, ...] = ()
        for i, s in enumerate(segs):
            if s in self.children.get(cur, ()):
                cur = cur + (s,)
                continue
            if s == "*":
                return cur
            targets = self.reexports.get(cur, {}).get(s)
            if targets and seen < 8:
                for t in targets:
                    abs_t = self.absolute(cur, t.split("::"))
                    if abs_t is not None and abs_t != segs[: i + 1]:
                        r = self.resolve(abs_t + segs[i + 1 :], seen + 1)
                        if r is not None:
                            return r
            return cur
        return cur

    def edges(self) -> dict[tuple[str, ...], dict[tuple[str, ...], int]]:
        out: dict[tuple[str, ...], dict[tuple[str, ...], int]] = {}
        for module, text in self.text.items():
            found: dict[tuple[str, ...], int] = {}

            def add(path: str, pos: int) -> None:
                segs = [s for s in path.split("::") if s]
                abs_segs = self.absolute(module, segs)
                if abs_segs is None:
                    return
                target = self.resolve(abs_segs)
                if target is None or target == module:
                    return
                # a module naming its own descendant's parent chain is not an import of itself
                line = text.count("\n", 0, pos) + 1
                found.setdefault(target, line)

            for m in re.finditer(r"\buse\s+([^;]+);", text):
                for p, _ in expand_use_tree(m.group(1)):
                    add(p, m.start())
            for m in re.finditer(r"(?<![\w:])((?:crate|super|self|" + IDENT + r")(?:::" + IDENT + r")+)", text):
                head = m.group(1).split("::")[0]
                if head in ("crate", "super", "self") or head in self.children.get(module, ()):
                    add(m.group(1), m.start())
            out[module] = found
        return out


def strongly_connected(graph: dict) -> list[list]:
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
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
            out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def check(crate_dir: Path) -> int:
    crate = Crate(crate_dir)
    if not crate.files:
        return 0
    graph = crate.edges()
    circles = [c for c in strongly_connected(graph) if len(c) > 1]
    rel = lambda m: os.path.relpath(crate.files[m], crate_dir.parent.parent if crate_dir.parent.name == "crates" else crate_dir)
    for comp in circles:
        members = set(comp)
        print(f"circle in {crate_dir}: " + ", ".join(sorted(rel(m) for m in comp)))
        for a in sorted(comp):
            for b, line in sorted(graph[a].items()):
                if b in members:
                    print(f"  {rel(a)}:{line} -> {rel(b)}")
    return len(circles)


def main(argv: list[str]) -> int:
    dirs = [Path(a) for a in argv] or sorted(p for p in Path("crates").iterdir() if (p / "src").is_dir())
    total = sum(check(d) for d in dirs)
    if total:
        print(f"{total} circle(s) of imports between files")
        return 1
    print(f"no circles of imports between files in {len(dirs)} crate(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
