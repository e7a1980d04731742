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

"newsbeam stages, no Beam" (`--only floor`) is all of `newsbeam run`'s own work with no runner: the default
config (`load_config`, as the CLI loads it), and each step the pipeline's own function or DoFn method
(`process` / `handle` called directly, Metrics counters doing nothing), in the graph's order, each step over
all items before the next, dicts standing in for the GroupByKeys. Each step's CPU time is timed on its own
and marked serial when newsbeam's design runs it as one group for the whole run (story clustering is one
ordered pass per language); the rest is per item, per feed or per key of many keys, which two workers
share. One core: items / all CPU; two cores at best: items / (parallel CPU / 2 + serial CPU). Run once
against a `newsbeam run` of the same set, its `written`, `near_duplicates` and `stories` must equal the
run's articles_written and its dedup counters.
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
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import feedparser
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.pvalue import TaggedOutput

from bench import compare_to_baseline, generate_isolated, print_table, run_isolated, set_dir
from newsbeam.pipeline.config import load_config, resolve_feeds

# The floor calls the pipeline's own DoFns and helpers, private ones included, so that it does the work the
# run does and not a copy of it that could drift.
from newsbeam.transforms.clean import (
    RepeatedParagraphs,
    _CleanEntryFn,
    _DropRepeatedFn,
    _paragraph_keys,
    build_article,
)
from newsbeam.transforms.dedup import (
    CANDIDATES_PER_MEMBER,
    DedupSettings,
    _batch_keys,
    _ClusterStoriesFn,
    _compared,
    _copy_of,
    _first,
    _JudgeKeyFn,
    _KeepAndSketchFn,
    _KeyArticlesFn,
    _new_band_rows,
    _shard_of,
    _ShardPairsFn,
    _SortedKeysFn,
    _VerifyFn,
    canonical_url,
    identity_keys,
    precedence,
)
from newsbeam.transforms.enrich import Gazetteer, _TagRegionsFn
from newsbeam.transforms.fetch import FetchSettings, fetch_feed
from newsbeam.transforms.neardup import find_near_duplicates
from newsbeam.transforms.parse import parse_feed
from newsbeam.transforms.records import ARTICLE_SCHEMA, Article, FeedSpec, RawEntry
from newsbeam.transforms.sink import (
    WriteArticles,
    WriteDeadLetters,
    WriteIndex,
    WriteSketches,
    _WriteFileFn,
    _WritePartitioned,
)

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


# --------------------------------------------------------------------------------------------------------
# newsbeam's own work, no Beam

FLOOR_STAGE = "newsbeam stages, no Beam"


class _Steps:
    """CPU seconds of each step of the floor, in order, each marked serial or not."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self._mark = time.process_time()

    def done(self, name: str, *, serial: bool = False, groups: int | None = None, why: str = "") -> None:
        now = time.process_time()
        if groups is not None and groups < 2:  # a keyed step with one key runs on one worker
            serial, why = True, why or "one group"
        self.rows.append(
            {"step": name, "cpu_s": now - self._mark, "serial": serial, "groups": groups, "why": why}
        )
        self._mark = now


def _split(outputs: Iterable) -> tuple[list, list]:
    """A DoFn's outputs: (main outputs, tagged outputs' values)."""
    main, tagged = [], []
    for output in outputs:
        if isinstance(output, TaggedOutput):
            tagged.append(output.value)
        else:
            main.append(output)
    return main, tagged


def _grouped(pairs: Iterable[tuple]) -> dict:
    """What a GroupByKey gives: key -> its values, in arrival order."""
    groups: dict = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


def _files_of(writer: _WritePartitioned, records: Iterable) -> dict[tuple[str, int], list]:
    """A writer's GroupByFile in memory: (date partition, shard) -> (record id, row), each made by the
    writer's own ToRow step."""
    keyed_row = writer.keyed_row_fn()
    files: dict[tuple[str, int], list] = {}
    for record in records:
        key, row = keyed_row(record)
        files.setdefault(key, []).append(row)
    return files


def _write_files(writer: _WritePartitioned, output: str, run_id: str, files: dict) -> int:
    write = _WriteFileFn(output, run_id, writer._dataset, writer._schema, writer._settings)
    write.setup()
    return sum(rows for key, keyed_rows in files.items() for _, _, rows in write.process((key, keyed_rows)))


def run_floor(directory: Path, output: Path | None = None) -> dict:
    """`newsbeam run`'s work on the set in `directory` with the default config, no runner: see the module
    docstring. `output`: keep the written files there (default: a temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="newsbeam-floor-") as tmp:
        return _floor(directory, str(output or tmp))


def _floor(directory: Path, output: str) -> dict:
    gc.collect()
    start = time.perf_counter()
    steps = _Steps()
    run_at, run_id = FETCHED_AT, "floor"  # the run's clock: its fetch time and the index's seen_at
    feeds_file = str((directory / "feeds.txt").resolve())
    config, _ = load_config(None, {"feeds": [], "feeds_file": feeds_file, "output": output})
    feeds = resolve_feeds(config, Path.cwd())
    clean_fn = _CleanEntryFn(config.clean)
    clean_fn.setup()  # the rules and the learned filter
    tag_fn = _TagRegionsFn(config.enrich.min_city_population, config.enrich.taxonomy_path)
    tag_fn.setup()  # the gazetteer
    steps.done("set-up (config, rules, filter, gazetteer)", serial=True, why="once per worker process")

    fetched = [fetch_feed(feed, None, config.fetch, now=lambda: run_at) for feed in feeds]
    steps.done("fetch (file read)", groups=len(fetched))
    entries = [entry for feed in fetched for entry in parse_feed(feed).entries]
    steps.done("parse", groups=len(fetched))
    articles, letters = _split(out for entry in entries for out in clean_fn.process(entry))
    steps.done("clean (build_article + learned filter)")

    settings = config.clean
    if settings.repeat_min_items:
        keyed = [_paragraph_keys(article) for article in articles]
        steps.done("repeated chrome: paragraph keys")
        combine = RepeatedParagraphs(settings.repeat_min_items, settings.repeat_min_share)
        accumulators: dict[str, dict] = {}
        for source, value in keyed:
            accumulator = accumulators.get(source)
            accumulators[source] = combine.add_input(
                combine.create_accumulator() if accumulator is None else accumulator, value
            )
        repeated = {
            source: keys for source, acc in accumulators.items() if (keys := combine.extract_output(acc))
        }
        steps.done("repeated chrome: per source (CombinePerKey)", groups=len(accumulators))
        drop_fn = _DropRepeatedFn()
        articles = [out for article in articles for out in drop_fn.process(article, repeated)]
        steps.done("repeated chrome: drop_repeated")
    tagged, more = _split(out for article in articles for out in tag_fn.process(article))
    letters += more
    steps.done("tag (Gazetteer.tag + source_country)")

    # -- exact duplicates: identity keys, judged per key, survivors per id
    dedup = config.dedup
    key_fn = _KeyArticlesFn()
    key_rows, more = _split(out for article in tagged for out in key_fn.process(article))
    letters += more
    by_key = _grouped(key_rows)
    steps.done("exact dedup: identity keys + precedence")
    judge = _JudgeKeyFn(run_at)
    verdict_rows, index_entries = _split(
        out for key, ranked in by_key.items() for out in judge.process((key, {"new": ranked, "seen": []}))
    )
    steps.done("exact dedup: judge each key", groups=len(by_key))
    # the join by id shard: each id's copies and the verdicts that drop it; the survivors sketched there
    copies = _grouped(_shard_of(_copy_of(article)) for article in tagged)
    verdicts_of = _grouped(_shard_of(row) for row in verdict_rows)
    keep = _KeepAndSketchFn(dedup)
    sketched = [
        out
        for shard, group in copies.items()
        for out in keep.process((shard, {"copy": group, "verdict": verdicts_of.get(shard, [])}))
    ]
    batches = [entries for entries, _ in sketched]
    entries_of = [entry for batch in batches for entry in batch]
    kept_ids = {entry.article_id for entry in entries_of} | {i for _, failed in sketched for i in failed}
    steps.done("exact dedup: keep survivors + sketches", groups=len(copies))
    band_rows = _grouped(row for batch in batches for row in _new_band_rows(batch, dedup.lsh_bands))
    new_keys = [_batch_keys(batch, dedup.lsh_bands) for batch in batches]
    steps.done("near-dups: band keys")
    sorted_keys = _SortedKeysFn()
    accumulator = sorted_keys.create_accumulator()
    for _, keys in new_keys:
        accumulator = sorted_keys.add_input(accumulator, keys)
    sorted_keys.extract_output(accumulator)  # the look-back's side input: computed by every run
    steps.done("near-dups: sorted band keys (one key)", serial=True, groups=1, why="CombinePerKey on one key")
    pairs_fn = _ShardPairsFn(CANDIDATES_PER_MEMBER)
    pairs = set(out for shard in band_rows.items() for out in pairs_fn.process(shard))  # DistinctPairs
    steps.done("near-dups: buckets -> candidate pairs", groups=len(band_rows))
    compared = {entry.article_id: _compared(entry) for entry in entries_of}
    candidates = _grouped((later, compared[earlier]) for later, earlier, _ in pairs)
    verify = _VerifyFn(dedup)
    verdicts = dict(
        out
        for later, offered in candidates.items()
        for out in verify.process((later, {"entry": [compared[later]], "candidate": offered}))
    )
    steps.done("near-dups: verify", groups=len(candidates))

    # -- stories: one ordered pass per language
    fields = _grouped(
        (
            entry.story_group,
            (
                entry.story_fields(verdicts.get(entry.article_id, (None,))[0]),
                verdicts.get(entry.article_id, (None, None))[1],
            ),
        )
        for entry in entries_of
    )
    steps.done("stories: story fields + verdicts")
    cluster = _ClusterStoriesFn(dedup)
    stories = {
        article_id: story_id
        for group, new in fields.items()
        for article_id, (story_id, _) in cluster.process((group, {"new": new, "earlier": []}))
    }
    steps.done(
        "stories: cluster per language",
        serial=len(fields) < 2,
        groups=len(fields),
        why="one ordered pass per language",
    )

    # -- the final join (_FinishFn, _SketchRowFn): the article itself is at hand, not pickled for a shuffle
    final = _finished(tagged, kept_ids, verdicts, stories, dedup)
    sketch_rows = [
        dataclasses.replace(entry, story_id=stories.get(entry.article_id, entry.article_id), seen_at=run_at)
        for entry in entries_of
        if entry.article_id in kept_ids and not (dedup.drop_near_duplicates and entry.article_id in verdicts)
    ]
    steps.done("finish: duplicate_of, story_id")

    sink = config.sink
    writers = [
        ("articles", WriteArticles(output, run_id, sink), final),
        ("index", WriteIndex(output, run_id, sink), index_entries),
        ("sketches", WriteSketches(output, run_id, sink), sketch_rows),
        ("dead letters", WriteDeadLetters(output, run_id, sink), letters),
    ]
    files = []
    for name, writer, records in writers:
        if records:
            files.append((name, writer, _files_of(writer, records)))
    steps.done("rows (to_row)")
    written = {}
    for name, writer, grouped in files:
        written[name] = _write_files(writer, output, run_id, grouped)
        steps.done(f"write {name}", serial=len(grouped) < 2, groups=len(grouped), why="one file")
    seconds = time.perf_counter() - start

    # the same decisions as the in-memory near-duplicate search (untimed: a check, not the run's work)
    check_start = time.process_time()
    docs = [(entry.article_id, entry.rank(), entry.sketch) for entry in entries_of]
    found = find_near_duplicates(
        docs,
        bands=dedup.lsh_bands,
        threshold=dedup.near_duplicate_threshold,
        fact_threshold=dedup.near_duplicate_fact_overlap,
        limit=CANDIDATES_PER_MEMBER,
    )
    in_memory_s = time.process_time() - check_start
    if found != verdicts:
        raise AssertionError("the pipeline's near-duplicate steps and find_near_duplicates disagree")
    return _floor_row(steps.rows, len(entries), seconds, written, verdicts, stories, in_memory_s, letters)


def _finished(
    tagged: list[Article], kept_ids: set[str], verdicts: dict, stories: dict, dedup: DedupSettings
) -> list[Article]:
    """What _FinishFn writes: per kept id the copy first by precedence, with its near-duplicate verdict and
    story (_FinishFn reads the same from the pickled copy its join carries)."""
    copies = _grouped(
        (article.article_id, (precedence(article), article))
        for article in tagged
        if article.article_id in kept_ids
    )
    final = []
    for article_id, group in copies.items():
        article = _first(group)[1]
        if article_id in verdicts:
            if dedup.drop_near_duplicates:
                continue
            original, similarity = verdicts[article_id]
            article = dataclasses.replace(
                article,
                duplicate_of=original,
                dedup_reason="near-text",
                dedup_similarity=round(similarity, 4),
            )
        final.append(dataclasses.replace(article, story_id=stories.get(article_id, article_id)))
    return final


def _floor_row(
    steps: list[dict],
    items: int,
    seconds: float,
    written: dict,
    verdicts: dict,
    stories: dict,
    in_memory_s: float,
    letters: list,
) -> dict:
    cpu = sum(step["cpu_s"] for step in steps)
    serial = sum(step["cpu_s"] for step in steps if step["serial"])
    parallel = cpu - serial
    for step in steps:
        step["ms_per_item"] = round(1000 * step["cpu_s"] / items, 3) if items else None
        step["cpu_s"] = round(step["cpu_s"], 3)
    return {
        "stage": FLOOR_STAGE,
        "items": items,
        "written": written.get("articles", 0),
        "files_rows": written,
        "near_duplicates": len(verdicts),
        "stories": sum(1 for article_id, story_id in stories.items() if article_id == story_id),
        "dead_letters": len(letters),
        "seconds": round(seconds, 3),
        "items_per_s": round(items / seconds, 1) if seconds else None,
        "cpu_seconds": round(cpu, 3),
        "items_per_cpu_s": round(items / cpu, 1) if cpu else None,
        "cpu_ms_per_item": round(1000 * cpu / items, 3) if items else None,
        "serial_cpu_s": round(serial, 3),
        "parallel_cpu_s": round(parallel, 3),
        # two workers at best: the parallel steps split evenly, the serial ones on one of them
        "two_core_items_per_s": round(items / (parallel / 2 + serial), 1) if cpu else None,
        "find_near_duplicates_cpu_s": round(in_memory_s, 3),
        "rss_mb": round(peak_rss_mb(), 1),
        "steps": steps,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, help="an existing generated set (default: generate one)")
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--py-peak", action="store_true", help="re-run each stage under tracemalloc (slow)")
    parser.add_argument("--only", choices=("stages", "baseline", "floor"), help="default: all three")
    parser.add_argument(
        "--floor-output",
        type=Path,
        help="--only floor: keep the files it writes here (to compare with a run)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line, no table")
    args = parser.parse_args(argv)
    directory = args.dir
    if directory is None:
        directory = set_dir(args.feeds, args.items, args.seed)
        generate_isolated(directory, args.feeds, args.items, args.seed)
    paths = [Path(line) for line in (directory / "feeds.txt").read_text().split()]
    if args.only == "baseline":
        rows = [run_baseline(paths)]
    elif args.only == "floor":
        rows = [run_floor(directory, args.floor_output)]
    else:
        rows = run_stages(paths, py_peak=args.py_peak)
        if args.only is None:
            rows += run_isolated(directory, "baseline")
            rows += run_isolated(directory, "floor")
    compare_to_baseline(rows)
    if args.json:
        print(json.dumps(rows))
    else:
        print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
