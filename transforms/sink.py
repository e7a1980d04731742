"""Stage "sink": hive-partitioned Parquet, committed atomically per run.

Workers write complete files into the run's staging area, `OUTPUT/_state/runs/<run_id>/<dataset>/
date=YYYY-MM-DD/part-<run_id>-<shard>.parquet`, which no reader looks at. When the pipeline has
finished, the driver commits: it writes a manifest (`_COMMIT`, atomically) and then renames every staged
file to the same relative path under OUTPUT. A run killed before the manifest leaves only staging, which
the next run deletes; a run killed during the renames is finished by the next run from the manifest.
Each rename is atomic, so `articles/`, `feeds/` and `errors/` only ever hold complete files.

File I/O goes through pyarrow.fs, so OUTPUT may be a local path or a URI pyarrow understands.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics

from newsbeam.transforms.dedup import INDEX_SCHEMA, SKETCH_SCHEMA, SketchEntry
from newsbeam.transforms.records import (
    ARTICLE_SCHEMA,
    DEAD_LETTER_SCHEMA,
    FEED_HEALTH_SCHEMA,
    FEED_STATE_SCHEMA,
    Article,
    FeedState,
    utc_micros,
)

log = logging.getLogger(__name__)

ARTICLES, FEEDS, ERRORS, INDEX, FEED_STATE = "articles", "feeds", "errors", "_state/index", "_state/feeds"
SKETCHES = "_state/sketches"  # near-duplicate signatures and story terms of the articles written
RUNS_DIR = "_state/runs"
COMMIT_MANIFEST = "_COMMIT"


@dataclass(frozen=True, slots=True)
class SinkSettings:
    files_per_partition: int = 1  # files per date partition and run; raise it for very large runs
    row_group_rows: int = 100_000  # rows per Parquet row group: sized for scans, not lookups
    compression: str = "zstd"

    def __post_init__(self) -> None:
        if self.files_per_partition < 1 or self.row_group_rows < 1:
            raise ValueError("files_per_partition and row_group_rows must be at least 1")
        try:
            available = pa.Codec.is_available(self.compression)
        except ValueError:
            available = False
        if not available:
            raise ValueError(f"unknown Parquet compression {self.compression!r} (e.g. zstd, snappy, gzip)")


def open_output(output: str) -> tuple[pafs.FileSystem, str]:
    """The filesystem and base path for OUTPUT: a local path (relative to the working directory) or a URI."""
    if "://" in output:
        return pafs.FileSystem.from_uri(output)
    return pafs.LocalFileSystem(), os.path.abspath(output)


@contextlib.contextmanager
def run_lock(output: str) -> Iterator[None]:
    """One run at a time per OUTPUT (local paths): a second one fails fast instead of racing the commit."""
    if "://" in output:
        yield
        return
    lock_path = os.path.join(os.path.abspath(output), "_state", "lock")
    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(
                f"another newsbeam process is writing to {output} (it holds {lock_path})"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def commit_lock(output: str) -> Iterator[None]:
    """Held only while files are published into OUTPUT (manifest and renames) and while `newsbeam compact`
    swaps a partition: short and blocking, so a stream and a compaction can share an OUTPUT."""
    if "://" in output:
        yield
        return
    path = os.path.join(os.path.abspath(output), "_state/commit.lock")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def staging_dir(base: str, run_id: str) -> str:
    return f"{base}/{RUNS_DIR}/{run_id}"


def partition_date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()


def _shard(key: str, shards: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % shards if shards > 1 else 0


class _WriteFileFn(beam.DoFn):
    """Writes one group of rows as one Parquet file, sorted so that a replay writes the same bytes."""

    def __init__(
        self, output: str, run_id: str, dataset: str, schema: pa.Schema, settings: SinkSettings
    ) -> None:
        self._output, self._run_id, self._dataset = output, run_id, dataset
        self._schema, self._settings = schema, settings
        # articles_rows, ..., state_feeds_rows: feeds/ and _state/feeds counted apart
        self._rows = Metrics.counter("sink", f"{dataset.replace('/', '_').lstrip('_')}_rows")

    def setup(self) -> None:
        self._fs, self._base = open_output(self._output)

    def process(
        self, element: tuple[tuple[str, int], Iterable[tuple[str, dict]]]
    ) -> Iterator[tuple[str, str, int]]:
        (date, shard), keyed_rows = element
        rows = [row for _, row in sorted(keyed_rows, key=lambda pair: pair[0])]
        relative = f"{self._dataset}/date={date}/part-{self._run_id}-{shard:04d}.parquet"
        path = f"{staging_dir(self._base, self._run_id)}/{relative}"
        self._fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        step = self._settings.row_group_rows
        with pq.ParquetWriter(
            path, self._schema, compression=self._settings.compression, filesystem=self._fs
        ) as w:
            for start in range(0, len(rows), step):
                w.write_table(pa.Table.from_pylist(rows[start : start + step], schema=self._schema))
        self._rows.inc(len(rows))
        yield self._dataset, relative, len(rows)


def _microsecond_columns(schema: pa.Schema) -> tuple[str, ...]:
    return tuple(f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "us")


class _WritePartitioned(beam.PTransform):
    """Records -> staged Parquet files, one per (date partition, shard); yields (dataset, path, rows)."""

    def __init__(
        self,
        dataset: str,
        schema: pa.Schema,
        output: str,
        run_id: str,
        settings: SinkSettings,
        date_of: Callable[[Any], dt.datetime],
        id_of: Callable[[Any], str],
    ) -> None:
        super().__init__()
        self._dataset, self._schema, self._output, self._run_id = dataset, schema, output, run_id
        self._settings, self._date_of, self._id_of = settings, date_of, id_of

    def keyed_row_fn(self) -> Callable[[Any], tuple[tuple[str, int], tuple[str, dict]]]:
        """record -> ((date partition, shard), (record id, row)), datetimes as integer microseconds: what
        crosses the writer's GroupByFile."""
        shards, date_of, id_of = self._settings.files_per_partition, self._date_of, self._id_of
        stamps = _microsecond_columns(self._schema)

        def to_keyed_row(record: Any) -> tuple[tuple[str, int], tuple[str, dict]]:
            record_id = id_of(record)
            row = record.to_row()
            for name in stamps:
                if name in row:
                    row[name] = utc_micros(row[name])
            return (partition_date(date_of(record)), _shard(record_id, shards)), (record_id, row)

        return to_keyed_row

    def expand(self, records: beam.PCollection) -> beam.PCollection:
        return (
            records
            | "ToRow" >> beam.Map(self.keyed_row_fn())
            | "GroupByFile" >> beam.GroupByKey()
            | "WriteFile"
            >> beam.ParDo(
                _WriteFileFn(self._output, self._run_id, self._dataset, self._schema, self._settings)
            )
        )


class WriteArticles(_WritePartitioned):
    """Article -> articles/date=<UTC date of published_at, else fetched_at>/part-*.parquet"""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(
            ARTICLES,
            ARTICLE_SCHEMA,
            output,
            run_id,
            settings,
            Article.event_time.fget,
            lambda a: a.article_id,
        )


class WriteDeadLetters(_WritePartitioned):
    """DeadLetter -> errors/date=<UTC date of failure>/part-*.parquet"""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(
            ERRORS,
            DEAD_LETTER_SCHEMA,
            output,
            run_id,
            settings,
            lambda d: d.failed_at,
            lambda d: f"{d.stage}\x1f{d.feed_url}\x1f{d.item}\x1f{d.message}",
        )


class WriteFeedHealth(_WritePartitioned):
    """FeedHealth -> feeds/date=<UTC date of the fetch>/part-*.parquet"""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(
            FEEDS, FEED_HEALTH_SCHEMA, output, run_id, settings, lambda h: h.fetched_at, lambda h: h.feed_url
        )


class WriteIndex(_WritePartitioned):
    """IndexEntry -> _state/index/date=<run date>/part-*.parquet: the keys dedup remembers."""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(INDEX, INDEX_SCHEMA, output, run_id, settings, lambda e: e.seen_at, lambda e: e.key)


class WriteSketches(_WritePartitioned):
    """SketchEntry -> _state/sketches/date=<run date>/part-*.parquet: what near-duplicate detection and
    story clustering of later runs need of the articles written."""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(
            SKETCHES, SKETCH_SCHEMA, output, run_id, settings, lambda e: e.seen_at, lambda e: e.article_id
        )


class WriteFeedState(_WritePartitioned):
    """FeedState -> _state/feeds/date=<last update>/part-*.parquet: validators and failures per feed."""

    def __init__(self, output: str, run_id: str, settings: SinkSettings) -> None:
        super().__init__(
            FEED_STATE,
            FEED_STATE_SCHEMA,
            output,
            run_id,
            settings,
            lambda s: s.updated_at,
            lambda s: s.feed_url,
        )


def _parquet_files(fs: pafs.FileSystem, root: str) -> list[pafs.FileInfo]:
    if fs.get_file_info(root).type != pafs.FileType.Directory:
        return []
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True))
    return sorted(
        (i for i in infos if i.type == pafs.FileType.File and i.path.endswith(".parquet")),
        key=lambda i: i.path,
    )


def read_feed_states(output: str) -> dict[str, FeedState]:
    """The latest state of every feed the fetcher has seen (empty on a first run)."""
    fs, base = open_output(output)
    files = [i.path for i in _parquet_files(fs, f"{base}/{FEED_STATE}")]
    if not files:
        return {}
    rows = (
        pq.ParquetDataset(files, filesystem=fs, schema=FEED_STATE_SCHEMA, partitioning=None)
        .read()
        .to_pylist()
    )
    latest: dict[str, FeedState] = {}
    for row in sorted(rows, key=lambda r: r["updated_at"]):
        latest[row["feed_url"]] = FeedState(**row)
    return latest


def compact_feed_states(output: str, run_id: str) -> None:
    """Keep one file with the latest row per feed. Safe after a crash at any point: readers take the
    latest row per feed, so a duplicate row left by an interrupted compaction changes nothing."""
    fs, base = open_output(output)
    old = [i.path for i in _parquet_files(fs, f"{base}/{FEED_STATE}")]
    if len(old) <= 1:
        return
    states = sorted(read_feed_states(output).values(), key=lambda s: s.feed_url)
    target = (
        f"{base}/{FEED_STATE}/date={partition_date(dt.datetime.now(dt.UTC))}/part-{run_id}-compact.parquet"
    )
    fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
    table = pa.Table.from_pylist([s.to_row() for s in states], schema=FEED_STATE_SCHEMA)
    pq.write_table(table, target + ".tmp", filesystem=fs, compression="zstd")
    fs.move(target + ".tmp", target)
    for path in old:
        if path != target:
            fs.delete_file(path)


def expire_index(output: str, since: dt.date) -> int:
    """Delete look-back partitions (keys and sketches) older than `since`; returns how many files went."""
    fs, base = open_output(output)
    expired = [
        i.path
        for dataset in (INDEX, SKETCHES)
        for i in _parquet_files(fs, f"{base}/{dataset}")
        if _partition_of(i.path) < since.isoformat()
    ]
    for path in expired:
        fs.delete_file(path)
    return len(expired)


def _partition_of(path: str) -> str:
    partition = path.rsplit("/", 2)[-2]
    return partition[5:] if partition.startswith("date=") else ""


def index_files(output: str, since: dt.date, dataset: str = INDEX) -> list[str]:
    """Paths of the look-back partitions of `dataset` (INDEX or SKETCHES) dated `since` or later (older
    ones have expired)."""
    fs, base = open_output(output)
    return [
        i.path for i in _parquet_files(fs, f"{base}/{dataset}") if _partition_of(i.path) >= since.isoformat()
    ]


def read_index(paths: list[str]) -> Iterator[tuple[str, tuple[str, dt.datetime]]]:
    """(key, (article_id, seen_at)) for every row of the given index files."""
    fs = pafs.LocalFileSystem() if paths and "://" not in paths[0] else None
    for path in paths:
        table = pq.read_table(path, filesystem=fs, schema=INDEX_SCHEMA)
        for key, article_id, seen_at in zip(
            *(table.column(c).to_pylist() for c in INDEX_SCHEMA.names), strict=True
        ):
            yield key, (article_id, seen_at)


class _ReadStateFiles(beam.PTransform):
    """PBegin -> what `read` yields from each of `paths`: one read per file, on workers."""

    def __init__(self, paths: list[str], read: Callable[[list[str]], Iterator]) -> None:
        super().__init__()
        self._paths, self._read = paths, read

    def expand(self, begin: beam.pvalue.PBegin) -> beam.PCollection:
        return (
            begin
            | "Files" >> beam.Create(self._paths)
            | "ReadFile" >> beam.FlatMap(lambda path, read: read([path]), self._read)
        )


class ReadIndex(_ReadStateFiles):
    """PBegin -> (key, (article_id, seen_at)) from the given index files."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(paths, read_index)


def read_sketch_table(paths: list[str]) -> pa.Table:
    """The rows of the given sketch files as one table (SKETCH_SCHEMA)."""
    fs = pafs.LocalFileSystem() if paths and "://" not in paths[0] else None
    tables = [pq.read_table(path, filesystem=fs, schema=SKETCH_SCHEMA) for path in paths]
    return pa.concat_tables(tables) if tables else SKETCH_SCHEMA.empty_table()


def read_sketches(paths: list[str]) -> Iterator[SketchEntry]:
    """Every SketchEntry of the given sketch files."""
    for path in paths:
        for row in read_sketch_table([path]).to_pylist():
            yield SketchEntry.from_row(row)


class ReadSketches(_ReadStateFiles):
    """PBegin -> SketchEntry of the articles earlier runs wrote, from the given files."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__(paths, read_sketches)


@dataclass(frozen=True, slots=True)
class CommitReport:
    run_id: str
    base: str  # OUTPUT as a filesystem path
    paths: tuple[str, ...]  # committed files, relative to `base`
    rows: dict[str, int]  # dataset -> rows committed

    def files_of(self, dataset: str) -> list[str]:
        return [f"{self.base}/{p}" for p in self.paths if p.startswith(f"{dataset}/date=")]


def _staged_files(fs: pafs.FileSystem, staging: str) -> list[str]:
    return [i.path[len(staging) + 1 :] for i in _parquet_files(fs, staging)]


def _finish(fs: pafs.FileSystem, base: str, staging: str, relatives: list[str]) -> None:
    for relative in relatives:
        source, target = f"{staging}/{relative}", f"{base}/{relative}"
        if fs.get_file_info(source).type == pafs.FileType.File:  # already moved by an interrupted commit
            fs.create_dir(target.rsplit("/", 1)[0], recursive=True)
            fs.move(source, target)
    fs.delete_dir(staging)


def commit_run(output: str, run_id: str) -> CommitReport:
    """Publish everything the run staged: manifest first, then one atomic rename per file."""
    fs, base = open_output(output)
    staging = staging_dir(base, run_id)
    relatives = _staged_files(fs, staging)
    rows: dict[str, int] = {}
    for relative in relatives:
        dataset = relative.split("/date=", 1)[0]
        rows[dataset] = (
            rows.get(dataset, 0) + pq.read_metadata(f"{staging}/{relative}", filesystem=fs).num_rows
        )
    if relatives:
        manifest = f"{staging}/{COMMIT_MANIFEST}"
        with fs.open_output_stream(manifest + ".tmp") as out:
            out.write(json.dumps(relatives).encode("utf-8"))
        fs.move(manifest + ".tmp", manifest)
        _finish(fs, base, staging, relatives)
    else:
        with contextlib.suppress(FileNotFoundError):
            fs.delete_dir(staging)
    return CommitReport(run_id, base, tuple(relatives), rows)


def discard_run(output: str, run_id: str) -> None:
    """Forget a run that failed: its staged files are never published."""
    fs, base = open_output(output)
    with contextlib.suppress(FileNotFoundError):
        fs.delete_dir(staging_dir(base, run_id))


def recover(output: str) -> list[str]:
    """Finish or discard what interrupted runs left in staging. Returns one line per run handled."""
    fs, base = open_output(output)
    runs = f"{base}/{RUNS_DIR}"
    if fs.get_file_info(runs).type != pafs.FileType.Directory:
        return []
    done = []
    for info in fs.get_file_info(pafs.FileSelector(runs)):
        if info.type != pafs.FileType.Directory:
            continue
        manifest = f"{info.path}/{COMMIT_MANIFEST}"
        if fs.get_file_info(manifest).type == pafs.FileType.File:
            with fs.open_input_stream(manifest) as stream:
                _finish(fs, base, info.path, json.loads(stream.read()))
            done.append(f"finished the commit of interrupted run {info.base_name}")
        else:
            fs.delete_dir(info.path)
            done.append(f"discarded the staged files of interrupted run {info.base_name}")
    return done
