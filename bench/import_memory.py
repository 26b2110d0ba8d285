"""What each import adds to a process's resident memory (docs/performance.md, "Memory").

    .venv/bin/python bench/import_memory.py galaxy_lobby.__main__
    .venv/bin/python bench/import_memory.py galaxy_lobby.__main__ --after grpc,sqlalchemy.orm

Imports MODULE in this fresh interpreter with `builtins.__import__` wrapped,
and charges each import statement the VmRSS it added minus what its own nested
imports added (so a package is charged for itself, not for its dependencies).
`--after` imports the named modules first, to see what a process adds on top of
the libraries every service shares. Runs the service's `galaxy_kit.entry` first,
as its `python -m` entry point does. Figures move by a few hundred kilobytes
between runs (allocator arenas); look at the megabytes.
"""

from __future__ import annotations

import argparse
import builtins
import importlib


def rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("module")
    parser.add_argument("--after", default="", help="comma-separated modules imported before measuring")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    start = rss_kb()
    importlib.import_module("galaxy_kit.entry")
    for name in filter(None, args.after.split(",")):
        importlib.import_module(name)
    base = rss_kb()

    original = builtins.__import__
    nested: list[int] = []
    charged: dict[str, int] = {}

    def measuring_import(name, globals=None, locals=None, fromlist=(), level=0):
        before = rss_kb()
        nested.append(0)
        try:
            return original(name, globals, locals, fromlist, level)
        finally:
            children = nested.pop()
            added = rss_kb() - before
            if added > 0:
                importer = (globals or {}).get("__name__", "?")
                key = name if level == 0 else f"{importer}:{name}"
                charged[key] = charged.get(key, 0) + added - children
            if nested:
                nested[-1] += added

    builtins.__import__ = measuring_import
    try:
        importlib.import_module(args.module)
    finally:
        builtins.__import__ = original
    end = rss_kb()
    print(f"{args.module}: {end / 1024:.1f} MB resident; interpreter {start / 1024:.1f} MB, "
          f"--after modules {(base - start) / 1024:.1f} MB, the rest {(end - base) / 1024:.1f} MB")
    for key, kb in sorted(charged.items(), key=lambda item: -item[1])[: args.top]:
        print(f"  {kb / 1024:6.1f} MB  {key}")


if __name__ == "__main__":
    main()
