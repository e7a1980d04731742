"""Builds the labelled sets for near-duplicate detection and story clustering (see README.md here).

    python tests/data/dedup/build_sets.py      # rewrites syndication.jsonl and stories.jsonl here

Deterministic (fixed seeds). The texts are assembled from the hand-written wordings in topics.py and the
facts of invented events drawn here; the gold labels (`family`, `event`) are the generator's own
bookkeeping of which event an article reports and which article a copy was made from, never the output
of newsbeam's code.

Two splits with disjoint countries and events: `dev` (used to choose thresholds) and `test` (held out).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

from topics import CAUSES, CITIES, FIRST_NAMES, LAST_NAMES, ORGS, OUTLETS, PROFESSIONS, ROLES, TOPICS

HERE = Path(__file__).resolve().parent
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NTH = ["second", "third", "fourth", "fifth", "sixth"]
DISASTERS = {"earthquake", "flood", "wildfire", "train", "explosion"}  # tolls rise as the day goes on


def _countries(split: str) -> list[str]:
    countries = sorted({c for _, c in CITIES})
    return countries[0::2] if split == "dev" else countries[1::2]


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def draw_event(
    rng: random.Random, topic: str, country: str, when: dt.datetime, avoid_city: str | None = None
):
    cities = [c for c, k in CITIES if k == country and c != avoid_city]
    city = rng.choice(cities)
    others = [c for c, k in CITIES if k == country and c != city]
    facts = {
        "city": city,
        "city2": rng.choice(others),
        "country": country,
        "official": _person(rng),
        "official_role": rng.choice(ROLES),
        "witness": _person(rng),
        "rival": _person(rng),
        "profession": rng.choice(PROFESSIONS),
        "org": rng.choice(ORGS),
        "cause": rng.choice(CAUSES),
        "reporter": _person(rng),
        "editor": _person(rng),
        "n1": rng.randint(3, 48),
        "n2": rng.randint(50, 900),
        "n3": rng.choice([1200, 2500, 4000, 6800, 9000, 12000, 15000, 20000, 30000]),
        "n4": rng.randint(200, 1500),
        "mag": f"{rng.uniform(5.2, 7.6):.1f}",
        "depth": rng.randint(6, 40),
        "temp": rng.randint(36, 45),
        "pct": rng.randint(12, 64),
        "turnout": rng.randint(41, 82),
        "rate": f"{rng.uniform(3.0, 14.0):.2f}",
        "amount": rng.randint(4, 220),
        "year": rng.randint(1990, 2019),
        "nth": rng.choice(NTH),
        "day": DAYS[when.weekday()],
    }
    return {"topic": topic, "facts": facts, "when": when}


def _fill(template: str, facts: dict) -> str:
    text = template.format(**facts)
    return text[0].upper() + text[1:]


def render(rng: random.Random, event: dict, *, paragraphs: int | None = None, brief: bool = False) -> dict:
    """One outlet's article about the event: a headline, a lead and some body paragraphs, each in a wording
    of its own choosing."""
    topic = TOPICS[event["topic"]]
    facts = event["facts"]
    headline = rng.randrange(len(topic["headlines"]))
    body = [_fill(rng.choice(topic["leads"]), facts)]
    if not brief:
        slots = list(range(len(topic["body"])))
        keep = len(slots) if paragraphs is None else paragraphs
        for slot in sorted(rng.sample(slots, keep)):
            body.append(_fill(rng.choice(topic["body"][slot]), facts))
        if rng.random() < 0.4:
            body.append(_fill(rng.choice(topic["extra"]), facts))
    return {"title": _fill(topic["headlines"][headline], facts), "headline": headline, "paragraphs": body}


def _boilerplate(outlet: tuple, facts: dict) -> list[str]:
    return [line.format(**facts) for line in outlet[2]]


def _sentences(paragraph: str) -> list[str]:
    return re.split(r"(?<=[.!?\"])\s+(?=[A-Z\"])", paragraph)


def edit_copy(rng: random.Random, original: dict, event: dict, outlet: tuple) -> tuple[dict, list[str]]:
    """A syndicated / lightly edited copy: new headline, and two to four of the edits outlets make."""
    topic = TOPICS[event["topic"]]
    facts = event["facts"]
    edits = ["headline"]
    choices = [h for h in range(len(topic["headlines"])) if h != original["headline"]]
    title = _fill(topic["headlines"][rng.choice(choices)], facts)
    paragraphs = list(original["paragraphs"])
    operations = ["drop_paragraph", "add_paragraph", "drop_sentence", "reword", "dateline", "units"]
    for operation in rng.sample(operations, rng.randint(2, 4)):
        if operation == "drop_paragraph" and len(paragraphs) > 3:
            del paragraphs[rng.randrange(1, len(paragraphs))]
        elif operation == "add_paragraph":
            extra = _fill(rng.choice(topic["extra"]), facts)
            if extra in paragraphs:
                continue
            paragraphs.insert(rng.randint(2, len(paragraphs)), extra)
        elif operation == "drop_sentence":
            long = [i for i, p in enumerate(paragraphs) if len(_sentences(p)) > 1]
            if not long:
                continue
            i = rng.choice(long)
            sentences = _sentences(paragraphs[i])
            del sentences[rng.randrange(len(sentences))]
            paragraphs[i] = " ".join(sentences)
        elif operation == "reword":
            i = rng.randrange(len(paragraphs))
            reworded = paragraphs[i].replace(" said ", " told reporters ", 1).replace(" on ", " late on ", 1)
            if reworded == paragraphs[i]:
                continue
            paragraphs[i] = reworded
        elif operation == "dateline":
            paragraphs[0] = f"{facts['city'].upper()} ({outlet[0]}) - {paragraphs[0]}"
        elif operation == "units":
            paragraphs = [p.replace(" per cent", "%") for p in paragraphs]
        edits.append(operation)
    return {"title": title, "paragraphs": paragraphs + _boilerplate(outlet, facts)}, edits


def _row(**fields) -> dict:
    fields["published_at"] = fields["published_at"].isoformat()
    return fields


def build_syndication(split: str, originals: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    countries = _countries(split)
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    rows = []
    for number in range(originals):
        topic = sorted(TOPICS)[number % len(TOPICS)]
        when = start + dt.timedelta(minutes=rng.randrange(30 * 24 * 60))
        event = draw_event(rng, topic, rng.choice(countries), when)
        outlets = rng.sample(OUTLETS, 3)
        original = render(rng, event)
        original_id = f"{split}-syn-{number:03d}"
        rows.append(
            _row(
                id=original_id,
                split=split,
                kind="original",
                family=original_id,
                topic=topic,
                outlet=outlets[0][1],
                title=original["title"],
                body="\n\n".join(original["paragraphs"] + _boilerplate(outlets[0], event["facts"])),
                published_at=when,
                edits=[],
            )
        )
        copy, edits = edit_copy(rng, original, event, outlets[1])
        rows.append(
            _row(
                id=f"{split}-syn-{number:03d}-copy",
                split=split,
                kind="copy",
                family=original_id,
                topic=topic,
                outlet=outlets[1][1],
                title=copy["title"],
                body="\n\n".join(copy["paragraphs"]),
                published_at=when + dt.timedelta(minutes=rng.randint(20, 600)),
                edits=edits,
            )
        )
        # A hard negative: another event of the same topic (often the same country), reported in the same
        # house style, near the same time.
        same_country = rng.random() < 0.5
        other = draw_event(
            rng,
            topic,
            event["facts"]["country"] if same_country else rng.choice(countries),
            when + dt.timedelta(hours=rng.randint(-48, 48)),
            avoid_city=event["facts"]["city"],
        )
        negative = render(rng, other)
        rows.append(
            _row(
                id=f"{split}-syn-{number:03d}-other",
                split=split,
                kind="negative",
                family=f"{split}-syn-{number:03d}-other",
                topic=topic,
                outlet=outlets[2][1],
                title=negative["title"],
                body="\n\n".join(negative["paragraphs"] + _boilerplate(outlets[2], other["facts"])),
                published_at=other["when"],
                edits=[],
            )
        )
    return rows


def build_stories(split: str, pairs: int, seed: int) -> list[dict]:
    """Pairs of look-alike events (same topic, close in time, different place or actors), 5 to 9 articles
    each from different outlets."""
    rng = random.Random(seed)
    countries = _countries(split)
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    rows = []
    for number in range(pairs):
        topic = sorted(TOPICS)[number % len(TOPICS)]
        first_when = start + dt.timedelta(days=2 * number, minutes=rng.randrange(24 * 60))
        first = draw_event(rng, topic, rng.choice(countries), first_when)
        same_country = number % 2 == 0
        second = draw_event(
            rng,
            topic,
            first["facts"]["country"]
            if same_country
            else rng.choice([c for c in countries if c != first["facts"]["country"]]),
            first_when + dt.timedelta(hours=rng.randint(2, 40)),
            avoid_city=first["facts"]["city"],
        )
        for which, event in enumerate((first, second)):
            event_id = f"{split}-story-{number:02d}{'ab'[which]}"
            for position, outlet in enumerate(rng.sample(OUTLETS, rng.randint(5, 9))):
                hours = rng.uniform(0.2, 30.0) if position else rng.uniform(0.0, 1.0)
                facts = dict(event["facts"])
                if topic in DISASTERS and hours > 12:  # later reports carry a higher toll
                    facts["n1"] = facts["n1"] + rng.randint(2, 30)
                updated = {**event, "facts": facts}
                article = render(rng, updated, paragraphs=rng.randint(1, 4), brief=rng.random() < 0.2)
                rows.append(
                    _row(
                        id=f"{event_id}-{position}",
                        split=split,
                        event=event_id,
                        topic=topic,
                        outlet=outlet[1],
                        title=article["title"],
                        body="\n\n".join(article["paragraphs"] + _boilerplate(outlet, facts)),
                        published_at=event["when"] + dt.timedelta(hours=hours),
                    )
                )
    return rows


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    write(HERE / "syndication.jsonl", build_syndication("dev", 120, 11) + build_syndication("test", 100, 12))
    write(HERE / "stories.jsonl", build_stories("dev", 12, 21) + build_stories("test", 12, 22))


if __name__ == "__main__":
    main()
