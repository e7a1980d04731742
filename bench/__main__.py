"""`python -m bench` (what `make bench` runs): generate a fresh set in bench/out/, time the stages, the
plain-Python baseline and newsbeam's own work without Beam (bench/stages.py), then time `newsbeam run` end
to end as a subprocess at each --workers count; print one table and write bench/results.json.

    python -m bench                                 # 20 feeds x 100 items, workers 1 and 2
    python -m bench --feeds 40 --items 500          # 20,000 items
    python -m bench --workers 1 --skip-stages       # end to end only
    python -m bench --repeat 3                      # best of 3 end-to-end runs (on a busy machine)

Every measurement runs in a child process (generation too), and this one imports neither Beam nor
pyarrow: on Linux a child's ru_maxrss starts at its parent's RSS at fork, so a big parent would inflate
every child's figure.

End to end, `seconds` and `items/s` are the CLI's own summary (wall_seconds: from the start of the run to
the commit, after Python and Beam have started); "with start-up" is the subprocess's whole life. Peak
RSS is the largest single process of the run (the child's rusage from wait4, the figure
RUSAGE_CHILDREN reports, floored at this process's ~20 MB); "all processes" is the peak of the sum over
the child and its descendants (Beam's worker processes at --workers > 1), sampled from /proc every 0.1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

from bench import BENCH_OUT, compare_to_baseline, generate_isolated, print_table, run_isolated, set_dir

RESULTS = Path(__file__).resolve().parent / "results.json"
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> dict[int, tuple[int, int]]:
    """{pid: (RSS bytes, CPU clock ticks)} of `root` and its descendants, from /proc ({} without /proc)."""
    parents, usage = {}, {}
    for name in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()  # after "(comm)", which may hold spaces
        except (OSError, IndexError):
            continue  # the process ended while we looked
        parents[int(name)] = int(fields[1])
        usage[int(name)] = (int(fields[21]) * _PAGE, int(fields[11]) + int(fields[12]))  # rss; utime+stime
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in usage:
            found[pid] = usage[pid]
        stack += children.get(pid, [])
    return found


class _TreeSampler(threading.Thread):
    """Peak of the summed RSS, and the CPU time, of a process and all its descendants (Beam's workers
    included, whether or not anyone waits for them), sampled every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._cpu, self._done = pid, 0, {}, threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.1):
            tree = _tree(self.pid)
            self.peak = max(self.peak, sum(rss for rss, _ in tree.values()))
            self._cpu.update({pid: ticks for pid, (_, ticks) in tree.items()})

    def stop(self) -> None:
        self._done.set()
        self.join()

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values()) / os.sysconf("SC_CLK_TCK")


def _newsbeam() -> list[str]:
    script = Path(sys.executable).with_name("newsbeam")  # the console script of this environment
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsbeam.pipeline.cli"]


def run_end_to_end(feeds_file: Path, workers: int, scratch: Path, runner: str = "direct") -> dict:
    """One `newsbeam run` in a subprocess into a fresh output directory (deleted afterwards)."""
    output = scratch / f"e2e-output-{runner}-w{workers}"
    shutil.rmtree(output, ignore_errors=True)
    command = [*_newsbeam(), "run", "--feeds-file", str(feeds_file), "--output", str(output)]
    command += ["--log-format", "json", "--workers", str(workers), "--runner", runner]
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
    # the sampler sees Beam's worker processes; wait4's rusage is exact for the child itself
    cpu = max(sampler.cpu_seconds, usage.ru_utime + usage.ru_stime)
    return {
        "stage": f"newsbeam run --workers {workers}" + (f" --runner {runner}" if runner != "direct" else ""),
        "items": summary["entries_parsed"],
        "written": summary["articles_written"],
        "seconds": round(summary["wall_seconds"], 3),
        "items_per_s": summary["items_per_second"],
        "process_seconds": round(process_seconds, 3),
        # CPU of the whole tree over the wall time: how many cores the run kept busy
        "cpu_seconds": round(cpu, 1),
        "cores_busy": round(cpu / process_seconds, 2),
        # per CPU second of the whole life (start-up included): comparable on a busy machine
        "items_per_cpu_s": round(summary["entries_parsed"] / cpu, 1) if cpu else None,
        "rss_mb": round(usage.ru_maxrss / 1024, 1),  # KiB on Linux
        # sampled, so it can miss a short peak; never less than the largest process's exact peak
        "tree_rss_mb": round(max(sampler.peak / 2**20, usage.ru_maxrss / 1024), 1),
        "command": " ".join(command),
        "summary": summary,
    }


def best_of(repeat: int, feeds_file: Path, workers: int, runner: str = "direct") -> dict:
    """The fastest of `repeat` runs: on a shared machine, other work only ever adds time."""
    runs = [run_end_to_end(feeds_file, workers, BENCH_OUT, runner) for _ in range(max(repeat, 1))]
    best = min(runs, key=lambda run: run["seconds"])
    best["all_seconds"] = [run["seconds"] for run in runs]
    return best


def _source() -> dict:
    """Which newsbeam code was measured: its folder, and the git commit when that is a checkout."""
    spec = importlib.util.find_spec("newsbeam.transforms")  # found, not imported: no Beam in this process
    if spec is None or spec.origin is None:
        return {"path": None, "commit": None, "dirty": None}
    folder = Path(spec.origin).resolve().parent.parent
    git = ["git", "-C", str(folder)]
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return {"path": str(folder), "commit": None, "dirty": None}
    measured = ["transforms", "pipeline", "configs"]  # the code under test, not bench/ itself
    status = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no", "--", *measured],
        capture_output=True,
        text=True,
    )
    return {"path": str(folder), "commit": head.stdout.strip(), "dirty": bool(status.stdout.strip())}


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
        "newsbeam": _source(),
        # without cached bytecode every process (Beam's workers too) compiles Beam at import: seconds each
        "bytecode_cache": not sys.dont_write_bytecode or bool(sys.pycache_prefix),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        # other work on the machine skews every figure: compare against cpu_count
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=100, help="items per feed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="end-to-end runs (1 2)")
    parser.add_argument(
        "--dask-workers", type=int, nargs="*", default=[], help="end-to-end runs on the Dask runner (e.g. 2)"
    )
    parser.add_argument("--py-peak", action="store_true", help="tracemalloc peak per stage (5x slower)")
    parser.add_argument("--skip-stages", action="store_true", help="end to end only")
    parser.add_argument("--skip-e2e", action="store_true", help="stages and baseline only")
    parser.add_argument(
        "--repeat", type=int, default=1, help="end-to-end runs per --workers count; the fastest is kept"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"default {RESULTS}")
    args = parser.parse_args(argv)

    directory = set_dir(args.feeds, args.items, args.seed)
    print(f"generating {args.feeds} feeds x {args.items} items into {directory}", file=sys.stderr)
    manifest = generate_isolated(directory, args.feeds, args.items, args.seed)
    results = {
        "machine": machine(),
        "argv": ["python", "-m", "bench", *(argv or sys.argv[1:])],
        "set": manifest,
        "rows": [],
    }
    rows = results["rows"]

    def phase(label: str, run, *run_args) -> None:
        # results are written after every phase, so a run stopped half-way keeps what it measured
        print(f"{label} ...", file=sys.stderr)
        start = time.perf_counter()
        found = run(*run_args)
        rows.extend(found if isinstance(found, list) else [found])
        rows[-1]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        compare_to_baseline(rows)
        # the floor under every child's ru_maxrss (see the module docstring)
        results["orchestrator_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"{label}: done in {time.perf_counter() - start:.0f} s", file=sys.stderr)

    if not args.skip_stages:
        flags = ["--py-peak"] if args.py_peak else []
        phase("stages (one core, plain loops)", run_isolated, directory, "stages", *flags)
        phase("plain-Python baseline", run_isolated, directory, "baseline")
        phase("newsbeam stages, no Beam", run_isolated, directory, "floor")
    if not args.skip_e2e:
        feeds_file = Path(manifest["feeds_file"])
        for workers in args.workers:
            phase(f"newsbeam run --workers {workers}", best_of, args.repeat, feeds_file, workers)
        for workers in args.dask_workers:
            label = f"newsbeam run --runner dask --workers {workers}"
            phase(label, best_of, args.repeat, feeds_file, workers, "dask")

    print(
        f"\n{manifest['items']} items in {args.feeds} feeds ({manifest['bytes'] / 2**20:.1f} MB; "
        f"{manifest['exact_duplicates']} exact and {manifest['near_duplicates']} near duplicates; "
        f"{manifest['expected_articles']} articles expected), {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}\n"
    )
    print_table(rows)
    print(f"\nwritten {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
