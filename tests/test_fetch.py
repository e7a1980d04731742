"""Fetch stage against a real loopback HTTP server (pytest-httpserver) and real files: no mocked HTTP.

The only things faked are name resolution (to play a public host on loopback) and a recorder around
urllib3's connect (to show that a refused address is never connected to).
"""

from __future__ import annotations

import collections
import datetime as dt
import gzip
import importlib.metadata
import itertools
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from dataclasses import replace

import apache_beam as beam
import pytest
import urllib3.util.connection
from apache_beam.testing.util import assert_that, equal_to
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsbeam.transforms import fetch as fetch_module
from newsbeam.transforms.fetch import (
    FetchFeeds,
    FetchSettings,
    failure_backoff_s,
    fetch_feed,
    fetch_key,
    host_key,
    is_due,
    lane_of,
    make_session,
    next_state,
    plan_validators,
)
from newsbeam.transforms.records import FeedSpec, FeedState
from tests.conftest import FETCHED_AT, make_test_pipeline

# Small numbers keep every failure path well under a second; no spacing between requests to one host
# except in the tests of that spacing.
FAST = FetchSettings(
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    total_timeout_s=5.0,
    retries=3,
    backoff_s=0.01,
    max_retry_after_s=5.0,
    per_host_interval_s=0.0,
)
RSS = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def fetch(url: str, settings: FetchSettings = FAST, session=None, *, state=None, at=FETCHED_AT):
    """The fetched feed and its error class (None on success)."""
    fetched = fetch_feed(FeedSpec(url), session, settings, now=lambda: at, state=state)
    return fetched, fetched.error_class


@pytest.fixture
def release():
    """An event that stalled handlers wait on; set at teardown so the one-thread server is free again."""
    event = threading.Event()
    yield event
    event.set()


def test_200_fills_every_field(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(RSS, content_type="application/rss+xml")
    url = httpserver.url_for("/feed.xml")

    fetched, error_class = fetch(url)

    assert error_class is None
    assert fetched.error is None
    assert fetched.status == 200
    assert fetched.body == RSS
    assert fetched.content_type == "application/rss+xml"
    assert fetched.final_url == url
    assert fetched.fetched_at == FETCHED_AT
    assert fetched.not_modified is False
    assert 0 <= fetched.duration_ms < 2000


def test_404_is_data_not_an_exception(httpserver):
    httpserver.expect_request("/gone.xml").respond_with_data("nothing here", status=404)

    fetched, error_class = fetch(httpserver.url_for("/gone.xml"))

    assert (fetched.status, fetched.error, fetched.body) == (404, "HTTP 404 Not Found", None)
    assert error_class == "HTTPError"


def test_503_twice_then_200_is_retried(httpserver):
    seen = []

    def flaky(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) <= 2:
            return Response("busy", status=503)
        return Response(RSS, content_type="application/rss+xml")

    httpserver.expect_request("/flaky.xml").respond_with_handler(flaky)

    fetched, error_class = fetch(httpserver.url_for("/flaky.xml"))

    assert (fetched.status, fetched.body, error_class) == (200, RSS, None)
    assert len(seen) == 3


def test_503_until_retries_run_out_reports_the_last_status(httpserver):
    seen = []

    def down(request: Request) -> Response:
        seen.append(1)
        return Response("down", status=503)

    httpserver.expect_request("/down.xml").respond_with_handler(down)

    fetched, error_class = fetch(httpserver.url_for("/down.xml"))

    assert (fetched.status, fetched.error, error_class) == (503, "HTTP 503 Service Unavailable", "HTTPError")
    assert len(seen) == 1 + FAST.retries


def test_body_of_a_retried_response_is_not_drained(httpserver):
    produced = []
    seen = []

    def endless():
        for _ in range(320):
            produced.append(1)
            yield b"e" * 65536

    def busy_then_fine(request: Request) -> Response:
        seen.append(1)
        if len(seen) == 1:
            return Response(endless(), status=503)
        return Response(RSS)

    httpserver.expect_request("/busy.xml").respond_with_handler(busy_then_fine)

    fetched, _ = fetch(httpserver.url_for("/busy.xml"))

    assert (fetched.status, fetched.body) == (200, RSS)
    assert len(produced) < 320 / 2  # 20 MB of error page were never read into memory


def test_429_honours_retry_after(httpserver):
    seen = []

    def limited(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response(RSS)

    httpserver.expect_request("/limited.xml").respond_with_handler(limited)

    fetched, _ = fetch(httpserver.url_for("/limited.xml"))

    assert fetched.status == 200
    assert len(seen) == 2
    assert seen[1] - seen[0] >= 0.95


def test_retry_after_is_capped(httpserver):
    seen = []

    def limited(request: Request) -> Response:
        seen.append(time.monotonic())
        if len(seen) == 1:
            return Response("come back in an hour", status=429, headers={"Retry-After": "3600"})
        return Response(RSS)

    httpserver.expect_request("/capped.xml").respond_with_handler(limited)
    settings = replace(FAST, retries=1, max_retry_after_s=0.3)

    fetched, _ = fetch(httpserver.url_for("/capped.xml"), settings)

    assert fetched.status == 200
    assert 0.25 <= seen[1] - seen[0] < 2.0


def test_stalled_server_times_out_within_budget(httpserver, release):
    calls = []

    def stall(request: Request) -> Response:
        calls.append(1)
        release.wait(5)
        return Response(RSS)

    httpserver.expect_request("/stall.xml").respond_with_handler(stall)
    settings = FetchSettings(read_timeout_s=0.3, total_timeout_s=1.0, retries=3, backoff_s=0.01)

    started = time.monotonic()
    fetched, error_class = fetch(httpserver.url_for("/stall.xml"), settings)
    elapsed = time.monotonic() - started

    assert elapsed < 1.5
    assert error_class == "Timeout"
    assert fetched.error == f"read timeout: localhost:{httpserver.port} sent nothing for 0.3 s"
    assert (fetched.status, fetched.body) == (None, None)
    assert len(calls) == 1  # a stall is not retried: it would only multiply the wait


def test_trickling_body_hits_the_total_deadline(httpserver, release):
    def trickle():
        give_up = time.monotonic() + 5  # a regression then fails the test instead of hanging it
        while not release.is_set() and time.monotonic() < give_up:
            yield b"<!-- still here -->\n"
            time.sleep(0.05)

    httpserver.expect_request("/trickle.xml").respond_with_response(Response(trickle(), mimetype="text/xml"))
    settings = FetchSettings(read_timeout_s=2.0, total_timeout_s=0.5, retries=0)

    started = time.monotonic()
    fetched, error_class = fetch(httpserver.url_for("/trickle.xml"), settings)
    elapsed = time.monotonic() - started

    assert elapsed < 1.5
    assert error_class == "Timeout"
    assert fetched.error == "total timeout: the response took longer than 0.5 s"
    assert (fetched.status, fetched.body) == (200, None)


def test_body_over_the_cap_is_aborted_while_streaming(httpserver):
    chunk = b"x" * 65536
    produced = []

    def twenty_megabytes():
        for _ in range(320):
            produced.append(1)
            yield chunk

    httpserver.expect_request("/huge.xml").respond_with_response(Response(twenty_megabytes()))
    settings = FetchSettings(max_bytes=1_000_000, retries=0)

    fetched, error_class = fetch(httpserver.url_for("/huge.xml"), settings)

    assert error_class == "TooLarge"
    assert fetched.error == "body exceeds the 1000000-byte cap"
    assert fetched.body is None
    # The server got cut off after the cap plus what socket buffers hold, never drained to 20 MB. (A
    # tracemalloc peak is no measure here: the in-process server thread's own allocations count too.)
    assert len(produced) < 320 / 2


def test_declared_length_over_the_cap_is_refused_before_reading(httpserver):
    httpserver.expect_request("/big.xml").respond_with_data(b"y" * 5000)

    fetched, error_class = fetch(httpserver.url_for("/big.xml"), FetchSettings(max_bytes=4096))

    assert (error_class, fetched.error) == ("TooLarge", "body exceeds the 4096-byte cap")


def test_gzip_body_is_decoded(httpserver):
    httpserver.expect_request("/gz.xml").respond_with_data(
        gzip.compress(RSS), headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )

    fetched, _ = fetch(httpserver.url_for("/gz.xml"))

    assert fetched.body == RSS


def _redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def test_redirect_chain_sets_final_url(httpserver):
    httpserver.expect_request("/r1").respond_with_response(_redirect("/r2"))
    httpserver.expect_request("/r2").respond_with_response(_redirect(httpserver.url_for("/r3")))
    httpserver.expect_request("/r3").respond_with_response(_redirect("final.xml"))
    httpserver.expect_request("/final.xml").respond_with_data(RSS)

    fetched, _ = fetch(httpserver.url_for("/r1"))

    assert (fetched.status, fetched.body) == (200, RSS)
    assert fetched.final_url == httpserver.url_for("/final.xml")


def test_too_many_redirects(httpserver):
    httpserver.expect_request("/r1").respond_with_response(_redirect("/r2"))
    httpserver.expect_request("/r2").respond_with_response(_redirect("/r3"))
    httpserver.expect_request("/r3").respond_with_response(_redirect("/final.xml"))
    httpserver.expect_request("/final.xml").respond_with_data(RSS)

    fetched, error_class = fetch(httpserver.url_for("/r1"), replace(FAST, max_redirects=2))

    assert (error_class, fetched.error, fetched.status) == ("TooManyRedirects", "more than 2 redirects", None)
    assert fetched.final_url == httpserver.url_for("/r3")


def test_redirect_to_another_scheme_is_refused(httpserver):
    httpserver.expect_request("/sneaky").respond_with_response(_redirect("file:///etc/passwd"))

    fetched, error_class = fetch(httpserver.url_for("/sneaky"))

    assert (error_class, fetched.body) == ("UnsupportedScheme", None)
    assert fetched.error == "unsupported scheme: redirect to file:///etc/passwd"


def test_user_agent_names_newsbeam(httpserver):
    agents = []

    def record(request: Request) -> Response:
        agents.append(request.headers.get("User-Agent"))
        return Response(RSS)

    httpserver.expect_request("/ua.xml").respond_with_handler(record)

    with make_session(FAST) as session:  # a pooled session, as the DoFn uses it
        fetch(httpserver.url_for("/ua.xml"), session=session)
        fetch(httpserver.url_for("/ua.xml"), session=session)

    version = importlib.metadata.version("newsbeam")
    assert agents == [f"newsbeam/{version} (+https://github.com/newsbeam/newsbeam)"] * 2


def test_connection_refused_is_data(httpserver):
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    fetched, error_class = fetch(f"http://127.0.0.1:{port}/feed.xml")

    assert error_class == "ConnectionError"
    assert fetched.error == f"cannot connect to 127.0.0.1:{port}: Connection refused"
    assert (fetched.status, fetched.body) == (None, None)


def test_local_file_and_file_url(tmp_path):
    path = tmp_path / "feed.xml"
    path.write_bytes(RSS)

    by_path, _ = fetch(str(path))
    by_url, _ = fetch(path.as_uri())

    for fetched in (by_path, by_url):
        assert (fetched.status, fetched.body, fetched.error) == (200, RSS, None)
        assert fetched.content_type == "application/xml"
        assert fetched.fetched_at == FETCHED_AT
    assert by_path.final_url == str(path)


def test_missing_local_file(tmp_path):
    path = tmp_path / "nope.xml"

    fetched, error_class = fetch(str(path))

    assert (error_class, fetched.error, fetched.status, fetched.body) == (
        "NotFound",
        f"no such file: {path}",
        None,
        None,
    )


def test_local_file_over_the_cap(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(b"z" * 2049)

    fetched, error_class = fetch(str(path), FetchSettings(max_bytes=2048))

    assert (error_class, fetched.error) == ("TooLarge", "body exceeds the 2048-byte cap")


@pytest.mark.parametrize("url", ["ftp://example.com/feed.xml", "javascript:alert(1)", "gopher://x/1"])
def test_unsupported_scheme(url):
    fetched, error_class = fetch(url)

    assert error_class == "UnsupportedScheme"
    assert fetched.error.startswith("unsupported scheme")
    assert (fetched.status, fetched.body, fetched.final_url) == (None, None, url)


def test_relative_path_is_refused():
    fetched, error_class = fetch("feeds/local.xml")

    assert (error_class, fetched.error) == (
        "InvalidURL",
        "not an absolute path or an http(s) URL: feeds/local.xml",
    )


def test_fetch_feed_returns_the_record_only(tmp_path):
    fetched = fetch_feed(FeedSpec(str(tmp_path / "x.xml")), None, FAST, now=lambda: FETCHED_AT)

    assert fetched.error == f"no such file: {tmp_path / 'x.xml'}"


def test_settings_are_validated():
    with pytest.raises(ValueError, match="max_bytes must be positive"):
        FetchSettings(max_bytes=0)
    with pytest.raises(ValueError, match="retries must not be negative"):
        FetchSettings(retries=-1)
    with pytest.raises(ValueError, match="per_host_concurrency must be at least 1"):
        FetchSettings(per_host_concurrency=0)
    with pytest.raises(ValueError, match="lanes must be at least 1"):
        FetchSettings(lanes=0)
    with pytest.raises(ValueError, match="per_host_interval_s must not be negative"):
        FetchSettings(per_host_interval_s=-1)


def test_fetch_feeds_pipeline_keeps_every_attempt(httpserver):
    httpserver.expect_request("/good.xml").respond_with_data(RSS, content_type="application/rss+xml")
    httpserver.expect_request("/gone.xml").respond_with_data("", status=404)
    good, gone = httpserver.url_for("/good.xml"), httpserver.url_for("/gone.xml")

    with make_test_pipeline() as p:
        # (spec, previous state) pairs; a bare FeedSpec is taken as a feed without state
        out = p | beam.Create([(FeedSpec(good), None), (FeedSpec(gone), None)]) | FetchFeeds(FAST)
        assert_that(
            out.main | "Attempts" >> beam.Map(lambda f: (f.feed.url, f.status, f.body, f.error)),
            equal_to([(good, 200, RSS, None), (gone, 404, None, "HTTP 404 Not Found")]),
            label="EveryAttempt",
        )
        assert_that(
            out.dead_letters
            | "Letters" >> beam.Map(lambda d: (d.stage, d.feed_url, d.error_class, d.message)),
            equal_to([("fetch", gone, "HTTPError", "HTTP 404 Not Found")]),
            label="OneDeadLetter",
        )


def test_fetch_feeds_outputs_state_and_skips_a_feed_backing_off(httpserver):
    httpserver.expect_request("/good.xml").respond_with_data(RSS, headers={"ETag": '"g1"'})
    httpserver.expect_request("/gone.xml").respond_with_data("", status=404)
    good, gone, resting = (httpserver.url_for(f"/{name}.xml") for name in ("good", "gone", "resting"))
    now = dt.datetime.now(dt.UTC)  # the DoFn reads the real clock
    backing_off = FeedState(
        resting, FETCHED_AT, consecutive_failures=2, next_poll_at=now + dt.timedelta(days=1)
    )
    feeds = [(FeedSpec(good), None), (FeedSpec(gone), None), (FeedSpec(resting), backing_off)]

    with make_test_pipeline() as p:
        out = p | beam.Create(feeds) | FetchFeeds(FAST)
        assert_that(
            out.main | "Attempts" >> beam.Map(lambda f: (f.feed.url, f.status, f.skipped, f.error_class)),
            equal_to(
                [(good, 200, False, None), (gone, 404, False, "HTTPError"), (resting, None, True, None)]
            ),
            label="EveryFeed",
        )
        assert_that(
            out.state | "States" >> beam.Map(lambda s: (s.feed_url, s.consecutive_failures, s.etag)),
            equal_to([(good, 0, '"g1"'), (gone, 1, None), (resting, 2, None)]),
            label="OneStatePerFeed",
        )
        assert_that(
            out.state | "Unchanged" >> beam.Filter(lambda s: s.feed_url == resting),
            equal_to([backing_off]),
            label="SkippedStateUnchanged",
        )
        assert_that(
            out.dead_letters | "Letters" >> beam.Map(lambda d: d.feed_url),
            equal_to([gone]),
            label="DeadLetterOnlyForTheFailure",
        )
    assert [r.path for r, _ in httpserver.log].count("/resting.xml") == 0


# Conditional GET

LAST_MODIFIED = "Tue, 21 May 2024 08:00:00 GMT"


def _validating(seen: list[dict[str, str | None]], etag: str = '"v1"'):
    """A handler that answers 304 to a request carrying `etag`, else 200 with both validators."""

    def handler(request: Request) -> Response:
        sent = {name: request.headers.get(name) for name in ("If-None-Match", "If-Modified-Since")}
        seen.append(sent)
        if sent["If-None-Match"] == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(RSS, headers={"ETag": etag, "Last-Modified": LAST_MODIFIED})

    return handler


def test_304_round_trip_sends_the_validators_of_the_last_200(httpserver):
    seen: list[dict[str, str | None]] = []
    httpserver.expect_request("/feed.xml").respond_with_handler(_validating(seen))
    url = httpserver.url_for("/feed.xml")

    first, _ = fetch(url)
    state = next_state(None, first, FAST)
    an_hour_later = FETCHED_AT + dt.timedelta(hours=1)
    second, _ = fetch(url, state=state, at=an_hour_later)

    assert (first.status, first.etag, first.last_modified) == (200, '"v1"', LAST_MODIFIED)
    assert state == FeedState(url, FETCHED_AT, '"v1"', LAST_MODIFIED, last_ok_at=FETCHED_AT)
    assert seen[0] == {"If-None-Match": None, "If-Modified-Since": None}
    assert seen[1] == {"If-None-Match": '"v1"', "If-Modified-Since": LAST_MODIFIED}
    assert (second.status, second.not_modified, second.body, second.error) == (304, True, None, None)
    # a 304 keeps the validators and last_ok_at: only the time of the attempt moves
    assert next_state(state, second, FAST) == replace(state, updated_at=an_hour_later)


def test_no_validators_after_a_day_without_a_200(httpserver):
    seen: list[dict[str, str | None]] = []
    httpserver.expect_request("/feed.xml").respond_with_handler(_validating(seen))
    url = httpserver.url_for("/feed.xml")
    settings = replace(FAST, unconditional_after_s=86400)
    stale = FeedState(url, FETCHED_AT, '"v1"', LAST_MODIFIED, last_ok_at=FETCHED_AT - dt.timedelta(hours=25))

    fetched, _ = fetch(url, settings, state=stale)

    assert seen == [{"If-None-Match": None, "If-Modified-Since": None}]  # the bogus-304 guard
    assert (fetched.status, fetched.body) == (200, RSS)
    assert next_state(stale, fetched, settings).last_ok_at == FETCHED_AT


def test_plan_validators():
    state = FeedState("u", FETCHED_AT, '"e"', LAST_MODIFIED, last_ok_at=FETCHED_AT)
    an_hour_later = FETCHED_AT + dt.timedelta(hours=1)

    assert plan_validators(None, FAST, FETCHED_AT) == {}
    assert plan_validators(replace(state, last_ok_at=None), FAST, FETCHED_AT) == {}
    assert plan_validators(state, FAST, an_hour_later) == {
        "If-None-Match": '"e"',
        "If-Modified-Since": LAST_MODIFIED,
    }
    assert plan_validators(replace(state, etag=None), FAST, an_hour_later) == {
        "If-Modified-Since": LAST_MODIFIED
    }
    assert plan_validators(state, replace(FAST, unconditional_after_s=3599), an_hour_later) == {}


def test_304_to_an_unconditional_request_is_an_error(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_response(Response(status=304))

    fetched, error_class = fetch(httpserver.url_for("/feed.xml"))

    assert (error_class, fetched.not_modified) == ("HTTPError", False)
    assert fetched.error == "HTTP 304 Not Modified to a request without validators"


# Failing feeds


def test_failing_feed_backs_off_doubling_capped_and_a_200_resets(httpserver):
    answer = {"status": 500}
    seen = []

    def handler(request: Request) -> Response:
        seen.append(1)
        return Response(RSS if answer["status"] == 200 else "down", status=answer["status"])

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    url = httpserver.url_for("/feed.xml")
    settings = replace(FAST, retries=0, failure_backoff_s=60, max_failure_backoff_s=150)
    t0 = FETCHED_AT

    first, _ = fetch(url, settings, at=t0)
    state1 = next_state(None, first, settings)
    assert (state1.consecutive_failures, state1.next_poll_at) == (1, t0 + dt.timedelta(seconds=60))

    # not due: no request, the state stays as it was
    waiting, _ = fetch(url, settings, state=state1, at=t0 + dt.timedelta(seconds=30))
    assert len(seen) == 1
    assert (waiting.skipped, waiting.status, waiting.error_class) == (True, None, None)
    assert waiting.error == "backing off after 1 consecutive failures until 2024-05-21T12:01:00+00:00"
    assert waiting.next_poll_at == state1.next_poll_at
    assert next_state(state1, waiting, settings) is state1

    at2 = t0 + dt.timedelta(seconds=60)
    state2 = next_state(state1, fetch(url, settings, state=state1, at=at2)[0], settings)
    assert (state2.consecutive_failures, state2.next_poll_at) == (2, at2 + dt.timedelta(seconds=120))

    at3 = at2 + dt.timedelta(seconds=120)
    state3 = next_state(state2, fetch(url, settings, state=state2, at=at3)[0], settings)
    assert (state3.consecutive_failures, state3.next_poll_at) == (3, at3 + dt.timedelta(seconds=150))  # cap

    answer["status"] = 200
    at4 = at3 + dt.timedelta(seconds=150)
    recovered, _ = fetch(url, settings, state=state3, at=at4)
    state4 = next_state(state3, recovered, settings)
    assert (recovered.status, state4.consecutive_failures, state4.next_poll_at) == (200, 0, None)
    assert (state4.last_ok_at, state4.updated_at) == (at4, at4)
    assert len(seen) == 4


def test_failure_backoff_defaults_grow_to_a_day_and_never_stop():
    settings = FetchSettings()

    assert [failure_backoff_s(n, settings) for n in (1, 2, 3, 7, 8)] == [900, 1800, 3600, 57600, 86400]
    assert failure_backoff_s(100_000, settings) == 86400  # no overflow, still polled daily
    assert is_due(None, FETCHED_AT)
    assert is_due(FeedState("u", FETCHED_AT, next_poll_at=FETCHED_AT), FETCHED_AT)
    assert not is_due(
        FeedState("u", FETCHED_AT, next_poll_at=FETCHED_AT), FETCHED_AT - dt.timedelta(seconds=1)
    )


# Redirects and forbidden addresses


@pytest.mark.parametrize("status", [301, 308])
def test_permanent_redirect_is_recorded(httpserver, status):
    httpserver.expect_request("/old.xml").respond_with_response(
        Response("", status=status, headers={"Location": "/moved.xml"})
    )
    httpserver.expect_request("/moved.xml").respond_with_response(_redirect("/new.xml"))  # then a 302
    httpserver.expect_request("/new.xml").respond_with_data(RSS)
    new = httpserver.url_for("/new.xml")

    fetched, _ = fetch(httpserver.url_for("/old.xml"))

    assert (fetched.status, fetched.final_url, fetched.permanent_redirect) == (200, new, new)
    assert next_state(None, fetched, FAST).moved_to == new


def test_temporary_redirect_is_not_a_move(httpserver):
    httpserver.expect_request("/r1").respond_with_response(_redirect("/feed.xml"))
    httpserver.expect_request("/feed.xml").respond_with_data(RSS)

    fetched, _ = fetch(httpserver.url_for("/r1"))

    assert fetched.permanent_redirect is None
    assert next_state(FeedState("u", FETCHED_AT, moved_to="x"), fetched, FAST).moved_to == "x"


@pytest.fixture
def connects(monkeypatch):
    """Every (host, port) urllib3 opens a connection to."""
    seen = []
    real = urllib3.util.connection.create_connection

    def recording(address, *args, **kwargs):
        seen.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording)
    return seen


def test_redirect_to_the_metadata_address_is_refused_before_connecting(httpserver, connects):
    location = "http://169.254.169.254/latest/meta-data/"
    httpserver.expect_request("/feed.xml").respond_with_response(_redirect(location))

    fetched, error_class = fetch(httpserver.url_for("/feed.xml"))

    assert (error_class, fetched.body, fetched.final_url) == ("Forbidden", None, location)
    assert fetched.error == "redirect to a forbidden address: 169.254.169.254 is a cloud metadata address"
    assert [host for host, _ in connects] == ["localhost"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a cloud metadata address"),
        ("http://169.254.10.20/feed.xml", "169.254.10.20 is link-local"),
        ("https://[fe80::1]/feed.xml", "fe80::1 is link-local"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254 is a cloud metadata address"),
        ("http://[::ffff:169.254.169.254]/", "169.254.169.254 is a cloud metadata address"),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "metadata.google.internal is a cloud metadata service",
        ),
        ("http://METADATA./computeMetadata/v1/", "metadata is a cloud metadata service"),
    ],
)
def test_metadata_and_link_local_addresses_are_never_fetched(url, reason, connects):
    fetched, error_class = fetch(url)

    assert (error_class, fetched.error) == ("Forbidden", f"forbidden address: {reason}")
    assert connects == []


def test_loopback_named_directly_is_allowed(httpserver):
    httpserver.expect_request("/feed.xml").respond_with_data(RSS)

    fetched, _ = fetch(f"http://127.0.0.1:{httpserver.port}/feed.xml")

    assert (fetched.status, fetched.body) == (200, RSS)


@pytest.fixture
def public_names(monkeypatch):
    """public.example and rebind.example: public addresses to the redirect rule, loopback to the socket
    (as DNS that answers differently from one query to the next would)."""
    seen_by_policy = {"public.example": "93.184.216.34", "rebind.example": "93.184.216.35"}
    real_addresses, real_getaddrinfo = fetch_module._addresses, socket.getaddrinfo

    def policy_view(host, port):
        if host in seen_by_policy:
            return [fetch_module._ip(seen_by_policy[host])]
        return real_addresses(host, port)

    def socket_view(host, *args, **kwargs):
        return real_getaddrinfo("127.0.0.1" if host in seen_by_policy else host, *args, **kwargs)

    monkeypatch.setattr(fetch_module, "_addresses", policy_view)
    monkeypatch.setattr(socket, "getaddrinfo", socket_view)


def test_redirect_from_a_public_address_to_loopback_is_refused(httpserver, public_names):
    inside = f"http://127.0.0.1:{httpserver.port}/admin"
    httpserver.expect_request("/feed.xml").respond_with_response(_redirect(inside))
    httpserver.expect_request("/admin").respond_with_data("secret")

    fetched, error_class = fetch(f"http://public.example:{httpserver.port}/feed.xml")

    assert (error_class, fetched.final_url) == ("Forbidden", inside)
    assert fetched.error == "redirect from a public address to a non-public one: 127.0.0.1 (127.0.0.1)"
    assert [request.path for request, _ in httpserver.log] == ["/feed.xml"]


def test_dns_rebinding_after_a_public_redirect_is_caught_at_connect(httpserver, public_names):
    httpserver.expect_request("/feed.xml").respond_with_response(
        _redirect(f"http://rebind.example:{httpserver.port}/admin")
    )
    httpserver.expect_request("/admin").respond_with_data("secret")

    fetched, error_class = fetch(f"http://public.example:{httpserver.port}/feed.xml")

    assert error_class == "Forbidden"
    assert fetched.error == (
        "forbidden address: rebind.example connected to 127.0.0.1, "
        "not public, after a redirect from a public address"
    )
    assert [request.path for request, _ in httpserver.log] == ["/feed.xml"]


def test_brotli_body_is_decoded(httpserver):
    import brotli  # a dependency (Accept-Encoding: br), so never skipped

    encodings = []

    def handler(request: Request) -> Response:
        encodings.append(request.headers.get("Accept-Encoding"))
        return Response(brotli.compress(RSS), headers={"Content-Encoding": "br"})

    httpserver.expect_request("/br.xml").respond_with_handler(handler)

    fetched, _ = fetch(httpserver.url_for("/br.xml"))

    assert fetched.body == RSS
    assert encodings == ["gzip, deflate, br"]


# Politeness


def test_host_key_and_lane():
    assert host_key("HTTP://Example.COM.:8080/rss") == "example.com"
    assert host_key("http://bücher.example/rss") == "xn--bcher-kva.example"
    assert host_key("/srv/feeds/a.xml") == ""
    assert lane_of("example.com", 8) == zlib.crc32(b"example.com") % 8  # stable across processes


def test_feeds_of_a_host_share_its_lane_and_each_local_file_has_a_key_of_its_own():
    assert fetch_key("http://example.com/a.rss", 8) == fetch_key("https://EXAMPLE.com/b.rss", 8)
    assert fetch_key("http://example.com/a.rss", 8) == lane_of("example.com", 8)
    files = [fetch_key(f"/srv/feeds/feed-{n:04d}.xml", 8) for n in range(20)]
    assert len(set(files)) == 20
    assert min(files) >= 8  # never a host's lane: a file does not wait behind a host's feeds


def test_retries_and_redirects_wait_their_turn(httpserver):
    starts: list[tuple[str, float]] = []
    feed_calls = []

    def recorded(respond):
        def handler(request: Request) -> Response:
            starts.append((request.path, time.monotonic()))
            return respond()

        return handler

    def busy_once() -> Response:
        feed_calls.append(1)
        return Response("busy", status=503) if len(feed_calls) == 1 else Response(RSS)

    httpserver.expect_request("/r1").respond_with_handler(recorded(lambda: _redirect("/feed.xml")))
    httpserver.expect_request("/feed.xml").respond_with_handler(recorded(busy_once))
    settings = replace(FAST, per_host_interval_s=0.2)

    with make_session(settings) as session:  # the limiter lives in the session, as in the DoFn
        first, _ = fetch(httpserver.url_for("/r1"), settings, session)  # -> /feed.xml: 503, retried: 200
        second, _ = fetch(httpserver.url_for("/feed.xml"), settings, session)

    assert (first.status, second.status) == (200, 200)
    assert [path for path, _ in starts] == ["/r1", "/feed.xml", "/feed.xml", "/feed.xml"]
    times = [moment for _, moment in starts]
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2 - 0.02


@pytest.fixture
def any_loopback_server():
    """A threaded server on every address, so 127.0.0.1 and 127.0.0.2 are two hosts on one port."""
    server = HTTPServer(host="0.0.0.0", threaded=True)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


def test_per_host_limits_hold_through_fetch_feeds_and_hosts_run_in_parallel(any_loopback_server):
    server = any_loopback_server
    lock = threading.Lock()
    starts: dict[str, list[float]] = collections.defaultdict(list)
    in_flight: collections.Counter[str] = collections.Counter()
    peak: collections.Counter[str] = collections.Counter()

    def slow(request: Request) -> Response:
        host = request.host.split(":")[0]
        with lock:
            starts[host].append(time.monotonic())
            in_flight[host] += 1
            peak[host] = max(peak[host], in_flight[host])
            peak["all"] = max(peak["all"], sum(in_flight[h] for h in ("127.0.0.1", "127.0.0.2")))
        time.sleep(0.5)  # longer than the interval, so a third request would overlap without the limit
        with lock:
            in_flight[host] -= 1
        return Response(RSS)

    server.expect_request(re.compile(r"/feed-\d+\.xml")).respond_with_handler(slow)
    urls = [f"http://127.0.0.{h}:{server.port}/feed-{i}.xml" for h in (1, 2) for i in range(6)]
    # one lane, so that both hosts are in one DoFn call: across lanes, parallelism comes from workers
    settings = replace(FAST, per_host_concurrency=2, per_host_interval_s=0.2, lanes=1)

    with make_test_pipeline() as p:
        out = p | beam.Create([(FeedSpec(url), None) for url in urls]) | FetchFeeds(settings)
        assert_that(out.main | beam.Map(lambda f: (f.feed.url, f.status)), equal_to([(u, 200) for u in urls]))

    for host in ("127.0.0.1", "127.0.0.2"):
        times = sorted(starts[host])
        assert len(times) == 6
        assert min(b - a for a, b in itertools.pairwise(times)) >= 0.2 - 0.02, host
        assert peak[host] == 2, host
    assert peak["all"] > 2  # the two hosts were fetched side by side


def test_endless_body_is_cut_at_the_cap_with_memory_flat(httpserver):
    chunk = b"x" * 65536

    def endless():
        while True:
            yield chunk

    httpserver.expect_request("/endless.xml").respond_with_response(Response(endless()))
    cap = 5_000_000
    # A separate client process: tracemalloc there sees the client's allocations only, not the server's.
    client = textwrap.dedent(
        f"""
        import sys, tracemalloc
        from newsbeam.transforms.fetch import FetchSettings, fetch_feed, utcnow
        from newsbeam.transforms.records import FeedSpec
        settings = FetchSettings(max_bytes={cap}, retries=0)
        tracemalloc.start()
        fetched = fetch_feed(FeedSpec(sys.argv[1]), None, settings, now=utcnow)
        print(fetched.error_class, tracemalloc.get_traced_memory()[1])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", client, httpserver.url_for("/endless.xml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    error_class, peak = result.stdout.split()

    assert error_class == "TooLarge"
    assert int(peak) < 1.5 * cap  # the capped body plus a chunk or two: never the stream
