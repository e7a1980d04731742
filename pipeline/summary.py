"""The run summary: what a person running newsbeam hourly wants to read at the end of a run.

Counts come from the files the run committed (they hold the truth on every runner) and, for what no file
holds (duplicates dropped), from Beam's metrics when the runner reports them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field

import pyarrow.compute as pc
import pyarrow.parquet as pq
from apache_beam.runners.runner import PipelineResult

from newsbeam.pipeline.metrics import read_counters
from newsbeam.transforms.sink import ARTICLES, ERRORS, FEEDS, CommitReport, open_output

# Dead letters of these stages are entries that never became articles; fetch / parse ones are feeds.
_ENTRY_STAGES = ("clean", "enrich", "dedup")


@dataclass(frozen=True)
class RunSummary:
    run_id: str
    feeds: int
    feeds_fetched: int
    feeds_not_modified: int
    feeds_failed: int
    feeds_backing_off: int
    entries_parsed: int
    articles_written: int
    duplicates_dropped: int
    near_duplicates_linked: int
    stories: int
    dead_letters: dict[str, int] = field(default_factory=dict)
    # which identity matched the copies dropped (url / guid / text), and near-duplicates dropped
    # (dedup.drop_near_duplicates); from Beam's metrics, empty when the runner reports none
    duplicates_by_reason: dict[str, int] = field(default_factory=dict)
    failed_feeds: tuple[str, ...] = ()  # fetched and failed this run
    backing_off: tuple[str, ...] = ()  # not fetched: failing, waiting for their next try
    moved: dict[str, str] = field(default_factory=dict)  # feed URL -> where a permanent redirect points
    problems: dict[str, str] = field(default_factory=dict)  # feed URL -> why it failed or waits
    wall_seconds: float = 0.0
    metrics: dict[str, int] = field(default_factory=dict)  # Beam counters, "stage/name" (pipeline/metrics.py)
    feeds_not_due: int = 0  # not fetched: their own poll_interval_s has not passed since the last good poll

    @property
    def items_per_second(self) -> float:
        return self.entries_parsed / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def line(self) -> str:
        dead = ", ".join(f"{stage} {n}" for stage, n in sorted(self.dead_letters.items())) or "none"
        feeds = (
            f"feeds {self.feeds_fetched} fetched, {self.feeds_not_modified} not modified, "
            f"{self.feeds_failed} failed, {self.feeds_backing_off} backing off"
            + (f", {self.feeds_not_due} not due" if self.feeds_not_due else "")
        )
        articles = (
            f"articles {self.articles_written} written, {self.duplicates_dropped} duplicates dropped, "
            f"{self.near_duplicates_linked} near-duplicates linked, {self.stories} stories"
        )
        speed = f"{self.wall_seconds:.1f} s, {self.items_per_second:.0f} items/s"
        return (
            f"run {self.run_id}: {feeds} | entries {self.entries_parsed} parsed | {articles} "
            f"| dead letters: {dead} | {speed}"
        )

    def text(self) -> str:
        lines = ["newsbeam " + self.line()]
        lines += [f"  failed feed: {url}: {self.problems.get(url, '')}" for url in self.failed_feeds]
        lines += [f"  backing off: {url}: {self.problems.get(url, '')}" for url in self.backing_off]
        lines += [
            f"  moved permanently: {url} -> {target} (update the feed list)"
            for url, target in self.moved.items()
        ]
        return "\n".join(lines)

    def json(self) -> str:
        data = asdict(self)
        data["items_per_second"] = round(self.items_per_second, 1)
        data["failed_feeds"] = list(self.failed_feeds)
        return json.dumps(data, sort_keys=True)


def _read(report: CommitReport, dataset: str, columns: list[str]):
    files = report.files_of(dataset)
    if not files:
        return None
    fs, _ = open_output(report.base)
    return pq.ParquetDataset(files, filesystem=fs, partitioning=None).read(columns=columns)


def _counter(metrics: dict[str, int], name: str) -> int | None:
    """A counter of `read_counters`' dict; None when the runner reported no metrics at all."""
    return metrics.get(name, 0) if metrics else None


_HEALTH_COLUMNS = (
    "feed_url",
    "not_modified",
    "error",
    "error_class",
    "skipped",
    "permanent_redirect",
    "consecutive_failures",
    "next_poll_at",
    "entries",
    "not_due",
)


def _problem(row: dict) -> str:
    streak = row["consecutive_failures"]
    retry = (
        f"; {streak} failures in a row, next try after {row['next_poll_at']:%Y-%m-%d %H:%M} UTC"
        if (streak and row["next_poll_at"])
        else ""
    )
    return f"{row['error']}{retry}"


def summarise(report: CommitReport, result: PipelineResult | None, wall: float, feeds: int) -> RunSummary:
    health = _read(report, FEEDS, list(_HEALTH_COLUMNS))
    articles = _read(report, ARTICLES, ["story_id", "duplicate_of"])
    errors = _read(report, ERRORS, ["stage"])

    rows = health.to_pylist() if health is not None else []
    failed = sorted(r["feed_url"] for r in rows if r["error_class"] and not r["skipped"])
    backing_off = sorted(r["feed_url"] for r in rows if r["skipped"])
    not_modified = sum(1 for r in rows if r["not_modified"])
    not_due = sum(1 for r in rows if r["not_due"])
    fetched = len(rows) - len(failed) - len(backing_off) - not_modified - not_due
    entries = sum(r["entries"] for r in rows)
    problems = {r["feed_url"]: _problem(r) for r in rows if r["error"]}
    moved = {r["feed_url"]: r["permanent_redirect"] for r in rows if r["permanent_redirect"]}
    written = articles.num_rows if articles is not None else 0
    dead = dict(Counter(errors["stage"].to_pylist())) if errors is not None else {}
    lost_in_stages = sum(n for stage, n in dead.items() if stage in _ENTRY_STAGES)
    metrics = read_counters(result)
    counted = [
        _counter(metrics, f"dedup/{n}")
        for n in ("exact_duplicates", "written_before", "near_duplicates_dropped")
    ]
    duplicates = sum(counted) if None not in counted else max(entries - written - lost_in_stages, 0)
    reasons = {
        reason: _counter(metrics, f"dedup/{name}")
        for reason, name in (
            ("exact-url", "dropped_url"),
            ("guid", "dropped_guid"),
            ("text", "dropped_text"),
            ("near-text", "near_duplicates_dropped"),
        )
    }
    return RunSummary(
        run_id=report.run_id,
        feeds=feeds,
        feeds_fetched=fetched,
        feeds_not_modified=not_modified,
        feeds_failed=len(failed),
        feeds_backing_off=len(backing_off),
        entries_parsed=entries,
        articles_written=written,
        duplicates_dropped=duplicates,
        near_duplicates_linked=int(pc.sum(pc.invert(pc.is_null(articles["duplicate_of"]))).as_py() or 0)
        if articles is not None
        else 0,
        stories=pc.count_distinct(articles["story_id"]).as_py() if articles is not None else 0,
        dead_letters=dead,
        duplicates_by_reason={reason: n for reason, n in reasons.items() if n},
        failed_feeds=tuple(failed),
        backing_off=tuple(backing_off),
        moved=moved,
        problems=problems,
        wall_seconds=wall,
        metrics=metrics,
        feeds_not_due=not_due,
    )
