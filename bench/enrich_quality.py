"""Quality of the region tagger on the labelled set: `python -m bench.enrich_quality [--errors [PART]]`.

Reads tests/data/geo/labelled.jsonl (hand-written news texts with the gold set of ISO 3166-1 alpha-2
countries each is about or mentions; see tests/data/geo/README.md) and prints, for newsbeam's tagger
(`Gazetteer.tag(title, body, region_hint=...)`) and for the geotext baseline (`GeoText(text)
.country_mentions`, which already gives ISO alpha-2 codes; it has no notion of a feed's hint):

- micro precision / recall / F1 of the document country sets, over the whole set and over its two
  parts: `dev` (the texts the tagger's rules and lists were tuned on) and `held-out` (about 30% of the
  texts, chosen by a hash of the id, whose errors were not looked at while tuning);
- the seed check: the seed article must give IL, PS and US (EG allowed, for Cairo), nothing else;
- errors per trap kind (texts whose predicted set differs from the gold set, among the texts carrying
  that trap), for both taggers;
- with --errors, the texts newsbeam gets wrong (dev only by default: looking at held-out errors spoils
  the held-out figure).

geotext is optional (`pip install geotext==0.4.0`); without it only newsbeam's figures are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from newsbeam.transforms.enrich import Gazetteer

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tests" / "data" / "geo" / "labelled.jsonl"
SEED = ROOT / "tests" / "data" / "seed_afa6e4451900c9df.txt"
HELD_OUT_PERCENT = 30


def is_held_out(text_id: str) -> bool:
    """About 30% of the texts, fixed by their id: the same split on every machine."""
    return zlib.crc32(text_id.encode("utf-8")) % 100 < HELD_OUT_PERCENT


def load(path: Path = LABELLED) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        missing = {"id", "title", "body", "countries", "region_hint", "traps"} - set(row)
        if missing:
            raise ValueError(f"{path}: {row.get('id')}: missing {sorted(missing)}")
    return rows


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def line(self) -> str:
        counts = f"tp {self.tp}, fp {self.fp}, fn {self.fn}"
        return f"P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}  ({counts})"


def score(rows: Iterable[dict], predictions: dict[str, set[str]]) -> Score:
    s = Score()
    for row in rows:
        s.add(predictions[row["id"]], set(row["countries"]))
    return s


def newsbeam_tagger() -> Callable[[dict], set[str]]:
    gazetteer = Gazetteer.build()

    def tag(row: dict) -> set[str]:
        return set(gazetteer.tag(row["title"], row["body"], region_hint=row["region_hint"]).countries)

    return tag


def geotext_tagger() -> Callable[[dict], set[str]] | None:
    try:
        from geotext import GeoText
    except ImportError:
        return None

    def tag(row: dict) -> set[str]:
        return set(GeoText(f"{row['title']}\n\n{row['body']}").country_mentions)

    return tag


def seed_countries() -> tuple[str, ...]:
    """The seed page as the cleaner leaves it (title, then the story's paragraphs without the credit)."""
    lines = SEED.read_text(encoding="utf-8").split("\n")
    story = "\n".join(lines[1:]).split("More from International news")[0]
    paragraphs = [p.strip() for p in story.split("\n\n") if p.strip()][1:]
    return Gazetteer.build().tag(lines[0], "\n\n".join(paragraphs)).countries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.enrich_quality", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=LABELLED)
    parser.add_argument(
        "--errors", nargs="?", const="dev", choices=["dev", "held-out", "all"], help="list newsbeam's errors"
    )
    args = parser.parse_args(argv)
    print(
        "command: "
        + shlex.join([os.path.basename(sys.executable), "-m", "bench.enrich_quality", *sys.argv[1:]])
    )

    rows = load(args.data)
    parts = {
        "all": rows,
        "dev": [r for r in rows if not is_held_out(r["id"])],
        "held-out": [r for r in rows if is_held_out(r["id"])],
    }
    gold_total = sum(len(r["countries"]) for r in rows)
    print(
        f"labelled set: {len(rows)} texts ({len(parts['dev'])} dev, {len(parts['held-out'])} held-out), "
        f"{gold_total} gold countries, {sum(r['region_hint'] is not None for r in rows)} with a region hint"
    )

    taggers: dict[str, Callable[[dict], set[str]]] = {}
    start = time.perf_counter()
    taggers["newsbeam"] = newsbeam_tagger()
    build_s = time.perf_counter() - start
    baseline = geotext_tagger()
    if baseline is not None:
        taggers["geotext"] = baseline
    else:
        print("geotext is not installed (pip install geotext==0.4.0): baseline skipped")

    predictions: dict[str, dict[str, set[str]]] = {}
    for name, tagger in taggers.items():
        start = time.perf_counter()
        predictions[name] = {r["id"]: tagger(r) for r in rows}
        elapsed = time.perf_counter() - start
        extra = f", gazetteer build {build_s:.2f} s" if name == "newsbeam" else ""
        print(f"\n{name} (tagging {len(rows)} texts: {elapsed:.2f} s{extra})")
        for part, part_rows in parts.items():
            print(f"  {part:<9} {score(part_rows, predictions[name]).line()}")
    if "geotext" in predictions:
        gap = score(rows, predictions["newsbeam"]).f1 - score(rows, predictions["geotext"]).f1
        held = parts["held-out"]
        held_gap = score(held, predictions["newsbeam"]).f1 - score(held, predictions["geotext"]).f1
        print(f"\nF1 newsbeam - geotext: {gap:+.3f} (held-out {held_gap:+.3f})")

    seed = seed_countries()
    ok = {"IL", "PS", "US"} <= set(seed) <= {"IL", "PS", "US", "EG"}
    print(f"\nseed: {', '.join(seed)}  ({'ok' if ok else 'NOT OK'}: IL, PS, US required, EG allowed)")

    kinds: Counter[str] = Counter()
    wrong: dict[str, Counter[str]] = {name: Counter() for name in predictions}
    for row in rows:
        gold = set(row["countries"])
        for kind in sorted({t.split(":", 1)[0] for t in row["traps"]}):
            kinds[kind] += 1
            for name in predictions:
                wrong[name][kind] += predictions[name][row["id"]] != gold
    names = list(predictions)
    print("\ntexts with errors per trap kind: " + " / ".join(names))
    for kind, count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {kind:<22} {count:>3} texts: " + " / ".join(str(wrong[n][kind]) for n in names))

    if args.errors:
        listed = parts[args.errors]
        print(f"\nnewsbeam errors ({args.errors}):")
        for row in listed:
            predicted, gold = predictions["newsbeam"][row["id"]], set(row["countries"])
            if predicted != gold:
                hint = f" hint={row['region_hint']}" if row["region_hint"] else ""
                print(
                    f"  {row['id']}{hint}: +{sorted(predicted - gold)} -{sorted(gold - predicted)}  "
                    f"{row['title'][:70]}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
