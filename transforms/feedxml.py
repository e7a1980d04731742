"""feedparser's reading of plain, well-formed RSS 2.0 / RSS 1.0 / Atom 1.0 documents, ~10x faster, with lxml.

`read_feed(data, content_type)` returns the part of `feedparser.parse(...)`'s result that the parse stage
reads (version, feed language and authors, and per entry: title, link, id, content, summary, authors,
language and the parsed dates), as plain dicts shaped like feedparser's, or None when the document is
not one it is sure to read exactly as feedparser would. The caller then uses feedparser itself.

    >>> doc = read_feed(b'<rss version="2.0"><channel><item><title>A &amp; B</title></item></channel></rss>',
    ...                 content_type="application/rss+xml")
    >>> doc.version, doc.entries[0]["title"], doc.entries[0]["title_detail"]["type"]
    ('rss20', 'A & B', 'text/plain')

How it stays equal to feedparser (6.0.x, pinned): the bytes are prepared by feedparser's own functions
(`convert_to_utf8`, `replace_doctype`), every element is named as feedparser's SAX handler names it
(namespace URI -> feedparser's prefix, lower case), and only the elements whose handling is emulated here
line by line (mixin.pop's text pipeline, `_start_link`, `_end_guid`, `_sync_author_detail`, the title
depth and property-depth rules, the content-to-summary copy) or checked to be harmless are accepted.
Anything else feedparser has a handler for, anything malformed for libxml2, xml:base, XHTML content,
base64 modes, <source>, nested feed elements, ... returns None. tests/test_parse_conformance.py compares
the two on every fixture, on generated feeds and on randomly damaged ones.

The parser is hardened like the sniffing in parse.py: no network, no DTD loading, no entity expansion,
no huge trees (parse.py refuses entity declarations before either parser sees the document).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import re
import time
from dataclasses import dataclass, field
from typing import Any

from feedparser.datetimes import _parse_date
from feedparser.encodings import convert_to_utf8
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import replace_doctype
from feedparser.urls import _urljoin
from lxml import etree

# feedparser's private helpers are used on purpose: the point is to give the same answer, and these are
# the functions that decide it. feedparser is pinned; the conformance test fails if one changes meaning.
_looks_like_html = _FeedParserMixin.looks_like_html
_map_content_type = functools.lru_cache(maxsize=256)(_FeedParserMixin.map_content_type)
_NAMESPACES = {uri.lower(): prefix for uri, prefix in _FeedParserMixin.namespaces.items()}
_KNOWN_PREFIXES = frozenset(_NAMESPACES.values()) - {""}
_VERSION_URIS = {
    "http://my.netscape.com/rdf/simple/0.9/": "rss090",
    "http://purl.org/rss/1.0/": "rss10",
    "http://www.w3.org/2005/atom": "atom10",
}
_HTML_TYPES = frozenset(_FeedParserMixin.html_types)


class _NotSimple(Exception):
    """The document needs feedparser."""


@functools.cache
def _has_handler(key: str) -> bool:
    return hasattr(_FeedParserMixin, "_start_" + key) or hasattr(_FeedParserMixin, "_end_" + key)


# Keys (feedparser's element names: prefix_localname) by what they do to an entry.
_TITLE = frozenset({"title", "dc_title"})
_SUMMARY = {"description": "text/html", "dc_description": "text/html", "summary": "text/plain"}
_CONTENT = {"content_encoded": "text/html", "content": "text/plain"}
_AUTHOR = frozenset({"author", "dc_author", "dc_creator", "itunes_author"})
_FEED_AUTHOR = _AUTHOR | {"managingeditor"}
_PUBLISHED = frozenset({"published", "pubdate", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_LANGUAGE = frozenset({"language", "dc_language"})
_ID = frozenset({"id", "guid"})
_AUTHOR_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})
# Elements with a feedparser handler that only stores keys the parse stage never reads (checked by reading
# feedparser 6.0's handlers); their children are checked the same way.
_HARMLESS = frozenset(
    {
        "category",
        "dc_subject",
        "keywords",
        "enclosure",
        "rights",
        "copyright",
        "dc_rights",
        "created",
        "dcterms_created",
        "expirationdate",
        "dcterms_valid",
        "dc_publisher",
        "media_content",
        "media_thumbnail",
        "media_credit",
        "media_keywords",
        "media_category",
        "media_rating",
        "media_restriction",
        "media_license",
        "media_player",
        "media_group",
        "itunes_subtitle",
        "itunes_image",
        "itunes_link",
        "itunes_keywords",
        "itunes_category",
        "itunes_block",
        "itunes_explicit",
    }
)
# Keys an element of no special meaning would be stored under (feedparser stores such an element's text
# or attributes under its own name): if it is one of these, it would overwrite or break what is read.
_RESERVED = frozenset(
    {
        "title",
        "title_detail",
        "link",
        "links",
        "id",
        "guidislink",
        "content",
        "summary",
        "summary_detail",
        "author",
        "authors",
        "author_detail",
        "language",
        "published",
        "published_parsed",
        "updated",
        "updated_parsed",
        "tags",
        "href",
        "image",
        "textinput",
        "publisher",
        "publisher_detail",
        "contributors",
    }
)
# Keys that change feedparser's state for what follows (entries, sources, images, feed boundaries):
# anywhere other than where this module expects them, the document needs feedparser.
_STRUCTURAL = frozenset(
    {"rss", "channel", "feed", "item", "entry", "source", "image", "textinput", "itunes_owner"}
)
_EMAIL = re.compile(
    r"""(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"""
    r"""([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"""
)
_C1 = re.compile("[\x80-\x9f]")
_LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,  # expat hands comments and PIs to feedparser, which ignores them
    remove_pis=True,
)


@dataclass
class FeedDocument:
    version: str
    feed: dict[str, Any]
    entries: list[dict[str, Any]] = field(default_factory=list)
    encoding_error: Exception | None = None  # what convert_to_utf8 flagged (never "encoding unknown")


def read_feed(data: bytes, content_type: str) -> FeedDocument | None:
    """The document as feedparser.parse(io.BytesIO(data), sanitize_html=False, resolve_relative_uris=False,
    response_headers={"content-type": content_type}) reads it, or None when only feedparser can say."""
    result: dict[str, Any] = {}
    data = convert_to_utf8({"content-type": content_type}, data, result)
    if not result.get("encoding"):  # undecodable: feedparser goes to its loose parser
        return None
    version, data, entities = replace_doctype(data)
    if version or entities:  # RSS 0.91 Netscape, or a DTD's entities: neither is read here
        return None
    try:
        return _Reader().read(data, result.get("bozo_exception"))
    except (_NotSimple, etree.XMLSyntaxError):
        return None


class _Reader:
    """One document. Each method names the feedparser handler it stands for."""

    def __init__(self) -> None:
        self._keys: dict[str, str] = {}
        self._unknown: dict[str, str] = {}
        self.version = ""

    def read(self, data: bytes, encoding_error: Exception | None) -> FeedDocument:
        # start-ns events: the namespace declarations in document order, which decide feedparser's names
        events = etree.iterparse(io.BytesIO(data), events=("start-ns",), **_PARSER_OPTIONS)
        self._namespaces([declaration for _, declaration in events])
        root = events.root
        key = self._key(root)
        doc = FeedDocument("", {}, encoding_error=encoding_error)
        attrs = self._attrs(root)
        lang = _lang(attrs, None)
        if lang and key in ("rss", "feed"):  # unknown_starttag compares tags: rdf:RDF never matches
            doc.feed["language"] = lang.replace("_", "-")
        if key == "rss":  # _start_rss
            if not attrs.get("version", "").startswith("2."):
                raise _NotSimple("RSS 0.9x or no version")  # dialects and quirks not covered here
            if not self.version.startswith("rss"):
                self.version = "rss20"
            channels = [child for child in root if self._key(child) == "channel"]
            if len(channels) != 1:
                raise _NotSimple("not one channel")
            for child in root:
                if child is not channels[0]:
                    self._outside(child, top=True)
            self._channel(channels[0], lang, doc, items=True)
        elif key == "rdf_rdf" and self.version == "rss10":
            channels = 0
            for child in root:
                child_key = self._key(child)
                if child_key == "item":
                    doc.entries.append(self._entry(child, lang))
                elif child_key == "channel" and not channels:
                    channels += 1
                    self._channel(child, lang, doc, items=False)
                else:
                    self._outside(child, top=True)
        elif key == "feed" and self.version == "atom10" and root.tag == "{http://www.w3.org/2005/Atom}feed":
            for child in root:
                child_key = self._key(child)
                if child_key == "entry":
                    doc.entries.append(self._entry(child, lang))
                elif child_key in _LANGUAGE:
                    doc.feed["language"] = _pop_text(self._leaf(child)[0], False)
                elif child_key in _FEED_AUTHOR:  # RFC 4287: entries without an author have the feed's
                    self._author(child, doc.feed)
                else:
                    self._outside(child, top=True)
        else:
            raise _NotSimple("not RSS 2.0, RSS 1.0 or Atom 1.0")
        doc.version = self.version
        return doc

    def _channel(self, channel: etree._Element, lang: str | None, doc: FeedDocument, items: bool) -> None:
        """_start_channel: infeed. Its language is the feed's; its authors matter to Atom only."""
        attrs = self._attrs(channel)
        if "lastmod" in attrs or "href" in attrs:  # _cdf_common turns these into feed fields
            raise _NotSimple("CDF attributes")
        lang = _lang(attrs, lang)
        for child in channel:
            key = self._key(child)
            if items and key == "item":
                doc.entries.append(self._entry(child, lang))
            elif key in _LANGUAGE:
                doc.feed["language"] = _pop_text(self._leaf(child)[0], False)
            elif key in _FEED_AUTHOR:
                self._author(child, {})  # checked, not kept: RSS entries do not inherit authors
            else:
                self._outside(child, top=True)

    # -- names -------------------------------------------------------------------------------------------

    def _namespaces(self, declarations: list[tuple[str, str]]) -> None:
        """track_namespace, for documents that declare namespaces plainly: a prefix stands for one URI
        throughout, no prefix feedparser knows stands for another URI, an unknown URI has one prefix."""
        bound: dict[str, str] = {}
        for prefix, uri in declarations:
            lower = uri.lower()
            if not self.version and lower in _VERSION_URIS and (not prefix or "netscape" not in lower):
                self.version = _VERSION_URIS[lower]
            if "backend.userland.com/rss" in lower:
                raise _NotSimple("userland namespace")
            if bound.setdefault(prefix.lower(), uri) != uri:
                raise _NotSimple(f"prefix {prefix!r} bound twice")
            known = _NAMESPACES.get(lower)
            if prefix in _KNOWN_PREFIXES and known != prefix:
                raise _NotSimple(f"prefix {prefix!r} bound to another namespace")
            if known is None:
                if not prefix:
                    raise _NotSimple("an unknown default namespace")
                if self._unknown.setdefault(uri, prefix) != prefix:
                    raise _NotSimple("one namespace, two prefixes")

    def _key(self, element: etree._Element) -> str:
        """The name feedparser's handlers know `element` by: `dc_creator`, `title`, `media_content`, ..."""
        tag = element.tag
        key = self._keys.get(tag)
        if key is None:
            if not isinstance(tag, str):
                raise _NotSimple("not an element")
            if tag[0] == "{":
                uri, local = tag[1:].split("}", 1)
                prefix = _NAMESPACES.get(uri.lower())
                if prefix is None:
                    prefix = self._unknown[uri]
            else:
                prefix, local = "", tag
            key = f"{prefix}_{local}".lower() if prefix else local.lower()
            self._keys[tag] = key
        return key

    def _attrs(self, element: etree._Element) -> dict[str, str]:
        items = element.items()  # a list, built in C: cheaper than the attrib proxy for the usual none
        return _checked_attributes(items) if items else {}

    def _leaf(self, element: etree._Element) -> tuple[str, dict[str, str]]:
        """The text of an element without children (with children, feedparser splits the text), and its
        attributes."""
        if len(element):
            raise _NotSimple("markup inside a text element")
        items = element.items()
        return element.text or "", _checked_attributes(items) if items else {}

    # -- outside entries ---------------------------------------------------------------------------------

    def _outside(self, element: etree._Element, top: bool) -> None:
        """An element outside entries: fine unless it changes how feedparser reads what follows. <image>
        and <textinput> may stand at the top (they reset their own state), not hold entries."""
        for node in element.iter():
            key = self._key(node)
            if top and node is element and key in ("image", "textinput"):
                pass
            elif key in _STRUCTURAL or key in _LANGUAGE or key in _FEED_AUTHOR:
                raise _NotSimple(f"<{key}> where it changes feedparser's state")
            elif key in _RESERVED and not _has_handler(key):
                raise _NotSimple(f"<{key}> would be stored over a field")
            self._attrs(node)

    # -- entries -----------------------------------------------------------------------------------------

    def _entry(self, item: etree._Element, lang: str | None) -> dict[str, Any]:
        """_start_item ... _end_item, all the fields being the item's children (one depth)."""
        entry: dict[str, Any] = {}
        attrs = self._attrs(item)
        if "lastmod" in attrs or "href" in attrs:
            raise _NotSimple("CDF attributes")
        lang = _lang(attrs, lang)
        about = attrs.get("rdf:about")
        if about:
            entry["id"] = about
        titled = False
        summaries = 0
        keys = self._keys
        for child in item:
            key = keys.get(child.tag) or self._key(child)
            if key in _TITLE:
                value, detail = self._content(child, lang, "text/plain")
                if not titled:  # mixin.title_depth: after a non-empty title, others at its depth are ignored
                    entry["title"], entry["title_detail"] = value, detail
                    titled = bool(value)
            elif key == "link":
                self._link(child, entry)
            elif key in _ID:  # _start_guid / _end_guid
                text, attrs = self._leaf(child)
                is_link = attrs.get("ispermalink", "true") == "true"
                value = _pop_text(text, is_link)
                entry["id"] = value
                if is_link:
                    entry.setdefault("link", value)
            elif key in _SUMMARY:
                summaries += 1
                if summaries > 1:  # _start_description: a second one is read as content
                    raise _NotSimple("two summaries")
                entry["summary"], entry["summary_detail"] = self._content(child, lang, _SUMMARY[key])
            elif key in _CONTENT:  # _end_content: a text or HTML content is the summary if there is none
                value, detail = self._content(child, lang, _CONTENT[key])
                entry.setdefault("content", []).append(detail)
                entry.setdefault("summary", value)
            elif key in _AUTHOR:
                self._author(child, entry)
            elif key in _PUBLISHED:
                entry["published_parsed"] = parse_date(_pop_text(self._leaf(child)[0], False))
            elif key in _UPDATED:
                entry["updated_parsed"] = parse_date(_pop_text(self._leaf(child)[0], False))
            elif key in _LANGUAGE:
                entry["language"] = _pop_text(self._leaf(child)[0], False)
            else:
                self._harmless(child, key)
        return entry

    def _harmless(self, element: etree._Element, key: str) -> None:
        if key in _RESERVED or key in _STRUCTURAL or (key not in _HARMLESS and _has_handler(key)):
            raise _NotSimple(f"<{key}> in an entry")
        self._attrs(element)
        for child in element:
            self._harmless(child, self._key(child))

    def _content(
        self, element: etree._Element, lang: str | None, default_type: str
    ) -> tuple[str, dict[str, Any]]:
        """push_content ... pop_content (title, summary, content): the text and feedparser's details."""
        text, attrs = self._leaf(element)
        ctype = default_type  # already what map_content_type makes of it
        if attrs:
            if "mode" in attrs or "src" in attrs:
                raise _NotSimple("mode or src")
            ctype = _map_content_type(attrs.get("type", default_type))
            if ctype not in ("text/plain", "text/html"):  # XHTML is rebuilt from markup; others are base64
                raise _NotSimple(f"content type {ctype}")
            lang = _lang(attrs, lang)
        output = text.strip()
        if ctype == "text/plain" and not self.version.startswith("atom") and _looks_like_html(output):
            ctype = "text/html"
        output = _fix_text(output)
        language = lang.replace("_", "-") if lang else lang
        return output, {"type": ctype, "language": language, "base": "", "value": output}

    def _link(self, element: etree._Element, entry: dict[str, Any]) -> None:
        """_start_link / pop("link"): an Atom-style link (href) or an RSS one (text)."""
        text, attrs = self._leaf(element)
        attrs.setdefault("rel", "alternate")
        attrs.setdefault("type", "application/atom+xml" if attrs["rel"] == "self" else "text/html")
        href = attrs.get("url", attrs.get("uri", attrs.get("href")))  # _enforce_href
        if href:
            attrs["href"] = href
        if "href" in attrs:
            if attrs["rel"] == "alternate" and _map_content_type(attrs["type"]) in _HTML_TYPES:
                entry["link"] = _join_nothing(attrs["href"])
            return
        value = _pop_text(text, True)
        if "&" in value:  # feedparser's repair of query strings mangled as entity references
            value = _LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
        entry["link"] = value

    def _author(self, element: etree._Element, context: dict[str, Any]) -> None:
        """_start_author ... _end_author, with Atom's <name>, <email> and <uri> inside."""
        self._attrs(element)
        context.setdefault("authors", []).append({})
        own = [element.text or ""]
        for child in element:
            key = self._key(child)
            if key not in _AUTHOR_PARTS:
                raise _NotSimple(f"<{key}> in an author")
            text = self._leaf(child)[0]
            if key in ("name", "email"):  # _end_name / _end_email: pop without the text pipeline
                _save_author(context, key, text.strip())
            else:  # _end_url
                _save_author(context, "href", _pop_text(text, True))
            own.append(child.tail or "")
        context["author"] = _pop_text("".join(own), False)
        _sync_author_detail(context)


def _pop_text(text: str, relative: bool) -> str:
    """mixin.pop's pipeline for an element without content parameters (strict parser, no sanitising)."""
    output = text.strip()
    if relative and output:
        output = _join_nothing(output)
    return _fix_text(output)


def _join_nothing(uri: str) -> str:
    """feedparser's `_urljoin("", uri)` (no base: feedparser reads bytes, not a URL). With an empty base
    urllib's urljoin returns `uri` as it is, so all that can change is what `_urifixer` removes: the extra
    slashes of "scheme:///..."; without ":///" in the text it is `uri` itself, and the regex is skipped."""
    return _urljoin("", uri) if ":///" in uri else uri


# Dates. feedparser's _parse_date tries its handlers in turn (W3DTF first, RFC 822 second, then seven
# more), ~20 us a date. The two forms nearly every feed writes are matched here by one regex each and
# computed with the very arithmetic of the handler that reads them first (datetimes/w3dtf.py and
# rfc822.py: naive datetime minus the zone's offset, utctimetuple()). Every other text, and every value
# that arithmetic refuses (30 February, hour 24, an overflow), goes to _parse_date itself: there the
# handler returns None and the later handlers get their turn. tests/test_parse_conformance.py compares
# the two on a few thousand generated date texts.
_RFC822_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([0-9]{4}|[0-9]{2}) ([0-9]{2}):([0-9]{2})(?::([0-9]{2}))? (?:GMT|UTC|UT|Z|([+-])([0-9]{2})([0-9]{2}))"
)
_W3DTF_DATE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2})(?::([0-9]{2}(?:\.[0-9]+)?))?"
    r"(?:Z|([+-])([0-9]{2}):([0-9]{2}))?"
)
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_MINUTE = dt.timedelta(minutes=1)


def parse_date(text: str) -> time.struct_time | None:
    """feedparser's `_parse_date(text)`: a UTC struct_time, or None."""
    try:
        match = _W3DTF_DATE.fullmatch(text)
        if match:  # _parse_date_w3dtf; seconds as int(float(...)), so "59.99999999999999999" is 60
            year, month, day, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
            seconds = int(float(second)) if second else 0
            stamp = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), seconds)
            return _to_utc(stamp, sign, zone_hours, zone_minutes)
        match = _RFC822_DATE.fullmatch(text)
        if match:  # _parse_date_rfc822 (W3DTF returns None for these: no four-digit first field)
            day, month, year_text, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
            year = int(year_text)
            if len(year_text) == 2:  # 90-99 are the 1990s, 00-89 the 2000s
                year += 1900 if year >= 90 else 2000
            stamp = dt.datetime(year, _MONTHS[month], int(day), int(hour), int(minute), int(second or 0))
            return _to_utc(stamp, sign, zone_hours, zone_minutes)
    except (ValueError, OverflowError):
        pass
    return _parse_date(text)


def _to_utc(stamp: dt.datetime, sign: str | None, hours: str | None, minutes: str | None) -> time.struct_time:
    if sign:  # "-0500" is five hours behind UTC: add them; "+0200": subtract
        offset = _MINUTE * (int(hours) * 60 + int(minutes))
        stamp = stamp + offset if sign == "-" else stamp - offset
    return stamp.utctimetuple()


def _fix_text(output: str) -> str:
    """The end of mixin.pop: undo UTF-8 read as latin-1, then map C1 controls to windows-1252."""
    if not output.isascii():
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            output = output.encode("iso-8859-1").decode("utf-8")
        if _C1.search(output):
            output = output.translate(_cp1252)
    return output


def _checked_attributes(items: list[tuple[str, str]]) -> dict[str, str]:
    attrs = _attributes(items)
    if "xml:base" in attrs or "base" in attrs:  # the base changes how every link resolves
        raise _NotSimple("xml:base")
    return attrs


def _attributes(items: list[tuple[str, str]]) -> dict[str, str]:
    """An element's (name, value) attributes as feedparser's strict parser hands them over: known
    namespaces as prefix:name, then every attribute again under its bare local name (expat's qnames),
    lower-case keys, rel / type values lower-cased (_normalize_attributes)."""
    found: dict[str, str] = {}
    namespaced = False
    for name, value in items:
        if name[0] == "{":
            namespaced = True
            uri, local = name[1:].split("}", 1)
            prefix = _NAMESPACES.get(uri.lower(), "")
            name = f"{prefix}:{local}" if prefix else local
        found[name.lower()] = value
    if namespaced:  # without namespaces this pass would set the same keys to the same values
        for name, value in items:
            found[name.rsplit("}", 1)[-1].lower()] = value
    for key in ("rel", "type"):
        if key in found:
            found[key] = found[key].lower()
    return found


def _lang(attrs: dict[str, str], inherited: str | None) -> str | None:
    lang = attrs.get("xml:lang", attrs.get("lang"))
    if lang == "":  # an explicit "no language"
        return None
    return inherited if lang is None else lang


def _save_author(context: dict[str, Any], key: str, value: str) -> None:
    context.setdefault("author_detail", {})[key] = value
    _sync_author_detail(context)
    context.setdefault("authors", [{}])[-1][key] = value


def _sync_author_detail(context: dict[str, Any]) -> None:
    """mixin._sync_author_detail, literally (its dict aliasing included: it decides names in odd feeds)."""
    detail = context.get("authors", [{}])[-1]
    if detail:
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            context["author"] = f"{name} ({email})"
        elif name:
            context["author"] = name
        elif email:
            context["author"] = email
        return
    author, email = context.get("author"), None
    if not author:
        return
    match = _EMAIL.search(author)
    if match:
        email = match.group(0)
        author = author.replace(email, "").replace("()", "").replace("<>", "").replace("&lt;&gt;", "").strip()
        if author and author[0] == "(":
            author = author[1:]
        if author and author[-1] == ")":
            author = author[:-1]
        author = author.strip()
    if author or email:
        context.setdefault("author_detail", detail)
    if author:
        detail["name"] = author
    if email:
        detail["email"] = email
