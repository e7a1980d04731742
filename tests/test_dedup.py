"""Stage "dedup": canonical URLs, stable ids, exact duplicates within a run and against earlier runs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.transforms.dedup import (
    Deduplicate,
    IndexEntry,
    canonical_url,
    identity_keys,
    make_article_id,
    registered_domain,
    text_fingerprint,
)
from newsbeam.transforms.records import Article
from tests.conftest import FETCHED_AT, make_test_pipeline

RUN_AT = dt.datetime(2024, 5, 22, 6, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/world/story-1", "https://example.com/world/story-1"),
        ("http://example.com/world/story-1/", "https://example.com/world/story-1"),
        (
            "https://m.example.com/world/story-1?utm_source=rss&utm_medium=feed",
            "https://example.com/world/story-1",
        ),
        ("https://example.com/world/story-1#comments", "https://example.com/world/story-1"),
        ("https://example.com/world/story-1/amp/", "https://example.com/world/story-1"),
        ("https://amp.example.com/world/story-1?fbclid=abc&gclid=x", "https://example.com/world/story-1"),
        ("https://EXAMPLE.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"),
        ("https://example.com/a?id=7&utm_campaign=x", "https://example.com/a?id=7"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/", "https://example.com/"),
    ],
)
def test_canonical_url_normalises_variants_of_one_address(url, expected):
    assert canonical_url(url) == expected


def test_canonical_url_keeps_what_identifies_a_different_page():
    assert canonical_url("https://example.com/a?id=7") != canonical_url("https://example.com/a?id=8")
    assert canonical_url("https://example.com/a") != canonical_url("https://example.com/b")
    assert canonical_url("tag:example.com,2024:story-9") == "tag:example.com,2024:story-9"
    assert canonical_url("") is None
    assert canonical_url(None) is None


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://www.bbc.co.uk/news/world", "bbc.co.uk"),
        ("https://edition.cnn.com/2024/05/16/x", "cnn.com"),
        ("https://www.lemonde.fr/international/", "lemonde.fr"),
        ("https://news.example.com.au/x", "example.com.au"),
    ],
)
def test_registered_domain_uses_the_public_suffix_list(url, domain):
    assert registered_domain(url) == domain


def test_article_id_is_stable_and_prefers_the_url():
    a = make_article_id("https://example.com/a", "guid-1", "https://feed", "T", "B")
    assert a == make_article_id("https://example.com/a", "other-guid", "https://other-feed", "X", "Y")
    assert len(a) == 32 and int(a, 16) >= 0
    by_guid = make_article_id(None, "guid-1", "https://feed", "T", "B")
    assert by_guid != make_article_id(None, "guid-1", "https://another-feed", "T", "B")
    assert make_article_id(None, None, "f", "Title", "Body") == text_fingerprint("Title", "Body")


def test_text_fingerprint_ignores_case_spacing_and_punctuation():
    assert text_fingerprint("Storm hits coast", "Winds of 150 km/h.\n\nMany flee!") == text_fingerprint(
        "STORM  hits coast", "Winds of 150 km/h   many flee"
    )
    assert text_fingerprint("Storm hits coast", "Winds of 150 km/h") != text_fingerprint(
        "Storm hits coast", "Winds of 160 km/h"
    )


def article(url: str | None, *, guid=None, feed="https://feed-a/rss", title="T", body="B", published=None):
    canonical = canonical_url(url)
    article_id = make_article_id(canonical, guid, feed, title, body)
    return Article(
        article_id=article_id,
        url=canonical,
        source=registered_domain(canonical),
        feed_url=feed,
        title=title,
        body=body,
        fetched_at=FETCHED_AT,
        published_at=published,
        story_id=article_id,
        guid=guid,
    )


def test_identity_keys_cover_url_guid_and_text():
    keys = identity_keys(article("https://x.com/a", guid="g1", title="Hello", body="World"))
    assert sorted(k.split(":", 1)[0] for k in keys) == ["guid", "text", "url"]
    assert identity_keys(article(None, title="Hello", body="World")) == [
        f"text:{text_fingerprint('Hello', 'World')}"
    ]


def test_exact_duplicates_within_a_run_are_written_once():
    early = dt.datetime(2024, 5, 16, 8, tzinfo=dt.UTC)
    later = dt.datetime(2024, 5, 16, 9, tzinfo=dt.UTC)
    original = article("https://a.com/story", title="Quake", body="A quake struck.", published=early)
    tracked = article(
        "https://a.com/story?utm_source=rss",
        feed="https://feed-b/rss",
        title="Quake",
        body="A quake struck.",
        published=later,
    )
    same_text_elsewhere = article(
        "https://aggregator.com/x/1", title="Quake", body="A quake  struck!", published=later
    )
    repeated_guid = article(None, guid="item-9", title="Other", body="Another story.", published=later)
    repeated_guid_again = dataclasses.replace(repeated_guid)
    distinct = article("https://a.com/other", title="Vote", body="People voted.", published=later)
    with make_test_pipeline() as p:
        seen = p | "NoIndex" >> beam.Create([])
        out = (
            p
            | beam.Create(
                [tracked, same_text_elsewhere, original, repeated_guid, repeated_guid_again, distinct]
            )
            | Deduplicate(seen, RUN_AT)
        )
        assert_that(
            out.main | beam.Map(lambda a: a.article_id),
            equal_to([original.article_id, repeated_guid.article_id, distinct.article_id]),
            label="survivors",
        )
        # every identity key of the run is remembered once, pointing at the key's survivor
        assert_that(
            out.index | beam.Map(lambda e: (e.key.split(":", 1)[0], e.article_id)),
            equal_to(
                [
                    ("url", original.article_id),  # original and tracked share it
                    ("url", same_text_elsewhere.article_id),
                    ("url", distinct.article_id),
                    ("text", original.article_id),
                    ("text", repeated_guid.article_id),
                    ("text", distinct.article_id),
                    ("guid", repeated_guid.article_id),
                ]
            ),
            label="index",
        )


def test_the_order_of_feeds_does_not_change_which_copy_is_kept():
    early = dt.datetime(2024, 5, 16, 8, tzinfo=dt.UTC)
    first = article("https://a.com/1", title="Same", body="Same text.", published=early)
    second = article(
        "https://b.com/1", title="Same", body="Same text.", published=early + dt.timedelta(hours=1)
    )
    for order in ([first, second], [second, first]):
        with make_test_pipeline() as p:
            seen = p | "NoIndex" >> beam.Create([])
            out = p | beam.Create(order) | Deduplicate(seen, RUN_AT)
            assert_that(out.main | beam.Map(lambda a: a.article_id), equal_to([first.article_id]))


def test_articles_seen_by_an_earlier_run_are_not_written_again():
    old = article("https://a.com/1", title="Old", body="Seen yesterday.")
    new = article("https://a.com/2", title="New", body="Fresh today.")
    yesterday = RUN_AT - dt.timedelta(days=1)
    seen_rows = [(key, (old.article_id, yesterday)) for key in identity_keys(old)]
    with make_test_pipeline() as p:
        seen = p | "Index" >> beam.Create(seen_rows)
        out = p | beam.Create([old, new]) | Deduplicate(seen, RUN_AT)
        assert_that(out.main | beam.Map(lambda a: a.article_id), equal_to([new.article_id]), label="written")
        # the old article's keys are refreshed (seen again on a new day), the new one's are added
        assert_that(
            out.index | beam.Map(lambda e: (e.article_id, e.seen_at)),
            equal_to([(old.article_id, RUN_AT)] * 2 + [(new.article_id, RUN_AT)] * 2),
            label="index",
        )


def test_keys_seen_earlier_today_are_not_rewritten():
    old = article("https://a.com/1", title="Old", body="Seen this morning.")
    seen_rows = [(key, (old.article_id, RUN_AT - dt.timedelta(hours=1))) for key in identity_keys(old)]
    with make_test_pipeline() as p:
        seen = p | "Index" >> beam.Create(seen_rows)
        out = p | beam.Create([old]) | Deduplicate(seen, RUN_AT)
        assert_that(out.main, equal_to([]), label="written")
        assert_that(out.index, equal_to([]), label="index")


def test_index_entry_row_matches_its_schema():
    from newsbeam.transforms.dedup import INDEX_SCHEMA

    assert list(IndexEntry("k", "a", RUN_AT).to_row()) == INDEX_SCHEMA.names
