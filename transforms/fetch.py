"""Fetch stage: one FeedSpec in, one FetchedFeed out, network failures as data.

`fetch_feed` is the plain function (tested against a loopback server); `FetchFeeds` is the composite that
spreads feeds across workers, fetches each with one pooled session per DoFn instance, and emits every
attempt, failed ones included, because feed health needs them. Each failed attempt is also a dead letter.

    >>> fetch_feed(FeedSpec("https://example.com/rss"), None, FetchSettings(), now=utcnow)
    FetchedFeed(feed=..., final_url='https://example.com/rss', status=200, body=b'<?xml ...', ...)
    >>> fetch_feed(FeedSpec("/srv/feeds/missing.xml"), None, FetchSettings(), now=utcnow).error
    'no such file: /srv/feeds/missing.xml'

Counters (namespace "fetch"): `fetched` attempts that returned a body, `failed` attempts that did not,
`bytes` body bytes received, and StageFn's `dead_letters`.

Conditional GET (validators from _state/) and per-host politeness are a later issue: both key by host, so
they slot in between the reshuffle and the fetch, and `_request_headers` is where validators would go.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http
import importlib.metadata
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import apache_beam as beam
import requests
import urllib3.exceptions
from apache_beam.metrics import Metrics
from requests.adapters import HTTPAdapter
from requests.utils import requote_uri
from urllib3.util.retry import Retry

from newsbeam.transforms.deadletters import DEAD_LETTERS, StageFn, StageOutput
from newsbeam.transforms.records import DeadLetter, FeedSpec, FetchedFeed, truncate_raw

log = logging.getLogger(__name__)

_CHUNK_BYTES = 64 * 1024
# 501 and 505 say the server will never do it; every other 5xx may be transient.
_RETRY_STATUSES = frozenset({429, *range(500, 600)} - {501, 505})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# Extensions of local feed files; anything else is left without a type and the parser sniffs the body.
_FILE_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
}


def _default_user_agent() -> str:
    try:
        version = importlib.metadata.version("newsbeam")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree that was never installed
        version = "0"
    return f"newsbeam/{version} (+https://github.com/newsbeam/newsbeam)"


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How feeds are fetched. Times in seconds.

    `total_timeout_s` caps one HTTP attempt, counted from sending the request: the body download is cut off
    when it runs out. Until the headers arrive, the connect and read timeouts (each at most the total) are
    the bound. Waits between retries are not counted: they are bounded by `retries` x `max_retry_after_s`.
    """

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 20.0  # longest silence while waiting for headers or the next body bytes
    total_timeout_s: float = 30.0
    max_bytes: int = 10_000_000  # of the decoded body: a gzip bomb stops here too
    retries: int = 3  # on connection errors, 429 and 5xx; a read timeout is not retried
    backoff_s: float = 0.5  # urllib3 backoff factor and the jitter added to each wait
    max_retry_after_s: float = 60.0
    max_redirects: int = 5
    user_agent: str = field(default_factory=_default_user_agent)

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s", "max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchSettings.{name} must be positive, got {getattr(self, name)!r}")
        for name in ("retries", "backoff_s", "max_retry_after_s", "max_redirects"):
            if getattr(self, name) < 0:
                raise ValueError(f"FetchSettings.{name} must not be negative, got {getattr(self, name)!r}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# When the current HTTP attempt started, per thread: urllib3 retries inside one `session.get`, so the
# retry policy records each new attempt here and the body deadline counts from the attempt that answered.
_attempt = threading.local()


class _FeedRetry(Retry):
    """urllib3's Retry with Retry-After capped, read timeouts not retried, and attempt starts recorded."""

    def __init__(self, *args, retry_after_cap: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap

    def new(self, **kw):
        kw.setdefault("retry_after_cap", self.retry_after_cap)  # urllib3 copies only its own fields
        return super().new(**kw)

    def get_retry_after(self, response) -> float | None:
        try:
            seconds = super().get_retry_after(response)
        except urllib3.exceptions.InvalidHeader:  # a garbled Retry-After falls back to our own backoff
            return None
        return None if seconds is None else min(seconds, self.retry_after_cap)

    def increment(self, *args, **kwargs):
        if isinstance(kwargs.get("error"), urllib3.exceptions.ReadTimeoutError):
            # A server that let one read time out will most likely stall again: retrying only multiplies
            # the worst case. Resets and refused connections are still retried.
            raise kwargs["error"]
        response = kwargs.get("response")
        if response is not None:
            # urllib3 drains a response it retries away from by reading the whole body into memory, so a
            # 503 with an endless body would get round max_bytes. Closing it costs only a reconnect.
            response.close()
        return super().increment(*args, **kwargs)

    def sleep(self, response=None) -> None:
        super().sleep(response)
        _attempt.started = time.monotonic()


def make_session(settings: FetchSettings) -> requests.Session:
    """A pooled session with the retry policy of `settings` mounted for http and https."""
    retry = _FeedRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        status=settings.retries,
        other=0,
        redirect=False,  # redirects are followed by fetch_feed, one bounded hop at a time
        allowed_methods=frozenset({"GET"}),
        status_forcelist=_RETRY_STATUSES,
        backoff_factor=settings.backoff_s,
        backoff_jitter=settings.backoff_s,
        backoff_max=settings.max_retry_after_s,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last 5xx comes back as a response and becomes "HTTP 503 ..."
        retry_after_cap=settings.max_retry_after_s,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = settings.max_redirects
    session.headers["User-Agent"] = settings.user_agent
    return session


class _Failure(Exception):
    """A fetch that produced no usable body: `error_class` for the dead letter, the message for both."""

    def __init__(
        self, error_class: str, message: str, *, status: int | None = None, final_url: str | None = None
    ):
        super().__init__(message)
        self.error_class = error_class
        self.status = status
        self.final_url = final_url


def fetch_feed(
    feed: FeedSpec,
    session: requests.Session | None,
    settings: FetchSettings,
    *,
    now: Callable[[], dt.datetime],
) -> FetchedFeed:
    """Fetch one feed: an http(s) URL through `session` (one from `make_session`, or None for a throwaway),
    or a local file. Never raises for network or file problems: they come back in `error` and
    `error_class` ("HTTPError", "Timeout", "TooLarge", "NotFound", ...), with no body."""
    fetched_at = now()
    start = time.monotonic()
    try:
        kind, target = _route(feed.url)
        if kind == "file":
            fetched = _fetch_file(feed, Path(target), settings, fetched_at)
        elif session is None:
            with make_session(settings) as throwaway:
                fetched = _fetch_http(feed, throwaway, settings, fetched_at)
        else:
            fetched = _fetch_http(feed, session, settings, fetched_at)
    except _Failure as failure:
        fetched = FetchedFeed(
            feed=feed,
            fetched_at=fetched_at,
            final_url=failure.final_url or feed.url,
            status=failure.status,
            error=str(failure),
            error_class=failure.error_class,
        )
    return replace(fetched, duration_ms=_elapsed_ms(start))


def _elapsed_ms(start: float) -> int:
    return int((time.monotonic() - start) * 1000)


def _route(url: str) -> tuple[str, str]:
    """("http", url) or ("file", path), or a _Failure naming why the feed address cannot be fetched."""
    if url.startswith("/"):
        return "file", url
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:  # "Invalid IPv6 URL" and the like
        raise _Failure("InvalidURL", f"invalid URL {url}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not host:
            raise _Failure("InvalidURL", f"invalid URL (no host): {url}")
        return "http", url
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _Failure("UnsupportedScheme", f"unsupported scheme: file URL on another host: {url}")
        return "file", url2pathname(parts.path)
    if not scheme:
        raise _Failure("InvalidURL", f"not an absolute path or an http(s) URL: {url}")
    raise _Failure(
        "UnsupportedScheme", f"unsupported scheme {scheme!r}: only http(s) URLs and local paths are fetched"
    )


def _fetch_file(feed: FeedSpec, path: Path, settings: FetchSettings, fetched_at: dt.datetime) -> FetchedFeed:
    try:
        with path.open("rb") as handle:
            body = handle.read(settings.max_bytes + 1)  # one byte more tells "too large" from "exactly full"
    except FileNotFoundError:
        raise _Failure("NotFound", f"no such file: {path}") from None
    except IsADirectoryError:
        raise _Failure("NotAFile", f"not a file: {path}") from None
    except PermissionError:
        raise _Failure("PermissionDenied", f"permission denied: {path}") from None
    except OSError as exc:
        raise _Failure("ReadError", f"cannot read {path}: {exc.strerror or exc}") from None
    if len(body) > settings.max_bytes:
        raise _Failure("TooLarge", f"body exceeds the {settings.max_bytes}-byte cap")
    return FetchedFeed(
        feed=feed,
        fetched_at=fetched_at,
        final_url=feed.url,
        status=200,
        body=body,
        content_type=_FILE_TYPES.get(path.suffix.lower()),
    )


def _request_headers(settings: FetchSettings) -> dict[str, str]:
    return {"User-Agent": settings.user_agent, "Accept": _ACCEPT}


def _fetch_http(
    feed: FeedSpec, session: requests.Session, settings: FetchSettings, fetched_at: dt.datetime
) -> FetchedFeed:
    url = feed.url
    for followed in range(settings.max_redirects + 1):
        response = _get(session, url, settings)
        target = session.get_redirect_target(response)
        if target is None:
            break
        response.close()  # never read a redirect's body: requests would, without a size cap
        if followed == settings.max_redirects:
            raise _Failure("TooManyRedirects", f"more than {settings.max_redirects} redirects", final_url=url)
        url = urljoin(response.url, requote_uri(target))
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            raise _Failure("UnsupportedScheme", f"unsupported scheme: redirect to {url}", final_url=url)
    with response:
        return _read_response(feed, response, settings, fetched_at)


def _get(session: requests.Session, url: str, settings: FetchSettings) -> requests.Response:
    _attempt.started = time.monotonic()
    timeout = (
        min(settings.connect_timeout_s, settings.total_timeout_s),
        min(settings.read_timeout_s, settings.total_timeout_s),
    )
    try:
        return session.get(
            url, headers=_request_headers(settings), timeout=timeout, stream=True, allow_redirects=False
        )
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        error_class, message = _describe_network_error(exc, url, settings)
        raise _Failure(error_class, message, final_url=url) from None


def _read_response(
    feed: FeedSpec, response: requests.Response, settings: FetchSettings, fetched_at: dt.datetime
) -> FetchedFeed:
    status = response.status_code
    final_url = response.url
    content_type = response.headers.get("Content-Type")
    if status == http.HTTPStatus.NOT_MODIFIED:
        return FetchedFeed(
            feed, fetched_at, final_url, status=status, content_type=content_type, not_modified=True
        )
    if not 200 <= status < 300:  # 4xx, 5xx, or a 3xx without a usable Location
        raise _Failure("HTTPError", f"HTTP {status} {_reason(response)}", status=status, final_url=final_url)

    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > settings.max_bytes:  # compressed size <= decoded size
        raise _Failure(
            "TooLarge", f"body exceeds the {settings.max_bytes}-byte cap", status=status, final_url=final_url
        )

    deadline = getattr(_attempt, "started", time.monotonic()) + settings.total_timeout_s
    too_large = _Failure(
        "TooLarge", f"body exceeds the {settings.max_bytes}-byte cap", status=status, final_url=final_url
    )
    too_slow = _Failure(
        "Timeout",
        f"total timeout: the response took longer than {settings.total_timeout_s:g} s",
        status=status,
        final_url=final_url,
    )
    body = bytearray()
    watchdog = _Watchdog(response, deadline - time.monotonic())
    try:
        with watchdog:
            for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
                body += chunk
                if len(body) > settings.max_bytes:
                    raise too_large
                if time.monotonic() > deadline:  # in case the watchdog could not shut the socket
                    raise too_slow
    except _Failure:
        raise
    except Exception as exc:
        if not watchdog.fired:
            error_class, message = _describe_network_error(exc, final_url, settings)
            raise _Failure(error_class, message, status=status, final_url=final_url) from None
    if watchdog.fired:
        raise too_slow
    return FetchedFeed(
        feed, fetched_at, final_url, status=status, body=bytes(body), content_type=content_type
    )


class _Watchdog:
    """Ends a download that outlives its deadline. A read timeout only catches silence: a server trickling
    a byte a second never trips it, so at the deadline the socket is shut down, and the blocked read
    returns at once."""

    def __init__(self, response: requests.Response, seconds: float) -> None:
        self.fired = False
        self._raw = response.raw
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired = True
        # Already released, or an urllib3 without shutdown(): the read timeout is then the only bound.
        with contextlib.suppress(Exception):
            self._raw.shutdown()

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()


def _reason(response: requests.Response) -> str:
    try:
        return http.HTTPStatus(response.status_code).phrase
    except ValueError:  # a non-standard code: keep what the server said
        return response.reason or "Unknown"


def _describe_network_error(exc: BaseException, url: str, settings: FetchSettings) -> tuple[str, str]:
    """(error class, one-line message) for an exception from requests or urllib3."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.ConnectTimeout) or _is_connect_timeout(exc):
        return "Timeout", f"connect timeout: no connection to {host} within {settings.connect_timeout_s:g} s"
    if isinstance(exc, requests.ReadTimeout) or _caused_by(exc, urllib3.exceptions.ReadTimeoutError):
        return "Timeout", f"read timeout: {host} sent nothing for {settings.read_timeout_s:g} s"
    if isinstance(exc, requests.exceptions.SSLError):
        return "SSLError", f"TLS error with {host}: {_innermost(exc)}"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return "DecodingError", f"cannot decode the compressed body from {host}: {_innermost(exc)}"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "ConnectionError", f"connection broken while reading the body from {host}: {_innermost(exc)}"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema, ValueError)):
        return "InvalidURL", f"invalid URL {url}: {_innermost(exc)}"
    if isinstance(exc, (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError)):
        return "ConnectionError", f"cannot connect to {host}: {_innermost(exc)}"
    return type(exc).__name__, f"{type(exc).__name__} fetching {url}: {_innermost(exc)}"


def _causes(exc: BaseException) -> Iterable[BaseException]:
    """The exception and everything it wraps: requests and urllib3 nest the real cause two or three deep."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        nested += [arg for arg in current.args if isinstance(arg, BaseException)]
        todo.extend(item for item in nested if isinstance(item, BaseException))


def _is_connect_timeout(exc: BaseException) -> bool:
    # urllib3 files a refused connection (NewConnectionError) under ConnectTimeoutError too.
    return any(
        isinstance(item, urllib3.exceptions.ConnectTimeoutError)
        and not isinstance(item, urllib3.exceptions.NewConnectionError)
        for item in _causes(exc)
    )


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(item, kind) for item in _causes(exc))


def _innermost(exc: BaseException) -> str:
    """The most specific words available, e.g. "Connection refused" rather than a MaxRetryError repr."""
    chain = list(_causes(exc))
    for item in reversed(chain):
        if isinstance(item, OSError) and item.strerror:
            return item.strerror
    text = str(chain[-1]) or type(chain[-1]).__name__
    return text if len(text) <= 200 else text[:200] + "…"


class _FetchFn(StageFn):
    stage = "fetch"

    def __init__(self, settings: FetchSettings) -> None:
        super().__init__()
        self._settings = settings
        self._session: requests.Session | None = None
        self._fetched = Metrics.counter("fetch", "fetched")
        self._failed = Metrics.counter("fetch", "failed")
        self._bytes = Metrics.counter("fetch", "bytes")

    def setup(self) -> None:
        self._session = make_session(self._settings)

    def teardown(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def describe(self, element: FeedSpec) -> tuple[str | None, str | None]:
        return element.url, None

    def handle(self, element: FeedSpec) -> Iterable[object]:
        fetched = fetch_feed(element, self._session, self._settings, now=utcnow)
        yield fetched
        if fetched.error_class is None:
            self._fetched.inc()
            self._bytes.inc(len(fetched.body or b""))
            return
        self._failed.inc()
        self._dead.inc()
        log.info("fetch failed: %s: %s", element.url, fetched.error)
        yield beam.pvalue.TaggedOutput(
            DEAD_LETTERS,
            DeadLetter(
                stage=self.stage,
                feed_url=element.url,
                item=fetched.final_url if fetched.final_url != element.url else None,
                error_class=fetched.error_class,
                message=fetched.error or fetched.error_class,
                raw=truncate_raw(element),
                failed_at=fetched.fetched_at,
            ),
        )


@beam.typehints.with_input_types(FeedSpec)
class FetchFeeds(beam.PTransform):
    """PCollection[FeedSpec] -> StageOutput(main=every FetchedFeed attempt, dead_letters=one per failure)."""

    def __init__(self, settings: FetchSettings, label: str | None = None) -> None:
        super().__init__(label)
        self._settings = settings

    def expand(self, feeds: beam.PCollection) -> StageOutput:
        results = (
            feeds
            # A feed list arrives as one bundle; without a reshuffle one worker would fetch every feed.
            | "SpreadFeeds" >> beam.Reshuffle()
            | "FetchEach" >> beam.ParDo(_FetchFn(self._settings)).with_outputs(DEAD_LETTERS, main="fetched")
        )
        return StageOutput(main=results.fetched, dead_letters=results[DEAD_LETTERS])
