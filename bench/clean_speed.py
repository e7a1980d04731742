"""Throughput of the cleaner in CPU time: `python -m bench.clean_speed [--ref REV ...]`.

    python -m bench.clean_speed                      # build_article on the 20 x 100 set (seed 1)
    python -m bench.clean_speed --ref 16f8ab8        # and, interleaved, clean.py as it was at 16f8ab8

Parses the generated feeds once (parse.parse_feed), then runs `clean.build_article` over every entry,
`--rounds` times, and reports items per CPU second (time.process_time: the machine is shared, so wall
time mostly measures the neighbours) of the best round. With `--ref`, transforms/clean.py of each named
git revision is loaded as a separate module and measured in the same rounds, one after the other, so
that every version sees the same load; a version whose clean.py no longer imports is reported, not
measured. Run it pinned to one core (`taskset -c 0`) for a per-core figure.

`--profile` runs pyinstrument over one round of the current cleaner instead and prints its tree.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import REPO, generate_isolated, set_dir
from newsbeam.transforms import clean
from newsbeam.transforms.fetch import FetchSettings, fetch_feed
from newsbeam.transforms.parse import parse_feed
from newsbeam.transforms.records import FeedSpec, RawEntry

FETCHED_AT = dt.datetime(2024, 6, 3, tzinfo=dt.UTC)


def load_entries(directory: Path) -> list[RawEntry]:
    paths = [Path(line) for line in (directory / "feeds.txt").read_text().split()]
    settings = FetchSettings()
    feeds = [fetch_feed(FeedSpec(str(p)), None, settings, now=lambda: FETCHED_AT) for p in paths]
    return [entry for feed in feeds for entry in parse_feed(feed).entries]


def clean_at(revision: str) -> Callable[[RawEntry], object]:
    """build_article of transforms/clean.py as it was at `revision` (its own module, its own rule tables)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:transforms/clean.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout
    path = Path(tempfile.mkdtemp(prefix="clean_ref_")) / "clean_ref.py"
    path.write_text(source, encoding="utf-8")
    name = f"newsbeam.transforms._clean_at_{revision.replace('-', '_').replace('/', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.build_article


def one_round(build: Callable[[RawEntry], object], entries: list[RawEntry]) -> float:
    """CPU seconds to clean every entry once (an empty item raises ValueError, as in the pipeline)."""
    gc.collect()
    start = time.process_time()
    for entry in entries:
        with contextlib.suppress(ValueError):
            build(entry)
    return time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clean_speed", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="an existing generated set (default: generate one)")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ref", action="append", default=[], help="a git revision to compare (repeatable)")
    parser.add_argument("--rules-only", action="store_true", help="also the working tree without its filter")
    parser.add_argument("--profile", action="store_true", help="pyinstrument over one round instead")
    args = parser.parse_args(argv)
    directory = args.dir
    if directory is None:
        directory = set_dir(args.feeds, args.items, args.seed)
        if not (directory / "feeds.txt").exists():
            generate_isolated(directory, args.feeds, args.items, args.seed)
    entries = load_entries(directory)
    # the working tree as the pipeline runs it by default: rules plus the learned paragraph filter
    drop_filter = clean.learned_drop_filter(clean.CleanSettings())
    build = functools.partial(clean.build_article, drop_filter=drop_filter)
    if args.profile:
        from pyinstrument import Profiler

        one_round(build, entries)  # warm: rule tables, caches
        with Profiler(interval=0.0005) as profiler:
            one_round(build, entries)
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        return 0
    versions: dict[str, Callable[[RawEntry], object]] = {"working tree": build}
    if args.rules_only:
        versions["rules only"] = clean.build_article
    for revision in args.ref:
        try:
            versions[revision] = clean_at(revision)
        except Exception as exc:  # an old clean.py may import what no longer exists: say so, go on
            print(f"{revision}: not measured ({type(exc).__name__}: {exc})")
    for build in versions.values():
        one_round(build, entries[:200])  # warm
    best = dict.fromkeys(versions, float("inf"))
    for _ in range(args.rounds):
        for label, build in versions.items():
            best[label] = min(best[label], one_round(build, entries))
    print(f"{len(entries)} entries from {directory}, best of {args.rounds} rounds, CPU time")
    for label, seconds in best.items():
        print(
            f"{label:<14} {len(entries) / seconds:8.0f} items/CPU-s"
            f"  {seconds * 1000 / len(entries):6.3f} ms/item"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
