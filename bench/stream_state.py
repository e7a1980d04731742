"""The stream's near-duplicate and story state (transforms/stream_stories.py) under load (not CI).

    python -m bench.stream_state                     # 10,000 generated articles in batches of 64
    python -m bench.stream_state --articles 30000 --batch 16

Drives the stream's own `_LinkFn.process` in this process, one story group, with a state cell that pickles
the state on every write and unpickles it on every read, as Beam's local streaming engine does: so the
figures include the state's round trip per batch, which grows with the state. Articles come from
`bench.dedup_bench.articles` (500-800 words, 5 % lightly edited copies, one country and place each), one
batch per poll tick. Reported: the state's pickled size per article kept (sketches, stories), CPU seconds
per article (sketches and story terms, judging, clustering, the state round trips) and of the last batch's
state round trip alone, near-duplicates linked, stories, peak RSS. CPU time, not wall time: the machine
may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import time

from bench.dedup_bench import articles, peak_rss_mb


class _PickledCell:
    """A Beam ReadModifyWriteState as the local engine keeps it: encoded between accesses."""

    def __init__(self) -> None:
        self.blob: bytes | None = None

    def read(self):
        return pickle.loads(self.blob) if self.blob is not None else None

    def write(self, value) -> None:
        self.blob = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


class _Timer:
    def set(self, timestamp) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=64, help="articles per poll tick")
    args = parser.parse_args(argv)

    from apache_beam.utils.shared import Shared
    from apache_beam.utils.timestamp import Timestamp

    from newsbeam.transforms.dedup import DedupSettings
    from newsbeam.transforms.records import Article, Place
    from newsbeam.transforms.stream_dedup import KeptArticle
    from newsbeam.transforms.stream_stories import _LinkFn

    fn = _LinkFn(DedupSettings(), [], allowed_lateness_s=3600, shared=Shared())
    fn.setup()
    cell = _PickledCell()
    linked = written = 0
    batch: list[KeptArticle] = []
    started = time.process_time()

    def tick(kept: list[KeptArticle]) -> None:
        nonlocal linked, written
        now = max(k.article.fetched_at for k in kept).timestamp()
        for out in fn.process(("en", kept), Timestamp(now), cell, _Timer()):
            article = getattr(out, "value", None)
            if isinstance(article, KeptArticle):
                written += 1
                linked += article.article.duplicate_of is not None

    for article_id, title, body, published, (country, place, *_) in articles(args.articles):
        article = Article(
            article_id=article_id,
            url=None,
            source="bench.example",
            feed_url="https://bench.example/rss",
            title=title,
            body=body,
            language="en",
            fetched_at=published,
            published_at=published,
            countries=(country,),
            places=(Place(place, country, 1),),
            story_id="",
        )
        batch.append(KeptArticle(article, ()))
        if len(batch) == args.batch:
            tick(batch)
            batch = []
    if batch:
        tick(batch)
    cpu = time.process_time() - started

    links = cell.read()
    t0 = time.process_time()
    cell.write(cell.read())
    round_trip = time.process_time() - t0
    kept = len(links.sketches)
    sketches_b = len(pickle.dumps(links.sketches, pickle.HIGHEST_PROTOCOL))
    stories_b = len(pickle.dumps((links.clusterer, links.idf), pickle.HIGHEST_PROTOCOL))
    result = {
        "articles": args.articles,
        "batch": args.batch,
        "written": written,
        "near_duplicates_linked": linked,
        "stories_live": len(links.clusterer),
        "state_mb": round(len(cell.blob) / 1e6, 1),
        "state_bytes_per_article": round(len(cell.blob) / max(kept, 1)),
        "sketches_bytes_per_article": round(sketches_b / max(kept, 1)),
        "stories_and_idf_bytes_per_article": round(stories_b / max(kept, 1)),
        "cpu_ms_per_article": round(cpu / args.articles * 1000, 2),
        "state_round_trip_ms_at_end": round(round_trip * 1000, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
