"""`python -m bench` (what `make bench` runs): generate a fresh set in bench/out/, time the stages and the
plain-Python baseline (bench/stages.py), then time `newsbeam run` end to end as a subprocess at each
--workers count; print one table and write bench/results.json.

    python -m bench                                 # 20 feeds x 100 items, workers 1 and 2
    python -m bench --feeds 40 --items 500          # 20,000 items
    python -m bench --workers 1 --skip-stages       # end to end only

End to end, `seconds` and `items/s` are the CLI's own summary (wall_seconds: from the start of the run to
the commit, after Python and Beam have started); "with start-up" is the subprocess's whole life. Peak
RSS is the largest single process of the run (the child's rusage from wait4, the figure
RUSAGE_CHILDREN reports); "all processes" is the peak of the sum over the child and its descendants
(Beam's worker processes at --workers > 1), sampled from /proc every 0.1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

from bench.generate import generate
from bench.stages import BENCH_OUT, feed_paths, print_table, run_baseline_isolated, run_stages

RESULTS = Path(__file__).resolve().parent / "results.json"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss_bytes(root: int) -> int:
    """RSS summed over `root` and its descendants, from /proc (0 where /proc is missing)."""
    parents, rss = {}, {}
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
        except (OSError, IndexError):
            continue  # the process ended while we looked
        parents[int(name)] = int(fields[1])
        rss[int(name)] = int(fields[21]) * _PAGE
    total, stack = 0, [root]
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack += children.get(pid, [])
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            self.peak = max(self.peak, _tree_rss_bytes(self.pid))

    def stop(self) -> None:
        self._done.set()
        self.join()


def _newsbeam() -> list[str]:
    script = Path(sys.executable).with_name("newsbeam")  # the console script of this environment
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsbeam.pipeline.cli"]


def run_end_to_end(feeds_file: Path, workers: int, scratch: Path) -> dict:
    """One `newsbeam run` in a subprocess into a fresh output directory (deleted afterwards)."""
    output = scratch / f"e2e-output-w{workers}"
    shutil.rmtree(output, ignore_errors=True)
    command = [
        *_newsbeam(), "run", "--feeds-file", str(feeds_file), "--output", str(output),
        "--log-format", "json", "--workers", str(workers),
    ]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err)
        sampler = _TreeSampler(child.pid)
        sampler.start()
        # wait4, not wait: the rusage of this child alone, not of every child this process has reaped
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        process_seconds = time.perf_counter() - start
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    shutil.rmtree(output, ignore_errors=True)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}:\n{stderr[-2000:]}")
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "stage": f"newsbeam run --workers {workers}",
        "items": summary["entries_parsed"],
        "written": summary["articles_written"],
        "seconds": round(summary["wall_seconds"], 3),
        "items_per_s": summary["items_per_second"],
        "process_seconds": round(process_seconds, 3),
        "rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        "tree_rss_mb": round(sampler.peak / 2**20, 1),
        "command": " ".join(command),
        "summary": summary,
    }


def machine() -> dict:
    versions = {}
    for dist in ("apache-beam", "feedparser", "pyarrow", "lxml"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "python": platform.python_version(),
        "packages": versions,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="end-to-end runs (1 2)")
    parser.add_argument("--py-peak", action="store_true", help="tracemalloc peak per stage (5x slower)")
    parser.add_argument("--skip-stages", action="store_true", help="end to end only")
    parser.add_argument("--skip-e2e", action="store_true", help="stages and baseline only")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)

    directory = BENCH_OUT / f"set-{args.feeds}x{args.items}-s{args.seed}"
    print(f"generating {args.feeds} feeds x {args.items} items into {directory}", file=sys.stderr)
    manifest = generate(directory, args.feeds, args.items, seed=args.seed)
    rows = []
    if not args.skip_stages:
        print("stages (one core, plain loops) ...", file=sys.stderr)
        rows += run_stages(feed_paths(directory), py_peak=args.py_peak)
        print("plain-Python baseline ...", file=sys.stderr)
        rows.append(run_baseline_isolated(directory))
    if not args.skip_e2e:
        for workers in args.workers:
            print(f"newsbeam run --workers {workers} ...", file=sys.stderr)
            rows.append(run_end_to_end(Path(manifest["feeds_file"]), workers, BENCH_OUT))

    print(
        f"\n{manifest['items']} items in {args.feeds} feeds ({manifest['bytes'] / 2**20:.1f} MB; "
        f"{manifest['exact_duplicates']} exact and {manifest['near_duplicates']} near duplicates; "
        f"{manifest['expected_articles']} articles expected), {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )
    print_table(rows)
    results = {"machine": machine(), "argv": ["python", "-m", "bench", *(argv or sys.argv[1:])],
               "set": manifest, "rows": rows}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
