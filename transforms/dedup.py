"""Stage "dedup": canonical URLs, stable article ids, and exact duplicates across sources and runs.

An article has up to three identity keys: its canonical URL, its GUID within its feed, and the
fingerprint of its normalised title + body. Two articles sharing any key are the same article; the one
that comes first in a deterministic order (published_at, then article_id) is kept, whatever order the
feeds were read in. Keys seen by earlier runs come from the look-back index (OUTPUT/_state/index) and
win over everything in this run, so a re-run writes nothing new.

Batch uses GroupByKey / CoGroupByKey only, so it runs on every Beam runner (Dask included).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import pickle
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam.metrics import Metrics
from w3lib.url import canonicalize_url, url_query_cleaner

from newsbeam.transforms import neardup
from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs, StageFn
from newsbeam.transforms.enrich import country_names
from newsbeam.transforms.records import Article, Place, Record, from_utc_micros, utc_micros
from newsbeam.transforms.stories import StoryDoc, StorySettings, cluster_stories, story_terms

log = logging.getLogger(__name__)

# Query parameters that only track the reader; removing them never changes the page.
TRACKING_PARAMETERS = (
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
    "utm_name",
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "ito",
    "at_medium",
    "at_campaign",
    "at_custom1",
    "at_custom2",
    "CMP",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "ns_linkname",
    "ns_fee",
    "xtor",
    "smid",
    "partner",
    "share",
    "ref",
    "ref_src",
    "rss",
    "outputType",
    "amp",
)
_MOBILE_HOST = re.compile(r"^(?:www\d?|m|mobile|amp)\.")
_AMP_PATH = re.compile(r"(?:/amp/?|\.amp|/amp\.html)$")

INDEX_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("seen_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def canonical_url(url: str | None) -> str | None:
    """The URL that every variant of one article's address maps to.

    >>> canonical_url("http://m.Example.com/news/story/amp/?utm_source=rss&id=7#top")
    'https://example.com/news/story?id=7'
    """
    if not url or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return url  # a tag: URI or a relative path: keep as given, it is still an identity
    url = url_query_cleaner(url, TRACKING_PARAMETERS, remove=True, unique=False)
    url = canonicalize_url(url, keep_fragments=False)
    parts = urlsplit(url)
    host = _MOBILE_HOST.sub("", parts.hostname or "")
    netloc = host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"
    path = _AMP_PATH.sub("", parts.path).rstrip("/") or "/"
    return urlunsplit(("https", netloc, path, parts.query, ""))


@functools.cache
def _domain_extractor():
    import tldextract

    # The public-suffix snapshot shipped inside tldextract: no download at run time.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def registered_domain(url: str | None) -> str | None:
    """The publisher's registered domain: 'https://www.bbc.co.uk/news/x' -> 'bbc.co.uk'."""
    if not url:
        return None
    parts = _domain_extractor()(url)
    return parts.top_domain_under_public_suffix or parts.domain or None


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def normalised_text(title: str, body: str) -> str:
    """Case, accents' composition, punctuation and spacing removed: what 'the same text' compares."""
    return neardup.folded_words([unicodedata.normalize("NFKC", f"{title}\n{body}")])[0]


def text_fingerprint(title: str, body: str) -> str:
    return _digest("text", normalised_text(title, body))


def make_article_id(url: str | None, guid: str | None, feed_url: str, title: str, body: str) -> str:
    """Stable across runs and machines: from the canonical URL, else the GUID in its feed, else the text."""
    if url:
        return _digest("url", url)
    if guid:
        return _digest("guid", feed_url, guid)
    return text_fingerprint(title, body)


def identity_keys(article: Article) -> list[str]:
    """Every key under which another copy of this article could be recognised."""
    keys = [f"text:{text_fingerprint(article.title, article.body)}"]
    if article.url:
        keys.append(f"url:{article.url}")
    if article.guid:
        keys.append(f"guid:{article.feed_url}\x1f{article.guid}")
    return keys


def local_places(places: Iterable[Place]) -> tuple[str, ...]:
    """The sub-national places among an article's tags (towns, cities, provinces), most salient first."""
    return local_place_names(p.name for p in places)


def local_place_names(names: Iterable[str]) -> tuple[str, ...]:
    countries = country_names()
    return tuple(name for name in names if name not in countries)


def precedence(article: Article) -> tuple:
    """Which copy of a duplicate group is kept: the earliest published, ties broken by id, then by feed (two
    feeds carrying the same URL give one id), then by text (a feed listing one item twice, edited), so the
    choice never depends on the order of arrival."""
    published = article.published_at
    return (
        published is None,
        published.timestamp() if published else 0.0,
        article.article_id,
        article.feed_url,
        zlib.crc32(f"{article.title}\n{article.body}".encode("utf-8", "surrogatepass")),
    )


@dataclass(frozen=True, slots=True)
class DedupSettings:
    """The `dedup` section of the config: exact duplicates, near-duplicates and stories."""

    lookback_days: int = 7  # how long keys, signatures and stories are remembered
    near_duplicate_threshold: float = 0.5  # least text resemblance (shingle overlap) of a near-duplicate
    near_duplicate_fact_overlap: float = 0.6  # least share of names and figures two near-duplicates share
    drop_near_duplicates: bool = False  # false: written with duplicate_of set; true: not written
    lsh_bands: int = 32  # LSH bands over the 128-value signature (more bands: more candidates, recall)
    shingle_words: int = neardup.SHINGLE_WORDS
    min_words: int = neardup.MIN_WORDS  # shorter texts are only compared exactly
    stories: StorySettings = field(default_factory=StorySettings)

    def __post_init__(self) -> None:
        if self.lookback_days < 1:
            raise ValueError(f"lookback_days must be at least 1, got {self.lookback_days}")
        for name in ("near_duplicate_threshold", "near_duplicate_fact_overlap"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.lsh_bands < 1 or neardup.NUM_PERM % self.lsh_bands:
            raise ValueError(
                f"lsh_bands must divide {neardup.NUM_PERM} (e.g. 16, 32, 64), got {self.lsh_bands}"
            )
        if not 1 <= self.shingle_words <= 16:
            raise ValueError(f"shingle_words must be between 1 and 16, got {self.shingle_words}")
        if self.min_words < self.shingle_words:
            raise ValueError(
                f"min_words must be at least shingle_words ({self.shingle_words}), got {self.min_words}"
            )


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One row of the look-back index: `key` was seen, and stands for `article_id`."""

    key: str
    article_id: str
    seen_at: dt.datetime

    def to_row(self) -> dict:
        return {"key": self.key, "article_id": self.article_id, "seen_at": self.seen_at}


SKETCH_SCHEMA = pa.schema(
    [
        pa.field("article_id", pa.string(), nullable=False),
        pa.field("seen_at", pa.timestamp("us", tz="UTC"), nullable=False),  # the run that wrote it
        pa.field("event_at", pa.timestamp("us", tz="UTC"), nullable=False),  # published_at, else fetched_at
        pa.field("story_group", pa.string(), nullable=False),  # stories are clustered per language
        pa.field("signature", pa.binary()),  # uint32 x NUM_PERM, little-endian; empty for short texts
        pa.field("shingles", pa.int32()),
        pa.field("facts", pa.binary()),  # sorted uint64 hashes of names and figures, little-endian
        pa.field("story_id", pa.string(), nullable=False),
        pa.field("terms", pa.list_(pa.struct([("term", pa.string()), ("weight", pa.float32())]))),
        pa.field("countries", pa.list_(pa.string())),
        pa.field("places", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True, slots=True)
class SketchEntry(Record):
    """What near-duplicate detection and story clustering know of one article: in flight for the
    articles of this run, and as a row of the look-back index (OUTPUT/_state/sketches) for those of
    earlier runs (then `story_id` is set). A Record: it crosses the final join, pickled the fast way."""

    article_id: str
    event_at: dt.datetime
    story_group: str
    signature: bytes
    shingles: int
    facts: bytes
    terms: tuple[tuple[str, float], ...]
    countries: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    story_id: str = ""
    seen_at: dt.datetime | None = None
    undated: bool = False  # no published_at: ranks after the dated copies, as `precedence` does

    @property
    def sketch(self) -> neardup.Sketch:
        return neardup.Sketch(
            np.frombuffer(self.signature, dtype="<u4"), self.shingles, np.frombuffer(self.facts, dtype="<u8")
        )

    def rank(self) -> tuple:
        """Who came first: everything of earlier runs, then this run's articles by `precedence`."""
        return (not self.seen_at_earlier, self.undated, self.event_at.timestamp(), self.article_id)

    @property
    def seen_at_earlier(self) -> bool:
        return bool(self.story_id)

    def story_doc(self, duplicate_of: str | None = None) -> StoryDoc:
        return story_doc_of(self.story_fields(duplicate_of))

    def story_fields(self, duplicate_of: str | None = None) -> StoryFields:
        """`story_doc` as a plain tuple, the terms as pairs: what crosses the joins to the clustering
        (Beam's coder encodes a tuple itself, and pickles a StoryDoc)."""
        return (
            self.article_id,
            self.event_at.timestamp(),
            self.terms,
            self.countries,
            self.places,
            duplicate_of,
            self.story_id or None,
        )

    def to_row(self) -> dict:
        return {
            "article_id": self.article_id,
            "seen_at": self.seen_at,
            "event_at": self.event_at,
            "story_group": self.story_group,
            "signature": self.signature,
            "shingles": self.shingles,
            "facts": self.facts,
            "story_id": self.story_id,
            "terms": [{"term": t, "weight": w} for t, w in self.terms],
            "countries": list(self.countries),
            "places": list(self.places),
        }

    @classmethod
    def from_row(cls, row: dict) -> SketchEntry:
        return cls(
            article_id=row["article_id"],
            event_at=row["event_at"],
            story_group=row["story_group"],
            signature=row["signature"] or b"",
            shingles=row["shingles"] or 0,
            facts=row["facts"] or b"",
            terms=tuple((t["term"], t["weight"]) for t in row["terms"] or ()),
            countries=tuple(row["countries"] or ()),
            places=tuple(row["places"] or ()),
            story_id=row["story_id"],
            seen_at=row["seen_at"],
        )


# StoryDoc's fields in order, the terms as (term, weight) pairs: see SketchEntry.story_fields
StoryFields = tuple


def story_doc_of(fields: StoryFields) -> StoryDoc:
    article_id, at, terms, countries, places, duplicate_of, story_id = fields
    return StoryDoc(article_id, at, dict(terms), countries, places, duplicate_of, story_id)


def story_group(language: str | None) -> str:
    """Stories are clustered per language ('en-GB' -> 'en'): words of different languages never match."""
    return (language or "und").split("-", 1)[0].lower() or "und"


def sketch_entries(articles: list[Article], settings: DedupSettings) -> list[SketchEntry]:
    """The SketchEntry of each article (one vectorised pass over the batch)."""
    return _entries_of_sources([sketch_source(a) for a in articles], settings)


# What sketching needs of an article, as a plain tuple (Beam's coder encodes tuples, strings and ints
# itself; a record it pickles): (article_id, title, summary, body, language, countries, place names,
# published_at, fetched_at), the two times as `records.utc_micros`.
SketchSource = tuple


def sketch_source(article: Article) -> SketchSource:
    """Only attribute reads: whatever can fail happens in `_entries_of_sources`, where a failure costs
    the article its sketch, not the run."""
    return (
        article.article_id,
        article.title,
        article.summary,
        article.body,
        article.language,
        article.countries,
        tuple(p.name for p in article.places),
        utc_micros(article.published_at),
        utc_micros(article.fetched_at),
    )


def _entries_of_sources(sources: list[SketchSource], settings: DedupSettings) -> list[SketchEntry]:
    texts = [neardup.shingle_source(title, summary, body) for _, title, summary, body, *_ in sources]
    found = neardup.sketches(texts, shingle_words=settings.shingle_words, min_words=settings.min_words)
    return [
        SketchEntry(
            article_id=article_id,
            event_at=from_utc_micros(published if published is not None else fetched),
            story_group=story_group(language),
            signature=sketch.signature.astype("<u4").tobytes(),
            shingles=sketch.size,
            facts=sketch.facts.astype("<u8").tobytes(),
            terms=tuple(sorted(story_terms(title, summary, body, settings.stories).items())),
            countries=article_countries,
            places=local_place_names(places),
            undated=published is None,
        )
        for (
            article_id,
            title,
            summary,
            body,
            language,
            article_countries,
            places,
            published,
            fetched,
        ), sketch in zip(sources, found, strict=True)
    ]


def sketch_entries_or_none(articles: list[Article], settings: DedupSettings) -> tuple[list[SketchEntry], int]:
    """`sketch_entries` of a batch, without the articles whose sketch cannot be computed (logged), and how
    many those were: such an article is still written, as its own story and never a near-duplicate."""
    entries, failed = _entries_and_failures([sketch_source(a) for a in articles], settings)
    return entries, len(failed)


def _entries_and_failures(
    sources: list[SketchSource], settings: DedupSettings
) -> tuple[list[SketchEntry], list[str]]:
    """The SketchEntry of each source that can be sketched, and the article ids of those that cannot."""
    try:
        return _entries_of_sources(sources, settings), []
    except Exception:  # one odd text must not cost the batch its sketches: retry one by one
        entries, failed = [], []
        for source in sources:
            try:
                entries += _entries_of_sources([source], settings)
            except Exception as exc:
                failed.append(source[0])
                log.warning("dedup: no sketch for %s: %s", source[0], exc)
        return entries, failed


class DedupOutput(NamedTuple):
    main: beam.PCollection  # Article: the articles to write (story_id, duplicate_of, dedup_reason set)
    index: beam.PCollection  # IndexEntry: keys first seen (or seen again on a new day) in this run
    dead_letters: beam.PCollection
    sketches: beam.PCollection  # SketchEntry: signatures and story terms of the articles written


class _KeyArticlesFn(StageFn):
    stage = "dedup"

    def handle(self, article: Article) -> Iterable[tuple[str, tuple[tuple, str]]]:
        # Only what judging a key needs, not the article: it is shuffled once per key (up to 3 times).
        ranked = (precedence(article), article.article_id)
        for key in identity_keys(article):
            yield key, ranked

    def describe(self, article: Article) -> tuple[str | None, str | None]:
        return article.feed_url, article.url or article.article_id


# One copy of an article on its way through the exact-dedup join: (precedence, has a URL, has a GUID,
# sketch source).
Copy = tuple


def _copy_of(article: Article) -> tuple[str, Copy]:
    """The article keyed by id, as what the exact-dedup join and the sketches need of it (not the article
    itself: it goes straight to the final join, `_pickled_copy`)."""
    return article.article_id, (
        precedence(article),
        bool(article.url),
        bool(article.guid),
        sketch_source(article),
    )


def _pickled_copy(article: Article) -> tuple[str, tuple[tuple, bytes]]:
    """The whole article keyed by id, pickled once, for the final join, where the copy kept is chosen again
    (by the same precedence as `_first`).

    Beam's local runner decodes and re-encodes every element it groups, and materialises the Flatten of a
    CoGroupByKey: with several worker processes each of those is a round trip through the driver. As bytes
    the article costs one pickle here and one unpickle where it is written (_FinishFn); it crosses only the
    final join, not the exact-dedup join and the sketch batching as well."""
    return article.article_id, (precedence(article), pickle.dumps(article, pickle.HIGHEST_PROTOCOL))


def _first(copies: Iterable[Copy]) -> Copy:
    return min(copies, key=lambda copy: copy[0])  # by precedence


class _JudgeKeyFn(beam.DoFn):
    """For one key: the (precedence, article_id) of this run's articles that hold it, and what earlier
    runs saw under it.

    Emits the index entries to remember, and a verdict (article_id, (survivor_id, written_before, key
    kind)) for each article the key drops: another article survives it, or it was written before. An
    article with no verdict is kept, so only the verdicts that drop one cross the join by id (most
    articles are kept: most keys emit nothing).
    """

    INDEX = "index"

    def __init__(self, seen_at: dt.datetime) -> None:
        self._seen_at = seen_at

    def process(self, element: tuple[str, dict]) -> Iterable:
        key, groups = element
        ranked = list(groups["new"])
        earlier = list(groups["seen"])
        if not ranked:
            return
        if earlier:
            survivor = min(earlier, key=lambda e: (e[1], e[0]))[0]
            if max(e[1] for e in earlier).date() < self._seen_at.date():  # keep live keys from expiring
                yield beam.pvalue.TaggedOutput(self.INDEX, IndexEntry(key, survivor, self._seen_at))
        else:
            survivor = min(ranked)[1]
            yield beam.pvalue.TaggedOutput(self.INDEX, IndexEntry(key, survivor, self._seen_at))
        kind = key.split(":", 1)[0]
        for _, article_id in ranked:
            if earlier or article_id != survivor:
                yield article_id, (survivor, bool(earlier), kind)


class _KeepAndSketchFn(beam.DoFn):
    """One shard of article ids: each id's copies and the verdicts that drop it -> the copies kept, sketched
    SKETCH_BATCH at a time: (their SketchEntry list, the ids whose sketch failed), one element a shard.

    The join by id is keyed by a shard of the id, so that the survivors of a shard are a batch already:
    no second GroupByKey to batch them for the vectorised sketches, and their band rows leave as one
    element per band shard for the whole id shard. An article whose sketch cannot be computed is still
    written (as its own story, never a near-duplicate): the failure is counted and logged, not turned
    into a lost article.
    """

    def __init__(self, settings: DedupSettings) -> None:
        self._settings = settings
        self._kept = Metrics.counter("dedup", "kept")
        self._duplicates = Metrics.counter("dedup", "exact_duplicates")
        self._written_before = Metrics.counter("dedup", "written_before")
        # which identity matched: the README's dedup reasons exact-url / guid / text, for dropped copies
        self._by_kind = {
            kind: Metrics.counter("dedup", f"dropped_{kind}") for kind in ("url", "guid", "text")
        }
        self._failed = Metrics.counter("dedup", "sketch_failures")

    def _count_reason(self, verdicts: list, copies: int) -> None:
        kinds = sorted({kind for _, _, kind in verdicts})
        if kinds:
            self._by_kind[kinds[-1] if "url" not in kinds else "url"].inc(copies)

    def _survivor(self, copies: list[Copy], verdicts: list) -> Copy | None:
        """The copy of one id to keep, if any: the verdicts are those of the keys that drop it."""
        if any(before for _, before, _ in verdicts):
            self._written_before.inc(len(copies))
            self._count_reason(verdicts, len(copies))
            return None
        if len(copies) > 1:  # the same item twice in this run (a feed repeating it, or two feeds)
            self._duplicates.inc(len(copies) - 1)
            _, has_url, has_guid, _ = copies[0]
            self._by_kind["url" if has_url else "guid" if has_guid else "text"].inc(len(copies) - 1)
        if verdicts:
            self._duplicates.inc()
            self._count_reason(verdicts, 1)
            return None
        self._kept.inc()
        return _first(copies)

    def process(self, element: tuple[int, dict]) -> Iterable[tuple[list[SketchEntry], list[str]]]:
        _, groups = element
        copies: dict[str, list[Copy]] = {}
        for article_id, copy in groups["copy"]:
            copies.setdefault(article_id, []).append(copy)
        verdicts: dict[str, list] = {}
        for article_id, verdict in groups["verdict"]:
            verdicts.setdefault(article_id, []).append(verdict)
        sources = []
        for article_id in sorted(copies):  # batches that do not depend on the order of arrival
            survivor = self._survivor(copies[article_id], verdicts.get(article_id, []))
            if survivor is not None:
                sources.append(survivor[3])
        entries, failed = [], []
        for start in range(0, len(sources), SKETCH_BATCH):
            sketched, unsketched = _entries_and_failures(
                sources[start : start + SKETCH_BATCH], self._settings
            )
            entries += sketched
            failed += unsketched
        if sources:  # a shard with nothing to sketch leaves the counter alone, as no batch did before
            self._failed.inc(len(failed))
            yield entries, failed


SKETCH_BATCH = 64  # articles per vectorised sketch pass
# The join by id groups ids by shard: ~150 articles a shard for 10,000, ~800 for 50,000 (held in memory
# while the shard is judged). Fewer shards, fewer band-row elements: each id shard sends its band rows
# as one element per band shard (ID_SHARDS x BAND_SHARDS at most).
ID_SHARDS = 64


def _shard_of(element: tuple) -> tuple[int, tuple]:
    """(article_id, value) -> (shard of the id, (article_id, value)); ids are hex digests."""
    return int(element[0][:8], 16) % ID_SHARDS, element


def _kept_entries(sketched: tuple[list[SketchEntry], list[str]]) -> Iterable[tuple[str, bytes]]:
    """Every article kept, for the final join: its entry pickled once (not once per join it crosses), or
    b"" when its sketch failed. An article is written when it has one: no separate "kept" channel."""
    entries, failed = sketched
    for entry in entries:
        yield entry.article_id, pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)
    for article_id in failed:
        yield article_id, b""


def _keyed_entries(batch: list[SketchEntry]) -> list[tuple[str, SketchEntry]]:
    return [(entry.article_id, entry) for entry in batch]


def _band_key_rows(entries: list[SketchEntry], bands: int) -> tuple[list[SketchEntry], np.ndarray]:
    """The entries with a signature and their band keys, (n, bands), in one numpy pass per length."""
    by_length: dict[int, list[SketchEntry]] = {}
    for entry in entries:
        if entry.signature:
            by_length.setdefault(len(entry.signature), []).append(entry)
    keyed, keys = [], []
    for group in by_length.values():  # one length in practice: NUM_PERM
        signatures = np.frombuffer(b"".join(e.signature for e in group), dtype="<u4").reshape(len(group), -1)
        keyed += group
        keys.append(neardup.band_key_matrix(signatures, bands))
    return keyed, np.concatenate(keys) if keys else np.empty((0, bands), dtype=np.uint64)


CANDIDATES_PER_MEMBER = 16  # an LSH bucket's member is paired with at most this many better-ranked ones
BAND_SHARDS = 128  # band rows cross the shuffle grouped by key % BAND_SHARDS, a list per batch and shard


def _by_shard(rows: Iterable[tuple[int, tuple[str, tuple]]]) -> Iterable[tuple[int, list]]:
    """(band key, member) rows -> (shard, [rows]): one shuffled element per shard, not per row. A batch of
    64 articles has 2,048 band rows; Beam's cost per element, not the rows' bytes, made that shuffle a
    tenth of a run's CPU."""
    shards: dict[int, list] = {}
    for key, member in rows:
        shards.setdefault(key % BAND_SHARDS, []).append((key, member))
    return shards.items()


def _new_band_rows(batch: list[SketchEntry], bands: int) -> Iterable[tuple[int, list]]:
    keyed, keys = _band_key_rows(batch, bands)
    members = [(entry.article_id, entry.rank()) for entry in keyed]  # once per entry, not per band
    return _by_shard((key, member) for member, row in zip(members, keys.tolist(), strict=True) for key in row)


class _SortedKeysFn(beam.CombineFn):
    """Band keys -> one sorted array of the distinct ones: this run's keys as a side input costs 8 bytes
    a key, where a dict of Python ints costs ~90."""

    def create_accumulator(self) -> list[np.ndarray]:
        return []

    def add_input(self, accumulator: list[np.ndarray], keys: np.ndarray) -> list[np.ndarray]:
        accumulator.append(keys)
        if len(accumulator) >= 256:  # keep the pieces few: one array per 256 batches
            accumulator[:] = [_distinct_sorted(np.concatenate(accumulator))]
        return accumulator

    def merge_accumulators(self, accumulators: Iterable[list[np.ndarray]]) -> list[np.ndarray]:
        return [_distinct_sorted(np.concatenate([k for a in accumulators for k in a] or [_NO_KEYS]))]

    def extract_output(self, accumulator: list[np.ndarray]) -> np.ndarray:
        return _distinct_sorted(np.concatenate(accumulator or [_NO_KEYS]))


_NO_KEYS = np.empty(0, dtype=np.uint64)


def _distinct_sorted(keys: np.ndarray) -> np.ndarray:
    """`np.unique(keys)`. numpy 2's `np.unique` hashes before it sorts: ~15x slower on 300,000 band keys
    than one sort and a mask of changes, and this runs on one worker for the whole run."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys


def _batch_keys(batch: list[SketchEntry], bands: int) -> tuple[int, np.ndarray]:
    # one constant key: CombinePerKey + AsDict is the side-input pattern every runner here is tested with
    return 0, _band_key_rows(batch, bands)[1].ravel()


class _EarlierBandRowsFn(beam.DoFn):
    """An earlier run's entry -> its band rows, only those whose bucket holds an article of this run: a
    bucket of earlier articles only can pair nobody, so the look-back's buckets are not regrouped."""

    def __init__(self, bands: int) -> None:
        self._bands = bands
        self._joined = Metrics.counter("dedup", "lookback_band_rows")  # earlier rows sharing a bucket

    def process(self, entry: SketchEntry, wanted: dict) -> Iterable[tuple[int, list]]:
        keys = wanted.get(0, _NO_KEYS)
        if not entry.signature or not keys.size:
            return
        own = neardup.band_key_matrix(np.frombuffer(entry.signature, dtype="<u4")[None, :], self._bands)[0]
        hit = keys[np.minimum(np.searchsorted(keys, own), keys.size - 1)] == own
        if hit.any():
            member = (entry.article_id, entry.rank())
            shared = own[hit].tolist()
            self._joined.inc(len(shared))
            yield from _by_shard((key, member) for key in shared)


def _bucket_pairs(members: list[tuple[str, tuple]], limit: int) -> Iterable[tuple[str, str, bool]]:
    """(later_id, earlier_id, earlier_is_of_an_earlier_run) of one LSH bucket, for later articles of
    this run only."""
    if len(members) < 2 or all(rank[0] is False for _, rank in members):
        return
    new = {article_id for article_id, rank in members if rank[0]}
    for later, earlier in neardup.candidate_pairs(members, limit):
        if later in new:
            yield later, earlier, earlier not in new


class _ShardPairsFn(beam.DoFn):
    """One shard's band rows -> its buckets -> their candidate pairs (`_bucket_pairs`)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit

    def process(self, element: tuple[int, Iterable[list]]) -> Iterable[tuple[str, str, bool]]:
        buckets: dict[int, list[tuple[str, tuple]]] = {}
        for rows in element[1]:
            for key, member in rows:
                buckets.setdefault(key, []).append(member)
        for members in buckets.values():
            yield from _bucket_pairs(members, self._limit)


def _compared(entry: SketchEntry) -> tuple[str, tuple, bytes, int, bytes]:
    """What verification needs of an entry, as a plain tuple (no story terms): what the joins ship."""
    return entry.article_id, entry.rank(), entry.signature, entry.shingles, entry.facts


def _as_doc(compared: tuple[str, tuple, bytes, int, bytes]) -> tuple[str, tuple, neardup.Sketch]:
    article_id, rank, signature, shingles, facts = compared
    sketch = neardup.Sketch(
        np.frombuffer(signature, dtype="<u4"), shingles, np.frombuffer(facts, dtype="<u8")
    )
    return article_id, rank, sketch


def _earlier_compared(entry: SketchEntry, wanted: dict) -> Iterable[tuple[str, tuple]]:
    """An earlier run's entry, to the verification only when an article of this run may copy it."""
    if entry.article_id in wanted:
        yield entry.article_id, _compared(entry)


def _offer_original(element: tuple[str, dict]) -> Iterable[tuple[str, tuple]]:
    """For one possible original: what verification needs of it, to every later article that may copy it."""
    _, groups = element
    entries = [*groups["entry"], *groups["earlier_entry"]]
    if entries:
        for later in groups["later"]:
            yield later, entries[0]


class _VerifyFn(beam.DoFn):
    """For one article: its candidate originals; emits (article_id, (original_id, similarity))."""

    def __init__(self, settings: DedupSettings) -> None:
        self._settings = settings

    def process(self, element: tuple[str, dict]) -> Iterable[tuple[str, tuple[str, float]]]:
        article_id, groups = element
        entries = list(groups["entry"])
        if not entries:
            return
        _, _, sketch = _as_doc(entries[0])
        chosen = neardup.pick_near_original(
            sketch,
            [_as_doc(c) for c in groups["candidate"]],
            self._settings.near_duplicate_threshold,
            self._settings.near_duplicate_fact_overlap,
        )
        if chosen is not None:
            yield article_id, chosen


def _story_input(element: tuple[str, dict]) -> Iterable[tuple[str, tuple[StoryFields, float | None]]]:
    """An article's story fields with duplicate_of set from its verdict, and the verdict's similarity: the
    verdict goes on with the story, from the clustering to the final join."""
    _, groups = element
    docs = list(groups["doc"])
    verdicts = list(groups["verdict"])
    if docs:
        group, fields = docs[0]
        if verdicts:
            original, similarity = verdicts[0]
            yield group, ((*fields[:5], original, *fields[6:]), similarity)
        else:
            yield group, (fields, None)


class _ClusterStoriesFn(beam.DoFn):
    """For one story group (a language): earlier runs' articles with their stories and this run's
    articles -> (article_id, (story_id, (original_id, similarity) or None)) for this run's, by one ordered
    pass of `cluster_stories`: the near-duplicate verdict goes on to the final join with the story."""

    def __init__(self, settings: DedupSettings) -> None:
        self._settings = settings
        self._stories = Metrics.counter("dedup", "stories")  # started by this run

    def process(self, element: tuple[str, dict]) -> Iterable[tuple[str, tuple[str, tuple | None]]]:
        _, groups = element
        new, verdicts = [], {}
        for fields, similarity in groups["new"]:
            doc = story_doc_of(fields)
            new.append(doc)
            if doc.duplicate_of is not None:
                verdicts[doc.article_id] = (doc.duplicate_of, similarity)
        if not new:
            return
        earlier = (story_doc_of(fields) for fields in groups["earlier"])
        for article_id, story_id in cluster_stories(new, earlier, self._settings.stories).items():
            if story_id == article_id:
                self._stories.inc()
            yield article_id, (story_id, verdicts.get(article_id))


class _FinishFn(beam.DoFn):
    """Sets story_id, duplicate_of and dedup_reason; drops near-duplicates when configured to."""

    def __init__(self, settings: DedupSettings) -> None:
        self._drop = settings.drop_near_duplicates
        self._linked = Metrics.counter("dedup", "near_duplicates")
        self._dropped = Metrics.counter("dedup", "near_duplicates_dropped")

    def process(self, element: tuple[str, dict]) -> Iterable[Article]:
        article_id, groups = element
        if not list(groups["entry"]):  # not kept by the exact dedup
            return
        article = pickle.loads(_first(groups["article"])[1])  # pickled by _pickled_copy
        story_id, verdict = _story_and_verdict(article_id, groups["story"])
        if verdict is not None:
            if self._drop:
                self._dropped.inc()
                return
            self._linked.inc()
            original, similarity = verdict
            article = dataclasses.replace(
                article,
                duplicate_of=original,
                dedup_reason="near-text",
                dedup_similarity=round(similarity, 4),
            )
        yield dataclasses.replace(article, story_id=story_id)


def _story_and_verdict(article_id: str, stories: Iterable[tuple]) -> tuple[str, tuple | None]:
    """An article's story and near-duplicate verdict; one with no sketch is a story of its own."""
    stories = list(stories)
    return stories[0] if stories else (article_id, None)


class _SketchRowFn(beam.DoFn):
    """The look-back index rows of the articles written: their sketch, stamped with the run and story."""

    def __init__(self, settings: DedupSettings, seen_at: dt.datetime) -> None:
        self._drop = settings.drop_near_duplicates
        self._seen_at = seen_at

    def process(self, element: tuple[str, dict]) -> Iterable[SketchEntry]:
        article_id, groups = element
        entries = list(groups["entry"])
        if not entries or not entries[0]:  # not kept, or kept with no sketch
            return
        story_id, verdict = _story_and_verdict(article_id, groups["story"])
        if self._drop and verdict is not None:
            return
        yield dataclasses.replace(pickle.loads(entries[0]), story_id=story_id, seen_at=self._seen_at)


class Deduplicate(beam.PTransform):
    """Articles -> the articles to write and what the look-back index remembers of them.

    1. Exact duplicates (one identity key shared: canonical URL, GUID in its feed, normalised text) are
       written once: CoGroupByKey over identity keys, with `seen` (key, (article_id, seen_at)) from the
       index of earlier runs; the verdicts that drop an article meet its copies in a join keyed by a
       shard of the id, where the survivors are sketched.
    2. Near-duplicates: each survivor's sketch (MinHash signature + fact hashes, neardup.py), LSH band
       keys -> GroupByKey per shard of band keys -> buckets -> candidate pairs -> the candidate's sketch
       joined by id -> verified -> `duplicate_of` = the best-ranked original (earlier runs' first, then
       by published_at, id).
       Earlier runs' band rows enter the GroupByKey only for the buckets this run's articles are in
       (this run's keys are a side input), and an earlier sketch reaches the verification only when it
       is a candidate (the candidates' ids are a side input): the look-back is read, not regrouped.
    3. Stories: per language, one ordered pass of the online clustering (stories.py) over this run's
       articles, seeded with the earlier runs' articles and their stories from `sketches`. Each
       article's story input meets its verdict (JoinVerdicts), and the clustering hands the story and
       the verdict on to the final join by id, which has three channels (article, entry, story): Beam's
       local runner writes and re-reads each CoGroupByKey's input, so a channel fewer is a round trip of
       ~10,000 elements fewer.

    `sketches` is the look-back index of earlier runs' SketchEntry rows (None: a first run).
    Everything is GroupByKey / CoGroupByKey, so it runs on every Beam runner.
    """

    def __init__(
        self,
        seen: beam.PCollection,
        seen_at: dt.datetime,
        settings: DedupSettings | None = None,
        sketches: beam.PCollection | None = None,
    ) -> None:
        super().__init__()
        self._seen = seen
        self._seen_at = seen_at
        self._settings = settings or DedupSettings()
        self._sketches = sketches

    def expand(self, articles: beam.PCollection) -> DedupOutput:
        settings = self._settings
        keyed = articles | "KeyByIdentity" >> ParDoWithOutputs(_KeyArticlesFn(), DEAD_LETTERS)
        judged = (
            {"new": keyed[MAIN], "seen": self._seen}
            | "GroupByIdentityKey" >> beam.CoGroupByKey()
            | "JudgeEachKey" >> ParDoWithOutputs(_JudgeKeyFn(self._seen_at), _JudgeKeyFn.INDEX)
        )
        # The exact-dedup join sees plain tuples, not the article (`_copy_of`), keyed by a shard of the id:
        # the survivors of a shard are sketched there, in batches, with no GroupByKey of their own.
        sketched = (
            {
                "copy": articles | "CopyByIdShard" >> beam.Map(lambda article: _shard_of(_copy_of(article))),
                "verdict": judged[MAIN] | "VerdictByIdShard" >> beam.Map(_shard_of),
            }
            | "GroupByIdShard" >> beam.CoGroupByKey()
            | "KeepAndSketch" >> beam.ParDo(_KeepAndSketchFn(settings))
        )

        # -- near-duplicates
        batches = sketched | "SketchEntries" >> beam.Map(lambda batch: batch[0])
        entries = batches | "KeyEntriesById" >> beam.FlatMap(_keyed_entries)
        earlier = self._sketches
        if earlier is None:
            earlier = articles.pipeline | "NoEarlierSketches" >> beam.Create([])
        bands = settings.lsh_bands
        new_keys = (
            batches
            | "BatchBandKeys" >> beam.Map(_batch_keys, bands)
            | "SortNewBandKeys" >> beam.CombinePerKey(_SortedKeysFn())
        )
        buckets = (
            (
                batches | "NewBandKeys" >> beam.FlatMap(_new_band_rows, bands),
                earlier
                | "EarlierBandKeys"
                >> beam.ParDo(_EarlierBandRowsFn(bands), wanted=beam.pvalue.AsDict(new_keys)),
            )
            | "AllBandKeys" >> beam.Flatten()
            | "GroupByBandShard" >> beam.GroupByKey()
        )
        pairs = (
            buckets
            | "CandidatePairs" >> beam.ParDo(_ShardPairsFn(limit=CANDIDATES_PER_MEMBER))
            | "DistinctPairs" >> beam.Distinct()
        )
        earlier_originals = (
            pairs
            | "EarlierOriginals" >> beam.Filter(lambda pair: pair[2])
            | "EarlierOriginalIds" >> beam.Map(lambda pair: (pair[1], None))
        )
        compared = entries | "NewCompared" >> beam.Map(lambda kv: (kv[0], _compared(kv[1])))
        offered = (
            {
                "later": pairs | "ByEarlier" >> beam.Map(lambda pair: (pair[1], pair[0])),
                # two channels, not one Flatten: the local runner would write and re-read every entry
                # for that Flatten, then again for the join's own
                "entry": compared,
                "earlier_entry": earlier
                | "EarlierCompared"
                >> beam.FlatMap(_earlier_compared, wanted=beam.pvalue.AsDict(earlier_originals)),
            }
            | "GroupByOriginal" >> beam.CoGroupByKey()
            | "OfferOriginal" >> beam.FlatMap(_offer_original)
        )
        verdicts = (
            {"candidate": offered, "entry": compared}
            | "GroupByLater" >> beam.CoGroupByKey()
            | "VerifyNearDuplicates" >> beam.ParDo(_VerifyFn(settings))
        )
        # every article's story input, its duplicate_of set when it is a near-duplicate
        story_inputs = (
            {
                "doc": entries
                | "NewStoryDocs" >> beam.Map(lambda kv: (kv[0], (kv[1].story_group, kv[1].story_fields()))),
                "verdict": verdicts,
            }
            | "JoinVerdicts" >> beam.CoGroupByKey()
            | "ByStoryGroup" >> beam.FlatMap(_story_input)
        )

        # -- stories: story fields only (terms, countries, places), not signatures, cross the shuffle
        stories = (
            {
                "new": story_inputs,
                "earlier": earlier
                | "EarlierByStoryGroup" >> beam.Map(lambda e: (e.story_group, e.story_fields())),
            }
            | "GroupByStoryGroup" >> beam.CoGroupByKey()
            | "ClusterStories" >> beam.ParDo(_ClusterStoriesFn(settings))
        )

        # three channels: the article, its entry (kept or not), its story with its near-duplicate verdict
        final = {
            "article": articles | "PickleArticles" >> beam.Map(_pickled_copy),
            "entry": sketched | "KeptEntries" >> beam.FlatMap(_kept_entries),
            "story": stories,
        } | "JoinDecisions" >> beam.CoGroupByKey()
        main = final | "Finish" >> beam.ParDo(_FinishFn(settings))
        sketch_rows = final | "SketchRows" >> beam.ParDo(_SketchRowFn(settings, self._seen_at))
        return DedupOutput(main, judged[_JudgeKeyFn.INDEX], keyed[DEAD_LETTERS], sketch_rows)
