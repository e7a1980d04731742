"""The learned paragraph filter behind the cleaning rules (transforms/clean_model.py, `clean.learned_filter`).

The chrome lines below were written for these tests in other outlets' wording, in six languages; none is
in tests/data/clean_gold (checked below), and the rules alone keep each of them (checked too), so a pass
here is the model's, not a rule's.
"""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
import yaml
from apache_beam.testing.util import assert_that, equal_to

from bench import train_clean_model
from newsbeam.pipeline.config import Config
from newsbeam.transforms.clean import (
    BUILTIN_RULES,
    CleanArticles,
    CleanSettings,
    build_article,
    extract,
    learned_drop_filter,
    load_rules,
    parse_site_rules,
)
from newsbeam.transforms.clean_model import ParagraphModel, eligible, load_model
from newsbeam.transforms.records import FeedSpec, RawEntry
from tests.conftest import FETCHED_AT, make_test_pipeline

GOLD = Path(__file__).parent / "data" / "clean_gold"
FILTER = learned_drop_filter(CleanSettings())

LEAD = (
    "The regional council voted on Tuesday to close the old ferry terminal by the end of the year and to "
    "move its services to the new harbour on the northern shore."
)
MIDDLE = (
    "Officials said the move would cut crossing times by a quarter, although residents of the southern "
    "villages warned that they would lose their only direct link to the market town."
)
LAST = "Work on the new access road is due to begin in the spring, the council said."

# chrome in wordings the labelled items do not use: appeals, paywalls, error reports, sponsor reads,
# production credits, app and alert prompts
UNSEEN_CHROME = [
    "Quality journalism costs money. Chip in from just $3 a month.",
    "This content is exclusive to members. Log in or join today.",
    "Noticed a mistake in this story? Let our editors know.",
    "Today's episode is brought to you by Brightline Mattress. Use code HARBOUR for 15% off.",
    "Engineered by Tom Reyes. Music by Sara Lind. Executive producer: Ana Ruiz.",
    "Turn on notifications so you never miss a breaking story.",
    "You have reached your limit of free articles this month.",
    "Keep reading with a digital pass for just 1 euro in the first month.",
    "¿Te gustó esta nota? Suscríbete a nuestro boletín y recíbela cada mañana.",
    "Apoya el periodismo independiente con una donación mensual.",
    "Vous avez repéré une erreur ? Signalez-la à notre rédaction.",
    "Cet article est réservé aux abonnés. Abonnez-vous dès 1 euro.",
    "Sie haben einen Fehler entdeckt? Schreiben Sie uns eine Nachricht.",
    "Unterstützen Sie unabhängigen Journalismus mit einem Abo.",
    "Hai trovato un errore? Segnalalo alla redazione.",
    "Sostieni il giornalismo locale: abbonati ora.",
    "Gostou da matéria? Compartilhe com os seus amigos.",
    "Assine a nossa newsletter e receba as principais notícias.",
    "Already a subscriber? Sign in to continue reading.",
    "Got a story we should cover? Drop us a line.",
    "This podcast was produced by Lena Ortiz and mixed by Joel Park.",
    "Download our free app for live scores and breaking alerts.",
    "¿Encontraste un error? Escríbenos y lo corregimos.",
    "Lisez la suite de cet article en vous abonnant.",
    "Jetzt weiterlesen mit unserem Digital-Abo.",
    "Dona ora e aiutaci a restare indipendenti.",
    "Leia mais notícias como esta no nosso aplicativo.",
]

# one of them the rules keep and the filter drops
KEPT_BY_RULES_ONLY = "You have reached your limit of free articles this month."
assert KEPT_BY_RULES_ONLY in UNSEEN_CHROME

# narrative that looks like chrome to a bag of words: "you", imperatives inside quotes, donations and
# subscriptions as news, short lines
NARRATIVE = [
    "If you live near the river, you should expect delays on the bridge until Friday, the police said.",
    '"Sign up now or you will miss out," the organiser told volunteers at the village hall.',
    "The charity said donations rose 30 % last year, helped by a single gift of 2 million dollars.",
    "Subscriptions to the regional paper fell for the fifth year in a row, its publisher said.",
    "The vote is on Sunday.",
    "Nobody was hurt.",
    '"Read the report and tell me I am wrong," the minister said.',
    "La fundación dijo que las donaciones crecieron un 12 % en el último año.",
    "« Abonnez-vous au bus, pas à la voiture », a lancé le maire devant les habitants.",
    "Die Leser des Blattes hatten sich mit einer Unterschriftenaktion gegen die Schließung gewehrt.",
]


def _item(line: str) -> str:
    return "".join(f"<p>{p}</p>" for p in (LEAD, MIDDLE, line, LAST))


def _gold_items() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(GOLD.glob("*.yaml"))]


def test_the_shipped_model_loads_and_scores_probabilities() -> None:
    model = load_model()
    assert isinstance(model, ParagraphModel)
    assert 0.5 <= model.threshold < 1.0 and model.max_words > 0
    scores = model.scores([LEAD, "Share this article", UNSEEN_CHROME[0], "x", "."])
    assert scores.shape == (5,)
    assert np.all((scores >= 0.0) & (scores <= 1.0))
    assert model.scores([]).shape == (0,)
    assert model.scores(["Subscribe now!"])[0] > model.scores([MIDDLE])[0]


def test_the_unseen_chrome_is_not_in_the_labelled_items() -> None:
    inputs = "\n".join(item["input"] for item in _gold_items()).casefold()
    for line in UNSEEN_CHROME:
        assert line.casefold() not in inputs


def test_most_unseen_chrome_goes_and_the_filter_adds_to_the_rules() -> None:
    dropped_by_rules, dropped_with_filter = [], []
    for line in UNSEEN_CHROME:
        if extract(_item(line)).paragraphs == (LEAD, MIDDLE, LAST):
            dropped_by_rules.append(line)
        paragraphs = extract(_item(line), drop_filter=FILTER).paragraphs
        assert paragraphs in ((LEAD, MIDDLE, line, LAST), (LEAD, MIDDLE, LAST))  # the narrative stays
        if len(paragraphs) == 3:
            dropped_with_filter.append(line)
    assert set(dropped_by_rules) <= set(dropped_with_filter)
    # Neither the rules nor the model had seen these lines. When written, the rules dropped 8 and the
    # filter 13 of the other 19; after the eighth rules round the rules drop 17 and the filter 4 of the
    # other 10 (it misses "Keep reading with a digital pass...", "Turn on notifications...", "Dona ora e
    # aiutaci..."): 21 of 27 both times.
    assert len(dropped_with_filter) >= 20, sorted(set(UNSEEN_CHROME) - set(dropped_with_filter))
    assert len(dropped_with_filter) - len(dropped_by_rules) >= 3


@pytest.mark.parametrize("line", NARRATIVE)
def test_narrative_that_looks_like_chrome_stays(line: str) -> None:
    assert extract(_item(line), drop_filter=FILTER).paragraphs == (LEAD, MIDDLE, line, LAST)


def test_a_keep_rule_protects_a_site_line_from_the_filter() -> None:
    line = KEPT_BY_RULES_ONLY
    assert extract(_item(line)).paragraphs == (LEAD, MIDDLE, line, LAST)  # not a rule: the filter drops it
    assert extract(_item(line), drop_filter=FILTER).paragraphs == (LEAD, MIDDLE, LAST)
    rules = BUILTIN_RULES.with_rules(parse_site_rules({"keep": ["You have reached your limit.*"]}, "rules"))
    assert extract(_item(line), rules=rules, drop_filter=FILTER).paragraphs == (LEAD, MIDDLE, line, LAST)


def test_the_filter_never_empties_an_item_nor_judges_long_paragraphs() -> None:
    model = load_model()
    chrome = model.drop_filter()
    body = ["Subscribe now!", "Share this article."]
    assert list(chrome(body, set())) == []  # all of it would go: the article is what is left
    assert list(chrome([LEAD, "Subscribe now!"], set())) == [1]
    long_line = " ".join(["Subscribe now!"] * model.max_words)
    assert not eligible(long_line, model.max_words)
    assert list(chrome([LEAD, long_line], set())) == []


def test_cleaning_with_the_filter_is_idempotent_on_the_labelled_items() -> None:
    rules = load_rules()
    for item in _gold_items():
        site = rules.for_source(item["source_domain"])
        once = extract(item["input"], title=item["title"], rules=site, drop_filter=FILTER)
        twice = extract(once.body, title=item["title"], rules=site, drop_filter=FILTER)
        assert twice.paragraphs == once.paragraphs, item["id"]


def test_the_filter_changes_no_credit_related_or_section_on_the_labelled_items() -> None:
    rules = load_rules()
    for item in _gold_items():
        site = rules.for_source(item["source_domain"])
        alone = extract(item["input"], title=item["title"], rules=site)
        both = extract(item["input"], title=item["title"], rules=site, drop_filter=FILTER)
        assert (both.credits, both.related, both.section) == (alone.credits, alone.related, alone.section)
        assert set(both.paragraphs) <= set(alone.paragraphs), item["id"]  # it only drops


def _entry(line: str) -> RawEntry:
    return RawEntry(
        feed=FeedSpec("https://harbourgazette.com/rss"),
        fetched_at=FETCHED_AT,
        position=0,
        link="https://harbourgazette.com/ferry",
        title="Ferry terminal to close",
        content_html=_item(line),
    )


def test_the_clean_stage_drops_with_the_setting_and_equals_the_rules_alone_without_it() -> None:
    entry = _entry(KEPT_BY_RULES_ONLY)
    rules_only = build_article(entry).body
    assert KEPT_BY_RULES_ONLY in rules_only
    off = Config.model_validate({"clean": {"learned_filter": False}}).clean
    on = Config.model_validate({"clean": {}}).clean
    assert learned_drop_filter(off) is None
    with make_test_pipeline() as p:
        entries = p | beam.Create([entry])
        without = entries | "Off" >> CleanArticles(off)
        with_filter = entries | "On" >> CleanArticles(on)
        assert_that(without.main | "BodyOff" >> beam.Map(lambda a: a.body), equal_to([rules_only]), "off")
        assert_that(
            with_filter.main | "BodyOn" >> beam.Map(lambda a: a.body),
            equal_to([f"{LEAD}\n\n{MIDDLE}\n\n{LAST}"]),
            "on",
        )


def test_the_threshold_setting_is_validated_and_used() -> None:
    with pytest.raises(ValueError, match="learned_threshold"):
        Config.model_validate({"clean": {"learned_threshold": 0.2}})
    strict = learned_drop_filter(CleanSettings(learned_threshold=1.0))  # nothing reaches p >= 1
    line = KEPT_BY_RULES_ONLY
    assert extract(_item(line), drop_filter=strict).paragraphs == (LEAD, MIDDLE, line, LAST)


def test_the_training_script_cross_validates_on_a_subset(capsys, tmp_path) -> None:
    out = tmp_path / "model.npz"
    # items 01-75: two blind sets, so one fold each; no git history needed (--no-blind)
    assert train_clean_model.main(["--groups", "2", "--no-blind", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "001-050" in printed and "051-075" in printed and "t=0.70" in printed
    assert "threshold 0." in printed
    model = ParagraphModel.from_bytes(out.read_bytes())
    assert 0.5 <= model.threshold < 1.0
    assert model.scores(["Subscribe to our newsletter."])[0] > model.scores([LEAD])[0]
