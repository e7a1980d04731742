"""Progress while the feeds are fetched: a rich progress bar on a terminal, periodic log lines otherwise.

The stages send progress events as log records (transforms/progress.py); while a run lasts, a handler on
the `newsbeam.progress` logger counts them. That works where the runner executes the stages in this
process (the local FnApiRunner with one worker). Other runners (worker processes, Dask, Dataflow) keep
the records in their workers: `live=False` then shows elapsed time only, and the summary at the end
says what happened.

    with show_progress(total_feeds=120, mode="text", interval=30):
        run_batch(...)
    # stderr, every 30 s while feeds are fetched, then once when all are:
    # 2026-11-29 14:31:02,123 INFO newsbeam.progress: fetched 37/120 feeds, 2,314 entries parsed (30 s)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import IO

from newsbeam.transforms.progress import ENTRIES, FEEDS, PROGRESS_LOGGER

MODES = ("bar", "text", "json", "off")
_LINE_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


class ProgressCounts:
    """Feeds done and entries parsed so far; updated from the pipeline's threads, read by the display."""

    def __init__(self, total_feeds: int) -> None:
        self.total_feeds = total_feeds
        self.feeds = 0
        self.entries = 0
        self.started = time.monotonic()
        self._lock = threading.Lock()

    def add(self, event: str, count: int) -> None:
        with self._lock:
            if event == FEEDS:
                self.feeds += count
            elif event == ENTRIES:
                self.entries += count

    def snapshot(self) -> tuple[int, int, float]:
        with self._lock:
            return self.feeds, self.entries, time.monotonic() - self.started


class _EventHandler(logging.Handler):
    def __init__(self, on_event) -> None:
        super().__init__(logging.DEBUG)
        self._on_event = on_event

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "newsbeam_progress", None)
        if event is not None:
            self._on_event(*event)


def progress_line(feeds: int, total: int, entries: int, elapsed: float) -> str:
    return f"fetched {feeds:,}/{total:,} feeds, {entries:,} entries parsed ({elapsed:.0f} s)"


class LineDisplay:
    """A line every `interval` seconds while feeds are fetched, and one when all are (or at the end).

    A run shorter than the interval prints nothing, so an hourly cron job's mail holds only the summary.
    """

    def __init__(
        self, counts: ProgressCounts, stream: IO[str], interval: float, as_json: bool, live: bool, runner: str
    ) -> None:
        self._counts, self._stream, self._interval = counts, stream, interval
        self._as_json, self._live, self._runner = as_json, live, runner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="newsbeam-progress", daemon=True)
        self._last: tuple[int, int] | None = None

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        feeds, entries, _ = self._counts.snapshot()
        if self._last is not None and self._last != (feeds, entries):  # complete what earlier lines began
            self._write()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            if self._live and self._last is not None and self._last[0] >= self._counts.total_feeds:
                continue  # all fetched and said so: the rest of the run is the summary's
            self._write()

    def _write(self) -> None:
        feeds, entries, elapsed = self._counts.snapshot()
        self._last = (feeds, entries)
        total = self._counts.total_feeds
        if self._as_json:
            fields = {"event": "progress", "feeds_done": feeds, "feeds_total": total, "entries": entries}
            if not self._live:
                fields = {"event": "progress", "feeds_total": total, "reported": False}
            line = json.dumps({**fields, "elapsed_s": round(elapsed, 1)}, sort_keys=True)
        else:
            message = (
                progress_line(feeds, total, entries, elapsed)
                if self._live
                else f"running {total:,} feeds on {self._runner} for {elapsed:.0f} s "
                "(this runner reports progress only at the end)"
            )
            record = logging.LogRecord(PROGRESS_LOGGER, logging.INFO, __file__, 0, message, None, None)
            line = _LINE_FORMAT.format(record)
        self._stream.write(line + "\n")
        self._stream.flush()


class BarDisplay:
    """A rich progress bar on the terminal: feeds done / total, entries so far, elapsed time."""

    def __init__(self, counts: ProgressCounts, stream: IO[str], live: bool, runner: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._counts = counts
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        if live:
            columns += [
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("feeds · {task.fields[entries]} entries"),
            ]
        columns.append(TimeElapsedColumn())
        self._progress = Progress(
            *columns, console=Console(file=stream), refresh_per_second=8, redirect_stdout=False
        )
        description = "fetching" if live else f"running on {runner} (progress is reported at the end)"
        self._task = self._progress.add_task(description, total=counts.total_feeds or None, entries="0")
        self._live = live

    def start(self) -> None:
        self._progress.start()

    def update(self) -> None:
        feeds, entries, _ = self._counts.snapshot()
        done = bool(self._counts.total_feeds) and feeds >= self._counts.total_feeds
        self._progress.update(
            self._task, completed=feeds, entries=f"{entries:,}", description="fetched" if done else "fetching"
        )

    def close(self) -> None:
        if self._live:
            self.update()
        self._progress.stop()


@contextlib.contextmanager
def show_progress(
    total_feeds: int,
    *,
    mode: str,
    stream: IO[str],
    interval: float = 30.0,
    live: bool = True,
    runner: str = "direct",
) -> Iterator[ProgressCounts]:
    """Shows progress while the block runs. `mode`: bar (a terminal), text or json (log lines on a
    stream that is not a terminal), off. `interval` <= 0 turns the log lines off."""
    counts = ProgressCounts(total_feeds)
    if mode == "off" or (mode in ("text", "json") and interval <= 0):
        yield counts
        return
    if mode == "bar":
        display: BarDisplay | LineDisplay = BarDisplay(counts, stream, live, runner)
    else:
        display = LineDisplay(counts, stream, interval, mode == "json", live, runner)

    def on_event(event: str, count: int) -> None:
        counts.add(event, count)
        if isinstance(display, BarDisplay):
            display.update()

    logger = logging.getLogger(PROGRESS_LOGGER)
    handler = _EventHandler(on_event)
    saved = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # one record per feed: counted here, never printed as such
    logger.addHandler(handler)
    display.start()
    try:
        yield counts
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        display.close()


class _WindowHandler(logging.Handler):
    """`stream`: one summary line per committed window pane (JSON with --log-format json)."""

    def __init__(self, out: IO[str], as_json: bool) -> None:
        super().__init__(logging.DEBUG)
        self._out, self._as_json = out, as_json

    def emit(self, record: logging.LogRecord) -> None:
        window = getattr(record, "newsbeam_window", None)
        if window is None:
            return
        if not self._as_json and self._out.isatty():
            from rich.console import Console

            console = Console(file=self._out, highlight=False)
            console.print(window_line(*window).split(": ", 1)[0])
            console.print(window_table(window[2]))
        else:
            print(window_line(*window, as_json=self._as_json), file=self._out, flush=True)


def window_table(rows: dict[str, int]):
    """A terminal's view of one committed window pane (after its `window_line` header): a small rich table."""
    from rich.table import Table

    table = Table()
    table.add_column("written")
    table.add_column("count", justify="right")
    table.add_row("articles", f"{rows.get('articles', 0):,}")
    table.add_row("  near-duplicates linked", f"{rows.get('near_duplicates', 0):,}")
    table.add_row("  new stories", f"{rows.get('stories', 0):,}")
    table.add_row("feed polls", f"{rows.get('feeds', 0):,}")
    table.add_row("dead letters", f"{rows.get('errors', 0):,}")
    return table


def window_line(start: float, end: float, rows: dict[str, int], as_json: bool = False) -> str:
    """One committed window pane: its event-time bounds and what was written (articles, of which
    near-duplicates linked and articles that started a story; feed health rows; dead letters).

    >>> window_line(0.0, 60.0, {"articles": 12, "feeds": 40})[:56]
    'newsbeam stream window 1970-01-01 00:00:00-00:01:00 UTC:'
    """
    articles, polls, errors = rows.get("articles", 0), rows.get("feeds", 0), rows.get("errors", 0)
    linked, stories = rows.get("near_duplicates", 0), rows.get("stories", 0)
    begin, finish = (dt.datetime.fromtimestamp(t, dt.UTC) for t in (start, end))
    if as_json:
        return json.dumps(
            {
                "event": "window",
                "window_start": begin.isoformat(),
                "window_end": finish.isoformat(),
                "articles_written": articles,
                "near_duplicates_linked": linked,
                "new_stories": stories,
                "feed_polls": polls,
                "dead_letters": errors,
            },
            sort_keys=True,
        )
    return (
        f"newsbeam stream window {begin:%Y-%m-%d %H:%M:%S}-{finish:%H:%M:%S} UTC: "
        f"articles {articles} written, {linked} near-duplicates linked, {stories} new stories, "
        f"feed polls {polls}, dead letters {errors}"
    )


@contextlib.contextmanager
def show_windows(out: IO[str], log_format: str, quiet: bool) -> Iterator[None]:
    """While `stream` runs, a summary line on `out` for every window pane it commits (none with --quiet)."""
    if quiet:
        yield
        return
    logger = logging.getLogger(PROGRESS_LOGGER)
    handler = _WindowHandler(out, log_format == "json")
    saved = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
