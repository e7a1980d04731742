"""Fetch stage: (FeedSpec, FeedState | None) in, one FetchedFeed per feed out, network failures as data.

`fetch_feed` is the plain function (tested against a loopback server); `FetchFeeds` is the composite.
`plan_validators`, `is_due` and `next_state` are the conditional-GET and failing-feed rules: pure functions
of the feed's previous FeedState, which the driver reads from and writes to OUTPUT/_state/feeds.

    >>> first = fetch_feed(FeedSpec("https://example.com/rss"), session, FetchSettings(), now=utcnow)
    FetchedFeed(feed=..., status=200, body=b'<?xml ...', etag='"v1"', last_modified='Tue, 21 May 2024 ...')
    >>> state = next_state(None, first, settings)      # last_ok_at = first.fetched_at, validators kept
    >>> fetch_feed(first.feed, session, settings, now=utcnow, state=state)   # sends If-None-Match: "v1"
    FetchedFeed(feed=..., status=304, body=None, not_modified=True, error=None, ...)

A failing feed is polled again after failure_backoff_s, doubling per consecutive failure up to
max_failure_backoff_s, and never given up on; until then `fetch_feed` returns it as `skipped` without a
request. After `unconditional_after_s` without a 200 no validators are sent, so a server that answers 304
wrongly cannot hide new items for longer than that.

Politeness, and why it holds with several workers
    FetchFeeds keys each feed by its host (the URL's host name, lower-cased) and each host by a lane,
    crc32(host) % lanes, then groups by lane: one DoFn call fetches one lane's feeds with a pool of
    `max_concurrency` threads. Every request the session sends (a feed's first request, each redirect hop,
    each urllib3 retry) first takes its host's gate: at most `per_host_concurrency` requests in flight
    (a slot is held until the body is read or the response closed) and at least `per_host_interval_s`
    between two request starts. A GroupByKey hands all the feeds of a lane, hence all of a host's feeds,
    to one DoFn call on one worker, so no other worker requests that host in the same pass however many
    workers run; the gates live in the session built in setup(), so they also space a host's requests
    across calls and polls on that worker. Caveat: a redirect to a *different* host is limited by this
    worker's gate only (that host's own feeds may sit in another lane, on another worker).
    Local files have no host: each gets a key of its own (`fetch_key`), so they spread over the workers.
    Within a lane, feeds start host by host in round-robin order, so one big host does not hold every
    thread while the others wait. Outputs are emitted from the DoFn's own thread (never a pool thread), each
    as soon as its fetch completes, so parsing downstream overlaps the fetches still running.

Security
    Only http(s) URLs and local paths are fetched. Link-local and cloud-metadata addresses (169.254.0.0/16,
    fe80::/10, fd00:ec2::254, 100.100.100.200; host names metadata.google.internal and metadata) are never
    fetched, named in the feed list or reached by a redirect: names and address literals are refused
    before any connection, and each new connection's peer address is checked too (a host name resolving
    to one of them). A redirect from a public address may only lead to a public one: the target's host is
    resolved and every address checked before connecting, and the connection checks again (DNS
    rebinding). Otherwise addresses named in the feed list are allowed, loopback and private ones
    included. A refusal is error_class "Forbidden" with a one-line reason.

Counters (namespace "fetch"): `fetched` attempts that returned a body, `not_modified` 304s, `skipped` feeds
backing off, `not_due` feeds whose own poll interval has not passed, `failed` attempts with an error,
`bytes` body bytes received, `dead_letters`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import functools
import heapq
import http
import importlib.metadata
import ipaddress
import itertools
import logging
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import apache_beam as beam
import requests
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions
import urllib3.util.request
from apache_beam.metrics import Metrics
from requests.adapters import HTTPAdapter
from requests.utils import requote_uri
from urllib3.util.retry import Retry

from newsbeam.transforms import progress
from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs
from newsbeam.transforms.records import DeadLetter, FeedSpec, FeedState, FetchedFeed, truncate_raw

log = logging.getLogger(__name__)

STATE = "state"  # the FeedState output of FetchFeeds

_CHUNK_BYTES = 64 * 1024
# 501 and 505 say the server will never do it; every other 5xx may be transient.
_RETRY_STATUSES = frozenset({429, *range(500, 600)} - {501, 505})
_PERMANENT_REDIRECTS = frozenset({301, 308})
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
# br only when urllib3 can decode it (the brotli or brotlicffi package is importable).
_ACCEPT_ENCODING = (
    "gzip, deflate, br" if "br" in urllib3.util.request.ACCEPT_ENCODING.split(",") else "gzip, deflate"
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
# Never fetched, whatever the feed list says: the cloud instance-metadata services (AWS, GCP, Azure, Oracle
# on 169.254.169.254, AWS over IPv6, Alibaba) besides all of link-local, which is_link_local covers.
_METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata"})
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


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
    Nor is the wait for a host's turn (`per_host_interval_s`), which comes before the request is sent.
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
    per_host_concurrency: int = 2  # requests in flight per host
    per_host_interval_s: float = 1.0  # minimum time between two request starts to one host
    max_concurrency: int = 32  # requests in flight per fetch lane (threads)
    lanes: int = 8  # hosts are spread over this many GroupByKey keys (see the module docstring)
    unconditional_after_s: float = 86400.0  # bogus-304 guard: no 200 for this long -> no validators once
    failure_backoff_s: float = 900.0  # first wait after a failure; doubles per consecutive failure
    max_failure_backoff_s: float = 86400.0

    def __post_init__(self) -> None:
        for name in ("connect_timeout_s", "read_timeout_s", "total_timeout_s", "max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchSettings.{name} must be positive, got {getattr(self, name)!r}")
        for name in ("per_host_concurrency", "max_concurrency", "lanes"):
            if getattr(self, name) < 1:
                raise ValueError(f"FetchSettings.{name} must be at least 1, got {getattr(self, name)!r}")
        for name in (
            "retries",
            "backoff_s",
            "max_retry_after_s",
            "max_redirects",
            "per_host_interval_s",
            "unconditional_after_s",
            "failure_backoff_s",
            "max_failure_backoff_s",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"FetchSettings.{name} must not be negative, got {getattr(self, name)!r}")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# Conditional GET and failing feeds: pure functions of the previous state.


def is_due(state: FeedState | None, now: dt.datetime) -> bool:
    """False while a failing feed is backing off (`state.next_poll_at` still ahead of `now`)."""
    return state is None or state.next_poll_at is None or state.next_poll_at <= now


def poll_due(feed: FeedSpec, state: FeedState | None, now: dt.datetime) -> bool:
    """False while a feed with its own `poll_interval_s` was last polled successfully (a 200 or a 304) less
    than that interval before `now`. A failing feed follows `is_due` instead."""
    if feed.poll_interval_s is None or state is None or state.consecutive_failures:
        return True
    return state.updated_at + dt.timedelta(seconds=feed.poll_interval_s) <= now


def plan_validators(state: FeedState | None, settings: FetchSettings, now: dt.datetime) -> dict[str, str]:
    """The If-None-Match / If-Modified-Since headers to send: none without a state, and none when the last
    200 is unknown or older than `unconditional_after_s` (a server may keep answering 304 wrongly)."""
    if state is None or state.last_ok_at is None:
        return {}
    if (now - state.last_ok_at).total_seconds() > settings.unconditional_after_s:
        return {}
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def failure_backoff_s(failures: int, settings: FetchSettings) -> float:
    """Seconds before a feed with `failures` consecutive failures (>= 1) is polled again."""
    doublings = min(max(failures - 1, 0), 64)  # 2**64 x any backoff is past any cap, and stays a float
    return min(settings.failure_backoff_s * 2.0**doublings, settings.max_failure_backoff_s)


def next_state(state: FeedState | None, fetched: FetchedFeed, settings: FetchSettings) -> FeedState:
    """The feed's state after the attempt `fetched`.

    A skipped attempt leaves it as it was. A 200 resets the failure count and takes the response's
    validators; a 304 resets the count and keeps validators and last_ok_at; a failure counts one more and
    sets the next poll `failure_backoff_s` ahead, keeping the validators. A permanent redirect is kept in
    moved_to until another one replaces it.
    """
    if fetched.skipped or fetched.not_due:
        if state is not None:
            return state
        return FeedState(fetched.feed.url, fetched.fetched_at, next_poll_at=fetched.next_poll_at)
    previous = state or FeedState(feed_url=fetched.feed.url, updated_at=fetched.fetched_at)
    common = {
        "feed_url": fetched.feed.url,
        "updated_at": fetched.fetched_at,
        "moved_to": fetched.permanent_redirect or previous.moved_to,
    }
    if fetched.error_class is not None:
        failures = previous.consecutive_failures + 1
        wait = dt.timedelta(seconds=failure_backoff_s(failures, settings))
        return replace(
            previous, consecutive_failures=failures, next_poll_at=fetched.fetched_at + wait, **common
        )
    if fetched.not_modified:
        return replace(previous, consecutive_failures=0, next_poll_at=None, **common)
    return replace(
        previous,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        last_ok_at=fetched.fetched_at,
        consecutive_failures=0,
        next_poll_at=None,
        **common,
    )


# Politeness: one gate per host, shared by every thread that uses the session.


def host_key(url: str) -> str:
    """The politeness key of a feed address: its host name, lower-cased, IDNA-encoded ("" for a path)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return ""
    return _normalise_host(host or "")


def _normalise_host(host: str) -> str:
    host = host.lower().rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    return host


def lane_of(host: str, lanes: int) -> int:
    """The lane of a host: stable across processes and runs (crc32, not Python's salted hash)."""
    return zlib.crc32(host.encode("utf-8")) % lanes


def fetch_key(url: str, lanes: int) -> int:
    """The key FetchFeeds groups a feed under: its host's lane. A feed without a host (a local file) has
    no one to be polite to, and gets a key of its own above the lanes: local files then spread over the
    workers like the feeds of many hosts (parse and clean run fused after the fetch, on the worker that
    fetched) instead of all sitting in one lane, and need no reshuffle of their bodies to be spread."""
    host = host_key(url)
    return lane_of(host, lanes) if host else lanes + zlib.crc32(url.encode("utf-8"))


# Per thread: the host gate whose turn this thread holds, from pace() until its request is written (see
# _HostGate); when the current HTTP attempt started (urllib3 retries inside one `session.get`, so the
# retry policy records each new attempt here and the body deadline counts from the attempt that answered);
# whether the redirect being followed must land on a public address (checked by the connection guard).
_attempt = threading.local()


class _HostGate:
    """At most `concurrency` slots held at once, and at least `interval` seconds between the moments two
    requests are written to the host.

    A turn runs from `take_turn` (before the request is sent) to `sent` (once it is written, or has
    failed): the next turn waits for the previous one to end and then `interval` more. Stamping when the
    request is written, not when the turn is taken, keeps the spacing the server sees even when a thread
    is held up between the two (connecting, or waiting for the GIL while other threads parse)."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self.slots = threading.BoundedSemaphore(concurrency)
        self._interval = interval
        self._cond = threading.Condition()
        self._sending = False
        self._last_sent: float | None = None

    def take_turn(self) -> bool:
        """Wait for this host's next turn and take it; False when no spacing is asked for."""
        if self._interval <= 0:
            return False
        with self._cond:
            while True:
                if self._sending:
                    self._cond.wait()
                    continue
                wait = 0.0 if self._last_sent is None else self._last_sent + self._interval - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                self._sending = True
                return True

    def sent(self) -> None:
        with self._cond:
            self._last_sent = time.monotonic()
            self._sending = False
            self._cond.notify_all()


def _end_turn() -> None:
    """End the turn this thread holds, if any: its request has been written (or will never be)."""
    gate = getattr(_attempt, "turn", None)
    if gate is not None:
        _attempt.turn = None
        gate.sent()


class HostLimiter:
    """Per-host concurrency and request spacing for the threads of one worker (see the module docstring).

    `slot(host)` is held around one request and the reading of its body; `pace(host)` is called right
    before each request is sent, retries included (the session's adapter and retry policy call it), and
    the turn it takes ends when the connection has written the request."""

    def __init__(self, concurrency: int, interval: float) -> None:
        self._concurrency = concurrency
        self._interval = interval
        self._lock = threading.Lock()
        self._gates: dict[str, _HostGate] = {}

    def _gate(self, host: str) -> _HostGate:
        with self._lock:
            gate = self._gates.get(host)
            if gate is None:
                gate = self._gates[host] = _HostGate(self._concurrency, self._interval)
            return gate

    @contextlib.contextmanager
    def slot(self, host: str) -> Iterator[None]:
        gate = self._gate(host)
        with gate.slots:
            yield

    def pace(self, host: str) -> None:
        _end_turn()  # a retry whose connection failed before writing anything still held its turn
        gate = self._gate(host)
        if gate.take_turn():
            _attempt.turn = gate


# Security: addresses that are never fetched, and the public -> non-public redirect rule.


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:169.254.169.254 is 169.254.169.254
            return address.ipv4_mapped
        if address in _NAT64:  # so is 64:ff9b::a9fe:a9fe through a NAT64 gateway
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _forbidden_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What makes an address never fetched ("a cloud metadata address", "link-local"), or None."""
    if address in _METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "link-local"
    return None


@functools.lru_cache(maxsize=4096)  # a pure function of the text, asked once per request
def _forbidden_host(host: str) -> str | None:
    """Why a host name or address literal is never fetched, or None (a name is not resolved here)."""
    host = _normalise_host(host)
    if host in _METADATA_HOSTS:
        return f"{host} is a cloud metadata service"
    address = _ip(host)
    kind = _forbidden_kind(address) if address is not None else None
    return f"{address} is {kind}" if kind else None


def _addresses(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address `host` resolves to ([] when it does not: the request then fails on its own)."""
    literal = _ip(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found = (_ip(str(info[4][0]).split("%", 1)[0]) for info in infos)
    return [address for address in found if address is not None]


def _port(parts) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return address.is_global


def _check_redirect(origin: str, target: str) -> bool:
    """Refuse (Forbidden) a redirect from `origin` to `target` that leads to a never-fetched address, or
    from a public address to a non-public one. Returns whether the connection must then be public."""
    parts = urlsplit(target)
    host = parts.hostname or ""
    reason = _forbidden_host(host)
    if reason:
        raise _Failure("Forbidden", f"redirect to a forbidden address: {reason}", final_url=target)
    addresses = _addresses(host, _port(parts))
    for address in addresses:
        kind = _forbidden_kind(address)
        if kind:
            message = f"redirect to a forbidden address: {host} resolves to {address}, {kind}"
            raise _Failure("Forbidden", message, final_url=target)
    origin_parts = urlsplit(origin)
    origin_addresses = _addresses(origin_parts.hostname or "", _port(origin_parts))
    # Public when any of its addresses is (or when it no longer resolves): a host that adds a private
    # record to its public one must not get to redirect into the private network.
    if origin_addresses and not any(_is_public(address) for address in origin_addresses):
        return False  # from loopback or a private network, anything but the forbidden addresses goes
    for address in addresses:
        if not _is_public(address):
            raise _Failure(
                "Forbidden",
                f"redirect from a public address to a non-public one: {host} ({address})",
                final_url=target,
            )
    return True


# The session: retries, pacing and the connection guard.


def _check_peer(sock: socket.socket, host: str) -> None:
    """The connection guard: refuse a connection whose peer is never fetched, or is not public when a
    redirect from a public address led here. Runs on every new connection, before anything is sent."""
    try:
        peer = _ip(str(sock.getpeername()[0]).split("%", 1)[0])
    except OSError:
        return  # not connected after all: the request fails on its own
    if peer is None:
        return
    kind = _forbidden_kind(peer)
    if kind is None and getattr(_attempt, "require_public", False) and not _is_public(peer):
        kind = "not public, after a redirect from a public address"
    if kind:
        sock.close()
        raise _Failure("Forbidden", f"forbidden address: {host} connected to {peer}, {kind}")


class _Guarded:
    """Mixed into urllib3's connections: checks the peer when connecting, and ends the host's turn once
    the request is written (or has failed to be)."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()  # type: ignore[misc]
        _check_peer(sock, self.host)
        return sock

    def request(self, *args, **kwargs) -> None:
        try:
            super().request(*args, **kwargs)  # type: ignore[misc]
        finally:
            _end_turn()


class _GuardedHTTPConnection(_Guarded, urllib3.connection.HTTPConnection):
    pass


class _GuardedHTTPSConnection(_Guarded, urllib3.connection.HTTPSConnection):
    pass


class _GuardedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _FeedRetry(Retry):
    """urllib3's Retry with Retry-After capped, read timeouts not retried, each retry paced by the host's
    gate, and attempt starts recorded."""

    def __init__(self, *args, retry_after_cap: float, limiter: HostLimiter | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.retry_after_cap = retry_after_cap
        self.limiter = limiter
        self.host: str | None = None  # set by increment: the host the next attempt goes to

    def new(self, **kw):
        kw.setdefault("retry_after_cap", self.retry_after_cap)  # urllib3 copies only its own fields
        kw.setdefault("limiter", self.limiter)
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
        retry = super().increment(*args, **kwargs)
        pool = kwargs.get("_pool")
        retry.host = _normalise_host(pool.host) if pool is not None and pool.host else None
        return retry

    def sleep(self, response=None) -> None:
        super().sleep(response)
        if self.limiter is not None and self.host is not None:
            self.limiter.pace(self.host)  # a retry is a request like any other
        _attempt.started = time.monotonic()


class _FeedAdapter(HTTPAdapter):
    """requests' adapter with the host gate's pacing before every request it sends and the connection
    guard on every connection it opens."""

    def __init__(self, limiter: HostLimiter, **kwargs) -> None:
        self.limiter = limiter
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}

    def send(self, request, *args, **kwargs):
        self.limiter.pace(host_key(request.url))
        _attempt.started = time.monotonic()  # the body deadline does not count the wait for a turn
        try:
            return super().send(request, *args, **kwargs)
        finally:
            _end_turn()  # normally ended by the connection already; not if it failed before writing


class FeedSession(requests.Session):
    """A pooled requests session whose every request honours `limiter` (one per worker: build it in setup).

    requests reads the environment (proxy variables and their exceptions, REQUESTS_CA_BUNDLE) again for
    every request, about a sixth of a request's CPU; here it is read once per scheme and host and kept for
    the session's life, as the session's other settings are."""

    limiter: HostLimiter

    def __init__(self) -> None:
        super().__init__()
        self.deadlines = _Deadlines()
        self._environment: dict[tuple[str, str, bool | None], dict] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        if proxies or verify is not None or cert is not None:  # not fetch_feed's call: nothing to reuse
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream)
        settings = self._environment.get(key)
        if settings is None:
            settings = super().merge_environment_settings(url, {}, stream, verify, cert)
            self._environment[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}

    def close(self) -> None:
        self.deadlines.close()
        super().close()


def make_session(settings: FetchSettings) -> FeedSession:
    """A pooled session with the retry policy, the per-host limits and the connection guard of `settings`
    mounted for http and https. Thread-safe for `fetch_feed` (GETs with per-request headers)."""
    limiter = HostLimiter(settings.per_host_concurrency, settings.per_host_interval_s)
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
        limiter=limiter,
    )
    session = FeedSession()
    session.limiter = limiter
    adapter = _FeedAdapter(
        limiter,
        max_retries=retry,
        pool_connections=max(10, 4 * settings.max_concurrency),  # hosts whose connections are kept
        pool_maxsize=settings.per_host_concurrency,  # connections kept per host: never more in use
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.max_redirects = settings.max_redirects
    session.headers["User-Agent"] = settings.user_agent
    return session


class _Failure(Exception):
    """A fetch that produced no usable body: `error_class` for the dead letter, the message for both."""

    def __init__(
        self,
        error_class: str,
        message: str,
        *,
        status: int | None = None,
        final_url: str | None = None,
        permanent_redirect: str | None = None,
    ):
        super().__init__(message)
        self.error_class = error_class
        self.status = status
        self.final_url = final_url
        self.permanent_redirect = permanent_redirect


def fetch_feed(
    feed: FeedSpec,
    session: requests.Session | None,
    settings: FetchSettings,
    *,
    now: Callable[[], dt.datetime],
    state: FeedState | None = None,
) -> FetchedFeed:
    """Fetch one feed: an http(s) URL through `session` (one from `make_session`, whose per-host limits
    then apply; or None for a throwaway), or a local file. Never raises for network or file problems: they
    come back in `error` and `error_class` ("HTTPError", "Timeout", "TooLarge", "NotFound", "Forbidden",
    ...), with no body. With the feed's previous `state`: a feed backing off is returned `skipped`
    without a request, and the validators of `plan_validators` are sent."""
    fetched_at = now()
    if state is not None and not is_due(state, fetched_at):
        return _skipped(feed, state, fetched_at)
    if not poll_due(feed, state, fetched_at):
        due = state.updated_at + dt.timedelta(seconds=feed.poll_interval_s)
        return FetchedFeed(feed, fetched_at, feed.url, not_due=True, next_poll_at=due)
    start = time.monotonic()
    try:
        kind, target = _route(feed.url)
        if kind == "file":
            fetched = _fetch_file(feed, Path(target), settings, fetched_at)
        else:
            validators = plan_validators(state, settings, fetched_at)
            if session is None:
                with make_session(settings) as throwaway:
                    fetched = _fetch_http(feed, throwaway, settings, fetched_at, validators)
            else:
                fetched = _fetch_http(feed, session, settings, fetched_at, validators)
    except _Failure as failure:
        fetched = FetchedFeed(
            feed=feed,
            fetched_at=fetched_at,
            final_url=failure.final_url or feed.url,
            status=failure.status,
            error=str(failure),
            error_class=failure.error_class,
            permanent_redirect=failure.permanent_redirect,
        )
    return replace(fetched, duration_ms=_elapsed_ms(start))


def _skipped(feed: FeedSpec, state: FeedState, fetched_at: dt.datetime) -> FetchedFeed:
    until = state.next_poll_at.isoformat(timespec="seconds") if state.next_poll_at else "now"
    return FetchedFeed(
        feed=feed,
        fetched_at=fetched_at,
        final_url=feed.url,
        error=f"backing off after {state.consecutive_failures} consecutive failures until {until}",
        skipped=True,
        next_poll_at=state.next_poll_at,
    )


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
        reason = _forbidden_host(host)
        if reason:
            raise _Failure("Forbidden", f"forbidden address: {reason}")
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


def _request_headers(settings: FetchSettings, validators: dict[str, str]) -> dict[str, str]:
    return {
        "User-Agent": settings.user_agent,
        "Accept": _ACCEPT,
        "Accept-Encoding": _ACCEPT_ENCODING,
        **validators,
    }


_UNLIMITED = HostLimiter(concurrency=1 << 30, interval=0.0)  # for a session not made by make_session


def _fetch_http(
    feed: FeedSpec,
    session: requests.Session,
    settings: FetchSettings,
    fetched_at: dt.datetime,
    validators: dict[str, str],
) -> FetchedFeed:
    """Follow at most `max_redirects` redirects by hand, each hop under its host's slot and checked by
    the redirect rules; read the last response's body under the cap and the deadline."""
    limiter = getattr(session, "limiter", None) or _UNLIMITED
    deadlines = getattr(session, "deadlines", None)
    if deadlines is None:  # a session not made by make_session: a watchdog thread for this fetch alone
        with contextlib.closing(_Deadlines()) as own:
            return _fetch_http_with(feed, session, settings, fetched_at, validators, limiter, own)
    return _fetch_http_with(feed, session, settings, fetched_at, validators, limiter, deadlines)


def _fetch_http_with(
    feed: FeedSpec,
    session: requests.Session,
    settings: FetchSettings,
    fetched_at: dt.datetime,
    validators: dict[str, str],
    limiter: HostLimiter,
    deadlines: _Deadlines,
) -> FetchedFeed:
    headers = _request_headers(settings, validators)
    url = feed.url
    moved = False  # a 301 / 308 on the way: the feed has moved to wherever the chain ends
    require_public = False
    try:
        for followed in range(settings.max_redirects + 1):
            with limiter.slot(host_key(url)):
                _attempt.require_public = require_public
                response = _get(session, url, settings, headers)
                target = session.get_redirect_target(response)
                if target is None:
                    with response:
                        try:
                            fetched = _read_response(
                                feed, response, settings, fetched_at, bool(validators), deadlines
                            )
                        except _Failure as failure:
                            failure.permanent_redirect = failure.final_url if moved else None
                            raise
                    return replace(fetched, permanent_redirect=fetched.final_url if moved else None)
                status = response.status_code
                response.close()  # never read a redirect's body: requests would, without a size cap
            if followed == settings.max_redirects:
                raise _Failure(
                    "TooManyRedirects", f"more than {settings.max_redirects} redirects", final_url=url
                )
            origin, url = url, urljoin(response.url, requote_uri(target))
            if urlsplit(url).scheme.lower() not in ("http", "https"):
                raise _Failure("UnsupportedScheme", f"unsupported scheme: redirect to {url}", final_url=url)
            moved = moved or status in _PERMANENT_REDIRECTS
            require_public = _check_redirect(origin, url)
    except _Failure as failure:
        if failure.final_url is None:  # raised by the connection guard, which does not know the URL
            failure.final_url = url
        raise
    finally:
        _attempt.require_public = False
    raise AssertionError("unreachable: the loop returns or raises")


def _get(
    session: requests.Session, url: str, settings: FetchSettings, headers: dict[str, str]
) -> requests.Response:
    _attempt.started = time.monotonic()
    timeout = (
        min(settings.connect_timeout_s, settings.total_timeout_s),
        min(settings.read_timeout_s, settings.total_timeout_s),
    )
    try:
        return session.get(url, headers=headers, timeout=timeout, stream=True, allow_redirects=False)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        error_class, message = _describe_network_error(exc, url, settings)
        raise _Failure(error_class, message, final_url=url) from None


def _read_response(
    feed: FeedSpec,
    response: requests.Response,
    settings: FetchSettings,
    fetched_at: dt.datetime,
    conditional: bool,
    deadlines: _Deadlines,
) -> FetchedFeed:
    status = response.status_code
    final_url = response.url
    content_type = response.headers.get("Content-Type")
    if status == http.HTTPStatus.NOT_MODIFIED:
        if not conditional:  # nothing to be "not modified" against: a broken server, not a quiet feed
            raise _Failure(
                "HTTPError",
                "HTTP 304 Not Modified to a request without validators",
                status=status,
                final_url=final_url,
            )
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
    watchdog = _Watchdog(response, deadline, deadlines)
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
        feed,
        fetched_at,
        final_url,
        status=status,
        body=bytes(body),
        content_type=content_type,
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )


class _Watchdog:
    """Ends a download that outlives its deadline. A read timeout only catches silence: a server trickling
    a byte a second never trips it, so at the deadline the socket is shut down, and the blocked read
    returns at once."""

    def __init__(self, response: requests.Response, deadline: float, deadlines: _Deadlines) -> None:
        self.fired = False
        self.done = False  # the download ended: never fire after that
        self.deadline = deadline
        self._raw = response.raw
        self._deadlines = deadlines

    def fire(self) -> None:
        """Called by the _Deadlines thread, holding its lock, at most once and only before __exit__."""
        self.fired = True
        # Already released, or an urllib3 without shutdown(): the read timeout is then the only bound.
        with contextlib.suppress(Exception):
            self._raw.shutdown()

    def __enter__(self) -> _Watchdog:
        self._deadlines.arm(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._deadlines.disarm(self)


class _Deadlines:
    """The one thread that fires the watchdogs of a session's downloads at their deadlines (a
    threading.Timer per download started a thread per request: a tenth of a request's CPU). Started at the
    first download, ended by close()."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Watchdog]] = []  # finished watchdogs stay until they surface
        self._order = itertools.count()  # ties on the deadline never compare watchdogs
        self._thread: threading.Thread | None = None
        self._closed = False

    def arm(self, watchdog: _Watchdog) -> None:
        with self._cond:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="newsbeam-fetch-watchdog", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (watchdog.deadline, next(self._order), watchdog))
            if self._heap[0][2] is watchdog:  # earlier than what the thread waits for
                self._cond.notify()

    def disarm(self, watchdog: _Watchdog) -> None:
        with self._cond:
            watchdog.done = True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                now = time.monotonic()
                while self._heap and (self._heap[0][2].done or self._heap[0][0] <= now):
                    _, _, watchdog = heapq.heappop(self._heap)
                    if not watchdog.done:
                        watchdog.done = True
                        watchdog.fire()
                self._cond.wait(self._heap[0][0] - now if self._heap else None)


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


class _Attempt(NamedTuple):
    feed: FeedSpec
    fetched: FetchedFeed
    state: FeedState


def _by_host_round_robin(
    feeds: Iterable[tuple[str, FeedSpec, FeedState | None]],
) -> list[tuple[FeedSpec, FeedState | None]]:
    """One feed of each host, then a second of each, ...: the order feeds are handed to the threads."""
    queues: dict[str, list[tuple[FeedSpec, FeedState | None]]] = {}
    for host, spec, state in feeds:
        queues.setdefault(host, []).append((spec, state))
    rounds = itertools.zip_longest(*(queues[host] for host in sorted(queues)))
    return [pair for round_ in rounds for pair in round_ if pair is not None]


class FetchLaneFn(beam.DoFn):
    """(lane, [(host, spec, state), ...]) -> a FetchedFeed and a FeedState per feed (main and `state`),
    and a DeadLetter per failed attempt. Never fails the bundle for one feed: even an unexpected exception
    in one fetch becomes that feed's failed attempt. The stream's poller (transforms/stream.py) extends it."""

    stage = "fetch"

    def __init__(self, settings: FetchSettings) -> None:
        super().__init__()
        self._settings = settings
        self._session: FeedSession | None = None
        self._fetched = Metrics.counter("fetch", "fetched")
        self._not_modified = Metrics.counter("fetch", "not_modified")
        self._skipped = Metrics.counter("fetch", "skipped")
        self._not_due = Metrics.counter("fetch", "not_due")
        self._failed = Metrics.counter("fetch", "failed")
        self._bytes = Metrics.counter("fetch", "bytes")
        self._dead = Metrics.counter("fetch", "dead_letters")

    def setup(self) -> None:
        self._session = make_session(self._settings)

    def teardown(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def process(self, element: tuple[int, Iterable[tuple[str, FeedSpec, FeedState | None]]]):
        _, feeds = element
        ordered = _by_host_round_robin(feeds)
        if not ordered:
            return
        threads = min(self._settings.max_concurrency, len(ordered))
        with concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="newsbeam-fetch") as pool:
            futures = [pool.submit(self._attempt, spec, state) for spec, state in ordered]
            # Emitted here, in the DoFn's thread, as each completes: Beam's outputs are not thread-safe.
            for future in concurrent.futures.as_completed(futures):
                yield from self._outputs(future.result())

    def _attempt(self, spec: FeedSpec, state: FeedState | None) -> _Attempt:
        try:
            fetched = fetch_feed(spec, self._session, self._settings, now=utcnow, state=state)
        except Exception as exc:  # a bug, not a network problem: the feed still gets its attempt
            log.exception("fetch of %s raised", spec.url)
            letter = DeadLetter.from_exception(self.stage, exc, feed_url=spec.url, item=None, raw=spec)
            fetched = FetchedFeed(
                spec, utcnow(), spec.url, error=letter.message, error_class=letter.error_class
            )
        return _Attempt(spec, fetched, next_state(state, fetched, self._settings))

    def _outputs(self, attempt: _Attempt) -> Iterator[object]:
        fetched = attempt.fetched
        progress.report(progress.FEEDS, 1, attempt.feed.url)
        yield fetched
        yield beam.pvalue.TaggedOutput(STATE, attempt.state)
        if fetched.skipped or fetched.not_due:
            (self._skipped if fetched.skipped else self._not_due).inc()
            return
        if fetched.error_class is None:
            (self._not_modified if fetched.not_modified else self._fetched).inc()
            self._bytes.inc(len(fetched.body or b""))
            return
        self._failed.inc()
        Metrics.counter(self.stage, f"failed_{fetched.error_class}").inc()  # failures by reason
        self._dead.inc()
        log.info("fetch failed: %s: %s", attempt.feed.url, fetched.error)
        yield beam.pvalue.TaggedOutput(
            DEAD_LETTERS,
            DeadLetter(
                stage=self.stage,
                feed_url=attempt.feed.url,
                item=fetched.final_url if fetched.final_url != attempt.feed.url else None,
                error_class=fetched.error_class,
                message=fetched.error or fetched.error_class,
                raw=truncate_raw(attempt.feed),
                failed_at=fetched.fetched_at,
            ),
        )


def _key_by_lane(
    element: tuple[FeedSpec, FeedState | None], lanes: int
) -> tuple[int, tuple[str, FeedSpec, FeedState | None]]:
    spec, state = element
    return fetch_key(spec.url, lanes), (host_key(spec.url), spec, state)


class FetchOutput(NamedTuple):
    """What FetchFeeds returns."""

    main: beam.PCollection  # FetchedFeed: every feed of the input, fetched or skipped
    state: beam.PCollection  # FeedState: one per feed, next_state(...) of its attempt
    dead_letters: beam.PCollection  # DeadLetter: one per failed attempt (not for skipped feeds or 304s)


class FetchFeeds(beam.PTransform):
    """PCollection[(FeedSpec, FeedState | None)] -> FetchOutput: one attempt and one new state per feed,
    with the per-host limits of `settings` holding across workers (see the module docstring)."""

    def __init__(self, settings: FetchSettings, label: str | None = None) -> None:
        super().__init__(label)
        self._settings = settings

    def expand(self, feeds: beam.PCollection) -> FetchOutput:
        results = (
            feeds
            | "KeyByHostLane" >> beam.Map(_key_by_lane, self._settings.lanes)
            | "GroupByLane" >> beam.GroupByKey()
            | "FetchLane" >> ParDoWithOutputs(FetchLaneFn(self._settings), STATE, DEAD_LETTERS)
        )
        return FetchOutput(main=results[MAIN], state=results[STATE], dead_letters=results[DEAD_LETTERS])
