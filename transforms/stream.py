"""Stage "stream": poll ticks, polling with the fetcher's state held in Beam state, and the event-time
windowing policy that the stream writes by.

    LiveTicks / PeriodicImpulse -> one tick per `tick_s` -> PollFeeds (keyed by fetch lane: every due feed of
    the lane fetched with the batch fetcher's politeness) -> FetchedFeed, FeedState, DeadLetter

Why a source of our own on the local runner
    Beam 2.77's Python streaming engine (the BundleBasedDirectRunner with --streaming) cannot run
    PeriodicImpulse: the splittable DoFn fails to expand (its GroupByKey is replaced after the streaming
    GroupByKey override ran), and even once expanded, the runner holds the SDF's output watermark at -inf
    until the restriction is done, so no window would ever fire before shutdown. `LiveTicks` is the
    runner's own TestStream primitive fed by a live event generator instead of a fixed list (the
    mechanism Interactive Beam streams through): it emits a tick and advances the watermark to the tick's
    time in real time, and ends (watermark +inf: every open window fires) when its `stop` event is set or
    its duration is over. It is local only (it lives in the driver process); on Dataflow / Flink the
    stream starts from PeriodicImpulse and stops by the runner's drain.

Event time and lateness (see `window_timestamp`)
    Articles are windowed by `published_at` (the parser's clamp and fallback to `fetched_at` applied).
    An article that arrives after its window closed is late: within `allowed_lateness_s` it is written in
    a late pane of its own window; older than that, it is written with the oldest window still open
    (tick time - allowed lateness). Either way its partition is the UTC date of its own event time, so
    no article is ever dropped for lateness.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.coders import PickleCoder
from apache_beam.runners.direct.test_stream_impl import _TestStream, _WatermarkController
from apache_beam.testing.test_stream import ElementEvent, WatermarkEvent
from apache_beam.transforms import trigger, userstate, window
from apache_beam.utils.timestamp import Timestamp

from newsbeam.transforms.deadletters import DEAD_LETTERS
from newsbeam.transforms.fetch import (
    STATE,
    FetchLaneFn,
    FetchSettings,
    host_key,
    is_due,
    lane_of,
    poll_due,
    utcnow,
)
from newsbeam.transforms.records import FeedSpec, FeedState


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """How `newsbeam stream` polls and windows. Times in seconds."""

    poll_interval_s: float = 300.0  # per feed, unless the feed list gives the feed its own interval
    window_s: float = 60.0  # fixed event-time windows: one commit (one set of files) per window pane
    allowed_lateness_s: float = 3600.0  # late articles within this land in a late pane of their window
    tick_s: float = 1.0  # how often due feeds are looked for; windows close at most this late
    duration_s: float | None = None  # stop (flushing) after this long; None: until SIGINT / SIGTERM

    def __post_init__(self) -> None:
        for name in ("poll_interval_s", "window_s", "tick_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"stream.{name} must be positive, got {getattr(self, name)!r}")
        if self.allowed_lateness_s < 0:
            raise ValueError(f"stream.allowed_lateness_s must not be negative, got {self.allowed_lateness_s}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ValueError(f"stream.duration_s must be positive, got {self.duration_s!r}")


# -- the local source ------------------------------------------------------------------------------------


class _LiveEvents(_TestStream):
    """The DirectRunner's TestStream primitive with a live event generator instead of a fixed script."""

    def __init__(self, tick_s: float, stop: threading.Event, duration_s: float | None) -> None:
        self._tick_s, self._stop, self._duration_s = tick_s, stop, duration_s
        super().__init__([None], coder=beam.coders.FastPrimitivesCoder(), events=[])

    def _add_watermark_advancements(self, output_tags, events) -> Iterator[Any]:
        return itertools.chain(self._set_up(output_tags), self._live(), self._tear_down(output_tags))

    def _live(self) -> Iterator[Any]:
        started = time.time()
        until = started + self._duration_s if self._duration_s else math.inf
        due, last = started, Timestamp(started)
        while not self._stop.is_set() and time.time() < until:
            now = time.time()
            if now >= due:
                last = Timestamp(due)
                yield ElementEvent([beam.window.TimestampedValue(float(last), last)], None)
                yield WatermarkEvent(last, None)
                due = max(due + self._tick_s, now)
            else:
                # The runner has one executor thread: wait a little, then hand it back with a no-op event
                # so that the rest of the pipeline runs while no tick is due.
                self._stop.wait(min(0.1, due - now))
                yield WatermarkEvent(last, None)


class LiveTicks(beam.PTransform):
    """PBegin -> tick times (float seconds), one every `tick_s`, each timestamped with its time; the
    watermark follows the ticks. Ends when `stop` is set or after `duration_s`. Local runner only."""

    def __init__(self, tick_s: float, stop: threading.Event, duration_s: float | None = None) -> None:
        super().__init__()
        self._tick_s, self._stop, self._duration_s = tick_s, stop, duration_s

    def expand(self, begin: beam.pvalue.PBegin) -> beam.PCollection:
        return begin | _LiveEvents(self._tick_s, self._stop, self._duration_s) | _WatermarkController(None)


class ImpulseTicks(beam.PTransform):
    """PBegin -> tick times from Beam's PeriodicImpulse: for Dataflow, Flink and other portable runners."""

    def __init__(self, tick_s: float, duration_s: float | None = None) -> None:
        super().__init__()
        self._tick_s, self._duration_s = tick_s, duration_s

    def expand(self, begin: beam.pvalue.PBegin) -> beam.PCollection:
        from apache_beam.transforms.periodicsequence import PeriodicImpulse
        from apache_beam.utils.timestamp import MAX_TIMESTAMP

        start = time.time()
        stop = start + self._duration_s if self._duration_s else MAX_TIMESTAMP
        return (
            begin
            | "PeriodicImpulse" >> PeriodicImpulse(start, stop, self._tick_s)
            | "TickTime" >> beam.Map(float)
        )


# -- polling ---------------------------------------------------------------------------------------------


def due_feeds(
    feeds: Sequence[FeedSpec],
    states: Mapping[str, FeedState],
    default_interval_s: float,
    now: dt.datetime,
) -> list[tuple[str, FeedSpec, FeedState | None]]:
    """(host, spec, state) of the feeds to fetch at `now`: never polled, or polled (any outcome) at least
    their interval ago and not backing off after failures.

    >>> due_feeds([FeedSpec("https://a.example/rss")], {}, 300, now)
    [('a.example', FeedSpec(url='https://a.example/rss', ...), None)]
    """
    due = []
    for spec in feeds:
        state = states.get(spec.url)
        paced = spec if spec.poll_interval_s else replace(spec, poll_interval_s=default_interval_s)
        if is_due(state, now) and poll_due(paced, state, now):
            due.append((host_key(spec.url), spec, state))
    return due


class _PollLaneFn(FetchLaneFn):
    """(lane, tick) -> every due feed of the lane fetched (as the batch fetcher does: FetchedFeed, FeedState
    on `state`, DeadLetter on `dead_letters`). The lane's FeedStates are Beam state, seeded from
    `initial_states`: validators and backoff carry from poll to poll."""

    STATES = userstate.ReadModifyWriteStateSpec("feed_states", PickleCoder())

    def __init__(
        self,
        settings: FetchSettings,
        feeds_by_lane: Mapping[int, Sequence[FeedSpec]],
        initial_states: Mapping[str, FeedState],
        default_interval_s: float,
    ) -> None:
        super().__init__(settings)
        self._feeds_by_lane = dict(feeds_by_lane)
        self._initial_states = dict(initial_states)
        self._default_interval_s = default_interval_s

    def process(
        self,
        element: tuple[int, float],
        states=beam.DoFn.StateParam(STATES),  # noqa: B008 (Beam declares DoFn parameters as defaults)
    ) -> Iterator[Any]:
        lane, _ = element
        feeds = self._feeds_by_lane.get(lane, ())
        known = states.read()
        if known is None:
            known = {f.url: self._initial_states[f.url] for f in feeds if f.url in self._initial_states}
        due = due_feeds(feeds, known, self._default_interval_s, utcnow())
        if not due:
            return
        for output in super().process((lane, due)):
            if isinstance(output, beam.pvalue.TaggedOutput) and output.tag == STATE:
                known[output.value.feed_url] = output.value
            yield output
        states.write(known)


class PollOutput(NamedTuple):
    main: beam.PCollection  # FetchedFeed, one per fetch attempt
    state: beam.PCollection  # FeedState after each attempt
    dead_letters: beam.PCollection


class PollFeeds(beam.PTransform):
    """PCollection[tick] -> PollOutput: on each tick, every due feed fetched, lane by lane.

    `initial_states` are what `_state/feeds` held at start (validators already dropped by the caller when
    it wants a first full fetch)."""

    def __init__(
        self,
        feeds: Sequence[FeedSpec],
        settings: FetchSettings,
        initial_states: Mapping[str, FeedState],
        default_interval_s: float,
    ) -> None:
        super().__init__()
        self._by_lane: dict[int, list[FeedSpec]] = {}
        for spec in feeds:
            self._by_lane.setdefault(lane_of(host_key(spec.url), settings.lanes), []).append(spec)
        self._settings, self._initial_states = settings, initial_states
        self._default_interval_s = default_interval_s

    def expand(self, ticks: beam.PCollection) -> PollOutput:
        lanes = sorted(self._by_lane)
        poll = _PollLaneFn(self._settings, self._by_lane, self._initial_states, self._default_interval_s)
        results = (
            ticks
            | "EveryLane" >> beam.FlatMap(lambda tick: [(lane, tick) for lane in lanes])
            | "PollLane"
            >> beam.ParDo(poll)
            .with_input_types(tuple[int, float])
            .with_outputs(STATE, DEAD_LETTERS, main="fetched")
        )
        return PollOutput(results.fetched, results[STATE], results[DEAD_LETTERS])


# -- event time ------------------------------------------------------------------------------------------


def window_timestamp(event_time: dt.datetime, tick: float, allowed_lateness_s: float) -> float:
    """The timestamp an article is windowed by: its event time, or, when that is older than the allowed
    lateness at the tick that fetched it, the oldest moment still within it (so Beam never drops it).

    >>> window_timestamp(datetime(2024, 5, 21, 11, 59, tzinfo=UTC), tick=<12:00:00>, allowed_lateness_s=3600)
    <11:59:00>
    """
    return max(event_time.timestamp(), tick - allowed_lateness_s)


def stream_windows(settings: StreamSettings) -> beam.WindowInto:
    """Fixed event-time windows: an on-time pane when the watermark passes the window's end, then one
    late pane per batch of late records, for `allowed_lateness_s`."""
    return beam.WindowInto(
        window.FixedWindows(settings.window_s),
        trigger=trigger.AfterWatermark(late=trigger.AfterCount(1)),
        allowed_lateness=settings.allowed_lateness_s,
        accumulation_mode=trigger.AccumulationMode.DISCARDING,
    )


def at_window_end(record: Any, w=beam.DoFn.WindowParam) -> Iterable[beam.window.TimestampedValue]:
    """Re-timestamp a record produced by a windowed aggregation to its window's end, i.e. into the next
    window, which is still open when the aggregation fires."""
    yield beam.window.TimestampedValue(record, w.end)
