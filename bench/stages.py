"""Per-stage timings of the stages' plain functions, and a plain-Python baseline of the whole chain.

    python -m bench.stages                      # a fresh 20 x 100 set in bench/out/
    python -m bench.stages --dir bench/out/set  # an existing set (a directory with feeds.txt)

Each stage runs in a plain loop on one core, on the previous stage's output, exactly the functions the
Beam DoFns wrap (no Beam, no pickling, no bundles), so a stage's figure is the ceiling of what its DoFn
can do per core:

    fetch    fetch.fetch_feed on each local file (a file read: the floor, not a network fetch)
    parse    parse.parse_feed(FetchedFeed) -> RawEntry (the lxml fast path where it applies), and again
             with fast_path=False (feedparser only): the two must give the same entries
    clean    clean.build_article(RawEntry) -> Article (HTML -> paragraphs, canonical URL, id)
    enrich   enrich.Gazetteer.build() once (its own row), then .tag(title, body) per article
    dedup    dedup.identity_keys + dedup.canonical_url per article, first copy kept (a set of keys)
    sink     Article.to_row, pyarrow.Table.from_pylist(ARTICLE_SCHEMA), one zstd Parquet file

`rss_mb` is the process's peak RSS after the stage (VmHWM: it only grows, so a stage's figure covers the
stages before it; the first row shows what the imports alone take). With --py-peak, `py_peak_mb` is
tracemalloc's peak during a second, untimed run of the same loop: not on by default, as tracemalloc makes
these loops about 5x slower, and it sees only Python's allocator, not lxml's or Arrow's (a lower bound).

The baseline is the whole chain as a plain Python program would write it: feedparser.parse with its
defaults (sanitize_html and resolve_relative_uris on, unlike the parse stage), the same clean / tag / dedup
functions in one loop, one pyarrow write. It runs in a fresh interpreter (its own peak RSS, nothing warm).
Its items/s counts parsed entries over the whole time, Gazetteer.build included, as `newsbeam run`
reports entries_parsed / wall_seconds; `written` should equal the run's articles_written.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import io
import json
import resource
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import feedparser
import pyarrow as pa
import pyarrow.parquet as pq

from bench import generate_isolated, print_table, run_isolated, set_dir
from newsbeam.transforms.clean import build_article
from newsbeam.transforms.dedup import canonical_url, identity_keys
from newsbeam.transforms.enrich import Gazetteer
from newsbeam.transforms.fetch import FetchSettings, fetch_feed
from newsbeam.transforms.parse import parse_feed
from newsbeam.transforms.records import ARTICLE_SCHEMA, Article, FeedSpec, RawEntry

FETCHED_AT = dt.datetime(2024, 6, 3, tzinfo=dt.UTC)  # after the generator's END: no date is clamped


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries a parent's RSS at fork into the
    child's ru_maxrss across exec, so a child started by a big process would report at least its size."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux (bytes on macOS)


def _measure(name: str, loop: Callable[[], tuple[Any, int]], py_peak: bool) -> tuple[Any, dict]:
    """Time one stage loop; optionally run it once more under tracemalloc for its Python-heap peak."""
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    result, items = loop()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    row = {
        "stage": name,
        "items": items,
        "seconds": round(seconds, 3),
        "items_per_s": round(items / seconds, 1) if seconds else None,
        # CPU time: what one core does, whatever else the (shared) machine was doing meanwhile
        "cpu_seconds": round(cpu, 3),
        "items_per_cpu_s": round(items / cpu, 1) if cpu else None,
        "rss_mb": round(peak_rss_mb(), 1),
        "py_peak_mb": None,
    }
    if py_peak:
        gc.collect()
        tracemalloc.start()
        loop()
        row["py_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return result, row


def run_stages(paths: list[Path], py_peak: bool = False) -> list[dict]:
    settings = FetchSettings()
    rows = [
        {
            "stage": "(imports, before any stage)",
            "items": 0,
            "seconds": 0.0,
            "items_per_s": None,
            "rss_mb": round(peak_rss_mb(), 1),
            "py_peak_mb": None,
        }
    ]

    def fetch():
        fetched = [fetch_feed(FeedSpec(str(p)), None, settings, now=lambda: FETCHED_AT) for p in paths]
        return fetched, len(fetched)

    fetched, row = _measure("fetch (file read)", fetch, py_peak)
    rows.append(row)

    def parse():
        entries = [entry for feed in fetched for entry in parse_feed(feed).entries]
        return entries, len(entries)

    def parse_with_feedparser():  # the reference the fast path replaces, for the comparison
        entries = [entry for feed in fetched for entry in parse_feed(feed, fast_path=False).entries]
        return entries, len(entries)

    entries, row = _measure("parse", parse, py_peak)
    row["fast_path_feeds"] = sum(parse_feed(feed).fast_path for feed in fetched)
    rows.append(row)
    reference, row = _measure("parse (feedparser only)", parse_with_feedparser, py_peak)
    if reference != entries:
        raise AssertionError("the fast path and feedparser gave different entries")
    rows.append(row)
    del reference

    def clean():
        pairs = []
        for entry in entries:
            try:
                pairs.append((entry, build_article(entry)))
            except ValueError:  # an empty item: a dead letter in the pipeline
                continue
        return pairs, len(entries)

    pairs, row = _measure("clean", clean, py_peak)
    rows.append(row)

    gazetteer, row = _measure("enrich: Gazetteer.build", lambda: (Gazetteer.build(), 1), py_peak)
    rows.append(row)

    def enrich():
        tagged = []
        for entry, article in pairs:
            tags = gazetteer.tag(article.title, article.body, region_hint=article.region_hint)
            tagged.append(
                (
                    entry,
                    dataclasses.replace(
                        article, countries=tags.countries, regions=tags.regions, places=tags.places
                    ),
                )
            )
        return tagged, len(pairs)

    tagged, row = _measure("enrich: tag", enrich, py_peak)
    rows.append(row)

    def dedup():
        seen: set[str] = set()
        kept = []
        for entry, article in tagged:
            canonical_url(entry.link)  # the raw link, as the clean stage canonicalises it
            keys = identity_keys(article)
            if seen.isdisjoint(keys):
                kept.append(article)
            seen.update(keys)
        return kept, len(tagged)

    kept, row = _measure("dedup", dedup, py_peak)
    rows.append(row)

    def sink():
        with tempfile.TemporaryDirectory(prefix="newsbeam-bench-") as tmp:
            write_articles(kept, Path(tmp) / "articles.parquet")
        return None, len(kept)

    _, row = _measure("sink", sink, py_peak)
    rows.append(row)
    return rows


def write_articles(articles: list[Article], path: Path) -> None:
    table = pa.Table.from_pylist([a.to_row() for a in articles], schema=ARTICLE_SCHEMA)
    pq.write_table(table, path, compression="zstd")


# --------------------------------------------------------------------------------------------------------
# The plain-Python baseline


def _struct_time_utc(value) -> dt.datetime | None:
    return dt.datetime(*value[:6], tzinfo=dt.UTC) if value else None


def _raw_entry(feed: FeedSpec, position: int, item) -> RawEntry:
    """The least a plain program maps from a feedparser entry to what build_article reads."""
    content = item.get("content") or []
    return RawEntry(
        feed=feed,
        fetched_at=FETCHED_AT,
        position=position,
        guid=item.get("id"),
        link=item.get("link"),
        title=item.get("title", ""),
        content_html=content[0].get("value") if content else None,
        summary_html=item.get("summary"),
        authors=tuple(a.get("name") for a in item.get("authors", []) if a.get("name")),
        published_at=_struct_time_utc(item.get("published_parsed") or item.get("updated_parsed")),
    )


def run_baseline(paths: list[Path]) -> dict:
    """Whole chain, no Beam: parse (feedparser defaults), clean, tag, dedup, one Parquet write."""
    gc.collect()
    start, cpu_start = time.perf_counter(), time.process_time()
    gazetteer = Gazetteer.build()
    built = time.perf_counter()
    entries = []
    for path in paths:
        feed = FeedSpec(str(path))
        # a stream, never bytes or str: feedparser would try to open those as a path or URL first
        parsed = feedparser.parse(io.BytesIO(path.read_bytes()))
        entries += [_raw_entry(feed, i, item) for i, item in enumerate(parsed.entries)]
    seen: set[str] = set()
    kept = []
    for entry in entries:
        try:
            article = build_article(entry)
        except ValueError:
            continue
        tags = gazetteer.tag(article.title, article.body, region_hint=article.region_hint)
        article = dataclasses.replace(
            article, countries=tags.countries, regions=tags.regions, places=tags.places
        )
        canonical_url(entry.link)
        keys = identity_keys(article)
        if seen.isdisjoint(keys):
            kept.append(article)
        seen.update(keys)
    with tempfile.TemporaryDirectory(prefix="newsbeam-bench-") as tmp:
        write_articles(kept, Path(tmp) / "articles.parquet")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "stage": "baseline (plain Python)",
        "items": len(entries),
        "written": len(kept),
        "seconds": round(seconds, 3),
        "items_per_s": round(len(entries) / seconds, 1),
        "cpu_seconds": round(cpu, 3),
        "items_per_cpu_s": round(len(entries) / cpu, 1),
        "items_per_s_without_build": round(len(entries) / (seconds - (built - start)), 1),
        "gazetteer_build_s": round(built - start, 3),
        "rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="an existing generated set (default: generate one)")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--py-peak", action="store_true", help="re-run each stage under tracemalloc (slow)")
    parser.add_argument("--only", choices=("stages", "baseline"), help="default: both")
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line, no table")
    args = parser.parse_args(argv)
    directory = args.dir
    if directory is None:
        directory = set_dir(args.feeds, args.items, args.seed)
        generate_isolated(directory, args.feeds, args.items, args.seed)
    paths = [Path(line) for line in (directory / "feeds.txt").read_text().split()]
    if args.only == "baseline":
        rows = [run_baseline(paths)]
    else:
        rows = run_stages(paths, py_peak=args.py_peak)
        if args.only is None:
            rows += run_isolated(directory, "baseline")
    if args.json:
        print(json.dumps(rows))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
