"""Quality targets of near-duplicate detection and story clustering on the labelled sets
(tests/data/dedup/README.md), on the held-out `test` split that no threshold was chosen on.

Gold labels are the set builder's own record of which original a copy was made from (`family`) and
which event an article reports (`event`); the scores are computed here, apart from bench/.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest

from newsbeam.transforms.dedup import DedupSettings, local_places
from newsbeam.transforms.enrich import Gazetteer
from newsbeam.transforms.neardup import find_near_duplicates, sketches
from newsbeam.transforms.stories import StoryDoc, cluster_stories, story_terms
from tests.conftest import DATA

SETS = DATA / "dedup"
SETTINGS = DedupSettings()


def rows(name: str, split: str = "test") -> list[dict]:
    lines = (SETS / name).read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == split]


def at(row: dict) -> float:
    return dt.datetime.fromisoformat(row["published_at"]).timestamp()


def links(articles: list[dict]) -> dict[str, str]:
    found = sketches([r["body"] for r in articles])
    docs = [(r["id"], (False, at(r), r["id"]), s) for r, s in zip(articles, found, strict=True)]
    result = find_near_duplicates(
        docs,
        bands=SETTINGS.lsh_bands,
        threshold=SETTINGS.near_duplicate_threshold,
        fact_threshold=SETTINGS.near_duplicate_fact_overlap,
    )
    return {a: b for a, (b, _) in result.items()}


def test_the_sets_are_as_large_as_promised():
    syndication = rows("syndication.jsonl", "dev") + rows("syndication.jsonl")
    kinds = defaultdict(int)
    for r in syndication:
        kinds[r["kind"]] += 1
    assert kinds["original"] >= 200 and kinds["copy"] >= 200 and kinds["negative"] >= 200
    stories = rows("stories.jsonl", "dev") + rows("stories.jsonl")
    assert len(stories) >= 300 and len({r["event"] for r in stories}) >= 40


def test_near_duplicates_on_the_held_out_split():
    articles = rows("syndication.jsonl")
    family = {r["id"]: r["family"] for r in articles}
    predicted = links(articles)
    copies = [r["id"] for r in articles if r["kind"] == "copy"]
    right = [a for a, b in predicted.items() if family[a] == family[b]]
    precision = len(right) / len(predicted)
    recall = sum(1 for c in copies if family.get(predicted.get(c, "")) == family[c]) / len(copies)
    assert precision >= 0.99, sorted(set(predicted) - set(right))
    assert recall >= 0.95


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.build()


def test_stories_on_the_held_out_split(gazetteer):
    articles = rows("stories.jsonl")
    duplicates = links(articles)
    docs = []
    for r in articles:
        tags = gazetteer.tag(r["title"], r["body"])
        docs.append(
            StoryDoc(
                r["id"],
                at(r),
                story_terms(r["title"], None, r["body"]),
                tags.countries,
                local_places(tags.places),
                duplicates.get(r["id"]),
            )
        )
    predicted = cluster_stories(docs, (), SETTINGS.stories)
    gold = {r["id"]: r["event"] for r in articles}
    members: dict[str, set[str]] = defaultdict(set)
    events: dict[str, set[str]] = defaultdict(set)
    for article_id in gold:
        members[predicted[article_id]].add(article_id)
        events[gold[article_id]].add(article_id)
    # B-cubed: per article, how pure its predicted story is and how complete
    precision = sum(
        len(members[predicted[i]] & events[gold[i]]) / len(members[predicted[i]]) for i in gold
    ) / len(gold)
    recall = sum(len(members[predicted[i]] & events[gold[i]]) / len(events[gold[i]]) for i in gold) / len(
        gold
    )
    f1 = 2 * precision * recall / (precision + recall)
    assert precision >= 0.95 and f1 >= 0.92, (precision, recall, f1)
