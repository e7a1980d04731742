"""Stage "sink": partitioned Parquet staged per run, published by an atomic commit, recovered after a kill."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import apache_beam as beam
import duckdb
import pyarrow.dataset as ds
import pytest

from newsbeam.transforms.dedup import IndexEntry
from newsbeam.transforms.records import ARTICLE_SCHEMA, Article, DeadLetter, Place, RelatedItem
from newsbeam.transforms.sink import (
    COMMIT_MANIFEST,
    SinkSettings,
    WriteArticles,
    WriteDeadLetters,
    WriteIndex,
    commit_run,
    index_files,
    read_index,
    recover,
    run_lock,
)
from tests.conftest import FETCHED_AT, make_test_pipeline

RUN = "20240521T120000Z-abc123"


def _article(n: int, published: dt.datetime | None) -> Article:
    return Article(
        article_id=f"{n:032x}",
        url=f"https://example.com/{n}",
        source="example.com",
        feed_url="https://example.com/rss",
        title=f"Title {n}",
        body=f"Body {n}.\n\nSecond paragraph.",
        fetched_at=FETCHED_AT,
        published_at=published,
        authors=("Jane Doe",),
        credits=("ANDREW CABALLERO-REYNOLDS/AFP",),
        related=(RelatedItem("Teaser", "https://example.com/t"), RelatedItem("No link")),
        countries=("IL", "PS"),
        regions=("Western Asia",),
        places=(Place("Gaza", "PS", 3),),
        story_id=f"{n:032x}",
    )


def _write(tmp_path: Path, articles, settings: SinkSettings | None = None) -> None:
    settings = settings or SinkSettings()
    with make_test_pipeline() as p:
        p | beam.Create(articles) | WriteArticles(str(tmp_path), RUN, settings)


def test_articles_are_staged_invisibly_then_committed_by_date(tmp_path):
    may16 = dt.datetime(2024, 5, 16, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))  # 17 May in UTC
    articles = [
        _article(1, may16),
        _article(2, None),
        _article(3, dt.datetime(2024, 5, 20, 8, tzinfo=dt.UTC)),
    ]
    _write(tmp_path, articles)
    assert not (tmp_path / "articles").exists()  # nothing visible before the commit
    report = commit_run(str(tmp_path), RUN)
    assert report.rows == {"articles": 3}
    assert not (tmp_path / "_state" / "runs" / RUN).exists()
    dates = sorted(p.name for p in (tmp_path / "articles").iterdir())
    assert dates == ["date=2024-05-17", "date=2024-05-20", "date=2024-05-21"]  # None falls back to fetched_at

    table = ds.dataset(tmp_path / "articles", partitioning="hive").to_table()
    assert table.num_rows == 3
    assert table.schema.field("published_at").type == ARTICLE_SCHEMA.field("published_at").type
    rows = {r["article_id"]: r for r in table.to_pylist()}
    first = rows[f"{1:032x}"]
    assert first["related"] == [
        {"title": "Teaser", "url": "https://example.com/t"},
        {"title": "No link", "url": None},
    ]
    assert first["places"] == [{"name": "Gaza", "country": "PS", "mentions": 3}]
    assert first["credits"] == ["ANDREW CABALLERO-REYNOLDS/AFP"]

    con = duckdb.connect()
    articles = f"{tmp_path}/articles/**/*.parquet"
    count, days = con.execute(
        "select count(*), count(distinct date) from read_parquet(?, hive_partitioning=true)", [articles]
    ).fetchone()
    assert (count, days) == (3, 3)
    meta = con.execute(
        f"select distinct compression from parquet_metadata('{tmp_path}/articles/**/*.parquet')"
    ).fetchall()
    assert meta == [("ZSTD",)]


def test_timestamps_are_written_to_the_microsecond_whatever_their_time_zone(tmp_path):
    # rows cross the writer's GroupByKey with UTC datetimes as integer microseconds: the same instants
    published = {
        1: dt.datetime(2024, 5, 20, 8, 1, 2, 345678, tzinfo=dt.UTC),
        2: dt.datetime(2024, 5, 20, 10, 1, 2, 345678, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        3: dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),  # before the epoch
        4: None,
    }
    _write(tmp_path, [_article(n, when) for n, when in published.items()])
    commit_run(str(tmp_path), RUN)

    table = ds.dataset(tmp_path / "articles", partitioning="hive").to_table()
    rows = {r["article_id"]: r for r in table.to_pylist()}
    for n, when in published.items():
        assert rows[f"{n:032x}"]["published_at"] == when
        assert rows[f"{n:032x}"]["fetched_at"] == FETCHED_AT


def test_files_per_partition_shards_a_partition(tmp_path):
    day = dt.datetime(2024, 5, 20, 8, tzinfo=dt.UTC)
    _write(tmp_path, [_article(n, day) for n in range(40)], SinkSettings(files_per_partition=3))
    commit_run(str(tmp_path), RUN)
    files = sorted((tmp_path / "articles" / "date=2024-05-20").glob("*.parquet"))
    assert len(files) == 3
    assert ds.dataset(files).count_rows() == 40


def test_a_run_killed_before_its_manifest_is_discarded(tmp_path):
    _write(tmp_path, [_article(1, None)])
    assert recover(str(tmp_path)) == [f"discarded the staged files of interrupted run {RUN}"]
    assert not (tmp_path / "articles").exists()
    assert not (tmp_path / "_state" / "runs" / RUN).exists()


def test_a_commit_killed_half_way_is_finished_by_recovery(tmp_path):
    day = dt.datetime(2024, 5, 20, 8, tzinfo=dt.UTC)
    _write(tmp_path, [_article(1, day), _article(2, day - dt.timedelta(days=1))])
    staging = tmp_path / "_state" / "runs" / RUN
    staged = sorted(str(p.relative_to(staging)) for p in staging.rglob("*.parquet"))
    assert len(staged) == 2
    # simulate a kill after the manifest and the first rename
    (staging / COMMIT_MANIFEST).write_text(json.dumps(staged))
    target = tmp_path / staged[0]
    target.parent.mkdir(parents=True)
    (staging / staged[0]).rename(target)
    assert recover(str(tmp_path)) == [f"finished the commit of interrupted run {RUN}"]
    assert ds.dataset(tmp_path / "articles", partitioning="hive").count_rows() == 2
    assert not staging.exists()


def test_dead_letters_and_index_are_written_with_their_schemas(tmp_path):
    failed = DeadLetter("parse", "https://x/rss", None, "ValueError", "not a feed", "<html>", FETCHED_AT)
    entry = IndexEntry("url:https://x/1", "a" * 32, FETCHED_AT)
    with make_test_pipeline() as p:
        p | "DL" >> beam.Create([failed]) | WriteDeadLetters(str(tmp_path), RUN, SinkSettings())
        p | "IX" >> beam.Create([entry]) | WriteIndex(str(tmp_path), RUN, SinkSettings())
    commit_run(str(tmp_path), RUN)
    errors = ds.dataset(tmp_path / "errors", partitioning="hive").to_table().to_pylist()
    assert errors[0]["stage"] == "parse" and errors[0]["message"] == "not a feed"
    paths = index_files(str(tmp_path), dt.date(2024, 5, 21))
    assert len(paths) == 1
    assert list(read_index(paths)) == [("url:https://x/1", ("a" * 32, FETCHED_AT))]
    assert index_files(str(tmp_path), dt.date(2024, 5, 22)) == []  # older than the look-back: expired


def test_a_second_process_cannot_write_the_same_output(tmp_path):
    with (
        run_lock(str(tmp_path)),
        pytest.raises(RuntimeError, match="another newsbeam process"),
        run_lock(str(tmp_path)),
    ):
        pass
