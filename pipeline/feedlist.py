"""Feed lists: OPML 1/2 (nested outlines), a plain list of URLs / paths, or YAML with per-feed options.

Each reader returns plain dicts (`url` plus optional `name`, `language`, `region_hint`, and from YAML
`poll_interval` (e.g. `15m`) or `poll_interval_s`, `rules` and `fetch_full_text`); the config model
validates them, so a bad entry is reported with the same one-line message as a bad config key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException


class FeedListError(ValueError):
    pass


def read_feed_list(path: Path) -> list[dict[str, Any]]:
    """Feeds in the file at `path`, in file order.

    >>> read_feed_list(Path("feeds.txt"))  # a line "https://example.com/rss  # world news"
    [{'url': 'https://example.com/rss'}]
    """
    if not path.is_file():
        raise FeedListError(f"feed list not found: {path}")
    text = path.read_text(encoding="utf-8-sig")
    suffix = path.suffix.lower()
    if suffix in (".opml", ".xml") or text.lstrip().startswith("<"):
        return _read_opml(text, path)
    if suffix in (".yaml", ".yml"):
        return _read_yaml(text, path)
    return _read_plain(text)


def _read_plain(text: str) -> list[dict[str, Any]]:
    feeds = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            feeds.append({"url": line})
    return feeds


def _read_yaml(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FeedListError(f"{path} is not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if isinstance(data, dict) and "feeds" in data:
        data = data["feeds"]
    if not isinstance(data, list):
        raise FeedListError(f"{path}: expected a list of feeds (or a mapping with a `feeds:` list)")
    return [item if isinstance(item, dict) else {"url": str(item)} for item in data]


def _read_opml(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        raise FeedListError(f"{path} is not valid OPML ({exc})") from None
    feeds = []
    for outline in root.iter("outline"):  # every depth: categories nest feeds
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url:
            entry: dict[str, Any] = {"url": url.strip()}
            name = outline.get("title") or outline.get("text")
            if name:
                entry["name"] = name
            if outline.get("language"):
                entry["language"] = outline.get("language")
            feeds.append(entry)
    if not feeds:
        raise FeedListError(f"{path}: no <outline xmlUrl=...> entries found")
    return feeds
