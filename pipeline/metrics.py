"""Beam metrics read back from a finished pipeline: the stage counters, by "namespace/name".

The stages count with `Metrics.counter(<stage>, <name>)` (fetch/fetched, fetch/failed_Timeout,
parse/entries, clean/cleaned, enrich/tagged, dedup/exact_duplicates, sink/articles_rows,
<stage>/dead_letters, ...). Runners differ in what they report: committed values where the runner has
them, else attempted ones; nothing at all (an empty dict) where the runner reports no metrics, such as
Beam 2.77's Dask runner.
"""

from __future__ import annotations

import logging

from apache_beam.runners.runner import PipelineResult

log = logging.getLogger(__name__)


def read_counters(result: PipelineResult | None) -> dict[str, int]:
    """{"fetch/fetched": 9, "parse/entries": 49, ...}: each counter summed over the steps that use it.

    A counter that was never incremented is absent (runners do not report it), so read it with
    `.get(name, 0)` once the dict is non-empty.
    """
    if result is None:
        return {}
    try:
        counters = result.metrics().query()["counters"]
    except NotImplementedError:
        log.info("this runner reports no metrics; the summary comes from the committed files alone")
        return {}
    except Exception as exc:  # a runner's metrics service is not worth failing a finished run for
        log.warning("could not read the pipeline's metrics: %s: %s", type(exc).__name__, exc)
        return {}
    totals: dict[str, int] = {}
    for counter in counters:
        value = _value(counter)
        if value is None:
            continue
        name = f"{counter.key.metric.namespace}/{counter.key.metric.name}"
        totals[name] = totals.get(name, 0) + int(value)
    return dict(sorted(totals.items()))


def _value(counter) -> int | None:
    try:
        committed = counter.committed
    except Exception:  # some runners raise for committed values they do not track
        committed = None
    return committed if committed is not None else counter.attempted
