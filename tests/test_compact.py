"""`newsbeam compact`: the small files of a partition merged into one by an atomic directory swap, while
readers read and a writer keeps committing."""

from __future__ import annotations

import datetime as dt
import threading

import pyarrow.dataset as ds
import pytest
from apache_beam.transforms.window import IntervalWindow
from apache_beam.utils.timestamp import Timestamp

from newsbeam.pipeline.cli import main
from newsbeam.pipeline.compact import COMPACT_DIR, compact
from newsbeam.transforms.dedup import IndexEntry, SketchEntry, make_article_id
from newsbeam.transforms.records import Article
from newsbeam.transforms.sink import ARTICLES, INDEX, SKETCHES, SinkSettings
from newsbeam.transforms.stream_sink import _CommitPaneFn

DAY = dt.datetime(2024, 5, 21, 8, 0, tzinfo=dt.UTC)


def _article(n: int, day: dt.datetime = DAY) -> Article:
    url = f"https://news.example/{n}"
    return Article(
        article_id=make_article_id(url, None, "https://news.example/rss", f"T{n}", f"B{n}"),
        url=url,
        source="news.example",
        feed_url="https://news.example/rss",
        title=f"T{n}",
        body=f"B{n}",
        fetched_at=day,
        published_at=day + dt.timedelta(minutes=n),
        story_id="",
    )


def commit_panes(output, numbers, day: dt.datetime = DAY) -> None:
    """One stream commit per article, as a stream's window panes would leave them."""
    fn = _CommitPaneFn(str(output), SinkSettings())
    fn.setup()
    for n in numbers:
        article = _article(n, day)
        sketch = SketchEntry(
            article.article_id, day, "en", b"", 0, b"", (), story_id=article.article_id, seen_at=day
        )
        pane = [
            (ARTICLES, article),
            (INDEX, IndexEntry(f"url:{article.url}", article.article_id, day)),
            (SKETCHES, sketch),
        ]
        window = IntervalWindow(Timestamp(day.timestamp() + 60 * n), Timestamp(day.timestamp() + 60 * n + 60))
        list(fn.process((0, [pane]), w=window))


def ids(output) -> list[str]:
    return ds.dataset(output / "articles", partitioning="hive").to_table()["article_id"].to_pylist()


def test_compact_merges_each_partition_into_one_file(tmp_path):
    commit_panes(tmp_path, range(6))
    commit_panes(tmp_path, range(100, 102), DAY + dt.timedelta(days=1))
    before = sorted(ids(tmp_path))
    assert len(list(tmp_path.glob("articles/date=2024-05-21/*.parquet"))) == 6

    summary = compact(str(tmp_path))

    assert sorted(ids(tmp_path)) == before
    for day in ("2024-05-21", "2024-05-22"):
        assert len(list(tmp_path.glob(f"articles/date={day}/*.parquet"))) == 1
        assert len(list(tmp_path.glob(f"_state/index/date={day}/*.parquet"))) == 1
        assert len(list(tmp_path.glob(f"_state/sketches/date={day}/*.parquet"))) == 1
    assert (summary.partitions_merged, summary.files_before, summary.files_after) == (6, 24, 6)
    assert list((tmp_path / COMPACT_DIR).iterdir()) == []
    merged = ds.dataset(tmp_path / "articles" / "date=2024-05-21").to_table()["article_id"].to_pylist()
    assert merged == sorted(merged)  # sorted by id, like every file newsbeam writes
    assert compact(str(tmp_path)).partitions_merged == 0  # nothing left to merge


def test_only_the_partitions_asked_for(tmp_path):
    commit_panes(tmp_path, range(3))
    commit_panes(tmp_path, range(100, 103), DAY + dt.timedelta(days=1))
    compact(str(tmp_path), ["date=2024-05-22"])
    assert len(list(tmp_path.glob("articles/date=2024-05-21/*.parquet"))) == 3
    assert len(list(tmp_path.glob("articles/date=2024-05-22/*.parquet"))) == 1


def test_readers_never_count_a_row_twice_while_a_writer_keeps_committing(tmp_path):
    commit_panes(tmp_path, range(20))
    counts: list[int] = []
    twice: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                found = ids(tmp_path)
            except OSError:  # listed before a swap, opened after: the query fails and is re-run
                continue
            counts.append(len(found))
            if len(found) != len(set(found)):
                twice.append(len(found) - len(set(found)))

    def write() -> None:
        commit_panes(tmp_path, range(20, 60))

    reader, writer = threading.Thread(target=read), threading.Thread(target=write)
    reader.start()
    writer.start()
    for _ in range(5):
        compact(str(tmp_path))
    writer.join()
    done.set()
    reader.join()
    compact(str(tmp_path))
    assert sorted(ids(tmp_path)) == sorted(_article(n).article_id for n in range(60))
    assert len(list(tmp_path.glob("articles/date=2024-05-21/*.parquet"))) == 1
    assert len(counts) > 5 and all(20 <= c <= 60 for c in counts)  # never a row missing, never one extra
    assert twice == []


def test_leftovers_of_an_interrupted_compaction_are_removed(tmp_path):
    commit_panes(tmp_path, range(2))
    leftover = tmp_path / COMPACT_DIR / "20240521T000000-abcdef" / "date=2024-05-21"
    leftover.mkdir(parents=True)
    (leftover / "part-compact-0.parquet").write_bytes(b"PAR1 partial")
    compact(str(tmp_path))
    assert list((tmp_path / COMPACT_DIR).iterdir()) == []
    assert len(ids(tmp_path)) == 2


def test_compact_command(tmp_path, capsys):
    commit_panes(tmp_path, range(3))
    assert main(["compact", "--output", str(tmp_path)]) == 0
    assert "newsbeam compact: 3 partitions merged, 9 files -> 3" in capsys.readouterr().out
    assert main(["compact", "--output", str(tmp_path), "--partition", "2024-05-21"]) == 2
    assert "expected date=YYYY-MM-DD" in capsys.readouterr().err


def test_a_second_compaction_at_once_fails_fast(tmp_path):
    from newsbeam.pipeline.compact import _compact_lock

    commit_panes(tmp_path, range(2))
    with _compact_lock(str(tmp_path)), pytest.raises(RuntimeError, match="another newsbeam compact"):
        compact(str(tmp_path))
