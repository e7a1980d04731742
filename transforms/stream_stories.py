"""Stage "dedup", streaming: near-duplicates and stories of the articles that exact dedup keeps, with the
batch path's plain functions (`dedup.sketch_entries`, `neardup.find_near_duplicates`, `StoryClusterer`)
and Beam state per story group (a language, `dedup.story_group`, as batch clusters stories).

    KeptArticle (poll-tick timestamps)
      -> (story group, KeptArticle) -> GroupByKey in windows of at most a tick   (one batch per tick)
      -> global window -> _LinkFn   (state per story group: the sketches of the articles kept within the
                                     look-back, the live stories, the document frequencies)
      -> KeptArticle with duplicate_of / dedup_reason / dedup_similarity / story_id and its sketch row,
         timestamped for its event-time window (see stream.window_timestamp)

Why batches per tick. Beam state is one value per key that a runner may encode and decode at every access
(the local engine does): read once and written once per batch, not per article. The batch is a GroupByKey
stamped with its earliest tick, not a buffer flushed by a timer: the GroupByKey holds the watermark at
that tick while it waits (a user timer's output is not held on the local engine), so batching makes no
article later for the windows after it than it was. Its windows divide the stream's window, so a batch
never straddles two of them: feed health counts a poll's new articles in the window of that poll.

Per batch, in the batch path's order (`dedup.precedence`: the earliest published first): each article's
sketch and story terms (`sketch_entries`, one vectorised pass); its near-duplicate candidates (the kept
sketches sharing one of its LSH band keys, found with one numpy comparison) judged by
`neardup.find_near_duplicates` (the batch's band keys, bucket limit, fact gate, resemblance and
thresholds); then its story: a near-duplicate joins its original's story (`StoryClusterer.join`), any
other article is assigned by the clusterer (`StoryClusterer.assign`). Each article joins the state before
the next is judged, so the first kept copy is the original (batch: the earliest published in the run).

State and expiry. The sketches are numpy columns (signature, band keys, fact hashes, shingle count,
keep time, story id), about 1 KB per article; stories are the clusterer's centroids; the IDF's document
frequencies are counted per day (`stories.RollingIdf`). Each batch drops what has passed its horizon:
sketches `lookback_days` after the article was kept (its `fetched_at`, the same clock as the look-back
index), stories `stories.window_hours` after their latest article, document frequencies by day after
`lookback_days`. An event-time timer, pushed back by every batch, clears the whole state once the group has
been quiet for the longer of the two horizons, so memory is bounded by the articles of one look-back.

Restarts. A story group's state is seeded, at its first batch, from OUTPUT/_state/sketches as it was at
start (what earlier runs and streams wrote, read once per process): sketches within the look-back, their
stories replayed in (event time, id) order as `cluster_stories` replays earlier runs. The stream writes
the sketch row of every article it writes in the article's own commit (KeptArticle.records), so a later
`run` or a restarted stream sees it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate, window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import Duration

from newsbeam.transforms import neardup
from newsbeam.transforms.dedup import (
    DedupSettings,
    SketchEntry,
    precedence,
    sketch_entries_or_none,
    story_group,
)
from newsbeam.transforms.sink import read_sketch_table
from newsbeam.transforms.stories import RollingIdf, StoryClusterer
from newsbeam.transforms.stream import StreamSettings, window_timestamp

if TYPE_CHECKING:
    from newsbeam.transforms.stream_dedup import KeptArticle

log = logging.getLogger(__name__)

KEPT = "kept"
INDEX = "index"
_DAY_S = 86400.0
_CANDIDATE_LIMIT = 16  # per LSH bucket, as the batch composite pairs them
_TS = beam.DoFn.TimestampParam


def batch_window_s(window_s: float, tick_s: float) -> float:
    """The length of the windows kept articles are batched in: at most a tick, and a whole fraction of the
    stream's window (in microseconds, Beam's resolution), so that no batch straddles two windows.

    >>> batch_window_s(60, 1), batch_window_s(10, 0.3)
    (1.0, 0.25)
    """
    window_us = max(1, round(window_s * 1e6))
    parts = max(1, math.ceil(window_s / tick_s))
    while window_us % parts:
        parts += 1
    return window_us // parts / 1e6


class _Sketches:
    """The near-duplicate candidates of one story group, column by column (only articles long enough to
    have a signature). Rows are appended into spare capacity (doubling), so a batch of k articles costs
    O(k) copies, not k copies of everything; pickling keeps only the rows."""

    _COLUMNS = ("ids", "stories", "seq", "kept_at", "sizes", "signatures", "bands", "fact_ends")

    def __init__(self, bands: int) -> None:
        self.n = 0
        self.ids = np.empty(0, "S32")  # article_id (ascii); widened when an id is longer
        self.stories = np.empty(0, "S32")  # its story_id
        self.seq = np.empty(0, np.int64)  # the order of keeping; lower ranks first (the original)
        self.kept_at = np.empty(0, np.float64)  # epoch s of its fetched_at (an earlier run's: seen_at)
        self.sizes = np.empty(0, np.int64)  # distinct shingles
        self.signatures = np.empty((0, neardup.NUM_PERM), np.uint32)
        self.bands = np.empty((0, bands), np.uint64)  # its LSH band keys
        self.fact_ends = np.empty(0, np.int64)  # where each article's fact hashes end in `facts`
        self.facts = np.empty(0, np.uint64)
        self.facts_n = 0

    def __len__(self) -> int:
        return self.n

    def __getstate__(self) -> dict:
        state = {name: getattr(self, name)[: self.n] for name in self._COLUMNS}
        return {**state, "facts": self.facts[: self.facts_n], "n": self.n, "facts_n": self.facts_n}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)

    def add(self, entry: SketchEntry, story_id: str, seq: int, kept_at: float, keys: list[int]) -> None:
        sketch = entry.sketch
        n = self.n
        if n == self.seq.size:
            for name in self._COLUMNS:
                self._grow(name, max(16, 2 * n))
        for name, value in (("ids", entry.article_id), ("stories", story_id)):
            raw = value.encode()
            column = getattr(self, name)
            if len(raw) > column.dtype.itemsize:
                setattr(self, name, column.astype(f"S{len(raw)}"))
            getattr(self, name)[n] = raw
        self.seq[n], self.kept_at[n], self.sizes[n] = seq, kept_at, sketch.size
        self.signatures[n] = sketch.signature
        self.bands[n] = np.array(keys, dtype=np.uint64)
        end = self.facts_n + sketch.facts.size
        if end > self.facts.size:
            self._grow("facts", max(256, 2 * end))
        self.facts[self.facts_n : end] = sketch.facts
        self.fact_ends[n], self.facts_n, self.n = end, end, n + 1

    def _grow(self, name: str, rows: int) -> None:
        old = getattr(self, name)
        new = np.zeros((rows, *old.shape[1:]), old.dtype)
        new[: old.shape[0]] = old
        setattr(self, name, new)

    def keep(self, mask: np.ndarray) -> None:
        """Keep the rows where `mask` (one bool per row) is true; the rest are forgotten."""
        if mask.all():
            return
        ends = self.fact_ends[: self.n]
        lengths = np.diff(ends, prepend=0)
        self.facts = self.facts[: self.facts_n][np.repeat(mask, lengths)]
        self.facts_n = self.facts.size
        for name in self._COLUMNS:
            setattr(self, name, getattr(self, name)[: self.n][mask])
        self.fact_ends = np.cumsum(lengths[mask])
        self.n = int(mask.sum())

    def _sketch(self, row: int) -> neardup.Sketch:
        start = int(self.fact_ends[row - 1]) if row else 0
        facts = self.facts[start : int(self.fact_ends[row])]
        return neardup.Sketch(self.signatures[row], int(self.sizes[row]), facts)

    def candidates(self, keys: list[int], since: float) -> list[tuple[str, tuple, neardup.Sketch]]:
        """(article_id, rank, sketch) of the articles kept since `since` that share a band key with `keys`:
        everything `find_near_duplicates` needs to judge a new article against them."""
        n = self.n
        if not n:
            return []
        shared = (self.bands[:n] == np.array(keys, dtype=np.uint64)[None, :]).any(axis=1)
        rows = np.flatnonzero(shared & (self.kept_at[:n] >= since))
        return [(self.ids[r].decode(), (int(self.seq[r]),), self._sketch(r)) for r in rows]

    def story_of(self, article_id: str) -> str:
        (row,) = np.flatnonzero(self.ids[: self.n] == article_id.encode())[:1]
        return self.stories[row].decode()

    def expired(self, since: float) -> np.ndarray:
        """One bool per row: kept before `since`."""
        return self.kept_at[: self.n] < since


@dataclass(slots=True)
class _Links:
    """The state of one story group (pickled whole: numpy columns, the clusterer's centroids)."""

    sketches: _Sketches
    clusterer: StoryClusterer
    idf: RollingIdf
    next_seq: int = 0

    def prune(self, now: float, lookback_s: float, window_s: float) -> None:
        """Forget what has passed its horizon (see the module docstring)."""
        if len(self.sketches):
            self.sketches.keep(~self.sketches.expired(now - lookback_s))
        self.clusterer.forget(before=now - window_s)
        self.idf.forget_before(_day(now - lookback_s))


def _day(epoch_s: float) -> int:
    return int(epoch_s // _DAY_S)


class _EarlierSketches(dict):
    """story group -> the sketch rows earlier runs and streams wrote (a pyarrow table: compact); a dict
    subclass because Beam's Shared keeps weak references."""


class _LinkFn(beam.DoFn):
    """(story group, the KeptArticles of one tick) -> each KeptArticle with its near-duplicate link, story
    and sketch row, timestamped for its event-time window; the article again on `kept` (for feed health);
    a dropped near-duplicate's index rows on `index`."""

    LINKS = userstate.ReadModifyWriteStateSpec("links", PickleCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(
        self,
        settings: DedupSettings,
        sketch_paths: Sequence[str],
        allowed_lateness_s: float,
        shared: Shared,
    ) -> None:
        self._settings = settings
        self._sketch_paths = list(sketch_paths)
        self._allowed_lateness_s = allowed_lateness_s
        self._shared = shared
        self._lookback_s = settings.lookback_days * _DAY_S
        self._window_s = settings.stories.window_hours * 3600.0
        self._earlier: dict[str, pa.Table] = {}
        self._linked = Metrics.counter("dedup", "near_duplicates")
        self._dropped = Metrics.counter("dedup", "near_duplicates_dropped")
        self._stories = Metrics.counter("dedup", "stories")
        self._sketch_failures = Metrics.counter("dedup", "sketch_failures")

    def setup(self) -> None:
        # Read once per process, whatever the number of DoFn instances (the local engine makes many).
        self._earlier = self._shared.acquire(self._read_earlier, tag=("sketches", *self._sketch_paths))

    def _read_earlier(self) -> _EarlierSketches:
        table = read_sketch_table(self._sketch_paths)
        groups = _EarlierSketches()
        for group in pc.unique(table["story_group"]).to_pylist():
            groups[group] = table.filter(pc.equal(table["story_group"], group))
        log.info("dedup: %d sketches from %d files", table.num_rows, len(self._sketch_paths))
        return groups

    def _seed(self, group: str, now: float) -> _Links:
        """A story group's state at its first batch: what OUTPUT/_state/sketches held at start."""
        idf = RollingIdf()
        links = _Links(
            _Sketches(self._settings.lsh_bands), StoryClusterer(self._settings.stories, idf, 0.0), idf
        )
        table = self._earlier.get(group)
        earlier = [SketchEntry.from_row(row) for row in table.to_pylist()] if table is not None else []
        earlier = [e for e in earlier if e.seen_at.timestamp() >= now - self._lookback_s]
        for entry in earlier:
            idf.add(_day(entry.seen_at.timestamp()), (term for term, _ in entry.terms))
        links.clusterer.update_idf(idf, idf.unseen)
        for entry in sorted(earlier, key=lambda e: (e.event_at.timestamp(), e.article_id)):
            links.clusterer.remember(entry.story_doc())
        bands = self._settings.lsh_bands
        for entry in sorted(earlier, key=SketchEntry.rank):
            if entry.signature:
                keys = neardup.band_keys(entry.sketch.signature, bands)
                links.sketches.add(entry, entry.story_id, links.next_seq, entry.seen_at.timestamp(), keys)
                links.next_seq += 1
        return links  # pruned by the caller, like every batch's state

    def process(
        self,
        element: tuple[str, Iterable[KeptArticle]],
        timestamp=_TS,
        links_state=beam.DoFn.StateParam(LINKS),  # noqa: B008
        expiry=beam.DoFn.TimerParam(EXPIRY),  # noqa: B008
    ) -> Iterator[Any]:
        group, batch = element
        now = float(timestamp)
        links = links_state.read() or self._seed(group, now)
        links.prune(now, self._lookback_s, self._window_s)
        kept = sorted(batch, key=lambda k: precedence(k.article))
        entries, failed = sketch_entries_or_none([k.article for k in kept], self._settings)
        self._sketch_failures.inc(failed)
        entry_of = {e.article_id: e for e in entries}
        for item in kept:  # the IDF counts this batch's articles before any is clustered, as batch's does
            entry = entry_of.get(item.article.article_id)
            if entry is not None:
                links.idf.add(_day(item.article.fetched_at.timestamp()), (term for term, _ in entry.terms))
        links.clusterer.update_idf(links.idf, links.idf.unseen)
        for item in kept:
            linked = self._link(item, entry_of.get(item.article.article_id), links, now)
            if linked is None:  # a dropped near-duplicate: its keys stay claimed, a later copy is exact
                for index_entry in item.index:
                    yield beam.pvalue.TaggedOutput(INDEX, index_entry)
                continue
            at = window_timestamp(linked.article.event_time, now, self._allowed_lateness_s)
            yield beam.window.TimestampedValue(linked, at)
            yield beam.pvalue.TaggedOutput(KEPT, linked.article)
        links_state.write(links)
        # Pushed back by every batch: fires only once the group has been quiet for a whole horizon.
        expiry.set(timestamp + Duration(seconds=max(self._lookback_s, self._window_s)))

    def _link(
        self, item: KeptArticle, entry: SketchEntry | None, links: _Links, now: float
    ) -> KeptArticle | None:
        """The article with its near-duplicate link and story, and its sketch row; None when it is a
        near-duplicate to drop. Updates `links`."""
        article = item.article
        if entry is None:  # no sketch: its own story, never a near-duplicate (as batch)
            return dataclasses.replace(
                item, article=dataclasses.replace(article, story_id=article.article_id)
            )
        settings = self._settings
        original = None
        sketch = entry.sketch
        keys = neardup.band_keys(sketch.signature, settings.lsh_bands)
        if keys:
            found = neardup.find_near_duplicates(
                [(article.article_id, (links.next_seq,), sketch)],
                bands=settings.lsh_bands,
                threshold=settings.near_duplicate_threshold,
                fact_threshold=settings.near_duplicate_fact_overlap,
                earlier=links.sketches.candidates(keys, since=now - self._lookback_s),
                limit=_CANDIDATE_LIMIT,
            )
            original = found.get(article.article_id)
        doc = entry.story_doc()
        if original is not None:
            story_id = links.clusterer.join(doc, links.sketches.story_of(original[0]))
            if settings.drop_near_duplicates:  # as batch: it still shaped its story
                self._dropped.inc()
                return None
            self._linked.inc()
            article = dataclasses.replace(
                article,
                duplicate_of=original[0],
                dedup_reason="near-text",
                dedup_similarity=round(original[1], 4),
            )
        else:
            story_id = links.clusterer.assign(doc)
        if story_id == article.article_id:
            self._stories.inc()
        if keys:
            links.sketches.add(entry, story_id, links.next_seq, article.fetched_at.timestamp(), keys)
            links.next_seq += 1
        row = dataclasses.replace(entry, story_id=story_id, seen_at=article.fetched_at)
        return dataclasses.replace(item, article=dataclasses.replace(article, story_id=story_id), sketch=row)

    @userstate.on_timer(EXPIRY)
    def expire(self, links_state=beam.DoFn.StateParam(LINKS)) -> None:  # noqa: B008
        links_state.clear()  # nothing in it is within its horizon any more


class StreamLinkOutput(NamedTuple):
    main: beam.PCollection  # KeptArticle to write, timestamped by window_timestamp
    index: beam.PCollection  # IndexEntry: the keys of dropped near-duplicates (drop_near_duplicates)
    kept: beam.PCollection  # the articles written, at their batch's timestamp (within their poll's window)


class LinkNearDuplicatesAndStories(beam.PTransform):
    """PCollection[KeptArticle] (global window, poll-tick timestamps) -> StreamLinkOutput."""

    def __init__(self, settings: DedupSettings, sketch_paths: Sequence[str], stream: StreamSettings) -> None:
        super().__init__()
        self._settings, self._sketch_paths, self._stream = settings, list(sketch_paths), stream

    def expand(self, kept: beam.PCollection) -> StreamLinkOutput:
        stream = self._stream
        linked = (
            kept
            | "ByStoryGroup"
            >> beam.Map(lambda k: (story_group(k.article.language), k)).with_output_types(tuple[str, Any])
            | "TickBatches"
            >> beam.WindowInto(
                window.FixedWindows(batch_window_s(stream.window_s, stream.tick_s)),
                # a batch is stamped with its earliest poll tick and holds the watermark there while it
                # waits, as the articles alone did: batching makes no article later for its window
                timestamp_combiner=window.TimestampCombiner.OUTPUT_AT_EARLIEST,
            )
            | "BatchPerTick" >> beam.GroupByKey()
            | "GlobalWindow" >> beam.WindowInto(window.GlobalWindows())
            | "Link"
            >> beam.ParDo(_LinkFn(self._settings, self._sketch_paths, stream.allowed_lateness_s, Shared()))
            .with_input_types(tuple[str, Any])
            .with_outputs(INDEX, KEPT, main="articles")
        )
        return StreamLinkOutput(linked.articles, linked[INDEX], linked[KEPT])
