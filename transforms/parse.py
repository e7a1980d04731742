"""Parse stage: the bytes of one fetched feed in, one RawEntry per item out.

`parse_feed` is the plain function; `ParseEntries` is the composite. RSS 0.9x/1.0/2.0 and Atom are read
as feedparser reads them (given bytes, never a URL): plain, well-formed RSS 2.0 / RSS 1.0 / Atom 1.0 by
feedxml.read_feed (lxml, ~10x faster, the same records: tests/test_parse_conformance.py), everything else
by feedparser itself. JSON Feed 1.0/1.1 is read here with the json module.

    >>> result = parse_feed(fetched)  # an RSS 2.0 document with two items
    >>> [(e.position, e.title, e.published_at, e.date_source) for e in result.entries]
    [(0, 'First', datetime(2024, 5, 21, 8, 0, tzinfo=UTC), 'feed'), (1, 'Second', None, 'fetched')]
    >>> parse_feed(replace(fetched, body=b"<!DOCTYPE html><html>...</html>"))
    NotAFeed: not a feed: the document is HTML (a web page, not RSS/Atom/JSON Feed)

Every text field of a RawEntry is HTML: plain-text values (an Atom `type="text"` summary, a JSON Feed title)
are escaped, so the clean stage treats title, summary and content alike.

Counters (namespace "parse"): `feeds` documents parsed, `entries` entries emitted, `fast_path` documents
read by feedxml rather than feedparser, `malformed` documents recovered from broken XML, and StageFn's
`dead_letters`.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime as dt
import email.utils
import functools
import html
import io
import json
import logging
import re
import xml.sax
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import apache_beam as beam
import feedparser
from apache_beam.metrics import Metrics
from feedparser.exceptions import CharacterEncodingUnknown, ThingsNobodyCaresAboutButMe

from newsbeam.transforms import progress
from newsbeam.transforms.deadletters import DEAD_LETTERS, MAIN, ParDoWithOutputs, StageFn, StageOutput
from newsbeam.transforms.feedxml import read_feed
from newsbeam.transforms.records import DeadLetter, FetchedFeed, RawEntry, truncate_raw

log = logging.getLogger(__name__)

FUTURE_TOLERANCE = dt.timedelta(days=1)  # a date further ahead than this is a lie, not a clock skew
EARLIEST_DATE = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # before the web: an epoch-0 or a typo, not news


class FeedError(ValueError):
    """A document that gives no entries; the message says why in one line."""


class EmptyDocument(FeedError):
    pass


class NotAFeed(FeedError):
    pass


class UnsafeDocument(FeedError):
    pass


class MalformedFeed(FeedError):
    pass


@dataclass(frozen=True, slots=True)
class EntryFailure:
    """One item of an otherwise readable feed that could not be mapped to a RawEntry."""

    position: int
    item: str  # the best identifier of the item, for the dead letter
    error_class: str
    message: str
    raw: str | None


@dataclass(frozen=True, slots=True)
class ParseResult:
    entries: tuple[RawEntry, ...]
    problems: tuple[str, ...] = ()  # document-level trouble that still gave entries, one line each
    failures: tuple[EntryFailure, ...] = ()  # items skipped; the other entries are unaffected
    fast_path: bool = False  # read by feedxml (lxml), not feedparser


def parse_feed(fetched: FetchedFeed, *, fast_path: bool = True) -> ParseResult:
    """Parse the body of `fetched` into entries. Raises FeedError (a ValueError) when nothing can be read.

    `fast_path=False` reads every XML feed with feedparser: the reference the fast path is tested against."""
    body = fetched.body or b""
    view = _ascii_view(body)
    start = _first_significant(view)
    if start < 0:
        raise EmptyDocument("empty document")
    first = view[start : start + 1]
    if first in (b"{", b"[") or (first != b"<" and _is_json_type(fetched.content_type)):
        return _parse_json_feed(fetched, body)

    prolog, unsafe_region, root = _split_prolog(view, start)
    if _ENTITY_DECLARATION.search(unsafe_region):
        raise UnsafeDocument("XML entity declarations are refused (possible XML bomb or external entity)")
    if root is None:
        if b"<" not in view:
            raise NotAFeed(f"not a feed: neither XML nor JSON (starts with {_preview(view[start:])})")
        raise NotAFeed("not a feed: no root element")
    if root.lower() in _HTML_ROOTS or _HTML_DOCTYPE.search(prolog):
        raise NotAFeed("not a feed: the document is HTML (a web page, not RSS/Atom/JSON Feed)")
    return _parse_xml_feed(fetched, body, view, root, fast_path)


# --------------------------------------------------------------------------------------------------------
# Sniffing: enough of the document to route it and to refuse entity declarations before any XML parser.

_ENTITY_DECLARATION = re.compile(rb"<!\s*ENTITY", re.IGNORECASE)
_HTML_DOCTYPE = re.compile(rb"<!DOCTYPE\s+html", re.IGNORECASE)
_HTML_ROOTS = frozenset({"html", "head", "body"})
_NAME = re.compile(rb"[A-Za-z_][\w.:-]*")
# A DOCTYPE with quoted literals and an optional internal subset. Each alternative starts with a different
# character, so a document that does not match fails in linear time.
_DOCTYPE = re.compile(
    rb"""<!DOCTYPE(?:[^\[>"']|"[^"]*"|'[^']*')*(?:\[(?:[^\]"']|"[^"]*"|'[^']*')*\]\s*)?>""", re.IGNORECASE
)
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # "<?xm" in EBCDIC, which feedparser decodes too
)


def _ascii_view(body: bytes) -> bytes:
    """The body in an ASCII-compatible encoding without BOM, for sniffing only (feedparser gets `body`).
    Every encoding feedparser would decode is decoded here too, so `<!ENTITY` cannot hide in UTF-16."""
    encoding = next((enc for marker, enc in _WIDE_BOMS if body.startswith(marker)), None)
    head = body[:4]
    if encoding is None and b"\x00" in head:  # no BOM: the NULs' places tell the width and byte order
        if head[1:4] == b"\x00\x00\x00":
            encoding = "utf-32-le"
        elif head[:3] == b"\x00\x00\x00":
            encoding = "utf-32-be"
        else:
            encoding = "utf-16-le" if head[1:2] == b"\x00" else "utf-16-be"
    if encoding is not None:
        return body.decode(encoding, errors="replace").lstrip("\ufeff").encode("utf-8")
    return body[len(codecs.BOM_UTF8) :] if body.startswith(codecs.BOM_UTF8) else body


def _first_significant(view: bytes) -> int:
    stripped = view.lstrip()
    return len(view) - len(stripped) if stripped else -1


def _split_prolog(view: bytes, start: int) -> tuple[bytes, bytes, str | None]:
    """(everything before the root element, where entity declarations are looked for, the root element's
    name). A DOCTYPE that cannot be delimited makes the whole document the place to look, so an entity
    declaration can never hide behind it."""
    whole_document = False
    i = start
    while True:
        i = view.find(b"<", i)
        if i < 0:
            return view, view, None
        if view.startswith(b"<?", i):
            end = view.find(b"?>", i + 2)
            i = len(view) if end < 0 else end + 2
        elif view.startswith(b"<!--", i):
            end = view.find(b"-->", i + 4)
            i = len(view) if end < 0 else end + 3
        elif view[i + 2 : i + 9].upper() == b"DOCTYPE" and view.startswith(b"<!", i):
            match = _DOCTYPE.match(view, i)
            if match:
                i = match.end()
            else:
                whole_document = True
                end = view.find(b">", i)
                i = len(view) if end < 0 else end + 1
        elif view.startswith(b"<!", i):  # a stray declaration or CDATA before the root: skip it
            end = view.find(b">", i)
            i = len(view) if end < 0 else end + 1
        else:
            name = _NAME.match(view, i + 1)
            if name is None:  # "<" in text ("a < b"), not a tag
                i += 1
                continue
            return view[:i], (view if whole_document else view[:i]), name.group().decode("ascii")


def _is_json_type(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media in ("application/feed+json", "application/json")


def _preview(data: bytes, limit: int = 40) -> str:
    text = data[:limit].decode("utf-8", errors="replace")
    return repr(text + ("…" if len(data) > limit else ""))


# --------------------------------------------------------------------------------------------------------
# XML: RSS and Atom through feedparser.

_XML_ENCODING = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
# Labels that WHATWG reads as windows-1252: servers say latin-1 and send curly quotes (0x93, 0x94).
_LATIN1_LABELS = frozenset(
    {
        "iso-8859-1",
        "iso8859-1",
        "iso_8859-1",
        "latin-1",
        "latin1",
        "l1",
        "cp819",
        "ibm819",
        "us-ascii",
        "ascii",
    }
)


def _parse_xml_feed(
    fetched: FetchedFeed, body: bytes, view: bytes, root: str, fast_path: bool
) -> ParseResult:
    data = body.lstrip(b" \t\r\n")
    # Blank lines before the XML declaration (a classic of PHP templates) make strict XML fail; they carry
    # nothing, so they go, and error line numbers are shifted back to the original.
    lines_removed = body[: len(body) - len(data)].count(b"\n")
    content_type = _content_type_for(fetched.content_type, view)
    document = read_feed(data, content_type) if fast_path else None
    if document is not None:
        # feedparser's reading of the same bytes, without its SAX handlers; nothing was malformed (libxml2
        # read it strictly) and the encoding was known, so there are no problems to report
        parsed = _entries_of(fetched, document.version, document.feed, document.entries, fast_path=True)
        if not parsed.failures:  # an item that fails to map is reported with feedparser's view of it
            return parsed
    result = feedparser.parse(
        io.BytesIO(data),  # never a str: feedparser would open a URL or a local path named by it
        sanitize_html=False,  # the clean stage cleans HTML, and the sanitizer halves feedparser's speed
        resolve_relative_uris=False,
        response_headers={"content-type": content_type},
    )
    error = result.get("bozo_exception")
    malformed = bool(result.get("bozo")) and not isinstance(error, ThingsNobodyCaresAboutButMe)
    found = result.get("entries") or []
    if not found:
        if malformed:
            raise MalformedFeed(f"{_describe_malformed(error, data, lines_removed)}; no entries recovered")
        if not result.get("version"):
            raise NotAFeed(f"not a feed: the root element is <{root}>, not <rss>, <feed> or <rdf:RDF>")

    parsed = _entries_of(fetched, result.get("version", ""), result.get("feed") or {}, found)
    problems = []
    if malformed:
        count = len(parsed.entries)
        recovered = f"{count} {'entry' if count == 1 else 'entries'} recovered"
        problems.append(f"{_describe_malformed(error, data, lines_removed)}; {recovered}")
    elif isinstance(error, CharacterEncodingUnknown):
        problems.append("character encoding unknown: undecodable bytes were replaced")
    return dataclasses.replace(parsed, problems=tuple(problems))


def _entries_of(
    fetched: FetchedFeed,
    version: str,
    meta: Mapping[str, Any],
    found: Iterable[Mapping[str, Any]],
    fast_path: bool = False,
) -> ParseResult:
    """RawEntry records from feedparser-shaped feed and entry mappings (feedparser's or feedxml's)."""
    feed_language = meta.get("language")
    # Atom (RFC 4287 4.2.1) gives entries without an author the feed's; RSS has no such rule.
    feed_authors = _names(meta.get("authors")) if str(version).startswith("atom") else ()
    entries, failures = [], []
    for position, item in enumerate(found):
        try:
            entries.append(_xml_entry(item, position, fetched, feed_language, feed_authors))
        except Exception as exc:  # one odd item must not cost the feed its other entries
            failures.append(_failure(fetched, position, item.get("link") or item.get("id"), exc, dict(item)))
    return ParseResult(tuple(entries), failures=tuple(failures), fast_path=fast_path)


def _content_type_for(content_type: str | None, view: bytes) -> str:
    """The Content-Type feedparser should believe. feedparser follows RFC 3023 (the HTTP charset wins, and
    text/xml without one means us-ascii); real servers label UTF-8 as latin-1 and windows-1252 as latin-1.
    A latin-1 or ASCII label becomes utf-8 when the bytes are valid UTF-8, else windows-1252."""
    content_type = content_type or ""
    media = content_type.split(";", 1)[0].strip()
    charset = _CHARSET.search(content_type)
    declared = _XML_ENCODING.match(view[:1024])
    label = (charset.group(1) if charset else declared.group(1).decode("ascii") if declared else "").lower()
    if label not in _LATIN1_LABELS:
        return content_type
    try:
        view.decode("utf-8")
    except UnicodeDecodeError:
        actual = "windows-1252"
    else:
        actual = "utf-8"
    return f"{media or 'application/xml'}; charset={actual}"


# feedparser's own pattern (sanitizer.replace_doctype): it deletes what this matches before parsing.
_FEEDPARSER_DOCTYPE = re.compile(rb"^\s*<!DOCTYPE([^>]*?)>", re.MULTILINE)
_FIRST_ELEMENT = re.compile(rb"<\w")


def _describe_malformed(error: BaseException | None, data: bytes, lines_removed: int) -> str:
    if not isinstance(error, xml.sax.SAXParseException):
        return f"malformed XML: {error}"
    # The parser saw feedparser's rewrite of the document; count lines as they are in the original.
    view = _ascii_view(data)
    line = error.getLineNumber() + lines_removed
    if not view.startswith(b"<?xml"):
        line -= 1  # feedparser put an XML declaration line in front
    root = _FIRST_ELEMENT.search(view)
    head = view[: root.start() + 1] if root else view
    line += sum(match.group().count(b"\n") for match in _FEEDPARSER_DOCTYPE.finditer(head))
    return f"malformed XML at line {line}: {error.getMessage()}"


def _xml_entry(
    item: Mapping[str, Any],
    position: int,
    fetched: FetchedFeed,
    feed_language: str | None,
    feed_authors: tuple[str, ...],
) -> RawEntry:
    contents = [_as_html(part.get("value"), part) for part in item.get("content") or ()]
    content_html = max((c for c in contents if c), key=len, default=None)
    languages = [item.get("language")]
    languages += [(item.get(key) or {}).get("language") for key in ("title_detail", "summary_detail")]
    published_at, date_source = _settle_date(_struct_date(item), fetched.fetched_at)
    return RawEntry(
        feed=fetched.feed,
        fetched_at=fetched.fetched_at,
        position=position,
        guid=_clean(item.get("id")),
        link=_resolve_link(_clean(item.get("link")), fetched.final_url),
        title=_as_html(item.get("title"), item.get("title_detail")) or "",
        content_html=content_html,
        summary_html=_as_html(item.get("summary"), item.get("summary_detail")),
        authors=_names(item.get("authors")) or feed_authors,
        language=_language(*languages, feed_language, fetched.feed.language),
        published_at=published_at,
        date_source=date_source,
    )


def _as_html(value: object, detail: Mapping[str, Any] | None) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    if (detail or {}).get("type") == "text/plain":
        return html.escape(value, quote=False)
    return value


def _struct_date(item: Mapping[str, Any]) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        # dict.get: FeedParserDict.get maps a missing updated_parsed to published_parsed, with a warning
        parsed = dict.get(item, key) if isinstance(item, dict) else item.get(key)
        if parsed:
            try:
                return dt.datetime(*parsed[:6], tzinfo=dt.UTC)  # feedparser has already converted to UTC
            except (TypeError, ValueError, OverflowError):
                continue
    return None


# --------------------------------------------------------------------------------------------------------
# JSON Feed 1.0 / 1.1 (https://www.jsonfeed.org/version/1.1/): feedparser 6 does not read it.


def _parse_json_feed(fetched: FetchedFeed, body: bytes) -> ParseResult:
    problems = []
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        problems.append("JSON Feed is not valid UTF-8: undecodable bytes were replaced")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedFeed(f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise MalformedFeed("malformed JSON: nested too deeply") from None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or "jsonfeed.org" not in version:
        raise NotAFeed("not a feed: JSON without a jsonfeed.org version (not a JSON Feed)")
    items = document.get("items")
    if not isinstance(items, list):
        raise MalformedFeed("malformed JSON Feed: 'items' is missing or not an array")

    feed_language = document.get("language") if isinstance(document.get("language"), str) else None
    feed_authors = _json_authors(document)
    entries, failures = [], []
    for position, item in enumerate(items):
        try:
            entries.append(_json_entry(item, position, fetched, feed_language, feed_authors))
        except Exception as exc:  # one odd item must not cost the feed its other entries
            ref = (item.get("url") or item.get("id")) if isinstance(item, dict) else None
            failures.append(_failure(fetched, position, ref, exc, item))
    return ParseResult(tuple(entries), tuple(problems), tuple(failures))


def _json_entry(
    item: object,
    position: int,
    fetched: FetchedFeed,
    feed_language: str | None,
    feed_authors: tuple[str, ...],
) -> RawEntry:
    if not isinstance(item, dict):
        raise TypeError(f"item {position} is a JSON {type(item).__name__}, not an object")
    published_at, date_source = _settle_date(
        _iso_date(item.get("date_published")) or _iso_date(item.get("date_modified")), fetched.fetched_at
    )
    title = _json_text(item, "title")
    summary = _json_text(item, "summary")
    language = item.get("language") if isinstance(item.get("language"), str) else None
    return RawEntry(
        feed=fetched.feed,
        fetched_at=fetched.fetched_at,
        position=position,
        guid=_json_text(item, "id"),
        link=_resolve_link(_json_text(item, "url") or _json_text(item, "external_url"), fetched.final_url),
        title=html.escape(title, quote=False) if title else "",  # JSON Feed titles are plain text
        content_html=_json_text(item, "content_html") or _text_to_html(_json_text(item, "content_text")),
        summary_html=html.escape(summary, quote=False) if summary else None,
        authors=_json_authors(item) or feed_authors,  # the spec's rule: items inherit the feed's authors
        language=_language(language, feed_language, fetched.feed.language),
        published_at=published_at,
        date_source=date_source,
    )


def _json_text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{key!r} must be a string, got a JSON {type(value).__name__}")
    return _clean(str(value))  # numeric ids occur in the wild


def _json_authors(node: Mapping[str, Any]) -> tuple[str, ...]:
    authors = node.get("authors")  # 1.1
    if not isinstance(authors, list):
        authors = [node.get("author")]  # 1.0
    return _names(a for a in authors if isinstance(a, dict))


def _text_to_html(text: str | None) -> str | None:
    """content_text as HTML paragraphs, so a `<` in the text stays text and blank lines stay paragraphs."""
    if not text:
        return None
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def _iso_date(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        try:  # RFC 822 dates turn up in JSON Feeds written by RSS habits
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        return None


# --------------------------------------------------------------------------------------------------------
# Shared by both formats.


def _settle_date(published: dt.datetime | None, fetched_at: dt.datetime) -> tuple[dt.datetime | None, str]:
    """(published_at, date_source) by DESIGN's event-time rules: feeds lie, and the data says so."""
    if published is None or published < EARLIEST_DATE:
        return None, "fetched"
    if published > fetched_at + FUTURE_TOLERANCE:
        return fetched_at, "clamped"
    return published, "feed"


def _clean(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


# An absolute http(s) link that urljoin(base, link) returns unchanged for any http(s) base: with another
# scheme than the base's it returns the link as it is; with the same scheme, urlunparse(urlparse(link)),
# which rebuilds exactly these links. It would differ for an upper-case scheme, no host, an empty query or
# fragment ("?" or "#" alone), ";" in the path (urlparse's params), whitespace or control characters
# (removed) and non-ASCII text; "[" or "]" in the host can raise ValueError. So none of those match here.
_PLAIN_WEB_LINK = re.compile(
    r"https?://[^/?#\[\]\x00-\x20\x7f]+(?:/[^?#;\x00-\x20\x7f]*)?(?:\?[^#\x00-\x20\x7f]+)?(?:#[^\x00-\x20\x7f]+)?"
)


def _resolve_link(link: str | None, base: str) -> str | None:
    """An absolute http(s) link, resolved against the feed's final URL when relative. Local-file feeds have
    no base to resolve against (feedparser has already applied an xml:base the feed declares), so their
    relative links stay relative. Other schemes (javascript:, mailto:, data:) are no article links."""
    if not link:
        return None
    if urlsplit(base).scheme.lower() in ("http", "https"):
        if link.isascii() and _PLAIN_WEB_LINK.fullmatch(link):
            return link  # what urljoin would return, at a tenth of the cost (see _PLAIN_WEB_LINK)
        link = urljoin(base, link)
    scheme = urlsplit(link).scheme.lower()
    return link if scheme in ("http", "https", "") else None


def _names(people: Iterable[Any] | None) -> tuple[str, ...]:
    """The distinct non-empty names, in order."""
    found: list[str] = []
    for person in people or ():
        # type() first: the ABC check costs more than the rest of the loop, and these are nearly all dicts
        if type(person) is dict or isinstance(person, Mapping):
            name = _clean(person.get("name"))
            if name and name not in found:
                found.append(name)
    return tuple(found)


def _language(*candidates: object) -> str | None:
    """The first candidate that is a language tag, as ISO 639-1: "en-US" -> "en"."""
    for candidate in candidates:
        if isinstance(candidate, str):
            primary = _primary_language(candidate)
            if primary:
                return primary
    return None


@functools.lru_cache(maxsize=1024)  # a feed's entries repeat its few language tags
def _primary_language(tag: str) -> str | None:
    primary = _TAG_SEPARATOR.split(tag.strip(), maxsplit=1)[0].lower()
    return primary if _TWO_LETTERS.fullmatch(primary) else None


_TAG_SEPARATOR = re.compile(r"[-_]")
_TWO_LETTERS = re.compile(r"[a-z]{2}")


def _failure(fetched: FetchedFeed, position: int, ref: object, exc: Exception, raw: object) -> EntryFailure:
    item = ref if isinstance(ref, str) and ref else f"{fetched.feed.url}#{position}"
    return EntryFailure(position, item, type(exc).__name__, str(exc) or type(exc).__name__, truncate_raw(raw))


# --------------------------------------------------------------------------------------------------------
# Beam.


class _ParseFn(StageFn):
    stage = "parse"

    def __init__(self) -> None:
        super().__init__()
        self._feeds = Metrics.counter("parse", "feeds")
        self._entries = Metrics.counter("parse", "entries")
        self._fast_path = Metrics.counter("parse", "fast_path")
        self._malformed = Metrics.counter("parse", "malformed")

    def describe(self, element: FetchedFeed) -> tuple[str | None, str | None]:
        return element.feed.url, None

    def handle(self, element: FetchedFeed) -> Iterable[object]:
        if element.body is None:  # the fetch failed or was not modified: fetch already accounted for it
            return
        self._feeds.inc()
        try:
            result = parse_feed(element)
        except Exception as exc:  # caught here, not by StageFn, to keep the body (not the record) as raw
            log.info("parse failed: %s: %s", element.feed.url, exc)
            letter = DeadLetter.from_exception(
                self.stage, exc, feed_url=element.feed.url, item=None, raw=element.body
            )
            yield self._dead_letter(element, letter)
            return
        yield from result.entries
        self._entries.inc(len(result.entries))
        progress.report(progress.ENTRIES, len(result.entries), element.feed.url)
        if result.fast_path:
            self._fast_path.inc()
        if result.problems:
            self._malformed.inc()
            message = "; ".join(result.problems)
            letter = DeadLetter(
                self.stage, element.feed.url, None, "MalformedFeed", message, truncate_raw(element.body)
            )
            yield self._dead_letter(element, letter)
        for failure in result.failures:
            letter = DeadLetter(
                self.stage, element.feed.url, failure.item, failure.error_class, failure.message, failure.raw
            )
            yield self._dead_letter(element, letter)

    def _dead_letter(self, element: FetchedFeed, letter: DeadLetter) -> beam.pvalue.TaggedOutput:
        self._dead.inc()
        # Dated by the fetch, so a feed's dead letters land in the same partition as its health row.
        return beam.pvalue.TaggedOutput(
            DEAD_LETTERS, dataclasses.replace(letter, failed_at=element.fetched_at)
        )


@beam.typehints.with_input_types(FetchedFeed)
class ParseEntries(beam.PTransform):
    """PCollection[FetchedFeed] -> StageOutput(main=RawEntry per item, dead_letters=documents and items that
    failed, and one MalformedFeed letter per recovered document). Attempts without a body are skipped."""

    def expand(self, fetched: beam.PCollection) -> StageOutput:
        results = fetched | "ParseEach" >> ParDoWithOutputs(_ParseFn(), DEAD_LETTERS)
        return StageOutput(main=results[MAIN], dead_letters=results[DEAD_LETTERS])
