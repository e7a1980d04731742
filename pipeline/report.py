"""`newsbeam report`: what OUTPUT holds, as one self-contained HTML page with charts.

    newsbeam report --output output --to output/report.html
    -> output/report.html            the page (charts embedded as data URIs: opens offline, mails as one file)
       output/report_files/*.png     each chart as a PNG
       output/report_files/*.json    the figures behind each chart (what the PNG shows, for scripts and tests)

Everything is read with DuckDB from the published datasets (articles/, feeds/, errors/), never from _state/.
Charts are drawn with matplotlib's object API on the Agg canvas: no display, no pyplot global state.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import html
import json
import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import duckdb
from matplotlib.figure import Figure

log = logging.getLogger(__name__)

DATASETS = ("articles", "feeds", "errors")
STAGE_ORDER = ("fetch", "parse", "clean", "enrich", "dedup", "sink")
TOP_REGIONS = 8  # more colours than this in one stacked bar stop being readable; the rest is "Other"
TOP_STORIES = 15
TOP_COUNTRIES = 20
HEALTH_FEEDS = 25  # feeds on the chart (the worst first); the table below it lists every feed
TABLE_ROWS = 200
NO_REGION = "(no region)"
OTHER_REGIONS = "Other regions"

_PALETTE = (
    "#4269d0",
    "#efb118",
    "#ff725c",
    "#6cc5b0",
    "#3ca951",
    "#ff8ab7",
    "#a463f2",
    "#97bbf5",
    "#9c6b4e",
    "#9498a0",
)
_OUTCOME_COLOURS = {"ok": "#3ca951", "not modified": "#97bbf5", "failed": "#ff725c", "skipped": "#9498a0"}


class ReportError(Exception):
    """Nothing to report on (no OUTPUT, or no dataset in it): one line for the user."""


@dataclasses.dataclass
class Chart:
    name: str  # file stem in the _files folder
    title: str
    caption: str
    data: dict[str, Any]  # what the chart shows, written beside it as JSON
    table_html: str = ""
    png: bytes = b""


@dataclasses.dataclass(frozen=True)
class ReportResult:
    html_path: Path
    files_dir: Path
    charts: tuple[str, ...]


def default_report_path(output: str | os.PathLike) -> Path:
    return Path(output) / "report.html"


def files_dir_of(html_path: Path) -> Path:
    """`report.html` -> `report_files/`, the folder name browsers use when they save a page."""
    return html_path.with_name(f"{html_path.stem}_files")


# -- reading ---------------------------------------------------------------------------------------------


def _has_files(output: Path, dataset: str) -> bool:
    return any((output / dataset).glob("**/*.parquet"))


def _connect(output: Path) -> tuple[duckdb.DuckDBPyConnection, set[str]]:
    """A DuckDB connection with one view per dataset that has files; returns the names of those views."""
    con = duckdb.connect()
    present = set()
    for dataset in DATASETS:
        if not _has_files(output, dataset):
            continue
        pattern = str(output / dataset / "**" / "*.parquet").replace("'", "''")
        con.execute(
            f"CREATE VIEW {dataset} AS SELECT * FROM read_parquet('{pattern}', "
            "hive_partitioning = true, union_by_name = true)"
        )
        present.add(dataset)
    return con, present


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    relation = con.execute(sql, list(params))
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# -- the figures behind each chart ---------------------------------------------------------------------


def m49_subregions() -> frozenset[str]:
    """The UN M49 sub-region names of the bundled taxonomy (configs/regions.yaml, `kind: m49`)."""
    import importlib.resources

    import yaml

    text = importlib.resources.files("newsbeam.configs").joinpath("regions.yaml").read_text(encoding="utf-8")
    regions = yaml.safe_load(text)["regions"]
    return frozenset(name for name, spec in regions.items() if spec.get("kind") == "m49")


def primary_region(regions: Sequence[str] | None, subregions: frozenset[str]) -> str:
    """The most salient UN M49 sub-region of an article; else (a custom taxonomy) its first region.

    Groups such as "Middle East" overlap the sub-regions, so a chart that mixed them would split one place
    over two colours.
    """
    regions = regions or []
    return next((r for r in regions if r in subregions), regions[0] if regions else NO_REGION)


def region_by_day(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Articles per partition date, each counted once under its most salient UN M49 sub-region.

    Regions beyond the TOP_REGIONS largest are folded into "Other regions", so each day's bar sums to the
    day's articles.
    """
    subregions = m49_subregions()
    counted: dict[tuple[str, str], int] = {}
    for row in _rows(
        con, "SELECT CAST(date AS VARCHAR) AS date, regions, count(*) AS articles FROM articles GROUP BY ALL"
    ):
        key = (row["date"], primary_region(row["regions"], subregions))
        counted[key] = counted.get(key, 0) + row["articles"]
    totals: dict[str, int] = {}
    for (_, region), n in counted.items():
        totals[region] = totals.get(region, 0) + n
    named = sorted((r for r in totals if r != NO_REGION), key=lambda r: (-totals[r], r))
    kept = named[:TOP_REGIONS]
    folded: dict[tuple[str, str], int] = {}
    for (date, region), n in counted.items():
        if region != NO_REGION and region not in kept:
            region = OTHER_REGIONS
        folded[(date, region)] = folded.get((date, region), 0) + n
    order = kept + [r for r in (OTHER_REGIONS, NO_REGION) if any(k[1] == r for k in folded)]
    dates = sorted({d for d, _ in folded})
    return {
        "dates": dates,
        "regions": order,
        "rows": [
            {"date": d, "region": r, "articles": folded[(d, r)]}
            for d in dates
            for r in order
            if (d, r) in folded
        ],
        "articles": sum(totals.values()),
    }


def top_stories(con: duckdb.DuckDBPyConnection, limit: int = TOP_STORIES) -> dict[str, Any]:
    """Stories ranked by the outlets (distinct sources) that covered them; the title is the first copy's."""
    rows = _rows(
        con,
        "SELECT story_id, count(DISTINCT coalesce(source, feed_url)) AS outlets, count(*) AS articles, "
        "arg_min(title, coalesce(published_at, fetched_at)) AS title, "
        "list(DISTINCT coalesce(source, feed_url) ORDER BY coalesce(source, feed_url)) AS sources, "
        "min(coalesce(published_at, fetched_at)) AS first_seen "
        "FROM articles GROUP BY story_id "
        "ORDER BY outlets DESC, articles DESC, first_seen DESC, story_id LIMIT ?",
        [limit],
    )
    stories = con.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]
    return {"stories": stories, "rows": _jsonable(rows)}


def countries(con: duckdb.DuckDBPyConnection, limit: int = TOP_COUNTRIES) -> dict[str, Any]:
    """Articles about each country (an article counts once for every country it is tagged with)."""
    rows = _rows(
        con,
        "SELECT country, count(DISTINCT article_id) AS articles "
        "FROM (SELECT article_id, unnest(countries) AS country FROM articles) "
        "GROUP BY country ORDER BY articles DESC, country LIMIT ?",
        [limit],
    )
    for row in rows:
        row["name"] = country_name(row["country"])
    tagged, total = con.execute(
        "SELECT count(*) FILTER (WHERE len(countries) > 0), count(*) FROM articles"
    ).fetchone()
    distinct = con.execute(
        "SELECT count(DISTINCT c) FROM (SELECT unnest(countries) AS c FROM articles)"
    ).fetchone()
    return {"rows": rows, "tagged_articles": tagged, "articles": total, "countries": distinct[0]}


def country_name(code: str) -> str:
    import pycountry

    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or getattr(country, "name", None) or code


def feed_health(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Per feed, over every fetch attempt in feeds/: outcomes, 304 share, failures, latency."""
    rows = _rows(
        con,
        """
        SELECT feed_url,
          count(*) AS attempts,
          count(*) FILTER (WHERE NOT coalesce(skipped, false) AND error_class IS NULL AND error IS NULL
                             AND NOT not_modified) AS ok,
          count(*) FILTER (WHERE not_modified) AS not_modified,
          count(*) FILTER (WHERE (error_class IS NOT NULL OR error IS NOT NULL)
                             AND NOT coalesce(skipped, false)) AS failed,
          count(*) FILTER (WHERE coalesce(skipped, false)) AS skipped,
          arg_max(status, fetched_at) AS last_status,
          arg_max(error, fetched_at) AS last_error,
          median(duration_ms) FILTER (WHERE NOT coalesce(skipped, false)) AS median_ms,
          max(duration_ms) FILTER (WHERE NOT coalesce(skipped, false)) AS max_ms,
          sum(entries) AS entries,
          sum(new_articles) AS new_articles,
          max(fetched_at) AS last_fetched
        FROM feeds GROUP BY feed_url
        ORDER BY failed DESC, median_ms DESC NULLS LAST, feed_url
        """,
    )
    for row in rows:
        tried = row["attempts"] - row["skipped"]
        row["not_modified_share"] = row["not_modified"] / tried if tried else 0.0
        row["median_ms"] = float(row["median_ms"]) if row["median_ms"] is not None else None
    statuses = _rows(
        con,
        "SELECT coalesce(CAST(status AS VARCHAR), CASE WHEN coalesce(skipped, false) THEN 'skipped' "
        "ELSE 'no response' END) AS status, count(*) AS attempts FROM feeds GROUP BY ALL ORDER BY status",
    )
    return {"feeds": len(rows), "rows": _jsonable(rows), "statuses": statuses}


def dead_letters(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    rows = _rows(
        con,
        "SELECT stage, error_class, count(*) AS dead_letters, any_value(message) AS example "
        "FROM errors GROUP BY ALL ORDER BY stage, dead_letters DESC, error_class",
    )
    rank = {stage: i for i, stage in enumerate(STAGE_ORDER)}
    rows.sort(
        key=lambda r: (rank.get(r["stage"], len(rank)), r["stage"], -r["dead_letters"], r["error_class"])
    )
    return {"rows": rows, "dead_letters": sum(r["dead_letters"] for r in rows)}


# -- drawing ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _png(fig: Figure) -> bytes:
    import io

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # a glyph DejaVu lacks (CJK, Arabic titles) is a box, not an error
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    return buffer.getvalue()


def _empty(title: str, message: str) -> bytes:
    fig = _figure(8, 2.2)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontweight="bold")
    ax.text(0.5, 0.45, message, ha="center", va="center", fontsize=12, color="#555555")
    return _png(fig)


def _style(ax, grid_axis: str = "x") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis=grid_axis, color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _integer_axis(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def draw_region_by_day(data: dict[str, Any], title: str) -> bytes:
    if not data["rows"]:
        return _empty(title, "No articles yet")
    dates, regions = data["dates"], data["regions"]
    counts = {(r["date"], r["region"]): r["articles"] for r in data["rows"]}
    fig = _figure(max(7.0, min(16.0, 2.5 + 0.45 * len(dates))), 4.8)
    ax = fig.add_subplot()
    bottoms = [0] * len(dates)
    positions = range(len(dates))
    for i, region in enumerate(regions):
        heights = [counts.get((d, region), 0) for d in dates]
        colour = (
            "#c8c8c8" if region == NO_REGION else "#8a8a8a" if region == OTHER_REGIONS else _PALETTE[i % 10]
        )
        ax.bar(positions, heights, bottom=bottoms, label=region, color=colour, width=0.8, edgecolor="white")
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    for x, total in zip(positions, bottoms, strict=True):
        ax.annotate(
            str(total),
            (x, total),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 2),
            textcoords="offset points",
        )
    ax.set_xticks(
        list(positions),
        [d[5:] if len({d[:4] for d in dates}) == 1 else d for d in dates],
        rotation=45 if len(dates) > 8 else 0,
        ha="right" if len(dates) > 8 else "center",
    )
    ax.set_ylabel("articles")
    ax.set_xlabel(f"publication date (UTC){', ' + dates[0][:4] if len({d[:4] for d in dates}) == 1 else ''}")
    _integer_axis(ax.yaxis)
    ax.set_ylim(0, max(bottoms) * 1.12)
    ax.set_title(title, loc="left", fontweight="bold")
    ax.legend(
        title="most salient sub-region",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
        fontsize=9,
        title_fontsize=9,
    )
    _style(ax, "y")
    return _png(fig)


def draw_top_stories(data: dict[str, Any], title: str) -> bytes:
    rows = data["rows"]
    if not rows:
        return _empty(title, "No stories yet")
    labels = [_shorten(r["title"] or r["story_id"], 70) for r in rows]
    outlets = [r["outlets"] for r in rows]
    xlabel = "outlets (distinct sources) that covered the story"
    return _ranked_bars(title, labels, outlets, xlabel, color=_PALETTE[0], width=10, row=0.36, fontsize=8.5)


def draw_countries(data: dict[str, Any], title: str) -> bytes:
    rows = data["rows"]
    if not rows:
        return _empty(title, "No article is tagged with a country")
    labels = [f"{_shorten(r['name'], 28)} ({r['country']})" for r in rows]
    counts = [r["articles"] for r in rows]
    xlabel = "articles about the country"
    return _ranked_bars(title, labels, counts, xlabel, color=_PALETTE[3], width=8, row=0.3, fontsize=9)


def _ranked_bars(
    title: str,
    labels: list[str],
    values: list[int],
    xlabel: str,
    *,
    color: str,
    width: float,
    row: float,
    fontsize: float,
) -> bytes:
    """Horizontal bars, the first row on top, each labelled with its value."""
    fig = _figure(width, 1.2 + row * len(values))
    ax = fig.add_subplot()
    bars = ax.barh(range(len(values)), values[::-1], color=color, height=0.7)
    ax.bar_label(bars, padding=3, fontsize=8)
    ax.set_yticks(range(len(values)), labels[::-1], fontsize=fontsize)
    ax.set_xlabel(xlabel)
    _integer_axis(ax.xaxis)
    ax.set_xlim(0, max(values) * 1.1 + 0.2)
    ax.set_title(title, loc="left", fontweight="bold")
    _style(ax)
    return _png(fig)


def feed_label(url: str, limit: int = 48) -> str:
    """A feed URL short enough for an axis: host and path for http(s), the file name for a local path."""
    if "://" in url:
        rest = url.split("://", 1)[1]
        return _shorten(rest[4:] if rest.startswith("www.") else rest, limit)
    return _shorten(Path(url).name, limit)


def draw_feed_health(data: dict[str, Any], title: str) -> bytes:
    rows = data["rows"][:HEALTH_FEEDS]
    if not rows:
        return _empty(title, "No fetch attempts recorded")
    fig = _figure(11, 1.4 + 0.32 * len(rows))
    outcome_ax, latency_ax = fig.subplots(1, 2, sharey=True, width_ratios=[3, 2])
    labels = [feed_label(r["feed_url"]) for r in rows][::-1]
    positions = range(len(rows))
    left = [0] * len(rows)
    for outcome, key in (
        ("ok", "ok"),
        ("not modified", "not_modified"),
        ("failed", "failed"),
        ("skipped", "skipped"),
    ):
        values = [r[key] for r in rows][::-1]
        if not any(values):
            continue
        outcome_ax.barh(
            positions, values, left=left, color=_OUTCOME_COLOURS[outcome], label=outcome, height=0.7
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    outcome_ax.set_yticks(list(positions), labels, fontsize=8.5)
    outcome_ax.set_xlabel("fetch attempts by outcome")
    _integer_axis(outcome_ax.xaxis)
    outcome_ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, frameon=False, fontsize=8.5)
    _style(outcome_ax)

    medians = [r["median_ms"] or 0 for r in rows][::-1]
    maxima = [r["max_ms"] or 0 for r in rows][::-1]
    latency_ax.barh(positions, maxima, color="#e4e4e4", height=0.7, label="slowest")
    latency_ax.barh(positions, medians, color=_PALETTE[0], height=0.4, label="median")
    latency_ax.set_xlabel("fetch latency (ms)")
    latency_ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False, fontsize=8.5)
    _style(latency_ax)
    shown = f" (the {len(rows)} worst of {data['feeds']})" if data["feeds"] > len(rows) else ""
    fig.suptitle(title + shown, x=0.01, ha="left", fontweight="bold")
    return _png(fig)


def draw_dead_letters(data: dict[str, Any], title: str) -> bytes:
    rows = data["rows"]
    if not rows:
        return _empty(title, "No dead letters: every record went through")
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    classes = list(dict.fromkeys(r["error_class"] for r in sorted(rows, key=lambda r: -r["dead_letters"])))
    counts = {(r["stage"], r["error_class"]): r["dead_letters"] for r in rows}
    fig = _figure(9, 1.6 + 0.5 * len(stages))
    ax = fig.add_subplot()
    positions = range(len(stages))
    left = [0] * len(stages)
    for i, error_class in enumerate(classes):
        values = [counts.get((s, error_class), 0) for s in stages][::-1]
        ax.barh(
            positions,
            values,
            left=left,
            label=error_class,
            color=_PALETTE[(i + 2) % 10],
            height=0.6,
            edgecolor="white",
        )
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in zip(positions, left, strict=True):
        ax.annotate(
            str(total), (total, y), va="center", fontsize=8, xytext=(3, 0), textcoords="offset points"
        )
    ax.set_yticks(list(positions), stages[::-1])
    ax.set_xlabel("dead letters")
    _integer_axis(ax.xaxis)
    ax.set_xlim(0, max(left) * 1.12 + 0.2)
    ax.legend(
        title="error class",
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        frameon=False,
        fontsize=8.5,
        title_fontsize=9,
    )
    ax.set_title(title, loc="left", fontweight="bold")
    _style(ax)
    return _png(fig)


# -- the page --------------------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    head = "".join(
        f"<th{' class=num' if i in numeric else ''}>{html.escape(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{html.escape('' if v is None else str(v))}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _charts(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[Chart]:
    charts: list[Chart] = []
    no_articles = {"rows": [], "dates": [], "regions": [], "articles": 0}

    title = "Articles per day by region"
    data = region_by_day(con) if "articles" in present else no_articles
    charts.append(
        Chart(
            "articles-by-region",
            title,
            (
                f"{data['articles']} articles by the UTC date of publication (the fetch date when the feed "
                "gives none), "
                "each counted once under its most salient UN M49 sub-region; "
                f"regions beyond the {TOP_REGIONS} largest are grouped as “{OTHER_REGIONS}”."
            ),
            data,
        )
    )

    title = f"Top {TOP_STORIES} stories by number of outlets"
    data = top_stories(con) if "articles" in present else {"stories": 0, "rows": []}
    table = _table(
        ["story", "outlets", "articles", "sources", "first seen (UTC)"],
        (
            [
                r["title"],
                r["outlets"],
                r["articles"],
                ", ".join(r["sources"]),
                (r["first_seen"] or "")[:16].replace("T", " "),
            ]
            for r in data["rows"]
        ),
        numeric=(1, 2),
    )
    charts.append(
        Chart(
            "top-stories",
            title,
            (
                f"{data['stories']} stories in all; a story's outlets are the distinct sources "
                "(publishers' domains) of its articles, its title that of its first-published article."
            ),
            data,
            table,
        )
    )

    title = "Countries the articles are about"
    data = (
        countries(con)
        if "articles" in present
        else {"rows": [], "tagged_articles": 0, "articles": 0, "countries": 0}
    )
    charts.append(
        Chart(
            "countries",
            title,
            (
                f"The {min(TOP_COUNTRIES, data['countries'])} most covered of {data['countries']} countries; "
                f"{data['tagged_articles']} of {data['articles']} articles are tagged with at least one "
                "country, and an article counts for each of its countries."
            ),
            data,
        )
    )

    title = "Feed health"
    data = feed_health(con) if "feeds" in present else {"feeds": 0, "rows": [], "statuses": []}
    rows = data["rows"][:TABLE_ROWS]
    table = _table(
        [
            "feed",
            "attempts",
            "ok",
            "304",
            "304 share",
            "failed",
            "skipped",
            "last status",
            "median ms",
            "max ms",
            "new articles",
            "last error",
        ],
        (
            [
                r["feed_url"],
                r["attempts"],
                r["ok"],
                r["not_modified"],
                f"{r['not_modified_share']:.0%}",
                r["failed"],
                r["skipped"],
                r["last_status"],
                _ms(r["median_ms"]),
                _ms(r["max_ms"]),
                r["new_articles"],
                r["last_error"],
            ]
            for r in rows
        ),
        numeric=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
    )
    statuses = ", ".join(f"{s['status']}: {s['attempts']}" for s in data["statuses"]) or "none"
    more = f" (the first {TABLE_ROWS} of {data['feeds']} feeds)" if data["feeds"] > TABLE_ROWS else ""
    charts.append(
        Chart(
            "feed-health",
            title,
            (
                f"{data['feeds']} feeds, every fetch attempt in feeds/. Attempts by HTTP status: {statuses}. "
                f"Failing feeds first, then the slowest{more}."
            ),
            data,
            table,
        )
    )

    title = "Dead letters by stage"
    data = dead_letters(con) if "errors" in present else {"rows": [], "dead_letters": 0}
    table = _table(
        ["stage", "error class", "dead letters", "example message"],
        (
            [r["stage"], r["error_class"], r["dead_letters"], _shorten(r["example"] or "", 160)]
            for r in data["rows"]
        ),
        numeric=(2,),
    )
    charts.append(
        Chart(
            "dead-letters",
            title,
            (
                f"{data['dead_letters']} records that a stage could not process (errors/), "
                "by stage and error class."
            ),
            data,
            table if data["rows"] else "",
        )
    )
    return charts


_DRAW = {
    "articles-by-region": draw_region_by_day,
    "top-stories": draw_top_stories,
    "countries": draw_countries,
    "feed-health": draw_feed_health,
    "dead-letters": draw_dead_letters,
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1150px;
  padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1.2rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.5rem}
section{margin:2.2rem 0} img{max-width:100%;height:auto;border:1px solid #eee}
.caption{color:#555;font-size:.92rem}
table{border-collapse:collapse;font-size:.85rem;margin-top:.8rem;width:100%}
th,td{border-bottom:1px solid #e5e5e5;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f6f6} td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{max-height:28rem;overflow:auto}
"""


def _headline(con: duckdb.DuckDBPyConnection, present: set[str]) -> list[tuple[str, str]]:
    cards = []
    if "articles" in present:
        articles, stories, sources, first, last = con.execute(
            "SELECT count(*), count(DISTINCT story_id), count(DISTINCT source), min(date), max(date) "
            "FROM articles"
        ).fetchone()
        cards += [("articles", f"{articles:,}"), ("stories", f"{stories:,}"), ("sources", f"{sources:,}")]
        cards.append(("dates", f"{first} … {last}" if first != last else str(first)))
    if "feeds" in present:
        feeds, attempts = con.execute("SELECT count(DISTINCT feed_url), count(*) FROM feeds").fetchone()
        cards += [("feeds", f"{feeds:,}"), ("fetch attempts", f"{attempts:,}")]
    errors = con.execute("SELECT count(*) FROM errors").fetchone()[0] if "errors" in present else 0
    cards.append(("dead letters", f"{errors:,}"))
    return cards


def _page(output: Path, charts: list[Chart], cards: list[tuple[str, str]], generated: dt.datetime) -> str:
    card_html = "".join(f"<div class=card><b>{html.escape(v)}</b>{html.escape(k)}</div>" for k, v in cards)
    sections = []
    for chart in charts:
        image = base64.b64encode(chart.png).decode("ascii")
        table = f"<div class=scroll>{chart.table_html}</div>" if chart.table_html else ""
        sections.append(
            f'<section id="{chart.name}"><h2>{html.escape(chart.title)}</h2>'
            f"<p class=caption>{html.escape(chart.caption)}</p>"
            f'<img alt="{html.escape(chart.title)}" src="data:image/png;base64,{image}">{table}</section>'
        )
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newsbeam report: {html.escape(str(output))}</title><style>{_CSS}</style></head><body>"
        f"<h1>newsbeam report</h1><p class=meta>{html.escape(str(output.resolve()))} · generated "
        f"{generated:%Y-%m-%d %H:%M} UTC</p><div class=cards>{card_html}</div>"
        f"{''.join(sections)}</body></html>\n"
    )


def build_report(output: str | os.PathLike, to: str | os.PathLike | None = None) -> ReportResult:
    """Reads OUTPUT's datasets, writes the HTML page and, beside it in `<name>_files/`, a PNG and a JSON
    file per chart. Raises ReportError when there is nothing to report on."""
    output = Path(output)
    if not output.is_dir():
        raise ReportError(f"no output directory {output} (run `newsbeam run` first, or pass --output DIR)")
    con, present = _connect(output)
    if not present:
        raise ReportError(
            f"{output} holds no newsbeam dataset (articles/, feeds/ or errors/): run `newsbeam run` first"
        )
    for dataset in DATASETS:
        if dataset not in present:
            log.info("%s/%s has no files yet: its charts say so", output, dataset)
    html_path = Path(to) if to is not None else default_report_path(output)
    files = files_dir_of(html_path)
    files.mkdir(parents=True, exist_ok=True)

    charts = _charts(con, present)
    for chart in charts:
        chart.png = _DRAW[chart.name](chart.data, chart.title)
        _write_atomically(files / f"{chart.name}.png", chart.png)
        payload = {"title": chart.title, "caption": chart.caption, **_jsonable(chart.data)}
        _write_atomically(
            files / f"{chart.name}.json", json.dumps(payload, indent=1, ensure_ascii=False).encode()
        )
    page = _page(output, charts, _headline(con, present), dt.datetime.now(dt.UTC))
    _write_atomically(html_path, page.encode("utf-8"))
    return ReportResult(html_path, files, tuple(chart.name for chart in charts))


def _write_atomically(path: Path, data: bytes) -> None:
    # A browser or a mail job reading the report while it is regenerated never sees half a file.
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)
