"""Benchmarks of newsbeam (not run by CI, not tests): a synthetic feed generator, per-stage timings of the
stages' plain functions, a plain-Python baseline of the whole chain, and end-to-end `newsbeam run` timings.

    python -m bench                    # all of it on a fresh 20 x 100 set; writes bench/results.json
    python -m bench.generate --help    # only the feeds
    python -m bench.stages --help      # only the per-stage loops and the baseline

See bench/README.md for what each figure means and the figures measured so far.
"""
