"""Benchmarks of newsbeam (not run by CI, not tests): a synthetic feed generator, per-stage timings of the
stages' plain functions, a plain-Python baseline of the whole chain, newsbeam's own work without Beam, and
end-to-end `newsbeam run` timings.

    python -m bench                    # all of it on a fresh 20 x 100 set; writes bench/results.json
    python -m bench.generate --help    # only the feeds
    python -m bench.stages --help      # only the per-stage loops, the baseline and the no-Beam floor

See bench/README.md for what each figure means and the figures measured so far.
"""

# Kept here, light (standard library only), because `python -m bench` only orchestrates: everything it
# measures runs in a child process, and a child's ru_maxrss starts at its parent's RSS at fork on Linux,
# so the parent must stay small. Importing Beam or pyarrow here would add ~150 MB to every child's figure.

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH_OUT = Path(__file__).resolve().parent / "out"  # git-ignored
REPO = Path(__file__).resolve().parent.parent


def set_dir(feeds: int, items: int, seed: int) -> Path:
    return BENCH_OUT / f"set-{feeds}x{items}-s{seed}"


def generate_isolated(directory: Path, feeds: int, items: int, seed: int) -> dict:
    """bench.generate in a child process (its memory is not the measuring process's); the manifest."""
    command = [sys.executable, "-m", "bench.generate", "--out", str(directory), "--seed", str(seed)]
    command += ["--feeds", str(feeds), "--items", str(items)]
    subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return json.loads((directory / "manifest.json").read_text())


def run_isolated(directory: Path, only: str, *flags: str) -> list[dict]:
    """`bench.stages --only stages|baseline` in a fresh interpreter: its memory is its own, nothing warm."""
    command = [sys.executable, "-m", "bench.stages", "--dir", str(directory), "--only", only, "--json"]
    done = subprocess.run([*command, *flags], capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_to_baseline(rows: list[dict]) -> None:
    """Each row's items/s over the plain-Python baseline's (`x_base`), when the rows hold a baseline."""
    baseline = next((r["items_per_s"] for r in rows if r["stage"].startswith("baseline")), None)
    for row in rows:
        if baseline and row.get("items_per_s") and row["items"] > 1:
            row["x_base"] = round(row["items_per_s"] / baseline, 2)


def _note(row: dict) -> str:
    parts = []
    if row.get("py_peak_mb") is not None:
        parts.append(f"tracemalloc peak {row['py_peak_mb']:.1f} MB")
    if row.get("fast_path_feeds") is not None:
        parts.append(f"{row['fast_path_feeds']} feeds by the fast path")
    if "written" in row:
        parts.append(f"{row['written']} written")
    if "near_duplicates" in row and "stories" in row:
        parts.append(f"{row['near_duplicates']} near-dups, {row['stories']} stories")
    if "serial_cpu_s" in row:
        parts.append(
            f"{row['cpu_ms_per_item']:.2f} CPU ms/item, {row['serial_cpu_s']:.1f} s serial; "
            f"2 cores at best {row['two_core_items_per_s']:,.0f} items/s"
        )
    if "gazetteer_build_s" in row:
        parts.append(f"Gazetteer.build {row['gazetteer_build_s']:.2f} s")
    if "cores_busy" in row:
        parts.append(f"CPU {row['cpu_seconds']:.0f} s = {row['cores_busy']:.2f} cores")
    if "tree_rss_mb" in row:
        parts.append(f"all processes {row['tree_rss_mb']:.0f} MB")
    if "process_seconds" in row:
        parts.append(f"{row['process_seconds']:.1f} s with start-up")
    return "; ".join(parts)


def print_table(rows: list[dict], file=None) -> None:
    """stage, items, seconds, items/s (wall, and per CPU second), the ratio to the plain-Python baseline's
    items/s, peak RSS, and what else the row knows."""
    file = file or sys.stdout
    header = (
        f"{'stage':<30} {'items':>7} {'seconds':>8} {'items/s':>9} {'items/CPU-s':>11} {'x base':>7} "
        f"{'peak RSS MB':>11}  note"
    )
    print(header, file=file)
    print("-" * (len(header) + 40), file=file)
    for row in rows:
        rate, per_cpu = row.get("items_per_s"), row.get("items_per_cpu_s")
        ratio = f"{row['x_base']:.2f}" if "x_base" in row else "-"
        print(
            f"{row['stage']:<30} {row['items']:>7} {row['seconds']:>8.2f} {_count(rate):>9} "
            f"{_count(per_cpu):>11} {ratio:>7} {row['rss_mb']:>11.0f}  {_note(row)}",
            file=file,
        )
    for row in rows:
        if "steps" in row:
            print_steps(row, file)


def print_steps(row: dict, file=None) -> None:
    """A floor row's CPU per step: seconds, ms per item, and whether two workers could share it."""
    file = file or sys.stdout
    print(f"\n{row['stage']}: CPU per step ({row['items']} items)", file=file)
    print(f"{'step':<46} {'CPU s':>7} {'ms/item':>8} {'groups':>7}  share", file=file)
    for step in row["steps"]:
        groups = step["groups"] if step["groups"] is not None else "-"
        share = f"serial: {step['why']}" if step["serial"] else "parallel"
        print(
            f"{step['step']:<46} {step['cpu_s']:>7.2f} {step['ms_per_item']:>8.3f} {groups:>7}  {share}",
            file=file,
        )
    print(
        f"{'all':<46} {row['cpu_seconds']:>7.2f} {row['cpu_ms_per_item']:>8.3f}          "
        f"parallel {row['parallel_cpu_s']:.2f} s, serial {row['serial_cpu_s']:.2f} s: one core "
        f"{row['items_per_cpu_s']:,.0f} items/s, two at best {row['two_core_items_per_s']:,.0f}",
        file=file,
    )


def _count(value: float | None) -> str:
    return f"{value:,.0f}" if value is not None else "-"
