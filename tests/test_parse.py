"""Parse stage on hand-written fixtures (tests/data/parse/); every expected value is written out by hand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from newsbeam.transforms.parse import (
    EmptyDocument,
    EntryFailure,
    MalformedFeed,
    NotAFeed,
    ParseEntries,
    UnsafeDocument,
    parse_feed,
)
from newsbeam.transforms.records import FeedSpec, FetchedFeed, RawEntry
from tests.conftest import DATA, FETCHED_AT, make_test_pipeline

PARSE = DATA / "parse"
UTC = dt.UTC
HTML_PAGE = "not a feed: the document is HTML (a web page, not RSS/Atom/JSON Feed)"
ENTITIES_REFUSED = "XML entity declarations are refused (possible XML bomb or external entity)"


def fetched(
    source: str | bytes,
    url: str = "https://example.com/feeds/rss.xml",
    content_type: str | None = None,
    language: str | None = None,
) -> FetchedFeed:
    body = (PARSE / source).read_bytes() if isinstance(source, str) else source
    return FetchedFeed(
        feed=FeedSpec(url, language=language),
        fetched_at=FETCHED_AT,
        final_url=url,
        status=200,
        body=body,
        content_type=content_type,
    )


def entry(source: FetchedFeed, position: int, **fields) -> RawEntry:
    return RawEntry(feed=source.feed, fetched_at=FETCHED_AT, position=position, **fields)


def test_rss20_with_content_encoded_and_dc_creator():
    source = fetched("rss20.xml", content_type="application/rss+xml")

    result = parse_feed(source)

    assert result.problems == ()
    assert result.failures == ()
    assert result.entries == (
        entry(
            source,
            0,
            guid="cafe-1",
            link="https://example.com/news/cafe-tax",
            title="Café owners fight “the tax”",
            content_html="<p>Full text of the café story.</p><p>Second paragraph.</p>",
            summary_html="<p>Short summary</p>",
            authors=("Jane Doe", "John Roe"),
            language="en",
            published_at=dt.datetime(2024, 5, 21, 8, 0, tzinfo=UTC),
            date_source="feed",
        ),
        entry(
            source,
            1,
            guid=None,
            link="https://example.com/news/2",
            title="Relative link",
            summary_html="Only a description",
            language="fr",
            published_at=dt.datetime(2024, 5, 20, 23, 30, tzinfo=UTC),
            date_source="feed",
        ),
        entry(
            source,
            2,
            guid="https://example.com/news/3",
            link="https://example.com/news/3",
            title="Is 1 &lt; 2?",  # plain text, escaped: every RawEntry text field is HTML
            language="en",
            published_at=None,
            date_source="fetched",
        ),
    )


def test_rss10():
    source = fetched("rss10.rdf", url="https://example.de/rss")

    result = parse_feed(source)

    assert result.entries == (
        entry(
            source,
            0,
            guid="https://example.de/a/1",
            link="https://example.de/a/1",
            title="Erste Meldung",
            summary_html="Über die Brücke",
            authors=("Max Muster",),
            language="de",
            published_at=dt.datetime(2024, 5, 20, 12, 15, tzinfo=UTC),
            date_source="feed",
        ),
        entry(
            source,
            1,
            guid="https://example.de/a/2",
            link="https://example.de/a/2",
            title="Zweite Meldung",
            language="de",
            published_at=None,
            date_source="fetched",
        ),
    )


def test_atom_html_content_and_relative_link():
    source = fetched(
        "atom.xml", url="https://news.example.org/atom/feed.xml", content_type="application/atom+xml"
    )

    result = parse_feed(source)

    assert result.problems == ()
    assert result.entries == (
        entry(
            source,
            0,
            guid="urn:example:1",
            link="https://news.example.org/atom/2024/05/terremoto",
            title="Terremoto <em>forte</em> no sul",
            content_html="<p>Texto completo.</p>",
            summary_html="Magnitude 1 &lt; 2 &amp; nada mais",
            authors=("Ana Lima",),
            language="pt",
            published_at=dt.datetime(2024, 5, 19, 22, 0, tzinfo=UTC),  # published wins over updated
            date_source="feed",
        ),
        entry(
            source,
            1,
            guid="urn:example:2",
            link="https://elsewhere.example/story",
            title="Second entry",
            authors=("Redação",),  # the feed's author, by RFC 4287
            language="en",
            published_at=dt.datetime(2024, 5, 20, 6, 0, tzinfo=UTC),
            date_source="feed",
        ),
    )


def test_local_file_feed_keeps_relative_links_relative():
    source = fetched("atom.xml", url="/srv/feeds/atom.xml")

    assert parse_feed(source).entries[0].link == "2024/05/terremoto"


def test_json_feed_11():
    source = fetched(
        "jsonfeed11.json", url="https://json.example/feed.json", content_type="application/feed+json"
    )

    result = parse_feed(source)

    assert (result.problems, result.failures) == ((), ())
    assert result.entries == (
        entry(
            source,
            0,
            guid="https://json.example/1",
            link="https://json.example/1",
            title="Rates &amp; rents",
            content_html="<p>Rates rose.</p>",
            summary_html="Rates rose again",
            authors=("Kim Lee", "Sam Roy"),
            language="en",
            published_at=dt.datetime(2024, 5, 21, 7, 30, tzinfo=UTC),
            date_source="feed",
        ),
        entry(
            source,
            1,
            guid="42",
            link="https://other.example/story",
            title="Plain text story",
            content_html="<p>A &lt; B</p><p>Second paragraph</p>",
            authors=("The Desk",),
            language="es",
            published_at=dt.datetime(2024, 5, 20, 10, 0, tzinfo=UTC),
            date_source="feed",
        ),
    )


def test_json_feed_10_sniffed_without_content_type():
    source = fetched("jsonfeed10.json", url="https://old.example/feed.json", language="en")

    result = parse_feed(source)

    assert result.entries == (
        entry(
            source,
            0,
            guid="old-1",
            link="https://old.example/posts/1",
            title="First post",
            content_html="<p>Hello</p>",
            authors=("Pat Poe",),
            language="en",  # from the FeedSpec: neither item nor feed says
            published_at=dt.datetime(2024, 5, 21, 7, 0, tzinfo=UTC),
            date_source="feed",
        ),
        entry(
            source,
            1,
            guid="old-2",
            link="https://old.example/posts/2",
            title="",
            content_html="<p>No title, no author</p>",
            authors=("Feed Owner",),
            language="en",
            published_at=None,
            date_source="fetched",
        ),
    )


def test_json_feed_item_that_fails_to_map_is_a_failure_and_the_rest_go_on():
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "items": ['
        b'"just a string", {"id": "ok", "url": "https://j.example/ok"},'
        b' {"id": "bad", "title": ["a", "list"]}]}'
    )
    source = fetched(body, url="https://j.example/feed.json")

    result = parse_feed(source)

    assert [(e.position, e.guid) for e in result.entries] == [(1, "ok")]
    assert result.failures == (
        EntryFailure(
            0,
            "https://j.example/feed.json#0",
            "TypeError",
            "item 0 is a JSON str, not an object",
            "just a string",
        ),
        EntryFailure(
            2,
            "bad",
            "TypeError",
            "'title' must be a string, got a JSON list",
            "{'id': 'bad', 'title': ['a', 'list']}",
        ),
    )


def test_windows_1252_declared():
    result = parse_feed(fetched("cp1252_declared.xml", content_type="application/rss+xml"))

    assert [(e.title, e.summary_html) for e in result.entries] == [
        ("Café “quoted” it’s", "Crème brûlée – € 5")
    ]
    assert result.problems == ()


def test_windows_1252_undeclared():
    result = parse_feed(fetched("cp1252_undeclared.xml"))

    assert [(e.title, e.summary_html) for e in result.entries] == [
        ("Café “quoted” it’s", "Crème brûlée – € 5")
    ]
    assert result.problems == ()


def test_utf8_served_as_latin1_comes_out_right():
    body = '<rss version="2.0"><channel><item><title>café “ok”</title></item></channel></rss>'.encode()

    result = parse_feed(fetched(body, content_type="application/rss+xml; charset=ISO-8859-1"))

    assert result.entries[0].title == "café “ok”"


def test_latin1_declaration_is_read_as_windows_1252():
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><item>'
    body += b"<title>caf\xe9 \x93ok\x94</title></item></channel></rss>"

    result = parse_feed(fetched(body, content_type="text/xml"))

    assert result.entries[0].title == "café “ok”"


def test_utf16_with_bom():
    body = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>Zoë</title>'
    body += "</item></channel></rss>"

    result = parse_feed(fetched(body.encode("utf-16")))

    assert result.entries[0].title == "Zoë"


def test_dates_future_missing_ancient_and_skewed():
    result = parse_feed(fetched("dates.xml"))

    assert [(e.title, e.published_at, e.date_source) for e in result.entries] == [
        ("From the future", FETCHED_AT, "clamped"),
        ("No date", None, "fetched"),
        ("Epoch zero", None, "fetched"),
        ("Slightly ahead", dt.datetime(2024, 5, 22, 6, 0, tzinfo=UTC), "feed"),
    ]


def test_malformed_but_recoverable_keeps_entries_and_says_so():
    result = parse_feed(fetched("malformed.xml"))

    assert [(e.title, e.link) for e in result.entries] == [
        ("One", "https://broken.example/1"),
        ("Two", "https://broken.example/2"),
        ("Fish &amp; Chips", "https://broken.example/3"),
    ]
    assert result.problems == (
        "malformed XML at line 8: not well-formed (invalid token); 3 entries recovered",
    )


def test_malformed_line_numbers_count_from_the_original_document():
    # Two blank lines in front, no XML declaration: feedparser's own numbering would be off both ways.
    body = b"\n\n<rss version='2.0'><channel>\n<item><title>A & B</title></item>\n</channel></rss>"

    result = parse_feed(fetched(body))

    assert result.problems == ("malformed XML at line 4: not well-formed (invalid token); 1 entry recovered",)


def test_malformed_line_numbers_survive_a_two_line_doctype():
    body = (
        b'<?xml version="1.0"?>\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"\n'
        b'  "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel>\n'
        b"<item><title>Fish & Chips</title></item>\n"
        b"</channel></rss>\n"
    )

    result = parse_feed(fetched(body))

    assert result.problems == ("malformed XML at line 5: not well-formed (invalid token); 1 entry recovered",)


def test_leading_blank_lines_alone_are_not_a_problem():
    body = b"\n\n" + (PARSE / "dates.xml").read_bytes()

    result = parse_feed(fetched(body))

    assert (len(result.entries), result.problems) == (4, ())


def test_html_page_is_not_a_feed():
    with pytest.raises(NotAFeed) as raised:
        parse_feed(fetched("page.html", content_type="text/html; charset=utf-8"))
    assert str(raised.value) == HTML_PAGE


@pytest.mark.parametrize("name", ["billion_laughs.xml", "xxe.xml"])
def test_entity_declarations_are_refused_fast(name):
    started = time.perf_counter()
    with pytest.raises(UnsafeDocument) as raised:
        parse_feed(fetched(name))
    assert time.perf_counter() - started < 0.1
    assert str(raised.value) == ENTITIES_REFUSED
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp037"])
def test_entity_declarations_in_wide_or_ebcdic_encodings_are_refused(encoding):
    body = (PARSE / "billion_laughs.xml").read_text(encoding="ascii").encode(encoding)

    with pytest.raises(UnsafeDocument):
        parse_feed(fetched(body))


def test_an_entity_behind_a_doctype_that_cannot_be_delimited_is_still_found():
    # The "]" inside the comment ends a naive internal subset early; the scan then falls back to the whole
    # document rather than trusting a prolog it could not delimit.
    body = b'<!DOCTYPE x [ <!-- ] --> <!ENTITY a "b"> ]><rss version="2.0"><channel><item/></channel></rss>'

    with pytest.raises(UnsafeDocument):
        parse_feed(fetched(body))


def test_entity_text_inside_cdata_after_the_root_is_just_text():
    body = b'<rss version="2.0"><channel><item><title>x</title><description><![CDATA[<!ENTITY x "y">]]>'
    body += b"</description></item></channel></rss>"

    assert parse_feed(fetched(body)).entries[0].summary_html == '<!ENTITY x "y">'


def test_external_dtd_without_entities_is_accepted():
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
        b' "http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
        b'<rss version="0.91"><channel><title>Old</title>'
        b"<item><title>Still news</title></item></channel></rss>"
    )

    assert [e.title for e in parse_feed(fetched(body)).entries] == ["Still news"]


@pytest.mark.parametrize("body", [b"", b"  \n\t", b"\xef\xbb\xbf"])
def test_empty_document(body):
    with pytest.raises(EmptyDocument, match=r"^empty document$"):
        parse_feed(fetched(body))


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (
            b"<opml version='2.0'><head/><body/></opml>",
            NotAFeed,
            "not a feed: the root element is <opml>, not <rss>, <feed> or <rdf:RDF>",
        ),
        (b"hello world", NotAFeed, "not a feed: neither XML nor JSON (starts with 'hello world')"),
        (b'{"a": 1}', NotAFeed, "not a feed: JSON without a jsonfeed.org version (not a JSON Feed)"),
        (b'{"items": [}', MalformedFeed, "malformed JSON at line 1 column 12: Expecting value"),
        (
            b"<?xml version='1.0'?>\n<rss version='2.0'><channel><title>x</ti",  # truncated download
            MalformedFeed,
            "malformed XML at line 2: unclosed token; no entries recovered",
        ),
    ],
)
def test_documents_that_give_nothing(body, error, message):
    with pytest.raises(error) as raised:
        parse_feed(fetched(body))
    assert str(raised.value) == message


def test_parse_entries_pipeline():
    good = fetched("rss20.xml", url="https://good.example/rss")
    broken = fetched("malformed.xml", url="https://broken.example/rss")
    page = fetched("page.html", url="https://page.example/")
    odd_item = fetched(
        b'{"version": "https://jsonfeed.org/version/1", "items": [{"id": "fine"}, "odd"]}',
        url="https://json.example/feed.json",
    )
    failed_fetch = dataclasses.replace(good, feed=FeedSpec("https://gone.example/rss"), body=None, status=404)

    with make_test_pipeline() as p:
        out = p | beam.Create([good, broken, page, odd_item, failed_fetch]) | ParseEntries()
        assert_that(
            out.main | "Entries" >> beam.Map(lambda e: (e.feed.url, e.position)),
            equal_to(
                [("https://good.example/rss", i) for i in range(3)]
                + [("https://broken.example/rss", i) for i in range(3)]
                + [("https://json.example/feed.json", 0)]
            ),
            label="GoodRecoveredAndSurvivingEntries",
        )
        assert_that(
            out.dead_letters
            | "Letters"
            >> beam.Map(
                lambda d: (d.stage, d.feed_url, d.item, d.error_class, d.message, d.raw[:14], d.failed_at)
            ),
            equal_to(
                [
                    (
                        "parse",
                        "https://broken.example/rss",
                        None,
                        "MalformedFeed",
                        "malformed XML at line 8: not well-formed (invalid token); 3 entries recovered",
                        "<?xml version=",
                        FETCHED_AT,
                    ),
                    (
                        "parse",
                        "https://page.example/",
                        None,
                        "NotAFeed",
                        HTML_PAGE,
                        "<!DOCTYPE html",
                        FETCHED_AT,
                    ),
                    (
                        "parse",
                        "https://json.example/feed.json",
                        "https://json.example/feed.json#1",
                        "TypeError",
                        "item 1 is a JSON str, not an object",
                        "odd",
                        FETCHED_AT,
                    ),
                ]
            ),
            label="OneLetterPerBadDocumentOrItem",
        )
