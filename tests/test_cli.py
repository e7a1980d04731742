"""End to end: the `newsbeam` command as a subprocess, feeds served by a real HTTP server on 127.0.0.1,
output read back with DuckDB and pyarrow.dataset."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from newsbeam.transforms.records import ARTICLE_SCHEMA

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "configs" / "samples"
FIXTURES = Path(__file__).parent / "data" / "feeds"
NEWSBEAM = [sys.executable, "-m", "newsbeam.pipeline.cli"]
E2E_CONFIG = str(Path(__file__).parent / "data" / "e2e.yaml")


def newsbeam(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([*NEWSBEAM, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def summary_of(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def serve(httpserver, directory: Path, pattern: str = "*") -> list[str]:
    urls = []
    for path in sorted(directory.glob(pattern)):
        if path.suffix not in (".xml", ".json", ".html", ".atom", ".rss"):
            continue
        content_type = "application/feed+json" if path.suffix == ".json" else "application/xml"
        httpserver.expect_request(f"/{path.name}").respond_with_data(
            path.read_bytes(), content_type=content_type
        )
        urls.append(httpserver.url_for(f"/{path.name}"))
    return urls


def articles_duckdb(output: Path) -> list[dict]:
    con = duckdb.connect()
    rel = con.execute(f"select * from read_parquet('{output}/articles/**/*.parquet', hive_partitioning=true)")
    names = [d[0] for d in rel.description]
    return [dict(zip(names, row, strict=True)) for row in rel.fetchall()]


def test_bad_config_fails_fast_naming_the_key(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("feeds: [https://example.com/rss]\nfetch:\n  timeout: 5\n")
    result = newsbeam("run", "--config", str(config), "--output", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "fetch.timeout: unknown key" in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_feed_file_and_unknown_option_fail_fast(tmp_path):
    missing = newsbeam("run", "--feed", str(tmp_path / "nope.xml"), "--output", str(tmp_path / "out"))
    assert missing.returncode == 2 and "feed file not found" in missing.stderr
    typo = newsbeam("run", "--feed", "https://example.com/rss", "--outptu", str(tmp_path))
    assert typo.returncode == 2 and "unknown option --outptu" in typo.stderr
    assert not (tmp_path / "out").exists()


# -- the sample feeds over HTTP, twice --------------------------------------------------------------------

SEED_TITLE = "Major Rafah operation will not defeat Hamas, White House says"
TEASERS = [
    "Iranian President Raisi killed in helicopter accident, state media says",
    "Israel intends to broaden Rafah sweep, Defence Minister tells US",
    "New Taiwanese president calls on China to stop threats",
    "India votes in fifth phase of elections",
]
CONTRACT_COLUMNS = {
    "article_id",
    "url",
    "source",
    "feed_url",
    "title",
    "summary",
    "body",
    "authors",
    "language",
    "published_at",
    "fetched_at",
    "section",
    "credits",
    "related",
    "countries",
    "regions",
    "places",
    "story_id",
    "duplicate_of",
}


def seed_story_sentences() -> list[str]:
    """The seed page's story sentences, read from the page itself: between the credit line and the
    "More from" block."""
    blocks = [b.strip() for b in (REPO / "tests/data/seed_afa6e4451900c9df.txt").read_text().split("\n\n")]
    story = blocks[2 : blocks.index("More from International news")]
    return [s for paragraph in story for s in re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"])", paragraph)]


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """Two runs of the CLI over the sample feeds served by a real loopback server."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        urls = serve(server, SAMPLES)
        work = tmp_path_factory.mktemp("samples")
        feed_list = work / "feeds.yaml"
        feed_list.write_text("".join(f"- url: {u}\n" for u in urls))
        output = work / "output"
        args = ("run", "--config", E2E_CONFIG, "--feeds-file", str(feed_list), "--output", str(output))
        first = newsbeam(*args, "--log-format", "json")
        files_after_first = sorted(p.name for p in output.rglob("articles/**/*.parquet"))
        second = newsbeam(*args, "--log-format", "json")
        user_agents = {request.headers.get("User-Agent") for request, _ in server.log}
    finally:
        server.clear()
        server.stop()
    return {
        "output": output,
        "first": first,
        "second": second,
        "files_after_first": files_after_first,
        "urls": urls,
        "user_agents": user_agents,
    }


def test_sample_run_summary_counts_what_the_feeds_hold(sample_run):
    summary = summary_of(sample_run["first"])
    # configs/samples/MANIFEST.md: 49 entries in 9 feeds, 3 of them exact duplicates
    assert summary["feeds"] == 9 and summary["feeds_fetched"] == 9 and summary["feeds_failed"] == 0
    assert summary["entries_parsed"] == 49
    assert summary["articles_written"] == 46
    assert summary["duplicates_dropped"] == 3
    assert summary["dead_letters"] == {}
    assert all(ua and ua.startswith("newsbeam/") for ua in sample_run["user_agents"])


def test_output_is_read_by_duckdb_and_pyarrow_with_the_contract_columns(sample_run):
    output = sample_run["output"]
    rows = articles_duckdb(output)
    assert len(rows) == 46
    assert len({r["article_id"] for r in rows}) == 46
    assert set(rows[0]) >= CONTRACT_COLUMNS
    assert all(r["story_id"] and r["feed_url"] in sample_run["urls"] for r in rows)
    dataset = ds.dataset(output / "articles", partitioning="hive")
    assert dataset.count_rows() == 46
    assert set(dataset.schema.names) >= CONTRACT_COLUMNS and "date" in dataset.schema.names
    assert set(ARTICLE_SCHEMA.names) <= set(dataset.schema.names)
    # partition = UTC date of published_at, else of fetched_at
    for row in rows:
        moment = row["published_at"] or row["fetched_at"]
        assert str(row["date"]) == moment.astimezone(dt.UTC).date().isoformat()


def test_feed_health_has_a_row_per_fetch(sample_run):
    con = duckdb.connect()
    health = con.execute(
        f"select count(*), sum(entries), sum(new_articles), count(error) "
        f"from read_parquet('{sample_run['output']}/feeds/**/*.parquet')"
    ).fetchone()
    assert health == (9 * 2, 49 * 2, 46, 0)  # two runs; the second found nothing new
    served = {path.name: path.stat().st_size for path in SAMPLES.iterdir()}
    fetched = con.execute(
        f"select regexp_extract(feed_url, '[^/]+$'), bytes "
        f"from read_parquet('{sample_run['output']}/feeds/**/*.parquet') where status = 200"
    ).fetchall()
    assert len(fetched) >= 9 and all(size == served[name] for name, size in fetched)


def test_a_second_run_writes_nothing_new(sample_run):
    summary = summary_of(sample_run["second"])
    assert summary["entries_parsed"] == 49 and summary["articles_written"] == 0
    assert (
        sorted(p.name for p in sample_run["output"].rglob("articles/**/*.parquet"))
        == sample_run["files_after_first"]
    )
    assert len(articles_duckdb(sample_run["output"])) == 46
    assert not list((sample_run["output"] / "_state" / "runs").iterdir())  # nothing left in staging


def test_the_seed_is_clean_tagged_and_written_once(sample_run):
    seeds = [r for r in articles_duckdb(sample_run["output"]) if r["title"] == SEED_TITLE]
    assert len(seeds) == 1  # the HTML (content:encoded) and the scraped-text copies clean to the same text
    seed = seeds[0]
    body = seed["body"]
    for sentence in seed_story_sentences():
        assert sentence in body
    for noise in ["CABALLERO", "AFP", "More from", *TEASERS, "Pale", "Ebrahim Raisi", "Lai Ching-te"]:
        assert noise not in body
    assert not body.rstrip().endswith("News")
    assert "\n\n\n" not in body and body == body.strip()
    assert seed["credits"] == ["ANDREW CABALLERO-REYNOLDS/AFP"]
    assert [r["title"] for r in seed["related"]] == TEASERS
    assert seed["section"] == "International news"
    assert {"IL", "PS", "US"} <= set(seed["countries"])
    assert {"Western Asia", "Middle East"} <= set(seed["regions"])
    assert seed["duplicate_of"] is None and seed["story_id"] == seed["article_id"]


def test_the_seed_teasers_are_articles_of_their_own(sample_run):
    rows = articles_duckdb(sample_run["output"])
    seed_id = next(r["article_id"] for r in rows if r["title"] == SEED_TITLE)
    teasers = [r for r in rows if r["title"] in TEASERS]
    assert sorted(r["title"] for r in teasers) == sorted(TEASERS)
    assert all(r["source"] == "wirewatch.com" and r["article_id"] != seed_id for r in teasers)
    assert all(r["duplicate_of"] is None for r in teasers)


def test_repeats_dates_and_entities_from_the_manifest(sample_run):
    rows = articles_duckdb(sample_run["output"])
    by_title = {}
    for r in rows:
        by_title.setdefault(r["title"], []).append(r)
    assert len(by_title["Japan's child population falls for 43rd straight year to record low"]) == 1
    canada = by_title["Thousands flee Canadian town of Fort Nelson as wildfire closes in"]
    assert len(canada) == 1 and canada[0]["url"].endswith("/canada-wildfire-fort-nelson-evacuation")
    assert "utm_" not in canada[0]["url"]
    undated = by_title["Fighting in El Fasher puts hundreds of thousands at risk, aid groups warn"][0]
    assert undated["published_at"] is None and undated["date_source"] == "fetched"
    future = by_title["Jeremiah Manele elected Solomon Islands prime minister"][0]
    assert future["date_source"] == "clamped" and future["published_at"] == future["fetched_at"]
    assert "Q&A: Dubai's $35bn airport plan & what it means for Emirates" in by_title
    chile = next(t for t in by_title if t.startswith("Chile: suben a 112"))
    assert chile.endswith("en la región de Valparaíso")
    assert {r["language"] for r in rows} >= {"en", "fr", "de", "es"}


# -- hostile and broken feeds -----------------------------------------------------------------------------


def test_bad_feeds_become_dead_letters_and_the_run_goes_on(httpserver, tmp_path):
    good = ["good-rss2.xml", "good-atom.xml", "good.json", "rss1.xml", "windows-1252.xml"]
    bad = ["malformed.xml", "not-a-feed.html", "billion-laughs.xml", "external-entity.xml", "empty.xml"]
    for name in good + bad:
        content_type = "application/feed+json" if name.endswith(".json") else "application/xml"
        httpserver.expect_request(f"/{name}").respond_with_data(
            (FIXTURES / name).read_bytes(), content_type=content_type
        )
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    httpserver.expect_request("/down.xml").respond_with_data("down", status=503)
    feeds = [*(good + bad), "gone.xml", "down.xml"]
    args = ["run", "--config", E2E_CONFIG, "--output", str(tmp_path / "out"), "--log-format", "json"]
    for name in feeds:
        args += ["--feed", httpserver.url_for(f"/{name}")]
    result = newsbeam(*args)
    summary = summary_of(result)

    assert summary["feeds"] == 12
    assert summary["feeds_failed"] == 2  # 404 and 503: no body came back
    assert summary["failed_feeds"] == sorted(httpserver.url_for(f"/{n}") for n in ("down.xml", "gone.xml"))
    # 3 + 3 + 2 + 2 + 2 from the good feeds, and the 3 entries malformed.xml still gives
    assert summary["articles_written"] == 15

    con = duckdb.connect()
    errors = con.execute(
        "select stage, error_class, feed_url, message from read_parquet(?)",
        [f"{tmp_path}/out/errors/**/*.parquet"],
    ).fetchall()
    by_feed = {}
    for stage, error_class, feed_url, message in errors:
        by_feed.setdefault(feed_url.rsplit("/", 1)[1], []).append((stage, error_class, message))
        assert "\n" not in message
    assert by_feed["gone.xml"] == [("fetch", "HTTPError", "HTTP 404 Not Found")]
    assert by_feed["down.xml"][0][:2] == ("fetch", "HTTPError") and "503" in by_feed["down.xml"][0][2]
    assert [e[1] for e in by_feed["not-a-feed.html"]] == ["NotAFeed"]
    assert [e[1] for e in by_feed["empty.xml"]] == ["EmptyDocument"]
    assert [e[1] for e in by_feed["billion-laughs.xml"]] == ["UnsafeDocument"]
    assert [e[1] for e in by_feed["external-entity.xml"]] == ["UnsafeDocument"]
    assert "MalformedFeed" in [e[1] for e in by_feed["malformed.xml"]]
    assert not any(name in by_feed for name in good)
    stages = {}
    for stage, *_ in errors:
        stages[stage] = stages.get(stage, 0) + 1
    assert summary["dead_letters"] == stages  # the summary counts what errors/ holds

    text = " ".join(str(v) for row in articles_duckdb(tmp_path / "out") for v in row.values())
    assert "lollol" not in text and "root:x:0:0" not in text
    assert "café" in text and "cafÃ©" not in text and "\ufffd" not in text


def test_default_run_processes_the_bundled_samples_into_output(tmp_path):
    result = newsbeam("run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"feeds 9 fetched, .* entries 49 parsed \| articles 46 written", result.stdout)
    assert ds.dataset(tmp_path / "output" / "articles", partitioning="hive").count_rows() == 46


# -- conditional GET, failing feeds and moved feeds across runs --------------------------------------------


def test_conditional_get_across_runs(httpserver, tmp_path):
    from werkzeug import Response

    feed = (FIXTURES / "good-rss2.xml").read_bytes()
    seen_validators = []

    def handler(request):
        seen_validators.append(
            (request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"))
        )
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        headers = {"ETag": '"v1"', "Last-Modified": "Tue, 21 May 2024 10:00:00 GMT"}
        return Response(feed, status=200, headers=headers, content_type="application/rss+xml")

    httpserver.expect_request("/feed.xml").respond_with_handler(handler)
    args = (
        "run",
        "--config",
        E2E_CONFIG,
        "--feed",
        httpserver.url_for("/feed.xml"),
        "--output",
        str(tmp_path),
    )
    first = summary_of(newsbeam(*args, "--log-format", "json"))
    second = summary_of(newsbeam(*args, "--log-format", "json"))
    assert (first["feeds_fetched"], first["entries_parsed"], first["articles_written"]) == (1, 3, 3)
    assert (second["feeds_not_modified"], second["entries_parsed"], second["articles_written"]) == (1, 0, 0)
    assert seen_validators == [(None, None), ('"v1"', "Tue, 21 May 2024 10:00:00 GMT")]
    health = (
        duckdb.connect()
        .execute(
            "select status, not_modified, entries from read_parquet(?) order by fetched_at",
            [f"{tmp_path}/feeds/**/*.parquet"],
        )
        .fetchall()
    )
    assert health == [(200, False, 3), (304, True, 0)]


def test_a_failing_feed_backs_off_and_a_moved_feed_is_reported(httpserver, tmp_path):
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    httpserver.expect_request("/old.xml").respond_with_data(
        "", status=301, headers={"Location": httpserver.url_for("/new.xml")}
    )
    httpserver.expect_request("/new.xml").respond_with_data(
        (FIXTURES / "good-atom.xml").read_bytes(), content_type="application/atom+xml"
    )
    gone, old = httpserver.url_for("/gone.xml"), httpserver.url_for("/old.xml")
    args = ("run", "--config", E2E_CONFIG, "--feed", gone, "--feed", old, "--output", str(tmp_path / "out"))
    args = (*args, "--log-format", "json")
    first = summary_of(newsbeam(*args))
    assert first["failed_feeds"] == [gone] and first["feeds_backing_off"] == 0
    assert first["moved"] == {old: httpserver.url_for("/new.xml")}
    assert "HTTP 404 Not Found" in first["problems"][gone]
    requests_for_gone = sum(1 for request, _ in httpserver.log if request.path == "/gone.xml")

    second = summary_of(newsbeam(*args))
    assert second["backing_off"] == [gone] and second["feeds_failed"] == 0
    assert (
        sum(1 for request, _ in httpserver.log if request.path == "/gone.xml") == requests_for_gone
    )  # not asked
    health = (
        duckdb.connect()
        .execute(
            "select skipped, consecutive_failures, next_poll_at is not null, error_class "
            "from read_parquet(?) where feed_url = ? order by fetched_at",
            [f"{tmp_path}/out/feeds/**/*.parquet", gone],
        )
        .fetchall()
    )
    assert health == [(False, 1, True, "HTTPError"), (True, 1, True, None)]
    errors = (
        duckdb.connect()
        .execute(
            "select count(*) from read_parquet(?) where feed_url = ?",
            [f"{tmp_path}/out/errors/**/*.parquet", gone],
        )
        .fetchone()
    )
    assert errors == (1,)  # backing off is not a new failure: no second dead letter


def test_the_syndicated_copy_is_linked_and_stories_are_counted(sample_run):
    rows = articles_duckdb(sample_run["output"])
    by_title = {r["title"]: r for r in rows}
    # configs/samples/MANIFEST.md point 3: the North Sea Times reworks WireWatch's Kenya report
    original = by_title["Kenya flood death toll passes 200 as cyclone nears coast"]
    copy = by_title["Cyclone Hidaya threatens Kenyan coast as flood deaths pass 200"]
    assert copy["duplicate_of"] == original["article_id"] and copy["dedup_reason"] == "near-text"
    assert copy["dedup_similarity"] >= 0.5 and copy["story_id"] == original["story_id"]
    assert original["duplicate_of"] is None and original["dedup_reason"] is None
    assert [r["title"] for r in rows if r["duplicate_of"]] == [copy["title"]]  # the manifest's only one
    summary = summary_of(sample_run["first"])
    assert summary["near_duplicates_linked"] == 1
    assert summary["stories"] == len({r["story_id"] for r in rows}) == 45
    assert summary["duplicates_by_reason"] == {"exact-url": 2, "text": 1}  # Japan, Canada; the seed copy
    # the look-back index holds one sketch per article written, the second run added none
    sketches = duckdb.connect().execute(
        "select count(*), count(distinct article_id) from read_parquet(?)",
        [f"{sample_run['output']}/_state/sketches/**/*.parquet"],
    )
    assert sketches.fetchone() == (46, 46)
