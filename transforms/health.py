"""Feed health: one row per fetch attempt, with the entries it held and the new articles it gave."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import apache_beam as beam

from newsbeam.transforms.records import Article, FeedHealth, FetchedFeed, RawEntry


def _health_rows(element: tuple[str, dict]) -> Iterable[FeedHealth]:
    _, groups = element
    entries = sum(groups["entries"])
    new_articles = sum(groups["new"])
    state = next(iter(groups["state"]), None)
    for body_bytes, fetched in groups["fetched"]:
        yield dataclasses.replace(FeedHealth.of(fetched, entries, new_articles, state), bytes=body_bytes)


def _without_body(fetched: FetchedFeed) -> tuple[str, tuple[int, FetchedFeed]]:
    """The attempt keyed by feed, its body replaced by its size: the join holds every attempt in memory
    on the local runner, and the bodies (the whole run's feeds) are not needed there."""
    size = len(fetched.body) if fetched.body is not None else 0
    return fetched.feed.url, (size, dataclasses.replace(fetched, body=None))


class CountFeedHealth(beam.PTransform):
    """(fetch attempts, parsed entries, written articles, new feed states) -> FeedHealth rows, joined on
    the feed URL."""

    def __init__(
        self, entries: beam.PCollection, articles: beam.PCollection, states: beam.PCollection
    ) -> None:
        super().__init__()
        self._entries = entries
        self._articles = articles
        self._states = states

    def expand(self, fetched: beam.PCollection) -> beam.PCollection:
        def count_by_feed(label: str, pcoll: beam.PCollection, feed_of) -> beam.PCollection:
            return pcoll | label >> (beam.Map(lambda x: (feed_of(x), 1)) | beam.CombinePerKey(sum))

        groups = {
            "fetched": fetched | "KeyFetchByFeed" >> beam.Map(_without_body),
            "entries": count_by_feed("CountEntries", self._entries, _entry_feed),
            "new": count_by_feed("CountNewArticles", self._articles, _article_feed),
            "state": self._states | "KeyStateByFeed" >> beam.Map(lambda s: (s.feed_url, s)),
        }
        return groups | "JoinByFeed" >> beam.CoGroupByKey() | "HealthRows" >> beam.FlatMap(_health_rows)


def _entry_feed(entry: RawEntry) -> str:
    return entry.feed.url


def _article_feed(article: Article) -> str:
    return article.feed_url
