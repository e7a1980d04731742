"""Dead letters, declared once: the tag, the stage output shape, the DoFn base that routes failures, and
how a DoFn with several outputs is applied.

Every stage DoFn derives from StageFn and implements `handle`; an exception on one element becomes a
DeadLetter on the `dead_letters` output (with a counter `<stage>/dead_letters`), never a failed bundle.

A DoFn with several outputs is applied with `ParDoWithOutputs`, never `ParDo.with_outputs`: Beam 2.77's
Dask runner hands every consumer of a multi-output ParDo all of its outputs mixed together. Here the DoFn
runs in a single-output ParDo that emits (tag, value) pairs, and one single-output step per tag selects
its values: plain ParDos, which every runner runs (the extra steps fuse with the DoFn's on the others).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsbeam.transforms.records import DeadLetter

DEAD_LETTERS = "dead_letters"
MAIN = "main"

log = logging.getLogger(__name__)


class StageOutput(NamedTuple):
    """What a stage composite returns: its records and its dead letters."""

    main: beam.PCollection
    dead_letters: beam.PCollection


class StageFn(beam.DoFn):
    """A DoFn whose failures are dead letters. Subclasses set `stage` and implement `handle`.

    Outputs are collected before they are emitted, so an element that fails half-way emits nothing but
    its dead letter.
    """

    stage = "unknown"

    def __init__(self) -> None:
        super().__init__()
        self._dead = Metrics.counter(self.stage, "dead_letters")

    def handle(self, element: Any) -> Iterable[Any]:
        raise NotImplementedError

    def describe(self, element: Any) -> tuple[str | None, str | None]:
        """(feed_url, item) identifying an element in a dead letter."""
        return None, None

    def process(self, element: Any) -> Iterable[Any]:
        try:
            outputs = list(self.handle(element))
        except Exception as exc:  # one bad element must not fail the bundle
            feed_url, item = self.describe(element)
            log.debug("%s failed on %s: %s", self.stage, item or feed_url, exc)
            self._dead.inc()
            yield beam.pvalue.TaggedOutput(
                DEAD_LETTERS,
                DeadLetter.from_exception(self.stage, exc, feed_url=feed_url, item=item, raw=element),
            )
            return
        yield from outputs


class _TagOutputsFn(beam.DoFn):
    """Runs `inner` and emits each of its outputs as (tag, value); untagged outputs get `main`'s tag."""

    def __init__(self, inner: beam.DoFn, main: str) -> None:
        super().__init__()
        self._inner = inner
        self._main = main

    def setup(self) -> None:
        self._inner.setup()

    def start_bundle(self) -> None:
        self._inner.start_bundle()

    def process(self, element: Any) -> Iterable[tuple[str, Any]]:
        for output in self._inner.process(element) or ():
            if isinstance(output, beam.pvalue.TaggedOutput):
                yield output.tag, output.value
            else:
                yield self._main, output

    def finish_bundle(self) -> None:
        # What a DoFn emits here is lost on the Dask runner (see module docstring): not allowed.
        if self._inner.finish_bundle() is not None:
            raise ValueError(
                f"{type(self._inner).__name__}.finish_bundle emits: not supported by ParDoWithOutputs"
            )

    def teardown(self) -> None:
        self._inner.teardown()


class _SelectFn(beam.DoFn):
    """The values of one tag. A DoFn holding its tag, not FlatMap(fn, tag): Beam calls a process() with no
    extra arguments through its lean invoker, and one with them through the per-window one, which costs
    several microseconds more per element, on every element of every stage."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self._tag = tag

    def process(self, pair: tuple[str, Any]) -> Iterable[Any]:
        if pair[0] == self._tag:
            yield pair[1]


class ParDoWithOutputs(beam.PTransform):
    """`beam.ParDo(fn).with_outputs(*tags, main=main)` made of single-output steps (see the module
    docstring). Returns {tag: PCollection} with `main` among the keys. `fn` is a DoFn whose `process`
    takes only the element and yields values or `TaggedOutput`s."""

    def __init__(self, fn: beam.DoFn, *tags: str, main: str = MAIN, label: str | None = None) -> None:
        super().__init__(label)
        self._fn = fn
        self._tags = (main, *tags)
        self._main = main

    def expand(self, pcoll: beam.PCollection) -> dict[str, beam.PCollection]:
        tagged = pcoll | "Run" >> beam.ParDo(_TagOutputsFn(self._fn, self._main))
        return {tag: tagged | f"Select {tag}" >> beam.ParDo(_SelectFn(tag)) for tag in self._tags}
