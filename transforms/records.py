"""The records that flow between stages, and the Arrow schemas they are written with.

One record type per boundary: FeedSpec (what to fetch) -> FetchedFeed (bytes) -> RawEntry (one feed item
as the feed gave it) -> Article (clean, tagged, deduplicated). Failures at any stage become a DeadLetter;
every fetch attempt becomes a FeedHealth row. The Arrow schemas beside them are the output contract
(README "Schema"); changes are additive and bump SCHEMA_VERSION.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import importlib
import operator
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import pyarrow as pa

SCHEMA_VERSION = "1.3"
RAW_PAYLOAD_LIMIT = 4096  # characters of the failing input kept in a dead letter
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def utc_micros(value: object) -> object:
    """A UTC datetime as integer microseconds since the epoch; any other value as it is (the same object).

    What crosses a shuffle instead of the datetime: Beam's coder pickles an aware datetime (~20 us there
    and back) and writes an int itself; Arrow's timestamp("us") columns take either."""
    if type(value) is dt.datetime and value.tzinfo is dt.UTC and not value.fold:
        return (value - _EPOCH) // _MICROSECOND
    return value


def from_utc_micros(value: object) -> object:
    """`utc_micros` undone: an int back to its UTC datetime; any other value as it is."""
    return _EPOCH + value * _MICROSECOND if type(value) is int else value


class Record:
    """Base of the records: pickles as (class, field values), UTC datetimes as integer microseconds.

    Beam moves elements between fused stages with its FastPrimitivesCoder, which pickles any class it does
    not know. A frozen slotted dataclass pickles through dataclasses.fields and __setstate__ per record,
    and an aware datetime takes ~20 us to pickle and unpickle: together about half of `newsbeam run`'s time
    (bench/README.md). Fields come from dataclasses.fields, so a new field needs nothing here.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple:
        cls = type(self)
        plan = _plan(cls)
        values = plan.values(self)
        stamps = 0  # bit i set: field i is a UTC datetime sent as microseconds since the epoch
        if plan.datetimes:
            values = list(values)
            for i in plan.datetimes:
                micros = utc_micros(values[i])
                if micros is not values[i]:
                    values[i] = micros
                    stamps |= 1 << i
        return _rebuild, (plan.name, tuple(values), stamps)


class _Plan(NamedTuple):
    name: str  # "module:qualname": what a pickle names the class by (see _rebuild)
    values: Callable[[Record], tuple]  # the field values, in field order, in one call
    datetimes: tuple[int, ...]  # fields annotated as datetimes: the only ones worth converting
    build: Callable[[tuple, int], Record]  # (values, stamps) -> the record


@functools.cache
def _plan(cls: type) -> _Plan:
    """How one record class pickles, worked out once: a shuffle pickles every Article up to 3 times, so
    the per-record work is one attrgetter call, and one straight-line setter call per field to rebuild.

    A field annotated otherwise that holds a datetime still round-trips (pickle's own way, slower)."""
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    getter = operator.attrgetter(*names)
    values = getter if len(names) > 1 else lambda record: (getter(record),)
    datetimes = tuple(i for i, f in enumerate(fields) if "datetime" in str(f.type))
    # Slot descriptors' setters, called directly: a frozen dataclass refuses setattr, and
    # object.__setattr__ looks the name up again for every field of every record.
    scope = {"new": object.__new__, "cls": cls, "epoch": _EPOCH, "us": _MICROSECOND}
    lines = []
    for i, name in enumerate(names):
        scope[f"set_{i}"] = getattr(cls, name).__set__
        value = f"values[{i}]"
        if i in datetimes:
            value = f"epoch + {value} * us if stamps >> {i} & 1 else {value}"
        lines.append(f"    set_{i}(record, {value})\n")
    source = "def build(values, stamps):\n    record = new(cls)\n" + "".join(lines) + "    return record\n"
    exec(source, scope)  # generated from the class's own field names, as dataclasses does
    name = f"{cls.__module__}:{cls.__qualname__}"
    _BUILDERS[name] = scope["build"]
    return _Plan(name, values, datetimes, scope["build"])


_BUILDERS: dict[str, Callable[[tuple, int], Record]] = {}  # by _Plan.name, filled by _plan


def _rebuild(name: str, values: tuple, stamps: int) -> Record:
    """The record pickled by Record.__reduce__ (not through __init__: the values are already a record's).

    The class travels as a string, not as a global: pickle saves a global by importing its module again to
    check it, once per class and pickle, which cost more than the Article it was part of."""
    build = _BUILDERS.get(name)
    if build is None:  # a process that has not pickled this class yet
        module, qualname = name.split(":", 1)
        cls = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        build = _plan(cls).build
    return build(values, stamps)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One cleaning rule from a rules file or a feed list (see transforms/clean.py for the kinds)."""

    name: str
    kind: str
    pattern: str  # a Python regular expression, matched against a whole normalised block
    max_len: int


@dataclass(frozen=True, slots=True)
class SiteRules:
    """Cleaning rules for one site or feed: rules tried before the general ones, and general rules
    switched off by name. Tuples, so that a FeedSpec holding one stays hashable."""

    add: tuple[RuleSpec, ...] = ()
    disable: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.add or self.disable)


@dataclass(frozen=True, slots=True)
class FeedSpec(Record):
    """One feed to poll: an http(s) URL or an absolute local path, with optional hints."""

    url: str
    name: str | None = None
    language: str | None = None
    region_hint: str | None = None  # ISO 3166-1 alpha-2 code, a fallback prior for the tagger
    poll_interval_s: float | None = None  # poll no more often than this (None: every run / --poll-interval)
    rules: SiteRules | None = None  # extra cleaning rules for this feed's items
    fetch_full_text: bool = False  # fetch the article page when the item holds only a teaser


@dataclass(frozen=True, slots=True)
class FeedState(Record):
    """What the fetcher remembers about one feed between runs (OUTPUT/_state/feeds)."""

    feed_url: str
    updated_at: dt.datetime
    etag: str | None = None  # validators of the last 200, sent back as If-None-Match / If-Modified-Since
    last_modified: str | None = None
    last_ok_at: dt.datetime | None = None  # the last 200; long without one, validators are not sent
    consecutive_failures: int = 0
    next_poll_at: dt.datetime | None = None  # a failing feed is not fetched before this
    moved_to: str | None = None  # the target of the last permanent redirect (301 / 308)

    def to_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class FetchedFeed(Record):
    """The outcome of one fetch attempt. `body` is None when nothing usable came back."""

    feed: FeedSpec
    fetched_at: dt.datetime
    final_url: str
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    not_modified: bool = False
    duration_ms: int = 0
    error: str | None = None
    error_class: str | None = None  # HTTPError, Timeout, TooLarge, NotFound, ... when `error` is set
    etag: str | None = None  # the response's validators (200 only)
    last_modified: str | None = None
    permanent_redirect: str | None = None  # where a 301 / 308 on the way pointed: the feed has moved
    skipped: bool = False  # not fetched this run: the feed is backing off after failures (see FeedState)
    next_poll_at: dt.datetime | None = None  # when the feed is due again, if it is backing off or not due
    not_due: bool = False  # not fetched: its poll_interval_s has not passed since its last good poll


@dataclass(frozen=True, slots=True)
class RawEntry(Record):
    """One feed item as the feed gave it: HTML fields not yet cleaned, dates already UTC."""

    feed: FeedSpec
    fetched_at: dt.datetime
    position: int  # index of the entry in its feed, for stable ordering and error reports
    guid: str | None = None
    link: str | None = None
    title: str = ""
    content_html: str | None = None  # content:encoded / Atom content / JSON Feed content_html
    summary_html: str | None = None  # description / Atom summary / JSON Feed summary
    authors: tuple[str, ...] = ()
    language: str | None = None
    published_at: dt.datetime | None = None  # None when the feed gives no usable date
    date_source: str = "feed"  # feed | clamped (a future date replaced by fetched_at) | fetched (no date)

    @property
    def ref(self) -> str:
        """The best identifier of this entry for an error report."""
        return self.link or self.guid or f"{self.feed.url}#{self.position}"


@dataclass(frozen=True, slots=True)
class RelatedItem(Record):
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Place(Record):
    name: str
    country: str
    mentions: int


@dataclass(frozen=True, slots=True)
class Article(Record):
    """One clean article: the row written to OUTPUT/articles (see ARTICLE_SCHEMA)."""

    article_id: str
    url: str | None
    source: str | None
    feed_url: str
    title: str
    body: str
    fetched_at: dt.datetime
    summary: str | None = None
    authors: tuple[str, ...] = ()
    language: str | None = None
    published_at: dt.datetime | None = None
    date_source: str = "feed"  # feed | clamped | fetched: where the partition date came from
    section: str | None = None
    credits: tuple[str, ...] = ()
    related: tuple[RelatedItem, ...] = ()
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    source_country: str | None = None  # (1.2) the publisher's country: the feed's region_hint, else the ccTLD
    story_id: str = ""
    duplicate_of: str | None = None
    guid: str | None = None
    region_hint: str | None = None
    dedup_reason: str | None = None  # (1.3) why duplicate_of is set: near-text
    dedup_similarity: float | None = None  # (1.3) the text resemblance behind a near-text link

    @property
    def event_time(self) -> dt.datetime:
        return self.published_at or self.fetched_at

    def to_row(self) -> dict:
        row = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name in _ARTICLE_COLUMNS}
        row["authors"] = list(self.authors)
        row["credits"] = list(self.credits)
        row["related"] = [{"title": r.title, "url": r.url} for r in self.related]
        row["countries"] = list(self.countries)
        row["regions"] = list(self.regions)
        row["places"] = [{"name": p.name, "country": p.country, "mentions": p.mentions} for p in self.places]
        return row


@dataclass(frozen=True, slots=True)
class DeadLetter(Record):
    """A record that a stage could not process, with the reason: never dropped silently."""

    stage: str
    feed_url: str | None
    item: str | None
    error_class: str
    message: str
    raw: str | None
    failed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def from_exception(
        cls, stage: str, exc: BaseException, *, feed_url: str | None, item: str | None, raw: object
    ) -> DeadLetter:
        message = str(exc) or type(exc).__name__
        if not isinstance(exc, ValueError):  # unexpected: keep where it happened
            frame = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            if frame:
                message += f" (at {frame[0].filename.rsplit('/', 1)[-1]}:{frame[0].lineno})"
        return cls(stage, feed_url, item, type(exc).__name__, message, truncate_raw(raw))

    def to_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True, slots=True)
class FeedHealth(Record):
    """One row per feed and run: written to OUTPUT/feeds."""

    feed_url: str
    final_url: str
    fetched_at: dt.datetime
    status: int | None
    not_modified: bool
    bytes: int
    entries: int
    new_articles: int
    duration_ms: int
    error: str | None
    error_class: str | None = None
    skipped: bool = False  # not fetched: backing off after failures
    permanent_redirect: str | None = None  # the feed has moved there: update the feed list
    consecutive_failures: int = 0
    next_poll_at: dt.datetime | None = None  # set while the feed is backing off or not due
    not_due: bool = False  # (1.3) not fetched: polled successfully less than its poll_interval_s ago

    @classmethod
    def of(cls, fetched: FetchedFeed, entries: int, new_articles: int, state: FeedState | None) -> FeedHealth:
        return cls(
            feed_url=fetched.feed.url,
            final_url=fetched.final_url,
            fetched_at=fetched.fetched_at,
            status=fetched.status,
            not_modified=fetched.not_modified,
            bytes=len(fetched.body) if fetched.body is not None else 0,
            entries=entries,
            new_articles=new_articles,
            duration_ms=fetched.duration_ms,
            error=fetched.error,
            error_class=fetched.error_class,
            skipped=fetched.skipped,
            permanent_redirect=fetched.permanent_redirect,
            consecutive_failures=state.consecutive_failures if state else 0,
            next_poll_at=fetched.next_poll_at if fetched.not_due or not state else state.next_poll_at,
            not_due=fetched.not_due,
        )

    def to_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def truncate_raw(raw: object, limit: int = RAW_PAYLOAD_LIMIT) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bytes):
        raw = raw[: limit * 4].decode("utf-8", errors="replace")
    text = raw if isinstance(raw, str) else repr(raw)
    return text if len(text) <= limit else text[:limit] + "…[truncated]"


_TS = pa.timestamp("us", tz="UTC")

ARTICLE_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("source", pa.string()),
        pa.field("feed_url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("summary", pa.string()),
        pa.field("body", pa.string()),
        pa.field("authors", pa.list_(pa.string())),
        pa.field("language", pa.string()),
        pa.field("published_at", _TS),
        pa.field("fetched_at", _TS),
        pa.field("date_source", pa.string()),
        pa.field("section", pa.string()),
        pa.field("credits", pa.list_(pa.string())),
        pa.field("related", pa.list_(pa.struct([("title", pa.string()), ("url", pa.string())]))),
        pa.field("countries", pa.list_(pa.string())),
        pa.field("regions", pa.list_(pa.string())),
        pa.field(
            "places",
            pa.list_(pa.struct([("name", pa.string()), ("country", pa.string()), ("mentions", pa.int32())])),
        ),
        pa.field("source_country", pa.string()),
        pa.field("story_id", pa.string(), nullable=False),
        pa.field("duplicate_of", pa.string()),
        pa.field("guid", pa.string()),
        pa.field("dedup_reason", pa.string()),
        pa.field("dedup_similarity", pa.float32()),
    ],
    metadata={"newsbeam.schema_version": SCHEMA_VERSION},
)
_ARTICLE_COLUMNS = frozenset(ARTICLE_SCHEMA.names)

DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("stage", pa.string(), nullable=False),
        pa.field("feed_url", pa.string()),
        pa.field("item", pa.string()),
        pa.field("error_class", pa.string(), nullable=False),
        pa.field("message", pa.string()),
        pa.field("raw", pa.string()),
        pa.field("failed_at", _TS),
    ],
    metadata={"newsbeam.schema_version": SCHEMA_VERSION},
)

FEED_HEALTH_SCHEMA = pa.schema(
    [
        pa.field("feed_url", pa.string(), nullable=False),
        pa.field("final_url", pa.string()),
        pa.field("fetched_at", _TS),
        pa.field("status", pa.int32()),
        pa.field("not_modified", pa.bool_()),
        pa.field("bytes", pa.int64()),
        pa.field("entries", pa.int32()),
        pa.field("new_articles", pa.int32()),
        pa.field("duration_ms", pa.int64()),
        pa.field("error", pa.string()),
        pa.field("error_class", pa.string()),
        pa.field("skipped", pa.bool_()),
        pa.field("permanent_redirect", pa.string()),
        pa.field("consecutive_failures", pa.int32()),
        pa.field("next_poll_at", _TS),
        pa.field("not_due", pa.bool_()),
    ],
    metadata={"newsbeam.schema_version": SCHEMA_VERSION},
)

FEED_STATE_SCHEMA = pa.schema(
    [
        pa.field("feed_url", pa.string(), nullable=False),
        pa.field("updated_at", _TS, nullable=False),
        pa.field("etag", pa.string()),
        pa.field("last_modified", pa.string()),
        pa.field("last_ok_at", _TS),
        pa.field("consecutive_failures", pa.int32()),
        pa.field("next_poll_at", _TS),
        pa.field("moved_to", pa.string()),
    ]
)
