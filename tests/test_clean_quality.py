"""The cleaner against the labelled set in tests/data/clean_gold/ (see its README): a regression guard.
`python -m bench.clean_quality` prints the figures and the trafilatura / jusText baselines.

Scored here independently of the bench script: a predicted paragraph is right when it equals a gold one
(after quotes are straightened and spaces collapsed), a gold paragraph is found when it is predicted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from newsbeam.transforms.clean import CleanSettings, extract, learned_drop_filter, load_rules

GOLD = Path(__file__).parent / "data" / "clean_gold"
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"'})


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def _articles() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(GOLD.glob("*.yaml"))]


def _scores(part: str, *, learned_filter: bool = True) -> tuple[float, float, int]:
    """What the pipeline's default settings give: the rules and the learned filter behind them."""
    rules = load_rules()
    drop_filter = learned_drop_filter(CleanSettings(learned_filter=learned_filter))
    correct = predicted = found = gold_total = 0
    for article in _articles():
        if article["split"] != part:
            continue
        result = extract(
            article["input"],
            title=article["title"],
            rules=rules.for_source(article["source_domain"]),
            drop_filter=drop_filter,
        )
        got = [_norm(p) for p in result.paragraphs]
        gold = [_norm(p) for p in article["gold_paragraphs"]]
        predicted += len(got)
        correct += sum(p in gold for p in got)
        gold_total += len(gold)
        found += sum(g in got for g in gold)
    return correct / predicted, found / gold_total, gold_total


def test_the_labelled_set_is_well_formed() -> None:
    articles = _articles()
    assert len(articles) >= 40
    assert len({a["id"] for a in articles}) == len(articles)
    assert {a["format"] for a in articles} == {"html", "text"}
    assert {a["split"] for a in articles} <= {"dev", "heldout"}
    assert sum(a["split"] == "dev" for a in articles) >= 40
    for article in articles:
        assert article["gold_paragraphs"] and all(isinstance(p, str) for p in article["gold_paragraphs"])
        assert all("\n" not in p for p in article["gold_paragraphs"])
        assert isinstance(article["credits"], list) and isinstance(article["related"], list)


def test_dev_part_meets_the_target() -> None:
    precision, recall, _ = _scores("dev")
    assert precision >= 0.97 and recall >= 0.97, (precision, recall)


@pytest.mark.parametrize(("learned_filter", "floor"), [(True, 0.98), (False, 0.95)])
def test_held_out_part_stays_above_its_floor(learned_filter: bool, floor: float) -> None:
    # Held-out items (251-275) were written blind to the cleaner and to the learned filter, and scored
    # once after the ninth round's rules and the retrained model were final: P 0.985 (131/133), R 1.000
    # with the filter (the default), 0.956 (131/137) with the rules alone. The floors guard those figures.
    precision, recall, _ = _scores("heldout", learned_filter=learned_filter)
    assert recall >= 0.97, recall
    assert precision >= floor, precision
