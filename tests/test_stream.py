"""`newsbeam stream`: windows, late data, watermarks, streaming dedup and its state expiry (TestStream on
Beam's streaming DirectRunner), the per-pane commit, the live tick source, and the stream itself as a
subprocess against a loopback server whose feeds gain items."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import apache_beam as beam
import pyarrow.dataset as ds
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.test_stream import TestStream as Events
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Timestamp

from newsbeam.transforms.dedup import DedupSettings, IndexEntry, make_article_id
from newsbeam.transforms.records import Article, FeedSpec, FeedState
from newsbeam.transforms.sink import ARTICLES, INDEX, SinkSettings
from newsbeam.transforms.stream import (
    LiveTicks,
    StreamSettings,
    due_feeds,
    stream_windows,
    window_timestamp,
)
from newsbeam.transforms.stream_dedup import StreamDeduplicate
from newsbeam.transforms.stream_sink import WriteWindows, _CommitPaneFn, pane_commit_id

T0 = dt.datetime(2024, 5, 21, 12, 0, tzinfo=dt.UTC)  # a window boundary for every window length used
WINDOW = StreamSettings(window_s=60, allowed_lateness_s=600)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def ts(seconds: float) -> Timestamp:
    return Timestamp(at(seconds).timestamp())


def article(name: str, published: float | None, fetched: float, *, text: str | None = None) -> Article:
    url = f"https://news.example/{name}"
    title, body = f"Title {name}", text or f"Body of {name}."
    return Article(
        article_id=make_article_id(url, None, "https://news.example/rss", title, body),
        url=url,
        source="news.example",
        feed_url="https://news.example/rss",
        title=title,
        body=body,
        fetched_at=at(fetched),
        published_at=at(published) if published is not None else None,
        date_source="feed" if published is not None else "fetched",
        story_id="",
    )


def polled(*articles: Article) -> list[TimestampedValue]:
    """Articles as a poll emits them: timestamped with the poll's tick (= their fetch time)."""
    return [TimestampedValue(a, a.fetched_at.timestamp()) for a in articles]


def streaming_pipeline() -> BeamTestPipeline:
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    return BeamTestPipeline(runner=BundleBasedDirectRunner(), options=options)


def panes(articles: beam.PCollection, settings: StreamSettings = WINDOW) -> beam.PCollection:
    """(window start as seconds after T0, pane timing, sorted titles) per pane of the stream's windows."""

    def describe(element, w=beam.DoFn.WindowParam, pane=beam.DoFn.PaneInfoParam):
        _, grouped = element
        timing = {0: "early", 1: "on_time", 2: "late"}[pane.timing]
        yield float(w.start) - T0.timestamp(), timing, tuple(sorted(a.title for a in grouped))

    return (
        articles
        | "OneKey" >> beam.Map(lambda a: (0, a))
        | "Windows" >> stream_windows(settings)
        | "Group" >> beam.GroupByKey()
        | "Describe" >> beam.FlatMap(describe)
    )


def dedup(articles, settings: StreamSettings = WINDOW, index_paths=(), lookback_days: int = 7):
    dedup_settings = DedupSettings(lookback_days=lookback_days)
    return articles | StreamDeduplicate(dedup_settings, list(index_paths), settings)


def written(out) -> beam.PCollection:
    """The articles a StreamDeduplicate output writes."""
    return out.main | "Articles" >> beam.Map(lambda kept: kept.article)


# -- windows, watermarks and late data ------------------------------------------------------------------


def test_window_timestamp_keeps_event_time_within_lateness_and_clamps_beyond():
    tick = at(1000).timestamp()
    assert window_timestamp(at(990), tick, 600) == at(990).timestamp()
    assert window_timestamp(at(10), tick, 600) == at(400).timestamp()


def test_window_boundaries_and_watermark_advance():
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        # b is polled just before its window's end (polled after it, it would be late: see the next test)
        .add_elements(polled(article("a", 10, 20), article("b", 59.999, 59.9995), article("c", 60, 70)))
        .advance_watermark_to(ts(70))  # [0, 60) is complete: its on-time pane fires
        .add_elements(polled(article("d", 100, 110)))
        .advance_watermark_to(ts(130))  # [60, 120) fires, with c (on time) and d
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        out = panes(written(dedup(p | stream)))
        assert_that(
            out,
            equal_to(
                [
                    (0.0, "on_time", ("Title a", "Title b")),
                    (60.0, "on_time", ("Title c", "Title d")),
                ]
            ),
        )


def test_late_articles_land_in_a_late_pane_or_the_oldest_open_window_never_dropped():
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(article("on-time", 30, 40)))
        .advance_watermark_to(ts(200))  # [0, 60) has fired
        .add_elements(polled(article("late", 50, 200)))  # 140 s late: within the 600 s allowed
        .advance_watermark_to(ts(1000))
        .add_elements(polled(article("very-late", 100, 1000)))  # 840 s late: beyond it
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        kept = written(dedup(p | stream))
        assert_that(
            panes(kept),
            equal_to(
                [
                    (0.0, "on_time", ("Title on-time",)),
                    (0.0, "late", ("Title late",)),
                    (360.0, "late", ("Title very-late",)),  # tick 1000 - 600 s: the oldest window still open
                ]
            ),
        )
        # the very late article keeps its own event time: its partition is its own date
        assert_that(
            kept | beam.Map(lambda a: (a.title, a.published_at)),
            equal_to([("Title on-time", at(30)), ("Title late", at(50)), ("Title very-late", at(100))]),
            label="EventTimesKept",
        )


# -- streaming dedup -----------------------------------------------------------------------------------


def test_dedup_across_windows_and_polls():
    first = article("a", 10, 20)
    same_text_other_url = article("a-syndicated", 100, 110, text="Body of a.")
    same_text_other_url = Article(**{**_fields(same_text_other_url), "title": "Title a"})
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(first, article("b", 15, 20)))
        .advance_watermark_to(ts(90))
        .add_elements(polled(article("a", 10, 110), article("b", 15, 110), same_text_other_url))
        .advance_watermark_to(ts(200))
        .add_elements(polled(article("a", 10, 210), article("c", 190, 210)))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        out = dedup(p | stream)
        assert_that(written(out) | beam.Map(lambda a: a.title), equal_to(["Title a", "Title b", "Title c"]))
        assert_that(
            out.main
            | "Keys"
            >> beam.FlatMap(lambda kept: [(e.key.split(":", 1)[0], e.article_id) for e in kept.index]),
            equal_to(
                [
                    (kind, a.article_id)
                    for a in (first, article("b", 0, 0), article("c", 0, 0))
                    for kind in ("text", "url")
                ]
            ),
            label="IndexRowsOfKeptArticles",
        )


def _fields(a: Article) -> dict:
    return {name: getattr(a, name) for name in Article.__slots__}


def test_state_expires_after_the_lookback_and_live_keys_are_refreshed():
    day = 86400
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(article("gone", 10, 20), article("live", 10, 20)))
        .advance_watermark_to(ts(0.6 * day))
        .add_elements(polled(article("live", 10, 0.7 * day)))  # same day: a repeat
        .advance_watermark_to(ts(1.5 * day))
        .add_elements(polled(article("live", 10, 1.5 * day)))  # next day: refreshes its keys
        .advance_watermark_to(ts(2.2 * day))  # "gone" was last seen 2.2 days ago: forgotten
        .add_elements(polled(article("gone", 10, 2.2 * day), article("live", 10, 2.2 * day)))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        out = dedup(p | stream, lookback_days=2)
        assert_that(
            written(out) | beam.Map(lambda a: (a.title, a.fetched_at)),
            equal_to([("Title gone", at(20)), ("Title live", at(20)), ("Title gone", at(2.2 * day))]),
        )
        assert_that(
            out.refreshed
            | "Refreshed" >> beam.Filter(lambda e: e.seen_at == at(1.5 * day))
            | beam.Map(lambda e: e.key[:4]),
            equal_to(["text", "url:"]),
            label="LiveKeysRefreshedOnANewDay",
        )


def test_a_restart_drops_what_the_look_back_index_holds(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from newsbeam.transforms.dedup import INDEX_SCHEMA

    before = article("written", 10, 20)
    index = tmp_path / "index.parquet"
    pq.write_table(
        pa.Table.from_pylist(
            [IndexEntry(f"url:{before.url}", before.article_id, at(20)).to_row()], schema=INDEX_SCHEMA
        ),
        index,
    )
    stream = (
        Events()
        .advance_watermark_to(ts(100))
        .add_elements(polled(article("written", 10, 120), article("new", 110, 120)))
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        out = dedup(p | stream, index_paths=[str(index)])
        assert_that(written(out) | beam.Map(lambda a: a.title), equal_to(["Title new"]))


# -- commits ---------------------------------------------------------------------------------------------


def test_each_window_pane_is_one_commit_with_deterministic_names(tmp_path):
    out = tmp_path / "out"
    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements(polled(article("a", 10, 20)))
        .advance_watermark_to(ts(70))
        .add_elements(polled(article("b", 70, 80), article("late", 5, 80)))
        .advance_watermark_to_infinity()
    )
    settings = StreamSettings(window_s=60, allowed_lateness_s=600)
    with streaming_pipeline() as p:
        kept = dedup(p | stream, settings)
        commits = {ARTICLES: kept.main, INDEX: kept.refreshed} | WriteWindows(
            str(out), SinkSettings(), settings
        )
        assert_that(commits | beam.Map(lambda c: (c[1][ARTICLES], c[1][INDEX])), equal_to([(1, 2)] * 3))
    files = sorted(p.relative_to(out).as_posix() for p in out.glob("articles/**/*.parquet"))
    assert len(files) == 3 and all(f.startswith("articles/date=2024-05-21/part-w20240521T12") for f in files)
    windows = sorted(f.split("part-w", 1)[1][:15] for f in files)
    assert windows == ["20240521T120000", "20240521T120000", "20240521T120100"]  # on time + late, then next
    table = ds.dataset(out / "articles", partitioning="hive").to_table()
    assert sorted(table["title"].to_pylist()) == ["Title a", "Title b", "Title late"]
    assert not list((out / "_state" / "runs").iterdir())  # every staging area committed and removed


def test_a_replayed_pane_overwrites_its_own_files(tmp_path):
    from apache_beam.transforms.window import IntervalWindow

    fn = _CommitPaneFn(str(tmp_path), SinkSettings())
    fn.setup()
    pane = (0, [[(ARTICLES, article("a", 10, 20))], [(ARTICLES, article("b", 12, 20))]])
    window = IntervalWindow(ts(0), ts(60))
    first = list(fn.process(pane, w=window))
    again = list(fn.process(pane, w=window))
    assert first == again
    assert len(list(tmp_path.glob("articles/**/*.parquet"))) == 1
    other = list(fn.process((0, [[(ARTICLES, article("c", 14, 20))]]), w=window))
    assert other[0][0] != first[0][0] and len(list(tmp_path.glob("articles/**/*.parquet"))) == 2
    assert pane_commit_id(ts(0).micros / 1e6, ["x", "y"]) == pane_commit_id(ts(0).micros / 1e6, ["y", "x"])


# -- polling and the live source ------------------------------------------------------------------------


def test_due_feeds_follow_each_feeds_interval_and_backoff():
    now = at(1000)
    fast, slow, failing, new = (
        FeedSpec("https://a.example/fast", poll_interval_s=60),
        FeedSpec("https://b.example/slow"),
        FeedSpec("https://c.example/failing"),
        FeedSpec("https://d.example/new"),
    )
    states = {
        fast.url: FeedState(fast.url, at(930)),
        slow.url: FeedState(slow.url, at(930)),
        failing.url: FeedState(failing.url, at(990), consecutive_failures=2, next_poll_at=at(2000)),
    }
    due = due_feeds([fast, slow, failing, new], states, default_interval_s=300, now=now)
    assert [(host, spec.url) for host, spec, _ in due] == [("a.example", fast.url), ("d.example", new.url)]


def test_live_ticks_advance_the_watermark_in_real_time_and_stop_on_request(tmp_path):
    stop = threading.Event()
    log = tmp_path / "fired.txt"  # the runner runs a pickled copy of `record`: it reports through a file

    def record(element, w=beam.DoFn.WindowParam):
        with open(log, "a") as out:
            out.write(f"{time.time()} {float(w.end)}\n")
        yield element

    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    p = beam.Pipeline(runner=BundleBasedDirectRunner(), options=options)
    (
        p
        | LiveTicks(0.2, stop)
        | beam.Map(lambda tick: (0, tick))
        | beam.WindowInto(beam.window.FixedWindows(1))
        | beam.GroupByKey()
        | beam.FlatMap(record)
    )
    started = time.time()
    threading.Timer(2.5, stop.set).start()
    p.run(test_runner_api=False).wait_until_finish()
    assert time.time() - started < 10
    fired = [tuple(map(float, line.split())) for line in log.read_text().splitlines()]
    closed_while_running = [(seen, end) for seen, end in fired if seen < started + 2.5]
    assert len(closed_while_running) >= 1  # windows fired before the stop, not only at the end
    assert all(seen - end < 1.0 for seen, end in closed_while_running)  # within a tick or so of their end


# -- the command, against a loopback server whose feeds gain items ----------------------------------------


class GrowingFeeds:
    """RSS feeds served by a real loopback HTTP server; items are added while a stream polls them."""

    def __init__(self, server, feeds: int) -> None:
        self.server = server
        self.items: dict[str, list[tuple[str, dt.datetime]]] = {f"/feed{n}.xml": [] for n in range(feeds)}
        self.lock = threading.Lock()
        self.polls: list[tuple[str, float]] = []
        for path in self.items:
            server.expect_request(path).respond_with_handler(lambda request, p=path: self._serve(p))

    def urls(self) -> list[str]:
        return [self.server.url_for(path) for path in self.items]

    def add(self, path: str, name: str, published: dt.datetime) -> None:
        with self.lock:
            self.items[path].append((name, published))

    def add_everywhere(self, batch: str, published: dt.datetime, per_feed: int = 1) -> list[str]:
        names = []
        for path in self.items:
            for n in range(per_feed):
                name = f"{path[1:-4]}-{batch}-{n}"
                self.add(path, name, published)
                names.append(name)
        return names

    def _serve(self, path: str):
        from werkzeug import Response

        with self.lock:
            self.polls.append((path, time.time()))
            items = list(self.items[path])
        entries = "".join(
            f"<item><title>Item {name}</title><link>https://news.example/{name}</link>"
            f"<guid>{name}</guid><pubDate>{published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            f"<description>The story of {name}, told once. Officials said {name} was distinct.</description>"
            "</item>"
            for name, published in items
        )
        body = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{path}</title>{entries}</channel></rss>'
        )
        return Response(body, content_type="application/rss+xml")


def article_ids(output: Path) -> list[str]:
    """Every article_id readable in OUTPUT, through DuckDB (which fails on a partial or foreign file)."""
    import duckdb

    if not list(output.glob("articles/**/*.parquet")):
        return []
    return [
        row[0]
        for row in duckdb.sql(
            f"select article_id from read_parquet('{output}/articles/**/*.parquet', hive_partitioning=true)"
        ).fetchall()
    ]


def sketch_ids(output: Path) -> list[str]:
    """The article_id of every row of OUTPUT/_state/sketches (what near-duplicates and stories remember)."""
    sketches = ds.dataset(output / "_state" / "sketches", partitioning="hive")
    return sketches.to_table(columns=["article_id"])["article_id"].to_pylist()


def titles(output: Path) -> list[str]:
    if not list(output.glob("articles/**/*.parquet")):
        return []
    return (
        ds.dataset(output / "articles", partitioning="hive").to_table(columns=["title"])["title"].to_pylist()
    )


def wait_for(condition, timeout: float, what: str, process=None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the stream exited ({process.returncode}) before {what}")
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _stream_process(feeds_file: Path, output: Path, *extra: str):
    from tests.test_cli import E2E_CONFIG

    command = [sys.executable, "-m", "newsbeam.pipeline.cli", "stream", "--config", E2E_CONFIG]
    command += ["--feeds-file", str(feeds_file), "--output", str(output), "--poll-interval", "1", *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _away_from_an_hour_boundary(margin: float = 90) -> None:
    """The flush check holds an article in an open one-hour window: not across an hour boundary."""
    left = 3600 - time.time() % 3600
    if left < margin:
        time.sleep(left + 1)


def test_stream_writes_while_running_flushes_on_sigterm_and_restarts_without_repeats(httpserver, tmp_path):
    feeds = GrowingFeeds(httpserver, 3)
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.urls()) + "\n")
    out = tmp_path / "out"
    now = dt.datetime.now(dt.UTC)
    first = feeds.add_everywhere("old", now - dt.timedelta(days=2), per_feed=2)
    _away_from_an_hour_boundary()
    process = _stream_process(feeds_file, out, "--window", "3600")
    try:
        wait_for(lambda: len(titles(out)) == len(first), 60, "the first items", process)
        files_then = set(out.glob("articles/**/*.parquet"))
        second = feeds.add_everywhere("newer", now - dt.timedelta(days=1))
        wait_for(lambda: len(titles(out)) == len(first) + len(second), 30, "the added items", process)
        assert process.poll() is None  # both batches were readable while the stream ran
        assert set(out.glob("articles/**/*.parquet")) > files_then  # in files of their own

        # An item published now belongs to the open one-hour window: held until the window closes.
        added_at = time.time()
        feeds.add("/feed0.xml", "fresh", dt.datetime.now(dt.UTC))
        wait_for(
            lambda: any(at > added_at + 0.5 for _, at in feeds.polls), 20, "a poll after the add", process
        )
        time.sleep(2)
        assert "Item fresh" not in titles(out)
        process.send_signal(signal.SIGTERM)
        stopped = time.time()
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert time.time() - stopped < 30
    assert "Item fresh" in titles(out)  # flushed on SIGTERM
    assert "newsbeam stream:" in stdout
    windows = [line for line in stdout.splitlines() if line.startswith("newsbeam stream window ")]
    written = sum(int(line.split("articles ")[1].split(" ")[0]) for line in windows)
    assert written == len(first) + len(second) + 1  # a summary line per committed window pane
    ids = article_ids(out)
    assert len(ids) == len(set(ids)) == len(first) + len(second) + 1
    assert sorted(sketch_ids(out)) == sorted(ids)  # each article's sketch row, committed with it

    # The restart, in this process (Beam is imported already): it stops by itself after --duration.
    from newsbeam.pipeline.config import load_config, resolve_feeds
    from newsbeam.pipeline.stream import run_stream
    from tests.test_cli import E2E_CONFIG

    feeds.add("/feed1.xml", "after-restart", now - dt.timedelta(hours=1))
    config, _ = load_config(E2E_CONFIG, {"output": str(out), "feeds": [], "feeds_file": str(feeds_file)})
    config = config.model_copy(update={"stream": StreamSettings(poll_interval_s=1, duration_s=3)})
    summary = run_stream(config, resolve_feeds(config, tmp_path), [])
    assert summary.articles_written == 1
    ids_after = article_ids(out)
    assert len(ids_after) == len(set(ids_after)) == len(ids) + 1  # only the new item
    assert sorted(sketch_ids(out)) == sorted(ids_after)  # the restart started from them and added one
    assert "Item after-restart" in titles(out)


# -- kill -9 at random moments of `run` and `stream`, then a final run ------------------------------------


def _kill_loop(httpserver, tmp_path, kills: int, max_delay: float, seed: int) -> None:
    import random

    from tests.test_cli import E2E_CONFIG, newsbeam

    feeds = GrowingFeeds(httpserver, 8)
    published = dt.datetime.now(dt.UTC) - dt.timedelta(hours=30)
    for n in range(12):
        feeds.add_everywhere(f"item{n}", published + dt.timedelta(minutes=17 * n))
    feeds_file = tmp_path / "feeds.txt"
    feeds_file.write_text("\n".join(feeds.urls()) + "\n")
    out, clean = tmp_path / "out", tmp_path / "clean"
    rng = random.Random(seed)
    commands = ["run", "stream"]
    for kill in range(kills):
        command = commands[kill % 2]
        if command == "run":
            args = [sys.executable, "-m", "newsbeam.pipeline.cli", "run", "--config", E2E_CONFIG]
            process = subprocess.Popen(
                [*args, "--feeds-file", str(feeds_file), "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        else:
            process = _stream_process(feeds_file, out, "--window", "5")
        time.sleep(rng.uniform(0.5, max_delay))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        ids = article_ids(out)  # readable after every kill, with no article twice
        assert len(ids) == len(set(ids)), f"a repeat after kill {kill} ({command})"
    if kills >= 10:  # the loop is long enough for some kills to land after commits: not a vacuous test
        assert article_ids(out), "no kill happened after a commit"
    finished = newsbeam("run", "--config", E2E_CONFIG, "--feeds-file", str(feeds_file), "--output", str(out))
    assert finished.returncode == 0, finished.stderr
    reference = newsbeam(
        "run", "--config", E2E_CONFIG, "--feeds-file", str(feeds_file), "--output", str(clean)
    )
    assert reference.returncode == 0, reference.stderr
    ids, expected = article_ids(out), article_ids(clean)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(expected) and len(expected) == 8 * 12


@pytest.mark.slow  # about a minute: Beam's start-up, three times
def test_kill_9_during_run_and_stream_then_a_run_completes_the_work(httpserver, tmp_path):
    _kill_loop(httpserver, tmp_path, kills=2, max_delay=9, seed=7)


@pytest.mark.slow
def test_kill_9_loop_at_random_moments(httpserver, tmp_path):
    _kill_loop(httpserver, tmp_path, kills=12, max_delay=14, seed=2024)


def test_repeated_feed_items_are_dropped_before_cleaning_but_pass_once_a_day():
    from newsbeam.transforms.records import RawEntry
    from newsbeam.transforms.stream_dedup import DropRepeatedEntries

    feed = FeedSpec("https://news.example/rss")

    def entry(title: str, fetched: float) -> TimestampedValue:
        raw = RawEntry(feed, at(fetched), 0, guid=title, link=f"https://news.example/{title}", title=title)
        return TimestampedValue(raw, at(fetched).timestamp())

    stream = (
        Events()
        .advance_watermark_to(ts(0))
        .add_elements([entry("a", 10), entry("b", 10)])
        .add_elements([entry("a", 70), entry("b", 70)])  # the next poll, the same day: repeats
        .advance_watermark_to(ts(86400))
        .add_elements([entry("a", 86400 + 60)])  # the next day: passes once more
        .advance_watermark_to_infinity()
    )
    with streaming_pipeline() as p:
        passed = p | stream | DropRepeatedEntries(lookback_days=7)
        assert_that(
            passed | beam.Map(lambda e: (e.title, e.fetched_at)),
            equal_to([("a", at(10)), ("b", at(10)), ("a", at(86460))]),
        )
