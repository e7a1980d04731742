"""Runner selection and one batch run: recover, build, run, commit, summarise."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
import time
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.runners.runner import PipelineResult, PipelineRunner

from newsbeam.pipeline.config import LOCAL_RUNNER_NAMES, Config
from newsbeam.pipeline.graph import RunContext, build_pipeline
from newsbeam.pipeline.summary import RunSummary, summarise
from newsbeam.transforms.records import FeedSpec
from newsbeam.transforms.sink import (
    SKETCHES,
    commit_lock,
    commit_run,
    compact_feed_states,
    discard_run,
    expire_index,
    index_files,
    read_feed_states,
    recover,
    run_lock,
)

log = logging.getLogger(__name__)

DASK_RUNNER_NAMES = ("dask", "daskrunner")


def is_dask(config: Config) -> bool:
    return config.runner.lower() in DASK_RUNNER_NAMES


def make_runner(name: str) -> PipelineRunner | str:
    """`direct` is Beam's FnApiRunner, named explicitly: Beam 2.77's DirectRunner first tries the Prism
    runner, which downloads a binary. `dask` is Beam's DaskRunner. Any other name goes to Beam as it is."""
    if name.lower() in LOCAL_RUNNER_NAMES:
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.fn_api_runner import FnApiRunner
        from apache_beam.runners.portability.fn_api_runner.fn_runner import ExtendedProvisionInfo
        from google.protobuf import struct_pb2

        # Worker processes (--workers N) log at the level this process gives Beam's loggers: they are not
        # handed the pipeline options, so without this they print every start-up and shut-down at INFO.
        options = struct_pb2.Struct()
        level = logging.getLevelName(logging.getLogger("apache_beam").getEffectiveLevel())
        options.update({"default_sdk_harness_log_level": level})
        info = beam_provision_api_pb2.ProvisionInfo(
            retrieval_token="unused-retrieval-token", pipeline_options=options
        )
        return FnApiRunner(provision_info=ExtendedProvisionInfo(info))
    if name.lower() in DASK_RUNNER_NAMES:
        from apache_beam.runners.dask.dask_runner import DaskRunner

        return DaskRunner()
    return name


def make_options(config: Config, beam_args: list[str], dask_address: str | None = None) -> PipelineOptions:
    """Beam options: the config's `pipeline_options`, then flags given on the command line."""
    flags = config.beam_flags() + list(beam_args)
    if dask_address:
        flags.append(f"--dask_client_address={dask_address}")
    options = PipelineOptions(flags)
    if config.runner.lower() in LOCAL_RUNNER_NAMES:
        direct = options.view_as(DirectOptions)
        direct.direct_num_workers = config.workers
        # Several local workers means processes: the multi_threading mode was seen to lose elements.
        direct.direct_running_mode = "multi_processing" if config.workers > 1 else "in_memory"
    return options


@contextlib.contextmanager
def dask_scheduler(config: Config) -> Iterator[str | None]:
    """The scheduler a dask run talks to: `dask_address`, else a local cluster of `workers` processes
    (one thread each: the stages are CPU-bound Python) that lives as long as the run."""
    if not is_dask(config) or config.dask_address:
        yield config.dask_address
        return
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=config.workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: two runs on one machine must not collide on 8787
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


def _finish(result: PipelineResult) -> None:
    try:
        result.wait_until_finish()
    finally:
        client = getattr(result, "client", None)  # the Dask runner leaves its client open
        if client is not None:
            client.close()


def new_run_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run_batch(config: Config, feeds: list[FeedSpec], beam_args: list[str]) -> RunSummary:
    """One pass over the feeds. Raises only when the run as a whole fails (nothing is published then)."""
    started = time.monotonic()
    with run_lock(config.output), dask_scheduler(config) as dask_address:
        options = make_options(config, beam_args, dask_address)
        with commit_lock(config.output):  # `compact` swaps partitions under this lock
            recovered = recover(config.output)
        for line in recovered:
            log.warning("%s", line)
        now = dt.datetime.now(dt.UTC)
        since = (now - dt.timedelta(days=config.dedup.lookback_days)).date()
        run = RunContext(
            new_run_id(now),
            now,
            tuple(index_files(config.output, since)),
            tuple(index_files(config.output, since, SKETCHES)),
            read_feed_states(config.output),
        )
        log.info(
            "run %s: %d feeds, %d look-back index files, %d sketch files",
            run.run_id,
            len(feeds),
            len(run.index_paths),
            len(run.sketch_paths),
        )
        pipeline = beam.Pipeline(runner=make_runner(config.runner), options=options)
        build_pipeline(pipeline, config, feeds, run)
        try:
            result = pipeline.run()
            _finish(result)
        except BaseException:
            discard_run(config.output, run.run_id)
            raise
        with commit_lock(config.output):
            report = commit_run(config.output, run.run_id)
            compact_feed_states(config.output, run.run_id)
        expire_index(config.output, since)
    return summarise(report, result, time.monotonic() - started, len(feeds))
