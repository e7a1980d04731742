"""Synthetic news feeds for benchmarks: `python -m bench.generate --feeds N --items M --out DIR`.

Writes N feed files (even-numbered ones RSS 2.0 with content:encoded, odd-numbered ones Atom 1.0 with
html content), M items each, plus DIR/feeds.txt (absolute paths, one a line: a plain feed list for
`newsbeam run --feeds-file`) and DIR/manifest.json (what was generated, for sanity checks).

Each item is a 500-800-word article in HTML paragraphs, written from a small vocabulary around one focus
country and its capital plus a few other countries, so the tagger has real matching and disambiguation
to do. Each item also carries the page chrome the cleaner removes: a figure whose caption is a photo
credit ("JANE DOE/ AFP"), a "More from World news" heading over a list of three teaser links, and a
trailing "Advertisement" and "Share this article". Dates are spread over the 7 days before a fixed end
(END), not before today, so that one seed always gives the same bytes.

A share of items (after the first feed) are copies of earlier items in another feed:
- exact duplicates (--duplicate-rate): the same link, title, body and date: dedup drops them;
- near duplicates (--near-duplicate-rate): a new headline, one paragraph rewritten, a new link on this
  feed's site, a few hours later: written as separate articles until near-duplicate detection lands.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import random
import re
import shutil
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

END = dt.datetime(2024, 6, 2, 21, 0, tzinfo=dt.UTC)  # fixed, so a seed gives the same files on any day
SPAN = dt.timedelta(days=7)

# (country, capital, demonym): what the tagger is meant to find. Some names are ambiguous on purpose
# (Georgia, Jordan, Chad), as in real news.
PLACES = [
    ("France", "Paris", "French"),
    ("Germany", "Berlin", "German"),
    ("Italy", "Rome", "Italian"),
    ("Spain", "Madrid", "Spanish"),
    ("Portugal", "Lisbon", "Portuguese"),
    ("Poland", "Warsaw", "Polish"),
    ("Ukraine", "Kyiv", "Ukrainian"),
    ("Russia", "Moscow", "Russian"),
    ("Turkey", "Ankara", "Turkish"),
    ("Greece", "Athens", "Greek"),
    ("Sweden", "Stockholm", "Swedish"),
    ("Norway", "Oslo", "Norwegian"),
    ("Egypt", "Cairo", "Egyptian"),
    ("Israel", "Jerusalem", "Israeli"),
    ("Jordan", "Amman", "Jordanian"),
    ("Lebanon", "Beirut", "Lebanese"),
    ("Iran", "Tehran", "Iranian"),
    ("Iraq", "Baghdad", "Iraqi"),
    ("Saudi Arabia", "Riyadh", "Saudi"),
    ("Qatar", "Doha", "Qatari"),
    ("Kenya", "Nairobi", "Kenyan"),
    ("Nigeria", "Abuja", "Nigerian"),
    ("Ethiopia", "Addis Ababa", "Ethiopian"),
    ("South Africa", "Pretoria", "South African"),
    ("Chad", "N'Djamena", "Chadian"),
    ("Sudan", "Khartoum", "Sudanese"),
    ("India", "New Delhi", "Indian"),
    ("Pakistan", "Islamabad", "Pakistani"),
    ("Bangladesh", "Dhaka", "Bangladeshi"),
    ("China", "Beijing", "Chinese"),
    ("Japan", "Tokyo", "Japanese"),
    ("South Korea", "Seoul", "South Korean"),
    ("Indonesia", "Jakarta", "Indonesian"),
    ("Vietnam", "Hanoi", "Vietnamese"),
    ("Thailand", "Bangkok", "Thai"),
    ("Philippines", "Manila", "Filipino"),
    ("Australia", "Canberra", "Australian"),
    ("New Zealand", "Wellington", "New Zealand"),
    ("Canada", "Ottawa", "Canadian"),
    ("United States", "Washington", "American"),
    ("Mexico", "Mexico City", "Mexican"),
    ("Brazil", "Brasilia", "Brazilian"),
    ("Argentina", "Buenos Aires", "Argentine"),
    ("Chile", "Santiago", "Chilean"),
    ("Colombia", "Bogota", "Colombian"),
    ("Peru", "Lima", "Peruvian"),
    ("Georgia", "Tbilisi", "Georgian"),
    ("Armenia", "Yerevan", "Armenian"),
]
# fmt: off
FIRST_NAMES = [
    "Jane",
    "John",
    "Maria",
    "Ahmed",
    "Li",
    "Sofia",
    "David",
    "Amina",
    "Carlos",
    "Yuki",
    "Olga",
    "Samuel",
    "Fatima",
    "Peter",
    "Aisha",
    "Marco",
    "Elena",
    "Tomasz",
    "Priya",
    "Daniel",
    "Leila",
    "Kofi",
    "Anna",
]
LAST_NAMES = [
    "Doe",
    "Smith",
    "Garcia",
    "Hassan",
    "Wei",
    "Rossi",
    "Cohen",
    "Okafor",
    "Silva",
    "Tanaka",
    "Petrova",
    "Mensah",
    "Khan",
    "Novak",
    "Ibrahim",
    "Bianchi",
    "Kowalski",
    "Sharma",
    "Levy",
    "Haddad",
    "Boateng",
]
AGENCIES = ["AFP", "REUTERS", "AP", "EPA-EFE", "Getty Images", "Anadolu"]
SECTIONS = ["World news", "International news", "Business", "Europe", "Middle East", "Asia", "Africa"]

SUBJECTS = [
    "The government",
    "Officials",
    "The foreign minister",
    "Residents",
    "Aid agencies",
    "The central bank",
    "Opposition leaders",
    "Analysts",
    "The prime minister",
    "Police",
    "Negotiators",
    "Local authorities",
    "The president",
    "Health officials",
    "Protesters",
    "Investors",
    "The ministry",
    "Rescue teams",
    "Diplomats",
    "The army",
    "Union leaders",
    "Election observers",
    "Farmers",
    "The finance minister",
]
VERBS = [
    "said",
    "announced",
    "warned",
    "confirmed",
    "rejected",
    "welcomed",
    "criticised",
    "denied",
    "approved",
    "postponed",
    "questioned",
    "defended",
    "outlined",
    "called for",
    "agreed to",
    "pushed back against",
]
OBJECTS = [
    "new measures to contain rising prices",
    "the proposed budget for next year",
    "a temporary ceasefire",
    "plans for an independent inquiry",
    "a package of emergency aid",
    "the draft trade agreement",
    "tighter controls on the border",
    "the results of the regional vote",
    "a review of energy subsidies",
    "an overhaul of the pension system",
    "talks on the release of detainees",
    "the reconstruction plan",
    "fresh sanctions on several companies",
    "a long-delayed infrastructure project",
    "the new security law",
    "calls for early elections",
    "the deal to restructure the national debt",
    "a plan to expand the port",
]
PLACE_CLAUSES = [
    "in {capital}",
    "after talks in {capital}",
    "during a visit to {country}",
    "near the border with {other}",
    "as {country} prepares for winter",
    "in a statement issued in {capital}",
    "alongside envoys from {other}",
    "at a summit with leaders from {other}",
    "while {other} watched closely",
    "in the north of {country}",
]
TIMES = [
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "on Saturday",
    "on Sunday",
    "late on Sunday",
    "earlier this week",
    "last month",
    "overnight",
    "earlier this year",
    "this morning",
]
TAILS = [
    "according to people familiar with the matter",
    "citing figures from the statistics office",
    "although the details remain unclear",
    "in a move that surprised many observers",
    "despite objections from several lawmakers",
    "amid growing pressure from international partners",
    "after weeks of uncertainty",
    "saying more work was needed",
    "with a decision expected within days",
    "though critics said the plan did not go far enough",
    "in comments broadcast on state television",
]
QUOTES = [
    "We cannot wait any longer, and people deserve answers",
    "This is a first step, not the end of the road",
    "The situation on the ground remains extremely difficult",
    "Our priority is the safety of civilians and the return of those displaced",
    "Nobody wants to see the talks collapse at this stage",
    "There is still a path forward if both sides show leadership",
    "Prices have risen faster than wages for two years in a row",
    "We will study the proposal carefully before we respond",
]
HEADLINE_PATTERNS = [
    "{country} {verb} {object}",
    "{capital} talks stall as {other} weighs {object}",
    "{demonym} officials {verb} {object}",
    "What the vote in {country} means for {other}",
    "{country} and {other} agree on {object}",
    "Thousands rally in {capital} over {object}",
]
# fmt: on


@dataclass(frozen=True, slots=True)
class Item:
    link: str
    guid: str
    title: str
    summary: str
    paragraphs: tuple[str, ...]
    chrome: tuple[str, str, tuple[tuple[str, str], ...]]  # (credit, section, teasers as (title, url))
    author: str
    published: dt.datetime
    focus: tuple[str, str, str]  # the PLACES entry the story is about
    kind: str = "original"  # original | duplicate | near_duplicate


@dataclass(frozen=True, slots=True)
class Feed:
    index: int
    domain: str
    fmt: str  # rss | atom
    path: Path


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _fill(rng: random.Random, template: str, focus: tuple[str, str, str], others: list) -> str:
    other = rng.choice(others)[0]
    return template.format(
        country=focus[0],
        capital=focus[1],
        demonym=focus[2],
        other=other,
        verb=rng.choice(VERBS),
        object=rng.choice(OBJECTS),
    )


def _sentence(rng: random.Random, focus: tuple[str, str, str], others: list) -> str:
    if rng.random() < 0.15:  # a quote: "X," Name said.
        return f'"{rng.choice(QUOTES)}," {_name(rng)} said {rng.choice(TIMES)}.'
    parts = [rng.choice(SUBJECTS)]
    if rng.random() < 0.35:
        parts.append(f"in {focus[0]}" if rng.random() < 0.5 else f"from {rng.choice(others)[0]}")
    parts += [rng.choice(VERBS), rng.choice(OBJECTS)]
    parts.append(_fill(rng, rng.choice(PLACE_CLAUSES), focus, others))
    parts.append(rng.choice(TIMES))
    if rng.random() < 0.5:
        parts.append(", " + rng.choice(TAILS))
    text = " ".join(parts).replace(" ,", ",")
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, focus: tuple[str, str, str], others: list) -> str:
    return " ".join(_sentence(rng, focus, others) for _ in range(rng.randint(2, 4)))


def _headline(rng: random.Random, focus: tuple[str, str, str], others: list) -> str:
    text = _fill(rng, rng.choice(HEADLINE_PATTERNS), focus, others)
    return text[0].upper() + text[1:]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _article(rng: random.Random, feed: Feed, number: int) -> Item:
    focus = rng.choice(PLACES)
    others = rng.sample([p for p in PLACES if p is not focus], 3)
    paragraphs: list[str] = []
    words, target = 0, rng.randint(500, 800)
    while words < target:
        paragraphs.append(_paragraph(rng, focus, others))
        words += paragraphs[-1].count(" ") + 1
    title = _headline(rng, focus, others)
    published = END - dt.timedelta(minutes=rng.randrange(int(SPAN.total_seconds() // 60)))
    section = rng.choice(SECTIONS)
    teasers = []
    for _ in range(3):
        teaser_focus = rng.choice(PLACES)
        headline = _headline(rng, teaser_focus, [p for p in PLACES if p is not teaser_focus])
        teasers.append(
            (headline, f"https://{feed.domain}/{_slug(section)}/{_slug(headline)}-{rng.randrange(10**6)}")
        )
    credit = f"{_name(rng).upper()}/ {rng.choice(AGENCIES)}"
    link = f"https://{feed.domain}/{_slug(section)}/{published:%Y/%m/%d}/{_slug(title)}-{number}"
    if rng.random() < 0.3:  # tracking parameters, as many feeds add them: canonical_url has work
        link += "?utm_source=rss&utm_medium=feed"
    summary = _sentence(rng, focus, others)  # a standfirst distinct from the lead, kept as `summary`
    chrome = (credit, section, tuple(teasers))
    return Item(link, link, title, summary, tuple(paragraphs), chrome, _name(rng), published, focus)


def _near_duplicate(rng: random.Random, source: Item, feed: Feed, number: int) -> Item:
    """The same story lightly edited elsewhere: new headline and link, one paragraph rewritten."""
    focus = source.focus
    others = rng.sample([p for p in PLACES if p is not focus], 3)
    paragraphs = list(source.paragraphs)
    paragraphs[rng.randrange(len(paragraphs))] = _paragraph(rng, focus, others)
    title = _headline(rng, focus, others)
    published = source.published + dt.timedelta(minutes=rng.randint(20, 360))
    link = f"https://{feed.domain}/{_slug(source.chrome[1])}/{published:%Y/%m/%d}/{_slug(title)}-{number}"
    return replace(
        source,
        link=link,
        guid=link,
        title=title,
        paragraphs=tuple(paragraphs),
        published=published,
        kind="near_duplicate",
        author=_name(rng),
    )


def _content_html(item: Item) -> str:
    credit, section, teasers = item.chrome
    esc = html.escape
    parts = [
        f'<figure class="lead-image"><img src="https://img.example.com/{zlib.crc32(item.link.encode())}.jpg"'
        f' alt="{esc(item.title)}" width="1200" height="675"/><figcaption>{esc(credit)}</figcaption></figure>'
    ]
    parts += [f"<p>{esc(p, quote=False)}</p>" for p in item.paragraphs]
    parts.append(f"<h2>More from {esc(section)}</h2>")
    parts.append(
        '<ul class="more-from">'
        + "".join(f'<li><a href="{esc(url)}">{esc(title, quote=False)}</a></li>' for title, url in teasers)
        + "</ul>"
    )
    parts.append("<p>Advertisement</p><p>Share this article</p>")
    return "\n".join(parts)


def _rss(feed: Feed, items: list[Item]) -> str:
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "<channel>",
        f"<title>Feed {feed.index} - {escape(feed.domain)}</title>",
        f"<link>https://{feed.domain}/</link>",
        "<description>Synthetic benchmark feed</description>",
        "<language>en</language>",
    ]
    for item in items:
        out += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(item.link)}</link>",
            f'<guid isPermaLink="true">{escape(item.guid)}</guid>',
            f"<pubDate>{item.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate>",
            f"<dc:creator>{escape(item.author)}</dc:creator>",
            f"<category>{escape(item.chrome[1])}</category>",
            f"<description>{escape(item.summary)}</description>",
            f"<content:encoded><![CDATA[{_content_html(item)}]]></content:encoded>",
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def _atom(feed: Feed, items: list[Item]) -> str:
    updated = max((i.published for i in items), default=END)
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
        f"<title>Feed {feed.index} - {escape(feed.domain)}</title>",
        f"<id>tag:{feed.domain},2024:feed</id>",
        f'<link rel="alternate" type="text/html" href="https://{feed.domain}/"/>',
        f"<updated>{updated:%Y-%m-%dT%H:%M:%SZ}</updated>",
    ]
    for item in items:
        out += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f"<id>{escape(item.guid)}</id>",
            f'<link rel="alternate" type="text/html" href="{html.escape(item.link)}"/>',
            f"<published>{item.published:%Y-%m-%dT%H:%M:%SZ}</published>",
            f"<updated>{item.published:%Y-%m-%dT%H:%M:%SZ}</updated>",
            f"<author><name>{escape(item.author)}</name></author>",
            f'<category term="{escape(item.chrome[1])}"/>',
            f'<summary type="text">{escape(item.summary)}</summary>',
            f'<content type="html">{escape(_content_html(item))}</content>',  # escaped, the Atom habit
            "</entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


_SITES = ["herald", "tribune", "courier", "gazette", "chronicle", "post", "times", "ledger", "observer"]
_SUFFIXES = ["com", "co.uk", "com.au", "org", "net", "ie", "co.nz", "ca"]  # tldextract has work


def generate(
    out: Path,
    feeds: int,
    items: int,
    *,
    seed: int = 1,
    duplicate_rate: float = 0.05,
    near_duplicate_rate: float = 0.05,
) -> dict:
    """Write the feeds, feeds.txt and manifest.json into `out` (emptied first); return the manifest."""
    if feeds < 1 or items < 1:
        raise ValueError("--feeds and --items must be at least 1")
    if duplicate_rate < 0 or near_duplicate_rate < 0 or duplicate_rate + near_duplicate_rate > 1:
        raise ValueError("duplicate rates must be >= 0 and sum to at most 1")
    rng = random.Random(seed)
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    pool: list[Item] = []  # originals of earlier feeds: what duplicates copy
    counts = {"original": 0, "duplicate": 0, "near_duplicate": 0}
    paths = []
    for index in range(feeds):
        fmt = "rss" if index % 2 == 0 else "atom"
        domain = f"www.{_SITES[index % len(_SITES)]}{index:03d}.{_SUFFIXES[index % len(_SUFFIXES)]}"
        feed = Feed(index, domain, fmt, out / f"feed-{index:04d}-{fmt}.xml")
        own: list[Item] = []
        for number in range(items):
            roll = rng.random()
            if pool and roll < duplicate_rate:
                item = replace(rng.choice(pool), kind="duplicate")
            elif pool and roll < duplicate_rate + near_duplicate_rate:
                item = _near_duplicate(rng, rng.choice(pool), feed, number)
            else:
                item = _article(rng, feed, number)
            counts[item.kind] += 1
            own.append(item)
        pool += [i for i in own if i.kind == "original"]
        own.sort(key=lambda i: i.published, reverse=True)  # newest first, as feeds list them
        text = _rss(feed, own) if fmt == "rss" else _atom(feed, own)
        feed.path.write_text(text, encoding="utf-8")
        paths.append(str(feed.path))
    (out / "feeds.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    manifest = {
        "feeds": feeds,
        "items_per_feed": items,
        "items": feeds * items,
        "seed": seed,
        "duplicate_rate": duplicate_rate,
        "near_duplicate_rate": near_duplicate_rate,
        "originals": counts["original"],
        "exact_duplicates": counts["duplicate"],
        "near_duplicates": counts["near_duplicate"],
        # exact duplicates are dropped, near duplicates are (for now) written: what a run should write
        "expected_articles": counts["original"] + counts["near_duplicate"],
        "bytes": sum(Path(p).stat().st_size for p in paths),
        "feeds_file": str(out / "feeds.txt"),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, required=True, help="number of feed files")
    parser.add_argument("--items", type=int, required=True, help="items per feed")
    parser.add_argument("--out", type=Path, required=True, help="output directory (emptied first)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duplicate-rate", type=float, default=0.05, help="exact copies of earlier items")
    parser.add_argument("--near-duplicate-rate", type=float, default=0.05, help="lightly edited copies")
    args = parser.parse_args(argv)
    try:
        manifest = generate(
            args.out,
            args.feeds,
            args.items,
            seed=args.seed,
            duplicate_rate=args.duplicate_rate,
            near_duplicate_rate=args.near_duplicate_rate,
        )
    except ValueError as exc:
        parser.error(str(exc))
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
