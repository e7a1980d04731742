"""How the run summary is printed: a table on a terminal, one line for logs and cron, JSON for machines.

    print_summary(summary, log_format="text", quiet=False, out=sys.stdout)
    -> a terminal: a rich table, stage by stage (fetch ... write, dead letters), then failing feeds
    -> not a terminal: the one-line summary (RunSummary.text()), which cron users and tests read
    -> --log-format json: one JSON object on one line; --quiet: nothing

Headline figures come from the committed files (RunSummary); the clean and enrich rows, and the fetch
failures by reason, come from the Beam counters, shown as "-" where the runner reports no metrics.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from newsbeam.pipeline.summary import RunSummary

if TYPE_CHECKING:
    from newsbeam.pipeline.compact import CompactSummary
    from newsbeam.pipeline.stream import StreamSummary


def print_summary(
    summary: RunSummary | StreamSummary | CompactSummary, *, log_format: str, quiet: bool, out: IO[str]
) -> None:
    if quiet:
        return
    if log_format == "json":
        print(summary.json(), file=out, flush=True)
    elif out.isatty() and isinstance(summary, RunSummary):  # stream and compact print their own lines
        from rich.console import Console

        console = Console(file=out)
        console.print(summary_table(summary))
        for line in summary.text().splitlines()[1:]:  # failed, backing-off and moved feeds
            console.print(line.strip(), style="yellow", highlight=False, soft_wrap=True)
    else:
        print(summary.text(), file=out, flush=True)


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def summary_rows(summary: RunSummary) -> list[list[tuple[str, str]]]:
    """The table's rows, grouped by stage: [[(label, count), ...], ...], each group's first label
    prefixed with the stage name as `stage\tlabel`."""
    metrics = summary.metrics

    def counter(name: str) -> int | None:
        return metrics.get(name, 0) if metrics else None

    failures = sorted(
        (name.split("/failed_", 1)[1], n) for name, n in metrics.items() if name.startswith("fetch/failed_")
    )
    fetch = [
        ("fetched", _n(summary.feeds_fetched)),
        ("not modified (304)", _n(summary.feeds_not_modified)),
        ("failed", _n(summary.feeds_failed)),
        *((f"  {reason}", _n(n)) for reason, n in failures),
        ("backing off (not fetched)", _n(summary.feeds_backing_off)),
    ]
    dead = sorted(summary.dead_letters.items())
    return [
        [("fetch\t" + fetch[0][0], fetch[0][1]), *fetch[1:]],
        [("parse\tentries", _n(summary.entries_parsed))],
        [
            ("clean\tcleaned", _n(counter("clean/cleaned"))),
            ("paragraphs dropped by model", _n(counter("clean/learned_dropped"))),
        ],
        [
            ("enrich\ttagged with a country", _n(counter("enrich/tagged"))),
            ("untagged", _n(counter("enrich/untagged"))),
        ],
        [
            ("dedup\texact duplicates dropped", _n(summary.duplicates_dropped)),
            ("near-duplicates linked", _n(summary.near_duplicates_linked)),
            ("stories", _n(summary.stories)),
        ],
        [("write\tarticles written", _n(summary.articles_written))],
        [("dead letters\t" + (dead[0][0] if dead else "none"), _n(dead[0][1]) if dead else "")]
        + [(stage, _n(n)) for stage, n in dead[1:]],
    ]


def summary_table(summary: RunSummary):
    from rich import box
    from rich.table import Table

    speed = f"{summary.wall_seconds:.1f} s · {summary.items_per_second:,.0f} items/s"
    table = Table(
        title=f"newsbeam run {summary.run_id}",
        caption=f"{summary.feeds:,} feeds · {speed}",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("stage", style="bold")
    table.add_column("")
    table.add_column("count", justify="right")
    for group in summary_rows(summary):
        group_stage = group[0][0].partition("\t")[0]
        for label, count in group:
            stage, _, what = label.rpartition("\t")
            alarming = group_stage == "dead letters" or what == "failed"
            table.add_row(stage, what, count, style="red" if alarming and count not in ("", "0") else None)
    return table
