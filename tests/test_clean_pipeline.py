"""Stage "clean" as pipelines: cross-item evidence (paragraphs repeated under many items of one source),
per-feed rules, the full text of teasers fetched from a loopback server, and the same from the CLI."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys

import apache_beam as beam
import duckdb
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.pipeline.config import ConfigError, load_config, resolve_feeds
from newsbeam.transforms.clean import (
    CleanArticles,
    CleanSettings,
    parse_site_rules,
    repeated_keys,
)
from newsbeam.transforms.fetch import FetchSettings
from newsbeam.transforms.fulltext import FetchFullText, is_teaser
from newsbeam.transforms.records import FeedSpec, RawEntry
from tests.conftest import FETCHED_AT, make_test_pipeline

NEWSBEAM = [sys.executable, "-m", "newsbeam.pipeline.cli", "run"]
FEED = FeedSpec("https://harbourgazette.com/rss")
CHROME = "Harbour Gazette is an independent newspaper funded by its readers in Porto and Lisbon."
SHARED = "The port authority said the new terminal would open in the spring of next year."
STORIES = [
    "Tram line 28 will run again from Monday after a month of repairs to the track in Alfama.",
    "The city council approved a tax on short holiday rentals in the historic centre on Tuesday.",
    "Fishermen in Matosinhos protested against a wind farm planned off the northern coast.",
    "A heatwave pushed temperatures above 40C in the Alentejo for the third day in a row.",
    "The national airline said it would add direct flights from Porto to Toronto in June.",
]


def _entry(i: int, paragraphs: list[str], feed: FeedSpec = FEED, link: str | None = None) -> RawEntry:
    return RawEntry(
        feed=feed,
        fetched_at=FETCHED_AT,
        position=i,
        link=link or f"https://harbourgazette.com/story-{i}",
        title=f"Story {i}",
        content_html="".join(f"<p>{p}</p>" for p in paragraphs),
    )


def _bodies(articles) -> list[tuple[str, str]]:
    return sorted((a.title, a.body) for a in articles)


def test_repeated_keys_needs_both_thresholds() -> None:
    a, b, c = frozenset({b"a", b"b"}), frozenset({b"a", b"c"}), frozenset({b"a", b"b"})
    assert repeated_keys([a, b, c], 3, 0.3) == {b"a"}
    assert repeated_keys([a, b, c], 2, 0.3) == {b"a", b"b"}
    assert repeated_keys([a, b, c, *[frozenset({b"z"})] * 10], 3, 0.3) == {b"z"}  # "a": 3 of 13 < 30 %
    assert repeated_keys([a, b, c], 0, 0.3) == frozenset()  # off


def test_a_paragraph_repeated_under_many_items_of_a_source_is_removed_but_one_shared_by_two_stays() -> None:
    entries = [_entry(i, [story, CHROME] + ([SHARED] if i < 2 else [])) for i, story in enumerate(STORIES)]
    other_source = _entry(9, [STORIES[0], CHROME], FeedSpec("https://other.test/rss"), "https://other.test/a")
    expected = [(f"Story {i}", story + (f"\n\n{SHARED}" if i < 2 else "")) for i, story in enumerate(STORIES)]
    expected.append(("Story 9", f"{STORIES[0]}\n\n{CHROME}"))  # one item of its source: no evidence
    with make_test_pipeline() as p:
        out = p | beam.Create([*entries, other_source]) | CleanArticles(CleanSettings())
        assert_that(out.main | beam.combiners.ToList() | beam.Map(_bodies), equal_to([sorted(expected)]))
        assert_that(out.dead_letters, equal_to([]), label="no dead letters")


def test_one_article_carried_by_several_feeds_is_not_its_own_chrome() -> None:
    # the same URL in three feeds of the source: one article, counted once, nothing removed
    paragraphs = [STORIES[0], STORIES[1]]
    feeds = [FeedSpec(f"https://harbourgazette.com/{name}.rss") for name in ("world", "top", "europe")]
    entries = [_entry(0, paragraphs, feed, "https://harbourgazette.com/a") for feed in feeds]
    with make_test_pipeline() as p:
        out = p | beam.Create(entries) | CleanArticles(CleanSettings())
        bodies = out.main | beam.Map(lambda a: a.body) | beam.Distinct()
        assert_that(bodies, equal_to(["\n\n".join(paragraphs)]))


def test_repeat_pass_can_be_switched_off_and_feed_rules_apply() -> None:
    rules = parse_site_rules({"boilerplate": ["Harbour Gazette is an independent .{1,100}"]}, "rules")
    feed = dataclasses.replace(FEED, rules=rules)
    entries = [_entry(i, [story, CHROME]) for i, story in enumerate(STORIES[:3])]
    entries.append(_entry(3, [STORIES[3], CHROME], feed))
    expected = [(f"Story {i}", f"{s}\n\n{CHROME}") for i, s in enumerate(STORIES[:3])]
    expected.append(("Story 3", STORIES[3]))
    with make_test_pipeline() as p:
        out = p | beam.Create(entries) | CleanArticles(CleanSettings(repeat_min_items=0))
        assert_that(out.main | beam.combiners.ToList() | beam.Map(_bodies), equal_to([sorted(expected)]))


# -- full text ------------------------------------------------------------------------------------------
PAGE = """<html><head><title>Tram 28 returns</title></head><body>
<nav><a href="/">Home</a> <a href="/lisbon">Lisbon</a></nav>
<article><h1>Tram 28 returns</h1>
<p>Tram line 28 will run again from Monday after a month of repairs to the track in Alfama, the city's
transport company said on Friday.</p>
<p>The line, which carries more tourists than any other in Lisbon, was closed in May after a section of
rail near the cathedral subsided during heavy rain.</p>
<p>Residents of Alfama said they hoped the company would add more trams for local people at rush hour.</p>
</article>
<aside><h3>Most read</h3><ul><li><a href="/x">Heatwave in the Alentejo</a></li></ul></aside>
<footer>Copyright 2024 Harbour Gazette</footer></body></html>"""
FULL_PARAGRAPHS = (
    "Tram line 28 will run again from Monday after a month of repairs to the track in Alfama, the city's "
    "transport company said on Friday.",
    "The line, which carries more tourists than any other in Lisbon, was closed in May after a section of "
    "rail near the cathedral subsided during heavy rain.",
    "Residents of Alfama said they hoped the company would add more trams for local people at rush hour.",
)
TEASER = "<p>Tram line 28 will run again from Monday after a month of repairs… Read more</p>"
LONG = " ".join(STORIES * 6)  # 150+ words: not a teaser


def test_is_teaser() -> None:
    short = RawEntry(FEED, FETCHED_AT, 0, title="T", content_html=TEASER)
    assert is_teaser(short, 120)
    long = dataclasses.replace(short, content_html=f"<p>{LONG}</p>")
    assert not is_teaser(long, 120)
    assert is_teaser(dataclasses.replace(short, content_html=f"<p>{LONG} […]</p>"), 120)
    assert is_teaser(dataclasses.replace(short, content_html=None), 120)


def test_teasers_get_the_page_text_and_a_failed_page_is_a_dead_letter(httpserver) -> None:
    httpserver.expect_request("/tram").respond_with_data(PAGE, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    feed = FeedSpec(httpserver.url_for("/rss"), fetch_full_text=True)
    plain = FeedSpec(httpserver.url_for("/plain"))
    entries = [
        RawEntry(
            feed,
            FETCHED_AT,
            0,
            link=httpserver.url_for("/tram"),
            title="Tram 28 returns",
            content_html=TEASER,
        ),
        RawEntry(feed, FETCHED_AT, 1, link=httpserver.url_for("/gone"), title="Gone", content_html=TEASER),
        RawEntry(
            feed, FETCHED_AT, 2, link=httpserver.url_for("/long"), title="Long", content_html=f"<p>{LONG}</p>"
        ),
        RawEntry(
            plain, FETCHED_AT, 3, link=httpserver.url_for("/tram"), title="Not asked", content_html=TEASER
        ),
        RawEntry(feed, FETCHED_AT, 4, link="/etc/passwd", title="Local path", content_html=TEASER),
    ]
    settings = FetchSettings(per_host_interval_s=0.0, retries=0)
    with make_test_pipeline() as p:
        full = p | beam.Create(entries) | FetchFullText(settings, teaser_max_words=120)
        cleaned = full.main | CleanArticles(CleanSettings(repeat_min_items=0))
        rows = cleaned.main | beam.Map(lambda a: (a.title, a.body.split("\n\n"), a.summary))
        teaser_body = ["Tram line 28 will run again from Monday after a month of repairs…"]
        assert_that(
            rows,
            equal_to(
                [
                    # the teaser becomes the summary, dropped as the body starts with it
                    ("Tram 28 returns", list(FULL_PARAGRAPHS), None),
                    ("Gone", teaser_body, None),
                    ("Long", [LONG], None),
                    ("Not asked", teaser_body, None),
                    ("Local path", teaser_body, None),
                ]
            ),
        )
        letters = full.dead_letters | beam.Map(lambda d: (d.stage, d.error_class, d.item, d.message))
        assert_that(
            letters,
            equal_to([("fulltext", "HTTPError", httpserver.url_for("/gone"), "HTTP 404 Not Found")]),
            label="one dead letter",
        )
    assert [r.path for r, _ in httpserver.log].count("/tram") == 1  # the plain feed's teaser is not fetched


# -- config and CLI -------------------------------------------------------------------------------------
def test_feed_list_rules_and_full_text_reach_the_feed_spec(tmp_path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "- url: https://harbourgazette.com/rss\n"
        "  fetch_full_text: true\n"
        "  rules:\n"
        "    boilerplate: ['Listen to the .{1,40} podcast.*']\n"
        "    disable: [section_label]\n"
        "- url: https://other.test/rss\n"
    )
    (tmp_path / "c.yaml").write_text("feeds_file: feeds.yaml\n")
    config, base = load_config(tmp_path / "c.yaml")
    first, second = resolve_feeds(config, base)
    assert first.fetch_full_text and not second.fetch_full_text
    assert first.rules == parse_site_rules(
        {"boilerplate": ["Listen to the .{1,40} podcast.*"], "disable": ["section_label"]},
        "feeds.yaml[0].rules",
    )
    assert second.rules is None
    hash(first)  # FeedSpec stays hashable


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clean:\n  rules_path: missing.yaml\n", "clean.rules_path: [Errno 2]"),
        ("clean:\n  rules_path: bad.yaml\n", "bad.yaml: rules.boilerplate[0].pattern"),
        ("clean:\n  repeat_min_share: 2\n", "repeat_min_share must be from 0 to 1"),
        ("clean:\n  colour: red\n", "clean.colour: unknown key"),
        (
            "feeds:\n  - url: https://a.test/rss\n    rules: {boilerplate: ['(']}\n",
            "rules.boilerplate[0].pattern",
        ),
        ("feeds:\n  - url: https://a.test/rss\n    fetch_full_text: maybe\n", "fetch_full_text"),
    ],
)
def test_bad_clean_settings_are_config_errors(tmp_path, text: str, message: str) -> None:
    (tmp_path / "bad.yaml").write_text("rules:\n  boilerplate: ['(unclosed']\n")
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path / "c.yaml")


RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour Gazette</title><link>http://harbourgazette.test/</link>
<description>News</description>
<item><title>Tram 28 returns</title><link>{tram}</link><guid>tram</guid>
<description><![CDATA[{teaser}]]></description>
<pubDate>Mon, 03 Jun 2024 08:00:00 GMT</pubDate></item>
{items}
</channel></rss>"""
PODCAST = "Listen to the Harbour Gazette podcast every morning"
ITEM = """<item><title>Story {i}</title><link>{link}</link><guid>s{i}</guid>
<description><![CDATA[<p>{story}</p><p>{chrome}</p><p>{podcast}</p>]]></description>
<pubDate>Mon, 03 Jun 2024 0{i}:00:00 GMT</pubDate></item>"""


def test_cli_run_with_full_text_feed_rules_and_repeated_chrome(httpserver, tmp_path) -> None:
    httpserver.expect_request("/tram").respond_with_data(PAGE, content_type="text/html; charset=utf-8")
    items = "\n".join(
        ITEM.format(i=i, link=httpserver.url_for(f"/s{i}"), story=story, chrome=CHROME, podcast=PODCAST)
        for i, story in enumerate(STORIES[1:], start=1)
    )
    httpserver.expect_request("/rss").respond_with_data(
        RSS.format(tram=httpserver.url_for("/tram"), teaser=TEASER, items=items),
        content_type="application/rss+xml",
    )
    (tmp_path / "feeds.yaml").write_text(
        f"- url: {httpserver.url_for('/rss')}\n"
        "  fetch_full_text: true\n"
        "  rules:\n"
        "    boilerplate: ['Listen to the Harbour Gazette podcast.*']\n"
    )
    (tmp_path / "config.yaml").write_text(
        "fetch:\n  per_host_interval_s: 0.0\n  retries: 1\nclean:\n  teaser_max_words: 30\n"
    )
    out = tmp_path / "out"
    result = subprocess.run(
        [
            *NEWSBEAM,
            "--config",
            str(tmp_path / "config.yaml"),
            "--feeds-file",
            str(tmp_path / "feeds.yaml"),
            "--output",
            str(out),
            "--log-format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["articles_written"] == 5
    rows = duckdb.execute(
        f"select title, body, summary from read_parquet('{out}/articles/**/*.parquet') order by title"
    ).fetchall()
    bodies = {title: body for title, body, _ in rows}
    assert bodies["Tram 28 returns"].split("\n\n") == list(FULL_PARAGRAPHS)
    for i, story in enumerate(STORIES[1:], start=1):
        # the feed's own rule took the podcast line; the repeated paragraph went by cross-item evidence
        assert bodies[f"Story {i}"] == story


def test_cli_bad_rules_file_exits_2_naming_the_key(tmp_path) -> None:
    (tmp_path / "rules.yaml").write_text("sites:\n  example.com:\n    credit: ['(?P<who>x)']\n")
    (tmp_path / "c.yaml").write_text("feeds: [https://example.com/rss]\nclean:\n  rules_path: rules.yaml\n")
    result = subprocess.run(
        [*NEWSBEAM, "--config", str(tmp_path / "c.yaml"), "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "clean.rules_path:" in result.stderr and "sites.example.com.credit[0].pattern" in result.stderr
    assert not (tmp_path / "out").exists()
