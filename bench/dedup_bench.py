"""Speed of near-duplicate detection and story clustering, and how it grows with the batch.

    python -m bench.dedup_bench                            # 10,000 / 30,000 / 100,000 articles + baseline
    python -m bench.dedup_bench --sizes 10000 --baseline 2000
    python -m bench.dedup_bench --sizes 10000 --lookback 100000 --baseline 0   # the Beam composite

Articles come from bench/generate.py's writer (500-800-word articles around 48 countries, with the given
share of lightly edited copies), made in memory: no feeds, no parsing. Each size runs in a fresh child
process, on one core, the same plain functions the Beam composite wraps:

    near-dups   neardup.sketches in batches of 64 (as the DoFn gets them), band keys, buckets, candidate
                pairs, verification, best-ranked original (neardup.find_near_duplicates)
    stories     stories.story_terms per article, then stories.cluster_stories (IDF + one ordered pass)
    text keys   the exact keys of each article: dedup.identity_keys (text fingerprint) and the clean
                stage's paragraph keys (clean._paragraph_keys); not part of the items/s figures

Seconds are CPU seconds of the child (time.process_time): the machine is shared, and what is asked is
the work of one core; `wall_s` is the child's whole wall time for comparison. `peak RSS` is the child's
VmHWM, generated texts included (they are dropped once sketched).
With `--lookback N` each size is instead a run of the Beam composite (`Deduplicate`, FnApiRunner, in
the child) over that many new articles, with the sketches of N earlier articles (the N generated before
them, each its own story, written yesterday) read from a Parquet file through `ReadSketches`, as a run
reads its look-back: what a run with a week of earlier articles costs. Its seconds are the child's CPU
seconds for the pipeline run alone (all its threads), its peak RSS the child's whole VmHWM.

The baseline is what a plain Python program would write with datasketch: a MinHash(num_perm=128) per
article fed shingle by shingle, inserted into and queried from a MinHashLSH(threshold=0.5); it is timed
on its own (smaller) set, as it is slow.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import subprocess
import sys
import time

from bench import generate as gen

BATCH = 64


def peak_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def articles(n: int, seed: int = 1, near_duplicate_rate: float = 0.05):
    """(id, title, body, published, focus country, capital) of n generated articles, some edited copies."""
    rng = random.Random(seed)
    feed = gen.Feed(0, "www.bench.example.com", "rss", None)
    pool = []
    for number in range(n):
        if pool and rng.random() < near_duplicate_rate:
            item = gen._near_duplicate(rng, rng.choice(pool), feed, number)
        else:
            item = gen._article(rng, feed, number)
            if len(pool) < 5000:
                pool.append(item)
        yield f"a{number:07d}", item.title, "\n\n".join(item.paragraphs), item.published, item.focus


def run_one(n: int) -> dict:
    from newsbeam.transforms.clean import _paragraph_keys
    from newsbeam.transforms.dedup import DedupSettings, identity_keys
    from newsbeam.transforms.neardup import find_near_duplicates, sketches
    from newsbeam.transforms.stories import StoryDoc, cluster_stories, story_terms

    settings = DedupSettings()
    wall = time.perf_counter()
    started = time.process_time()
    sketch_seconds = terms_seconds = keys_seconds = 0.0
    docs, story_docs = [], []
    batch = []

    def flush() -> None:
        nonlocal sketch_seconds, terms_seconds, keys_seconds
        t0 = time.process_time()
        found = sketches(
            [b[2] for b in batch], shingle_words=settings.shingle_words, min_words=settings.min_words
        )
        t1 = time.process_time()
        for (article_id, title, body, published, focus), sketch in zip(batch, found, strict=True):
            at = published.timestamp()
            docs.append((article_id, (True, False, at, article_id), sketch))
            story_docs.append(
                StoryDoc(
                    article_id, at, story_terms(title, None, body, settings.stories), (focus[0],), (focus[1],)
                )
            )
        t2 = time.process_time()
        sketch_seconds += t1 - t0
        terms_seconds += t2 - t1
        news = [_bench_article(row, "https://www.bench.example.com/rss") for row in batch]
        t3 = time.process_time()
        for article in news:
            identity_keys(article)
            _paragraph_keys(article)
        keys_seconds += time.process_time() - t3
        batch.clear()

    for row in articles(n):
        batch.append(row)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    generated = time.process_time() - started - sketch_seconds - terms_seconds - keys_seconds

    t0 = time.process_time()
    links = find_near_duplicates(
        docs,
        bands=settings.lsh_bands,
        threshold=settings.near_duplicate_threshold,
        fact_threshold=settings.near_duplicate_fact_overlap,
    )
    lsh_seconds = time.process_time() - t0
    story_docs = [
        StoryDoc(d.article_id, d.at, d.terms, d.countries, d.places, links.get(d.article_id, (None,))[0])
        for d in story_docs
    ]
    t0 = time.process_time()
    stories = cluster_stories(story_docs, (), settings.stories)
    cluster_seconds = time.process_time() - t0
    near = sketch_seconds + lsh_seconds
    story = terms_seconds + cluster_seconds
    return {
        "articles": n,
        "generation_s": round(generated, 1),
        "sketch_s": round(sketch_seconds, 2),
        "lsh_verify_s": round(lsh_seconds, 2),
        "near_dup_items_per_s": round(n / near),
        "story_terms_s": round(terms_seconds, 2),
        "cluster_s": round(cluster_seconds, 2),
        "stories_items_per_s": round(n / story),
        "both_items_per_s": round(n / (near + story)),
        "text_keys_s": round(keys_seconds, 2),
        "near_duplicates": len(links),
        "stories": len(set(stories.values())),
        "peak_rss_mb": round(peak_rss_mb()),
        "wall_s": round(time.perf_counter() - wall, 1),
    }


def _bench_article(row, feed_url: str):
    from newsbeam.transforms.records import Article, Place

    article_id, title, body, published, focus = row
    return Article(
        article_id=article_id,
        url=f"https://www.bench.example.com/{article_id}",
        source="bench.example.com",
        feed_url=feed_url,
        title=title,
        body=body,
        fetched_at=gen.END,
        language="en",
        published_at=published,
        countries=(focus[0],),
        places=(Place(focus[1], focus[0], 1),),
    )


def _load_articles(path: str):
    import pickle

    with open(path, "rb") as f:
        yield from pickle.load(f)


def run_lookback(n: int, lookback: int) -> dict:
    """The Beam composite over n new articles, with the sketches of `lookback` earlier ones."""
    import dataclasses
    import datetime as dt
    import pickle
    import tempfile
    from pathlib import Path

    import apache_beam as beam
    import pyarrow as pa
    import pyarrow.parquet as pq
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from newsbeam.transforms.dedup import SKETCH_SCHEMA, Deduplicate, DedupSettings, sketch_entries
    from newsbeam.transforms.sink import ReadSketches

    settings = DedupSettings()
    run_at = gen.END + dt.timedelta(hours=1)
    rows = articles(lookback + n)
    (Path(__file__).parent / "out").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "out") as tmp:
        sketch_path, articles_path = f"{tmp}/sketches.parquet", f"{tmp}/articles.pkl"
        writer = pq.ParquetWriter(sketch_path, SKETCH_SCHEMA)
        for start in range(0, lookback, 1024):  # the first `lookback` generated articles
            batch = [
                _bench_article(row, "https://earlier.example.com/rss")
                for row in itertools.islice(rows, min(1024, lookback - start))
            ]
            stamped = [
                dataclasses.replace(e, story_id=e.article_id, seen_at=run_at - dt.timedelta(days=1))
                for e in sketch_entries(batch, settings)
            ]
            writer.write_table(pa.Table.from_pylist([e.to_row() for e in stamped], schema=SKETCH_SCHEMA))
        writer.close()
        new = [_bench_article(row, "https://new.example.com/rss") for row in rows]
        Path(articles_path).write_bytes(pickle.dumps(new))
        del new
        wall = time.perf_counter()
        started = time.process_time()
        p = beam.Pipeline(runner=FnApiRunner())
        earlier = p | "ReadLookback" >> ReadSketches([sketch_path] if lookback else [])
        seen = p | "NoIndex" >> beam.Create([])
        out = (
            p
            | beam.Create([articles_path])
            | beam.FlatMap(_load_articles)
            | Deduplicate(seen, run_at, settings, earlier)
        )
        out.main | "Drain" >> beam.Map(lambda _: None)
        result = p.run()
        result.wait_until_finish()
        seconds = time.process_time() - started
        wall_seconds = time.perf_counter() - wall
    return {
        "articles": n,
        "lookback": lookback,
        "beam_cpu_s": round(seconds, 1),
        "beam_items_per_cpu_s": round(n / seconds),
        "beam_wall_s": round(wall_seconds, 1),
        "near_duplicates": _counter(result, "near_duplicates"),
        "stories": _counter(result, "stories"),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _counter(result, name: str) -> int:
    from apache_beam.metrics.metric import MetricsFilter

    found = result.metrics().query(MetricsFilter().with_namespace("dedup").with_name(name))["counters"]
    return sum(c.committed or 0 for c in found)


def run_baseline(n: int) -> dict:
    """datasketch, one MinHash per article updated shingle by shingle, and a MinHashLSH."""
    from datasketch import MinHash, MinHashLSH

    from newsbeam.transforms.neardup import SHINGLE_WORDS

    rows = list(articles(n))
    t0 = time.process_time()
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    found = 0
    for article_id, _, body, _, _ in rows:
        words = re.findall(r"\w+", body.casefold())
        m = MinHash(num_perm=128)
        for i in range(len(words) - SHINGLE_WORDS + 1):
            m.update(" ".join(words[i : i + SHINGLE_WORDS]).encode())
        if lsh.query(m):
            found += 1
        lsh.insert(article_id, m)
    seconds = time.process_time() - t0
    return {
        "articles": n,
        "baseline_s": round(seconds, 2),
        "baseline_items_per_s": round(n / seconds),
        "near_duplicates": found,
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 30_000, 100_000])
    parser.add_argument(
        "--baseline", type=int, default=5_000, help="articles for the datasketch baseline (0: skip)"
    )
    parser.add_argument(
        "--lookback",
        type=int,
        help="run the Beam composite on each size, with the sketches of this many earlier articles",
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-baseline", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(
            json.dumps(run_one(args.one) if args.lookback is None else run_lookback(args.one, args.lookback))
        )
        return 0
    if args.one_baseline:
        print(json.dumps(run_baseline(args.one_baseline)))
        return 0
    results = []
    for n in args.sizes:
        lookback = [] if args.lookback is None else ["--lookback", str(args.lookback)]
        child = subprocess.run(
            [sys.executable, "-m", "bench.dedup_bench", "--one", str(n), *lookback],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]), flush=True)
    if args.baseline:
        child = subprocess.run(
            [sys.executable, "-m", "bench.dedup_bench", "--one-baseline", str(args.baseline)],
            capture_output=True,
            text=True,
            check=True,
        )
        print(json.dumps(json.loads(child.stdout.strip().splitlines()[-1])), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
