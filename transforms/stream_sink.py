"""Stage "sink", streaming: one atomic commit per window pane, and the short commit lock that lets
`newsbeam compact` work beside a running stream.

Every record the stream writes (articles, feed health, dead letters, index and sketch rows, feed states) is
keyed to one GroupByKey per window (FixedWindows of `window_s`, see transforms/stream.py `stream_windows`).
Each pane that fires (on time, or late) is one commit, exactly like a batch run's: files are written into
`_state/runs/<commit>/`, then the manifest, then one rename per file into `articles/`, `feeds/`, ... The
commit id is `w<window start>-<digest of the pane's record ids>`, so file names are deterministic per
(window, pane content, dataset, partition, shard): a pane replayed after a failure overwrites its own files
instead of adding copies, and a pane with other records never collides with one already committed.

Locks: `_state/lock` (sink.run_lock) is held by one writer process (a `run` or a `stream`) for its
lifetime. `_state/commit.lock` is taken only around publishing (the manifest and renames), by runs,
streams and `compact`, so compaction can swap a partition directory while the stream keeps running.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics

from newsbeam.transforms import progress
from newsbeam.transforms.dedup import INDEX_SCHEMA, SKETCH_SCHEMA
from newsbeam.transforms.records import (
    ARTICLE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    FEED_HEALTH_SCHEMA,
    FEED_STATE_SCHEMA,
)
from newsbeam.transforms.sink import (
    ARTICLES,
    ERRORS,
    FEED_STATE,
    FEEDS,
    INDEX,
    SKETCHES,
    SinkSettings,
    _shard,
    commit_lock,
    commit_run,
    open_output,
    partition_date,
    staging_dir,
)
from newsbeam.transforms.stream import StreamSettings, stream_windows

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Dataset:
    """How one kind of record is written: where, with which schema, partitioned and identified how."""

    path: str
    schema: pa.Schema
    date_of: Callable[[Any], dt.datetime]
    id_of: Callable[[Any], str]


DATASETS: dict[str, Dataset] = {
    ARTICLES: Dataset(ARTICLES, ARTICLE_SCHEMA, lambda a: a.event_time, lambda a: a.article_id),
    FEEDS: Dataset(
        FEEDS, FEED_HEALTH_SCHEMA, lambda h: h.fetched_at, lambda h: f"{h.feed_url}\x1f{h.fetched_at}"
    ),
    ERRORS: Dataset(
        ERRORS,
        DEAD_LETTER_SCHEMA,
        lambda d: d.failed_at,
        lambda d: f"{d.stage}\x1f{d.feed_url}\x1f{d.item}\x1f{d.message}\x1f{d.failed_at}",
    ),
    INDEX: Dataset(INDEX, INDEX_SCHEMA, lambda e: e.seen_at, lambda e: f"{e.key}\x1f{e.seen_at}"),
    FEED_STATE: Dataset(
        FEED_STATE, FEED_STATE_SCHEMA, lambda s: s.updated_at, lambda s: f"{s.feed_url}\x1f{s.updated_at}"
    ),
    SKETCHES: Dataset(SKETCHES, SKETCH_SCHEMA, lambda e: e.seen_at, lambda e: e.article_id),
}


def pane_commit_id(window_start: float, record_ids: list[str]) -> str:
    """`w<UTC window start>-<12 hex digits of the sorted record ids>`: the same pane, the same id."""
    start = dt.datetime.fromtimestamp(window_start, dt.UTC)
    digest = hashlib.blake2b("\n".join(sorted(record_ids)).encode("utf-8"), digest_size=6).hexdigest()
    return f"w{start:%Y%m%dT%H%M%S}-{digest}"


def write_rows(path: str, rows: list[dict], schema: pa.Schema, settings: SinkSettings, fs) -> None:
    fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
    step = settings.row_group_rows
    with pq.ParquetWriter(path, schema, compression=settings.compression, filesystem=fs) as writer:
        for start in range(0, len(rows), step):
            writer.write_table(pa.Table.from_pylist(rows[start : start + step], schema=schema))


class _CommitPaneFn(beam.DoFn):
    """(0, [[(dataset, record), ...], ...]) for one window pane -> its files staged, then committed
    atomically. Yields (commit id, {dataset: rows})."""

    def __init__(self, output: str, settings: SinkSettings) -> None:
        self._output, self._settings = output, settings
        self._commits = Metrics.counter("sink", "commits")
        self._rows = {name: Metrics.counter("sink", f"{name.rsplit('/', 1)[-1]}_rows") for name in DATASETS}

    def setup(self) -> None:
        self._fs, self._base = open_output(self._output)

    def process(
        self,
        element: tuple[int, Iterable[list[tuple[str, Any]]]],
        w=beam.DoFn.WindowParam,
    ) -> Iterator[tuple[str, dict[str, int]]]:
        _, units = element
        files: dict[tuple[str, str, int], list[tuple[str, dict]]] = {}
        ids = []
        linked = stories = 0
        for name, record in itertools.chain.from_iterable(units):
            if name == ARTICLES:  # the window's summary: near-duplicates linked, stories started
                linked += record.duplicate_of is not None
                stories += record.story_id == record.article_id
            dataset = DATASETS[name]
            record_id = dataset.id_of(record)
            ids.append(f"{name}\x1f{record_id}")
            shard = _shard(record_id, self._settings.files_per_partition)
            key = (name, partition_date(dataset.date_of(record)), shard)
            files.setdefault(key, []).append((record_id, record.to_row()))
        if not files:
            return
        commit_id = pane_commit_id(float(w.start), ids)
        staging = staging_dir(self._base, commit_id)
        rows: dict[str, int] = {}
        for (name, date, shard), keyed in sorted(files.items()):
            ordered = [row for _, row in sorted(keyed, key=lambda pair: pair[0])]
            relative = f"{DATASETS[name].path}/date={date}/part-{commit_id}-{shard:04d}.parquet"
            write_rows(f"{staging}/{relative}", ordered, DATASETS[name].schema, self._settings, self._fs)
            rows[name] = rows.get(name, 0) + len(ordered)
        with commit_lock(self._output):
            commit_run(self._output, commit_id)
        self._commits.inc()
        for name, count in rows.items():
            self._rows[name].inc(count)
        log.info("committed %s: %s", commit_id, ", ".join(f"{n} {c}" for n, c in sorted(rows.items())))
        progress.report_window(
            float(w.start), float(w.end), {**rows, "near_duplicates": linked, "stories": stories}
        )
        yield commit_id, rows


def _unit(name: str, record: Any) -> list[tuple[str, Any]]:
    """The records that must land in the same commit: a record that knows them (`records()`, e.g. a
    KeptArticle and its index rows) names them; any other is written alone under `name`."""
    together = getattr(record, "records", None)
    return together() if callable(together) else [(name, record)]


class WriteWindows(beam.PTransform):
    """{dataset name: PCollection of its records} -> one atomic commit per window pane (see the module
    docstring); returns (commit id, {dataset: rows}) per commit. Records with a `records()` method are
    units written together (see `_unit`)."""

    def __init__(self, output: str, settings: SinkSettings, stream: StreamSettings) -> None:
        super().__init__()
        self._output, self._settings, self._stream = output, settings, stream

    def expand(self, records: dict[str, beam.PCollection]) -> beam.PCollection:
        tagged = [
            pcoll | f"Tag_{name.replace('/', '_')}" >> beam.Map(lambda r, n=name: (0, _unit(n, r)))
            for name, pcoll in sorted(records.items())
        ]
        return (
            tagged
            | "AllRecords" >> beam.Flatten()
            | "EventTimeWindows" >> stream_windows(self._stream)
            | "GroupByPane" >> beam.GroupByKey()
            | "CommitPane" >> beam.ParDo(_CommitPaneFn(self._output, self._settings))
        )
