"""`newsbeam compact`: merge the small files of each partition into one, atomically, beside a running stream.

A stream commits a few files per window, so a day's partition collects hundreds of small files. For each
partition of `articles/`, `feeds/`, `errors/`, `_state/index/` and `_state/sketches/` that holds more than one
file:

1. read its files and write them as one file, sorted by record id, into a new directory under
   `_state/compact/<token>/date=.../` (no reader looks there);
2. take the commit lock (`_state/commit.lock`: stream and run commits wait meanwhile), check that none
   of the files read has gone, hard-link into the new directory any file committed since step 1, and
   swap the new directory with the partition in one `renameat2(RENAME_EXCHANGE)`;
3. release the lock and delete the old directory, which now sits in `_state/compact/`.

The guarantee: a reader listing the partition sees either all the small files or the merged file (plus
files committed since), never both and never neither. A query that listed the partition before the swap
and opens its files after it fails with a missing file and must be re-run; it never counts a row twice.
A crash at any point leaves `articles/` consistent: whatever is left in `_state/compact/` is deleted by the
next compaction. Without RENAME_EXCHANGE (not Linux, or a filesystem without it) the merged file is
renamed in and the inputs deleted right after, under the commit lock: a reader may then briefly see both.
Local OUTPUT directories only. `_state/feeds` is compacted too (the latest state per feed).
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import pyarrow as pa
import pyarrow.parquet as pq

from newsbeam.transforms.sink import (
    ARTICLES,
    ERRORS,
    FEEDS,
    INDEX,
    SKETCHES,
    SinkSettings,
    commit_lock,
    compact_feed_states,
)
from newsbeam.transforms.stream_sink import DATASETS

log = logging.getLogger(__name__)

COMPACT_DIR = "_state/compact"
COMPACT_LOCK = "_state/compact.lock"
PARTITION = re.compile(r"^date=\d{4}-\d{2}-\d{2}$")
_SORT_KEYS = {
    ARTICLES: [("article_id", "ascending")],
    FEEDS: [("fetched_at", "ascending"), ("feed_url", "ascending")],
    ERRORS: [("failed_at", "ascending"), ("stage", "ascending")],
    INDEX: [("key", "ascending"), ("seen_at", "ascending")],
    SKETCHES: [("article_id", "ascending")],
}
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class CompactSummary:
    partitions_merged: int
    files_before: int
    files_after: int

    def text(self) -> str:
        return (
            f"newsbeam compact: {self.partitions_merged} partitions merged, "
            f"{self.files_before} files -> {self.files_after}"
        )

    def json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _exchange(a: str, b: str) -> bool:
    """Swap two directories atomically; False when the platform or filesystem cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, a.encode(), _AT_FDCWD, b.encode(), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), b)


@contextlib.contextmanager
def _compact_lock(base: str) -> Iterator[None]:
    path = os.path.join(base, COMPACT_LOCK)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RuntimeError(f"another newsbeam compact is running on {base}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _parquet_files(directory: str) -> list[str]:
    return sorted(name for name in os.listdir(directory) if name.endswith(".parquet"))


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """A table of an older (additive) schema version as the current schema: missing columns are null."""
    columns = [
        table.column(f.name) if f.name in table.column_names else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema.remove_metadata()).cast(schema)


def merge_partition(
    output: str, dataset: str, partition: str, settings: SinkSettings
) -> tuple[int, int] | None:
    """Merge `OUTPUT/<dataset>/<partition>` into one file (see the module docstring). Returns (files
    before, files after), or None when there was nothing to merge or the partition changed under it."""
    base = os.path.abspath(output)
    target = os.path.join(base, dataset, partition)
    inputs = _parquet_files(target)
    if len(inputs) < 2:
        return None
    schema = DATASETS[dataset].schema
    table = pa.concat_tables([_conform(pq.read_table(os.path.join(target, f)), schema) for f in inputs])
    table = table.sort_by(_SORT_KEYS[dataset])
    digest = hashlib.blake2b("\n".join(inputs).encode("utf-8"), digest_size=6).hexdigest()
    work = os.path.join(base, COMPACT_DIR, f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}")
    fresh = os.path.join(work, partition)
    os.makedirs(fresh)
    merged = f"part-compact-{digest}.parquet"
    pq.write_table(
        table,
        os.path.join(fresh, merged),
        compression=settings.compression,
        row_group_size=settings.row_group_rows,
    )
    with commit_lock(output):
        present = set(os.listdir(target))
        if not set(inputs) <= present:
            log.warning("%s/%s changed while it was merged: left as it is", dataset, partition)
            shutil.rmtree(work)
            return None
        newer = sorted(present - set(inputs))
        if _exchange_with(fresh, target, newer):
            after = 1 + len(newer)
        else:  # no atomic swap here: the merged file in, then the inputs out, still under the lock
            os.rename(os.path.join(fresh, merged), os.path.join(target, merged))
            for name in inputs:
                os.remove(os.path.join(target, name))
            after = 1 + len(newer)
    shutil.rmtree(work)
    return len(inputs), after


def _exchange_with(fresh: str, target: str, newer: Sequence[str]) -> bool:
    for name in newer:  # committed after the inputs were read: they stay, by hard link
        os.link(os.path.join(target, name), os.path.join(fresh, name))
    if _exchange(fresh, target):
        return True
    for name in newer:
        os.remove(os.path.join(fresh, name))
    return False


def compact(
    output: str, partitions: Sequence[str] = (), settings: SinkSettings | None = None
) -> CompactSummary:
    """Merge every partition (or only `partitions`, e.g. ["date=2024-05-21"]) holding several files."""
    if "://" in output:
        raise ValueError(f"compact works on a local OUTPUT directory, not {output}")
    settings = settings or SinkSettings()
    base = os.path.abspath(output)
    if not os.path.isdir(base):
        raise FileNotFoundError(f"no output directory {base}")
    merged = before = after = 0
    with _compact_lock(base):
        leftovers = os.path.join(base, COMPACT_DIR)
        if os.path.isdir(leftovers):  # an interrupted compaction: nothing in there is visible or needed
            for name in os.listdir(leftovers):
                shutil.rmtree(os.path.join(leftovers, name), ignore_errors=True)
        for dataset in (ARTICLES, FEEDS, ERRORS, INDEX, SKETCHES):
            root = os.path.join(base, dataset)
            if not os.path.isdir(root):
                continue
            for partition in sorted(os.listdir(root)):
                if not PARTITION.match(partition) or (partitions and partition not in partitions):
                    continue
                count = len(_parquet_files(os.path.join(root, partition)))
                done = merge_partition(output, dataset, partition, settings)
                if done is None:
                    before, after = before + count, after + count
                else:
                    merged, before, after = merged + 1, before + done[0], after + done[1]
        with commit_lock(output):
            compact_feed_states(output, f"compact-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}")
    return CompactSummary(merged, before, after)
