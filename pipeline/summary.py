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
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.runners.runner import PipelineResult

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
    entries_parsed: int
    articles_written: int
    duplicates_dropped: int
    near_duplicates_linked: int
    stories: int
    dead_letters: dict[str, int] = field(default_factory=dict)
    failed_feeds: tuple[str, ...] = ()
    wall_seconds: float = 0.0

    @property
    def items_per_second(self) -> float:
        return self.entries_parsed / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def line(self) -> str:
        dead = ", ".join(f"{stage} {n}" for stage, n in sorted(self.dead_letters.items())) or "none"
        return (
            f"run {self.run_id}: feeds {self.feeds_fetched} fetched, {self.feeds_not_modified} not modified, "
            f"{self.feeds_failed} failed | entries {self.entries_parsed} parsed | articles "
            f"{self.articles_written} written, {self.duplicates_dropped} duplicates dropped, "
            f"{self.near_duplicates_linked} near-duplicates linked, {self.stories} stories | dead letters: "
            f"{dead} | {self.wall_seconds:.1f} s, {self.items_per_second:.0f} items/s"
        )

    def text(self) -> str:
        lines = ["newsbeam " + self.line()]
        lines += [f"  failed feed: {url}" for url in self.failed_feeds]
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


def _counter(result: PipelineResult | None, namespace: str, name: str) -> int | None:
    if result is None:
        return None
    try:
        counters = result.metrics().query(MetricsFilter().with_namespace(namespace).with_name(name))[
            "counters"
        ]
    except (NotImplementedError, AttributeError, KeyError):
        return None
    return sum(c.committed or 0 for c in counters) if counters else 0


def summarise(report: CommitReport, result: PipelineResult | None, wall: float, feeds: int) -> RunSummary:
    health = _read(report, FEEDS, ["feed_url", "status", "not_modified", "error", "entries"])
    articles = _read(report, ARTICLES, ["story_id", "duplicate_of"])
    errors = _read(report, ERRORS, ["stage"])

    failed: tuple[str, ...] = ()
    fetched = not_modified = entries = 0
    if health is not None:
        has_error = pc.invert(pc.is_null(health["error"])).to_pylist()
        modified = health["not_modified"].to_pylist()
        urls = health["feed_url"].to_pylist()
        failed = tuple(sorted({u for u, bad in zip(urls, has_error, strict=True) if bad}))
        not_modified = sum(1 for m, bad in zip(modified, has_error, strict=True) if m and not bad)
        fetched = len(urls) - len(failed) - not_modified
        entries = int(pc.sum(health["entries"]).as_py() or 0)
    written = articles.num_rows if articles is not None else 0
    dead = dict(Counter(errors["stage"].to_pylist())) if errors is not None else {}
    lost_in_stages = sum(n for stage, n in dead.items() if stage in _ENTRY_STAGES)
    counted = [_counter(result, "dedup", n) for n in ("exact_duplicates", "written_before")]
    duplicates = sum(counted) if None not in counted else max(entries - written - lost_in_stages, 0)
    return RunSummary(
        run_id=report.run_id,
        feeds=feeds,
        feeds_fetched=fetched,
        feeds_not_modified=not_modified,
        feeds_failed=len(failed),
        entries_parsed=entries,
        articles_written=written,
        duplicates_dropped=duplicates,
        near_duplicates_linked=int(pc.sum(pc.invert(pc.is_null(articles["duplicate_of"]))).as_py() or 0)
        if articles is not None
        else 0,
        stories=pc.count_distinct(articles["story_id"]).as_py() if articles is not None else 0,
        dead_letters=dead,
        failed_feeds=failed,
        wall_seconds=wall,
    )
