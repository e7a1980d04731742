"""End to end: metrics, progress lines, --quiet and `newsbeam report` on the bundled sample feeds.

Two runs into one OUTPUT over the samples (local files, as configs/local.yaml lists them), a feed served
with an ETag (a 304 the second time), a 404 and a malformed feed; the second run with --quiet. Every count
is checked against a DuckDB query of the files, or against the feed files' own manifests, never against
the code that drew the charts.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from newsbeam.pipeline.cli import main
from newsbeam.pipeline.display import print_summary, summary_table
from newsbeam.pipeline.progress import show_progress
from newsbeam.pipeline.summary import RunSummary
from newsbeam.transforms import progress
from newsbeam.transforms.records import FEED_HEALTH_SCHEMA

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "configs" / "samples"
FIXTURES = Path(__file__).parent / "data" / "feeds"
E2E_CONFIG = str(Path(__file__).parent / "data" / "e2e.yaml")
CHARTS = ("articles-by-region", "top-stories", "countries", "feed-health", "dead-letters")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# configs/samples/MANIFEST.md: 49 entries, 3 exact duplicates; tests/data/feeds/README.md: good-rss2.xml
# has 3 items, malformed.xml 4 recovered entries of which 3 are articles (the 4th cleans to nothing)
ENTRIES = 49 + 3 + 4
ARTICLES = 46 + 3 + 3


def newsbeam(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "newsbeam.pipeline.cli", *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)


def query(sql: str, params: list | None = None) -> list[tuple]:
    return duckdb.connect().execute(sql, params or []).fetchall()


def articles_of(output: Path) -> str:
    return f"read_parquet('{output}/articles/**/*.parquet', hive_partitioning = true)"


def etag_handler(feed: bytes):
    from werkzeug import Response

    def handler(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(feed, status=200, headers={"ETag": '"v1"'}, content_type="application/rss+xml")

    return handler


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        feed = (FIXTURES / "good-rss2.xml").read_bytes()
        server.expect_request("/etag.xml").respond_with_handler(etag_handler(feed))
        server.expect_request("/gone.xml").respond_with_data("gone", status=404)
        server.expect_request("/malformed.xml").respond_with_data(
            (FIXTURES / "malformed.xml").read_bytes(), content_type="application/xml"
        )
        urls = {name: server.url_for(f"/{name}") for name in ("etag.xml", "gone.xml", "malformed.xml")}
        work = tmp_path_factory.mktemp("report")
        local = yaml.safe_load((REPO / "configs" / "local.yaml").read_text())["feeds"]
        feeds = [{**f, "url": str(REPO / "configs" / f["url"])} for f in local] + [
            {"url": u} for u in urls.values()
        ]
        (work / "feeds.yaml").write_text(yaml.safe_dump(feeds))
        output = work / "output"
        common = (
            "run",
            "--config",
            E2E_CONFIG,
            "--feeds-file",
            str(work / "feeds.yaml"),
            "--output",
            str(output),
        )
        first = newsbeam(*common, "--log-format", "json", "--progress-interval", "0.2")
        assert first.returncode == 0, first.stderr
        quiet = newsbeam(*common, "-q", "--progress-interval", "0.2")
    finally:
        server.clear()
        server.stop()
    report = newsbeam("report", "--output", str(output))
    assert report.returncode == 0, report.stderr
    return {
        "output": output,
        "first": first,
        "quiet": quiet,
        "feeds": len(feeds),
        "report": report,
        "urls": urls,
    }


# -- the run: metrics, progress, --quiet ----------------------------------------------------------------


def test_metrics_agree_with_the_files_the_run_committed(runs):
    output = runs["output"]
    summary = json.loads(runs["first"].stdout.strip().splitlines()[-1])
    metrics = summary["metrics"]
    run_files = f"%part-{summary['run_id']}-%"
    health = query(
        "SELECT count(*) FILTER (WHERE status = 200), count(*) FILTER (WHERE not_modified), "
        "count(*) FILTER (WHERE error_class IS NOT NULL), sum(entries) "
        "FROM read_parquet(?, filename = true) WHERE filename LIKE ?",
        [f"{output}/feeds/**/*.parquet", run_files],
    )[0]
    assert health == (runs["feeds"] - 1, 0, 1, ENTRIES)  # all but the 404
    assert (metrics["fetch/fetched"], metrics.get("fetch/not_modified", 0)) == (health[0], health[1])
    assert (
        metrics["fetch/failed"] == metrics["fetch/failed_HTTPError"] == health[2] == summary["feeds_failed"]
    )
    assert metrics["parse/entries"] == health[3] == summary["entries_parsed"]

    errors = dict(
        query(
            "SELECT stage, count(*) FROM read_parquet(?, filename = true) WHERE filename LIKE ? GROUP BY 1",
            [f"{output}/errors/**/*.parquet", run_files],
        )
    )
    assert errors == {"fetch": 1, "parse": 1, "clean": 1}  # the 404, malformed.xml, its empty entry
    assert {stage: metrics[f"{stage}/dead_letters"] for stage in errors} == errors == summary["dead_letters"]

    written = query(f"SELECT count(*), count(DISTINCT story_id) FROM {articles_of(output)}")[0]
    assert written == (ARTICLES, ARTICLES - 1)  # the Kenya near-copy shares its story (MANIFEST point 3)
    assert metrics["sink/articles_rows"] == written[0] == summary["articles_written"]
    assert metrics["dedup/stories"] == written[1] == summary["stories"]
    assert (
        metrics["dedup/exact_duplicates"]
        == ENTRIES - ARTICLES - errors["clean"]
        == summary["duplicates_dropped"]
    )
    assert metrics["clean/cleaned"] == ENTRIES - errors["clean"]
    assert metrics["enrich/tagged"] + metrics["enrich/untagged"] == metrics["clean/cleaned"]
    tagged = query(f"SELECT count(*) FROM {articles_of(output)} WHERE len(countries) > 0")[0][0]
    assert metrics["enrich/tagged"] >= tagged  # exact duplicates were tagged before they were dropped


def test_progress_lines_off_a_terminal(runs):
    lines = runs["first"].stderr.strip().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    assert events and all(e["event"] == "progress" and e["feeds_total"] == runs["feeds"] for e in events)
    done = [(e["feeds_done"], e["entries"]) for e in events]
    assert done == sorted(done)  # feeds and entries only grow
    assert done[-1] == (runs["feeds"], ENTRIES)  # the last line: every feed, every entry


def test_quiet_prints_nothing_even_when_feeds_fail(runs):
    quiet = runs["quiet"]
    assert quiet.returncode == 0 and (quiet.stdout, quiet.stderr) == ("", "")
    gone = query(
        f"SELECT skipped FROM read_parquet('{runs['output']}/feeds/**/*.parquet') WHERE feed_url = ? "
        "ORDER BY fetched_at",
        [runs["urls"]["gone.xml"]],
    )
    assert gone == [(False,), (True,)]  # the quiet run happened: the 404 feed is backing off


def test_quiet_still_prints_errors(tmp_path, capsys):
    assert main(["run", "-q", "--feed", str(tmp_path / "missing.xml"), "--output", str(tmp_path)]) == 2
    assert main(["report", "-q", "--output", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "feed file not found" in captured.err and "no output directory" in captured.err


def test_text_progress_lines_come_from_the_stages_records():
    stream = io.StringIO()
    with show_progress(3, mode="text", stream=stream, interval=0.05) as counts:
        worker = threading.Thread(  # the stages report from the runner's threads
            target=lambda: [progress.report(progress.FEEDS, 1, "f") or time.sleep(0.08) for _ in range(3)]
        )
        worker.start()
        worker.join()
        progress.report(progress.ENTRIES, 7, "f")
        time.sleep(0.12)
    lines = stream.getvalue().splitlines()
    assert (counts.feeds, counts.entries) == (3, 7)
    assert lines and all(
        re.match(r"\S+ \S+ INFO newsbeam.progress: fetched \d/3 feeds", line) for line in lines
    )
    assert lines[-1].split(": ", 1)[1].startswith("fetched 3/3 feeds, 7 entries parsed")
    said = [re.search(r"fetched (\d)/3 feeds, (\d) entries", line).groups() for line in lines]
    after = said[[feeds for feeds, _ in said].index("3") :]
    assert len(after) == len(set(after))  # once all feeds are fetched, a line only when something changed
    assert not logging.getLogger(progress.PROGRESS_LOGGER).handlers  # nothing left behind

    silent = io.StringIO()
    with show_progress(3, mode="text", stream=silent, interval=30):  # shorter than the interval
        progress.report(progress.FEEDS, 3, "f")
    assert silent.getvalue() == ""


def test_summary_off_a_terminal_is_the_one_line_and_on_one_a_table():
    summary = RunSummary(
        run_id="r1", feeds=3, feeds_fetched=1, feeds_not_modified=1, feeds_failed=1, feeds_backing_off=0,
        entries_parsed=12, articles_written=10, duplicates_dropped=2, near_duplicates_linked=0, stories=9,
        dead_letters={"fetch": 1}, failed_feeds=("https://x/rss",),
        problems={"https://x/rss": "HTTP 404 Not Found"}, wall_seconds=2.0,
        metrics={"fetch/failed_HTTPError": 1, "clean/cleaned": 12, "enrich/tagged": 11, "enrich/untagged": 1},
    )  # fmt: skip
    out = io.StringIO()
    print_summary(summary, log_format="text", quiet=False, out=out)
    assert out.getvalue() == summary.text() + "\n" and out.getvalue().count("\n") == 2
    from rich.console import Console

    console = Console(file=io.StringIO(), width=100, record=True)
    console.print(summary_table(summary))
    rows = {
        " ".join(line.split()[:-1]): line.split()[-1]
        for line in console.export_text().splitlines()[3:]
        if line.strip()
    }
    assert rows["fetch fetched"] == "1" and rows["failed"] == "1" and rows["HTTPError"] == "1"
    assert rows["clean cleaned"] == "12" and rows["enrich tagged with a country"] == "11"
    assert rows["dedup exact duplicates dropped"] == "2" and rows["write articles written"] == "10"
    assert rows["dead letters fetch"] == "1"


def run_in_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """Runs the CLI with stdout and stderr on a pseudo-terminal; returns (exit code, what it showed)."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "newsbeam.pipeline.cli", *args], stdout=slave, stderr=slave, cwd=cwd, env=env
    )
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown.decode("utf-8", "replace"))
    return process.wait(timeout=60), text


def test_on_a_terminal_a_progress_bar_and_a_summary_table(tmp_path):
    feeds = ["gulfherald-rss2.xml", "rheinkurier-atom.xml"]  # MANIFEST: 5 + 4 entries, no duplicates
    args = ["run", "--config", E2E_CONFIG, "--output", str(tmp_path / "out")]
    for name in feeds:
        args += ["--feed", str(SAMPLES / name)]
    code, shown = run_in_terminal(args, tmp_path)
    assert code == 0, shown
    assert re.search(r"fetched .*2/2 feeds · 9 entries", shown), shown  # the bar, at its end
    table = {" ".join(line.split()[:-1]): line.split()[-1] for line in shown.splitlines() if line.strip()}
    assert table["fetch fetched"] == "2" and table["parse entries"] == "9" and table["clean cleaned"] == "9"
    assert table["write articles written"] == "9" and table["stories"] == "9"
    assert "newsbeam run " in shown and "| entries 9 parsed |" not in shown  # the table, not the line


# -- the report ----------------------------------------------------------------------------------------


def chart_data(output: Path, name: str) -> dict:
    return json.loads((output / "report_files" / f"{name}.json").read_text())


def test_report_writes_one_self_contained_page_and_a_png_per_chart(runs):
    output = runs["output"]
    assert runs["report"].stdout.startswith(f"newsbeam report: wrote {output}/report.html")
    page = (output / "report.html").read_text()
    embedded = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(embedded) == len(CHARTS)
    for name, data in zip(CHARTS, embedded, strict=True):
        png = (output / "report_files" / f"{name}.png").read_bytes()
        assert png.startswith(PNG_MAGIC) and len(png) > 5000
        assert base64.b64decode(data) == png  # the page shows the very PNG beside it
        assert f'<section id="{name}">' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing to fetch from the network


def test_articles_by_region_chart_counts(runs):
    output = runs["output"]
    data = chart_data(output, "articles-by-region")
    per_day = dict(query(f"SELECT CAST(date AS VARCHAR), count(*) FROM {articles_of(output)} GROUP BY 1"))
    assert sum(per_day.values()) == ARTICLES == data["articles"]
    shown: dict[str, int] = {}
    for row in data["rows"]:
        shown[row["date"]] = shown.get(row["date"], 0) + row["articles"]
    assert shown == per_day  # each day's stack is that day's articles
    regions = yaml.safe_load((REPO / "configs" / "regions.yaml").read_text())["regions"]
    m49 = [name for name, spec in regions.items() if spec["kind"] == "m49"]
    primary = dict(
        query(
            "SELECT coalesce(list_filter(regions, lambda r: list_contains(?, r))[1], regions[1], "
            f"'(no region)') AS region, count(*) FROM {articles_of(output)} GROUP BY 1",
            [m49],
        )
    )
    by_region: dict[str, int] = {}
    for row in data["rows"]:
        by_region[row["region"]] = by_region.get(row["region"], 0) + row["articles"]
    named = [r for r in data["regions"] if r not in ("Other regions", "(no region)")]
    assert named and all(by_region[r] == primary[r] for r in named)
    assert by_region.get("(no region)", 0) == primary.get("(no region)", 0)
    assert by_region.get("Other regions", 0) == sum(n for r, n in primary.items() if r not in by_region)
    assert min(primary[r] for r in named) >= max([n for r, n in primary.items() if r not in by_region] or [0])


def test_top_stories_chart_and_table(runs):
    output = runs["output"]
    data = chart_data(output, "top-stories")
    expected = query(
        "SELECT story_id, count(DISTINCT source), count(*) FROM "
        f"{articles_of(output)} GROUP BY story_id ORDER BY 2 DESC, 3 DESC"
    )
    assert data["stories"] == len(expected)
    assert len(data["rows"]) == min(15, len(expected))
    outlets = {story: n for story, n, _ in expected}
    assert all(row["outlets"] == outlets[row["story_id"]] for row in data["rows"])
    assert [row["outlets"] for row in data["rows"]] == [n for _, n, _ in expected[: len(data["rows"])]]
    titles = dict(query(f"SELECT story_id, title FROM {articles_of(output)}"))
    page = (output / "report.html").read_text()
    for row in data["rows"]:
        assert row["title"] == titles[row["story_id"]]
        assert f"<td>{html.escape(row['title'])}</td>" in page


def test_countries_chart_counts(runs):
    output = runs["output"]
    data = chart_data(output, "countries")
    expected = query(
        f"SELECT c, count(*) FROM (SELECT unnest(countries) AS c FROM {articles_of(output)}) "
        "GROUP BY c ORDER BY 2 DESC, 1 LIMIT 20"
    )
    assert [(row["country"], row["articles"]) for row in data["rows"]] == expected
    assert data["rows"][0]["country"] == "US"  # the samples are about the US more than anything else
    tagged = query(f"SELECT count(*) FROM {articles_of(output)} WHERE len(countries) > 0")[0][0]
    assert data["tagged_articles"] == tagged


def test_feed_health_chart_counts(runs):
    output = runs["output"]
    rows = {row["feed_url"]: row for row in chart_data(output, "feed-health")["rows"]}
    expected = query(
        "SELECT feed_url, count(*), count(*) FILTER (WHERE not_modified), "
        "count(*) FILTER (WHERE error IS NOT NULL AND NOT skipped) "
        f"FROM read_parquet('{output}/feeds/**/*.parquet') GROUP BY feed_url"
    )
    assert len(rows) == len(expected) == runs["feeds"]
    for feed_url, attempts, not_modified, failed in expected:
        row = rows[feed_url]
        assert (row["attempts"], row["not_modified"], row["failed"]) == (attempts, not_modified, failed)
    urls = runs["urls"]
    assert rows[urls["etag.xml"]]["not_modified_share"] == 0.5 and rows[urls["etag.xml"]]["ok"] == 1
    gone = rows[urls["gone.xml"]]
    assert (gone["attempts"], gone["failed"], gone["skipped"]) == (2, 1, 1)  # then backing off
    assert next(iter(rows)) == urls["gone.xml"]  # failing feeds first
    page = (output / "report.html").read_text()
    assert "HTTP 404 Not Found" in page


def test_dead_letters_chart_counts(runs):
    output = runs["output"]
    data = chart_data(output, "dead-letters")
    expected = query(
        f"SELECT stage, error_class, count(*) FROM read_parquet('{output}/errors/**/*.parquet') GROUP BY ALL"
    )
    assert sorted((r["stage"], r["error_class"], r["dead_letters"]) for r in data["rows"]) == sorted(expected)
    assert sorted(expected) == [
        ("clean", "ValueError", 2),
        ("fetch", "HTTPError", 1),
        ("parse", "MalformedFeed", 2),
    ]
    assert data["rows"][0]["stage"] == "fetch"  # pipeline order


def test_report_on_output_without_articles_says_so(tmp_path, capsys):
    feeds = tmp_path / "out" / "feeds" / "date=2024-05-21"
    feeds.mkdir(parents=True)
    row = {name: None for name in FEED_HEALTH_SCHEMA.names}
    row.update(feed_url="https://example.com/rss", final_url="https://example.com/rss", not_modified=False)
    row.update(bytes=0, entries=0, new_articles=0, duration_ms=120, error="HTTP 500", error_class="HTTPError")
    pq.write_table(pa.Table.from_pylist([row], schema=FEED_HEALTH_SCHEMA), feeds / "part-x-0000.parquet")
    to = tmp_path / "site" / "index.html"
    assert main(["report", "--output", str(tmp_path / "out"), "--to", str(to)]) == 0
    assert (
        capsys.readouterr().out
        == f"newsbeam report: wrote {to} (charts also as PNG files in {to.parent}/index_files)\n"
    )
    assert to.is_file() and sorted(
        p.name for p in (tmp_path / "site" / "index_files").glob("*.png")
    ) == sorted(f"{name}.png" for name in CHARTS)
    assert (
        json.loads((tmp_path / "site" / "index_files" / "articles-by-region.json").read_text())["rows"] == []
    )
    health = json.loads((tmp_path / "site" / "index_files" / "feed-health.json").read_text())["rows"]
    assert [(r["attempts"], r["failed"]) for r in health] == [(1, 1)]

    assert main(["report", "--output", str(tmp_path / "nowhere")]) == 2
    assert "run `newsbeam run` first" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", "--output", str(tmp_path / "empty")]) == 2
    assert "holds no newsbeam dataset" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_stream_prints_each_committed_window(log_format):
    from newsbeam.pipeline.progress import show_windows
    from newsbeam.transforms import progress

    start = dt.datetime(2026, 11, 29, 15, 45, tzinfo=dt.UTC).timestamp()
    rows = {"articles": 12, "feeds": 40, "errors": 2, "state/index": 30, "near_duplicates": 1, "stories": 9}
    plain, terminal, quiet = io.StringIO(), _Terminal(), io.StringIO()
    for out, is_quiet in ((plain, False), (terminal, False), (quiet, True)):
        with show_windows(out, log_format, is_quiet):
            progress.report_window(start, start + 60, rows)
    progress.report_window(start, start + 60, rows)  # after the stream: nobody prints it
    assert quiet.getvalue() == ""
    if log_format == "json":
        data = json.loads(plain.getvalue())
        assert (data["event"], data["articles_written"], data["feed_polls"], data["dead_letters"]) == (
            "window",
            12,
            40,
            2,
        )
        assert (data["near_duplicates_linked"], data["new_stories"]) == (1, 9)
        assert data["window_start"] == "2026-11-29T15:45:00+00:00"
        assert terminal.getvalue() == plain.getvalue()
        return
    assert plain.getvalue() == (
        "newsbeam stream window 2026-11-29 15:45:00-15:46:00 UTC: "
        "articles 12 written, 1 near-duplicates linked, 9 new stories, feed polls 40, dead letters 2\n"
    )
    table = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())
    assert table.startswith("newsbeam stream window 2026-11-29 15:45:00-15:46:00 UTC\n")
    shown = (("articles", "12"), ("near-duplicates linked", "1"), ("new stories", "9"), ("feed polls", "40"))
    for label, count in (*shown, ("dead letters", "2")):
        assert any(label in line and line.rstrip(" │").endswith(count) for line in table.splitlines()), label
