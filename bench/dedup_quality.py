"""Quality of near-duplicate detection and story clustering on the labelled sets in tests/data/dedup/.

    python -m bench.dedup_quality                     # the defaults of DedupSettings, both splits
    python -m bench.dedup_quality --split dev --threshold 0.5 --fact-overlap 0.6 --story-threshold 0.3
    python -m bench.dedup_quality --sweep             # dev-split grid over the thresholds

Near-duplicates: every article of a split goes through the same functions the pipeline runs (sketches,
LSH band keys, candidate pairs, verification, the best-ranked original), ranked by (published_at, id).
A predicted link is right when both articles come from the same original (gold `family`); precision is
over all predicted links, recall over the edited copies.

Stories: articles are tagged by the real Gazetteer (countries are evidence), near-duplicates linked as
above, then clustered by `cluster_stories`; B-cubed precision / recall / F1 against the gold `event`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import time
from collections import Counter
from pathlib import Path

from newsbeam.transforms.dedup import DedupSettings
from newsbeam.transforms.neardup import find_near_duplicates, sketches
from newsbeam.transforms.stories import StoryDoc, cluster_stories, story_terms

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "dedup"


def load(name: str, split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]
    return [r for r in rows if split in (None, "all", r["split"])]


def _rank(row: dict) -> tuple:
    return (False, dt.datetime.fromisoformat(row["published_at"]).timestamp(), row["id"])


def near_duplicates(rows: list[dict], settings: DedupSettings) -> dict[str, tuple[str, float]]:
    found = sketches(
        [r["body"] for r in rows], shingle_words=settings.shingle_words, min_words=settings.min_words
    )
    docs = [(r["id"], _rank(r), s) for r, s in zip(rows, found, strict=True)]
    return find_near_duplicates(
        docs,
        bands=settings.lsh_bands,
        threshold=settings.near_duplicate_threshold,
        fact_threshold=settings.near_duplicate_fact_overlap,
    )


def near_duplicate_scores(rows: list[dict], settings: DedupSettings) -> dict:
    links = near_duplicates(rows, settings)
    family = {r["id"]: r["family"] for r in rows}
    copies = [r["id"] for r in rows if r["kind"] == "copy"]
    right = sum(1 for a, (b, _) in links.items() if family[a] == family[b])
    found = sum(1 for c in copies if c in links and family[links[c][0]] == family[c])
    wrong = sorted((a, b, round(s, 3)) for a, (b, s) in links.items() if family[a] != family[b])
    return {
        "articles": len(rows),
        "copies": len(copies),
        "links": len(links),
        "precision": right / len(links) if links else 1.0,
        "recall": found / len(copies) if copies else 1.0,
        "wrong_links": wrong[:10],
        "missed": sorted(c for c in copies if c not in links)[:10],
    }


def tag_countries(rows: list[dict]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """(countries, sub-national places) per article, from the real tagger."""
    from newsbeam.transforms.dedup import local_places
    from newsbeam.transforms.enrich import Gazetteer

    gazetteer = Gazetteer.build()
    tags = {r["id"]: gazetteer.tag(r["title"], r["body"]) for r in rows}
    return {i: (t.countries, local_places(t.places)) for i, t in tags.items()}


def story_assignments(
    rows: list[dict], settings: DedupSettings, countries: dict[str, tuple[str, ...]]
) -> dict[str, str]:
    duplicates = near_duplicates(rows, settings)
    docs = [
        StoryDoc(
            article_id=r["id"],
            at=dt.datetime.fromisoformat(r["published_at"]).timestamp(),
            terms=story_terms(r["title"], None, r["body"], settings.stories),
            countries=countries[r["id"]][0],
            places=countries[r["id"]][1],
            duplicate_of=duplicates.get(r["id"], (None,))[0],
        )
        for r in rows
    ]
    return cluster_stories(docs, (), settings.stories)


def bcubed(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998): per item, the share of its predicted
    cluster that shares its gold class, and the share of its gold class that shares its cluster."""
    pairs = Counter((predicted[i], gold[i]) for i in gold)
    cluster_size = Counter(predicted[i] for i in gold)
    class_size = Counter(gold.values())
    precision = sum(n * n / cluster_size[c] for (c, _), n in pairs.items()) / len(gold)
    recall = sum(n * n / class_size[g] for (_, g), n in pairs.items()) / len(gold)
    return precision, recall, 2 * precision * recall / (precision + recall)


def story_scores(rows: list[dict], settings: DedupSettings, countries: dict) -> dict:
    predicted = story_assignments(rows, settings, countries)
    gold = {r["id"]: r["event"] for r in rows}
    precision, recall, f1 = bcubed(predicted, gold)
    return {
        "articles": len(rows),
        "events": len(set(gold.values())),
        "stories": len(set(predicted.values())),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def _settings(args: argparse.Namespace) -> DedupSettings:
    settings = DedupSettings()
    changes = {}
    if args.threshold is not None:
        changes["near_duplicate_threshold"] = args.threshold
    if args.fact_overlap is not None:
        changes["near_duplicate_fact_overlap"] = args.fact_overlap
    stories = settings.stories
    if args.story_threshold is not None:
        stories = dataclasses.replace(stories, threshold=args.story_threshold)
    if args.no_evidence:
        stories = dataclasses.replace(stories, require_country_overlap=False, require_place_overlap=False)
    changes["stories"] = stories
    return dataclasses.replace(settings, **changes)


def _sweep(settings: DedupSettings) -> None:
    syndication = load("syndication.jsonl", "dev")
    for threshold in (0.3, 0.4, 0.5, 0.6):
        for fact in (0.4, 0.5, 0.6, 0.7):
            s = dataclasses.replace(
                settings, near_duplicate_threshold=threshold, near_duplicate_fact_overlap=fact
            )
            r = near_duplicate_scores(syndication, s)
            print(
                f"near-dup dev threshold {threshold} facts {fact}: P {r['precision']:.4f} R {r['recall']:.4f}"
            )
    stories = load("stories.jsonl", "dev")
    countries = tag_countries(stories)
    for threshold in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        s = dataclasses.replace(settings, stories=dataclasses.replace(settings.stories, threshold=threshold))
        r = story_scores(stories, s, countries)
        print(
            f"stories dev threshold {threshold}: B3 P {r['precision']:.4f} R {r['recall']:.4f}"
            f" F1 {r['f1']:.4f} ({r['stories']} stories for {r['events']} events)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dedup_quality", description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=["dev", "test", "all"], default=None, help="default: dev and test")
    parser.add_argument("--threshold", type=float, help="near_duplicate_threshold")
    parser.add_argument("--fact-overlap", type=float, help="near_duplicate_fact_overlap")
    parser.add_argument("--story-threshold", type=float, help="stories.threshold")
    parser.add_argument(
        "--no-evidence", action="store_true", help="stories on text alone: no country / place checks"
    )
    parser.add_argument("--sweep", action="store_true", help="grid over the thresholds on the dev split")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    settings = _settings(args)
    if args.sweep:
        _sweep(settings)
        return 0
    results = {}
    started = time.perf_counter()
    for split in [args.split] if args.split else ["dev", "test"]:
        stories = load("stories.jsonl", split)
        results[split] = {
            "near_duplicates": near_duplicate_scores(load("syndication.jsonl", split), settings),
            "stories": story_scores(stories, settings, tag_countries(stories)),
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(
        f"settings: near_duplicate_threshold {settings.near_duplicate_threshold}, "
        f"near_duplicate_fact_overlap {settings.near_duplicate_fact_overlap}, "
        f"lsh_bands {settings.lsh_bands}, stories.threshold {settings.stories.threshold}, "
        f"stories.window_hours {settings.stories.window_hours}"
    )
    for split, r in results.items():
        n, s = r["near_duplicates"], r["stories"]
        print(
            f"[{split}] near-duplicates: {n['articles']} articles, {n['copies']} edited copies,"
            f" {n['links']} links: precision {n['precision']:.4f}, recall {n['recall']:.4f}"
        )
        if n["wrong_links"]:
            print(f"    wrong links (first 10): {n['wrong_links']}")
        if n["missed"]:
            print(f"    missed copies (first 10): {n['missed']}")
        print(
            f"[{split}] stories: {s['articles']} articles, {s['events']} events, {s['stories']} stories:"
            f" B-cubed precision {s['precision']:.4f}, recall {s['recall']:.4f}, F1 {s['f1']:.4f}"
        )
    print(f"({time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
