"""Full text for teasers: for feeds marked `fetch_full_text`, fetch the page of an item that holds only a
teaser and put the page's main text in its place, before cleaning.

`is_teaser` and `main_text` are the plain functions; `FetchFullText` is the composite. Pages are fetched
with the fetch stage's own machinery (`fetch.fetch_feed` through a `fetch.make_session` session: the same
timeouts, retries, size cap, SSRF guards and per-host politeness) and grouped by host lane as FetchFeeds
groups feeds, so one host's pages are fetched by one DoFn call on one worker however many workers run.
The main text is extracted by trafilatura (HTML out, so paragraphs survive) and then cleaned like any
item's content; the teaser becomes the item's summary (kept when the body does not start with it).

    >>> is_teaser(RawEntry(..., content_html="<p>Talks ended without a deal. Read more</p>"), 120)
    True

A page that cannot be fetched or has no main text becomes a dead letter (stage "fulltext"), and the item
goes on with its teaser. Counters (namespace "fulltext"): teasers, fetched, failed, dead_letters.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import itertools
import logging
import re
from collections.abc import Iterable, Iterator

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsbeam.transforms.clean import clean_inline, extract
from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs, StageOutput
from newsbeam.transforms.fetch import FetchSettings, fetch_feed, host_key, lane_of, make_session, utcnow
from newsbeam.transforms.records import DeadLetter, FeedSpec, RawEntry, truncate_raw

log = logging.getLogger(__name__)

STAGE = "fulltext"
# How a teaser ends: an ellipsis, or a link to the rest ("Read more", "Continue reading", ...).
_TEASER_END = re.compile(
    r"(?:…|\.\.\.|\[…\]|\[\.\.\.\]|(?i:read more|continue reading|read the full (?:story|article)|more"
    r"|weiterlesen|mehr lesen|leer más|seguir leyendo|lire la suite|leia mais|continua a leggere))"
    r"\W{0,4}$"
)


def is_teaser(entry: RawEntry, max_words: int) -> bool:
    """True when the item's content is only a teaser: fewer than `max_words` words once cleaned, or text
    that ends with an ellipsis or a "Read more" link."""
    markup = entry.content_html or entry.summary_html
    if not markup:
        return True
    body = extract(markup, title=entry.title).body
    if len(body.split()) < max_words:
        return True
    return bool(_TEASER_END.search(clean_inline(markup[-400:])))


def wants_full_text(entry: RawEntry, max_words: int) -> bool:
    """A teaser of a fetch_full_text feed whose link is an http(s) URL (never a local path)."""
    link = entry.link or ""
    return (
        entry.feed.fetch_full_text
        and link.lower().startswith(("http://", "https://"))
        and is_teaser(entry, max_words)
    )


def main_text(page: bytes, url: str) -> str | None:
    """The page's main text as simple HTML (headings and paragraphs), or None when trafilatura finds none."""
    import trafilatura  # heavy (courlan, htmldate, justext): imported by the workers that need it

    return trafilatura.extract(
        page,
        url=url,
        output_format="html",
        include_comments=False,
        include_tables=False,
        include_images=False,
    )


class _FetchPagesFn(beam.DoFn):
    """(lane, [(host, RawEntry), ...]) -> each entry, with its page's main text when that was found, and a
    DeadLetter per page that could not be fetched or had no main text."""

    stage = STAGE

    def __init__(self, settings: FetchSettings) -> None:
        super().__init__()
        self._settings = settings
        self._session = None
        self._teasers = Metrics.counter(STAGE, "teasers")
        self._fetched = Metrics.counter(STAGE, "fetched")
        self._failed = Metrics.counter(STAGE, "failed")
        self._dead = Metrics.counter(STAGE, "dead_letters")

    def setup(self) -> None:
        self._session = make_session(self._settings)

    def teardown(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def process(self, element: tuple[int, Iterable[tuple[str, RawEntry]]]) -> Iterator[object]:
        _, items = element
        ordered = _by_host_round_robin(items)
        if not ordered:
            return
        self._teasers.inc(len(ordered))
        threads = min(self._settings.max_concurrency, len(ordered))
        with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="newsbeam-fulltext") as pool:
            futures = [pool.submit(self._full_text, entry) for entry in ordered]
            # Emitted from the DoFn's thread, as each completes: Beam's outputs are not thread-safe.
            for future in concurrent.futures.as_completed(futures):
                entry, letter = future.result()
                if letter is not None:
                    self._failed.inc()
                    self._dead.inc()
                    yield beam.pvalue.TaggedOutput(DEAD_LETTERS, letter)
                else:
                    self._fetched.inc()
                yield entry

    def _full_text(self, entry: RawEntry) -> tuple[RawEntry, DeadLetter | None]:
        """The entry with its page's main text, or the entry as it was and the reason why not."""
        url = entry.link or ""
        try:
            page = fetch_feed(FeedSpec(url), self._session, self._settings, now=utcnow)
            if page.error_class is not None:
                return entry, self._letter(entry, page.error_class, page.error or page.error_class)
            text = main_text(page.body or b"", page.final_url)
            if not text:
                return entry, self._letter(entry, "NoMainText", f"no main text found in {page.final_url}")
        except Exception as exc:  # one bad page must not fail the lane
            log.debug("full text of %s failed: %s", url, exc)
            letter = DeadLetter.from_exception(STAGE, exc, feed_url=entry.feed.url, item=url, raw=entry)
            return entry, letter
        teaser = entry.content_html or entry.summary_html
        return dataclasses.replace(entry, content_html=text, summary_html=teaser), None

    def _letter(self, entry: RawEntry, error_class: str, message: str) -> DeadLetter:
        return DeadLetter(STAGE, entry.feed.url, entry.link, error_class, message, truncate_raw(entry))


def _by_host_round_robin(items: Iterable[tuple[str, RawEntry]]) -> list[RawEntry]:
    """One page of each host, then a second of each, ...: one big host does not hold every thread."""
    queues: dict[str, list[RawEntry]] = {}
    for host, entry in items:
        queues.setdefault(host, []).append(entry)
    rounds = itertools.zip_longest(*(queues[host] for host in sorted(queues)))
    return [entry for round_ in rounds for entry in round_ if entry is not None]


def _key_by_lane(entry: RawEntry, lanes: int) -> tuple[int, tuple[str, RawEntry]]:
    host = host_key(entry.link or "")
    return lane_of(host, lanes), (host, entry)


@beam.typehints.with_input_types(RawEntry)
class FetchFullText(beam.PTransform):
    """PCollection[RawEntry] -> StageOutput(main=every entry, teasers of fetch_full_text feeds with their
    page's main text; dead_letters=a DeadLetter per page that failed).

    `teaser_max_words` is `CleanSettings.teaser_max_words`; `settings` are the fetch stage's.
    """

    def __init__(self, settings: FetchSettings, teaser_max_words: int, label: str | None = None) -> None:
        super().__init__(label)
        self._settings = settings
        self._max_words = teaser_max_words

    def expand(self, entries: beam.PCollection) -> StageOutput:
        max_words, lanes = self._max_words, self._settings.lanes
        marked = entries | "MarkTeasers" >> beam.Map(lambda e: (wants_full_text(e, max_words), e))
        others = marked | "NotTeasers" >> beam.Filter(lambda pair: not pair[0]) | "Unmark" >> beam.Values()
        pages = (
            marked
            | "Teasers" >> beam.Filter(lambda pair: pair[0])
            | "KeyByHostLane" >> beam.Map(lambda pair: _key_by_lane(pair[1], lanes))
            | "GroupByLane" >> beam.GroupByKey()
            | "FetchPages" >> ParDoWithOutputs(_FetchPagesFn(self._settings), DEAD_LETTERS)
        )
        main = (others, pages[MAIN]) | "AllEntries" >> beam.Flatten()
        return StageOutput(main=main, dead_letters=pages[DEAD_LETTERS])
