"""The lxml fast path (transforms/feedxml.py) against feedparser, the reference it replaces.

For every document here, `parse_feed(...)` must give exactly what `parse_feed(..., fast_path=False)` (all
feedparser) gives: the same RawEntry records field by field, the same problems and failures, the same
error. Where the fast path reads a document, its feedparser-shaped view must also equal feedparser's own
(titles' and summaries' content types and languages, contents, author dicts, both parsed dates), which
pins fields the RawEntry mapping only partly shows. Nothing is normalised on either side: the two
readings are meant to be identical, and they are.

Documents: every XML fixture in tests/data and configs/samples, generated benchmark feeds (several
seeds), hand-written feeds with the quirks feedparser has (each says whether the fast path should read it
or leave it to feedparser, so coverage cannot shrink silently), and randomly damaged copies of a
generated feed (where libxml2 and expat must agree about what is well-formed).
"""

from __future__ import annotations

import dataclasses
import io
import random
from pathlib import Path

import feedparser
import pytest

from bench.generate import generate
from newsbeam.transforms.feedxml import read_feed
from newsbeam.transforms.parse import parse_feed
from newsbeam.transforms.records import FeedSpec, FetchedFeed
from tests.conftest import DATA, FETCHED_AT

REPO = Path(__file__).resolve().parent.parent
FIXTURES = sorted(
    [
        *(DATA / "parse").glob("*.xml"),
        *(DATA / "parse").glob("*.rdf"),
        *(DATA / "feeds").glob("*.xml"),
        *(REPO / "configs" / "samples").glob("*.xml"),
    ]
)
# The fixtures the fast path reads (the others are malformed, unsafe, XHTML, or not feeds).
FAST_FIXTURES = {
    "parse/atom.xml",
    "parse/cp1252_declared.xml",
    "parse/cp1252_undeclared.xml",
    "parse/dates.xml",
    "parse/rss10.rdf",
    "parse/rss20.xml",
    "feeds/good-atom.xml",
    "feeds/good-rss2.xml",
    "feeds/rss1.xml",
    "feeds/windows-1252-undeclared.xml",
    "feeds/windows-1252.xml",
    "samples/elcorreodelsur-rss2.xml",
    "samples/gulfherald-rss2.xml",
    "samples/newsscoop-rss2.xml",
    "samples/northsea-times-rss2.xml",
    "samples/pacificledger-rdf.xml",
    "samples/rheinkurier-atom.xml",
    "samples/wirewatch-atom.xml",
}
CONTENT_TYPES = [None, "application/rss+xml", "text/xml", "application/xml; charset=iso-8859-1"]
URLS = ["https://news.example.org/feeds/main.xml", "/srv/feeds/local.xml"]


def fetched(body: bytes, content_type: str | None = None, url: str = URLS[0]) -> FetchedFeed:
    return FetchedFeed(FeedSpec(url), FETCHED_AT, url, 200, body, content_type)


def both_ways(source: FetchedFeed) -> tuple[object, object]:
    """(fast path, feedparser) outcomes: a ParseResult without its fast_path flag, or the error raised."""

    def outcome(fast_path: bool) -> object:
        try:
            return dataclasses.replace(parse_feed(source, fast_path=fast_path), fast_path=False)
        except ValueError as exc:
            return (type(exc).__name__, str(exc))

    return outcome(True), outcome(False)


KEYS = (
    "title",
    "title_detail",
    "link",
    "id",
    "content",
    "summary",
    "summary_detail",
    "authors",
    "language",
    "published_parsed",
    "updated_parsed",
)
DETAIL = ("type", "language", "value")


def _entry_view(entry: dict) -> dict:
    view = {}
    for key in KEYS:
        value = dict.get(entry, key)  # dict.get: FeedParserDict.get maps updated_parsed to published_parsed
        if key.endswith("_detail") and value is not None:
            value = {k: value.get(k) for k in DETAIL}
        elif key == "content" and value is not None:
            value = [{k: part.get(k) for k in DETAIL} for part in value]
        elif key == "authors" and value is not None:
            value = [dict(author) for author in value]
        view[key] = value
    return view


def feedparser_view(data: bytes, content_type: str) -> dict:
    result = feedparser.parse(
        io.BytesIO(data),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-type": content_type},
    )
    return {
        "version": result.get("version"),
        "language": result.feed.get("language"),
        "authors": [dict(a) for a in dict.get(result.feed, "authors", [])],
        "entries": [_entry_view(e) for e in result.entries],
    }


def fast_view(data: bytes, content_type: str) -> dict | None:
    document = read_feed(data, content_type)
    if document is None:
        return None
    return {
        "version": document.version,
        "language": document.feed.get("language"),
        "authors": document.feed.get("authors", []),
        "entries": [_entry_view(e) for e in document.entries],
    }


def assert_same_reading(body: bytes, content_type: str | None = None) -> bool:
    """Both readings agree, at the feedparser level and as records; True when the fast path read it."""
    for url in URLS:
        fast, reference = both_ways(fetched(body, content_type, url))
        assert fast == reference
    data = body.lstrip(b" \t\r\n")
    # parse.py's choice of Content-Type for feedparser (latin-1 labels checked against the bytes)
    from newsbeam.transforms.parse import _content_type_for

    header = _content_type_for(content_type, data)
    view = _outcome(fast_view, data, header)
    if view is not None:
        assert view == _outcome(feedparser_view, data, header)
    return isinstance(view, dict)


def _outcome(read, data: bytes, header: str) -> object:
    try:
        return read(data, header)
    except ValueError as exc:  # feedparser's encoding sniffing can raise on a damaged declaration
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixtures_read_alike(path):
    fast = [assert_same_reading(path.read_bytes(), content_type) for content_type in CONTENT_TYPES]
    assert any(fast) == (f"{path.parent.name}/{path.name}" in FAST_FIXTURES)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_feeds_read_alike_and_take_the_fast_path(tmp_path, seed):
    generate(tmp_path, feeds=4, items=12, seed=seed, duplicate_rate=0.2, near_duplicate_rate=0.2)
    for path in sorted(tmp_path.glob("feed-*.xml")):
        body = path.read_bytes()
        assert assert_same_reading(body, "application/rss+xml")
        assert parse_feed(fetched(body)).fast_path


def damaged_copies(count: int, seed: int):
    """`count` damaged copies of each of two small feeds: bytes deleted, doubled, or stray ones inserted."""
    rng = random.Random(seed)
    stray = [b"<", b"&", b">", b"]]>", b"\x00", b"\xff", b"&#1;", b"&nbsp;", b"<!-- x", b"\x85", b"'", b'"']
    for original in ((DATA / "parse" / "rss20.xml").read_bytes(), (DATA / "parse" / "atom.xml").read_bytes()):
        for _ in range(count):
            at = rng.randrange(len(original))
            kind = rng.randrange(3)
            if kind == 0:
                yield original[:at] + original[at + rng.randint(1, 8) :]
            elif kind == 1:
                yield original[:at] + rng.choice(stray) + original[at:]
            else:
                yield original[:at] + original[at : at + rng.randint(1, 30)] + original[at:]


def test_damaged_feeds_are_read_alike():
    """libxml2 must refuse what expat refuses, or the fast path would hide the problems feedparser reports.
    Many damages leave the feed well-formed (inside text): those readings are compared too."""
    read_fast = sum(assert_same_reading(body) for body in damaged_copies(40, seed=20241129))
    assert read_fast > 10


@pytest.mark.slow
def test_many_damaged_feeds_are_read_alike():
    read_fast = sum(assert_same_reading(body) for body in damaged_copies(1500, seed=7))
    assert read_fast > 300


# --------------------------------------------------------------------------------------------------------
# Hand-written documents: each quirk of feedparser's that the fast path emulates, and the ones it leaves
# to feedparser. (name, body, content type, read by the fast path?)

RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom"'
    b' xmlns:media="http://search.yahoo.com/mrss/"><channel><title>T</title><language>en-us</language>'
)
RSS_END = b"</channel></rss>"
ATOM = b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="de">'


def rss(*items: bytes, head: bytes = RSS) -> bytes:
    return head + b"".join(b"<item>" + item + b"</item>" for item in items) + RSS_END


def atom(*entries: bytes, feed: bytes = b"") -> bytes:
    return ATOM + feed + b"".join(b"<entry>" + e + b"</entry>" for e in entries) + b"</feed>"


CASES = [
    ("two dc:creators", rss(b"<dc:creator>A One</dc:creator><dc:creator>B Two</dc:creator>"), True),
    (
        "author with e-mail, both orders",
        rss(b"<author>jo@example.com (Jo Ann)</author>", b"<author>Jo Ann &lt;jo@example.com&gt;</author>"),
        True,
    ),
    ("author then dc:creator", rss(b"<author>x@example.org</author><dc:creator>Kim</dc:creator>"), True),
    ("empty author", rss(b"<dc:creator></dc:creator><title>t</title>"), True),
    (
        "guid permalink or not, before and after link",
        rss(
            b'<guid isPermaLink="false">g1</guid>',
            b"<guid>https://e.example/g2</guid>",
            b'<guid isPermaLink="True">g3</guid>',
            b"<guid>https://e.example/g4</guid><link>https://e.example/l4</link>",
            b"<link>https://e.example/l5</link><guid>https://e.example/g5</guid>",
            b"<guid>relative/g6</guid>",
            b"<guid></guid>",
        ),
        True,
    ),
    ("empty link over guid", rss(b"<guid>https://e.example/g</guid><link></link>"), True),
    (
        "links with ampersands and odd slashes",
        rss(
            b"<link>https://e.example/a?x=1&amp;y=2</link>",
            b"<link>https://e.example/a?x=1&amp;amp;y=2&amp;copy;</link>",
            b"<link>http:///e.example//p</link>",
            b"<link>  /relative/path  </link>",
        ),
        True,
    ),
    (
        "titles: empty then real, two titles, dc:title, HTML-looking text",
        rss(
            b"<title></title><title>Second</title>",
            b"<title>First</title><title>Second</title>",
            b"<dc:title>DC title</dc:title>",
            b"<title>&lt;b&gt;bold&lt;/b&gt; and &lt;blink&gt;x&lt;/blink&gt;</title>",
            b"<title>1 &lt; 2</title>",
            b"<title><![CDATA[Tom &amp; <i>Jerry</i>]]></title>",
            b"<title>a<!-- comment -->b</title>",
        ),
        True,
    ),
    (
        "content and description in both orders, content only, description only",
        rss(
            b"<content:encoded>&lt;p&gt;Body&lt;/p&gt;</content:encoded><description>Sum</description>",
            b"<description>Sum</description><content:encoded><![CDATA[<p>Body</p>]]></content:encoded>",
            b"<content:encoded><![CDATA[<p>Only body</p>]]></content:encoded>",
            b"<content:encoded>short</content:encoded><content:encoded>longer body</content:encoded>",
            b"<description>only</description>",
            b'<description type="text">plain &amp;amp; text</description>',
        ),
        True,
    ),
    (
        "text repairs: UTF-8 read as latin-1, windows-1252 controls, non-breaking spaces",
        rss(
            "<title>Caf\u00c3\u00a9 \u00e2\u0080\u0099s</title>".encode(),
            b"<title>price &#128; &#150; &#x93;quoted&#x94;</title><description>a&#133;</description>",
            "<title>\u00a0 padded \u00a0</title><description>\u00e9t\u00e9</description>".encode(),
        ),
        True,
    ),
    (
        "languages: item dc:language, xml:lang on item and title, an empty xml:lang",
        rss(
            b"<dc:language>fr-FR</dc:language><title>t</title>",
            b'<title xml:lang="es">t</title>',
            b'<title xml:lang="">t</title>',
            b"<language>pt_BR</language>",
            head=RSS.replace(b"<channel>", b'<channel xml:lang="it">'),
        ),
        True,
    ),
    (
        "root xml:lang and no channel language",
        rss(
            b"<title>t</title>",
            head=RSS.replace(b'version="2.0"', b'version="2.0" xml:lang="nl"').replace(
                b"<language>en-us</language>", b""
            ),
        ),
        True,
    ),
    (
        "dates: RFC 822 variants, W3C, dc:date, garbage, both kinds",
        rss(
            b"<pubDate>Tue, 21 May 2024 10:00:00 +0200</pubDate>",
            b"<pubDate>21 May 2024 10:00 EDT</pubDate>",
            b"<pubDate>Tuesday, 21-May-24 10:00:00 GMT</pubDate>",
            b"<dc:date>2024-05-20T14:15:00+02:00</dc:date>",
            b"<pubDate>not a date</pubDate><dc:date>2024-05-20</dc:date>",
            b"<pubDate>2024-05-20 07:00:00</pubDate>",
            b"<dc:date>2024-05-20T14:15:00Z</dc:date><pubDate>Mon, 20 May 2024 01:00:00 GMT</pubDate>",
        ),
        True,
    ),
    (
        "atom:link inside an RSS item",
        rss(
            b'<atom:link href="https://e.example/alt"/>',
            b'<link>https://e.example/text</link><atom:link rel="self" href="https://e.example/self"/>',
            b'<atom:link rel="alternate" type="application/pdf" href="https://e.example/pdf"/>',
        ),
        True,
    ),
    (
        "harmless extras: categories, enclosure, comments, media:content, unknown namespace",
        rss(
            b'<category domain="x">World</category>'
            b'<enclosure url="https://e.example/a.mp3" type="audio/mpeg"/>'
            b"<comments>https://e.example/c</comments>"
            b'<media:group><media:content url="https://e.example/i.jpg"><media:credit>AP</media:credit>'
            b'</media:content></media:group><media:thumbnail url="https://e.example/t.jpg"/>'
            b'<x:extra xmlns:x="https://unknown.example/ns">data</x:extra><title>t</title>',
        ),
        True,
    ),
    (
        "Atom: text / html / default types, link rels, id as link, feed author inherited",
        atom(
            b'<title type="html">A &amp;amp; B</title><content>1 &lt; 2</content><id>urn:x:1</id>'
            b'<link rel="enclosure" href="https://e.example/e.mp3"/>',
            b'<id>https://e.example/2</id><link href="https://e.example/alt2"/>'
            b'<summary type="html">&lt;p&gt;s&lt;/p&gt;</summary>'
            b"<author><name>N</name><email>n@e.example</email></author>",
            b'<link rel="alternate" type="text/html" href="https://e.example/3"/><updated>2024-05-20T08:00:00Z'
            b"</updated><published>2024-05-19T08:00:00+01:00</published>",
            b'<link rel="self" href="https://e.example/self"/><title type="text">&lt;b&gt;</title>',
            b"<author><email>only@e.example</email></author><author><name>Second</name></author>",
            b'<link href="relative/4"/><title xml:lang="fr">t</title><content type="text">x</content>'
            b"<summary>after content</summary>",
            feed=b"<author><name>Feed Owner</name><uri>https://e.example/</uri></author><title>F</title>",
        ),
        True,
    ),
    (
        "Atom: entry with content then summary copy",
        atom(b'<content type="html">&lt;p&gt;c&lt;/p&gt;</content>'),
        True,
    ),
    # Left to feedparser.
    ("media:title in an item", rss(b"<media:title>M</media:title><title>T</title>"), False),
    ("two descriptions", rss(b"<description>a</description><description>b</description>"), False),
    ("xml:base", rss(b'<link xml:base="https://b.example/">x</link>'), False),
    ("source", rss(b'<source url="https://s.example/">S</source>'), False),
    ("markup inside a title", rss(b"<title>a <b xmlns=''>b</b></title>"), False),
    ("RSS 0.91", rss(b"<title>t</title>", head=RSS.replace(b'version="2.0"', b'version="0.91"')), False),
    (
        "Atom XHTML content",
        atom(b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></content>'),
        False,
    ),
    ("Atom base64 content", atom(b'<content type="image/png">aGk=</content>'), False),
    (
        "prefix of a known namespace bound elsewhere",
        rss(b'<dc:creator xmlns:dc="https://x.example/">A</dc:creator>'),
        False,
    ),
    (
        "CDF href on an item",
        rss(b"<title>t</title>").replace(b"<item>", b'<item href="https://c.example/">'),
        False,
    ),
    ("an undefined entity", rss(b"<title>caf&eacute;</title>"), False),
    (
        "itunes:summary",
        rss(
            b'<itunes:summary xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">s</itunes:summary>'.replace(
                b"dtds", b"DTDs"
            )
        ),
        False,
    ),
]


@pytest.mark.parametrize(("name", "body", "fast"), CASES, ids=[c[0] for c in CASES])
def test_quirks_read_alike(name, body, fast):
    assert assert_same_reading(body, "application/rss+xml") is fast


# --------------------------------------------------------------------------------------------------------
# The shortcuts the fast path takes around feedparser's and urllib's helpers, against those helpers.


def date_texts(seed: int, count: int) -> list[str]:
    """RFC 822 and W3DTF dates, well-formed and not: day names or none, one- and two-digit days, two- and
    four-digit years (89 / 90 is feedparser's century switch), missing seconds, fractions, every kind of
    zone feedparser knows and some it does not, impossible days and hours, and overflow at year 1 / 9999."""
    rng = random.Random(seed)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    days = ["1", "01", "9", "28", "29", "30", "31", "00", "32", "123"]
    years = ["2024", "2023", "1999", "0001", "9999", "24", "89", "90", "99", "00", "7", "20240"]
    times = ["20:59:00", "00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "10:00", "1:02:03", "10"]
    zones = ["+0000", "-0000", "+0530", "-0930", "+1400", "-1200", "+9999", "+05:30", "GMT", "UTC", "UT"]
    zones += ["Z", "EST", "edt", "CEST", "GMT+2", "Etc/GMT", "", "+05", "-05000"]
    names = ["Mon, ", "Sun, ", "Tue, ", "Sat, ", "Thu, ", "", "Tues, ", "Mon ", "mon, "]
    fractions = ["", ".5", ".75", ".123456", ".9999999999999999999"]
    iso_zones = ["Z", "z", "+00:00", "-05:00", "+05:30", "+14:00", "-12:00", "+0530", "", "+99:99", " GMT"]
    texts = []
    for _ in range(count):
        day, month, year, clock = rng.choice(days), rng.choice(months), rng.choice(years), rng.choice(times)
        kind = rng.randrange(4)
        if kind == 0:
            texts.append(f"{rng.choice(names)}{day} {month} {year} {clock} {rng.choice(zones)}".strip())
        elif kind == 1:  # the canonical form, with the odd value in one place
            name, zone = rng.choice(names[:5]), rng.choice(zones[:12])
            texts.append(f"{name}{rng.choice(days[:7])} {month} {year} {clock} {zone}")
        else:
            number = f"{months.index(month) + 1:02d}" if rng.random() < 0.9 else rng.choice(["00", "13", "2"])
            separator = rng.choice(["T", "T", "T", "t", " "])
            seconds = clock.count(":") == 2 and rng.random() < 0.5
            text = (
                f"{year}-{number}-{day.zfill(2)}{separator}{clock}{rng.choice(fractions) if seconds else ''}"
            )
            texts.append(text + rng.choice(iso_zones))
    return texts


def test_dates_are_parsed_as_feedparser_parses_them():
    from feedparser.datetimes import _parse_date

    from newsbeam.transforms.feedxml import _RFC822_DATE, _W3DTF_DATE, parse_date

    texts = date_texts(seed=11, count=6000)
    texts += ["Sun, 02 Jun 2024 20:59:00 +0000", "2024-06-02T20:59:00+00:00", "9999-12-31T23:59:59-01:00"]
    texts += [
        "0001-01-01T00:00:00+01:00",
        "Fri, 31 Dec 9999 23:59:59 -0100",
        "Mon, 01 Jan 0001 00:30:00 +0100",
    ]
    texts += [
        "",
        " ",
        "not a date",
        "2024-02-29T12:00:00Z",
        "2023-02-29T12:00:00Z",
        "Thu, 29 Feb 24 12:00 GMT",
    ]
    shortcut = 0
    for text in texts:
        assert parse_date(text) == _parse_date(text), text
        matched = _RFC822_DATE.fullmatch(text) or _W3DTF_DATE.fullmatch(text)
        shortcut += bool(matched and _parse_date(text))
    assert shortcut > 900  # dates the shortcut itself computed, not only ones it left to feedparser


LINK_BASES = ["https://news.example.org/feeds/main.xml", "http://x.example/a/b?q=1", "HTTP://X.example/"]
LINKS = [
    "https://e.example/2024/06/story-1",
    "http://e.example/a?x=1&y=2#frag",
    "https://e.example",
    "https://e.example?x=1",
    "https://user:pw@e.example:8080/p/../q/./r",
    "https://e.example/a?",
    "https://e.example/a#",
    "https://e.example/a?#",
    "https://e.example/a;p=1",
    "https://e.example/a;",
    "https://e.example/a;b/c",
    "https://e.example/a?x=1;y=2",
    "https://e.example/a#x?y#z",
    "https://e.example/a b",
    "https://e.example/a\tb",
    "https://e.example/a\nb",
    "https://e.example/a\x01b",
    "https://e.example/a\x7fb",
    "https://e.example/caf\u00e9",
    "https://\u00e9.example/",
    "https://e\uff0fx.example/",  # a full-width solidus: NFKC makes it a "/", which urlsplit refuses
    "https://[::1]/x",
    "https://[::1/x",
    "https://[bad]/x",
    "https://e.example]/x",
    "HTTPS://e.example/x",
    "Http://e.example/x",
    "http:///e.example/x",
    "http:e.example/x",
    "https://e.example//double//slash",
    "https://e.example:notaport/x",
    "//e.example/protocol-relative",
    "/absolute/path",
    "relative/path?x=1",
    "?only=query",
    "#only-fragment",
    "mailto:someone@e.example",
    "javascript:alert(1)",
    "ftp://e.example/file",
    "https://e.example/%7Euser/%zz",
    "https://e.example/a\\b",
]


def _urljoin_then_filter(link: str, base: str) -> object:
    """What _resolve_link is specified to do: urljoin against an http(s) base, then keep web links only."""
    from urllib.parse import urljoin, urlsplit

    try:
        if urlsplit(base).scheme.lower() in ("http", "https"):
            link = urljoin(base, link)
        return link if urlsplit(link).scheme.lower() in ("http", "https", "") else None
    except ValueError as exc:
        return ("ValueError", str(exc))


def test_links_are_resolved_as_urljoin_resolves_them():
    from newsbeam.transforms.parse import _PLAIN_WEB_LINK, _resolve_link

    shortcut = 0
    for base in LINK_BASES:
        for link in LINKS:
            try:
                got: object = _resolve_link(link, base)
            except ValueError as exc:
                got = ("ValueError", str(exc))
            assert got == _urljoin_then_filter(link, base), (link, base)
            shortcut += bool(link.isascii() and _PLAIN_WEB_LINK.fullmatch(link))
    assert shortcut >= 3 * 8


def test_links_without_a_base_are_what_feedparser_makes_of_them():
    from feedparser.urls import _urljoin

    from newsbeam.transforms.feedxml import _join_nothing

    for link in [*LINKS, "http:////e.example/x", "https:///", "x:///y", "a+b-c.d:///e", "1x:///y", ":///"]:
        assert _join_nothing(link) == _urljoin("", link), link
