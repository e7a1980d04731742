"""`newsbeam stream`: the unbounded graph, and the driver that runs it until SIGINT / SIGTERM / --duration.

ticks -> PollFeeds -> ParseEntries -> DropRepeatedEntries -> CleanArticles -> TagRegions -> StreamDeduplicate
           |  |            |                                       |               |              |
           |  |            +--> dead letters <---------------------+---------------+              |
           |  +-> FeedState after every attempt (_state/feeds)                                    |
           +-> CountFeedHealth (per fetch window) -> feed health     KeptArticle + index rows <---+
                                                                         + sketch row (near-dups, stories)
                                   all of them -> WriteWindows: one atomic commit per window pane

The driver holds the writer lock (`_state/lock`) for its lifetime, so no `run` or second `stream` writes
the same OUTPUT; each window commit takes the short commit lock only (see transforms/stream_sink.py).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.runner import PipelineResult, PipelineRunner
from apache_beam.transforms import window

from newsbeam.pipeline.config import Config
from newsbeam.pipeline.metrics import read_counters
from newsbeam.pipeline.runner import LOCAL_RUNNER_NAMES
from newsbeam.transforms.clean import CleanArticles
from newsbeam.transforms.enrich import TagRegions
from newsbeam.transforms.health import CountFeedHealth
from newsbeam.transforms.parse import ParseEntries
from newsbeam.transforms.records import FeedSpec, FeedState
from newsbeam.transforms.sink import (
    ARTICLES,
    ERRORS,
    FEED_STATE,
    FEEDS,
    INDEX,
    SKETCHES,
    commit_lock,
    expire_index,
    index_files,
    read_feed_states,
    recover,
    run_lock,
)
from newsbeam.transforms.stream import ImpulseTicks, LiveTicks, PollFeeds, at_window_end
from newsbeam.transforms.stream_dedup import DropRepeatedEntries, StreamDeduplicate
from newsbeam.transforms.stream_sink import WriteWindows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StreamContext:
    """What a stream starts from: the feeds' states and the look-back index and sketch files of earlier runs
    and streams."""

    feed_states: Mapping[str, FeedState] = field(default_factory=dict)
    index_paths: tuple[str, ...] = ()
    sketch_paths: tuple[str, ...] = ()


def build_stream_pipeline(
    p: beam.Pipeline,
    config: Config,
    feeds: Sequence[FeedSpec],
    context: StreamContext,
    ticks: beam.PTransform,
) -> beam.PCollection:
    """The stream graph from `ticks` (LiveTicks, ImpulseTicks, or a TestStream of tick times in tests).
    Returns the commits: (commit id, {dataset: rows})."""
    stream = config.stream
    polled = (
        p
        | "Ticks" >> ticks
        | "PollFeeds" >> PollFeeds(feeds, config.fetch, context.feed_states, stream.poll_interval_s)
    )
    parsed = polled.main | "ParseEntries" >> ParseEntries()
    unseen = parsed.main | "DropRepeatedEntries" >> DropRepeatedEntries(config.dedup.lookback_days)
    # The config's rules; not the cross-item repeated-chrome pass, a batch Combine over the whole run
    clean = dataclasses.replace(config.clean, repeat_min_items=0)
    cleaned = unseen | "CleanArticles" >> CleanArticles(clean)
    tagged = cleaned.main | "TagRegions" >> TagRegions(config.enrich)
    deduped = tagged.main | "Deduplicate" >> StreamDeduplicate(
        config.dedup, context.index_paths, stream, context.sketch_paths
    )

    def fetch_windows(label: str, pcoll: beam.PCollection) -> beam.PCollection:
        return pcoll | label >> beam.WindowInto(window.FixedWindows(stream.window_s))

    health = (
        fetch_windows("FetchWindows", polled.main)
        | "CountFeedHealth"
        >> CountFeedHealth(
            fetch_windows("EntryWindows", parsed.main),
            fetch_windows("KeptWindows", deduped.kept),
            fetch_windows("StateWindows", polled.state),
        )
        | "IntoNextWindow" >> beam.FlatMap(at_window_end)
    )
    dead_letters = (
        polled.dead_letters,
        parsed.dead_letters,
        cleaned.dead_letters,
        tagged.dead_letters,
    ) | "AllDeadLetters" >> beam.Flatten()
    records = {
        ARTICLES: deduped.main,
        FEEDS: health,
        ERRORS: dead_letters,
        INDEX: deduped.refreshed,
        FEED_STATE: polled.state,
    }
    return records | "WriteWindows" >> WriteWindows(config.output, config.sink, stream)


def make_stream_runner(name: str) -> PipelineRunner | str:
    """`direct`: Beam's BundleBasedDirectRunner, the only local engine of Beam 2.77 that runs unbounded
    pipelines (the FnApiRunner is batch only; the DirectRunner would first try to download Prism).
    Any other name goes to Beam as it is, with --streaming."""
    if name.lower() in LOCAL_RUNNER_NAMES:
        from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner

        return BundleBasedDirectRunner()
    return name


def is_local(config: Config) -> bool:
    return config.runner.lower() in LOCAL_RUNNER_NAMES


@dataclass(frozen=True)
class StreamSummary:
    """What a stream wrote, counted from the committed files (rows fetched since it started)."""

    wall_seconds: float
    feeds_fetched: int
    feeds_not_modified: int
    feeds_failed: int
    articles_written: int
    dead_letters: int
    duplicates_dropped: int | None = None  # from the runner's metrics, when it reports them
    near_duplicates_linked: int = 0
    new_stories: int = 0  # articles that started a story (story_id = article_id)
    recovered: tuple[str, ...] = ()

    def text(self) -> str:
        dropped = self.duplicates_dropped
        duplicates = "" if dropped is None else f", {dropped} duplicates dropped"
        return (
            f"newsbeam stream: {self.wall_seconds:.1f} s | feeds {self.feeds_fetched} fetched, "
            f"{self.feeds_not_modified} not modified, {self.feeds_failed} failed | articles "
            f"{self.articles_written} written{duplicates}, {self.near_duplicates_linked} near-duplicates "
            f"linked, {self.new_stories} new stories | dead letters {self.dead_letters}"
        )

    def json(self) -> str:
        data = dataclasses.asdict(self)
        data["recovered"] = list(self.recovered)
        return json.dumps(data, sort_keys=True)


def _rows_since(output: str, dataset: str, column: str, since: dt.datetime, columns: list[str]):
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    from newsbeam.transforms.sink import open_output

    fs, base = open_output(output)
    path = f"{base}/{dataset}"
    if fs.get_file_info(path).type.name != "Directory":
        return None
    data = ds.dataset(path, filesystem=fs, format="parquet", partitioning="hive")
    return data.to_table(columns=columns, filter=pc.field(column) >= since)


def summarise_stream(
    output: str, since: dt.datetime, wall: float, result: PipelineResult | None, recovered: tuple[str, ...]
) -> StreamSummary:
    health = _rows_since(output, FEEDS, "fetched_at", since, ["not_modified", "error_class"])
    articles = _rows_since(output, ARTICLES, "fetched_at", since, ["article_id", "duplicate_of", "story_id"])
    errors = _rows_since(output, ERRORS, "failed_at", since, ["stage"])
    rows = health.to_pylist() if health is not None else []
    linked = new_stories = 0
    if articles is not None:
        import pyarrow.compute as pc

        linked = articles.num_rows - articles["duplicate_of"].null_count
        new_stories = pc.sum(pc.equal(articles["story_id"], articles["article_id"])).as_py() or 0
    failed = sum(1 for r in rows if r["error_class"])
    not_modified = sum(1 for r in rows if r["not_modified"])
    duplicates = None
    if result is not None:
        counted = [_counter(result, f"dedup/{name}") for name in ("exact_duplicates", "written_before")]
        duplicates = None if None in counted else sum(counted)
    return StreamSummary(
        wall_seconds=wall,
        feeds_fetched=len(rows) - failed - not_modified,
        feeds_not_modified=not_modified,
        feeds_failed=failed,
        articles_written=articles.num_rows if articles is not None else 0,
        dead_letters=errors.num_rows if errors is not None else 0,
        duplicates_dropped=duplicates,
        near_duplicates_linked=linked,
        new_stories=new_stories,
        recovered=recovered,
    )


def _counter(result: PipelineResult, name: str) -> int | None:
    # The BundleBasedDirectRunner was seen to report only the first bundles of stateful steps: best effort.
    if not isinstance(result, PipelineResult) or is_local_result(result):
        return None
    metrics = read_counters(result)
    return metrics.get(name, 0) if metrics else None


def is_local_result(result: PipelineResult) -> bool:
    return type(result).__name__ == "DirectPipelineResult"


@contextlib.contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT / SIGTERM set `stop` (the stream then drains and exits 0); a second one acts as usual."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handle(signum, frame) -> None:
        log.warning("%s: stopping: flushing open windows", signal.Signals(signum).name)
        stop.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in previous:
        signal.signal(sig, handle)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_stream(
    config: Config, feeds: list[FeedSpec], beam_args: list[str], stop: threading.Event | None = None
) -> StreamSummary:
    """Poll, process and commit window by window until `stop` is set (by SIGINT / SIGTERM when run from
    the command line) or `stream.duration_s` has passed; then flush every open window and return."""
    stop = stop or threading.Event()
    flags = config.beam_flags() + list(beam_args)
    options = PipelineOptions(flags)
    options.view_as(StandardOptions).streaming = True
    started, started_at = time.monotonic(), dt.datetime.now(dt.UTC)
    with run_lock(config.output):
        with commit_lock(config.output):
            recovered = tuple(recover(config.output))
        for line in recovered:
            log.warning("%s", line)
        now = dt.datetime.now(dt.UTC)
        since = (now - dt.timedelta(days=config.dedup.lookback_days)).date()
        expire_index(config.output, since)
        # The first poll after a start ignores the stored validators: a window that was fetched but not
        # committed before a crash is fetched again in full, and dedup drops what was written.
        states = {
            url: dataclasses.replace(state, etag=None, last_modified=None)
            for url, state in read_feed_states(config.output).items()
        }
        context = StreamContext(
            states,
            tuple(index_files(config.output, since)),
            tuple(index_files(config.output, since, SKETCHES)),
        )
        log.info(
            "stream: %d feeds, %d look-back index files, %d sketch files",
            len(feeds),
            len(context.index_paths),
            len(context.sketch_paths),
        )
        stream = config.stream
        if is_local(config):
            ticks: beam.PTransform = LiveTicks(stream.tick_s, stop, stream.duration_s)
        else:
            ticks = ImpulseTicks(stream.tick_s, stream.duration_s)
        pipeline = beam.Pipeline(runner=make_stream_runner(config.runner), options=options)
        build_stream_pipeline(pipeline, config, feeds, context, ticks)
        with stop_on_signals(stop):
            # No runner-API round trip: the local tick source lives in this process (see LiveTicks).
            result = pipeline.run(test_runner_api=False)
            result.wait_until_finish()
    return summarise_stream(config.output, started_at, time.monotonic() - started, result, recovered)
