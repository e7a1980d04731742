"""Records travel between Beam stages pickled (FastPrimitivesCoder falls back to pickle for them): they
must come back equal, field by field, whatever the fields hold."""

from __future__ import annotations

import datetime as dt
import pickle
import subprocess
import sys
from dataclasses import dataclass

import apache_beam as beam
import pytest

from newsbeam.transforms.records import (
    Article,
    DeadLetter,
    FeedHealth,
    FeedSpec,
    FeedState,
    FetchedFeed,
    Place,
    RawEntry,
    Record,
    RelatedItem,
)
from tests.conftest import FETCHED_AT

SPEC = FeedSpec("https://news.example/rss", name="News", language="en", region_hint="GB")
PUBLISHED = dt.datetime(2024, 5, 20, 23, 59, 59, 999999, tzinfo=dt.UTC)
RECORDS = [
    SPEC,
    FeedState(
        "https://news.example/rss", FETCHED_AT, etag='"x"', last_ok_at=PUBLISHED, consecutive_failures=2
    ),
    FetchedFeed(SPEC, FETCHED_AT, "https://news.example/rss", 200, b"<rss>\x00\xff</rss>", "application/xml"),
    RawEntry(
        SPEC,
        FETCHED_AT,
        3,
        guid="g",
        link="https://news.example/a",
        title="Café “quoted”",
        content_html="<p>x</p>",
        authors=("A", "B"),
        published_at=PUBLISHED,
    ),
    RawEntry(SPEC, FETCHED_AT, 0, published_at=None, date_source="fetched"),
    Article(
        "id1",
        "https://news.example/a",
        "news.example",
        SPEC.url,
        "Title",
        "Body\n\nSecond",
        FETCHED_AT,
        authors=("A",),
        published_at=dt.datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=dt.UTC),  # before the epoch
        related=(RelatedItem("Teaser", "https://news.example/t"), RelatedItem("No link")),
        places=(Place("Paris", "FR", 3),),
        countries=("FR",),
    ),
    DeadLetter("parse", SPEC.url, None, "NotAFeed", "not a feed", "<html>", failed_at=FETCHED_AT),
    FeedHealth(SPEC.url, SPEC.url, FETCHED_AT, 200, False, 10, 2, 1, 5, None),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_records_survive_pickling_and_beams_default_coder(record):
    coder = beam.coders.registry.get_coder(object)  # what Beam uses for untyped PCollections

    for copy in (
        pickle.loads(pickle.dumps(record, pickle.HIGHEST_PROTOCOL)),
        coder.decode(coder.encode(record)),
    ):
        assert copy == record
        assert type(copy) is type(record)
        for name in record.__slots__:
            assert getattr(copy, name) == getattr(record, name)
            assert type(getattr(copy, name)) is type(getattr(record, name))


def test_datetimes_keep_their_time_zone_and_fold():
    other_zone = dt.timezone(dt.timedelta(hours=2))
    record = RawEntry(
        SPEC,
        dt.datetime(2024, 5, 21, 12, 0, tzinfo=other_zone),  # not UTC: pickled as it is
        0,
        published_at=dt.datetime(2024, 5, 21, 12, 0, fold=1, tzinfo=dt.UTC),
    )

    copy = pickle.loads(pickle.dumps(record))

    assert copy.fetched_at.utcoffset() == dt.timedelta(hours=2)
    assert copy.published_at.fold == 1
    assert copy.published_at.tzinfo is dt.UTC


def test_a_new_field_needs_no_pickling_code():
    @dataclass(frozen=True, slots=True)
    class WithNewField(Record):
        a: str
        when: dt.datetime
        new: tuple[str, ...] = ()

    record = WithNewField("x", FETCHED_AT, ("n",))
    # a class local to a test cannot be found by name when unpickling: rebuild from its reduction directly
    rebuild, arguments = record.__reduce__()

    assert rebuild(*arguments) == record
    assert rebuild(*arguments).new == ("n",)


def test_a_record_unpickles_in_a_process_that_never_pickled_its_class():
    # Records name their class by a string (not a pickled global): a fresh process must find it by name.
    pickled = pickle.dumps(RECORDS[5], pickle.HIGHEST_PROTOCOL)
    script = (
        "import pickle, sys; article = pickle.loads(sys.stdin.buffer.read()); "
        "print(type(article).__module__, article.places[0].name, article.published_at.isoformat())"
    )

    shown = subprocess.run(
        [sys.executable, "-c", script], input=pickled, capture_output=True, check=True
    ).stdout.decode()

    assert shown.split() == ["newsbeam.transforms.records", "Paris", "1969-12-31T23:59:59.000001+00:00"]


def test_a_datetime_in_a_field_not_annotated_as_one_still_round_trips():
    @dataclass(frozen=True, slots=True)
    class Loose(Record):
        anything: object
        when: dt.datetime | None = None

    record = Loose(FETCHED_AT, when=None)
    rebuild, arguments = record.__reduce__()

    copy = rebuild(*arguments)
    assert copy == record
    assert copy.anything.tzinfo is FETCHED_AT.tzinfo
