"""`newsbeam`: the command line. Thin: parse, load the config, hand over to the runner, print the summary.

Exit codes: 0 the pipeline ran (even if some feeds failed: they are dead letters and in the summary);
2 a bad config or option, reported before any work; 1 the run as a whole failed.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import signal
import sys
import threading
from pathlib import Path

log = logging.getLogger("newsbeam")


def _common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="YAML config (default: the bundled configs/local.yaml)")
    parser.add_argument(
        "--feed",
        action="append",
        metavar="URL_OR_PATH",
        help="a feed to read; repeatable; with --feeds-file, replaces the config's feeds",
    )
    parser.add_argument("--feeds-file", metavar="PATH", help="OPML, plain list or YAML of feeds")
    parser.add_argument(
        "--output", metavar="DIR", help="output directory (default from the config: ./output)"
    )
    parser.add_argument("--runner", metavar="NAME", help="direct (default), or any Beam runner name")
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="local worker processes (direct runner; dask runner without --dask-address)",
    )
    parser.add_argument(
        "--dask-address",
        metavar="tcp://HOST:PORT",
        help="with --runner dask: the dask.distributed scheduler (default: a local cluster for the run)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="the summary as a readable line (text) or one JSON line",
    )
    parser.add_argument(
        "--progress-interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="off a terminal, a progress line this often while feeds are fetched (0: none; default 30)",
    )
    _verbosity_options(parser)


def _verbosity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and Beam's own messages")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsbeam",
        description="Fetch news feeds, clean, deduplicate and region-tag the articles, write Parquet.",
        epilog="Options not listed here (e.g. --temp_location) are passed to Apache Beam.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="one pass over the feeds, then exit",
        epilog="Options not listed here are passed to Apache Beam.",
    )
    _common_options(run)
    report = commands.add_parser("report", help="charts and tables of OUTPUT in one self-contained HTML file")
    report.add_argument("--output", metavar="DIR", default="output", help="the run output (default ./output)")
    report.add_argument(
        "--to", metavar="PATH.html", help="the HTML file (default OUTPUT/report.html; PNGs in <name>_files/)"
    )
    _verbosity_options(report)
    stream = commands.add_parser(
        "stream",
        help="poll the feeds continuously; write one commit per event-time window; stop on SIGINT / SIGTERM",
        epilog="Options not listed here are passed to Apache Beam.",
    )
    _common_options(stream)
    stream.add_argument("--poll-interval", type=float, metavar="SECONDS", help="default feed poll interval")
    stream.add_argument("--window", type=float, metavar="SECONDS", help="event-time window length")
    stream.add_argument("--duration", type=float, metavar="SECONDS", help="stop (flushing) after this long")
    compact = commands.add_parser(
        "compact", help="merge the small files of each partition into one, atomically (safe beside stream)"
    )
    compact.add_argument("--config", help="YAML config (default: the bundled configs/local.yaml)")
    compact.add_argument("--output", metavar="DIR", help="output directory (default from the config)")
    compact.add_argument(
        "--partition",
        action="append",
        metavar="date=YYYY-MM-DD",
        help="only these partitions (repeatable; default: every partition with more than one file)",
    )
    compact.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    compact.add_argument("-v", "--verbose", action="store_true", help="log progress")
    compact.set_defaults(
        log_format="text", feed=None, feeds_file=None, runner=None, workers=None, dask_address=None
    )
    return parser


def _stop_on_signals() -> threading.Event:
    """For `stream`, from the very start (Beam takes seconds to import): SIGINT / SIGTERM set the event the
    stream stops on, so a signal during start-up also ends in a clean exit 0."""
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda signum, frame: stop.set())
    return stop


def _check_compact_args(args: argparse.Namespace, beam_args: list[str]) -> None:
    from newsbeam.pipeline.config import ConfigError

    if beam_args:
        raise ConfigError(f"unknown option {beam_args[0]} (compact takes no Beam options)")
    for partition in args.partition or ():
        if not re.match(r"^date=\d{4}-\d{2}-\d{2}$", partition):
            raise ConfigError(f"--partition {partition}: expected date=YYYY-MM-DD")


def _stream_overrides(config, args: argparse.Namespace):
    """The config with --poll-interval, --window and --duration applied (validated like the file's keys)."""
    import dataclasses

    from newsbeam.pipeline.config import ConfigError

    given = {"poll_interval_s": args.poll_interval, "window_s": args.window, "duration_s": args.duration}
    changes = {key: value for key, value in given.items() if value is not None}
    try:
        stream = dataclasses.replace(config.stream, **changes)
    except ValueError as exc:
        flag = next((f"--{k[:-2].replace('_', '-')}" for k in changes if k in str(exc)), "option")
        raise ConfigError(f"{flag}: {exc}") from None
    return config.model_copy(update={"stream": stream})


def _overrides(args: argparse.Namespace) -> dict:
    """The config keys the command line sets (only those given)."""
    given = {
        "output": args.output,
        "runner": args.runner,
        "workers": args.workers,
        "dask_address": args.dask_address,
    }
    overrides: dict = {key: value for key, value in given.items() if value is not None}
    if args.feed or args.feeds_file:  # together they replace the config's feed list
        overrides["feeds"] = [f if "://" in f else str(Path(f).resolve()) for f in args.feed or []]
        overrides["feeds_file"] = str(Path(args.feeds_file).resolve()) if args.feeds_file else None
    return overrides


def check_beam_flags(flags: list[str]) -> None:
    """Beam discards flags it does not know with a warning; here a typo is an error before any work."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from newsbeam.pipeline.config import ConfigError

    if any(flag.startswith("--dask") for flag in flags):  # its options register on import: seconds
        with contextlib.suppress(ImportError):
            import apache_beam.runners.dask.dask_runner  # noqa: F401

    options = PipelineOptions(flags)
    beam_logger = logging.getLogger("apache_beam.options.pipeline_options")
    level = beam_logger.level
    beam_logger.setLevel(logging.ERROR)  # its "Discarding unparseable args" warning: the error below says it
    try:
        unknown = set(options.get_all_options(retain_unknown_options=True)) - set(options.get_all_options())
    finally:
        beam_logger.setLevel(level)
    if unknown:
        names = ", ".join(f"--{name}" for name in sorted(unknown))
        raise ConfigError(f"unknown option {names} (not a newsbeam option, nor a Beam pipeline option)")


def _not_from_imports(record: logging.LogRecord) -> bool:
    """Beam logs on the root logger while it is imported (e.g. "apitools not found"): not about the run."""
    return record.name != "root" or record.levelno >= logging.ERROR


def _configure_logging(args: argparse.Namespace) -> None:
    """Before anything imports Beam, so its import-time messages meet this configuration."""
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    if not args.verbose:  # Beam logs a great deal at INFO and WARNING that is not about the user's run
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")  # read when dask.distributed is imported
        for noisy in ("apache_beam", "distributed"):
            logging.getLogger(noisy).setLevel(logging.ERROR)
        for handler in logging.getLogger().handlers:
            handler.addFilter(_not_from_imports)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, beam_args = parser.parse_known_args(argv)
    _configure_logging(args)
    if args.command == "report":
        return _report(parser, args, beam_args)
    stop = _stop_on_signals() if args.command == "stream" else None
    from newsbeam.pipeline.config import ConfigError, load_config, resolve_feeds

    try:
        if args.command == "compact":
            _check_compact_args(args, beam_args)
        overrides = _overrides(args)
        config, config_dir = load_config(args.config, overrides)
        check_beam_flags(config.beam_flags() + beam_args)
        if args.command == "stream":
            config = _stream_overrides(config, args)
        feeds = (
            resolve_feeds(config, Path.cwd() if args.feed or args.feeds_file else config_dir)
            if args.command != "compact"
            else []
        )
    except ConfigError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2

    from newsbeam.pipeline.display import print_summary
    from newsbeam.pipeline.progress import show_progress
    from newsbeam.pipeline.runner import run_batch  # slow: once the config is good

    live = config.in_one_process  # stages in this process
    try:
        if args.command == "stream":
            from newsbeam.pipeline.progress import show_windows
            from newsbeam.pipeline.stream import run_stream

            with show_windows(sys.stdout, args.log_format, args.quiet):
                summary = run_stream(config, feeds, beam_args, stop)
        elif args.command == "compact":
            from newsbeam.pipeline.compact import compact

            summary = compact(config.output, args.partition or (), config.sink)
        else:
            with show_progress(
                len(feeds),
                mode=_progress_mode(args),
                stream=sys.stderr,
                interval=args.progress_interval,
                live=live,
                runner=config.runner,
            ):
                summary = run_batch(config, feeds, beam_args)
    except ConfigError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        log.debug("run failed", exc_info=True)
        first_line = str(exc).strip().split("\n", 1)[0]
        print(f"newsbeam: error: the run failed: {type(exc).__name__}: {first_line}", file=sys.stderr)
        return 1
    print_summary(summary, log_format=args.log_format, quiet=args.quiet, out=sys.stdout)
    return 0


def _progress_mode(args: argparse.Namespace) -> str:
    if args.quiet:
        return "off"
    if args.log_format == "json":
        return "json"
    return "bar" if sys.stderr.isatty() else "text"


def _report(parser: argparse.ArgumentParser, args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        parser.error(f"report: unrecognized arguments: {' '.join(extra)}")
    from newsbeam.pipeline.report import ReportError, build_report

    try:
        result = build_report(args.output, args.to)
    except ReportError as exc:
        print(f"newsbeam: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"newsbeam report: wrote {result.html_path} (charts also as PNG files in {result.files_dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
