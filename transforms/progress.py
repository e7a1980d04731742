"""Progress events from inside the stages, as DEBUG records on the `newsbeam.progress` logger.

Metrics are read only when the pipeline has finished; these records let a driver that runs the stages in
its own process (the local FnApiRunner) show progress while the feeds are fetched. Each record carries
`newsbeam_progress = (event, count)`, e.g. ("feeds", 1) when a feed attempt ends and ("entries", 12) when a
feed's entries are parsed. Nothing listens on other runners' workers: the records stay below the
workers' log level and cost one level check each.
"""

from __future__ import annotations

import logging

PROGRESS_LOGGER = "newsbeam.progress"
FEEDS = "feeds"
ENTRIES = "entries"

_log = logging.getLogger(PROGRESS_LOGGER)


def report_window(start: float, end: float, rows: dict[str, int]) -> None:
    """`stream`: a window pane was committed: its bounds (epoch seconds) and the rows written per dataset."""
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("window %s-%s: %s", start, end, rows, extra={"newsbeam_window": (start, end, dict(rows))})


def report(event: str, count: int, what: str) -> None:
    """One progress event: `count` more of `event` (FEEDS, ENTRIES); `what` says which feed, for -v logs."""
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("%s +%d: %s", event, count, what, extra={"newsbeam_progress": (event, count)})
