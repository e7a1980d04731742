"""Stream benchmark (not CI): `newsbeam stream` over loopback feeds that gain items while it runs.

    python -m bench.stream_bench                                  # 200 feeds x 5 items/min, 10 minutes
    python -m bench.stream_bench --feeds 50 --minutes 2           # a quick look

An HTTP server thread in this process (http.server.ThreadingHTTPServer on 127.0.0.1) serves N RSS feeds;
each starts with 5 items published an hour earlier and gains `--items-per-minute` items, spread evenly,
each published at the moment it appears; a feed shows its latest 30 items. `newsbeam stream` runs as a
subprocess for `--minutes` (then stops by itself, flushing), polling every `--poll-interval` seconds with
`--window`-second windows. Meanwhile this process reads OUTPUT/articles every `--observe-every` seconds
(pyarrow.dataset, titles only) and notes when each item first became readable, and samples the stream's
RSS (VmRSS of the process) and CPU seconds (utime + stime) every 5 s.

Reported: end-to-end latency from an item's appearance in its feed to its row being readable (median, p95,
max; resolution `--observe-every`), items that never became readable, RSS over time (and the mean of the
second half against the first), files per partition before and after `newsbeam compact`. Figures and
settings go to bench/out/stream-<time>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import BENCH_OUT, REPO

SHOWN = 30  # items a feed shows, newest first


class Feeds:
    """The feeds' items (name, published) and when each item appeared."""

    def __init__(self, feeds: int) -> None:
        self.items: list[list[tuple[str, dt.datetime]]] = [[] for _ in range(feeds)]
        self.appeared: dict[str, float] = {}
        self.lock = threading.Lock()

    def add(self, feed: int, name: str, published: dt.datetime, measured: bool) -> None:
        with self.lock:
            self.items[feed].append((name, published))
            del self.items[feed][:-SHOWN]
            if measured:
                self.appeared[name] = time.time()

    def xml(self, feed: int) -> bytes:
        with self.lock:
            items = list(reversed(self.items[feed]))
        entries = "".join(
            f"<item><title>{name}</title><link>https://bench{feed}.example/{name}</link><guid>{name}</guid>"
            f"<pubDate>{published:%a, %d %b %Y %H:%M:%S +0000}</pubDate><description>The council said on "
            f"Tuesday that {name} would go ahead after a vote, officials in the region told reporters."
            "</description></item>"
            for name, published in items
        )
        channel = f"<channel><title>Bench feed {feed}</title>{entries}</channel>"
        return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


def serve(feeds: Feeds) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            try:
                feed = int(self.path.strip("/").removeprefix("feed").removesuffix(".xml"))
                body = feeds.xml(feed)
            except (ValueError, IndexError):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def grow(feeds: Feeds, per_minute: float, until: float, stop: threading.Event) -> None:
    """Add items: feed i gains one every 60/per_minute seconds, the feeds staggered across the period."""
    if per_minute <= 0:
        return
    period = 60.0 / per_minute
    count = len(feeds.items)
    started = time.time()
    added = [0] * count
    while not stop.is_set() and time.time() < until:
        now = time.time()
        for feed in range(count):
            due = started + period * (feed / count) + period * added[feed]
            if now >= due:
                added[feed] += 1
                name = f"f{feed}-i{added[feed]}"
                feeds.add(feed, name, dt.datetime.now(dt.UTC), measured=True)
        stop.wait(0.1)


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) the process has used so far: the load-independent cost figure."""
    import os

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def readable_titles(output: Path) -> list[str]:
    import pyarrow.dataset as ds

    if not (output / "articles").is_dir():
        return []
    try:
        table = ds.dataset(output / "articles", partitioning="hive").to_table(columns=["title"])
    except (OSError, ValueError):  # a partition swapped while listed: read again next time
        return []
    return table["title"].to_pylist()


def files_per_partition(output: Path) -> dict[str, int]:
    root = output / "articles"
    return {p.name: len(list(p.glob("*.parquet"))) for p in sorted(root.iterdir()) if p.is_dir()}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items-per-minute", type=float, default=5.0, help="per feed")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--poll-interval", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=10.0)
    parser.add_argument("--observe-every", type=float, default=2.0)
    args = parser.parse_args(argv)

    run_dir = BENCH_OUT / f"stream-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    output = run_dir / "out"
    run_dir.mkdir(parents=True)
    feeds = Feeds(args.feeds)
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for feed in range(args.feeds):
        for n in range(5):
            feeds.add(feed, f"f{feed}-old{n}", hour_ago + dt.timedelta(minutes=n), measured=False)
    server = serve(feeds)
    port = server.server_address[1]
    (run_dir / "feeds.txt").write_text(
        "".join(f"http://127.0.0.1:{port}/feed{n}.xml\n" for n in range(args.feeds))
    )
    (run_dir / "bench.yaml").write_text(
        "# one loopback host: no politeness wait between requests\n"
        "fetch:\n  per_host_interval_s: 0.0\n  per_host_concurrency: 16\n  retries: 1\n"
    )
    duration = args.minutes * 60
    command = [
        sys.executable,
        "-m",
        "newsbeam.pipeline.cli",
        "stream",
        "--config",
        str(run_dir / "bench.yaml"),
    ]
    command += ["--feeds-file", str(run_dir / "feeds.txt"), "--output", str(output)]
    command += ["--poll-interval", str(args.poll_interval), "--window", str(args.window)]
    command += ["--duration", str(duration), "--log-format", "json"]
    started = time.time()
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stop = threading.Event()
    grower = threading.Thread(target=grow, args=(feeds, args.items_per_minute, started + duration - 30, stop))
    grower.start()  # items stop appearing 30 s before the end: each gets a chance to be polled

    readable: dict[str, float] = {}
    rss: list[tuple[float, float]] = []
    cpu: list[tuple[float, float]] = []
    next_rss = started
    while process.poll() is None:
        now = time.time()
        for title in readable_titles(output):
            readable.setdefault(title, now)
        if now >= next_rss:
            value = rss_mb(process.pid)
            if value is not None:
                rss.append((round(now - started, 1), round(value, 1)))
            used = cpu_s(process.pid)
            if used is not None:
                cpu.append((round(now - started, 1), round(used, 1)))
            next_rss = now + 5
        time.sleep(args.observe_every)
    stop.set()
    grower.join()
    stdout, stderr = process.communicate()
    for title in readable_titles(output):
        readable.setdefault(title, time.time())
    server.shutdown()

    latencies = [readable[name] - at for name, at in feeds.appeared.items() if name in readable]
    missing = sorted(set(feeds.appeared) - set(readable))
    before = files_per_partition(output) if (output / "articles").is_dir() else {}
    compact = subprocess.run(
        [sys.executable, "-m", "newsbeam.pipeline.cli", "compact", "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    after = files_per_partition(output) if (output / "articles").is_dir() else {}
    half = len(rss) // 2
    result = {
        "settings": vars(args),
        "exit_code": process.returncode,
        "summary": stdout.strip().splitlines()[-1] if stdout.strip() else stderr[-2000:],
        "items_appeared": len(feeds.appeared),
        "items_readable": len(latencies),
        "items_missing": len(missing),
        "latency_s": {
            "median": round(statistics.median(latencies), 1) if latencies else None,
            "p95": round(percentile(latencies, 0.95), 1) if latencies else None,
            "max": round(max(latencies), 1) if latencies else None,
        },
        "rss_mb": rss,
        "cpu_s": cpu,  # the stream's CPU seconds so far, sampled with the RSS (the last before its exit)
        "cpu_s_last_sample": cpu[-1][1] if cpu else None,
        "rss_mean_mb_first_half": round(statistics.mean(v for _, v in rss[:half]), 1) if half else None,
        "rss_mean_mb_second_half": round(statistics.mean(v for _, v in rss[half:]), 1) if half else None,
        "files_per_partition_before_compact": before,
        "files_per_partition_after_compact": after,
        "compact": compact.stdout.strip() or compact.stderr.strip()[-500:],
    }
    (run_dir / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k not in ("rss_mb", "cpu_s")}, indent=2))
    print("rss_mb over time:", rss)
    print("cpu_s over time:", cpu)
    return 0 if process.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
