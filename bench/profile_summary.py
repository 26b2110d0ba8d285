"""Summarise a py-spy raw (folded) profile: where a process spends its samples.

Run: `uv run python bench/profile_summary.py bench/results/profile-account.txt [--top 25]`.
Prints the share of samples per function (self time, the leaf of each stack)
and per module group (inclusive: a stack counts once for each group it passes).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: Inclusive buckets: the first pattern found in a stack, from the leaf up, names its bucket.
GROUPS = (
    ("idle (event loop waiting)", re.compile(r"\(selectors\.py\)|select \(|_run_once.*\(uvloop|poll \(")),
    ("sqlalchemy orm", re.compile(r"sqlalchemy/orm/")),
    ("sqlalchemy core/engine", re.compile(r"sqlalchemy/(engine|sql|pool|dialects)/")),
    ("greenlet hop", re.compile(r"greenlet")),
    ("asyncpg", re.compile(r"asyncpg/")),
    ("grpc", re.compile(r"grpc/")),
    ("protobuf", re.compile(r"google/protobuf/")),
    ("logging/structlog", re.compile(r"structlog/|logging/__init__")),
    ("prometheus", re.compile(r"prometheus_client/")),
    ("starlette/fastapi/uvicorn", re.compile(r"starlette/|fastapi/|uvicorn/")),
    ("asyncio", re.compile(r"asyncio/")),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    leaves: Counter[str] = Counter()
    groups: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        leaves[frames[-1]] += n
        for name, pattern in GROUPS:
            if pattern.search(stack):
                groups[name] += n
    print(f"{total} samples")
    print("inclusive, by library:")
    for name, n in groups.most_common():
        print(f"  {n / total * 100:5.1f}%  {name}")
    print(f"self, top {args.top} functions:")
    for frame, n in leaves.most_common(args.top):
        print(f"  {n / total * 100:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
