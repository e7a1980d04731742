"""Stage "dedup", streaming: the batch rules of transforms/dedup.py (identity keys, article ids, then
near-duplicates and stories) applied with Beam state and event-time timers, so that memory stays bounded
over days of polling.

    articles (timestamped with their poll tick)
      -> KeyById -> _FirstSightingFn   (per article_id: is this the first sighting in the look-back horizon?)
      -> one (key, claim) per identity key -> _JudgeKeyFn   (per identity key: who owns it?)
      -> (article_id, verdict) -> _DecideFn   (per article_id: all verdicts in -> keep it or drop it)
      -> LinkNearDuplicatesAndStories   (transforms/stream_stories.py; per story group, once per tick:
         duplicate_of / dedup_reason / dedup_similarity, story_id, the sketch row)
      -> the articles to write, timestamped for their event-time window, with their index and sketch rows

State and expiry. Every piece of exact-dedup state has an event-time timer `lookback_days` after the tick
that last touched it; the watermark follows wall-clock time, so a key nobody has seen for that long is
forgotten, exactly like a look-back index row. A feed that keeps showing an item refreshes it: its first
sighting on each new day "touches" its keys, which re-arms their timers and writes a refreshed index row (as
batch runs do), so it never expires while the feed shows it. Near-duplicate sketches and stories expire
after their own horizons (see transforms/stream_stories.py).

Restarts. `_JudgeKeyFn` is seeded with the look-back index (`_state/index`) of what OUTPUT already holds:
a key found there is "written before", and every article holding it is dropped, the same article
included; the near-duplicate and story state is seeded with `_state/sketches`. Each kept article's index
rows and sketch row travel with the article in one element (KeptArticle), hence in the same window pane
and the same atomic commit: the index never lags nor leads the articles it stands for.

Differences from batch: the first copy kept wins, not the earliest published (an article already written
cannot be replaced; within one tick's batch the earliest published is judged first, as in batch), for
exact duplicates and near-duplicates alike. A story is decided when its article arrives, from the stories
then live and the IDF of the look-back so far. Two different articles that share two keys (the same GUID
and the same text under different URLs) and reach the two keys in opposite orders would each be judged a
copy of the other and both dropped; a race the batch path's global order does not have.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms import userstate
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.utils.shared import Shared
from apache_beam.utils.timestamp import Duration

from newsbeam.transforms.dedup import DedupSettings, IndexEntry, SketchEntry, identity_keys
from newsbeam.transforms.records import Article, RawEntry
from newsbeam.transforms.sink import ARTICLES, SKETCHES, read_index
from newsbeam.transforms.sink import INDEX as INDEX_DATASET
from newsbeam.transforms.stream import StreamSettings
from newsbeam.transforms.stream_stories import LinkNearDuplicatesAndStories

log = logging.getLogger(__name__)

INDEX = "index"

# Beam declares a DoFn's state, timers and element metadata as parameter defaults (ruff B008).
_TS = beam.DoFn.TimestampParam


@dataclass(frozen=True, slots=True)
class KeptArticle:
    """An article to write, the index rows of the keys it claimed and its sketch row: one element, so that
    they are always in the same window pane, hence the same atomic commit."""

    article: Article
    index: tuple[IndexEntry, ...]
    sketch: SketchEntry | None = None  # set by the near-duplicate and story step

    def records(self) -> list[tuple[str, Any]]:
        """(dataset, record) pairs for the stream sink."""
        sketch = [(SKETCHES, self.sketch)] if self.sketch is not None else []
        return [(ARTICLES, self.article), *((INDEX_DATASET, entry) for entry in self.index), *sketch]


@dataclass(frozen=True, slots=True)
class _Claim:
    article: Article
    keys: int  # how many verdicts _DecideFn waits for


@dataclass(frozen=True, slots=True)
class _Touch:
    article_id: str
    seen_at: dt.datetime


@dataclass(frozen=True, slots=True)
class _Owner:
    article_id: str
    indexed_on: dt.date  # the day of its latest index row
    written_before: bool  # from the look-back index: written by an earlier run or stream


@dataclass(frozen=True, slots=True)
class Verdict:
    key: str
    owner: str  # article_id that owns the key
    written_before: bool
    claimed: bool  # this article became the key's owner: it writes the key's index row
    article: Article
    keys: int


def _lookback(days: int) -> Duration:
    return Duration(seconds=days * 86400)


class _FirstSightingFn(beam.DoFn):
    """(article_id, Article) -> (key, _Claim) per identity key on the first sighting in the horizon;
    (key, _Touch) on the first sighting of a later day; nothing for repeats the same day."""

    LAST_DAY = userstate.ReadModifyWriteStateSpec("last_day", PickleCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, lookback_days: int) -> None:
        self._lookback = _lookback(lookback_days)
        self._repeats = Metrics.counter("dedup", "repeat_sightings")

    def process(
        self,
        element: tuple[str, Article],
        timestamp=_TS,
        last_day=beam.DoFn.StateParam(LAST_DAY),  # noqa: B008
        expiry=beam.DoFn.TimerParam(EXPIRY),  # noqa: B008
    ) -> Iterator[tuple[str, Any]]:
        _, article = element
        expiry.set(timestamp + self._lookback)
        day = article.fetched_at.date()
        previous = last_day.read()
        if previous is not None and previous >= day:
            self._repeats.inc()
            return
        last_day.write(day)
        keys = identity_keys(article)
        if previous is None:
            for key in keys:
                yield key, _Claim(article, len(keys))
        else:
            self._repeats.inc()
            for key in keys:
                yield key, _Touch(article.article_id, article.fetched_at)

    @userstate.on_timer(EXPIRY)
    def expire(self, last_day=beam.DoFn.StateParam(LAST_DAY)) -> None:  # noqa: B008
        last_day.clear()


def entry_digest(entry: RawEntry) -> str:
    """Identifies one feed item exactly as the feed gave it: the same digest, the same article."""
    parts = (
        entry.feed.url,
        entry.guid or "",
        entry.link or "",
        entry.title,
        entry.content_html or "",
        entry.summary_html or "",
        entry.published_at.isoformat() if entry.published_at else "",
    )
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


class _FirstEntrySightingFn(beam.DoFn):
    """(feed_url, RawEntry) -> the entry on its first sighting of each day; nothing for the same item again
    the same day. A feed repeats most of its items at every poll: this keeps them away from cleaning and
    tagging, while the daily sighting still reaches dedup, which refreshes their keys.

    Keyed by feed, not by item: one state per feed ({entry digest: day last passed}, pruned of days past
    the look-back), so a poll costs the runner one key, not one per item."""

    SEEN = userstate.ReadModifyWriteStateSpec("seen", PickleCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, lookback_days: int) -> None:
        self._lookback = _lookback(lookback_days)
        self._lookback_days = lookback_days
        self._repeats = Metrics.counter("dedup", "repeated_entries")

    def process(
        self,
        element: tuple[str, RawEntry],
        timestamp=_TS,
        seen_state=beam.DoFn.StateParam(SEEN),  # noqa: B008
        expiry=beam.DoFn.TimerParam(EXPIRY),  # noqa: B008
    ) -> Iterator[RawEntry]:
        _, entry = element
        day = entry.fetched_at.date()
        seen: dict[str, dt.date] = seen_state.read() or {}
        digest = entry_digest(entry)
        if seen.get(digest, dt.date.min) >= day:
            self._repeats.inc()
            return
        if digest not in seen:  # a new item: forget those not shown for longer than the look-back
            horizon = day - dt.timedelta(days=self._lookback_days)
            seen = {d: last for d, last in seen.items() if last >= horizon}
        seen[digest] = day
        seen_state.write(seen)
        expiry.set(timestamp + self._lookback)
        yield entry

    @userstate.on_timer(EXPIRY)
    def expire(self, seen_state=beam.DoFn.StateParam(SEEN)) -> None:  # noqa: B008
        seen_state.clear()  # the feed showed nothing new for the whole look-back


class DropRepeatedEntries(beam.PTransform):
    """PCollection[RawEntry] -> the entries not already seen the same day (see _FirstEntrySightingFn)."""

    def __init__(self, lookback_days: int) -> None:
        super().__init__()
        self._lookback_days = lookback_days

    def expand(self, entries: beam.PCollection) -> beam.PCollection:
        return (
            entries
            | "KeyByFeed" >> beam.Map(lambda e: (e.feed.url, e)).with_output_types(tuple[str, Any])
            | "FirstSightingToday" >> beam.ParDo(_FirstEntrySightingFn(self._lookback_days))
        )


class _LookbackIndex(dict):
    """key -> (article_id, last seen); a dict subclass because Beam's Shared keeps weak references."""


class _JudgeKeyFn(beam.DoFn):
    """(key, _Claim | _Touch) -> (article_id, Verdict) per claim; refreshed IndexEntry rows on `index`."""

    OWNER = userstate.ReadModifyWriteStateSpec("owner", PickleCoder())
    EXPIRY = userstate.TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, lookback_days: int, index_paths: Sequence[str], shared: Shared) -> None:
        self._lookback = _lookback(lookback_days)
        self._lookback_days = lookback_days
        self._index_paths = list(index_paths)
        self._shared = shared
        self._earlier: Mapping[str, tuple[str, dt.datetime]] = {}

    def setup(self) -> None:
        # Read once per process, whatever the number of DoFn instances (the DirectRunner makes many).
        self._earlier = self._shared.acquire(self._read_index, tag=tuple(self._index_paths))

    def _read_index(self) -> _LookbackIndex:
        """The look-back index at start: per key, the article of its earliest row (as batch dedup picks)
        and when the key was seen last."""
        earlier: dict[str, tuple[str, dt.datetime]] = {}
        latest: dict[str, dt.datetime] = {}
        for key, (article_id, seen_at) in read_index(self._index_paths):
            known = earlier.get(key)
            if known is None or (seen_at, article_id) < (known[1], known[0]):
                earlier[key] = (article_id, seen_at)
            latest[key] = max(latest.get(key, seen_at), seen_at)
        index = _LookbackIndex((key, (article_id, latest[key])) for key, (article_id, _) in earlier.items())
        log.info("dedup: %d keys from %d look-back index files", len(index), len(self._index_paths))
        return index

    def _from_index(self, key: str, now: dt.datetime) -> _Owner | None:
        known = self._earlier.get(key)
        if known is None or known[1] < now - dt.timedelta(days=self._lookback_days):
            return None
        return _Owner(known[0], known[1].date(), written_before=True)

    def process(
        self,
        element: tuple[str, _Claim | _Touch],
        timestamp=_TS,
        owner_state=beam.DoFn.StateParam(OWNER),  # noqa: B008
        expiry=beam.DoFn.TimerParam(EXPIRY),  # noqa: B008
    ) -> Iterator[Any]:
        key, message = element
        seen_at = message.article.fetched_at if isinstance(message, _Claim) else message.seen_at
        owner = owner_state.read() or self._from_index(key, seen_at)
        if isinstance(message, _Touch) and owner is None:
            return  # a touch never claims: the key's owner was dropped, or has expired
        expiry.set(timestamp + self._lookback)
        if owner is not None and owner.indexed_on < seen_at.date():  # keep a live key from expiring
            owner = replace(owner, indexed_on=seen_at.date())
            yield beam.pvalue.TaggedOutput(INDEX, IndexEntry(key, owner.article_id, seen_at))
        if isinstance(message, _Touch):
            owner_state.write(owner)
            return
        article = message.article
        claimed = owner is None
        if claimed:
            owner = _Owner(article.article_id, seen_at.date(), written_before=False)
        owner_state.write(owner)
        verdict = Verdict(key, owner.article_id, owner.written_before, claimed, article, message.keys)
        yield article.article_id, verdict

    @userstate.on_timer(EXPIRY)
    def expire(self, owner_state=beam.DoFn.StateParam(OWNER)) -> None:  # noqa: B008
        owner_state.clear()


class _DecideFn(beam.DoFn):
    """(article_id, Verdict) -> once all its verdicts are in: a KeptArticle, at its poll tick's timestamp;
    or nothing, counted."""

    VERDICTS = userstate.BagStateSpec("verdicts", PickleCoder())

    def __init__(self) -> None:
        self._kept = Metrics.counter("dedup", "kept")
        self._duplicates = Metrics.counter("dedup", "exact_duplicates")
        self._written_before = Metrics.counter("dedup", "written_before")

    def process(
        self,
        element: tuple[str, Verdict],
        verdicts_state=beam.DoFn.StateParam(VERDICTS),  # noqa: B008
    ) -> Iterator[KeptArticle]:
        article_id, verdict = element
        verdicts_state.add(verdict)
        verdicts = list(verdicts_state.read())
        if len(verdicts) < verdict.keys:
            return
        verdicts_state.clear()
        if any(v.written_before for v in verdicts):
            self._written_before.inc()
            return
        if any(v.owner != article_id for v in verdicts):
            self._duplicates.inc()
            return
        self._kept.inc()
        article = verdict.article
        claimed = tuple(IndexEntry(v.key, article_id, article.fetched_at) for v in verdicts if v.claimed)
        yield KeptArticle(article, claimed)


class StreamDedupOutput(NamedTuple):
    main: beam.PCollection  # KeptArticle to write (index and sketch rows with it), by window_timestamp
    refreshed: beam.PCollection  # IndexEntry: live keys seen again on a new day (and dropped copies' keys)
    kept: beam.PCollection  # the articles written, in the fetch window of their poll (for feed health)


class StreamDeduplicate(beam.PTransform):
    """PCollection[Article] (global window, poll-tick timestamps) -> StreamDedupOutput: exact duplicates
    dropped, then near-duplicates linked and stories assigned (transforms/stream_stories.py).

    `index_paths` / `sketch_paths`: the look-back index and sketch files OUTPUT held at start."""

    def __init__(
        self,
        settings: DedupSettings,
        index_paths: Sequence[str],
        stream: StreamSettings,
        sketch_paths: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self._settings, self._index_paths = settings, list(index_paths)
        self._stream, self._sketch_paths = stream, list(sketch_paths)

    def expand(self, articles: beam.PCollection) -> StreamDedupOutput:
        lookback_days = self._settings.lookback_days
        judged = (
            articles
            | "KeyById" >> beam.Map(lambda a: (a.article_id, a)).with_output_types(tuple[str, Any])
            | "FirstSighting" >> beam.ParDo(_FirstSightingFn(lookback_days))
            | "JudgeEachKey"
            >> beam.ParDo(_JudgeKeyFn(lookback_days, self._index_paths, Shared()))
            .with_input_types(tuple[str, Any])
            .with_outputs(INDEX, main="verdicts")
        )
        decided = judged.verdicts | "Decide" >> beam.ParDo(_DecideFn()).with_input_types(tuple[str, Any])
        linked = decided | "NearDuplicatesAndStories" >> LinkNearDuplicatesAndStories(
            self._settings, self._sketch_paths, self._stream
        )
        index = (judged[INDEX], linked.index) | "AllIndexEntries" >> beam.Flatten()
        return StreamDedupOutput(linked.main, index, linked.kept)
