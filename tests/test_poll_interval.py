"""Per-feed poll intervals: `poll_interval` in a YAML feed list; in `run`, a feed polled successfully less
than its interval ago is not fetched and is counted "not due" (not "backing off")."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from newsbeam.pipeline.config import ConfigError, load_config, parse_duration, resolve_feeds
from newsbeam.transforms.fetch import FetchSettings, fetch_feed, next_state, poll_due
from newsbeam.transforms.records import FeedSpec, FeedState
from tests.test_cli import E2E_CONFIG, SAMPLES

NOW = dt.datetime(2024, 5, 21, 12, 0, tzinfo=dt.UTC)


def test_durations_in_feed_lists():
    assert parse_duration("15m") == 900.0
    assert parse_duration("2h") == 7200.0
    assert parse_duration("90") == 90.0
    assert parse_duration(45) == 45


def test_poll_due_counts_from_the_last_good_poll_only():
    spec = FeedSpec("https://example.com/rss", poll_interval_s=600)
    polled = FeedState(spec.url, NOW - dt.timedelta(minutes=5))
    assert not poll_due(spec, polled, NOW)
    assert poll_due(spec, polled, NOW + dt.timedelta(minutes=5))
    assert poll_due(FeedSpec(spec.url), polled, NOW)  # no interval of its own: every run
    assert poll_due(spec, None, NOW)  # never polled
    failing = FeedState(spec.url, NOW - dt.timedelta(minutes=1), consecutive_failures=1)
    assert poll_due(spec, failing, NOW)  # a failing feed follows its backoff, not its interval


def test_a_feed_not_due_is_not_requested_and_keeps_its_state(httpserver):
    httpserver.expect_request("/rss").respond_with_data("<rss/>", status=500)  # would fail if requested
    spec = FeedSpec(httpserver.url_for("/rss"), poll_interval_s=3600)
    state = FeedState(spec.url, NOW - dt.timedelta(minutes=10), etag='"v1"', last_ok_at=NOW)
    fetched = fetch_feed(spec, None, FetchSettings(), now=lambda: NOW, state=state)
    assert fetched.not_due and not fetched.skipped and fetched.error_class is None
    assert fetched.next_poll_at == NOW + dt.timedelta(minutes=50)
    assert httpserver.log == []
    assert next_state(state, fetched, FetchSettings()) == state


def test_yaml_feed_list_poll_interval(tmp_path):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "- url: https://example.com/a\n  poll_interval: 15m\n"
        "- url: https://example.com/b\n  poll_interval_s: 30\n"
        "- url: https://example.com/c\n"
    )
    config, base = load_config(None, {"feeds": [], "feeds_file": str(feeds)})
    intervals = {spec.url[-1]: spec.poll_interval_s for spec in resolve_feeds(config, base)}
    assert intervals == {"a": 900.0, "b": 30.0, "c": None}
    feeds.write_text("- url: https://example.com/a\n  poll_interval: soon\n")
    with pytest.raises(ConfigError, match="poll_interval_s"):
        resolve_feeds(*load_config(None, {"feeds": [], "feeds_file": str(feeds)}))


def test_run_counts_a_feed_not_due_apart_from_backing_off(httpserver, tmp_path):
    from newsbeam.pipeline.runner import run_batch

    for name in ("gulfherald-rss2.xml", "wirewatch-atom.xml"):
        body = (SAMPLES / name).read_bytes()
        httpserver.expect_request(f"/{name}").respond_with_data(body, content_type="application/xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        f"- url: {httpserver.url_for('/gulfherald-rss2.xml')}\n  poll_interval: 1h\n"
        f"- url: {httpserver.url_for('/wirewatch-atom.xml')}\n"
    )
    out = tmp_path / "out"
    config, base = load_config(E2E_CONFIG, {"output": str(out), "feeds": [], "feeds_file": str(feeds)})
    first = run_batch(config, resolve_feeds(config, base), [])
    assert first.feeds_not_due == 0 and first.feeds_fetched == 2
    second = run_batch(config, resolve_feeds(config, base), [])
    assert (second.feeds_not_due, second.feeds_backing_off, second.feeds_fetched) == (1, 0, 1)
    assert "0 backing off, 1 not due" in second.line()
    requests = [request.path for request, _ in httpserver.log]
    assert requests.count("/gulfherald-rss2.xml") == 1 and requests.count("/wirewatch-atom.xml") == 2
    rows = duckdb.sql(
        "select feed_url, not_due, skipped, next_poll_at is not null "
        f"from read_parquet('{out}/feeds/**/*.parquet') where not_due"
    ).fetchall()
    assert len(rows) == 1 and all(r[0].endswith("gulfherald-rss2.xml") and not r[2] and r[3] for r in rows)
