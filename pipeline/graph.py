"""The batch graph, built apart from running it: `build_pipeline(p, ...)` only wires transforms/ together.

feeds -> FetchFeeds -> ParseEntries -> CleanArticles -> TagRegions -> Deduplicate -> WriteArticles
             |             |  (-> FetchFullText, when a feed asks for full text)
             |             |               |              |              |  \\-> WriteIndex, WriteSketches
             |             |               |              |              |      (_state: keys, sketches)
             |             +---------------+--------------+--------------+----> WriteDeadLetters
             +-> CountFeedHealth -> WriteFeedHealth
             +-> WriteFeedState (_state: validators, failures)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import apache_beam as beam

from newsbeam.pipeline.config import Config
from newsbeam.transforms.clean import CleanArticles
from newsbeam.transforms.dedup import Deduplicate
from newsbeam.transforms.enrich import TagRegions
from newsbeam.transforms.fetch import FetchFeeds, fetch_key
from newsbeam.transforms.fulltext import FetchFullText
from newsbeam.transforms.health import CountFeedHealth
from newsbeam.transforms.parse import ParseEntries
from newsbeam.transforms.records import FeedSpec, FeedState
from newsbeam.transforms.sink import (
    ReadIndex,
    ReadSketches,
    WriteArticles,
    WriteDeadLetters,
    WriteFeedHealth,
    WriteFeedState,
    WriteIndex,
    WriteSketches,
)


@dataclass(frozen=True, slots=True)
class RunContext:
    """What one run needs besides the config: its id, its clock reading, and the look-back index files."""

    run_id: str
    started_at: dt.datetime
    index_paths: tuple[str, ...] = ()
    sketch_paths: tuple[str, ...] = ()  # near-duplicate signatures and story terms of earlier runs
    feed_states: Mapping[str, FeedState] = field(default_factory=dict)  # by feed URL, from earlier runs


class PipelineOutputs(NamedTuple):
    articles: beam.PCollection  # Article, as written
    feed_health: beam.PCollection  # FeedHealth
    dead_letters: beam.PCollection  # DeadLetter, every stage
    written: beam.PCollection  # (dataset, staged path, rows) per file


def build_pipeline(
    p: beam.Pipeline, config: Config, feeds: list[FeedSpec], run: RunContext
) -> PipelineOutputs:
    specs = p | "ListFeeds" >> beam.Create([(feed, run.feed_states.get(feed.url)) for feed in feeds])
    fetched = specs | "FetchFeeds" >> FetchFeeds(config.fetch)
    fetched_feeds = fetched.main
    lanes = {fetch_key(feed.url, config.fetch.lanes) for feed in feeds}
    if not config.in_one_process and len(lanes) < config.workers:
        # Fetching runs per host lane (a local file is a lane of its own), and parse and clean run fused
        # after it: with fewer lanes than workers (the feeds of one host) spread the feeds first, or one
        # worker does that work while the others wait. With enough lanes a reshuffle only costs: parsing
        # no longer overlaps fetching, and the feeds' bodies cross the driver twice more.
        fetched_feeds = fetched.main | "SpreadFeeds" >> beam.Reshuffle()
    parsed = fetched_feeds | "ParseEntries" >> ParseEntries()
    entries, stage_letters = parsed.main, [fetched.dead_letters, parsed.dead_letters]
    if any(feed.fetch_full_text for feed in feeds):
        full = entries | "FetchFullText" >> FetchFullText(config.fetch, config.clean.teaser_max_words)
        entries = full.main
        stage_letters.append(full.dead_letters)
    cleaned = entries | "CleanArticles" >> CleanArticles(config.clean)
    tagged = cleaned.main | "TagRegions" >> TagRegions(config.enrich)
    seen = p | "ReadLookbackIndex" >> ReadIndex(list(run.index_paths))
    earlier = p | "ReadLookbackSketches" >> ReadSketches(list(run.sketch_paths))
    deduped = tagged.main | "Deduplicate" >> Deduplicate(seen, run.started_at, config.dedup, earlier)
    health = fetched.main | "CountFeedHealth" >> CountFeedHealth(parsed.main, deduped.main, fetched.state)
    dead_letters = (
        *stage_letters,
        cleaned.dead_letters,
        tagged.dead_letters,
        deduped.dead_letters,
    ) | "AllDeadLetters" >> beam.Flatten()

    output, run_id, sink = config.output, run.run_id, config.sink
    written = (
        deduped.main | "WriteArticles" >> WriteArticles(output, run_id, sink),
        health | "WriteFeedHealth" >> WriteFeedHealth(output, run_id, sink),
        dead_letters | "WriteDeadLetters" >> WriteDeadLetters(output, run_id, sink),
        deduped.index | "WriteIndex" >> WriteIndex(output, run_id, sink),
        deduped.sketches | "WriteSketches" >> WriteSketches(output, run_id, sink),
        fetched.state | "WriteFeedState" >> WriteFeedState(output, run_id, sink),
    ) | "AllWrittenFiles" >> beam.Flatten()
    return PipelineOutputs(deduped.main, health, dead_letters, written)
