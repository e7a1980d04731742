"""Fetch benchmark (not CI): FetchFeeds + ParseEntries on Beam's FnApiRunner against a plain sequential loop.

    python -m bench.fetch_bench                      # 1,000 feeds x 50 items, 200 hosts, 50 ms per request
    python -m bench.fetch_bench --workers 2          # the FnApiRunner in multi-processing mode, 2 workers
    python -m bench.fetch_bench --feeds 200 --baseline-sample 50      # a quick look

A server subprocess (http.server.ThreadingHTTPServer on 0.0.0.0, HTTP/1.1 keep-alive) holds N generated
feeds in memory (RSS 2.0 and Atom 1.0 in turn, M items each: title, link, guid, date, author, a 40-60-word
summary) and answers each request after `--latency` seconds. Feed i is addressed as
http://127.0.0.<1 + i % hosts>:PORT/feed-i.xml, so the fetcher sees `--hosts` different hosts (every
127.x address reaches a socket bound to 0.0.0.0 on Linux). The server records, per Host header, every
request start and how many were in flight: the bench prints the smallest gap between two starts and the
largest in-flight count per host, so the per-host limits are checked where they matter, at the server.
(The server stamps a request when its handler thread gets to it: with both CPUs busy that can be a few ms
late, so its smallest gap may read a little under the interval. The fetcher spaces the moments it writes
requests to one host by the full interval, measured on the client.)

Measured, each a fresh pipeline over all N feeds:
    fetch+parse   FetchFeeds | ParseEntries          feeds/s, entries/s, wall time, peak RSS
    fetch only    FetchFeeds                          feeds/s, wall time, peak RSS
CPU per feed is the CPU time of this process and its descendants (Beam's workers) during the run, divided
by N (start-up included), also shown per process (driver, then each worker: how the work was split), and
apart the server's CPU per request: they all share the same cores.
Against the baseline, a sequential loop of `requests.get(url)` + `feedparser.parse(body)` (feedparser's
defaults) over a sample of the same URLs, spread over the hosts; its per-feed time is extrapolated to N.
Its fetch and parse times are also reported apart, for the fetch-only comparison. Wall times include the
pipeline's start-up (graph, runner, workers). Peak RSS is the largest sum over this process and its
descendants (Beam's workers at --workers > 1), without the server, sampled from /proc every 50 ms.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import html
import itertools
import json
import os
import random
import re
import resource
import shlex
import subprocess
import sys
import threading
import time
import urllib.request
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_WORDS = [
    *("government", "minister", "election", "council", "budget", "talks", "agreement", "court", "report"),
    *("police", "city", "region", "company", "market", "prices", "energy", "workers", "union", "strike"),
    *("hospital", "school", "water", "border", "trade", "security", "officials", "said", "week"),
    *("statement", "plan", "vote", "parliament", "leaders", "summit", "crisis", "support", "new", "local"),
]
_END = dt.datetime(2024, 6, 2, 21, 0, tzinfo=dt.UTC)


def feed_xml(index: int, items: int) -> bytes:
    """Feed `index` with `items` items: RSS 2.0 for even indexes, Atom 1.0 for odd ones (deterministic)."""
    rng = random.Random(index)
    site = f"https://news{index:04d}.example"
    entries = []
    for number in range(items):
        title = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 10))).capitalize()
        summary = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(40, 60))).capitalize() + "."
        link = f"{site}/{2024}/{index}-{number}-{title.split()[0].lower()}"
        when = _END - dt.timedelta(minutes=37 * number + index)
        entries.append((title, html.escape(summary), link, when, f"Reporter {rng.randint(1, 40)}"))
    if index % 2 == 0:
        body = "".join(
            f"<item><title>{t}</title><link>{u}</link><guid isPermaLink='true'>{u}</guid>"
            f"<pubDate>{format_datetime(w)}</pubDate><author>{a}</author><description>{s}</description></item>"
            for t, s, u, w, a in entries
        )
        text = (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>News {index}</title><link>{site}/</link><description>Feed {index}</description>"
            f"{body}</channel></rss>"
        )
    else:
        body = "".join(
            f"<entry><title>{t}</title><link href='{u}'/><id>{u}</id><updated>{w.isoformat()}</updated>"
            f"<author><name>{a}</name></author><summary>{s}</summary></entry>"
            for t, s, u, w, a in entries
        )
        text = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>News {index}</title><id>{site}/</id><updated>{_END.isoformat()}</updated>"
            f"<link href='{site}/'/>{body}</feed>"
        )
    return text.encode("utf-8")


# The server (runs in its own process: `python -m bench.fetch_bench --serve ...`).


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.starts: dict[str, list[float]] = collections.defaultdict(list)
        self.in_flight: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self.total_in_flight = 0
        self.peak_total = 0

    def report(self) -> dict:
        gaps = []
        for times in self.starts.values():
            times = sorted(times)
            gaps += [b - a for a, b in itertools.pairwise(times)]
        return {
            "requests": sum(len(t) for t in self.starts.values()),
            "hosts": len(self.starts),
            "min_gap_s": round(min(gaps), 4) if gaps else None,
            "max_in_flight_per_host": max(self.peak.values(), default=0),
            "max_in_flight": self.peak_total,
        }


def serve(feeds: int, items: int, latency: float) -> None:
    bodies = [feed_xml(i, items) for i in range(feeds)]
    stats = _Stats()
    pattern = re.compile(r"/feed-(\d+)\.xml")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

        def do_GET(self) -> None:
            if self.path in ("/_stats", "/_reset"):
                with stats.lock:
                    payload = json.dumps(stats.report()).encode()
                    if self.path == "/_reset":
                        stats.reset()
                self._send(200, payload, "application/json")
                return
            match = pattern.fullmatch(self.path)
            if not match or int(match.group(1)) >= feeds:
                self._send(404, b"not found", "text/plain")
                return
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
            with stats.lock:
                stats.starts[host].append(time.monotonic())
                stats.in_flight[host] += 1
                stats.total_in_flight += 1
                stats.peak[host] = max(stats.peak[host], stats.in_flight[host])
                stats.peak_total = max(stats.peak_total, stats.total_in_flight)
            try:
                time.sleep(latency)
                self._send(200, bodies[int(match.group(1))], "application/xml")
            finally:
                with stats.lock:
                    stats.in_flight[host] -= 1
                    stats.total_in_flight -= 1

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # the default 5 drops SYNs under 30+ concurrent connects

    server = Server(("0.0.0.0", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


class _ServerProcess:
    def __init__(self, feeds: int, items: int, latency: float) -> None:
        command = [sys.executable, "-m", "bench.fetch_bench", "--serve"]
        command += ["--feeds", str(feeds), "--items", str(items), "--latency", str(latency)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        self.port = int(self.process.stdout.readline())

    def call(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.loads(response.read())

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# Memory: this process and its descendants (Beam's workers), without the server.


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _descendants(root: int, exclude: int) -> list[int]:
    children: dict[int, list[int]] = collections.defaultdict(list)
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as handle:
                    parent = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children[parent].append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += [child for child in children[pid] if child != exclude]
    return found


class _PeakRss:
    """Peak RSS of this process and its descendants, and their CPU seconds, from /proc every 50 ms. A
    descendant's CPU is its last sample (a worker that exits between samples loses < 50 ms), or what
    RUSAGE_CHILDREN says of the children reaped meanwhile, whichever is larger."""

    def __init__(self, exclude: int) -> None:
        self.exclude = exclude
        self.peak = 0
        self.cpu_s = 0.0
        self._children_cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _descendants(os.getpid(), self.exclude)
            self.peak = max(self.peak, sum(_rss_bytes(pid) for pid in pids))
            for pid in pids:
                if pid != os.getpid():
                    self._children_cpu[pid] = max(self._children_cpu.get(pid, 0.0), _cpu_seconds(pid))
            self._stop.wait(0.05)

    @staticmethod
    def _reaped_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    def __enter__(self) -> _PeakRss:
        self._own_start = time.process_time()
        self._reaped_start = self._reaped_cpu()
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        children = max(sum(self._children_cpu.values()), self._reaped_cpu() - self._reaped_start)
        self.own_cpu_s = time.process_time() - self._own_start
        self.cpu_s = self.own_cpu_s + children
        # how the work was split: this process (the driver), then each worker
        workers = sorted((cpu for cpu in self._children_cpu.values() if cpu > 0.05), reverse=True)
        self.split_cpu_s = [self.own_cpu_s, *workers]  # short-lived helpers (< 50 ms of CPU) left out


# The two contenders.


def run_baseline(urls: list[str]) -> dict:
    import feedparser
    import requests

    fetch_s = parse_s = 0.0
    entries = 0
    cpu_started = time.process_time()
    for url in urls:
        started = time.perf_counter()
        body = requests.get(url, timeout=30).content
        fetched = time.perf_counter()
        entries += len(feedparser.parse(body).entries)
        parse_s += time.perf_counter() - fetched
        fetch_s += fetched - started
    cpu_s = time.process_time() - cpu_started
    return {"feeds": len(urls), "entries": entries, "fetch_s": fetch_s, "parse_s": parse_s, "cpu_s": cpu_s}


def run_pipeline(urls: list[str], settings, workers: int, parse: bool, server_pid: int) -> dict:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from newsbeam.transforms.fetch import FetchFeeds
    from newsbeam.transforms.parse import ParseEntries
    from newsbeam.transforms.records import FeedSpec

    options = PipelineOptions(["--default_sdk_harness_log_level=WARNING"])
    direct = options.view_as(DirectOptions)
    direct.direct_num_workers = workers
    direct.direct_running_mode = "multi_processing" if workers > 1 else "in_memory"
    with _PeakRss(exclude=server_pid) as rss:
        started = time.perf_counter()
        p = beam.Pipeline(runner=FnApiRunner(), options=options)
        fetched = (
            p | beam.Create([(FeedSpec(url), None) for url in urls]) | "FetchFeeds" >> FetchFeeds(settings)
        )
        if parse:
            _ = fetched.main | "ParseEntries" >> ParseEntries()
        result = p.run()
        result.wait_until_finish()
        seconds = time.perf_counter() - started

    def counter(namespace: str, name: str) -> int:
        query = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(namespace).with_name(name))
        return sum(item.committed or 0 for item in query["counters"])

    return {
        "seconds": seconds,
        "fetched": counter("fetch", "fetched"),
        "failed": counter("fetch", "failed"),
        "entries": counter("parse", "entries") if parse else 0,
        "peak_rss_mb": rss.peak / 2**20,
        "cpu_s": rss.cpu_s,
        "split_cpu_s": rss.split_cpu_s,
    }


def parse_cpu_per_feed(items: int, sample: int = 50) -> float:
    """Seconds of one core that the parse stage's function spends on one feed (no Beam, no network)."""
    from newsbeam.transforms.parse import parse_feed
    from newsbeam.transforms.records import FeedSpec, FetchedFeed

    now = dt.datetime.now(dt.UTC)
    fetched = [
        FetchedFeed(
            FeedSpec(f"http://127.0.0.1/feed-{i}.xml"), now, "", 200, feed_xml(i, items), "application/xml"
        )
        for i in range(sample)
    ]
    parse_feed(fetched[0])  # first-call costs (lazy imports, regex compilation) are not per feed
    started = time.process_time()
    for one in fetched:
        parse_feed(one)
    return (time.process_time() - started) / sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch_bench", description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--hosts", type=int, default=200, help="127.0.0.1 ... 127.0.0.<hosts> (at most 254)")
    parser.add_argument("--latency", type=float, default=0.05, help="server delay per request, seconds")
    parser.add_argument("--per-host", type=int, default=2, help="FetchSettings.per_host_concurrency")
    parser.add_argument("--interval", type=float, default=0.1, help="FetchSettings.per_host_interval_s")
    parser.add_argument("--max-concurrency", type=int, default=32, help="FetchSettings.max_concurrency")
    parser.add_argument("--lanes", type=int, default=8, help="FetchSettings.lanes")
    parser.add_argument("--workers", type=int, default=1, help="FnApiRunner workers (>1: multi-processing)")
    parser.add_argument("--baseline-sample", type=int, default=200, help="feeds fetched by the baseline")
    parser.add_argument("--skip-fetch-only", action="store_true", help="only the fetch+parse pipeline")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.feeds, args.items, args.latency)
        return 0
    if not 1 <= args.hosts <= 254:
        parser.error("--hosts must be between 1 and 254")

    from newsbeam.transforms.fetch import FetchSettings

    settings = FetchSettings(
        per_host_concurrency=args.per_host,
        per_host_interval_s=args.interval,
        max_concurrency=args.max_concurrency,
        lanes=args.lanes,
    )
    print(
        "$ "
        + shlex.join(["python", "-m", "bench.fetch_bench", *(argv if argv is not None else sys.argv[1:])])
    )
    print(
        f"{args.feeds} feeds x {args.items} items on {args.hosts} hosts (127.0.0.1-{args.hosts}), "
        f"{args.latency * 1000:g} ms per request; per host: {args.per_host} in flight, "
        f"{args.interval:g} s between starts; max_concurrency {args.max_concurrency}, lanes {args.lanes}, "
        f"workers {args.workers}; {os.cpu_count()} CPUs"
    )
    server = _ServerProcess(args.feeds, args.items, args.latency)
    try:
        urls = [f"http://127.0.0.{1 + i % args.hosts}:{server.port}/feed-{i}.xml" for i in range(args.feeds)]
        rows = []
        phases = [("fetch+parse", True)] + ([] if args.skip_fetch_only else [("fetch only", False)])
        for name, parse in phases:
            server.call("/_reset")
            server_cpu = _cpu_seconds(server.process.pid)
            run = run_pipeline(urls, settings, args.workers, parse, server.process.pid)
            run["server_cpu_s"] = _cpu_seconds(server.process.pid) - server_cpu
            run["server"] = server.call("/_reset")
            rows.append((name, run))

        step = max(1, args.feeds // args.baseline_sample)
        sample = urls[::step][: args.baseline_sample]
        base = run_baseline(sample)
        server.call("/_reset")
    finally:
        server.close()

    parse_cpu = parse_cpu_per_feed(args.items)
    per_feed = (base["fetch_s"] + base["parse_s"]) / base["feeds"]
    base_rates = {"fetch+parse": 1 / per_feed, "fetch only": base["feeds"] / base["fetch_s"]}
    print(
        f"baseline (requests.get + feedparser.parse, sequential, {base['feeds']} feeds sampled): "
        f"{per_feed * 1000:.1f} ms per feed ({base['fetch_s'] / base['feeds'] * 1000:.1f} fetch + "
        f"{base['parse_s'] / base['feeds'] * 1000:.1f} parse; "
        f"{base['cpu_s'] / base['feeds'] * 1000:.1f} ms CPU) "
        f"-> {base_rates['fetch+parse']:.1f} feeds/s, "
        f"{base['entries'] / (base['fetch_s'] + base['parse_s']):.0f} entries/s; "
        f"{args.feeds} feeds would take {per_feed * args.feeds:.1f} s"
    )
    cores = min(os.cpu_count() or 1, args.workers)
    print(
        f"parse_feed alone: {parse_cpu * 1000:.1f} ms of CPU per feed, so FetchFeeds | ParseEntries on "
        f"{cores} core(s) cannot pass {cores / parse_cpu:.0f} feeds/s: "
        f"{cores / parse_cpu / base_rates['fetch+parse']:.1f}x the baseline, whatever the fetcher does"
    )
    for name, run in rows:
        feeds_per_s = args.feeds / run["seconds"]
        entries = (
            f", {run['entries'] / run['seconds']:.0f} entries/s ({run['entries']} entries)"
            if run["entries"]
            else ""
        )
        s = run["server"]
        stages = "FetchFeeds | ParseEntries" if name == "fetch+parse" else "FetchFeeds"
        print(
            f"{name:<11} {stages}: {run['seconds']:.2f} s, "
            f"{feeds_per_s:.1f} feeds/s{entries}, {run['fetched']} fetched / {run['failed']} failed, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB; {feeds_per_s / base_rates[name]:.1f}x the baseline's "
            f"{name} feeds/s"
        )
        print(
            f"{'':<11} CPU {run['cpu_s']:.2f} s = {run['cpu_s'] / args.feeds * 1000:.1f} ms per feed "
            f"(start-up included), {run['cpu_s'] / run['seconds']:.2f} cores busy; the server "
            f"{run['server_cpu_s'] / args.feeds * 1000:.1f} ms per request"
            + (
                f"; CPU s by process: driver {run['split_cpu_s'][0]:.2f}, workers "
                + " + ".join(f"{seconds:.2f}" for seconds in run["split_cpu_s"][1:])
                if len(run["split_cpu_s"]) > 1
                else ""
            )
        )
        print(
            f"{'':<11} server saw {s['requests']} requests on {s['hosts']} hosts: smallest gap between "
            f"two starts on one host {s['min_gap_s']} s, at most {s['max_in_flight_per_host']} in flight "
            f"per host, {s['max_in_flight']} in all"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
