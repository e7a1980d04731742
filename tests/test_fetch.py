"""Fetch stage against a real loopback HTTP server (pytest-httpserver) and real files: no mocked HTTP."""

from __future__ import annotations

import gzip
import importlib.metadata
import socket
import threading
import time

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from werkzeug import Request, Response

from newsbeam.transforms.fetch import (
    FetchFeeds,
    FetchSettings,
    fetch_feed,
    make_session,
)
from newsbeam.transforms.records import FeedSpec
from tests.conftest import FETCHED_AT, make_test_pipeline

# Small numbers keep every failure path well under a second.
FAST = FetchSettings(
    connect_timeout_s=2.0,
    read_timeout_s=2.0,
    total_timeout_s=5.0,
    retries=3,
    backoff_s=0.01,
    max_retry_after_s=5.0,
)
RSS = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title></channel></rss>'


def fetch(url: str, settings: FetchSettings = FAST, session=None):
    """The fetched feed and its error class (None on success)."""
    fetched = fetch_feed(FeedSpec(url), session, settings, now=lambda: FETCHED_AT)
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
    settings = FetchSettings(retries=1, backoff_s=0.01, max_retry_after_s=0.3)

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

    fetched, error_class = fetch(httpserver.url_for("/r1"), FetchSettings(max_redirects=2))

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


def test_fetch_feeds_pipeline_keeps_every_attempt(httpserver):
    httpserver.expect_request("/good.xml").respond_with_data(RSS, content_type="application/rss+xml")
    httpserver.expect_request("/gone.xml").respond_with_data("", status=404)
    good, gone = httpserver.url_for("/good.xml"), httpserver.url_for("/gone.xml")

    with make_test_pipeline() as p:
        out = p | beam.Create([FeedSpec(good), FeedSpec(gone)]) | FetchFeeds(FAST)
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
