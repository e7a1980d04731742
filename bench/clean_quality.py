"""Quality of the cleaner on the labelled set: `python -m bench.clean_quality [--errors] [--part dev]`.

Reads tests/data/clean_gold/*.yaml (hand-written feed items in many house styles, HTML fragments and
plain-text dumps, each with its gold paragraphs, related titles, credits and section; see the README
there) and prints, for newsbeam's cleaner and for two baselines fed the same inputs:

- paragraph precision and recall, micro-averaged over the articles. A predicted paragraph is correct
  when it is made of gold paragraphs only (one, or several that an extractor merged); a gold paragraph
  is found when it appears whole inside one predicted paragraph. Both sides are compared after the same
  light normalisation (NFKC, curly quotes straightened, whitespace collapsed). A predicted paragraph
  equal to the headline is ignored for every system (the baselines are not given the title).
- extraction rates: gold credits found in `credits`, gold related titles found in `related`, and the
  share of articles whose `section` equals the gold one (no section where gold has none counts as right).
  The baselines extract none of these.
- newsbeam runs as the pipeline's defaults do: rules plus the learned paragraph filter
  (`clean.learned_filter`); `--rules-only` leaves the filter out.
- ms/item: wall time of a second pass over the set (the first pays for imports and for newsbeam's
  rule compilation, about 0.3 s once per process).
- figures for the whole set and for its two parts: `dev` (the articles the rules were tuned on) and
  `heldout` (the articles marked so, whose output was not looked at while tuning); a part with no
  articles is not printed.

Baselines: trafilatura (`trafilatura.extract`, defaults, text output, paragraphs = lines) and jusText
(`justext.justext` with the article's language stop-list, non-boilerplate paragraphs), once with its
defaults and once (`jusText-short`) with length_low=50, length_high=100, as its defaults expect
paragraphs of 200+ characters to trust a page at all. A text dump is
wrapped for them in minimal HTML, one `<p>` per blank-line block (a "•" line starts a block too).
"""

from __future__ import annotations

import argparse
import functools
import html
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from newsbeam.transforms.clean import CleanSettings, extract, learned_drop_filter, load_rules

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "tests" / "data" / "clean_gold"
_LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "de": "German",
    "fr": "French",
    "pt": "Portuguese",
    "it": "Italian",
}


def load(directory: Path = GOLD_DIR) -> list[dict]:
    articles = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        missing = {
            "id",
            "split",
            "format",
            "input",
            "gold_paragraphs",
            "related",
            "credits",
            "section",
        } - set(doc)
        if missing:
            raise ValueError(f"{path}: missing {sorted(missing)}")
        articles.append(doc)
    return articles


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "ʼ": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})
_WS = re.compile(r"\s+")


def norm(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).translate(_QUOTES)).strip()


def norm_credit(text: str) -> str:
    return re.sub(r"\s*/\s*", "/", norm(text)).strip(" .").casefold()


@dataclass
class Prediction:
    paragraphs: list[str]
    credits: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)
    section: str | None = None


@dataclass
class Score:
    predicted: int = 0
    correct: int = 0
    gold: int = 0
    found: int = 0
    credits_gold: int = 0
    credits_found: int = 0
    credits_extra: int = 0
    related_gold: int = 0
    related_found: int = 0
    related_extra: int = 0
    sections: int = 0
    sections_right: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0


def _made_of_gold(paragraph: str, gold: list[str]) -> bool:
    rest = paragraph
    for g in sorted(gold, key=len, reverse=True):
        rest = rest.replace(g, " ")
    return not rest.strip(" \t.,;:-—–|•")


def score_article(article: dict, prediction: Prediction, score: Score) -> list[str]:
    """Adds one article to `score`; returns its errors as lines ("+ extra", "- missed")."""
    gold = [norm(p) for p in article["gold_paragraphs"]]
    title = norm(article.get("title") or "")
    predicted = [p for p in (norm(p) for p in prediction.paragraphs) if p and p != title]
    errors = []
    score.predicted += len(predicted)
    for p in predicted:
        if _made_of_gold(p, gold):
            score.correct += 1
        else:
            errors.append(f"  + {p[:150]}")
    score.gold += len(gold)
    for g in gold:
        if any(g in p for p in predicted):
            score.found += 1
        else:
            errors.append(f"  - {g[:150]}")
    gold_credits = {norm_credit(c) for c in article["credits"]}
    got_credits = {norm_credit(c) for c in prediction.credits}
    score.credits_gold += len(gold_credits)
    score.credits_found += len(gold_credits & got_credits)
    score.credits_extra += len(got_credits - gold_credits)
    errors += [f"  credit missed: {c}" for c in sorted(gold_credits - got_credits)]
    errors += [f"  credit extra: {c}" for c in sorted(got_credits - gold_credits)]
    gold_related = {norm(r["title"]).casefold() for r in article["related"]}
    got_related = {norm(r).casefold() for r in prediction.related}
    score.related_gold += len(gold_related)
    score.related_found += len(gold_related & got_related)
    score.related_extra += len(got_related - gold_related)
    errors += [f"  related missed: {r}" for r in sorted(gold_related - got_related)]
    errors += [f"  related extra: {r}" for r in sorted(got_related - gold_related)]
    score.sections += 1
    if (prediction.section or None) == (article["section"] or None):
        score.sections_right += 1
    else:
        errors.append(f"  section: {prediction.section!r}, gold {article['section']!r}")
    return errors


# -- the systems ------------------------------------------------------------------------------------------


def newsbeam(article: dict, rules, drop_filter=None) -> Prediction:
    result = extract(
        article["input"],
        title=article.get("title"),
        rules=rules.for_source(article.get("source_domain")),
        drop_filter=drop_filter,
    )
    return Prediction(
        list(result.paragraphs), list(result.credits), [r.title for r in result.related], result.section
    )


_BLOCKS = re.compile(r"\n\s*\n|\n(?=\s*•)")


def as_html(article: dict) -> str:
    """The input as an HTML document: text dumps get one <p> per block."""
    if article["format"] == "html":
        body = article["input"]
    else:
        blocks = [b.strip().lstrip("•").strip() for b in _BLOCKS.split(article["input"])]
        body = "\n".join(f"<p>{html.escape(b)}</p>" for b in blocks if b)
    return f"<html><head><meta charset='utf-8'></head><body><article>{body}</article></body></html>"


def trafilatura_baseline(article: dict, _rules) -> Prediction:
    import trafilatura

    text = trafilatura.extract(as_html(article), output_format="txt") or ""
    return Prediction([line for line in text.split("\n") if line.strip()])


def justext_baseline(article: dict, _rules, **options) -> Prediction:
    import justext

    language = _LANGUAGES.get(article.get("language") or "en", "English")
    paragraphs = justext.justext(as_html(article).encode("utf-8"), justext.get_stoplist(language), **options)
    return Prediction([p.text for p in paragraphs if not p.is_boilerplate])


def justext_short_baseline(article: dict, rules) -> Prediction:
    # jusText's defaults need a paragraph of 200+ characters to seed "good" context; feed items have few.
    return justext_baseline(article, rules, length_low=50, length_high=100)


SYSTEMS: dict[str, Callable[[dict, object], Prediction]] = {
    "newsbeam": newsbeam,
    "trafilatura": trafilatura_baseline,
    "jusText": justext_baseline,
    "jusText-short": justext_short_baseline,
}


def evaluate(articles: list[dict], system: Callable[[dict, object], Prediction], rules) -> tuple[dict, dict]:
    """Scores per part ("dev", "heldout", "all") and the error lines per article id."""
    scores = {"dev": Score(), "heldout": Score(), "all": Score()}
    errors = {}
    for article in articles:
        prediction = system(article, rules)
        lines = score_article(article, prediction, scores[article["split"]])
        score_article(article, prediction, scores["all"])
        if lines:
            errors[article["id"]] = lines
    return scores, errors


def _rate(found: int, total: int) -> str:
    return f"{found / total:.2f} ({found}/{total})" if total else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.clean_quality", description=__doc__.split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="print newsbeam's errors (dev part by default)")
    parser.add_argument("--part", choices=("dev", "heldout", "all"), default="dev", help="for --errors")
    parser.add_argument("--only", choices=tuple(SYSTEMS), help="one system only")
    parser.add_argument(
        "--rules-only",
        action="store_true",
        help="newsbeam without its learned paragraph filter (clean.learned_filter)",
    )
    args = parser.parse_args(argv)
    articles = load()
    rules = load_rules()
    counts = {part: sum(a["split"] == part for a in articles) for part in ("dev", "heldout")}
    systems = dict(SYSTEMS)
    drop_filter = None if args.rules_only else learned_drop_filter(CleanSettings())
    systems["newsbeam"] = functools.partial(newsbeam, drop_filter=drop_filter)
    print(
        f"{len(articles)} articles: {counts['dev']} dev, {counts['heldout']} held-out; newsbeam "
        + ("with its learned paragraph filter" if drop_filter else "rules only")
    )
    header = (
        f"{'system':<13} {'part':<8} {'P':>6} {'R':>6} {'paragraphs':>11}  {'credits':<14} {'related':<14} "
        f"{'section':<14} {'ms/item':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, system in systems.items():
        if args.only and name != args.only:
            continue
        evaluate(articles, system, rules)  # warm: imports, and newsbeam compiles its rule tables on first use
        start = time.perf_counter()
        scores, errors = evaluate(articles, system, rules)
        ms = (time.perf_counter() - start) * 1000 / len(articles)
        for part in ("dev", "heldout", "all"):
            if part != "all" and not counts[part]:
                continue  # e.g. no held-out items in this checkout: no figure rather than a vacuous 1.000
            s = scores[part]
            print(
                f"{name:<13} {part:<8} {s.precision:>6.3f} {s.recall:>6.3f} {s.correct:>5}/{s.predicted:<5} "
                f" {_rate(s.credits_found, s.credits_gold):<14} {_rate(s.related_found, s.related_gold):<14} "
                f"{_rate(s.sections_right, s.sections):<14} {ms:>7.1f}"
            )
        if args.errors and name == "newsbeam":
            for article in articles:
                if args.part in ("all", article["split"]) and article["id"] in errors:
                    print(article["id"], file=sys.stderr)
                    print("\n".join(errors[article["id"]]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
