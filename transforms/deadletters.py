"""Dead letters, declared once: the tag, the stage output shape, and the DoFn base that routes failures.

Every stage DoFn derives from StageFn and implements `handle`; an exception on one element becomes a
DeadLetter on the `dead_letters` output (with a counter `<stage>/dead_letters`), never a failed bundle.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from newsbeam.transforms.records import DeadLetter

DEAD_LETTERS = "dead_letters"

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
