"""CPU and memory per fused Beam stage of one `newsbeam run`: `python -m bench.stage_profile [run args]`.

Runs the CLI in this process (`--workers 1`: the local runner executes every fused stage here, one after
the other) and prints, per stage, its wall and CPU seconds, the process's RSS before and after it and the
peak so far, heaviest first, then the total. It wraps the local runner's private
`FnApiRunner._execute_bundle` (Beam 2.77), which is fine for a benchmark and not for the pipeline.

    python -m bench.generate --feeds 20 --items 500 --out bench/out/set-20x500-s1
    python -m bench.stage_profile --feeds-file bench/out/set-20x500-s1/feeds.txt --output /tmp/out -q
"""

from __future__ import annotations

import resource
import sys
import time


def _rss_mb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


def main(argv: list[str]) -> int:
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    stages: list[tuple[float, float, int, int, int, str]] = []
    execute = fn_runner.FnApiRunner._execute_bundle

    def timed(self, context, bundle, bundle_input):
        wall, cpu, rss = time.perf_counter(), time.process_time(), _rss_mb()
        result = execute(self, context, bundle, bundle_input)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        stages.append(
            (time.perf_counter() - wall, time.process_time() - cpu, rss, _rss_mb(), peak, bundle.stage.name)
        )
        return result

    fn_runner.FnApiRunner._execute_bundle = timed
    from newsbeam.pipeline.cli import main as newsbeam

    started = time.process_time()
    code = newsbeam(["run", "--workers", "1", *argv])
    print(f"{'wall s':>7} {'CPU s':>7} {'RSS MB before -> after (peak)':>30}  stage")
    for wall, cpu, before, after, peak, name in sorted(stages, key=lambda s: -s[1]):
        label = name.replace("ref_AppliedPTransform_", "").replace("(", "").replace(")", " ")
        print(f"{wall:7.2f} {cpu:7.2f} {before:>12} -> {after:>5} ({peak:>5})  {label[:140]}")
    in_stages = sum(s[1] for s in stages)
    whole = time.process_time() - started
    print(f"{len(stages)} stages: {in_stages:.1f} CPU s; whole process {whole:.1f} CPU s")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
