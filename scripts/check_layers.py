#!/usr/bin/env python3
"""Rejects an #include that reaches above its own layer (arch/ARCHITECTURE.md, "Layers").

The layers are the aksnode_library() calls of the CMakeLists.txt files: a library's folder (DIR)
or single files (FILES), and the libraries it links (DEPS). A source file may include its own
layer's headers and those of every layer its DEPS reach, transitively; nothing else of the agent.
The build enforces the same rule (cmake/library.cmake gives each library only those include
roots); this check says it in CI in a second, without a compiler, and names the offending line.

Usage: check_layers.py [REPO]   exit 0 when every include is allowed, 1 with one line per offence.
"""
import pathlib
import re
import sys

SOURCE_ROOTS = ("agent", "probes", "metrics")
EXECUTABLE = ("agent/main.cpp", ["aksnode_app"])
GENERATED = {"build_info.h": "aksnode_core"}  # written into the build tree by cmake/version.cmake

CALL = re.compile(r"aksnode_library\((\w+)(.*?)\)", re.S)
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def read_layers(repo):
    """{library: {"paths": [folder or header], "deps": [our libraries]}} from every CMakeLists.txt."""
    layers = {}
    for cmake in repo.glob("**/CMakeLists.txt"):
        if "build" in cmake.relative_to(repo).parts[:1]:
            continue
        for name, body in CALL.findall(cmake.read_text()):
            paths, deps, section = [], [], None
            for token in body.split():
                if token in ("DIR", "FILES", "DEPS"):
                    section = token
                elif section in ("DIR", "FILES"):
                    paths.append(token)
                elif section == "DEPS" and token.startswith("aksnode_"):
                    deps.append(token)
            layers[name] = {"paths": paths, "deps": deps}
    return layers


def reachable(layers, name, seen=None):
    seen = set() if seen is None else seen
    if name in seen:
        return seen
    seen.add(name)
    for dep in layers.get(name, {}).get("deps", []):
        reachable(layers, dep, seen)
    return seen


def owner(layers, path):
    """The library whose folder or header `path` is, or None."""
    if path in GENERATED:
        return GENERATED[path]
    for name, layer in layers.items():
        for p in layer["paths"]:
            if path == p or path.startswith(p + "/") and "/" not in path[len(p) + 1:]:
                return name
    return None


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[1])
    layers = read_layers(repo)
    exe_path, exe_deps = EXECUTABLE
    offences = []
    checked = 0
    for root in SOURCE_ROOTS:
        for f in sorted((repo / root).rglob("*")):
            if f.suffix not in (".h", ".cpp"):
                continue
            rel = f.relative_to(repo).as_posix()
            if rel == exe_path:
                allowed = set().union(*(reachable(layers, d) for d in exe_deps))
                mine = None
            else:
                mine = owner(layers, rel)
                if mine is None:
                    offences.append(f"{rel}: belongs to no layer (no aksnode_library DIR or FILES names it)")
                    continue
                allowed = reachable(layers, mine)
            text = f.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                line = text.count("\n", 0, m.start()) + 1
                if "/" not in inc and inc not in GENERATED:
                    if (f.parent / inc).exists():
                        continue  # a sibling in the same folder
                target = owner(layers, inc)
                checked += 1
                if target is None:
                    offences.append(f"{rel}:{line}: includes \"{inc}\", which no layer owns")
                elif target not in allowed:
                    offences.append(f"{rel}:{line}: {mine or 'aks-node-agent'} includes \"{inc}\" of {target}, "
                                    f"which is not below it (its DEPS reach: {', '.join(sorted(allowed))})")
    for o in offences:
        print(o)
    print(f"check_layers: {len(layers)} layers, {checked} includes checked, {len(offences)} offences")
    return 1 if offences else 0


if __name__ == "__main__":
    sys.exit(main())
